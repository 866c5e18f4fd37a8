/* SPDX-License-Identifier: MIT */
/* Tokens once issued: the bearer check, /userinfo (OIDC Core §5.3),
 * /introspect (RFC 7662) and /revoke (RFC 7009). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/app.h"
#include "directory/clients.h"
#include "core/config.h"
#include "http/cors.h"
#include "core/error.h"
#include "http/form.h"
#include "http/http.h"
#include "core/log.h"
#include "session/session.h"
#include "store/store.h"
#include "crypto/jws.h"
#include "oidc/tokens.h"
#include "directory/users.h"
#include "core/util.h"

/* The scope that lets a client see every client's tokens. */
#define ADMIN_SCOPE "gatehouse:admin"

/* RFC 7662 §2.2: all that an inactive token tells, whatever the reason. */
#define INACTIVE "{\"active\":false}"

static const char *
str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Our access tokens are JWTs, our refresh tokens opaque base64url: a dot
 * tells them apart whatever token_type_hint says (RFC 7662 §2.1 lets a
 * server search past a wrong hint). */
static int
is_jwt(const char *token)
{
    return strchr(token, '.') != NULL;
}

int
tokens_verify_access(struct app *app, const char *jwt, json_t **claims)
{
    json_t *c = NULL;
    const char *jti, *sid;
    int rc;

    if ((rc = jws_verify_cached(app->jws_cache, app->keys, jwt, "at+jwt", &c)) < 0)
        goto out;
    if ((rc = jws_check_claims(c, app->cfg->issuer, NULL, util_now(),
                                 TOKENS_LEEWAY_S, false)) < 0)
        goto out;
    jti = str(c, "jti");
    sid = str(c, "sid");
    if (jti == NULL || str(c, "sub") == NULL || str(c, "client_id") == NULL) {
        rc = GH_EBADTOKEN;
        goto out;
    }
    /* Not revoked, and (SPEC §5) a token of a session that has ended is
     * dead with it. */
    rc = store_access_check(app->store, jti, sid, util_now(),
                            app->cfg->session_idle_timeout_s,
                            app->cfg->session_absolute_timeout_s);
    if (rc != 1) {
        rc = rc >= -1 ? GH_EBADTOKEN : GH_EREDIS;
        goto out;
    }
    *claims = c;
    c = NULL;
    rc = 0;
out:
    json_decref(c);
    return rc;
}

/* RFC 6750 §3: the error goes in WWW-Authenticate too; without one (no
 * token at all) the header names only the scheme. */
static void
bearer_error(struct http_request *req, int status, const char *error,
             const char *description)
{
    char h[128];

    if (error != NULL)
        snprintf(h, sizeof(h), "Bearer realm=\"gatehouse\", error=\"%s\"",
                 error);
    else
        snprintf(h, sizeof(h), "Bearer realm=\"gatehouse\"");
    http_add_header(req, "WWW-Authenticate", h);
    http_reply_json(req, status,
                    json_pack("{s:s, s:s}", "error",
                              error != NULL ? error : "invalid_token",
                              "error_description", description));
}

/* SPEC §3 allowed_origins: a browser reads the claims only from an origin
 * the token's client allows. */
static void
share_with_client(struct http_request *req, const char *client_id)
{
    const struct client *c;
    struct client *owned = NULL;

    if (http_cors_origin(req) == NULL)
        return;
    if (tokens_find_client(req->app, client_id, &c, &owned) == 0)
        cors_allow(req, c);
    client_free(owned);
}

void
tokens_handle_userinfo(struct http_request *req)
{
    struct app *app = req->app;
    const char *authz = http_header(req, "Authorization");
    const char *token = NULL, *body_token = NULL, *scope;
    struct form f = {NULL, 0};
    json_t *claims = NULL;
    struct user *u = NULL;
    int rc;

    /* RFC 6750 §2.2: a POST may carry the token in a form body. */
    if (strcmp(req->method, "POST") == 0 && req->body_len > 0) {
        if (tokens_read_form(req, &f) < 0)
            return;
        body_token = form_get(&f, "access_token");
    }
    if (authz != NULL && form_bearer(authz, &token) < 0) {
        bearer_error(req, 401, "invalid_token", "malformed Authorization");
        goto out;
    }
    /* RFC 6750 §2: one method only. */
    if (token != NULL && body_token != NULL) {
        bearer_error(req, 400, "invalid_request",
                     "more than one way of sending the token");
        goto out;
    }
    if (token == NULL && (token = body_token) == NULL) {
        bearer_error(req, 401, NULL, "an access token is required");
        goto out;
    }
    if ((rc = tokens_verify_access(app, token, &claims)) == GH_EREDIS) {
        tokens_reply_failure(req, rc);
        goto out;
    }
    if (rc < 0) {
        bearer_error(req, 401, "invalid_token", "invalid access token");
        goto out;
    }
    share_with_client(req, str(claims, "client_id"));
    /* A client_credentials token has no session and speaks for no user. */
    if (json_object_get(claims, "sid") == NULL) {
        bearer_error(req, 401, "invalid_token",
                     "the token was not issued for a user");
        goto out;
    }
    scope = str(claims, "scope");
    if (!tokens_scope_has(scope, "openid")) {
        bearer_error(req, 403, "insufficient_scope",
                     "the token lacks scope openid");
        goto out;
    }
    rc = users_get(app->store, str(claims, "sub"), &u);
    if (rc == GH_ENOTFOUND || (rc == 0 && u->disabled)) {
        bearer_error(req, 401, "invalid_token", "the user is gone");
        goto out;
    }
    if (rc < 0) {
        tokens_reply_failure(req, rc);
        goto out;
    }
    http_reply_json(req, 200, users_claims(u, scope));
out:
    user_free(u);
    json_decref(claims);
    form_free(&f);
}

/*
 * RFC 7662 §2.2 for an access token. Only the client it was issued to, or
 * an admin client, sees it active: others learn nothing (§4). 1 active
 * (*ret a new object), 0 inactive, or GH_EREDIS.
 */
static int
introspect_access(struct app *app, const char *token,
                  const struct client *caller, json_t **ret)
{
    json_t *c = NULL, *o;
    int rc;

    rc = tokens_verify_access(app, token, &c);
    if (rc == GH_EREDIS)
        return rc;
    if (rc < 0)
        return 0;
    rc = 0;
    if (strcmp(str(c, "client_id"), caller->client_id) != 0 &&
        !client_allows_scope(caller, ADMIN_SCOPE))
        goto out;
    o = json_pack("{s:b, s:s*, s:s, s:s, s:O, s:O, s:s*, s:O*, s:s, s:s*, "
                  "s:s}",
                  "active", 1, "scope", str(c, "scope"), "client_id",
                  str(c, "client_id"), "sub", str(c, "sub"), "exp",
                  json_object_get(c, "exp"), "iat", json_object_get(c, "iat"),
                  "iss", str(c, "iss"), "aud", json_object_get(c, "aud"), "jti",
                  str(c, "jti"), "sid", str(c, "sid"), "token_type", "Bearer");
    if (o == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    *ret = o;
    rc = 1;
out:
    json_decref(c);
    return rc;
}

/* The same for a refresh token: stored, not yet spent, of a live session
 * (SPEC §5), and the caller's to see. */
static int
introspect_refresh(struct app *app, const char *token,
                   const struct client *caller, json_t **ret)
{
    struct refresh_token *t = NULL;
    char hash[65];
    json_t *o;
    int rc;

    util_sha256_hex(token, strlen(token), hash);
    rc = store_refresh_get(app->store, hash, &t);
    if (rc == GH_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    rc = 0;
    if (t->spent || (strcmp(t->client_id, caller->client_id) != 0 &&
                     !client_allows_scope(caller, ADMIN_SCOPE)))
        goto out;
    if ((rc = session_alive(app->store, app->cfg, t->sid)) != 1)
        goto out;
    o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "active", 1, "client_id",
                  t->client_id, "sub", t->sub, "scope", t->scope, "iss",
                  app->cfg->issuer, "token_type", "refresh_token");
    if (o == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    *ret = o;
    rc = 1;
out:
    tokens_refresh_free(t);
    return rc;
}

void
tokens_handle_introspect(struct http_request *req)
{
    struct client_auth ca = {NULL, NULL};
    const char *token;
    json_t *o = NULL;
    struct form f;
    int rc;

    if (tokens_read_form(req, &f) < 0)
        return;
    /* RFC 7662 §2.1: the endpoint needs authentication, else anyone could
     * scan for tokens; a public client has none. */
    if (tokens_client_auth(req, &f, 0, &ca) < 0)
        goto out;
    if ((token = form_get(&f, "token")) == NULL) {
        http_oauth_error(req, 400, "invalid_request", "token is required");
        goto out;
    }
    rc = is_jwt(token) ? introspect_access(req->app, token, ca.client, &o)
                       : introspect_refresh(req->app, token, ca.client, &o);
    if (rc < 0)
        tokens_reply_failure(req, rc);
    else if (rc == 0)
        http_reply_json_text(req, 200, INACTIVE);
    else
        http_reply_json(req, 200, o);
out:
    tokens_client_auth_done(&ca);
    form_free(&f);
}

/* RFC 7009 §2.1 for an access token of the caller: revoked until it would
 * have expired (and the leeway the check allows past exp). */
static int
revoke_access(struct app *app, const char *token, const struct client *caller)
{
    json_t *c = NULL;
    const char *jti;
    int64_t left;
    int rc = 0;

    /* Expired or not, a token that is ours can be revoked; anything else
     * is nothing to do (§2.2). */
    if (jws_verify(app->keys, token, "at+jwt", &c) < 0 ||
        jws_check_claims(c, app->cfg->issuer, NULL, util_now(),
                           TOKENS_LEEWAY_S, true) < 0)
        goto out;
    jti = str(c, "jti");
    if (jti == NULL || str(c, "client_id") == NULL ||
        strcmp(str(c, "client_id"), caller->client_id) != 0)
        goto out;
    left = json_integer_value(json_object_get(c, "exp")) - util_now() +
           TOKENS_LEEWAY_S;
    if (left <= 0)
        goto out;
    if ((rc = store_token_revoke(app->store, jti, (int)left)) == 0)
        log_info("token_revoked kind=access client=%s jti=%s",
                 caller->client_id, jti);
out:
    json_decref(c);
    return rc;
}

/* A refresh token of the caller takes its whole family with it: the
 * tokens rotated from the same code exchange. */
static int
revoke_refresh(struct app *app, const char *token, const struct client *caller)
{
    struct refresh_token *t = NULL;
    char hash[65];
    int rc;

    util_sha256_hex(token, strlen(token), hash);
    rc = store_refresh_get(app->store, hash, &t);
    if (rc == GH_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    if (strcmp(t->client_id, caller->client_id) == 0 &&
        (rc = store_refresh_family_delete(app->store, t->family)) == 0)
        log_info("token_revoked kind=refresh client=%s", caller->client_id);
    tokens_refresh_free(t);
    return rc;
}

void
tokens_handle_revoke(struct http_request *req)
{
    struct client_auth ca = {NULL, NULL};
    const char *token;
    struct form f;
    int rc;

    if (tokens_read_form(req, &f) < 0)
        return;
    /* RFC 7009 §2.1: a public client may revoke its own tokens (on
     * sign-out, say), naming itself with client_id. */
    if (tokens_client_auth(req, &f, 1, &ca) < 0)
        goto out;
    if ((token = form_get(&f, "token")) == NULL) {
        http_oauth_error(req, 400, "invalid_request", "token is required");
        goto out;
    }
    rc = is_jwt(token) ? revoke_access(req->app, token, ca.client)
                       : revoke_refresh(req->app, token, ca.client);
    /* RFC 7009 §2.2: 200 also for a token unknown or not the caller's. */
    if (rc < 0)
        tokens_reply_failure(req, rc);
    else
        http_reply_json_text(req, 200, "{}");
out:
    tokens_client_auth_done(&ca);
    form_free(&f);
}
