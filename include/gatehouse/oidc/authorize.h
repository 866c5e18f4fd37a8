/* SPDX-License-Identifier: MIT */
/* GET,POST /authorize (OIDC Core §3.1.2), and what /login (login.c) needs
 * of it to finish a sign-in: the pending request it sealed, the form it
 * shows, and the code it sends back. login.c calls here, never the other
 * way round. */
#ifndef GATEHOUSE_AUTHORIZE_H
#define GATEHOUSE_AUTHORIZE_H

#include <stdint.h>

#include <jansson.h>

struct app;
struct http_request;

/* A validated authorization request: what a code will be bound to. */
struct areq {
    const char *client_id;
    const char *redirect_uri;
    const char *scope; /* granted: requested ∩ allowed */
    const char *state;
    const char *nonce;
    const char *code_challenge;
    const char *login_hint;
    int want_2fa; /* acr_values asked for urn:gatehouse:acr:2fa */
};

void authorize_handle(struct http_request *req); /* GET,POST /authorize */

/*
 * Opens the pending request authorize_handle sealed into the sign-in form
 * and returns its client's name (the caller frees it); *areq is the
 * request (the caller decrefs it), or NULL and the result NULL if it does
 * not open: absent, forged, expired, or its client or redirect_uri no
 * longer registered.
 */
char *authorize_request_open(struct app *app, const char *request,
                             json_t **areq);
/* The fields of an opened request, borrowed from o. */
void authorize_areq_from_json(const json_t *o, struct areq *a);

/* Issues a code for the session and redirects to the client with it
 * (status 302, or 303 after a POST), or with an error. For a session just
 * made by a password sign-in (amr "pwd"). */
void authorize_redirect_with_code(struct http_request *req,
                                  const struct areq *a, const char *sid,
                                  const char *sub, int64_t auth_time,
                                  int status);
/* The same for a session whose sign-in used the methods amr (RFC 8176,
 * space-separated, as the session records them; NULL or "": "pwd"), which
 * the ID tokens of the code carry. */
void authorize_redirect_with_code_amr(struct http_request *req,
                                      const struct areq *a, const char *sid,
                                      const char *sub, int64_t auth_time,
                                      const char *amr, int status);

/* The sign-in form as form describes it (struct page_login: the app, the
 * sealed request or the Gatehouse page to go back to, what was typed and
 * ticked, an error or a notice), with its action and CSRF token filled in
 * here. */
struct page_login;
void authorize_show_login(struct http_request *req,
                          const struct page_login *form, int status);

/* 503: sign-in cannot go on now, through no fault of the user's. */
void authorize_unavailable(struct http_request *req);

#endif
