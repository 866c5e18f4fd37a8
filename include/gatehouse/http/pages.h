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
    /* The `lang` query parameter chose lang: the page's forms carry it on
     * in their action (page_buf_action), so the answer to the POST speaks
     * it too. Otherwise the POST's Accept-Language chooses again, alike. */
    int lang_param;
};

/* Every text a page is given that is not a name (error, notice, status,
 * title, message) is an English msgid it translates; mark the literals
 * with N_(). */
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
    const char *return_to; /* hidden field "return": the Gatehouse page to
                              go back to after the sign-in; NULL: none */
};
char *pages_login(const struct page_ctx *ctx, const struct page_login *p);

/* "You are signed in as <username>" for /login used without an app. */
char *pages_signed_in(const struct page_ctx *ctx, const char *username);

struct page_app_status {
    const char *name;   /* app display name */
    const char *status; /* msgid, e.g. "signed out"; NULL: none */
    /* Signed-out page only: the app's front-channel logout URL (with iss
     * and sid already added), loaded in a hidden iframe; NULL: none. With
     * frame_reports the page's script replaces status with "notified"
     * once the iframe has loaded. A frame without a status is loaded but
     * not listed (another session's app, after "Sign out everywhere"). */
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
 * Names the apps and asks to save the work in them first; a POST form with
 * two submit buttons, name="scope" value="session" ("Sign out") and
 * value="everywhere" ("Sign out everywhere").
 */
char *pages_logout_confirm(const struct page_ctx *ctx,
                           const struct page_logout_confirm *p);

/* What a sign-out ended, which the signed-out page says. */
enum signed_out_scope {
    SIGNED_OUT_ALREADY,    /* nothing: this browser had no session */
    SIGNED_OUT_DEVICE,     /* the session of this browser */
    SIGNED_OUT_EVERYWHERE, /* every session of the user */
};
/* "You are signed out" on this device or every device, listing each app
 * with its delivery status, loading each app's frame (OIDC Front-Channel
 * Logout 1.0), and suggesting to close the browser on a shared computer.
 * The page's one script is PAGES_FRONTCHANNEL_SCRIPT_PATH, added only when
 * there is a frame; the reply's CSP must allow it and the frames' origins. */
char *pages_signed_out(const struct page_ctx *ctx, enum signed_out_scope scope,
                       const struct page_app_status *apps, size_t napps);
/* The same with a "Continue" link to continue_url (the post-logout
 * redirect), which the script follows once every frame has loaded. */
char *pages_signed_out_continue(const struct page_ctx *ctx,
                                enum signed_out_scope scope,
                                const struct page_app_status *apps,
                                size_t napps, const char *continue_url);
/* The script that marks a front-channel app notified once its iframe has
 * loaded, served from Gatehouse's own origin (no inline script). */
#define PAGES_FRONTCHANNEL_SCRIPT_PATH "/logout/frontchannel.js"
extern const char pages_frontchannel_script[];

/* The account page (pages_account.c): one of the user's sessions. Every
 * string is shown as given (escaped), so the caller translates. */
struct page_account_session {
    const char *sid;       /* the form's "sid" for "Sign out" */
    const char *browser;   /* "Chrome on Linux" */
    const char *address;   /* where it signed in from */
    const char *started;   /* a UTC time, as text */
    const char *last_seen; /* the same */
    const char *const *apps; /* display names of the apps signed in */
    size_t napps;
    int current;           /* this browser's: "This device" */
};

struct page_account {
    const char *action;   /* form action, "/account" */
    const char *csrf;     /* hidden field "csrf" of every form */
    const char *username; /* "Signed in as ..." */
    const char *status;   /* a status line above the list (what the last
                             action did); NULL: none */
    const struct page_account_session *sessions;
    size_t nsessions;
    /* Front-channel logout URLs of the apps of a session just ended, each
     * loaded in a hidden iframe (the reply's CSP must allow their
     * origins); NULL entries skipped. */
    char *const *frames;
    size_t nframes;
    /* "Two-step verification": 1 if the user has an active TOTP (then
     * "Remove" and "New recovery codes", with recovery_left), else 0
     * ("Set up an authenticator app"). */
    int totp_active;
    int recovery_left;
};
/*
 * The user's sessions, each with a POST form (csrf, scope=session, sid)
 * and its "Sign out" button, and one form (csrf, scope=all) with "Sign out
 * of all sessions"; no script.
 */
char *pages_account(const struct page_ctx *ctx, const struct page_account *p);

/* The step-up before an account-page action or "Sign out everywhere" (SPEC
 * §7): the password again, with the action (scope, sid) carried in hidden
 * fields. */
struct page_account_reauth {
    const char *action;   /* "/account" */
    const char *csrf;
    const char *username; /* shown, and sent for password managers */
    const char *scope;    /* "session" or "all" */
    const char *sid;      /* for scope "session"; NULL: omitted */
    const char *error;    /* above the field; NULL: none */
    int totp; /* the user has an authenticator app: a "code" field too,
                 either field enough */
    /* The logout confirmation's fields, carried through when its "Sign out
     * everywhere" asks (action "/logout"); NULL: omitted. */
    const char *client_id;
    const char *post_logout_redirect_uri;
    const char *state;
    /* what the password is asked for (translated); NULL: the sessions' */
    const char *intro;
    /* The user has a passkey: a second form, "Use a passkey", for
     * /passkey.js (the page then needs script-src 'self'), with this
     * challenge and RP ID, its sealed state posted as "pkstate"; NULL:
     * none. */
    const char *passkey_challenge;
    const char *passkey_rp_id;
    const char *passkey_state;
};
char *pages_account_reauth(const struct page_ctx *ctx,
                           const struct page_account_reauth *p);

/* TOTP enrolment (pages_totp.c): the otpauth URI as an inline SVG QR
 * code, the key as grouped text, and a form (csrf, scope=totp_activate)
 * for the 6-digit code. */
struct page_totp_setup {
    const char *action; /* "/account" */
    const char *csrf;
    const char *secret; /* base32 key */
    const char *uri;    /* otpauth:// URI */
    const char *error;  /* translated, above the field; NULL: none */
    /* In the sign-in (login.second_factor "required"): the sealed state
     * in the hidden field "step" instead of csrf and scope; NULL: none. */
    const char *step;
};
/* NULL when out of memory (or the URI does not fit a QR code). */
char *pages_totp_setup(const struct page_ctx *ctx,
                       const struct page_totp_setup *p);

/* The sign-in's second step: a code from the app or a recovery code,
 * posted to action ("/login") with the sealed "password ok" state in the
 * hidden field "step". */
struct page_login_code {
    const char *action;
    const char *step;
    const char *error; /* translated; NULL: none */
    /* The user has a passkey too: a second form, "Use a passkey", for
     * /passkey.js (the page then needs script-src 'self'), posting step
     * and the sealed challenge as "state"; NULL: none. */
    const char *passkey_challenge;
    const char *passkey_rp_id;
    const char *passkey_state;
};
char *pages_login_code(const struct page_ctx *ctx,
                       const struct page_login_code *p);

/* The recovery codes, shown once, with "save these" and a link back, or
 * with step (not NULL: in the sign-in) a form posting it to back to go
 * on. */
char *pages_totp_codes(const struct page_ctx *ctx, const char *back,
                       const char *step, const char *const *codes, size_t n);

/* A browser-facing error: a title and a message (msgids, translated
 * here), never a stack trace. */
char *pages_error(const struct page_ctx *ctx, const char *title,
                  const char *message);

/* The page sign-in shows while a maintenance shutdown is active: the
 * operator's message (as given) and since, the time it started as the
 * reader should see it ("15:00 UTC"; NULL: not said). */
char *pages_maintenance(const struct page_ctx *ctx, const char *message,
                        const char *since);

/* Passkeys (pages_passkeys.c). The page's only script is /passkey.js
 * (pages_passkey_script): it makes the navigator.credentials call a form
 * with data-passkey asks for and posts the answer in the form's hidden
 * fields. Without script those forms stay hidden and the rest works. */
extern const char pages_passkey_script[];

struct page_passkey_item {
    const char *id;      /* base64url credential id (the Remove form's) */
    const char *name;
    const char *created; /* "2026-12-07 13:45 UTC" */
};
/* /account/passkeys: the list with "Remove" each, and "Add a passkey". */
struct page_passkeys {
    const char *action;    /* "/account/passkeys" */
    const char *csrf;
    const char *username;
    const char *status;    /* a line above the list (translated); NULL */
    const char *error;     /* the same as an alert (translated); NULL */
    const struct page_passkey_item *items;
    size_t nitems;
    /* navigator.credentials.create's: the challenge and the state sealed
     * around it, the RP ID and the user's handle (base64url) */
    const char *challenge;
    const char *state;
    const char *rp_id;
    const char *user_id;
};
char *pages_passkeys(const struct page_ctx *ctx, const struct page_passkeys *p);

/* /login/passkey: "Sign in with a passkey" (a discoverable credential). */
struct page_passkey_sign_in {
    const char *action;    /* "/login/passkey" */
    const char *challenge;
    const char *state;
    const char *rp_id;
    const char *request;   /* the pending authorization request; NULL */
    const char *return_to; /* a Gatehouse page to go back to; NULL */
    const char *password_link; /* the password form's URL */
    const char *error;     /* translated; NULL */
    /* the second step after a password (hidden field "step", the sealed
     * state of the first); NULL: a sign-in with a passkey alone */
    const char *step;
};
char *pages_passkey_sign_in(const struct page_ctx *ctx,
                            const struct page_passkey_sign_in *p);

#endif
