/* SPDX-License-Identifier: MIT */
/* Admin authorisation: a bearer token with gatehouse:admin, of a client
 * still allowed it (SPEC §4). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/auth/admin_auth.h"
#include "gatehouse/auth/auth_error.h"
#include "gatehouse/auth/bearer.h"
#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/error.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/grant/scope.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"

/* A refusal: the challenge names the scope a 403 lacked (RFC 6750 §3).
 * The caller reads the status it sent from the glue (http_status). */
static void
deny(struct http_request *req, int code, const char *error,
     const char *description)
{
    auth_error_bearer(req, code, error, code == 403 ? ADMIN_SCOPE : NULL,
                      description);
}

int
admin_auth_check(struct http_request *req, char *actor, size_t actor_size)
{
    struct app *app = req->app;
    const char *authz = http_header(req, "Authorization");
    const char *token = NULL, *client_id, *sub, *scope;
    const struct client *cl = NULL;
    struct client *owned = NULL;
    json_t *claims = NULL;
    int rc;

    if (authz == NULL) {
        deny(req, 401, NULL, "an admin access token is required");
        return -1;
    }
    if (form_bearer(authz, &token) < 0 || strlen(token) > JWS_MAX_LEN) {
        deny(req, 401, "invalid_token",
             "Authorization must be a Bearer access token");
        return -1;
    }
    if ((rc = bearer_verify(app, token, &claims)) == GH_EREDIS) {
        deny(req, 503, "temporarily_unavailable",
             "the store is unavailable; try again");
        return -1;
    }
    if (rc < 0) {
        deny(req, 401, "invalid_token",
             rc == GH_EEXPIRED ? "the access token has expired"
                               : "invalid access token");
        return -1;
    }
    client_id = json_string_value(json_object_get(claims, "client_id"));
    sub = json_string_value(json_object_get(claims, "sub"));
    scope = json_string_value(json_object_get(claims, "scope"));
    /* From here on the caller is known: denials name it. */
    snprintf(actor, actor_size, "%s", client_id);
    rc = -1;
    /* A user's token never speaks for the security team, whatever its
     * scope: client_credentials tokens have the client as subject and no
     * session. */
    if (json_object_get(claims, "sid") != NULL || strcmp(sub, client_id) != 0) {
        deny(req, 403, "insufficient_scope",
             "only client_credentials tokens are accepted here");
        goto out;
    }
    if (!scope_has(scope, ADMIN_SCOPE)) {
        deny(req, 403, "insufficient_scope",
             "the token lacks scope " ADMIN_SCOPE);
        goto out;
    }
    /* A client removed or stripped of the scope loses its live tokens at
     * once, not when they expire. */
    if ((rc = client_auth_find(app, client_id, &cl, &owned)) < 0) {
        if (rc == GH_ENOTFOUND)
            deny(req, 401, "invalid_token", "the client is gone");
        else
            deny(req, 503, "temporarily_unavailable",
                 "the store is unavailable; try again");
        rc = -1;
        goto out;
    }
    if (!client_allows_scope(cl, ADMIN_SCOPE)) {
        deny(req, 403, "insufficient_scope",
             "the client is no longer allowed " ADMIN_SCOPE);
        rc = -1;
        goto out;
    }
    rc = 0;
out:
    client_free(owned);
    json_decref(claims);
    return rc;
}
