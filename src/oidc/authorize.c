/* SPDX-License-Identifier: MIT */
/* /authorize: who is signing in, to which app, and the single sign-on that
 * skips the form when a session already exists. The form itself is
 * answered by login.c, which finishes through the authorize_ functions
 * below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/oidc/authorize.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/grant/scope.h"
#include "gatehouse/http/http.h"
#include "gatehouse/core/log.h"
#include "gatehouse/http/pages.h"
#include "gatehouse/auth/presign.h"
#include "gatehouse/session/session.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/grant/code.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"

/* The whole request (query string or form body, as sent), not one
 * parameter: an id_token_hint alone is several KB with RS256 and long
 * claims, and state and nonce are the client's to size. Bounded so a
 * pending request stays small. */
#define AUTHORIZE_PARAMS_MAX (12 * 1024)
/* state comes back in the Location of every answer, and the response
 * headers share the connection's memory pool with the request: past this,
 * the answer could not be sent whole, so the user gets a page instead. */
#define STATE_MAX (4 * 1024)

/* RFC 6749 §4.1.2.1: once client and redirect_uri are known good, errors
 * go back to the client, with state and (RFC 9207) iss. */
static void
redirect_error(struct http_request *req, const char *redirect_uri,
               const char *error, const char *description, const char *state)
{
    char *url = strdup(redirect_uri);

    if (url == NULL || form_url_append(&url, "error", error) < 0 ||
        (description != NULL &&
         form_url_append(&url, "error_description", description) < 0) ||
        (state != NULL && form_url_append(&url, "state", state) < 0) ||
        form_url_append(&url, "iss", req->app->cfg->issuer) < 0) {
        free(url);
        http_error_page(req, 500, N_("Something went wrong"),
                        N_("The sign-in could not be completed."));
        return;
    }
    http_redirect(req, 302, url);
    free(url);
}

void
authorize_redirect_with_code(struct http_request *req, const struct areq *a,
                   const char *sid, const char *sub, int64_t auth_time,
                   int status)
{
    authorize_redirect_with_code_amr(req, a, sid, sub, auth_time,
                                     SESSION_AMR_PWD, status);
}

void
authorize_redirect_with_code_amr(struct http_request *req,
                                 const struct areq *a, const char *sid,
                                 const char *sub, int64_t auth_time,
                                 const char *amr, int status)
{
    struct code_grant g;
    char code[44], *url;
    int rc;

    memset(&g, 0, sizeof(g));
    g.client_id = a->client_id;
    g.redirect_uri = a->redirect_uri;
    g.code_challenge = a->code_challenge;
    g.nonce = a->nonce;
    g.scope = a->scope;
    g.sid = sid;
    g.sub = sub;
    g.auth_time = auth_time;
    g.amr = amr != NULL && amr[0] != '\0' ? amr : SESSION_AMR_PWD;
    if ((rc = code_issue(req->app, &g, code)) < 0) {
        log_warnx("code_issue_failed client=%s error=\"%s\"", a->client_id,
                  gh_strerror(rc));
        redirect_error(req, a->redirect_uri, "temporarily_unavailable",
                       NULL, a->state);
        return;
    }
    url = strdup(a->redirect_uri);
    if (url == NULL || form_url_append(&url, "code", code) < 0 ||
        (a->state != NULL && form_url_append(&url, "state", a->state) < 0) ||
        form_url_append(&url, "iss", req->app->cfg->issuer) < 0) {
        free(url);
        http_error_page(req, 500, N_("Something went wrong"),
                        N_("The sign-in could not be completed."));
        return;
    }
    http_redirect(req, status, url);
    free(url);
}

/* Whether the space-separated list has word. */
static int
has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    while (list != NULL && (p = strstr(p, word)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

static int
valid_challenge(const char *s)
{
    size_t n = strlen(s);

    /* RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters. */
    return n == 43 && b64url_valid(s, n);
}

/* The one answer when sign-in cannot go on for a reason that is not the
 * user's (Redis, the shared key): /authorize and /login say it alike. */
void
authorize_unavailable(struct http_request *req)
{
    http_error_page(req, 503, N_("Temporarily unavailable"),
                    N_("Sign-in is not available right now. Please try again "
                       "in a moment."));
}

/*
 * Shows the sign-in form. Nothing is stored: the CSRF token is sealed,
 * bound to this browser's pre-sign-in cookie, so a token fetched by
 * another browser (a cross-site attacker's server) does not verify
 * (SPEC §7).
 */
void
authorize_show_login(struct http_request *req, const struct page_login *form,
                     int status)
{
    char browser[PRESIGN_ID_LEN + 1], *csrf = NULL;
    struct page_login p = *form;
    char *html;

    if (presign_browser(req, 1, browser) < 0 ||
        presign_token(req->app, "login", browser, &csrf) < 0) {
        authorize_unavailable(req);
        return;
    }
    p.action = "/login";
    p.csrf = csrf;
    html = pages_login(http_page_ctx(req), &p);
    free(csrf);
    if (html == NULL) {
        http_error_page(req, 500, N_("Something went wrong"),
                        N_("Out of memory."));
        return;
    }
    http_reply_html(req, status, html);
}

static json_t *
areq_to_json(const struct areq *a)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "client_id", a->client_id,
                          "redirect_uri", a->redirect_uri, "scope", a->scope);

    if (o == NULL)
        return NULL;
    if (a->state != NULL)
        json_object_set_new(o, "state", json_string(a->state));
    if (a->nonce != NULL)
        json_object_set_new(o, "nonce", json_string(a->nonce));
    if (a->code_challenge != NULL)
        json_object_set_new(o, "code_challenge",
                            json_string(a->code_challenge));
    if (a->want_2fa)
        json_object_set_new(o, "acr2fa", json_true());
    return o;
}

void
authorize_areq_from_json(const json_t *o, struct areq *a)
{
    memset(a, 0, sizeof(*a));
    a->client_id = json_string_value(json_object_get(o, "client_id"));
    a->redirect_uri = json_string_value(json_object_get(o, "redirect_uri"));
    a->scope = json_string_value(json_object_get(o, "scope"));
    a->state = json_string_value(json_object_get(o, "state"));
    a->nonce = json_string_value(json_object_get(o, "nonce"));
    a->want_2fa = json_is_true(json_object_get(o, "acr2fa"));
    a->code_challenge =
        json_string_value(json_object_get(o, "code_challenge"));
}

/*
 * The sub of an id_token_hint (OIDC Core §3.1.2.1): an ID token we signed
 * for our issuer. It may have expired, as a hint usually has; the audience
 * is not checked, as §3.1.2.1 lets any RP pass one.
 */
static int
hint_subject(struct app *app, const char *hint, char sub[37])
{
    json_t *claims = NULL;
    const char *s;
    int rc = GH_EBADTOKEN;

    /* RFC 8725 §3.11: only an ID token (typ JWT) is a hint. */
    if (jws_verify(app->keys, hint, "JWT", &claims) < 0)
        return GH_EBADTOKEN;
    if (jws_check_claims(claims, app->cfg->issuer, NULL, util_now(), 30, true) <
        0)
        goto out;
    s = json_string_value(json_object_get(claims, "sub"));
    if (s == NULL || strlen(s) > 36)
        goto out;
    memcpy(sub, s, strlen(s) + 1);
    rc = 0;
out:
    json_decref(claims);
    return rc;
}

/*
 * OIDC Core §3.1.2.1 max_age, to the millisecond: max_age=0 always asks
 * for the password again, even within the second of the last sign-in.
 */
static int
recent_enough(const struct session *s, long max_age)
{
    if (max_age < 0)
        return 1;
    if (max_age == 0)
        return 0;
    if (max_age > INT64_MAX / 1000)
        return 1;
    return util_now_ms() - s->auth_time_ms <= (int64_t)max_age * 1000;
}

/* The part of /authorize that runs once client and redirect_uri are
 * trusted: every error from here on goes back to the client, with state.
 * params_len is the size of the request as sent. */
static void
authorize_client(struct http_request *req, const struct client *c,
                 const struct form *q, size_t params_len)
{
    struct app *app = req->app;
    const char *redirect_uri = form_get(q, "redirect_uri");
    const char *state = form_get(q, "state");
    const char *rt = form_get(q, "response_type");
    const char *scope = form_get(q, "scope");
    const char *prompt = form_get(q, "prompt");
    const char *max_age_s = form_get(q, "max_age");
    const char *challenge = form_get(q, "code_challenge");
    const char *method = form_get(q, "code_challenge_method");
    const char *hint = form_get(q, "id_token_hint");
    const char *dup = form_has_duplicate(q);
    const char *notice = NULL;
    struct session *s = NULL;
    struct areq a;
    char *granted = NULL, *cookie = NULL, *sealed = NULL;
    char hint_sub[37] = "";
    long max_age = -1;
    json_t *o;
    int rc;

    if (state != NULL && strlen(state) > STATE_MAX) {
        http_error_page(req, 400, N_("Invalid request"),
                        N_("The application sent a state parameter longer "
                           "than 4 KiB, which cannot be sent back to it."));
        return;
    }
    /* A duplicated state has no one value to send back (form_get gives
     * NULL); any other duplicate still gets its state. */
    if (dup != NULL) {
        redirect_error(req, redirect_uri, "invalid_request",
                       "a parameter was sent more than once", state);
        return;
    }
    if (params_len > AUTHORIZE_PARAMS_MAX) {
        redirect_error(req, redirect_uri, "invalid_request",
                       "the request is longer than 12 KiB", state);
        return;
    }
    if (form_get(q, "request") != NULL) {
        redirect_error(req, redirect_uri, "request_not_supported", NULL,
                       state);
        return;
    }
    if (form_get(q, "request_uri") != NULL) {
        redirect_error(req, redirect_uri, "request_uri_not_supported", NULL,
                       state);
        return;
    }
    if (rt == NULL || strcmp(rt, "code") != 0) {
        redirect_error(req, redirect_uri, "unsupported_response_type",
                       "only response_type=code is supported", state);
        return;
    }
    if (!(c->grant_types & GRANT_AUTHORIZATION_CODE)) {
        redirect_error(req, redirect_uri, "unauthorized_client",
                       "this client may not use the code flow", state);
        return;
    }
    if (scope == NULL || scope_authorize(scope, c, &granted) < 0) {
        redirect_error(req, redirect_uri, "invalid_scope",
                       "scope must include openid", state);
        return;
    }
    if (challenge != NULL) {
        /* RFC 7636 §4.3: a missing method means plain, which we refuse. */
        if (method == NULL || strcmp(method, "S256") != 0) {
            redirect_error(req, redirect_uri, "invalid_request",
                           "code_challenge_method must be S256", state);
            goto out;
        }
        if (!valid_challenge(challenge)) {
            redirect_error(req, redirect_uri, "invalid_request",
                           "code_challenge is malformed", state);
            goto out;
        }
    } else if (c->auth_method == AUTH_NONE) {
        redirect_error(req, redirect_uri, "invalid_request",
                       "public clients must use PKCE (S256)", state);
        goto out;
    }
    if (prompt != NULL && strcmp(prompt, "none") != 0 &&
        strcmp(prompt, "login") != 0) {
        redirect_error(req, redirect_uri, "invalid_request",
                       "prompt must be none or login", state);
        goto out;
    }
    if (max_age_s != NULL) {
        char *end;
        max_age = strtol(max_age_s, &end, 10);
        if (*max_age_s == '\0' || *end != '\0' || max_age < 0) {
            redirect_error(req, redirect_uri, "invalid_request",
                           "max_age must be a non-negative integer", state);
            goto out;
        }
    }
    if (hint != NULL && hint_subject(app, hint, hint_sub) < 0) {
        redirect_error(req, redirect_uri, "invalid_request",
                       "id_token_hint is not an ID token of this issuer",
                       state);
        goto out;
    }

    memset(&a, 0, sizeof(a));
    a.client_id = c->client_id;
    a.redirect_uri = redirect_uri;
    a.scope = granted;
    a.state = state;
    a.nonce = form_get(q, "nonce");
    a.code_challenge = challenge;
    /* OIDC Core §3.1.2.1 acr_values: a second factor asked for (unless
     * login.second_factor is "off", which never asks for one). */
    a.want_2fa = app->cfg->login_second_factor != SECOND_FACTOR_OFF &&
                 has_word(form_get(q, "acr_values"), SESSION_ACR_2FA);

    /* Single sign-on: a live session skips the form, unless the client
     * asks for a fresh sign-in. */
    cookie = http_cookie(req, SESSION_COOKIE);
    if (cookie != NULL && (prompt == NULL || strcmp(prompt, "login") != 0) &&
        (rc = session_from_cookie(app->store, app->cfg, cookie,
                                  http_header(req, "User-Agent"), &s)) < 0 &&
        rc != GH_ENOTFOUND) {
        /* Not "login_required": the session may well be alive. */
        redirect_error(req, redirect_uri, "temporarily_unavailable", NULL,
                       state);
        goto out;
    }
    /* OIDC Core §3.1.2.1: the hint names whom the client expects; the
     * session of someone else is not the answer (with prompt=none,
     * login_required below). */
    if (s != NULL && hint != NULL && strcmp(s->sub, hint_sub) != 0) {
        session_free(s);
        s = NULL;
    }
    /* A session signed in with the password alone does not answer an
     * app that asked for a second factor: the sign-in is asked again,
     * with its code step (or set-up). */
    if (s != NULL && a.want_2fa && !has_word(s->amr, "otp") &&
        !has_word(s->amr, "hwk")) {
        session_free(s);
        s = NULL;
        if (prompt != NULL && strcmp(prompt, "none") == 0) {
            redirect_error(req, redirect_uri, "interaction_required", NULL,
                           state);
            goto out;
        }
    }
    if (s != NULL && recent_enough(s, max_age)) {
        authorize_redirect_with_code_amr(req, &a, s->sid, s->sub,
                                         s->auth_time, s->amr, 302);
        goto out;
    }
    if (prompt != NULL && strcmp(prompt, "none") == 0) {
        redirect_error(req, redirect_uri, "login_required", NULL, state);
        goto out;
    }
    /* The pending request travels with the browser, sealed: nothing an
     * anonymous client can multiply is stored (SPEC §7). */
    if ((o = areq_to_json(&a)) == NULL) {
        http_error_page(req, 500, N_("Something went wrong"),
                        N_("Out of memory."));
        goto out;
    }
    rc = presign_seal(app, "areq", "", o, &sealed);
    json_decref(o);
    if (rc < 0) {
        redirect_error(req, redirect_uri, "temporarily_unavailable", NULL,
                       state);
        goto out;
    }
    /* A browser whose session was ended for it (evicted, anomaly, an
     * administrator, a reused token) is told why, once it is back. Only a
     * stale cookie costs the look-up. */
    if (cookie != NULL && s == NULL)
        notice = end_reason_notice(session_ended_why(app->store, cookie));
    authorize_show_login(req,
                         &(struct page_login){
                             .app_name = c->name,
                             .request = sealed,
                             .username = form_get(q, "login_hint"),
                             .notice = notice,
                         },
                         200);
out:
    free(sealed);
    session_free(s);
    free(cookie);
    free(granted);
}

void
authorize_handle(struct http_request *req)
{
    /* OIDC Core §3.1.2.1: POST (a form body) is served like GET. */
    int post = strcmp(req->method, "POST") == 0;
    const char *params = post ? req->body : req->query;
    size_t params_len = post ? req->body_len : strlen(req->query);
    const char *ctype = http_header(req, "Content-Type");
    struct form q;
    const struct client *c = NULL;
    struct client *owned = NULL;
    const char *client_id, *redirect_uri;
    int rc;

    if (post && (ctype == NULL ||
                 strncasecmp(ctype, "application/x-www-form-urlencoded",
                             33) != 0)) {
        http_error_page(req, 400, N_("Invalid request"),
                        N_("The sign-in request was not sent as a form."));
        return;
    }
    if (form_parse(params, params_len, &q) < 0) {
        http_error_page(req, 400, N_("Invalid request"),
                        N_("The sign-in link is malformed."));
        return;
    }
    /* RFC 6749 §4.1.2.1: without a known client and an exactly registered
     * redirect_uri, never redirect: tell the user instead. */
    client_id = form_get(&q, "client_id");
    redirect_uri = form_get(&q, "redirect_uri");
    if (client_id == NULL) {
        http_error_page(req, 400, N_("Unknown application"),
                        N_("The sign-in link does not name an application."));
        goto out;
    }
    rc = client_auth_find(req->app, client_id, &c, &owned);
    if (rc < 0 && rc != GH_ENOTFOUND) {
        authorize_unavailable(req);
        goto out;
    }
    if (rc < 0) {
        http_error_page(req, 400, N_("Unknown application"),
                        N_("The application that sent you here is not "
                           "registered with this sign-in service."));
        goto out;
    }
    if (redirect_uri == NULL || !client_has_redirect_uri(c, redirect_uri)) {
        http_error_page(req, 400, N_("Invalid redirect URI"),
                        N_("The application asked to send you back to an "
                           "address it has not registered, so sign-in "
                           "stopped here."));
        goto out;
    }
    authorize_client(req, c, &q, params_len);
out:
    client_free(owned);
    form_free(&q);
}

/* The pending request, sealed by authorize_client, comes back with the
 * form's POST: opened here, beside its sealing, so its name ("areq") and
 * shape have one home. */
char *
authorize_request_open(struct app *app, const char *request, json_t **areq)
{
    const struct client *c = NULL;
    struct client *owned = NULL;
    const char *uri;
    char *name = NULL;
    json_t *o = NULL;

    *areq = NULL;
    if (request == NULL || presign_open(app, "areq", "", request, &o) < 0)
        return NULL;
    /* Checked again, not only trusted for carrying our MAC: a client
     * removed within the request's 600 s gets no code. */
    uri = json_string_value(json_object_get(o, "redirect_uri"));
    if (client_auth_find(app,
                         json_string_value(json_object_get(o, "client_id")), &c,
                         &owned) < 0 ||
        uri == NULL || !client_has_redirect_uri(c, uri)) {
        client_free(owned);
        json_decref(o);
        return NULL;
    }
    name = xstrdup(c->name);
    client_free(owned);
    *areq = o;
    return name;
}
