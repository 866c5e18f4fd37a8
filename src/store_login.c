/* SPDX-License-Identifier: MIT */
/* Sign-in state: failed-login counters (lfail:{who}). What a browser
 * carries before it signs in is sealed (seal.c), not stored; its key lives
 * with the connections in store.c (store_mac_key). */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/error.h"
#include "store_internal.h"

int
store_login_failures(struct store *st, const char *who, long *count,
                     long *ttl_s)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_LOGIN_FAILURES, who, key, sizeof(key))) <
        0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "GET %s", key)) < 0)
        return rc;
    *count = r->type == REDIS_REPLY_STRING ? strtol(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    r = NULL;
    *ttl_s = 0;
    if (*count > 0 &&
        store_command(st, STORE_IDEMPOTENT, &r, "TTL %s", key) == 0) {
        *ttl_s = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : 0;
        freeReplyObject(r);
    }
    return 0;
}

int
store_login_failed(struct store *st, const char *who, int window_s)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_LOGIN_FAILURES, who, key, sizeof(key))) <
        0)
        return rc;
    if ((rc = store_command(st, 0, &r, "INCR %s", key)) < 0)
        return rc;
    /* The first failure opens the window; later ones do not extend it,
     * so a lockout always ends window_s after it began. */
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        freeReplyObject(r);
        r = NULL;
        rc = store_command(st, 0, &r, "EXPIRE %s %d", key, window_s);
    }
    freeReplyObject(r);
    return rc;
}

int
store_login_reset(struct store *st, const char *who)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_LOGIN_FAILURES, who, key, sizeof(key))) <
        0)
        return rc;
    rc = store_command(st, 0, &r, "DEL %s", key);
    freeReplyObject(r);
    return rc;
}
