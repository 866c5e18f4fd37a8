/* SPDX-License-Identifier: MIT */
/* Admin authorisation (SPEC §4): who may call the Admin API and
 * /register. */
#ifndef GATEHOUSE_ADMIN_AUTH_H
#define GATEHOUSE_ADMIN_AUTH_H

#include <stddef.h>

struct http_request;

/* The scope an admin token must carry (SPEC §4). */
#define ADMIN_SCOPE "gatehouse:admin"

/*
 * The one check for admin callers, shared by the Admin API and /register:
 * a Bearer access token Gatehouse issued by client_credentials (the client
 * its own subject, no session) with ADMIN_SCOPE, to a client still allowed
 * that scope. 0 with the client_id in actor; else -1, the request has been
 * answered (401 with WWW-Authenticate, 403, or 503; http_status tells
 * which), and actor names the caller if the token was valid.
 */
int admin_auth_check(struct http_request *req, char *actor, size_t actor_size);

#endif
