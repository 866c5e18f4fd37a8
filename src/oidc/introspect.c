/* SPDX-License-Identifier: MIT */
/* Tokens once issued: /introspect (RFC 7662) and /revoke (RFC 7009). */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/auth/admin_auth.h"
#include "gatehouse/auth/auth_error.h"
#include "gatehouse/auth/bearer.h"
#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonget.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/oidc/introspect.h"
#include "gatehouse/oidc/oauth_form.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/records.h"
#include "gatehouse/store/store.h"

/* RFC 7662 §2.2: all that an inactive token tells, whatever the reason. */
#define INACTIVE "{\"active\":false}"

/* Our access tokens are JWTs, our refresh tokens opaque base64url: a dot
 * tells them apart whatever token_type_hint says (RFC 7662 §2.1 lets a
 * server search past a wrong hint). */
static int
is_jwt(const char *token)
{
    return strchr(token, '.') != NULL;
}

/* The stored refresh token behind the one presented: 1 with *t (freed
 * with store_refresh_free), 0 when there is none, or a GH_E* code. */
static int
find_refresh(struct app *app, const char *token, struct refresh_token **t)
{
    char hash[65];
    int rc;

    util_sha256_hex(token, strlen(token), hash);
    rc = store_refresh_get(app->store, hash, t);
    if (rc == GH_ENOTFOUND)
        return 0;
    return rc < 0 ? rc : 1;
}

/* What both kinds return for an active token: 1 with *ret = o (a new
 * object), or GH_ENOMEM when o could not be made. */
static int
active(json_t *o, json_t **ret)
{
    if (o == NULL)
        return GH_ENOMEM;
    *ret = o;
    return 1;
}

/* RFC 7662 §4: a token shows active only to the client it was issued to,
 * or to an admin client. */
static bool
may_see(const struct client *caller, const char *client_id)
{
    return strcmp(client_id, caller->client_id) == 0 ||
           client_allows_scope(caller, ADMIN_SCOPE);
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

    rc = bearer_verify(app, token, &c);
    if (rc == GH_EREDIS)
        return rc;
    if (rc < 0)
        return 0;
    rc = 0;
    if (!may_see(caller, jsonget_str(c, "client_id")))
        goto out;
    o = json_pack("{s:b, s:s*, s:s, s:s, s:O, s:O, s:s*, s:O*, s:s, s:s*, "
                  "s:s}",
                  "active", 1, "scope", jsonget_str(c, "scope"), "client_id",
                  jsonget_str(c, "client_id"), "sub", jsonget_str(c, "sub"),
                  "exp", json_object_get(c, "exp"), "iat",
                  json_object_get(c, "iat"), "iss", jsonget_str(c, "iss"),
                  "aud", json_object_get(c, "aud"), "jti",
                  jsonget_str(c, "jti"), "sid", jsonget_str(c, "sid"),
                  "token_type", "Bearer");
    rc = active(o, ret);
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
    json_t *o;
    int rc;

    if ((rc = find_refresh(app, token, &t)) <= 0)
        return rc;
    rc = 0;
    if (t->spent || !may_see(caller, t->client_id))
        goto out;
    if ((rc = session_alive(app->store, app->cfg, t->sid)) != 1)
        goto out;
    o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s}", "active", 1, "client_id",
                  t->client_id, "sub", t->sub, "scope", t->scope, "iss",
                  app->cfg->issuer, "token_type", "refresh_token");
    rc = active(o, ret);
out:
    store_refresh_free(t);
    return rc;
}

/*
 * What /introspect and /revoke both start with: the caller (public clients
 * too if allow_public) and the token parameter. On failure the request has
 * been answered and nothing is left to release; on success the caller
 * releases *c.
 */
static int
read_request(struct http_request *req, int allow_public, struct oauth_call *c,
             const char **token)
{
    int rc;

    if ((rc = oauth_call_read(req, allow_public, c)) < 0)
        return rc;
    if ((*token = form_get(&c->f, "token")) == NULL) {
        http_oauth_error(req, 400, "invalid_request", "token is required");
        oauth_call_done(c);
        return GH_EINVAL;
    }
    return 0;
}

void
introspect_handle(struct http_request *req)
{
    struct oauth_call c;
    const char *token;
    json_t *o = NULL;
    int rc;

    /* RFC 7662 §2.1: the endpoint needs authentication, else anyone could
     * scan for tokens; a public client has none. */
    if (read_request(req, 0, &c, &token) < 0)
        return;
    rc = is_jwt(token) ? introspect_access(req->app, token, c.ca.client, &o)
                       : introspect_refresh(req->app, token, c.ca.client, &o);
    if (rc < 0)
        auth_error_server(req, rc);
    else if (rc == 0)
        http_reply_json_text(req, 200, INACTIVE);
    else
        http_reply_json(req, 200, o);
    oauth_call_done(&c);
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
        jws_check_claims(c, app->cfg->issuer, NULL, util_now(), JWS_LEEWAY_S,
                         true) < 0)
        goto out;
    jti = jsonget_str(c, "jti");
    if (jti == NULL || jsonget_str(c, "client_id") == NULL ||
        strcmp(jsonget_str(c, "client_id"), caller->client_id) != 0)
        goto out;
    left = json_integer_value(json_object_get(c, "exp")) - util_now() +
           JWS_LEEWAY_S;
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
    int rc;

    if ((rc = find_refresh(app, token, &t)) <= 0)
        return rc;
    rc = 0;
    if (strcmp(t->client_id, caller->client_id) == 0 &&
        (rc = store_refresh_family_delete(app->store, t->family)) == 0)
        log_info("token_revoked kind=refresh client=%s", caller->client_id);
    store_refresh_free(t);
    return rc;
}

void
introspect_handle_revoke(struct http_request *req)
{
    struct oauth_call c;
    const char *token;
    int rc;

    /* RFC 7009 §2.1: a public client may revoke its own tokens (on
     * sign-out, say), naming itself with client_id. */
    if (read_request(req, 1, &c, &token) < 0)
        return;
    rc = is_jwt(token) ? revoke_access(req->app, token, c.ca.client)
                       : revoke_refresh(req->app, token, c.ca.client);
    /* RFC 7009 §2.2: 200 also for a token unknown or not the caller's. */
    if (rc < 0)
        auth_error_server(req, rc);
    else
        http_reply_json_text(req, 200, "{}");
    oauth_call_done(&c);
}
