/* SPDX-License-Identifier: MIT */
/* /token, /userinfo, /introspect and /revoke as clients meet them: a real
 * gatehouse and a real redis-server. Codes are made in-process with
 * code_issue over the same Redis, for a session made with
 * session_create, so each binding (client, redirect_uri, PKCE, session)
 * can be tested on its own; tokens are checked against /jwks with OpenSSL
 * directly. */
#include <openssl/evp.h>

#include <jansson.h>

#include "gatehouse/core/app.h"
#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/auth/bearer.h"
#include "gatehouse/grant/code.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/core/util.h"
#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3001/callback"
#define CRM_CB_ENC "http%3A%2F%2F127.0.0.1%3A3001%2Fcallback"
#define SPA_CB "http://127.0.0.1:3003/cb"
#define SPA_CB_ENC "http%3A%2F%2F127.0.0.1%3A3003%2Fcb"
/* RFC 7636 Appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define SCOPE "openid profile email"

/* Reuse of a spent refresh token is theft at once here: the grace has
 * its own tests (test-refresh-grace.c). */
static const char clients_json[] =
    "{\"tokens\":{\"refresh_reuse_grace_s\":0},"
    "\"clients\":["
    "{\"client_id\":\"svc\",\"client_secret\":\"svc-secret\","
    "\"grant_types\":[\"client_credentials\"],\"scopes\":[\"read\",\"write\"]},"
    "{\"client_id\":\"svc-post\",\"client_secret\":\"post-secret\","
    "\"grant_types\":[\"client_credentials\"],\"scopes\":[\"read\"],"
    "\"token_endpoint_auth_method\":\"client_secret_post\"},"
    "{\"client_id\":\"console\",\"client_secret\":\"console-secret\","
    "\"grant_types\":[\"client_credentials\"],"
    "\"scopes\":[\"gatehouse:admin\"]},"
    "{\"client_id\":\"crm\",\"client_secret\":\"crm-secret\","
    "\"redirect_uris\":[\"" CRM_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"]},"
    "{\"client_id\":\"sales\",\"client_secret\":\"sales-secret\","
    "\"redirect_uris\":[\"" CRM_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"]},"
    "{\"client_id\":\"spa\",\"redirect_uris\":[\"" SPA_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
    "\"token_endpoint_auth_method\":\"none\"}]}";

static struct harness *h;

/* The same Redis and keys as the server, in-process, to make users,
 * sessions and codes. */
static struct config *cfg;
static struct keyring *kr;
static struct app app;
static char sub[37];
static char sid[SESSION_SID_LEN + 1];
static char session_cookie[SESSION_COOKIE_LEN + 1];

static void
start_as(const char *alg, const char *clients)
{
    h = world_start(&(struct harness_opts){.alg = alg}, clients, NULL);
}

static void
start(const char *alg)
{
    start_as(alg, clients_json);
}

static void
stop(void)
{
    if (app.store != NULL)
        store_close(app.store);
    keyring_free(kr);
    config_free(cfg);
    memset(&app, 0, sizeof(app));
    kr = NULL;
    cfg = NULL;
    world_stop(&h);
}

/* Opens the app on gh's config (keys of alg, the clients given) and makes
 * alice and a session of hers. */
static void
start_with_session_as(const char *alg, const char *clients)
{
    char why[256];
    struct field_error fe;
    struct store *st;
    const char *bad = NULL;
    json_t *j;
    char *text;

    start_as(alg, clients);
    if ((j = json_load_file(h->gh.config, 0, NULL)) == NULL ||
        (text = json_dumps(j, 0)) == NULL)
        FAIL("cannot read %s", h->gh.config);
    json_decref(j);
    if (config_parse(text, h->gh.dir, &cfg, &fe) < 0)
        FAIL("config: %s: %s", fe.field, fe.problem);
    free(text);
    if (keyring_load(cfg->keys_dir, cfg->signing_alg, 3600, &kr, why,
                     sizeof(why)) < 0)
        FAIL("keys: %s", why);
    ASSERT_EQ(store_open(&cfg->redis, &st), 0);
    app.cfg = cfg;
    app.keys = kr;
    app.store = st;
    ASSERT_EQ(users_add(st, "alice",
                        &(struct user_info){.email = "alice@example.com",
                                            .name = "Alice Example"},
                        "correct horse", sub, &bad),
              0);
    ASSERT_EQ(session_create(st, cfg, sub, "127.0.0.1", "test", sid,
                             session_cookie),
              0);
}

static void
start_with_session(void)
{
    start_with_session_as("ES256", clients_json);
}

static char *
new_code_for(const char *client_id, const char *redirect_uri,
             const char *challenge, const char *nonce, const char *scope)
{
    struct code_grant g = {client_id, redirect_uri, challenge, nonce,
                           scope,     sid,          sub,       0, NULL};
    struct session *s = NULL;
    char code[44];

    /* As /authorize does: the sign-in time and methods of the session. */
    ASSERT_EQ(session_get(app.store, sid, &s), 0);
    g.auth_time = s->auth_time;
    g.amr = s->amr;
    ASSERT_EQ(code_issue(&app, &g, code), 0);
    session_free(s);
    ASSERT_EQ(strlen(code), 43);
    return strdup(code);
}

static char *
new_code(const char *challenge, const char *nonce)
{
    return new_code_for("crm", CRM_CB, challenge, nonce, SCOPE);
}

static char *
basic_header(const char *id_secret)
{
    unsigned char enc[256];
    char *h = NULL;

    EVP_EncodeBlock(enc, (const unsigned char *)id_secret,
                    (int)strlen(id_secret));
    if (asprintf(&h, "Authorization: Basic %s", enc) < 0)
        FAIL("asprintf");
    return h;
}

/*
 * POSTs a form body to path with Basic credentials "id:secret" (or none)
 * and checks the status; returns the JSON answer. Every answer of these
 * endpoints must be JSON and never cached (RFC 6749 §5.1).
 */
static json_t *
post_as(const char *path, const char *basic, const char *body, long want)
{
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           NULL, NULL};
    char url[256], *auth = NULL, *cc;
    struct http_result res;
    json_t *j;

    if (basic != NULL)
        hdrs[1] = auth = basic_header(basic);
    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    ASSERT_EQ(http_do("POST", url, body, hdrs, &res), 0);
    if (res.status != want)
        FAIL("POST %s %s: status %ld, want %ld: %s", path, body, res.status,
             want, res.body);
    cc = http_header_value(&res, "Cache-Control");
    ASSERT_STR_EQ(cc, "no-store");
    if ((j = json_loads(res.body, 0, NULL)) == NULL)
        FAIL("POST %s: not JSON: %s", path, res.body);
    free(cc);
    free(auth);
    http_result_free(&res);
    return j;
}

static json_t *
token(const char *basic, const char *body, long want)
{
    return post_as("/token", basic, body, want);
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void
expect_error(const char *basic, const char *body, long status,
             const char *error)
{
    json_t *j = token(basic, body, status);

    ASSERT_STR_EQ(str(j, "error"), error);
    json_decref(j);
}

/* Verifies jws against /jwks (OpenSSL, not keys.c) and checks its typ;
 * returns the claims. */
static json_t *
verified(const char *jws, const char *typ)
{
    char url[256], *payload = NULL;
    unsigned char *hdr = NULL;
    struct http_result res;
    size_t hlen;
    json_t *hv, *j;

    snprintf(url, sizeof(url), "%s/jwks", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(jwks_verify(res.body, jws, &payload), 0);
    http_result_free(&res);
    ASSERT_EQ(b64url_decode(jws, strcspn(jws, "."), &hdr, &hlen), 0);
    hv = json_loads((const char *)hdr, 0, NULL);
    ASSERT_STR_EQ(str(hv, "typ"), typ);
    json_decref(hv);
    free(hdr);
    j = json_loads(payload, 0, NULL);
    ASSERT(j != NULL);
    free(payload);
    return j;
}

static json_t *
introspect(const char *basic, const char *tok)
{
    char body[4096];

    snprintf(body, sizeof(body), "token=%s", tok);
    return post_as("/introspect", basic, body, 200);
}

static int
is_active(const char *basic, const char *tok)
{
    json_t *j = introspect(basic, tok);
    int active = json_is_true(json_object_get(j, "active"));

    if (!active)
        ASSERT_EQ(json_object_size(j), 1); /* RFC 7662 §2.2: nothing more */
    json_decref(j);
    return active;
}

static void
revoke(const char *basic, const char *tok)
{
    char body[4096];

    snprintf(body, sizeof(body), "token=%s", tok);
    json_decref(post_as("/revoke", basic, body, 200));
}

static long
userinfo(const char *tok, char **www_authenticate, json_t **claims)
{
    char url[256], bearer[4096];
    const char *hdrs[2] = {bearer, NULL};
    struct http_result res;
    long status;

    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", tok);
    snprintf(url, sizeof(url), "%s/userinfo", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, tok ? hdrs : NULL, &res), 0);
    status = res.status;
    if (www_authenticate != NULL)
        *www_authenticate = http_header_value(&res, "WWW-Authenticate");
    if (claims != NULL)
        *claims = json_loads(res.body, 0, NULL);
    http_result_free(&res);
    return status;
}

static json_t *
exchange_as(const char *basic, const char *code, const char *extra, long want)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&redirect_uri=%s%s", code,
             CRM_CB_ENC, extra != NULL ? extra : "");
    return token(basic, body, want);
}

static json_t *
refresh_as(const char *basic, const char *rt, const char *extra, long want)
{
    char body[1024];

    snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s%s",
             rt, extra != NULL ? extra : "");
    return token(basic, body, want);
}

static void
check_client_credentials(const char *alg)
{
    json_t *t, *at;

    start(alg);
    t = token("svc:svc-secret", "grant_type=client_credentials", 200);
    ASSERT_STR_EQ(str(t, "token_type"), "Bearer");
    ASSERT_STR_EQ(str(t, "scope"), "read write");
    ASSERT_EQ(json_integer_value(json_object_get(t, "expires_in")), 300);
    /* RFC 6749 §4.4.3: no refresh token; no user, so no ID token. */
    ASSERT(json_object_get(t, "refresh_token") == NULL);
    ASSERT(json_object_get(t, "id_token") == NULL);
    at = verified(str(t, "access_token"), "at+jwt");
    ASSERT_STR_EQ(str(at, "iss"), h->gh.issuer);
    ASSERT_STR_EQ(str(at, "sub"), "svc");
    ASSERT_STR_EQ(str(at, "aud"), "svc");
    ASSERT_STR_EQ(str(at, "client_id"), "svc");
    ASSERT_STR_EQ(str(at, "scope"), "read write");
    ASSERT(str(at, "jti") != NULL && strlen(str(at, "jti")) >= 22);
    ASSERT(json_object_get(at, "sid") == NULL);
    ASSERT_EQ(json_integer_value(json_object_get(at, "exp")) -
                  json_integer_value(json_object_get(at, "iat")),
              300);
    json_decref(at);
    json_decref(t);
    stop();
}

TEST(client_credentials_es256_verifies_against_jwks)
{
    check_client_credentials("ES256");
}

TEST(client_credentials_rs256_verifies_against_jwks)
{
    check_client_credentials("RS256");
}

TEST(client_credentials_scope_narrows_never_widens)
{
    json_t *t;

    start("ES256");
    t = token("svc:svc-secret", "grant_type=client_credentials&scope=read",
              200);
    ASSERT_STR_EQ(str(t, "scope"), "read");
    json_decref(t);
    t = token("svc:svc-secret",
              "grant_type=client_credentials&scope=write%20read%20write", 200);
    ASSERT_STR_EQ(str(t, "scope"), "write read");
    json_decref(t);
    expect_error("svc:svc-secret",
                 "grant_type=client_credentials&scope=read%20gatehouse:admin",
                 400, "invalid_scope");
    expect_error("svc:svc-secret", "grant_type=client_credentials&scope=", 400,
                 "invalid_scope");
    /* client_secret_post, the same grant. */
    t = token(NULL,
              "grant_type=client_credentials&client_id=svc-post&"
              "client_secret=post-secret",
              200);
    ASSERT_STR_EQ(str(t, "scope"), "read");
    json_decref(t);
    stop();
}

TEST(wrong_or_missing_credentials_are_401_invalid_client)
{
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           NULL, NULL};
    struct http_result res;
    char url[256], *www;

    start("ES256");
    expect_error("svc:wrong", "grant_type=client_credentials", 401,
                 "invalid_client");
    expect_error("svc:svc-secretX", "grant_type=client_credentials", 401,
                 "invalid_client");
    expect_error("nobody:svc-secret", "grant_type=client_credentials", 401,
                 "invalid_client");
    expect_error(NULL, "grant_type=client_credentials", 401, "invalid_client");
    expect_error(NULL,
                 "grant_type=client_credentials&client_id=svc-post&"
                 "client_secret=wrong",
                 401, "invalid_client");
    /* RFC 6749 §5.2: Basic was tried, so the answer names the scheme. */
    hdrs[1] = basic_header("svc:wrong");
    snprintf(url, sizeof(url), "%s/token", h->gh.issuer);
    ASSERT_EQ(http_do("POST", url, "grant_type=client_credentials", hdrs, &res),
              0);
    ASSERT_EQ(res.status, 401);
    www = http_header_value(&res, "WWW-Authenticate");
    ASSERT(www != NULL && strncmp(www, "Basic", 5) == 0);
    free(www);
    free((char *)hdrs[1]);
    http_result_free(&res);
    stop();
}

TEST(client_must_use_its_registered_auth_method)
{
    start("ES256");
    /* svc registered client_secret_basic: the right secret in the body is
     * still refused. */
    expect_error(NULL,
                 "grant_type=client_credentials&client_id=svc&"
                 "client_secret=svc-secret",
                 401, "invalid_client");
    /* svc-post registered client_secret_post. */
    expect_error("svc-post:post-secret", "grant_type=client_credentials", 401,
                 "invalid_client");
    /* A confidential client cannot pass as public by leaving out the
     * secret. */
    expect_error(NULL, "grant_type=client_credentials&client_id=svc", 401,
                 "invalid_client");
    /* RFC 6749 §2.3: never two methods at once. */
    expect_error("svc:svc-secret",
                 "grant_type=client_credentials&client_secret=svc-secret", 400,
                 "invalid_request");
    /* Basic for one client, client_id of another. */
    expect_error("svc:svc-secret",
                 "grant_type=client_credentials&client_id=svc-post", 401,
                 "invalid_client");
    stop();
}

TEST(grant_type_missing_unknown_or_not_registered)
{
    start("ES256");
    expect_error("svc:svc-secret", "scope=read", 400, "invalid_request");
    expect_error("svc:svc-secret", "grant_type=password&username=a", 400,
                 "unsupported_grant_type");
    expect_error("svc:svc-secret", "grant_type=authorization_code&code=x", 400,
                 "unauthorized_client");
    expect_error("crm:crm-secret", "grant_type=client_credentials", 400,
                 "unauthorized_client");
    /* A public client has no credentials to speak for itself with. */
    expect_error(NULL, "grant_type=client_credentials&client_id=spa", 400,
                 "unauthorized_client");
    stop();
}

TEST(repeated_parameters_and_non_form_bodies_are_400)
{
    const char *json_hdrs[3] = {"Content-Type: application/json", NULL, NULL};
    struct http_result res;
    char url[256];
    json_t *j;

    start("ES256");
    /* RFC 6749 §3.2. */
    expect_error("svc:svc-secret",
                 "grant_type=client_credentials&grant_type=client_credentials",
                 400, "invalid_request");
    expect_error("svc:svc-secret",
                 "grant_type=client_credentials&scope=read&scope=write", 400,
                 "invalid_request");
    expect_error("svc:svc-secret", "grant_type=client_credentials&x=%zz", 400,
                 "invalid_request");
    snprintf(url, sizeof(url), "%s/token", h->gh.issuer);
    json_hdrs[1] = basic_header("svc:svc-secret");
    ASSERT_EQ(http_do("POST", url, "{\"grant_type\":\"client_credentials\"}",
                      json_hdrs, &res),
              0);
    ASSERT_EQ(res.status, 400);
    j = json_loads(res.body, 0, NULL);
    ASSERT_STR_EQ(str(j, "error"), "invalid_request");
    json_decref(j);
    http_result_free(&res);
    free((char *)json_hdrs[1]);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 405);
    http_result_free(&res);
    stop();
}

TEST(introspect_active_to_owner_and_admin_inactive_to_others)
{
    json_t *t, *i;
    const char *at;

    start("ES256");
    t = token("svc:svc-secret", "grant_type=client_credentials", 200);
    at = str(t, "access_token");
    i = introspect("svc:svc-secret", at);
    ASSERT(json_is_true(json_object_get(i, "active")));
    ASSERT_STR_EQ(str(i, "client_id"), "svc");
    ASSERT_STR_EQ(str(i, "sub"), "svc");
    ASSERT_STR_EQ(str(i, "scope"), "read write");
    ASSERT_STR_EQ(str(i, "iss"), h->gh.issuer);
    ASSERT_STR_EQ(str(i, "token_type"), "Bearer");
    ASSERT(str(i, "jti") != NULL);
    ASSERT(json_integer_value(json_object_get(i, "exp")) > 0);
    ASSERT(json_integer_value(json_object_get(i, "iat")) > 0);
    json_decref(i);
    /* RFC 7662 §4: another client learns nothing; an admin client does. */
    i = post_as("/introspect", NULL,
                "client_id=svc-post&client_secret=post-secret&token=x", 200);
    ASSERT(json_is_false(json_object_get(i, "active")));
    json_decref(i);
    {
        char body[4096];
        snprintf(body, sizeof(body),
                 "client_id=svc-post&client_secret=post-secret&token=%s", at);
        i = post_as("/introspect", NULL, body, 200);
        ASSERT(json_is_false(json_object_get(i, "active")));
        ASSERT_EQ(json_object_size(i), 1);
        json_decref(i);
    }
    ASSERT(is_active("console:console-secret", at));
    /* Garbage, a tampered token and unknown refresh tokens: inactive. */
    ASSERT(!is_active("svc:svc-secret", "not-a-token"));
    ASSERT(!is_active("svc:svc-secret", "a.b.c"));
    {
        char *bad = strdup(at);
        size_t n = strlen(bad);
        bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A';
        ASSERT(!is_active("svc:svc-secret", bad));
        free(bad);
    }
    /* Authentication is required; a public client has none. */
    json_decref(post_as("/introspect", "svc:wrong", "token=x", 401));
    json_decref(post_as("/introspect", NULL, "client_id=spa&token=x", 401));
    json_decref(post_as("/introspect", "svc:svc-secret", "", 400));
    json_decref(t);
    stop();
}

TEST(revoked_access_token_introspects_inactive)
{
    json_t *t;
    const char *at;
    char *www = NULL;

    start("ES256");
    t = token("svc:svc-secret", "grant_type=client_credentials", 200);
    at = str(t, "access_token");
    /* RFC 7009 §2.2: another client's token is 200 and stays alive. */
    revoke("console:console-secret", at);
    ASSERT(is_active("svc:svc-secret", at));
    revoke("svc:svc-secret", at);
    ASSERT(!is_active("svc:svc-secret", at));
    ASSERT(!is_active("console:console-secret", at));
    /* Revoking twice, or nonsense, is still 200. */
    revoke("svc:svc-secret", at);
    revoke("svc:svc-secret", "nonsense");
    json_decref(post_as("/revoke", "svc:wrong", "token=x", 401));
    json_decref(post_as("/revoke", "svc:svc-secret", "", 400));
    ASSERT_EQ(userinfo(at, &www, NULL), 401);
    free(www);
    json_decref(t);
    stop();
}

TEST(userinfo_refuses_client_credentials_and_bad_tokens)
{
    json_t *t;
    char *www = NULL;

    start("ES256");
    t = token("svc:svc-secret", "grant_type=client_credentials", 200);
    ASSERT_EQ(userinfo(str(t, "access_token"), &www, NULL), 401);
    ASSERT_CONTAINS(www, "Bearer");
    ASSERT_CONTAINS(www, "error=\"invalid_token\"");
    free(www);
    ASSERT_EQ(userinfo("e30.e30.AAAA", &www, NULL), 401);
    ASSERT_CONTAINS(www, "error=\"invalid_token\"");
    free(www);
    /* No token at all: the scheme, no error code (RFC 6750 §3.1). */
    ASSERT_EQ(userinfo(NULL, &www, NULL), 401);
    ASSERT_STR_EQ(www, "Bearer realm=\"gatehouse\"");
    free(www);
    json_decref(t);
    stop();
}

TEST(client_registered_at_run_time_is_found_in_redis)
{
    json_t *t;

    start_with_session();
    ASSERT_EQ(store_client_put(app.store, "dyn",
                               "{\"client_id\":\"dyn\",\"client_secret\":"
                               "\"dyn-secret\",\"grant_types\":"
                               "[\"client_credentials\"],\"scopes\":"
                               "[\"read\"]}"),
              0);
    t = token("dyn:dyn-secret", "grant_type=client_credentials", 200);
    ASSERT_STR_EQ(str(t, "scope"), "read");
    json_decref(t);
    expect_error("dyn:wrong", "grant_type=client_credentials", 401,
                 "invalid_client");
    stop();
}

/* The payload of a compact JWS is the compact JSON jansson writes for the
 * same claims in the same order: what the hand-written fast paths of
 * mint_access and mint_id must produce. */
static void
assert_payload_canonical(const char *jws)
{
    const char *a = strchr(jws, '.'), *b = a ? strchr(a + 1, '.') : NULL;
    unsigned char *raw = NULL;
    size_t n = 0;
    char *text, *again;
    json_t *o;

    ASSERT(b != NULL);
    ASSERT_EQ(b64url_decode(a + 1, (size_t)(b - a - 1), &raw, &n), 0);
    text = strndup((const char *)raw, n);
    o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    ASSERT(o != NULL);
    again = json_dumps(o, JSON_COMPACT);
    ASSERT_STR_EQ(text, again);
    free(again);
    json_decref(o);
    free(text);
    free(raw);
}

TEST(code_exchange_issues_id_access_and_refresh_tokens)
{
    char at_hash[44], *www = NULL, *code;
    struct session *s = NULL;
    json_t *t, *id, *at, *ui = NULL, *claims = NULL;
    size_t i;
    int found = 0;

    start_with_session();
    code = new_code(CHALLENGE, "n0nce");
    t = exchange_as("crm:crm-secret", code, "&code_verifier=" VERIFIER, 200);
    ASSERT_STR_EQ(str(t, "token_type"), "Bearer");
    ASSERT_STR_EQ(str(t, "scope"), SCOPE);
    ASSERT_EQ(strlen(str(t, "refresh_token")), 43);

    id = verified(str(t, "id_token"), "JWT");
    assert_payload_canonical(str(t, "id_token"));
    assert_payload_canonical(str(t, "access_token"));
    ASSERT_STR_EQ(str(id, "iss"), h->gh.issuer);
    ASSERT_STR_EQ(str(id, "sub"), sub);
    ASSERT_STR_EQ(str(id, "aud"), "crm");
    ASSERT_STR_EQ(str(id, "azp"), "crm");
    ASSERT_STR_EQ(str(id, "nonce"), "n0nce");
    ASSERT_STR_EQ(str(id, "sid"), sid);
    ASSERT_STR_EQ(str(id, "name"), "Alice Example");
    ASSERT_STR_EQ(str(id, "email"), "alice@example.com");
    ASSERT(json_integer_value(json_object_get(id, "auth_time")) > 0);
    ASSERT(json_integer_value(json_object_get(id, "auth_time")) <=
           json_integer_value(json_object_get(id, "iat")));
    /* OIDC Core §3.1.3.6. */
    util_sha256_b64url(str(t, "access_token"), strlen(str(t, "access_token")),
                       1, at_hash);
    ASSERT_STR_EQ(str(id, "at_hash"), at_hash);

    at = verified(str(t, "access_token"), "at+jwt");
    ASSERT_STR_EQ(str(at, "sub"), sub);
    ASSERT_STR_EQ(str(at, "sid"), sid);
    ASSERT_STR_EQ(str(at, "client_id"), "crm");
    ASSERT_STR_EQ(str(at, "scope"), SCOPE);
    ASSERT_EQ(json_integer_value(json_object_get(at, "auth_time")),
              json_integer_value(json_object_get(id, "auth_time")));
    /* The same check the server makes, here in-process. */
    ASSERT_EQ(bearer_verify(&app, str(t, "access_token"), &claims), 0);
    ASSERT_STR_EQ(str(claims, "jti"), str(at, "jti"));
    json_decref(claims);
    ASSERT_EQ(bearer_verify(&app, str(t, "id_token"), &claims), GH_EBADTOKEN);

    /* SPEC §5: the app is recorded on the session. */
    ASSERT_EQ(session_get(app.store, sid, &s), 0);
    for (i = 0; i < s->napps; i++)
        found |= strcmp(s->apps[i], "crm") == 0;
    ASSERT(found);
    session_free(s);

    ASSERT_EQ(userinfo(str(t, "access_token"), &www, &ui), 200);
    ASSERT_STR_EQ(str(ui, "sub"), sub);
    ASSERT_STR_EQ(str(ui, "preferred_username"), "alice");
    free(www);
    json_decref(ui);
    ASSERT(is_active("crm:crm-secret", str(t, "access_token")));
    ASSERT(!is_active("sales:sales-secret", str(t, "access_token")));

    json_decref(at);
    json_decref(id);
    json_decref(t);
    free(code);
    stop();
}

/* The amr of an ID token as one string, "pwd otp". */
static void
amr_text(const json_t *id, char *out, size_t size)
{
    json_t *a = json_object_get(id, "amr");
    size_t i;

    ASSERT(json_is_array(a));
    out[0] = '\0';
    for (i = 0; i < json_array_size(a); i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s",
                 i > 0 ? " " : "", json_string_value(json_array_get(a, i)));
}

TEST(id_tokens_carry_the_sessions_amr_and_acr_through_refresh)
{
    struct session *s = NULL;
    char *code, key[128], amr[64];
    json_t *t, *t2, *id;

    start_with_session();
    /* A password sign-in records "pwd". */
    ASSERT_EQ(session_get(app.store, sid, &s), 0);
    ASSERT_STR_EQ(s->amr, "pwd");
    session_free(s);
    code = new_code(NULL, "n0nce");
    t = exchange_as("crm:crm-secret", code, NULL, 200);
    id = verified(str(t, "id_token"), "JWT");
    amr_text(id, amr, sizeof(amr));
    ASSERT_STR_EQ(amr, "pwd");
    ASSERT_STR_EQ(str(id, "acr"), "urn:gatehouse:acr:pwd");
    json_decref(id);
    json_decref(t);
    free(code);
    /* A session whose sign-in also took a one-time code (what the sign-in
     * page's second step will record): amr and acr say so, in the code's
     * ID token and in a refreshed one. */
    snprintf(key, sizeof(key), "%ssess:%s", h->prefix, sid);
    {
        char *argv[] = {"redis-cli", "-s", h->redis.socket, "HSET", key,
                        "amr", "pwd otp", NULL};
        char *out = NULL;

        ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
        free(out);
    }
    code = new_code(NULL, "n0nce");
    t = exchange_as("crm:crm-secret", code, NULL, 200);
    id = verified(str(t, "id_token"), "JWT");
    amr_text(id, amr, sizeof(amr));
    ASSERT_STR_EQ(amr, "pwd otp");
    ASSERT_STR_EQ(str(id, "acr"), "urn:gatehouse:acr:2fa");
    json_decref(id);
    t2 = refresh_as("crm:crm-secret", str(t, "refresh_token"), NULL, 200);
    id = verified(str(t2, "id_token"), "JWT");
    amr_text(id, amr, sizeof(amr));
    ASSERT_STR_EQ(amr, "pwd otp");
    ASSERT_STR_EQ(str(id, "acr"), "urn:gatehouse:acr:2fa");
    json_decref(id);
    json_decref(t2);
    json_decref(t);
    free(code);
    stop();
}

TEST(code_replay_revokes_what_the_code_issued)
{
    char *code;
    json_t *t, *e;

    start_with_session();
    code = new_code(NULL, NULL);
    t = exchange_as("crm:crm-secret", code, NULL, 200);
    ASSERT(is_active("crm:crm-secret", str(t, "access_token")));
    e = exchange_as("crm:crm-secret", code, NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    /* RFC 6749 §4.1.2: what the first use issued is revoked. */
    ASSERT(!is_active("crm:crm-secret", str(t, "access_token")));
    ASSERT(!is_active("crm:crm-secret", str(t, "refresh_token")));
    e = refresh_as("crm:crm-secret", str(t, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    /* A third try changes nothing and still fails. */
    json_decref(exchange_as("crm:crm-secret", code, NULL, 400));
    /* The session itself is not ended by a replayed code. */
    ASSERT_EQ(session_alive(app.store, cfg, sid), 1);
    json_decref(t);
    free(code);
    stop();
}

TEST(code_is_bound_to_client_redirect_uri_and_verifier)
{
    static const struct {
        const char *basic;
        const char *challenge;
        const char *extra;
    } bad[] = {
        /* another client */
        {"sales:sales-secret", NULL, NULL},
        /* another redirect_uri, even a near one */
        {"crm:crm-secret", NULL, "&redirect_uri=" CRM_CB_ENC "%2F"},
        /* wrong verifier, none, one that is too short, bad characters */
        {"crm:crm-secret", CHALLENGE,
         "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"},
        {"crm:crm-secret", CHALLENGE, NULL},
        {"crm:crm-secret", CHALLENGE, "&code_verifier=short"},
        {"crm:crm-secret", CHALLENGE,
         "&code_verifier=dBjftJeZ4CVP+mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
        /* a verifier for a code that had no challenge (downgrade) */
        {"crm:crm-secret", NULL, "&code_verifier=" VERIFIER},
    };
    char body[1024], *code;
    size_t i;
    json_t *e, *t;

    start_with_session();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        code = new_code(bad[i].challenge, NULL);
        /* A repeated redirect_uri would be a 400 of its own: build the
         * body by hand when the test swaps it. */
        if (bad[i].extra != NULL &&
            strncmp(bad[i].extra, "&redirect_uri", 13) == 0) {
            snprintf(body, sizeof(body),
                     "grant_type=authorization_code&code=%s%s", code,
                     bad[i].extra);
            e = token(bad[i].basic, body, 400);
        } else {
            e = exchange_as(bad[i].basic, code, bad[i].extra, 400);
        }
        if (strcmp(str(e, "error"), "invalid_grant") != 0)
            FAIL("case %zu: %s", i, str(e, "error"));
        json_decref(e);
        /* Spent by the failed try: a code is good for one try. */
        e = exchange_as("crm:crm-secret", code,
                        bad[i].challenge ? "&code_verifier=" VERIFIER : NULL,
                        400);
        ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
        json_decref(e);
        free(code);
    }
    e = exchange_as("crm:crm-secret", "no-such-code", NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    e = token("crm:crm-secret", "grant_type=authorization_code&code=x", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_request");
    json_decref(e);

    /* A public client must have used PKCE, and then needs no secret. */
    code = new_code_for("spa", SPA_CB, NULL, NULL, SCOPE);
    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&client_id=spa&"
             "redirect_uri=%s",
             code, SPA_CB_ENC);
    e = token(NULL, body, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(code);
    code = new_code_for("spa", SPA_CB, CHALLENGE, NULL, SCOPE);
    snprintf(body, sizeof(body),
             "grant_type=authorization_code&code=%s&client_id=spa&"
             "redirect_uri=%s&code_verifier=" VERIFIER,
             code, SPA_CB_ENC);
    t = token(NULL, body, 200);
    ASSERT(str(t, "refresh_token") != NULL);
    json_decref(t);
    free(code);
    stop();
}

TEST(code_of_an_ended_session_issues_nothing)
{
    char *code;
    json_t *e;

    start_with_session();
    code = new_code(NULL, NULL);
    ASSERT_EQ(session_end(app.store, sid, END_ADMIN), 1);
    e = exchange_as("crm:crm-secret", code, NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(code);
    stop();
}

TEST(refresh_rotates_and_narrows_but_never_widens)
{
    char *code, *rt1;
    json_t *t1, *t2, *t3, *id1, *id2, *e;

    start_with_session();
    code = new_code(NULL, "n0nce");
    t1 = exchange_as("crm:crm-secret", code, NULL, 200);
    rt1 = strdup(str(t1, "refresh_token"));
    ASSERT(is_active("crm:crm-secret", rt1));
    {
        json_t *i = introspect("crm:crm-secret", rt1);
        ASSERT_STR_EQ(str(i, "token_type"), "refresh_token");
        ASSERT_STR_EQ(str(i, "client_id"), "crm");
        ASSERT_STR_EQ(str(i, "sub"), sub);
        ASSERT_STR_EQ(str(i, "scope"), SCOPE);
        json_decref(i);
    }
    ASSERT(!is_active("sales:sales-secret", rt1));
    ASSERT(is_active("console:console-secret", rt1));
    /* Widening is refused and costs the client nothing: the token is not
     * spent by it. */
    e = refresh_as("crm:crm-secret", rt1, "&scope=openid%20offline_access",
                   400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_scope");
    json_decref(e);
    /* Another client cannot use it (RFC 6749 §6), and nor is it spent. */
    e = refresh_as("sales:sales-secret", rt1, NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);

    t2 = refresh_as("crm:crm-secret", rt1, "&scope=openid", 200);
    ASSERT_STR_EQ(str(t2, "scope"), "openid");
    ASSERT(strcmp(str(t2, "refresh_token"), rt1) != 0);
    ASSERT(!is_active("crm:crm-secret", rt1));
    id1 = verified(str(t1, "id_token"), "JWT");
    id2 = verified(str(t2, "id_token"), "JWT");
    /* OIDC Core §12.2: same sub, sid and auth_time; no nonce. */
    ASSERT_STR_EQ(str(id2, "sub"), str(id1, "sub"));
    ASSERT_STR_EQ(str(id2, "sid"), sid);
    ASSERT_EQ(json_integer_value(json_object_get(id2, "auth_time")),
              json_integer_value(json_object_get(id1, "auth_time")));
    ASSERT(json_object_get(id2, "nonce") == NULL);
    ASSERT(json_object_get(id2, "email") == NULL);
    /* The refresh token keeps the scope the code granted (RFC 6749 §6). */
    t3 = refresh_as("crm:crm-secret", str(t2, "refresh_token"), NULL, 200);
    ASSERT_STR_EQ(str(t3, "scope"), SCOPE);
    ASSERT(is_active("crm:crm-secret", str(t3, "access_token")));
    json_decref(id1);
    json_decref(id2);
    json_decref(t1);
    json_decref(t2);
    json_decref(t3);
    free(rt1);
    free(code);
    stop();
}

TEST(refresh_reuse_revokes_family_and_ends_session)
{
    char *code;
    json_t *t1, *t2, *e;

    start_with_session();
    code = new_code(NULL, NULL);
    t1 = exchange_as("crm:crm-secret", code, NULL, 200);
    t2 = refresh_as("crm:crm-secret", str(t1, "refresh_token"), NULL, 200);
    ASSERT(is_active("crm:crm-secret", str(t2, "access_token")));
    /* The spent token again: stolen, so everything goes (RFC 9700
     * §4.14.2, SPEC §5). */
    e = refresh_as("crm:crm-secret", str(t1, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    ASSERT_EQ(session_alive(app.store, cfg, sid), 0);
    e = refresh_as("crm:crm-secret", str(t2, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    ASSERT(!is_active("crm:crm-secret", str(t2, "access_token")));
    ASSERT(!is_active("crm:crm-secret", str(t1, "access_token")));
    ASSERT_EQ(userinfo(str(t2, "access_token"), NULL, NULL), 401);
    json_decref(t1);
    json_decref(t2);
    free(code);
    stop();
}

TEST(revoking_a_refresh_token_takes_its_family)
{
    char *code;
    json_t *t1, *t2, *e;

    start_with_session();
    code = new_code(NULL, NULL);
    t1 = exchange_as("crm:crm-secret", code, NULL, 200);
    t2 = refresh_as("crm:crm-secret", str(t1, "refresh_token"), NULL, 200);
    /* Another client's revocation does nothing. */
    revoke("sales:sales-secret", str(t2, "refresh_token"));
    ASSERT(is_active("crm:crm-secret", str(t2, "refresh_token")));
    revoke("crm:crm-secret", str(t2, "refresh_token"));
    ASSERT(!is_active("crm:crm-secret", str(t2, "refresh_token")));
    e = refresh_as("crm:crm-secret", str(t2, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    /* Revocation is not reuse: the session lives on. */
    ASSERT_EQ(session_alive(app.store, cfg, sid), 1);
    json_decref(t1);
    json_decref(t2);
    free(code);
    stop();
}

TEST(ending_the_session_kills_its_tokens)
{
    char *code, *www = NULL;
    json_t *t, *e;

    start_with_session();
    code = new_code(NULL, NULL);
    t = exchange_as("crm:crm-secret", code, NULL, 200);
    ASSERT_EQ(userinfo(str(t, "access_token"), NULL, NULL), 200);
    ASSERT_EQ(session_end(app.store, sid, END_ADMIN), 1);
    /* SPEC §4, §5: inactive from then on, refresh token gone too. */
    ASSERT(!is_active("crm:crm-secret", str(t, "access_token")));
    ASSERT(!is_active("crm:crm-secret", str(t, "refresh_token")));
    ASSERT(!is_active("console:console-secret", str(t, "access_token")));
    ASSERT_EQ(userinfo(str(t, "access_token"), &www, NULL), 401);
    ASSERT_CONTAINS(www, "invalid_token");
    free(www);
    e = refresh_as("crm:crm-secret", str(t, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    json_decref(t);
    free(code);
    stop();
}

/* clients_json and one more client, crm-es, registered for ES256 ID
 * tokens (OIDC Registration id_token_signed_response_alg). malloc'd. */
static char *
clients_with_crm_es(void)
{
    json_t *j = json_loads(clients_json, 0, NULL), *es;
    char *text;

    ASSERT(j != NULL);
    es = json_pack("{s:s, s:s, s:[s], s:[ss], s:s}", "client_id", "crm-es",
                   "client_secret", "crm-es-secret", "redirect_uris", CRM_CB,
                   "grant_types", "authorization_code", "refresh_token",
                   "id_token_signed_response_alg", "ES256");
    ASSERT(es != NULL);
    ASSERT_EQ(json_array_append_new(json_object_get(j, "clients"), es), 0);
    ASSERT((text = json_dumps(j, JSON_COMPACT)) != NULL);
    json_decref(j);
    return text;
}

/* A JWS header member (malloc'd), or NULL. */
static char *
jws_header(const char *jws, const char *name)
{
    unsigned char *hdr = NULL;
    size_t hlen;
    json_t *h;
    char *v;

    ASSERT_EQ(b64url_decode(jws, strcspn(jws, "."), &hdr, &hlen), 0);
    ASSERT((h = json_loadb((const char *)hdr, hlen, 0, NULL)) != NULL);
    v = str(h, name) != NULL ? strdup(str(h, name)) : NULL;
    json_decref(h);
    free(hdr);
    return v;
}

static void
assert_alg(const char *jws, const char *want)
{
    char *alg = jws_header(jws, "alg");

    ASSERT_STR_EQ(alg, want);
    free(alg);
}

/* The ID token of a code exchange by client_id (secret "<id>-secret"),
 * checked against /jwks and signed with want_id; its access token signed
 * with want_at. Returns the token response. */
static json_t *
exchange_checking_algs(const char *client_id, const char *want_id,
                       const char *want_at)
{
    char basic[64], *code;
    json_t *t, *id;

    snprintf(basic, sizeof(basic), "%s:%s-secret", client_id, client_id);
    code = new_code_for(client_id, CRM_CB, NULL, "n0nce", SCOPE);
    t = exchange_as(basic, code, NULL, 200);
    assert_alg(str(t, "id_token"), want_id);
    assert_alg(str(t, "access_token"), want_at);
    id = verified(str(t, "id_token"), "JWT");
    ASSERT_STR_EQ(str(id, "aud"), client_id);
    ASSERT_STR_EQ(str(id, "nonce"), "n0nce");
    json_decref(id);
    json_decref(verified(str(t, "access_token"), "at+jwt"));
    /* Verification takes either alg: introspection and userinfo. */
    ASSERT(is_active(basic, str(t, "access_token")));
    ASSERT_EQ(userinfo(str(t, "access_token"), NULL, NULL), 200);
    free(code);
    return t;
}

/*
 * OpenID conformance oidcc-server, EnsureIdTokenSignatureIsRS256: a client
 * that registers no id_token_signed_response_alg gets RS256 ID tokens
 * (OIDC Registration §2), here in a deployment whose signing_alg is ES256;
 * a client that asks for ES256 gets ES256 from the same server, and access
 * tokens are signed with signing_alg whoever the client is.
 */
TEST(oidcc_ensure_id_token_signature_is_rs256)
{
    char *clients = clients_with_crm_es(), *hdr = NULL, *url = NULL;
    struct http_result res;
    struct session *s = NULL;
    json_t *t, *te, *r;

    start_with_session_as("ES256,RS256", clients);
    t = exchange_checking_algs("crm", "RS256", "ES256");
    te = exchange_checking_algs("crm-es", "ES256", "ES256");
    /* A refresh signs the new ID token the same way. */
    r = refresh_as("crm:crm-secret", str(t, "refresh_token"), NULL, 200);
    assert_alg(str(r, "id_token"), "RS256");
    json_decref(verified(str(r, "id_token"), "JWT"));
    json_decref(r);
    r = refresh_as("crm-es:crm-es-secret", str(te, "refresh_token"), NULL, 200);
    assert_alg(str(r, "id_token"), "ES256");
    json_decref(r);
    /* client_credentials: signing_alg. */
    r = token("svc:svc-secret", "grant_type=client_credentials", 200);
    assert_alg(str(r, "access_token"), "ES256");
    json_decref(r);

    /* An RS256 ID token is a valid id_token_hint: the session ends without
     * the confirmation page a hint we cannot verify would get. */
    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer,
                 str(t, "id_token")) < 0 ||
        asprintf(&hdr, "Cookie: " SESSION_COOKIE "=%s", session_cookie) < 0)
        FAIL("asprintf");
    {
        const char *h[2] = {hdr, NULL};
        ASSERT_EQ(http_do("GET", url, NULL, h, &res), 0);
    }
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    ASSERT_EQ(session_get(app.store, sid, &s), GH_ENOTFOUND);
    json_decref(t);
    json_decref(te);
    free(url);
    free(hdr);
    free(clients);
    stop();
}

/* SPEC §3: with no RS256 key an unset alg means signing_alg, so an
 * ES256-only deployment keeps issuing ID tokens (ES256). */
TEST(es256_only_deployment_signs_id_tokens_es256)
{
    json_t *t;

    start_with_session();
    t = exchange_checking_algs("crm", "ES256", "ES256");
    json_decref(t);
    stop();
}

TEST_MAIN(TEST_ENTRY(client_credentials_es256_verifies_against_jwks),
          TEST_ENTRY(client_credentials_rs256_verifies_against_jwks),
          TEST_ENTRY(id_tokens_carry_the_sessions_amr_and_acr_through_refresh),
          TEST_ENTRY(client_credentials_scope_narrows_never_widens),
          TEST_ENTRY(wrong_or_missing_credentials_are_401_invalid_client),
          TEST_ENTRY(client_must_use_its_registered_auth_method),
          TEST_ENTRY(grant_type_missing_unknown_or_not_registered),
          TEST_ENTRY(repeated_parameters_and_non_form_bodies_are_400),
          TEST_ENTRY(introspect_active_to_owner_and_admin_inactive_to_others),
          TEST_ENTRY(revoked_access_token_introspects_inactive),
          TEST_ENTRY(userinfo_refuses_client_credentials_and_bad_tokens),
          TEST_ENTRY(client_registered_at_run_time_is_found_in_redis),
          TEST_ENTRY(code_exchange_issues_id_access_and_refresh_tokens),
          TEST_ENTRY(code_replay_revokes_what_the_code_issued),
          TEST_ENTRY(code_is_bound_to_client_redirect_uri_and_verifier),
          TEST_ENTRY(code_of_an_ended_session_issues_nothing),
          TEST_ENTRY(refresh_rotates_and_narrows_but_never_widens),
          TEST_ENTRY(refresh_reuse_revokes_family_and_ends_session),
          TEST_ENTRY(revoking_a_refresh_token_takes_its_family),
          TEST_ENTRY(ending_the_session_kills_its_tokens),
          TEST_ENTRY(oidcc_ensure_id_token_signature_is_rs256),
          TEST_ENTRY(es256_only_deployment_signs_id_tokens_es256))
