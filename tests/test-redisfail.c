/* SPDX-License-Identifier: MIT */
/* SPEC §7, issue 15: a Redis that refuses (maxmemory reached, a read-only
 * replica after a failover, min-replicas-to-write unmet, too slow to
 * answer, gone) makes every path that changes state
 * answer 503 with Retry-After, never success, and change nothing; once
 * Redis is back, the same operations work. Real redis-server, real
 * gatehouse, real HTTP over loopback. */
#include <unistd.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3201/callback"
#define CRM_HOME "http://127.0.0.1:3201/"
#define WIKI_CB "http://127.0.0.1:3202/callback"
#define WIKI_HOME "http://127.0.0.1:3202/"

static struct harness *h;
static struct bc_app bc;

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* aof: Redis with persistence; the CRM's back-channel answers 500 to its
 * first fail_first requests, and gives up after max_attempts. */
static void
start_with(int aof, int fail_first, int max_attempts)
{
    json_t *cfg;
    char *text;

    ASSERT_EQ(bc_start(&bc, fail_first, 0), 0);
    cfg = json_pack(
        "{s:[{s:s, s:s, s:s, s:[s], s:[s], s:s, s:b, s:[ss]},"
        "    {s:s, s:s, s:[s], s:[s]}],"
        " s:{s:i, s:i, s:i}}",
        "clients", "client_id", "crm", "client_secret", "secret", "name",
        "CRM", "redirect_uris", CRM_CB, "post_logout_redirect_uris", CRM_HOME,
        "backchannel_logout_uri", bc.uri,
        "backchannel_logout_session_required", 1, "grant_types",
        "authorization_code", "refresh_token", "client_id",
        "security-console", "client_secret", "console-secret", "grant_types",
        "client_credentials", "scopes", "gatehouse:admin", "backchannel",
        "timeout_ms", 500, "max_attempts", max_attempts, "logout_wait_ms",
        300);
    text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    h = world_start(
        &(struct harness_opts){.aof = aof, .user = "alice:correct horse"}, text,
        NULL);
    free(text);
}

static void
start(void)
{
    start_with(0, 0, 3);
}

static void
stop(void)
{
    world_stop(&h);
    bc_stop(&bc);
}

/* redis-cli on the private socket; 0 if it ran and did not answer an
 * error. */
static int
redis_cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = {"redis-cli", "-s",       h->redis.socket, (char *)a1,
                    (char *)a2,  (char *)a3, (char *)a4,      NULL};
    char *out = NULL;
    int rc = run_cmd(argv, NULL, &out, NULL);

    if (rc == 0 && out != NULL && strncmp(out, "ERR", 3) == 0)
        rc = -1;
    free(out);
    return rc;
}

/* How Redis refuses, and how it comes back. */
enum mode { OOM, READ_ONLY, NO_REPLICAS };

static void
break_redis(enum mode m)
{
    char port[16];

    if (m == OOM) {
        ASSERT_EQ(redis_cli("CONFIG", "SET", "maxmemory-policy", "noeviction"),
                  0);
        ASSERT_EQ(redis_cli("CONFIG", "SET", "maxmemory", "1"), 0);
        return;
    }
    if (m == NO_REPLICAS) {
        /* min-replicas-to-write with no replica: -NOREPLICAS on writes. */
        ASSERT_EQ(redis_cli("CONFIG", "SET", "min-replicas-to-write", "1"), 0);
        return;
    }
    /* A replica of a primary that is not there keeps its data and refuses
     * every write, as after a failover Gatehouse has not followed yet. */
    snprintf(port, sizeof(port), "%d", test_free_port());
    ASSERT_EQ(redis_cli("REPLICAOF", "127.0.0.1", port, NULL), 0);
}

static void
mend_redis(enum mode m)
{
    if (m == OOM)
        ASSERT_EQ(redis_cli("CONFIG", "SET", "maxmemory", "0"), 0);
    else if (m == NO_REPLICAS)
        ASSERT_EQ(redis_cli("CONFIG", "SET", "min-replicas-to-write", "0"), 0);
    else
        ASSERT_EQ(redis_cli("REPLICAOF", "NO", "ONE", NULL), 0);
}

/* The keys matching pattern (redis-cli --scan), counted. */
static int
count_keys(const char *pattern)
{
    char *argv[] = {"redis-cli", "-s",        h->redis.socket,
                    "--scan",    "--pattern", (char *)pattern,
                    NULL};
    char *out = NULL, *p;
    int n = 0;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    for (p = out; p != NULL && *p != '\0'; p++)
        n += *p == '\n';
    free(out);
    return n;
}

/* 503 with a Retry-After of at least a second: the one answer that tells
 * the caller nothing happened and when to come back. */
static void
expect_503(const char *what, const struct http_result *res)
{
    char *ra = http_header_value(res, "Retry-After");

    if (res->status != 503 || ra == NULL || atoi(ra) < 1)
        FAIL("%s: want 503 with Retry-After, got %ld (Retry-After %s): %s",
             what, res->status, ra != NULL ? ra : "none",
             res->body != NULL ? res->body : "");
    free(ra);
}

/* The same, as an HTML page that says nothing changed, and with no cookie
 * set or cleared. */
static void
expect_503_page(const char *what, const struct http_result *res)
{
    char *ct = http_header_value(res, "Content-Type");

    expect_503(what, res);
    ASSERT_CONTAINS(ct, "text/html");
    ASSERT(strstr(res->headers, "Set-Cookie") == NULL &&
           strstr(res->headers, "set-cookie") == NULL);
    ASSERT(strstr(res->body, "signed out of") == NULL);
    free(ct);
}

/* The same as OAuth JSON: {"error":"temporarily_unavailable"}. */
static void
expect_503_oauth(const char *what, const struct http_result *res)
{
    json_t *j;

    expect_503(what, res);
    if ((j = json_loads(res->body, 0, NULL)) == NULL)
        FAIL("%s: not JSON: %s", what, res->body);
    ASSERT_STR_EQ(str(j, "error"), "temporarily_unavailable");
    json_decref(j);
}

static void
post_form(const char *path, const char *body, const char *basic,
          struct http_result *res)
{
    char url[256], auth[512];
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           NULL, NULL};

    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    if (basic != NULL) {
        oidc_basic_header(basic, auth, sizeof(auth));
        hdrs[1] = auth;
    }
    ASSERT_EQ(http_do("POST", url, body, hdrs, res), 0);
}

static void
bearer_do(const char *method, const char *path, const char *ctype,
          const char *body, const char *token, struct http_result *res)
{
    char url[512], auth[4096], ct[128];
    const char *hdrs[3] = {auth, NULL, NULL};

    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    if (ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        hdrs[1] = ct;
    }
    ASSERT_EQ(http_do(method, url, body, hdrs, res), 0);
}

static json_t *
exchange(const char *code)
{
    char *body = NULL;
    json_t *t;

    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, CRM_CB) < 0)
        FAIL("asprintf");
    t = oidc_token(&h->gh, body, "crm:secret", 200);
    free(body);
    return t;
}

/* Waits (at most 10 s) until Gatehouse reaches Redis again. */
static void
wait_ready(void)
{
    char url[128];
    double deadline = test_now() + 10;
    long status = 0;

    snprintf(url, sizeof(url), "%s/readyz", h->gh.issuer);
    while (status != 200 && test_now() < deadline) {
        struct http_result res;
        ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
        status = res.status;
        http_result_free(&res);
        if (status != 200)
            test_sleep_ms(100);
    }
    ASSERT_EQ(status, 200);
    /* Each HTTP thread reconnects on its own, backing off at most 1 s. */
    test_sleep_ms(1100);
}

/* A code by single sign-on: the browser's session answers at once. 1 if
 * the session is alive, 0 if the sign-in form was shown instead. */
static int
sso_alive(struct browser *b)
{
    char *url = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    struct http_result res;
    int alive;

    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    free(url);
    alive = res.status == 302;
    if (alive) {
        char *loc = http_header_value(&res, "Location");
        char *code = url_param(loc, "code");
        ASSERT(code != NULL);
        free(code);
        free(loc);
    } else {
        ASSERT_EQ(res.status, 200);
    }
    http_result_free(&res);
    return alive;
}

/* The refresh grant with token: its status, and the new token (malloc'd)
 * into *next when 200. */
static long
refresh(const char *token, char **next)
{
    struct http_result res;
    char *body = NULL;
    long status;

    if (asprintf(&body, "grant_type=refresh_token&refresh_token=%s", token) <
        0)
        FAIL("asprintf");
    post_form("/token", body, "crm:secret", &res);
    free(body);
    status = res.status;
    if (status == 200 && next != NULL) {
        json_t *j = json_loads(res.body, 0, NULL);
        *next = strdup(str(j, "refresh_token"));
        json_decref(j);
    } else if (status != 200) {
        ASSERT(res.body != NULL);
        if (status == 503)
            expect_503_oauth("refresh", &res);
    }
    http_result_free(&res);
    return status;
}

/* The admin API and CLI writes while Redis refuses (already broken in
 * mode m); mends Redis. A read-only replica takes no write at all, so
 * each answers 503 (the CLI: exit 1, one line) and nothing ends. At
 * maxmemory Redis still lets a script that starts by deleting go on
 * writing, so ending sessions may really work: then the answer says so
 * and it is true. */
static void
admin_writes(enum mode m, const char *admin, const char *sid_a,
             struct browser *a, struct browser *other)
{
    struct http_result res;
    const char *what;
    char *url, *out = NULL, *err = NULL;
    long status;

    if (m == OOM) {
        bearer_do("POST", "/admin/users/alice/logout", NULL, NULL, admin,
                  &res);
        status = res.status;
        if (status != 202)
            expect_503_oauth("POST /admin/users/alice/logout", &res);
        http_result_free(&res);
        mend_redis(m);
        ASSERT_EQ(sso_alive(a), status == 503);
        ASSERT_EQ(sso_alive(other), status == 503);
        if (status == 202)
            ASSERT_EQ(bc_wait(&bc, 1, 5), 0);
        return;
    }
    what = "POST /admin/users/alice/logout";
    bearer_do("POST", "/admin/users/alice/logout", NULL, NULL, admin, &res);
    expect_503_oauth(what, &res);
    http_result_free(&res);

    what = "DELETE /admin/sessions/{sid}";
    if (asprintf(&url, "/admin/sessions/%s", sid_a) < 0)
        FAIL("asprintf");
    bearer_do("DELETE", url, NULL, NULL, admin, &res);
    expect_503_oauth(what, &res);
    http_result_free(&res);
    free(url);

    what = "POST /admin/logout-all";
    bearer_do("POST", "/admin/logout-all", NULL, NULL, admin, &res);
    expect_503_oauth(what, &res);
    http_result_free(&res);

    /* The CLI: one line naming the problem, exit 1, never "ok". */
    {
        const char *bin = getenv("GATEHOUSE_BIN");
        char *argv[] = {(char *)bin, "logout", "--config", h->gh.config,
                        "--user",    "alice",  NULL};
        char *argv2[] = {(char *)bin, "logout",      "--config", h->gh.config,
                         "--session", (char *)sid_a, NULL};
        char *argv3[] = {(char *)bin,  "user",       "disable", "--config",
                         h->gh.config, "--username", "alice",   NULL};
        char *const *cmds[] = {argv, argv2, argv3};
        size_t k;
        for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
            if (run_cmd(cmds[k], NULL, &out, &err) != 1)
                FAIL("%s %s: want exit 1: %s%s", cmds[k][1], cmds[k][2],
                     out ? out : "", err ? err : "");
            if (err == NULL || strchr(err, '\n') != err + strlen(err) - 1)
                FAIL("%s: want one line: %s", cmds[k][1], err ? err : "");
            ASSERT(strncmp(err, "gatehouse ", 10) == 0);
            ASSERT_CONTAINS(err, ": redis: ");
            ASSERT(out == NULL || out[0] == '\0');
            free(out);
            free(err);
            out = err = NULL;
        }
    }
    mend_redis(m);
    /* A wait that is the test: a notification, if one were queued,
     * would arrive in this time. */
    test_sleep_ms(300);
    ASSERT_EQ(bc_count(&bc), 0);
    ASSERT_EQ(sso_alive(a), 1);
    ASSERT_EQ(sso_alive(other), 1);
    bearer_do("POST", "/admin/users/alice/logout", NULL, NULL, admin, &res);
    ASSERT_EQ(res.status, 202);
    http_result_free(&res);
    ASSERT_EQ(sso_alive(a), 0);
    ASSERT_EQ(sso_alive(other), 0);
    ASSERT_EQ(bc_wait(&bc, 1, 5), 0);
}

/*
 * Every path that changes state, with Redis refusing writes in mode m:
 * each answers 503 with Retry-After; afterwards nothing changed and each
 * works.
 */
static void
every_write_path_is_503_and_changes_nothing(enum mode m)
{
    struct browser a = {""}, other = {""}, fresh = {""};
    struct http_result res;
    char *code, *spare_code, *login_page, *confirm_csrf, *admin, *url, *body;
    char *rt, *next = NULL, *sid_a;
    const char *what;
    json_t *t, *t2, *j;
    int deliveries, codes;

    start();
    /* Two sessions of alice and the CRM's tokens from the first. */
    code = oidc_get_code(&h->gh, &a, "crm", CRM_CB, "alice", "correct horse",
                         NULL);
    t = exchange(code);
    free(code);
    rt = strdup(str(t, "refresh_token"));
    spare_code = oidc_get_code(&h->gh, &other, "crm", CRM_CB, "alice",
                               "correct horse", NULL);
    j = oidc_verified_claims(&h->gh, str(t, "id_token"));
    sid_a = strdup(str(j, "sid"));
    json_decref(j);
    t2 = oidc_token(&h->gh, "grant_type=client_credentials",
                    "security-console:"
                    "console-secret",
                    200);
    admin = strdup(str(t2, "access_token"));
    json_decref(t2);
    /* A sign-in form shown before, submitted during the fault. */
    url = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    ASSERT_EQ(browser_do(&fresh, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    login_page = strdup(res.body);
    http_result_free(&res);
    free(url);
    /* A logout confirmation shown before, confirmed during the fault. */
    if (asprintf(&url, "%s/logout", h->gh.issuer) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    confirm_csrf = html_hidden(res.body, "csrf");
    ASSERT(confirm_csrf != NULL);
    http_result_free(&res);
    free(url);
    deliveries = count_keys("gh:dl:*");
    codes = count_keys("gh:code:*");

    break_redis(m);

    what = "GET /authorize with a live session";
    url = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    /* No code was stored, so none may be handed out; the error goes back
     * to the app (OIDC Core §3.1.2.6) or is a 503 page. */
    if (res.status == 302) {
        char *loc = http_header_value(&res, "Location");
        char *e = url_param(loc, "error");
        ASSERT_STR_EQ(e, "temporarily_unavailable");
        ASSERT(url_param(loc, "code") == NULL);
        free(e);
        free(loc);
    } else {
        expect_503_page(what, &res);
    }
    http_result_free(&res);
    free(url);

    what = "POST /login";
    {
        char *csrf = html_hidden(login_page, "csrf");
        char *request = html_hidden(login_page, "request");
        char lurl[128];
        if (asprintf(&body, "username=alice&password=correct+horse&csrf=%s"
                            "&request=%s",
                     csrf, request != NULL ? request : "") < 0)
            FAIL("asprintf");
        snprintf(lurl, sizeof(lurl), "%s/login", h->gh.issuer);
        ASSERT_EQ(browser_do(&fresh, "POST", lurl, body, &res), 0);
        expect_503_page(what, &res);
        ASSERT(!browser_has_cookie(&fresh, "gh_session"));
        http_result_free(&res);
        free(body);
        free(csrf);
        free(request);
    }

    what = "GET /logout with id_token_hint";
    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer,
                 str(t, "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    expect_503_page(what, &res);
    ASSERT_CONTAINS(res.body, "nothing was changed");
    http_result_free(&res);
    free(url);

    what = "POST /logout, Sign out everywhere";
    if (asprintf(&url, "%s/logout", h->gh.issuer) < 0 ||
        asprintf(&body, "csrf=%s&scope=everywhere", confirm_csrf) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&a, "POST", url, body, &res), 0);
    expect_503_page(what, &res);
    ASSERT_CONTAINS(res.body, "nothing was changed");
    http_result_free(&res);
    free(body);
    free(url);

    what = "POST /token authorization_code";
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 spare_code, CRM_CB) < 0)
        FAIL("asprintf");
    post_form("/token", body, "crm:secret", &res);
    expect_503_oauth(what, &res);
    http_result_free(&res);
    free(body);

    what = "POST /token refresh_token";
    ASSERT_EQ(refresh(rt, NULL), 503);

    what = "POST /revoke refresh token";
    if (asprintf(&body, "token=%s", rt) < 0)
        FAIL("asprintf");
    post_form("/revoke", body, "crm:secret", &res);
    expect_503_oauth(what, &res);
    http_result_free(&res);
    free(body);

    what = "POST /revoke access token";
    if (asprintf(&body, "token=%s", str(t, "access_token")) < 0)
        FAIL("asprintf");
    post_form("/revoke", body, "crm:secret", &res);
    expect_503_oauth(what, &res);
    http_result_free(&res);
    free(body);

    what = "POST /register";
    bearer_do("POST", "/register", "application/json",
              "{\"client_name\":\"Wiki\",\"redirect_uris\":[\"" WIKI_CB
              "\"],\"grant_types\":[\"authorization_code\"]}",
              admin, &res);
    expect_503_oauth(what, &res);
    http_result_free(&res);

    /* A client_credentials grant touches no Redis, so machines keep
     * working through the fault. */
    t2 = oidc_token(&h->gh, "grant_type=client_credentials",
                    "security-console:console-secret", 200);
    json_decref(t2);

    mend_redis(m);

    /* Nothing changed: both sessions alive, the refresh token good, no
     * app told anything, no code handed out. */
    test_sleep_ms(300);
    ASSERT_EQ(count_keys("gh:dl:*"), deliveries);
    ASSERT_EQ(bc_count(&bc), 0);
    ASSERT_EQ(count_keys("gh:code:*"), codes);
    ASSERT_EQ(sso_alive(&other), 1);
    ASSERT_EQ(sso_alive(&a), 1);
    ASSERT_EQ(refresh(rt, &next), 200);
    ASSERT(next != NULL);
    json_decref(exchange(spare_code));
    /* And every operation works again. */
    if (asprintf(&body, "token=%s", next) < 0)
        FAIL("asprintf");
    post_form("/revoke", body, "crm:secret", &res);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    free(body);
    ASSERT_EQ(refresh(next, NULL), 400);

    /* The admin API and the CLI, with Redis refusing again. */
    break_redis(m);
    admin_writes(m, admin, sid_a, &a, &other);

    free(next);
    free(rt);
    free(sid_a);
    free(admin);
    free(spare_code);
    free(login_page);
    free(confirm_csrf);
    json_decref(t);
    stop();
}

TEST(redis_out_of_memory_makes_every_write_503_and_changes_nothing)
{
    every_write_path_is_503_and_changes_nothing(OOM);
}

TEST(redis_read_only_makes_every_write_503_and_changes_nothing)
{
    every_write_path_is_503_and_changes_nothing(READ_ONLY);
}

/* The sid part of a browser's session cookie (malloc'd). */
static char *
cookie_sid(const struct browser *b)
{
    char *c = browser_cookie(b, "gh_session"), *dot;

    ASSERT(c != NULL && (dot = strchr(c, '.')) != NULL);
    *dot = '\0';
    return c;
}

/* The csrf token of the logout confirmation page browser b is shown
 * (malloc'd). */
static char *
confirm_token(struct browser *b)
{
    struct http_result res;
    char url[128], *csrf;

    snprintf(url, sizeof(url), "%s/logout", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    csrf = html_hidden(res.body, "csrf");
    ASSERT(csrf != NULL);
    http_result_free(&res);
    return csrf;
}

static void
sign_out_everywhere(struct browser *b, const char *csrf,
                    struct http_result *res)
{
    char url[128], body[160];

    snprintf(url, sizeof(url), "%s/logout", h->gh.issuer);
    snprintf(body, sizeof(body), "csrf=%s&scope=everywhere", csrf);
    ASSERT_EQ(browser_do(b, "POST", url, body, res), 0);
}

/* "Sign out everywhere" said "you are signed out" when only this session
 * ended and the others could not be (it logged a warning). Now the others
 * go first, and if they cannot, the page says nothing changed, and
 * nothing did. The fault: Redis refuses to end the other session (its
 * hash is, for the moment, a string: WRONGTYPE). */
/* A primary that may not write without a replica answers -NOREPLICAS:
 * no success either, and not a 500. */
TEST(redis_without_its_replicas_makes_every_write_503_and_changes_nothing)
{
    every_write_path_is_503_and_changes_nothing(NO_REPLICAS);
}

TEST(sign_out_everywhere_that_cannot_end_the_others_is_503_and_ends_nothing)
{
    struct browser a = {""}, other = {""};
    struct http_result res;
    char *code, *sid_other, *csrf, key[64];

    start();
    code = oidc_get_code(&h->gh, &a, "crm", CRM_CB, "alice", "correct horse",
                         NULL);
    json_decref(exchange(code));
    free(code);
    code = oidc_get_code(&h->gh, &other, "crm", CRM_CB, "alice",
                         "correct horse", NULL);
    json_decref(exchange(code));
    free(code);
    sid_other = cookie_sid(&other);
    snprintf(key, sizeof(key), "gh:sess:%s", sid_other);
    csrf = confirm_token(&a);

    ASSERT_EQ(redis_cli("RENAME", key, "gh:test:saved", NULL), 0);
    ASSERT_EQ(redis_cli("SET", key, "not a hash", NULL), 0);
    sign_out_everywhere(&a, csrf, &res);
    expect_503_page("Sign out everywhere", &res);
    ASSERT_CONTAINS(res.body, "nothing was changed");
    http_result_free(&res);
    ASSERT_EQ(redis_cli("DEL", key, NULL, NULL), 0);
    ASSERT_EQ(redis_cli("RENAME", "gh:test:saved", key, NULL), 0);
    free(csrf);

    /* Both sessions alive, no app told. */
    test_sleep_ms(300);
    ASSERT_EQ(bc_count(&bc), 0);
    ASSERT_EQ(sso_alive(&a), 1);
    ASSERT_EQ(sso_alive(&other), 1);

    /* And with Redis whole, it ends both, and the CRM hears of each. */
    csrf = confirm_token(&a);
    sign_out_everywhere(&a, csrf, &res);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    ASSERT_EQ(sso_alive(&a), 0);
    ASSERT_EQ(sso_alive(&other), 0);
    ASSERT_EQ(bc_wait(&bc, 2, 5), 0);
    free(csrf);
    free(sid_other);
    stop();
}

/* Redis gone (the connection lost): a post_logout_redirect_uri that is
 * registered for a client registered at run time cannot be checked, and
 * that is no "not registered" (400): it is 503. The refresh grant and a
 * logout answer 503 too, and once Redis is back all of them work. */
TEST(redis_gone_is_503_not_not_registered_and_everything_works_after)
{
    struct browser a = {""};
    struct http_result res;
    char *code, *admin, *rt, *url = NULL, *home;
    const char *id;
    json_t *t, *reg;

    start_with(1, 0, 3);
    t = oidc_token(&h->gh, "grant_type=client_credentials",
                   "security-console:console-secret", 200);
    admin = strdup(str(t, "access_token"));
    json_decref(t);
    bearer_do("POST", "/register", "application/json",
              "{\"client_name\":\"Wiki\",\"redirect_uris\":[\"" WIKI_CB
              "\"],\"post_logout_redirect_uris\":[\"" WIKI_HOME "\"],"
              "\"grant_types\":[\"authorization_code\"]}",
              admin, &res);
    ASSERT_EQ(res.status, 201);
    reg = json_loads(res.body, 0, NULL);
    http_result_free(&res);
    id = str(reg, "client_id");
    ASSERT(id != NULL);
    code = oidc_get_code(&h->gh, &a, "crm", CRM_CB, "alice", "correct horse",
                         NULL);
    t = exchange(code);
    free(code);
    rt = strdup(str(t, "refresh_token"));
    home = url_encode(WIKI_HOME);

    redis_stop(&h->redis, 1);
    if (asprintf(&url, "%s/logout?client_id=%s&post_logout_redirect_uri=%s",
                 h->gh.issuer, id, home) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    expect_503_page("logout with a registered client's redirect", &res);
    ASSERT_CONTAINS(res.body, "nothing was changed");
    http_result_free(&res);
    ASSERT_EQ(refresh(rt, NULL), 503);

    ASSERT_EQ(redis_restart(&h->redis, 1), 0);
    wait_ready();
    /* Nothing ended; the refresh token still good; the redirect is
     * accepted and the browser, with no session by this client's hint,
     * sees the confirmation. */
    ASSERT_EQ(sso_alive(&a), 1);
    ASSERT_EQ(refresh(rt, NULL), 200);
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "name=\"csrf\"");
    http_result_free(&res);
    ASSERT_EQ(bc_count(&bc), 0);
    free(url);
    free(home);
    free(rt);
    free(admin);
    json_decref(reg);
    json_decref(t);
    stop();
}

/* Redis that does not answer in time (writes paused, longer than the
 * command timeout): 503, and as the connection is dropped the paused
 * command is never run; the retry works. */
TEST(redis_timeout_is_503_and_the_retry_works)
{
    struct browser a = {""};
    struct http_result res;
    char *code, *rt, *url = NULL;
    double t0;
    json_t *t;

    start();
    code = oidc_get_code(&h->gh, &a, "crm", CRM_CB, "alice", "correct horse",
                         NULL);
    t = exchange(code);
    free(code);
    rt = strdup(str(t, "refresh_token"));
    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer,
                 str(t, "id_token")) < 0)
        FAIL("asprintf");

    /* Paused far longer than the two requests take; unpaused below. */
    ASSERT_EQ(redis_cli("CLIENT", "PAUSE", "30000", "WRITE"), 0);
    t0 = test_now();
    ASSERT_EQ(refresh(rt, NULL), 503);
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    expect_503_page("logout while Redis does not answer", &res);
    ASSERT_CONTAINS(res.body, "nothing was changed");
    http_result_free(&res);
    /* Each gave up after the 2 s command timeout, not Redis's pause. */
    ASSERT(wrapped() || test_now() - t0 < 8);
    ASSERT_EQ(redis_cli("CLIENT", "UNPAUSE", NULL, NULL), 0);

    /* A wait that is the test: a notification, if one were queued,
     * would arrive in this time. */
    test_sleep_ms(300);
    ASSERT_EQ(bc_count(&bc), 0);
    ASSERT_EQ(sso_alive(&a), 1);
    ASSERT_EQ(refresh(rt, NULL), 200);
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    ASSERT_EQ(bc_wait(&bc, 1, 5), 0);
    free(url);
    free(rt);
    json_decref(t);
    stop();
}

/* The CLI's "deliveries --retry" with a read-only Redis: exit 1 with one
 * line, never "requeued"; the failed delivery stays failed, and once Redis
 * takes writes again the retry requeues it and the app hears. */
TEST(deliveries_retry_with_redis_read_only_fails_and_requeues_nothing)
{
    struct browser a = {""};
    struct http_result res;
    const char *bin = getenv("GATEHOUSE_BIN");
    char *argv[] = {(char *)bin, "deliveries", "--config",
                    NULL,        "--retry",    NULL};
    char *code, *url = NULL, *out = NULL, *err = NULL;
    double deadline;
    json_t *t;

    start_with(0, 1, 1); /* the one attempt fails: failed for good */
    argv[3] = h->gh.config;
    code = oidc_get_code(&h->gh, &a, "crm", CRM_CB, "alice", "correct horse",
                         NULL);
    t = exchange(code);
    free(code);
    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer,
                 str(t, "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&a, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    deadline = test_now() + 10;
    WAIT_UNTIL(count_keys("gh:dfail") != 0, deadline - test_now(), 100);
    ASSERT_EQ(count_keys("gh:dfail"), 1);
    ASSERT_EQ(bc_count(&bc), 0);

    break_redis(READ_ONLY);
    ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 1);
    ASSERT(out == NULL || strstr(out, "requeued") == NULL);
    if (err == NULL || strchr(err, '\n') != err + strlen(err) - 1)
        FAIL("want one line: %s", err ? err : "");
    ASSERT_CONTAINS(err, "gatehouse deliveries: redis: ");
    free(out);
    free(err);
    mend_redis(READ_ONLY);
    /* A wait that is the test: nothing more may be delivered or failed. */
    test_sleep_ms(300);
    ASSERT_EQ(count_keys("gh:dfail"), 1);
    ASSERT_EQ(bc_count(&bc), 0);

    ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 0);
    ASSERT_CONTAINS(out, "requeued 1 ");
    free(out);
    free(err);
    ASSERT_EQ(bc_wait(&bc, 1, 5), 0);
    free(url);
    json_decref(t);
    stop();
}

TEST_MAIN(TEST_ENTRY(redis_out_of_memory_makes_every_write_503_and_changes_nothing),
          TEST_ENTRY(redis_read_only_makes_every_write_503_and_changes_nothing),
          TEST_ENTRY(redis_without_its_replicas_makes_every_write_503_and_changes_nothing),
          TEST_ENTRY(sign_out_everywhere_that_cannot_end_the_others_is_503_and_ends_nothing),
          TEST_ENTRY(redis_gone_is_503_not_not_registered_and_everything_works_after),
          TEST_ENTRY(redis_timeout_is_503_and_the_retry_works),
          TEST_ENTRY(deliveries_retry_with_redis_read_only_fails_and_requeues_nothing))
