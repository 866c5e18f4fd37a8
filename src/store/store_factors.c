/* SPDX-License-Identifier: MIT */
/* The second-factor key: fac:{sub}, one hash per user (its fields are in
 * schema.def). Every change that depends on what is there is a script
 * (factor_enrol, factor_activate, factor_use), so two requests racing on
 * one code never both pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "store/store_internal.h"

static const struct store_field factor_fields[] = {
    STORE_FIELD("t.s", STORE_FIELD_BUF, struct factor_record, totp_state),
    STORE_FIELD("t.c", STORE_FIELD_NUM, struct factor_record, totp_created),
    STORE_FIELD("t.a", STORE_FIELD_NUM, struct factor_record, totp_activated),
    STORE_FIELD("t.k", STORE_FIELD_STR, struct factor_record, totp_sealed),
    STORE_FIELD("t.l", STORE_FIELD_NUM, struct factor_record, last_step),
    STORE_FIELD("nf", STORE_FIELD_NUM, struct factor_record, failures),
};

int
store_factors_get(struct store *st, const char *sub, struct factor_record *out)
{
    struct factor_record f;
    redisReply *r = NULL;
    size_t i;
    int rc;

    memset(&f, 0, sizeof(f));
    f.last_step = -1;
    if ((rc = store_hgetall(st, KEY_FACTORS, sub, &r)) < 0)
        return rc;
    rc = STORE_DECODE(r, factor_fields, &f);
    if (rc == GH_ENOTFOUND)
        rc = 0; /* no factor at all: the empty record */
    if (rc < 0)
        goto out;
    /* The recovery codes are counted, never read out. */
    for (i = 0; i + 1 < r->elements; i += 2) {
        const char *name = store_reply_str(r->element[i]);
        if (name != NULL && strncmp(name, "r:", 2) == 0)
            f.recovery_left++;
    }
    *out = f;
    memset(&f, 0, sizeof(f));
out:
    store_factors_clear(&f);
    freeReplyObject(r);
    return rc;
}

void
store_factors_clear(struct factor_record *r)
{
    if (r == NULL)
        return;
    free(r->totp_sealed);
    r->totp_sealed = NULL;
}

/* The reply of a script that answers one integer. */
static int
script_int(struct store *st, enum script s, int argc, const char **argv,
           long long *ret)
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_script(st, s, 1, argc, argv, &r)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_INTEGER) {
        rc = GH_EPROTO;
    } else {
        *ret = r->integer;
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int
store_factors_enrol(struct store *st, const char *sub, const char *sealed,
                    int64_t now)
{
    char key[STORE_KEY_MAX], snow[24];
    const char *argv[3];
    long long v = 0;
    int rc;

    if ((rc = store_key_name(st, KEY_FACTORS, sub, key, sizeof(key))) < 0)
        return rc;
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    argv[0] = key;
    argv[1] = sealed;
    argv[2] = snow;
    if ((rc = script_int(st, SCRIPT_FACTOR_ENROL, 3, argv, &v)) < 0)
        return rc;
    return v == 1 ? 0 : GH_EEXISTS;
}

int
store_factors_activate(struct store *st, const char *sub, const char *sealed,
                       int64_t step, int64_t now, char *const *hmacs, size_t n)
{
    char key[STORE_KEY_MAX], sstep[24], snow[24];
    const char *argv[4 + 16];
    long long v = 0;
    size_t i;
    int rc;

    if (n > 16)
        return GH_EINVAL;
    if ((rc = store_key_name(st, KEY_FACTORS, sub, key, sizeof(key))) < 0)
        return rc;
    snprintf(sstep, sizeof(sstep), "%lld", (long long)step);
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    argv[0] = key;
    argv[1] = sealed;
    argv[2] = sstep;
    argv[3] = snow;
    for (i = 0; i < n; i++)
        argv[4 + i] = hmacs[i];
    if ((rc = script_int(st, SCRIPT_FACTOR_ACTIVATE, (int)(4 + n), argv, &v)) <
        0)
        return rc;
    return v == 1 ? 0 : GH_ENOTFOUND;
}

int
store_factors_recovery(struct store *st, const char *sub, char *const *hmacs,
                       size_t n)
{
    char key[STORE_KEY_MAX];
    const char *argv[1 + 16];
    long long v = 0;
    size_t i;
    int rc;

    if (n > 16)
        return GH_EINVAL;
    if ((rc = store_key_name(st, KEY_FACTORS, sub, key, sizeof(key))) < 0)
        return rc;
    argv[0] = key;
    for (i = 0; i < n; i++)
        argv[1 + i] = hmacs[i];
    if ((rc = script_int(st, SCRIPT_FACTOR_RECOVERY, (int)(1 + n), argv,
                         &v)) < 0)
        return rc;
    return v == 1 ? 0 : GH_ENOTFOUND;
}

int
store_factors_use(struct store *st, const char *sub, const char *kind,
                  const char *arg, int64_t step, long long *n)
{
    char key[STORE_KEY_MAX], sstep[24];
    const char *argv[4];
    redisReply *r = NULL;
    long long status;
    int rc, argc = 2;

    if ((rc = store_key_name(st, KEY_FACTORS, sub, key, sizeof(key))) < 0)
        return rc;
    snprintf(sstep, sizeof(sstep), "%lld", (long long)step);
    argv[0] = key;
    argv[1] = kind;
    if (arg != NULL) {
        argv[argc++] = arg;
        argv[argc++] = sstep;
    }
    if ((rc = store_script(st, SCRIPT_FACTOR_USE, 1, argc, argv, &r)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER) {
        rc = GH_EPROTO;
        goto out;
    }
    status = r->element[0]->integer;
    if (status < 0) {
        rc = GH_ENOTFOUND;
        goto out;
    }
    *n = r->element[1]->integer;
    rc = status == 1 ? 1 : 0;
out:
    freeReplyObject(r);
    return rc;
}

int
store_factors_delete(struct store *st, const char *sub)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_FACTORS, sub, key, sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, 0, &r, "DEL %s", key)) < 0)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? 1 : 0;
    freeReplyObject(r);
    return rc;
}

int
store_factors_required(struct store *st, const char *sub)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_FACTOR_REQUIRED, sub, key,
                             sizeof(key))) < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "EXISTS %s", key)) < 0)
        return rc;
    rc = r->type != REDIS_REPLY_INTEGER ? GH_EPROTO : r->integer > 0;
    freeReplyObject(r);
    return rc;
}

int
store_factors_require(struct store *st, const char *sub, int on)
{
    char key[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_name(st, KEY_FACTOR_REQUIRED, sub, key,
                             sizeof(key))) < 0)
        return rc;
    rc = on ? store_command(st, 0, &r, "SET %s 1", key)
            : store_command(st, 0, &r, "DEL %s", key);
    if (rc < 0)
        return rc;
    rc = r->type == REDIS_REPLY_ERROR ? GH_EPROTO : 0;
    freeReplyObject(r);
    return rc;
}
