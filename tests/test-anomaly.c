/* SPDX-License-Identifier: MIT */
/* Forced sign-out on anomaly (issue 17 item 2): session.max_per_user ends
 * the oldest session of a user who signs in once too often, session.bind
 * ends a session its cookie is presented from another browser; each ends
 * with notifications, an audit record and a metrics count, and the browser
 * is told why on its next visit. Real Redis, Gatehouse and apps. */
#include <pthread.h>
#include <stdarg.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define CHROME_120                                                             \
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "       \
    "Gecko) Chrome/120.0.0.0 Safari/537.36"
#define CHROME_121                                                             \
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "       \
    "Gecko) Chrome/121.0.6167.85 Safari/537.36"
#define FIREFOX                                                                \
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
#define ELSEWHERE "your account signed in elsewhere"

static struct harness *h;

static void
start(const char *extra)
{
    struct harness_opts o = {.apps = 2, .user = "alice:correct horse"};

    /* Parallel sign-ins hold attempts at once: no lockout here. */
    h = world_start(&o, "{\"login\":{\"max_failures\":100}}", extra);
}

/* The sid of the session tokens came from. */
static void
sid_of(const json_t *tokens, char sid[64])
{
    ASSERT_EQ(harness_sid(h, tokens, sid, 64), 0);
}

/* Runs redis-cli against the test redis; returns its output (malloc'd). */
static char *
redis_cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = {"redis-cli", "-s",       h->redis.socket, (char *)a1,
                    (char *)a2,  (char *)a3, (char *)a4,      NULL};
    char *out = NULL;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    return out;
}

/* Sessions alive (the expiry index). */
static long
live_sessions(void)
{
    char *out = redis_cli("ZCARD", "gh:sexp", NULL, NULL);
    long n = strtol(out, NULL, 10);

    free(out);
    return n;
}

/* The sessions_ended counter for reason, from /metrics. */
static long
ended_metric(const char *reason)
{
    struct http_result res;
    char url[128], line[128];
    const char *p;
    long n = -1;

    snprintf(url, sizeof(url), "%s/metrics", h->gh.issuer);
    snprintf(line, sizeof(line),
             "gatehouse_sessions_ended_total{reason=\"%s\"} ", reason);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    if ((p = strstr(res.body, line)) != NULL)
        n = strtol(p + strlen(line), NULL, 10);
    http_result_free(&res);
    return n;
}

/* Whether the audit stream has a session_end of sid with reason. */
static int
audited(const char *sid, const char *reason)
{
    char *out = redis_cli("XRANGE", "gh:audit", "-", "+");
    const char *p = strstr(out, sid);
    int found;

    /* Each record's fields come out one a line, in the order XADD gave:
     * target (the sid), sub, reason. */
    found = p != NULL && strstr(p, reason) != NULL &&
            strstr(p, reason) - p < 200;
    free(out);
    return found;
}

/* What the browser (as ua, NULL: no header) sees at /authorize of app 0:
 * the page, or "" for a redirect (its session was honoured). malloc'd. */
static char *
visit_as(struct browser *b, const char *ua)
{
    char *url = oidc_authorize_url(&h->gh, h->apps[0].client_id,
                                   h->apps[0].redirect_uri, NULL);
    struct http_result res;
    char *page;

    ASSERT_EQ(browser_do_ua(b, ua, "GET", url, NULL, &res), 0);
    free(url);
    ASSERT(res.status == 200 || res.status == 302);
    page = strdup(res.status == 200 ? res.body : "");
    http_result_free(&res);
    return page;
}

static char *
visit(struct browser *b)
{
    return visit_as(b, NULL);
}

/* Signs the browser in to app 0 as ua and exchanges the code, as
 * world_sign_in does without a User-Agent; the sid of the new session
 * (the cookie starts with it) into sid. */
static void
sign_in_as(struct browser *b, const char *ua, char sid[64])
{
    char *page = visit_as(b, ua), *csrf, *request, *body = NULL, *loc;
    char *code = NULL;
    char *ru = url_encode(h->apps[0].redirect_uri), *cookie, url[256],
         basic[160];
    struct http_result res;
    json_t *t;

    csrf = html_hidden(page, "csrf");
    request = html_hidden(page, "request");
    ASSERT(csrf != NULL && request != NULL);
    if (asprintf(&body, "username=alice&password=correct%%20horse&csrf=%s"
                        "&request=%s",
                 csrf, request) < 0)
        FAIL("asprintf");
    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do_ua(b, ua, "POST", url, body, &res), 0);
    ASSERT_EQ(res.status, 303);
    loc = http_header_value(&res, "Location");
    http_result_free(&res);
    ASSERT(loc != NULL && (code = url_param(loc, "code")) != NULL);
    free(body);
    /* The app is recorded on the session when it gets its ID token. */
    if (asprintf(&body, "grant_type=authorization_code&code=%s&"
                        "redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    snprintf(basic, sizeof(basic), "%s:%s", h->apps[0].client_id,
             h->apps[0].client_secret);
    t = oidc_token(&h->gh, body, basic, 200);
    cookie = browser_cookie(b, "gh_session");
    ASSERT(cookie != NULL && strlen(cookie) > 22);
    snprintf(sid, 64, "%.22s", cookie);
    json_decref(t);
    free(cookie);
    free(code);
    free(loc);
    free(body);
    free(ru);
    free(request);
    free(csrf);
    free(page);
}

TEST(max_per_user_1_ends_the_oldest_and_tells_its_browser)
{
    struct browser laptop = {""}, phone = {""};
    json_t *t0, *t1, *t2;
    char sid[64], *page;

    start("{\"session\":{\"max_per_user\":1}}");
    t0 = world_sign_in(h, &laptop, 0, "alice", "correct horse");
    t1 = world_sign_in(h, &laptop, 1, "alice", "correct horse");
    sid_of(t0, sid);
    ASSERT_EQ(live_sessions(), 1);
    t2 = world_sign_in(h, &phone, 0, "alice", "correct horse");

    /* The laptop's session ended, and both its apps were told. */
    ASSERT_EQ(live_sessions(), 1);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, sid), 1);
    ASSERT_EQ(harness_notifications(h, 1, sid), 1);
    ASSERT(audited(sid, "evicted"));
    ASSERT_EQ(ended_metric("evicted"), 1);

    /* Its next visit says why, above the sign-in form. */
    page = visit(&laptop);
    ASSERT_CONTAINS(page, ELSEWHERE);
    ASSERT_CONTAINS(page, "name=\"password\"");
    free(page);
    /* The phone's session is the one that lives: SSO, nothing said. */
    page = visit(&phone);
    ASSERT_STR_EQ(page, "");
    free(page);
    /* A browser that never held the session is told nothing. */
    {
        struct browser other = {""};
        page = visit(&other);
        ASSERT(strstr(page, "signed out because") == NULL);
        free(page);
    }
    json_decref(t0);
    json_decref(t1);
    json_decref(t2);
    world_stop(&h);
}

TEST(max_per_user_2_keeps_the_two_newest)
{
    struct browser b[3] = {{""}, {""}, {""}};
    json_t *t[3];
    char sid0[64], sid1[64], *page;
    int i;

    start("{\"session\":{\"max_per_user\":2}}");
    for (i = 0; i < 2; i++)
        t[i] = world_sign_in(h, &b[i], 0, "alice", "correct horse");
    sid_of(t[0], sid0);
    sid_of(t[1], sid1);
    ASSERT_EQ(live_sessions(), 2);
    ASSERT_EQ(ended_metric("evicted"), 0);
    t[2] = world_sign_in(h, &b[2], 0, "alice", "correct horse");
    ASSERT_EQ(live_sessions(), 2);
    ASSERT_EQ(harness_wait_acked(h, sid0, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, sid0), 1);
    ASSERT_EQ(harness_notifications(h, 0, sid1), 0);
    ASSERT_EQ(ended_metric("evicted"), 1);
    page = visit(&b[0]);
    ASSERT_CONTAINS(page, ELSEWHERE);
    free(page);
    for (i = 1; i < 3; i++) {
        page = visit(&b[i]);
        ASSERT_STR_EQ(page, "");
        free(page);
    }
    for (i = 0; i < 3; i++)
        json_decref(t[i]);
    world_stop(&h);
}

#define PARALLEL 8

static void *
sign_in_thread(void *arg)
{
    struct browser b = {""};
    char *code;

    (void)arg;
    code = oidc_get_code(&h->gh, &b, h->apps[0].client_id,
                         h->apps[0].redirect_uri, "alice", "correct horse",
                         NULL);
    free(code);
    return NULL;
}

/* The eviction is one script with the creation: however the sign-ins
 * interleave, never more than the limit remain. */
TEST(parallel_sign_ins_never_leave_more_than_the_limit)
{
    pthread_t th[PARALLEL];
    int max, i;
    char extra[64];

    for (max = 1; max <= 2; max++) {
        snprintf(extra, sizeof(extra), "{\"session\":{\"max_per_user\":%d}}",
                 max);
        start(extra);
        for (i = 0; i < PARALLEL; i++)
            ASSERT_EQ(pthread_create(&th[i], NULL, sign_in_thread, NULL), 0);
        for (i = 0; i < PARALLEL; i++)
            pthread_join(th[i], NULL);
        ASSERT_EQ(live_sessions(), max);
        ASSERT_EQ(ended_metric("evicted"), PARALLEL - max);
        world_stop(&h);
    }
}

TEST(bind_user_agent_ends_a_session_presented_by_another_browser)
{
    struct browser b = {""}, stolen = {""};
    char sid[64], *page;

    start("{\"session\":{\"bind\":\"user_agent\"}}");
    sign_in_as(&b, CHROME_120, sid);
    ASSERT_EQ(live_sessions(), 1);

    /* The same browser after an update: the same family, honoured. */
    page = visit_as(&b, CHROME_121);
    ASSERT_STR_EQ(page, "");
    free(page);
    ASSERT_EQ(live_sessions(), 1);
    ASSERT_EQ(ended_metric("anomaly"), 0);

    /* The cookie in another browser: the session ends, the app is told. */
    memcpy(stolen.cookies, b.cookies, sizeof(b.cookies));
    page = visit_as(&stolen, FIREFOX);
    ASSERT_CONTAINS(page, "name=\"password\"");
    ASSERT_CONTAINS(page, "different browser");
    free(page);
    ASSERT_EQ(live_sessions(), 0);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, sid), 1);
    ASSERT(audited(sid, "anomaly"));
    ASSERT_EQ(ended_metric("anomaly"), 1);

    /* And the browser it belonged to is signed out too, and told. */
    page = visit_as(&b, CHROME_120);
    ASSERT_CONTAINS(page, "different browser");
    free(page);
    world_stop(&h);
}

TEST(without_bind_another_browser_is_honoured)
{
    struct browser b = {""}, other = {""};
    char sid[64], *page;

    start(NULL);
    sign_in_as(&b, CHROME_120, sid);
    memcpy(other.cookies, b.cookies, sizeof(b.cookies));
    page = visit_as(&other, FIREFOX);
    ASSERT_STR_EQ(page, "");
    free(page);
    ASSERT_EQ(live_sessions(), 1);
    ASSERT_EQ(ended_metric("anomaly"), 0);
    world_stop(&h);
}

/* Runs gatehouse with the arguments (NULL-terminated); its exit status. */
static int
gh_cmd(const char *stdin_text, ...)
{
    char *argv[16], *out = NULL, *err = NULL;
    va_list ap;
    int n = 0, rc;

    argv[n++] = getenv("GATEHOUSE_BIN");
    va_start(ap, stdin_text);
    while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    rc = run_cmd(argv, stdin_text, &out, &err);
    if (rc != 0)
        fprintf(stderr, "# %s%s\n", out ? out : "", err ? err : "");
    free(out);
    free(err);
    return rc;
}

/* The ends that were already there get the same page. */
TEST(disabled_account_is_told_why_on_the_next_visit)
{
    struct browser b = {""};
    json_t *t;
    char sid[64], *page;

    start(NULL);
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    sid_of(t, sid);
    ASSERT_EQ(gh_cmd(NULL, "user", "disable", "--config", h->gh.config,
                     "--username", "alice", NULL),
              0);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    page = visit(&b);
    ASSERT_CONTAINS(page, "administrator disabled your account");
    free(page);
    json_decref(t);
    world_stop(&h);
}

TEST(an_ordinary_logout_says_nothing_on_the_next_visit)
{
    struct browser b = {""};
    json_t *t;
    char *page;

    start(NULL);
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    ASSERT_EQ(harness_logout_rp(h, &b, t), 0);
    page = visit(&b);
    ASSERT_CONTAINS(page, "name=\"password\"");
    ASSERT(strstr(page, "signed out because") == NULL);
    free(page);
    json_decref(t);
    world_stop(&h);
}

TEST_MAIN(TEST_ENTRY(max_per_user_1_ends_the_oldest_and_tells_its_browser),
          TEST_ENTRY(max_per_user_2_keeps_the_two_newest),
          TEST_ENTRY(parallel_sign_ins_never_leave_more_than_the_limit),
          TEST_ENTRY(bind_user_agent_ends_a_session_presented_by_another_browser),
          TEST_ENTRY(without_bind_another_browser_is_honoured),
          TEST_ENTRY(disabled_account_is_told_why_on_the_next_visit),
          TEST_ENTRY(an_ordinary_logout_says_nothing_on_the_next_visit))
