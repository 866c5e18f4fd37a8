/* SPDX-License-Identifier: MIT */
/* /login: the sign-in form's answer. The password is checked on the hash
 * pool after the attempt is reserved against lockout (SPEC §7). */
#ifndef GATEHOUSE_LOGIN_H
#define GATEHOUSE_LOGIN_H

#include "gatehouse/directory/users.h"

struct http_request;

/* The lockout buckets one attempt counts in (SPEC §7 Lockout): the user's
 * and the address's, or a returning browser's own. */
#define LOGIN_BUCKETS 2
#define BUCKET_MAX (USERNAME_MAX + 8)

void login_handle(struct http_request *req); /* GET,POST /login */

/* The Gatehouse page a sign-in without an app may go back to (the
 * "return" parameter of /login), static; NULL if s is not one of them. */
const char *login_return_path(const char *s);

/*
 * The lockout for a check that is not a password (a passkey's answer),
 * in the same buckets as a password's: login_hold reserves the attempt
 * of user u (NULL: not known, only the address counts) from req's
 * address before the check — 1 if it answered (429 locked out, with
 * Retry-After, or 503), else 0 and h filled — and login_hold_settle
 * ends it: LOGIN_HOLD_FAILED keeps it counted, LOGIN_HOLD_GIVE_BACK
 * returns it (nothing was checked), LOGIN_HOLD_PASSED clears the user's
 * failures as a right password does. 0 or GH_EREDIS.
 */
struct login_hold {
    char who[LOGIN_BUCKETS][BUCKET_MAX];
    int nwho;
    int user; /* the first bucket is the user's or the device's */
};
enum login_hold_outcome {
    LOGIN_HOLD_FAILED,
    LOGIN_HOLD_GIVE_BACK,
    LOGIN_HOLD_PASSED
};
int login_hold(struct http_request *req, const struct user *u,
               struct login_hold *h);
int login_hold_settle(struct http_request *req, const struct login_hold *h,
                      enum login_hold_outcome outcome);

/* What /account links to sign in and come back. */
#define LOGIN_RETURN_ACCOUNT "/login?return=%2Faccount"

#endif
