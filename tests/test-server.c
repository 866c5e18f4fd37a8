/* SPDX-License-Identifier: MIT */
/* The server as a client and an operator meet it: a real gatehouse process
 * on loopback with its own redis-server. */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/crypto/keys.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/core/util.h"
#include "support.h"
#include "test.h"

static struct redis_proc redis;
static struct gh_proc gh;

static void
start(const char *alg)
{
    if (redis_start(&redis, 0) < 0)
        FAIL("redis did not start");
    if (gh_start(&gh, redis.url, alg, NULL) < 0)
        FAIL("gatehouse did not start");
}

static void
stop(void)
{
    gh_stop(&gh);
    redis_stop(&redis, 0);
}

static json_t *
get_json(const char *path, long want_status)
{
    char url[256];
    struct http_result res;
    json_t *j;

    snprintf(url, sizeof(url), "%s%s", gh.issuer, path);
    if (http_do("GET", url, NULL, NULL, &res) < 0)
        FAIL("GET %s failed", path);
    ASSERT_EQ(res.status, want_status);
    j = json_loads(res.body, 0, NULL);
    if (j == NULL)
        FAIL("GET %s: not JSON: %s", path, res.body);
    http_result_free(&res);
    return j;
}

static const char *
str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

TEST(discovery_names_every_endpoint_and_backchannel_support)
{
    json_t *d;
    char want[128];

    start("ES256");
    d = get_json("/.well-known/openid-configuration", 200);
    ASSERT_STR_EQ(str(d, "issuer"), gh.issuer);
    snprintf(want, sizeof(want), "%s/jwks", gh.issuer);
    ASSERT_STR_EQ(str(d, "jwks_uri"), want);
    snprintf(want, sizeof(want), "%s/logout", gh.issuer);
    ASSERT_STR_EQ(str(d, "end_session_endpoint"), want);
    ASSERT(str(d, "authorization_endpoint") != NULL);
    ASSERT(str(d, "token_endpoint") != NULL);
    ASSERT(str(d, "introspection_endpoint") != NULL);
    ASSERT(str(d, "revocation_endpoint") != NULL);
    ASSERT(str(d, "registration_endpoint") != NULL);
    ASSERT(json_is_true(json_object_get(d, "backchannel_logout_supported")));
    ASSERT(json_is_true(
        json_object_get(d, "backchannel_logout_session_supported")));
    /* OIDC Front-Channel Logout 1.0 §3: both channels, iss and sid. */
    ASSERT(json_is_true(json_object_get(d, "frontchannel_logout_supported")));
    ASSERT(json_is_true(
        json_object_get(d, "frontchannel_logout_session_supported")));
    ASSERT_STR_EQ(json_string_value(json_array_get(
                      json_object_get(d, "id_token_signing_alg_values_supported"),
                      0)),
                  "ES256");
    ASSERT_STR_EQ(json_string_value(json_array_get(
                      json_object_get(d, "code_challenge_methods_supported"),
                      0)),
                  "S256");
    json_decref(d);
    stop();
}

/* A token signed with the active key verifies against /jwks, checked with
 * OpenSSL directly rather than through keys.c. */
static void
jwks_verifies(const char *alg)
{
    struct keyring *kr = NULL;
    char dir[300], why[256], url[256], *jws = NULL, *payload = NULL;
    struct http_result res;
    json_t *claims;

    start(alg);
    snprintf(dir, sizeof(dir), "%s/keys", gh.dir);
    ASSERT_EQ(keyring_load(dir, alg, 300, &kr, why, sizeof(why)), 0);
    claims = json_pack("{s:s, s:s}", "iss", gh.issuer, "sub", "alice");
    ASSERT_EQ(jws_sign(kr, NULL, "JWT", claims, &jws), 0);
    snprintf(url, sizeof(url), "%s/jwks", gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(jwks_verify(res.body, jws, &payload), 0);
    ASSERT_CONTAINS(payload, "\"sub\":\"alice\"");
    /* One flipped signature byte must fail. */
    jws[strlen(jws) - 2] = jws[strlen(jws) - 2] == 'A' ? 'B' : 'A';
    ASSERT(jwks_verify(res.body, jws, NULL) != 0);
    http_result_free(&res);
    free(payload);
    free(jws);
    json_decref(claims);
    keyring_free(kr);
    stop();
}

TEST(jwks_verifies_es256_token_signed_with_active_key)
{
    jwks_verifies("ES256");
}

TEST(jwks_verifies_rs256_token_signed_with_active_key)
{
    jwks_verifies("RS256");
}

/* The alg of each key in a JWKS document, in order, "RS256 ES256 ". */
static void
jwks_algs(const json_t *jwks, char *out, size_t len)
{
    const json_t *keys = json_object_get(jwks, "keys");
    size_t i;

    out[0] = '\0';
    for (i = 0; i < json_array_size(keys); i++)
        snprintf(out + strlen(out), len - strlen(out), "%s ",
                 str((json_t *)json_array_get(keys, i), "alg"));
}

/*
 * OpenID conformance, Config plan: id_token_signing_alg_values_supported
 * lists RS256 when RS256 ID tokens can be had. A keys_dir with a key of
 * each alg lists both in discovery and in /jwks, whatever signing_alg is.
 */
TEST(id_token_signing_alg_values_supported)
{
    json_t *d, *algs, *jwks;
    char seen[64];

    start("ES256,RS256");
    d = get_json("/.well-known/openid-configuration", 200);
    algs = json_object_get(d, "id_token_signing_alg_values_supported");
    ASSERT_EQ(json_array_size(algs), 2);
    ASSERT_STR_EQ(json_string_value(json_array_get(algs, 0)), "RS256");
    ASSERT_STR_EQ(json_string_value(json_array_get(algs, 1)), "ES256");
    jwks = get_json("/jwks", 200);
    jwks_algs(jwks, seen, sizeof(seen));
    /* signing_alg's key first: a client that takes the first key finds
     * the one access tokens are signed with. */
    ASSERT_STR_EQ(seen, "ES256 RS256 ");
    json_decref(jwks);
    json_decref(d);
    stop();

    /* One key, one alg. */
    start("ES256");
    d = get_json("/.well-known/openid-configuration", 200);
    algs = json_object_get(d, "id_token_signing_alg_values_supported");
    ASSERT_EQ(json_array_size(algs), 1);
    ASSERT_STR_EQ(json_string_value(json_array_get(algs, 0)), "ES256");
    json_decref(d);
    stop();
}

TEST(readyz_follows_redis_down_and_back)
{
    json_t *j;
    double deadline;
    int ok = 0;

    start("ES256");
    j = get_json("/readyz", 200);
    json_decref(j);
    redis_stop(&redis, 1);
    j = get_json("/readyz", 503);
    json_decref(j);
    /* Liveness does not depend on Redis. */
    j = get_json("/healthz", 200);
    json_decref(j);
    ASSERT_EQ(redis_restart(&redis, 0), 0);
    deadline = test_now() + 5;
    while (!ok && test_now() < deadline) {
        char url[256];
        struct http_result res;
        snprintf(url, sizeof(url), "%s/readyz", gh.issuer);
        if (http_do("GET", url, NULL, NULL, &res) == 0) {
            ok = res.status == 200;
            http_result_free(&res);
        }
        if (!ok)
            test_sleep_ms(50);
    }
    ASSERT(ok);
    stop();
}

TEST(sigterm_finishes_request_in_flight_and_exits_0)
{
    const char head[] = "POST /healthz HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: 10\r\n\r\n01234";
    char buf[512];
    ssize_t n;
    int fd, status;
    double t0;

    start("ES256");
    fd = tcp_connect(gh.port);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    /* No sign says the server has read the partial request or taken the
     * signal: these two waits give it the time to. */
    test_sleep_ms(200);
    t0 = test_now();
    kill(gh.pid, SIGTERM);
    test_sleep_ms(300);
    /* Draining: a new connection gets no answer, it is closed (or, once
     * the listener is gone, refused). */
    {
        static const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        struct pollfd pfd;
        int late = tcp_connect(gh.port);

        if (late >= 0) {
            (void)write(late, get, sizeof(get) - 1);
            pfd.fd = late;
            pfd.events = POLLIN;
            ASSERT_EQ(poll(&pfd, 1, 2000), 1);
            ASSERT(read(late, buf, sizeof(buf)) <= 0);
            close(late);
        }
    }
    /* The rest of the body arrives after the signal: still answered. */
    ASSERT_EQ(write(fd, "56789", 5), 5);
    n = read(fd, buf, sizeof(buf) - 1);
    ASSERT(n > 0);
    buf[n] = '\0';
    ASSERT_CONTAINS(buf, "HTTP/1.1 405");
    close(fd);
    status = gh_signal_wait(&gh, 0, 10); /* signal 0: only wait */
    ASSERT_EQ(status, 0);
    ASSERT(test_now() - t0 < 10);
    stop();
}

TEST(errors_are_json_with_protocol_status)
{
    char url[256], big[70 * 1024];
    struct http_result res;
    char *allow;

    start("ES256");
    snprintf(url, sizeof(url), "%s/no-such-thing", gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 404);
    ASSERT_CONTAINS(res.body, "\"error\"");
    http_result_free(&res);

    snprintf(url, sizeof(url), "%s/jwks", gh.issuer);
    ASSERT_EQ(http_do("DELETE", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 405);
    allow = http_header_value(&res, "Allow");
    ASSERT_CONTAINS(allow, "GET");
    free(allow);
    http_result_free(&res);

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(url, sizeof(url), "%s/healthz", gh.issuer);
    ASSERT_EQ(http_do("POST", url, big, NULL, &res), 0);
    ASSERT_EQ(res.status, 413);
    http_result_free(&res);

    stop();
}

TEST(oversized_headers_are_refused_and_server_stays_up)
{
    char url[256], *hdr;
    const char *hdrs[2];
    struct http_result res;
    json_t *j;

    start("ES256");
    hdr = malloc(20000);
    memcpy(hdr, "X-Big: ", 7);
    memset(hdr + 7, 'b', 20000 - 8);
    hdr[20000 - 1] = '\0';
    hdrs[0] = hdr;
    hdrs[1] = NULL;
    snprintf(url, sizeof(url), "%s/healthz", gh.issuer);
    /* MHD answers 431 when headers overflow the per-connection pool. */
    if (http_do("GET", url, NULL, hdrs, &res) == 0) {
        ASSERT(res.status == 431 || res.status == 413 || res.status == 414);
        http_result_free(&res);
    }
    free(hdr);
    j = get_json("/healthz", 200);
    json_decref(j);
    stop();
}

TEST(metrics_count_requests_by_endpoint_and_status)
{
    char url[256];
    struct http_result res;
    json_t *j;

    start("ES256");
    j = get_json("/jwks", 200);
    json_decref(j);
    snprintf(url, sizeof(url), "%s/metrics", gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "gatehouse_http_requests_total{endpoint="
                              "\"/jwks\",status=\"200\"} 1");
    ASSERT_CONTAINS(res.body,
                    "gatehouse_http_request_duration_seconds_bucket");
    http_result_free(&res);
    stop();
}

TEST(responses_forbid_caching_except_discovery)
{
    char url[256], *cc;
    struct http_result res;

    start("ES256");
    snprintf(url, sizeof(url), "%s/readyz", gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    cc = http_header_value(&res, "Cache-Control");
    ASSERT_STR_EQ(cc, "no-store");
    free(cc);
    http_result_free(&res);
    stop();
}

static int
check_config(const char *config, char **err)
{
    char *argv[] = {getenv("GATEHOUSE_BIN"), "check-config", "--config",
                    (char *)config, NULL};

    return run_cmd(argv, NULL, NULL, err);
}

TEST(bad_config_is_one_line_error_exit_1)
{
    char *err = NULL;

    if (redis_start(&redis, 0) < 0)
        FAIL("redis");
    ASSERT_EQ(gh_prepare(&gh, redis.url, "ES256",
                         "{\"session\":{\"idle_timout_s\":5}}"),
              0);
    ASSERT_EQ(check_config(gh.config, &err), 1);
    ASSERT_CONTAINS(err, gh.config);
    ASSERT_CONTAINS(err, "session.idle_timout_s");
    ASSERT_EQ(strchr(err, '\n') - err, (long)strlen(err) - 1);
    free(err);
    /* serve refuses the same file. */
    ASSERT_EQ(gh_launch(&gh), -1);
    stop();
}

TEST(missing_key_says_how_to_make_one)
{
    char *err = NULL, keys[300];
    char *rm[] = {"rm", "-rf", keys, NULL};

    if (redis_start(&redis, 0) < 0)
        FAIL("redis");
    ASSERT_EQ(gh_prepare(&gh, redis.url, "ES256", NULL), 0);
    snprintf(keys, sizeof(keys), "%s/keys", gh.dir);
    ASSERT_EQ(run_cmd(rm, NULL, NULL, NULL), 0);
    ASSERT_EQ(check_config(gh.config, &err), 1);
    ASSERT_CONTAINS(err, "keys generate");
    free(err);
    ASSERT_EQ(gh_launch(&gh), -1);
    stop();
}

/* SPEC §3: an ES256-only keys_dir still passes, with a warning that RPs
 * assuming RS256 ID tokens will fail; a key of each passes silently. */
TEST(check_config_warns_without_rs256_key)
{
    char *err = NULL, *out = NULL;
    char *argv[] = {getenv("GATEHOUSE_BIN"), "check-config", "--config", NULL,
                    NULL};

    if (redis_start(&redis, 0) < 0)
        FAIL("redis");
    ASSERT_EQ(gh_prepare(&gh, redis.url, "ES256", NULL), 0);
    argv[3] = gh.config;
    ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 0);
    ASSERT_CONTAINS(out, ": ok");
    ASSERT_CONTAINS(err, "warning");
    ASSERT_CONTAINS(err, "RS256");
    free(out);
    free(err);
    gh_stop(&gh);

    ASSERT_EQ(gh_prepare(&gh, redis.url, "ES256,RS256", NULL), 0);
    argv[3] = gh.config;
    ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 0);
    ASSERT_CONTAINS(out, ": ok");
    ASSERT(err == NULL || strstr(err, "warning") == NULL);
    free(out);
    free(err);
    stop();
}

/* A config client asking for ID tokens of an alg with no active key could
 * never get one: check-config and serve refuse the file, naming it. */
TEST(client_id_token_alg_without_key_is_refused_at_start)
{
    char *err = NULL;

    if (redis_start(&redis, 0) < 0)
        FAIL("redis");
    ASSERT_EQ(gh_prepare(&gh, redis.url, "ES256",
                         "{\"clients\":[{\"client_id\":\"crm\","
                         "\"client_secret\":\"s\",\"redirect_uris\":"
                         "[\"http://127.0.0.1:3001/cb\"],"
                         "\"id_token_signed_response_alg\":\"RS256\"}]}"),
              0);
    ASSERT_EQ(check_config(gh.config, &err), 1);
    ASSERT_CONTAINS(err, "clients[0].id_token_signed_response_alg");
    ASSERT_CONTAINS(err, "--alg RS256");
    ASSERT_EQ(strchr(err, '\n') - err, (long)strlen(err) - 1);
    free(err);
    ASSERT_EQ(gh_launch(&gh), -1);
    stop();
}

/* SPEC §2: without --alg, a key of each; keys list shows both active.
 * With --alg, one key, active for its alg, the other alg's untouched. */
TEST(keys_generate_without_alg_makes_both)
{
    char dir[256], keys[300], *out = NULL;
    char *gen[] = {getenv("GATEHOUSE_BIN"), "keys", "generate", "--dir",
                   keys, NULL, NULL, NULL};
    char *list[] = {getenv("GATEHOUSE_BIN"), "keys", "list", "--dir", keys,
                    NULL};
    char *rm[] = {"rm", "-rf", dir, NULL};
    const char *p;
    int active = 0, retired = 0;

    ASSERT_EQ(test_mkdtemp(dir, sizeof(dir), "test-keysgen"), 0);
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    ASSERT_EQ(run_cmd(gen, NULL, &out, NULL), 0);
    ASSERT_CONTAINS(out, " RS256\n");
    ASSERT_CONTAINS(out, " ES256\n");
    free(out);
    ASSERT_EQ(run_cmd(list, NULL, &out, NULL), 0);
    ASSERT_CONTAINS(out, "RS256");
    ASSERT_CONTAINS(out, "ES256");
    for (p = out; (p = strstr(p, "active")) != NULL; p++)
        active++;
    ASSERT_EQ(active, 2);
    free(out);

    gen[5] = "--alg";
    gen[6] = "ES256";
    ASSERT_EQ(run_cmd(gen, NULL, &out, NULL), 0);
    ASSERT_EQ(strlen(out), 44); /* the kid alone, as before */
    free(out);
    ASSERT_EQ(run_cmd(list, NULL, &out, NULL), 0);
    active = 0;
    for (p = out; (p = strstr(p, "active")) != NULL; p++)
        active++;
    for (p = out; (p = strstr(p, "retired")) != NULL; p++)
        retired++;
    ASSERT_EQ(active, 2);
    ASSERT_EQ(retired, 1);
    free(out);
    ASSERT_EQ(run_cmd(rm, NULL, NULL, NULL), 0);
}

TEST(check_config_connect_reports_redis)
{
    char *err = NULL;

    if (redis_start(&redis, 0) < 0)
        FAIL("redis");
    ASSERT_EQ(gh_prepare(&gh, redis.url, "RS256", NULL), 0);
    {
        char *argv[] = {getenv("GATEHOUSE_BIN"), "check-config", "--config",
                        gh.config, "--connect", NULL};
        ASSERT_EQ(run_cmd(argv, NULL, NULL, &err), 0);
        free(err);
        redis_stop(&redis, 1);
        ASSERT_EQ(run_cmd(argv, NULL, NULL, &err), 1);
        ASSERT_CONTAINS(err, "redis");
        free(err);
    }
    stop();
}

TEST(usage_errors_exit_2_and_help_exits_0)
{
    char *argv1[] = {getenv("GATEHOUSE_BIN"), "serve", "--bogus", NULL};
    char *argv2[] = {getenv("GATEHOUSE_BIN"), "serve", "--help", NULL};
    char *argv3[] = {getenv("GATEHOUSE_BIN"), "frobnicate", NULL};
    char *out = NULL;

    ASSERT_EQ(run_cmd(argv1, NULL, NULL, NULL), 2);
    ASSERT_EQ(run_cmd(argv2, NULL, &out, NULL), 0);
    ASSERT_CONTAINS(out, "--config");
    free(out);
    ASSERT_EQ(run_cmd(argv3, NULL, NULL, NULL), 2);
}

TEST_MAIN(TEST_ENTRY(discovery_names_every_endpoint_and_backchannel_support),
          TEST_ENTRY(id_token_signing_alg_values_supported),
          TEST_ENTRY(jwks_verifies_es256_token_signed_with_active_key),
          TEST_ENTRY(jwks_verifies_rs256_token_signed_with_active_key),
          TEST_ENTRY(readyz_follows_redis_down_and_back),
          TEST_ENTRY(sigterm_finishes_request_in_flight_and_exits_0),
          TEST_ENTRY(errors_are_json_with_protocol_status),
          TEST_ENTRY(oversized_headers_are_refused_and_server_stays_up),
          TEST_ENTRY(metrics_count_requests_by_endpoint_and_status),
          TEST_ENTRY(responses_forbid_caching_except_discovery),
          TEST_ENTRY(bad_config_is_one_line_error_exit_1),
          TEST_ENTRY(missing_key_says_how_to_make_one),
          TEST_ENTRY(check_config_warns_without_rs256_key),
          TEST_ENTRY(client_id_token_alg_without_key_is_refused_at_start),
          TEST_ENTRY(keys_generate_without_alg_makes_both),
          TEST_ENTRY(check_config_connect_reports_redis),
          TEST_ENTRY(usage_errors_exit_2_and_help_exits_0))
