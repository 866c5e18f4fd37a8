/* SPDX-License-Identifier: MIT */
/* The Admin API (SPEC §4) under /admin/. What it shares with the admin
 * CLI (checks, audit, ending sessions, logout-all, the JSON shapes) is
 * session/admin_ops.h. */
#ifndef GATEHOUSE_ADMIN_H
#define GATEHOUSE_ADMIN_H

#include "gatehouse/session/admin_ops.h"

struct http_request;

/* Every request under /admin/ (the route "/admin/" and anything after). */
void admin_handle(struct http_request *req);

#endif
