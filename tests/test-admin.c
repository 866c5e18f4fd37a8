/* SPDX-License-Identifier: MIT */
/* The Admin API and its CLI end to end: a real gatehouse, a real
 * redis-server, real apps receiving back-channel notifications, and admin
 * tokens obtained the way a security console would. */
#include <pwd.h>
#include <stdarg.h>
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/core/error.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/core/util.h"
#include "harness/world.h"
#include "test.h"

#define NAPPS 3
static const char *const names[NAPPS] = {"crm", "sales", "service"};

#define CONSOLE "security-console:console-secret"
#define REASON "laptop stolen, ticket SEC-42"

static struct harness *h;

/* Three apps (the world's built-in receivers), the security console
 * (client_credentials, gatehouse:admin), and a reporting client whose
 * client_credentials tokens lack that scope. */
static void
start(const char *extra)
{
    static const char more_clients[] =
        "[{\"client_id\":\"security-console\","
        "\"client_secret\":\"console-secret\","
        "\"grant_types\":[\"client_credentials\"],"
        "\"scopes\":[\"gatehouse:admin\",\"reports:read\"]},"
        "{\"client_id\":\"reports\",\"client_secret\":\"reports-secret\","
        "\"grant_types\":[\"client_credentials\"],"
        "\"scopes\":[\"reports:read\"]}]";
    struct harness_app_spec specs[NAPPS] = {
        {"crm", "crm", "http://127.0.0.1:3101/callback", NULL, "secret"},
        {"sales", "sales", "http://127.0.0.1:3102/callback", NULL, "secret"},
        {"service", "service", "http://127.0.0.1:3103/callback", NULL,
         "secret"}};
    struct harness_opts o = {.apps = NAPPS,
                             .builtin = specs,
                             .clients_json = more_clients,
                             .user = "alice:correct horse"};

    h = world_start(&o,
                    "{\"backchannel\":{\"timeout_ms\":500,"
                    "\"max_attempts\":3,\"logout_wait_ms\":1000}}",
                    extra);
    ASSERT_EQ(harness_add_user(h, "bob", "battery staple"), 0);
}

static json_int_t
num(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* Signs the browser in to app i as user; returns the app's tokens. */
static json_t *
sign_in_app(struct browser *b, int i, const char *user, const char *pw)
{
    return world_sign_in(h, b, i, user, pw);
}

/* An access token by client_credentials (malloc'd). */
static char *
cc_token(const char *id_secret)
{
    json_t *t =
        oidc_token(&h->gh, "grant_type=client_credentials", id_secret, 200);
    char *tok = strdup(world_str(t, "access_token"));

    json_decref(t);
    return tok;
}

/* One admin request; token may be NULL (no Authorization). */
static void
admin_do(const char *method, const char *path, const char *body,
         const char *token, struct http_result *res)
{
    char url[2048], auth[JWS_MAX_LEN + 64];
    const char *hdrs[3] = {NULL, NULL, NULL};
    int n = 0;

    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdrs[n++] = auth;
    }
    if (body != NULL)
        hdrs[n++] = "Content-Type: application/json";
    ASSERT_EQ(http_do(method, url, body, hdrs, res), 0);
}

/* The JSON answer of an admin request that must get status want. */
static json_t *
admin_json(const char *method, const char *path, const char *body,
           const char *token, long want)
{
    struct http_result res;
    char *ctype;
    json_t *j;

    admin_do(method, path, body, token, &res);
    if (res.status != want)
        FAIL("%s %s: status %ld, want %ld: %s", method, path, res.status,
             want, res.body ? res.body : "");
    j = json_loads(res.body, 0, NULL);
    if (j == NULL)
        FAIL("%s %s: not JSON: %s", method, path, res.body);
    ctype = http_header_value(&res, "Content-Type");
    ASSERT_CONTAINS(ctype, "application/json");
    free(ctype);
    http_result_free(&res);
    return j;
}

/* The status of an admin request, its answer discarded. */
static long
admin_status(const char *method, const char *path, const char *body,
             const char *token)
{
    struct http_result res;
    long st;

    admin_do(method, path, body, token, &res);
    st = res.status;
    http_result_free(&res);
    return st;
}

/* A request sent byte for byte (libcurl would squash "/../"); returns the
 * status code. */
static int
raw_status(const char *method, const char *path, const char *token)
{
    char req[4096], resp[4096];
    size_t len = 0;
    ssize_t n;
    int fd, st = -1;

    snprintf(req, sizeof(req),
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Authorization: Bearer %s\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n",
             method, path, token);
    ASSERT((fd = tcp_connect(h->gh.port)) >= 0);
    ASSERT_EQ(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (len < sizeof(resp) - 1 &&
           (n = read(fd, resp + len, sizeof(resp) - 1 - len)) > 0)
        len += (size_t)n;
    resp[len] = '\0';
    close(fd);
    if (sscanf(resp, "HTTP/1.1 %d", &st) != 1)
        FAIL("no status line: %s", resp);
    return st;
}

static char *
metrics_text(void)
{
    struct http_result res;
    char url[128], *text;

    snprintf(url, sizeof(url), "%s/metrics", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    text = strdup(res.body);
    http_result_free(&res);
    return text;
}

/* Runs redis-cli against the test redis; returns its output (malloc'd). */
static char *
redis_cli(const char *a1, const char *a2, const char *a3, const char *a4,
          const char *a5)
{
    char *argv[] = {"redis-cli", "-s",       h->redis.socket,
                    (char *)a1,  (char *)a2, (char *)a3,
                    (char *)a4,  (char *)a5, NULL};
    char *out = NULL;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    return out;
}

static long long
redis_int(const char *a1, const char *a2, const char *a3, const char *a4,
          const char *a5)
{
    char *out = redis_cli(a1, a2, a3, a4, a5);
    long long v = strtoll(out, NULL, 10);

    free(out);
    return v;
}

/* The sid a session's logout token names. */
static char *
logout_token_sid(const char *jws)
{
    json_t *c = oidc_verified_claims(&h->gh, jws);
    char *sid = strdup(world_str(c, "sid"));

    json_decref(c);
    return sid;
}

/* Waits until every delivery of sid is delivered; returns the ledger. */
static json_t *
ledger_when_delivered(const char *sid, const char *token, size_t napps)
{
    char path[128];
    double deadline = test_now() + 10;
    json_t *j = NULL, *d;
    size_t i, done;

    snprintf(path, sizeof(path), "/admin/sessions/%s/deliveries", sid);
    while (test_now() < deadline) {
        json_decref(j);
        j = admin_json("GET", path, NULL, token, 200);
        d = json_object_get(j, "deliveries");
        for (done = 0, i = 0; i < json_array_size(d); i++)
            done += strcmp(world_str(json_array_get(d, i), "state"),
                           "delivered") == 0;
        if (json_array_size(d) == napps && done == napps)
            return j;
        test_sleep_ms(50);
    }
    FAIL("deliveries of %s not all delivered: %s", sid,
         json_dumps(j, JSON_COMPACT));
}

/* The first audit record (newest first) matching action and actor. */
static json_t *
find_audit(json_t *records, const char *action, const char *actor)
{
    size_t i;

    for (i = 0; i < json_array_size(records); i++) {
        json_t *r = json_array_get(records, i);
        if (strcmp(world_str(r, "action"), action) == 0 &&
            (actor == NULL || strcmp(world_str(r, "actor"), actor) == 0))
            return r;
    }
    FAIL("no audit record %s by %s", action, actor ? actor : "anyone");
}

TEST(security_team_signs_a_user_out_of_every_app_on_every_device)
{
    struct browser laptop = {""}, phone = {""}, other = {""};
    json_t *t[2 * NAPPS + 1], *j, *s, *rec, *ledger, *recs;
    char *token, *sids[2], *bob_sid, path[160], *m;
    const char *sub;
    int i, k;

    start(NULL);
    for (i = 0; i < NAPPS; i++) {
        t[i] = sign_in_app(&laptop, i, "alice", "correct horse");
        t[NAPPS + i] = sign_in_app(&phone, i, "alice", "correct horse");
    }
    t[2 * NAPPS] = sign_in_app(&other, 0, "bob", "battery staple");
    token = cc_token(CONSOLE);

    /* The console sees both devices, each with its three apps. */
    j = admin_json("GET", "/admin/users/alice/sessions", NULL, token, 200);
    ASSERT_STR_EQ(world_str(json_object_get(j, "user"), "username"), "alice");
    s = json_object_get(j, "sessions");
    ASSERT_EQ(json_array_size(s), 2);
    for (k = 0; k < 2; k++) {
        json_t *e = json_array_get(s, k);
        ASSERT_EQ(json_array_size(json_object_get(e, "apps")), NAPPS);
        ASSERT_STR_EQ(world_str(e, "username"), "alice");
        ASSERT(num(e, "created") > 0 && num(e, "last_seen") > 0);
        ASSERT(num(e, "expires") > num(e, "last_seen"));
        sids[k] = strdup(world_str(e, "sid"));
    }
    sub = world_str(json_object_get(j, "user"), "sub");
    /* {user} may be the sub as well. */
    snprintf(path, sizeof(path), "/admin/users/%s/sessions", sub);
    json_decref(j);
    j = admin_json("GET", path, NULL, token, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "sessions")), 2);
    json_decref(j);

    /* Forced sign-out: both sessions end, six notifications queued. */
    j = admin_json("POST", "/admin/users/alice/logout",
                   "{\"reason\":\"" REASON "\"}", token, 202);
    ASSERT_EQ(num(j, "sessions"), 2);
    ASSERT_EQ(num(j, "notifications"), 2 * NAPPS);
    json_decref(j);

    /* Every app of every device heard, once per session. */
    for (i = 0; i < NAPPS; i++) {
        char *a, *b;
        ASSERT_EQ(bc_wait(h->apps[i].bc, 2, 5), 0);
        a = logout_token_sid(h->apps[i].bc->tokens[0]);
        b = logout_token_sid(h->apps[i].bc->tokens[1]);
        ASSERT(strcmp(a, b) != 0);
        ASSERT((strcmp(a, sids[0]) == 0 || strcmp(a, sids[1]) == 0) &&
               (strcmp(b, sids[0]) == 0 || strcmp(b, sids[1]) == 0));
        free(a);
        free(b);
    }
    j = admin_json("GET", "/admin/users/alice/sessions", NULL, token, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "sessions")), 0);
    json_decref(j);
    j = admin_json("GET", "/admin/users/bob/sessions", NULL, token, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "sessions")), 1);
    bob_sid = strdup(
        world_str(json_array_get(json_object_get(j, "sessions"), 0), "sid"));
    json_decref(j);

    /* The ledger: each app, when, and what it answered. */
    for (k = 0; k < 2; k++) {
        json_t *d;
        ledger = ledger_when_delivered(sids[k], token, NAPPS);
        ASSERT(json_is_false(json_object_get(ledger, "active")));
        d = json_object_get(ledger, "deliveries");
        for (i = 0; i < NAPPS; i++) {
            json_t *e = json_array_get(d, i), *a;
            /* Sorted by client_id, which here is the order of names. */
            ASSERT_STR_EQ(world_str(e, "client_id"), names[i]);
            ASSERT_STR_EQ(world_str(e, "reason"), "admin");
            ASSERT_STR_EQ(world_str(e, "uri"), h->apps[i].bc->uri);
            ASSERT(num(e, "done") >= num(e, "created"));
            a = json_object_get(e, "attempts");
            ASSERT_EQ(json_array_size(a), 1);
            ASSERT_STR_EQ(world_str(json_array_get(a, 0), "outcome"),
                          "http 200");
            ASSERT(num(json_array_get(a, 0), "time") > 0);
        }
        json_decref(ledger);
    }

    /* One session by id, with the reason in the query (DELETE). */
    snprintf(path, sizeof(path), "/admin/sessions/%s?reason=offboarding",
             bob_sid);
    j = admin_json("DELETE", path, NULL, token, 202);
    ASSERT_EQ(num(j, "sessions"), 1);
    ASSERT_EQ(num(j, "notifications"), 1);
    json_decref(j);
    ASSERT_EQ(bc_wait(h->apps[0].bc, 3, 5), 0);
    j = admin_json("DELETE", path, NULL, token, 404);
    json_decref(j);

    /* The audit trail names who, what, why and from where. */
    j = admin_json("GET", "/admin/audit?limit=100", NULL, token, 200);
    recs = json_object_get(j, "records");
    rec = find_audit(recs, "logout_user", "security-console");
    ASSERT_STR_EQ(world_str(rec, "target"), "alice");
    ASSERT_STR_EQ(world_str(rec, "reason"), REASON);
    ASSERT_STR_EQ(world_str(rec, "outcome"), "ok");
    ASSERT_STR_EQ(world_str(rec, "address"), "127.0.0.1");
    ASSERT_EQ(num(rec, "sessions"), 2);
    ASSERT_EQ(num(rec, "deliveries"), 2 * NAPPS);
    ASSERT(num(rec, "time") > 0);
    rec = find_audit(recs, "end_session", "security-console");
    ASSERT_STR_EQ(world_str(rec, "target"), bob_sid);
    ASSERT_STR_EQ(world_str(rec, "reason"), "offboarding");
    /* Each ending itself is recorded too, by the same actor. */
    rec = find_audit(recs, "session_end", "security-console");
    ASSERT_STR_EQ(world_str(rec, "reason"), "admin");
    find_audit(recs, "list_sessions", "security-console");
    json_decref(j);

    m = metrics_text();
    ASSERT_CONTAINS(m, "gatehouse_sessions_ended_total{reason=\"admin\"} 3");
    ASSERT_CONTAINS(m, "gatehouse_sessions_active 0");
    ASSERT_CONTAINS(m, "gatehouse_admin_calls_total{outcome=\"not_found\"} 1");
    free(m);

    for (i = 0; i < 2 * NAPPS + 1; i++)
        json_decref(t[i]);
    free(sids[0]);
    free(sids[1]);
    free(bob_sid);
    free(token);
    world_stop(&h);
}

/* An at+jwt like Gatehouse's, signed by the keys in dir. */
static char *
forge(const char *dir, const char *client, const char *scope,
      int64_t exp_in)
{
    struct keyring *kr = NULL;
    char why[256], jti[32], *tok = NULL;
    int64_t now = util_now();
    json_t *c;

    if (keyring_load(dir, "ES256", 3600, &kr, why, sizeof(why)) < 0)
        FAIL("keyring_load %s: %s", dir, why);
    ASSERT_EQ(util_random_id(jti, 16), 0);
    c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "iss",
                  h->gh.issuer, "sub", client, "aud", client, "client_id",
                  client, "exp", (json_int_t)(now + exp_in), "iat",
                  (json_int_t)(now + exp_in - 300), "jti", jti, "scope",
                  scope);
    ASSERT_EQ(jws_sign(kr, NULL, "at+jwt", c, &tok), 0);
    json_decref(c);
    keyring_free(kr);
    return tok;
}

TEST(admin_api_refuses_missing_invalid_expired_unscoped_and_foreign_tokens)
{
    struct browser b = {""};
    struct http_result res;
    json_t *t, *j, *recs;
    char *admin, *reports, *expired, *good, *foreign, *keys, *other_keys;
    char *www, *m, *narrow;
    const char *bad[7];
    size_t i, unauthorized = 0, forbidden = 0;

    start(NULL);
    t = sign_in_app(&b, 0, "alice", "correct horse");
    admin = cc_token(CONSOLE);
    reports = cc_token("reports:reports-secret");
    /* The console may hold the scope, but this token of its does not. */
    j = oidc_token(&h->gh, "grant_type=client_credentials&scope=reports:read",
                   CONSOLE, 200);
    narrow = strdup(world_str(j, "access_token"));
    json_decref(j);
    if (asprintf(&keys, "%s/keys", h->gh.dir) < 0 ||
        asprintf(&other_keys, "%s/other-keys", h->gh.dir) < 0)
        FAIL("asprintf");
    {
        char *argv[] = {getenv("GATEHOUSE_BIN"), "keys", "generate", "--dir",
                        other_keys, "--alg", "ES256", NULL};
        ASSERT_EQ(run_cmd(argv, NULL, NULL, NULL), 0);
    }
    /* The same key and claims as a real token, only expired: so the
     * refusal below is for the expiry and nothing else. */
    good = forge(keys, "security-console", "gatehouse:admin", 300);
    expired = forge(keys, "security-console", "gatehouse:admin", -120);
    foreign = forge(other_keys, "security-console", "gatehouse:admin", 300);
    j = admin_json("GET", "/admin/users/alice/sessions", NULL, good, 200);
    json_decref(j);

    /* No token: 401, the challenge names only the scheme. */
    admin_do("POST", "/admin/users/alice/logout", NULL, NULL, &res);
    ASSERT_EQ(res.status, 401);
    www = http_header_value(&res, "WWW-Authenticate");
    ASSERT_STR_EQ(www, "Bearer realm=\"gatehouse\"");
    free(www);
    http_result_free(&res);
    /* A static password is not a token. */
    {
        char url[128], basic[256];
        const char *hdrs[2] = {basic, NULL};
        oidc_basic_header(CONSOLE, basic, sizeof(basic));
        snprintf(url, sizeof(url), "%s/admin/users/alice/logout", h->gh.issuer);
        ASSERT_EQ(http_do("POST", url, NULL, hdrs, &res), 0);
        ASSERT_EQ(res.status, 401);
        http_result_free(&res);
    }
    /* Garbage, expired, and signed by a key not in the JWKS: 401. */
    bad[0] = "not-a-token";
    bad[1] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    bad[2] = expired;
    bad[3] = foreign;
    for (i = 0; i < 4; i++) {
        admin_do("POST", "/admin/users/alice/logout", NULL, bad[i], &res);
        if (res.status != 401)
            FAIL("token %zu: status %ld", i, res.status);
        www = http_header_value(&res, "WWW-Authenticate");
        ASSERT_CONTAINS(www, "error=\"invalid_token\"");
        free(www);
        if (i == 2)
            ASSERT_CONTAINS(res.body, "expired");
        http_result_free(&res);
    }
    /* Valid tokens without the scope, or a user's token: 403. */
    bad[4] = reports;
    bad[5] = world_str(t, "access_token");
    bad[6] = narrow;
    for (i = 4; i < 7; i++) {
        admin_do("POST", "/admin/users/alice/logout", NULL, bad[i], &res);
        if (res.status != 403)
            FAIL("token %zu: status %ld", i, res.status);
        www = http_header_value(&res, "WWW-Authenticate");
        ASSERT_CONTAINS(www, "error=\"insufficient_scope\"");
        ASSERT_CONTAINS(www, "scope=\"gatehouse:admin\"");
        free(www);
        http_result_free(&res);
    }
    ASSERT_EQ(admin_status("POST", "/admin/logout-all", NULL, reports), 403);

    /* Nothing was ended by any of them. */
    j = admin_json("GET", "/admin/users/alice/sessions", NULL, admin, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "sessions")), 1);
    json_decref(j);
    /* A wait that is the test: a notification, if one were sent,
     * would arrive in this time. */
    test_sleep_ms(200);
    ASSERT_EQ(bc_count(h->apps[0].bc), 0);

    /* Every refusal is in the audit log, naming whoever could be known. */
    j = admin_json("GET", "/admin/audit?limit=100", NULL, admin, 200);
    recs = json_object_get(j, "records");
    for (i = 0; i < json_array_size(recs); i++) {
        json_t *r = json_array_get(recs, i);
        if (strcmp(world_str(r, "outcome"), "unauthorized") == 0) {
            unauthorized++;
            ASSERT_STR_EQ(world_str(r, "actor"), "anonymous");
            ASSERT_STR_EQ(world_str(r, "action"), "logout_user");
            ASSERT_STR_EQ(world_str(r, "target"), "alice");
            ASSERT_STR_EQ(world_str(r, "address"), "127.0.0.1");
        } else if (strcmp(world_str(r, "outcome"), "forbidden") == 0) {
            forbidden++;
        }
    }
    ASSERT_EQ(unauthorized, 6);
    ASSERT_EQ(forbidden, 4);
    ASSERT_STR_EQ(
        world_str(find_audit(recs, "logout_all", "reports"), "outcome"),
        "forbidden");
    json_decref(j);
    m = metrics_text();
    ASSERT_CONTAINS(m, "gatehouse_admin_calls_total{outcome="
                       "\"unauthorized\"} 6");
    ASSERT_CONTAINS(m, "gatehouse_admin_calls_total{outcome="
                       "\"forbidden\"} 4");
    free(m);

    json_decref(t);
    free(admin);
    free(reports);
    free(narrow);
    free(good);
    free(expired);
    free(foreign);
    free(keys);
    free(other_keys);
    world_stop(&h);
}

TEST(admin_api_refuses_unknown_users_bad_ids_and_path_tricks_changing_nothing)
{
    static const struct {
        const char *method, *path;
        long status;
    } cases[] = {
        {"POST", "/admin/users/nobody/logout", 404},
        {"GET", "/admin/users/nobody/sessions", 404},
        {"GET", "/admin/users/00000000-0000-4000-8000-000000000000/sessions",
         404},
        {"POST", "/admin/users/%2e%2e/logout", 400},
        {"POST", "/admin/users/al%69ce/logout", 400},
        {"POST", "/admin/users/a%2Fb/logout", 400},
        {"POST", "/admin/users/al+ice/logout", 400},
        {"POST", "/admin/users/al'ice/logout", 400},
        {"POST", "/admin/users//logout", 400},
        {"POST", "/admin/users/alice/logout/now", 404},
        {"GET", "/admin/sessions/AAAAAAAAAAAAAAAAAAAAAAA/deliveries", 400},
        {"GET", "/admin/sessions/AAAAAAAAAAAAAAAAAAAAA/deliveries", 400},
        {"DELETE", "/admin/sessions/AAAAAAAAAAAAAAAAAAAA.A", 400},
        {"DELETE", "/admin/sessions/AAAAAAAAAAAAAAAAAAAAAA", 404},
        {"GET", "/admin/sessions/AAAAAAAAAAAAAAAAAAAAAA/deliveries", 404},
        {"GET", "/admin/", 404},
        {"GET", "/admin/nope", 404},
        {"GET", "/admin/audit/", 404},
        {"DELETE", "/admin/users/alice/sessions", 405},
        {"GET", "/admin/users/alice/logout", 405},
        {"GET", "/admin/deliveries?state=bogus", 400},
        {"GET", "/admin/deliveries?limit=0", 400},
        {"GET", "/admin/deliveries?limit=1001", 400},
        {"GET", "/admin/deliveries?limit=ten", 400},
        {"GET", "/admin/deliveries?state=failed&state=pending", 400},
        {"GET", "/admin/audit?limit=5&debug=1", 400},
        {"POST", "/admin/users/alice/logout?force=1", 400},
    };
    static const char *const traversal[] = {
        "/admin/users/../sessions",          "/admin/users/../logout",
        "/admin/users/alice/../../audit",    "/admin/sessions/./deliveries",
        "/admin/users/alice/./logout",
    };
    char reason[512], body[600], *long_user, *path = NULL, *m, *out;
    struct browser b = {""};
    struct http_result res;
    json_t *t, *j;
    char *admin;
    size_t i;

    start(NULL);
    t = sign_in_app(&b, 0, "alice", "correct horse");
    admin = cc_token(CONSOLE);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        admin_do(cases[i].method, cases[i].path, NULL, admin, &res);
        if (res.status != cases[i].status)
            FAIL("%s %s: %ld, want %ld", cases[i].method, cases[i].path,
                 res.status, cases[i].status);
        /* Every refusal is a JSON error, never a bare status. */
        j = json_loads(res.body, 0, NULL);
        ASSERT(json_is_string(json_object_get(j, "error")));
        json_decref(j);
        if (res.status == 405) {
            char *allow = http_header_value(&res, "Allow");
            ASSERT(allow != NULL && strlen(allow) > 0);
            free(allow);
        }
        http_result_free(&res);
    }
    for (i = 0; i < sizeof(traversal) / sizeof(traversal[0]); i++)
        if (raw_status("POST", traversal[i], admin) != 400)
            FAIL("%s was not refused", traversal[i]);
    /* Over-long ids. */
    long_user = malloc(1001);
    memset(long_user, 'a', 1000);
    long_user[65] = '\0';
    if (asprintf(&path, "/admin/users/%s/logout", long_user) < 0)
        FAIL("asprintf");
    ASSERT_EQ(admin_status("POST", path, NULL, admin), 400);
    free(path);
    long_user[65] = 'a';
    long_user[1000] = '\0';
    if (asprintf(&path, "/admin/users/%s/logout", long_user) < 0)
        FAIL("asprintf");
    ASSERT_EQ(admin_status("POST", path, NULL, admin), 400);
    free(path);
    free(long_user);
    /* Bad reasons and bodies. */
    memset(reason, 'r', 201);
    reason[201] = '\0';
    snprintf(body, sizeof(body), "{\"reason\":\"%s\"}", reason);
    ASSERT_EQ(admin_status("POST", "/admin/users/alice/logout", body, admin),
              400);
    ASSERT_EQ(admin_status("POST", "/admin/users/alice/logout",
                           "{\"reason\":\"two\\nlines\"}", admin),
              400);
    ASSERT_EQ(admin_status("POST", "/admin/users/alice/logout",
                           "{\"reason\":7}", admin),
              400);
    ASSERT_EQ(admin_status("POST", "/admin/users/alice/logout",
                           "{\"reason\":\"x\",\"all\":true}", admin),
              400);
    ASSERT_EQ(admin_status("POST", "/admin/users/alice/logout", "[", admin),
              400);

    /* None of it changed anything. */
    j = admin_json("GET", "/admin/users/alice/sessions", NULL, admin, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "sessions")), 1);
    json_decref(j);
    /* A wait that is the test: a notification, if one were sent,
     * would arrive in this time. */
    test_sleep_ms(200);
    ASSERT_EQ(bc_count(h->apps[0].bc), 0);
    m = metrics_text();
    ASSERT_CONTAINS(m, "gatehouse_sessions_ended_total{reason=\"admin\"} 0");
    free(m);

    /* A logout-all already running (here: by another instance) is not
     * started twice, and gatehouse sessions shows its progress. */
    {
        char now[24], old[24];
        snprintf(now, sizeof(now), "%lld", (long long)util_now());
        snprintf(old, sizeof(old), "%lld", (long long)util_now() - 600);
        /* One command: a half-written run would look dead to the
         * server's watcher, which would resume it. */
        {
            char *argv[] = {"redis-cli", "-s",    h->redis.socket, "HSET",
                            "gh:lall",   "state", "running",       "updated",
                            now,         "actor", "other-console", "total",
                            "5",         "owner", "elsewhere",     NULL};
            ASSERT_EQ(run_cmd(argv, NULL, NULL, NULL), 0);
        }
        j = admin_json("POST", "/admin/logout-all", NULL, admin, 409);
        ASSERT_STR_EQ(world_str(json_object_get(j, "logout_all"), "actor"),
                      "other-console");
        json_decref(j);
        {
            char *err = NULL;
            char *argv[] = {getenv("GATEHOUSE_BIN"), "sessions", "--config",
                            h->gh.config, NULL};
            char *argv2[] = {getenv("GATEHOUSE_BIN"),
                             "logout",
                             "--config",
                             h->gh.config,
                             "--all",
                             NULL};
            ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 0);
            ASSERT_CONTAINS(err, "logout-all running: 0 of 5 sessions");
            free(out);
            free(err);
            ASSERT_EQ(run_cmd(argv2, NULL, &out, &err), 1);
            ASSERT_CONTAINS(err, "already running");
            free(out);
            free(err);
        }
        /* One that stopped reporting long ago died with its process:
         * this server resumes it without being asked, and the session
         * still alive is the one left to end. */
        out = redis_cli("HSET", "gh:lall", "updated", old, NULL);
        free(out);
        ASSERT_EQ(bc_wait(h->apps[0].bc, 1, 10), 0);
        j = admin_json("GET", "/admin/logout-all", NULL, admin, 200);
        ASSERT_STR_EQ(world_str(j, "state"), "done");
        ASSERT_EQ(num(j, "resumes"), 1);
        ASSERT_EQ(num(j, "ended"), 1);
        json_decref(j);
    }
    json_decref(t);
    free(admin);
    world_stop(&h);
}

#define MANY 10000

TEST(logout_all_ends_10000_sessions_and_queues_every_notification)
{
    struct config *cfg = NULL;
    struct field_error fe;
    struct store *st = NULL;
    const struct client *crm;
    char sid[SESSION_SID_LEN + 1], cookie[SESSION_COOKIE_LEN + 1];
    char sub[37], *admin, *m, *out;
    long long live = -1, audit_before;
    double t0, deadline;
    json_t *j = NULL, *recs, *rec;
    int i;

    start(NULL);
    /* Sessions are made in-process, straight into the same Redis, as
     * sign-ins would: 10,000 browser sign-ins would take minutes. */
    ASSERT_EQ(config_load(h->gh.config, &cfg, &fe), 0);
    ASSERT_EQ(store_open(&cfg->redis, &st), 0);
    crm = client_in_config(cfg, "crm");
    ASSERT(crm != NULL);
    for (i = 0; i < MANY; i++) {
        snprintf(sub, sizeof(sub), "00000000-0000-4000-8000-%012d", i % 97);
        ASSERT_EQ(session_create(st, cfg, sub, "127.0.0.1", "load", sid,
                                 cookie),
                  0);
        ASSERT_EQ(session_record_app(st, cfg, sid, crm, NULL), 0);
    }
    ASSERT_EQ(store_session_count(st, &live), 0);
    ASSERT_EQ(live, MANY);

    admin = cc_token(CONSOLE);
    /* What happened before the incident stays in the capped audit log. */
    free(redis_cli("XADD", "gh:audit", "*", "action", "before_incident"));
    audit_before = redis_int("XLEN", "gh:audit", NULL, NULL, NULL);
    t0 = test_now();
    j = admin_json("POST", "/admin/logout-all",
                   "{\"reason\":\"incident 7\"}", admin, 202);
    ASSERT_EQ(num(j, "sessions"), MANY);
    json_decref(j);
    /* The worker was not held: the answer came at once. */
    ASSERT(test_now() - t0 < 2);
    deadline = test_now() + 60;
    for (j = NULL; test_now() < deadline; test_sleep_ms(100)) {
        json_decref(j);
        j = admin_json("GET", "/admin/logout-all", NULL, admin, 200);
        if (strcmp(world_str(j, "state"), "running") != 0)
            break;
    }
    ASSERT_STR_EQ(world_str(j, "state"), "done");
    ASSERT_EQ(num(j, "sessions"), MANY);
    ASSERT_EQ(num(j, "ended"), MANY);
    ASSERT_EQ(num(j, "notifications"), MANY);
    ASSERT_STR_EQ(world_str(j, "actor"), "security-console");
    ASSERT_STR_EQ(world_str(j, "reason"), "incident 7");
    json_decref(j);

    /* Every session is gone, and every notification is queued (or
     * already delivered: each keeps its record). */
    ASSERT_EQ(store_session_count(st, &live), 0);
    ASSERT_EQ(live, 0);
    ASSERT_EQ(redis_int("EVAL", "return #redis.call('KEYS', ARGV[1])", "0",
                        "gh:dl:*", NULL),
              MANY);
    out = redis_cli("EVAL", "return #redis.call('KEYS', ARGV[1])", "0",
                    "gh:sess:*", NULL);
    ASSERT_EQ(strtol(out, NULL, 10), 0);
    free(out);

    m = metrics_text();
    ASSERT_CONTAINS(m, "gatehouse_sessions_ended_total{reason=\"admin\"} "
                       "10000");
    ASSERT_CONTAINS(m, "gatehouse_logout_all_running 0");
    ASSERT_CONTAINS(m, "gatehouse_logout_all_sessions{state=\"ended\"} "
                       "10000");
    ASSERT_CONTAINS(m, "gatehouse_logout_all_notifications_queued 10000");
    free(m);

    j = admin_json("GET", "/admin/audit?limit=1000", NULL, admin, 200);
    recs = json_object_get(j, "records");
    rec = find_audit(recs, "logout_all_finished", "security-console");
    ASSERT_STR_EQ(world_str(rec, "outcome"), "done");
    ASSERT_EQ(num(rec, "sessions"), MANY);
    ASSERT_EQ(num(rec, "deliveries"), MANY);
    ASSERT_STR_EQ(world_str(rec, "reason"), "incident 7");
    /* The run is audited once, not per session: 10,000 records would
     * have pushed older ones out of the stream. (Each status poll above
     * is audited too: at most 600 in its 60 s.) */
    for (i = 0; i < (int)json_array_size(recs); i++)
        ASSERT(strcmp(world_str(json_array_get(recs, i), "action"),
                      "session_end") != 0);
    ASSERT(redis_int("XLEN", "gh:audit", NULL, NULL, NULL) <
           audit_before + 1000);
    out = redis_cli("XRANGE", "gh:audit", "-", "+", NULL);
    ASSERT_CONTAINS(out, "before_incident");
    free(out);
    json_decref(j);
    /* The app gets them; some have surely arrived by now. */
    ASSERT_EQ(bc_wait(h->apps[0].bc, 1, 10), 0);

    free(admin);
    store_close(st);
    config_free(cfg);
    world_stop(&h);
}

/* Runs gatehouse with the arguments (NULL-terminated); returns the exit
 * status and captures output. */
static int
gh_cmd(char **out, char **err, ...)
{
    char *argv[16];
    va_list ap;
    int n = 0, rc;

    argv[n++] = getenv("GATEHOUSE_BIN");
    va_start(ap, err);
    while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    rc = run_cmd(argv, NULL, out, err);
    return rc;
}

TEST(cli_lists_ends_sessions_retries_deliveries_and_shows_the_audit)
{
    struct browser laptop = {""}, phone = {""}, desk = {""};
    json_t *t[4], *j, *e, *a, *rec;
    char *out = NULL, *err = NULL, *admin, *sid, actor[128], path[128];
    struct passwd *pw = getpwuid(geteuid());
    double deadline;
    int port, i;

    snprintf(actor, sizeof(actor), "cli:%s", pw != NULL ? pw->pw_name : "?");
    start("{\"backchannel\":{\"max_attempts\":1}}");
    t[0] = sign_in_app(&laptop, 0, "alice", "correct horse");
    t[1] = sign_in_app(&laptop, 1, "alice", "correct horse");
    admin = cc_token(CONSOLE);

    ASSERT_EQ(gh_cmd(&out, &err, "sessions", "--config", h->gh.config, NULL),
              0);
    ASSERT_CONTAINS(out, "SID");
    ASSERT_CONTAINS(out, "alice");
    ASSERT_CONTAINS(out, "crm");
    ASSERT_CONTAINS(out, "sales");
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "sessions", "--config", h->gh.config, "--user",
                     "alice", "--json", NULL),
              0);
    j = json_loads(out, 0, NULL);
    ASSERT_EQ(json_array_size(j), 1);
    e = json_array_get(j, 0);
    ASSERT_STR_EQ(world_str(e, "username"), "alice");
    ASSERT_EQ(json_array_size(json_object_get(e, "apps")), 2);
    sid = strdup(world_str(e, "sid"));
    json_decref(j);
    free(out);
    free(err);

    /* Usage and bad input. */
    ASSERT_EQ(gh_cmd(&out, &err, "sessions", "--config", h->gh.config, "--user",
                     "nobody", NULL),
              1);
    ASSERT_CONTAINS(err, "no user \"nobody\"");
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "logout", "--config", h->gh.config, NULL), 2);
    ASSERT_CONTAINS(err, "exactly one of");
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "logout", "--config", h->gh.config, "--user",
                     "alice", "--all", NULL),
              2);
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "logout", "--config", h->gh.config,
                     "--session", "../../etc", NULL),
              1);
    ASSERT_CONTAINS(err, "not a session id");
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "deliveries", "--config", h->gh.config,
                     "--retry", "--state", "pending", NULL),
              2);
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "audit", "--help", NULL), 0);
    ASSERT_CONTAINS(out, "usage: gatehouse audit");
    free(out);
    free(err);

    /* Sales is down: its notification fails (one attempt allowed). */
    port = h->apps[1].bc->port;
    bc_stop(h->apps[1].bc);
    ASSERT_EQ(gh_cmd(&out, &err, "logout", "--config", h->gh.config,
                     "--session", sid, "--reason", "lost laptop", "--json",
                     NULL),
              0);
    j = json_loads(out, 0, NULL);
    ASSERT_EQ(num(j, "sessions"), 1);
    ASSERT_EQ(num(j, "notifications"), 2);
    json_decref(j);
    free(out);
    free(err);
    ASSERT_EQ(bc_wait(h->apps[0].bc, 1, 5), 0);
    deadline = test_now() + 10;
    for (j = NULL; test_now() < deadline; test_sleep_ms(100)) {
        json_decref(j);
        ASSERT_EQ(gh_cmd(&out, &err, "deliveries", "--config", h->gh.config,
                         "--state", "failed", "--json", NULL),
                  0);
        j = json_loads(out, 0, NULL);
        free(out);
        free(err);
        if (json_array_size(j) == 1)
            break;
    }
    ASSERT_EQ(json_array_size(j), 1);
    e = json_array_get(j, 0);
    ASSERT_STR_EQ(world_str(e, "client_id"), "sales");
    ASSERT_STR_EQ(world_str(e, "state"), "failed");
    ASSERT_STR_EQ(world_str(e, "sid"), sid);
    a = json_object_get(e, "attempts");
    ASSERT_EQ(json_array_size(a), 1);
    ASSERT(strncmp(world_str(json_array_get(a, 0), "outcome"), "error", 5) ==
           0);
    json_decref(j);
    ASSERT_EQ(gh_cmd(&out, &err, "deliveries", "--config", h->gh.config, NULL),
              0);
    ASSERT_CONTAINS(out, "failed");
    ASSERT_CONTAINS(out, "sales");
    free(out);
    free(err);

    /* Sales is back: --retry requeues, and the ledger keeps both tries. */
    ASSERT_EQ(bc_start_on(h->apps[1].bc, port, 0, 0), 0);
    ASSERT_EQ(gh_cmd(&out, &err, "deliveries", "--config", h->gh.config,
                     "--retry", NULL),
              0);
    ASSERT_CONTAINS(out, "requeued 1 failed delivery");
    free(out);
    free(err);
    ASSERT_EQ(bc_wait(h->apps[1].bc, 1, 5), 0);
    j = ledger_when_delivered(sid, admin, 2);
    e = json_array_get(json_object_get(j, "deliveries"), 1);
    ASSERT_STR_EQ(world_str(e, "client_id"), "sales");
    a = json_object_get(e, "attempts");
    ASSERT_EQ(json_array_size(a), 2);
    ASSERT(strncmp(world_str(json_array_get(a, 0), "outcome"), "error", 5) ==
           0);
    ASSERT_STR_EQ(world_str(json_array_get(a, 1), "outcome"), "http 200");
    json_decref(j);
    ASSERT_EQ(gh_cmd(&out, &err, "deliveries", "--config", h->gh.config,
                     "--state", "failed", "--json", NULL),
              0);
    ASSERT_CONTAINS(out, "[]");
    free(out);
    free(err);

    /* The audit trail has the CLI's actions, with the OS user. */
    ASSERT_EQ(gh_cmd(&out, &err, "audit", "--config", h->gh.config, "--json",
                     "--limit", "100", NULL),
              0);
    j = json_loads(out, 0, NULL);
    ASSERT(j != NULL);
    rec = find_audit(j, "end_session", actor);
    ASSERT_STR_EQ(world_str(rec, "target"), sid);
    ASSERT_STR_EQ(world_str(rec, "reason"), "lost laptop");
    ASSERT_STR_EQ(world_str(rec, "address"), "local");
    ASSERT_STR_EQ(world_str(rec, "outcome"), "ok");
    rec = find_audit(j, "retry_deliveries", actor);
    ASSERT_EQ(num(rec, "deliveries"), 1);
    json_decref(j);
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "audit", "--config", h->gh.config, NULL), 0);
    ASSERT_CONTAINS(out, "TIME");
    ASSERT_CONTAINS(out, "end_session");
    ASSERT_CONTAINS(out, actor);
    free(out);
    free(err);

    /* By user, then everyone, with a progress line. */
    t[2] = sign_in_app(&phone, 0, "alice", "correct horse");
    ASSERT_EQ(gh_cmd(&out, &err, "logout", "--config", h->gh.config, "--user",
                     "alice", NULL),
              0);
    ASSERT_CONTAINS(out, "ended 1 session of alice");
    free(out);
    free(err);
    t[3] = sign_in_app(&desk, 0, "bob", "battery staple");
    for (i = 0; i < 2; i++) {
        struct browser x = {""};
        json_decref(sign_in_app(&x, 2, "alice", "correct horse"));
    }
    ASSERT_EQ(gh_cmd(&out, &err, "logout", "--config", h->gh.config, "--all",
                     "--reason", "drill", NULL),
              0);
    ASSERT_CONTAINS(err, "3 of 3 sessions ended");
    ASSERT_CONTAINS(out, "ended 3 sessions; 3 notifications queued");
    free(out);
    free(err);
    ASSERT_EQ(gh_cmd(&out, &err, "sessions", "--config", h->gh.config, "--json",
                     NULL),
              0);
    ASSERT_CONTAINS(out, "[]");
    free(out);
    free(err);
    snprintf(path, sizeof(path), "/admin/logout-all");
    j = admin_json("GET", path, NULL, admin, 200);
    ASSERT_STR_EQ(world_str(j, "state"), "done");
    ASSERT_STR_EQ(world_str(j, "actor"), actor);
    json_decref(j);

    for (i = 0; i < 4; i++)
        json_decref(t[i]);
    free(sid);
    free(admin);
    world_stop(&h);
}

/* The delivery of client in a session ledger (borrowed), or NULL. */
static json_t *
ledger_entry(json_t *ledger, const char *client)
{
    json_t *d = json_object_get(ledger, "deliveries");
    size_t i;

    for (i = 0; i < json_array_size(d); i++)
        if (strcmp(world_str(json_array_get(d, i), "client_id"), client) == 0)
            return json_array_get(d, i);
    return NULL;
}

/* Issue 14 item 7: a pending delivery shows when it is tried next, one
 * that fails for good is in the audit trail (SPEC §6), and each delivered
 * notification is one info-level log line. */
TEST(ledger_shows_next_attempt_failure_is_audited_and_delivery_logged)
{
    struct browser b = {""};
    json_t *t0, *t1, *id, *j = NULL, *e, *tries, *rec;
    char *admin, path[160], target[128], logpath[320], *log = NULL;
    const char *sid, *line;
    double deadline;
    json_int_t at, next;
    FILE *f;
    long len;

    start("{\"backchannel\":{\"max_attempts\":2}}");
    t0 = sign_in_app(&b, 0, "alice", "correct horse");
    t1 = sign_in_app(&b, 1, "alice", "correct horse");
    id = oidc_verified_claims(&h->gh, world_str(t0, "id_token"));
    sid = world_str(id, "sid");
    admin = cc_token(CONSOLE);
    bc_stop(h->apps[1].bc); /* Sales refuses every connection */
    snprintf(path, sizeof(path), "/admin/sessions/%s", sid);
    json_decref(admin_json("DELETE", path, NULL, admin, 202));

    /* After the first failed attempt: pending, with its next attempt 1 s
     * ±20% after it (whole seconds in the ledger). */
    snprintf(path, sizeof(path), "/admin/sessions/%s/deliveries", sid);
    deadline = test_now() + 5;
    for (e = NULL; test_now() < deadline; test_sleep_ms(20)) {
        json_decref(j);
        j = admin_json("GET", path, NULL, admin, 200);
        e = ledger_entry(j, "sales");
        if (e != NULL &&
            json_array_size(json_object_get(e, "attempts")) == 1)
            break;
    }
    ASSERT(e != NULL);
    tries = json_object_get(e, "attempts");
    ASSERT_EQ(json_array_size(tries), 1);
    ASSERT_STR_EQ(world_str(e, "state"), "pending");
    ASSERT(json_is_integer(json_object_get(e, "next_attempt")));
    at = num(json_array_get(tries, 0), "time");
    next = num(e, "next_attempt");
    ASSERT(next >= at && next <= at + 2);
    /* The delivered one has none. */
    ASSERT_EQ(bc_wait(h->apps[0].bc, 1, 5), 0);
    json_decref(j);
    j = admin_json("GET", path, NULL, admin, 200);
    e = ledger_entry(j, "crm");
    ASSERT(e != NULL);
    ASSERT_STR_EQ(world_str(e, "state"), "delivered");
    ASSERT(json_is_null(json_object_get(e, "next_attempt")));

    /* The second attempt fails too: failed, and audited. */
    deadline = test_now() + 5;
    for (e = NULL; test_now() < deadline; test_sleep_ms(50)) {
        json_decref(j);
        j = admin_json("GET", path, NULL, admin, 200);
        e = ledger_entry(j, "sales");
        if (e != NULL && strcmp(world_str(e, "state"), "failed") == 0)
            break;
    }
    ASSERT(e != NULL);
    ASSERT_STR_EQ(world_str(e, "state"), "failed");
    ASSERT(json_is_null(json_object_get(e, "next_attempt")));
    json_decref(j);
    j = admin_json("GET", "/admin/audit?limit=100", NULL, admin, 200);
    rec = find_audit(json_object_get(j, "records"), "delivery_failed",
                     "gatehouse");
    snprintf(target, sizeof(target), "%s:sales", sid);
    ASSERT_STR_EQ(world_str(rec, "target"), target);
    ASSERT_STR_EQ(world_str(rec, "sub"), world_str(id, "sub"));
    ASSERT_STR_EQ(world_str(rec, "outcome"), "failed");
    ASSERT_CONTAINS(world_str(rec, "reason"), "2 attempts, last: error");
    json_decref(j);

    /* The delivered notification is one line at info level, naming the
     * token's jti as CRM received it. */
    snprintf(logpath, sizeof(logpath), "%s/gatehouse.log", h->gh.dir);
    ASSERT((f = fopen(logpath, "r")) != NULL);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    log = calloc(1, (size_t)len + 1);
    ASSERT(fread(log, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    line = strstr(log, "level=info event=delivery client=crm ");
    ASSERT(line != NULL);
    {
        json_t *c = oidc_verified_claims(&h->gh, h->apps[0].bc->tokens[0]);
        char want[96];
        snprintf(want, sizeof(want), "jti=%s attempt=1 outcome=\"http 200\"",
                 world_str(c, "jti"));
        ASSERT(strncmp(strchr(line, 'j'), want, strlen(want)) == 0);
        json_decref(c);
    }
    free(log);
    free(admin);
    json_decref(id);
    json_decref(t0);
    json_decref(t1);
    world_stop(&h);
}

/* The user view shows the claims the record holds, email_verified
 * included (never the password hash). */
TEST(admin_user_view_shows_email_verified_and_profile)
{
    char *token, *out = NULL, *err = NULL;
    char *argv[] = {getenv("GATEHOUSE_BIN"), "user", "add", "--config",
                    NULL, "--username", "carol", "--email",
                    "carol@example.com", "--email-verified", "--given-name",
                    "Carol", "--locale", "fr-CA", "--zoneinfo",
                    "America/Montreal", "--password-stdin", NULL};
    json_t *j, *u;

    start(NULL);
    argv[4] = h->gh.config;
    if (run_cmd(argv, "pw\n", &out, &err) != 0)
        FAIL("user add: %s", err ? err : "");
    free(out);
    free(err);
    token = cc_token(CONSOLE);
    j = admin_json("GET", "/admin/users/carol/sessions", NULL, token, 200);
    u = json_object_get(j, "user");
    ASSERT_STR_EQ(world_str(u, "username"), "carol");
    ASSERT_STR_EQ(world_str(u, "email"), "carol@example.com");
    ASSERT(json_is_true(json_object_get(u, "email_verified")));
    ASSERT_STR_EQ(world_str(u, "given_name"), "Carol");
    ASSERT_STR_EQ(world_str(u, "family_name"), "");
    ASSERT_STR_EQ(world_str(u, "locale"), "fr-CA");
    ASSERT_STR_EQ(world_str(u, "zoneinfo"), "America/Montreal");
    ASSERT(json_is_false(json_object_get(u, "disabled")));
    ASSERT(json_integer_value(json_object_get(u, "updated")) > 0);
    ASSERT(json_object_get(u, "hash") == NULL);
    json_decref(j);

    j = admin_json("GET", "/admin/users/alice/sessions", NULL, token, 200);
    ASSERT(json_is_false(json_object_get(json_object_get(j, "user"),
                                         "email_verified")));
    json_decref(j);
    free(token);
    world_stop(&h);
}

TEST_MAIN(
    TEST_ENTRY(security_team_signs_a_user_out_of_every_app_on_every_device),
    TEST_ENTRY(admin_user_view_shows_email_verified_and_profile),
    TEST_ENTRY(
        admin_api_refuses_missing_invalid_expired_unscoped_and_foreign_tokens),
    TEST_ENTRY(
        admin_api_refuses_unknown_users_bad_ids_and_path_tricks_changing_nothing),
    TEST_ENTRY(logout_all_ends_10000_sessions_and_queues_every_notification),
    TEST_ENTRY(cli_lists_ends_sessions_retries_deliveries_and_shows_the_audit),
    TEST_ENTRY(ledger_shows_next_attempt_failure_is_audited_and_delivery_logged))
