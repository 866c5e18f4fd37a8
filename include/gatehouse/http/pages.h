/* SPDX-License-Identifier: MIT */
/* The HTML pages a person sees: small, server-rendered, no JavaScript (but
 * the signed-out page's front-channel status, which works without it), no
 * external assets, readable on a phone. Every function escapes what it is
 * given and returns a malloc'd page the caller frees (NULL: out of memory). */
#ifndef GATEHOUSE_PAGES_H
#define GATEHOUSE_PAGES_H

#include <stddef.h>

#include "gatehouse/core/i18n.h"

/*
 * What every page shares beyond its own content, from the request
 * (http_page_ctx): the reader's language, for <html lang> and every
 * string the page writes itself, and the maintenance announcement shown
 * above every page until the shutdown starts.
 */
struct page_ctx {
    enum lang lang;
    const char *banner; /* already in lang; NULL: none */
};

struct page_login {
    const char *app_name; /* shown as "Sign in to <app>"; NULL: Gatehouse */
    const char *action;   /* form action, e.g. "/login" */
    const char *csrf;     /* hidden field "csrf" */
    const char *request;  /* hidden field "request" (pending authorization
                             request id); NULL: none */
    const char *username; /* prefill; NULL: empty */
    const char *error;    /* message shown above the form; NULL: none */
    /* why this browser's session ended (end_reason_notice), shown first;
     * NULL: none */
    const char *notice;
    /* "Keep me signed in on this device" (field "keep"), ticked: the
     * choice of a failed attempt shown again; unticked by default */
    int keep;
};
char *pages_login(const struct page_ctx *ctx, const struct page_login *p);

/* "You are signed in as <username>" for /login used without an app. */
char *pages_signed_in(const struct page_ctx *ctx, const char *username);

struct page_app_status {
    const char *name;   /* app display name */
    const char *status; /* e.g. "signed out", "still trying"; NULL: none */
    /* Signed-out page only: the app's front-channel logout URL (with iss
     * and sid already added), loaded in a hidden iframe; NULL: none. With
     * frame_reports the page's script replaces status with "notified"
     * once the iframe has loaded. */
    const char *frame;
    int frame_reports;
};

struct page_logout_confirm {
    const char *action; /* form action, e.g. "/logout" */
    const char *csrf;   /* hidden field "csrf" */
    /* Hidden fields carried through the confirmation; NULL: omitted. */
    const char *client_id;
    const char *post_logout_redirect_uri;
    const char *state;
    const struct page_app_status *apps; /* the apps that will be signed out */
    size_t napps;
};
/*
 * A POST form with two submit buttons, name="scope" value="session"
 * ("Sign out") and value="everywhere" ("Sign out everywhere").
 */
char *pages_logout_confirm(const struct page_ctx *ctx,
                           const struct page_logout_confirm *p);

/* "You are signed out", listing each app with its delivery status, and
 * loading each app's frame (OIDC Front-Channel Logout 1.0). The page's
 * one script is PAGES_FRONTCHANNEL_SCRIPT_PATH, added only when there is
 * a frame; the reply's CSP must allow it and the frames' origins. */
char *pages_signed_out(const struct page_ctx *ctx,
                       const struct page_app_status *apps, size_t napps);
/* The same with a "Continue" link to continue_url (the post-logout
 * redirect), which the script follows once every frame has loaded. */
char *pages_signed_out_continue(const struct page_ctx *ctx,
                                const struct page_app_status *apps,
                                size_t napps, const char *continue_url);
/* The script that marks a front-channel app notified once its iframe has
 * loaded, served from Gatehouse's own origin (no inline script). */
#define PAGES_FRONTCHANNEL_SCRIPT_PATH "/logout/frontchannel.js"
extern const char pages_frontchannel_script[];

/* A browser-facing error: a title and a message (msgids, translated
 * here), never a stack trace. */
char *pages_error(const struct page_ctx *ctx, const char *title,
                  const char *message);

#endif
