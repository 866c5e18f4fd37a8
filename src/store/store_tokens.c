/* SPDX-License-Identifier: MIT */
/* The token keys: code:{hash}, codeu:{hash}, rt:{hash}, rtf:{family},
 * srt:{sid} and revoked:{jti}. A hash is the hex SHA-256 of a code or a
 * token: neither is ever stored in the clear (a spent refresh token keeps
 * its successor only sealed under itself, for the grace). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/store/records.h"
#include "store/store_internal.h"

/* A family delete that keeps losing to concurrent rotations gives up
 * after this many tries (each loss means the family just grew). */
#define FAMILY_DELETE_TRIES 5

int
store_code_put(struct store *st, const char *hash, const char *json, int ttl_s)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_CODE, hash, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, 0, &r, "SET %s %s EX %d NX", key, json,
                            ttl_s)) < 0)
        return rc;
    /* 256 random bits never collide; a nil here means a broken RNG. */
    rc = r->type == REDIS_REPLY_NIL ? GH_EEXISTS : 0;
    freeReplyObject(r);
    return rc;
}

/* The outcome a script names first in its reply (code_redeem.lua,
 * refresh_rotate.lua), borrowed from r into *state: 0, invalid when it is
 * "invalid" (the caller's own code for it), GH_EPROTO when there is none. */
static int
script_outcome(const redisReply *r, int invalid, const char **state)
{
    if ((*state = store_reply_str(store_reply_at(r, 0))) == NULL)
        return GH_EPROTO;
    return strcmp(*state, "invalid") == 0 ? invalid : 0;
}

int
store_code_redeem(struct store *st, const char *hash, int used_ttl_s,
                  char **value)
{
    char kcode[STORE_KEY_MAX], kused[STORE_KEY_MAX], ttl[16];
    const char *argv[] = {kcode, kused, ttl};
    redisReply *r = NULL;
    const char *state;
    char *v = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_CODE, hash, kcode, sizeof(kcode))) < 0 ||
        (rc = store_key_name(st, KEY_CODE_USED, hash, kused, sizeof(kused))) <
            0)
        return rc;
    snprintf(ttl, sizeof(ttl), "%d", used_ttl_s);
    if ((rc = store_script(st, SCRIPT_CODE_REDEEM, 2, NELEM(argv), argv, &r)) <
        0)
        return rc;
    if ((rc = script_outcome(r, STORE_CODE_INVALID, &state)) != 0)
        goto out;
    if ((v = store_reply_dup(store_reply_at(r, 1))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    rc = strcmp(state, "ok") == 0 ? STORE_CODE_OK : STORE_CODE_REPLAY;
    *value = v;
out:
    freeReplyObject(r);
    return rc;
}

int
store_code_used_swap(struct store *st, const char *hash, const char *value,
                     int ttl_s, char **old)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    char *o = NULL;
    int multi = 0, rc;

    if ((rc = store_key_name(st, KEY_CODE_USED, hash, key, sizeof(key))) < 0)
        return rc;
    /*
     * One atomic swap, so the exchange and a replay cannot both miss each
     * other: whichever swaps second sees what the first left. GETSET in
     * MULTI rather than SET ... GET, which Redis 6.0 lacks (README: Redis
     * 6 or newer).
     */
    if ((rc = store_command_ack(st, 0, "MULTI")) < 0)
        goto out;
    multi = 1;
    if ((rc = store_command_ack(st, 0, "GETSET %s %s", key, value)) < 0 ||
        (rc = store_command_ack(st, 0, "EXPIRE %s %d", key, ttl_s)) < 0 ||
        (rc = store_command(st, 0, &r, "EXEC")) < 0)
        goto out;
    multi = 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        rc = GH_EPROTO;
        goto out;
    }
    /* A command that failed inside the transaction is still Redis's
     * error (OOM: unavailable), never "there was no old value". */
    if ((rc = store_reply_error(r->element[0])) < 0 ||
        (rc = store_reply_error(r->element[1])) < 0)
        goto out;
    if (store_reply_str(r->element[0]) != NULL &&
        (o = strndup(r->element[0]->str, r->element[0]->len)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    *old = o;
out:
    if (rc < 0 && multi)
        (void)store_command_ack(st, 0, "DISCARD");
    freeReplyObject(r);
    return rc;
}

int
store_refresh_issue(struct store *st, const char *hash, const char *family,
                    const char *sid, const char *client_id, const char *sub,
                    const char *scope, int ttl_s)
{
    char ksess[STORE_KEY_MAX], krt[STORE_KEY_MAX], kfam[STORE_KEY_MAX],
        ksrt[STORE_KEY_MAX], ttl[16];
    const struct store_key_want keys[] = {
        {KEY_SESSION, sid, &ksess},
        {KEY_REFRESH, hash, &krt},
        {KEY_REFRESH_FAMILY, family, &kfam},
        {KEY_SESSION_REFRESH, sid, &ksrt},
    };
    const char *argv[] = {ksess, krt,       kfam, ksrt,  hash, family,
                          sid,   client_id, sub,  scope, ttl};
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_names(st, keys, NELEM(keys))) < 0)
        return rc;
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    if ((rc = store_script(st, SCRIPT_REFRESH_ISSUE, 4, NELEM(argv), argv,
                           &r)) < 0)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? 0 : GH_ENOTFOUND;
    freeReplyObject(r);
    return rc;
}

/* The tail of a grace reply: the head's hash at i, then the sealed
 * successors. */
static int
grace_decode(const redisReply *r, size_t i, struct refresh_token *t)
{
    size_t j;

    if (store_reply_str(store_reply_at(r, i)) == NULL ||
        i + 1 >= r->elements)
        return GH_EPROTO;
    if ((t->head = store_reply_dup(r->element[i])) == NULL ||
        (t->sealed = calloc(r->elements - i - 1, sizeof(*t->sealed))) ==
            NULL)
        return GH_ENOMEM;
    for (j = i + 1; j < r->elements; j++) {
        if (store_reply_str(r->element[j]) == NULL)
            return GH_EPROTO;
        if ((t->sealed[t->nsealed] = store_reply_dup(r->element[j])) == NULL)
            return GH_ENOMEM;
        t->nsealed++;
    }
    return 0;
}

int
store_refresh_rotate(struct store *st, const char *old_hash,
                     const char *new_hash, const char *sealed,
                     const char *client_id, int64_t now, int idle_s,
                     int absolute_s, int ttl_s, int grace_s,
                     struct refresh_token **ret, struct user **user)
{
    char key[STORE_KEY_MAX], snow[24], sidle[16], sabs[16], ttl[16],
        grace[16];
    const char *argv[] = {key,      store_prefix(st),
                          new_hash, client_id,
                          snow,     sidle,
                          sabs,     ttl,
                          grace,    sealed};
    struct refresh_token *t = NULL;
    redisReply *r = NULL;
    const char *state;
    int in_grace, rc;

    if ((rc = store_key_name(st, KEY_REFRESH, old_hash, key, sizeof(key))) < 0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    snprintf(sidle, sizeof(sidle), "%d", idle_s);
    snprintf(sabs, sizeof(sabs), "%d", absolute_s);
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    snprintf(grace, sizeof(grace), "%d", grace_s);
    if ((rc = store_script(st, SCRIPT_REFRESH_ROTATE, 1, NELEM(argv), argv,
                           &r)) < 0)
        return rc;
    if ((rc = script_outcome(r, STORE_REFRESH_INVALID, &state)) != 0)
        goto out;
    rc = GH_ENOMEM;
    if ((t = calloc(1, sizeof(*t))) == NULL ||
        (t->sid = store_reply_dup(store_reply_at(r, 1))) == NULL ||
        (t->client_id = strdup(client_id)) == NULL)
        goto out;
    in_grace = strcmp(state, "grace") == 0;
    if (strcmp(state, "ok") == 0 || in_grace) {
        if ((t->sub = store_reply_dup(store_reply_at(r, 2))) == NULL ||
            (t->scope = store_reply_dup(store_reply_at(r, 3))) == NULL)
            goto out;
        t->auth_time = store_reply_ll(store_reply_at(r, 4));
        snprintf(t->amr, sizeof(t->amr), "%s",
                 store_reply_str(store_reply_at(r, 6)) != NULL
                     ? store_reply_str(store_reply_at(r, 6))
                     : "");
        if (in_grace && (rc = grace_decode(r, 7, t)) < 0)
            goto out;
        if (r->elements > 5 &&
            (rc = store_user_parse(r->element[5], t->sub, 0, user)) < 0 &&
            rc != GH_ENOTFOUND)
            goto out;
        rc = in_grace ? STORE_REFRESH_GRACE : STORE_REFRESH_OK;
    } else {
        rc = STORE_REFRESH_REUSE;
    }
    *ret = t;
    t = NULL;
out:
    store_refresh_free(t);
    freeReplyObject(r);
    return rc;
}

int
store_refresh_get(struct store *st, const char *hash,
                  struct refresh_token **ret)
{
    char key[STORE_KEY_MAX];
    struct refresh_token *t = NULL;
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_REFRESH, hash, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "HMGET %s f s c u sc x",
                            key)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
        store_reply_str(r->element[0]) == NULL) {
        rc = GH_ENOTFOUND;
        goto out;
    }
    rc = GH_ENOMEM;
    if ((t = calloc(1, sizeof(*t))) == NULL ||
        (t->family = store_reply_dup(r->element[0])) == NULL ||
        (t->sid = store_reply_dup(r->element[1])) == NULL ||
        (t->client_id = store_reply_dup(r->element[2])) == NULL ||
        (t->sub = store_reply_dup(r->element[3])) == NULL ||
        (t->scope = store_reply_dup(r->element[4])) == NULL)
        goto out;
    t->spent = store_reply_str(r->element[5]) != NULL &&
               strcmp(r->element[5]->str, "1") == 0;
    *ret = t;
    t = NULL;
    rc = 0;
out:
    store_refresh_free(t);
    freeReplyObject(r);
    return rc;
}

/*
 * One try at deleting a family and every token in it: 0 done, 1 a
 * rotation changed the family meanwhile (try again), or a GH_E* code.
 * Rotation adds to a family in a script, so the members are read under
 * WATCH: if a rotation slips in between the read and the delete, EXEC does
 * nothing, and the token it just made cannot outlive its family.
 */
static int
family_delete_once(struct store *st, const char *kfam)
{
    char(*keys)[STORE_KEY_MAX] = NULL;
    const char **argv = NULL;
    redisReply *r = NULL;
    size_t i, n;
    int multi = 0, rc;

    if ((rc = store_command_ack(st, 0, "WATCH %s", kfam)) < 0 ||
        (rc = store_command(st, 0, &r, "SMEMBERS %s", kfam)) < 0)
        goto out;
    n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    if ((keys = calloc(n + 1, sizeof(*keys))) == NULL ||
        (argv = calloc(n + 2, sizeof(*argv))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    argv[0] = "DEL";
    argv[1] = kfam;
    for (i = 0; i < n; i++) {
        if (store_reply_str(r->element[i]) == NULL ||
            store_key_name(st, KEY_REFRESH, r->element[i]->str, keys[i],
                           sizeof(keys[i])) < 0) {
            rc = GH_EPROTO;
            goto out;
        }
        argv[i + 2] = keys[i];
    }
    freeReplyObject(r);
    r = NULL;
    if ((rc = store_command_ack(st, 0, "MULTI")) < 0)
        goto out;
    multi = 1;
    if ((rc = store_command_argv(st, 0, (int)n + 2, argv, NULL, &r)) < 0)
        goto out;
    freeReplyObject(r);
    r = NULL;
    if ((rc = store_command(st, 0, &r, "EXEC")) < 0)
        goto out;
    multi = 0;
    /* EXEC answers nil when the WATCHed family changed meanwhile. */
    rc = r->type == REDIS_REPLY_ARRAY ? 0 : 1;
out:
    /* Leave the connection as we found it: no MULTI or WATCH pending. */
    if (rc < 0)
        (void)store_command_ack(st, 0, multi ? "DISCARD" : "UNWATCH");
    freeReplyObject(r);
    free(keys);
    free(argv);
    return rc;
}

int
store_refresh_family_delete(struct store *st, const char *family)
{
    char kfam[STORE_KEY_MAX];
    int tries, rc;

    if ((rc = store_key_name(st, KEY_REFRESH_FAMILY, family, kfam,
                             sizeof(kfam))) < 0)
        return rc;
    for (tries = 0; tries < FAMILY_DELETE_TRIES; tries++)
        if ((rc = family_delete_once(st, kfam)) <= 0)
            return rc;
    return GH_EBUSY;
}

int
store_token_revoke(struct store *st, const char *jti, int ttl_s)
{
    char key[STORE_KEY_MAX];
    int rc;

    if ((rc = store_key_name(st, KEY_REVOKED, jti, key, sizeof(key))) < 0)
        return rc;
    return store_command_ack(st, 0, "SET %s 1 EX %d", key, ttl_s);
}

int
store_access_check(struct store *st, const char *jti, const char *sid,
                   int64_t now, int idle_s, int absolute_s)
{
    char krev[STORE_KEY_MAX], ksess[STORE_KEY_MAX], snow[24], sidle[16];
    char sabs[16];
    const char *argv[] = {krev, ksess, sid != NULL ? sid : "",
                          snow, sidle, sabs};
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_REVOKED, jti, krev, sizeof(krev))) < 0 ||
        (rc = store_key_name(st, KEY_SESSION, sid != NULL ? sid : "-", ksess,
                             sizeof(ksess))) < 0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    snprintf(sidle, sizeof(sidle), "%d", idle_s);
    snprintf(sabs, sizeof(sabs), "%d", absolute_s);
    if ((rc = store_script(st, SCRIPT_ACCESS_CHECK, 2, NELEM(argv), argv, &r)) <
        0)
        return rc;
    /* access_check.lua: 1 good, 0 revoked, -1 session over. */
    if (r->type != REDIS_REPLY_INTEGER)
        rc = GH_EPROTO;
    else if (r->integer == 1)
        rc = STORE_ACCESS_OK;
    else if (r->integer == 0)
        rc = STORE_ACCESS_REVOKED;
    else if (r->integer == -1)
        rc = STORE_ACCESS_ENDED;
    else
        rc = GH_EPROTO;
    freeReplyObject(r);
    return rc;
}
