/* SPDX-License-Identifier: MIT */
/* Sign-in state: the lockout's attempt counters (lfail:{who}). What a
 * browser carries before it signs in is sealed (seal.c), not stored; the
 * one MAC key for it and for device cookies lives with the connections in
 * store.c (store_mac_key). */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "store/store_internal.h"


/* The lfail:{who} keys of n buckets into keys[] (each STORE_KEY_MAX), and
 * argv[0..n) pointing at them: a script's KEYS. GH_EINVAL for a count out
 * of range. */
static int
bucket_keys(struct store *st, const char *const *who, int n,
            char keys[][STORE_KEY_MAX], const char **argv)
{
    int i, rc;

    if (n < 1 || n > STORE_LOGIN_BUCKETS_MAX)
        return GH_EINVAL;
    for (i = 0; i < n; i++) {
        if ((rc = store_key_name(st, KEY_LOGIN_FAILURES, who[i], keys[i],
                                 STORE_KEY_MAX)) < 0)
            return rc;
        argv[i] = keys[i];
    }
    return 0;
}

int
store_login_reserve(struct store *st, const char *const *who, int n,
                    int max_failures, int window_s, long *retry_s)
{
    char keys[STORE_LOGIN_BUCKETS_MAX][STORE_KEY_MAX], max[16], win[16];
    const char *argv[STORE_LOGIN_BUCKETS_MAX + 2];
    redisReply *r = NULL;
    int rc;

    if ((rc = bucket_keys(st, who, n, keys, argv)) < 0)
        return rc;
    snprintf(max, sizeof(max), "%d", max_failures);
    snprintf(win, sizeof(win), "%d", window_s);
    argv[n] = max;
    argv[n + 1] = win;
    if ((rc = store_script(st, SCRIPT_LOGIN_RESERVE, n, n + 2, argv, &r)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_INTEGER) {
        rc = GH_EPROTO;
    } else if (r->integer > 0) {
        *retry_s = (long)r->integer;
        rc = GH_EDENIED;
    }
    freeReplyObject(r);
    return rc;
}

int
store_login_refund(struct store *st, const char *const *who, int n,
                   int clear)
{
    char keys[STORE_LOGIN_BUCKETS_MAX][STORE_KEY_MAX], nclear[16];
    const char *argv[STORE_LOGIN_BUCKETS_MAX + 1];
    int rc;

    if ((rc = bucket_keys(st, who, n, keys, argv)) < 0)
        return rc;
    snprintf(nclear, sizeof(nclear), "%d", clear);
    argv[n] = nclear;
    return store_script(st, SCRIPT_LOGIN_REFUND, n, n + 1, argv, NULL);
}

