/* SPDX-License-Identifier: MIT */
/* /login: the sign-in form's answer. The password is checked on the hash
 * pool after the attempt is reserved against lockout (SPEC §7). */
#ifndef GATEHOUSE_LOGIN_H
#define GATEHOUSE_LOGIN_H

#include <jansson.h>

#include "gatehouse/directory/users.h"
#include "gatehouse/session/session.h"

struct form;
struct http_request;

/* The lockout buckets one attempt counts in (SPEC §7 Lockout): the user's
 * and the address's, or a returning browser's own. */
#define LOGIN_BUCKETS 2
#define BUCKET_MAX (USERNAME_MAX + 8)

void login_handle(struct http_request *req); /* GET,POST /login */

/*
 * A sign-in page's handler (/login, /login/passkey): a POST is its form
 * posted back (post); a GET's link query, one urlencoded form without a
 * repeated field (else the LOGIN_BAD_LINK page), goes to get, borrowed.
 */
typedef void (*login_get_fn)(struct http_request *req, const struct form *q);
void login_page(struct http_request *req, login_get_fn get,
                void (*post)(struct http_request *req));

/* What is wrong with a sign-in's form or link itself: login_error sends
 * its page (one row each in login.c), and the sign-in ends there. */
enum login_error {
    LOGIN_REFUSED,      /* 403: posted from another site (login CSRF) */
    LOGIN_BAD_FORM,     /* 400: not the form a sign-in page sends */
    LOGIN_BAD_LINK,     /* 400: a sign-in link's query is malformed */
    LOGIN_BAD_RETURN,   /* 400: its "return" is not one of our pages */
    LOGIN_FORM_EXPIRED, /* 403: its token or sealed step does not open */
    LOGIN_TOO_LONG,     /* 400: the app's pending request has expired */
};
void login_error(struct http_request *req, enum login_error e);

/*
 * Opens the app's pending request a sign-in carries (request, sealed;
 * NULL: none) with authorize_request_open: 0 with *areq_json the request,
 * or NULL for none (the caller decrefs it), and *app_name its client's
 * name (the caller frees it) unless app_name is NULL. -1: it no longer
 * opens, and the LOGIN_TOO_LONG page is sent.
 */
int login_request_open(struct http_request *req, const char *request,
                       json_t **areq_json, char **app_name);

/*
 * The end of a sign-in whose checks all passed. login_session makes the
 * session of u with the methods amr (RFC 8176, space-separated) from ip
 * and ua, sets its cookie (keep: "Keep me signed in", else it ends with
 * the browser session) and, with device, the device cookie, and expires
 * the pre-sign-in cookie: 0 with the session's id in sid, or -1 with the
 * 503 sent. login_answer then answers: a code for the app (areq_json, the
 * opened request), else a redirect to the Gatehouse page return_to, else
 * the "signed in" page.
 */
int login_session(struct http_request *req, const struct user *u,
                  const char *ip, const char *ua, int keep, int device,
                  const char *amr, char sid[SESSION_SID_LEN + 1]);
void login_answer(struct http_request *req, const struct user *u,
                  const char *sid, const char *amr, const json_t *areq_json,
                  const char *return_to);

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
