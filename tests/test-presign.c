/* SPDX-License-Identifier: MIT */
/* Before a sign-in (SPEC §7, issue 15 items 1 and 2), against a real
 * gatehouse and redis-server: anonymous visitors store nothing in Redis,
 * and the sign-in form works only in the browser it was shown to, posted
 * from Gatehouse's own page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3001/callback"
#define FORM_CT "Content-Type: application/x-www-form-urlencoded"
/* Unauthenticated requests of each kind in the memory test. */
#define ANON_REQUESTS 2000

static struct harness *h;

static const char config_json[] =
    "{\"clients\":[{\"client_id\":\"crm\",\"client_secret\":\"crm-secret\","
    "\"name\":\"CRM\",\"redirect_uris\":[\"" CRM_CB "\"],"
    "\"post_logout_redirect_uris\":[\"http://127.0.0.1:3001/\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"]}]}";

static void
start_with(const char *cfg)
{
    h = world_start(&(struct harness_opts){.user = "alice:correct horse"}, cfg,
                    NULL);
    ASSERT_EQ(oidc_add_user(&h->gh, "mallory", "mallory pass"), 0);
}

static void
start(void)
{
    start_with(config_json);
}

static char *
url_of(const char *path)
{
    char *u = NULL;

    if (asprintf(&u, "%s%s", h->gh.issuer, path) < 0)
        FAIL("asprintf");
    return u;
}

/* An integer answer of the test's Redis (DBSIZE), or the used_memory
 * field of INFO memory. */
static long long
redis_number(const char *what)
{
    redisContext *c = redisConnectUnix(h->redis.socket);
    redisReply *r;
    long long n = -1;
    const char *p;

    if (c == NULL || c->err)
        FAIL("connect %s", h->redis.socket);
    if (strcmp(what, "used_memory") == 0) {
        r = redisCommand(c, "INFO memory");
        if (r != NULL && r->type == REDIS_REPLY_STRING &&
            (p = strstr(r->str, "used_memory:")) != NULL)
            n = strtoll(p + strlen("used_memory:"), NULL, 10);
    } else {
        r = redisCommand(c, what);
        if (r != NULL && r->type == REDIS_REPLY_INTEGER)
            n = r->integer;
    }
    if (n < 0)
        FAIL("redis %s failed", what);
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static long
get_status(const char *url)
{
    struct http_result res;
    long st;

    if (http_do("GET", url, NULL, NULL, &res) < 0)
        FAIL("GET %s", url);
    st = res.status;
    http_result_free(&res);
    return st;
}

/* Issue 15 item 1: every unauthenticated GET /authorize stored a request
 * and a CSRF key, every GET /login a CSRF key, 600 s each: one client could
 * fill Redis. Now the form carries both, sealed, and Redis does not grow. */
TEST(anonymous_authorize_and_login_store_nothing)
{
    char *au, *lu;
    long long keys0, mem0, keys1, mem1;
    double t0;
    int i;

    start();
    au = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    lu = url_of("/login");
    /* Warm up: the MAC key is made on first use (one key, once), and the
     * server's threads open their Redis connections. */
    for (i = 0; i < 50; i++) {
        ASSERT_EQ(get_status(au), 200);
        ASSERT_EQ(get_status(lu), 200);
    }
    keys0 = redis_number("DBSIZE");
    mem0 = redis_number("used_memory");
    t0 = test_now();
    for (i = 0; i < ANON_REQUESTS && test_now() - t0 < 120; i++) {
        ASSERT_EQ(get_status(au), 200);
        ASSERT_EQ(get_status(lu), 200);
    }
    ASSERT_EQ(i, ANON_REQUESTS);
    keys1 = redis_number("DBSIZE");
    mem1 = redis_number("used_memory");
    fprintf(stderr, "# %d x (GET /authorize + GET /login): keys %lld -> %lld, "
            "used_memory %lld -> %lld\n", ANON_REQUESTS, keys0, keys1, mem0,
            mem1);
    ASSERT_EQ(keys1, keys0);
    /* Before: ~1.6 KiB a request, 3 MiB here. Allocator noise only now. */
    ASSERT(mem1 - mem0 < 128 * 1024);
    free(au);
    free(lu);
    world_stop(&h);
}

/* The form fields and this browser's pre-sign-in cookie after GET url. */
struct form_seen {
    char *csrf;
    char *request;
    char *presign;
};

static void
see_form(struct browser *b, const char *url, struct form_seen *f)
{
    struct http_result res;

    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    f->csrf = html_hidden(res.body, "csrf");
    f->request = html_hidden(res.body, "request");
    f->presign = browser_cookie(b, "gh_presign");
    ASSERT(f->csrf != NULL && f->presign != NULL);
    http_result_free(&res);
}

static void
form_seen_free(struct form_seen *f)
{
    free(f->csrf);
    free(f->request);
    free(f->presign);
}

static char *
login_body(const struct form_seen *f, const char *user, const char *pw)
{
    char *body = NULL, *p = url_encode(pw);

    if (asprintf(&body, "username=%s&password=%s&csrf=%s%s%s", user, p,
                 f->csrf, f->request ? "&request=" : "",
                 f->request ? f->request : "") < 0)
        FAIL("asprintf");
    free(p);
    return body;
}

/* Issue 15 item 2, login CSRF: an attacker's server fetches a form of its
 * own and a cross-site page posts it, with the attacker's credentials,
 * from the victim's browser. The token is bound to the attacker's
 * pre-sign-in cookie, which the victim's browser does not have. */
TEST(a_form_fetched_by_another_browser_does_not_sign_in)
{
    struct browser victim = {""}, mallory = {""}, none = {""};
    struct form_seen mf, vf;
    struct http_result res;
    char *au, *lu, *body;

    start();
    au = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    lu = url_of("/login");
    see_form(&mallory, au, &mf);
    see_form(&victim, lu, &vf);
    ASSERT(strcmp(mf.presign, vf.presign) != 0);
    body = login_body(&mf, "mallory", "mallory pass");
    /* The victim's browser, its own pre-sign-in cookie sent along. */
    ASSERT_EQ(browser_do(&victim, "POST", lu, body, &res), 0);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    ASSERT(!browser_has_cookie(&victim, "gh_session"));
    /* A cross-site POST, where the Lax cookie is not sent at all. */
    ASSERT_EQ(browser_do(&none, "POST", lu, body, &res), 0);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    ASSERT(!browser_has_cookie(&none, "gh_session"));
    /* The same form in the browser it was shown to signs in, and only
     * once: the sign-in expires the cookie the token was bound to. */
    ASSERT_EQ(browser_do(&mallory, "POST", lu, body, &res), 0);
    ASSERT_EQ(res.status, 303);
    ASSERT(strstr(res.headers, "Set-Cookie: gh_presign=; Path=/; Max-Age=0") !=
           NULL);
    http_result_free(&res);
    ASSERT(browser_has_cookie(&mallory, "gh_session"));
    ASSERT(!browser_has_cookie(&mallory, "gh_presign"));
    ASSERT_EQ(browser_do(&mallory, "POST", lu, body, &res), 0);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    free(body);
    /* The victim's own form still works for the victim. */
    body = login_body(&vf, "alice", "correct horse");
    ASSERT_EQ(browser_do(&victim, "POST", lu, body, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "alice");
    http_result_free(&res);
    ASSERT(browser_has_cookie(&victim, "gh_session"));
    free(body);
    form_seen_free(&mf);
    form_seen_free(&vf);
    free(au);
    free(lu);
    world_stop(&h);
}

/* POST /login with this form, its cookie and extra headers (NULL-ended,
 * up to two); the status, and whether a session cookie was set. */
static long
post_login(const char *lu, const char *body, const struct form_seen *f,
           const char *h1, const char *h2, int *signed_in)
{
    const char *hdrs[5] = {FORM_CT, NULL, NULL, NULL, NULL};
    char cookie[128];
    struct http_result res;
    long st;
    int n = 1;

    snprintf(cookie, sizeof(cookie), "Cookie: gh_presign=%s", f->presign);
    hdrs[n++] = cookie;
    if (h1 != NULL)
        hdrs[n++] = h1;
    if (h2 != NULL)
        hdrs[n++] = h2;
    if (http_do("POST", lu, body, hdrs, &res) < 0)
        FAIL("POST /login");
    st = res.status;
    *signed_in = strstr(res.headers, "Set-Cookie: gh_session=") != NULL;
    http_result_free(&res);
    return st;
}

/* SPEC §7: a form POST a browser says came from another site is refused
 * before anything is read, whatever it carries; Gatehouse's own page, and
 * clients that send neither header, are served. */
TEST(cross_site_form_posts_are_refused)
{
    struct browser b = {""};
    struct form_seen f;
    char *au, *lu, *body, origin[96], other_port[] =
        "Origin: http://127.0.0.1:1";
    int in = 0;

    start();
    au = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    lu = url_of("/login");
    see_form(&b, au, &f);
    body = login_body(&f, "alice", "correct horse");
    snprintf(origin, sizeof(origin), "Origin: %s", h->gh.issuer);

    ASSERT_EQ(post_login(lu, body, &f, "Origin: http://evil.example", NULL,
                         &in), 403);
    ASSERT(!in);
    /* Another port of the same host is another origin. */
    ASSERT_EQ(post_login(lu, body, &f, other_port, NULL, &in), 403);
    ASSERT(!in);
    ASSERT_EQ(post_login(lu, body, &f, "Sec-Fetch-Site: cross-site", NULL,
                         &in), 403);
    ASSERT(!in);
    /* A page with Referrer-Policy no-referrer sends Origin: null; the
     * fetch metadata still says where it came from. */
    ASSERT_EQ(post_login(lu, body, &f, "Origin: null",
                         "Sec-Fetch-Site: cross-site", &in), 403);
    ASSERT(!in);
    ASSERT_EQ(post_login(lu, body, &f, "Sec-Fetch-Site: same-site", NULL,
                         &in), 403);
    ASSERT(!in);
    ASSERT_EQ(post_login(lu, body, &f, origin, "Sec-Fetch-Site: cross-site",
                         &in), 403);
    ASSERT(!in);
    /* Our own page: same origin (its Origin null under our
     * Referrer-Policy) and the fetch metadata agree. */
    ASSERT_EQ(post_login(lu, body, &f, "Origin: null",
                         "Sec-Fetch-Site: same-origin", &in), 303);
    ASSERT(in);
    free(body);
    form_seen_free(&f);

    /* The same with the issuer's Origin spelled out, and with no header
     * at all (not a browser). */
    see_form(&b, au, &f);
    body = login_body(&f, "alice", "correct horse");
    ASSERT_EQ(post_login(lu, body, &f, origin, "Sec-Fetch-Site: same-origin",
                         &in), 303);
    ASSERT(in);
    free(body);
    form_seen_free(&f);
    see_form(&b, au, &f);
    body = login_body(&f, "alice", "correct horse");
    ASSERT_EQ(post_login(lu, body, &f, NULL, NULL, &in), 303);
    ASSERT(in);
    free(body);
    form_seen_free(&f);
    free(au);
    free(lu);
    world_stop(&h);
}

/* An issuer that spells its scheme's default port and has a path (behind
 * a proxy): its origin is what a browser sends, without either. */
TEST(the_issuer_origin_ignores_a_default_port_and_a_path)
{
    struct browser b = {""};
    struct form_seen f;
    char cfg[1024], *au, *lu, *body, real[96];
    int in = 0;

    snprintf(cfg, sizeof(cfg), "{\"issuer\":\"http://127.0.0.1:80/sso\",%s",
             config_json + 1);
    start_with(cfg);
    au = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    lu = url_of("/login");
    snprintf(real, sizeof(real), "Origin: %s", h->gh.issuer);
    see_form(&b, au, &f);
    body = login_body(&f, "alice", "correct horse");
    /* The port it listens on is not the issuer's origin. */
    ASSERT_EQ(post_login(lu, body, &f, real, NULL, &in), 403);
    ASSERT_EQ(post_login(lu, body, &f, "Origin: http://127.0.0.1:8080", NULL,
                         &in), 403);
    ASSERT_EQ(post_login(lu, body, &f, "Origin: https://127.0.0.1", NULL,
                         &in), 403);
    ASSERT(!in);
    ASSERT_EQ(post_login(lu, body, &f, "Origin: http://127.0.0.1", NULL,
                         &in), 303);
    ASSERT(in);
    free(body);
    form_seen_free(&f);
    see_form(&b, au, &f);
    body = login_body(&f, "alice", "correct horse");
    ASSERT_EQ(post_login(lu, body, &f, "Origin: http://127.0.0.1:80", NULL,
                         &in), 303);
    ASSERT(in);
    free(body);
    form_seen_free(&f);
    free(au);
    free(lu);
    world_stop(&h);
}

/* A session that answers prompt=none with a code: still signed in. */
static int
signed_in(struct browser *b)
{
    char *u = oidc_authorize_url(&h->gh, "crm", CRM_CB, "&prompt=none");
    struct http_result res;
    char *loc;
    int yes;

    ASSERT_EQ(browser_do(b, "GET", u, NULL, &res), 0);
    loc = http_header_value(&res, "Location");
    yes = res.status == 302 && loc != NULL && strstr(loc, "code=") != NULL;
    free(loc);
    free(u);
    http_result_free(&res);
    return yes;
}

/* The sign-out confirmation form is Gatehouse's own too: posted from
 * another site it ends nothing. */
TEST(cross_site_logout_confirmation_is_refused)
{
    struct browser b = {""};
    struct http_result res;
    char *lu, *code, *csrf, *sid, body[1024], cookie[256], origin[96];
    const char *hdrs[5] = {FORM_CT, cookie, NULL, NULL, NULL};

    start();
    code = oidc_get_code(&h->gh, &b, "crm", CRM_CB, "alice", "correct horse",
                         NULL);
    free(code);
    ASSERT(signed_in(&b));
    lu = url_of("/logout");
    ASSERT_EQ(browser_do(&b, "GET", lu, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    csrf = html_hidden(res.body, "csrf");
    ASSERT(csrf != NULL);
    http_result_free(&res);
    sid = browser_cookie(&b, "gh_session");
    snprintf(cookie, sizeof(cookie), "Cookie: gh_session=%s", sid);
    snprintf(body, sizeof(body), "csrf=%s&scope=this", csrf);

    hdrs[2] = "Origin: http://evil.example";
    ASSERT_EQ(http_do("POST", lu, body, hdrs, &res), 0);
    ASSERT_EQ(res.status, 403);
    ASSERT(strstr(res.headers, "Set-Cookie") == NULL);
    http_result_free(&res);
    ASSERT(signed_in(&b));
    hdrs[2] = "Sec-Fetch-Site: cross-site";
    ASSERT_EQ(http_do("POST", lu, body, hdrs, &res), 0);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    ASSERT(signed_in(&b));
    /* From our own page it signs out. */
    snprintf(origin, sizeof(origin), "Origin: %s", h->gh.issuer);
    hdrs[2] = origin;
    hdrs[3] = "Sec-Fetch-Site: same-origin";
    ASSERT_EQ(http_do("POST", lu, body, hdrs, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "signed out");
    http_result_free(&res);
    ASSERT(!signed_in(&b));
    free(sid);
    free(csrf);
    free(lu);
    world_stop(&h);
}

/* The sealed request comes back from outside: one byte changed, or one
 * sealed for another purpose (the CSRF token), and nothing is signed in. */
TEST(a_changed_request_is_refused)
{
    struct browser b = {""};
    struct form_seen f;
    struct http_result res;
    char *au, *lu, *body, *swap;

    start();
    au = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    lu = url_of("/login");
    see_form(&b, au, &f);
    ASSERT(f.request != NULL && strlen(f.request) > 10);
    f.request[3] = f.request[3] == 'A' ? 'B' : 'A';
    body = login_body(&f, "alice", "correct horse");
    ASSERT_EQ(browser_do(&b, "POST", lu, body, &res), 0);
    ASSERT_EQ(res.status, 400);
    ASSERT_CONTAINS(res.body, "Sign-in expired");
    http_result_free(&res);
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    free(body);
    swap = f.request;
    f.request = strdup(f.csrf);
    free(swap);
    body = login_body(&f, "alice", "correct horse");
    ASSERT_EQ(browser_do(&b, "POST", lu, body, &res), 0);
    ASSERT_EQ(res.status, 400);
    http_result_free(&res);
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    free(body);
    form_seen_free(&f);
    free(au);
    free(lu);
    world_stop(&h);
}

TEST_MAIN(TEST_ENTRY(anonymous_authorize_and_login_store_nothing),
          TEST_ENTRY(a_form_fetched_by_another_browser_does_not_sign_in),
          TEST_ENTRY(cross_site_form_posts_are_refused),
          TEST_ENTRY(the_issuer_origin_ignores_a_default_port_and_a_path),
          TEST_ENTRY(cross_site_logout_confirmation_is_refused),
          TEST_ENTRY(a_changed_request_is_refused))
