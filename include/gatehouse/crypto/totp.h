/* SPDX-License-Identifier: MIT */
/* TOTP (RFC 6238) through liboath: new secrets, the text and otpauth://
 * URI an authenticator app takes, the parser of a typed code, and the check
 * of a code with one step of clock skew either way. */
#ifndef GATEHOUSE_TOTP_H
#define GATEHOUSE_TOTP_H

#include <stddef.h>
#include <stdint.h>

/* 160 bits, as RFC 4226 §4 recommends and every authenticator app takes. */
#define TOTP_SECRET_LEN 20
/* The secret in base32 (RFC 4648 §6) without padding: 160 / 5 characters. */
#define TOTP_SECRET_B32_LEN 32
/* Six digits every 30 s: what authenticator apps assume when the URI does
 * not say otherwise (it says so anyway). */
#define TOTP_DIGITS 6
#define TOTP_STEP_S 30

/* A new random secret. 0, or GH_ECRYPTO if the system has no randomness. */
int totp_secret_new(unsigned char secret[TOTP_SECRET_LEN]);

/* The secret as base32 text for manual entry, TOTP_SECRET_B32_LEN
 * characters and a NUL. 0 or GH_ENOMEM. */
int totp_secret_text(const unsigned char secret[TOTP_SECRET_LEN],
                     char out[TOTP_SECRET_B32_LEN + 1]);

/*
 * The otpauth:// URI (Google Authenticator's Key Uri Format) an
 * authenticator app reads from the enrolment QR code:
 * otpauth://totp/ISSUER:ACCOUNT?secret=..&issuer=ISSUER&algorithm=SHA1&
 * digits=6&period=30, where ISSUER is the host of issuer_url (the config's
 * issuer; port and path left out) and ACCOUNT the username, both
 * percent-encoded. *ret is malloc'd; the caller frees it (it holds the
 * secret: util_free_secret). GH_EINVAL if issuer_url has no host.
 */
int totp_uri(const unsigned char secret[TOTP_SECRET_LEN],
             const char *issuer_url, const char *account, char **ret);

/*
 * Parses a code as a user typed it: digits and spaces only (apps show
 * "123 456"), exactly TOTP_DIGITS digits once the spaces are gone. Writes
 * the digits and a NUL into out. 0, or GH_EINVAL for anything else.
 */
int totp_parse_code(const char *in, size_t len, char out[TOTP_DIGITS + 1]);

/*
 * Checks a parsed code against the secret at time now (epoch seconds),
 * allowing one time step of clock skew either way (RFC 6238 §5.2). Every
 * candidate is computed and compared in constant time, so the time taken
 * says nothing of which one matched. On a match writes the step it
 * matched (now / TOTP_STEP_S, give or take one) into *step and returns 0;
 * GH_EDENIED for no match, GH_ECRYPTO if liboath fails.
 */
int totp_check(const unsigned char *secret, size_t secret_len,
               const char code[TOTP_DIGITS + 1], int64_t now, int64_t *step);

#endif
