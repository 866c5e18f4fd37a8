/* SPDX-License-Identifier: MIT */
/* The account page (issue 17 item 3): a user's own sessions with browser,
 * address and apps, "Sign out" of one and of all, each ending with
 * notifications like any logout; forged, cross-site and foreign requests
 * end nothing; a stale sign-in asks for the password first; no session
 * goes to sign in and back. Real Redis, Gatehouse and apps. */
#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define CHROME                                                                 \
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "         \
    "Gecko) Chrome/120.0.0.0 Safari/537.36"
#define FIREFOX                                                                \
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"

static struct harness *h;

static void
start_aof(const char *extra, int aof)
{
    struct harness_opts o = {
        .apps = 2, .user = "alice:correct horse", .aof = aof};

    h = world_start(&o, "{\"login\":{\"max_failures\":100}}", extra);
}

static void
start(const char *extra)
{
    start_aof(extra, 0);
}

static char *
redis_cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = {"redis-cli", "-s",       h->redis.socket, (char *)a1,
                    (char *)a2,  (char *)a3, (char *)a4,      NULL};
    char *out = NULL;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    return out;
}

/* Whether sid is a live session (in the expiry index). */
static int
alive(const char *sid)
{
    char *out = redis_cli("ZSCORE", "gh:sexp", sid, NULL);
    int yes = out[0] >= '0' && out[0] <= '9';

    free(out);
    return yes;
}

/* Whether the audit stream has an ending of sid with reason. */
static int
audited(const char *sid, const char *reason)
{
    char *out = redis_cli("XRANGE", "gh:audit", "-", "+");
    const char *p = strstr(out, sid);
    int found;

    found =
        p != NULL && strstr(p, reason) != NULL && strstr(p, reason) - p < 200;
    free(out);
    return found;
}

/* The sid of the session the browser holds (its cookie starts with it). */
static void
sid_of(const struct browser *b, char sid[64])
{
    char *cookie = browser_cookie(b, "gh_session");

    ASSERT(cookie != NULL && strlen(cookie) > 22);
    snprintf(sid, 64, "%.22s", cookie);
    free(cookie);
}

/* Signs b in to app as ua (a new session, recorded with that
 * User-Agent), and exchanges the code so the app is on the session. */
static void
sign_in_as(struct browser *b, const char *ua, int app, const char *user,
           const char *password)
{
    char *url = oidc_authorize_url(&h->gh, h->apps[app].client_id,
                                   h->apps[app].redirect_uri, NULL);
    char *csrf, *request, *body = NULL, *loc, *code, *ru, *pw, basic[160];
    struct http_result res;
    json_t *t;

    ASSERT_EQ(browser_do_ua(b, ua, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    csrf = html_hidden(res.body, "csrf");
    request = html_hidden(res.body, "request");
    http_result_free(&res);
    ASSERT(csrf != NULL && request != NULL);
    pw = url_encode(password);
    if (asprintf(&body, "username=%s&password=%s&csrf=%s&request=%s", user, pw,
                 csrf, request) < 0)
        FAIL("asprintf");
    snprintf(url, strlen(url) + 1, "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do_ua(b, ua, "POST", url, body, &res), 0);
    ASSERT_EQ(res.status, 303);
    loc = http_header_value(&res, "Location");
    http_result_free(&res);
    ASSERT(loc != NULL && (code = url_param(loc, "code")) != NULL);
    free(body);
    ru = url_encode(h->apps[app].redirect_uri);
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&"
                 "redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    snprintf(basic, sizeof(basic), "%s:%s", h->apps[app].client_id,
             h->apps[app].client_secret);
    t = oidc_token(&h->gh, body, basic, 200);
    json_decref(t);
    free(ru);
    free(code);
    free(loc);
    free(body);
    free(pw);
    free(request);
    free(csrf);
    free(url);
}

/* GET /account in b as ua: the response (the caller frees it). */
static void
account_get(struct browser *b, const char *ua, struct http_result *res)
{
    char url[128];

    snprintf(url, sizeof(url), "%s/account", h->gh.issuer);
    ASSERT_EQ(browser_do_ua(b, ua, "GET", url, NULL, res), 0);
}

/* The csrf token of b's account page. malloc'd. */
static char *
account_csrf(struct browser *b)
{
    struct http_result res;
    char *csrf;

    account_get(b, CHROME, &res);
    ASSERT_EQ(res.status, 200);
    csrf = html_hidden(res.body, "csrf");
    ASSERT(csrf != NULL);
    http_result_free(&res);
    return csrf;
}

/* POST /account with body in b (as Chrome): the response. */
static void
account_post(struct browser *b, const char *body, struct http_result *res)
{
    char url[128];

    snprintf(url, sizeof(url), "%s/account", h->gh.issuer);
    ASSERT_EQ(browser_do_ua(b, CHROME, "POST", url, body, res), 0);
}

/* The laptop (Chrome, both apps) and the phone (Firefox, app 0) of
 * alice; their sids. */
static void
two_devices(struct browser *laptop, struct browser *phone, char lsid[64],
            char psid[64])
{
    json_t *t;

    sign_in_as(laptop, CHROME, 0, "alice", "correct horse");
    t = world_sign_in(h, laptop, 1, "alice", "correct horse");
    json_decref(t);
    sign_in_as(phone, FIREFOX, 0, "alice", "correct horse");
    sid_of(laptop, lsid);
    sid_of(phone, psid);
    ASSERT(strcmp(lsid, psid) != 0);
}

TEST(account_lists_each_session_with_browser_address_and_apps)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64];
    struct http_result res;
    const char *mine, *other;

    start(NULL);
    two_devices(&laptop, &phone, lsid, psid);
    account_get(&laptop, CHROME, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "Signed in as alice.");
    ASSERT_CONTAINS(res.body, "Chrome on Linux");
    ASSERT_CONTAINS(res.body, "Firefox on Linux");
    ASSERT_CONTAINS(res.body, "127.0.0.1");
    ASSERT_CONTAINS(res.body, " UTC</dd>");
    ASSERT_CONTAINS(res.body, "Sign out of all sessions");
    /* This device comes first, marked, with both its apps; then the
     * phone's with its one. */
    mine = strstr(res.body, lsid);
    other = strstr(res.body, psid);
    ASSERT(mine != NULL && other != NULL && mine < other);
    ASSERT(strstr(res.body, "This device") < mine);
    ASSERT(strstr(other, "This device") == NULL);
    ASSERT(strstr(res.body, h->apps[1].name) < mine);
    ASSERT(strstr(strstr(res.body, "Firefox on Linux"), h->apps[1].name) ==
           NULL);
    ASSERT_CONTAINS(strstr(res.body, "Firefox on Linux"), h->apps[0].name);
    http_result_free(&res);
    /* A language chosen by the lang parameter goes with every form. */
    {
        char url[160];

        snprintf(url, sizeof(url), "%s/account?lang=zh-CN", h->gh.issuer);
        ASSERT_EQ(browser_do_ua(&laptop, CHROME, "GET", url, NULL, &res), 0);
        ASSERT_EQ(res.status, 200);
        ASSERT_CONTAINS(res.body, "<html lang=\"zh-CN\">");
        ASSERT_EQ(strstr(res.body, "action=\"/account\"") == NULL, 1);
        ASSERT_CONTAINS(res.body, "action=\"/account?lang=zh-CN\"");
    }
    /* Pages are never cached, and framed by no one. */
    ASSERT_CONTAINS(res.headers, "X-Frame-Options: DENY");
    http_result_free(&res);
    world_stop(&h);
}

TEST(signing_out_another_session_notifies_its_apps_and_keeps_this_one)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *body = NULL;
    struct http_result res;

    start(NULL);
    two_devices(&laptop, &phone, lsid, psid);
    csrf = account_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=session&sid=%s", csrf, psid) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "Signed out of the session on Firefox on Linux.");
    /* The page again, without the ended session. */
    ASSERT_CONTAINS(res.body, lsid);
    ASSERT(strstr(res.body, psid) == NULL);
    ASSERT(strstr(res.headers, "Clear-Site-Data") == NULL);
    http_result_free(&res);
    ASSERT(!alive(psid));
    ASSERT(alive(lsid));
    ASSERT_EQ(harness_wait_acked(h, psid, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, psid), 1);
    ASSERT_EQ(harness_notifications(h, 0, lsid), 0);
    ASSERT_EQ(harness_notifications(h, 1, lsid), 0);
    ASSERT(audited(psid, "rp_logout"));
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(signing_out_this_device_shows_the_signed_out_page)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *body = NULL;
    struct http_result res;

    start(NULL);
    two_devices(&laptop, &phone, lsid, psid);
    csrf = account_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=session&sid=%s", csrf, lsid) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "You are signed out");
    ASSERT_CONTAINS(res.headers, "gh_session=; Path=/; Max-Age=0");
    http_result_free(&res);
    ASSERT(!alive(lsid));
    ASSERT(alive(psid));
    ASSERT_EQ(harness_wait_acked(h, lsid, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, lsid), 1);
    ASSERT_EQ(harness_notifications(h, 1, lsid), 1);
    ASSERT_EQ(harness_notifications(h, 0, psid), 0);
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(sign_out_of_all_sessions_notifies_every_app)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *body = NULL;
    struct http_result res;

    start(NULL);
    two_devices(&laptop, &phone, lsid, psid);
    csrf = account_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=all", csrf) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "You are signed out");
    http_result_free(&res);
    ASSERT(!alive(lsid));
    ASSERT(!alive(psid));
    ASSERT_EQ(harness_wait_acked(h, lsid, 10), 0);
    ASSERT_EQ(harness_wait_acked(h, psid, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, lsid), 1);
    ASSERT_EQ(harness_notifications(h, 1, lsid), 1);
    ASSERT_EQ(harness_notifications(h, 0, psid), 1);
    ASSERT(audited(psid, "rp_logout"));
    /* The phone, back at the page, is sent to sign in. */
    account_get(&phone, FIREFOX, &res);
    ASSERT_EQ(res.status, 302);
    http_result_free(&res);
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(missing_or_foreign_csrf_is_refused_and_ends_nothing)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *body = NULL;
    struct http_result res;

    start(NULL);
    two_devices(&laptop, &phone, lsid, psid);
    if (asprintf(&body, "scope=all") < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 403);
    ASSERT_CONTAINS(res.body, "nothing was changed");
    http_result_free(&res);
    free(body);
    /* The phone's own token is bound to the phone's session. */
    csrf = account_csrf(&phone);
    if (asprintf(&body, "csrf=%s&scope=session&sid=%s", csrf, psid) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    free(body);
    if (asprintf(&body, "csrf=%sx&scope=all", csrf) < 0)
        FAIL("asprintf");
    account_post(&phone, body, &res);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    ASSERT(alive(lsid));
    ASSERT(alive(psid));
    ASSERT_EQ(harness_notifications(h, 0, NULL), 0);
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(cross_site_post_is_refused_and_ends_nothing)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *body = NULL, cookie[2100], url[128];
    const char *evil_origin[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Origin: https://evil.example", cookie, NULL};
    const char *cross_site[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Sec-Fetch-Site: cross-site", cookie, NULL};
    struct http_result res;

    start(NULL);
    two_devices(&laptop, &phone, lsid, psid);
    csrf = account_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=all", csrf) < 0)
        FAIL("asprintf");
    snprintf(cookie, sizeof(cookie), "Cookie: %s", laptop.cookies);
    snprintf(url, sizeof(url), "%s/account", h->gh.issuer);
    ASSERT_EQ(http_do("POST", url, body, evil_origin, &res), 0);
    ASSERT_EQ(res.status, 403);
    ASSERT_CONTAINS(res.body, "another site");
    http_result_free(&res);
    ASSERT_EQ(http_do("POST", url, body, cross_site, &res), 0);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    ASSERT(alive(lsid));
    ASSERT(alive(psid));
    ASSERT_EQ(harness_notifications(h, 0, NULL), 0);
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(another_users_session_cannot_be_ended)
{
    struct browser alice = {""}, bob = {""};
    char asid[64], bsid[64], *csrf, *body = NULL;
    struct http_result res;

    start(NULL);
    ASSERT_EQ(harness_add_user(h, "bob", "bob's password"), 0);
    sign_in_as(&alice, CHROME, 0, "alice", "correct horse");
    sign_in_as(&bob, FIREFOX, 0, "bob", "bob's password");
    sid_of(&alice, asid);
    sid_of(&bob, bsid);
    /* Bob's session is not on Alice's page. */
    account_get(&alice, CHROME, &res);
    ASSERT(strstr(res.body, bsid) == NULL);
    http_result_free(&res);
    csrf = account_csrf(&alice);
    if (asprintf(&body, "csrf=%s&scope=session&sid=%s", csrf, bsid) < 0)
        FAIL("asprintf");
    account_post(&alice, body, &res);
    ASSERT_EQ(res.status, 404);
    ASSERT_CONTAINS(res.body, "Nothing was signed out");
    http_result_free(&res);
    free(body);
    /* A sid that is no sid at all. */
    if (asprintf(&body, "csrf=%s&scope=session&sid=..%%2Fx", csrf) < 0)
        FAIL("asprintf");
    account_post(&alice, body, &res);
    ASSERT_EQ(res.status, 400);
    http_result_free(&res);
    ASSERT(alive(asid));
    ASSERT(alive(bsid));
    ASSERT_EQ(harness_notifications(h, 0, NULL), 0);
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(a_stale_sign_in_asks_for_the_password_before_an_action)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *csrf2, *body = NULL;
    struct http_result res;

    start("{\"login\":{\"reauth_window_s\":1}}");
    two_devices(&laptop, &phone, lsid, psid);
    /* The window is the wait: a sign-in older than 1 s. */
    test_sleep_ms(1500);
    /* The list is shown without asking. */
    csrf = account_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=session&sid=%s", csrf, psid) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "name=\"password\"");
    ASSERT_CONTAINS(res.body, "Enter your password again");
    csrf2 = html_hidden(res.body, "csrf");
    ASSERT(csrf2 != NULL);
    http_result_free(&res);
    ASSERT(alive(psid));
    free(body);
    /* A wrong password: asked again, nothing ended. */
    if (asprintf(&body, "csrf=%s&scope=session&sid=%s&password=wrong", csrf2,
                 psid) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 401);
    ASSERT_CONTAINS(res.body, "Incorrect password.");
    ASSERT_CONTAINS(res.body, "name=\"password\"");
    http_result_free(&res);
    ASSERT(alive(psid));
    free(body);
    /* The right one: the action goes on. */
    if (asprintf(&body,
                 "csrf=%s&scope=session&sid=%s&password=correct%%20horse",
                 csrf2, psid) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "Signed out of the session on Firefox on Linux.");
    http_result_free(&res);
    ASSERT(!alive(psid));
    ASSERT(alive(lsid));
    ASSERT_EQ(harness_wait_acked(h, psid, 10), 0);
    free(body);

    /* The step-up made this sign-in fresh; once stale again, "Sign out of
     * all sessions" asks too, then ends this one as /logout would. */
    test_sleep_ms(1500);
    if (asprintf(&body, "csrf=%s&scope=all&password=correct%%20horse", csrf2) <
        0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "You are signed out");
    ASSERT_CONTAINS(res.headers, "gh_session=; Path=/; Max-Age=0");
    http_result_free(&res);
    ASSERT(!alive(lsid));
    ASSERT_EQ(harness_wait_acked(h, lsid, 10), 0);
    free(body);
    free(csrf2);
    free(csrf);
    world_stop(&h);
}

/* POST /logout in b with body: the response. */
static void
logout_post(struct browser *b, const char *body, struct http_result *res)
{
    char url[128];

    snprintf(url, sizeof(url), "%s/logout", h->gh.issuer);
    ASSERT_EQ(browser_do_ua(b, CHROME, "POST", url, body, res), 0);
}

/* The csrf token of b's logout confirmation. malloc'd. */
static char *
confirm_csrf(struct browser *b)
{
    struct http_result res;
    char url[128], *csrf;

    snprintf(url, sizeof(url), "%s/logout", h->gh.issuer);
    ASSERT_EQ(browser_do_ua(b, CHROME, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    csrf = html_hidden(res.body, "csrf");
    ASSERT(csrf != NULL);
    http_result_free(&res);
    return csrf;
}

TEST(a_stale_sign_in_asks_before_sign_out_everywhere_not_before_sign_out)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *csrf2, *body = NULL;
    struct http_result res;

    start("{\"login\":{\"reauth_window_s\":1}}");
    two_devices(&laptop, &phone, lsid, psid);
    test_sleep_ms(1500);
    csrf = confirm_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=everywhere&state=s1", csrf) < 0)
        FAIL("asprintf");
    logout_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "name=\"password\"");
    ASSERT_CONTAINS(res.body, "action=\"/logout\"");
    ASSERT_CONTAINS(res.body, "name=\"scope\" value=\"everywhere\"");
    ASSERT_CONTAINS(res.body, "name=\"state\" value=\"s1\"");
    csrf2 = html_hidden(res.body, "csrf");
    http_result_free(&res);
    ASSERT(alive(lsid) && alive(psid));
    free(body);
    if (asprintf(&body, "csrf=%s&scope=everywhere&password=wrong", csrf2) < 0)
        FAIL("asprintf");
    logout_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 401);
    ASSERT_CONTAINS(res.body, "Incorrect password.");
    http_result_free(&res);
    ASSERT(alive(lsid) && alive(psid));
    free(body);
    if (asprintf(&body, "csrf=%s&scope=everywhere&password=correct%%20horse",
                 csrf2) < 0)
        FAIL("asprintf");
    logout_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "You are signed out");
    http_result_free(&res);
    ASSERT(!alive(lsid) && !alive(psid));
    ASSERT_EQ(harness_wait_acked(h, psid, 10), 0);
    free(body);
    free(csrf2);
    free(csrf);

    /* A plain sign-out of this device never asks. */
    two_devices(&laptop, &phone, lsid, psid);
    test_sleep_ms(1500);
    csrf = confirm_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=session", csrf) < 0)
        FAIL("asprintf");
    logout_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "You are signed out");
    http_result_free(&res);
    ASSERT(!alive(lsid) && alive(psid));
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(no_session_signs_in_and_comes_back)
{
    struct browser b = {""};
    char url[160], *loc, *csrf, *ret, *body = NULL;
    struct http_result res;

    start(NULL);
    account_get(&b, CHROME, &res);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    ASSERT_STR_EQ(loc, "/login?return=%2Faccount");
    http_result_free(&res);
    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, loc);
    ASSERT_EQ(browser_do_ua(&b, CHROME, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    csrf = html_hidden(res.body, "csrf");
    ret = html_hidden(res.body, "return");
    ASSERT(csrf != NULL);
    ASSERT_STR_EQ(ret, "/account");
    http_result_free(&res);
    /* A wrong password keeps the way back. */
    if (asprintf(&body,
                 "username=alice&password=nope&csrf=%s&return=%%2F"
                 "account",
                 csrf) < 0)
        FAIL("asprintf");
    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do_ua(&b, CHROME, "POST", url, body, &res), 0);
    ASSERT_EQ(res.status, 401);
    free(csrf);
    csrf = html_hidden(res.body, "csrf");
    free(ret);
    ret = html_hidden(res.body, "return");
    ASSERT_STR_EQ(ret, "/account");
    http_result_free(&res);
    free(body);
    if (asprintf(&body,
                 "username=alice&password=correct%%20horse&csrf=%s&"
                 "return=%%2Faccount",
                 csrf) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do_ua(&b, CHROME, "POST", url, body, &res), 0);
    ASSERT_EQ(res.status, 303);
    free(loc);
    loc = http_header_value(&res, "Location");
    ASSERT_STR_EQ(loc, "/account");
    http_result_free(&res);
    account_get(&b, CHROME, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "This device");
    http_result_free(&res);
    free(body);
    free(ret);
    free(csrf);
    free(loc);
    world_stop(&h);
}

TEST(sign_in_returns_only_to_gatehouse_pages)
{
    static const char *const bad[] = {
        "https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example%2Faccount",
        "%2Faccount%2F..%2F..%2Fevil", "%2F%5Cevil.example", "account"};
    struct browser b = {""};
    char url[256], *csrf, *body = NULL;
    struct http_result res;
    size_t i;

    start(NULL);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(url, sizeof(url), "%s/login?return=%s", h->gh.issuer, bad[i]);
        ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
        ASSERT_EQ(res.status, 400);
        ASSERT(http_header_value(&res, "Location") == NULL);
        http_result_free(&res);
    }
    /* Nor does a right password take a posted one anywhere. */
    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    csrf = html_hidden(res.body, "csrf");
    http_result_free(&res);
    if (asprintf(&body,
                 "username=alice&password=correct%%20horse&csrf=%s&"
                 "return=%%2F%%2Fevil.example",
                 csrf) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "POST", url, body, &res), 0);
    ASSERT_EQ(res.status, 400);
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    http_result_free(&res);
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST(redis_away_is_a_503_page_and_claims_nothing)
{
    struct browser laptop = {""}, phone = {""};
    char lsid[64], psid[64], *csrf, *body = NULL, *retry;
    struct http_result res;

    /* Redis keeps what it had across the restart. */
    start_aof(NULL, 1);
    two_devices(&laptop, &phone, lsid, psid);
    csrf = account_csrf(&laptop);
    redis_stop(&h->redis, 1);
    account_get(&laptop, CHROME, &res);
    ASSERT_EQ(res.status, 503);
    retry = http_header_value(&res, "Retry-After");
    ASSERT(retry != NULL);
    free(retry);
    ASSERT(strstr(res.body, "Signed in as") == NULL);
    http_result_free(&res);
    if (asprintf(&body, "csrf=%s&scope=all", csrf) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 503);
    ASSERT_CONTAINS(res.body, "nothing was changed");
    ASSERT(strstr(res.body, "signed out") == NULL);
    ASSERT(strstr(res.headers, "Max-Age=0") == NULL);
    http_result_free(&res);
    ASSERT_EQ(redis_restart(&h->redis, 1), 0);
    ASSERT(WAIT_UNTIL(alive(lsid), 10, 100));
    ASSERT(alive(psid));
    free(body);
    free(csrf);
    world_stop(&h);
}

#define FC_CB "http://127.0.0.1:9/cb"
#define FC_URI "http://127.0.0.1:9/fc-logout"

/* b signs in to the front-channel app "fc" (a new session unless b has
 * one); its sid into sid. */
static void
sign_in_fc(struct browser *b, char sid[64])
{
    char *code = oidc_get_code(&h->gh, b, "fc", FC_CB, "alice", "correct horse",
                               NULL),
         *ru = url_encode(FC_CB), *body = NULL;
    json_t *t;

    ASSERT(code != NULL);
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&"
                 "redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    t = oidc_token(&h->gh, body, "fc:fc-secret", 200);
    json_decref(t);
    sid_of(b, sid);
    free(body);
    free(ru);
    free(code);
}

TEST(every_ended_sessions_front_channel_frames_load_in_this_browser)
{
    struct harness_opts o = {
        .apps = 1,
        .user = "alice:correct horse",
        .clients_json =
            "[{\"client_id\":\"fc\",\"client_secret\":\"fc-secret\","
            "\"name\":\"Field App\",\"redirect_uris\":[\"" FC_CB "\"],"
            "\"frontchannel_logout_uri\":\"" FC_URI "\","
            "\"frontchannel_logout_session_required\":true}]"};
    struct browser laptop = {""}, phone = {""}, tablet = {""};
    char lsid[64], psid[64], tsid[64], *csrf, *body = NULL, url[128];
    struct http_result res;
    size_t i;

    h = world_start(&o, "{\"login\":{\"max_failures\":100}}", NULL);
    /* The account page's "Sign out of all sessions", then the logout
     * confirmation's "Sign out everywhere". */
    for (i = 0; i < 2; i++) {
        sign_in_fc(&laptop, lsid);
        sign_in_fc(&phone, psid);
        /* A session without the app has no frame to load. */
        sign_in_as(&tablet, FIREFOX, 0, "alice", "correct horse");
        sid_of(&tablet, tsid);
        if (i == 0) {
            csrf = account_csrf(&laptop);
            if (asprintf(&body, "csrf=%s&scope=all", csrf) < 0)
                FAIL("asprintf");
            account_post(&laptop, body, &res);
        } else {
            snprintf(url, sizeof(url), "%s/logout", h->gh.issuer);
            ASSERT_EQ(browser_do(&laptop, "GET", url, NULL, &res), 0);
            csrf = html_hidden(res.body, "csrf");
            ASSERT(csrf != NULL);
            http_result_free(&res);
            if (asprintf(&body, "csrf=%s&scope=everywhere", csrf) < 0)
                FAIL("asprintf");
            ASSERT_EQ(browser_do(&laptop, "POST", url, body, &res), 0);
        }
        ASSERT_EQ(res.status, 200);
        ASSERT_CONTAINS(res.body, "You are signed out");
        /* This session's frame and the phone's, each with its own sid. */
        ASSERT_CONTAINS(res.body, lsid);
        ASSERT_CONTAINS(res.body, psid);
        ASSERT(strstr(res.body, tsid) == NULL);
        ASSERT_EQ(strstr(res.body, "<iframe") != NULL, 1);
        ASSERT(strstr(strstr(res.body, "<iframe") + 1, "<iframe") != NULL);
        ASSERT_CONTAINS(res.headers, "frame-src http://127.0.0.1:9");
        /* Listed once: the phone's frame is loaded, not listed. */
        ASSERT_EQ(strstr(strstr(res.body, "<li>Field App") + 1,
                         "<li>Field App") == NULL,
                  1);
        http_result_free(&res);
        ASSERT(!alive(lsid) && !alive(psid) && !alive(tsid));
        free(body);
        free(csrf);
    }

    /* "Sign out" of the phone's session alone loads its frame here: the
     * phone is not there to. */
    sign_in_fc(&laptop, lsid);
    sign_in_fc(&phone, psid);
    account_get(&laptop, CHROME, &res);
    ASSERT(strstr(res.body, "<iframe") == NULL);
    http_result_free(&res);
    csrf = account_csrf(&laptop);
    if (asprintf(&body, "csrf=%s&scope=session&sid=%s", csrf, psid) < 0)
        FAIL("asprintf");
    account_post(&laptop, body, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "Signed out of the session on ");
    ASSERT_EQ(strstr(res.body, "<iframe") != NULL, 1);
    ASSERT_CONTAINS(strstr(res.body, "<iframe"), "fc-logout?iss=");
    ASSERT_CONTAINS(strstr(res.body, "<iframe"), psid);
    ASSERT(strstr(strstr(res.body, "<iframe"), lsid) == NULL);
    ASSERT_CONTAINS(res.headers, "frame-src http://127.0.0.1:9");
    http_result_free(&res);
    ASSERT(alive(lsid) && !alive(psid));
    free(body);
    free(csrf);
    world_stop(&h);
}

TEST_MAIN(
    TEST_ENTRY(account_lists_each_session_with_browser_address_and_apps),
    TEST_ENTRY(every_ended_sessions_front_channel_frames_load_in_this_browser),
    TEST_ENTRY(
        signing_out_another_session_notifies_its_apps_and_keeps_this_one),
    TEST_ENTRY(signing_out_this_device_shows_the_signed_out_page),
    TEST_ENTRY(sign_out_of_all_sessions_notifies_every_app),
    TEST_ENTRY(missing_or_foreign_csrf_is_refused_and_ends_nothing),
    TEST_ENTRY(cross_site_post_is_refused_and_ends_nothing),
    TEST_ENTRY(another_users_session_cannot_be_ended),
    TEST_ENTRY(a_stale_sign_in_asks_for_the_password_before_an_action),
    TEST_ENTRY(
        a_stale_sign_in_asks_before_sign_out_everywhere_not_before_sign_out),
    TEST_ENTRY(no_session_signs_in_and_comes_back),
    TEST_ENTRY(sign_in_returns_only_to_gatehouse_pages),
    TEST_ENTRY(redis_away_is_a_503_page_and_claims_nothing))
