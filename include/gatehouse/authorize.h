/* SPDX-License-Identifier: MIT */
/* The browser side of sign-in: /authorize (OIDC Core §3.1.2) and /login. */
#ifndef GATEHOUSE_AUTHORIZE_H
#define GATEHOUSE_AUTHORIZE_H

struct http_request;

/* Pending authorization requests and login forms live this long. */
#define AUTHORIZE_REQUEST_TTL_S 600

void authorize_handle(struct http_request *req); /* GET /authorize */
void login_handle(struct http_request *req);     /* GET,POST /login */

#endif
