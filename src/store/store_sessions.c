/* SPDX-License-Identifier: MIT */
/* The session keys: sess:{sid}, usess:{sub}, sexp, srt:{sid},
 * ended:{sid}. Every change that spans them is a Lua script
 * (session_create, session_touch, session_end), so no crash leaves them
 * disagreeing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/states.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/store/records.h"
#include "store/store_internal.h"

/* Session hash fields are kept short so Redis stores the hash as a
 * listpack (SPEC §8: ≤ 1 KiB per session). */
#define UA_MAX 64

/* What session_create, session_touch and session_end take in ARGV as
 * text: the time now (unix seconds), the idle and absolute timeouts. */
struct session_times {
    char now[24];
    char idle[16];
    char absolute[16];
};

static void
session_times_text(struct session_times *t, int64_t now, int idle_s,
                   int absolute_s)
{
    snprintf(t->now, sizeof(t->now), "%lld", (long long)now);
    snprintf(t->idle, sizeof(t->idle), "%d", idle_s);
    snprintf(t->absolute, sizeof(t->absolute), "%d", absolute_s);
}

static int ended_from_reply(const redisReply *r, struct session_ended *out);

/* The evicted sessions of session_create.lua's reply {1, sid, ending, ...}
 * into out. */
static int
evicted_from_reply(const redisReply *r, struct session_evicted *out)
{
    const char *sid;
    size_t i;

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 1)
        return GH_EPROTO;
    if (r->elements == 1)
        return 0;
    out->ended = xcalloc(r->elements / 2, sizeof(*out->ended));
    out->sids = xcalloc(r->elements / 2, sizeof(*out->sids));
    for (i = 1; i + 1 < r->elements; i += 2) {
        sid = store_reply_str(r->element[i]);
        if (!ended_from_reply(r->element[i + 1], &out->ended[out->n]))
            continue;
        snprintf(out->sids[out->n], sizeof(out->sids[out->n]), "%s",
                 sid != NULL ? sid : "");
        out->n++;
    }
    return 0;
}

int
store_session_create(struct store *st,
                              const struct store_session_new *n,
                              struct session_evicted *out)
{
    char ksess[STORE_KEY_MAX], kuser[STORE_KEY_MAX], kexp[STORE_KEY_MAX];
    const struct store_key_want keys[] = {
        {KEY_SESSION, n->sid, &ksess},
        {KEY_USER_SESSIONS, n->sub, &kuser},
        {KEY_SESSION_EXPIRY, NULL, &kexp},
    };
    struct session_times t;
    char sms[24], smax[16];
    char ua_short[UA_MAX + 1];
    const char *argv[] = {ksess,
                          kuser,
                          kexp,
                          n->sid,
                          n->sub,
                          n->khash,
                          t.now,
                          t.idle,
                          t.absolute,
                          n->ip != NULL ? n->ip : "",
                          ua_short,
                          sms,
                          store_prefix(st),
                          smax,
                          n->ua_family != NULL ? n->ua_family : "",
                          n->evict_reason != NULL ? n->evict_reason : "",
                          n->evict_notice ? "1" : "0",
                          n->amr != NULL ? n->amr : "pwd"};
    redisReply *r = NULL;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if ((rc = store_key_names(st, keys, NELEM(keys))) < 0)
        return rc;
    session_times_text(&t, n->now_ms / 1000, n->idle_s, n->absolute_s);
    snprintf(sms, sizeof(sms), "%lld", (long long)n->now_ms);
    snprintf(smax, sizeof(smax), "%d", n->max_per_user);
    snprintf(ua_short, sizeof(ua_short), "%s", n->ua != NULL ? n->ua : "");
    if ((rc = store_script(st, SCRIPT_SESSION_CREATE, 3, NELEM(argv), argv,
                           &r)) < 0)
        return rc;
    if (out != NULL)
        rc = evicted_from_reply(r, out);
    freeReplyObject(r);
    return rc;
}

static const struct store_field session_fields[] = {
    STORE_FIELD("sub", STORE_FIELD_BUF, struct session, sub),
    STORE_FIELD("at", STORE_FIELD_NUM, struct session, auth_time),
    STORE_FIELD("am", STORE_FIELD_NUM, struct session, auth_time_ms),
    STORE_FIELD("c", STORE_FIELD_NUM, struct session, created),
    STORE_FIELD("ls", STORE_FIELD_NUM, struct session, last_seen),
    STORE_FIELD("ip", STORE_FIELD_BUF, struct session, ip),
    STORE_FIELD("ua", STORE_FIELD_STR, struct session, ua),
    STORE_FIELD("uf", STORE_FIELD_BUF, struct session, ua_family),
    STORE_FIELD("amr", STORE_FIELD_BUF, struct session, amr),
};

/* The hash of the cookie secret ("k"), which a struct session does not
 * carry. */
struct session_secret {
    char khash[65];
};
static const struct store_field secret_fields[] = {
    STORE_FIELD("k", STORE_FIELD_BUF, struct session_secret, khash),
};

/* The apps recorded on a session: its a:{client_id} fields. fields is a
 * reply store_reply_decode accepted, so every name is a string. */
static int
session_apps(const redisReply *fields, struct session *s)
{
    const char *k;
    size_t i;

    if ((s->apps = calloc(fields->elements / 2 + 1, sizeof(*s->apps))) ==
        NULL)
        return GH_ENOMEM;
    for (i = 0; i < fields->elements; i += 2) {
        k = fields->element[i]->str;
        if (strncmp(k, "a:", 2) != 0)
            continue;
        if ((s->apps[s->napps] = strdup(k + 2)) == NULL)
            return GH_ENOMEM;
        s->napps++;
    }
    return 0;
}

int
store_session_get(struct store *st, const char *sid, struct session **ret,
                  char khash_out[65])
{
    struct session_secret secret = {""};
    redisReply *r = NULL;
    struct session *s = NULL;
    int rc;

    if ((rc = store_hgetall(st, KEY_SESSION, sid, &r)) < 0)
        return rc;
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    snprintf(s->sid, sizeof(s->sid), "%s", sid);
    if ((rc = STORE_DECODE(r, session_fields, s)) < 0 ||
        (rc = STORE_DECODE(r, secret_fields, &secret)) < 0 ||
        (rc = session_apps(r, s)) < 0)
        goto out;
    /* A session made before "am" existed: its second is all there is. */
    if (s->auth_time_ms == 0)
        s->auth_time_ms = s->auth_time * 1000;
    if (khash_out != NULL)
        memcpy(khash_out, secret.khash, sizeof(secret.khash));
    *ret = s;
    s = NULL;
out:
    session_free(s);
    freeReplyObject(r);
    return rc;
}

int
store_session_touch(struct store *st, const char *sid, int64_t now,
                    int idle_s, int absolute_s, const char *client_id,
                    const char *uri, char sub_out[37])
{
    char ksess[STORE_KEY_MAX], kexp[STORE_KEY_MAX];
    struct session_times t;
    const char *argv[] = {ksess,
                          kexp,
                          sid,
                          t.now,
                          t.idle,
                          t.absolute,
                          client_id != NULL ? client_id : "",
                          uri != NULL ? uri : ""};
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION, sid, ksess, sizeof(ksess))) <
            0 ||
        (rc = store_key_name(st, KEY_SESSION_EXPIRY, NULL, kexp,
                             sizeof(kexp))) < 0)
        return rc;
    session_times_text(&t, now, idle_s, absolute_s);
    if ((rc = store_script(st, SCRIPT_SESSION_TOUCH, 2, NELEM(argv), argv,
                           &r)) < 0)
        return rc;
    /* Lua false comes back as a nil reply. */
    if (r->type != REDIS_REPLY_STRING) {
        rc = GH_ENOTFOUND;
    } else {
        if (sub_out != NULL)
            snprintf(sub_out, 37, "%s", r->str);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int
store_session_reauth(struct store *st, const char *sid, int64_t now_ms)
{
    char ksess[STORE_KEY_MAX], snow[24], sms[24];
    const char *argv[] = {ksess, snow, sms};
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION, sid, ksess, sizeof(ksess))) < 0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)(now_ms / 1000));
    snprintf(sms, sizeof(sms), "%lld", (long long)now_ms);
    if ((rc = store_script(st, SCRIPT_SESSION_REAUTH, 1, NELEM(argv), argv,
                           &r)) < 0)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? 0 : GH_ENOTFOUND;
    freeReplyObject(r);
    return rc;
}

int
store_session_alive(struct store *st, const char *sid, int64_t now,
                    int idle_s, int absolute_s)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int64_t created, seen;
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION, sid, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "HMGET %s c ls",
                            key)) < 0)
        return rc;
    if (store_reply_str(store_reply_at(r, 0)) == NULL ||
        store_reply_str(store_reply_at(r, 1)) == NULL) {
        freeReplyObject(r);
        return 0;
    }
    created = store_reply_ll(r->element[0]);
    seen = store_reply_ll(r->element[1]);
    freeReplyObject(r);
    /* Past its expiry it is over even before the reaper has ended it. */
    return seen + idle_s > now && created + absolute_s > now;
}

/* One session's entry of session_end.lua's reply into out. */
static int
ended_from_reply(const redisReply *r, struct session_ended *out)
{
    const char *a;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return 0;
    a = store_reply_str(r->element[0]);
    out->reason = end_reason_parse(a != NULL ? a : "");
    a = store_reply_str(r->element[1]);
    snprintf(out->sub, sizeof(out->sub), "%s", a != NULL ? a : "");
    out->queued = (int)store_reply_ll(r->element[2]);
    out->ended = 1;
    out->apps = xcalloc(r->elements, sizeof(char *));
    out->notified = xcalloc(r->elements, sizeof(int));
    for (i = 3; i < r->elements; i++) {
        a = store_reply_str(r->element[i]);
        if (a == NULL || strlen(a) < 3)
            continue;
        out->notified[out->napps] = a[0] == '1';
        out->apps[out->napps++] = xstrdup(a + 2);
    }
    return 1;
}

int
store_sessions_end(struct store *st, char *const *sids, size_t n,
                   const char *reason, const char *actor, int64_t now,
                   int idle_s, int absolute_s, int audit,
                   struct session_ended *out)
{
    char (*keys)[STORE_KEY_MAX] = NULL;
    struct session_times t;
    const char **argv = NULL;
    redisReply *r = NULL;
    size_t i;
    int rc, ended = 0;

    for (i = 0; i < n; i++)
        memset(&out[i], 0, sizeof(out[i]));
    if (n == 0)
        return 0;
    if ((keys = calloc(n, sizeof(*keys))) == NULL ||
        (argv = calloc(2 * n + 8, sizeof(*argv))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if ((rc = store_key_name(st, KEY_SESSION, sids[i], keys[i],
                                 sizeof(keys[i]))) < 0)
            goto out;
        argv[i] = keys[i];
        argv[n + 8 + i] = sids[i];
    }
    session_times_text(&t, now, idle_s, absolute_s);
    argv[n] = store_prefix(st);
    argv[n + 1] = reason;
    argv[n + 2] = t.now;
    argv[n + 3] = actor;
    argv[n + 4] = t.idle;
    argv[n + 5] = t.absolute;
    argv[n + 6] = audit ? "1" : "0";
    /* The browser is told why only for the reasons the table says so. */
    argv[n + 7] = end_reason_notice(end_reason_parse(reason)) ? "1" : "0";
    if ((rc = store_script(st, SCRIPT_SESSION_END, (int)n, (int)(2 * n + 8),
                           argv, &r)) < 0)
        goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        rc = GH_EPROTO;
        goto out;
    }
    for (i = 0; i < n; i++)
        ended += ended_from_reply(r->element[i], &out[i]);
    rc = ended;
out:
    freeReplyObject(r);
    free(argv);
    free(keys);
    return rc;
}

int
store_session_notice(struct store *st, const char *sid, char reason[32],
                     char khash[65])
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    const char *a, *b;
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION_NOTICE, sid, key, sizeof(key))) <
        0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "HMGET %s r k", key)) <
        0)
        return rc;
    a = store_reply_str(store_reply_at(r, 0));
    b = store_reply_str(store_reply_at(r, 1));
    if (a == NULL || b == NULL) {
        rc = GH_ENOTFOUND;
    } else {
        snprintf(reason, 32, "%s", a);
        snprintf(khash, 65, "%s", b);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int
store_session_count(struct store *st, long long *n)
{
    return store_key_integer(st, STORE_IDEMPOTENT, KEY_SESSION_EXPIRY, NULL,
                             "ZCARD", n);
}

int
store_sessions_due(struct store *st, int64_t now, int max, char ***sids,
                   size_t *n)
{
    char key[STORE_KEY_MAX];
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION_EXPIRY, NULL, key, sizeof(key))) <
        0)
        return rc;
    return store_command_strings(st, sids, n,
                                 "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d", key,
                                 (long long)now, max);
}

int
store_user_sessions(struct store *st, const char *sub, char ***sids,
                    size_t *n)
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_command(st, STORE_IDEMPOTENT, &r, KEY_USER_SESSIONS,
                                sub, "SMEMBERS")) < 0)
        return rc;
    rc = store_reply_strings(r, 1, sids, n);
    freeReplyObject(r);
    return rc;
}
