/* SPDX-License-Identifier: MIT */
/* Refresh tokens (RFC 6749 §6, SPEC §5): families tied to a session,
 * rotated on every use, with a short grace for parallel refreshes; a
 * spent token presented past it is theft. */
#ifndef GATEHOUSE_REFRESH_H
#define GATEHOUSE_REFRESH_H

#include "gatehouse/core/util.h"
#include "gatehouse/store/records.h"

struct app;
struct client;
struct user;

/* A refresh token is 256 random bits (RFC 6749 §10.10), a family id 128,
 * both base64url. */
#define REFRESH_BYTES 32
#define REFRESH_LEN B64URL_LEN(REFRESH_BYTES)
#define REFRESH_FAMILY_LEN B64URL_LEN(16)

/*
 * Issues a refresh token in a new family, tied to the session sid so it
 * dies with it (SPEC §5); writes both. GH_ENOTFOUND if the session has
 * ended.
 */
int refresh_issue(struct app *app, const char *sid, const char *client_id,
                  const char *sub, const char *scope,
                  char token[REFRESH_LEN + 1],
                  char family[REFRESH_FAMILY_LEN + 1]);

/* What a rotation grants, from refresh_rotate to refresh_rotation_clear. */
struct refresh_rotation {
    struct refresh_token *t; /* sid, sub, auth_time of the family */
    struct user *user;       /* enabled */
    char *scope;             /* the scope to grant: narrowed, or t's */
    int grace;               /* the family's head handed out again */
};

/*
 * Rotates the refresh token presented by c (RFC 6749 §6): next is the
 * token to hand out, a new one, or in the grace the family's live head
 * (SPEC §5). want, if not NULL, narrows the scope; it is checked before
 * the token is spent, so a bad one costs the client nothing. A spent
 * token presented again ends its session. On success the caller releases
 * *r with refresh_rotation_clear. GH_EINVAL if want exceeds the grant
 * (invalid_scope); GH_EDENIED with *why for an invalid_grant; else
 * GH_EREDIS and the like.
 */
int refresh_rotate(struct app *app, const char *token, const struct client *c,
                   const char *want, char next[REFRESH_LEN + 1],
                   struct refresh_rotation *r, const char **why);
void refresh_rotation_clear(struct refresh_rotation *r);

#endif
