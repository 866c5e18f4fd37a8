/* SPDX-License-Identifier: MIT */
/* Second-factor secrets at rest (SPEC §3, §7): the key that encrypts them
 * lives in keys_dir beside the signing keys, never in Redis, which holds
 * only what it encrypts; TOTP secrets are sealed under it with AES-256-GCM
 * and recovery codes kept as an HMAC under it. */
#ifndef GATEHOUSE_FACTOR_SECRET_H
#define GATEHOUSE_FACTOR_SECRET_H

#include <stddef.h>

#define FACTOR_KEY_LEN 32
/* The key's file in keys_dir: 32 random bytes, mode 0600. */
#define FACTOR_KEY_FILE "second-factor.key"

/*
 * Reads dir/FACTOR_KEY_FILE into key; with create, makes it first when
 * absent (dir too, 0700), so the first start of a server has one. Two
 * processes creating it at once end up with the same key (the file is
 * linked into place only if none is there). GH_ENOTFOUND (absent, and
 * not create), GH_EDENIED (readable by group or others: fix its mode),
 * GH_EINVAL (not 32 bytes), GH_EIO, with a one-line reason in why.
 */
int factor_key_load(const char *dir, int create,
                    unsigned char key[FACTOR_KEY_LEN], char *why,
                    size_t whylen);

/*
 * Encrypts len bytes with AES-256-GCM under key, a fresh random 96-bit
 * nonce each time, and sub (the owner) as additional data: a ciphertext
 * copied to another user does not open. *ret is malloc'd text
 * ("v1." and base64url of nonce, ciphertext and tag); the caller frees
 * it. 0, GH_ECRYPTO, GH_ENOMEM.
 */
int factor_secret_seal(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
                       const void *plain, size_t len, char **ret);

/*
 * Opens what factor_secret_seal made for sub into out (cap bytes), its
 * length into *len. GH_EBADTOKEN if it is malformed, was sealed for
 * another sub or under another key, or was changed; GH_ETOOBIG if it does
 * not fit. The caller wipes out after use.
 */
int factor_secret_open(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
                       const char *text, void *out, size_t cap, size_t *len);

/* Recovery codes: 10 base32 characters (50 random bits) shown as
 * xxxxx-xxxxx. */
#define RECOVERY_CODES 10
#define RECOVERY_CODE_CHARS 10
#define RECOVERY_CODE_TEXT_LEN (RECOVERY_CODE_CHARS + 1)

/* A new random code as shown to the user, "abcde-fghij" (lower case, the
 * base32 alphabet), and a NUL. 0 or GH_ECRYPTO. */
int recovery_code_new(char out[RECOVERY_CODE_TEXT_LEN + 1]);

/*
 * Parses a typed recovery code: its base32 characters in either case,
 * with spaces and '-' anywhere ignored, exactly RECOVERY_CODE_CHARS of
 * them. Writes the normalised form (lower case, no separators) and a NUL
 * into out. 0 or GH_EINVAL.
 */
int recovery_code_parse(const char *in, size_t len,
                        char out[RECOVERY_CODE_CHARS + 1]);

/* The hex HMAC-SHA256 under key of sub and a normalised code (from
 * recovery_code_parse) into out: what the store keeps instead of the
 * code. 0, GH_EINVAL (sub longer than a sub), GH_ECRYPTO. */
int recovery_code_hash(const unsigned char key[FACTOR_KEY_LEN], const char *sub,
                       const char *normalised, char out[65]);

#endif
