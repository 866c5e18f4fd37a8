/* SPDX-License-Identifier: MIT */
/* /login: the sign-in form posted back. The attempt is reserved against
 * lockout before any hashing, the password checked on the hash pool, and
 * a good one ends in a session and, when an app sent the browser here,
 * a code for it (authorize.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gatehouse/auth/device.h"
#include "gatehouse/auth/enrol.h"
#include "gatehouse/auth/lockout.h"
#include "gatehouse/auth/presign.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/http/pages.h"
#include "gatehouse/oidc/authorize.h"
#include "gatehouse/oidc/login.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"

/* One sign-in attempt, handed to the hash pool. */
struct login_job {
    struct http_request *req;
    struct user *user; /* NULL: nobody has that name */
    char *username;    /* as typed, for the form shown again */
    char *password;
    char *request_id;
    char ip[46];
    char *ua;
    const char *return_to; /* login_return_path's, static; NULL: none */
    char who[LOGIN_BUCKETS][BUCKET_MAX]; /* where the attempt is reserved */
    int nwho;
    int returning; /* came with this user's device cookie */
    int keep;      /* "Keep me signed in on this device" ticked */
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

/* Device cookies are sealed under the one key for what browsers carry
 * (SPEC §3): shared through Redis, so every instance behind one load
 * balancer accepts the others' cookies. */
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

/* Whether this browser signed in as sub before (sub NULL: as anyone):
 * its device cookie's id into id if so. Anything wrong with the cookie
 * just means "not known". */
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

/*
 * SPEC §5: the SSO cookie ends with the browser session (no Max-Age: a
 * shared computer forgets it when the browser closes) unless the person
 * ticked "Keep me signed in on this device"; then it lasts as long as the
 * session can, its absolute timeout, the whole of which is left at
 * sign-in. The session's idle timeout still ends it sooner in Redis.
 */
static void
set_session_cookie(struct http_request *req, const char *value, int keep)
{
    char buf[256], max_age[32] = "";

    if (keep)
        snprintf(max_age, sizeof(max_age), "; Max-Age=%d",
                 req->app->cfg->session_absolute_timeout_s);
    snprintf(buf, sizeof(buf), "%s=%s; Path=/%s; HttpOnly; SameSite=Lax%s",
             SESSION_COOKIE, value, max_age,
             req->app->cfg->issuer_https ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", buf);
}

/* The sealed "password ok" state of the second step (SPEC §7): bound to
 * this browser's pre-sign-in cookie like the sign-in form's token, and
 * nothing stored; the code page carries it. */
#define CODE_PURPOSE "login-code"
/* How long the code page may take, within PRESIGN_TTL_S. */
#define CODE_TTL_S 300

int
login_session(struct http_request *req, const struct user *u, const char *ip,
              const char *ua, int keep, int device, const char *amr,
              char sid[SESSION_SID_LEN + 1])
{
    struct app *app = req->app;
    char cookie[SESSION_COOKIE_LEN + 1];

    if (session_create_amr(app->store, app->cfg, u->sub, ip, ua, amr, sid,
                           cookie) < 0) {
        authorize_unavailable(req);
        return -1;
    }
    set_session_cookie(req, cookie, keep);
    if (device)
        set_device_cookie(req, u->sub);
    /* The form's token was bound to this cookie: without it, the form
     * cannot be posted again (a token used once, as it was when stored). */
    presign_forget(req);
    return 0;
}

void
login_answer(struct http_request *req, const struct user *u, const char *sid,
             const char *amr, const json_t *areq_json, const char *return_to)
{
    if (areq_json != NULL) {
        struct areq a;
        authorize_areq_from_json(areq_json, &a);
        /* 303: the browser follows a POST's redirect with a GET. */
        authorize_redirect_with_code_amr(req, &a, sid, u->sub, util_now(),
                                         amr, 303);
    } else if (return_to != NULL) {
        http_redirect(req, 303, return_to);
    } else {
        char *html = pages_signed_in(http_page_ctx(req), u->username);
        http_reply_html(req, 200, html != NULL ? html : strdup(""));
    }
}

/*
 * A password sign-in whose checks all passed: the session (with the
 * methods amr), its cookies with the device cookie, and the answer.
 * areq_json: the opened request, or NULL.
 */
static void
login_finish(struct http_request *req, const struct user *u, const char *ip,
             const char *ua, int keep, json_t *areq_json,
             const char *return_to, const char *amr)
{
    char sid[SESSION_SID_LEN + 1];

    if (login_session(req, u, ip, ua, keep, 1, amr, sid) < 0)
        return;
    log_info("login sub=%s addr=%s amr=\"%s\"", u->sub, ip, amr);
    login_answer(req, u, sid, amr, areq_json, return_to);
}

/* The code page with step (the sealed state) and error (a msgid, or
 * NULL). */
static void
show_code_page(struct http_request *req, const char *step, const char *sub,
               const char *error, int status)
{
    const struct page_ctx *ctx = http_page_ctx(req);
    struct page_login_code p = {
        .action = "/login",
        .step = step,
        .error = error != NULL ? tr(ctx->lang, error) : NULL,
    };
    char browser[PRESIGN_ID_LEN + 1], challenge[PASSKEY_CHALLENGE_TEXT];
    char origin[512], rp_id[256], *state = NULL, *html;
    struct passkey_record *pks = NULL;
    size_t npk = 0;

    /* A user with a passkey too is offered both (its challenge bound to
     * this browser, as the passkey page's). */
    if (store_passkeys_list(req->app->store, sub, &pks, &npk) < 0) {
        authorize_unavailable(req);
        return;
    }
    store_passkeys_free(pks, npk);
    if (npk > 0 &&
        webauthn_rp_from_issuer(req->app->cfg->issuer, origin, sizeof(origin),
                                rp_id, sizeof(rp_id)) == 0) {
        if (presign_browser(req, 0, browser) < 0 ||
            passkeys_challenge(req->app->store, PASSKEY_PURPOSE_SIGN_IN,
                               browser, challenge, &state) < 0) {
            authorize_unavailable(req);
            return;
        }
        p.passkey_challenge = challenge;
        p.passkey_rp_id = rp_id;
        p.passkey_state = state;
    }
    html = pages_login_code(ctx, &p);
    if (html == NULL) {
        free(state);
        authorize_unavailable(req);
        return;
    }
    http_add_header(req, "Cache-Control", "no-store");
    if (state != NULL)
        http_reply_html_csp(req, status, html, "script-src 'self'");
    else
        http_reply_html(req, status, html);
    free(state);
}

/* The pages of login_error (login.h): data, one row each. */
static const struct {
    int status;
    const char *title, *text;
} login_errors[] = {
    [LOGIN_REFUSED] = {403, N_("Sign-in refused"),
                       N_("This sign-in form was sent from another site, so "
                          "nothing was done. Go back to the application and "
                          "sign in again.")},
    [LOGIN_BAD_FORM] = {400, N_("Invalid request"),
                        N_("The sign-in form was not sent correctly.")},
    [LOGIN_BAD_LINK] = {400, N_("Invalid request"),
                        N_("The sign-in link is malformed.")},
    [LOGIN_BAD_RETURN] = {400, N_("Invalid request"),
                          N_("The sign-in link asks to go on to an address "
                             "outside Gatehouse, so it was not followed.")},
    [LOGIN_FORM_EXPIRED] = {403, N_("Sign-in form expired"),
                            N_("This form can no longer be used (or this "
                               "browser refuses cookies). Go back to the "
                               "application and sign in again.")},
    [LOGIN_TOO_LONG] = {400, N_("Sign-in expired"),
                        N_("This sign-in took too long. Go back to the "
                           "application and start again.")},
};

void
login_error(struct http_request *req, enum login_error e)
{
    http_error_page(req, login_errors[e].status, login_errors[e].title,
                    login_errors[e].text);
}

int
login_request_open(struct http_request *req, const char *request,
                   json_t **areq_json, char **app_name)
{
    char *name = authorize_request_open(req->app, request, areq_json);

    if (app_name != NULL)
        *app_name = name;
    else
        free(name);
    if (request != NULL && *areq_json == NULL) {
        login_error(req, LOGIN_TOO_LONG);
        return -1;
    }
    return 0;
}

/* The second step's sealed state: who and what the sign-in is for, and
 * what stage ("code": a code is asked; "enrol": a TOTP is being set up;
 * "done": set up and its code right). 0 with *out malloc'd, or 1 if
 * answered here. */
static int
seal_step(struct http_request *req, const char *sub, int keep,
          const char *request, const char *return_to, const char *stage,
          char **out)
{
    char browser[PRESIGN_ID_LEN + 1];
    json_t *o;
    int rc;

    if (presign_browser(req, 0, browser) < 0) {
        login_error(req, LOGIN_FORM_EXPIRED);
        return 1;
    }
    o = json_pack("{s:s, s:b, s:I, s:s}", "sub", sub, "keep", keep, "exp",
                  (json_int_t)(util_now() + CODE_TTL_S), "stage", stage);
    if (o != NULL && request != NULL)
        json_object_set_new(o, "request", json_string(request));
    if (o != NULL && return_to != NULL)
        json_object_set_new(o, "return", json_string(return_to));
    rc = o != NULL ? presign_seal(req->app, CODE_PURPOSE, browser, o, out)
                   : GH_ENOMEM;
    json_decref(o);
    if (rc < 0) {
        authorize_unavailable(req);
        return 1;
    }
    return 0;
}

/* After the right password of a user with an active second factor: the
 * code page, carrying who and what the sign-in was for, sealed. */
static void
ask_code(struct http_request *req, const struct login_job *j)
{
    char *step = NULL;

    if (seal_step(req, j->user->sub, j->keep, j->request_id, j->return_to,
                  "code", &step))
        return;
    log_info("login_code_asked sub=%s addr=%s", j->user->sub, j->ip);
    show_code_page(req, step, j->user->sub, NULL, 200);
    free(step);
}

/* The second step with a passkey (a user with passkeys and no TOTP): the
 * page whose script asks the authenticator, carrying the sealed state
 * and a challenge bound to this browser; error a msgid or NULL. */
static void
show_passkey_page(struct http_request *req, const char *step,
                  const char *error, int status)
{
    const struct page_ctx *ctx = http_page_ctx(req);
    char browser[PRESIGN_ID_LEN + 1], challenge[PASSKEY_CHALLENGE_TEXT];
    char origin[512], rp_id[256], *state = NULL, *html;
    struct page_passkey_sign_in p;

    if (webauthn_rp_from_issuer(req->app->cfg->issuer, origin, sizeof(origin),
                                rp_id, sizeof(rp_id)) < 0 ||
        presign_browser(req, 0, browser) < 0 ||
        passkeys_challenge(req->app->store, PASSKEY_PURPOSE_SIGN_IN, browser,
                           challenge, &state) < 0) {
        authorize_unavailable(req);
        return;
    }
    memset(&p, 0, sizeof(p));
    p.action = "/login";
    p.challenge = challenge;
    p.state = state;
    p.rp_id = rp_id;
    p.step = step;
    p.error = error != NULL ? tr(ctx->lang, error) : NULL;
    html = pages_passkey_sign_in(ctx, &p);
    free(state);
    if (html == NULL) {
        authorize_unavailable(req);
        return;
    }
    http_add_header(req, "Cache-Control", "no-store");
    http_reply_html_csp(req, status, html, "script-src 'self'");
}

/* The enrolment page inside the sign-in, for e, with error (a msgid) or
 * NULL. */
static void
show_enrol_page(struct http_request *req, const char *step,
                const struct totp_enrolment *e, const char *error, int status)
{
    const struct page_ctx *ctx = http_page_ctx(req);
    struct page_totp_setup p;
    char *html;

    memset(&p, 0, sizeof(p));
    p.action = "/login";
    p.step = step;
    p.secret = e->secret;
    p.uri = e->uri;
    p.error = error != NULL ? tr(ctx->lang, error) : NULL;
    if ((html = pages_totp_setup(ctx, &p)) == NULL) {
        authorize_unavailable(req);
        return;
    }
    http_add_header(req, "Cache-Control", "no-store");
    http_reply_html(req, status, html);
}

/* login.second_factor "required" and no factor yet: set one up now,
 * before any app gets a code. */
static void
ask_enrol(struct http_request *req, const struct login_job *j)
{
    struct app *app = req->app;
    struct totp_enrolment e = {{0}, NULL};
    char *step = NULL;

    if (factors_totp_enrol(app->store, app->factor_key, app->cfg->issuer,
                           j->user->sub, j->user->username, &e) < 0) {
        authorize_unavailable(req);
        return;
    }
    if (seal_step(req, j->user->sub, j->keep, j->request_id, j->return_to,
                  "enrol", &step) == 0) {
        log_info("login_enrol_asked sub=%s addr=%s", j->user->sub, j->ip);
        show_enrol_page(req, step, &e, NULL, 200);
    }
    factors_enrolment_clear(&e);
    free(step);
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
    char *app_name;
    int i, rc;

    for (i = 0; i < j->nwho; i++)
        who[i] = j->who[i];
    if (login_request_open(req, j->request_id, &areq_json, &app_name) < 0) {
        /* Nothing was checked: the attempt is given back. */
        store_login_refund(app->store, who, j->nwho, 0);
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
        /* A Gatehouse page's sign-in goes back to it, not to an app. */
        authorize_show_login(
            req,
            &(struct page_login){
                .app_name = j->return_to != NULL ? NULL : app_name,
                .request = j->return_to != NULL ? NULL : j->request_id,
                .return_to = j->return_to,
                .username = j->username,
                .keep = j->keep,
                .error = N_("Incorrect username or password."),
            },
            401);
        goto out;
    }
    /* A user with an active second factor is asked for a code next
     * (SPEC §7). The right password gives its attempt back but does not
     * end the run of failures: codes count there too, and typing the
     * password again must not reset them. */
    if (app->cfg->login_second_factor != SECOND_FACTOR_OFF) {
        struct factor_info fi[FACTORS_MAX];
        size_t nfi = 0;
        int left = 0, active;

        active = factors_list(app->store, u->sub, fi, &nfi, &left);
        if (active < 0)
            goto unavailable;
        if (active > 0) {
            if (store_login_refund(app->store, who, j->nwho, 0) < 0)
                goto unavailable;
            ask_code(req, j);
            goto out;
        }
        /* No TOTP but a passkey: the passkey is the second step. */
        {
            struct passkey_record *pks = NULL;
            size_t npk = 0;
            char *step = NULL;

            if (store_passkeys_list(app->store, u->sub, &pks, &npk) < 0)
                goto unavailable;
            store_passkeys_free(pks, npk);
            if (npk > 0) {
                if (store_login_refund(app->store, who, j->nwho, 0) < 0)
                    goto unavailable;
                if (!seal_step(req, u->sub, j->keep, j->request_id,
                               j->return_to, "passkey", &step)) {
                    log_info("login_passkey_asked sub=%s addr=%s", u->sub,
                             j->ip);
                    show_passkey_page(req, step, NULL, 200);
                }
                free(step);
                goto out;
            }
        }
        if (app->cfg->login_second_factor == SECOND_FACTOR_REQUIRED ||
            json_is_true(json_object_get(areq_json, "acr2fa")) ||
            (active = factors_required(app->store, u->sub)) == 1) {
            if (store_login_refund(app->store, who, j->nwho, 1) < 0)
                goto unavailable;
            ask_enrol(req, j);
            goto out;
        }
        if (active < 0)
            goto unavailable;
    }
    /* The right password gives its attempt back and ends the run of
     * failures in the user's (or this device's) bucket. */
    if (store_login_refund(app->store, who, j->nwho, 1) < 0)
        goto unavailable;
    login_finish(req, u, j->ip, j->ua, j->keep, areq_json, j->return_to,
                 SESSION_AMR_PWD);
    goto out;
unavailable:
    authorize_unavailable(req);
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
    char id[DEVICE_ID_LEN + 1];
    int i, rc;

    if (j->user != NULL && device_known(req, j->user->sub, id)) {
        j->returning = 1;
        snprintf(j->who[0], BUCKET_MAX, "d:%s", id);
        j->nwho = 1;
    } else {
        j->nwho = 0;
        if (j->user != NULL)
            snprintf(j->who[j->nwho++], BUCKET_MAX, "u:%s", j->user->sub);
        else if (j->username != NULL &&
                 name_bucket(app->store, j->username, j->who[j->nwho++]) < 0)
            goto unavailable;
        /* No user and no name (a passkey nobody has): the address only. */
        snprintf(j->who[j->nwho++], BUCKET_MAX, "ip:%s", j->ip);
    }
    for (i = 0; i < j->nwho; i++)
        who[i] = j->who[i];
    if ((rc = lockout_reserve(req, who, j->nwho)) == 1) {
        log_info("login_locked_out sub=%s addr=%s",
                 j->user != NULL ? j->user->sub : "-", j->ip);
        return 1;
    }
    if (rc < 0)
        goto unavailable;
    return 0;
unavailable:
    authorize_unavailable(req);
    return 1;
}

int
login_hold(struct http_request *req, const struct user *u, struct login_hold *h)
{
    struct login_job j;
    int i;

    memset(&j, 0, sizeof(j));
    memset(h, 0, sizeof(*h));
    j.req = req;
    j.user = (struct user *)u; /* read only */
    snprintf(j.ip, sizeof(j.ip), "%s", http_client_addr(req));
    if (login_reserve(req, &j))
        return 1;
    for (i = 0; i < j.nwho; i++)
        memcpy(h->who[i], j.who[i], BUCKET_MAX);
    h->nwho = j.nwho;
    h->user = u != NULL;
    return 0;
}

int
login_hold_settle(struct http_request *req, const struct login_hold *h,
                  enum login_hold_outcome outcome)
{
    const char *who[LOGIN_BUCKETS];
    int i;

    if (outcome == LOGIN_HOLD_FAILED || h->nwho == 0)
        return 0;
    for (i = 0; i < h->nwho; i++)
        who[i] = h->who[i];
    return store_login_refund(req->app->store, who, h->nwho,
                              outcome == LOGIN_HOLD_PASSED && h->user ? 1 : 0);
}

/* SPEC §7: the hash pool is full; come back in a moment. */
static void
busy(struct http_request *req)
{
    http_add_header(req, "Retry-After", "1");
    http_error_page(req, 503, N_("Busy"),
                    N_("Too many sign-ins at once. Please try again in a "
                       "moment."));
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
    char id[DEVICE_ID_LEN + 1];

    return device_known(req, NULL, id);
}

/*
 * The Gatehouse page a sign-in without an app may return to: one of a
 * fixed list of our own paths, returned as the list's static copy, or
 * NULL. A list, not a check of what was sent: anything else (another
 * host, "//host", a scheme) would be an open redirect (SPEC §7).
 */
const char *
login_return_path(const char *s)
{
    static const char *const allowed[] = {"/account", "/account/passkeys"};
    size_t i;

    for (i = 0; s != NULL && i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(s, allowed[i]) == 0)
            return allowed[i];
    return NULL;
}

/* The first code of a TOTP set up inside the sign-in (stage "enrol"):
 * right, the recovery codes and a form going on (stage "done"); wrong,
 * the same QR code and key again. */
static void
enrol_code(struct http_request *req, const char *step, const char *sub,
           const json_t *claims, const char *code)
{
    struct app *app = req->app;
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    const char *list[RECOVERY_CODES];
    struct totp_enrolment e = {{0}, NULL};
    char *next = NULL, *html;
    size_t i;
    int rc;

    rc = factors_totp_activate(app->store, app->factor_key, sub, code,
                               strlen(code), (int64_t)time(NULL), codes);
    if (rc == 0) {
        log_info("login_enrolled sub=%s", sub);
        if (seal_step(req, sub, json_is_true(json_object_get(claims, "keep")),
                      json_string_value(json_object_get(claims, "request")),
                      json_string_value(json_object_get(claims, "return")),
                      "done", &next) == 0) {
            for (i = 0; i < RECOVERY_CODES; i++)
                list[i] = codes[i];
            html = pages_totp_codes(http_page_ctx(req), "/login", next, list,
                                    RECOVERY_CODES);
            if (html == NULL) {
                authorize_unavailable(req);
            } else {
                http_add_header(req, "Cache-Control", "no-store");
                http_reply_html(req, 200, html);
            }
        }
        OPENSSL_cleanse(codes, sizeof(codes));
        free(next);
        return;
    }
    if (rc != GH_EDENIED && rc != GH_EINVAL && rc != GH_ENOTFOUND) {
        authorize_unavailable(req);
        return;
    }
    if (rc == GH_ENOTFOUND || (rc = enrol_pending(app, sub, &e)) < 0) {
        if (rc == GH_ENOTFOUND)
            login_error(req, LOGIN_FORM_EXPIRED);
        else
            authorize_unavailable(req);
    } else {
        show_enrol_page(req, step, &e, ENROL_WRONG_CODE, 400);
    }
    factors_enrolment_clear(&e);
}

/*
 * The second step with a passkey posted (stage "passkey"): the assertion
 * checked for this user's passkeys only (passkeys_sign_in with want_sub;
 * its challenge used once, its counter grown), the attempt reserved in the
 * same lockout buckets as a password's first. Right: the session, amr
 * "pwd hwk". Wrong: the attempt stays counted and the page is shown again
 * with a new challenge.
 */
static void
passkey_step_post(struct http_request *req, const struct form *f,
                  const char *step, const char *sub, json_t *claims,
                  int with_code)
{
    struct app *app = req->app;
    const char *request = json_string_value(json_object_get(claims, "request"));
    const char *ret = json_string_value(json_object_get(claims, "return"));
    char browser[PRESIGN_ID_LEN + 1], origin[512], rp_id[256];
    char *owner = NULL;
    struct webauthn_rp rp = {origin, rp_id};
    struct login_hold hold;
    json_t *areq_json = NULL;
    struct user *u = NULL;
    int rc, uv = 0;

    if (webauthn_rp_from_issuer(app->cfg->issuer, origin, sizeof(origin),
                                rp_id, sizeof(rp_id)) < 0 ||
        (rc = presign_browser(req, 0, browser)) < 0) {
        login_error(req, LOGIN_FORM_EXPIRED);
        return;
    }
    if ((rc = users_get(app->store, sub, &u)) < 0 || u->disabled) {
        if (rc < 0 && rc != GH_ENOTFOUND)
            authorize_unavailable(req);
        else
            login_error(req, LOGIN_FORM_EXPIRED);
        goto out;
    }
    if (login_hold(req, u, &hold))
        goto out;
    rc = passkeys_sign_in(app->store, &rp, browser, form_get(f, "state"), sub,
                          form_get(f, "id"), form_get(f, "client_data"),
                          form_get(f, "auth_data"), form_get(f, "sig"),
                          &owner, &uv);
    if (rc == GH_EREDIS) {
        login_hold_settle(req, &hold, LOGIN_HOLD_GIVE_BACK);
        authorize_unavailable(req);
        goto out;
    }
    /* A forged or expired page's state, or malformed fields, are not a
     * check of the passkey: nothing counted. */
    if (rc == GH_EBADTOKEN || rc == GH_EINVAL)
        login_hold_settle(req, &hold, LOGIN_HOLD_GIVE_BACK);
    else
        metrics_factor(FACTOR_PASSKEY, rc == 0);
    if (rc < 0) {
        log_info("login_passkey_failed sub=%s addr=%s rc=%s", sub,
                 http_client_addr(req), gh_strerror(rc));
        if (with_code) /* the code page, offering both again */
            show_code_page(req, step, sub,
                           N_("That passkey was not accepted. Try again."),
                           401);
        else
            show_passkey_page(req, step,
                              N_("That passkey was not accepted. Try again."),
                              401);
        goto out;
    }
    if (login_hold_settle(req, &hold, LOGIN_HOLD_PASSED) < 0) {
        authorize_unavailable(req);
        goto out;
    }
    if (login_request_open(req, request, &areq_json, NULL) < 0)
        goto out;
    login_finish(req, u, http_client_addr(req),
                 http_header(req, "User-Agent") != NULL
                     ? http_header(req, "User-Agent")
                     : "",
                 json_is_true(json_object_get(claims, "keep")), areq_json,
                 login_return_path(ret), SESSION_AMR_PWD " " SESSION_AMR_HWK);
out:
    json_decref(areq_json);
    free(owner);
    user_free(u);
}

/*
 * The second step posted: the sealed state opened (bound to this browser),
 * the attempt reserved in the same lockout buckets as a password's, then
 * the code checked (factors_verify: a TOTP code once per step, a recovery
 * code once). Right: the session, amr "pwd otp". Wrong or replayed: the
 * attempt stays counted and the page is shown again.
 */
static void
code_post(struct http_request *req, const struct form *f)
{
    struct app *app = req->app;
    const char *step = form_get(f, "step"), *code = form_get(f, "code");
    const char *sub, *request, *ret, *stage, *who[LOGIN_BUCKETS];
    char browser[PRESIGN_ID_LEN + 1];
    struct login_job j;
    struct factor_result res;
    json_t *claims = NULL, *areq_json = NULL;
    int i, rc;

    memset(&j, 0, sizeof(j));
    rc = presign_browser(req, 0, browser);
    if (rc == 0)
        rc = presign_open(app, CODE_PURPOSE, browser, step, &claims);
    if (rc == GH_EREDIS) {
        authorize_unavailable(req);
        goto out;
    }
    sub = json_string_value(json_object_get(claims, "sub"));
    request = json_string_value(json_object_get(claims, "request"));
    ret = json_string_value(json_object_get(claims, "return"));
    if (rc < 0 || sub == NULL ||
        json_integer_value(json_object_get(claims, "exp")) < util_now() ||
        (ret != NULL && login_return_path(ret) == NULL)) {
        login_error(req, LOGIN_FORM_EXPIRED);
        goto out;
    }
    stage = json_string_value(json_object_get(claims, "stage"));
    if (stage == NULL)
        stage = "";
    if (strcmp(stage, "passkey") == 0) {
        passkey_step_post(req, f, step, sub, claims, 0);
        goto out;
    }
    /* The code page of a user with a passkey too: its passkey form. */
    if (strcmp(stage, "code") == 0 && form_get(f, "id") != NULL &&
        (code == NULL || *code == '\0')) {
        passkey_step_post(req, f, step, sub, claims, 1);
        goto out;
    }
    if (strcmp(stage, "done") != 0 &&
        (code == NULL || *code == '\0' || strlen(code) > 64)) {
        if (strcmp(stage, "enrol") == 0)
            enrol_code(req, step, sub, claims, "");
        else
            show_code_page(req, step, sub, N_("Enter the code."), 400);
        goto out;
    }
    if ((rc = users_get(app->store, sub, &j.user)) < 0 || j.user->disabled) {
        if (rc < 0 && rc != GH_ENOTFOUND)
            authorize_unavailable(req);
        else
            login_error(req, LOGIN_FORM_EXPIRED);
        goto out;
    }
    if (strcmp(stage, "enrol") == 0) {
        enrol_code(req, step, sub, claims, code);
        goto out;
    }
    if (strcmp(stage, "done") == 0) {
        /* Set up in this sign-in, its first code right: signed in. */
        if (login_request_open(req, request, &areq_json, NULL) < 0)
            goto out;
        login_finish(req, j.user, http_client_addr(req),
                     http_header(req, "User-Agent") != NULL
                         ? http_header(req, "User-Agent")
                         : "",
                     json_is_true(json_object_get(claims, "keep")),
                     areq_json, login_return_path(ret),
                     SESSION_AMR_PWD " otp");
        goto out;
    }
    j.req = req;
    j.username = j.user->username;
    snprintf(j.ip, sizeof(j.ip), "%s", http_client_addr(req));
    if (login_reserve(req, &j))
        goto out;
    for (i = 0; i < j.nwho; i++)
        who[i] = j.who[i];
    if (login_request_open(req, request, &areq_json, NULL) < 0) {
        store_login_refund(app->store, who, j.nwho, 0);
        goto out;
    }
    memset(&res, 0, sizeof(res));
    rc = factors_verify(app->store, app->factor_key, sub, code, strlen(code),
                        (int64_t)time(NULL), &res);
    if (rc == GH_EINVAL) {
        /* Neither shape: not a guess at a code; nothing counted. */
        store_login_refund(app->store, who, j.nwho, 0);
        show_code_page(req, step, sub,
                       N_("Enter the 6-digit code from your app, or a "
                          "recovery code."),
                       400);
        goto out;
    }
    if (rc < 0) {
        store_login_refund(app->store, who, j.nwho, 0);
        if (rc == GH_ENOTFOUND) /* removed meanwhile: sign in again */
            login_error(req, LOGIN_TOO_LONG);
        else
            authorize_unavailable(req);
        goto out;
    }
    if (!res.accepted) {
        log_info("login_code_failed sub=%s addr=%s replayed=%d", sub, j.ip,
                 res.replayed);
        show_code_page(req, step, sub,
                       res.replayed
                           ? N_("That code was already used. Wait for the "
                                "next one.")
                           : N_("Incorrect code."),
                       401);
        goto out;
    }
    if (store_login_refund(app->store, who, j.nwho, 1) < 0) {
        authorize_unavailable(req);
        goto out;
    }
    j.ua = (char *)(http_header(req, "User-Agent") != NULL
                        ? http_header(req, "User-Agent")
                        : "");
    login_finish(req, j.user, j.ip, j.ua,
                 json_is_true(json_object_get(claims, "keep")), areq_json,
                 login_return_path(ret), SESSION_AMR_PWD " otp");
out:
    user_free(j.user);
    json_decref(areq_json);
    json_decref(claims);
}

static void
login_post(struct http_request *req)
{
    struct app *app = req->app;
    const char *ctype = http_header(req, "Content-Type");
    const char *username, *password, *csrf, *request, *keep, *ret;
    char browser[PRESIGN_ID_LEN + 1];
    struct login_job *j = NULL;
    json_t *claims = NULL;
    struct form f;
    int rc;

    /* Login CSRF: a form another site auto-submits would sign this browser
     * in as the attacker. Refused before anything is read. */
    if (!presign_same_origin(req)) {
        login_error(req, LOGIN_REFUSED);
        return;
    }
    if (ctype == NULL ||
        strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0 ||
        form_parse(req->body, req->body_len, &f) < 0) {
        login_error(req, LOGIN_BAD_FORM);
        return;
    }
    /* The second step: a code, with the sealed state of the first. */
    if (form_get(&f, "step") != NULL) {
        code_post(req, &f);
        goto out;
    }
    /* The checkbox sends "1" when ticked and nothing otherwise. */
    keep = form_get(&f, "keep");
    if (keep != NULL && strcmp(keep, "1") != 0) {
        login_error(req, LOGIN_BAD_FORM);
        goto out;
    }
    username = form_get(&f, "username");
    password = form_get(&f, "password");
    csrf = form_get(&f, "csrf");
    request = form_get(&f, "request");
    ret = form_get(&f, "return");
    /* The token is checked before anything else: one forged, expired or
     * shown to another browser (bound to its pre-sign-in cookie) changes
     * nothing. */
    rc = presign_browser(req, 0, browser);
    if (rc == 0)
        rc = presign_open(app, "login", browser, csrf, &claims);
    json_decref(claims);
    if (rc == GH_EREDIS) {
        authorize_unavailable(req);
        goto out;
    }
    if (rc < 0) {
        http_error_page(req, 403, N_("Sign-in form expired"),
                        N_("This form can no longer be used (or this browser "
                           "refuses cookies). Go back to the application and "
                           "sign in again."));
        goto out;
    }
    if (ret != NULL && login_return_path(ret) == NULL) {
        login_error(req, LOGIN_BAD_RETURN);
        goto out;
    }
    if (username == NULL || password == NULL || *username == '\0' ||
        strlen(username) > USERNAME_MAX || strlen(password) > PASSWORD_MAX) {
        authorize_show_login(
            req,
            &(struct page_login){
                .request = ret != NULL ? NULL : request,
                .return_to = login_return_path(ret),
                .keep = keep != NULL,
                .error = N_("Enter your username and password."),
            },
            400);
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
    j->keep = keep != NULL;
    j->username = strdup(username);
    j->password = strdup(password);
    j->request_id = request != NULL ? xstrdup(request) : NULL;
    j->return_to = login_return_path(ret);
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
        authorize_unavailable(req);
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
    http_error_page(req, 500, N_("Something went wrong"), N_("Out of memory."));
out:
    if (j != NULL)
        login_job_free(j);
    form_free(&f);
}

void
login_page(struct http_request *req, login_get_fn get,
           void (*post)(struct http_request *req))
{
    struct form q;

    if (strcmp(req->method, "POST") == 0) {
        post(req);
        return;
    }
    if (form_parse(req->query, strlen(req->query), &q) < 0 ||
        form_has_duplicate(&q) != NULL)
        login_error(req, LOGIN_BAD_LINK);
    else
        get(req, &q);
    form_free(&q);
}

/* /login?return=/account: a Gatehouse page sent a browser without a
 * session here, and takes it back after the sign-in. */
static void
login_get(struct http_request *req, const struct form *q)
{
    const char *ret = form_get(q, "return");

    if (ret != NULL && login_return_path(ret) == NULL)
        login_error(req, LOGIN_BAD_RETURN);
    else
        authorize_show_login(
            req, &(struct page_login){.return_to = login_return_path(ret)},
            200);
}

void
login_handle(struct http_request *req)
{
    login_page(req, login_get, login_post);
}
