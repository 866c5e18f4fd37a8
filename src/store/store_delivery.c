/* SPDX-License-Identifier: MIT */
/* The back-channel delivery keys: dq (due times and leases), dl:{id} (one
 * notification and its attempts), dfail, and what keeps it fair between
 * apps: dpark:{client_id}, dparked, dinf:{client_id}, dcb. Claims and
 * outcomes are Lua scripts so two instances never see a half-made change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "store/store_internal.h"

/* One struct delivery_claim's strings (for store_records_free). */
static void
claim_clear(void *p)
{
    struct delivery_claim *c = p;

    free(c->id);
    free(c->client_id);
    free(c->uri);
    free(c->sid);
    free(c->sub);
    free(c->token);
}

void
store_delivery_claims_free(struct delivery_claim *c, size_t n)
{
    store_records_free(c, n, sizeof(*c), claim_clear);
}

int
store_delivery_release(struct store *st, double now,
                       const struct delivery_claim *const *c,
                       const char *const *engine, size_t n)
{
    char kq[STORE_KEY_MAX], snow[24];
    const char **argv;
    size_t i, argc = 3 + 3 * n;
    int rc;

    if (n == 0)
        return 0;
    if ((rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
        0)
        return rc;
    if ((argv = calloc(argc, sizeof(*argv))) == NULL)
        return GH_ENOMEM;
    snprintf(snow, sizeof(snow), "%.3f", now);
    argv[0] = kq;
    argv[1] = store_prefix(st);
    argv[2] = snow;
    for (i = 0; i < n; i++) {
        argv[3 + 3 * i] = c[i]->id;
        argv[4 + 3 * i] = c[i]->client_id;
        argv[5 + 3 * i] = engine[i];
    }
    rc = store_script(st, SCRIPT_DELIVERY_RELEASE, 1, (int)argc, argv, NULL);
    free(argv);
    return rc < 0 ? rc : 0;
}

int
store_delivery_claim(struct store *st, double now, int lease_s, int max,
                     int per_app, const char *engine,
                     const struct delivery_app_count *mine, size_t nmine,
                     struct delivery_claim **ret, size_t *n)
{
    char kq[STORE_KEY_MAX], kp[STORE_KEY_MAX], kc[STORE_KEY_MAX];
    const struct store_key_want keys[] = {
        {KEY_DELIVERY_QUEUE, NULL, &kq},
        {KEY_DELIVERY_PARKED_APPS, NULL, &kp},
        {KEY_DELIVERY_CIRCUITS, NULL, &kc},
    };
    char snow[24], slease[16], smax[16], sper[16];
    char (*counts)[16] = NULL;
    const char *head[] = {kq,   kp,   kc,    store_prefix(st), snow, slease,
                          smax, sper, engine};
    const char **argv = NULL;
    struct delivery_claim *c = NULL;
    redisReply *r = NULL;
    size_t i, count = 0;
    int rc;

    if ((rc = store_key_names(st, keys, NELEM(keys))) < 0)
        return rc;
    snprintf(snow, sizeof(snow), "%.3f", now);
    snprintf(slease, sizeof(slease), "%d", lease_s);
    snprintf(smax, sizeof(smax), "%d", max);
    snprintf(sper, sizeof(sper), "%d", per_app);
    if ((argv = calloc(NELEM(head) + 2 * nmine, sizeof(*argv))) == NULL ||
        (counts = calloc(nmine + 1, sizeof(*counts))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    memcpy(argv, head, sizeof(head));
    for (i = 0; i < nmine; i++) {
        snprintf(counts[i], sizeof(counts[i]), "%d", mine[i].n);
        argv[NELEM(head) + 2 * i] = mine[i].client_id;
        argv[NELEM(head) + 2 * i + 1] = counts[i];
    }
    if ((rc = store_script(st, SCRIPT_DELIVERY_CLAIM, 3,
                           (int)(NELEM(head) + 2 * nmine), argv, &r)) < 0)
        goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 9 != 0) {
        rc = GH_EPROTO;
        goto out;
    }
    count = r->elements / 9;
    if ((c = calloc(count + 1, sizeof(*c))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < count; i++) {
        redisReply **e = r->element + i * 9;

        if ((c[i].id = store_reply_dup(e[0])) == NULL ||
            (c[i].client_id = store_reply_dup(e[1])) == NULL ||
            (c[i].uri = store_reply_dup(e[2])) == NULL ||
            (c[i].sid = store_reply_dup(e[3])) == NULL ||
            (c[i].sub = store_reply_dup(e[4])) == NULL ||
            (c[i].token = store_reply_dup(e[6])) == NULL) {
            rc = GH_ENOMEM;
            goto out;
        }
        c[i].attempts = (int)store_reply_ll(e[5]);
        c[i].token_exp = store_reply_ll(e[7]);
        c[i].trial = e[8]->type == REDIS_REPLY_INTEGER && e[8]->integer == 1;
    }
    *ret = c;
    *n = count;
    c = NULL;
    rc = 0;
out:
    /* The leases taken lapse: another claim sends those deliveries. */
    store_delivery_claims_free(c, count);
    free(argv);
    free(counts);
    freeReplyObject(r);
    return rc;
}

int
store_delivery_done(struct store *st, int64_t now, double now_s,
                    const char *engine, int lease_s, int max_attempts,
                    struct delivery_outcome *o, size_t n)
{
    char kq[STORE_KEY_MAX], kf[STORE_KEY_MAX], kc[STORE_KEY_MAX];
    const struct store_key_want keys[] = {
        {KEY_DELIVERY_QUEUE, NULL, &kq},
        {KEY_DELIVERY_FAILED, NULL, &kf},
        {KEY_DELIVERY_CIRCUITS, NULL, &kc},
    };
    char snow[24], snow_ms[24], smax[16], slease[16];
    char (*nums)[3][32] = NULL;
    const char *head[] = {kq,      kf,     kc,    store_prefix(st), snow, smax,
                          snow_ms, engine, slease};
    const char **argv = NULL;
    redisReply *r = NULL;
    size_t i, argc = NELEM(head) + 9 * n;
    int rc;

    if (n == 0)
        return 0;
    if ((rc = store_key_names(st, keys, NELEM(keys))) < 0)
        return rc;
    if ((argv = calloc(argc, sizeof(*argv))) == NULL ||
        (nums = calloc(n, sizeof(*nums))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    snprintf(snow_ms, sizeof(snow_ms), "%.3f", now_s);
    snprintf(smax, sizeof(smax), "%d", max_attempts);
    snprintf(slease, sizeof(slease), "%d", lease_s);
    memcpy(argv, head, sizeof(head));
    for (i = 0; i < n; i++) {
        const char **a = argv + NELEM(head) + 9 * i;
        snprintf(nums[i][0], sizeof(nums[i][0]), "%.3f", o[i].next_due);
        snprintf(nums[i][1], sizeof(nums[i][1]), "%lld",
                 (long long)o[i].token_exp);
        a[0] = o[i].id;
        a[1] = o[i].outcome;
        a[2] = o[i].delivered ? "1" : "0";
        a[3] = nums[i][0];
        a[4] = o[i].token != NULL ? o[i].token : "";
        a[5] = nums[i][1];
        snprintf(nums[i][2], sizeof(nums[i][2]), "%d", o[i].app_left);
        a[6] = o[i].client_id;
        a[7] = o[i].down ? "1" : "0";
        a[8] = nums[i][2];
    }
    if ((rc = store_script(st, SCRIPT_DELIVERY_DONE, 3, (int)argc, argv,
                           &r)) < 0)
        goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * n) {
        rc = GH_EPROTO;
        goto out;
    }
    for (i = 0; i < n; i++) {
        const redisReply *res = r->element[2 * i], *cb = r->element[2 * i + 1];

        o[i].result = res->type == REDIS_REPLY_INTEGER ? (int)res->integer
                                                       : GH_EPROTO;
        o[i].circuit = cb->type == REDIS_REPLY_INTEGER ? (int)cb->integer : 0;
    }
    rc = 0;
out:
    freeReplyObject(r);
    free(argv);
    free(nums);
    return rc;
}

int
store_delivery_counts(struct store *st, long long *pending,
                      long long *failed)
{
    long long queued, parked;
    int rc;

    if ((rc = store_key_integer(st, STORE_IDEMPOTENT, KEY_DELIVERY_QUEUE, NULL,
                                "ZCARD", &queued)) < 0 ||
        (rc = store_delivery_parked(st, &parked)) < 0 ||
        (rc = store_key_integer(st, STORE_IDEMPOTENT, KEY_DELIVERY_FAILED, NULL,
                                "ZCARD", failed)) < 0)
        return rc;
    *pending = queued + parked;
    return 0;
}

int
store_delivery_parked(struct store *st, long long *count)
{
    char kp[STORE_KEY_MAX], key[STORE_KEY_MAX];
    redisReply *r = NULL, *z = NULL;
    long long total = 0;
    size_t i;
    int rc;

    if ((rc = store_key_name(st, KEY_DELIVERY_PARKED_APPS, NULL, kp,
                             sizeof(kp))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "SMEMBERS %s", kp)) < 0)
        return rc;
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        if (r->element[i]->type != REDIS_REPLY_STRING ||
            store_key_name(st, KEY_DELIVERY_PARKED, r->element[i]->str, key,
                           sizeof(key)) < 0)
            continue;
        if ((rc = store_command(st, STORE_IDEMPOTENT, &z, "ZCARD %s", key)) <
            0)
            goto out;
        total += store_reply_ll(z);
        freeReplyObject(z);
    }
    *count = total;
    rc = 0;
out:
    freeReplyObject(r);
    return rc;
}

int
store_delivery_circuits(struct store *st,
                        void (*fn)(void *arg, const char *client_id,
                                   int open),
                        void *arg)
{
    redisReply *r = NULL;
    size_t i;
    int rc;

    if ((rc = store_hgetall(st, KEY_DELIVERY_CIRCUITS, NULL, &r)) < 0)
        return rc;
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];

        /* o:{client_id}: when the next trial may go, 0 once closed. */
        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
            strncmp(f->str, "o:", 2) == 0)
            fn(arg, f->str + 2, strtod(v->str, NULL) > 0);
    }
    freeReplyObject(r);
    return 0;
}

int
store_delivery_state(struct store *st, const char *id, char state[16],
                     int *attempts)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_DELIVERY, id, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "HMGET %s st n", key)) <
        0)
        return rc;
    if (store_reply_str(store_reply_at(r, 0)) == NULL) {
        freeReplyObject(r);
        return GH_ENOTFOUND;
    }
    snprintf(state, 16, "%s", r->element[0]->str);
    *attempts = (int)store_reply_ll(store_reply_at(r, 1));
    freeReplyObject(r);
    return 0;
}
