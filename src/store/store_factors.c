/* SPDX-License-Identifier: MIT */
/* The second-factor key: fac:{sub}, one hash per user (its fields are in
 * schema.def). Every change that depends on what is there is a script
 * (factor_enrol, factor_activate, factor_use), so two requests racing on
 * one code never both pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
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

/* Most recovery codes one script call takes. */
#define HMACS_MAX 16

/*
 * Runs a script that answers one integer on fac:{sub}: KEYS[1] that key,
 * ARGV args[0..nargs) and then the recovery codes' HMACs hmacs[0..n).
 */
static int
factor_script(struct store *st, enum script s, const char *sub,
              const char *const *args, size_t nargs, char *const *hmacs,
              size_t n, long long *ret)
{
    char key[STORE_KEY_MAX];
    const char *argv[1 + 3 + HMACS_MAX];
    size_t i;
    int rc;

    if (nargs > 3 || n > HMACS_MAX)
        return GH_EINVAL;
    if ((rc = store_key_name(st, KEY_FACTORS, sub, key, sizeof(key))) < 0)
        return rc;
    argv[0] = key;
    for (i = 0; i < nargs; i++)
        argv[1 + i] = args[i];
    for (i = 0; i < n; i++)
        argv[1 + nargs + i] = hmacs[i];
    return store_script_int(st, s, 1, (int)(1 + nargs + n), argv, ret);
}

int
store_factors_enrol(struct store *st, const char *sub, const char *sealed,
                    int64_t now)
{
    char snow[24];
    const char *args[] = {sealed, snow};
    long long v = 0;
    int rc;

    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    if ((rc = factor_script(st, SCRIPT_FACTOR_ENROL, sub, args, NELEM(args),
                            NULL, 0, &v)) < 0)
        return rc;
    return v == 1 ? 0 : GH_EEXISTS;
}

int
store_factors_activate(struct store *st, const char *sub, const char *sealed,
                       int64_t step, int64_t now, char *const *hmacs, size_t n)
{
    char sstep[24], snow[24];
    const char *args[] = {sealed, sstep, snow};
    long long v = 0;
    int rc;

    snprintf(sstep, sizeof(sstep), "%lld", (long long)step);
    snprintf(snow, sizeof(snow), "%lld", (long long)now);
    if ((rc = factor_script(st, SCRIPT_FACTOR_ACTIVATE, sub, args, NELEM(args),
                            hmacs, n, &v)) < 0)
        return rc;
    return v == 1 ? 0 : GH_ENOTFOUND;
}

int
store_factors_recovery(struct store *st, const char *sub, char *const *hmacs,
                       size_t n)
{
    long long v = 0;
    int rc;

    if ((rc = factor_script(st, SCRIPT_FACTOR_RECOVERY, sub, NULL, 0, hmacs, n,
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
    long long v = 0;
    int rc;

    if ((rc = store_key_integer(st, 0, KEY_FACTORS, sub, "DEL", &v)) < 0)
        return rc;
    return v > 0;
}

int
store_factors_required(struct store *st, const char *sub)
{
    long long v = 0;
    int rc;

    if ((rc = store_key_integer(st, STORE_IDEMPOTENT, KEY_FACTOR_REQUIRED, sub,
                                "EXISTS", &v)) < 0)
        return rc;
    return v > 0;
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
