/* SPDX-License-Identifier: MIT */
/* Before a sign-in: the browser's pre-sign-in cookie, which the forms'
 * CSRF tokens are bound to, the same-origin check of Gatehouse's own form
 * POSTs, and sealing under the deployment's MAC key (SPEC §7). */
#ifndef GATEHOUSE_PRESIGN_H
#define GATEHOUSE_PRESIGN_H

#include <jansson.h>

struct app;
struct config;
struct http_request;

/* The cookie's name: "__Host-gh_presign" when the issuer is https (no
 * other host or path can set it), "gh_presign" otherwise. */
#define PRESIGN_COOKIE "gh_presign"
#define PRESIGN_COOKIE_HOST "__Host-gh_presign"
/* Its value: 24 random bytes, base64url. */
#define PRESIGN_ID_LEN 32
/* How long a sealed request or form token lasts. */
#define PRESIGN_TTL_S 600

const char *presign_cookie_name(const struct config *cfg);

/*
 * This browser's pre-sign-in id. With make, one is made and set (HttpOnly,
 * SameSite=Lax, Path=/, for the browser's session) when the browser sent
 * none; without, GH_ENOTFOUND then. 0, GH_ENOTFOUND, GH_ECRYPTO.
 */
int presign_browser(struct http_request *req, int make,
                    char id[PRESIGN_ID_LEN + 1]);

/* Expires the cookie: after a sign-in, so a form shown before it (and
 * its token) cannot be posted again from this browser. */
void presign_forget(struct http_request *req);

/*
 * 1 if a POST to one of Gatehouse's own forms may have come from its own
 * page: no Origin or the issuer's ("null" too: our Referrer-Policy makes
 * browsers send it), and Sec-Fetch-Site absent, "same-origin" or "none".
 * Clients that send neither header are not browsers and are allowed.
 */
int presign_same_origin(struct http_request *req);

struct form;
/*
 * The checks before a signed-in user's own form is acted on (the account
 * and passkey pages): sent from our own page (presign_same_origin), one
 * urlencoded form without a repeated field, and a csrf field that
 * presign_open accepts for purpose and the session sid. 0: *f holds the
 * form. -1: refused, and the answer (a 403 or 400 page saying nothing was
 * changed) is sent. GH_EREDIS: the caller sends its own 503. Whatever it
 * returns, *f may be passed to form_free.
 */
int presign_form(struct http_request *req, const char *purpose,
                 const char *sid, struct form *f);

/* seal_make/seal_open (seal.h) under the deployment's MAC key, for
 * PRESIGN_TTL_S. GH_EREDIS when the key cannot be read. */
int presign_seal(struct app *app, const char *purpose, const char *binding,
                 json_t *claims, char **out);
int presign_open(struct app *app, const char *purpose, const char *binding,
                 const char *text, json_t **claims);
/* A form's token: presign_seal of no claims, for purpose and binding
 * alone (*out malloc'd). */
int presign_token(struct app *app, const char *purpose, const char *binding,
                  char **out);

#endif
