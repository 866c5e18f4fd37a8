/* SPDX-License-Identifier: MIT */
/* CORS for browser apps (SPEC §3 allowed_origins) end to end, against a
 * real gatehouse and redis-server: the preflight of /token, /userinfo and
 * /revoke, which origins may read which answers, discovery and /jwks open
 * to every origin, clients registered at run time, and the config checks.
 * What a browser then does with the headers is tests/browser/spa.test.js. */
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/crypto/jws.h"
#include "harness/world.h"
#include "test.h"

#define SPA "http://127.0.0.1:4100"
#define SPA_CB SPA "/callback"
#define CRM "http://127.0.0.1:4200"
#define CRM_CB CRM "/cb"
#define PORTAL "https://portal.example.com"
#define EVIL "http://127.0.0.1:4666"
/* RFC 7636 Appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* spa: public, origins given; crm: confidential, origins by default (its
 * redirect URI's); console: the admin client that registers others. */
static const char clients_json[] =
    "{\"clients\":["
    "{\"client_id\":\"spa\",\"token_endpoint_auth_method\":\"none\","
    "\"redirect_uris\":[\"" SPA_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
    "\"allowed_origins\":[\"" SPA "\",\"" PORTAL "\"]},"
    "{\"client_id\":\"crm\",\"client_secret\":\"crm-secret\","
    "\"redirect_uris\":[\"" CRM_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"]},"
    "{\"client_id\":\"security-console\",\"client_secret\":\"s\","
    "\"grant_types\":[\"client_credentials\"],"
    "\"scopes\":[\"gatehouse:admin\"]}]}";

static struct harness *h;

/* The world with exactly these clients. */
static void
start(void)
{
    struct harness_opts o = {0};

    h = world_start(&o, clients_json, NULL);
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/*
 * One request to path with an Origin (NULL: none) and up to two more
 * headers; form bodies get their Content-Type. The caller frees res.
 */
static void
cors_do(const char *method, const char *path, const char *origin,
        const char *body, const char *h1, const char *h2,
        struct http_result *res)
{
    char url[512], oh[256];
    const char *hdrs[5] = {NULL};
    int n = 0;

    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    if (origin != NULL) {
        snprintf(oh, sizeof(oh), "Origin: %s", origin);
        hdrs[n++] = oh;
    }
    if (body != NULL)
        hdrs[n++] = "Content-Type: application/x-www-form-urlencoded";
    if (h1 != NULL)
        hdrs[n++] = h1;
    if (h2 != NULL)
        hdrs[n++] = h2;
    if (http_do(method, url, body, hdrs, res) < 0)
        FAIL("%s %s: no answer", method, path);
}

/* The Access-Control-Allow-Origin of res, "" when absent (malloc'd). */
static char *
acao(const struct http_result *res)
{
    char *v = http_header_value(res, "Access-Control-Allow-Origin");

    return v != NULL ? v : strdup("");
}

/* Asserts res lets origin read it (want = origin) or not (want = ""),
 * never with credentials and always varying on Origin. */
static void
assert_shared(const struct http_result *res, const char *want)
{
    char *v = acao(res), *vary, *cred;

    ASSERT_STR_EQ(v, want);
    vary = http_header_value(res, "Vary");
    ASSERT_CONTAINS(vary, "Origin");
    cred = http_header_value(res, "Access-Control-Allow-Credentials");
    ASSERT(cred == NULL);
    free(vary);
    free(v);
}

/* A preflight of path from origin asking for method and headers. */
static void
preflight(const char *path, const char *origin, const char *method,
          struct http_result *res)
{
    char m[96];

    snprintf(m, sizeof(m), "Access-Control-Request-Method: %s", method);
    cors_do("OPTIONS", path, origin, NULL, m,
            "Access-Control-Request-Headers: authorization,content-type",
            res);
}

/* spa's tokens by the code flow with PKCE, as a browser app gets them. */
static json_t *
spa_tokens(void)
{
    struct browser b = {""};
    struct http_result res;
    char *code, *body = NULL, *ru = url_encode(SPA_CB);
    json_t *t;

    code = oidc_get_code(&h->gh, &b, "spa", SPA_CB, "alice", "correct horse",
                         "&code_challenge=" CHALLENGE
                         "&code_challenge_method=S256");
    ASSERT(code != NULL);
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s"
                 "&client_id=spa&code_verifier=" VERIFIER,
                 code, ru) < 0)
        FAIL("asprintf");
    cors_do("POST", "/token", SPA, body, NULL, NULL, &res);
    ASSERT_EQ(res.status, 200);
    /* The app's own origin reads its tokens. */
    assert_shared(&res, SPA);
    t = json_loads(res.body, 0, NULL);
    ASSERT(t != NULL && str(t, "refresh_token") != NULL);
    http_result_free(&res);
    free(body);
    free(ru);
    free(code);
    return t;
}

TEST(discovery_and_jwks_are_readable_from_any_origin)
{
    static const char *const paths[] = {"/.well-known/openid-configuration",
                                        "/jwks"};
    struct http_result res;
    char *v, *cred;
    size_t i;

    start();
    for (i = 0; i < 2; i++) {
        cors_do("GET", paths[i], EVIL, NULL, NULL, NULL, &res);
        ASSERT_EQ(res.status, 200);
        v = acao(&res);
        ASSERT_STR_EQ(v, "*");
        cred = http_header_value(&res, "Access-Control-Allow-Credentials");
        ASSERT(cred == NULL);
        free(v);
        http_result_free(&res);

        /* A preflight (a page sending a header of its own) is answered,
         * not refused with 405. */
        preflight(paths[i], EVIL, "GET", &res);
        ASSERT_EQ(res.status, 204);
        v = acao(&res);
        ASSERT_STR_EQ(v, "*");
        free(v);
        v = http_header_value(&res, "Access-Control-Allow-Methods");
        ASSERT_CONTAINS(v, "GET");
        free(v);
        http_result_free(&res);
    }
    /* Other routes are not opened by this: no CORS header, OPTIONS 405. */
    cors_do("GET", "/healthz", EVIL, NULL, NULL, NULL, &res);
    v = acao(&res);
    ASSERT_STR_EQ(v, "");
    free(v);
    http_result_free(&res);
    preflight("/introspect", SPA, "POST", &res);
    ASSERT_EQ(res.status, 405);
    v = acao(&res);
    ASSERT_STR_EQ(v, "");
    free(v);
    http_result_free(&res);
    world_stop(&h);
}

TEST(preflight_allows_only_origins_some_client_lists)
{
    static const struct {
        const char *path, *method, *methods;
    } routes[] = {
        {"/token", "POST", "POST"},
        {"/userinfo", "GET", "GET, HEAD, POST"},
        {"/revoke", "POST", "POST"},
    };
    struct http_result res;
    char *v;
    size_t i;

    start();
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        /* spa's explicit origins, and crm's default one (its redirect
         * URI's origin). */
        const char *allowed[] = {SPA, PORTAL, CRM};
        size_t j;

        for (j = 0; j < 3; j++) {
            preflight(routes[i].path, allowed[j], routes[i].method, &res);
            ASSERT_EQ(res.status, 204);
            assert_shared(&res, allowed[j]);
            v = http_header_value(&res, "Access-Control-Allow-Methods");
            ASSERT_CONTAINS(v, routes[i].methods);
            ASSERT_CONTAINS(v, "OPTIONS");
            free(v);
            v = http_header_value(&res, "Access-Control-Allow-Headers");
            ASSERT_CONTAINS(v, "Authorization");
            ASSERT_CONTAINS(v, "Content-Type");
            free(v);
            v = http_header_value(&res, "Access-Control-Max-Age");
            ASSERT(v != NULL && atoi(v) > 0);
            free(v);
            http_result_free(&res);
        }
        /* A foreign origin, one that differs only in port, scheme or by a
         * trailing slash, and the opaque "null": answered, never
         * shared. */
        const char *denied[] = {EVIL, "http://127.0.0.1:4101",
                                "https://127.0.0.1:4100", SPA "/", "null"};
        for (j = 0; j < 5; j++) {
            preflight(routes[i].path, denied[j], routes[i].method, &res);
            ASSERT_EQ(res.status, 204);
            assert_shared(&res, "");
            v = http_header_value(&res, "Access-Control-Allow-Methods");
            ASSERT(v == NULL);
            http_result_free(&res);
        }
    }
    world_stop(&h);
}

/* POST /token with body from origin: status want, the answer shared with
 * share ("": with no one). */
static void
token_from(const char *origin, const char *body, long want, const char *share)
{
    struct http_result res;

    cors_do("POST", "/token", origin, body, NULL, NULL, &res);
    ASSERT_EQ(res.status, want);
    assert_shared(&res, share);
    http_result_free(&res);
}

/* spa refreshes from origin with t's refresh token: served, and shared
 * with share ("": with no one). Returns the new tokens; t is released. */
static json_t *
spa_refresh_from(json_t *t, const char *origin, const char *share)
{
    struct http_result res;
    char *body = NULL;
    json_t *next;

    if (asprintf(&body,
                 "grant_type=refresh_token&client_id=spa&refresh_token=%s",
                 str(t, "refresh_token")) < 0)
        FAIL("asprintf");
    cors_do("POST", "/token", origin, body, NULL, NULL, &res);
    ASSERT_EQ(res.status, 200);
    assert_shared(&res, share);
    next = json_loads(res.body, 0, NULL);
    ASSERT(next != NULL);
    http_result_free(&res);
    free(body);
    json_decref(t);
    return next;
}

TEST(token_answers_are_shared_only_with_the_clients_origins)
{
    struct http_result res;
    json_t *t;

    start();
    ASSERT_EQ(oidc_add_user(&h->gh, "alice", "correct horse"), 0);
    t = spa_tokens();

    /* crm's origin is allowed for crm, not for spa: the refresh is served
     * (a non-browser caller sends what it likes) but not shared. */
    t = spa_refresh_from(t, CRM, "");
    /* A foreign origin: the same. */
    t = spa_refresh_from(t, EVIL, "");
    /* spa's second origin reads a refresh. */
    t = spa_refresh_from(t, PORTAL, PORTAL);

    /* A failed client authentication of a named client: its origins read
     * why, others do not. */
    token_from(CRM,
               "grant_type=client_credentials&client_id=crm"
               "&client_secret=wrong",
               401, CRM);
    token_from(SPA,
               "grant_type=client_credentials&client_id=crm"
               "&client_secret=wrong",
               401, "");
    /* No such client: a registered origin may read the error, a foreign
     * one not. */
    token_from(SPA, "grant_type=refresh_token&client_id=nope", 401, SPA);
    token_from(EVIL, "grant_type=refresh_token&client_id=nope", 401, "");
    /* Without an Origin (not a browser) nothing CORS is said. */
    cors_do("POST", "/token", NULL, "grant_type=refresh_token&client_id=spa",
            NULL, NULL, &res);
    ASSERT_EQ(res.status, 400);
    ASSERT(http_header_value(&res, "Access-Control-Allow-Origin") == NULL);
    http_result_free(&res);
    json_decref(t);
    world_stop(&h);
}

TEST(userinfo_and_revoke_follow_the_tokens_client)
{
    struct http_result res;
    char auth[JWS_MAX_LEN + 32], *body = NULL;
    json_t *t;

    start();
    ASSERT_EQ(oidc_add_user(&h->gh, "alice", "correct horse"), 0);
    t = spa_tokens();
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             str(t, "access_token"));

    cors_do("GET", "/userinfo", SPA, NULL, auth, NULL, &res);
    ASSERT_EQ(res.status, 200);
    assert_shared(&res, SPA);
    ASSERT_CONTAINS(res.body, "\"sub\"");
    http_result_free(&res);
    cors_do("GET", "/userinfo", CRM, NULL, auth, NULL, &res);
    ASSERT_EQ(res.status, 200);
    assert_shared(&res, "");
    http_result_free(&res);
    cors_do("GET", "/userinfo", EVIL, NULL, auth, NULL, &res);
    ASSERT_EQ(res.status, 200);
    assert_shared(&res, "");
    http_result_free(&res);

    /* /revoke: served for every caller, shared with spa's origins only. */
    if (asprintf(&body, "client_id=spa&token=%s", str(t, "refresh_token")) <
        0)
        FAIL("asprintf");
    cors_do("POST", "/revoke", EVIL, body, NULL, NULL, &res);
    ASSERT_EQ(res.status, 200);
    assert_shared(&res, "");
    http_result_free(&res);
    cors_do("POST", "/revoke", SPA, body, NULL, NULL, &res);
    ASSERT_EQ(res.status, 200);
    assert_shared(&res, SPA);
    http_result_free(&res);
    free(body);
    /* The revoke from the foreign origin took effect all the same. */
    if (asprintf(&body,
                 "grant_type=refresh_token&client_id=spa&refresh_token=%s",
                 str(t, "refresh_token")) < 0)
        FAIL("asprintf");
    cors_do("POST", "/token", SPA, body, NULL, NULL, &res);
    ASSERT_EQ(res.status, 400);
    ASSERT_CONTAINS(res.body, "invalid_grant");
    assert_shared(&res, SPA);
    http_result_free(&res);
    free(body);
    json_decref(t);
    world_stop(&h);
}

/* A preflight that must ask Redis and cannot gets 503, never a yes; one
 * the config answers needs no Redis. */
TEST(preflight_without_redis_is_503_not_a_yes)
{
    struct http_result res;
    char *v;

    start();
    redis_stop(&h->redis, 0);
    preflight("/token", "https://wiki.example.org", "POST", &res);
    ASSERT_EQ(res.status, 503);
    v = http_header_value(&res, "Retry-After");
    ASSERT(v != NULL);
    free(v);
    assert_shared(&res, "");
    http_result_free(&res);
    preflight("/token", SPA, "POST", &res);
    ASSERT_EQ(res.status, 204);
    assert_shared(&res, SPA);
    http_result_free(&res);
    world_stop(&h);
}

/* POST /register with the console's admin token; want the status. */
static json_t *
register_client(const char *metadata, long want)
{
    struct http_result res;
    char auth[JWS_MAX_LEN + 32], url[128];
    const char *hdrs[3];
    json_t *t, *j;

    t = oidc_token(&h->gh, "grant_type=client_credentials",
                   "security-console:s", 200);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             str(t, "access_token"));
    json_decref(t);
    hdrs[0] = auth;
    hdrs[1] = "Content-Type: application/json";
    hdrs[2] = NULL;
    snprintf(url, sizeof(url), "%s/register", h->gh.issuer);
    ASSERT_EQ(http_do("POST", url, metadata, hdrs, &res), 0);
    if (res.status != want)
        FAIL("register %s: %ld, want %ld: %s", metadata, res.status, want,
             res.body);
    j = json_loads(res.body, 0, NULL);
    ASSERT(j != NULL);
    http_result_free(&res);
    return j;
}

TEST(registered_client_brings_its_origins)
{
    struct http_result res;
    char *body = NULL;
    json_t *reg, *def;
    const char *id;

    start();
    /* Before registration the origin is nobody's. */
    preflight("/token", "https://wiki.example.org", "POST", &res);
    assert_shared(&res, "");
    http_result_free(&res);

    reg = register_client("{\"redirect_uris\":[\"http://127.0.0.1:4300/cb\"],"
                          "\"token_endpoint_auth_method\":\"none\","
                          "\"allowed_origins\":[\"https://wiki.example.org\","
                          "\"http://localhost:4301\"]}",
                          201);
    id = str(reg, "client_id");
    ASSERT_EQ(json_array_size(json_object_get(reg, "allowed_origins")), 2);
    preflight("/token", "https://wiki.example.org", "POST", &res);
    ASSERT_EQ(res.status, 204);
    assert_shared(&res, "https://wiki.example.org");
    http_result_free(&res);
    preflight("/userinfo", "http://localhost:4301", "GET", &res);
    assert_shared(&res, "http://localhost:4301");
    http_result_free(&res);
    /* Its redirect URI's origin is not among the ones it gave. */
    preflight("/token", "http://127.0.0.1:4300", "POST", &res);
    assert_shared(&res, "");
    http_result_free(&res);
    /* On the actual request it is that client's origins that count. */
    if (asprintf(&body, "grant_type=authorization_code&code=x&client_id=%s",
                 id) < 0)
        FAIL("asprintf");
    cors_do("POST", "/token", "https://wiki.example.org", body, NULL, NULL,
            &res);
    ASSERT_EQ(res.status, 400);
    assert_shared(&res, "https://wiki.example.org");
    http_result_free(&res);
    cors_do("POST", "/token", SPA, body, NULL, NULL, &res);
    assert_shared(&res, "");
    http_result_free(&res);
    free(body);

    /* Without allowed_origins: its redirect URIs' origins, shown in the
     * answer. */
    def = register_client(
        "{\"redirect_uris\":[\"https://Desk.Example.net:443/app/cb\"]}", 201);
    ASSERT_STR_EQ(json_string_value(json_array_get(
                      json_object_get(def, "allowed_origins"), 0)),
                  "https://desk.example.net");
    preflight("/revoke", "https://desk.example.net", "POST", &res);
    assert_shared(&res, "https://desk.example.net");
    http_result_free(&res);

    /* A bad origin is refused, naming it, and registers nothing. */
    json_decref(register_client(
        "{\"redirect_uris\":[\"http://127.0.0.1:4400/cb\"],"
        "\"allowed_origins\":[\"https://bad.example.org/path\"]}",
        400));
    preflight("/token", "https://bad.example.org", "POST", &res);
    assert_shared(&res, "");
    http_result_free(&res);
    json_decref(def);
    json_decref(reg);
    world_stop(&h);
}

TEST(registration_error_names_the_origin_field)
{
    json_t *e;

    start();
    e = register_client("{\"redirect_uris\":[\"http://127.0.0.1:4400/cb\"],"
                        "\"allowed_origins\":[\"*\"]}",
                        400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_client_metadata");
    ASSERT_CONTAINS(str(e, "error_description"), "allowed_origins[0]");
    ASSERT_CONTAINS(str(e, "error_description"), "wildcard");
    json_decref(e);
    world_stop(&h);
}

/* check-config on a config whose spa client has these allowed_origins. */
static int
check_origins(const struct redis_proc *redis, const char *origins, char **err)
{
    struct gh_proc gh;
    char extra[512];
    char *argv[] = {getenv("GATEHOUSE_BIN"), "check-config", "--config",
                    NULL, NULL};
    int rc;

    snprintf(extra, sizeof(extra),
             "{\"clients\":[{\"client_id\":\"spa\","
             "\"token_endpoint_auth_method\":\"none\","
             "\"redirect_uris\":[\"" SPA_CB "\"],"
             "\"allowed_origins\":%s}]}",
             origins);
    if (gh_prepare(&gh, redis->url, "ES256", extra) < 0)
        FAIL("gh_prepare");
    argv[3] = gh.config;
    rc = run_cmd(argv, NULL, NULL, err);
    gh_stop(&gh); /* nothing runs: removes the dir */
    return rc;
}

TEST(config_refuses_bad_origins_with_field_and_reason)
{
    static const struct {
        const char *origins, *field, *problem;
    } bad[] = {
        {"[\"" SPA "/\"]", "clients[0].allowed_origins[0]", "trailing slash"},
        {"[\"" SPA "\",\"https://x.example/app\"]",
         "clients[0].allowed_origins[1]", "no path"},
        {"[\"*\"]", "clients[0].allowed_origins[0]", "no wildcard"},
        {"[\"ftp://x.example\"]", "clients[0].allowed_origins[0]",
         "http or https"},
        {"[\"https://x.example:443\"]", "clients[0].allowed_origins[0]",
         "default port"},
        {"\"" SPA "\"", "clients[0].allowed_origins", "array"},
    };
    struct redis_proc redis;
    char *err = NULL;
    size_t i;

    if (redis_start(&redis, 0) < 0)
        FAIL("redis");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(check_origins(&redis, bad[i].origins, &err), 1);
        ASSERT_CONTAINS(err, bad[i].field);
        ASSERT_CONTAINS(err, bad[i].problem);
        ASSERT_EQ(strchr(err, '\n') - err, (long)strlen(err) - 1);
        free(err);
        err = NULL;
    }
    ASSERT_EQ(
        check_origins(&redis, "[\"" SPA "\",\"https://x.example:8443\"]", &err),
        0);
    free(err);
    redis_stop(&redis, 0);
}

TEST_MAIN(TEST_ENTRY(discovery_and_jwks_are_readable_from_any_origin),
          TEST_ENTRY(preflight_allows_only_origins_some_client_lists),
          TEST_ENTRY(token_answers_are_shared_only_with_the_clients_origins),
          TEST_ENTRY(userinfo_and_revoke_follow_the_tokens_client),
          TEST_ENTRY(preflight_without_redis_is_503_not_a_yes),
          TEST_ENTRY(registered_client_brings_its_origins),
          TEST_ENTRY(registration_error_names_the_origin_field),
          TEST_ENTRY(config_refuses_bad_origins_with_field_and_reason))
