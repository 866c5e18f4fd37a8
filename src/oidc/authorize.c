/* SPDX-License-Identifier: MIT */
/* /authorize and /login: who is signing in, to which app, and the single
 * sign-on that skips the form when a session already exists. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/client_auth.h"
#include "core/app.h"
#include "oidc/authorize.h"
#include "directory/clients.h"
#include "core/config.h"
#include "auth/device.h"
#include "core/error.h"
#include "http/form.h"
#include "grant/scope.h"
#include "http/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/pages.h"
#include "crypto/password.h"
#include "auth/presign.h"
#include "session/session.h"
#include "store/store.h"
#include "crypto/jws.h"
#include "grant/code.h"
#include "directory/users.h"
#include "core/util.h"

/* The whole request (query string or form body, as sent), not one
 * parameter: an id_token_hint alone is several KB with RS256 and long
 * claims, and state and nonce are the client's to size. Bounded so a
 * pending request stays small. */
#define AUTHORIZE_PARAMS_MAX (12 * 1024)
/* state comes back in the Location of every answer, and the response
 * headers share the connection's memory pool with the request: past this,
 * the answer could not be sent whole, so the user gets a page instead. */
#define STATE_MAX (4 * 1024)

/* A validated authorization request: what a code will be bound to. */
struct areq {
    const char *client_id;
    const char *redirect_uri;
    const char *scope; /* granted: requested ∩ allowed */
    const char *state;
    const char *nonce;
    const char *code_challenge;
    const char *login_hint;
};

static void
set_session_cookie(struct http_request *req, const char *value)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
             SESSION_COOKIE, value,
             req->app->cfg->issuer_https ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", buf);
}

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
        http_error_page(req, 500, "Something went wrong",
                        "The sign-in could not be completed.");
        return;
    }
    http_redirect(req, 302, url);
    free(url);
}

/* Issues a code for the session and sends the browser back to the app. */
static void
redirect_with_code(struct http_request *req, const struct areq *a,
                   const char *sid, const char *sub, int64_t auth_time,
                   int status)
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
        http_error_page(req, 500, "Something went wrong",
                        "The sign-in could not be completed.");
        return;
    }
    http_redirect(req, status, url);
    free(url);
}

static int
valid_challenge(const char *s)
{
    size_t i, n = strlen(s);

    /* RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters. */
    if (n != 43)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return 0;
    return 1;
}

/*
 * Shows the sign-in form, the request (sealed, if any) in it. Nothing is
 * stored: the CSRF token is sealed too, bound to this browser's
 * pre-sign-in cookie, so a token fetched by another browser (a cross-site
 * attacker's server) does not verify (SPEC §7).
 */
static void
show_login(struct http_request *req, const char *app_name,
           const char *request, const char *username, const char *error,
           int status)
{
    char browser[PRESIGN_ID_LEN + 1], *csrf = NULL;
    struct page_login p;
    json_t *none = json_object();
    char *html;

    if (none == NULL || presign_browser(req, 1, browser) < 0 ||
        presign_seal(req->app, "login", browser, none, &csrf) < 0) {
        json_decref(none);
        http_error_page(req, 503, "Temporarily unavailable",
                        "Sign-in is not available right now. Please try "
                        "again in a moment.");
        return;
    }
    json_decref(none);
    memset(&p, 0, sizeof(p));
    p.app_name = app_name;
    p.action = "/login";
    p.csrf = csrf;
    p.request = request;
    p.username = username;
    p.error = error;
    html = pages_login(&p);
    free(csrf);
    if (html == NULL) {
        http_error_page(req, 500, "Something went wrong", "Out of memory.");
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
    return o;
}

static void
areq_from_json(const json_t *o, struct areq *a)
{
    memset(a, 0, sizeof(*a));
    a->client_id = json_string_value(json_object_get(o, "client_id"));
    a->redirect_uri = json_string_value(json_object_get(o, "redirect_uri"));
    a->scope = json_string_value(json_object_get(o, "scope"));
    a->state = json_string_value(json_object_get(o, "state"));
    a->nonce = json_string_value(json_object_get(o, "nonce"));
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
    struct session *s = NULL;
    struct areq a;
    char *granted = NULL, *cookie = NULL, *sealed = NULL;
    char hint_sub[37] = "";
    long max_age = -1;
    json_t *o;
    int rc;

    if (state != NULL && strlen(state) > STATE_MAX) {
        http_error_page(req, 400, "Invalid request",
                        "The application sent a state parameter longer "
                        "than 4 KiB, which cannot be sent back to it.");
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

    /* Single sign-on: a live session skips the form, unless the client
     * asks for a fresh sign-in. */
    cookie = http_cookie(req, SESSION_COOKIE);
    if (cookie != NULL && (prompt == NULL || strcmp(prompt, "login") != 0) &&
        (rc = session_from_cookie(app->store, app->cfg, cookie, &s)) < 0 &&
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
    if (s != NULL && recent_enough(s, max_age)) {
        redirect_with_code(req, &a, s->sid, s->sub, s->auth_time, 302);
        goto out;
    }
    if (prompt != NULL && strcmp(prompt, "none") == 0) {
        redirect_error(req, redirect_uri, "login_required", NULL, state);
        goto out;
    }
    /* The pending request travels with the browser, sealed: nothing an
     * anonymous client can multiply is stored (SPEC §7). */
    if ((o = areq_to_json(&a)) == NULL) {
        http_error_page(req, 500, "Something went wrong", "Out of memory.");
        goto out;
    }
    rc = presign_seal(app, "areq", "", o, &sealed);
    json_decref(o);
    if (rc < 0) {
        redirect_error(req, redirect_uri, "temporarily_unavailable", NULL,
                       state);
        goto out;
    }
    show_login(req, c->name, sealed, form_get(q, "login_hint"), NULL, 200);
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
        http_error_page(req, 400, "Invalid request",
                        "The sign-in request was not sent as a form.");
        return;
    }
    if (form_parse(params, params_len, &q) < 0) {
        http_error_page(req, 400, "Invalid request",
                        "The sign-in link is malformed.");
        return;
    }
    /* RFC 6749 §4.1.2.1: without a known client and an exactly registered
     * redirect_uri, never redirect: tell the user instead. */
    client_id = form_get(&q, "client_id");
    redirect_uri = form_get(&q, "redirect_uri");
    if (client_id == NULL) {
        http_error_page(req, 400, "Unknown application",
                        "The sign-in link does not name an application.");
        goto out;
    }
    rc = client_auth_find(req->app, client_id, &c, &owned);
    if (rc < 0 && rc != GH_ENOTFOUND) {
        http_error_page(req, 503, "Temporarily unavailable",
                        "Sign-in is not available right now. Please try "
                        "again in a moment.");
        goto out;
    }
    if (rc < 0) {
        http_error_page(req, 400, "Unknown application",
                        "The application that sent you here is not "
                        "registered with this sign-in service.");
        goto out;
    }
    if (redirect_uri == NULL || !client_has_redirect_uri(c, redirect_uri)) {
        http_error_page(req, 400, "Invalid redirect URI",
                        "The application asked to send you back to an "
                        "address it has not registered, so sign-in "
                        "stopped here.");
        goto out;
    }
    authorize_client(req, c, &q, params_len);
out:
    client_free(owned);
    form_free(&q);
}

/* The lockout buckets one attempt counts in (SPEC §7 Lockout): the user's
 * and the address's, or a returning browser's own. */
#define LOGIN_BUCKETS 2
#define BUCKET_MAX (USERNAME_MAX + 8)

/* One sign-in attempt, handed to the hash pool. */
struct login_job {
    struct http_request *req;
    struct user *user; /* NULL: nobody has that name */
    char *username;    /* as typed, for the form shown again */
    char *password;
    char *request_id;
    char ip[46];
    char *ua;
    char who[LOGIN_BUCKETS][BUCKET_MAX]; /* where the attempt is reserved */
    int nwho;
    int returning; /* came with this user's device cookie */
};

static void
login_job_free(struct login_job *j)
{
    user_free(j->user);
    free(j->username);
    util_free_secret(j->password);
    free(j->request_id);
    free(j->ua);
    free(j);
}

static void
lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* The app name for the form shown again, from the pending request (sealed
 * by authorize_client; *areq NULL if it does not open: forged, expired, or
 * its client or redirect_uri no longer registered). */
static char *
request_app_name(struct app *app, const char *request, json_t **areq)
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
    name = strdup(c->name);
    client_free(owned);
    *areq = o;
    return name;
}

/*
 * The MAC key for state the browser carries (device cookies): made by the
 * first instance that needs it and shared through Redis, so every instance
 * behind one load balancer accepts the others' cookies. Read once.
 */
/* Device cookies are sealed under the one key for what browsers carry
 * (SPEC §3), shared through Redis. */
static int
browser_key(struct store *st, unsigned char key[DEVICE_KEY_LEN])
{
    return store_mac_key(st, key);
}

static const char *
device_cookie_name(const struct config *cfg)
{
    return cfg->issuer_https ? DEVICE_COOKIE_HOST : DEVICE_COOKIE;
}

/* Whether this browser signed in as sub before: its device cookie's id
 * into id if so. Anything wrong with the cookie just means "not known". */
static int
device_known(struct http_request *req, const char *sub,
             char id[DEVICE_ID_LEN + 1])
{
    unsigned char key[DEVICE_KEY_LEN];
    char *cookie = http_cookie(req, device_cookie_name(req->app->cfg));
    int rc = GH_EDENIED;

    if (cookie != NULL && browser_key(req->app->store, key) == 0)
        rc = device_cookie_open(key, cookie, sub, util_now(), id);
    OPENSSL_cleanse(key, sizeof(key));
    free(cookie);
    return rc == 0;
}

/*
 * After a successful sign-in: this browser is now known for sub (OWASP's
 * device cookie), for DEVICE_TTL_S. Logout leaves it (logout.c): it says
 * who signed in here before, not who is signed in now.
 */
static void
set_device_cookie(struct http_request *req, const char *sub)
{
    unsigned char key[DEVICE_KEY_LEN];
    char value[DEVICE_VALUE_MAX], buf[DEVICE_VALUE_MAX + 128];
    int https = req->app->cfg->issuer_https;

    if (browser_key(req->app->store, key) < 0 ||
        device_cookie_seal(key, sub, util_now() + DEVICE_TTL_S, value) < 0) {
        /* The sign-in stands; the next one from here is just not
         * recognised under a flood. */
        log_warnx("device_cookie_failed sub=%s", sub);
        OPENSSL_cleanse(key, sizeof(key));
        return;
    }
    OPENSSL_cleanse(key, sizeof(key));
    snprintf(buf, sizeof(buf),
             "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
             device_cookie_name(req->app->cfg), value, DEVICE_TTL_S,
             https ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", buf);
}

/* Runs on a hash-pool thread: the scrypt work, then the answer. */
static void
login_run(void *arg)
{
    struct login_job *j = arg;
    struct http_request *req = j->req;
    struct app *app = req->app;
    struct user *u = j->user;
    const char *who[LOGIN_BUCKETS];
    json_t *areq_json = NULL;
    char *app_name, sid[SESSION_SID_LEN + 1];
    char cookie[SESSION_COOKIE_LEN + 1];
    int i, rc;

    for (i = 0; i < j->nwho; i++)
        who[i] = j->who[i];
    app_name = request_app_name(app, j->request_id, &areq_json);
    if (j->request_id != NULL && areq_json == NULL) {
        /* Nothing was checked: the attempt is given back. */
        store_login_refund(app->store, who, j->nwho, 0);
        http_error_page(req, 400, "Sign-in expired",
                        "This sign-in took too long. Go back to the "
                        "application and start again.");
        goto out;
    }
    /* Unknown and disabled users cost the same scrypt as a wrong password:
     * the answer and its timing must not say whether the user exists. */
    if (u == NULL || u->disabled)
        rc = password_verify_dummy(j->password);
    else
        rc = password_verify(j->password, u->hash);
    metrics_login_hash(j->returning);
    /* People type passwords into the username field: what was typed is
     * never logged, not even hashed (a dictionary inverts a hash). A
     * known user is named by sub; an unknown name not at all. The failure
     * was counted when the attempt was reserved. */
    if (rc < 0) {
        log_info("login_failed sub=%s addr=%s",
                 u != NULL ? u->sub : "-", j->ip);
        show_login(req, app_name, j->request_id, j->username,
                   "Incorrect username or password.", 401);
        goto out;
    }
    /* The right password gives its attempt back and ends the run of
     * failures in the user's (or this device's) bucket. */
    if (store_login_refund(app->store, who, j->nwho, 1) < 0)
        goto unavailable;
    if (session_create(app->store, app->cfg, u->sub, j->ip, j->ua, sid,
                       cookie) < 0)
        goto unavailable;
    set_session_cookie(req, cookie);
    set_device_cookie(req, u->sub);
    /* The form's token was bound to this cookie: without it, the form
     * cannot be posted again (a token used once, as it was when stored). */
    presign_forget(req);
    log_info("login sub=%s addr=%s", u->sub, j->ip);
    if (areq_json != NULL) {
        struct areq a;
        areq_from_json(areq_json, &a);
        /* 303: the browser follows a POST's redirect with a GET. */
        redirect_with_code(req, &a, sid, u->sub, util_now(), 303);
    } else {
        char *html = pages_signed_in(u->username);
        http_reply_html(req, 200, html != NULL ? html : strdup(""));
    }
    goto out;
unavailable:
    http_error_page(req, 503, "Temporarily unavailable",
                    "Sign-in is not available right now. Please try again "
                    "in a moment.");
out:
    json_decref(areq_json);
    free(app_name);
    login_job_free(j);
    http_resume(req);
}

/*
 * The bucket of a name nobody has: "n:" and an HMAC of the name in lower
 * case under the browser-state key. People type passwords into the
 * username field; a copy of Redis must not hold what they typed, and an
 * unkeyed hash would fall to a dictionary.
 */
static int
name_bucket(struct store *st, const char *typed, char out[BUCKET_MAX])
{
    unsigned char key[DEVICE_KEY_LEN], md[EVP_MAX_MD_SIZE];
    char name[USERNAME_MAX + 1];
    unsigned int mdlen = 0;
    int rc;

    snprintf(name, sizeof(name), "%s", typed);
    lower(name);
    if ((rc = browser_key(st, key)) < 0)
        goto out;
    if (HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)name,
             strlen(name), md, &mdlen) == NULL) {
        rc = GH_ECRYPTO;
        goto out;
    }
    memcpy(out, "n:", 2);
    b64url_encode(md, 16, out + 2);
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(name, sizeof(name));
    OPENSSL_cleanse(md, sizeof(md));
    return rc;
}

/*
 * SPEC §7 Lockout: the attempt is reserved in its buckets before any
 * hashing, so parallel guesses cannot all pass a check made before the
 * first is counted. One bucket per user whatever was typed (any case of
 * the username, or the sub); a name nobody has gets its own (name_bucket),
 * so the answer is the same as for a real user. A browser that signed in
 * as this user before counts only in its own device bucket: failures from
 * elsewhere cannot lock it out. 1 if answered (429 or 503), else 0.
 */
static int
login_reserve(struct http_request *req, struct login_job *j)
{
    struct app *app = req->app;
    const char *who[LOGIN_BUCKETS];
    char id[DEVICE_ID_LEN + 1], retry[24];
    long retry_s = 0;
    int i, rc;

    if (j->user != NULL && device_known(req, j->user->sub, id)) {
        j->returning = 1;
        snprintf(j->who[0], BUCKET_MAX, "d:%s", id);
        j->nwho = 1;
    } else {
        if (j->user != NULL)
            snprintf(j->who[0], BUCKET_MAX, "u:%s", j->user->sub);
        else if (name_bucket(app->store, j->username, j->who[0]) < 0)
            goto unavailable;
        snprintf(j->who[1], BUCKET_MAX, "ip:%s", j->ip);
        j->nwho = 2;
    }
    for (i = 0; i < j->nwho; i++)
        who[i] = j->who[i];
    rc = store_login_reserve(app->store, who, j->nwho,
                             app->cfg->login_max_failures,
                             app->cfg->login_lockout_s, &retry_s);
    if (rc == GH_EDENIED) {
        log_info("login_locked_out sub=%s addr=%s",
                 j->user != NULL ? j->user->sub : "-", j->ip);
        snprintf(retry, sizeof(retry), "%ld", retry_s);
        http_add_header(req, "Retry-After", retry);
        http_error_page(req, 429, "Too many attempts",
                        "Too many failed sign-ins. Wait a few minutes and "
                        "try again.");
        return 1;
    }
    if (rc < 0)
        goto unavailable;
    return 0;
unavailable:
    http_error_page(req, 503, "Temporarily unavailable",
                    "Sign-in is not available right now. Please try again "
                    "in a moment.");
    return 1;
}

/* SPEC §7: the hash pool is full; come back in a moment. */
static void
busy(struct http_request *req)
{
    http_add_header(req, "Retry-After", "1");
    http_error_page(req, 503, "Busy",
                    "Too many sign-ins at once. Please try again in a "
                    "moment.");
}

/* A queued attempt shed at shutdown (hashpool_shed): nothing was checked,
 * so the attempt is given back and the browser told to try again. */
static void
login_cancel(void *arg)
{
    struct login_job *j = arg;
    struct http_request *req = j->req;
    const char *who[LOGIN_BUCKETS] = {j->who[0], j->who[1]};

    store_login_refund(req->app->store, who, j->nwho, 0);
    busy(req);
    login_job_free(j);
    http_resume(req);
}

/* Whether the browser brings a device cookie Gatehouse made, for anyone:
 * a MAC to check, no Redis (once the key is read). */
static int
has_device_cookie(struct http_request *req)
{
    unsigned char key[DEVICE_KEY_LEN];
    char *cookie = http_cookie(req, device_cookie_name(req->app->cfg));
    char id[DEVICE_ID_LEN + 1];
    int rc = GH_EDENIED;

    if (cookie != NULL && browser_key(req->app->store, key) == 0)
        rc = device_cookie_open(key, cookie, NULL, util_now(), id);
    OPENSSL_cleanse(key, sizeof(key));
    free(cookie);
    return rc == 0;
}

static void
login_post(struct http_request *req)
{
    struct app *app = req->app;
    const char *ctype = http_header(req, "Content-Type");
    const char *username, *password, *csrf, *request;
    char browser[PRESIGN_ID_LEN + 1];
    struct login_job *j = NULL;
    json_t *claims = NULL;
    struct form f;
    int rc;

    /* Login CSRF: a form another site auto-submits would sign this browser
     * in as the attacker. Refused before anything is read. */
    if (!presign_same_origin(req)) {
        http_error_page(req, 403, "Sign-in refused",
                        "This sign-in form was sent from another site, so "
                        "nothing was done. Go back to the application and "
                        "sign in again.");
        return;
    }
    if (ctype == NULL ||
        strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0 ||
        form_parse(req->body, req->body_len, &f) < 0) {
        http_error_page(req, 400, "Invalid request",
                        "The sign-in form was not sent correctly.");
        return;
    }
    username = form_get(&f, "username");
    password = form_get(&f, "password");
    csrf = form_get(&f, "csrf");
    request = form_get(&f, "request");
    /* The token is checked before anything else: one forged, expired or
     * shown to another browser (bound to its pre-sign-in cookie) changes
     * nothing. */
    rc = presign_browser(req, 0, browser);
    if (rc == 0)
        rc = presign_open(app, "login", browser, csrf, &claims);
    json_decref(claims);
    if (rc == GH_EREDIS) {
        http_error_page(req, 503, "Temporarily unavailable",
                        "Sign-in is not available right now. Please try "
                        "again in a moment.");
        goto out;
    }
    if (rc < 0) {
        http_error_page(req, 403, "Sign-in form expired",
                        "This form can no longer be used (or this browser "
                        "refuses cookies). Go back to the application and "
                        "sign in again.");
        goto out;
    }
    if (username == NULL || password == NULL || *username == '\0' ||
        strlen(username) > USERNAME_MAX || strlen(password) > PASSWORD_MAX) {
        show_login(req, NULL, request, NULL,
                   "Enter your username and password.", 400);
        goto out;
    }
    /* Under a flood the open pool stays full: an attempt that cannot be
     * a returning browser's is turned away before it costs Redis
     * anything, so the HTTP threads keep time for those that can. */
    if (hashpool_full(app->hashpool) && !has_device_cookie(req)) {
        busy(req);
        goto out;
    }
    if ((j = calloc(1, sizeof(*j))) == NULL)
        goto oom;
    j->req = req;
    j->username = strdup(username);
    j->password = strdup(password);
    j->request_id = request != NULL ? strdup(request) : NULL;
    snprintf(j->ip, sizeof(j->ip), "%s", http_client_addr(req));
    j->ua = http_header(req, "User-Agent") != NULL
                ? strdup(http_header(req, "User-Agent"))
                : strdup("");
    if (j->username == NULL || j->password == NULL || j->ua == NULL)
        goto oom;
    /* Whoever was typed (any case of the username, or the sub) is one
     * user; a name nobody has leaves j->user NULL. Any other failure is
     * no answer about the user at all. */
    if ((rc = users_get(app->store, username, &j->user)) < 0 &&
        rc != GH_ENOTFOUND) {
        http_error_page(req, 503, "Temporarily unavailable",
                        "Sign-in is not available right now. Please try "
                        "again in a moment.");
        goto out;
    }
    if (login_reserve(req, j))
        goto out;
    /* SPEC §7: scrypt never runs on an HTTP thread; when the pool is
     * full, say so rather than queue without bound. A returning browser
     * has a pool of its own that anonymous attempts cannot fill. */
    http_suspend(req);
    if ((rc = hashpool_submit_cancellable(
             j->returning ? app->hashpool_returning : app->hashpool,
             login_run, login_cancel, j)) < 0) {
        const char *who[LOGIN_BUCKETS] = {j->who[0], j->who[1]};

        /* Nothing was checked: the attempt is given back. */
        store_login_refund(app->store, who, j->nwho, 0);
        busy(req);
        http_resume(req);
        goto out;
    }
    j = NULL;
    goto out;
oom:
    http_error_page(req, 500, "Something went wrong", "Out of memory.");
out:
    if (j != NULL)
        login_job_free(j);
    form_free(&f);
}

void
login_handle(struct http_request *req)
{
    if (strcmp(req->method, "POST") == 0) {
        login_post(req);
        return;
    }
    show_login(req, NULL, NULL, NULL, NULL, 200);
}
