/* SPDX-License-Identifier: MIT */
/* State the browser carries for us before a sign-in (the authorization
 * request, the forms' CSRF tokens): a JSON object with an expiry, under an
 * HMAC-SHA256 so it comes back unchanged or not at all. Nothing about it is
 * stored, so an anonymous client cannot fill Redis with it (SPEC §7). */
#ifndef GATEHOUSE_SEAL_H
#define GATEHOUSE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SEAL_KEY_LEN 32
/* The longest sealed value accepted: an authorization request is at most
 * 12 KiB as sent (authorize.c), 16 KiB in base64url, plus the MAC. */
#define SEAL_MAX (20 * 1024)

/*
 * Seals claims (a JSON object, not changed) for purpose ("login", ...)
 * until exp (epoch seconds), bound to binding (a value the browser shows
 * again on its own, such as a cookie; "" for none), which is MAC'd but not
 * carried. *out is malloc'd text of base64url characters and one '.'.
 * 0, GH_EINVAL (not an object), GH_ENOMEM, GH_ECRYPTO.
 */
int seal_make(const unsigned char key[SEAL_KEY_LEN], const char *purpose,
              const char *binding, json_t *claims, int64_t exp, char **out);

/*
 * Opens a sealed value of len bytes, as it came from outside. On success
 * *claims is the object (new reference, "exp" included). GH_EBADTOKEN if it
 * is malformed or its MAC does not match this purpose and binding,
 * GH_EEXPIRED if it verifies but now is past its expiry, GH_ENOMEM.
 */
int seal_open(const unsigned char key[SEAL_KEY_LEN], const char *purpose,
              const char *binding, const char *text, size_t len, int64_t now,
              json_t **claims);

#endif
