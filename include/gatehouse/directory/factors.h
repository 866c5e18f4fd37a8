/* SPDX-License-Identifier: MIT */
/* Second factors of a user (SPEC §7): TOTP enrolment and activation, the
 * check of a typed code (TOTP or recovery code), the listing operators
 * see, and reset. Records live in Redis (store_factors.c); secrets are
 * sealed under the second-factor key (factor_secret.h), which callers load
 * once (factor_key_load) and pass in. Ending the user's sessions on a
 * reset is the caller's part (admin_reset_factors). */
#ifndef GATEHOUSE_FACTORS_H
#define GATEHOUSE_FACTORS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gatehouse/core/states.h"
#include "gatehouse/crypto/factor_secret.h"
#include "gatehouse/crypto/totp.h"

struct store;

/* What an enrolment shows the user once: the secret as text for manual
 * entry and the otpauth:// URI for the QR code. */
struct totp_enrolment {
    char secret[TOTP_SECRET_B32_LEN + 1];
    char *uri; /* malloc'd */
};
/* Wipes and frees what e holds (NULL-safe). */
void factors_enrolment_clear(struct totp_enrolment *e);

/*
 * Starts a TOTP enrolment for the user sub named username: a new secret,
 * stored sealed and pending until factors_totp_activate. Enrolling again
 * before activation replaces the pending secret. issuer is the config's
 * (its host names the account in the app). *out is the caller's
 * (factors_enrolment_clear). GH_EEXISTS if the user has an active TOTP
 * (reset it first).
 */
int factors_totp_enrol(struct store *st,
                       const unsigned char key[FACTOR_KEY_LEN],
                       const char *issuer, const char *sub,
                       const char *username, struct totp_enrolment *out);

/*
 * The pending enrolment of sub again (to show its QR code and key once
 * more after a wrong code), as factors_totp_enrol made it. GH_ENOTFOUND
 * if none is pending; GH_EBADTOKEN if its secret does not open.
 */
int factors_totp_pending(struct store *st,
                         const unsigned char key[FACTOR_KEY_LEN],
                         const char *issuer, const char *sub,
                         const char *username, struct totp_enrolment *out);

/*
 * Activates the pending TOTP with a code the user typed (len bytes, as
 * totp_parse_code takes it) from their app at time now: the TOTP becomes
 * active, that code is spent, and RECOVERY_CODES new recovery codes
 * (replacing any) are written into codes, shown once, kept only as
 * HMACs. GH_EINVAL (not a code), GH_ENOTFOUND (nothing pending),
 * GH_EDENIED (wrong code: nothing changes).
 */
int factors_totp_activate(
    struct store *st, const unsigned char key[FACTOR_KEY_LEN],
    const char *sub, const char *code, size_t len, int64_t now,
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1]);

/* New recovery codes for a user with an active TOTP, written into codes
 * (shown once); the old ones stop working. GH_ENOTFOUND if no TOTP is
 * active. */
int factors_recovery_new(
    struct store *st, const unsigned char key[FACTOR_KEY_LEN],
    const char *sub, char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1]);

/* What checking a code decided, for the sign-in to act on (a refusal
 * counts toward its lockout like a wrong password). */
struct factor_result {
    enum factor_type type; /* what the code was taken for */
    int accepted;
    int replayed;       /* a right TOTP code already used */
    long long failures; /* refused codes in a row, when refused */
    int recovery_left;  /* recovery codes left, when accepted */
};

/*
 * Checks a code the user typed at time now: six digits are a TOTP code
 * (±1 step, each step accepted once), ten base32 characters a recovery
 * code (each usable once). Counts the attempt (metrics, and failures in a
 * row in the record) and fills *res. 0 with res set; GH_EINVAL if it is
 * neither shape (nothing counted); GH_ENOTFOUND if the user has no active
 * factor; GH_EBADTOKEN if the stored secret does not open for this user
 * under this key (copied from another user, or keys_dir changed).
 */
int factors_verify(struct store *st, const unsigned char key[FACTOR_KEY_LEN],
                   const char *sub, const char *code, size_t len, int64_t now,
                   struct factor_result *res);

/* One enrolled factor as operators see it. */
struct factor_info {
    enum factor_type type;
    enum factor_state state;
    int64_t created;
    int64_t activated; /* 0 while pending */
};
/* The user's factors, at most FACTORS_MAX, and the recovery codes left.
 * 1 if the user has an active factor (a second factor is asked), else
 * 0, or a GH_E* code. */
#define FACTORS_MAX 4
int factors_list(struct store *st, const char *sub,
                 struct factor_info out[FACTORS_MAX], size_t *n,
                 int *recovery_left);

/* The listing as the Admin API and "user factors --json" show it:
 * {"sub", "username", "factors": [{"type", "state", "created",
 * "activated"}], "recovery_codes_left"}. A new reference, or NULL. */
json_t *factors_json(const char *sub, const char *username,
                     const struct factor_info *f, size_t n, int recovery_left);

/* Whether an administrator requires a second factor of sub (1, 0, or a
 * GH_E* code), and setting it; a reset of the factors keeps it. */
int factors_required(struct store *st, const char *sub);
int factors_require(struct store *st, const char *sub, int on);

/* Removes every factor of the user (recovery codes too). 1 if there were
 * any, 0 if none. */
int factors_reset(struct store *st, const char *sub);

#endif
