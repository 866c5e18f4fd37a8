/* SPDX-License-Identifier: MIT */
/* RP-Initiated Logout 1.0 at /logout. */
#ifndef GATEHOUSE_LOGOUT_H
#define GATEHOUSE_LOGOUT_H

struct http_request;

void logout_handle(struct http_request *req); /* GET,POST /logout */

#endif
