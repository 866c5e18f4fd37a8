/* SPDX-License-Identifier: MIT */
/* /account: the signed-in user's own sessions, with sign-out per session
 * and of all (SPEC §4), behind a step-up for actions (SPEC §7). */
#ifndef GATEHOUSE_ACCOUNT_H
#define GATEHOUSE_ACCOUNT_H

struct http_request;

void account_handle(struct http_request *req); /* GET,POST /account */

#endif
