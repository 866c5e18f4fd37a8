/* SPDX-License-Identifier: MIT */
/* RP-Initiated Logout 1.0 at /logout. */
#ifndef GATEHOUSE_LOGOUT_H
#define GATEHOUSE_LOGOUT_H

struct http_request;

void logout_handle(struct http_request *req); /* GET,POST /logout */
/* GET /logout/frontchannel.js: the signed-out page's script (front-channel
 * logout status). */
void logout_frontchannel_script(struct http_request *req);

#endif
