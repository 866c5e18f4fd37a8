/* SPDX-License-Identifier: MIT */
/* Sign-in state: pending authorization requests (areq:{id}), CSRF tokens
 * (csrf:{token}), the lockout's attempt counters (lfail:{who}) and the MAC
 * key for browser-carried state (bkey). */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/error.h"
#include "store_internal.h"

int
store_auth_request_put(struct store *st, const char *id, const char *json,
                       int ttl_s)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_AUTH_REQUEST, id, key, sizeof(key))) < 0)
        return rc;
    rc = store_command(st, 0, &r, "SET %s %s EX %d", key, json, ttl_s);
    freeReplyObject(r);
    return rc;
}

int
store_auth_request_get(struct store *st, const char *id, char **json)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_AUTH_REQUEST, id, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "GET %s", key)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_STRING) {
        rc = GH_ENOTFOUND;
    } else if ((*json = strdup(r->str)) == NULL) {
        rc = GH_ENOMEM;
    }
    freeReplyObject(r);
    return rc;
}

int
store_auth_request_del(struct store *st, const char *id)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_AUTH_REQUEST, id, key, sizeof(key))) < 0)
        return rc;
    rc = store_command(st, 0, &r, "DEL %s", key);
    freeReplyObject(r);
    return rc;
}

int
store_csrf_put(struct store *st, const char *token, const char *purpose,
               int ttl_s)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_CSRF, token, key, sizeof(key))) < 0)
        return rc;
    rc = store_command(st, 0, &r, "SET %s %s EX %d", key, purpose, ttl_s);
    freeReplyObject(r);
    return rc;
}

int
store_csrf_spend(struct store *st, const char *token, const char *purpose)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_CSRF, token, key, sizeof(key))) < 0)
        return GH_EDENIED;
    /* GETDEL: a token works once, whoever presents it first. */
    if ((rc = store_command(st, 0, &r, "GETDEL %s", key)) < 0)
        return rc;
    rc = r->type == REDIS_REPLY_STRING && strcmp(r->str, purpose) == 0
             ? 0
             : GH_EDENIED;
    freeReplyObject(r);
    return rc;
}

/* The lfail:{who} keys of n buckets into keys[] (each STORE_KEY_MAX). */
static int
bucket_keys(struct store *st, const char *const *who, int n,
            char keys[][STORE_KEY_MAX])
{
    int i, rc;

    for (i = 0; i < n; i++)
        if ((rc = store_key_name(st, KEY_LOGIN_FAILURES, who[i], keys[i],
                                 STORE_KEY_MAX)) < 0)
            return rc;
    return 0;
}

int
store_login_reserve(struct store *st, const char *const *who, int n,
                    int max_failures, int window_s, long *retry_s)
{
    char keys[STORE_LOGIN_BUCKETS_MAX][STORE_KEY_MAX], max[16], win[16];
    const char *argv[STORE_LOGIN_BUCKETS_MAX + 2];
    redisReply *r = NULL;
    int i, rc;

    if (n < 1 || n > STORE_LOGIN_BUCKETS_MAX)
        return GH_EINVAL;
    if ((rc = bucket_keys(st, who, n, keys)) < 0)
        return rc;
    for (i = 0; i < n; i++)
        argv[i] = keys[i];
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
    redisReply *r = NULL;
    int i, rc;

    if (n < 1 || n > STORE_LOGIN_BUCKETS_MAX)
        return GH_EINVAL;
    if ((rc = bucket_keys(st, who, n, keys)) < 0)
        return rc;
    for (i = 0; i < n; i++)
        argv[i] = keys[i];
    snprintf(nclear, sizeof(nclear), "%d", clear);
    argv[n] = nclear;
    rc = store_script(st, SCRIPT_LOGIN_REFUND, n, n + 1, argv, &r);
    freeReplyObject(r);
    return rc;
}

int
store_browser_key(struct store *st, const char *candidate, char **ret)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    char *v;
    int rc;

    if ((rc = store_key_name(st, KEY_BROWSER_KEY, NULL, key, sizeof(key))) <
        0)
        return rc;
    /* NX: the first instance's key wins; everyone then reads that one. */
    if ((rc = store_command(st, 0, &r, "SET %s %s NX", key, candidate)) < 0)
        return rc;
    freeReplyObject(r);
    r = NULL;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "GET %s", key)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_STRING) {
        rc = GH_EPROTO;
    } else if ((v = strdup(r->str)) == NULL) {
        rc = GH_ENOMEM;
    } else {
        *ret = v;
    }
    freeReplyObject(r);
    return rc;
}
