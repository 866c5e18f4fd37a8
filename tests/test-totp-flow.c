/* SPDX-License-Identifier: MIT */
/* TOTP for users (issue 18, SPEC §7): set up an authenticator app on the
 * account page (QR code, key, first code from oathtool, recovery codes
 * once), a wrong first code, new recovery codes, "Remove", and the step-up
 * before setting up. Real Redis and Gatehouse; codes from oathtool, an
 * independent TOTP implementation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

static struct harness *h;

static void
start(const char *extra)
{
    struct harness_opts o = {.apps = 1, .user = "alice:correct horse"};

    if (access("/usr/bin/oathtool", X_OK) != 0) {
        fprintf(stderr, "oathtool not installed\n");
        exit(77);
    }
    h = world_start(&o, "{\"login\":{\"max_failures\":100}}", extra);
}

/* What oathtool says the code of a base32 secret is at epoch second t. */
static void
oathtool_code(const char *b32, long long t, char out[7])
{
    char now[64], *so = NULL;
    char *argv[] = {"/usr/bin/oathtool", "--totp", "-b", now,
                    (char *)b32,         NULL};

    snprintf(now, sizeof(now), "--now=@%lld", t);
    ASSERT_EQ(run_cmd(argv, NULL, &so, NULL), 0);
    ASSERT(so != NULL && strlen(so) >= 6);
    snprintf(out, 7, "%.6s", so);
    free(so);
}

static void
account_do(struct browser *b, const char *method, const char *body,
           struct http_result *res)
{
    char url[128];

    snprintf(url, sizeof(url), "%s/account", h->gh.issuer);
    ASSERT_EQ(browser_do(b, method, url, body, res), 0);
}

/* POSTs "csrf=CSRF&" + rest to /account. */
static void
account_post(struct browser *b, const char *csrf, const char *rest,
             struct http_result *res)
{
    char *body = NULL;

    if (asprintf(&body, "csrf=%s&%s", csrf, rest) < 0)
        FAIL("asprintf");
    account_do(b, "POST", body, res);
    free(body);
}

/* The csrf field of b's account page, and the page. */
static char *
account_page(struct browser *b, struct http_result *res)
{
    char *csrf;

    account_do(b, "GET", NULL, res);
    ASSERT_EQ(res->status, 200);
    csrf = html_hidden(res->body, "csrf");
    ASSERT(csrf != NULL);
    return csrf;
}

/* The key of an enrolment page, its groups joined (malloc'd). */
static char *
page_key(const char *html)
{
    const char *p = strstr(html, "<code id=\"key\">"), *e;
    char *key;
    size_t n = 0;

    ASSERT(p != NULL);
    p += strlen("<code id=\"key\">");
    e = strstr(p, "</code>");
    ASSERT(e != NULL);
    key = calloc(1, (size_t)(e - p) + 1);
    ASSERT(key != NULL);
    for (; p < e; p++)
        if (*p != ' ')
            key[n++] = *p;
    ASSERT_EQ(strlen(key), 32);
    return key;
}

/* How many recovery codes a codes page lists. */
static int
count_codes(const char *html)
{
    const char *p = strstr(html, "<ul id=\"codes\">");
    int n = 0;

    ASSERT(p != NULL);
    while ((p = strstr(p + 1, "<li><code>")) != NULL)
        n++;
    return n;
}

/* The first recovery code of a codes page (malloc'd). */
static char *
first_code(const char *html)
{
    const char *p = strstr(html, "<li><code>");
    char *c = NULL;

    ASSERT(p != NULL);
    p += strlen("<li><code>");
    if (asprintf(&c, "%.*s", (int)strcspn(p, "<"), p) < 0)
        FAIL("asprintf");
    return c;
}

/* A six-digit code oathtool gives for none of the accepted steps. */
static void
wrong_code(const char *key, char out[7])
{
    long long now = (long long)time(NULL);
    char c[3][7];
    int i, v;

    for (i = 0; i < 3; i++)
        oathtool_code(key, now + (i - 1) * 30, c[i]);
    for (v = 0; v < 4; v++) {
        snprintf(out, 7, "00000%d", v);
        if (strcmp(out, c[0]) != 0 && strcmp(out, c[1]) != 0 &&
            strcmp(out, c[2]) != 0)
            return;
    }
    FAIL("no wrong code");
}

TEST(set_up_an_authenticator_app_then_new_codes_then_remove)
{
    struct browser b = {""};
    struct http_result res;
    char *csrf, *csrf2, *key, *key2, *rc1, *rc2, code[7], rest[64];
    json_t *t;

    start(NULL);
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    csrf = account_page(&b, &res);
    ASSERT_CONTAINS(res.body, "Two-step verification");
    ASSERT_CONTAINS(res.body, "name=\"scope\" value=\"totp_setup\"");
    ASSERT(strstr(res.body, "totp_remove") == NULL);
    http_result_free(&res);

    /* A form without its csrf changes nothing. */
    account_post(&b, "x", "scope=totp_setup", &res);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);

    /* The enrolment page: a QR code in inline SVG, the key, a field. */
    account_post(&b, csrf, "scope=totp_setup", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "<svg id=\"qr\"");
    ASSERT_CONTAINS(res.body, "<path fill=\"#000\" d=\"M");
    ASSERT_CONTAINS(res.body, "name=\"code\"");
    ASSERT(strstr(res.body, "<script") == NULL);
    key = page_key(res.body);
    csrf2 = html_hidden(res.body, "csrf");
    ASSERT(csrf2 != NULL);
    http_result_free(&res);

    /* A wrong code: the same key again, with an error; still off. */
    wrong_code(key, code);
    snprintf(rest, sizeof(rest), "scope=totp_activate&code=%s", code);
    account_post(&b, csrf2, rest, &res);
    ASSERT_EQ(res.status, 400);
    ASSERT_CONTAINS(res.body, "That code is not right.");
    key2 = page_key(res.body);
    ASSERT_STR_EQ(key2, key);
    http_result_free(&res);
    account_post(&b, csrf2, "scope=totp_activate&code=12ab", &res);
    ASSERT_EQ(res.status, 400);
    http_result_free(&res);
    free(csrf);
    csrf = account_page(&b, &res);
    ASSERT_CONTAINS(res.body, "value=\"totp_setup\"");
    http_result_free(&res);

    /* The code the app shows now: on, and ten recovery codes once. */
    oathtool_code(key, (long long)time(NULL), code);
    snprintf(rest, sizeof(rest), "scope=totp_activate&code=%s", code);
    account_post(&b, csrf2, rest, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "Two-step verification is on.");
    ASSERT_CONTAINS(res.body, "Save these recovery codes");
    ASSERT_EQ(count_codes(res.body), 10);
    rc1 = first_code(res.body);
    http_result_free(&res);
    /* Its secret is not in Redis in clear. */
    {
        char *argv[] = {"redis-cli", "-s", h->redis.socket, "--scan", NULL};
        char *keys = NULL;

        ASSERT_EQ(run_cmd(argv, NULL, &keys, NULL), 0);
        ASSERT(strstr(keys, key) == NULL);
        free(keys);
    }

    free(csrf);
    csrf = account_page(&b, &res);
    ASSERT_CONTAINS(res.body, "Recovery codes left: 10");
    ASSERT_CONTAINS(res.body, "value=\"totp_remove\"");
    ASSERT_CONTAINS(res.body, "value=\"recovery_new\"");
    ASSERT(strstr(res.body, "value=\"totp_setup\"") == NULL);
    http_result_free(&res);
    /* Set up again while on: refused, nothing replaced. */
    account_post(&b, csrf, "scope=totp_setup", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "Two-step verification is already on.");
    http_result_free(&res);

    /* New recovery codes: ten others. */
    account_post(&b, csrf, "scope=recovery_new", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(count_codes(res.body), 10);
    rc2 = first_code(res.body);
    ASSERT(strcmp(rc1, rc2) != 0);
    ASSERT(strstr(res.body, rc1) == NULL);
    http_result_free(&res);

    /* Remove: off again, this session goes on. */
    account_post(&b, csrf, "scope=totp_remove", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "Two-step verification was removed.");
    ASSERT_CONTAINS(res.body, "value=\"totp_setup\"");
    http_result_free(&res);
    free(csrf);
    csrf = account_page(&b, &res);
    ASSERT_CONTAINS(res.body, "value=\"totp_setup\"");
    http_result_free(&res);

    free(rc1);
    free(rc2);
    free(key);
    free(key2);
    free(csrf);
    free(csrf2);
    world_stop(&h);
}

TEST(a_stale_sign_in_asks_for_the_password_before_setting_up)
{
    struct browser b = {""};
    struct http_result res;
    char *csrf, *csrf2;
    json_t *t;

    start("{\"login\":{\"reauth_window_s\":1}}");
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    test_sleep_ms(1500);
    csrf = account_page(&b, &res);
    http_result_free(&res);
    account_post(&b, csrf, "scope=totp_setup", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "name=\"password\"");
    ASSERT_CONTAINS(res.body, "value=\"totp_setup\"");
    ASSERT(strstr(res.body, "<svg") == NULL);
    csrf2 = html_hidden(res.body, "csrf");
    ASSERT(csrf2 != NULL);
    http_result_free(&res);
    account_post(&b, csrf2, "scope=totp_setup&password=wrong", &res);
    ASSERT_EQ(res.status, 401);
    ASSERT(strstr(res.body, "<svg") == NULL);
    http_result_free(&res);
    account_post(&b, csrf2, "scope=totp_setup&password=correct%20horse", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "<svg id=\"qr\"");
    http_result_free(&res);
    free(csrf);
    free(csrf2);
    world_stop(&h);
}

/* Sets up TOTP for the signed-in browser b: its key into key (33 bytes)
 * and its first recovery code (malloc'd) into *rcode. */
static void
enrol(struct browser *b, char key[33], char **rcode)
{
    struct http_result res;
    char *csrf, *csrf2, *k, code[7], rest[64];

    csrf = account_page(b, &res);
    http_result_free(&res);
    account_post(b, csrf, "scope=totp_setup", &res);
    ASSERT_EQ(res.status, 200);
    k = page_key(res.body);
    csrf2 = html_hidden(res.body, "csrf");
    http_result_free(&res);
    oathtool_code(k, (long long)time(NULL), code);
    snprintf(rest, sizeof(rest), "scope=totp_activate&code=%s", code);
    account_post(b, csrf2, rest, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(count_codes(res.body), 10);
    *rcode = first_code(res.body);
    http_result_free(&res);
    snprintf(key, 33, "%s", k);
    free(k);
    free(csrf);
    free(csrf2);
}

/* The last page password_step was answered with. */
static char *last_page;
/* What password_step adds to the /authorize URL ("&k=v"), or NULL. */
static const char *auth_extra;

/* Starts a sign-in to app 0 in b with the password: the "step" of the
 * page that asks for a code (or sets one up) (malloc'd), or NULL if the
 * answer was no such page (then *status is what it was). */
static char *
password_step(struct browser *b, const char *password, int *status)
{
    char *url = oidc_authorize_url(&h->gh, h->apps[0].client_id,
                                   h->apps[0].redirect_uri, auth_extra);
    char *csrf, *request, *body = NULL, *pw, *step, lurl[160];
    struct http_result res;
    int had;

    had = browser_has_cookie(b, "gh_session");
    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    csrf = html_hidden(res.body, "csrf");
    request = html_hidden(res.body, "request");
    http_result_free(&res);
    ASSERT(csrf != NULL && request != NULL);
    pw = url_encode(password);
    if (asprintf(&body, "username=alice&password=%s&csrf=%s&request=%s", pw,
                 csrf, request) < 0)
        FAIL("asprintf");
    snprintf(lurl, sizeof(lurl), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "POST", lurl, body, &res), 0);
    *status = (int)res.status;
    free(last_page);
    last_page = strdup(res.body != NULL ? res.body : "");
    step = res.status == 200 ? html_hidden(res.body, "step") : NULL;
    if (step != NULL) {
        ASSERT_CONTAINS(res.body, "name=\"code\"");
        /* No new session yet (a step-up keeps the one it had). */
        ASSERT(had || !browser_has_cookie(b, "gh_session"));
    }
    http_result_free(&res);
    free(body);
    free(pw);
    free(request);
    free(csrf);
    free(url);
    return step;
}

/* Posts the second step: the response. */
static void
code_step(struct browser *b, const char *step, const char *code,
          struct http_result *res)
{
    char *body = NULL, *c = url_encode(code), lurl[160];

    if (asprintf(&body, "step=%s&code=%s", step, c) < 0)
        FAIL("asprintf");
    snprintf(lurl, sizeof(lurl), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "POST", lurl, body, res), 0);
    free(body);
    free(c);
}

/* The ID token's claims for the code a 303 to the app carries. */
static json_t *
id_claims(const struct http_result *res)
{
    char *loc = http_header_value(res, "Location"), *code, *ru, *body = NULL;
    char basic[160];
    json_t *t, *claims;

    ASSERT(loc != NULL && (code = url_param(loc, "code")) != NULL);
    ru = url_encode(h->apps[0].redirect_uri);
    if (asprintf(&body, "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    snprintf(basic, sizeof(basic), "%s:%s", h->apps[0].client_id,
             h->apps[0].client_secret);
    t = oidc_token(&h->gh, body, basic, 200);
    claims = oidc_verified_claims(&h->gh, world_str(t, "id_token"));
    json_decref(t);
    free(body);
    free(ru);
    free(code);
    free(loc);
    return claims;
}

/* A code for a later step than any used so far (activation used now's):
 * the next step's, within the ±1 step accepted. */
static void
next_code(const char *key, char out[7])
{
    oathtool_code(key, (long long)time(NULL) + 30, out);
}

TEST(sign_in_asks_for_the_code_and_the_id_token_says_otp)
{
    struct browser b = {""}, b2 = {""}, b3 = {""};
    struct http_result res;
    char key[33], *rcode, *step, code[7], bad[7];
    json_t *t, *c, *amr;
    int status;

    start(NULL);
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    enrol(&b, key, &rcode);

    /* A wrong password is still just a wrong password. */
    ASSERT(password_step(&b2, "wrong", &status) == NULL);
    ASSERT_EQ(status, 401);
    step = password_step(&b2, "correct horse", &status);
    ASSERT(step != NULL);
    /* A forged state changes nothing. */
    code_step(&b2, "forged", "123456", &res);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    /* Not a code at all: asked again. */
    code_step(&b2, step, "12ab", &res);
    ASSERT_EQ(res.status, 400);
    ASSERT_CONTAINS(res.body, "name=\"step\"");
    http_result_free(&res);
    /* A wrong code: asked again, no session. */
    wrong_code(key, bad);
    code_step(&b2, step, bad, &res);
    ASSERT_EQ(res.status, 401);
    ASSERT_CONTAINS(res.body, "Incorrect code.");
    ASSERT(!browser_has_cookie(&b2, "gh_session"));
    http_result_free(&res);
    /* The right one: a session, and the app's ID token says so. */
    next_code(key, code);
    code_step(&b2, step, code, &res);
    ASSERT_EQ(res.status, 303);
    ASSERT(browser_has_cookie(&b2, "gh_session"));
    c = id_claims(&res);
    http_result_free(&res);
    amr = json_object_get(c, "amr");
    ASSERT_EQ(json_array_size(amr), 2);
    ASSERT_STR_EQ(json_string_value(json_array_get(amr, 0)), "pwd");
    ASSERT_STR_EQ(json_string_value(json_array_get(amr, 1)), "otp");
    ASSERT_STR_EQ(world_str(c, "acr"), "urn:gatehouse:acr:2fa");
    json_decref(c);
    /* The state cannot be posted again from that browser. */
    code_step(&b2, step, code, &res);
    ASSERT_EQ(res.status, 403);
    http_result_free(&res);
    free(step);

    /* The same code in another browser: replayed, refused. */
    step = password_step(&b3, "correct horse", &status);
    ASSERT(step != NULL);
    code_step(&b3, step, code, &res);
    ASSERT_EQ(res.status, 401);
    ASSERT_CONTAINS(res.body, "already used");
    ASSERT(!browser_has_cookie(&b3, "gh_session"));
    http_result_free(&res);
    /* A recovery code works, once. */
    code_step(&b3, step, rcode, &res);
    ASSERT_EQ(res.status, 303);
    c = id_claims(&res);
    ASSERT_EQ(json_array_size(json_object_get(c, "amr")), 2);
    json_decref(c);
    http_result_free(&res);
    free(step);
    {
        char *csrf = account_page(&b3, &res);

        ASSERT_CONTAINS(res.body, "Recovery codes left: 9");
        http_result_free(&res);
        free(csrf);
    }
    {
        struct browser b4 = {""};

        step = password_step(&b4, "correct horse", &status);
        ASSERT(step != NULL);
        code_step(&b4, step, rcode, &res);
        ASSERT_EQ(res.status, 401);
        ASSERT(!browser_has_cookie(&b4, "gh_session"));
        http_result_free(&res);
        free(step);
    }
    free(rcode);
    world_stop(&h);
}

TEST(wrong_codes_count_into_the_lockout)
{
    struct browser b = {""}, b2 = {""};
    struct http_result res;
    char key[33], *rcode, *step, code[7], bad[7];
    json_t *t;
    int status, i;

    start("{\"login\":{\"max_failures\":3}}");
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    enrol(&b, key, &rcode);
    step = password_step(&b2, "correct horse", &status);
    ASSERT(step != NULL);
    wrong_code(key, bad);
    for (i = 0; i < 3; i++) {
        code_step(&b2, step, bad, &res);
        ASSERT_EQ(res.status, 401);
        http_result_free(&res);
    }
    /* Locked: even the right code is not looked at. */
    next_code(key, code);
    code_step(&b2, step, code, &res);
    ASSERT_EQ(res.status, 429);
    ASSERT(!browser_has_cookie(&b2, "gh_session"));
    http_result_free(&res);
    /* And the password alone is locked out too. */
    free(step);
    step = password_step(&b2, "correct horse", &status);
    ASSERT(step == NULL);
    ASSERT_EQ(status, 429);
    free(rcode);
    world_stop(&h);
}

TEST(the_code_page_speaks_chinese)
{
    struct browser b = {""}, b2 = {""};
    struct http_result res;
    char key[33], *rcode, *step, lurl[200], *body = NULL;
    json_t *t;
    int status;

    start(NULL);
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    enrol(&b, key, &rcode);
    step = password_step(&b2, "correct horse", &status);
    ASSERT(step != NULL);
    if (asprintf(&body, "step=%s&code=000000x", step) < 0)
        FAIL("asprintf");
    snprintf(lurl, sizeof(lurl), "%s/login?lang=zh-CN", h->gh.issuer);
    ASSERT_EQ(browser_do(&b2, "POST", lurl, body, &res), 0);
    ASSERT_EQ(res.status, 400);
    ASSERT_CONTAINS(res.body, "<html lang=\"zh-CN\">");
    ASSERT_CONTAINS(res.body, "两步验证");
    ASSERT_CONTAINS(res.body, "请输入应用中的 6 位验证码");
    ASSERT_CONTAINS(res.body, "action=\"/login?lang=zh-CN\"");
    http_result_free(&res);
    free(body);
    free(step);
    free(rcode);
    world_stop(&h);
}

TEST(policy_required_sets_up_before_any_app_gets_a_code)
{
    struct browser b = {""};
    struct http_result res;
    char *step, *step2, *key, *key2, code[7], bad[7], *csrf, lurl[160];
    char *body = NULL;
    json_t *c, *amr;
    int status;

    start("{\"login\":{\"second_factor\":\"required\"}}");
    step = password_step(&b, "correct horse", &status);
    ASSERT_EQ(status, 200);
    ASSERT(step != NULL);
    snprintf(lurl, sizeof(lurl), "%s/login", h->gh.issuer);
    ASSERT_CONTAINS(last_page, "<svg id=\"qr\"");
    ASSERT(strstr(last_page, "value=\"totp_activate\"") == NULL);
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    key = page_key(last_page);
    /* A wrong first code: the same key again. */
    wrong_code(key, bad);
    code_step(&b, step, bad, &res);
    ASSERT_EQ(res.status, 400);
    key2 = page_key(res.body);
    ASSERT_STR_EQ(key, key2);
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    http_result_free(&res);
    /* The right one: recovery codes, then on to the app. */
    oathtool_code(key, (long long)time(NULL), code);
    code_step(&b, step, code, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(count_codes(res.body), 10);
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    step2 = html_hidden(res.body, "step");
    ASSERT(step2 != NULL);
    http_result_free(&res);
    if (asprintf(&body, "step=%s", step2) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "POST", lurl, body, &res), 0);
    free(body);
    ASSERT_EQ(res.status, 303);
    c = id_claims(&res);
    http_result_free(&res);
    amr = json_object_get(c, "amr");
    ASSERT_EQ(json_array_size(amr), 2);
    ASSERT_STR_EQ(json_string_value(json_array_get(amr, 1)), "otp");
    json_decref(c);
    /* "Remove" is refused under this policy. */
    csrf = account_page(&b, &res);
    http_result_free(&res);
    account_post(&b, csrf, "scope=totp_remove", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "cannot be removed");
    ASSERT_CONTAINS(res.body, "value=\"totp_remove\"");
    http_result_free(&res);
    free(csrf);
    free(step);
    free(step2);
    free(key);
    free(key2);
    world_stop(&h);
}

TEST(policy_off_asks_no_code_even_when_set_up)
{
    struct browser b = {""}, b2 = {""};
    char key[33], *rcode, *step;
    json_t *t;
    int status;

    start("{\"login\":{\"second_factor\":\"off\"}}");
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    enrol(&b, key, &rcode);
    step = password_step(&b2, "correct horse", &status);
    ASSERT(step == NULL);
    ASSERT_EQ(status, 303);
    ASSERT(browser_has_cookie(&b2, "gh_session"));
    free(rcode);
    world_stop(&h);
}

TEST(a_stale_sign_in_steps_up_with_a_code)
{
    struct browser b = {""};
    struct http_result res;
    char key[33], *rcode, *csrf, *csrf2, code[7], bad[7], rest[96];
    json_t *t;

    start("{\"login\":{\"reauth_window_s\":2}}");
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    enrol(&b, key, &rcode);
    test_sleep_ms(2500);
    csrf = account_page(&b, &res);
    http_result_free(&res);
    account_post(&b, csrf, "scope=recovery_new", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "name=\"password\"");
    ASSERT_CONTAINS(res.body, "name=\"code\"");
    csrf2 = html_hidden(res.body, "csrf");
    http_result_free(&res);
    wrong_code(key, bad);
    snprintf(rest, sizeof(rest), "scope=recovery_new&password=&code=%s", bad);
    account_post(&b, csrf2, rest, &res);
    ASSERT_EQ(res.status, 401);
    ASSERT_CONTAINS(res.body, "Incorrect code.");
    ASSERT(strstr(res.body, "<ul id=\"codes\">") == NULL);
    http_result_free(&res);
    next_code(key, code);
    snprintf(rest, sizeof(rest), "scope=recovery_new&password=&code=%s", code);
    account_post(&b, csrf2, rest, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(count_codes(res.body), 10);
    free(rcode);
    rcode = first_code(res.body); /* the new ones */
    http_result_free(&res);
    /* "Sign out everywhere" past the window takes a code too (here a
     * recovery code: the app's code of this step is spent). */
    test_sleep_ms(2500);
    {
        char url[160], *lcsrf, *lcsrf2, *body = NULL;

        snprintf(url, sizeof(url), "%s/logout", h->gh.issuer);
        ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
        lcsrf = html_hidden(res.body, "csrf");
        ASSERT(lcsrf != NULL);
        http_result_free(&res);
        if (asprintf(&body, "csrf=%s&scope=everywhere", lcsrf) < 0)
            FAIL("asprintf");
        ASSERT_EQ(browser_do(&b, "POST", url, body, &res), 0);
        free(body);
        ASSERT_EQ(res.status, 200);
        ASSERT_CONTAINS(res.body, "name=\"code\"");
        lcsrf2 = html_hidden(res.body, "csrf");
        http_result_free(&res);
        if (asprintf(&body, "csrf=%s&scope=everywhere&code=%s", lcsrf2, bad) <
            0)
            FAIL("asprintf");
        ASSERT_EQ(browser_do(&b, "POST", url, body, &res), 0);
        free(body);
        ASSERT_EQ(res.status, 401);
        ASSERT_CONTAINS(res.body, "Incorrect code.");
        http_result_free(&res);
        if (asprintf(&body, "csrf=%s&scope=everywhere&code=%s", lcsrf2, rcode) <
            0)
            FAIL("asprintf");
        ASSERT_EQ(browser_do(&b, "POST", url, body, &res), 0);
        free(body);
        ASSERT_EQ(res.status, 200);
        ASSERT_CONTAINS(res.body, "You are signed out");
        http_result_free(&res);
        free(lcsrf);
        free(lcsrf2);
    }
    free(rcode);
    free(csrf);
    free(csrf2);
    world_stop(&h);
}

#define ACR2FA "&acr_values=urn%3Agatehouse%3Aacr%3A2fa"

TEST(acr_values_asks_for_the_code_instead_of_silent_sso)
{
    struct browser b = {""};
    struct http_result res;
    char key[33], *rcode, *url, *step, *loc, code[7], durl[160];
    json_t *t, *c;
    int status;

    start(NULL);
    snprintf(durl, sizeof(durl), "%s/.well-known/openid-configuration",
             h->gh.issuer);
    ASSERT_EQ(http_do("GET", durl, NULL, NULL, &res), 0);
    ASSERT_CONTAINS(res.body, "\"acr_values_supported\"");
    ASSERT_CONTAINS(res.body, "urn:gatehouse:acr:2fa");
    http_result_free(&res);
    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    json_decref(t);
    enrol(&b, key, &rcode);
    /* Without acr_values the password session is enough (silent SSO). */
    url = oidc_authorize_url(&h->gh, h->apps[0].client_id,
                             h->apps[0].redirect_uri, "&prompt=none");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    ASSERT(loc != NULL && strstr(loc, "code=") != NULL);
    free(loc);
    http_result_free(&res);
    free(url);
    /* Asking for a second factor with prompt=none: interaction_required. */
    url = oidc_authorize_url(&h->gh, h->apps[0].client_id,
                             h->apps[0].redirect_uri, ACR2FA "&prompt=none");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    ASSERT(loc != NULL && strstr(loc, "error=interaction_required") != NULL);
    free(loc);
    http_result_free(&res);
    free(url);
    /* Without prompt=none: the sign-in and its code step, then acr 2fa. */
    auth_extra = ACR2FA;
    step = password_step(&b, "correct horse", &status);
    ASSERT(step != NULL);
    next_code(key, code);
    code_step(&b, step, code, &res);
    ASSERT_EQ(res.status, 303);
    c = id_claims(&res);
    ASSERT_STR_EQ(world_str(c, "acr"), "urn:gatehouse:acr:2fa");
    json_decref(c);
    http_result_free(&res);
    free(step);
    /* Now the session has it: silent SSO again. */
    url = oidc_authorize_url(&h->gh, h->apps[0].client_id,
                             h->apps[0].redirect_uri, ACR2FA "&prompt=none");
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    ASSERT(loc != NULL && strstr(loc, "code=") != NULL &&
           strstr(loc, "error=") == NULL);
    free(loc);
    http_result_free(&res);
    free(url);
    auth_extra = NULL;
    free(rcode);
    world_stop(&h);
}

TEST(acr_values_sends_a_user_without_a_factor_to_set_one_up)
{
    struct browser b = {""};
    char *step;
    int status;

    start(NULL);
    auth_extra = ACR2FA;
    step = password_step(&b, "correct horse", &status);
    auth_extra = NULL;
    ASSERT(step != NULL);
    ASSERT_CONTAINS(last_page, "<svg id=\"qr\"");
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    free(step);
    world_stop(&h);
}

/* gatehouse user require-factor --username alice [--off]: its output. */
static char *
require_factor_cli(int off)
{
    const char *bin = getenv("GATEHOUSE_BIN");
    char *argv[] = {
        (char *)bin,  "user",  "require-factor",     "--config", h->gh.config,
        "--username", "alice", off ? "--off" : NULL, NULL};
    char *out = NULL;

    ASSERT(bin != NULL);
    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    return out;
}

/* PUT /admin/users/alice/factors/required with body: the status. */
static long
require_factor_api(const char *body)
{
    char url[256], auth[2048], creds[128];
    const char *hdrs[] = {auth, "Content-Type: application/json", NULL};
    struct http_result res;
    json_t *t;
    long status;

    snprintf(creds, sizeof(creds), "%s:%s", HARNESS_ADMIN_CLIENT,
             h->admin_secret);
    t = oidc_token(&h->gh, "grant_type=client_credentials", creds, 200);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             world_str(t, "access_token"));
    json_decref(t);
    snprintf(url, sizeof(url), "%s/admin/users/alice/factors/required",
             h->gh.issuer);
    ASSERT_EQ(http_do("PUT", url, body, hdrs, &res), 0);
    status = res.status;
    http_result_free(&res);
    return status;
}

/* Whether the audit stream holds a require_factor record. */
static int
audited_require(void)
{
    char *argv[] = {"redis-cli", "-s",       h->redis.socket,
                    "XRANGE",    "gh:audit", "-",
                    "+",         NULL};
    char *out = NULL;
    int n = 0;
    const char *p;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    for (p = out; (p = strstr(p, "require_factor")) != NULL; p++)
        n++;
    free(out);
    return n;
}

TEST(an_administrator_requires_a_factor_of_one_user)
{
    struct browser b = {""}, b2 = {""}, b3 = {""};
    struct http_result res;
    char *out, *step, *csrf, key[33], *rcode;
    int status;

    start(NULL);
    out = require_factor_cli(0);
    ASSERT_CONTAINS(out, "second factor required");
    free(out);
    ASSERT(audited_require() >= 1);
    /* The next sign-in sets one up before the app gets a code. */
    step = password_step(&b, "correct horse", &status);
    ASSERT(step != NULL);
    ASSERT_CONTAINS(last_page, "<svg id=\"qr\"");
    free(step);
    /* Lifted: the password alone again. */
    out = require_factor_cli(1);
    ASSERT_CONTAINS(out, "not required");
    free(out);
    step = password_step(&b2, "correct horse", &status);
    ASSERT(step == NULL);
    ASSERT_EQ(status, 303);
    /* The Admin API: bad bodies change nothing; true requires it. */
    ASSERT_EQ(require_factor_api("{\"required\":1}"), 400);
    ASSERT_EQ(require_factor_api("{\"required\":true,\"x\":1}"), 400);
    ASSERT_EQ(require_factor_api("nope"), 400);
    ASSERT_EQ(require_factor_api("{\"required\":true}"), 200);
    ASSERT(audited_require() >= 2);
    /* A sign-in now sets one up first. */
    step = password_step(&b3, "correct horse", &status);
    ASSERT(step != NULL);
    ASSERT_CONTAINS(last_page, "<svg id=\"qr\"");
    free(step);
    /* b2 (signed in while it was lifted) sets one up on the account
     * page; "Remove" is refused while it is required. */
    ASSERT_EQ(require_factor_api("{\"required\":false}"), 200);
    enrol(&b2, key, &rcode);
    ASSERT_EQ(require_factor_api("{\"required\":true}"), 200);
    csrf = account_page(&b2, &res);
    http_result_free(&res);
    account_post(&b2, csrf, "scope=totp_remove", &res);
    ASSERT_CONTAINS(res.body, "cannot be removed");
    http_result_free(&res);
    free(csrf);
    free(rcode);
    world_stop(&h);
}

TEST_MAIN(TEST_ENTRY(set_up_an_authenticator_app_then_new_codes_then_remove),
          TEST_ENTRY(a_stale_sign_in_asks_for_the_password_before_setting_up),
          TEST_ENTRY(sign_in_asks_for_the_code_and_the_id_token_says_otp),
          TEST_ENTRY(wrong_codes_count_into_the_lockout),
          TEST_ENTRY(the_code_page_speaks_chinese),
          TEST_ENTRY(policy_required_sets_up_before_any_app_gets_a_code),
          TEST_ENTRY(policy_off_asks_no_code_even_when_set_up),
          TEST_ENTRY(a_stale_sign_in_steps_up_with_a_code),
          TEST_ENTRY(acr_values_asks_for_the_code_instead_of_silent_sso),
          TEST_ENTRY(acr_values_sends_a_user_without_a_factor_to_set_one_up),
          TEST_ENTRY(an_administrator_requires_a_factor_of_one_user))
