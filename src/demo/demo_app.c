/* SPDX-License-Identifier: MIT */
/* gatehouse-demo-app: a relying app that signs people in through Gatehouse
 * (OpenID Connect code flow with PKCE), keeps its own session, and signs
 * them out when Gatehouse says so (Back-Channel Logout 1.0, or with
 * --frontchannel Front-Channel Logout 1.0). Written to be read by teams
 * integrating their own app: the routes at the bottom are the whole story.
 * The protocol details are in oidc.c and oidc_tokens.c, what the app
 * remembers in sessions.c, Gatehouse's maintenance announcement in
 * maintenance.c, the HTTP plumbing in web.c. */
#include <getopt.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "maintenance.h"
#include "oidc.h"
#include "sessions.h"
#include "web.h"

#define MAX_BODY (16 * 1024)
#define SCOPE "openid profile email"

/* The one app this process is. */
static struct {
    const char *name;      /* "CRM": shown on every page */
    const char *client_id; /* "crm": also names it in logs and cookies */
    char cookie[64];       /* "demo_crm": the session */
    char login_cookie[80]; /* "demo_crm_login": a sign-in in progress */
    char home[64];         /* http://127.0.0.1:3001/ */
    char redirect_uri[80]; /* http://127.0.0.1:3001/callback */
    int frontchannel;      /* serves GET /frontchannel-logout */
    char issuer_origin[256]; /* what may frame that page */
    struct oidc *oidc;
} app;

/* One line per event on stderr: "ts app=crm event=... k=v". */
static void
say(const char *fmt, ...)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    flockfile(stderr);
    fprintf(stderr, "%s app=%s ", ts, app.client_id);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

static const char *
query(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static const char *
cookie(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, name);
}

static const char sign_in_form[] =
    "<form method=\"get\" action=\"/login\">"
    "<button type=\"submit\">Sign in</button></form>\n";

/*
 * Every page: the signed-in bar when s is not NULL (the app's name, who,
 * and "Sign out" in the top-right corner, on every signed-in page), and
 * Gatehouse's maintenance announcement, so that people working in the app
 * hear of a shutdown in time to save their work.
 */
static enum MHD_Result
page(struct MHD_Connection *c, unsigned status, const struct local_session *s,
     const char *body)
{
    char *banner = maintenance_banner(), *name = web_escape(app.name);
    char *user = s != NULL ? web_escape(s->username) : NULL;
    char *bar = NULL, *top = NULL;
    enum MHD_Result ret = MHD_NO;

    if (name == NULL || (s != NULL && user == NULL))
        goto out;
    if (s != NULL &&
        asprintf(&bar,
                 "<header class=\"bar\"><span class=\"app\">%s</span>"
                 "<span class=\"who\">%s</span>"
                 "<form method=\"post\" action=\"/logout\">"
                 "<button type=\"submit\">Sign out</button></form>"
                 "</header>\n",
                 name, user) < 0)
        goto out;
    if (asprintf(&top, "%s%s", bar ? bar : "", banner ? banner : "") < 0)
        top = NULL;
    else
        ret = web_page(c, status, app.name, top, body);
out:
    free(banner);
    free(name);
    free(user);
    free(bar);
    free(top);
    return ret;
}

static enum MHD_Result
sign_in_failed(struct MHD_Connection *c, const char *why)
{
    char *w = web_escape(why), *body = NULL;
    enum MHD_Result ret;

    say("event=sign_in_failed reason=\"%s\"", why);
    if (w == NULL || asprintf(&body,
                              "<p id=\"status\" role=\"alert\">Sign-in "
                              "failed: %s.</p>\n%s",
                              w, sign_in_form) < 0)
        body = NULL;
    ret = body ? page(c, 400, NULL, body) : MHD_NO;
    free(w);
    free(body);
    return ret;
}

/* ---- Routes ---- */

/* GET /: who is signed in here; "Sign out" in the bar, or "Sign in". */
static enum MHD_Result
home(struct MHD_Connection *c)
{
    const char *id = cookie(c, app.cookie), *state = query(c, "state");
    struct local_session *s = id ? session_get(id) : NULL;
    struct pending *p = NULL;
    char *user = NULL, *body = NULL;
    enum MHD_Result ret;

    if (s != NULL) {
        user = web_escape(s->username);
        if (user == NULL || asprintf(&body,
                                     "<p id=\"status\">Signed in as <b>%s</b> "
                                     "(sid %.8s\xe2\x80\xa6)</p>\n",
                                     user, s->sid) < 0)
            body = NULL;
    } else {
        /* Back from Gatehouse's /logout with the state we sent there. */
        p = state ? pending_take(state) : NULL;
        if (asprintf(&body, "<p id=\"status\">%s</p>\n%s",
                     p && p->logout ? "You are signed out." : "Not signed in.",
                     sign_in_form) < 0)
            body = NULL;
    }
    ret = body ? page(c, 200, s, body) : MHD_NO;
    session_free(s);
    free(p);
    free(user);
    free(body);
    return ret;
}

/* GET /login: off to Gatehouse, with a fresh state, nonce and PKCE
 * verifier remembered here (OIDC Core §3.1.2.1, RFC 7636). */
static enum MHD_Result
login(struct MHD_Connection *c)
{
    struct pending p = {.logout = 0};
    char challenge[44], *url = NULL, *ru, *sc;
    struct MHD_Response *r;

    if (oidc_random(p.state) < 0 || oidc_random(p.nonce) < 0 ||
        oidc_random(p.verifier) < 0 || pending_add(&p) < 0)
        return MHD_NO;
    oidc_pkce_challenge(p.verifier, challenge);
    ru = curl_easy_escape(NULL, app.redirect_uri, 0);
    sc = curl_easy_escape(NULL, SCOPE, 0);
    if (ru == NULL || sc == NULL ||
        asprintf(&url,
                 "%s?response_type=code&client_id=%s&redirect_uri=%s"
                 "&scope=%s&state=%s&nonce=%s&code_challenge=%s"
                 "&code_challenge_method=S256",
                 oidc_authorization_endpoint(app.oidc), app.client_id, ru, sc,
                 p.state, p.nonce, challenge) < 0)
        url = NULL;
    r = url ? web_redirect(url) : NULL;
    /* The state also goes into a cookie: a callback this browser did not
     * start (login CSRF) has no matching cookie. */
    web_set_cookie(r, app.login_cookie, p.state, "/callback", PENDING_TTL_S);
    curl_free(ru);
    curl_free(sc);
    free(url);
    return web_send(c, MHD_HTTP_FOUND, r);
}

/* GET /callback: Gatehouse sends the browser back with a code. */
static enum MHD_Result
callback(struct MHD_Connection *c)
{
    const char *state = query(c, "state"), *code = query(c, "code");
    const char *iss = query(c, "iss"), *error = query(c, "error");
    const char *desc = query(c, "error_description");
    const char *bound = cookie(c, app.login_cookie);
    const char *issuer = oidc_issuer(app.oidc), *why = NULL;
    struct pending *p = state ? pending_take(state) : NULL;
    char *id_token = NULL, id[44];
    json_t *claims = NULL;
    struct MHD_Response *r = NULL;
    enum MHD_Result ret;

    if (p == NULL || p->logout || bound == NULL || strcmp(bound, state) != 0)
        why = "this sign-in was not started here or has expired";
    else if (iss != NULL && strcmp(iss, issuer) != 0)
        why = "the answer came from another issuer"; /* RFC 9207 */
    else if (error != NULL)
        why = desc != NULL ? desc : error;
    else if (code == NULL)
        why = "no code";
    else if (oidc_exchange_code(app.oidc, code, app.redirect_uri, p->verifier,
                                &id_token, &why) == 0 &&
             oidc_check_id_token(app.oidc, id_token, p->nonce, &claims, &why) ==
                 0 &&
             session_add(claims, id_token, id) == 0) {
        const char *sid = json_string_value(json_object_get(claims, "sid"));
        say("event=signed_in sub=%s sid=%.8s",
            json_string_value(json_object_get(claims, "sub")), sid ? sid : "-");
        r = web_redirect(app.home);
        web_set_cookie(r, app.cookie, id, "/", SESSION_TTL_S);
        web_set_cookie(r, app.login_cookie, NULL, "/callback", 0);
    }
    ret = r ? web_send(c, MHD_HTTP_SEE_OTHER, r)
            : sign_in_failed(c, why ? why : "out of memory");
    json_decref(claims);
    free(id_token);
    free(p);
    return ret;
}

/* POST /logout: end our session, then RP-Initiated Logout 1.0 at Gatehouse,
 * which ends the single sign-on session and notifies every other app. */
static enum MHD_Result
logout(struct MHD_Connection *c)
{
    const char *id = cookie(c, app.cookie);
    struct local_session *s = id ? session_take(id) : NULL;
    struct pending p = {.logout = 1};
    char *url = NULL, *home = curl_easy_escape(NULL, app.home, 0);
    struct MHD_Response *r;

    if (s != NULL)
        say("event=signed_out sid=%.8s", s->sid);
    /* Without a hint (our session had already ended), Gatehouse asks the
     * person to confirm instead. */
    if (oidc_random(p.state) < 0 || pending_add(&p) < 0 || home == NULL ||
        asprintf(&url,
                 "%s?%s%s%sclient_id=%s&post_logout_redirect_uri=%s"
                 "&state=%s",
                 oidc_end_session_endpoint(app.oidc), s ? "id_token_hint=" : "",
                 s ? s->id_token : "", s ? "&" : "", app.client_id, home,
                 p.state) < 0)
        url = NULL;
    r = url ? web_redirect(url) : NULL;
    web_set_cookie(r, app.cookie, NULL, "/", 0);
    session_free(s);
    curl_free(home);
    free(url);
    return web_send(c, MHD_HTTP_SEE_OTHER, r);
}

/* POST /backchannel-logout: Gatehouse tells us a session has ended.
 * BCL 1.0 §2.6 decides what a valid logout token is (oidc.c), §2.7 what to
 * end (every local session of that sid, or of that sub), §2.8 what to
 * answer. */
static enum MHD_Result
backchannel_logout(struct MHD_Connection *c, const char *body)
{
    char *token = body ? web_form_value(body, "logout_token") : NULL;
    const char *why = "no logout_token", *sid, *sub;
    json_t *claims = NULL;
    int n;

    if (token == NULL ||
        oidc_check_logout_token(app.oidc, token, &claims, &why) < 0) {
        say("event=backchannel_logout_refused reason=\"%s\"", why);
        free(token);
        return web_send(
            c, MHD_HTTP_BAD_REQUEST,
            web_text("application/json", "{\"error\":\"invalid_request\"}"));
    }
    sid = json_string_value(json_object_get(claims, "sid"));
    sub = json_string_value(json_object_get(claims, "sub"));
    n = sessions_end(sid, sid ? NULL : sub);
    say("event=backchannel_logout sid=%.8s sub=%s sessions_ended=%d",
        sid ? sid : "-", sub ? sub : "-", n);
    json_decref(claims);
    free(token);
    return web_send(c, MHD_HTTP_OK, web_text("text/plain", ""));
}

/*
 * GET /frontchannel-logout, with --frontchannel: OIDC Front-Channel Logout
 * 1.0. Gatehouse's signed-out page loads it in a hidden iframe when the
 * person signs out anywhere, for apps whose back channel Gatehouse cannot
 * reach. With iss and sid (§3: both or neither), every local session of
 * that sid ends; without them, this browser's own. The answer may be
 * framed by Gatehouse alone and cached by no one (§2).
 */
static enum MHD_Result
frontchannel_logout(struct MHD_Connection *c)
{
    const char *iss = query(c, "iss"), *sid = query(c, "sid");
    const char *id = cookie(c, app.cookie), *text = NULL;
    struct local_session *s = NULL;
    struct MHD_Response *r;
    unsigned status = MHD_HTTP_OK;
    char csp[320], *html = NULL;
    int n = 0;

    if ((iss == NULL) != (sid == NULL))
        text = "Not signed out: iss and sid come together.";
    else if (iss != NULL && strcmp(iss, oidc_issuer(app.oidc)) != 0)
        text = "Not signed out: the request names another issuer.";
    if (text != NULL) {
        say("event=frontchannel_logout_refused reason=\"%s\"", text);
        status = MHD_HTTP_BAD_REQUEST;
    } else if (sid != NULL) {
        n = sessions_end(sid, NULL);
    } else if (id != NULL && (s = session_take(id)) != NULL) {
        sid = s->sid;
        n = 1;
    }
    if (text == NULL) {
        say("event=frontchannel_logout sid=%.8s sessions_ended=%d",
            sid ? sid : "-", n);
        text = "Signed out.";
    }
    if (asprintf(&html,
                 "<!doctype html>\n<html lang=\"en\">\n<meta "
                 "charset=\"utf-8\">\n<title>%s</title>\n<p>%s</p>\n",
                 text, text) < 0)
        html = NULL;
    /* web_text: Cache-Control: no-store. No X-Frame-Options: Gatehouse's
     * page frames this one, as frame-ancestors says. */
    r = html ? web_text("text/html; charset=utf-8", html) : NULL;
    snprintf(csp, sizeof(csp), "default-src 'none'; frame-ancestors %s",
             app.issuer_origin);
    if (r != NULL) {
        MHD_add_response_header(r, "Content-Security-Policy", csp);
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    }
    session_free(s);
    free(html);
    return web_send(c, status, r);
}

static enum MHD_Result
healthz(struct MHD_Connection *c)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "{\"status\":\"ok\",\"sessions\":%d}",
             session_count());
    return web_send(c, MHD_HTTP_OK, web_text("application/json", buf));
}

/* ---- The server ---- */

static enum MHD_Result
route(void *cls, struct MHD_Connection *c, const char *url, const char *method,
      const char *version, const char *data, size_t *size, void **con_cls)
{
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    const char *body;
    int rc;

    if ((rc = web_upload(con_cls, data, size, MAX_BODY, &body)) > 0)
        return MHD_YES; /* more of the request is on its way */
    if (rc < 0)
        return web_send(c, MHD_HTTP_CONTENT_TOO_LARGE,
                        web_text("text/plain", "too large\n"));
    if (get && strcmp(url, "/") == 0)
        return home(c);
    if (get && strcmp(url, "/login") == 0)
        return login(c);
    if (get && strcmp(url, "/callback") == 0)
        return callback(c);
    if (post && strcmp(url, "/logout") == 0)
        return logout(c);
    if (post && strcmp(url, "/backchannel-logout") == 0)
        return backchannel_logout(c, body);
    if (get && app.frontchannel && strcmp(url, "/frontchannel-logout") == 0)
        return frontchannel_logout(c);
    if (get && strcmp(url, "/healthz") == 0)
        return healthz(c);
    return web_send(c, MHD_HTTP_NOT_FOUND,
                    web_text("text/plain", "not found\n"));
}

/* The origin of the issuer URL ("http://127.0.0.1:8080"), for the
 * front-channel page's frame-ancestors; -1 if it is not an http(s) URL
 * whose origin is safe to write into that header. */
static int
issuer_origin(const char *issuer, char *out, size_t size)
{
    const char *host = strstr(issuer, "://");
    size_t n;

    if (host == NULL || (strncmp(issuer, "http://", 7) != 0 &&
                         strncmp(issuer, "https://", 8) != 0))
        return -1;
    n = (size_t)(host + 3 - issuer);
    n += strcspn(host + 3, "/?#");
    if (n == (size_t)(host + 3 - issuer) || n >= size ||
        strspn(issuer, "abcdefghijklmnopqrstuvwxyz"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:/[]") < n)
        return -1;
    memcpy(out, issuer, n);
    out[n] = '\0';
    return 0;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: gatehouse-demo-app --name NAME --port PORT "
               "--issuer URL --client-id ID [--client-secret SECRET]\n"
               "                          [--frontchannel]\n"
               "A demo app that signs in through Gatehouse; listens on "
               "127.0.0.1:PORT.\nThe secret may come from the environment "
               "variable DEMO_CLIENT_SECRET instead,\nwhere other users "
               "cannot see it. --frontchannel also serves\n"
               "GET /frontchannel-logout (register it as the client's "
               "frontchannel_logout_uri).\n");
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"port", required_argument, NULL, 'p'},
        {"issuer", required_argument, NULL, 'i'},
        {"client-id", required_argument, NULL, 'c'},
        {"client-secret", required_argument, NULL, 's'},
        {"frontchannel", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *issuer = NULL, *client_id = NULL, *secret = NULL;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    struct MHD_Daemon *d;
    char *end = NULL;
    long port = 0;
    sigset_t sigs;
    int opt, sig;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            app.name = optarg;
            break;
        case 'p':
            port = strtol(optarg, &end, 10);
            break;
        case 'i':
            issuer = optarg;
            break;
        case 'c':
            client_id = optarg;
            break;
        case 's':
            secret = optarg;
            break;
        case 'f':
            app.frontchannel = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (secret == NULL)
        secret = getenv("DEMO_CLIENT_SECRET");
    /* The client_id goes into URLs as it is: unreserved characters only. */
    if (app.name == NULL || issuer == NULL || client_id == NULL ||
        secret == NULL || port < 1 || port > 65535 || *end != '\0' ||
        optind != argc || *client_id == '\0' || strlen(client_id) > 50 ||
        client_id[strspn(client_id, "abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-._~")] != '\0' ||
        issuer_origin(issuer, app.issuer_origin, sizeof(app.issuer_origin)) <
            0) {
        usage(stderr);
        return 2;
    }
    app.client_id = client_id;
    /* Cookies do not tell ports apart: every app on 127.0.0.1 (and
     * Gatehouse) shares one cookie jar, so each app's name is its own. */
    snprintf(app.cookie, sizeof(app.cookie), "demo_%s", client_id);
    snprintf(app.login_cookie, sizeof(app.login_cookie), "%s_login",
             app.cookie);
    snprintf(app.home, sizeof(app.home), "http://127.0.0.1:%ld/", port);
    snprintf(app.redirect_uri, sizeof(app.redirect_uri),
             "http://127.0.0.1:%ld/callback", port);

    /* Signals are taken by sigwait below, on this thread only. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    maintenance_init(issuer);

    if (oidc_discover(issuer, client_id, secret, 15, &app.oidc) < 0) {
        fprintf(stderr,
                "gatehouse-demo-app: %s: no usable discovery "
                "document\n",
                issuer);
        maintenance_cleanup();
        curl_global_cleanup();
        return 1;
    }
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* A thread per connection: a handler may wait on Gatehouse (the code
     * exchange) while Gatehouse waits on us (back-channel logout). */
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
                         0, NULL, NULL, route, NULL, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
                         web_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                         30u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr,
                "gatehouse-demo-app: cannot listen on "
                "127.0.0.1:%ld\n",
                port);
        oidc_free(app.oidc);
        maintenance_cleanup();
        curl_global_cleanup();
        return 1;
    }
    say("event=started url=%s issuer=%s", app.home, issuer);
    sigwait(&sigs, &sig);
    say("event=stopping signal=%d", sig);
    MHD_stop_daemon(d);
    sessions_clear();
    oidc_free(app.oidc);
    maintenance_cleanup();
    curl_global_cleanup();
    return 0;
}
