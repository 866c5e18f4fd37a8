/* SPDX-License-Identifier: MIT */
/* The maintenance shutdown (issue 17 item 1, SPEC §5) end to end: real
 * Redis, Gatehouse and receiving apps. Announced, every page shows the
 * banner and GET /maintenance says so while sessions live on; at its time
 * every session ends with notifications, sign-in and user grants answer
 * 503 while the administrator's client_credentials still works; the
 * status says when everyone is out; end opens sign-in again; the state
 * survives a restart; bad input changes nothing; Redis down is a 503. */
#include <signal.h>
#include <stdarg.h>

#include <jansson.h>

#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "harness/world.h"
#include "test.h"

#define MESSAGE "Upgrade to v2: save your work"
#define BANNER "Maintenance starts at"
/* Time limits stretch under valgrind-like wrappers (support.h). */
#define LIMIT(s) ((wrapped() ? 10 : 1) * (s))

static struct harness *h;

static void
start(void)
{
    struct harness_opts o = {.apps = 2, .user = "alice:correct horse"};

    h = world_start(&o, "{\"login\":{\"max_failures\":100}}", NULL);
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

static long
live_sessions(void)
{
    char *out = redis_cli("ZCARD", "gh:sexp", NULL, NULL);
    long n = strtol(out, NULL, 10);

    free(out);
    return n;
}

/* The admin client's access token (malloc'd). */
static char *
admin_token(void)
{
    char basic[128];
    json_t *t;
    char *tok;

    snprintf(basic, sizeof(basic), "%s:%s", HARNESS_ADMIN_CLIENT,
             h->admin_secret);
    t = oidc_token(&h->gh, "grant_type=client_credentials&scope=gatehouse%3Aadmin",
                   basic, 200);
    tok = strdup(world_str(t, "access_token"));
    json_decref(t);
    return tok;
}

/* One admin request with token; body JSON or NULL. */
static void
admin_do(const char *method, const char *body, const char *token,
         struct http_result *res)
{
    char url[256], auth[JWS_MAX_LEN + 64];
    const char *hdrs[3] = {auth, NULL, NULL};

    snprintf(url, sizeof(url), "%s/admin/maintenance", h->gh.issuer);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    if (body != NULL)
        hdrs[1] = "Content-Type: application/json";
    ASSERT_EQ(http_do(method, url, body, hdrs, res), 0);
}

/* The JSON answer of an admin request that must get status want. */
static json_t *
admin_json(const char *method, const char *body, const char *token,
           long want)
{
    struct http_result res;
    json_t *j;

    admin_do(method, body, token, &res);
    if (res.status != want)
        FAIL("%s /admin/maintenance: status %ld, want %ld: %s", method,
             res.status, want, res.body ? res.body : "");
    if ((j = json_loads(res.body, 0, NULL)) == NULL)
        FAIL("not JSON: %s", res.body);
    http_result_free(&res);
    return j;
}

/* GET /maintenance (public), its answer; the headers are checked. */
static json_t *
public_state(void)
{
    struct http_result res;
    char url[256], *v;
    json_t *j;

    snprintf(url, sizeof(url), "%s/maintenance", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    v = http_header_value(&res, "Cache-Control");
    ASSERT_CONTAINS(v, "max-age=5");
    free(v);
    v = http_header_value(&res, "Access-Control-Allow-Origin");
    ASSERT_STR_EQ(v, "*");
    free(v);
    ASSERT((j = json_loads(res.body, 0, NULL)) != NULL);
    http_result_free(&res);
    return j;
}

static const char *
public_state_name(void)
{
    static char name[32];
    json_t *j = public_state();

    snprintf(name, sizeof(name), "%s", world_str(j, "state"));
    json_decref(j);
    return name;
}

/* The state GET /maintenance gives once this process's cache (~1 s) has
 * let go of an older read. */
static void
expect_public_state(const char *want)
{
    WAIT_UNTIL(strcmp(public_state_name(), want) == 0, LIMIT(5), 100);
    ASSERT_STR_EQ(public_state_name(), want);
}

/* What a browser sees at /authorize of app 0. */
static void
visit(struct browser *b, struct http_result *res)
{
    char *url = oidc_authorize_url(&h->gh, h->apps[0].client_id,
                                   h->apps[0].redirect_uri, NULL);

    ASSERT_EQ(browser_do(b, "GET", url, NULL, res), 0);
    free(url);
}

/* POST /token for app i with body; the result. */
static void
token_do(int i, const char *body, struct http_result *res)
{
    char url[256], basic[256], hdr[300];
    const char *hdrs[] = {hdr, "Content-Type: application/x-www-form-urlencoded",
                          NULL};

    snprintf(url, sizeof(url), "%s/token", h->gh.issuer);
    snprintf(basic, sizeof(basic), "%s:%s", h->apps[i].client_id,
             h->apps[i].client_secret);
    oidc_basic_header(basic, hdr, sizeof(hdr));
    ASSERT_EQ(http_do("POST", url, body, hdrs, res), 0);
}

static void
expect_grant_closed(struct http_result *res)
{
    char *ra = http_header_value(res, "Retry-After");
    json_t *j = json_loads(res->body, 0, NULL);

    ASSERT_EQ(res->status, 503);
    ASSERT(ra != NULL && atoi(ra) > 0);
    ASSERT_STR_EQ(world_str(j, "error"), "temporarily_unavailable");
    free(ra);
    json_decref(j);
}

static long
metric(const char *line)
{
    struct http_result res;
    char url[128];
    const char *p;
    long n = -1;

    snprintf(url, sizeof(url), "%s/metrics", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    if ((p = strstr(res.body, line)) != NULL)
        n = strtol(p + strlen(line), NULL, 10);
    http_result_free(&res);
    return n;
}

static int
everyone_out(const char *token)
{
    json_t *j = admin_json("GET", NULL, token, 200);
    int out = json_is_true(json_object_get(j, "everyone_out"));

    json_decref(j);
    return out;
}

/* Runs gatehouse with the arguments (NULL-terminated); the exit status,
 * with the output captured. */
static int
gh_cmd(char **out, char **err, ...)
{
    char *argv[16];
    va_list ap;
    int n = 0;

    argv[n++] = getenv("GATEHOUSE_BIN");
    va_start(ap, err);
    while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    return run_cmd(argv, NULL, out, err);
}

/* The sessions of client_id in a GET /admin/maintenance answer; -1 if
 * the app is not listed. */
static json_int_t
app_sessions(const json_t *status, const char *client_id)
{
    json_t *apps = json_object_get(status, "apps"), *a;
    size_t i;

    json_array_foreach(apps, i, a)
        if (strcmp(world_str(a, "client_id"), client_id) == 0)
            return json_integer_value(json_object_get(a, "sessions"));
    return -1;
}

TEST(announced_then_at_ends_every_session_and_closes_sign_in)
{
    struct browser laptop = {""}, phone = {""}, stranger = {""};
    struct http_result res;
    char sid1[64], sid2[64], body[2048], *code, *ru, *token, *ra;
    json_t *t1, *t2, *j;
    int64_t at;

    start();
    t1 = world_sign_in(h, &laptop, 0, "alice", "correct horse");
    json_decref(world_sign_in(h, &laptop, 1, "alice", "correct horse"));
    t2 = world_sign_in(h, &phone, 0, "alice", "correct horse");
    ASSERT_EQ(harness_sid(h, t1, sid1, sizeof(sid1)), 0);
    ASSERT_EQ(harness_sid(h, t2, sid2, sizeof(sid2)), 0);
    token = admin_token();
    ASSERT_STR_EQ(public_state_name(), "none");

    /* Announced a few seconds ahead. */
    j = admin_json("POST", "{\"message\":\"" MESSAGE "\",\"at\":\"+4s\"}",
                   token, 200);
    ASSERT_STR_EQ(world_str(j, "state"), "announced");
    json_decref(j);
    j = public_state();
    ASSERT_STR_EQ(world_str(j, "state"), "announced");
    ASSERT_STR_EQ(world_str(j, "message"), MESSAGE);
    ASSERT(world_str(j, "at") != NULL && strlen(world_str(j, "at")) == 20);
    json_decref(j);

    /* The sign-in page shows the banner; sessions live on, and SSO still
     * hands out a code (exchanged below, once it is too late). */
    visit(&stranger, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "id=\"banner\"");
    ASSERT_CONTAINS(res.body, BANNER);
    ASSERT_CONTAINS(res.body, MESSAGE);
    http_result_free(&res);
    ASSERT_EQ(live_sessions(), 2);
    /* The status counts them per app: alice's laptop is in both apps, her
     * phone in the first. */
    j = admin_json("GET", NULL, token, 200);
    ASSERT_EQ(json_integer_value(json_object_get(j, "sessions")), 2);
    ASSERT_EQ(app_sessions(j, h->apps[0].client_id), 2);
    ASSERT_EQ(app_sessions(j, h->apps[1].client_id), 1);
    ASSERT(json_is_false(json_object_get(j, "everyone_out")));
    json_decref(j);
    code = oidc_get_code(&h->gh, &laptop, h->apps[0].client_id,
                         h->apps[0].redirect_uri, "alice", "correct horse",
                         NULL);
    ASSERT(code != NULL);

    /* At its time every session ends, each app told. */
    at = (int64_t)test_now();
    WAIT_UNTIL(live_sessions() == 0, LIMIT(15), 100);
    ASSERT_EQ(live_sessions(), 0);
    fprintf(stderr, "every session ended %.1f s after the announcement\n",
            test_now() - (double)at);
    ASSERT_EQ(harness_wait_acked(h, sid1, 10), 0);
    ASSERT_EQ(harness_wait_acked(h, sid2, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, sid1), 1);
    ASSERT_EQ(harness_notifications(h, 1, sid1), 1);
    ASSERT_EQ(harness_notifications(h, 0, sid2), 1);
    ASSERT_EQ(metric("gatehouse_sessions_ended_total{reason=\"maintenance\"} "),
              2);
    ASSERT_EQ(metric("gatehouse_maintenance_state{state=\"active\"} "), 1);
    ASSERT_EQ(metric("gatehouse_maintenance_state{state=\"announced\"} "), 0);
    expect_public_state("active");

    /* User grants: 503 temporarily_unavailable with Retry-After. */
    snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s",
             world_str(t1, "refresh_token"));
    token_do(0, body, &res);
    expect_grant_closed(&res);
    http_result_free(&res);
    ru = url_encode(h->apps[0].redirect_uri);
    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&redirect_uri=%s"
             "&code_verifier=x",
             code, ru);
    token_do(0, body, &res);
    expect_grant_closed(&res);
    http_result_free(&res);
    free(ru);
    free(code);
    /* The administrator's client_credentials still works, and so do
     * introspection (the ended session's token is inactive) and health. */
    free(admin_token());
    {
        char url[256], basic[256], hdr[300];
        const char *hdrs[] = {hdr, NULL};
        snprintf(url, sizeof(url), "%s/introspect", h->gh.issuer);
        snprintf(basic, sizeof(basic), "%s:%s", h->apps[0].client_id,
                 h->apps[0].client_secret);
        oidc_basic_header(basic, hdr, sizeof(hdr));
        snprintf(body, sizeof(body), "token=%s",
                 world_str(t1, "access_token"));
        ASSERT_EQ(http_do("POST", url, body, hdrs, &res), 0);
        ASSERT_EQ(res.status, 200);
        ASSERT_CONTAINS(res.body, "\"active\":false");
        http_result_free(&res);
        snprintf(url, sizeof(url), "%s/healthz", h->gh.issuer);
        ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
        ASSERT_EQ(res.status, 200);
        http_result_free(&res);
    }

    /* Sign-in: the maintenance page, 503 with Retry-After. */
    visit(&stranger, &res);
    ASSERT_EQ(res.status, 503);
    ra = http_header_value(&res, "Retry-After");
    ASSERT(ra != NULL && atoi(ra) > 0);
    free(ra);
    ASSERT_CONTAINS(res.body, "Down for maintenance");
    ASSERT_CONTAINS(res.body, MESSAGE);
    ASSERT(strstr(res.body, "id=\"banner\"") == NULL);
    http_result_free(&res);
    snprintf(body, sizeof(body), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(&stranger, "GET", body, NULL, &res), 0);
    ASSERT_EQ(res.status, 503);
    http_result_free(&res);

    /* Everyone is out once the notifications are delivered. */
    WAIT_UNTIL(everyone_out(token), LIMIT(10), 200);
    j = admin_json("GET", NULL, token, 200);
    ASSERT_STR_EQ(world_str(j, "state"), "active");
    ASSERT_EQ(json_integer_value(json_object_get(j, "sessions")), 0);
    ASSERT_EQ(json_integer_value(json_object_get(j, "pending")), 0);
    ASSERT(json_is_true(json_object_get(j, "everyone_out")));
    ASSERT(json_is_array(json_object_get(j, "apps")));
    json_decref(j);

    /* Lifted: sign-in works again, and the browser is told why it was
     * signed out. */
    j = admin_json("DELETE", NULL, token, 200);
    ASSERT(json_is_true(json_object_get(j, "lifted")));
    json_decref(j);
    expect_public_state("none");
    visit(&laptop, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "You were signed out for scheduled maintenance.");
    ASSERT(strstr(res.body, BANNER) == NULL);
    http_result_free(&res);
    json_decref(world_sign_in(h, &stranger, 0, "alice", "correct horse"));
    ASSERT_EQ(live_sessions(), 1);

    free(token);
    json_decref(t1);
    json_decref(t2);
    world_stop(&h);
}

TEST(the_state_survives_a_restart)
{
    struct browser b = {""};
    struct http_result res;
    char *token;
    json_t *j;

    start();
    token = admin_token();
    j = admin_json("POST",
                   "{\"message\":\"" MESSAGE "\",\"at\":\"2099-01-01T00:00:00Z\"}",
                   token, 400);
    json_decref(j);
    j = admin_json("POST", "{\"message\":\"" MESSAGE "\",\"at\":\"+1h\"}",
                   token, 200);
    json_decref(j);
    ASSERT_EQ(gh_signal_wait(&h->gh, SIGTERM, 10), 0);
    ASSERT_EQ(gh_launch(&h->gh), 0);
    j = public_state();
    ASSERT_STR_EQ(world_str(j, "state"), "announced");
    ASSERT_STR_EQ(world_str(j, "message"), MESSAGE);
    json_decref(j);

    /* The operator's words are text on every page, never markup. */
    j = admin_json("POST", "{\"message\":\"<b>bold</b> & \\\"more\\\"\",\"at\":\"+1h\"}",
                   token, 200);
    json_decref(j);
    test_sleep_ms(1100); /* the server's read is at most a second old */
    visit(&b, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;more&quot;");
    ASSERT(strstr(res.body, "<b>bold") == NULL);
    http_result_free(&res);
    free(token);
    world_stop(&h);
}

TEST(bad_input_is_refused_and_changes_nothing)
{
    static const char *const bad[] = {
        "{}",
        "{\"message\":\"\"}",
        "{\"message\":\"two\\nlines\"}",
        "{\"message\":42}",
        "{\"message\":\"x\",\"at\":\"tomorrow\"}",
        "{\"message\":\"x\",\"at\":\"+5x\"}",
        "{\"message\":\"x\",\"at\":\"2026-02-30T10:00:00Z\"}",
        "{\"message\":\"x\",\"at\":true}",
        "{\"message\":\"x\",\"when\":\"+1m\"}",
        "[\"message\"]",
        "not json",
    };
    struct http_result res;
    char *token;
    json_t *j;
    size_t i;

    start();
    token = admin_token();
    j = admin_json("POST", "{\"message\":\"first\",\"at\":\"+1h\"}", token,
                   200);
    json_decref(j);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        admin_do("POST", bad[i], token, &res);
        if (res.status != 400)
            FAIL("%s: status %ld, want 400", bad[i], res.status);
        http_result_free(&res);
    }
    /* Not JSON by its type: 415. Nobody's token: 401. */
    {
        char url[256], auth[JWS_MAX_LEN + 64];
        const char *hdrs[] = {"Content-Type: text/plain", auth, NULL};
        snprintf(url, sizeof(url), "%s/admin/maintenance", h->gh.issuer);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        ASSERT_EQ(http_do("POST", url, "{\"message\":\"x\"}", hdrs, &res), 0);
        ASSERT_EQ(res.status, 415);
        http_result_free(&res);
        hdrs[1] = NULL;
        ASSERT_EQ(http_do("POST", url, "{\"message\":\"x\"}", hdrs, &res), 0);
        ASSERT_EQ(res.status, 401);
        http_result_free(&res);
    }
    j = admin_json("GET", NULL, token, 200);
    ASSERT_STR_EQ(world_str(j, "state"), "announced");
    ASSERT_STR_EQ(world_str(j, "message"), "first");
    json_decref(j);
    free(token);
    world_stop(&h);
}

TEST(cli_start_status_json_and_end)
{
    struct browser laptop = {""};
    char *out = NULL, *err = NULL, sid[64];
    json_t *j, *t;

    start();
    t = world_sign_in(h, &laptop, 0, "alice", "correct horse");
    ASSERT_EQ(harness_sid(h, t, sid, sizeof(sid)), 0);

    /* Bad input: usage, one line, nothing set. */
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "start", "--message", "x", "--at", "soon", NULL),
              2);
    ASSERT_CONTAINS(err, "--at");
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "start", NULL),
              2);
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "pause", NULL),
              2);
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--help", NULL), 0);
    ASSERT_CONTAINS(out, "RFC 3339");
    free(out);
    free(err);
    expect_public_state("none");

    /* Announced an hour ahead: status says so, and that not everyone is
     * out; --wait gives up after its timeout with 1. */
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "start", "--message", MESSAGE, "--at", "+60m", NULL),
              0);
    ASSERT_CONTAINS(out, "announced");
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "status", "--json", NULL),
              0);
    ASSERT((j = json_loads(out, 0, NULL)) != NULL);
    ASSERT_STR_EQ(world_str(j, "state"), "announced");
    ASSERT_STR_EQ(world_str(j, "message"), MESSAGE);
    ASSERT_EQ(json_integer_value(json_object_get(j, "sessions")), 1);
    ASSERT(json_is_false(json_object_get(j, "everyone_out")));
    json_decref(j);
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "status", "--wait", "--timeout", "1", NULL),
              1);
    ASSERT_CONTAINS(err, "not everyone is out");
    free(out);
    free(err);
    expect_public_state("announced");

    /* At once: the CLI ends the sessions itself; status --wait returns
     * once the notifications are delivered. */
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "start", "--message", MESSAGE, NULL),
              0);
    ASSERT_CONTAINS(out, "active");
    free(out);
    free(err);
    ASSERT_EQ(live_sessions(), 0);
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "status", "--wait", "--timeout", "20", NULL),
              0);
    ASSERT_CONTAINS(out, "everyone is out");
    ASSERT_CONTAINS(out, "state: active");
    free(out);
    free(err);
    ASSERT_EQ(harness_notifications(h, 0, sid), 1);

    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "end", "--config",
                     h->gh.config, "--json", NULL),
              0);
    ASSERT((j = json_loads(out, 0, NULL)) != NULL);
    ASSERT(json_is_true(json_object_get(j, "lifted")));
    json_decref(j);
    free(out);
    free(err);
    expect_public_state("none");
    /* Audited, by the OS user, as the API's calls are. */
    out = redis_cli("XRANGE", "gh:audit", "-", "+");
    ASSERT_CONTAINS(out, "maintenance_start");
    ASSERT_CONTAINS(out, "maintenance_end");
    free(out);
    json_decref(t);
    world_stop(&h);
}

TEST(two_instances_run_one_sweep)
{
    struct browser b[3] = {{""}, {""}, {""}};
    struct gh_proc second;
    char *token, *out;
    const char *p;
    json_t *j;
    int i, n = 0;

    start();
    for (i = 0; i < 3; i++)
        json_decref(world_sign_in(h, &b[i], 0, "alice", "correct horse"));
    ASSERT_EQ(harness_gatehouse_again(h, &second), 0);
    token = admin_token();
    j = admin_json("POST", "{\"message\":\"m\",\"at\":\"+2s\"}", token, 200);
    json_decref(j);
    WAIT_UNTIL(live_sessions() == 0, LIMIT(15), 100);
    ASSERT_EQ(live_sessions(), 0);
    /* Both watchers tick every second for a while longer. */
    test_sleep_ms(2500);
    out = redis_cli("XRANGE", "gh:audit", "-", "+");
    for (p = out; (p = strstr(p, "logout_all_finished")) != NULL; p++)
        n++;
    ASSERT_EQ(n, 1);
    free(out);
    gh_stop(&second);
    free(token);
    world_stop(&h);
}

/* Whether the last logout-all (the sweep) has finished. */
static int
sweep_done(void)
{
    char *out = redis_cli("HGET", "gh:lall", "state", NULL);
    int done = strncmp(out, "done", 4) == 0;

    free(out);
    return done;
}

TEST(a_session_that_slipped_in_after_the_sweep_is_ended_too)
{
    struct config *cfg = NULL;
    struct field_error fe;
    struct store *st = NULL;
    char sid[SESSION_SID_LEN + 1], cookie[SESSION_COOKIE_LEN + 1], *token;
    json_t *j;

    start();
    token = admin_token();
    j = admin_json("POST", "{\"message\":\"now\"}", token, 200);
    ASSERT_STR_EQ(world_str(j, "state"), "active");
    json_decref(j);
    WAIT_UNTIL(sweep_done(), LIMIT(5), 100);
    ASSERT(sweep_done());
    /* A sign-in that was past the gate when the sweep ran, as it would
     * be made: straight into Redis. */
    ASSERT_EQ(config_load(h->gh.config, &cfg, &fe), 0);
    ASSERT_EQ(store_open(&cfg->redis, &st), 0);
    ASSERT_EQ(session_create(st, cfg, "00000000-0000-4000-8000-000000000001",
                             "127.0.0.1", "late", sid, cookie),
              0);
    ASSERT_EQ(session_record_app(st, cfg, sid,
                                 client_in_config(cfg, h->apps[0].client_id),
                                 NULL),
              0);
    ASSERT_EQ(live_sessions(), 1);
    WAIT_UNTIL(live_sessions() == 0, LIMIT(10), 100);
    ASSERT_EQ(live_sessions(), 0);
    WAIT_UNTIL(harness_notifications(h, 0, sid) == 1, LIMIT(10), 100);
    ASSERT_EQ(harness_notifications(h, 0, sid), 1);
    WAIT_UNTIL(everyone_out(token), LIMIT(10), 200);
    store_close(st);
    config_free(cfg);
    free(token);
    world_stop(&h);
}

TEST(redis_down_is_503_never_success)
{
    struct http_result res;
    char url[256], *out = NULL, *err = NULL, *token;

    start();
    token = admin_token();
    redis_stop(&h->redis, 1);
    admin_do("POST", "{\"message\":\"x\"}", token, &res);
    ASSERT_EQ(res.status, 503);
    http_result_free(&res);
    admin_do("GET", NULL, token, &res);
    ASSERT_EQ(res.status, 503);
    http_result_free(&res);
    /* Past the cache: Redis is asked, and cannot say. */
    test_sleep_ms(1200);
    snprintf(url, sizeof(url), "%s/maintenance", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 503);
    http_result_free(&res);
    ASSERT_EQ(gh_cmd(&out, &err, "maintenance", "--config", h->gh.config,
                     "status", NULL),
              1);
    ASSERT(strchr(err, '\n') == strrchr(err, '\n'));
    free(out);
    free(err);
    ASSERT_EQ(redis_restart(&h->redis, 1), 0);
    free(token);
    world_stop(&h);
}

TEST_MAIN(TEST_ENTRY(announced_then_at_ends_every_session_and_closes_sign_in),
          TEST_ENTRY(the_state_survives_a_restart),
          TEST_ENTRY(bad_input_is_refused_and_changes_nothing),
          TEST_ENTRY(cli_start_status_json_and_end),
          TEST_ENTRY(two_instances_run_one_sweep),
          TEST_ENTRY(a_session_that_slipped_in_after_the_sweep_is_ended_too),
          TEST_ENTRY(redis_down_is_503_never_success))
