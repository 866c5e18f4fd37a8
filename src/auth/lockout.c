/* SPDX-License-Identifier: MIT */
/* The lockout's reservation and its 429 page (lockout.h). */
#include <stdio.h>

#include "gatehouse/auth/lockout.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/http/http.h"
#include "gatehouse/store/store.h"

int
lockout_reserve(struct http_request *req, const char *const *who, int n)
{
    struct app *app = req->app;
    long retry_s = 0;
    char retry[24];
    int rc;

    rc = store_login_reserve(app->store, who, n, app->cfg->login_max_failures,
                             app->cfg->login_lockout_s, &retry_s);
    if (rc == GH_EDENIED) {
        snprintf(retry, sizeof(retry), "%ld", retry_s);
        http_add_header(req, "Retry-After", retry);
        http_error_page(req, 429, N_("Too many attempts"),
                        N_("Too many failed sign-ins. Wait a few minutes and "
                           "try again."));
        return 1;
    }
    return rc < 0 ? GH_EREDIS : 0;
}
