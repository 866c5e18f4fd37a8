/* SPDX-License-Identifier: MIT */
/* The Admin API (SPEC §4) under /admin/. What it shares with the admin
 * CLI (checks, audit, ending sessions, logout-all, the JSON shapes) is
 * session/admin_ops.h. */
#ifndef GATEHOUSE_ADMIN_H
#define GATEHOUSE_ADMIN_H

#include <stddef.h>

#include "session/admin_ops.h"

struct http_request;

/* The scope an admin token must carry (SPEC §4). */
#define ADMIN_SCOPE "gatehouse:admin"

/* Every request under /admin/ (the route "/admin/" and anything after). */
void admin_handle(struct http_request *req);

/*
 * The one check for admin callers (SPEC §4), shared by the admin API and
 * /register: a Bearer access token Gatehouse issued by client_credentials
 * (the client its own subject, no session) with scope gatehouse:admin, to a
 * client still allowed that scope. 0 with the client_id in actor; else the
 * request has been answered (401 with WWW-Authenticate, 403, or 503), its
 * status is in *status, and actor names the caller if the token was
 * valid.
 */
int admin_authorize(struct http_request *req, char *actor, size_t actor_size,
                    int *status);

#endif
