/* SPDX-License-Identifier: MIT */
/* The back-channel delivery keys: dq (due times and leases), dl:{id} (one
 * notification and its attempts), dfail. Claims and outcomes are Lua
 * scripts so two instances never see a half-made change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/error.h"
#include "store_internal.h"

static char *
dup_str(const redisReply *r)
{
    return strdup(r->type == REDIS_REPLY_STRING && r->str ? r->str : "");
}

void
store_delivery_claims_free(struct delivery_claim *c, size_t n)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < n; i++) {
        free(c[i].id);
        free(c[i].client_id);
        free(c[i].uri);
        free(c[i].sid);
        free(c[i].sub);
        free(c[i].token);
    }
    free(c);
}

int
store_delivery_release(struct store *st, double now, const char *const *ids,
                       size_t n)
{
    char kq[STORE_KEY_MAX], snow[24];
    const char **argv;
    redisReply *r = NULL;
    size_t i, argc = 3 + 2 * n;
    int rc;

    if (n == 0)
        return 0;
    if ((rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
        0)
        return rc;
    if ((argv = calloc(argc, sizeof(*argv))) == NULL)
        return GH_ENOMEM;
    snprintf(snow, sizeof(snow), "%.3f", now);
    argv[0] = "ZADD";
    argv[1] = kq;
    argv[2] = "XX"; /* one delivered meanwhile stays gone */
    for (i = 0; i < n; i++) {
        argv[3 + 2 * i] = snow;
        argv[4 + 2 * i] = ids[i];
    }
    rc = store_command_argv(st, 0, (int)argc, argv, NULL, &r);
    freeReplyObject(r);
    free(argv);
    return rc;
}

int
store_delivery_claim(struct store *st, double now, int lease_s, int max,
                     struct delivery_claim **ret, size_t *n)
{
    char kq[STORE_KEY_MAX], snow[24], slease[16], smax[16];
    const char *argv[5];
    struct delivery_claim *c = NULL;
    redisReply *r = NULL;
    size_t i, count;
    int rc;

    if ((rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
        0)
        return rc;
    snprintf(snow, sizeof(snow), "%.3f", now);
    snprintf(slease, sizeof(slease), "%d", lease_s);
    snprintf(smax, sizeof(smax), "%d", max);
    argv[0] = kq;
    argv[1] = store_prefix(st);
    argv[2] = snow;
    argv[3] = slease;
    argv[4] = smax;
    if ((rc = store_script(st, SCRIPT_DELIVERY_CLAIM, 1, 5, argv, &r)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 8 != 0) {
        rc = GH_EPROTO;
        goto out;
    }
    count = r->elements / 8;
    if ((c = calloc(count + 1, sizeof(*c))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (i = 0; i < count; i++) {
        redisReply **e = r->element + i * 8;
        c[i].id = dup_str(e[0]);
        c[i].client_id = dup_str(e[1]);
        c[i].uri = dup_str(e[2]);
        c[i].sid = dup_str(e[3]);
        c[i].sub = dup_str(e[4]);
        c[i].attempts = e[5]->str ? atoi(e[5]->str) : 0;
        c[i].token = dup_str(e[6]);
        c[i].token_exp = e[7]->str ? strtoll(e[7]->str, NULL, 10) : 0;
    }
    *ret = c;
    *n = count;
    c = NULL;
    rc = 0;
out:
    freeReplyObject(r);
    return rc;
}

int
store_delivery_done(struct store *st, int64_t now, int max_attempts,
                    struct delivery_outcome *o, size_t n)
{
    char kq[STORE_KEY_MAX], kf[STORE_KEY_MAX], snow[24], smax[16];
    char (*nums)[2][32] = NULL;
    const char **argv = NULL;
    redisReply *r = NULL;
    size_t i, argc = 5 + 6 * n;
    int rc;

    if (n == 0)
        return 0;
    if ((rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
            0 ||
        (rc = store_key_name(st, KEY_DELIVERY_FAILED, NULL, kf, sizeof(kf))) <
            0)
        return rc;
    if ((argv = calloc(argc, sizeof(*argv))) == NULL ||
        (nums = calloc(n, sizeof(*nums))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    snprintf(smax, sizeof(smax), "%d", max_attempts);
    argv[0] = kq;
    argv[1] = kf;
    argv[2] = store_prefix(st);
    argv[3] = snow;
    argv[4] = smax;
    for (i = 0; i < n; i++) {
        const char **a = argv + 5 + 6 * i;
        snprintf(nums[i][0], sizeof(nums[i][0]), "%.3f", o[i].next_due);
        snprintf(nums[i][1], sizeof(nums[i][1]), "%lld",
                 (long long)o[i].token_exp);
        a[0] = o[i].id;
        a[1] = o[i].outcome;
        a[2] = o[i].delivered ? "1" : "0";
        a[3] = nums[i][0];
        a[4] = o[i].token != NULL ? o[i].token : "";
        a[5] = nums[i][1];
    }
    if ((rc = store_script(st, SCRIPT_DELIVERY_DONE, 2, (int)argc, argv,
                           &r)) < 0)
        goto out;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        rc = GH_EPROTO;
        goto out;
    }
    for (i = 0; i < n; i++)
        o[i].result = r->element[i]->type == REDIS_REPLY_INTEGER
                          ? (int)r->element[i]->integer
                          : GH_EPROTO;
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
    char kq[STORE_KEY_MAX], kf[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
            0 ||
        (rc = store_key_name(st, KEY_DELIVERY_FAILED, NULL, kf, sizeof(kf))) <
            0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "ZCARD %s", kq)) < 0)
        return rc;
    *pending = r->integer;
    freeReplyObject(r);
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "ZCARD %s", kf)) < 0)
        return rc;
    *failed = r->integer;
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
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return GH_ENOTFOUND;
    }
    snprintf(state, 16, "%s", r->element[0]->str);
    *attempts = r->element[1]->str ? atoi(r->element[1]->str) : 0;
    freeReplyObject(r);
    return 0;
}
