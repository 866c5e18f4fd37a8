/* SPDX-License-Identifier: MIT */
/* RP-Initiated Logout 1.0 at /logout. */
#ifndef GATEHOUSE_LOGOUT_H
#define GATEHOUSE_LOGOUT_H

#include <stddef.h>

struct app;
struct http_request;

void logout_handle(struct http_request *req); /* GET,POST /logout */
/* GET /logout/frontchannel.js: the signed-out page's script (front-channel
 * logout status). */
void logout_frontchannel_script(struct http_request *req);

/*
 * Ends sid (and with everywhere_sub, every other session of that user
 * first) by actor, as the confirmation page's buttons do, and answers with
 * the signed-out page once the apps have had their first delivery
 * attempt (the connection is suspended meanwhile): for the account page,
 * which ends this browser's session the way /logout does. held: req is
 * suspended already (a step-up handed it on, stepup.h) and is resumed
 * here once answered.
 */
void logout_end_and_show(struct http_request *req, const char *sid,
                         const char *everywhere_sub, const char *actor,
                         int held);

/* The front-channel logout URL of app client_id for session sid (OIDC
 * Front-Channel Logout 1.0, iss and sid added when the app asks), or NULL
 * if it has none. malloc'd; the caller frees it. */
char *logout_frame_url(struct app *app, const char *client_id,
                       const char *sid);
/* What a page's CSP must add to load frames[0..n) (NULL entries skipped):
 * their origins in frame-src and child-src, and script-src 'self'.
 * malloc'd, or NULL when there is no frame. */
char *logout_frames_csp(char *const *frames, size_t n);

#endif
