/* SPDX-License-Identifier: MIT */
/* "Keep me signed in on this device" (issue 17 item 4, SPEC §5): the SSO
 * cookie is a browser-session cookie unless the person ticked it at
 * sign-in, then it lasts until the session's absolute timeout; the choice
 * survives the form's round trip through /authorize and a failed attempt.
 * Real Redis and Gatehouse. */
#include "harness/world.h"
#include "test.h"

#define ABSOLUTE_S 7200

static struct harness *h;

static void
start(void)
{
    char config[128];

    snprintf(config, sizeof(config),
             "{\"session\":{\"absolute_timeout_s\":%d}}", ABSOLUTE_S);
    h = world_start(
        &(struct harness_opts){.apps = 1, .user = "alice:correct horse"},
        config, NULL);
}

/* The Set-Cookie line of the SSO cookie in res (malloc'd, up to its end of
 * line), or NULL when the answer sets none. */
static char *
sso_set_cookie(const struct http_result *res)
{
    const char *p = strcasestr(res->headers, "\nSet-Cookie: gh_session=");

    return p != NULL ? strndup(p + 1, strcspn(p + 1, "\r\n")) : NULL;
}

/* Posts the sign-in form in page (its csrf and request) with keep as the
 * "keep" field (NULL: not sent), into res. */
static void
post_form(struct browser *b, const char *page, const char *password,
          const char *keep, struct http_result *res)
{
    char *csrf = html_hidden(page, "csrf"), *request;
    char *body = NULL, url[256];

    request = html_hidden(page, "request");
    ASSERT(csrf != NULL);
    ASSERT(asprintf(&body, "username=alice&password=%s&csrf=%s%s%s%s%s",
                    password, csrf, request ? "&request=" : "",
                    request ? request : "", keep ? "&keep=" : "",
                    keep ? keep : "") > 0);
    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "POST", url, body, res), 0);
    free(body);
    free(csrf);
    free(request);
}

/* GET /login: the form, into res. */
static void
get_form(struct browser *b, struct http_result *res)
{
    char url[256];

    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "GET", url, NULL, res), 0);
    ASSERT_EQ(res->status, 200);
}

/* Whether the form in html has the keep checkbox ticked. */
static int
ticked(const char *html)
{
    const char *p = strstr(html, "name=\"keep\"");
    const char *end = p != NULL ? strchr(p, '>') : NULL;
    const char *c = p != NULL ? strstr(p, " checked") : NULL;

    ASSERT(p != NULL && end != NULL);
    return c != NULL && c < end;
}

TEST(without_keep_the_sso_cookie_ends_with_the_browser)
{
    struct browser b = {{0}};
    struct http_result form, res;
    char *sc;

    start();
    get_form(&b, &form);
    ASSERT(!ticked(form.body));
    post_form(&b, form.body, "correct%20horse", NULL, &res);
    ASSERT_EQ(res.status, 200);
    ASSERT((sc = sso_set_cookie(&res)) != NULL);
    ASSERT(strcasestr(sc, "Max-Age") == NULL);
    ASSERT(strcasestr(sc, "Expires") == NULL);
    ASSERT_CONTAINS(sc, "; HttpOnly; SameSite=Lax");
    free(sc);
    http_result_free(&res);
    http_result_free(&form);
    world_stop(&h);
}

TEST(with_keep_the_sso_cookie_lasts_until_the_absolute_timeout)
{
    struct browser b = {{0}};
    struct http_result form, res;
    char *sc, want[64];

    start();
    get_form(&b, &form);
    post_form(&b, form.body, "correct%20horse", "1", &res);
    ASSERT_EQ(res.status, 200);
    ASSERT((sc = sso_set_cookie(&res)) != NULL);
    snprintf(want, sizeof(want), "; Max-Age=%d;", ABSOLUTE_S);
    ASSERT_CONTAINS(sc, want);
    ASSERT(strcasestr(sc, "Expires") == NULL);
    free(sc);
    http_result_free(&res);
    http_result_free(&form);
    world_stop(&h);
}

/* From an app's /authorize, the pending request sealed in the form: the
 * choice comes back with it, and through a failed attempt, re-shown
 * ticked; unticked, a failed attempt re-shows it unticked. */
TEST(keep_survives_the_authorize_round_trip_and_a_failed_attempt)
{
    struct browser b = {{0}}, plain = {{0}};
    struct http_result form, res, again;
    char *url, *sc, *loc, *request, want[64];

    start();
    url = oidc_authorize_url(&h->gh, h->apps[0].client_id,
                             h->apps[0].redirect_uri, NULL);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &form), 0);
    ASSERT_EQ(form.status, 200);
    ASSERT((request = html_hidden(form.body, "request")) != NULL);
    free(request);
    ASSERT(!ticked(form.body));

    post_form(&b, form.body, "wrong", "1", &res);
    ASSERT_EQ(res.status, 401);
    ASSERT(sso_set_cookie(&res) == NULL);
    ASSERT(ticked(res.body));

    /* The form shown again, sent as it is: the code, and the cookie. */
    post_form(&b, res.body, "correct%20horse", "1", &again);
    ASSERT_EQ(again.status, 303);
    ASSERT((loc = http_header_value(&again, "Location")) != NULL);
    ASSERT(strncmp(loc, h->apps[0].redirect_uri,
                   strlen(h->apps[0].redirect_uri)) == 0);
    ASSERT_CONTAINS(loc, "code=");
    ASSERT((sc = sso_set_cookie(&again)) != NULL);
    snprintf(want, sizeof(want), "; Max-Age=%d;", ABSOLUTE_S);
    ASSERT_CONTAINS(sc, want);
    free(sc);
    free(loc);
    http_result_free(&again);
    http_result_free(&res);

    /* Unticked stays unticked through a failure. */
    ASSERT_EQ(browser_do(&plain, "GET", url, NULL, &res), 0);
    post_form(&plain, res.body, "wrong", NULL, &again);
    ASSERT_EQ(again.status, 401);
    ASSERT(!ticked(again.body));
    http_result_free(&again);
    http_result_free(&res);
    http_result_free(&form);
    free(url);
    world_stop(&h);
}

/* Bad input changes nothing: a value the checkbox never sends is refused
 * before the password is looked at. */
TEST(a_keep_value_the_form_never_sends_is_refused)
{
    struct browser b = {{0}};
    struct http_result form, res;

    start();
    get_form(&b, &form);
    post_form(&b, form.body, "correct%20horse", "forever", &res);
    ASSERT_EQ(res.status, 400);
    ASSERT(sso_set_cookie(&res) == NULL);
    ASSERT(!browser_has_cookie(&b, "gh_session"));
    http_result_free(&res);
    http_result_free(&form);
    world_stop(&h);
}

TEST_MAIN(
    TEST_ENTRY(without_keep_the_sso_cookie_ends_with_the_browser),
    TEST_ENTRY(with_keep_the_sso_cookie_lasts_until_the_absolute_timeout),
    TEST_ENTRY(keep_survives_the_authorize_round_trip_and_a_failed_attempt),
    TEST_ENTRY(a_keep_value_the_form_never_sends_is_refused))
