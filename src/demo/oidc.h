/* SPDX-License-Identifier: MIT */
/* The relying-party side of OpenID Connect, as small as it can be: discovery,
 * the code exchange, and checking ID and logout tokens against the
 * provider's JWKS. Everything an app needs from its identity provider. */
#ifndef DEMO_OIDC_H
#define DEMO_OIDC_H

#include <jansson.h>

/* One provider as seen by one client; thread-safe. */
struct oidc;

/*
 * Reads {issuer}/.well-known/openid-configuration (OIDC Discovery 1.0),
 * retrying for up to wait_s seconds while the provider starts. The strings
 * are copied. Returns 0 and *ret (free with oidc_free), or -1.
 */
int oidc_discover(const char *issuer, const char *client_id,
                  const char *client_secret, int wait_s, struct oidc **ret);
void oidc_free(struct oidc *o);

/* The issuer and the discovered endpoints; owned by o. */
const char *oidc_issuer(const struct oidc *o);
const char *oidc_authorization_endpoint(const struct oidc *o);
const char *oidc_end_session_endpoint(const struct oidc *o);

/* 32 random bytes, base64url (43 characters), into out[44]. */
int oidc_random(char out[44]);
/* RFC 7636 §4.2: the S256 code_challenge of a verifier, into out[44]. */
void oidc_pkce_challenge(const char *verifier, char out[44]);

/*
 * POST /token (authorization_code, client_secret_basic, PKCE verifier).
 * Returns 0 and *id_token (malloc'd, the caller frees), or -1 with a short
 * reason in why.
 */
int oidc_exchange_code(struct oidc *o, const char *code,
                       const char *redirect_uri, const char *verifier,
                       char **id_token, const char **why);

/*
 * OIDC Core §3.1.3.7: signature by a key in the JWKS, iss, aud, exp, iat,
 * nonce. Returns 0 and *claims (new reference), or -1 with a reason.
 */
int oidc_check_id_token(struct oidc *o, const char *jws, const char *nonce,
                        json_t **claims, const char **why);

/*
 * OIDC Back-Channel Logout 1.0 §2.6, every step, including "this jti was
 * not seen before" (jtis are remembered until their exp). Returns 0 and
 * *claims (new reference), or -1 with a reason.
 */
int oidc_check_logout_token(struct oidc *o, const char *jws, json_t **claims,
                            const char **why);

#endif
