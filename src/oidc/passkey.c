/* SPDX-License-Identifier: MIT */
/*
 * Passkeys in the browser (SPEC §7): /account/passkeys lists the user's
 * passkeys with "Remove" and "Add a passkey"; like every account action,
 * adding and removing need an authentication within
 * login.reauth_window_s (stepup.h). /login/passkey signs in with a
 * discoverable credential alone (amr "hwk"). The challenge of each is
 * sealed into the page (directory/passkeys.h), bound to the session or to
 * the pre-sign-in cookie: nothing is stored for a visitor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/auth/presign.h"
#include "gatehouse/auth/signedin.h"
#include "gatehouse/auth/stepup.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/crypto/password.h" /* PASSWORD_MAX */
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/http/pages.h"
#include "gatehouse/oidc/authorize.h"
#include "gatehouse/oidc/login.h"
#include "gatehouse/oidc/passkey.h"
#include "gatehouse/session/session.h"

#define PURPOSE "passkeys"
#define ACCOUNT_PATH "/account/passkeys"
#define LOGIN_PATH "/login/passkey"
#define RETURN_PASSKEYS "/login?return=%2Faccount%2Fpasskeys"

struct rp_buf {
    char origin[512], id[256];
    struct webauthn_rp rp;
};

/* SPEC §7: RP ID = the issuer's host. */
static int
rp_of(const struct config *cfg, struct rp_buf *b)
{
    if (webauthn_rp_from_issuer(cfg->issuer, b->origin, sizeof(b->origin),
                                b->id, sizeof(b->id)) < 0)
        return GH_ECONFIG;
    b->rp.origin = b->origin;
    b->rp.id = b->id;
    return 0;
}

/* /account/passkeys as signedin.h opens it. */
static const struct signedin_page page = {
    RETURN_PASSKEYS, PURPOSE,
    N_("Your passkeys cannot be shown or changed right now; nothing was "
       "changed. Please try again in a moment.")};

void
passkey_script(struct http_request *req)
{
    http_add_header(req, "X-Content-Type-Options", "nosniff");
    http_reply(req, 200, "text/javascript; charset=utf-8",
               xstrdup(pages_passkey_script), strlen(pages_passkey_script));
}

/* The page's script and the calls it makes: 'self' only. */
#define PASSKEY_CSP "script-src 'self'"

/* The passkeys page; status and error msgids or NULL. */
static void
show(struct http_request *req, const struct session *s, const char *status,
     const char *error, int code)
{
    struct app *app = req->app;
    const struct page_ctx *ctx = http_page_ctx(req);
    char challenge[PASSKEY_CHALLENGE_TEXT], *csrf = NULL, *state = NULL;
    char *user_id = NULL, *html, (*times)[SIGNEDIN_TIME_MAX] = NULL;
    struct page_passkey_item *items = NULL;
    struct passkey_record *list = NULL;
    struct page_passkeys pp;
    struct user *u = NULL;
    struct rp_buf rp;
    size_t n = 0, i;

    if (rp_of(app->cfg, &rp) < 0) {
        http_error_page(req, 500, N_("Passkeys unavailable"),
                        N_("Passkeys need the issuer to be a host name, not "
                           "an IP address."));
        return;
    }
    if (users_get(app->store, s->sub, &u) < 0 ||
        store_passkeys_list(app->store, s->sub, &list, &n) < 0 ||
        presign_token(app, PURPOSE, s->sid, &csrf) < 0 ||
        passkeys_challenge(app->store, PASSKEY_PURPOSE_REGISTER, s->sub,
                           challenge, &state) < 0) {
        signedin_unavailable(req, &page);
        goto out;
    }
    items = xcalloc(n + 1, sizeof(*items));
    times = xcalloc(n + 1, sizeof(*times));
    for (i = 0; i < n; i++) {
        signedin_time(list[i].created, times[i]);
        items[i].id = list[i].id;
        items[i].name = list[i].name;
        items[i].created = times[i];
    }
    user_id = b64url_encode_alloc(s->sub, strlen(s->sub));
    memset(&pp, 0, sizeof(pp));
    pp.action = ACCOUNT_PATH;
    pp.csrf = csrf;
    pp.username = u->username;
    pp.status = status != NULL ? tr(ctx->lang, status) : NULL;
    pp.error = error != NULL ? tr(ctx->lang, error) : NULL;
    pp.items = items;
    pp.nitems = n;
    pp.challenge = challenge;
    pp.state = state;
    pp.rp_id = rp.id;
    pp.user_id = user_id;
    html = pages_passkeys(ctx, &pp);
    http_reply_html_csp(req, code, html != NULL ? html : xstrdup(""),
                        PASSKEY_CSP);
out:
    free(items);
    free(times);
    free(user_id);
    store_passkeys_free(list, n);
    free(csrf);
    free(state);
    user_free(u);
}

static void
show_reauth(struct http_request *req, const struct session *s,
            const char *error, int status)
{
    struct app *app = req->app;
    const struct page_ctx *ctx = http_page_ctx(req);
    struct page_account_reauth pr;
    struct user *u = NULL;
    char *csrf = NULL, *html;

    if (users_get(app->store, s->sub, &u) < 0 ||
        presign_token(app, PURPOSE, s->sid, &csrf) < 0) {
        signedin_unavailable(req, &page);
        goto out;
    }
    memset(&pr, 0, sizeof(pr));
    pr.action = ACCOUNT_PATH;
    pr.csrf = csrf;
    pr.username = u->username;
    pr.scope = "passkeys";
    pr.intro = tr(ctx->lang, "You signed in a while ago. Enter your password "
                             "again to change your passkeys.");
    pr.error = error != NULL ? tr(ctx->lang, error) : NULL;
    html = pages_account_reauth(ctx, &pr);
    http_reply_html(req, status, html != NULL ? html : xstrdup(""));
out:
    free(csrf);
    user_free(u);
}

/* What a form asks: add (with the browser's answer) or remove. */
struct action {
    int add;
    char *id, *state, *client_data, *attestation, *name;
};

static void
action_clear(struct action *a)
{
    free(a->id);
    free(a->state);
    free(a->client_data);
    free(a->attestation);
    free(a->name);
    memset(a, 0, sizeof(*a));
}

static char *
dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

/* Does what a fresh enough form asked, and shows the page again. */
static void
act(struct http_request *req, const struct session *s, const struct action *a)
{
    struct app *app = req->app;
    struct rp_buf rp;
    int rc;

    if (!a->add) {
        rc = a->id != NULL
                 ? store_passkey_remove(app->store, s->sub, a->id)
                 : 0;
        if (rc < 0) {
            signedin_unavailable(req, &page);
            return;
        }
        log_info("passkey_removed sub=%s found=%d", s->sub, rc);
        show(req, s, rc == 1 ? N_("The passkey was removed.") : NULL,
             rc == 1 ? NULL : N_("No such passkey; nothing was removed."),
             rc == 1 ? 200 : 404);
        return;
    }
    if (rp_of(app->cfg, &rp) < 0) {
        show(req, s, NULL, N_("The passkey was not added."), 500);
        return;
    }
    rc = passkeys_register(app->store, &rp.rp, s->sub, a->state,
                           a->client_data, a->attestation, a->name,
                           util_now());
    log_info("passkey_add sub=%s rc=%s", s->sub, gh_strerror(rc));
    switch (rc) {
    case 0:
        show(req, s, N_("The passkey was added."), NULL, 200);
        break;
    case GH_EREDIS:
        signedin_unavailable(req, &page);
        break;
    case GH_EEXISTS:
        show(req, s, NULL, N_("That passkey is registered already."), 409);
        break;
    case GH_ETOOBIG:
        show(req, s, NULL,
             N_("You have as many passkeys as one account may have. Remove "
                "one first."),
             409);
        break;
    case GH_EINVAL:
        show(req, s, NULL,
             N_("The passkey was not added: its name must be 1 to 64 "
                "characters, or the browser's answer was malformed."),
             400);
        break;
    default:
        show(req, s, NULL,
             N_("The passkey was not added: this page expired, or the "
                "browser's answer was not valid. Try again."),
             400);
        break;
    }
}

struct pending {
    struct session *s;
};

static int
stepped_up(struct http_request *req, void *arg, int rc)
{
    struct pending *p = arg;

    if (rc == 0)
        show(req, p->s, NULL, NULL, 200);
    else if (rc == GH_EDENIED)
        show_reauth(req, p->s, N_("Incorrect password."), 401);
    else if (rc == GH_ENOTFOUND)
        http_redirect(req, 303, RETURN_PASSKEYS);
    else
        signedin_unavailable(req, &page);
    session_free(p->s);
    free(p);
    return 0;
}

/* A form of the page posted (signedin_handle): s is ours to free. */
static void
post(struct http_request *req, struct session *s, const struct form *f)
{
    struct app *app = req->app;
    const char *op, *password;
    struct action a = {0};
    struct pending *p;

    if (!stepup_fresh(app->cfg, s)) {
        password = form_get(f, "password");
        if (password == NULL || *password == '\0' ||
            strlen(password) > PASSWORD_MAX) {
            show_reauth(req, s,
                        password != NULL ? N_("Enter your password.") : NULL,
                        password != NULL ? 400 : 200);
            goto out;
        }
        p = xcalloc(1, sizeof(*p));
        p->s = s;
        if (stepup_verify(req, s, password, stepped_up, p) != 0)
            free(p);
        else
            s = NULL;
        goto out;
    }
    op = form_get(f, "op");
    if (op == NULL || (strcmp(op, "add") != 0 && strcmp(op, "remove") != 0)) {
        /* The step-up form itself, posted while fresh: the page. */
        show(req, s, NULL, NULL, 200);
        goto out;
    }
    a.add = strcmp(op, "add") == 0;
    a.id = dup_or_null(form_get(f, "id"));
    a.state = dup_or_null(form_get(f, "state"));
    a.client_data = dup_or_null(form_get(f, "client_data"));
    a.attestation = dup_or_null(form_get(f, "attestation"));
    a.name = dup_or_null(form_get(f, "name"));
    act(req, s, &a);
out:
    action_clear(&a);
    session_free(s);
}

/* The page, after the step-up when the session's is not fresh. */
static void
get(struct http_request *req, const struct session *s)
{
    if (!stepup_fresh(req->app->cfg, s))
        show_reauth(req, s, NULL, 200);
    else
        show(req, s, NULL, NULL, 200);
}

void
passkey_account_handle(struct http_request *req)
{
    signedin_handle(req, &page, get, post);
}

/* --- /login/passkey ---------------------------------------------------- */

/* The sign-in page with a new challenge bound to this browser. */
static void
show_sign_in(struct http_request *req, const char *request,
             const char *return_to, const char *error, int status)
{
    struct app *app = req->app;
    const struct page_ctx *ctx = http_page_ctx(req);
    char browser[PRESIGN_ID_LEN + 1], challenge[PASSKEY_CHALLENGE_TEXT];
    char *state = NULL, *html, *back = NULL;
    struct page_passkey_sign_in ps;
    struct rp_buf rp;
    int rc;

    if (rp_of(app->cfg, &rp) < 0) {
        http_error_page(req, 500, N_("Passkeys unavailable"),
                        N_("Passkeys need the issuer to be a host name, not "
                           "an IP address."));
        return;
    }
    if ((rc = presign_browser(req, 1, browser)) < 0 ||
        (rc = passkeys_challenge(app->store, PASSKEY_PURPOSE_SIGN_IN, browser,
                                 challenge, &state)) < 0) {
        authorize_unavailable(req);
        return;
    }
    /* Back to the password form: a pending app request is behind the
     * browser's Back button (its form holds it); a Gatehouse page has
     * its own link. */
    if (request == NULL)
        back = return_to != NULL
                   ? xasprintf("/login?return=%s",
                               strcmp(return_to, "/account") == 0
                                   ? "%2Faccount"
                                   : "%2Faccount%2Fpasskeys")
                   : xstrdup("/login");
    memset(&ps, 0, sizeof(ps));
    ps.action = LOGIN_PATH;
    ps.challenge = challenge;
    ps.state = state;
    ps.rp_id = rp.id;
    ps.request = request;
    ps.return_to = return_to;
    ps.password_link = back;
    ps.error = error != NULL ? tr(ctx->lang, error) : NULL;
    html = pages_passkey_sign_in(ctx, &ps);
    http_reply_html_csp(req, status, html != NULL ? html : xstrdup(""),
                        PASSKEY_CSP);
    free(back);
    free(state);
}

static void
login_post(struct http_request *req)
{
    struct app *app = req->app;
    const char *request, *ret, *return_to = NULL;
    char browser[PRESIGN_ID_LEN + 1], sid[SESSION_SID_LEN + 1];
    char *sub = NULL;
    json_t *areq = NULL;
    struct user *u = NULL;
    struct login_hold hold = {0};
    struct rp_buf rp;
    struct form f;
    int rc, uv = 0;

    if (!presign_same_origin(req)) {
        login_error(req, LOGIN_REFUSED);
        return;
    }
    if (!http_content_type_is(req, "application/x-www-form-urlencoded") ||
        form_parse(req->body, req->body_len, &f) < 0 ||
        form_has_duplicate(&f) != NULL) {
        form_free(&f);
        login_error(req, LOGIN_BAD_FORM);
        return;
    }
    request = form_get(&f, "request");
    ret = form_get(&f, "return");
    if (ret != NULL && (return_to = login_return_path(ret)) == NULL) {
        login_error(req, LOGIN_BAD_FORM);
        goto out;
    }
    if (rp_of(app->cfg, &rp) < 0) {
        authorize_unavailable(req);
        goto out;
    }
    /* The attempt counts against the credential's user when it names one
     * (and the address), else the address alone, as a password's does;
     * a locked-out user is refused before the answer is checked. */
    if ((rc = presign_browser(req, 0, browser)) == 0 &&
        (rc = passkeys_owner(app->store, form_get(&f, "id"), &sub)) == 0)
        rc = users_get(app->store, sub, &u);
    free(sub);
    sub = NULL;
    if (rc == GH_EREDIS) {
        authorize_unavailable(req);
        goto out;
    }
    if (rc == 0 || rc == GH_ENOTFOUND) {
        if (login_hold(req, u, &hold))
            goto out;
        rc = passkeys_sign_in(
            app->store, &rp.rp, browser, form_get(&f, "state"), NULL,
            form_get(&f, "id"), form_get(&f, "client_data"),
            form_get(&f, "auth_data"), form_get(&f, "sig"), &sub, &uv);
    }
    if (rc == GH_EREDIS) {
        login_hold_settle(req, &hold, LOGIN_HOLD_GIVE_BACK);
        authorize_unavailable(req);
        goto out;
    }
    /* The owner checked the answer for is the one signed in. */
    if (rc == 0 && (u == NULL || strcmp(sub, u->sub) != 0))
        rc = GH_EDENIED;
    if (rc == 0 && u->disabled)
        rc = GH_EDENIED;
    /* A browser's answer that was checked, accepted or not (a forged or
     * expired page's state is not a check of the passkey, and counts
     * toward no lockout). */
    if (rc == GH_EBADTOKEN || rc == GH_EINVAL)
        login_hold_settle(req, &hold, LOGIN_HOLD_GIVE_BACK);
    else
        metrics_factor(FACTOR_PASSKEY, rc == 0);
    if (rc == 0 && login_hold_settle(req, &hold, LOGIN_HOLD_PASSED) < 0) {
        authorize_unavailable(req);
        goto out;
    }
    if (rc < 0) {
        log_info("passkey_login_failed addr=%s rc=%s", http_client_addr(req),
                 gh_strerror(rc));
        show_sign_in(req, request, return_to,
                     N_("That passkey was not accepted. Try again, or sign "
                        "in with your password."),
                     401);
        goto out;
    }
    if (login_request_open(req, request, &areq, NULL) < 0)
        goto out;
    /* SPEC §5: the cookie ends with the browser session ("Keep me signed
     * in" is the password form's), and no device cookie is set. */
    if (login_session(req, u, http_client_addr(req),
                      http_header(req, "User-Agent") != NULL
                          ? http_header(req, "User-Agent")
                          : "",
                      0, 0, SESSION_AMR_HWK, sid) < 0)
        goto out;
    log_info("login sub=%s addr=%s amr=hwk uv=%d", u->sub,
             http_client_addr(req), uv);
    login_answer(req, u, sid, SESSION_AMR_HWK, areq, return_to);
out:
    json_decref(areq);
    free(sub);
    user_free(u);
    form_free(&f);
}

/* GET /login/passkey?return=...: a "return" outside our pages is a
 * malformed link here. */
static void
login_get(struct http_request *req, const struct form *q)
{
    const char *ret = form_get(q, "return");

    if (ret != NULL && login_return_path(ret) == NULL)
        login_error(req, LOGIN_BAD_LINK);
    else
        show_sign_in(req, form_get(q, "request"), login_return_path(ret),
                     NULL, 200);
}

void
passkey_login_handle(struct http_request *req)
{
    login_page(req, login_get, login_post);
}
