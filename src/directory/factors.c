/* SPDX-License-Identifier: MIT */
/* Second factors: enrolment, activation, checking a code, listing and
 * reset, on top of store_factors.c, totp.c and factor_secret.c. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/util.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/store/store.h"

void
factors_enrolment_clear(struct totp_enrolment *e)
{
    if (e == NULL)
        return;
    OPENSSL_cleanse(e->secret, sizeof(e->secret));
    util_free_secret(e->uri);
    e->uri = NULL;
}

/* sub's factor record when its TOTP factor is in state want with a sealed
 * secret; GH_ENOTFOUND when it is not, else store_factors_get's codes. On
 * failure *f is left for the caller's store_factors_clear. */
static int
totp_in_state(struct store *st, const char *sub, enum factor_state want,
              struct factor_record *f)
{
    int rc;

    if ((rc = store_factors_get(st, sub, f)) < 0)
        return rc;
    if (factor_state_parse(f->totp_state) != (int)want ||
        f->totp_sealed == NULL)
        return GH_ENOTFOUND;
    return 0;
}

/* RECOVERY_CODES new recovery codes: their text into made, the HMAC of
 * each (hex) into hex, and hmacs[i] pointing at hex[i], for the store. */
static int
recovery_codes_make(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
                    char made[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1],
                    char hex[RECOVERY_CODES][65], char *hmacs[RECOVERY_CODES])
{
    size_t i;
    int rc;

    for (i = 0; i < RECOVERY_CODES; i++) {
        char norm[RECOVERY_CODE_CHARS + 1];

        if ((rc = recovery_code_new(made[i])) < 0 ||
            (rc = recovery_code_parse(made[i], strlen(made[i]), norm)) < 0 ||
            (rc = recovery_code_hash(key, sub, norm, hex[i])) < 0)
            return rc;
        hmacs[i] = hex[i];
    }
    return 0;
}

/* store_factors_use's answer (rc >= 0, with its n) into res. */
static void
use_result(int rc, long long n, struct factor_result *res)
{
    res->accepted = rc == 1;
    if (res->accepted)
        res->recovery_left = (int)n;
    else
        res->failures = n;
}

int
factors_totp_enrol(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
                   const char *issuer, const char *sub, const char *username,
                   struct totp_enrolment *out)
{
    unsigned char secret[TOTP_SECRET_LEN];
    struct totp_enrolment e = {{0}, NULL};
    char *sealed = NULL;
    int rc;

    if ((rc = totp_secret_new(secret)) < 0 ||
        (rc = totp_secret_text(secret, e.secret)) < 0 ||
        (rc = totp_uri(secret, issuer, username, &e.uri)) < 0 ||
        (rc = factor_secret_seal(key, sub, secret, sizeof(secret), &sealed)) <
            0)
        goto out;
    if ((rc = store_factors_enrol(st, sub, sealed, util_now())) < 0)
        goto out;
    *out = e;
    memset(&e, 0, sizeof(e));
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    factors_enrolment_clear(&e);
    free(sealed);
    return rc;
}

int
factors_totp_pending(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
                     const char *issuer, const char *sub, const char *username,
                     struct totp_enrolment *out)
{
    struct factor_record f = {0};
    struct totp_enrolment e = {{0}, NULL};
    unsigned char secret[64];
    size_t len = 0;
    int rc;

    if ((rc = totp_in_state(st, sub, FACTOR_STATE_PENDING, &f)) < 0)
        goto out;
    if ((rc = factor_secret_open(key, sub, f.totp_sealed, secret,
                                 sizeof(secret), &len)) < 0)
        goto out;
    if (len != TOTP_SECRET_LEN) {
        rc = GH_EBADTOKEN;
        goto out;
    }
    if ((rc = totp_secret_text(secret, e.secret)) < 0 ||
        (rc = totp_uri(secret, issuer, username, &e.uri)) < 0)
        goto out;
    *out = e;
    memset(&e, 0, sizeof(e));
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    factors_enrolment_clear(&e);
    store_factors_clear(&f);
    return rc;
}

/* Checks a parsed code against a sealed secret of sub: 0 with *step, or
 * totp_check's and factor_secret_open's codes. */
static int
check_sealed(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
             const char *sealed, const char code[TOTP_DIGITS + 1], int64_t now,
             int64_t *step)
{
    unsigned char secret[64];
    size_t len = 0;
    int rc;

    if ((rc = factor_secret_open(key, sub, sealed, secret, sizeof(secret),
                                 &len)) < 0)
        return rc;
    rc = totp_check(secret, len, code, now, step);
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

int
factors_totp_activate(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
                      const char *sub, const char *code, size_t len,
                      int64_t now,
                      char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1])
{
    struct factor_record f = {0};
    char digits[TOTP_DIGITS + 1],
        made[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    char hex[RECOVERY_CODES][65], *hmacs[RECOVERY_CODES];
    int64_t step = 0;
    int rc;

    if ((rc = totp_parse_code(code, len, digits)) < 0)
        return rc;
    if ((rc = totp_in_state(st, sub, FACTOR_STATE_PENDING, &f)) < 0)
        goto out;
    rc = check_sealed(key, sub, f.totp_sealed, digits, now, &step);
    metrics_factor(FACTOR_TOTP, rc == 0);
    if (rc < 0)
        goto out;
    if ((rc = recovery_codes_make(key, sub, made, hex, hmacs)) < 0)
        goto out;
    if ((rc = store_factors_activate(st, sub, f.totp_sealed, step, now, hmacs,
                                     RECOVERY_CODES)) < 0)
        goto out;
    memcpy(codes, made, sizeof(made));
out:
    OPENSSL_cleanse(made, sizeof(made));
    OPENSSL_cleanse(digits, sizeof(digits));
    store_factors_clear(&f);
    return rc;
}

int
factors_recovery_new(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
                     const char *sub,
                     char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1])
{
    char made[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    char hex[RECOVERY_CODES][65], *hmacs[RECOVERY_CODES];
    int rc;

    if ((rc = recovery_codes_make(key, sub, made, hex, hmacs)) < 0)
        goto out;
    if ((rc = store_factors_recovery(st, sub, hmacs, RECOVERY_CODES)) < 0)
        goto out;
    memcpy(codes, made, sizeof(made));
out:
    OPENSSL_cleanse(made, sizeof(made));
    return rc;
}

static int
verify_totp(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
            const char *sub, const char digits[TOTP_DIGITS + 1], int64_t now,
            struct factor_result *res)
{
    struct factor_record f = {0};
    int64_t step = 0;
    long long n = 0;
    int rc;

    if ((rc = totp_in_state(st, sub, FACTOR_STATE_ACTIVE, &f)) < 0)
        goto out;
    rc = check_sealed(key, sub, f.totp_sealed, digits, now, &step);
    if (rc == 0) {
        rc = store_factors_use(st, sub, "totp", f.totp_sealed, step, &n);
        res->replayed = rc == 0;
    } else if (rc == GH_EDENIED) {
        rc = store_factors_use(st, sub, "fail", NULL, 0, &n);
    }
    if (rc < 0)
        goto out;
    use_result(rc, n, res);
    rc = 0;
out:
    store_factors_clear(&f);
    return rc;
}

static int
verify_recovery(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
                const char *sub, const char *norm, struct factor_result *res)
{
    char hex[65];
    long long n = 0;
    int rc;

    if ((rc = recovery_code_hash(key, sub, norm, hex)) < 0)
        return rc;
    if ((rc = store_factors_use(st, sub, "recovery", hex, 0, &n)) < 0)
        return rc;
    use_result(rc, n, res);
    return 0;
}

int
factors_verify(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
               const char *sub, const char *code, size_t len, int64_t now,
               struct factor_result *res)
{
    struct factor_result r = {0};
    char digits[TOTP_DIGITS + 1], norm[RECOVERY_CODE_CHARS + 1];
    int rc;

    /* Six digits are a TOTP code, ten characters a recovery code: no
     * input is both. */
    if (totp_parse_code(code, len, digits) == 0) {
        r.type = FACTOR_TOTP;
        rc = verify_totp(st, key, sub, digits, now, &r);
    } else if (recovery_code_parse(code, len, norm) == 0) {
        r.type = FACTOR_RECOVERY;
        rc = verify_recovery(st, key, sub, norm, &r);
    } else {
        return GH_EINVAL;
    }
    OPENSSL_cleanse(digits, sizeof(digits));
    OPENSSL_cleanse(norm, sizeof(norm));
    if (rc < 0)
        return rc;
    metrics_factor(r.type, r.accepted);
    *res = r;
    return 0;
}

int
factors_list(struct store *st, const char *sub,
             struct factor_info out[FACTORS_MAX], size_t *n, int *recovery_left)
{
    struct factor_record f = {0};
    int state, active = 0, rc;
    size_t count = 0;

    if ((rc = store_factors_get(st, sub, &f)) < 0)
        return rc;
    if ((state = factor_state_parse(f.totp_state)) >= 0) {
        out[count].type = FACTOR_TOTP;
        out[count].state = (enum factor_state)state;
        out[count].created = f.totp_created;
        out[count].activated = f.totp_activated;
        active |= state == FACTOR_STATE_ACTIVE;
        count++;
    }
    *n = count;
    *recovery_left = f.recovery_left;
    store_factors_clear(&f);
    return active;
}

json_t *
factors_json(const char *sub, const char *username, const struct factor_info *f,
             size_t n, int recovery_left)
{
    json_t *arr, *o;
    size_t i;

    if ((arr = json_array()) == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        o = json_pack(
            "{s:s, s:s, s:I, s:I}", "type", factor_type_name(f[i].type),
            "state", factor_state_name(f[i].state), "created",
            (json_int_t)f[i].created, "activated", (json_int_t)f[i].activated);
        if (o == NULL || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return json_pack("{s:s, s:s, s:o, s:i}", "sub", sub, "username", username,
                     "factors", arr, "recovery_codes_left", recovery_left);
}

int
factors_reset(struct store *st, const char *sub)
{
    return store_factors_delete(st, sub);
}

int
factors_required(struct store *st, const char *sub)
{
    return store_factors_required(st, sub);
}

int
factors_require(struct store *st, const char *sub, int on)
{
    return store_factors_require(st, sub, on);
}
