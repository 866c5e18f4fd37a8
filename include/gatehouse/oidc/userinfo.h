/* SPDX-License-Identifier: MIT */
/* The UserInfo endpoint (OIDC Core §5.3). */
#ifndef GATEHOUSE_USERINFO_H
#define GATEHOUSE_USERINFO_H

struct http_request;

/* GET or POST /userinfo with a user's access token (RFC 6750 §2). */
void userinfo_handle(struct http_request *req);

#endif
