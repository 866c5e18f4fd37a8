/* SPDX-License-Identifier: MIT */
/* The grant records the store keeps (code:{hash}, rt:{hash}): plain data,
 * so the store and the grant code share them and neither includes the
 * other's handlers. */
#ifndef GATEHOUSE_RECORDS_H
#define GATEHOUSE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

/* What a code stands for, fixed at /authorize (RFC 6749 §4.1.2: bound to
 * client, redirect_uri and PKCE challenge). Every string is borrowed. */
struct code_grant {
    const char *client_id;
    const char *redirect_uri;
    const char *code_challenge; /* S256 challenge, or NULL */
    const char *nonce;          /* or NULL */
    const char *scope;          /* space-separated, granted */
    const char *sid;
    const char *sub;
    int64_t auth_time;
};

/* A refresh token as stored (rt:{hash}); fields are malloc'd. */
struct refresh_token {
    char *family;
    char *sid;
    char *client_id;
    char *sub;
    char *scope;       /* space-separated, as granted by the code */
    int spent;         /* rotated already: presenting it again is reuse */
    int64_t auth_time; /* the session's, from a rotation; else 0 */
    /* From a rotation in the grace (STORE_REFRESH_GRACE): the hash of the
     * family's live head, and each successor from the presented token to
     * it, sealed under its predecessor, oldest first. */
    char *head;
    char **sealed;
    size_t nsealed;
};
/* Frees t and every field (NULL-safe); defined in store_tokens.c. */
void store_refresh_free(struct refresh_token *t);

#endif
