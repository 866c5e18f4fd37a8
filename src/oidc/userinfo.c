/* SPDX-License-Identifier: MIT */
/* /userinfo (OIDC Core §5.3): the claims of the user an access token
 * speaks for, as its scope allows. */
#include <string.h>

#include <jansson.h>

#include "gatehouse/auth/auth_error.h"
#include "gatehouse/auth/bearer.h"
#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/error.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/auth/cors.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/oidc/oauth_form.h"
#include "gatehouse/oidc/userinfo.h"

/* SPEC §3 allowed_origins: a browser reads the claims only from an origin
 * the token's client allows. */
static void
share_with_client(struct http_request *req, const char *client_id)
{
    const struct client *c;
    struct client *owned = NULL;

    if (http_cors_origin(req) == NULL)
        return;
    if (client_auth_find(req->app, client_id, &c, &owned) == 0)
        cors_allow(req, c);
    client_free(owned);
}

void
userinfo_handle(struct http_request *req)
{
    const char *authz = http_header(req, "Authorization");
    const char *token = NULL, *body_token = NULL;
    struct form f = {NULL, 0};
    json_t *claims = NULL;
    struct user *u = NULL;
    int rc;

    /* RFC 6750 §2.2: a POST may carry the token in a form body. */
    if (strcmp(req->method, "POST") == 0 && req->body_len > 0) {
        if (oauth_form_read(req, &f) < 0)
            return;
        body_token = form_get(&f, "access_token");
    }
    if (authz != NULL && form_bearer(authz, &token) < 0) {
        auth_error_bearer(req, 401, "invalid_token", NULL,
                          "malformed Authorization");
        goto out;
    }
    /* RFC 6750 §2: one method only. */
    if (token != NULL && body_token != NULL) {
        auth_error_bearer(req, 400, "invalid_request", NULL,
                          "more than one way of sending the token");
        goto out;
    }
    if (token == NULL && (token = body_token) == NULL) {
        auth_error_bearer(req, 401, NULL, NULL, "an access token is required");
        goto out;
    }
    if ((rc = bearer_verify(req->app, token, &claims)) == GH_EREDIS) {
        auth_error_server(req, rc);
        goto out;
    }
    if (rc < 0) {
        auth_error_bearer(req, 401, "invalid_token", NULL,
                          "invalid access token");
        goto out;
    }
    share_with_client(req,
                      json_string_value(json_object_get(claims, "client_id")));
    if (bearer_user(req, claims, "openid", &u) < 0)
        goto out;
    http_reply_json(
        req, 200,
        users_claims(u, json_string_value(json_object_get(claims, "scope"))));
out:
    user_free(u);
    json_decref(claims);
    form_free(&f);
}
