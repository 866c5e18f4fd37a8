/* SPDX-License-Identifier: MIT */
/* Passkeys: pk:{sub}, one hash per user, and pkid:{credential id} -> sub
 * (schema.def). What depends on what is there is a script (passkey_add,
 * passkey_use, passkey_remove): a challenge used once, a counter that only
 * grows, a credential owned by one user. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "store/store_internal.h"

void
store_passkey_record_clear(struct passkey_record *p)
{
    if (p == NULL)
        return;
    free(p->id);
    free(p->pubkey);
    free(p->name);
    memset(p, 0, sizeof(*p));
}

void
store_passkeys_free(struct passkey_record *p, size_t n)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < n; i++)
        store_passkey_record_clear(&p[i]);
    free(p);
}

/* "alg created key name" into p (id and counter set by the caller). */
static int
record_parse(const char *v, struct passkey_record *p)
{
    long long alg, created;
    int off = 0;
    const char *key, *sp;

    if (v == NULL ||
        sscanf(v, "%lld %lld %n", &alg, &created, &off) != 2 || off == 0)
        return GH_EPROTO;
    key = v + off;
    if ((sp = strchr(key, ' ')) == NULL || sp == key)
        return GH_EPROTO;
    p->alg = (int)alg;
    p->created = created;
    p->pubkey = xstrndup(key, (size_t)(sp - key));
    p->name = xstrdup(sp + 1);
    return 0;
}

static int
by_created(const void *a, const void *b)
{
    const struct passkey_record *x = a, *y = b;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The field {prefix}:{id} (prefix one letter) of the hash reply r, or
 * NULL. */
static const char *
field_of(const redisReply *r, char prefix, const char *id)
{
    size_t i;
    const char *name;

    for (i = 0; i + 1 < r->elements; i += 2) {
        name = store_reply_str(r->element[i]);
        if (name != NULL && name[0] == prefix && name[1] == ':' &&
            strcmp(name + 2, id) == 0)
            return store_reply_str(r->element[i + 1]);
    }
    return NULL;
}

/* The counter field c:{id} of the hash reply r. */
static int
counter_of(const redisReply *r, const char *id, uint32_t *out)
{
    size_t i;
    const char *name, *v;

    for (i = 0; i + 1 < r->elements; i += 2) {
        name = store_reply_str(r->element[i]);
        if (name != NULL && strncmp(name, "c:", 2) == 0 &&
            strcmp(name + 2, id) == 0) {
            v = store_reply_str(r->element[i + 1]);
            if (v == NULL)
                return GH_EPROTO;
            *out = (uint32_t)strtoull(v, NULL, 10);
            return 0;
        }
    }
    return GH_EPROTO;
}

int
store_passkeys_list(struct store *st, const char *sub,
                    struct passkey_record **ret, size_t *n)
{
    struct passkey_record *v = NULL;
    redisReply *r = NULL;
    size_t i, k = 0;
    const char *name, *last;
    int rc;

    if ((rc = store_hgetall(st, KEY_PASSKEYS, sub, &r)) < 0)
        return rc;
    if (r->elements > 0)
        v = xcalloc(r->elements / 2, sizeof(*v));
    for (i = 0; i + 1 < r->elements; i += 2) {
        name = store_reply_str(r->element[i]);
        if (name == NULL || strncmp(name, "k:", 2) != 0)
            continue;
        if ((rc = record_parse(store_reply_str(r->element[i + 1]), &v[k])) <
            0)
            goto out;
        v[k].id = xstrdup(name + 2);
        k++;
        if ((rc = counter_of(r, v[k - 1].id, &v[k - 1].counter)) < 0)
            goto out;
        if ((last = field_of(r, 'u', v[k - 1].id)) != NULL)
            v[k - 1].last_used = strtoll(last, NULL, 10);
    }
    if (k > 0)
        qsort(v, k, sizeof(*v), by_created);
    *ret = k > 0 ? v : NULL;
    *n = k;
    if (k > 0)
        v = NULL;
    rc = 0;
out:
    store_passkeys_free(v, k);
    freeReplyObject(r);
    return rc;
}

int
store_passkey_get(struct store *st, const char *sub, const char *id,
                  struct passkey_record *ret)
{
    struct passkey_record *v = NULL;
    size_t n = 0, i;
    int rc;

    if ((rc = store_passkeys_list(st, sub, &v, &n)) < 0)
        return rc;
    rc = GH_ENOTFOUND;
    for (i = 0; i < n; i++) {
        if (strcmp(v[i].id, id) == 0) {
            *ret = v[i];
            memset(&v[i], 0, sizeof(v[i]));
            rc = 0;
            break;
        }
    }
    store_passkeys_free(v, n);
    return rc;
}

int
store_passkey_owner(struct store *st, const char *id, char **sub)
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_command(st, STORE_IDEMPOTENT, &r, KEY_PASSKEY_OWNER, id,
                                "GET")) < 0)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = GH_ENOTFOUND;
    } else if (store_reply_str(r) == NULL) {
        rc = GH_EPROTO;
    } else {
        *sub = store_reply_dup(r);
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

/* What passkey_add.lua and passkey_use.lua answer: 1 done, 0 the
 * challenge was used already; -1 and anything else mean what each script
 * says (minus_one, other). */
static int
challenge_outcome(long long v, int minus_one, int other)
{
    if (v == 1)
        return 0;
    if (v == 0)
        return GH_EBADTOKEN;
    return v == -1 ? minus_one : other;
}

int
store_passkey_add(struct store *st, const char *sub,
                  const struct passkey_record *p, const char *challenge_hash)
{
    char k1[STORE_KEY_MAX], k2[STORE_KEY_MAX], k3[STORE_KEY_MAX];
    const struct store_key_want keys[] = {
        {KEY_PASSKEYS, sub, &k1},
        {KEY_PASSKEY_OWNER, p->id, &k2},
        {KEY_PASSKEY_CHALLENGE_USED, challenge_hash, &k3},
    };
    char counter[16], *rec = NULL;
    const char *argv[7];
    long long v = 0;
    int rc;

    if (strchr(p->pubkey, ' ') != NULL)
        return GH_EINVAL;
    if ((rc = store_key_names(st, keys, NELEM(keys))) < 0)
        return rc;
    if (asprintf(&rec, "%d %lld %s %s", p->alg, (long long)p->created,
                 p->pubkey, p->name) < 0)
        return GH_ENOMEM;
    snprintf(counter, sizeof(counter), "%" PRIu32, p->counter);
    argv[0] = k1;
    argv[1] = k2;
    argv[2] = k3;
    argv[3] = p->id;
    argv[4] = rec;
    argv[5] = counter;
    argv[6] = sub;
    rc = store_script_int(st, SCRIPT_PASSKEY_ADD, 3, 7, argv, &v);
    free(rec);
    if (rc < 0)
        return rc;
    return challenge_outcome(v, GH_EEXISTS, GH_ETOOBIG);
}

int
store_passkey_use(struct store *st, const char *sub, const char *id,
                  uint32_t old_counter, uint32_t new_counter,
                  const char *challenge_hash, int64_t now)
{
    char k1[STORE_KEY_MAX], k2[STORE_KEY_MAX], so[16], sn[16], sw[24];
    const char *argv[6];
    long long v = 0;
    int rc;

    if ((rc = store_key_name(st, KEY_PASSKEYS, sub, k1, sizeof(k1))) < 0 ||
        (rc = store_key_name(st, KEY_PASSKEY_CHALLENGE_USED, challenge_hash,
                             k2, sizeof(k2))) < 0)
        return rc;
    snprintf(so, sizeof(so), "%" PRIu32, old_counter);
    snprintf(sn, sizeof(sn), "%" PRIu32, new_counter);
    snprintf(sw, sizeof(sw), "%lld", (long long)now);
    argv[0] = k1;
    argv[1] = k2;
    argv[2] = id;
    argv[3] = so;
    argv[4] = sn;
    argv[5] = sw;
    if ((rc = store_script_int(st, SCRIPT_PASSKEY_USE, 2, 6, argv, &v)) < 0)
        return rc;
    return challenge_outcome(v, GH_EDENIED, GH_ENOTFOUND);
}

int
store_passkey_remove(struct store *st, const char *sub, const char *id)
{
    char k1[STORE_KEY_MAX], k2[STORE_KEY_MAX];
    const char *argv[3];
    long long v = 0;
    int rc;

    if ((rc = store_key_name(st, KEY_PASSKEYS, sub, k1, sizeof(k1))) < 0 ||
        (rc = store_key_name(st, KEY_PASSKEY_OWNER, id, k2, sizeof(k2))) < 0)
        return rc;
    argv[0] = k1;
    argv[1] = k2;
    argv[2] = id;
    if ((rc = store_script_int(st, SCRIPT_PASSKEY_REMOVE, 2, 3, argv, &v)) < 0)
        return rc;
    return v == 1 ? 1 : 0;
}

int
store_passkeys_delete(struct store *st, const char *sub)
{
    char key[STORE_KEY_MAX];
    const char *argv[2];
    long long v = 0;
    int rc;

    if ((rc = store_key_name(st, KEY_PASSKEYS, sub, key, sizeof(key))) < 0)
        return rc;
    argv[0] = key;
    argv[1] = store_prefix(st);
    if ((rc = store_script_int(st, SCRIPT_PASSKEYS_DELETE, 1, 2, argv, &v)) < 0)
        return rc;
    return v > 0 ? 1 : 0;
}
