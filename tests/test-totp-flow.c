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
    char *argv[] = {"/usr/bin/oathtool", "--totp", "-b", now, (char *)b32,
                    NULL};

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

TEST_MAIN(TEST_ENTRY(set_up_an_authenticator_app_then_new_codes_then_remove),
          TEST_ENTRY(a_stale_sign_in_asks_for_the_password_before_setting_up))
