/* SPDX-License-Identifier: MIT */
/* The bearer check (RFC 6750): an access token Gatehouse issued, still
 * good, and what it may do. */
#ifndef GATEHOUSE_BEARER_H
#define GATEHOUSE_BEARER_H

#include <jansson.h>

struct app;
struct http_request;
struct user;

/*
 * Verifies an access token Gatehouse issued: signature through the JWKS
 * keys, typ at+jwt, iss, exp, not revoked, and, if it carries a sid, that
 * the session is alive. On success *claims is a new reference.
 * GH_EBADTOKEN, GH_EEXPIRED, or GH_EREDIS (cannot tell now).
 */
int bearer_verify(struct app *app, const char *jwt, json_t **claims);

/*
 * The rest of the check for a token that speaks for a user (claims from
 * bearer_verify, borrowed): it was issued for a user (it has a session),
 * carries scope, and the user still exists and is enabled. *ret is the
 * user (user_free). On failure the request has been answered (401 or 403
 * with WWW-Authenticate, or 503/500).
 */
int bearer_user(struct http_request *req, const json_t *claims,
                const char *scope, struct user **ret);

#endif
