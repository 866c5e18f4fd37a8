/* SPDX-License-Identifier: MIT */
/* Single logout end to end: real apps listening on loopback receive the
 * back-channel notifications; gatehouse and redis-server are real. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "support.h"
#include "test.h"

#define NAPPS 3
static const char *const names[NAPPS] = {"crm", "sales", "service"};
static const char *const titles[NAPPS] = {"CRM", "Sales", "Service"};

static struct redis_proc redis;
static struct gh_proc gh;
static struct bc_app apps[NAPPS];
static char callbacks[NAPPS][64];

/* Config: three apps whose back-channel URIs are the bc apps. */
static char *
config_json(const char *extra_top)
{
    json_t *cfg = json_object(), *clients = json_array();
    char *text;
    int i;

    for (i = 0; i < NAPPS; i++) {
        char home[64];
        snprintf(callbacks[i], sizeof(callbacks[i]),
                 "http://127.0.0.1:%d/callback", 3001 + i);
        snprintf(home, sizeof(home), "http://127.0.0.1:%d/", 3001 + i);
        json_array_append_new(
            clients,
            json_pack("{s:s, s:s, s:s, s:[s], s:[s], s:s, s:b, s:[ss]}",
                      "client_id", names[i], "client_secret", "secret",
                      "name", titles[i], "redirect_uris", callbacks[i],
                      "post_logout_redirect_uris", home,
                      "backchannel_logout_uri", apps[i].uri,
                      "backchannel_logout_session_required", 1,
                      "grant_types", "authorization_code", "refresh_token"));
    }
    json_object_set_new(cfg, "clients", clients);
    json_object_set_new(cfg, "backchannel",
                        json_pack("{s:i, s:i, s:i}", "timeout_ms", 500,
                                  "max_attempts", 3, "logout_wait_ms", 1000));
    if (extra_top != NULL) {
        json_t *x = json_loads(extra_top, 0, NULL);
        ASSERT(x != NULL);
        json_object_update_recursive(cfg, x);
        json_decref(x);
    }
    text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    return text;
}

/* hang_app: index of an app that never answers (-1: none); fail_app: one
 * that answers 500 once first. */
static int with_aof;

static void
start(int hang_app, int fail_app, const char *extra)
{
    char *cfg;
    int i;

    for (i = 0; i < NAPPS; i++)
        ASSERT_EQ(bc_start(&apps[i], i == fail_app ? 1 : 0, i == hang_app),
                  0);
    ASSERT_EQ(redis_start(&redis, with_aof), 0);
    cfg = config_json(extra);
    if (gh_start(&gh, redis.url, "ES256", cfg) < 0)
        FAIL("gatehouse did not start");
    free(cfg);
    ASSERT_EQ(oidc_add_user(&gh, "alice", "correct horse"), 0);
}

static void
stop(void)
{
    int i;

    gh_stop(&gh);
    redis_stop(&redis, 0);
    for (i = 0; i < NAPPS; i++)
        bc_stop(&apps[i]);
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Signs the browser in to app i and exchanges the code: the app's tokens. */
static json_t *
sign_in_app(struct browser *b, int i)
{
    char *code, *body = NULL, *ru, basic[64];
    json_t *t;

    code = oidc_get_code(&gh, b, names[i], callbacks[i], "alice",
                         "correct horse", NULL);
    ru = url_encode(callbacks[i]);
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    snprintf(basic, sizeof(basic), "%s:secret", names[i]);
    t = oidc_token(&gh, body, basic, 200);
    free(body);
    free(ru);
    free(code);
    return t;
}

/* One logout token as OIDC Back-Channel Logout 1.0 §2.4 requires. */
static void
check_logout_token(const char *jws, const char *aud, const char *sid,
                   const char *sub)
{
    json_t *c = oidc_verified_claims(&gh, jws), *ev;
    unsigned char *hdr;
    char *dot = strchr(jws, '.');

    ASSERT_STR_EQ(str(c, "iss"), gh.issuer);
    ASSERT_STR_EQ(str(c, "aud"), aud);
    ASSERT_STR_EQ(str(c, "sid"), sid);
    ASSERT_STR_EQ(str(c, "sub"), sub);
    ASSERT(str(c, "jti") != NULL);
    ASSERT(json_object_get(c, "nonce") == NULL);
    ASSERT(json_integer_value(json_object_get(c, "exp")) -
               json_integer_value(json_object_get(c, "iat")) <=
           120);
    ev = json_object_get(c, "events");
    ASSERT(json_is_object(json_object_get(
        ev, "http://schemas.openid.net/event/backchannel-logout")));
    /* The header says what it is: typ logout+jwt. */
    {
        char *cmd = NULL, *out = NULL;
        char *argv[] = {"sh", "-c", NULL, NULL};
        if (asprintf(&cmd, "printf %%s '%.*s==' | tr '_-' '/+' | "
                           "base64 -d 2>/dev/null",
                     (int)(dot - jws), jws) < 0)
            FAIL("asprintf");
        argv[2] = cmd;
        run_cmd(argv, NULL, &out, NULL);
        hdr = (unsigned char *)out;
        ASSERT_CONTAINS((char *)hdr, "\"typ\":\"logout+jwt\"");
        free(out);
        free(cmd);
    }
    json_decref(c);
}

/* RFC 7662 introspection by the token's own client: 1 active, 0 not. */
static int
introspect_active(const char *token, const char *client)
{
    char url[256], *body = NULL, basic[64], auth[512];
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           auth, NULL};
    struct http_result res;
    json_t *j;
    int active;

    snprintf(basic, sizeof(basic), "%s:secret", client);
    oidc_basic_header(basic, auth, sizeof(auth));
    if (asprintf(&body, "token=%s", token) < 0)
        FAIL("asprintf");
    snprintf(url, sizeof(url), "%s/introspect", gh.issuer);
    ASSERT_EQ(http_do("POST", url, body, hdrs, &res), 0);
    free(body);
    ASSERT_EQ(res.status, 200);
    j = json_loads(res.body, 0, NULL);
    ASSERT(j != NULL);
    active = json_is_true(json_object_get(j, "active"));
    json_decref(j);
    http_result_free(&res);
    return active;
}

TEST(logout_with_hint_notifies_every_app_exactly_once)
{
    struct browser b = {""};
    json_t *t[NAPPS], *id;
    char *url = NULL, *loc, *ccookie, *csd, *state, *body = NULL;
    struct http_result res;
    int i, j;

    start(-1, -1, NULL);
    for (i = 0; i < NAPPS; i++)
        t[i] = sign_in_app(&b, i);
    /* Before: the access token is active, so "inactive" below means
     * something. */
    ASSERT_EQ(introspect_active(str(t[1], "access_token"), names[1]), 1);
    id = oidc_verified_claims(&gh, str(t[0], "id_token"));
    if (asprintf(&url,
                 "%s/logout?id_token_hint=%s&post_logout_redirect_uri=%s"
                 "&state=s1",
                 gh.issuer, str(t[0], "id_token"),
                 "http%3A%2F%2F127.0.0.1%3A3001%2F") < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    ASSERT(loc != NULL && strncmp(loc, "http://127.0.0.1:3001/", 22) == 0);
    state = url_param(loc, "state");
    ASSERT_STR_EQ(state, "s1");
    csd = http_header_value(&res, "Clear-Site-Data");
    ASSERT_CONTAINS(csd, "cookies");
    ccookie = browser_cookie(&b, "gh_session");
    ASSERT(ccookie == NULL);
    /* The response waited for the first attempts: all three know. */
    for (i = 0; i < NAPPS; i++)
        ASSERT_EQ(bc_count(&apps[i]), 1);
    for (i = 0; i < NAPPS; i++)
        check_logout_token(apps[i].tokens[0], names[i], str(id, "sid"),
                           str(id, "sub"));
    /* Each token has its own jti. */
    for (i = 0; i < NAPPS; i++)
        for (j = i + 1; j < NAPPS; j++)
            ASSERT(strcmp(apps[i].tokens[0], apps[j].tokens[0]) != 0);
    /* Nothing more arrives later: exactly once. */
    usleep(1500 * 1000);
    for (i = 0; i < NAPPS; i++)
        ASSERT_EQ(bc_count(&apps[i]), 1);
    /* No token of the session is alive. */
    for (i = 0; i < NAPPS; i++) {
        json_t *e;
        char basic[64];
        if (asprintf(&body, "grant_type=refresh_token&refresh_token=%s",
                     str(t[i], "refresh_token")) < 0)
            FAIL("asprintf");
        snprintf(basic, sizeof(basic), "%s:secret", names[i]);
        e = oidc_token(&gh, body, basic, 400);
        ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
        json_decref(e);
        free(body);
        ASSERT_EQ(introspect_active(str(t[i], "access_token"), names[i]), 0);
    }
    http_result_free(&res);
    for (i = 0; i < NAPPS; i++)
        json_decref(t[i]);
    json_decref(id);
    free(url);
    free(loc);
    free(csd);
    free(state);
    stop();
}

static void
expect_sso(struct browser *b, int want_sso)
{
    char *url = oidc_authorize_url(&gh, "crm", callbacks[0], NULL);
    struct http_result res;

    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, want_sso ? 302 : 200);
    http_result_free(&res);
    free(url);
}

TEST(confirmation_page_then_sign_out_everywhere_ends_both_devices)
{
    struct browser laptop = {""}, phone = {""};
    json_t *t1, *t2;
    char url[256], *csrf, *body = NULL;
    struct http_result res, r2;

    start(-1, -1, NULL);
    t1 = sign_in_app(&laptop, 0);
    t2 = sign_in_app(&phone, 0);
    snprintf(url, sizeof(url), "%s/logout", gh.issuer);
    ASSERT_EQ(browser_do(&laptop, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "CRM");
    ASSERT_CONTAINS(res.body, "value=\"everywhere\"");
    /* Nothing ends before the user confirms. */
    expect_sso(&laptop, 1);
    ASSERT_EQ(bc_count(&apps[0]), 0);
    /* A confirmation without its token is refused and ends nothing. */
    ASSERT_EQ(browser_do(&laptop, "POST", url, "scope=everywhere", &r2), 0);
    ASSERT_EQ(r2.status, 403);
    http_result_free(&r2);
    ASSERT_EQ(browser_do(&laptop, "POST", url,
                         "scope=everywhere&csrf=forged", &r2),
              0);
    ASSERT_EQ(r2.status, 403);
    http_result_free(&r2);
    expect_sso(&laptop, 1);
    expect_sso(&phone, 1);

    csrf = html_hidden(res.body, "csrf");
    ASSERT(csrf != NULL);
    if (asprintf(&body, "csrf=%s&scope=everywhere", csrf) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&laptop, "POST", url, body, &r2), 0);
    ASSERT_EQ(r2.status, 200);
    ASSERT_CONTAINS(r2.body, "signed out");
    http_result_free(&r2);
    /* Both devices are signed out, and CRM heard of both sessions. */
    expect_sso(&laptop, 0);
    expect_sso(&phone, 0);
    ASSERT_EQ(bc_wait(&apps[0], 2, 5), 0);
    /* The token was single-use. */
    ASSERT_EQ(browser_do(&laptop, "POST", url, body, &r2), 0);
    ASSERT(r2.status != 200 || strstr(r2.body, "still trying") == NULL);
    http_result_free(&r2);
    free(body);
    free(csrf);
    http_result_free(&res);
    json_decref(t1);
    json_decref(t2);
    stop();
}

TEST(unregistered_post_logout_redirect_is_an_error_page_and_ends_nothing)
{
    static const char *const bad[] = {
        "http%3A%2F%2Fevil.example%2F",
        "http%3A%2F%2F127.0.0.1%3A3002%2F",  /* another client's */
        "http%3A%2F%2F127.0.0.1%3A3009%2F",  /* another port */
        "HTTP%3A%2F%2F127.0.0.1%3A3001%2F",  /* case */
        "http%3A%2F%2F127.0.0.1%3A3001%2Fx", /* path suffix */
        "%2F%2Fevil.example%2F",
    };
    struct browser b = {""};
    json_t *t;
    char *url = NULL, *loc;
    struct http_result res;
    size_t i;

    start(-1, -1, NULL);
    t = sign_in_app(&b, 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (asprintf(&url,
                     "%s/logout?id_token_hint=%s&post_logout_redirect_uri=%s",
                     gh.issuer, str(t, "id_token"), bad[i]) < 0)
            FAIL("asprintf");
        ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
        ASSERT_EQ(res.status, 400);
        loc = http_header_value(&res, "Location");
        ASSERT(loc == NULL);
        http_result_free(&res);
        free(url);
    }
    /* The session is untouched and no app heard anything. */
    expect_sso(&b, 1);
    usleep(300 * 1000);
    ASSERT_EQ(bc_count(&apps[0]), 0);
    json_decref(t);
    stop();
}

TEST(dead_app_delays_logout_by_at_most_the_wait_and_ends_failed)
{
    struct browser b = {""};
    json_t *t0, *t1;
    char *url = NULL;
    struct http_result res;
    double t_start, took;
    char *argv[] = {"redis-cli", "-s", redis.socket, "--scan", "--pattern",
                    "gh:dl:*", NULL};
    char *out = NULL;
    int i, failed = 0;

    start(1, -1, NULL); /* Sales never answers */
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    if (asprintf(&url, "%s/logout?id_token_hint=%s", gh.issuer,
                 str(t0, "id_token")) < 0)
        FAIL("asprintf");
    t_start = test_now();
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    took = test_now() - t_start;
    ASSERT_EQ(res.status, 200);
    /* logout_wait_ms is 1000: the user waits no longer, plus slack. */
    ASSERT(took < 1.8);
    ASSERT_CONTAINS(res.body, "CRM — signed out");
    ASSERT_CONTAINS(res.body, "Sales — still trying");
    ASSERT_EQ(bc_count(&apps[0]), 1);
    http_result_free(&res);
    /* Three attempts of 500 ms with 1 s and 2 s backoff: failed by ~6 s. */
    for (i = 0; i < 100 && !failed; i++) {
        char *argv2[] = {"redis-cli", "-s", redis.socket, "HGET", NULL,
                         "st", NULL};
        char *st = NULL, *line, *save = NULL;
        free(out);
        out = NULL;
        run_cmd(argv, NULL, &out, NULL);
        for (line = strtok_r(out, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
            if (strstr(line, ":sales") == NULL)
                continue;
            argv2[4] = line;
            run_cmd(argv2, NULL, &st, NULL);
            failed = st != NULL && strncmp(st, "failed", 6) == 0;
            free(st);
        }
        if (!failed)
            usleep(100 * 1000);
    }
    ASSERT(failed);
    free(out);
    free(url);
    json_decref(t0);
    json_decref(t1);
    stop();
}

TEST(app_answering_500_then_200_gets_it_on_a_retry)
{
    struct browser b = {""};
    json_t *t;
    char *url = NULL;
    struct http_result res;

    start(-1, 0, NULL); /* CRM fails once */
    t = sign_in_app(&b, 0);
    if (asprintf(&url, "%s/logout?id_token_hint=%s", gh.issuer,
                 str(t, "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    ASSERT_EQ(bc_wait(&apps[0], 1, 5), 0);
    ASSERT_EQ(apps[0].requests, 2);
    free(url);
    json_decref(t);
    stop();
}

TEST(kill_9_with_deliveries_pending_then_restart_delivers_them)
{
    struct browser b = {""};
    json_t *t;
    char *url = NULL;
    struct http_result res;
    int port;

    start(-1, -1, NULL);
    /* CRM is down: its deliveries are refused and wait for a retry. */
    port = apps[0].port;
    bc_stop(&apps[0]);
    t = sign_in_app(&b, 0);
    if (asprintf(&url, "%s/logout?id_token_hint=%s", gh.issuer,
                 str(t, "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    http_result_free(&res);
    kill(gh.pid, SIGKILL);
    waitpid(gh.pid, NULL, 0);
    gh.pid = 0;
    ASSERT_EQ(bc_start_on(&apps[0], port, 0, 0), 0);
    ASSERT_EQ(gh_launch(&gh), 0);
    ASSERT_EQ(bc_wait(&apps[0], 1, 10), 0);
    free(url);
    json_decref(t);
    stop();
}

TEST(redis_restart_with_aof_loses_no_queued_delivery)
{
    struct browser b = {""};
    struct http_result res;
    json_t *t;
    char *url = NULL;
    int port;

    with_aof = 1;
    start(-1, -1, NULL);
    with_aof = 0;
    port = apps[0].port;
    bc_stop(&apps[0]);
    t = sign_in_app(&b, 0);
    if (asprintf(&url, "%s/logout?id_token_hint=%s", gh.issuer,
                 str(t, "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    /* The delivery is queued for a retry; Redis goes away and comes back
     * from its append-only file. */
    redis_stop(&redis, 1);
    usleep(300 * 1000);
    ASSERT_EQ(redis_restart(&redis, 1), 0);
    ASSERT_EQ(bc_start_on(&apps[0], port, 0, 0), 0);
    ASSERT_EQ(bc_wait(&apps[0], 1, 15), 0);
    free(url);
    json_decref(t);
    stop();
}

TEST(two_instances_on_one_redis_deliver_each_notification_once)
{
    struct gh_proc gh2;
    struct browser b = {""};
    json_t *t[NAPPS];
    char *url = NULL, *cfg, extra[512];
    struct http_result res;
    int i;

    start(-1, -1, NULL);
    snprintf(extra, sizeof(extra),
             "{\"issuer\":\"%s\",\"keys_dir\":\"%s/keys\"}", gh.issuer,
             gh.dir);
    cfg = config_json(extra);
    ASSERT_EQ(gh_start(&gh2, redis.url, "ES256", cfg), 0);
    free(cfg);
    for (i = 0; i < NAPPS; i++)
        t[i] = sign_in_app(&b, i);
    /* Signed in on the first, signed out on the second. */
    if (asprintf(&url, "http://127.0.0.1:%d/logout?id_token_hint=%s",
                 gh2.port, str(t[0], "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    for (i = 0; i < NAPPS; i++)
        ASSERT_EQ(bc_wait(&apps[i], 1, 5), 0);
    usleep(1500 * 1000);
    for (i = 0; i < NAPPS; i++) {
        ASSERT_EQ(bc_count(&apps[i]), 1);
        json_decref(t[i]);
    }
    gh_stop(&gh2);
    free(url);
    stop();
}

TEST(idle_timeout_notifies_apps_within_5s_with_no_traffic)
{
    struct browser b = {""};
    json_t *t;
    double t0;

    start(-1, -1,
          "{\"session\":{\"idle_timeout_s\":2,\"absolute_timeout_s\":60}}");
    t = sign_in_app(&b, 0);
    t0 = test_now();
    ASSERT_EQ(bc_wait(&apps[0], 1, 9), 0);
    /* Expiry at 2 s; noticed within 5 s of it. */
    ASSERT(apps[0].first_at - t0 < 2 + 5);
    ASSERT(apps[0].first_at - t0 > 1);
    json_decref(t);
    stop();
}

TEST(absolute_timeout_ends_a_busy_session_and_notifies_apps)
{
    struct browser b = {""};
    struct http_result res;
    char url[256];
    json_t *t;
    double t0;
    int i;

    start(-1, -1,
          "{\"session\":{\"idle_timeout_s\":5,\"absolute_timeout_s\":9}}");
    t = sign_in_app(&b, 0);
    t0 = test_now();
    /* Activity keeps the idle clock from running out; the absolute one
     * still ends the session. */
    for (i = 0; i < 5; i++) {
        usleep(1000 * 1000);
        if (bc_count(&apps[0]) == 0)
            expect_sso(&b, 1);
    }
    ASSERT_EQ(bc_wait(&apps[0], 1, 16), 0);
    ASSERT(apps[0].first_at - t0 < 9 + 5);
    snprintf(url, sizeof(url), "%s/metrics", gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_CONTAINS(res.body, "gatehouse_sessions_ended_total{reason="
                              "\"timeout_absolute\"} 1");
    http_result_free(&res);
    json_decref(t);
    stop();
}

TEST(refresh_reuse_ends_the_session_and_notifies_the_apps)
{
    struct browser b = {""};
    json_t *t0, *t1, *r, *e;
    char *body = NULL;

    /* At once, without the grace; past it, test-refresh-grace.c. */
    start(-1, -1, "{\"tokens\":{\"refresh_reuse_grace_s\":0}}");
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    if (asprintf(&body, "grant_type=refresh_token&refresh_token=%s",
                 str(t0, "refresh_token")) < 0)
        FAIL("asprintf");
    r = oidc_token(&gh, body, "crm:secret", 200);
    e = oidc_token(&gh, body, "crm:secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    ASSERT_EQ(bc_wait(&apps[0], 1, 5), 0);
    ASSERT_EQ(bc_wait(&apps[1], 1, 5), 0);
    json_decref(e);
    json_decref(r);
    json_decref(t0);
    json_decref(t1);
    free(body);
    stop();
}

TEST_MAIN(TEST_ENTRY(logout_with_hint_notifies_every_app_exactly_once),
          TEST_ENTRY(confirmation_page_then_sign_out_everywhere_ends_both_devices),
          TEST_ENTRY(unregistered_post_logout_redirect_is_an_error_page_and_ends_nothing),
          TEST_ENTRY(dead_app_delays_logout_by_at_most_the_wait_and_ends_failed),
          TEST_ENTRY(app_answering_500_then_200_gets_it_on_a_retry),
          TEST_ENTRY(kill_9_with_deliveries_pending_then_restart_delivers_them),
          TEST_ENTRY(redis_restart_with_aof_loses_no_queued_delivery),
          TEST_ENTRY(two_instances_on_one_redis_deliver_each_notification_once),
          TEST_ENTRY(idle_timeout_notifies_apps_within_5s_with_no_traffic),
          TEST_ENTRY(absolute_timeout_ends_a_busy_session_and_notifies_apps),
          TEST_ENTRY(refresh_reuse_ends_the_session_and_notifies_the_apps))
