/* SPDX-License-Identifier: MIT */
/* Small helpers every module needs: base64url, randomness, time, secrets. */
#ifndef GATEHOUSE_UTIL_H
#define GATEHOUSE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The number of elements of an array (not a pointer). */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Length of the base64url text (no padding) for n bytes, without the NUL. */
#define B64URL_LEN(n) (((n) * 4 + 2) / 3)

/* Encodes len bytes into out (B64URL_LEN(len) + 1 bytes), NUL-terminated,
 * no padding. Returns the text length. */
size_t b64url_encode(const void *in, size_t len, char *out);
/* Returns a malloc'd NUL-terminated encoding; the caller frees it. */
char *b64url_encode_alloc(const void *in, size_t len);
/*
 * Decodes base64url (padding optional, no whitespace) into a malloc'd
 * buffer; *ret is NUL-terminated for convenience and the caller frees it.
 * Returns GH_EINVAL on any character outside the alphabet.
 */
int b64url_decode(const char *in, size_t len, unsigned char **ret,
                  size_t *retlen);

/* 1 if the len bytes at s are all of the base64url alphabet (A-Z a-z
 * 0-9 - _), else 0: the shape of every id and secret we hand out, checked
 * before anything so shaped reaches Redis or a file name. */
int b64url_valid(const char *s, size_t len);

/* The same for standard base64 (RFC 4648 §4: '+' and '/'), with the same
 * strictness. Callers that require or forbid padding check that first. */
int b64_decode(const char *in, size_t len, unsigned char **ret,
               size_t *retlen);

/* Fills buf with n cryptographically random bytes; 0 or GH_ECRYPTO. */
int util_random(void *buf, size_t n);
/* Writes a base64url id of nbytes random bytes into out
 * (B64URL_LEN(nbytes) + 1 bytes). 0 or GH_ECRYPTO. */
int util_random_id(char *out, size_t nbytes);
/* Writes a random UUID (version 4) into out (37 bytes). */
int util_uuid(char out[37]);

/* Wall-clock seconds since the epoch. */
int64_t util_now(void);
/* Wall-clock milliseconds since the epoch, for what is scheduled or
 * compared finer than a second. */
int64_t util_now_ms(void);
/* Monotonic seconds, for measuring durations. */
double util_monotonic(void);

/* Constant-time string equality for secrets: 1 equal, 0 not. NULL-safe. */
int util_streq_ct(const char *a, const char *b);
/* Wipes and frees a NUL-terminated secret. NULL-safe. */
void util_free_secret(char *s);

/*
 * 1 if the len bytes at s are well-formed UTF-8 as RFC 3629 §4 defines it
 * (no overlong forms, surrogates or code points past U+10FFFF) and hold no
 * NUL, else 0. NUL is refused because every such text ends up in a C
 * string, where it would cut the text short.
 */
int util_utf8_valid(const char *s, size_t len);

/* SHA-256 of data into md. */
void util_sha256(const void *data, size_t len, unsigned char md[32]);
/* Lower-case hex SHA-256 of data into out (65 bytes). */
void util_sha256_hex(const void *data, size_t len, char out[65]);
/* base64url SHA-256 of data into out (44 bytes): PKCE S256, at_hash (first
 * half: pass half=1). */
void util_sha256_b64url(const void *data, size_t len, int half, char out[44]);

#endif
