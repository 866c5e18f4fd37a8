/* SPDX-License-Identifier: MIT */
/* Scope rules (RFC 6749 §3.3): which names a grant gets, at /authorize and
 * at the token endpoint. */
#ifndef GATEHOUSE_SCOPE_H
#define GATEHOUSE_SCOPE_H

struct client;

/* 1 if the space-separated scope holds name, else 0 (NULL-safe). */
int scope_has(const char *scope, const char *name);

/*
 * The scope a token grant gets (RFC 6749 §3.3, §6). Every name in
 * requested must be allowed for c and, when within is not NULL, be in
 * within: a refresh may narrow the scope, never widen it. Without
 * requested, all of within, else all of c's scopes (§3.3 lets us pick a
 * default). *ret is malloc'd, names once each; the caller frees it.
 * GH_EINVAL if a name is malformed or not allowed, or none is left.
 */
int scope_grant(const char *requested, const struct client *c,
                const char *within, char **ret);

/*
 * The scope an authorization request gets: the requested names c may have,
 * once each, and openid, which must be among them (OIDC Core §3.1.2.1: an
 * OpenID request or nothing). *ret is malloc'd; the caller frees it.
 * GH_EINVAL without openid.
 */
int scope_authorize(const char *requested, const struct client *c, char **ret);

#endif
