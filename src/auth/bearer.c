/* SPDX-License-Identifier: MIT */
/* The bearer check: every access token presented to us goes through
 * bearer_verify. */
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "gatehouse/auth/auth_error.h"
#include "gatehouse/auth/bearer.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonget.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/grant/scope.h"
#include "gatehouse/http/http.h"
#include "gatehouse/store/store.h"

int
bearer_verify(struct app *app, const char *jwt, json_t **claims)
{
    json_t *c = NULL;
    const char *jti, *sid;
    int rc;

    if ((rc = jws_verify_cached(app->jws_cache, app->keys, jwt, "at+jwt", &c)) <
        0)
        goto out;
    if ((rc = jws_check_claims(c, app->cfg->issuer, NULL, util_now(),
                               JWS_LEEWAY_S, false)) < 0)
        goto out;
    jti = jsonget_str(c, "jti");
    sid = jsonget_str(c, "sid");
    if (jti == NULL || jsonget_str(c, "sub") == NULL ||
        jsonget_str(c, "client_id") == NULL) {
        rc = GH_EBADTOKEN;
        goto out;
    }
    /* Not revoked, and (SPEC §5) a token of a session that has ended is
     * dead with it. */
    rc = store_access_check(app->store, jti, sid, util_now(),
                            app->cfg->session_idle_timeout_s,
                            app->cfg->session_absolute_timeout_s);
    if (rc != STORE_ACCESS_OK) {
        rc = rc > 0 ? GH_EBADTOKEN : GH_EREDIS;
        goto out;
    }
    *claims = c;
    c = NULL;
    rc = 0;
out:
    json_decref(c);
    return rc;
}

int
bearer_user(struct http_request *req, const json_t *claims, const char *scope,
            struct user **ret)
{
    char why[96];
    struct user *u = NULL;
    int rc;

    /* A client_credentials token has no session and speaks for no user. */
    if (json_object_get(claims, "sid") == NULL) {
        auth_error_bearer(req, 401, "invalid_token", NULL,
                          "the token was not issued for a user");
        return GH_EDENIED;
    }
    if (!scope_has(jsonget_str(claims, "scope"), scope)) {
        snprintf(why, sizeof(why), "the token lacks scope %.64s", scope);
        auth_error_bearer(req, 403, "insufficient_scope", NULL, why);
        return GH_EDENIED;
    }
    rc = users_get(req->app->store, jsonget_str(claims, "sub"), &u);
    if (rc == GH_ENOTFOUND || (rc == 0 && u->disabled)) {
        auth_error_bearer(req, 401, "invalid_token", NULL, "the user is gone");
        user_free(u);
        return GH_EDENIED;
    }
    if (rc < 0) {
        auth_error_server(req, rc);
        return rc;
    }
    *ret = u;
    return 0;
}
