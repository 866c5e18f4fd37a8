/* SPDX-License-Identifier: MIT */
/* What oidc.c and oidc_tokens.c share; nothing else includes this. */
#ifndef DEMO_OIDC_PRIVATE_H
#define DEMO_OIDC_PRIVATE_H

#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "oidc.h"

#define MAX_KEYS 16

struct key {
    char kid[128];
    char alg[8]; /* RS256 or ES256: nothing else is ever loaded */
    EVP_PKEY *pkey;
};

struct oidc {
    char *issuer, *client_id, *client_secret;
    char *authorization_endpoint, *token_endpoint, *jwks_uri;
    char *end_session_endpoint;
    pthread_mutex_t lock;      /* guards everything below */
    struct key keys[MAX_KEYS]; /* the JWKS, fetched when a kid is new */
    size_t nkeys;
    time_t jwks_fetched;
    json_t *jtis; /* logout-token jti -> its exp: BCL §2.6 step 8 */
};

/* GET url, or POST form to it with HTTP Basic auth (the client's id and
 * secret). Returns the status and the body parsed as JSON (*json, NULL if
 * it is not), or -1 if nothing came. */
long oidc_http_json(const struct oidc *o, const char *url, const char *form,
                    json_t **json);
/* Decodes n characters of unpadded base64url; malloc'd, NUL-terminated. */
unsigned char *oidc_b64url_decode(const char *s, size_t n, size_t *len);
/* Frees the cached keys. Lock held or o unshared. */
void oidc_keys_clear(struct oidc *o);

#endif
