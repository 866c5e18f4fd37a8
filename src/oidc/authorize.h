/* SPDX-License-Identifier: MIT */
/* The browser side of sign-in: /authorize (OIDC Core §3.1.2) and /login. */
#ifndef GATEHOUSE_AUTHORIZE_H
#define GATEHOUSE_AUTHORIZE_H

struct http_request;

void authorize_handle(struct http_request *req); /* GET /authorize */
void login_handle(struct http_request *req);     /* GET,POST /login */

#endif
