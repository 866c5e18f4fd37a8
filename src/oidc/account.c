/* SPDX-License-Identifier: MIT */
/*
 * /account: the signed-in user's own sessions (SPEC §4), each with "Sign
 * out", and "Sign out of all sessions". Every ending is the one
 * session_end of /logout, with its notifications, audit record and
 * metrics (reason rp_logout, actor "account"); ending this browser's
 * session answers as /logout does. Actions need an authentication within
 * login.reauth_window_s (SPEC §7 step-up, stepup.h): the password is asked
 * again, and the action then goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "gatehouse/auth/client_auth.h"
#include "gatehouse/auth/enrol.h"
#include "gatehouse/auth/presign.h"
#include "gatehouse/auth/signedin.h"
#include "gatehouse/auth/stepup.h"
#include "gatehouse/auth/stepup_page.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/useragent.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/crypto/password.h" /* PASSWORD_MAX */
#include "gatehouse/crypto/webauthn.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/http/pages.h"
#include "gatehouse/oidc/account.h"
#include "gatehouse/oidc/login.h"
#include "gatehouse/oidc/logout.h"
#include "gatehouse/session/admin_ops.h"
#include "gatehouse/session/session.h"

#define ACTOR "account"
#define PURPOSE "account"

/* The "Two-step verification" actions (SPEC §7). */
enum factor_act {
    FA_NONE,      /* a sign-out */
    FA_SETUP,     /* "Set up an authenticator app" */
    FA_ACTIVATE,  /* the first code from it */
    FA_REMOVE,    /* "Remove" */
    FA_RECOVERY,  /* "New recovery codes" */
};
static const char *const factor_scopes[] = {
    [FA_NONE] = "", [FA_SETUP] = "totp_setup",
    [FA_ACTIVATE] = "totp_activate", [FA_REMOVE] = "totp_remove",
    [FA_RECOVERY] = "recovery_new"};

/* What an action asks for, read from the form. */
struct action {
    enum factor_act factor;        /* FA_NONE: a sign-out, as below */
    int all;                       /* "Sign out of all sessions" */
    char sid[SESSION_SID_LEN + 1]; /* else this one */
};

/* The account page as signedin.h opens it. */
static const struct signedin_page page = {
    LOGIN_RETURN_ACCOUNT, PURPOSE,
    N_("Your sessions cannot be shown or changed right now; nothing was "
       "changed. Please try again in a moment.")};

static void
unavailable(struct http_request *req)
{
    signedin_unavailable(req, &page);
}

/* No session: sign in, then back here (login_return_path). */
static void
to_sign_in(struct http_request *req, int post)
{
    http_redirect(req, post ? 303 : 302, LOGIN_RETURN_ACCOUNT);
}

/*
 * fmt (a translated msgid) with its first "%s" replaced by a and its
 * second by b (NULL: fmt has one), malloc'd. By hand, not printf: a
 * translation is data, and a stray conversion in it must not read the
 * stack.
 */
static char *
subst(const char *fmt, const char *a, const char *b)
{
    const char *at = strstr(fmt, "%s");
    char *head, *out;

    if (at == NULL)
        return xstrdup(fmt);
    head = b != NULL ? subst(at + 2, b, NULL) : xstrdup(at + 2);
    out = xasprintf("%.*s%s%s", (int)(at - fmt), fmt, a, head);
    free(head);
    return out;
}

/* "Chrome on Linux" from the family "Chrome/Linux" (useragent_family):
 * malloc'd, in lang. */
static char *
browser_text(enum lang lang, const struct session *s)
{
    char fam[USERAGENT_FAMILY_MAX], *os;

    if (s->ua_family[0] != '\0')
        snprintf(fam, sizeof(fam), "%s", s->ua_family);
    else
        useragent_family(s->ua, fam);
    if ((os = strchr(fam, '/')) != NULL)
        *os++ = '\0';
    if (fam[0] == '\0' || strcmp(fam, "none") == 0)
        return xstrdup(tr(lang, "Unknown browser"));
    if (os == NULL || *os == '\0' || strcmp(os, "other") == 0)
        return xstrdup(fam);
    /* TRANSLATORS: a browser (%s first) on an operating system (%s
     * second), e.g. "Chrome on Linux"; keep the order of the two. */
    return subst(tr(lang, "%s on %s"), fam, os);
}

/* The app's display name (malloc'd); its client_id if it is gone. */
static char *
app_name(struct app *app, const char *client_id)
{
    const struct client *c = NULL;
    struct client *owned = NULL;
    char *name;

    if (client_auth_find(app, client_id, &c, &owned) < 0)
        return xstrdup(client_id);
    name = xstrdup(c->name);
    client_free(owned);
    return name;
}

/* This browser's first, then the most recently seen. */
static int
by_recent(const void *a, const void *b)
{
    const struct session *x = *(struct session *const *)a;
    const struct session *y = *(struct session *const *)b;

    return (x->last_seen < y->last_seen) - (x->last_seen > y->last_seen);
}

/* The live sessions of sub, this browser's (current) first. */
static int
list_sessions(struct app *app, const struct session *current,
              struct session ***ret, size_t *count)
{
    struct session **list = NULL;
    char **sids = NULL;
    size_t n = 0, i, k = 0;
    int rc;

    if ((rc = session_list_user(app->store, current->sub, &sids, &n)) < 0)
        return rc;
    list = xcalloc(n + 1, sizeof(*list));
    for (i = 0; i < n; i++) {
        if (strcmp(sids[i], current->sid) == 0)
            continue;
        rc = session_get(app->store, sids[i], &list[k]);
        if (rc == GH_ENOTFOUND)
            continue; /* ended since the index was read */
        if (rc < 0)
            goto out;
        k++;
    }
    qsort(list, k, sizeof(*list), by_recent);
    /* The current one, as read with the cookie, goes first. */
    memmove(list + 1, list, k * sizeof(*list));
    if ((rc = session_get(app->store, current->sid, &list[0])) < 0) {
        memmove(list, list + 1, k * sizeof(*list));
        list[k] = NULL;
        goto out;
    }
    k++;
    *ret = list;
    *count = k;
    list = NULL;
    rc = 0;
out:
    for (i = 0; list != NULL && i < k; i++)
        session_free(list[i]);
    free(list);
    for (i = 0; i < n; i++)
        free(sids[i]);
    free(sids);
    return rc;
}

/* The account page, with a status line (translated, or NULL) and the
 * front-channel frames of a session just ended (n of them). */
static void
show(struct http_request *req, const struct session *s, const char *status,
     char *const *frames, size_t nframes)
{
    struct app *app = req->app;
    const struct page_ctx *ctx = http_page_ctx(req);
    struct page_account_session *rows = NULL;
    struct session **list = NULL;
    struct page_account pa;
    struct user *u = NULL;
    char(*times)[2][SIGNEDIN_TIME_MAX] = NULL;
    char *csrf = NULL, *html, *csp;
    struct factor_info fi[FACTORS_MAX];
    size_t n = 0, i, k, nfi = 0;
    int rc, active, left = 0;

    if ((rc = list_sessions(app, s, &list, &n)) < 0 ||
        ((rc = users_get(app->store, s->sub, &u)) < 0) ||
        ((rc = active = factors_list(app->store, s->sub, fi, &nfi, &left)) <
         0)) {
        if (rc == GH_ENOTFOUND)
            to_sign_in(req, 0);
        else
            unavailable(req);
        goto out;
    }
    /* Sealed and bound to the session, as the logout confirmation's:
     * nothing stored, and useless once the session has ended. */
    if (presign_token(app, PURPOSE, s->sid, &csrf) < 0) {
        unavailable(req);
        goto out;
    }
    rows = xcalloc(n + 1, sizeof(*rows));
    times = xcalloc(n + 1, sizeof(*times));
    for (i = 0; i < n; i++) {
        const char **apps = xcalloc(list[i]->napps + 1, sizeof(char *));

        for (k = 0; k < list[i]->napps; k++)
            apps[k] = app_name(app, list[i]->apps[k]);
        signedin_time(list[i]->created, times[i][0]);
        signedin_time(list[i]->last_seen, times[i][1]);
        rows[i] = (struct page_account_session){
            .sid = list[i]->sid,
            .browser = browser_text(ctx->lang, list[i]),
            .address = list[i]->ip[0] != '\0' ? list[i]->ip : "-",
            .started = times[i][0],
            .last_seen = times[i][1],
            .apps = apps,
            .napps = list[i]->napps,
            .current = i == 0,
        };
    }
    memset(&pa, 0, sizeof(pa));
    pa.action = "/account";
    pa.csrf = csrf;
    pa.username = u->username;
    pa.status = status;
    pa.sessions = rows;
    pa.nsessions = n;
    pa.frames = frames;
    pa.nframes = nframes;
    pa.totp_active = active;
    pa.recovery_left = left;
    html = pages_account(ctx, &pa);
    csp = logout_frames_csp(frames, nframes);
    http_reply_html_csp(req, 200, html != NULL ? html : xstrdup(""), csp);
    free(csp);
out:
    for (i = 0; rows != NULL && i < n; i++) {
        for (k = 0; k < rows[i].napps; k++)
            free((char *)rows[i].apps[k]);
        free((void *)rows[i].apps);
        free((char *)rows[i].browser);
    }
    free(rows);
    free(times);
    for (i = 0; list != NULL && i < n; i++)
        session_free(list[i]);
    free(list);
    free(csrf);
    user_free(u);
}

/* The step-up form, carrying the action; error (a msgid) or NULL. */
static void
show_reauth(struct http_request *req, const struct session *s,
            const struct action *a, const char *error, int status)
{
    struct page_account_reauth pr = {
        .action = "/account",
        .scope = a->factor != FA_NONE ? factor_scopes[a->factor]
                 : a->all             ? "all"
                                      : "session",
        .sid = a->all || a->factor != FA_NONE ? NULL : a->sid,
        .error = error != NULL ? tr(http_page_ctx(req)->lang, error) : NULL,
    };

    if (stepup_page_show(req, s, PURPOSE, &pr, status) < 0)
        unavailable(req);
}

/* The enrolment page for e, with error (a msgid) or NULL. */
static void
show_setup(struct http_request *req, const struct session *s,
           const struct totp_enrolment *e, const char *error, int status)
{
    const struct page_ctx *ctx = http_page_ctx(req);
    struct page_totp_setup ps;
    char *csrf = NULL, *html;

    if (presign_token(req->app, PURPOSE, s->sid, &csrf) < 0) {
        unavailable(req);
        goto out;
    }
    memset(&ps, 0, sizeof(ps));
    ps.action = "/account";
    ps.csrf = csrf;
    ps.secret = e->secret;
    ps.uri = e->uri;
    ps.error = error != NULL ? tr(ctx->lang, error) : NULL;
    html = pages_totp_setup(ctx, &ps);
    if (html == NULL) {
        unavailable(req);
        goto out;
    }
    http_add_header(req, "Cache-Control", "no-store");
    http_reply_html(req, status, html);
out:
    free(csrf);
}

/* The recovery codes, once (not cached). */
static void
show_codes(struct http_request *req,
           char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1])
{
    const char *list[RECOVERY_CODES];
    char *html;
    size_t i;

    for (i = 0; i < RECOVERY_CODES; i++)
        list[i] = codes[i];
    html = pages_totp_codes(http_page_ctx(req), "/account", NULL, list,
                            RECOVERY_CODES);
    if (html == NULL) {
        unavailable(req);
        return;
    }
    http_add_header(req, "Cache-Control", "no-store");
    http_reply_html(req, 200, html);
}

/* "Set up an authenticator app": a new pending secret (replacing one not
 * yet activated) and its page. */
static void
totp_setup(struct http_request *req, const struct session *s)
{
    struct app *app = req->app;
    struct totp_enrolment e = {{0}, NULL};
    struct user *u = NULL;
    int rc;

    if ((rc = users_get(app->store, s->sub, &u)) < 0 ||
        (rc = factors_totp_enrol(app->store, app->factor_key, app->cfg->issuer,
                                 s->sub, u->username, &e)) < 0) {
        if (rc == GH_EEXISTS)
            show(req, s,
                 tr(http_page_ctx(req)->lang,
                    "Two-step verification is already on."),
                 NULL, 0);
        else
            unavailable(req);
        goto out;
    }
    log_info("account_totp_enrol sub=%s", s->sub);
    show_setup(req, s, &e, NULL, 200);
out:
    factors_enrolment_clear(&e);
    user_free(u);
}

/* The first code from the app: right, the TOTP is on and the recovery
 * codes are shown; wrong, the same QR code and key again with an error. */
static void
totp_activate(struct http_request *req, const struct session *s,
              const char *code)
{
    struct app *app = req->app;
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    struct totp_enrolment e = {{0}, NULL};
    int rc;

    rc = factors_totp_activate(app->store, app->factor_key, s->sub,
                               code != NULL ? code : "",
                               code != NULL ? strlen(code) : 0,
                               (int64_t)time(NULL), codes);
    if (rc == 0) {
        log_info("account_totp_active sub=%s", s->sub);
        show_codes(req, codes);
        OPENSSL_cleanse(codes, sizeof(codes));
        return;
    }
    if (rc == GH_ENOTFOUND) { /* activated or restarted meanwhile */
        show(req, s, NULL, NULL, 0);
        return;
    }
    if (rc != GH_EDENIED && rc != GH_EINVAL) {
        unavailable(req);
        return;
    }
    log_info("account_totp_wrong_code sub=%s", s->sub);
    rc = enrol_pending(app, s->sub, &e);
    if (rc == GH_ENOTFOUND)
        show(req, s, NULL, NULL, 0);
    else if (rc < 0)
        unavailable(req);
    else
        show_setup(req, s, &e, ENROL_WRONG_CODE, 400);
    factors_enrolment_clear(&e);
}

/* "Remove" and "New recovery codes", after the step-up. Removing is the
 * user's own action: their other sessions go on (an administrator's
 * reset ends them, admin_reset_factors). */
static void
factor_act(struct http_request *req, const struct session *s,
           const struct action *a)
{
    struct app *app = req->app;
    const struct page_ctx *ctx = http_page_ctx(req);
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    int rc;

    switch (a->factor) {
    case FA_SETUP:
        totp_setup(req, s);
        return;
    case FA_REMOVE:
        /* Required of everyone, or of this user by an administrator. */
        rc = app->cfg->login_second_factor == SECOND_FACTOR_REQUIRED
                 ? 1
                 : factors_required(app->store, s->sub);
        if (rc < 0) {
            unavailable(req);
            return;
        }
        if (rc > 0) {
            log_info("account_totp_remove_refused sub=%s", s->sub);
            show(req, s,
                 tr(ctx->lang, "Two-step verification is required here, "
                               "so it cannot be removed."),
                 NULL, 0);
            return;
        }
        if ((rc = factors_reset(app->store, s->sub)) < 0) {
            unavailable(req);
            return;
        }
        log_info("account_totp_removed sub=%s any=%d", s->sub, rc);
        show(req, s, tr(ctx->lang, "Two-step verification was removed."),
             NULL, 0);
        return;
    case FA_RECOVERY:
        rc = factors_recovery_new(app->store, app->factor_key, s->sub, codes);
        if (rc == GH_ENOTFOUND) {
            show(req, s, NULL, NULL, 0);
        } else if (rc < 0) {
            unavailable(req);
        } else {
            log_info("account_recovery_new sub=%s", s->sub);
            show_codes(req, codes);
        }
        OPENSSL_cleanse(codes, sizeof(codes));
        return;
    default:
        show(req, s, NULL, NULL, 0);
        return;
    }
}

/*
 * Does what a (fresh enough) form asked: ending this browser's session,
 * or all of them, answers as /logout; ending another shows the page again
 * with a status line. Only the user's own live sessions: a sid of anyone
 * else is "not found", and nothing ends. held: req is suspended by a
 * step-up; 1 if it was handed on (to be resumed by /logout's answer), 0 if
 * answered here.
 */
static int
act(struct http_request *req, const struct session *s, const struct action *a,
    int held)
{
    struct app *app = req->app;
    const struct page_ctx *ctx = http_page_ctx(req);
    struct session *t = NULL;
    struct session_ended e;
    char *browser, *status, **frames;
    size_t i, nframes = 0;
    int rc;

    if (a->factor != FA_NONE) {
        factor_act(req, s, a);
        return 0;
    }
    if (a->all) {
        log_info("account_logout_all sub=%s", s->sub);
        logout_end_and_show(req, s->sid, s->sub, ACTOR, held);
        return 1;
    }
    if (strcmp(a->sid, s->sid) == 0) {
        log_info("account_logout sub=%s current=1", s->sub);
        logout_end_and_show(req, s->sid, NULL, ACTOR, held);
        return 1;
    }
    rc = session_get(app->store, a->sid, &t);
    if (rc < 0 && rc != GH_ENOTFOUND) {
        unavailable(req);
        return 0;
    }
    if (rc == GH_ENOTFOUND || strcmp(t->sub, s->sub) != 0) {
        /* Not one of yours, or over already: the same answer, so a sid
         * says nothing about whose it is. */
        log_info("account_logout_refused sub=%s", s->sub);
        http_error_page(req, 404, N_("Session not found"),
                        N_("That session has already ended or is not one of "
                           "yours. Nothing was signed out."));
        goto out;
    }
    memset(&e, 0, sizeof(e));
    if ((rc = session_end_by(app->store, app->cfg, t->sid, END_RP_LOGOUT, ACTOR,
                             &e)) < 0) {
        unavailable(req);
        goto out;
    }
    log_info("account_logout sub=%s current=0", s->sub);
    /* Its front-channel apps hear of it through this browser (OIDC
     * Front-Channel Logout 1.0), each frame with the ended session's sid. */
    frames = xcalloc(e.napps + 1, sizeof(*frames));
    for (i = 0; i < e.napps; i++)
        if ((frames[nframes] = logout_frame_url(app, e.apps[i], t->sid)) !=
            NULL)
            nframes++;
    session_ended_clear(&e);
    browser = browser_text(ctx->lang, t);
    status =
        subst(tr(ctx->lang, "Signed out of the session on %s."), browser, NULL);
    /* The page a moment later: the ended session is gone from it. */
    show(req, s, status, frames, nframes);
    free(status);
    free(browser);
    for (i = 0; i < nframes; i++)
        free(frames[i]);
    free(frames);
out:
    session_free(t);
    return 0;
}

/* An action waiting for its step-up. */
struct pending {
    struct session *s;
    struct action a;
};

/* Runs on the hash pool once the password was checked (stepup.h). */
static int
stepped_up(struct http_request *req, void *arg, int rc)
{
    struct pending *p = arg;
    int handed_on = 0;

    if (rc == 0) {
        handed_on = act(req, p->s, &p->a, 1);
    } else if (rc == GH_EDENIED) {
        show_reauth(req, p->s, &p->a, N_("Incorrect password."), 401);
    } else if (rc == GH_ENOTFOUND) {
        to_sign_in(req, 1); /* ended meanwhile: nothing left to act for */
    } else if (rc == GH_EBUSY) {
        http_add_header(req, "Retry-After", "1");
        http_error_page(req, 503, N_("Busy"),
                        N_("Too many sign-ins at once. Please try again in a "
                           "moment."));
    } else {
        unavailable(req);
    }
    session_free(p->s);
    free(p);
    return handed_on;
}

/* The action a form asks for; -1 if it asks for none we know. */
static int
read_action(const struct form *f, struct action *a)
{
    const char *scope = form_get(f, "scope"), *sid = form_get(f, "sid");
    size_t i;

    memset(a, 0, sizeof(*a));
    for (i = FA_SETUP; scope != NULL && i <= FA_RECOVERY; i++)
        if (strcmp(scope, factor_scopes[i]) == 0) {
            a->factor = (enum factor_act)i;
            return 0;
        }
    if (scope != NULL && strcmp(scope, "all") == 0) {
        a->all = 1;
        return 0;
    }
    if (scope != NULL && strcmp(scope, "session") == 0 && sid != NULL &&
        admin_valid_sid(sid)) {
        snprintf(a->sid, sizeof(a->sid), "%s", sid);
        return 0;
    }
    return -1;
}

/* A form of the page posted (signedin_handle): s is ours to free. */
static void
post(struct http_request *req, struct session *s, const struct form *f)
{
    struct app *app = req->app;
    struct pending *p;
    const char *password;
    struct action a;
    int rc;

    if (read_action(f, &a) < 0) {
        http_error_page(req, 400, N_("Invalid request"),
                        N_("The form was not sent correctly. Nothing was "
                           "signed out."));
        goto out;
    }
    /* The first code of an enrolment the step-up let start: the code
     * itself proves the user holds the key just shown. */
    if (a.factor == FA_ACTIVATE) {
        totp_activate(req, s, form_get(f, "code"));
        goto out;
    }
    /* SPEC §7 step-up: an authentication within the window. */
    if (!stepup_fresh(app->cfg, s)) {
        const char *code = form_get(f, "code");

        password = form_get(f, "password");
        /* Or one of the user's passkeys (/passkey.js posts its answer). */
        if (form_get(f, "pkstate") != NULL) {
            rc = stepup_verify_passkey(
                req, s, form_get(f, "pkstate"), form_get(f, "id"),
                form_get(f, "client_data"), form_get(f, "auth_data"),
                form_get(f, "sig"));
            if (rc == 0)
                act(req, s, &a, 0);
            else if (rc == GH_EDENIED || rc == GH_EINVAL)
                show_reauth(req, s, &a,
                            N_("That passkey was not accepted. Try again."),
                            rc == GH_EDENIED ? 401 : 400);
            else if (rc == GH_ENOTFOUND)
                to_sign_in(req, 1);
            else if (rc != 1)
                unavailable(req);
            goto out;
        }
        /* Or a code from the authenticator app (SPEC §7). */
        if ((password == NULL || *password == '\0') && code != NULL &&
            *code != '\0') {
            rc = strlen(code) > 64 ? GH_EINVAL
                                   : stepup_verify_code(req, s, code);
            if (rc == 0)
                act(req, s, &a, 0);
            else if (rc == GH_EDENIED)
                show_reauth(req, s, &a, N_("Incorrect code."), 401);
            else if (rc == GH_EINVAL)
                show_reauth(req, s, &a,
                            N_("Enter your password, or the 6-digit code "
                               "from your app."),
                            400);
            else if (rc == GH_ENOTFOUND)
                to_sign_in(req, 1);
            else if (rc != 1)
                unavailable(req);
            goto out;
        }
        if (password == NULL || *password == '\0' ||
            strlen(password) > PASSWORD_MAX) {
            show_reauth(req, s, &a,
                        password != NULL ? N_("Enter your password.") : NULL,
                        password != NULL ? 400 : 200);
            goto out;
        }
        p = xcalloc(1, sizeof(*p));
        p->s = s;
        p->a = a;
        if (stepup_verify(req, s, password, stepped_up, p) != 0)
            free(p); /* answered; s is still ours */
        else
            s = NULL;
        goto out;
    }
    act(req, s, &a, 0);
out:
    session_free(s);
}

static void
get(struct http_request *req, const struct session *s)
{
    show(req, s, NULL, NULL, 0);
}

void
account_handle(struct http_request *req)
{
    signedin_handle(req, &page, get, post);
}
