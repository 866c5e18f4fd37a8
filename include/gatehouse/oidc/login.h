/* SPDX-License-Identifier: MIT */
/* /login: the sign-in form's answer. The password is checked on the hash
 * pool after the attempt is reserved against lockout (SPEC §7). */
#ifndef GATEHOUSE_LOGIN_H
#define GATEHOUSE_LOGIN_H

struct http_request;

void login_handle(struct http_request *req); /* GET,POST /login */

#endif
