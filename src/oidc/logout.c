/* SPDX-License-Identifier: MIT */
/* /logout: OpenID Connect RP-Initiated Logout 1.0. Ends the session through
 * the one session_end, then waits (connection suspended) for each app's
 * first back-channel attempt so the app the user returns to already knows
 * (SPEC §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/core/app.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/core/config.h"
#include "gatehouse/session/delivery.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/states.h"
#include "gatehouse/oidc/logout.h"
#include "gatehouse/http/pages.h"
#include "gatehouse/auth/presign.h"
#include "gatehouse/auth/stepup.h"
#include "gatehouse/auth/stepup_page.h"
#include "gatehouse/crypto/password.h" /* PASSWORD_MAX */
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"

/* What the answer needs once the deliveries have had their first try. */
struct pending_logout {
    struct http_request *req;
    char *redirect; /* the full post-logout redirect, or NULL */
    int status;     /* 302 after GET, 303 after POST */
    int ended;      /* this request ended the session */
    enum signed_out_scope scope; /* what the page says ended */
    char sid[SESSION_SID_LEN + 1];
    char **names;   /* display names of the apps, for the page */
    char **ids;     /* their client_ids */
    char **frames;  /* their front-channel logout URLs, or NULL */
    int *notified;  /* a delivery was queued for it */
    size_t napps;
    /* The first nown are this session's apps; the rest are front-channel
     * frames of the other sessions "Sign out everywhere" ended. */
    size_t nown;
};

static void
pending_free(struct pending_logout *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->napps; i++) {
        free(p->names[i]);
        free(p->ids[i]);
        free(p->frames[i]);
    }
    free(p->names);
    free(p->ids);
    free(p->frames);
    free(p->notified);
    free(p->redirect);
    free(p);
}

/*
 * Gatehouse's own cookies, all of which a logout expires. Only these:
 * Clear-Site-Data "cookies" would take every other app's cookies of the
 * registrable domain with them (issue 14), so it is sent only when
 * logout.clear_site_data asks for it.
 * Not the device cookie (gh_device, device.h): it says this browser signed
 * in as someone before, which is what keeps them able to sign in again
 * while a flood locks everyone else out (SPEC §7 Lockout); it signs no one
 * in.
 */
static const char *const own_cookies[] = {SESSION_COOKIE, PRESIGN_COOKIE,
                                          PRESIGN_COOKIE_HOST};

/* SPEC §5: only an answer that ended a session ends the browser's copy of
 * it. A logout that ended nothing (a cross-site form the Lax cookie did not
 * come with) must leave the browser as it was, or the session lives on in
 * Redis while the browser forgets it and no app is told. */
static void
expire_browser_state(struct http_request *req)
{
    const struct config *cfg = req->app->cfg;
    char buf[160];
    size_t i;

    for (i = 0; i < sizeof(own_cookies) / sizeof(own_cookies[0]); i++) {
        /* A __Host- cookie exists only under https. */
        if (!cfg->issuer_https && strncmp(own_cookies[i], "__Host-", 7) == 0)
            continue;
        snprintf(buf, sizeof(buf),
                 "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
                 own_cookies[i], cfg->issuer_https ? "; Secure" : "");
        http_add_header(req, "Set-Cookie", buf);
    }
    if (cfg->logout_clear_site_data != NULL)
        http_add_header(req, "Clear-Site-Data", cfg->logout_clear_site_data);
}

/* SPEC §7: a Redis failure is never reported as success; the user is told
 * that nothing changed, so a retry is safe. */
static void
unavailable(struct http_request *req)
{
    http_add_header(req, "Retry-After", "5");
    http_error_page(req, 503, N_("Temporarily unavailable"),
                    N_("We could not sign you out; nothing was changed. "
                       "Please try again in a moment."));
}

/* The app's display name; with frame, also its front-channel logout URL
 * for session sid into *frame (NULL when it has none): OIDC Front-Channel
 * Logout 1.0 §2, iss and sid added when the app asked for them. */
static char *
app_describe(struct app *app, const char *client_id, const char *sid,
             char **frame)
{
    const struct client *c = NULL;
    struct client *owned = NULL;
    char *name, *url = NULL;

    if (frame != NULL)
        *frame = NULL;
    if (client_auth_find(app, client_id, &c, &owned) < 0)
        return xstrdup(client_id);
    name = xstrdup(c->name);
    if (frame != NULL && c->frontchannel_logout_uri != NULL) {
        url = xstrdup(c->frontchannel_logout_uri);
        if (c->frontchannel_logout_session_required &&
            (form_url_append(&url, "iss", app->cfg->issuer) < 0 ||
             form_url_append(&url, "sid", sid) < 0)) {
            /* Out of memory: a frame without iss and sid would be refused
             * by the app anyway. */
            free(url);
            url = NULL;
        }
        *frame = url;
    }
    client_free(owned);
    return name;
}

static char *
app_name(struct app *app, const char *client_id)
{
    return app_describe(app, client_id, NULL, NULL);
}

/* 1 if list (" origin origin ...") holds o. */
static int
origin_listed(const char *list, const char *o)
{
    size_t n = strlen(o);
    const char *at = list;

    while ((at = strstr(at, o)) != NULL) {
        if (at > list && at[-1] == ' ' && (at[n] == ' ' || at[n] == '\0'))
            return 1;
        at += n;
    }
    return 0;
}

/*
 * What the signed-out page's CSP must add for its front-channel frames:
 * their origins in frame-src (child-src for CSP 2 browsers) and our own
 * script; NULL when the page has no frame.
 */
char *
logout_frames_csp(char *const *frames, size_t n)
{
    char *list = xstrdup(""), *o, *next, *csp = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        /* The URI passed uri_check_redirect, so its origin has no ';' or
         * ',' that could end the directive. */
        if (frames[i] == NULL || uri_origin(frames[i], &o) < 0)
            continue;
        if (!origin_listed(list, o)) {
            next = xasprintf("%s %s", list, o);
            free(list);
            list = next;
        }
        free(o);
    }
    if (list[0] != '\0')
        csp = xasprintf("script-src 'self'; frame-src%s; child-src%s", list,
                        list);
    free(list);
    return csp;
}

static char *
frames_csp(const struct pending_logout *p)
{
    return logout_frames_csp(p->frames, p->napps);
}

char *
logout_frame_url(struct app *app, const char *client_id, const char *sid)
{
    char *frame;

    free(app_describe(app, client_id, sid, &frame));
    return frame;
}

/* GET /logout/frontchannel.js: the signed-out page's only script. */
void
logout_frontchannel_script(struct http_request *req)
{
    http_add_header(req, "X-Content-Type-Options", "nosniff");
    http_reply(req, 200, "text/javascript; charset=utf-8",
               xstrdup(pages_frontchannel_script),
               strlen(pages_frontchannel_script));
}

/* The signed-out answer: back to the app, or a page listing every app and
 * whether it has heard. */
static void
answer(struct pending_logout *p, const enum delivery_state *states)
{
    struct http_request *req = p->req;
    struct page_app_status *apps;
    char *html, *csp;
    size_t i;

    if (p->ended)
        expire_browser_state(req);
    /* With a front-channel app, the way back to the app is through the
     * page that loads its frame (OIDC Front-Channel Logout 1.0 §4). */
    for (i = 0; p->redirect != NULL && i < p->napps; i++)
        if (p->frames[i] != NULL)
            break;
    if (p->redirect != NULL && i == p->napps) {
        http_redirect(req, p->status, p->redirect);
        return;
    }
    apps = calloc(p->napps + 1, sizeof(*apps));
    for (i = 0; apps != NULL && i < p->napps; i++) {
        apps[i].name = p->names[i];
        apps[i].frame = p->frames[i];
        if (i >= p->nown)
            continue; /* another session's frame: no status, not listed */
        /* An app with both channels shows its back channel's state; its
         * frame loads all the same. */
        apps[i].frame_reports = !p->notified[i] && p->frames[i] != NULL;
        if (apps[i].frame_reports)
            apps[i].status = N_("notified by your browser");
        else if (!p->notified[i])
            apps[i].status = N_("not notified (no back-channel)");
        else if (states[i] == DELIVERY_DELIVERED)
            apps[i].status = N_("signed out");
        else
            apps[i].status = N_("still trying");
    }
    html = pages_signed_out_continue(http_page_ctx(req), p->scope, apps,
                                     apps != NULL ? p->napps : 0, p->redirect);
    free(apps);
    csp = frames_csp(p);
    http_reply_html_csp(req, 200, html != NULL ? html : strdup(""), csp);
    free(csp);
}

/* Runs on the delivery engine's thread (or at once if nothing to wait
 * for): what the engine did not see itself may have been done by another
 * instance, so Redis has the last word. */
static void
waited(void *arg, const enum delivery_state *st, size_t n)
{
    struct pending_logout *p = arg;
    enum delivery_state *states = calloc(p->napps + 1, sizeof(*states));
    size_t i, j = 0;

    for (i = 0; states != NULL && i < p->napps; i++) {
        char id[160], state[16];
        int attempts = 0;
        if (!p->notified[i])
            continue;
        states[i] = j < n ? st[j] : DELIVERY_WAITING;
        j++;
        if (states[i] != DELIVERY_WAITING)
            continue;
        snprintf(id, sizeof(id), "%s:%s", p->sid, p->ids[i]);
        if (store_delivery_state(p->req->app->store, id, state, &attempts) ==
            0)
            states[i] = ledger_state_parse(state) == LEDGER_DELIVERED
                            ? DELIVERY_DELIVERED
                        : attempts > 0 ? DELIVERY_TRYING
                                       : DELIVERY_WAITING;
    }
    if (states != NULL)
        answer(p, states);
    else
        http_error_page(p->req, 500, N_("Something went wrong"),
                        N_("Out of memory."));
    free(states);
    http_resume(p->req);
    pending_free(p);
}

/* The front-channel frames of the other sessions "Sign out everywhere"
 * ended: each app's URL with that session's sid. */
struct other_frames {
    char **names;
    char **frames;
    size_t n;
};

static void
other_frames_clear(struct other_frames *o)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        free(o->names[i]);
        free(o->frames[i]);
    }
    free(o->names);
    free(o->frames);
    memset(o, 0, sizeof(*o));
}

/*
 * Ends every session of sub but keep, by actor, collecting into of the
 * front-channel frames of their apps (OIDC Front-Channel Logout 1.0: the
 * browser that signs out everywhere is the one to load them, each with
 * its own session's sid). One ending at a time, as a user has few
 * sessions and each one's apps are needed.
 */
static int
end_others(struct app *app, const char *sub, const char *keep,
           const char *actor, struct other_frames *of)
{
    struct session_ended e;
    char **sids = NULL, *frame;
    size_t n = 0, i, j;
    long long ended = 0;
    int rc = 0;

    if ((rc = session_list_user(app->store, sub, &sids, &n)) < 0)
        return rc;
    for (i = 0; i < n && rc >= 0; i++) {
        if (strcmp(sids[i], keep) == 0)
            continue;
        memset(&e, 0, sizeof(e));
        rc = session_end_by(app->store, app->cfg, sids[i], END_RP_LOGOUT,
                            actor, &e);
        if (rc != 1)
            continue; /* ended already (0), or failed (< 0: stop) */
        ended++;
        for (j = 0; j < e.napps; j++) {
            char *name = app_describe(app, e.apps[j], sids[i], &frame);

            if (frame == NULL) {
                free(name);
                continue;
            }
            of->names = xrealloc(of->names, of->n + 1, sizeof(char *));
            of->frames = xrealloc(of->frames, of->n + 1, sizeof(char *));
            of->names[of->n] = name;
            of->frames[of->n] = frame;
            of->n++;
        }
        session_ended_clear(&e);
    }
    if (rc >= 0) {
        rc = 0;
        log_info("logout_everywhere sessions=%lld", ended + 1);
    }
    for (i = 0; i < n; i++)
        free(sids[i]);
    free(sids);
    return rc;
}

/* Ends the session (and, with everywhere_sub, every other session of that
 * user) and parks the request until the apps have heard. held: req is
 * suspended already (a step-up's hash-pool job handed it on), and is
 * resumed here once answered, as it would be after a suspension of ours:
 * suspensions do not nest (http.h). */
static void
end_and_wait(struct http_request *req, const char *sid,
             const char *everywhere_sub, const char *actor, char *redirect,
             int held)
{
    struct app *app = req->app;
    struct other_frames of = {0};
    struct session_ended e;
    struct pending_logout *p;
    const char **ids = NULL;
    size_t i, n = 0;
    int rc;

    memset(&e, 0, sizeof(e));
    /* "Sign out everywhere" ends the other sessions first: if they cannot
     * be ended, this one is left too and the page says nothing changed,
     * instead of "signed out" while the others live on (SPEC §7). */
    if (everywhere_sub != NULL &&
        (rc = end_others(app, everywhere_sub, sid, actor, &of)) < 0) {
        log_warnx("logout_everywhere_failed error=\"%s\"", gh_strerror(rc));
        other_frames_clear(&of);
        free(redirect);
        unavailable(req);
        goto answered;
    }
    rc = session_end_by(app->store, app->cfg, sid, END_RP_LOGOUT, actor, &e);
    if (rc < 0) {
        other_frames_clear(&of);
        free(redirect);
        unavailable(req);
        goto answered;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL ||
        (p->names = calloc(e.napps + of.n + 1, sizeof(char *))) == NULL ||
        (p->ids = calloc(e.napps + of.n + 1, sizeof(char *))) == NULL ||
        (p->frames = calloc(e.napps + of.n + 1, sizeof(char *))) == NULL ||
        (p->notified = calloc(e.napps + of.n + 1, sizeof(int))) == NULL ||
        (ids = calloc(e.napps + 1, sizeof(char *))) == NULL) {
        pending_free(p);
        other_frames_clear(&of);
        free(redirect);
        session_ended_clear(&e);
        http_error_page(req, 500, N_("Something went wrong"),
                        N_("Out of memory."));
        goto answered;
    }
    p->req = req;
    p->redirect = redirect;
    p->status = strcmp(req->method, "POST") == 0 ? 303 : 302;
    /* 0: another request ended it a moment ago, and that answer expired
     * what needed expiring. */
    p->ended = rc == 1;
    p->scope =
        everywhere_sub != NULL ? SIGNED_OUT_EVERYWHERE : SIGNED_OUT_DEVICE;
    snprintf(p->sid, sizeof(p->sid), "%s", sid);
    for (i = 0; i < e.napps; i++) {
        p->ids[i] = xstrdup(e.apps[i]);
        p->names[i] = app_describe(app, e.apps[i], sid, &p->frames[i]);
        p->notified[i] = e.notified[i];
        if (e.notified[i])
            ids[n++] = p->ids[i];
    }
    p->napps = e.napps;
    p->nown = e.napps;
    /* The other sessions' frames follow this one's apps: loaded, not
     * listed (their back channels were queued like this one's). */
    for (i = 0; i < of.n; i++) {
        p->names[p->napps] = of.names[i];
        p->frames[p->napps] = of.frames[i];
        p->ids[p->napps] = xstrdup("");
        p->napps++;
    }
    free(of.names);
    free(of.frames);
    session_ended_clear(&e);
    if (!held)
        http_suspend(req);
    if (delivery_wait(app->delivery, sid, ids, n,
                      app->cfg->backchannel_logout_wait_ms, waited, p) < 0) {
        enum delivery_state none[1] = {DELIVERY_WAITING};
        waited(p, none, 0);
    }
    free(ids);
    return;
answered:
    if (held)
        http_resume(req);
}

void
logout_end_and_show(struct http_request *req, const char *sid,
                    const char *everywhere_sub, const char *actor, int held)
{
    end_and_wait(req, sid, everywhere_sub, actor, NULL, held);
}

/* The post-logout redirect with state into *ret (NULL if none was asked
 * for), if the client may have it; GH_EINVAL if it is not registered,
 * another GH_E* code if the client could not be looked up (Redis away:
 * that is no "not registered"). *ret is malloc'd, set only on success. */
static int
post_logout_redirect(struct app *app, const char *client_id, const char *uri,
                     const char *state, char **ret)
{
    const struct client *c = NULL;
    struct client *owned = NULL;
    char *url;
    int rc;

    if (uri == NULL) {
        *ret = NULL;
        return 0;
    }
    /* SPEC §5: registered for the client named by the hint or client_id,
     * compared exactly; otherwise no redirect at all. */
    rc = client_auth_find(app, client_id, &c, &owned);
    if (rc == GH_ENOTFOUND || (rc == 0 && !client_has_post_logout_uri(c, uri)))
        rc = GH_EINVAL;
    if (rc < 0)
        goto out;
    url = strdup(uri);
    if (url != NULL && state != NULL &&
        form_url_append(&url, "state", state) < 0) {
        free(url);
        url = NULL;
    }
    *ret = url;
out:
    client_free(owned);
    return rc;
}

static void
show_confirm(struct http_request *req, const struct session *s,
             const char *client_id, const char *plr, const char *state)
{
    struct app *app = req->app;
    struct page_logout_confirm pc;
    struct page_app_status *apps;
    char *csrf = NULL, *html;
    size_t i;

    /* Sealed and bound to the session, not stored: a page anyone signed in
     * can reload stores nothing, and ending the session spends it. */
    if (presign_token(app, "logout", s->sid, &csrf) < 0) {
        unavailable(req);
        return;
    }
    apps = calloc(s->napps + 1, sizeof(*apps));
    for (i = 0; apps != NULL && i < s->napps; i++)
        apps[i].name = app_name(app, s->apps[i]);
    pc = (struct page_logout_confirm){
        .action = "/logout",
        .csrf = csrf,
        .client_id = client_id,
        .post_logout_redirect_uri = plr,
        .state = state,
        .apps = apps,
        .napps = apps != NULL ? s->napps : 0,
    };
    html = pages_logout_confirm(http_page_ctx(req), &pc);
    for (i = 0; apps != NULL && i < s->napps; i++)
        free((char *)apps[i].name);
    free(apps);
    free(csrf);
    http_reply_html(req, 200, html != NULL ? html : strdup(""));
}

/* The sid and client of a valid id_token_hint (signed by us, our issuer;
 * it may have expired: OIDC RP-Initiated Logout §2). */
static int
verify_hint(struct app *app, const char *hint, char sid[64], char aud[160])
{
    json_t *claims = NULL, *a;
    const char *s;
    int rc = GH_EBADTOKEN;

    /* RFC 8725 §3.11: only an ID token (typ JWT) is a hint. An access
     * token carries aud and sid too, and resource servers hold those. */
    if (hint == NULL || jws_verify(app->keys, hint, "JWT", &claims) < 0)
        return GH_EBADTOKEN;
    if (jws_check_claims(claims, app->cfg->issuer, NULL, util_now(), 30, true) <
        0)
        goto out;
    a = json_object_get(claims, "aud");
    if (json_is_array(a))
        a = json_array_get(a, 0);
    s = json_string_value(json_object_get(claims, "sid"));
    if (!json_is_string(a) || s == NULL)
        goto out;
    snprintf(sid, 64, "%s", s);
    snprintf(aud, 160, "%s", json_string_value(a));
    rc = 0;
out:
    json_decref(claims);
    return rc;
}

/* "Sign out everywhere" waiting for its step-up, with the confirmation's
 * fields to show again after a wrong answer. */
struct everywhere {
    char sid[SESSION_SID_LEN + 1];
    char sub[37];
    char *redirect; /* the post-logout redirect, or NULL */
    char *client_id, *plr, *state;
};

static void
everywhere_free(struct everywhere *e)
{
    free(e->redirect);
    free(e->client_id);
    free(e->plr);
    free(e->state);
    free(e);
}

/* SPEC §5: nothing (left) to end, and the browser is left as it is. */
static void
show_signed_out_already(struct http_request *req)
{
    char *html =
        pages_signed_out(http_page_ctx(req), SIGNED_OUT_ALREADY, NULL, 0);

    http_reply_html(req, 200, html != NULL ? html : xstrdup(""));
}

/*
 * SPEC §7 step-up before "Sign out everywhere": the password again, the
 * confirmation's fields carried through; error (a msgid) or NULL.
 */
static void
show_stepup(struct http_request *req, const struct everywhere *e,
            const char *error, int status)
{
    struct page_account_reauth pr = {
        .action = "/logout",
        .scope = "everywhere",
        .error = error != NULL ? tr(http_page_ctx(req)->lang, error) : NULL,
        .client_id = e->client_id,
        .post_logout_redirect_uri = e->plr,
        .state = e->state,
    };
    struct session who;

    /* The session as far as the form needs it, its sid and user: after a
     * password checked on the hash pool, e is all that is left of it. */
    memset(&who, 0, sizeof(who));
    snprintf(who.sid, sizeof(who.sid), "%s", e->sid);
    snprintf(who.sub, sizeof(who.sub), "%s", e->sub);
    if (stepup_page_show(req, &who, "logout", &pr, status) < 0)
        unavailable(req);
}

/*
 * Answers a step-up's outcome rc (stepup.h) and frees e: 0 ends every
 * session and hands req on (returns 1); a wrong answer (GH_EDENIED, or
 * GH_EINVAL for one that is none) shows the form again with wrong (a
 * msgid); 1 means the step-up answered already. held as end_and_wait's.
 */
static int
everywhere_answer(struct http_request *req, struct everywhere *e, int rc,
                  const char *wrong, int held)
{
    int handed_on = 0;

    if (rc == 0) {
        end_and_wait(req, e->sid, e->sub, "user", e->redirect, held);
        e->redirect = NULL;
        handed_on = 1;
    } else if (rc == GH_EDENIED || rc == GH_EINVAL) {
        show_stepup(req, e, wrong, rc == GH_EDENIED ? 401 : 400);
    } else if (rc == GH_ENOTFOUND) {
        /* Ended meanwhile, by another request that answered for it. */
        show_signed_out_already(req);
    } else if (rc != 1) {
        unavailable(req);
    }
    everywhere_free(e);
    return handed_on;
}

/* Runs on the hash pool once the password was checked (stepup.h). */
static int
everywhere_stepped_up(struct http_request *req, void *arg, int rc)
{
    return everywhere_answer(req, arg, rc, N_("Incorrect password."), 1);
}

/* "Sign out everywhere" past login.reauth_window_s: asks for the password,
 * or checks the one sent (or a code, or a passkey) and then ends every
 * session. Takes redirect. */
static void
everywhere_step_up(struct http_request *req, const struct session *s,
                   const struct form *f, const char *client_id,
                   char *redirect)
{
    const char *password = form_get(f, "password");
    const char *code = form_get(f, "code");
    const char *plr = form_get(f, "post_logout_redirect_uri");
    const char *state = form_get(f, "state");
    struct everywhere *e = xcalloc(1, sizeof(*e));
    int rc;

    snprintf(e->sid, sizeof(e->sid), "%s", s->sid);
    snprintf(e->sub, sizeof(e->sub), "%s", s->sub);
    e->redirect = redirect;
    e->client_id = client_id != NULL ? xstrdup(client_id) : NULL;
    e->plr = plr != NULL ? xstrdup(plr) : NULL;
    e->state = state != NULL ? xstrdup(state) : NULL;
    /* Or one of the user's passkeys, checked at once. */
    if (form_get(f, "pkstate") != NULL) {
        rc =
            stepup_verify_passkey(req, s, form_get(f, "pkstate"),
                                  form_get(f, "id"), form_get(f, "client_data"),
                                  form_get(f, "auth_data"), form_get(f, "sig"));
        everywhere_answer(req, e, rc,
                          N_("That passkey was not accepted. Try again."), 0);
        return;
    }
    /* Or a code from the authenticator app, checked at once. */
    if ((password == NULL || *password == '\0') && code != NULL &&
        *code != '\0') {
        rc = strlen(code) > 64 ? GH_EINVAL : stepup_verify_code(req, s, code);
        everywhere_answer(req, e, rc,
                          rc == GH_EDENIED
                              ? N_("Incorrect code.")
                              : N_("Enter your password, or the 6-digit code "
                                   "from your app."),
                          0);
        return;
    }
    if (password == NULL || *password == '\0' ||
        strlen(password) > PASSWORD_MAX) {
        show_stepup(req, e,
                    password != NULL ? N_("Enter your password.") : NULL,
                    password != NULL ? 400 : 200);
        everywhere_free(e);
        return;
    }
    if (stepup_verify(req, s, password, everywhere_stepped_up, e) != 0)
        everywhere_free(e); /* answered already */
}

void
logout_handle(struct http_request *req)
{
    struct app *app = req->app;
    int post = strcmp(req->method, "POST") == 0;
    const char *params = post ? req->body : req->query;
    /* A body may hold a NUL; form_parse refuses it only if it sees it. */
    size_t params_len = post ? req->body_len : strlen(req->query);
    const char *hint, *client_id, *plr, *state, *csrf, *scope;
    char hint_sid[64] = "", hint_aud[160] = "", *cookie = NULL;
    char *redirect = NULL;
    json_t *claims = NULL;
    struct session *s = NULL;
    struct form f;
    int hint_ok, rc, everywhere;

    if (form_parse(params, params_len, &f) < 0 ||
        form_has_duplicate(&f) != NULL) {
        form_free(&f); /* a parse with a duplicate still holds the pairs */
        http_error_page(req, 400, N_("Invalid request"),
                        N_("The sign-out link is malformed."));
        return;
    }
    hint = form_get(&f, "id_token_hint");
    client_id = form_get(&f, "client_id");
    plr = form_get(&f, "post_logout_redirect_uri");
    state = form_get(&f, "state");
    hint_ok = verify_hint(app, hint, hint_sid, hint_aud) == 0;
    if (hint_ok && client_id != NULL && strcmp(client_id, hint_aud) != 0) {
        http_error_page(req, 400, N_("Invalid request"),
                        N_("The sign-out request names two different "
                           "applications."));
        goto out;
    }
    if (hint_ok)
        client_id = hint_aud;
    rc = post_logout_redirect(app, client_id, plr, state, &redirect);
    if (rc == GH_EINVAL) {
        http_error_page(req, 400, N_("Invalid redirect URI"),
                        N_("The application asked to send you back to an "
                           "address it has not registered, so nothing was "
                           "signed out."));
        goto out;
    }
    if (rc < 0) {
        unavailable(req);
        goto out;
    }
    cookie = http_cookie(req, SESSION_COOKIE);
    /* Only "no such session" means signed out already. Any other failure
     * (Redis away, out of memory, read-only after a failover) means we
     * cannot tell, and "you are signed out" would be a lie the user acts
     * on (issue 15). */
    if (cookie != NULL &&
        (rc = session_from_cookie(app->store, app->cfg, cookie,
                                  http_header(req, "User-Agent"), &s)) < 0 &&
        rc != GH_ENOTFOUND) {
        unavailable(req);
        goto out;
    }

    if (s == NULL) {
        /* Nothing to end here: already signed out, and the browser is left
         * as it is (SPEC §5). */
        if (redirect != NULL) {
            http_redirect(req, post ? 303 : 302, redirect);
        } else {
            show_signed_out_already(req);
        }
        goto out;
    }
    csrf = form_get(&f, "csrf");
    scope = form_get(&f, "scope");
    if (post && (csrf != NULL || scope != NULL)) {
        /* The confirmation form, which only our own page sends: its token
         * is checked first, so a forged or cross-site form ends nothing. */
        if (!presign_same_origin(req)) {
            http_error_page(req, 403, N_("Sign-out refused"),
                            N_("This sign-out form was sent from another "
                               "site, and nothing was signed out."));
            goto out;
        }
        rc = presign_open(app, "logout", s->sid, csrf, &claims);
        json_decref(claims);
        if (rc == GH_EREDIS) {
            unavailable(req);
            goto out;
        }
        if (rc < 0) {
            http_error_page(req, 403, N_("Sign-out form expired"),
                            N_("This form can no longer be used, and nothing "
                               "was signed out. Reload the page and try "
                               "again."));
            goto out;
        }
        everywhere = scope != NULL && strcmp(scope, "everywhere") == 0;
        /* SPEC §7: a plain sign-out of this device never asks; ending
         * every other device's session needs a recent sign-in. */
        if (everywhere && !stepup_fresh(app->cfg, s)) {
            everywhere_step_up(req, s, &f, client_id, redirect);
            redirect = NULL;
            goto out;
        }
        end_and_wait(req, s->sid, everywhere ? s->sub : NULL, "user",
                     redirect, 0);
        redirect = NULL;
        goto out;
    }
    if (hint_ok && strcmp(hint_sid, s->sid) == 0) {
        end_and_wait(req, s->sid, NULL, hint_aud, redirect, 0);
        redirect = NULL;
        goto out;
    }
    show_confirm(req, s, client_id, plr, state);
out:
    free(redirect);
    free(cookie);
    session_free(s);
    form_free(&f);
}
