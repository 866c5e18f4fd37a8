/* SPDX-License-Identifier: MIT */
/* The one writer of authentication errors. */
#include <stdio.h>

#include "gatehouse/auth/auth_error.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/http/http.h"

void
auth_error_bearer(struct http_request *req, int status, const char *error,
                  const char *scope, const char *description)
{
    char h[160];

    if (error == NULL)
        snprintf(h, sizeof(h), "Bearer realm=\"gatehouse\"");
    else if (scope != NULL)
        snprintf(h, sizeof(h),
                 "Bearer realm=\"gatehouse\", error=\"%s\", scope=\"%s\"",
                 error, scope);
    else
        snprintf(h, sizeof(h), "Bearer realm=\"gatehouse\", error=\"%s\"",
                 error);
    http_add_header(req, "WWW-Authenticate", h);
    if (status == 503)
        http_add_header(req, "Retry-After", "1");
    http_json_error(req, status, error != NULL ? error : "invalid_token",
                    description);
}

void
auth_error_server(struct http_request *req, int rc)
{
    /* Redis down is temporary: say so, and when to come back. */
    if (rc == GH_EREDIS) {
        http_add_header(req, "Retry-After", "1");
        http_oauth_error(req, 503, "temporarily_unavailable",
                         "the store is unreachable, try again");
        return;
    }
    log_warnx("token_endpoint_failed error=\"%s\"", gh_strerror(rc));
    http_oauth_error(req, 500, "server_error", NULL);
}
