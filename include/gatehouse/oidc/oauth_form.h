/* SPDX-License-Identifier: MIT */
/* The body every token-side endpoint takes (/token, /introspect, /revoke,
 * a POST to /userinfo). */
#ifndef GATEHOUSE_OAUTH_FORM_H
#define GATEHOUSE_OAUTH_FORM_H

#include "gatehouse/auth/client_auth.h"
#include "gatehouse/http/form.h"

struct http_request;

/*
 * Parses an application/x-www-form-urlencoded body into *f (freed with
 * form_free), refusing any other content type and any repeated parameter
 * (RFC 6749 §3.2). On failure the request has been answered (400).
 */
int oauth_form_read(struct http_request *req, struct form *f);

/* What /token, /introspect and /revoke start with: the form and the client
 * that sent it. */
struct oauth_call {
    struct form f;
    struct client_auth ca;
};

/*
 * oauth_form_read, then client_auth_check (public clients too when
 * allow_public). On failure the request has been answered and nothing is
 * left to release; on success release *c with oauth_call_done.
 */
int oauth_call_read(struct http_request *req, int allow_public,
                    struct oauth_call *c);
void oauth_call_done(struct oauth_call *c);

#endif
