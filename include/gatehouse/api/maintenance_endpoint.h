/* SPDX-License-Identifier: MIT */
/* The maintenance shutdown as HTTP sees it (SPEC §4, §5): the public
 * GET /maintenance apps poll, the 503 sign-in gives while it is active,
 * and the banner every page shows while it is announced. The state is
 * session/maintenance.c's; /token's part is in token.c, the Admin API's in
 * admin.c. */
#ifndef GATEHOUSE_MAINTENANCE_ENDPOINT_H
#define GATEHOUSE_MAINTENANCE_ENDPOINT_H

#include "gatehouse/core/i18n.h"

struct app;
struct http_request;

/* GET /maintenance: {"state","message","at"} (maintenance_json). */
void maintenance_endpoint_handle(struct http_request *req);
/*
 * While the shutdown is active, answers req (sign-in: /authorize, /login)
 * with the maintenance page, 503 and Retry-After, and returns 1; else 0
 * and the request is the caller's. A Redis failure is 0: the handler's
 * own use of Redis then answers 503.
 */
int maintenance_endpoint_closed(struct http_request *req);
/* The router's banner hook: while announced, "Maintenance starts at ...:
 * <message>" in lang (malloc'd); else NULL. */
char *maintenance_endpoint_banner(struct app *app, enum lang lang);

#endif
