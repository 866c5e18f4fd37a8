/* SPDX-License-Identifier: MIT */
/* Passkeys as browsers meet them (SPEC §7): /account/passkeys (list, add
 * with step-up, remove), /login/passkey (a passwordless sign-in, amr
 * "hwk"), and /passkey.js, the one script those pages load. */
#ifndef GATEHOUSE_OIDC_PASSKEY_H
#define GATEHOUSE_OIDC_PASSKEY_H

struct http_request;

void passkey_account_handle(struct http_request *req); /* GET,POST */
void passkey_login_handle(struct http_request *req);   /* GET,POST */
void passkey_script(struct http_request *req);         /* GET /passkey.js */

#endif
