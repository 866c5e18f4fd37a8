/* SPDX-License-Identifier: MIT */
/* The language of the pages over real HTTP, from a real server, and what
 * serve and check-config say when the Chinese catalog cannot be used. */
#include <stdlib.h>

#include "support.h"
#include "test.h"

static struct redis_proc redis;
static struct gh_proc gh;

/* 登录 ("Sign in"), 未知应用 ("Unknown application") */
#define ZH_SIGN_IN "\xe7\x99\xbb\xe5\xbd\x95"
#define ZH_UNKNOWN_APP "\xe6\x9c\xaa\xe7\x9f\xa5\xe5\xba\x94\xe7\x94\xa8"

static void
start(void)
{
    if (redis_start(&redis, 0) < 0)
        FAIL("redis did not start");
    if (gh_start(&gh, redis.url, "ES256", NULL) < 0)
        FAIL("gatehouse did not start");
}

static void
stop(void)
{
    gh_stop(&gh);
    redis_stop(&redis, 0);
}

/* GET path with Accept-Language al (NULL: none); the page, status want. */
static char *
page(const char *path, const char *al, long want)
{
    char url[512], header[256];
    const char *headers[] = {header, NULL};
    struct http_result res;
    char *body;

    snprintf(url, sizeof(url), "%s%s", gh.issuer, path);
    snprintf(header, sizeof(header), "Accept-Language: %s", al ? al : "");
    if (http_do("GET", url, NULL, al ? headers : NULL, &res) < 0)
        FAIL("GET %s", url);
    if (res.status != want)
        FAIL("GET %s: %ld, want %ld", url, res.status, want);
    body = res.body;
    res.body = NULL;
    http_result_free(&res);
    return body;
}

TEST(pages_speak_the_language_asked_for)
{
    char *html;

    start();
    /* an error page: /authorize naming no application */
    html = page("/authorize", NULL, 400);
    ASSERT_CONTAINS(html, "<html lang=\"en\">");
    ASSERT_CONTAINS(html, "<h1>Unknown application</h1>");
    free(html);

    html = page("/authorize", "fr;q=0.9, zh-CN;q=0.8, en;q=0.1", 400);
    ASSERT_CONTAINS(html, "<html lang=\"zh-CN\">");
    ASSERT_CONTAINS(html, "<h1>" ZH_UNKNOWN_APP "</h1>");
    ASSERT(strstr(html, "Unknown application") == NULL);
    free(html);

    html = page("/authorize", "zh-CN;q=0.5, en", 400);
    ASSERT_CONTAINS(html, "<html lang=\"en\">");
    free(html);

    /* the parameter overrides the header, either way */
    html = page("/authorize?lang=zh-CN", "en", 400);
    ASSERT_CONTAINS(html, "<h1>" ZH_UNKNOWN_APP "</h1>");
    free(html);
    html = page("/authorize?lang=en", "zh-CN", 400);
    ASSERT_CONTAINS(html, "<h1>Unknown application</h1>");
    free(html);

    /* the sign-in form; the parameter is carried on in its action */
    html = page("/login?lang=zh", NULL, 200);
    ASSERT_CONTAINS(html, "<html lang=\"zh-CN\">");
    ASSERT_CONTAINS(html, "<button type=\"submit\">" ZH_SIGN_IN "</button>");
    ASSERT_CONTAINS(html, "action=\"/login?lang=zh-CN\"");
    free(html);
    html = page("/login", "zh-CN", 200);
    ASSERT_CONTAINS(html, "<button type=\"submit\">" ZH_SIGN_IN "</button>");
    ASSERT_CONTAINS(html, "action=\"/login\"");
    free(html);

    /* logout with nothing to end */
    html = page("/logout", "zh", 200);
    ASSERT_CONTAINS(html, "<html lang=\"zh-CN\">");
    ASSERT(strstr(html, "You are signed out") == NULL);
    free(html);
    stop();
}

/* A host without the catalog: one warning at start, English for all. */
TEST(serve_without_the_catalog_warns_once_and_speaks_english)
{
    char *html, *log, *at;

    setenv("GATEHOUSE_LOCALEDIR", "/nonexistent/locale", 1);
    start();
    html = page("/authorize", "zh-CN", 400);
    /* English, and its lang says so */
    ASSERT_CONTAINS(html, "<html lang=\"en\">");
    ASSERT_CONTAINS(html, "<h1>Unknown application</h1>");
    free(html);
    html = page("/login?lang=zh-CN", NULL, 200);
    ASSERT_CONTAINS(html, "<html lang=\"en\">");
    ASSERT_CONTAINS(html, "<button type=\"submit\">Sign in</button>");
    free(html);
    log = gh_log(&gh);
    ASSERT((at = strstr(log, "i18n_unavailable")) != NULL);
    ASSERT(strstr(at + 1, "i18n_unavailable") == NULL);
    ASSERT_CONTAINS(log, "GATEHOUSE_LOCALEDIR");
    free(log);
    stop();
}

TEST(check_config_warns_without_the_catalog)
{
    char *err = NULL, *out = NULL;
    char *argv[] = {getenv("GATEHOUSE_BIN"), "check-config", "--config", NULL,
                    NULL};

    if (redis_start(&redis, 0) < 0)
        FAIL("redis");
    ASSERT_EQ(gh_prepare(&gh, redis.url, "ES256,RS256", NULL), 0);
    argv[3] = gh.config;
    ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 0);
    ASSERT_CONTAINS(out, ": ok");
    ASSERT(err == NULL || strstr(err, "English") == NULL);
    free(out);
    free(err);

    setenv("GATEHOUSE_LOCALEDIR", "/nonexistent/locale", 1);
    ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 0);
    ASSERT_CONTAINS(out, ": ok");
    ASSERT_CONTAINS(err, "warning: no Chinese catalog");
    ASSERT_CONTAINS(err, "served in English");
    free(out);
    free(err);
    gh_stop(&gh);
    redis_stop(&redis, 0);
}

TEST_MAIN(TEST_ENTRY(pages_speak_the_language_asked_for),
          TEST_ENTRY(serve_without_the_catalog_warns_once_and_speaks_english),
          TEST_ENTRY(check_config_warns_without_the_catalog))
