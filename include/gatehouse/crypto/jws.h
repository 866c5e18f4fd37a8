/* SPDX-License-Identifier: MIT */
/* JWTs: compact JWS built and verified through keys.c (never libjwt on a hot
 * path). */
#ifndef GATEHOUSE_JWS_H
#define GATEHOUSE_JWS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct keyring;

/* Tokens above this size are refused before any parsing. */
#define JWS_MAX_LEN 8192
/* Clock skew allowed on exp and iat of our tokens; a revocation outlives
 * exp by it. */
#define JWS_LEEWAY_S 30

/*
 * Signs claims (borrowed) with alg's active key, the signing_alg key when
 * alg is NULL (access and logout tokens; ID tokens name their client's
 * alg); the header carries alg, kid and, if typ is not NULL, typ. *ret is a
 * malloc'd compact JWS the caller frees. GH_ENOTFOUND if no key of alg is
 * active.
 */
int jws_sign(const struct keyring *kr, const char *alg, const char *typ,
             const json_t *claims, char **ret);
/* jws_sign of claims already written as one compact JSON object: for
 * hot paths that write their claims with core/jsonw rather than pay
 * jansson's building and escaping. */
int jws_sign_json(const struct keyring *kr, const char *alg, const char *typ,
                  const char *claims_json, char **ret);

/*
 * Verifies a compact JWS: three base64url parts, a JSON header whose alg is
 * the alg of the key its kid names (so "none" and HS256 fail), a valid
 * signature, and typ equal to expected_typ when that is not NULL (compared
 * case-insensitively, "application/" prefix optional, RFC 8725 §3.11).
 * On success *claims is a new reference the caller releases with
 * json_decref. GH_EBADTOKEN on any failure; claims are not checked here.
 */
int jws_verify(const struct keyring *kr, const char *jws,
               const char *expected_typ, json_t **claims);

/* The memory of jws_verify_cached: one per server (struct app), shared by
 * its threads. */
struct jws_cache;
/* *ret is freed with jws_cache_free (NULL-safe). */
int jws_cache_new(struct jws_cache **ret);
void jws_cache_free(struct jws_cache *vc);

/*
 * jws_verify with a memory: a token already verified (the same text, the
 * same keyring and typ) is not verified again until its exp, and its
 * claims come from vc. ECDSA verification is ~80% of an introspection,
 * and resource servers introspect the same token again and again.
 * Thread-safe; bounded (a fixed number of slots). Without vc (NULL) it is
 * jws_verify. The caller still checks claims, revocation and the session
 * every time.
 */
int jws_verify_cached(struct jws_cache *vc, const struct keyring *kr,
                      const char *jws, const char *expected_typ,
                      json_t **claims);

/*
 * Checks registered claims: iss equals issuer; aud (string or array)
 * contains audience when audience is not NULL; exp is in the future
 * (unless allow_expired) and iat is not in the future, each with leeway_s.
 * 0, GH_EXPIRED, or GH_EBADTOKEN.
 */
int jws_check_claims(const json_t *claims, const char *issuer,
                     const char *audience, int64_t now, int64_t leeway_s,
                     bool allow_expired);

#endif
