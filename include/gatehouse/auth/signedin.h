/* SPDX-License-Identifier: MIT */
/* A signed-in user's own pages (/account, /account/passkeys): the session
 * the SSO cookie names, else a sign-in that comes back; a POST's form
 * checked as the user's own (presign_form) before the page acts on it;
 * and the page's 503, since a Redis failure is never reported as success
 * (SPEC §7). The step-up before an action is stepup.h's. */
#ifndef GATEHOUSE_SIGNEDIN_H
#define GATEHOUSE_SIGNEDIN_H

#include <stdint.h>

struct form;
struct http_request;
struct session;

/* What differs between those pages (static, borrowed). */
struct signedin_page {
    const char *sign_in;     /* where a browser without a session signs
                                in, to come back (login_return_path) */
    const char *purpose;     /* its forms' tokens are sealed for this,
                                bound to the session (presign_seal) */
    const char *unavailable; /* its 503's message, a msgid */
};

/* A time as those pages show it: "2026-12-07 13:45 UTC" ("-" if it
 * cannot be shown). */
#define SIGNEDIN_TIME_MAX 32
void signedin_time(int64_t t, char out[SIGNEDIN_TIME_MAX]);

/* The page's 503, with Retry-After: nothing was shown or changed. */
void signedin_unavailable(struct http_request *req,
                          const struct signedin_page *page);

/*
 * Answers req for page. No session (no cookie, or it ended): a redirect
 * to page->sign_in (302, or 303 after a POST). GET: get(req, s). POST:
 * the form checked (presign_form for page->purpose and the session; one
 * refused is answered there), then post(req, s, f), which owns s from
 * then on (it frees it, or hands it to a step-up that will); f is
 * borrowed for the call.
 */
typedef void (*signedin_get_fn)(struct http_request *req,
                                const struct session *s);
typedef void (*signedin_post_fn)(struct http_request *req, struct session *s,
                                 const struct form *f);
void signedin_handle(struct http_request *req, const struct signedin_page *page,
                     signedin_get_fn get, signedin_post_fn post);

#endif
