/* SPDX-License-Identifier: MIT */
/* Refresh tokens: issued in families, rotated through refresh_rotate.lua,
 * and the sealed successors that let the grace hand out a family's head. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/util.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/grant/refresh.h"
#include "gatehouse/grant/scope.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"

#define FAMILY_BYTES 16

/* Every refusal of a token we cannot use says the same (RFC 6749 §5.2
 * lets us say no more). */
#define UNKNOWN "unknown, expired or revoked refresh token"

int
refresh_issue(struct app *app, const char *sid, const char *client_id,
              const char *sub, const char *scope, char token[REFRESH_LEN + 1],
              char family[REFRESH_FAMILY_LEN + 1])
{
    char hash[65];
    int rc;

    if ((rc = util_random_id(token, REFRESH_BYTES)) < 0 ||
        (rc = util_random_id(family, FAMILY_BYTES)) < 0)
        return rc;
    util_sha256_hex(token, REFRESH_LEN, hash);
    return store_refresh_issue(app->store, hash, family, sid, client_id, sub,
                               scope, app->cfg->refresh_token_ttl_s);
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
seal_pad(const char holder[REFRESH_LEN + 1], unsigned char pad[REFRESH_BYTES])
{
    char in[sizeof(SEAL_LABEL) + REFRESH_LEN];

    memcpy(in, SEAL_LABEL, sizeof(SEAL_LABEL) - 1);
    memcpy(in + sizeof(SEAL_LABEL) - 1, holder, REFRESH_LEN);
    util_sha256(in, sizeof(SEAL_LABEL) - 1 + REFRESH_LEN, pad);
    OPENSSL_cleanse(in, sizeof(in));
}

/* A new refresh token into token, and into sealed the same sealed under
 * holder. */
static int
successor_new(const char *holder, char token[REFRESH_LEN + 1],
              char sealed[REFRESH_LEN + 1])
{
    unsigned char raw[REFRESH_BYTES], pad[REFRESH_BYTES];
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
               char head[REFRESH_LEN + 1])
{
    unsigned char pad[REFRESH_BYTES], *raw = NULL;
    char cur[REFRESH_LEN + 1], hash[65];
    size_t i, j, n;
    int rc = 0;

    memcpy(cur, holder, sizeof(cur));
    for (i = 0; i < t->nsealed; i++) {
        if (b64url_decode(t->sealed[i], strlen(t->sealed[i]), &raw, &n) < 0 ||
            n != REFRESH_BYTES) {
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
    util_sha256_hex(cur, REFRESH_LEN, hash);
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

/* The original scope of a refresh token, to check a narrowed scope
 * before the token is spent. */
static int
original_scope(struct app *app, const char *hash, const struct client *c,
               char **scope)
{
    struct refresh_token *t = NULL;
    int rc;

    if ((rc = store_refresh_get(app->store, hash, &t)) < 0)
        return rc;
    if (strcmp(t->client_id, c->client_id) != 0) {
        store_refresh_free(t);
        return GH_ENOTFOUND;
    }
    *scope = t->scope;
    t->scope = NULL;
    store_refresh_free(t);
    return 0;
}

/* The scope want narrows to, if want is not NULL. */
static int
narrow(struct app *app, const char *hash, const struct client *c,
       const char *want, char **scope, const char **why)
{
    char *original = NULL;
    int rc;

    if (want == NULL)
        return 0;
    rc = original_scope(app, hash, c, &original);
    if (rc == GH_ENOTFOUND) {
        *why = UNKNOWN;
        return GH_EDENIED;
    }
    if (rc < 0)
        return rc;
    rc = scope_grant(want, c, original, scope);
    free(original);
    return rc;
}

int
refresh_rotate(struct app *app, const char *token, const struct client *c,
               const char *want, char next[REFRESH_LEN + 1],
               struct refresh_rotation *r, const char **why)
{
    const struct config *cfg = app->cfg;
    char old_hash[65], new_hash[65], sid_fp[13], sealed[REFRESH_LEN + 1];
    struct refresh_token *t = NULL;
    struct user *u = NULL;
    char *scope = NULL;
    int rc, state;

    memset(r, 0, sizeof(*r));
    sealed[0] = '\0';
    /* Not one of ours: every refresh token is REFRESH_LEN characters, and
     * the successor is sealed under exactly those. */
    if (strlen(token) != REFRESH_LEN) {
        *why = UNKNOWN;
        return GH_EDENIED;
    }
    util_sha256_hex(token, REFRESH_LEN, old_hash);
    if ((rc = narrow(app, old_hash, c, want, &scope, why)) < 0)
        goto out;
    if ((rc = successor_new(token, next, sealed)) < 0)
        goto out;
    util_sha256_hex(next, REFRESH_LEN, new_hash);
    state = store_refresh_rotate(
        app->store, old_hash, new_hash, sealed, c->client_id, util_now(),
        cfg->session_idle_timeout_s, cfg->session_absolute_timeout_s,
        cfg->refresh_token_ttl_s, cfg->refresh_reuse_grace_s, &t, &u);
    rc = GH_EDENIED;
    if (state == STORE_REFRESH_INVALID) {
        *why = UNKNOWN;
        goto out;
    }
    if (state == STORE_REFRESH_REUSE) {
        /* RFC 9700 §4.14.2: a spent refresh token presented again was
         * leaked; its family is gone already, and the session ends with
         * every token it has (SPEC §5). */
        log_fingerprint(t->sid, sid_fp);
        rc = session_end(app->store, t->sid, END_REUSE);
        log_warnx("refresh_token_reuse client=%s sid_fp=%s session_end=%s",
                  c->client_id, sid_fp, rc >= 0 ? "ok" : gh_strerror(rc));
        *why = "the refresh token was already used";
        rc = GH_EDENIED;
        goto out;
    }
    if ((rc = state) < 0)
        goto out;
    /* SPEC §5 grace: the client rotated this token moments ago (parallel
     * refreshes, a lost response); it gets the family's head, which all
     * its refreshers share, and nothing new is rotated. */
    if (state == STORE_REFRESH_GRACE &&
        (rc = successor_head(token, t, next)) < 0)
        goto out;
    if (scope == NULL && (scope = strdup(t->scope)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    /* The rotation checked the session is alive and brought its auth_time,
     * which stays that of the sign-in (OIDC Core §12.2), and the user. */
    if (u == NULL || u->disabled) {
        *why = "the user can no longer sign in";
        rc = GH_EDENIED;
        goto out;
    }
    r->t = t;
    r->user = u;
    r->scope = scope;
    r->grace = state == STORE_REFRESH_GRACE;
    t = NULL;
    u = NULL;
    scope = NULL;
    rc = 0;
out:
    OPENSSL_cleanse(sealed, sizeof(sealed));
    store_refresh_free(t);
    user_free(u);
    free(scope);
    return rc;
}

void
refresh_rotation_clear(struct refresh_rotation *r)
{
    store_refresh_free(r->t);
    user_free(r->user);
    free(r->scope);
    memset(r, 0, sizeof(*r));
}
