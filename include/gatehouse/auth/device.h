/* SPDX-License-Identifier: MIT */
/* The device cookie (OWASP's device-cookie scheme against lockout abuse):
 * proof that this browser once signed in as a user, under a MAC. */
#ifndef GATEHOUSE_DEVICE_H
#define GATEHOUSE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "gatehouse/core/util.h"

/* Its name; __Host- under https, so no subdomain can plant one. */
#define DEVICE_COOKIE "gh_device"
#define DEVICE_COOKIE_HOST "__Host-gh_device"
/* How long a browser stays known after its last sign-in there. */
#define DEVICE_TTL_S (180 * 86400)
/* The MAC key's size (bytes). */
#define DEVICE_KEY_LEN 32
/* The device's id: 16 random bytes, base64url; its own lockout bucket. */
#define DEVICE_ID_LEN B64URL_LEN(16)
/* Longest value device_cookie_seal writes, NUL included. */
#define DEVICE_VALUE_MAX 160

/*
 * "sub.expires.id.mac" into out (DEVICE_VALUE_MAX): mac is the base64url
 * HMAC-SHA256 under key of the rest, so only Gatehouse can make one. A
 * fresh random id each time. 0, GH_EINVAL (sub not a plain id), or
 * GH_ECRYPTO.
 */
int device_cookie_seal(const unsigned char key[DEVICE_KEY_LEN],
                       const char *sub, int64_t expires, char *out);
/*
 * 0 if value is a cookie device_cookie_seal made under key, for sub (for
 * anyone if sub is NULL), not expired at now; its id into id. GH_EDENIED
 * for anything else (any malformed value, another user's, a forged or
 * expired one).
 */
int device_cookie_open(const unsigned char key[DEVICE_KEY_LEN],
                       const char *value, const char *sub, int64_t now,
                       char id[DEVICE_ID_LEN + 1]);

#endif
