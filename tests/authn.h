/* SPDX-License-Identifier: MIT */
/* A WebAuthn authenticator for tests (authn.c): one credential, its key
 * (ES256 or, with eddsa, Ed25519) and its counter. */
#ifndef GATEHOUSE_TEST_AUTHN_H
#define GATEHOUSE_TEST_AUTHN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct authn {
    EVP_PKEY *key;
    int eddsa;
    unsigned char id[16];
    uint32_t counter;
};

void authn_new(struct authn *a, int eddsa);
void authn_free(struct authn *a);
/* authData (WebAuthn §6.1) for rpid with flags and the counter, with at
 * the attested credential data; into out (512 bytes). Its length. */
size_t authn_auth_data(struct authn *a, const char *rpid, unsigned char flags,
                       int at, unsigned char *out);
/* The signature over authData || SHA-256(cd) into sig (256 bytes). */
size_t authn_sign(const struct authn *a, const unsigned char *ad,
                  size_t adlen, const char *cd, unsigned char *sig);
/* An attestation object of fmt "none" or "packed" (self attestation;
 * with sig_flip a wrong signature) for client data cd; *out malloc'd. */
size_t authn_attobj(struct authn *a, const char *fmt, const char *rpid,
                    unsigned char flags, const char *cd, int sig_flip,
                    unsigned char **out);
/* The same, fmt "packed" with an x5c chain: a self-signed certificate
 * of a fresh attestation key, which signs (with sig_flip, wrongly). */
size_t authn_attobj_x5c(struct authn *a, const char *rpid, const char *cd,
                        int sig_flip, unsigned char **out);

#endif
