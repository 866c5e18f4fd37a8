/* SPDX-License-Identifier: MIT */
/* Sign-in end to end, as a browser and two apps see it: a real gatehouse,
 * a real redis-server, HTTP over loopback, tokens checked against /jwks
 * with OpenSSL directly. */
#include <unistd.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3001/callback"
#define SALES_CB "http://127.0.0.1:3002/callback"
#define SPA_CB "http://127.0.0.1:3003/cb"
/* RFC 7636 Appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

/* Reuse of a spent refresh token is theft at once here: the grace has
 * its own tests (test-refresh-grace.c). */
static const char clients_json[] =
    "{\"login\":{\"max_failures\":3,\"lockout_s\":60},"
    "\"tokens\":{\"refresh_reuse_grace_s\":0},"
    "\"clients\":["
    "{\"client_id\":\"crm\",\"client_secret\":\"crm-secret\",\"name\":\"CRM\","
    "\"redirect_uris\":[\"" CRM_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"]},"
    "{\"client_id\":\"sales\",\"client_secret\":\"sales-secret\","
    "\"name\":\"Sales\",\"redirect_uris\":[\"" SALES_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
    "\"token_endpoint_auth_method\":\"client_secret_post\"},"
    "{\"client_id\":\"spa\",\"name\":\"SPA\",\"redirect_uris\":[\"" SPA_CB
    "\"],\"token_endpoint_auth_method\":\"none\"}]}";

static struct harness *h;

static void
start(void)
{
    char *out = NULL;
    char *argv[] = {getenv("GATEHOUSE_BIN"), "user", "add", "--config",
                    NULL, "--username", "alice", "--email",
                    "alice@example.com", "--name", "Alice Example",
                    "--password-stdin", NULL};

    h = world_start(&(struct harness_opts){0}, clients_json, NULL);
    argv[4] = h->gh.config;
    ASSERT_EQ(run_cmd(argv, "correct horse\n", &out, NULL), 0);
    ASSERT_EQ(strlen(out), 37); /* a UUID and a newline */
    free(out);
}

static char *
authorize_url(const char *client_id, const char *redirect_uri,
              const char *extra)
{
    char *url = NULL, *ru = url_encode(redirect_uri);

    if (asprintf(&url,
                 "%s/authorize?response_type=code&client_id=%s&"
                 "redirect_uri=%s&scope=openid%%20profile%%20email&"
                 "state=st8&nonce=n0nce%s",
                 h->gh.issuer, client_id, ru, extra ? extra : "") < 0)
        url = NULL;
    free(ru);
    return url;
}

/* Signs in through the form the authorize request showed; returns the
 * response (a redirect on success). */
static void
sign_in(struct browser *b, const char *login_page, const char *username,
        const char *password, struct http_result *res)
{
    char *csrf = html_hidden(login_page, "csrf");
    char *request = html_hidden(login_page, "request");
    char *body = NULL, *pw = url_encode(password), url[256];

    ASSERT(csrf != NULL);
    if (asprintf(&body, "username=%s&password=%s&csrf=%s%s%s", username, pw,
                 csrf, request ? "&request=" : "", request ? request : "") <
        0)
        FAIL("asprintf");
    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "POST", url, body, res), 0);
    free(body);
    free(pw);
    free(csrf);
    free(request);
}

/* Runs /authorize → form → /login and returns the code. */
static char *
get_code(struct browser *b, const char *client_id, const char *cb,
         const char *extra)
{
    char *url = authorize_url(client_id, cb, extra), *loc, *code;
    struct http_result res, res2;

    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    free(url);
    if (res.status == 302) {
        loc = http_header_value(&res, "Location");
    } else {
        ASSERT_EQ(res.status, 200);
        sign_in(b, res.body, "alice", "correct horse", &res2);
        ASSERT_EQ(res2.status, 303);
        loc = http_header_value(&res2, "Location");
        http_result_free(&res2);
    }
    http_result_free(&res);
    ASSERT(loc != NULL && strncmp(loc, cb, strlen(cb)) == 0);
    code = url_param(loc, "code");
    ASSERT(code != NULL);
    free(loc);
    return code;
}

static json_t *
post_token(const char *body, const char *basic, long want)
{
    char url[256], auth[256];
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           NULL, NULL};
    struct http_result res;
    json_t *j;

    if (basic != NULL) {
        char *enc = NULL;
        /* Basic credentials, base64 of id:secret, done the long way. */
        char *argv[] = {"sh", "-c", NULL, NULL};
        char *cmd = NULL;
        if (asprintf(&cmd, "printf %%s '%s' | base64 -w0", basic) < 0)
            FAIL("asprintf");
        argv[2] = cmd;
        ASSERT_EQ(run_cmd(argv, NULL, &enc, NULL), 0);
        snprintf(auth, sizeof(auth), "Authorization: Basic %s", enc);
        hdrs[1] = auth;
        free(enc);
        free(cmd);
    }
    snprintf(url, sizeof(url), "%s/token", h->gh.issuer);
    ASSERT_EQ(http_do("POST", url, body, hdrs, &res), 0);
    if (res.status != want)
        FAIL("POST /token %s: status %ld: %s", body, res.status, res.body);
    j = json_loads(res.body, 0, NULL);
    ASSERT(j != NULL);
    http_result_free(&res);
    return j;
}

static json_t *
jwks_payload(const char *jws)
{
    char url[256], *payload = NULL;
    struct http_result res;
    json_t *j;

    snprintf(url, sizeof(url), "%s/jwks", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(jwks_verify(res.body, jws, &payload), 0);
    http_result_free(&res);
    j = json_loads(payload, 0, NULL);
    free(payload);
    ASSERT(j != NULL);
    return j;
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_t *
exchange(const char *code, const char *cb, const char *verifier)
{
    char *body = NULL, *ru = url_encode(cb);
    json_t *t;

    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s"
                 "%s%s",
                 code, ru, verifier ? "&code_verifier=" : "",
                 verifier ? verifier : "") < 0)
        FAIL("asprintf");
    t = post_token(body, "crm:crm-secret", 200);
    free(body);
    free(ru);
    return t;
}

TEST(code_flow_with_pkce_issues_tokens_verified_against_jwks)
{
    struct browser b = {""};
    char *code, *sid_cookie, url[256], bearer[2048];
    const char *hdrs[2] = {bearer, NULL};
    struct http_result res;
    json_t *t, *id, *at, *ui;

    start();
    code = get_code(&b, "crm", CRM_CB,
                    "&code_challenge=" CHALLENGE
                    "&code_challenge_method=S256");
    sid_cookie = browser_cookie(&b, "gh_session");
    ASSERT(sid_cookie != NULL);
    t = exchange(code, CRM_CB, VERIFIER);
    ASSERT_STR_EQ(str(t, "token_type"), "Bearer");
    ASSERT(str(t, "refresh_token") != NULL);
    id = jwks_payload(str(t, "id_token"));
    ASSERT_STR_EQ(str(id, "iss"), h->gh.issuer);
    ASSERT_STR_EQ(str(id, "aud"), "crm");
    ASSERT_STR_EQ(str(id, "nonce"), "n0nce");
    ASSERT_STR_EQ(str(id, "preferred_username"), "alice");
    ASSERT_STR_EQ(str(id, "email"), "alice@example.com");
    ASSERT(str(id, "sid") != NULL && str(id, "at_hash") != NULL);
    ASSERT(json_integer_value(json_object_get(id, "auth_time")) > 0);
    /* The sid is public; the cookie must not be the sid. */
    ASSERT(strstr(sid_cookie, str(id, "sid")) == sid_cookie);
    ASSERT(strlen(sid_cookie) > strlen(str(id, "sid")) + 40);
    at = jwks_payload(str(t, "access_token"));
    ASSERT_STR_EQ(str(at, "sid"), str(id, "sid"));
    ASSERT_STR_EQ(str(at, "client_id"), "crm");

    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s",
             str(t, "access_token"));
    snprintf(url, sizeof(url), "%s/userinfo", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, hdrs, &res), 0);
    ASSERT_EQ(res.status, 200);
    ui = json_loads(res.body, 0, NULL);
    ASSERT_STR_EQ(str(ui, "sub"), str(id, "sub"));
    ASSERT_STR_EQ(str(ui, "name"), "Alice Example");
    http_result_free(&res);

    json_decref(ui);
    json_decref(at);
    json_decref(id);
    json_decref(t);
    free(code);
    free(sid_cookie);
    world_stop(&h);
}

TEST(second_app_signs_in_without_the_form)
{
    struct browser b = {""};
    char *code1, *code2, *url, *body = NULL, *loc;
    struct http_result res;
    json_t *t1, *t2, *id1, *id2;

    start();
    code1 = get_code(&b, "crm", CRM_CB, NULL);
    t1 = exchange(code1, CRM_CB, NULL);
    /* Same browser, another app: straight back with a code. */
    url = authorize_url("sales", SALES_CB, NULL);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    code2 = url_param(loc, "code");
    ASSERT(code2 != NULL);
    {
        char *state = url_param(loc, "state");
        ASSERT_STR_EQ(state, "st8");
        free(state);
    }
    http_result_free(&res);
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s"
                 "&client_id=sales&client_secret=sales-secret",
                 code2, "http%3A%2F%2F127.0.0.1%3A3002%2Fcallback") < 0)
        FAIL("asprintf");
    t2 = post_token(body, NULL, 200);
    id1 = jwks_payload(str(t1, "id_token"));
    id2 = jwks_payload(str(t2, "id_token"));
    ASSERT_STR_EQ(str(id2, "aud"), "sales");
    ASSERT_STR_EQ(str(id1, "sid"), str(id2, "sid"));
    ASSERT_STR_EQ(str(id1, "sub"), str(id2, "sub"));
    json_decref(id1);
    json_decref(id2);
    json_decref(t1);
    json_decref(t2);
    free(body);
    free(url);
    free(loc);
    free(code1);
    free(code2);
    world_stop(&h);
}

/* No known client or no registered redirect_uri: an error page on
 * Gatehouse, never a redirect. */
static void
expect_error_page(const char *url, long status)
{
    struct http_result res;
    char *loc;

    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, status);
    loc = http_header_value(&res, "Location");
    ASSERT(loc == NULL);
    ASSERT_CONTAINS(res.body, "<!doctype html>");
    http_result_free(&res);
}

/* Errors after the client is trusted go back to it with state. */
static void
expect_redirect_error(const char *url, const char *cb, const char *error)
{
    struct http_result res;
    char *loc, *e;

    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    ASSERT(loc != NULL && strncmp(loc, cb, strlen(cb)) == 0);
    e = url_param(loc, "error");
    ASSERT_STR_EQ(e, error);
    free(e);
    free(loc);
    http_result_free(&res);
}

TEST(authorize_refuses_unknown_clients_and_unregistered_redirects)
{
    static const char *const bad_cbs[] = {
        "http://127.0.0.1:3001/callback/",  "http://127.0.0.1:3009/callback",
        "http://127.0.0.1:3001/Callback",   "HTTP://127.0.0.1:3001/callback",
        "http://127.0.0.1:3001/callback?x", "http://evil.example/callback",
        "//evil.example/callback",
    };
    char *url;
    size_t i;

    start();
    url = authorize_url("nope", CRM_CB, NULL);
    expect_error_page(url, 400);
    free(url);
    for (i = 0; i < sizeof(bad_cbs) / sizeof(bad_cbs[0]); i++) {
        url = authorize_url("crm", bad_cbs[i], NULL);
        expect_error_page(url, 400);
        free(url);
    }
    /* Another client's redirect_uri is not this client's. */
    url = authorize_url("crm", SALES_CB, NULL);
    expect_error_page(url, 400);
    free(url);

    url = authorize_url("crm", CRM_CB, "&prompt=none");
    expect_redirect_error(url, CRM_CB, "login_required");
    free(url);
    url = authorize_url("spa", SPA_CB, NULL);
    expect_redirect_error(url, SPA_CB, "invalid_request");
    free(url);
    url = authorize_url("crm", CRM_CB,
                        "&code_challenge=" CHALLENGE
                        "&code_challenge_method=plain");
    expect_redirect_error(url, CRM_CB, "invalid_request");
    free(url);
    url = authorize_url("crm", CRM_CB, "&state=twice");
    expect_redirect_error(url, CRM_CB, "invalid_request");
    free(url);
    {
        char u2[512];
        snprintf(u2, sizeof(u2),
                 "%s/authorize?response_type=token&client_id=crm&"
                 "redirect_uri=%s&scope=openid",
                 h->gh.issuer, "http%3A%2F%2F127.0.0.1%3A3001%2Fcallback");
        expect_redirect_error(u2, CRM_CB, "unsupported_response_type");
        snprintf(u2, sizeof(u2),
                 "%s/authorize?response_type=code&client_id=crm&"
                 "redirect_uri=%s&scope=profile",
                 h->gh.issuer, "http%3A%2F%2F127.0.0.1%3A3001%2Fcallback");
        expect_redirect_error(u2, CRM_CB, "invalid_scope");
    }
    world_stop(&h);
}

TEST(wrong_password_and_unknown_user_get_the_same_answer)
{
    struct browser b = {""};
    char *url = NULL, *cookie;
    struct http_result res, r1, r2;

    start();
    url = authorize_url("crm", CRM_CB, NULL);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    sign_in(&b, res.body, "alice", "wrong", &r1);
    http_result_free(&res);
    ASSERT_EQ(r1.status, 401);
    ASSERT_CONTAINS(r1.body, "Incorrect username or password");
    ASSERT_CONTAINS(r1.body, "CRM");
    sign_in(&b, r1.body, "mallory", "wrong", &r2);
    ASSERT_EQ(r2.status, 401);
    ASSERT_CONTAINS(r2.body, "Incorrect username or password");
    cookie = browser_cookie(&b, "gh_session");
    ASSERT(cookie == NULL);
    /* The form shown again still works with the right password. */
    http_result_free(&r1);
    sign_in(&b, r2.body, "alice", "correct horse", &r1);
    ASSERT_EQ(r1.status, 303);
    http_result_free(&r1);
    http_result_free(&r2);
    free(url);
    world_stop(&h);
}

TEST(lockout_after_max_failures_answers_429_with_retry_after)
{
    struct browser b = {""};
    char *url, *ra, *page;
    struct http_result res;
    int i;

    start();
    url = authorize_url("crm", CRM_CB, NULL);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    page = strdup(res.body);
    http_result_free(&res);
    for (i = 0; i < 3; i++) {
        sign_in(&b, page, "alice", "wrong", &res);
        ASSERT_EQ(res.status, 401);
        free(page);
        page = strdup(res.body);
        http_result_free(&res);
    }
    /* Even the right password is refused while locked out. */
    sign_in(&b, page, "alice", "correct horse", &res);
    ASSERT_EQ(res.status, 429);
    ra = http_header_value(&res, "Retry-After");
    ASSERT(ra != NULL && atoi(ra) > 0 && atoi(ra) <= 60);
    free(ra);
    http_result_free(&res);
    free(page);
    free(url);
    world_stop(&h);
}

TEST(login_without_valid_csrf_is_403_and_makes_no_session)
{
    struct browser b = {""};
    char url[256], *cookie, *page;
    struct http_result res, r2;

    start();
    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(&b, "POST", url,
                         "username=alice&password=correct%20horse", &res),
              0);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    ASSERT_EQ(browser_do(&b, "POST", url,
                         "username=alice&password=correct%20horse&csrf=forged",
                         &res),
              0);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    cookie = browser_cookie(&b, "gh_session");
    ASSERT(cookie == NULL);
    /* A real token works once; its replay is refused. */
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    page = strdup(res.body);
    http_result_free(&res);
    sign_in(&b, page, "alice", "correct horse", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "alice");
    http_result_free(&res);
    sign_in(&b, page, "alice", "correct horse", &r2);
    ASSERT_EQ(r2.status, 403);
    http_result_free(&r2);
    free(page);
    world_stop(&h);
}

TEST(code_is_single_use_and_replay_revokes_what_it_issued)
{
    struct browser b = {""};
    char *code, *body = NULL;
    json_t *t, *e;

    start();
    code = get_code(&b, "crm", CRM_CB, NULL);
    t = exchange(code, CRM_CB, NULL);
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, "http%3A%2F%2F127.0.0.1%3A3001%2Fcallback") < 0)
        FAIL("asprintf");
    e = post_token(body, "crm:crm-secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(body);
    if (asprintf(&body, "grant_type=refresh_token&refresh_token=%s",
                 str(t, "refresh_token")) < 0)
        FAIL("asprintf");
    e = post_token(body, "crm:crm-secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(body);
    json_decref(t);
    free(code);
    world_stop(&h);
}

TEST(token_errors_wrong_secret_redirect_uri_and_verifier)
{
    struct browser b = {""};
    char *code, *body = NULL;
    json_t *e;

    start();
    code = get_code(&b, "crm", CRM_CB,
                    "&code_challenge=" CHALLENGE
                    "&code_challenge_method=S256");
    e = post_token("grant_type=client_credentials", "crm:wrong", 401);
    ASSERT_STR_EQ(str(e, "error"), "invalid_client");
    json_decref(e);
    /* Missing verifier for a code bound to a challenge. */
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, "http%3A%2F%2F127.0.0.1%3A3001%2Fcallback") < 0)
        FAIL("asprintf");
    e = post_token(body, "crm:crm-secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(body);
    free(code);
    /* A wrong verifier. */
    code = get_code(&b, "crm", CRM_CB,
                    "&code_challenge=" CHALLENGE
                    "&code_challenge_method=S256");
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s"
                 "&code_verifier=%s",
                 code, "http%3A%2F%2F127.0.0.1%3A3001%2Fcallback",
                 "xBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") < 0)
        FAIL("asprintf");
    e = post_token(body, "crm:crm-secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(body);
    free(code);
    /* A wrong redirect_uri. */
    code = get_code(&b, "crm", CRM_CB, NULL);
    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, "http%3A%2F%2F127.0.0.1%3A3001%2Fother") < 0)
        FAIL("asprintf");
    e = post_token(body, "crm:crm-secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(body);
    free(code);
    world_stop(&h);
}

TEST(refresh_rotates_and_reuse_revokes_family_and_ends_session)
{
    struct browser b = {""};
    char *code, *body = NULL, *url;
    json_t *t, *t2, *e;
    struct http_result res;

    start();
    code = get_code(&b, "crm", CRM_CB, NULL);
    t = exchange(code, CRM_CB, NULL);
    if (asprintf(&body, "grant_type=refresh_token&refresh_token=%s",
                 str(t, "refresh_token")) < 0)
        FAIL("asprintf");
    t2 = post_token(body, "crm:crm-secret", 200);
    ASSERT(strcmp(str(t2, "refresh_token"), str(t, "refresh_token")) != 0);
    /* The spent token again: theft. Family and session are gone. */
    e = post_token(body, "crm:crm-secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    free(body);
    if (asprintf(&body, "grant_type=refresh_token&refresh_token=%s",
                 str(t2, "refresh_token")) < 0)
        FAIL("asprintf");
    e = post_token(body, "crm:crm-secret", 400);
    ASSERT_STR_EQ(str(e, "error"), "invalid_grant");
    json_decref(e);
    /* The browser's session ended too: the next authorize shows the form. */
    url = authorize_url("crm", CRM_CB, NULL);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "name=\"password\"");
    http_result_free(&res);
    free(url);
    free(body);
    json_decref(t);
    json_decref(t2);
    free(code);
    world_stop(&h);
}

TEST_MAIN(TEST_ENTRY(code_flow_with_pkce_issues_tokens_verified_against_jwks),
          TEST_ENTRY(second_app_signs_in_without_the_form),
          TEST_ENTRY(authorize_refuses_unknown_clients_and_unregistered_redirects),
          TEST_ENTRY(wrong_password_and_unknown_user_get_the_same_answer),
          TEST_ENTRY(lockout_after_max_failures_answers_429_with_retry_after),
          TEST_ENTRY(login_without_valid_csrf_is_403_and_makes_no_session),
          TEST_ENTRY(code_is_single_use_and_replay_revokes_what_it_issued),
          TEST_ENTRY(token_errors_wrong_secret_redirect_uri_and_verifier),
          TEST_ENTRY(refresh_rotates_and_reuse_revokes_family_and_ends_session))
