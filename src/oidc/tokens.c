/* SPDX-License-Identifier: MIT */
/* The token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3): codes, scopes,
 * the three grants and the tokens they mint. Who may call it is
 * client_auth.c's part. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/app.h"
#include "directory/clients.h"
#include "core/config.h"
#include "core/error.h"
#include "http/form.h"
#include "http/http.h"
#include "crypto/keys.h"
#include "core/log.h"
#include "session/session.h"
#include "store/store.h"
#include "crypto/jws.h"
#include "oidc/tokens.h"
#include "directory/users.h"
#include "core/util.h"

/* Codes and refresh tokens carry 256 random bits, ids 128 (RFC 6749
 * §10.10: guessing one must be infeasible). */
#define SECRET_BYTES 32
#define SECRET_LEN B64URL_LEN(SECRET_BYTES)
#define ID_BYTES 16
#define ID_LEN B64URL_LEN(ID_BYTES)

/* RFC 7636 §4.1: code_verifier = 43*128unreserved. */
#define VERIFIER_MIN 43
#define VERIFIER_MAX 128

#define SCOPE_NAME_MAX 64

/* The value a spent code's marker holds until the exchange records what
 * it issued (code_redeem.lua), and the one a replay leaves. */
#define USED_PENDING "-"
#define USED_REPLAYED "r"

static const char *
str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

void
tokens_refresh_free(struct refresh_token *t)
{
    size_t i;

    if (t == NULL)
        return;
    free(t->family);
    free(t->sid);
    free(t->client_id);
    free(t->sub);
    free(t->scope);
    free(t->head);
    for (i = 0; i < t->nsealed; i++)
        free(t->sealed[i]);
    free(t->sealed);
    free(t);
}

int
tokens_scope_has(const char *scope, const char *name)
{
    size_t n = strlen(name), len;
    const char *p;

    if (scope == NULL || n == 0)
        return 0;
    for (p = scope; *p != '\0'; p += len) {
        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len == n && memcmp(p, name, n) == 0)
            return 1;
    }
    return 0;
}

/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
static int
scope_token_valid(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

static char *
scope_join(const struct strlist *l)
{
    size_t i, len = 1;
    char *out;

    for (i = 0; i < l->n; i++)
        len += strlen(l->v[i]) + 1;
    if ((out = malloc(len)) == NULL)
        return NULL;
    out[0] = '\0';
    for (i = 0; i < l->n; i++) {
        if (i > 0)
            strcat(out, " ");
        strcat(out, l->v[i]);
    }
    return out;
}

/*
 * The scope a grant gets. Every name in requested must be allowed for c
 * and, when within is not NULL, be in within: a refresh may narrow the
 * scope, never widen it (RFC 6749 §6). Without requested, all of within,
 * else all of c's scopes (RFC 6749 §3.3 lets us pick a default). *ret is
 * malloc'd, names once each. GH_EINVAL if a name is malformed or not
 * allowed.
 */
static int
scope_grant(const char *requested, const struct client *c, const char *within,
            char **ret)
{
    char name[SCOPE_NAME_MAX + 1], *out;
    const char *p;
    size_t len, n = 0;
    int rc = GH_EINVAL;

    if (requested == NULL) {
        out = within != NULL ? strdup(within) : scope_join(&c->scopes);
        if (out == NULL)
            return GH_ENOMEM;
        *ret = out;
        return 0;
    }
    if ((out = malloc(strlen(requested) + 1)) == NULL)
        return GH_ENOMEM;
    out[0] = '\0';
    for (p = requested; *p != '\0'; p += len) {
        while (*p == ' ')
            p++;
        if ((len = strcspn(p, " ")) == 0)
            break;
        if (len > SCOPE_NAME_MAX)
            goto out;
        memcpy(name, p, len);
        name[len] = '\0';
        if (!scope_token_valid(name) || !client_allows_scope(c, name) ||
            (within != NULL && !tokens_scope_has(within, name)))
            goto out;
        if (tokens_scope_has(out, name))
            continue;
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, name, len + 1);
        n += len;
    }
    if (n == 0)
        goto out;
    *ret = out;
    out = NULL;
    rc = 0;
out:
    free(out);
    return rc;
}

int
tokens_code_issue(struct app *app, const struct code_grant *g,
                  char code_out[44])
{
    char code[SECRET_LEN + 1], hash[65], *text = NULL;
    json_t *o;
    int rc;

    /* Short keys: the grant lives in Redis for code_ttl_s. */
    o = json_pack("{s:s, s:s, s:s*, s:s*, s:s, s:s, s:s, s:I}", "c",
                  g->client_id, "r", g->redirect_uri, "cc", g->code_challenge,
                  "n", g->nonce, "sc", g->scope, "s", g->sid, "u", g->sub, "at",
                  (json_int_t)g->auth_time);
    if (o == NULL)
        return GH_EINVAL;
    if ((text = json_dumps(o, JSON_COMPACT)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((rc = util_random_id(code, SECRET_BYTES)) < 0)
        goto out;
    util_sha256_hex(code, SECRET_LEN, hash);
    if ((rc = store_code_put(app->store, hash, text, app->cfg->code_ttl_s)) < 0)
        goto out;
    memcpy(code_out, code, SECRET_LEN + 1);
out:
    OPENSSL_cleanse(code, sizeof(code));
    free(text);
    json_decref(o);
    return rc;
}

/* What one grant hands out tokens for. */
struct grant {
    const struct client *client;
    const struct user *user; /* NULL for client_credentials */
    const char *sub;
    const char *sid; /* NULL for client_credentials */
    const char *scope;
    const char *nonce; /* the code grant's, or NULL */
    int64_t auth_time; /* 0 for client_credentials */
    int64_t now;
};

/* What it handed out. */
struct issued {
    char *access_token;
    char jti[ID_LEN + 1];
    int64_t exp;
    char *id_token;                     /* NULL without scope openid */
    char refresh_token[SECRET_LEN + 1]; /* "" if none */
    char family[ID_LEN + 1];
};

static void
issued_clear(struct issued *is)
{
    free(is->access_token);
    free(is->id_token);
    OPENSSL_cleanse(is->refresh_token, sizeof(is->refresh_token));
}

/* Whether a grant's own strings can be written into claims by hand (jti,
 * sid and at_hash are base64url, made here). */
static int
grant_plain(const struct config *cfg, const struct grant *g)
{
    return util_json_plain(cfg->issuer) && util_json_plain(g->sub) &&
           util_json_plain(g->client->client_id) &&
           (g->sid == NULL || util_json_plain(g->sid));
}

/* RFC 9068 §2.2: aud is the client, the only party that presents the
 * token to us (/userinfo, /introspect, the admin API). */
static int
mint_access(struct app *app, const struct grant *g, struct issued *is)
{
    const struct config *cfg = app->cfg;
    json_t *c;
    int rc;

    if ((rc = util_random_id(is->jti, ID_BYTES)) < 0)
        return rc;
    is->exp = g->now + cfg->access_token_ttl_s;
    /* Written by hand when nothing needs escaping (the claims jansson would
     * write, in the same order): building and dumping them was a tenth of
     * a client_credentials grant. */
    if (grant_plain(cfg, g) && util_json_plain(g->scope)) {
        char at[48] = "";

        if (g->sid != NULL)
            snprintf(at, sizeof(at), ",\"auth_time\":%lld",
                     (long long)g->auth_time);
        return jws_signf(
            app->keys, NULL, "at+jwt", &is->access_token,
            "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"client_id\":"
            "\"%s\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"%s\",\"scope\":"
            "\"%s\"%s%s%s%s}",
            cfg->issuer, g->sub, g->client->client_id, g->client->client_id,
            (long long)is->exp, (long long)g->now, is->jti, g->scope,
            g->sid ? ",\"sid\":\"" : "", g->sid ? g->sid : "",
            g->sid ? "\"" : "", at);
    }
    c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s*}", "iss",
                  cfg->issuer, "sub", g->sub, "aud", g->client->client_id,
                  "client_id", g->client->client_id, "exp", (json_int_t)is->exp,
                  "iat", (json_int_t)g->now, "jti", is->jti, "scope", g->scope,
                  "sid", g->sid);
    if (c == NULL)
        return GH_ENOMEM;
    if (g->sid != NULL &&
        json_object_set_new(c, "auth_time",
                            json_integer((json_int_t)g->auth_time)) < 0) {
        json_decref(c);
        return GH_ENOMEM;
    }
    rc = jws_sign(app->keys, NULL, "at+jwt", c, &is->access_token);
    json_decref(c);
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

/* OIDC Core §2 and §3.1.3.6: at_hash is the left half of SHA-256 of the
 * access token, so the client can tell the two were issued together. */
static int
mint_id(struct app *app, const struct grant *g, struct issued *is)
{
    const struct config *cfg = app->cfg;
    const char *alg = id_token_alg(app, g->client);
    json_t *c, *user;
    char at_hash[44];
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
    /* By hand, as jansson would write it, when the claims of our own need
     * no escaping; the user's claims are few and are still written by
     * jansson, spliced in. */
    if (grant_plain(cfg, g) && g->sid != NULL &&
        (g->nonce == NULL || util_json_plain(g->nonce))) {
        char *utext = NULL;

        if ((user = users_claims(g->user, g->scope)) == NULL)
            return GH_ENOMEM;
        /* The base claims' sub wins, as json_object_update_missing. */
        json_object_del(user, "sub");
        if (json_object_size(user) > 0 &&
            (utext = json_dumps(user, JSON_COMPACT)) == NULL) {
            json_decref(user);
            return GH_ENOMEM;
        }
        json_decref(user);
        rc = jws_signf(
            app->keys, alg, "JWT", &is->id_token,
            "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,"
            "\"iat\":%lld,\"auth_time\":%lld%s%s%s,\"sid\":\"%s\","
            "\"azp\":\"%s\",\"at_hash\":\"%s\"%s%s",
            cfg->issuer, g->sub, g->client->client_id,
            (long long)(g->now + cfg->id_token_ttl_s), (long long)g->now,
            (long long)g->auth_time, g->nonce ? ",\"nonce\":\"" : "",
            g->nonce ? g->nonce : "", g->nonce ? "\"" : "", g->sid,
            g->client->client_id, at_hash, utext ? "," : "}",
            utext ? utext + 1 : "");
        free(utext);
        return rc;
    }
    c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s*, s:s, s:s, s:s}", "iss",
                  cfg->issuer, "sub", g->sub, "aud", g->client->client_id,
                  "exp", (json_int_t)(g->now + cfg->id_token_ttl_s), "iat",
                  (json_int_t)g->now, "auth_time", (json_int_t)g->auth_time,
                  "nonce", g->nonce, "sid", g->sid, "azp", g->client->client_id,
                  "at_hash", at_hash);
    if (c == NULL)
        return GH_ENOMEM;
    /* The profile and email claims the scope grants (OIDC Core §5.4). */
    if ((user = users_claims(g->user, g->scope)) == NULL ||
        json_object_update_missing_new(c, user) < 0) {
        json_decref(c);
        return GH_ENOMEM;
    }
    rc = jws_sign(app->keys, alg, "JWT", c, &is->id_token);
    json_decref(c);
    return rc;
}

/* SPEC §5: a new family, tied to the session so it dies with it.
 * GH_ENOTFOUND if the session has ended. */
static int
mint_refresh(struct app *app, const struct grant *g, struct issued *is)
{
    char hash[65];
    int rc;

    if ((rc = util_random_id(is->refresh_token, SECRET_BYTES)) < 0 ||
        (rc = util_random_id(is->family, ID_BYTES)) < 0)
        return rc;
    util_sha256_hex(is->refresh_token, SECRET_LEN, hash);
    return store_refresh_issue(app->store, hash, is->family, g->sid,
                               g->client->client_id, g->sub, g->scope,
                               app->cfg->refresh_token_ttl_s);
}

/*
 * SPEC §5 grace: a spent refresh token keeps its successor sealed under
 * itself, XORed with SHA-256 of a label and the spent token. Only who
 * holds the spent token can open it, and a copy of Redis, which holds
 * hashes of tokens, never tokens, opens nothing. A successor is 32 random
 * bytes sealed once, so this one-time pad is all the sealing it needs.
 */
#define SEAL_LABEL "gatehouse refresh successor:"

static void
seal_pad(const char holder[SECRET_LEN + 1], unsigned char pad[SECRET_BYTES])
{
    char in[sizeof(SEAL_LABEL) + SECRET_LEN];

    memcpy(in, SEAL_LABEL, sizeof(SEAL_LABEL) - 1);
    memcpy(in + sizeof(SEAL_LABEL) - 1, holder, SECRET_LEN);
    util_sha256(in, sizeof(SEAL_LABEL) - 1 + SECRET_LEN, pad);
    OPENSSL_cleanse(in, sizeof(in));
}

/* A new refresh token into token, and into sealed the same sealed under
 * holder. */
static int
successor_new(const char *holder, char token[SECRET_LEN + 1],
              char sealed[SECRET_LEN + 1])
{
    unsigned char raw[SECRET_BYTES], pad[SECRET_BYTES];
    size_t i;
    int rc;

    if ((rc = util_random(raw, sizeof(raw))) < 0)
        return rc;
    b64url_encode(raw, sizeof(raw), token);
    seal_pad(holder, pad);
    for (i = 0; i < sizeof(raw); i++)
        raw[i] ^= pad[i];
    b64url_encode(raw, sizeof(raw), sealed);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(pad, sizeof(pad));
    return 0;
}

/* Opens the sealed successors of a grace rotation, from holder to the
 * family's head, into head. GH_EPROTO if the chain does not lead to the
 * head the store named. */
static int
successor_head(const char *holder, const struct refresh_token *t,
               char head[SECRET_LEN + 1])
{
    unsigned char pad[SECRET_BYTES], *raw = NULL;
    char cur[SECRET_LEN + 1], hash[65];
    size_t i, j, n;
    int rc = 0;

    memcpy(cur, holder, sizeof(cur));
    for (i = 0; i < t->nsealed; i++) {
        if (b64url_decode(t->sealed[i], strlen(t->sealed[i]), &raw, &n) < 0 ||
            n != SECRET_BYTES) {
            rc = GH_EPROTO;
            goto out;
        }
        seal_pad(cur, pad);
        for (j = 0; j < n; j++)
            raw[j] ^= pad[j];
        b64url_encode(raw, n, cur);
        OPENSSL_cleanse(raw, n);
        free(raw);
        raw = NULL;
    }
    util_sha256_hex(cur, SECRET_LEN, hash);
    if (t->nsealed == 0 || strcmp(hash, t->head) != 0) {
        rc = GH_EPROTO;
        goto out;
    }
    memcpy(head, cur, sizeof(cur));
out:
    free(raw);
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(cur, sizeof(cur));
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
    if (g->user != NULL && tokens_scope_has(g->scope, "openid"))
        rc = mint_id(app, g, is);
    return rc;
}

/* RFC 6749 §5.1. */
static void
reply_tokens(struct http_request *req, const struct grant *g,
             const struct issued *is)
{
    char *body = NULL;
    int n;

    /* Written by hand: json_dumps escaping two ~500-byte tokens was a
     * tenth of a client_credentials grant. The tokens are ours, base64url
     * and dots by construction (jws_sign, util_random_id), so only the
     * scope is looked at; anything odd there falls back to jansson. */
    if (!util_json_plain(g->scope)) {
        json_t *o = json_pack(
            "{s:s, s:s, s:i, s:s, s:s*, s:s*}", "access_token",
            is->access_token, "token_type", "Bearer", "expires_in",
            req->app->cfg->access_token_ttl_s, "scope", g->scope, "id_token",
            is->id_token, "refresh_token",
            is->refresh_token[0] != '\0' ? is->refresh_token : NULL);
        if (o == NULL) {
            tokens_reply_failure(req, GH_ENOMEM);
            return;
        }
        http_reply_json(req, 200, o);
        return;
    }
    n = asprintf(&body,
                 "{\"access_token\":\"%s\",\"token_type\":\"Bearer\","
                 "\"expires_in\":%d,\"scope\":\"%s\"%s%s%s%s%s%s}",
                 is->access_token, req->app->cfg->access_token_ttl_s,
                 g->scope, is->id_token ? ",\"id_token\":\"" : "",
                 is->id_token ? is->id_token : "", is->id_token ? "\"" : "",
                 is->refresh_token[0] ? ",\"refresh_token\":\"" : "",
                 is->refresh_token, is->refresh_token[0] ? "\"" : "");
    if (n < 0) {
        tokens_reply_failure(req, GH_ENOMEM);
        return;
    }
    http_reply(req, 200, "application/json", body, (size_t)n);
}

/* The marker a spent code keeps must outlive what the code issued. */
static int
used_ttl(const struct config *cfg)
{
    return cfg->refresh_token_ttl_s > cfg->access_token_ttl_s
               ? cfg->refresh_token_ttl_s
               : cfg->access_token_ttl_s;
}

/* Revokes what a code's exchange recorded: its refresh-token family and
 * its access token, the latter until it would have expired. */
static int
revoke_record(struct app *app, const char *record)
{
    json_t *o = json_loads(record, 0, NULL);
    const char *family = str(o, "f"), *jti = str(o, "j");
    int64_t left = json_integer_value(json_object_get(o, "x")) - util_now();
    int rc = 0;

    if (family != NULL)
        rc = store_refresh_family_delete(app->store, family);
    if (rc == 0 && jti != NULL && left + TOKENS_LEEWAY_S > 0)
        rc = store_token_revoke(app->store, jti, (int)(left + TOKENS_LEEWAY_S));
    json_decref(o);
    return rc;
}

/*
 * RFC 6749 §4.1.2 and SPEC §7: a code used twice was intercepted, so what
 * its first use issued is revoked. Should that exchange still be running,
 * it finds our mark when it records and revokes its own tokens.
 */
static void
code_replayed(struct app *app, const char *hash, const struct client *c)
{
    char *old = NULL;
    int rc;

    rc = store_code_used_swap(app->store, hash, USED_REPLAYED,
                              used_ttl(app->cfg), &old);
    if (rc == 0 && old != NULL && old[0] == '{')
        rc = revoke_record(app, old);
    log_warnx("code_replayed client=%s code_hash=%.12s revoked=%s",
              c->client_id, hash, rc == 0 ? "yes" : "failed");
    free(old);
}

/*
 * RFC 6749 §4.1.3, RFC 7636 §4.6: the code comes back from the client it
 * was issued to, with the same redirect_uri and the verifier of its
 * challenge. Returns why not, or NULL.
 */
static const char *
code_check(const json_t *g, const struct client *c, const char *redirect_uri,
           const char *verifier)
{
    const char *challenge = str(g, "cc");
    char computed[44];
    size_t i, n;

    if (strcmp(str(g, "c"), c->client_id) != 0)
        return "the code was issued to another client";
    if (strcmp(str(g, "r"), redirect_uri) != 0)
        return "redirect_uri does not match the authorization request";
    if (challenge == NULL) {
        if (c->auth_method == AUTH_NONE)
            return "a public client must use PKCE";
        /* RFC 9700 §2.1.1: a verifier without a challenge is refused, or
         * a downgrade could pass unnoticed. */
        return verifier != NULL ? "code_verifier without code_challenge" : NULL;
    }
    if (verifier == NULL)
        return "code_verifier required";
    n = strlen(verifier);
    if (n < VERIFIER_MIN || n > VERIFIER_MAX)
        return "malformed code_verifier";
    for (i = 0; i < n; i++)
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-._~",
                   verifier[i]) == NULL)
            return "malformed code_verifier";
    util_sha256_b64url(verifier, n, 0, computed);
    if (!util_streq_ct(computed, challenge))
        return "code_verifier does not match code_challenge";
    return NULL;
}

/* A grant is for a user who still exists (u not NULL) and is enabled;
 * GH_EDENIED with why set if not. */
static int
user_may_be_granted(const struct user *u, const char **why)
{
    if (u != NULL && !u->disabled)
        return 0;
    *why = "the user can no longer sign in";
    return GH_EDENIED;
}

/* Gets the user behind a grant; why is set if the grant must fail. */
static int
grant_user(struct app *app, const char *sub, struct user **ret,
           const char **why)
{
    struct user *u = NULL;
    int rc;

    rc = users_get(app->store, sub, &u);
    if (rc < 0 && rc != GH_ENOTFOUND)
        return rc;
    if ((rc = user_may_be_granted(u, why)) < 0) {
        user_free(u);
        return rc;
    }
    *ret = u;
    return 0;
}

static void
grant_authorization_code(struct http_request *req, const struct form *f,
                         const struct client *c)
{
    struct app *app = req->app;
    const char *code = form_get(f, "code");
    const char *redirect_uri = form_get(f, "redirect_uri");
    char hash[65], sub[37], *value = NULL, *record = NULL, *old = NULL;
    const char *why = NULL;
    struct user *u = NULL;
    struct issued is;
    struct grant g;
    json_t *cg = NULL, *rec = NULL;
    int rc = 0;

    memset(&is, 0, sizeof(is));
    if (code == NULL || redirect_uri == NULL) {
        http_oauth_error(req, 400, "invalid_request",
                         "code and redirect_uri are required");
        goto out;
    }
    util_sha256_hex(code, strlen(code), hash);
    /* Spent here, before any check: a code is good for one try. */
    rc = store_code_redeem(app->store, hash, used_ttl(app->cfg), &value);
    if (rc == STORE_CODE_INVALID) {
        why = "unknown or expired code";
        goto out;
    }
    if (rc == STORE_CODE_REPLAY) {
        code_replayed(app, hash, c);
        why = "the code was already used";
        goto out;
    }
    if (rc < 0)
        goto out;
    cg = json_loads(value, 0, NULL);
    if (str(cg, "c") == NULL || str(cg, "r") == NULL || str(cg, "sc") == NULL ||
        str(cg, "s") == NULL || str(cg, "u") == NULL) {
        rc = GH_EPROTO;
        goto out;
    }
    if ((why = code_check(cg, c, redirect_uri, form_get(f, "code_verifier"))) !=
        NULL)
        goto out;
    /* SPEC §5: the app now takes part in the session, so its logout
     * reaches this app; a session that ended meanwhile issues nothing. */
    rc = session_record_app(app->store, app->cfg, str(cg, "s"), c, sub);
    if (rc == GH_ENOTFOUND || (rc == 0 && strcmp(sub, str(cg, "u")) != 0)) {
        why = "the session has ended";
        goto out;
    }
    if (rc < 0)
        goto out;
    if ((rc = grant_user(app, sub, &u, &why)) == GH_EDENIED)
        goto out;
    if (rc < 0)
        goto out;
    g = (struct grant){
        .client = c,
        .user = u,
        .sub = u->sub,
        .sid = str(cg, "s"),
        .scope = str(cg, "sc"),
        .nonce = str(cg, "n"),
        .auth_time = json_integer_value(json_object_get(cg, "at")),
        .now = util_now(),
    };
    /* SPEC §5: every code exchange of a client allowed refresh_token gets
     * one, offline_access or not. */
    if (c->grant_types & GRANT_REFRESH_TOKEN) {
        rc = mint_refresh(app, &g, &is);
        if (rc == GH_ENOTFOUND) {
            why = "the session has ended";
            goto out;
        }
        if (rc < 0)
            goto out;
    }
    if ((rc = mint_tokens(app, &g, &is)) < 0)
        goto out;
    /* What a replay of this code must revoke. */
    rec = json_pack("{s:s*, s:s, s:I}", "f",
                    is.family[0] != '\0' ? is.family : NULL, "j", is.jti, "x",
                    (json_int_t)is.exp);
    if (rec == NULL || (record = json_dumps(rec, JSON_COMPACT)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((rc = store_code_used_swap(app->store, hash, record, used_ttl(app->cfg),
                                   &old)) < 0)
        goto out;
    /* A replay came in while we issued: it could not revoke what was not
     * yet recorded, so we do, and hand out nothing. */
    if (old != NULL && strcmp(old, USED_PENDING) != 0) {
        revoke_record(app, record);
        why = "the code was already used";
        goto out;
    }
    log_info("token_issued grant=authorization_code client=%s sub=%s "
             "refresh=%s",
             c->client_id, u->sub, is.family[0] != '\0' ? "yes" : "no");
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
        tokens_reply_failure(req, rc);
    }
    issued_clear(&is);
    user_free(u);
    json_decref(cg);
    json_decref(rec);
    free(value);
    free(record);
    free(old);
}

/* The original scope of a refresh token, to check a narrowed scope
 * before the token is spent. */
static int
refresh_scope(struct app *app, const char *hash, const struct client *c,
              char **scope)
{
    struct refresh_token *t = NULL;
    int rc;

    if ((rc = store_refresh_get(app->store, hash, &t)) < 0)
        return rc;
    if (strcmp(t->client_id, c->client_id) != 0) {
        tokens_refresh_free(t);
        return GH_ENOTFOUND;
    }
    *scope = t->scope;
    t->scope = NULL;
    tokens_refresh_free(t);
    return 0;
}

static void
grant_refresh_token(struct http_request *req, const struct form *f,
                    const struct client *c)
{
    struct app *app = req->app;
    const struct config *cfg = app->cfg;
    const char *token = form_get(f, "refresh_token");
    const char *want = form_get(f, "scope");
    char old_hash[65], new_hash[65], sid_fp[13], sealed[SECRET_LEN + 1],
        *scope = NULL, *original = NULL;
    struct refresh_token *t = NULL;
    const char *why = NULL;
    struct user *u = NULL;
    struct issued is;
    struct grant g;
    int rc = 0;

    memset(&is, 0, sizeof(is));
    if (token == NULL) {
        http_oauth_error(req, 400, "invalid_request",
                         "refresh_token is required");
        goto out;
    }
    /* Not one of ours: every refresh token is SECRET_LEN characters, and
     * the successor is sealed under exactly those. */
    if (strlen(token) != SECRET_LEN) {
        why = "unknown, expired or revoked refresh token";
        goto out;
    }
    util_sha256_hex(token, strlen(token), old_hash);
    /* A scope to narrow to is checked before the token is spent, so a bad
     * one costs the client nothing (RFC 6749 §6). */
    if (want != NULL) {
        rc = refresh_scope(app, old_hash, c, &original);
        if (rc == GH_ENOTFOUND) {
            why = "unknown, expired or revoked refresh token";
            goto out;
        }
        if (rc < 0)
            goto out;
        if ((rc = scope_grant(want, c, original, &scope)) == GH_EINVAL) {
            http_oauth_error(req, 400, "invalid_scope",
                             "the scope exceeds what was granted");
            rc = 0;
            goto out;
        }
        if (rc < 0)
            goto out;
    }
    if ((rc = successor_new(token, is.refresh_token, sealed)) < 0)
        goto out;
    util_sha256_hex(is.refresh_token, SECRET_LEN, new_hash);
    rc = store_refresh_rotate(app->store, old_hash, new_hash, sealed,
                              c->client_id, util_now(),
                              cfg->session_idle_timeout_s,
                              cfg->session_absolute_timeout_s,
                              cfg->refresh_token_ttl_s,
                              cfg->refresh_reuse_grace_s, &t, &u);
    if (rc == STORE_REFRESH_INVALID) {
        why = "unknown, expired or revoked refresh token";
        goto out;
    }
    if (rc == STORE_REFRESH_REUSE) {
        /* RFC 9700 §4.14.2: a spent refresh token presented again was
         * leaked; its family is gone already, and the session ends with
         * every token it has (SPEC §5). */
        log_fingerprint(t->sid, sid_fp);
        rc = session_end(app->store, t->sid, "reuse");
        log_warnx("refresh_token_reuse client=%s sid_fp=%s session_end=%s",
                  c->client_id, sid_fp, rc >= 0 ? "ok" : gh_strerror(rc));
        why = "the refresh token was already used";
        goto out;
    }
    if (rc < 0)
        goto out;
    /* SPEC §5 grace: the client rotated this token moments ago (parallel
     * refreshes, a lost response); it gets the family's head, which all
     * its refreshers share, and nothing new is rotated. */
    if (rc == STORE_REFRESH_GRACE &&
        (rc = successor_head(token, t, is.refresh_token)) < 0)
        goto out;
    if (scope == NULL && (scope = strdup(t->scope)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    /* The rotation checked the session is alive and brought its auth_time,
     * which stays that of the sign-in (OIDC Core §12.2), and the user. */
    if (user_may_be_granted(u, &why) < 0)
        goto out;
    g = (struct grant){
        .client = c,
        .user = u,
        .sub = u->sub,
        .sid = t->sid,
        .scope = scope,
        .auth_time = t->auth_time,
        .now = util_now(),
    };
    if ((rc = mint_tokens(app, &g, &is)) < 0)
        goto out;
    log_debug("token_issued grant=refresh_token client=%s sub=%s grace=%s",
              c->client_id, u->sub, t->head != NULL ? "yes" : "no");
    reply_tokens(req, &g, &is);
out:
    if (why != NULL)
        http_oauth_error(req, 400, "invalid_grant", why);
    else if (rc < 0)
        tokens_reply_failure(req, rc);
    issued_clear(&is);
    OPENSSL_cleanse(sealed, sizeof(sealed));
    tokens_refresh_free(t);
    user_free(u);
    free(scope);
    free(original);
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
            tokens_reply_failure(req, rc);
        goto out;
    }
    g = (struct grant){
        .client = c,
        .sub = c->client_id,
        .scope = scope,
        .now = util_now(),
    };
    if ((rc = mint_access(req->app, &g, &is)) < 0) {
        tokens_reply_failure(req, rc);
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
tokens_handle_token(struct http_request *req)
{
    struct client_auth ca = {NULL, NULL};
    const char *grant;
    struct form f;
    size_t i;

    if (tokens_read_form(req, &f) < 0)
        return;
    if (tokens_client_auth(req, &f, 1, &ca) < 0)
        goto out;
    if ((grant = form_get(&f, "grant_type")) == NULL) {
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
    if ((ca.client->grant_types & grants[i].bit) == 0 ||
        (grants[i].bit == GRANT_CLIENT_CREDENTIALS &&
         ca.client->auth_method == AUTH_NONE)) {
        http_oauth_error(req, 400, "unauthorized_client",
                         "the client may not use this grant type");
        goto out;
    }
    grants[i].fn(req, &f, ca.client);
out:
    tokens_client_auth_done(&ca);
    form_free(&f);
}
