/* SPDX-License-Identifier: MIT */
/* POST /register (OIDC Dynamic Client Registration, RFC 7591) end to end: a
 * real gatehouse and redis-server, an admin token obtained the way a
 * security console would, and the registered clients then used for real:
 * sign-in, refresh, userinfo, back-channel logout. */
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/crypto/keys.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/core/util.h"
#include "harness/world.h"
#include "test.h"

#define CONSOLE "security-console:s"
#define REPORTS "reports:reports-secret"
#define WIKI_CB "http://127.0.0.1:3201/cb"
#define WIKI_HOME "http://127.0.0.1:3201/"
/* RFC 7636 Appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static const char clients_json[] =
    "{\"clients\":["
    "{\"client_id\":\"security-console\",\"client_secret\":\"s\","
    "\"grant_types\":[\"client_credentials\"],"
    "\"scopes\":[\"gatehouse:admin\"]},"
    "{\"client_id\":\"reports\",\"client_secret\":\"reports-secret\","
    "\"grant_types\":[\"client_credentials\"],"
    "\"scopes\":[\"reports:read\"]}],"
    "\"backchannel\":{\"timeout_ms\":1000,\"logout_wait_ms\":2000}}";

static struct harness *h;

static void
start_algs(const char *algs)
{
    h = world_start(
        &(struct harness_opts){.alg = algs, .user = "alice:correct horse"},
        clients_json, NULL);
}

static void
start(void)
{
    start_algs("ES256");
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* An access token by client_credentials (malloc'd). */
static char *
cc_token(const char *id_secret)
{
    json_t *t =
        oidc_token(&h->gh, "grant_type=client_credentials", id_secret, 200);
    char *tok = strdup(str(t, "access_token"));

    json_decref(t);
    return tok;
}

/* POST /register; token and ctype may be NULL (header left out). */
static void
register_do(const char *token, const char *ctype, const char *body,
            struct http_result *res)
{
    char url[128], auth[JWS_MAX_LEN + 64], ct[128];
    const char *hdrs[3] = {NULL, NULL, NULL};
    int n = 0;

    snprintf(url, sizeof(url), "%s/register", h->gh.issuer);
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdrs[n++] = auth;
    }
    if (ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        hdrs[n++] = ct;
    }
    ASSERT_EQ(http_do("POST", url, body, hdrs, res), 0);
}

/* The JSON answer of a registration that must get status want; every
 * answer is JSON and never cached (it may hold a secret). */
static json_t *
register_json(const char *token, const char *body, long want)
{
    struct http_result res;
    char *cc, *ct;
    json_t *j;

    register_do(token, "application/json", body, &res);
    if (res.status != want)
        FAIL("POST /register %s: status %ld, want %ld: %s", body, res.status,
             want, res.body ? res.body : "");
    if ((j = json_loads(res.body, 0, NULL)) == NULL)
        FAIL("POST /register: not JSON: %s", res.body);
    cc = http_header_value(&res, "Cache-Control");
    ASSERT_STR_EQ(cc, "no-store");
    ct = http_header_value(&res, "Content-Type");
    ASSERT_CONTAINS(ct, "application/json");
    free(cc);
    free(ct);
    http_result_free(&res);
    return j;
}

/* How many registered clients Redis holds (client:* keys). */
static int
stored_clients(void)
{
    char *argv[] = {"redis-cli",   "-s", h->redis.socket, "--scan", "--pattern",
                    "gh:client:*", NULL};
    char *out = NULL, *p;
    int n = 0;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    for (p = out; p != NULL && *p != '\0'; p++)
        n += *p == '\n';
    free(out);
    return n;
}

/* The stored record of a client (a new reference). */
static json_t *
stored_client(const char *client_id)
{
    char key[160], *out = NULL;
    char *argv[] = {"redis-cli", "-s", h->redis.socket, "GET", key, NULL};
    json_t *j;

    snprintf(key, sizeof(key), "gh:client:%s", client_id);
    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    if ((j = json_loads(out, 0, NULL)) == NULL)
        FAIL("stored client %s is not JSON: %s", client_id, out);
    free(out);
    return j;
}

/* An at+jwt like Gatehouse's, signed by the keys in dir. */
static char *
forge(const char *dir, const char *client, const char *scope)
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
                  client, "exp", (json_int_t)(now + 300), "iat",
                  (json_int_t)now, "jti", jti, "scope", scope);
    ASSERT_EQ(jws_sign(kr, NULL, "at+jwt", c, &tok), 0);
    json_decref(c);
    keyring_free(kr);
    return tok;
}

/* The newest audit record of register_client (a new reference). */
static json_t *
last_register_audit(const char *admin)
{
    struct http_result res;
    char url[128], auth[JWS_MAX_LEN + 64];
    const char *hdrs[2] = {auth, NULL};
    json_t *j, *recs, *r = NULL;
    size_t i;

    snprintf(url, sizeof(url), "%s/admin/audit?limit=100", h->gh.issuer);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin);
    ASSERT_EQ(http_do("GET", url, NULL, hdrs, &res), 0);
    ASSERT_EQ(res.status, 200);
    j = json_loads(res.body, 0, NULL);
    http_result_free(&res);
    recs = json_object_get(j, "records");
    for (i = 0; i < json_array_size(recs) && r == NULL; i++)
        if (strcmp(str(json_array_get(recs, i), "action"), "register_client") ==
            0)
            r = json_incref(json_array_get(recs, i));
    json_decref(j);
    if (r == NULL)
        FAIL("no register_client audit record");
    return r;
}

/* Exchanges a code of client_id; basic "id:secret" or NULL (public). */
static json_t *
exchange(const char *client_id, const char *basic, const char *code,
         const char *verifier)
{
    char *body = NULL, *ru = url_encode(WIKI_CB);
    json_t *t;

    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s%s%s%s"
                 "%s",
                 code, ru, verifier ? "&code_verifier=" : "",
                 verifier ? verifier : "",
                 basic ? "" : "&client_id=", basic ? "" : client_id) < 0)
        FAIL("asprintf");
    t = oidc_token(&h->gh, body, basic, 200);
    free(body);
    free(ru);
    return t;
}

TEST(registered_client_signs_in_refreshes_and_gets_backchannel_logout)
{
    struct browser b = {""};
    struct http_result res;
    struct bc_app bc;
    char *admin, *req = NULL, *code, *basic = NULL, *body = NULL, *url = NULL;
    const char *id, *secret;
    json_t *reg, *stored, *t, *t2, *idc, *lt, *a, *d;
    int64_t now;

    ASSERT_EQ(bc_start(&bc, 0, 0), 0);
    start();
    admin = cc_token(CONSOLE);
    ASSERT_EQ(stored_clients(), 0);

    /* Discovery names the endpoint, and what each token endpoint takes:
     * /revoke lets a public client revoke its own tokens, /introspect
     * does not. */
    {
        char durl[128], want[128];
        char *rev, *intro;
        snprintf(durl, sizeof(durl), "%s/.well-known/openid-configuration",
                 h->gh.issuer);
        ASSERT_EQ(http_do("GET", durl, NULL, NULL, &res), 0);
        d = json_loads(res.body, 0, NULL);
        snprintf(want, sizeof(want), "%s/register", h->gh.issuer);
        ASSERT_STR_EQ(str(d, "registration_endpoint"), want);
        rev = json_dumps(
            json_object_get(d, "revocation_endpoint_auth_methods_supported"),
            JSON_COMPACT);
        intro =
            json_dumps(json_object_get(d, "introspection_endpoint_auth_methods_"
                                          "supported"),
                       JSON_COMPACT);
        ASSERT_STR_EQ(rev, "[\"client_secret_basic\",\"client_secret_post\","
                           "\"none\"]");
        ASSERT_STR_EQ(intro,
                      "[\"client_secret_basic\",\"client_secret_post\"]");
        free(rev);
        free(intro);
        json_decref(d);
        http_result_free(&res);
    }

    /* logo_uri and contacts are metadata Gatehouse does not use: ignored
     * (RFC 7591 §2), and the answer shows what was registered. */
    if (asprintf(&req,
                 "{\"client_name\":\"Wiki\","
                 "\"redirect_uris\":[\"" WIKI_CB "\"],"
                 "\"post_logout_redirect_uris\":[\"" WIKI_HOME "\"],"
                 "\"backchannel_logout_uri\":\"%s\","
                 "\"backchannel_logout_session_required\":true,"
                 "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
                 "\"response_types\":[\"code\"],"
                 "\"token_endpoint_auth_method\":\"client_secret_basic\","
                 "\"scope\":\"openid profile email\","
                 "\"logo_uri\":\"https://wiki.example/logo.png\","
                 "\"contacts\":[\"ops@wiki.example\"]}",
                 bc.uri) < 0)
        FAIL("asprintf");
    now = util_now();
    reg = register_json(admin, req, 201);
    id = str(reg, "client_id");
    secret = str(reg, "client_secret");
    ASSERT(id != NULL && strlen(id) == 22);
    ASSERT(secret != NULL && strlen(secret) == 43);
    ASSERT(json_integer_value(json_object_get(reg, "client_id_issued_at")) >=
               now &&
           json_integer_value(json_object_get(reg, "client_id_issued_at")) <=
               now + 5);
    ASSERT(json_is_integer(json_object_get(reg, "client_secret_expires_at")));
    ASSERT_EQ(
        json_integer_value(json_object_get(reg, "client_secret_expires_at")),
        0);
    ASSERT_STR_EQ(str(reg, "client_name"), "Wiki");
    ASSERT_STR_EQ(str(reg, "backchannel_logout_uri"), bc.uri);
    ASSERT(json_is_true(
        json_object_get(reg, "backchannel_logout_session_required")));
    ASSERT_STR_EQ(str(reg, "token_endpoint_auth_method"),
                  "client_secret_basic");
    ASSERT_STR_EQ(str(reg, "scope"), "openid profile email");
    ASSERT_STR_EQ(json_string_value(
                      json_array_get(json_object_get(reg, "redirect_uris"), 0)),
                  WIKI_CB);
    ASSERT_EQ(json_array_size(json_object_get(reg, "grant_types")), 2);
    ASSERT(json_object_get(reg, "logo_uri") == NULL);
    ASSERT(json_object_get(reg, "contacts") == NULL);

    /* Stored once, in Redis, under the assigned id. */
    ASSERT_EQ(stored_clients(), 1);
    stored = stored_client(id);
    ASSERT_STR_EQ(str(stored, "client_id"), id);
    ASSERT_STR_EQ(str(stored, "backchannel_logout_uri"), bc.uri);
    ASSERT(json_object_get(stored, "logo_uri") == NULL);
    json_decref(stored);

    /* The audit log names who registered what. */
    a = last_register_audit(admin);
    ASSERT_STR_EQ(str(a, "actor"), "security-console");
    ASSERT_STR_EQ(str(a, "target"), id);
    ASSERT_STR_EQ(str(a, "outcome"), "ok");
    json_decref(a);

    /* The new client works at once: sign-in, code, tokens. */
    code =
        oidc_get_code(&h->gh, &b, id, WIKI_CB, "alice", "correct horse", NULL);
    if (asprintf(&basic, "%s:%s", id, secret) < 0)
        FAIL("asprintf");
    t = exchange(id, basic, code, NULL);
    idc = oidc_verified_claims(&h->gh, str(t, "id_token"));
    ASSERT_STR_EQ(str(idc, "aud"), id);
    ASSERT_STR_EQ(str(idc, "nonce"), "n0nce");
    ASSERT(str(t, "refresh_token") != NULL);
    /* The wrong secret is refused. */
    {
        char *wrong = NULL;
        json_t *e;
        if (asprintf(&wrong, "%s:not-the-secret", id) < 0 ||
            asprintf(&body, "grant_type=refresh_token&refresh_token=%s",
                     str(t, "refresh_token")) < 0)
            FAIL("asprintf");
        e = oidc_token(&h->gh, body, wrong, 401);
        ASSERT_STR_EQ(str(e, "error"), "invalid_client");
        json_decref(e);
        free(wrong);
    }
    /* Refresh and userinfo. */
    t2 = oidc_token(&h->gh, body, basic, 200);
    ASSERT(str(t2, "access_token") != NULL);
    {
        char uurl[128], auth[JWS_MAX_LEN + 64];
        const char *hdrs[2] = {auth, NULL};
        json_t *u;
        snprintf(uurl, sizeof(uurl), "%s/userinfo", h->gh.issuer);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
                 str(t2, "access_token"));
        ASSERT_EQ(http_do("GET", uurl, NULL, hdrs, &res), 0);
        ASSERT_EQ(res.status, 200);
        u = json_loads(res.body, 0, NULL);
        ASSERT_STR_EQ(str(u, "sub"), str(idc, "sub"));
        ASSERT_STR_EQ(str(u, "preferred_username"), "alice");
        json_decref(u);
        http_result_free(&res);
    }

    /* Signing out notifies the registered back-channel URI. */
    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer,
                 str(t, "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    ASSERT_EQ(bc_wait(&bc, 1, 10), 0);
    lt = oidc_verified_claims(&h->gh, bc.tokens[0]);
    ASSERT_STR_EQ(str(lt, "aud"), id);
    ASSERT_STR_EQ(str(lt, "sid"), str(idc, "sid"));
    ASSERT_STR_EQ(str(lt, "sub"), str(idc, "sub"));
    json_decref(lt);

    json_decref(idc);
    json_decref(t);
    json_decref(t2);
    json_decref(reg);
    free(url);
    free(body);
    free(basic);
    free(code);
    free(req);
    free(admin);
    world_stop(&h);
    bc_stop(&bc);
}

TEST(public_and_service_clients_register_with_the_right_credentials)
{
    struct browser b = {""};
    json_t *pub, *svc, *t, *idc;
    char *admin, *code, *basic = NULL, *body = NULL;
    const char *pid;

    start();
    admin = cc_token(CONSOLE);

    /* A public client gets no secret (RFC 7591 §3.2.1) and signs in with
     * PKCE. The display name defaults to the client_id. */
    pub = register_json(admin,
                        "{\"redirect_uris\":[\"" WIKI_CB "\"],"
                        "\"token_endpoint_auth_method\":\"none\"}",
                        201);
    pid = str(pub, "client_id");
    ASSERT(json_object_get(pub, "client_secret") == NULL);
    ASSERT(json_object_get(pub, "client_secret_expires_at") == NULL);
    ASSERT_STR_EQ(str(pub, "client_name"), pid);
    ASSERT_EQ(json_array_size(json_object_get(pub, "grant_types")), 1);
    ASSERT_STR_EQ(json_string_value(
                      json_array_get(json_object_get(pub, "grant_types"), 0)),
                  "authorization_code");
    code = oidc_get_code(&h->gh, &b, pid, WIKI_CB, "alice", "correct horse",
                         "&code_challenge=" CHALLENGE
                         "&code_challenge_method=S256");
    t = exchange(pid, NULL, code, VERIFIER);
    idc = oidc_verified_claims(&h->gh, str(t, "id_token"));
    ASSERT_STR_EQ(str(idc, "aud"), pid);
    json_decref(idc);
    json_decref(t);

    /* A service: client_credentials with its own scope. */
    svc = register_json(admin,
                        "{\"client_name\":\"Billing job\","
                        "\"grant_types\":[\"client_credentials\"],"
                        "\"scope\":\"billing:read billing:write\"}",
                        201);
    ASSERT(strcmp(str(svc, "client_id"), pid) != 0);
    if (asprintf(&basic, "%s:%s", str(svc, "client_id"),
                 str(svc, "client_secret")) < 0)
        FAIL("asprintf");
    t = oidc_token(&h->gh, "grant_type=client_credentials&scope=billing%3Aread",
                   basic, 200);
    ASSERT_STR_EQ(str(t, "scope"), "billing:read");
    json_decref(t);
    ASSERT_EQ(stored_clients(), 2);

    json_decref(pub);
    json_decref(svc);
    free(body);
    free(basic);
    free(code);
    free(admin);
    world_stop(&h);
}

TEST(register_refuses_missing_invalid_foreign_and_unscoped_tokens)
{
    static const char body[] = "{\"redirect_uris\":[\"" WIKI_CB "\"]}";
    struct browser b = {""};
    struct http_result res;
    char *admin, *reports, *foreign, *good, *keys = NULL, *other = NULL;
    char *www, *code, *ru, *xbody = NULL, *wiki = NULL;
    json_t *user_t, *a;
    const char *bad[3];
    size_t i;

    start();
    admin = cc_token(CONSOLE);
    reports = cc_token(REPORTS);
    if (asprintf(&keys, "%s/keys", h->gh.dir) < 0 ||
        asprintf(&other, "%s/other-keys", h->gh.dir) < 0)
        FAIL("asprintf");
    {
        char *argv[] = {getenv("GATEHOUSE_BIN"),
                        "keys",
                        "generate",
                        "--dir",
                        other,
                        "--alg",
                        "ES256",
                        NULL};
        ASSERT_EQ(run_cmd(argv, NULL, NULL, NULL), 0);
    }
    /* The same claims signed by the server's key are accepted, so the
     * refusal of the foreign one is for its key alone. */
    good = forge(keys, "security-console", "gatehouse:admin");
    foreign = forge(other, "security-console", "gatehouse:admin");

    /* No token: 401, the challenge names only the scheme (RFC 6750
     * §3.1). */
    register_do(NULL, "application/json", body, &res);
    ASSERT_EQ(res.status, 401);
    ASSERT_CONTAINS(res.body, "\"error\":\"invalid_token\"");
    www = http_header_value(&res, "WWW-Authenticate");
    ASSERT_STR_EQ(www, "Bearer realm=\"gatehouse\"");
    free(www);
    http_result_free(&res);
    /* The console's password is not a token. */
    {
        char url[128], basic[256];
        const char *hv[3] = {basic, "Content-Type: application/json", NULL};
        oidc_basic_header(CONSOLE, basic, sizeof(basic));
        snprintf(url, sizeof(url), "%s/register", h->gh.issuer);
        ASSERT_EQ(http_do("POST", url, body, hv, &res), 0);
        ASSERT_EQ(res.status, 401);
        http_result_free(&res);
    }
    /* Garbage, alg none, and a key not in the JWKS: 401 invalid_token. */
    bad[0] = "not-a-token";
    bad[1] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    bad[2] = foreign;
    for (i = 0; i < 3; i++) {
        register_do(bad[i], "application/json", body, &res);
        if (res.status != 401)
            FAIL("token %zu: status %ld: %s", i, res.status, res.body);
        ASSERT_CONTAINS(res.body, "\"error\":\"invalid_token\"");
        www = http_header_value(&res, "WWW-Authenticate");
        ASSERT_CONTAINS(www, "Bearer");
        ASSERT_CONTAINS(www, "error=\"invalid_token\"");
        free(www);
        http_result_free(&res);
    }
    /* A client token without the scope, and a user's token: 403. */
    ASSERT_EQ(oidc_add_user(&h->gh, "bob", "battery staple"), 0);
    {
        json_t *w = register_json(admin, body, 201); /* an app for bob */
        char *basic = NULL;
        code = oidc_get_code(&h->gh, &b, str(w, "client_id"), WIKI_CB, "bob",
                             "battery staple", NULL);
        ru = url_encode(WIKI_CB);
        if (asprintf(&basic, "%s:%s", str(w, "client_id"),
                     str(w, "client_secret")) < 0 ||
            asprintf(&xbody,
                     "grant_type=authorization_code&code=%s&redirect_uri=%s",
                     code, ru) < 0)
            FAIL("asprintf");
        user_t = oidc_token(&h->gh, xbody, basic, 200);
        wiki = strdup(str(w, "client_id"));
        free(basic);
        free(ru);
        free(code);
        json_decref(w);
    }
    ASSERT_EQ(stored_clients(), 1);
    bad[0] = reports;
    bad[1] = str(user_t, "access_token");
    for (i = 0; i < 2; i++) {
        register_do(bad[i], "application/json", body, &res);
        if (res.status != 403)
            FAIL("token %zu: status %ld: %s", i, res.status, res.body);
        ASSERT_CONTAINS(res.body, "\"error\":\"insufficient_scope\"");
        www = http_header_value(&res, "WWW-Authenticate");
        ASSERT_CONTAINS(www, "error=\"insufficient_scope\"");
        ASSERT_CONTAINS(www, "scope=\"gatehouse:admin\"");
        free(www);
        http_result_free(&res);
    }
    a = last_register_audit(admin);
    /* The last one: bob's token for the wiki app speaks for that app. */
    ASSERT_STR_EQ(str(a, "actor"), wiki);
    ASSERT_STR_EQ(str(a, "outcome"), "forbidden");
    json_decref(a);
    /* None of them registered anything. */
    ASSERT_EQ(stored_clients(), 1);
    /* The forged token with the real key passes: the checks above were
     * about the key, the scope and the kind of token. */
    json_decref(register_json(good, body, 201));
    ASSERT_EQ(stored_clients(), 2);

    json_decref(user_t);
    free(wiki);
    free(xbody);
    free(admin);
    free(reports);
    free(foreign);
    free(good);
    free(keys);
    free(other);
    world_stop(&h);
}

/* One refused registration: the body, its Content-Type, and what the
 * answer must say. */
struct refusal {
    const char *body;
    const char *ctype;
    long status;
    const char *error;
    const char *mention; /* in error_description */
};

TEST(register_refuses_bad_metadata_naming_the_field_and_stores_nothing)
{
    static const struct refusal cases[] = {
        {"{\"redirect_uris\":", "application/json", 400,
         "invalid_client_metadata", "not valid JSON"},
        {"", "application/json", 400, "invalid_client_metadata",
         "not valid JSON"},
        {"[\"" WIKI_CB "\"]", "application/json", 400,
         "invalid_client_metadata", "JSON object"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"]}", "text/plain", 415,
         "invalid_request", "application/json"},
        {"redirect_uris=" WIKI_CB, "application/x-www-form-urlencoded", 415,
         "invalid_request", "application/json"},
        {"{\"redirect_uris\":[\"javascript:alert(1)\"]}", "application/json",
         400, "invalid_redirect_uri", "redirect_uris[0]"},
        {"{\"redirect_uris\":[\"" WIKI_CB "#frag\"]}", "application/json", 400,
         "invalid_redirect_uri", "fragment"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\",\"//evil.example/cb\"]}",
         "application/json", 400, "invalid_redirect_uri", "redirect_uris[1]"},
        {"{\"redirect_uris\":[\"https://good@evil.example/cb\"]}",
         "application/json", 400, "invalid_redirect_uri", "userinfo"},
        {"{\"client_name\":\"No redirect\"}", "application/json", 400,
         "invalid_redirect_uri", "redirect_uris"},
        {"{\"redirect_uris\":\"" WIKI_CB "\"}", "application/json", 400,
         "invalid_redirect_uri", "array"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"post_logout_redirect_uris\":[\"data:text/html,hi\"]}",
         "application/json", 400, "invalid_redirect_uri",
         "post_logout_redirect_uris[0]"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"backchannel_logout_uri\":\"http://example.com/bc\"}",
         "application/json", 400, "invalid_client_metadata",
         "backchannel_logout_uri: must be https"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"backchannel_logout_uri\":\"file:///etc/passwd\"}",
         "application/json", 400, "invalid_client_metadata",
         "backchannel_logout_uri"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"backchannel_logout_session_required\":\"yes\"}",
         "application/json", 400, "invalid_client_metadata",
         "backchannel_logout_session_required"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"frontchannel_logout_uri\":\"" WIKI_HOME "fcl#top\"}",
         "application/json", 400, "invalid_client_metadata",
         "frontchannel_logout_uri: must not contain a fragment"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"frontchannel_logout_uri\":\"javascript:alert(1)\"}",
         "application/json", 400, "invalid_client_metadata",
         "frontchannel_logout_uri"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"frontchannel_logout_uri\":true}",
         "application/json", 400, "invalid_client_metadata",
         "frontchannel_logout_uri: must be a string"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"frontchannel_logout_session_required\":\"yes\"}",
         "application/json", 400, "invalid_client_metadata",
         "frontchannel_logout_session_required: must be a boolean"},
        {"{\"client_id\":\"crm\",\"redirect_uris\":[\"" WIKI_CB "\"]}",
         "application/json", 400, "invalid_client_metadata",
         "client_id: is assigned by the server"},
        {"{\"client_secret\":\"mine\",\"redirect_uris\":[\"" WIKI_CB "\"]}",
         "application/json", 400, "invalid_client_metadata", "client_secret"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"token_endpoint_auth_method\":\"private_key_jwt\"}",
         "application/json", 400, "invalid_client_metadata",
         "token_endpoint_auth_method"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"grant_types\":[\"implicit\"]}",
         "application/json", 400, "invalid_client_metadata", "grant_types[0]"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"response_types\":[\"code id_token\"]}",
         "application/json", 400, "invalid_client_metadata", "response_types"},
        {"{\"grant_types\":[\"client_credentials\"],"
         "\"token_endpoint_auth_method\":\"none\"}",
         "application/json", 400, "invalid_client_metadata", "grant_types"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"scope\":\"openid  profile\"}",
         "application/json", 400, "invalid_client_metadata", "scope"},
        {"{\"grant_types\":[\"client_credentials\"],"
         "\"scope\":\"gatehouse:admin\"}",
         "application/json", 400, "invalid_client_metadata", "gatehouse:admin"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"client_name\":\"a\",\"name\":\"b\"}",
         "application/json", 400, "invalid_client_metadata", "client_name"},
        {"{\"client_name\":\"a\",\"client_name\":\"b\","
         "\"redirect_uris\":[\"" WIKI_CB "\"]}",
         "application/json", 400, "invalid_client_metadata", "duplicate"},
        {"{\"client_name\":\"a\\u0000b\","
         "\"redirect_uris\":[\"" WIKI_CB "\"]}",
         "application/json", 400, "invalid_client_metadata", "not valid JSON"},
        /* OIDC Registration §2: an alg we do not sign with is refused,
         * whether unknown or without a key here (this server is
         * ES256-only). */
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"id_token_signed_response_alg\":\"HS256\"}",
         "application/json", 400, "invalid_client_metadata",
         "id_token_signed_response_alg"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"id_token_signed_response_alg\":\"none\"}",
         "application/json", 400, "invalid_client_metadata",
         "id_token_signed_response_alg"},
        {"{\"redirect_uris\":[\"" WIKI_CB "\"],"
         "\"id_token_signed_response_alg\":\"RS256\"}",
         "application/json", 400, "invalid_client_metadata",
         "id_token_signed_response_alg: RS256"},
    };
    struct http_result res;
    json_t *j, *a;
    char *admin, *big;
    size_t i;

    start();
    admin = cc_token(CONSOLE);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct refusal *r = &cases[i];
        char *cc;

        register_do(admin, r->ctype, r->body, &res);
        if (res.status != r->status)
            FAIL("case %zu %s: status %ld, want %ld: %s", i, r->body,
                 res.status, r->status, res.body);
        if ((j = json_loads(res.body, 0, NULL)) == NULL)
            FAIL("case %zu: not JSON: %s", i, res.body);
        if (strcmp(str(j, "error"), r->error) != 0 ||
            str(j, "error_description") == NULL ||
            strstr(str(j, "error_description"), r->mention) == NULL)
            FAIL("case %zu %s: got %s, want %s mentioning \"%s\"", i, r->body,
                 res.body, r->error, r->mention);
        cc = http_header_value(&res, "Cache-Control");
        ASSERT_STR_EQ(cc, "no-store");
        free(cc);
        json_decref(j);
        http_result_free(&res);
    }
    /* The last refusal is in the audit log, naming the caller. */
    a = last_register_audit(admin);
    ASSERT_STR_EQ(str(a, "actor"), "security-console");
    ASSERT_STR_EQ(str(a, "outcome"), "invalid");
    json_decref(a);

    /* A body past the limit is refused before it is read whole. */
    {
        static const char head[] =
            "{\"redirect_uris\":[\"" WIKI_CB "\"],\"client_name\":\"";
        size_t n = 70 * 1024;

        big = malloc(sizeof(head) + n + 2);
        ASSERT(big != NULL);
        memcpy(big, head, sizeof(head) - 1);
        memset(big + sizeof(head) - 1, 'x', n);
        memcpy(big + sizeof(head) - 1 + n, "\"}", 3);
    }
    register_do(admin, "application/json", big, &res);
    ASSERT_EQ(res.status, 413);
    http_result_free(&res);
    free(big);

    /* Only POST. */
    {
        char url[128], auth[JWS_MAX_LEN + 64];
        const char *hv[2] = {auth, NULL};
        char *allow;
        snprintf(url, sizeof(url), "%s/register", h->gh.issuer);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin);
        ASSERT_EQ(http_do("GET", url, NULL, hv, &res), 0);
        ASSERT_EQ(res.status, 405);
        allow = http_header_value(&res, "Allow");
        ASSERT_CONTAINS(allow, "POST");
        free(allow);
        http_result_free(&res);
    }

    /* Nothing of any of it was stored. */
    ASSERT_EQ(stored_clients(), 0);
    free(admin);
    world_stop(&h);
}

/* The alg in a JWS header (malloc'd). */
static char *
jws_alg(const char *jws)
{
    unsigned char *hdr = NULL;
    size_t hlen;
    json_t *h;
    char *alg;

    ASSERT_EQ(b64url_decode(jws, strcspn(jws, "."), &hdr, &hlen), 0);
    ASSERT((h = json_loadb((const char *)hdr, hlen, 0, NULL)) != NULL);
    alg = strdup(str(h, "alg"));
    json_decref(h);
    free(hdr);
    return alg;
}

/* Registers a Wiki client (alg NULL: none asked for), signs alice in with
 * it and returns the alg its ID token was signed with (malloc'd). */
static char *
registered_id_token_alg(const char *admin, const char *alg)
{
    struct browser b = {""};
    char *req = NULL, *basic = NULL, *code, *got;
    json_t *reg, *stored, *t;
    const char *id;

    if (asprintf(&req,
                 "{\"redirect_uris\":[\"" WIKI_CB "\"]%s%s%s}",
                 alg ? ",\"id_token_signed_response_alg\":\"" : "",
                 alg ? alg : "", alg ? "\"" : "") < 0)
        FAIL("asprintf");
    reg = register_json(admin, req, 201);
    id = str(reg, "client_id");
    /* The answer and the stored record show what was registered. */
    stored = stored_client(id);
    if (alg != NULL) {
        ASSERT_STR_EQ(str(reg, "id_token_signed_response_alg"), alg);
        ASSERT_STR_EQ(str(stored, "id_token_signed_response_alg"), alg);
    } else {
        ASSERT(json_object_get(reg, "id_token_signed_response_alg") == NULL);
    }
    json_decref(stored);
    code =
        oidc_get_code(&h->gh, &b, id, WIKI_CB, "alice", "correct horse", NULL);
    if (asprintf(&basic, "%s:%s", id, str(reg, "client_secret")) < 0)
        FAIL("asprintf");
    t = exchange(id, basic, code, NULL);
    json_decref(oidc_verified_claims(&h->gh, str(t, "id_token")));
    got = jws_alg(str(t, "id_token"));
    json_decref(t);
    json_decref(reg);
    free(basic);
    free(code);
    free(req);
    return got;
}

/* A client registered at run time gets ID tokens in the alg it asked
 * for, and RS256 when it asked for none (OIDC Registration §2), from a
 * server whose signing_alg is ES256. */
TEST(registered_client_gets_id_tokens_in_its_alg)
{
    char *admin, *alg;

    start_algs("ES256,RS256");
    admin = cc_token(CONSOLE);
    alg = registered_id_token_alg(admin, "ES256");
    ASSERT_STR_EQ(alg, "ES256");
    free(alg);
    alg = registered_id_token_alg(admin, NULL);
    ASSERT_STR_EQ(alg, "RS256");
    free(alg);
    alg = registered_id_token_alg(admin, "RS256");
    ASSERT_STR_EQ(alg, "RS256");
    free(alg);
    free(admin);
    world_stop(&h);
}

/* OIDC Front-Channel Logout 1.0 §2 metadata: registered, answered and
 * stored as given; absent, the flag reads false and no URI is made up. */
TEST(registered_client_keeps_frontchannel_metadata)
{
    json_t *reg, *stored;
    char *admin;

    start();
    admin = cc_token(CONSOLE);
    reg = register_json(admin,
                        "{\"redirect_uris\":[\"" WIKI_CB "\"],"
                        "\"frontchannel_logout_uri\":\"" WIKI_HOME
                        "fcl?tenant=a\","
                        "\"frontchannel_logout_session_required\":true}",
                        201);
    ASSERT_STR_EQ(str(reg, "frontchannel_logout_uri"), WIKI_HOME "fcl?tenant=a");
    ASSERT(json_is_true(
        json_object_get(reg, "frontchannel_logout_session_required")));
    stored = stored_client(str(reg, "client_id"));
    ASSERT_STR_EQ(str(stored, "frontchannel_logout_uri"),
                  WIKI_HOME "fcl?tenant=a");
    ASSERT(json_is_true(
        json_object_get(stored, "frontchannel_logout_session_required")));
    json_decref(stored);
    json_decref(reg);

    reg = register_json(admin, "{\"redirect_uris\":[\"" WIKI_CB "\"]}", 201);
    ASSERT(json_object_get(reg, "frontchannel_logout_uri") == NULL);
    ASSERT(json_is_false(
        json_object_get(reg, "frontchannel_logout_session_required")));
    json_decref(reg);
    ASSERT_EQ(stored_clients(), 2);
    free(admin);
    world_stop(&h);
}

TEST_MAIN(
    TEST_ENTRY(registered_client_keeps_frontchannel_metadata),
    TEST_ENTRY(
        registered_client_signs_in_refreshes_and_gets_backchannel_logout),
    TEST_ENTRY(public_and_service_clients_register_with_the_right_credentials),
    TEST_ENTRY(register_refuses_missing_invalid_foreign_and_unscoped_tokens),
    TEST_ENTRY(
        register_refuses_bad_metadata_naming_the_field_and_stores_nothing),
    TEST_ENTRY(registered_client_gets_id_tokens_in_its_alg))
