/* SPDX-License-Identifier: MIT */
/* The user keys: user:{sub} (hash), uname:{lower-username} (string -> sub)
 * and users (zset sub -> created). Creation spans all three, so it is the
 * user_create script; every later change touches user:{sub} alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/store/records.h"
#include "store/store_internal.h"

/*
 * The user hash, fields kept short so Redis stores it as a listpack:
 * u username (as given), e email, n name, h PHC password hash,
 * d "0"/"1" disabled, c created, m updated (seconds since the epoch).
 * Written only when set: gn given_name, fn family_name, lc locale,
 * zi zoneinfo, ev "1" email verified.
 */

int
store_user_create(struct store *st, const struct user *u)
{
    char kname[STORE_KEY_MAX], kuser[STORE_KEY_MAX], kusers[STORE_KEY_MAX];
    char lower[USERNAME_MAX + 1], now[24];
    /* The optional fields, written only when set. */
    const struct {
        const char *field;
        const char *value;
    } opt[] = {
        {"gn", u->given_name},
        {"fn", u->family_name},
        {"lc", u->locale},
        {"zi", u->zoneinfo},
        {"ev", u->email_verified ? "1" : NULL},
    };
    const char *argv[9 + 2 * sizeof(opt) / sizeof(opt[0])];
    redisReply *r = NULL;
    size_t i;
    int rc, argc;

    /* users.c has checked the username: ASCII, at most USERNAME_MAX. */
    for (i = 0; u->username[i] != '\0' && i < USERNAME_MAX; i++)
        lower[i] = (char)(u->username[i] >= 'A' && u->username[i] <= 'Z'
                              ? u->username[i] - 'A' + 'a'
                              : u->username[i]);
    lower[i] = '\0';
    if ((rc = store_key_name(st, KEY_USERNAME, lower, kname, sizeof(kname))) <
            0 ||
        (rc = store_key_name(st, KEY_USER, u->sub, kuser, sizeof(kuser))) < 0 ||
        (rc = store_key_name(st, KEY_USERS, NULL, kusers, sizeof(kusers))) < 0)
        return rc;
    snprintf(now, sizeof(now), "%lld", (long long)u->created);
    argv[0] = kname;
    argv[1] = kuser;
    argv[2] = kusers;
    argv[3] = u->sub;
    argv[4] = u->username;
    argv[5] = u->email != NULL ? u->email : "";
    argv[6] = u->name != NULL ? u->name : "";
    argv[7] = u->hash;
    argv[8] = now;
    argc = 9;
    for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
        if (opt[i].value == NULL || opt[i].value[0] == '\0')
            continue;
        argv[argc++] = opt[i].field;
        argv[argc++] = opt[i].value;
    }
    if ((rc = store_script(st, SCRIPT_USER_CREATE, 3, argc, argv, &r)) < 0)
        goto out;
    if (r->type != REDIS_REPLY_INTEGER) {
        rc = GH_EPROTO;
        goto out;
    }
    rc = r->integer == 1 ? 0 : GH_EEXISTS;
out:
    freeReplyObject(r);
    return rc;
}

/* user:{sub} as a struct user; the password hash is "h". */
static const struct store_field user_fields[] = {
    STORE_FIELD("u", STORE_FIELD_STR, struct user, username),
    STORE_FIELD_OR("e", struct user, email, ""),
    STORE_FIELD_OR("n", struct user, name, ""),
    STORE_FIELD_OR("gn", struct user, given_name, ""),
    STORE_FIELD_OR("fn", struct user, family_name, ""),
    STORE_FIELD_OR("lc", struct user, locale, ""),
    STORE_FIELD_OR("zi", struct user, zoneinfo, ""),
    STORE_FIELD("ev", STORE_FIELD_FLAG, struct user, email_verified),
    STORE_FIELD("h", STORE_FIELD_STR, struct user, hash),
    STORE_FIELD("d", STORE_FIELD_FLAG_CLOSED, struct user, disabled),
    STORE_FIELD("c", STORE_FIELD_NUM, struct user, created),
    STORE_FIELD("m", STORE_FIELD_NUM, struct user, updated),
};

int
store_user_parse(const redisReply *r, const char *sub, int with_hash,
                 struct user **ret)
{
    struct user *u;
    int rc;

    if ((u = calloc(1, sizeof(*u))) == NULL)
        return GH_ENOMEM;
    snprintf(u->sub, sizeof(u->sub), "%s", sub);
    if ((rc = STORE_DECODE(r, user_fields, u)) < 0)
        goto out;
    /* A record without a username or hash was not written by
     * user_create: refuse it rather than let it sign in. */
    if (u->username == NULL || (with_hash && u->hash == NULL)) {
        rc = GH_EPROTO;
        goto out;
    }
    *ret = u;
    u = NULL;
out:
    user_free(u);
    return rc;
}

int
store_user_get(struct store *st, const char *sub, struct user **ret)
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_hgetall(st, KEY_USER, sub, &r)) < 0)
        return rc;
    rc = store_user_parse(r, sub, 1, ret);
    freeReplyObject(r);
    return rc;
}

int
store_user_find_sub(struct store *st, const char *lower_username,
                    char sub_out[37])
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_command(st, STORE_IDEMPOTENT, &r, KEY_USERNAME,
                                lower_username, "GET")) < 0)
        return rc;
    if (r->type != REDIS_REPLY_STRING) {
        rc = GH_ENOTFOUND;
    } else if (r->len != 36) {
        rc = GH_EPROTO;
    } else {
        memcpy(sub_out, r->str, 37);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int
store_user_set(struct store *st, const char *sub, const char *field,
               const char *value, int64_t now)
{
    char key[STORE_KEY_MAX], snow[24];
    int rc;

    if ((rc = store_key_name(st, KEY_USER, sub, key, sizeof(key))) < 0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    /* One HSET: the field and the updated time change together. */
    return store_command_ack(st, 0, "HSET %s %s %s m %s", key, field, value,
                             snow);
}

int
store_user_list(struct store *st, char ***subs, size_t *n)
{
    char key[STORE_KEY_MAX];
    int rc;

    if ((rc = store_key_name(st, KEY_USERS, NULL, key, sizeof(key))) < 0)
        return rc;
    /* Scored by creation time, so ZRANGE is oldest first. */
    return store_command_strings(st, subs, n, "ZRANGE %s 0 -1", key);
}
