/* SPDX-License-Identifier: MIT */
/* The OpenID conformance modules Gatehouse once failed, one test each,
 * named after the module: a real gatehouse and redis-server, HTTP over
 * loopback, tokens checked against /jwks with OpenSSL directly. */
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3001/callback"

static const char clients_json[] =
    "{\"clients\":["
    "{\"client_id\":\"crm\",\"client_secret\":\"crm-secret\",\"name\":\"CRM\","
    "\"redirect_uris\":[\"" CRM_CB "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"]}]}";

static struct harness *h;

/* The world with exactly these clients. RS256: the longest ID tokens, and
 * the algorithm every RP assumes. */
static void
start(void)
{
    struct harness_opts o = {.alg = "RS256", .user = "alice:correct horse"};

    h = world_start(&o, clients_json, NULL);
    ASSERT_EQ(harness_add_user(h, "bob", "battery staple"), 0);
}

/* The parameters of an authorization request for crm, state st8 and nonce
 * n0nce, plus extra ("&k=v..."); malloc'd. */
static char *
auth_params(const char *extra)
{
    char *p = NULL, *ru = url_encode(CRM_CB);

    if (asprintf(&p,
                 "response_type=code&client_id=crm&redirect_uri=%s&"
                 "scope=openid%%20profile%%20email&state=st8&nonce=n0nce%s",
                 ru, extra != NULL ? extra : "") < 0)
        FAIL("asprintf");
    free(ru);
    return p;
}

/* GET /authorize?params, or POST /authorize with params as a form body. */
static void
authorize(struct browser *b, const char *method, const char *params,
          struct http_result *res)
{
    char *url = NULL;

    if (strcmp(method, "GET") == 0) {
        if (asprintf(&url, "%s/authorize?%s", h->gh.issuer, params) < 0)
            FAIL("asprintf");
        ASSERT_EQ(browser_do(b, "GET", url, NULL, res), 0);
    } else {
        if (asprintf(&url, "%s/authorize", h->gh.issuer) < 0)
            FAIL("asprintf");
        ASSERT_EQ(browser_do(b, "POST", url, params, res), 0);
    }
    free(url);
}

/* The Location of a redirect to crm's callback (malloc'd); fails the test
 * on anything else. */
static char *
callback_location(const struct http_result *res, long status)
{
    char *loc;

    if (res->status != status)
        FAIL("status %ld, want %ld: %s", res->status, status, res->body);
    loc = http_header_value(res, "Location");
    ASSERT(loc != NULL);
    ASSERT(strncmp(loc, CRM_CB "?", strlen(CRM_CB) + 1) == 0);
    return loc;
}

/* Asserts the redirect carries error and state st8 (and no code). */
static void
assert_error_redirect(const struct http_result *res, const char *error)
{
    char *loc = callback_location(res, 302);
    char *e = url_param(loc, "error"), *st = url_param(loc, "state");

    if (e == NULL || strcmp(e, error) != 0)
        FAIL("want error=%s in %s", error, loc);
    ASSERT_STR_EQ(st, "st8");
    ASSERT(url_param(loc, "code") == NULL);
    free(e);
    free(st);
    free(loc);
}

/* Follows an answer of /authorize to a code: the form if one is shown
 * (signing in as username), else the redirect. username NULL: there must
 * be no form. */
static char *
code_from(struct browser *b, const struct http_result *res,
          const char *username, const char *password)
{
    struct http_result res2;
    char *loc, *code, *st;

    if (res->status == 200 && username != NULL) {
        oidc_sign_in(&h->gh, b, res->body, username, password, &res2);
        loc = callback_location(&res2, 303);
        http_result_free(&res2);
    } else {
        loc = callback_location(res, 302);
    }
    code = url_param(loc, "code");
    st = url_param(loc, "state");
    if (code == NULL)
        FAIL("no code in %s", loc);
    ASSERT_STR_EQ(st, "st8");
    free(st);
    free(loc);
    return code;
}

/* Exchanges a code; returns the token response (new reference). */
static json_t *
exchange(const char *code)
{
    char *body = NULL, *ru = url_encode(CRM_CB);
    json_t *j;

    if (asprintf(&body,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    j = oidc_token(&h->gh, body, "crm:crm-secret", 200);
    free(body);
    free(ru);
    return j;
}

/* Signs in with a fresh browser; returns the ID token (malloc'd). */
static char *
sign_in_id_token(struct browser *b, const char *username,
                 const char *password, const char *extra)
{
    struct http_result res;
    char *params = auth_params(extra), *code, *idt;
    json_t *t;

    authorize(b, "GET", params, &res);
    ASSERT_EQ(res.status, 200);
    code = code_from(b, &res, username, password);
    t = exchange(code);
    idt = strdup(json_string_value(json_object_get(t, "id_token")));
    json_decref(t);
    http_result_free(&res);
    free(code);
    free(params);
    return idt;
}

/* The sign-in form, not a redirect: the user must authenticate again. */
static void
assert_form(const struct http_result *res)
{
    if (res->status != 200)
        FAIL("status %ld, want the sign-in form", res->status);
    ASSERT_CONTAINS(res->body, "name=\"password\"");
}

/* GET /authorize for crm with extra ("&k=v...", or NULL): asserts the
 * answer is an error redirect with error, or (error NULL) the sign-in
 * form. */
static void
expect_authorize(struct browser *b, const char *extra, const char *error)
{
    char *params = auth_params(extra);
    struct http_result res;

    authorize(b, "GET", params, &res);
    if (error != NULL)
        assert_error_redirect(&res, error);
    else
        assert_form(&res);
    http_result_free(&res);
    free(params);
}

/*
 * oidcc-id-token-hint: an ID token (RS256: ~850 characters) sent back as
 * id_token_hint with prompt=none gets a code for the same user. It once
 * failed because every parameter over 512 characters was refused.
 */
TEST(oidcc_id_token_hint)
{
    struct browser alice, bob;
    struct http_result res;
    char *hint_a, *hint_b, *big_hint, *extra = NULL, *params, *code;
    char nonce[3001];
    json_t *t, *claims;

    start();
    memset(&alice, 0, sizeof(alice));
    memset(&bob, 0, sizeof(bob));
    hint_a = sign_in_id_token(&alice, "alice", "correct horse", NULL);
    hint_b = sign_in_id_token(&bob, "bob", "battery staple", NULL);
    ASSERT(strlen(hint_a) > 512);

    /* The hint names the signed-in user: a code, state echoed. */
    if (asprintf(&extra, "&prompt=none&id_token_hint=%s", hint_a) < 0)
        FAIL("asprintf");
    params = auth_params(extra);
    authorize(&alice, "GET", params, &res);
    code = code_from(&alice, &res, NULL, NULL);
    t = exchange(code);
    claims = oidc_verified_claims(
        &h->gh, json_string_value(json_object_get(t, "id_token")));
    ASSERT_STR_EQ(json_string_value(json_object_get(claims, "preferred_username")),
                  "alice");
    json_decref(claims);
    json_decref(t);
    free(code);
    http_result_free(&res);
    free(params);
    free(extra);

    /* OIDC Core §3.1.2.1: a hint naming someone else than the signed-in
     * user, with prompt=none, is login_required. */
    if (asprintf(&extra, "&prompt=none&id_token_hint=%s", hint_b) < 0)
        FAIL("asprintf");
    expect_authorize(&alice, extra, "login_required");
    free(extra);

    /* Without prompt=none, the other user's hint asks for a sign-in. */
    if (asprintf(&extra, "&id_token_hint=%s", hint_b) < 0)
        FAIL("asprintf");
    expect_authorize(&alice, extra, NULL);
    free(extra);

    /* A hint we did not sign is refused, with state. */
    expect_authorize(&alice,
                     "&prompt=none&id_token_hint=eyJhbGciOiJub25lIn0."
                     "eyJzdWIiOiJ4In0.",
                     "invalid_request");

    /* An ID token of several KB (a long nonce) is a hint that fits too. */
    memset(nonce, 'n', sizeof(nonce) - 1);
    nonce[sizeof(nonce) - 1] = '\0';
    if (asprintf(&extra, "&nonce=%s", nonce) < 0)
        FAIL("asprintf");
    {
        struct browser b2;
        char *p2 = NULL;
        memset(&b2, 0, sizeof(b2));
        /* auth_params has nonce=n0nce already: build this one by hand. */
        params = auth_params(NULL);
        *strstr(params, "&nonce=n0nce") = '\0';
        if (asprintf(&p2, "%s%s", params, extra) < 0)
            FAIL("asprintf");
        authorize(&b2, "POST", p2, &res);
        ASSERT_EQ(res.status, 200);
        code = code_from(&b2, &res, "alice", "correct horse");
        t = exchange(code);
        big_hint = strdup(json_string_value(json_object_get(t, "id_token")));
        ASSERT(strlen(big_hint) > 4000);
        json_decref(t);
        free(code);
        http_result_free(&res);
        free(params);
        free(extra);
        if (asprintf(&extra, "&prompt=none&id_token_hint=%s", big_hint) < 0)
            FAIL("asprintf");
        free(p2);
        p2 = auth_params(extra);
        authorize(&b2, "POST", p2, &res);
        code = code_from(&b2, &res, NULL, NULL);
        free(code);
        http_result_free(&res);
        free(p2);
        free(extra);
        free(big_hint);
    }
    free(hint_a);
    free(hint_b);
    world_stop(&h);
}

/*
 * RFC 6749 §4.1.2.1: state goes back on every error redirect, also for a
 * parameter sent twice and a request too long (both once dropped it).
 */
TEST(oidcc_state_in_error_redirect)
{
    struct browser b;
    struct http_result res;
    char *params, *big, *p2 = NULL;
    size_t n = 13 * 1024;

    start();
    memset(&b, 0, sizeof(b));

    expect_authorize(&b, "&nonce=again", "invalid_request");

    expect_authorize(&b, "&prompt=bogus", "invalid_request");

    expect_authorize(&b, "&prompt=none", "login_required");

    /* The whole request is bounded, not one parameter: 13 KiB is too
     * long, and still answered with state. */
    big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    params = auth_params(NULL);
    if (asprintf(&p2, "%s&login_hint=%s", params, big) < 0)
        FAIL("asprintf");
    authorize(&b, "POST", p2, &res);
    assert_error_redirect(&res, "invalid_request");
    http_result_free(&res);
    free(p2);

    /* A state of 4 KiB comes back whole on an error redirect; a longer
     * one could not, and gets a page rather than an empty reply. */
    {
        char *loc, *st, *q = NULL;
        big[10 * 1024] = '\0';
        *strstr(params, "&state=st8") = '\0';
        if (asprintf(&q, "%s&state=%s&nonce=n0nce&prompt=bogus", params,
                     big) < 0)
            FAIL("asprintf");
        authorize(&b, "POST", q, &res);
        ASSERT_EQ(res.status, 400);
        ASSERT_CONTAINS(res.body, "state");
        http_result_free(&res);
        free(q);
        free(params);
        params = auth_params(NULL);
        big[4 * 1024] = '\0';
        *strstr(params, "&state=st8") = '\0';
        if (asprintf(&q, "%s&state=%s&nonce=n0nce&prompt=bogus", params,
                     big) < 0)
            FAIL("asprintf");
        authorize(&b, "POST", q, &res);
        loc = callback_location(&res, 302);
        st = url_param(loc, "state");
        ASSERT_STR_EQ(st, big);
        free(st);
        free(loc);
        free(q);
        http_result_free(&res);
        free(params);
        params = auth_params(NULL);
        memset(big, 'x', n);
    }

    /* 6 KiB in one parameter is fine. */
    big[6 * 1024] = '\0';
    if (asprintf(&p2, "%s&login_hint=%s", params, big) < 0)
        FAIL("asprintf");
    authorize(&b, "POST", p2, &res);
    assert_form(&res);
    http_result_free(&res);
    free(p2);
    free(params);
    free(big);
    world_stop(&h);
}

/*
 * oidcc-ensure-post-request-succeeds: OIDC Core §3.1.2.1, the
 * authorization endpoint MUST accept POST (a form body), served like GET.
 */
TEST(oidcc_ensure_post_request_succeeds)
{
    struct browser b;
    struct http_result res;
    char *params, *code, url[256];
    const char *hdrs[] = {"Content-Type: text/plain", NULL};
    json_t *t;

    start();
    memset(&b, 0, sizeof(b));
    params = auth_params(NULL);
    authorize(&b, "POST", params, &res);
    assert_form(&res);
    code = code_from(&b, &res, "alice", "correct horse");
    t = exchange(code);
    ASSERT(json_is_string(json_object_get(t, "id_token")));
    json_decref(t);
    free(code);
    http_result_free(&res);

    /* Signed in: a POST gets the code straight away. */
    authorize(&b, "POST", params, &res);
    code = code_from(&b, &res, NULL, NULL);
    ASSERT_EQ(res.status, 302);
    free(code);
    http_result_free(&res);

    /* POST errors go back with state like GET's. */
    free(params);
    params = auth_params("&prompt=bogus");
    authorize(&b, "POST", params, &res);
    assert_error_redirect(&res, "invalid_request");
    http_result_free(&res);

    /* A body that is not a form is not read as one. */
    snprintf(url, sizeof(url), "%s/authorize", h->gh.issuer);
    ASSERT_EQ(http_do("POST", url, params, hdrs, &res), 0);
    ASSERT_EQ(res.status, 400);
    http_result_free(&res);
    free(params);
    world_stop(&h);
}

/* Waits (at most ~1 s) until the wall clock has just begun a second. */
static void
at_second_start(void)
{
    struct timespec ts, nap = {0, 5 * 1000 * 1000};
    int i;

    for (i = 0; i < 300; i++) {
        clock_gettime(CLOCK_REALTIME, &ts);
        if (ts.tv_nsec < 50 * 1000 * 1000)
            return;
        nanosleep(&nap, NULL);
    }
}

/*
 * oidcc-max-age-1 and max_age=0: a sign-in older than max_age is not
 * reused, to the millisecond, so max_age=0 always asks for the password
 * again, even within the second of the sign-in (once it did not).
 */
TEST(oidcc_max_age_0)
{
    struct browser b;
    struct http_result res;
    char *params, *code;
    json_t *t, *claims;
    int64_t auth_time;

    start();
    memset(&b, 0, sizeof(b));
    at_second_start();
    params = auth_params(NULL);
    authorize(&b, "GET", params, &res);
    code = code_from(&b, &res, "alice", "correct horse");
    free(code);
    http_result_free(&res);
    free(params);

    expect_authorize(&b, "&max_age=0", NULL);

    expect_authorize(&b, "&max_age=0&prompt=none", "login_required");

    /* A generous max_age reuses the session. */
    params = auth_params("&max_age=10000");
    authorize(&b, "GET", params, &res);
    ASSERT_EQ(res.status, 302);
    code = code_from(&b, &res, NULL, NULL);
    t = exchange(code);
    claims = oidc_verified_claims(
        &h->gh, json_string_value(json_object_get(t, "id_token")));
    /* auth_time stays whole seconds (OIDC Core §2: a NumericDate). */
    ASSERT(json_is_integer(json_object_get(claims, "auth_time")));
    auth_time = json_integer_value(json_object_get(claims, "auth_time"));
    ASSERT(auth_time > 1700000000 && auth_time <= (int64_t)time(NULL));
    json_decref(claims);
    json_decref(t);
    free(code);
    http_result_free(&res);
    free(params);

    /* oidcc-max-age-1: more than a second later, max_age=1 asks again,
     * and the new sign-in is the auth_time of the code it gives. */
    test_sleep_ms(1100);
    params = auth_params("&max_age=1");
    authorize(&b, "GET", params, &res);
    assert_form(&res);
    code = code_from(&b, &res, "alice", "correct horse");
    t = exchange(code);
    claims = oidc_verified_claims(
        &h->gh, json_string_value(json_object_get(t, "id_token")));
    ASSERT(json_integer_value(json_object_get(claims, "auth_time")) >
           auth_time);
    json_decref(claims);
    json_decref(t);
    free(code);
    http_result_free(&res);
    free(params);
    world_stop(&h);
}

/*
 * oidcc-userinfo-get / oidcc-scope-profile: scope=profile gives every
 * profile claim the user record holds, and email_verified what user add
 * set (it was always false).
 */
TEST(oidcc_userinfo_profile)
{
    struct browser b;
    struct http_result res;
    char *params, *code, url[256], auth[4096], *out = NULL, *err = NULL;
    const char *hdrs[2] = {auth, NULL};
    char *argv[] = {getenv("GATEHOUSE_BIN"), "user", "add", "--config",
                    NULL, "--username", "carol", "--email",
                    "carol@example.com", "--email-verified", "--name",
                    "Carol Dupont", "--given-name", "Carol", "--family-name",
                    "Dupont", "--locale", "fr-CA", "--zoneinfo",
                    "America/Montreal", "--password-stdin", NULL};
    json_t *t, *ui, *claims;
    int64_t now = (int64_t)time(NULL);
    const char *keys[] = {"name", "given_name", "family_name", "locale",
                          "zoneinfo", "preferred_username", "email"};
    size_t i;

    start();
    argv[4] = h->gh.config;
    if (run_cmd(argv, "pw carol\n", &out, &err) != 0)
        FAIL("user add: %s", err ? err : "");
    free(out);
    free(err);
    memset(&b, 0, sizeof(b));
    params = auth_params(NULL);
    authorize(&b, "GET", params, &res);
    code = code_from(&b, &res, "carol", "pw carol");
    http_result_free(&res);
    t = exchange(code);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             json_string_value(json_object_get(t, "access_token")));
    snprintf(url, sizeof(url), "%s/userinfo", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, hdrs, &res), 0);
    ASSERT_EQ(res.status, 200);
    ui = json_loads(res.body, 0, NULL);
    ASSERT(ui != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(ui, "given_name")),
                  "Carol");
    ASSERT_STR_EQ(json_string_value(json_object_get(ui, "family_name")),
                  "Dupont");
    ASSERT_STR_EQ(json_string_value(json_object_get(ui, "locale")), "fr-CA");
    ASSERT_STR_EQ(json_string_value(json_object_get(ui, "zoneinfo")),
                  "America/Montreal");
    ASSERT(json_is_integer(json_object_get(ui, "updated_at")));
    ASSERT(json_integer_value(json_object_get(ui, "updated_at")) >= now - 5);
    ASSERT(json_integer_value(json_object_get(ui, "updated_at")) <= now + 60);
    ASSERT(json_is_true(json_object_get(ui, "email_verified")));
    http_result_free(&res);

    /* The ID token carries the same claims. */
    claims = oidc_verified_claims(
        &h->gh, json_string_value(json_object_get(t, "id_token")));
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ASSERT_STR_EQ(json_string_value(json_object_get(claims, keys[i])),
                      json_string_value(json_object_get(ui, keys[i])));
    ASSERT_EQ(json_integer_value(json_object_get(claims, "updated_at")),
              json_integer_value(json_object_get(ui, "updated_at")));
    ASSERT(json_is_true(json_object_get(claims, "email_verified")));
    json_decref(claims);
    json_decref(ui);
    json_decref(t);
    free(code);
    free(params);

    /* Without scope profile, none of them. */
    params = auth_params(NULL);
    *strstr(params, "%20profile") = '\0';
    {
        char *rest = NULL;
        if (asprintf(&rest, "%s%%20email&state=st8&nonce=n0nce", params) < 0)
            FAIL("asprintf");
        free(params);
        params = rest;
    }
    authorize(&b, "GET", params, &res);
    code = code_from(&b, &res, NULL, NULL);
    http_result_free(&res);
    t = exchange(code);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             json_string_value(json_object_get(t, "access_token")));
    ASSERT_EQ(http_do("GET", url, NULL, hdrs, &res), 0);
    ui = json_loads(res.body, 0, NULL);
    ASSERT(ui != NULL);
    ASSERT(json_object_get(ui, "given_name") == NULL);
    ASSERT(json_object_get(ui, "updated_at") == NULL);
    ASSERT(json_is_true(json_object_get(ui, "email_verified")));
    json_decref(ui);
    json_decref(t);
    http_result_free(&res);
    free(code);
    free(params);

    /* A user added without the options: profile claims absent but
     * updated_at, email_verified false. */
    memset(&b, 0, sizeof(b));
    params = auth_params(NULL);
    authorize(&b, "GET", params, &res);
    code = code_from(&b, &res, "alice", "correct horse");
    http_result_free(&res);
    t = exchange(code);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             json_string_value(json_object_get(t, "access_token")));
    ASSERT_EQ(http_do("GET", url, NULL, hdrs, &res), 0);
    ui = json_loads(res.body, 0, NULL);
    ASSERT(ui != NULL);
    ASSERT(json_object_get(ui, "given_name") == NULL);
    ASSERT(json_object_get(ui, "locale") == NULL);
    ASSERT(json_is_integer(json_object_get(ui, "updated_at")));
    ASSERT(json_is_false(json_object_get(ui, "email_verified")));
    json_decref(ui);
    json_decref(t);
    http_result_free(&res);
    free(code);
    free(params);
    world_stop(&h);
}

TEST_MAIN(TEST_ENTRY(oidcc_id_token_hint),
          TEST_ENTRY(oidcc_state_in_error_redirect),
          TEST_ENTRY(oidcc_ensure_post_request_succeeds),
          TEST_ENTRY(oidcc_max_age_0), TEST_ENTRY(oidcc_userinfo_profile))
