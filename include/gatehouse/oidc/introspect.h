/* SPDX-License-Identifier: MIT */
/* Token introspection (RFC 7662) and revocation (RFC 7009). */
#ifndef GATEHOUSE_INTROSPECT_H
#define GATEHOUSE_INTROSPECT_H

struct http_request;

void introspect_handle(struct http_request *req);        /* POST /introspect */
void introspect_handle_revoke(struct http_request *req); /* POST /revoke */

#endif
