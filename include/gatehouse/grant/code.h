/* SPDX-License-Identifier: MIT */
/* Authorization codes (RFC 6749 §4.1, RFC 7636): issued at /authorize,
 * exchanged once at the token endpoint. */
#ifndef GATEHOUSE_CODE_H
#define GATEHOUSE_CODE_H

#include <stdint.h>

#include <jansson.h>

#include "gatehouse/store/records.h"

struct app;
struct client;
struct user;

/* A code is 256 random bits (RFC 6749 §10.10), 43 base64url characters. */
#define CODE_LEN 43

/* Issues a single-use code for g, alive tokens.code_ttl_s; writes it into
 * code_out. */
int code_issue(struct app *app, const struct code_grant *g,
               char code_out[CODE_LEN + 1]);

/* A code being exchanged, from code_redeem to code_exchange_clear. */
struct code_exchange {
    struct code_grant grant; /* what the code stands for */
    struct user *user;       /* the grant's user, enabled */
    char hash[65];           /* the code's, as stored */
    json_t *record;          /* grant's strings are borrowed from it */
};

/*
 * Spends code for client c, first of all: a code is good for one try
 * (RFC 6749 §4.1.2). It must then come back with the redirect_uri of its
 * request and the verifier of its challenge (RFC 7636 §4.6), its session
 * must be alive (the app is recorded in it, SPEC §5) and its user able to
 * sign in. A code used twice revokes what its first use issued. On
 * success the caller releases *x with code_exchange_clear. GH_EDENIED with
 * *why for an invalid_grant; else GH_EREDIS and the like.
 */
int code_redeem(struct app *app, const char *code, const struct client *c,
                const char *redirect_uri, const char *verifier,
                struct code_exchange *x, const char **why);

/*
 * Records what the exchange issued (the refresh-token family, or NULL, and
 * the access token's jti and exp), for a replay to revoke. Should a replay
 * have come meanwhile, the tokens are revoked here, and GH_EDENIED with
 * *why says not to hand them out.
 */
int code_exchanged(struct app *app, const struct code_exchange *x,
                   const char *family, const char *jti, int64_t exp,
                   const char **why);

/* Releases what code_redeem kept (NULL-safe fields). */
void code_exchange_clear(struct code_exchange *x);

#endif
