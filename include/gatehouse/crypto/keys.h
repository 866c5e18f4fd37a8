/* SPDX-License-Identifier: MIT */
/* Signing keys: the only module that touches private key material. Keys are
 * parsed once, at start (libjwt re-parses a PEM per call: ~400 µs). */
#ifndef GATEHOUSE_KEYS_H
#define GATEHOUSE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* RFC 7638 thumbprint: base64url SHA-256, 43 characters. */
#define KEYS_KID_LEN 43

struct keyring;

struct key_info {
    char kid[KEYS_KID_LEN + 1];
    char alg[8];     /* "RS256" or "ES256" */
    int64_t created; /* seconds since the epoch */
    int64_t retired; /* 0 while active */
};

/*
 * Loads every key in dir (files <kid>.pem, mode 0600, and <kid>.json with
 * its metadata). Each alg has at most one signing key, its newest active
 * one; alg (the config's signing_alg) must have one, and its key signs
 * when a caller names no alg. Retired keys
 * still verify, and stay in the JWKS, until retired + keep_s has passed
 * (tokens they signed may still be alive). On failure returns a GH_E* code
 * and writes a one-line reason into why (that says how to fix it, e.g. run
 * "gatehouse keys generate"). *ret is owned by the caller (keyring_free).
 */
int keyring_load(const char *dir, const char *alg, int64_t keep_s,
                 struct keyring **ret, char *why, size_t whylen);
void keyring_free(struct keyring *kr);

/* The signing_alg key's kid and alg (borrowed, live as long as kr). */
const char *keys_active_kid(const struct keyring *kr);
const char *keys_active_alg(const struct keyring *kr);
/* The kid of alg's active key (signing_alg's when alg is NULL), borrowed;
 * NULL when no key of alg is active. */
const char *keys_kid(const struct keyring *kr, const char *alg);
/* The algs that have an active key, RS256 before ES256, NULL-terminated
 * (borrowed): what discovery lists. */
const char *const *keys_algs(const struct keyring *kr);

/*
 * Signs len bytes of input with alg's active key (signing_alg's when alg
 * is NULL) as JWS does (RS256: PKCS#1 v1.5 SHA-256; ES256: raw R||S, 64
 * bytes) and writes the base64url signature into sig, which holds at least
 * KEYS_SIG_MAX bytes. GH_ENOTFOUND if no key of alg is active.
 * Thread-safe.
 */
#define KEYS_SIG_MAX 700
int keys_sign(const struct keyring *kr, const char *alg, const void *input,
              size_t len, char *sig);

/*
 * Verifies a JWS signature (raw bytes, already base64url-decoded) over input
 * with the key named kid. alg must equal that key's alg: no "none", no HMAC,
 * no algorithm the key was not made for. 0 if valid, GH_EBADTOKEN if not or
 * if kid is unknown or expired from the ring. Thread-safe.
 */
int keys_verify(const struct keyring *kr, const char *kid, const char *alg,
                const void *input, size_t len, const unsigned char *sig,
                size_t siglen);

/* The JWKS document ({"keys":[...]}), built once at load (borrowed). */
const char *keys_jwks(const struct keyring *kr);

/*
 * Writes a new private key of alg ("RS256": RSA 2048, "ES256": P-256) into
 * dir (created 0700 if missing) as <kid>.pem (0600) and <kid>.json, and
 * retires every key of alg that was active (keys of the other alg stay
 * active). Writes the new kid into kid_out.
 */
int keys_generate(const char *dir, const char *alg,
                  char kid_out[KEYS_KID_LEN + 1]);
/* Lists the keys in dir, newest first. *ret is malloc'd; the caller frees
 * it. A dir with no keys gives n = 0. */
int keys_list(const char *dir, struct key_info **ret, size_t *n);

/* RFC 7638 thumbprint of a public JWK (RSA: e, kty, n; EC: crv, kty, x, y)
 * into out. 0, or GH_EINVAL for a JWK missing its members. */
int keys_jwk_thumbprint(const json_t *jwk, char out[KEYS_KID_LEN + 1]);

#endif
