/* SPDX-License-Identifier: MIT */
/* POST /token (RFC 6749 §3.2, OIDC Core §3.1.3): the three grants and the
 * tokens they mint. Who may call is auth/'s part, what a code or a refresh
 * token grants is grant/'s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "gatehouse/auth/auth_error.h"
#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonw.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/grant/code.h"
#include "gatehouse/grant/refresh.h"
#include "gatehouse/grant/scope.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/oidc/oauth_form.h"
#include "gatehouse/oidc/token.h"
#include "gatehouse/session/maintenance.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"

/* A jti carries 128 random bits (RFC 6749 §10.10). */
#define ID_BYTES 16
#define ID_LEN B64URL_LEN(ID_BYTES)

/* What one grant hands out tokens for. */
struct grant {
    const struct client *client;
    const struct user *user; /* NULL for client_credentials */
    const char *sub;
    const char *sid; /* NULL for client_credentials */
    const char *scope;
    const char *nonce; /* the code grant's, or NULL */
    int64_t auth_time; /* 0 for client_credentials */
    const char *amr;   /* the session's methods ("pwd otp"); NULL: "pwd" */
    int64_t now;
};

/* What it handed out. */
struct issued {
    char *access_token;
    char jti[ID_LEN + 1];
    int64_t exp;
    char *id_token;                      /* NULL without scope openid */
    char refresh_token[REFRESH_LEN + 1]; /* "" if none */
    char family[REFRESH_FAMILY_LEN + 1];
};

static void
issued_clear(struct issued *is)
{
    free(is->access_token);
    free(is->id_token);
    OPENSSL_cleanse(is->refresh_token, sizeof(is->refresh_token));
}

/* RFC 9068 §2.2: aud is the client, the only party that presents the
 * token to us (/userinfo, /introspect, the admin API). */
static int
mint_access(struct app *app, const struct grant *g, struct issued *is)
{
    const struct config *cfg = app->cfg;
    char *claims = NULL;
    struct jw w;
    int rc;

    if ((rc = util_random_id(is->jti, ID_BYTES)) < 0)
        return rc;
    is->exp = g->now + cfg->access_token_ttl_s;
    /* Written, not built in jansson: building and dumping the claims was
     * a tenth of a client_credentials grant. */
    jw_init(&w, 512);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "iss", cfg->issuer);
    jw_str(&w, "sub", g->sub);
    jw_str(&w, "aud", g->client->client_id);
    jw_str(&w, "client_id", g->client->client_id);
    jw_int(&w, "exp", is->exp);
    jw_int(&w, "iat", g->now);
    jw_str(&w, "jti", is->jti);
    jw_str(&w, "scope", g->scope);
    if (g->sid != NULL) {
        jw_str(&w, "sid", g->sid);
        jw_int(&w, "auth_time", g->auth_time);
    }
    jw_obj_end(&w);
    if ((rc = jw_finish(&w, &claims, NULL)) < 0)
        return rc;
    rc = jws_sign_json(app->keys, NULL, "at+jwt", claims, &is->access_token);
    free(claims);
    return rc;
}

/* The client's id_token_signed_response_alg; unset, RS256 (OIDC
 * Registration §2's default) when an RS256 key is active, else the
 * signing_alg (NULL), so an ES256-only deployment keeps working (SPEC §3). */
static const char *
id_token_alg(const struct app *app, const struct client *c)
{
    if (c->id_token_alg != NULL)
        return c->id_token_alg;
    return keys_kid(app->keys, "RS256") != NULL ? "RS256" : NULL;
}

/*
 * OIDC Core §2: amr, the methods the sign-in used (RFC 8176: "pwd",
 * "otp", "hwk"), from the session; and acr, the level they make: a second
 * factor beside the password is SESSION_ACR_2FA, else SESSION_ACR_PWD. A session made
 * before amr was recorded signed in with a password.
 */
static void
put_amr_acr(struct jw *w, const char *amr)
{
    const char *p;
    int second = 0;

    if (amr == NULL || amr[0] == '\0')
        amr = SESSION_AMR_PWD;
    jw_arr_begin(w, "amr");
    for (p = amr; *p != '\0';) {
        size_t n = strcspn(p, " ");
        char m[16];

        if (n > 0 && n < sizeof(m)) {
            memcpy(m, p, n);
            m[n] = '\0';
            jw_str(w, NULL, m);
            second |= strcmp(m, "otp") == 0 || strcmp(m, "hwk") == 0;
        }
        p += n;
        p += strspn(p, " ");
    }
    jw_arr_end(w);
    jw_str(w, "acr", second ? SESSION_ACR_2FA : SESSION_ACR_PWD);
}

/* OIDC Core §2 and §3.1.3.6: at_hash is the left half of SHA-256 of the
 * access token, so the client can tell the two were issued together. */
static int
mint_id(struct app *app, const struct grant *g, struct issued *is)
{
    const struct config *cfg = app->cfg;
    const char *alg = id_token_alg(app, g->client);
    char at_hash[44], *utext = NULL, *claims = NULL;
    json_t *user;
    struct jw w;
    int rc;

    /* A registered client's alg may have lost its key since (the operator
     * removed it): say which, rather than a bare server_error. */
    if (keys_kid(app->keys, alg) == NULL) {
        log_warnx("id_token_unsigned client=%s alg=%s reason=\"no active "
                  "key of the client's id_token_signed_response_alg\"",
                  g->client->client_id, alg);
        return GH_ENOTFOUND;
    }

    util_sha256_b64url(is->access_token, strlen(is->access_token), 1, at_hash);
    /* The profile and email claims the scope grants (OIDC Core §5.4),
     * after ours; ours win (sub), as json_object_update_missing would. */
    if ((user = users_claims(g->user, g->scope)) == NULL)
        return GH_ENOMEM;
    json_object_del(user, "sub");
    if (json_object_size(user) > 0 &&
        (utext = json_dumps(user, JSON_COMPACT)) == NULL) {
        json_decref(user);
        return GH_ENOMEM;
    }
    json_decref(user);
    jw_init(&w, 1024);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "iss", cfg->issuer);
    jw_str(&w, "sub", g->sub);
    jw_str(&w, "aud", g->client->client_id);
    jw_int(&w, "exp", g->now + cfg->id_token_ttl_s);
    jw_int(&w, "iat", g->now);
    jw_int(&w, "auth_time", g->auth_time);
    put_amr_acr(&w, g->amr);
    if (g->nonce != NULL)
        jw_str(&w, "nonce", g->nonce);
    jw_str(&w, "sid", g->sid);
    jw_str(&w, "azp", g->client->client_id);
    jw_str(&w, "at_hash", at_hash);
    if (utext != NULL)
        jw_members(&w, utext);
    jw_obj_end(&w);
    free(utext);
    if ((rc = jw_finish(&w, &claims, NULL)) < 0)
        return rc;
    rc = jws_sign_json(app->keys, alg, "JWT", claims, &is->id_token);
    free(claims);
    return rc;
}

/* The access token and, for a user's grant with scope openid, the ID
 * token (OIDC Core §3.1.3.3). */
static int
mint_tokens(struct app *app, const struct grant *g, struct issued *is)
{
    int rc;

    if ((rc = mint_access(app, g, is)) < 0)
        return rc;
    if (g->user != NULL && scope_has(g->scope, "openid"))
        rc = mint_id(app, g, is);
    return rc;
}

/* RFC 6749 §5.1. */
static void
reply_tokens(struct http_request *req, const struct grant *g,
             const struct issued *is)
{
    char *body = NULL;
    size_t len = 0;
    struct jw w;
    int rc;

    /* Written, not built in jansson: json_dumps escaping two ~500-byte
     * tokens was a tenth of a client_credentials grant. Sized for both. */
    jw_init(&w, 2048);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "access_token", is->access_token);
    jw_str(&w, "token_type", "Bearer");
    jw_int(&w, "expires_in", req->app->cfg->access_token_ttl_s);
    jw_str(&w, "scope", g->scope);
    if (is->id_token != NULL)
        jw_str(&w, "id_token", is->id_token);
    if (is->refresh_token[0] != '\0')
        jw_str(&w, "refresh_token", is->refresh_token);
    jw_obj_end(&w);
    if ((rc = jw_finish(&w, &body, &len)) < 0) {
        auth_error_server(req, rc);
        return;
    }
    http_reply(req, 200, "application/json", body, len);
}

static void
grant_authorization_code(struct http_request *req, const struct form *f,
                         const struct client *c)
{
    struct app *app = req->app;
    const char *code = form_get(f, "code");
    const char *redirect_uri = form_get(f, "redirect_uri");
    const char *why = NULL;
    struct code_exchange x;
    struct issued is;
    struct grant g;
    int rc = 0;

    memset(&is, 0, sizeof(is));
    memset(&x, 0, sizeof(x));
    if (code == NULL || redirect_uri == NULL) {
        http_oauth_error(req, 400, "invalid_request",
                         "code and redirect_uri are required");
        goto out;
    }
    if ((rc = code_redeem(app, code, c, redirect_uri,
                          form_get(f, "code_verifier"), &x, &why)) < 0)
        goto out;
    g = (struct grant){
        .client = c,
        .user = x.user,
        .sub = x.grant.sub,
        .sid = x.grant.sid,
        .scope = x.grant.scope,
        .nonce = x.grant.nonce,
        .auth_time = x.grant.auth_time,
        .amr = x.grant.amr,
        .now = util_now(),
    };
    /* SPEC §5: every code exchange of a client allowed refresh_token gets
     * one, offline_access or not. */
    if (c->grant_types & GRANT_REFRESH_TOKEN) {
        rc = refresh_issue(app, g.sid, c->client_id, g.sub, g.scope,
                           is.refresh_token, is.family);
        if (rc == GH_ENOTFOUND) {
            why = "the session has ended";
            rc = GH_EDENIED;
            goto out;
        }
        if (rc < 0)
            goto out;
    }
    if ((rc = mint_tokens(app, &g, &is)) < 0)
        goto out;
    if ((rc = code_exchanged(app, &x, is.family[0] != '\0' ? is.family : NULL,
                             is.jti, is.exp, &why)) < 0)
        goto out;
    log_info("token_issued grant=authorization_code client=%s sub=%s "
             "refresh=%s",
             c->client_id, g.sub, is.family[0] != '\0' ? "yes" : "no");
    reply_tokens(req, &g, &is);
out:
    if (why != NULL) {
        log_info("token_refused grant=authorization_code client=%s "
                 "reason=\"%s\"",
                 c->client_id, why);
        http_oauth_error(req, 400, "invalid_grant", why);
    } else if (rc < 0) {
        /* Tokens already made must not outlive a failed exchange. */
        if (is.family[0] != '\0')
            store_refresh_family_delete(app->store, is.family);
        auth_error_server(req, rc);
    }
    issued_clear(&is);
    code_exchange_clear(&x);
}

static void
grant_refresh_token(struct http_request *req, const struct form *f,
                    const struct client *c)
{
    struct app *app = req->app;
    const char *token = form_get(f, "refresh_token");
    struct refresh_rotation r;
    const char *why = NULL;
    struct issued is;
    struct grant g;
    int rc = 0;

    memset(&is, 0, sizeof(is));
    memset(&r, 0, sizeof(r));
    if (token == NULL) {
        http_oauth_error(req, 400, "invalid_request",
                         "refresh_token is required");
        goto out;
    }
    rc = refresh_rotate(app, token, c, form_get(f, "scope"), is.refresh_token,
                        &r, &why);
    if (rc == GH_EINVAL) {
        http_oauth_error(req, 400, "invalid_scope",
                         "the scope exceeds what was granted");
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    g = (struct grant){
        .client = c,
        .user = r.user,
        .sub = r.user->sub,
        .sid = r.t->sid,
        .scope = r.scope,
        .auth_time = r.t->auth_time,
        .amr = r.t->amr,
        .now = util_now(),
    };
    if ((rc = mint_tokens(app, &g, &is)) < 0)
        goto out;
    log_debug("token_issued grant=refresh_token client=%s sub=%s grace=%s",
              c->client_id, g.sub, r.grace ? "yes" : "no");
    reply_tokens(req, &g, &is);
out:
    if (why != NULL)
        http_oauth_error(req, 400, "invalid_grant", why);
    else if (rc < 0)
        auth_error_server(req, rc);
    issued_clear(&is);
    refresh_rotation_clear(&r);
}

/* RFC 6749 §4.4: the client acts for itself, so the token's subject is
 * the client, with no session, no refresh token and no ID token. */
static void
grant_client_credentials(struct http_request *req, const struct form *f,
                         const struct client *c)
{
    struct issued is;
    struct grant g;
    char *scope = NULL;
    int rc;

    memset(&is, 0, sizeof(is));
    if ((rc = scope_grant(form_get(f, "scope"), c, NULL, &scope)) < 0) {
        if (rc == GH_EINVAL)
            http_oauth_error(req, 400, "invalid_scope",
                             "a scope is not allowed for this client");
        else
            auth_error_server(req, rc);
        goto out;
    }
    g = (struct grant){
        .client = c,
        .sub = c->client_id,
        .scope = scope,
        .now = util_now(),
    };
    if ((rc = mint_access(req->app, &g, &is)) < 0) {
        auth_error_server(req, rc);
        goto out;
    }
    reply_tokens(req, &g, &is);
out:
    issued_clear(&is);
    free(scope);
}

static const struct {
    const char *name;
    unsigned bit;
    void (*fn)(struct http_request *, const struct form *,
               const struct client *);
} grants[] = {
    {"authorization_code", GRANT_AUTHORIZATION_CODE, grant_authorization_code},
    {"refresh_token", GRANT_REFRESH_TOKEN, grant_refresh_token},
    {"client_credentials", GRANT_CLIENT_CREDENTIALS, grant_client_credentials},
};

void
token_handle(struct http_request *req)
{
    struct oauth_call c;
    const char *grant;
    size_t i;

    if (oauth_call_read(req, 1, &c) < 0)
        return;
    if ((grant = form_get(&c.f, "grant_type")) == NULL) {
        http_oauth_error(req, 400, "invalid_request", "grant_type is required");
        goto out;
    }
    for (i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
        if (strcmp(grant, grants[i].name) == 0)
            break;
    if (i == sizeof(grants) / sizeof(grants[0])) {
        http_oauth_error(req, 400, "unsupported_grant_type", NULL);
        goto out;
    }
    /* RFC 6749 §4.4: client_credentials is for confidential clients only;
     * otherwise a client may use the grants it registered. */
    if ((c.ca.client->grant_types & grants[i].bit) == 0 ||
        (grants[i].bit == GRANT_CLIENT_CREDENTIALS &&
         c.ca.client->auth_method == AUTH_NONE)) {
        http_oauth_error(req, 400, "unauthorized_client",
                         "the client may not use this grant type");
        goto out;
    }
    /* SPEC §5: during a maintenance shutdown no user grant is served;
     * client_credentials (the administrator's) still is. */
    if (grants[i].bit != GRANT_CLIENT_CREDENTIALS &&
        maintenance_active(req->app->maintenance, req->app->store) == 1) {
        http_add_header(req, "Retry-After", MAINTENANCE_RETRY_AFTER);
        http_oauth_error(req, 503, "temporarily_unavailable",
                         "Gatehouse is down for scheduled maintenance");
        goto out;
    }
    grants[i].fn(req, &c.f, c.ca.client);
out:
    oauth_call_done(&c);
}
