/* SPDX-License-Identifier: MIT */
/* The token endpoint (RFC 6749 §3.2). */
#ifndef GATEHOUSE_TOKEN_H
#define GATEHOUSE_TOKEN_H

struct http_request;

/* POST /token: authorization_code, refresh_token, client_credentials. */
void token_handle(struct http_request *req);

#endif
