/* SPDX-License-Identifier: MIT */
/* The body every token-side endpoint takes (/token, /introspect, /revoke,
 * a POST to /userinfo). */
#ifndef GATEHOUSE_OAUTH_FORM_H
#define GATEHOUSE_OAUTH_FORM_H

struct form;
struct http_request;

/*
 * Parses an application/x-www-form-urlencoded body into *f (freed with
 * form_free), refusing any other content type and any repeated parameter
 * (RFC 6749 §3.2). On failure the request has been answered (400).
 */
int oauth_form_read(struct http_request *req, struct form *f);

#endif
