/* SPDX-License-Identifier: MIT */
/* The maintenance shutdown's record (maint) and what its status counts:
 * each app's deliveries pending and failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "store/store_internal.h"

static const struct store_field maintenance_fields[] = {
    STORE_FIELD("st", STORE_FIELD_BUF, struct maintenance_record, state),
    STORE_FIELD("msg", STORE_FIELD_BUF, struct maintenance_record, message),
    STORE_FIELD("at", STORE_FIELD_NUM, struct maintenance_record, at),
    STORE_FIELD("by", STORE_FIELD_BUF, struct maintenance_record, actor),
    STORE_FIELD("set", STORE_FIELD_NUM, struct maintenance_record, set),
    STORE_FIELD("swept", STORE_FIELD_BUF, struct maintenance_record, swept),
};

int
store_maintenance_get(struct store *st, struct maintenance_record *out)
{
    struct maintenance_record m;
    redisReply *r = NULL;
    int rc;

    if ((rc = store_hgetall(st, KEY_MAINTENANCE, NULL, &r)) < 0)
        return rc;
    memset(&m, 0, sizeof(m));
    if ((rc = STORE_DECODE(r, maintenance_fields, &m)) == 0)
        *out = m;
    freeReplyObject(r);
    return rc;
}

int
store_maintenance_start(struct store *st, const char *state,
                        const char *message, int64_t at, const char *actor,
                        int64_t now)
{
    char key[STORE_KEY_MAX], sat[24], snow[24];
    const char *argv[] = {key, state, message, sat, actor, snow};
    int rc;

    if ((rc = store_key_name(st, KEY_MAINTENANCE, NULL, key, sizeof(key))) <
        0)
        return rc;
    snprintf(sat, sizeof(sat), "%lld", (long long)at);
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    return store_script(st, SCRIPT_MAINTENANCE_START, 1, NELEM(argv), argv,
                        NULL);
}

int
store_maintenance_end(struct store *st)
{
    long long v = 0;
    int rc;

    if ((rc = store_key_integer(st, 0, KEY_MAINTENANCE, NULL, "DEL", &v)) < 0)
        return rc;
    return v > 0;
}

static int
claim_call(struct store *st, const char *op, int64_t now, const char *owner,
           const char *previous)
{
    char key[STORE_KEY_MAX], snow[24];
    const char *argv[] = {key, op, snow, owner, previous};
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_MAINTENANCE, NULL, key, sizeof(key))) <
        0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    if ((rc = store_script(st, SCRIPT_MAINTENANCE_CLAIM, 1, NELEM(argv), argv,
                           &r)) < 0)
        return rc;
    rc = store_reply_ll(r) == 1;
    freeReplyObject(r);
    return rc;
}

int
store_maintenance_claim(struct store *st, int64_t now, const char *owner)
{
    return claim_call(st, "claim", now, owner, "");
}

int
store_maintenance_release(struct store *st, const char *owner)
{
    return claim_call(st, "release", 0, owner, "");
}

int
store_maintenance_claim_again(struct store *st, const char *previous,
                              const char *owner)
{
    return claim_call(st, "again", 0, owner, previous);
}

/* The entry of client_id in *a, added if new. NULL when out of memory. */
static struct store_app_deliveries *
app_entry(struct store_app_deliveries **a, size_t *n, size_t *cap,
          const char *client_id)
{
    struct store_app_deliveries *grown;
    size_t i;

    for (i = 0; i < *n; i++)
        if (strcmp((*a)[i].client_id, client_id) == 0)
            return &(*a)[i];
    if (*n == *cap) {
        size_t ncap = *cap != 0 ? *cap * 2 : 8;
        if ((grown = realloc(*a, ncap * sizeof(**a))) == NULL)
            return NULL;
        *a = grown;
        *cap = ncap;
    }
    memset(&(*a)[*n], 0, sizeof(**a));
    if (((*a)[*n].client_id = strdup(client_id)) == NULL)
        return NULL;
    return &(*a)[(*n)++];
}

/* Counts the members of an array reply, each a delivery id
 * "sid:client_id", into failed or pending of its app. */
static int
count_ids(const redisReply *r, int failed, struct store_app_deliveries **a,
          size_t *n, size_t *cap)
{
    struct store_app_deliveries *e;
    const char *colon;
    size_t i;

    if (r->type != REDIS_REPLY_ARRAY)
        return GH_EPROTO;
    for (i = 0; i < r->elements; i++) {
        const char *id = store_reply_str(r->element[i]);
        if (id == NULL || (colon = strchr(id, ':')) == NULL)
            continue;
        if ((e = app_entry(a, n, cap, colon + 1)) == NULL)
            return GH_ENOMEM;
        if (failed)
            e->failed++;
        else
            e->pending++;
    }
    return 0;
}

int
store_deliveries_by_app(struct store *st, int64_t since,
                        struct store_app_deliveries **ret, size_t *n)
{
    char kq[STORE_KEY_MAX], kf[STORE_KEY_MAX], kp[STORE_KEY_MAX],
        key[STORE_KEY_MAX];
    struct store_app_deliveries *a = NULL, *e;
    size_t na = 0, cap = 0, i;
    redisReply *r = NULL, *z = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_DELIVERY_QUEUE, NULL, kq, sizeof(kq))) <
            0 ||
        (rc = store_key_name(st, KEY_DELIVERY_FAILED, NULL, kf, sizeof(kf))) <
            0 ||
        (rc = store_key_name(st, KEY_DELIVERY_PARKED_APPS, NULL, kp,
                             sizeof(kp))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "ZRANGE %s 0 -1", kq)) <
        0)
        goto out;
    if ((rc = count_ids(r, 0, &a, &na, &cap)) < 0)
        goto out;
    freeReplyObject(r);
    r = NULL;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r,
                            "ZRANGEBYSCORE %s %lld +inf", kf,
                            (long long)since)) < 0)
        goto out;
    if ((rc = count_ids(r, 1, &a, &na, &cap)) < 0)
        goto out;
    freeReplyObject(r);
    r = NULL;
    /* Parked deliveries have left dq until their app has room. */
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "SMEMBERS %s", kp)) < 0)
        goto out;
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const char *app = store_reply_str(r->element[i]);
        if (app == NULL ||
            store_key_name(st, KEY_DELIVERY_PARKED, app, key, sizeof(key)) < 0)
            continue;
        if ((rc = store_command(st, STORE_IDEMPOTENT, &z, "ZCARD %s", key)) <
            0)
            goto out;
        if (store_reply_ll(z) > 0) {
            if ((e = app_entry(&a, &na, &cap, app)) == NULL) {
                rc = GH_ENOMEM;
                goto out;
            }
            e->pending += store_reply_ll(z);
        }
        freeReplyObject(z);
        z = NULL;
    }
    *ret = a;
    *n = na;
    a = NULL;
    na = 0;
    rc = 0;
out:
    freeReplyObject(r);
    freeReplyObject(z);
    store_app_deliveries_free(a, na);
    return rc;
}

void
store_app_deliveries_free(struct store_app_deliveries *a, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(a[i].client_id);
    free(a);
}
