/* SPDX-License-Identifier: MIT */
/* Reading Redis replies: what an error reply means, typed looks at a
 * reply, and one table-driven decoder for hashes (HGETALL, a stream
 * entry's fields), shared by every store_*.c. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/util.h"
#include "store/store_internal.h"

int
store_reply_error_is(const redisReply *r, const char *code)
{
    size_t n = strlen(code);

    return r != NULL && r->type == REDIS_REPLY_ERROR &&
           strncmp(r->str, code, n) == 0 &&
           (r->str[n] == ' ' || r->str[n] == '\0');
}

/*
 * OOM is maxmemory reached with noeviction: nothing was written, and
 * callers must not take it for anything but "unavailable" (a logout said
 * "signed out" on it). MISCONF (a failed snapshot with
 * stop-writes-on-bgsave-error) and NOREPLICAS (min-replicas-to-write not
 * met) refuse writes the same way; READONLY is a primary that became a
 * replica. Only script_call sees NOSCRIPT (the script cache lost a
 * script); anything else is a bug.
 */
int
store_reply_error(const redisReply *r)
{
    static const char *const unavailable[] = {
        "LOADING", "BUSY",    "MASTERDOWN", "NOAUTH",    "TRYAGAIN",
        "OOM",     "MISCONF", "NOREPLICAS", "READONLY"};
    size_t i;

    if (r == NULL || r->type != REDIS_REPLY_ERROR)
        return 0;
    if (store_reply_error_is(r, "NOSCRIPT"))
        return GH_ENOTFOUND;
    log_debug("redis_error reply=\"%s\"", r->str);
    for (i = 0; i < NELEM(unavailable); i++) {
        if (store_reply_error_is(r, unavailable[i]))
            return GH_EREDIS;
    }
    return GH_EPROTO;
}

const char *
store_reply_str(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

const redisReply *
store_reply_at(const redisReply *r, size_t i)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return NULL;
    return r->element[i];
}

char *
store_reply_dup(const redisReply *r)
{
    if (store_reply_str(r) == NULL)
        return strdup("");
    return strndup(r->str, r->len);
}

long long
store_reply_ll(const redisReply *r)
{
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

void
store_reply_strings_free(char **v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int
store_reply_strings(const redisReply *r, size_t step, char ***ret, size_t *n)
{
    char **v;
    size_t i, count;

    if (r->type != REDIS_REPLY_ARRAY)
        return GH_EPROTO;
    count = r->elements / step;
    if ((v = calloc(count + 1, sizeof(*v))) == NULL)
        return GH_ENOMEM;
    for (i = 0; i < count; i++) {
        if ((v[i] = store_reply_dup(r->element[i * step])) == NULL) {
            store_reply_strings_free(v, i);
            return GH_ENOMEM;
        }
    }
    *ret = v;
    *n = count;
    return 0;
}

/* Stores v into an integer member of size bytes: int64_t or long long,
 * int, or bool. GH_EINVAL for any other size (a table's mistake). */
static int
put_int(char *p, size_t size, long long v)
{
    int64_t wide = v;
    int32_t narrow = (int32_t)v;
    bool flag = v != 0;

    if (size == sizeof(wide))
        memcpy(p, &wide, size);
    else if (size == sizeof(narrow))
        memcpy(p, &narrow, size);
    else if (size == sizeof(flag))
        memcpy(p, &flag, size);
    else
        return GH_EINVAL;
    return 0;
}

/* Stores one field's value where f says: 0, GH_ENOMEM or GH_EINVAL. */
static int
field_set(const struct store_field *f, const char *v, char *base)
{
    char *p = base + f->offset, *s;

    switch (f->type) {
    case STORE_FIELD_STR:
        /* The first wins: a stream entry may repeat a field. */
        memcpy(&s, p, sizeof(s));
        if (s != NULL)
            return 0;
        if ((s = strdup(v)) == NULL)
            return GH_ENOMEM;
        memcpy(p, &s, sizeof(s));
        return 0;
    case STORE_FIELD_BUF:
        snprintf(p, f->size, "%s", v);
        return 0;
    case STORE_FIELD_NUM:
        return put_int(p, f->size, strtoll(v, NULL, 10));
    case STORE_FIELD_FLAG:
        return put_int(p, f->size, strcmp(v, "1") == 0);
    case STORE_FIELD_FLAG_CLOSED:
        return put_int(p, f->size, strcmp(v, "0") != 0);
    }
    return GH_EINVAL;
}

/* The table entry named name, or NULL. */
static const struct store_field *
field_find(const struct store_field *fields, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    }
    return NULL;
}

int
store_reply_decode(const redisReply *r, const struct store_field *fields,
                   size_t n, void *base)
{
    const struct store_field *f;
    const redisReply *k, *v;
    char *s;
    size_t i;
    int rc;

    if (r->type == REDIS_REPLY_ERROR)
        return store_reply_error(r);
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
        return GH_EPROTO;
    if (r->elements == 0)
        return GH_ENOTFOUND;
    for (i = 0; i < r->elements; i += 2) {
        k = r->element[i];
        v = r->element[i + 1];
        /* A nested error (a script's pcall, EXEC) is still Redis's. */
        if (k->type == REDIS_REPLY_ERROR || v->type == REDIS_REPLY_ERROR)
            return store_reply_error(k->type == REDIS_REPLY_ERROR ? k : v);
        if (k->type != REDIS_REPLY_STRING)
            return GH_EPROTO;
        if ((f = field_find(fields, n, k->str)) == NULL)
            continue;
        if (v->type != REDIS_REPLY_STRING)
            return GH_EPROTO;
        if ((rc = field_set(f, v->str, base)) < 0)
            return rc;
    }
    for (i = 0; i < n; i++) {
        if (fields[i].type != STORE_FIELD_STR || fields[i].absent == NULL)
            continue;
        memcpy(&s, (char *)base + fields[i].offset, sizeof(s));
        if (s == NULL && (rc = field_set(&fields[i], fields[i].absent,
                                         base)) < 0)
            return rc;
    }
    return 0;
}
