/* SPDX-License-Identifier: MIT */
/* Authorization codes: a grant stored under the code's hash, spent on its
 * first use, and the marker a spent code leaves for its replays. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonget.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/grant/code.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"

#define CODE_BYTES 32

/* RFC 7636 §4.1: code_verifier = 43*128unreserved. */
#define VERIFIER_MIN 43
#define VERIFIER_MAX 128

/* The value a spent code's marker holds until the exchange records what
 * it issued (code_redeem.lua), and the one a replay leaves. */
#define USED_PENDING "-"
#define USED_REPLAYED "r"

int
code_issue(struct app *app, const struct code_grant *g,
           char code_out[CODE_LEN + 1])
{
    char code[CODE_LEN + 1], hash[65], *text = NULL;
    json_t *o;
    int rc;

    /* Short keys: the grant lives in Redis for code_ttl_s. */
    o = json_pack("{s:s, s:s, s:s*, s:s*, s:s, s:s, s:s, s:I, s:s*}", "c",
                  g->client_id, "r", g->redirect_uri, "cc", g->code_challenge,
                  "n", g->nonce, "sc", g->scope, "s", g->sid, "u", g->sub, "at",
                  (json_int_t)g->auth_time, "am", g->amr);
    if (o == NULL)
        return GH_EINVAL;
    if ((text = json_dumps(o, JSON_COMPACT)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((rc = util_random_id(code, CODE_BYTES)) < 0)
        goto out;
    util_sha256_hex(code, CODE_LEN, hash);
    if ((rc = store_code_put(app->store, hash, text, app->cfg->code_ttl_s)) < 0)
        goto out;
    memcpy(code_out, code, CODE_LEN + 1);
out:
    OPENSSL_cleanse(code, sizeof(code));
    free(text);
    json_decref(o);
    return rc;
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
    const char *family = jsonget_str(o, "f"), *jti = jsonget_str(o, "j");
    int64_t left = json_integer_value(json_object_get(o, "x")) - util_now();
    int rc = 0;

    if (family != NULL)
        rc = store_refresh_family_delete(app->store, family);
    if (rc == 0 && jti != NULL && left + JWS_LEEWAY_S > 0)
        rc = store_token_revoke(app->store, jti, (int)(left + JWS_LEEWAY_S));
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
    const char *challenge = jsonget_str(g, "cc");
    char computed[44];
    size_t i, n;

    if (strcmp(jsonget_str(g, "c"), c->client_id) != 0)
        return "the code was issued to another client";
    if (strcmp(jsonget_str(g, "r"), redirect_uri) != 0)
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

int
code_redeem(struct app *app, const char *code, const struct client *c,
            const char *redirect_uri, const char *verifier,
            struct code_exchange *x, const char **why)
{
    char sub[37], *value = NULL;
    struct user *u = NULL;
    json_t *cg = NULL;
    int rc;

    memset(x, 0, sizeof(*x));
    util_sha256_hex(code, strlen(code), x->hash);
    /* Spent here, before any check: a code is good for one try. */
    rc = store_code_redeem(app->store, x->hash, used_ttl(app->cfg), &value);
    if (rc == STORE_CODE_INVALID) {
        *why = "unknown or expired code";
        rc = GH_EDENIED;
        goto out;
    }
    if (rc == STORE_CODE_REPLAY) {
        code_replayed(app, x->hash, c);
        *why = "the code was already used";
        rc = GH_EDENIED;
        goto out;
    }
    if (rc < 0)
        goto out;
    cg = json_loads(value, 0, NULL);
    if (jsonget_str(cg, "c") == NULL || jsonget_str(cg, "r") == NULL ||
        jsonget_str(cg, "sc") == NULL || jsonget_str(cg, "s") == NULL ||
        jsonget_str(cg, "u") == NULL) {
        rc = GH_EPROTO;
        goto out;
    }
    if ((*why = code_check(cg, c, redirect_uri, verifier)) != NULL) {
        rc = GH_EDENIED;
        goto out;
    }
    /* SPEC §5: the app now takes part in the session, so its logout
     * reaches this app; a session that ended meanwhile issues nothing. */
    rc = session_record_app(app->store, app->cfg, jsonget_str(cg, "s"), c, sub);
    if (rc == GH_ENOTFOUND ||
        (rc == 0 && strcmp(sub, jsonget_str(cg, "u")) != 0)) {
        *why = "the session has ended";
        rc = GH_EDENIED;
        goto out;
    }
    if (rc < 0)
        goto out;
    rc = users_get(app->store, sub, &u);
    if (rc < 0 && rc != GH_ENOTFOUND)
        goto out;
    if (u == NULL || u->disabled) {
        *why = "the user can no longer sign in";
        rc = GH_EDENIED;
        goto out;
    }
    x->grant = (struct code_grant){
        .client_id = jsonget_str(cg, "c"),
        .redirect_uri = jsonget_str(cg, "r"),
        .code_challenge = jsonget_str(cg, "cc"),
        .nonce = jsonget_str(cg, "n"),
        .scope = jsonget_str(cg, "sc"),
        .sid = jsonget_str(cg, "s"),
        .sub = u->sub,
        .auth_time = json_integer_value(json_object_get(cg, "at")),
        .amr = jsonget_str(cg, "am"),
    };
    x->user = u;
    u = NULL;
    x->record = cg;
    cg = NULL;
    rc = 0;
out:
    user_free(u);
    json_decref(cg);
    free(value);
    return rc;
}

int
code_exchanged(struct app *app, const struct code_exchange *x,
               const char *family, const char *jti, int64_t exp,
               const char **why)
{
    char *record = NULL, *old = NULL;
    json_t *rec;
    int rc;

    /* What a replay of this code must revoke. */
    rec = json_pack("{s:s*, s:s, s:I}", "f", family, "j", jti, "x",
                    (json_int_t)exp);
    record = rec != NULL ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (record == NULL)
        return GH_ENOMEM;
    if ((rc = store_code_used_swap(app->store, x->hash, record,
                                   used_ttl(app->cfg), &old)) < 0)
        goto out;
    /* A replay came in while we issued: it could not revoke what was not
     * yet recorded, so we do, and hand out nothing. */
    if (old != NULL && strcmp(old, USED_PENDING) != 0) {
        revoke_record(app, record);
        *why = "the code was already used";
        rc = GH_EDENIED;
    }
out:
    free(record);
    free(old);
    return rc;
}

void
code_exchange_clear(struct code_exchange *x)
{
    user_free(x->user);
    json_decref(x->record);
    x->user = NULL;
    x->record = NULL;
}
