/* SPDX-License-Identifier: MIT */
/* What the Admin API and its CLI read and write beyond sessions: the audit
 * stream, the delivery ledger and queues, batches of live sessions for a
 * logout-all, and that run's progress (lall). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "store/store_internal.h"

/* Ids read per round trip when requeueing failed deliveries. */
#define RETRY_BATCH 500

int
store_audit_add(struct store *st, const struct audit_event *ev)
{
    char key[STORE_KEY_MAX], maxlen[24], sessions[24], deliveries[24];
    const char *argv[24];
    redisReply *r = NULL;
    int argc = 0, rc;

    if ((rc = store_key_name(st, KEY_AUDIT, NULL, key, sizeof(key))) < 0)
        return rc;
    snprintf(maxlen, sizeof(maxlen), "%d", STORE_AUDIT_MAX);
    argv[argc++] = "XADD";
    argv[argc++] = key;
    /* "~": Redis trims whole nodes, so the cap costs nothing per add. */
    argv[argc++] = "MAXLEN";
    argv[argc++] = "~";
    argv[argc++] = maxlen;
    argv[argc++] = "*";
    argv[argc++] = "action";
    argv[argc++] = ev->action != NULL ? ev->action : "";
    argv[argc++] = "actor";
    argv[argc++] = ev->actor != NULL ? ev->actor : "";
    argv[argc++] = "target";
    argv[argc++] = ev->target != NULL ? ev->target : "";
    argv[argc++] = "reason";
    argv[argc++] = ev->reason != NULL ? ev->reason : "";
    argv[argc++] = "outcome";
    argv[argc++] = ev->outcome != NULL ? ev->outcome : "";
    argv[argc++] = "addr";
    argv[argc++] = ev->addr != NULL ? ev->addr : "";
    if (ev->sessions >= 0) {
        snprintf(sessions, sizeof(sessions), "%lld", ev->sessions);
        argv[argc++] = "sessions";
        argv[argc++] = sessions;
    }
    if (ev->deliveries >= 0) {
        snprintf(deliveries, sizeof(deliveries), "%lld", ev->deliveries);
        argv[argc++] = "deliveries";
        argv[argc++] = deliveries;
    }
    rc = store_command_argv(st, 0, argc, argv, NULL, &r);
    freeReplyObject(r);
    return rc;
}

/* One struct audit_record's strings (for store_records_free). */
static void
audit_record_clear(void *p)
{
    struct audit_record *a = p;

    free(a->actor);
    free(a->action);
    free(a->target);
    free(a->reason);
    free(a->outcome);
    free(a->addr);
    free(a->sub);
}

void
store_audit_free(struct audit_record *r, size_t n)
{
    store_records_free(r, n, sizeof(*r), audit_record_clear);
}

/* Records written by session_end.lua carry no outcome or address. */
static const struct store_field audit_fields[] = {
    STORE_FIELD_OR("actor", struct audit_record, actor, ""),
    STORE_FIELD_OR("action", struct audit_record, action, ""),
    STORE_FIELD_OR("target", struct audit_record, target, ""),
    STORE_FIELD_OR("reason", struct audit_record, reason, ""),
    STORE_FIELD_OR("outcome", struct audit_record, outcome, ""),
    STORE_FIELD_OR("addr", struct audit_record, addr, ""),
    STORE_FIELD_OR("sub", struct audit_record, sub, ""),
    STORE_FIELD("sessions", STORE_FIELD_NUM, struct audit_record, sessions),
    STORE_FIELD("deliveries", STORE_FIELD_NUM, struct audit_record, deliveries),
};

/* One stream entry, [id, [field, value, ...]], into a. */
static int
audit_decode(const redisReply *e, struct audit_record *a)
{
    const char *id = store_reply_str(store_reply_at(e, 0));
    const redisReply *f = store_reply_at(e, 1);

    if (id == NULL || f == NULL || e->elements != 2)
        return GH_EPROTO;
    snprintf(a->id, sizeof(a->id), "%s", id);
    a->time_ms = strtoll(a->id, NULL, 10);
    a->sessions = -1;
    a->deliveries = -1;
    return STORE_DECODE(f, audit_fields, a);
}

int
store_audit_list(struct store *st, int limit, struct audit_record **ret,
                 size_t *n)
{
    char key[STORE_KEY_MAX];
    struct audit_record *a = NULL;
    redisReply *r = NULL;
    size_t i = 0;
    int rc;

    if ((rc = store_key_name(st, KEY_AUDIT, NULL, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r,
                            "XREVRANGE %s + - COUNT %d", key, limit)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY) {
        rc = GH_EPROTO;
        goto out;
    }
    if ((a = calloc(r->elements + 1, sizeof(*a))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < r->elements; i++) {
        if ((rc = audit_decode(r->element[i], &a[i])) < 0) {
            i++; /* a[i] is partly filled: free it too */
            goto out;
        }
    }
    *ret = a;
    *n = i;
    a = NULL;
out:
    store_audit_free(a, i);
    freeReplyObject(r);
    return rc;
}

/* One struct delivery_record's strings and attempts (for
 * store_records_free). */
static void
record_clear(void *p)
{
    struct delivery_record *d = p;
    size_t i;

    free(d->id);
    free(d->sid);
    free(d->sub);
    free(d->client_id);
    free(d->uri);
    free(d->state);
    free(d->reason);
    for (i = 0; i < d->nattempts; i++)
        free(d->attempts[i].outcome);
    free(d->attempts);
}

void
store_delivery_records_free(struct delivery_record *r, size_t n)
{
    store_records_free(r, n, sizeof(*r), record_clear);
}

/* "unixtime outcome", as delivery_done.lua writes each attempt. */
static int
attempt_parse(const char *v, struct delivery_attempt *a)
{
    char *end;

    a->time = strtoll(v, &end, 10);
    if (*end == ' ')
        end++;
    return (a->outcome = strdup(end)) != NULL ? 0 : GH_ENOMEM;
}

/*
 * The attempts on a delivery hash: o1..oN (made before a requeue) then
 * t1..tN, so the ledger reads in time order. fields is the HGETALL reply.
 */
static int
attempts_decode(const redisReply *fields, struct delivery_record *d)
{
    long nold = 0, nnew = 0, i, idx;
    size_t j;
    int rc;

    for (j = 0; j + 1 < fields->elements; j += 2) {
        const char *k = fields->element[j]->str;
        if (k == NULL || (k[0] != 'o' && k[0] != 't') || k[1] < '1' ||
            k[1] > '9')
            continue;
        idx = strtol(k + 1, NULL, 10);
        if (k[0] == 'o' && idx > nold)
            nold = idx;
        if (k[0] == 't' && idx > nnew)
            nnew = idx;
    }
    /* A hash field per attempt: max_attempts is at most 100 per requeue,
     * so this stays small. */
    if (nold + nnew > 100000)
        return GH_EPROTO;
    if ((d->attempts = calloc((size_t)(nold + nnew) + 1,
                              sizeof(*d->attempts))) == NULL)
        return GH_ENOMEM;
    for (i = 0; i < nold + nnew; i++) {
        char want[24];
        const char *v = NULL;

        snprintf(want, sizeof(want), "%c%ld", i < nold ? 'o' : 't',
                 i < nold ? i + 1 : i - nold + 1);
        for (j = 0; j + 1 < fields->elements && v == NULL; j += 2) {
            const char *k = fields->element[j]->str;
            if (k != NULL && strcmp(k, want) == 0)
                v = fields->element[j + 1]->str;
        }
        if (v == NULL)
            continue;
        if ((rc = attempt_parse(v, &d->attempts[d->nattempts])) < 0)
            return rc;
        d->nattempts++;
    }
    return 0;
}

/* dl:{id} as a struct delivery_record; the attempts are attempts_decode's. */
static const struct store_field record_fields[] = {
    STORE_FIELD_OR("sid", struct delivery_record, sid, ""),
    STORE_FIELD_OR("sub", struct delivery_record, sub, ""),
    STORE_FIELD_OR("cid", struct delivery_record, client_id, ""),
    STORE_FIELD_OR("uri", struct delivery_record, uri, ""),
    STORE_FIELD_OR("st", struct delivery_record, state, "pending"),
    STORE_FIELD_OR("r", struct delivery_record, reason, ""),
    STORE_FIELD("c", STORE_FIELD_NUM, struct delivery_record, created),
    STORE_FIELD("d", STORE_FIELD_NUM, struct delivery_record, done),
};

/* Reads dl:{id} into d; GH_ENOTFOUND if the record is gone. */
static int
record_get(struct store *st, const char *id, struct delivery_record *d)
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_hgetall(st, KEY_DELIVERY, id, &r)) < 0)
        return rc;
    if ((rc = STORE_DECODE(r, record_fields, d)) < 0)
        goto out;
    if ((d->id = strdup(id)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    rc = attempts_decode(r, d);
out:
    freeReplyObject(r);
    return rc;
}

/*
 * Reads the records of ids (with due times, or NULL) into a new array; ids
 * whose record is gone (an expired ledger) are left out.
 */
static int
records_get(struct store *st, char **ids, const double *due, size_t nids,
            struct delivery_record **ret, size_t *n)
{
    struct delivery_record *d;
    size_t i, count = 0;
    int rc = 0;

    if ((d = calloc(nids + 1, sizeof(*d))) == NULL)
        return GH_ENOMEM;
    for (i = 0; i < nids; i++) {
        rc = record_get(st, ids[i], &d[count]);
        if (rc == GH_ENOTFOUND) {
            record_clear(&d[count]);
            memset(&d[count], 0, sizeof(d[count]));
            rc = 0;
            continue;
        }
        if (rc < 0) {
            count++;
            break;
        }
        if (due != NULL && strcmp(d[count].state, "pending") == 0)
            d[count].due = due[i];
        count++;
    }
    if (rc < 0) {
        store_delivery_records_free(d, count);
        return rc;
    }
    *ret = d;
    *n = count;
    return 0;
}

struct due_id {
    char *id;
    double due;
};

static int
by_due(const void *a, const void *b)
{
    const struct due_id *x = a, *y = b;

    return x->due < y->due ? -1 : x->due > y->due;
}

/*
 * Adds the first limit deliveries of each app's parking lot (due, held
 * back while the app has no room: delivery_claim.lua) to ids and due,
 * which hold *n and grow; the soonest limit of them all are kept. Adds
 * how many are parked to *total.
 */
static int
with_parked(struct store *st, int limit, char ***ids, double **due,
            size_t *n, long long *total)
{
    char kp[STORE_KEY_MAX], key[STORE_KEY_MAX];
    redisReply *apps = NULL, *z = NULL;
    struct due_id *all = NULL;
    size_t i, j, count = 0, cap = *n;
    int rc;

    if ((rc = store_key_name(st, KEY_DELIVERY_PARKED_APPS, NULL, kp,
                             sizeof(kp))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &apps, "SMEMBERS %s",
                            kp)) < 0)
        return rc;
    if (apps->type != REDIS_REPLY_ARRAY || apps->elements == 0)
        goto out;
    cap += apps->elements * (size_t)limit;
    if ((all = calloc(cap + 1, sizeof(*all))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < *n; i++)
        all[count++] = (struct due_id){(*ids)[i], (*due)[i]};
    for (i = 0; i < apps->elements; i++) {
        if (apps->element[i]->type != REDIS_REPLY_STRING ||
            store_key_name(st, KEY_DELIVERY_PARKED, apps->element[i]->str,
                           key, sizeof(key)) < 0)
            continue;
        if ((rc = store_command(st, STORE_IDEMPOTENT, &z,
                                "ZRANGE %s 0 %d WITHSCORES", key,
                                limit - 1)) < 0)
            goto out;
        for (j = 0; z->type == REDIS_REPLY_ARRAY && j + 1 < z->elements;
             j += 2) {
            char *id = store_reply_dup(z->element[j]);

            if (id == NULL) {
                rc = GH_ENOMEM;
                goto out;
            }
            all[count++] = (struct due_id){
                id, strtod(z->element[j + 1]->str, NULL)};
        }
        freeReplyObject(z);
        z = NULL;
        if ((rc = store_command(st, STORE_IDEMPOTENT, &z, "ZCARD %s", key)) <
            0)
            goto out;
        *total += store_reply_ll(z);
        freeReplyObject(z);
        z = NULL;
    }
    qsort(all, count, sizeof(*all), by_due);
    /* The soonest limit stay, in order; ids and due take them. */
    {
        char **nids = calloc(count + 1, sizeof(*nids));
        double *ndue = calloc(count + 1, sizeof(*ndue));

        if (nids == NULL || ndue == NULL) {
            free(nids);
            free(ndue);
            rc = GH_ENOMEM;
            goto out;
        }
        for (i = 0; i < count; i++) {
            if (i < (size_t)limit) {
                nids[i] = all[i].id;
                ndue[i] = all[i].due;
            } else {
                free(all[i].id);
            }
        }
        free(*ids);
        free(*due);
        *ids = nids;
        *due = ndue;
        *n = count < (size_t)limit ? count : (size_t)limit;
        count = 0;
    }
out:
    /* On failure the ids read here go; those passed in stay the caller's. */
    for (i = *n; i < count; i++)
        free(all[i].id);
    free(all);
    freeReplyObject(z);
    freeReplyObject(apps);
    return rc;
}

int
store_deliveries_list(struct store *st, int failed, int limit,
                      struct delivery_record **ret, size_t *n,
                      long long *total)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL, *c = NULL;
    char **ids = NULL;
    double *due = NULL;
    size_t nids = 0, i;
    long long count;
    int rc;

    if ((rc = store_key_name(st,
                             failed ? KEY_DELIVERY_FAILED
                                    : KEY_DELIVERY_QUEUE,
                             NULL, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &c, "ZCARD %s", key)) < 0)
        goto out;
    /* Pending: the soonest due first. Failed: the latest failure first,
     * the one an operator is most likely looking for. */
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r,
                            failed ? "ZREVRANGE %s 0 %d WITHSCORES"
                                   : "ZRANGE %s 0 %d WITHSCORES",
                            key, limit - 1)) < 0)
        goto out;
    if ((rc = store_reply_strings(r, 2, &ids, &nids)) < 0)
        goto out;
    if ((due = calloc(nids + 1, sizeof(*due))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < nids; i++) {
        const redisReply *s = r->element[i * 2 + 1];
        due[i] = s->type == REDIS_REPLY_STRING ? strtod(s->str, NULL) : 0;
    }
    count = store_reply_ll(c);
    /* Pending also counts those held back for their app: still queued. */
    if (!failed && (rc = with_parked(st, limit, &ids, &due, &nids, &count)) < 0)
        goto out;
    if ((rc = records_get(st, ids, failed ? NULL : due, nids, ret, n)) < 0)
        goto out;
    *total = count;
out:
    free(due);
    store_reply_strings_free(ids, nids);
    freeReplyObject(r);
    freeReplyObject(c);
    return rc;
}

static int
by_client_id(const void *a, const void *b)
{
    const struct delivery_record *x = a, *y = b;

    return strcmp(x->client_id, y->client_id);
}

int
store_session_ledger(struct store *st, const char *sid,
                     struct delivery_record **ret, size_t *n)
{
    char key[STORE_KEY_MAX], kq[STORE_KEY_MAX], kp[STORE_KEY_MAX];
    redisReply *r = NULL, *z = NULL;
    char **ids = NULL;
    double *due = NULL;
    size_t nids = 0, i;
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION_DELIVERIES, sid, key,
                             sizeof(key))) < 0 ||
        (rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
            0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "SMEMBERS %s", key)) <
        0)
        return rc;
    if ((rc = store_reply_strings(r, 1, &ids, &nids)) < 0)
        goto out;
    /* When each is due: a ZSCORE per app (ZMSCORE needs Redis 6.2), and
     * only the pending ones keep the value (records_get). */
    if ((due = calloc(nids + 1, sizeof(*due))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < nids; i++) {
        const char *cid = strchr(ids[i], ':');

        if ((rc = store_command(st, STORE_IDEMPOTENT, &z, "ZSCORE %s %s", kq,
                                ids[i])) < 0)
            goto out;
        /* Not in dq: maybe held back for its app (the id is sid:client). */
        if (z->type != REDIS_REPLY_STRING && cid != NULL &&
            store_key_name(st, KEY_DELIVERY_PARKED, cid + 1, kp,
                           sizeof(kp)) == 0) {
            freeReplyObject(z);
            z = NULL;
            if ((rc = store_command(st, STORE_IDEMPOTENT, &z, "ZSCORE %s %s",
                                    kp, ids[i])) < 0)
                goto out;
        }
        if (z->type == REDIS_REPLY_STRING)
            due[i] = strtod(z->str, NULL);
        freeReplyObject(z);
        z = NULL;
    }
    if ((rc = records_get(st, ids, due, nids, ret, n)) < 0)
        goto out;
    /* A set has no order; a ledger read twice should read the same. */
    qsort(*ret, *n, sizeof(**ret), by_client_id);
out:
    free(due);
    store_reply_strings_free(ids, nids);
    freeReplyObject(r);
    return rc;
}

int
store_deliveries_retry(struct store *st, int64_t now, long long *count)
{
    char kq[STORE_KEY_MAX], kf[STORE_KEY_MAX], snow[24];
    const char *argv[4 + RETRY_BATCH];
    redisReply *r = NULL, *s = NULL;
    long long done = 0, rounds, limit;
    size_t i;
    int rc;

    if ((rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
            0 ||
        (rc = store_key_name(st, KEY_DELIVERY_FAILED, NULL, kf, sizeof(kf))) <
            0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "ZCARD %s", kf)) < 0)
        return rc;
    /* Bounded by what failed when we began: deliveries that fail again
     * meanwhile wait for the next --retry instead of looping forever. */
    limit = store_reply_ll(r) / RETRY_BATCH + 1;
    freeReplyObject(r);
    r = NULL;
    for (rounds = 0; rounds < limit; rounds++) {
        if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "ZRANGE %s 0 %d",
                                kf, RETRY_BATCH - 1)) < 0)
            goto out;
        if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
            break;
        argv[0] = kq;
        argv[1] = kf;
        argv[2] = store_prefix(st);
        argv[3] = snow;
        for (i = 0; i < r->elements && i < RETRY_BATCH; i++)
            argv[4 + i] = r->element[i]->str != NULL ? r->element[i]->str
                                                     : "";
        if ((rc = store_script(st, SCRIPT_DELIVERY_RETRY, 2, 4 + (int)i,
                               argv, &s)) < 0)
            goto out;
        if (s->type == REDIS_REPLY_INTEGER)
            done += s->integer;
        freeReplyObject(s);
        s = NULL;
        freeReplyObject(r);
        r = NULL;
    }
    *count = done;
out:
    freeReplyObject(r);
    freeReplyObject(s);
    return rc;
}

int
store_sessions_scan(struct store *st, unsigned long long *cursor, int count,
                    char ***sids, size_t *n)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION_EXPIRY, NULL, key,
                             sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r,
                            "ZSCAN %s %llu COUNT %d", key, *cursor, count)) <
        0)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        rc = GH_EPROTO;
        goto out;
    }
    /* Member, score, member, score...: every other one is a sid. */
    if ((rc = store_reply_strings(r->element[1], 2, sids, n)) < 0)
        goto out;
    *cursor = strtoull(r->element[0]->str, NULL, 10);
out:
    freeReplyObject(r);
    return rc;
}

int
store_sessions_range(struct store *st, long long start, int count,
                     char ***sids, size_t *n)
{
    char key[STORE_KEY_MAX];
    int rc;

    if ((rc = store_key_name(st, KEY_SESSION_EXPIRY, NULL, key,
                             sizeof(key))) < 0)
        return rc;
    return store_command_strings(st, sids, n, "ZRANGE %s %lld %lld", key, start,
                                 start + count - 1);
}

static const struct store_field logout_all_fields[] = {
    STORE_FIELD("state", STORE_FIELD_BUF, struct logout_all_state, state),
    STORE_FIELD("actor", STORE_FIELD_BUF, struct logout_all_state, actor),
    STORE_FIELD("reason", STORE_FIELD_BUF, struct logout_all_state, reason),
    STORE_FIELD("started", STORE_FIELD_NUM, struct logout_all_state, started),
    STORE_FIELD("updated", STORE_FIELD_NUM, struct logout_all_state, updated),
    STORE_FIELD("total", STORE_FIELD_NUM, struct logout_all_state, total),
    STORE_FIELD("ended", STORE_FIELD_NUM, struct logout_all_state, ended),
    STORE_FIELD("queued", STORE_FIELD_NUM, struct logout_all_state, queued),
    STORE_FIELD("resumes", STORE_FIELD_NUM, struct logout_all_state, resumes),
};

/* The run a logout_all script names: the field/value array after its
 * outcome, into a zeroed *s. GH_EPROTO for any other shape. */
static int
logout_all_decode(const redisReply *r, struct logout_all_state *s)
{
    const redisReply *fields = store_reply_at(r, 1);

    memset(s, 0, sizeof(*s));
    if (fields == NULL)
        return GH_EPROTO;
    return STORE_DECODE(fields, logout_all_fields, s);
}

/* Runs a logout_all script: KEYS[1] lall, ARGV now, stale_s and then
 * extra[0..n). 1 when the script's outcome (its first element) is 1, else
 * 0, with *ret its reply for the caller to free. */
static int
logout_all_call(struct store *st, enum script script, int64_t now, int stale_s,
                const char *const *extra, size_t n, redisReply **ret)
{
    char key[STORE_KEY_MAX], snow[24], sstale[16];
    const char *argv[8] = {key, snow, sstale};
    redisReply *r = NULL;
    int rc;

    if (n > NELEM(argv) - 3)
        return GH_EINVAL;
    if ((rc = store_key_name(st, KEY_LOGOUT_ALL, NULL, key, sizeof(key))) <
        0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    snprintf(sstale, sizeof(sstale), "%d", stale_s);
    memcpy(argv + 3, extra, n * sizeof(*extra));
    if ((rc = store_script(st, script, 1, (int)(3 + n), argv, &r)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        freeReplyObject(r);
        return GH_EPROTO;
    }
    *ret = r;
    return store_reply_ll(r->element[0]) == 1;
}

int
store_logout_all_begin(struct store *st, int64_t now, int stale_s,
                       const char *actor, const char *reason, long long total,
                       const char *owner, struct logout_all_state *other)
{
    char stotal[24];
    const char *extra[] = {actor, reason != NULL ? reason : "", stotal, owner};
    redisReply *r = NULL;
    int rc;

    snprintf(stotal, sizeof(stotal), "%lld", total);
    if ((rc = logout_all_call(st, SCRIPT_LOGOUT_ALL_BEGIN, now, stale_s, extra,
                              NELEM(extra), &r)) < 0)
        return rc;
    if (rc == 1) {
        rc = 0;
    } else {
        rc = GH_EBUSY;
        if (other != NULL && logout_all_decode(r, other) < 0)
            memset(other, 0, sizeof(*other));
    }
    freeReplyObject(r);
    return rc;
}

int
store_logout_all_resume(struct store *st, int64_t now, int stale_s,
                        const char *owner, struct logout_all_state *taken)
{
    const char *extra[] = {owner};
    redisReply *r = NULL;
    int rc;

    if ((rc = logout_all_call(st, SCRIPT_LOGOUT_ALL_RESUME, now, stale_s, extra,
                              NELEM(extra), &r)) < 0)
        return rc;
    if (rc == 1 && (rc = logout_all_decode(r, taken)) == 0) {
        taken->updated = now;
        rc = 1;
    }
    freeReplyObject(r);
    return rc;
}

int
store_logout_all_update(struct store *st, const char *owner, int64_t now,
                        const char *state, long long ended, long long queued)
{
    char key[STORE_KEY_MAX], snow[24], sended[24], squeued[24];
    const char *argv[] = {key,    owner,   snow,
                          sended, squeued, state != NULL ? state : ""};
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_LOGOUT_ALL, NULL, key, sizeof(key))) <
        0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    snprintf(sended, sizeof(sended), "%lld", ended);
    snprintf(squeued, sizeof(squeued), "%lld", queued);
    if ((rc = store_script(st, SCRIPT_LOGOUT_ALL_UPDATE, 1, NELEM(argv), argv,
                           &r)) < 0)
        return rc;
    rc = store_reply_ll(r) == 1 ? 0 : GH_EBUSY;
    freeReplyObject(r);
    return rc;
}

int
store_logout_all_get(struct store *st, struct logout_all_state *out)
{
    struct logout_all_state s;
    redisReply *r = NULL;
    int rc;

    if ((rc = store_hgetall(st, KEY_LOGOUT_ALL, NULL, &r)) < 0)
        return rc;
    memset(&s, 0, sizeof(s));
    if ((rc = STORE_DECODE(r, logout_all_fields, &s)) == 0)
        *out = s;
    freeReplyObject(r);
    return rc;
}
