/* SPDX-License-Identifier: MIT */
/* The form body of the token-side endpoints (RFC 6749 §3.2). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/oidc/oauth_form.h"

int
oauth_form_read(struct http_request *req, struct form *f)
{
    char why[96];
    const char *dup;
    int rc;

    /* RFC 6749 §3.2: the token endpoint takes form bodies, nothing else. */
    if (!http_content_type_is(req, "application/x-www-form-urlencoded")) {
        http_oauth_error(req, 400, "invalid_request",
                         "the body must be application/x-www-form-urlencoded");
        return GH_EINVAL;
    }
    if ((rc = form_parse(req->body, req->body_len, f)) < 0) {
        http_oauth_error(req, 400, "invalid_request",
                         rc == GH_ETOOBIG ? "too many parameters"
                                          : "malformed body");
        return rc;
    }
    /* RFC 6749 §3.2: "Request and response parameters MUST NOT be
     * included more than once." */
    if ((dup = form_has_duplicate(f)) != NULL) {
        snprintf(why, sizeof(why), "repeated parameter: %.64s", dup);
        http_oauth_error(req, 400, "invalid_request", why);
        form_free(f);
        return GH_EINVAL;
    }
    return 0;
}

int
oauth_call_read(struct http_request *req, int allow_public,
                struct oauth_call *c)
{
    int rc;

    c->ca.client = NULL;
    c->ca.owned = NULL;
    if ((rc = oauth_form_read(req, &c->f)) < 0)
        return rc;
    if ((rc = client_auth_check(req, &c->f, allow_public, &c->ca)) < 0)
        oauth_call_done(c);
    return rc;
}

void
oauth_call_done(struct oauth_call *c)
{
    client_auth_done(&c->ca);
    form_free(&c->f);
}
