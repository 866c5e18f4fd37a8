/* SPDX-License-Identifier: MIT */
/* /login: the sign-in form's answer. The password is checked on the hash
 * pool after the attempt is reserved against lockout (SPEC §7). */
#ifndef GATEHOUSE_LOGIN_H
#define GATEHOUSE_LOGIN_H

struct http_request;

void login_handle(struct http_request *req); /* GET,POST /login */

/* The Gatehouse page a sign-in without an app may go back to (the
 * "return" parameter of /login), static; NULL if s is not one of them. */
const char *login_return_path(const char *s);

/* What /account links to sign in and come back. */
#define LOGIN_RETURN_ACCOUNT "/login?return=%2Faccount"

#endif
