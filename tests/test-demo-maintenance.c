/* SPDX-License-Identifier: MIT */
/* The demo app's maintenance banner (src/demo/maintenance.c): what it
 * reads of Gatehouse's GET /maintenance, what it shows, and that a
 * Gatehouse without the endpoint (404) or not answering at all shows
 * nothing. The demo links no core code, so neither does this test. */
#include "demo/maintenance.h"
#include "harness/world.h"
#include "test.h"

#define ANNOUNCED                                                              \
    "{\"state\":\"announced\",\"message\":\"Upgrade to 4.2\","                 \
    "\"at\":\"2026-12-07T14:00:00Z\"}"

static int
parse(const char *json, struct maintenance *m)
{
    return maintenance_parse(json, strlen(json), m);
}

TEST(reads_each_state_the_endpoint_answers)
{
    struct maintenance m;

    ASSERT_EQ(parse(ANNOUNCED, &m), 0);
    ASSERT_EQ(m.state, MAINTENANCE_ANNOUNCED);
    ASSERT_STR_EQ(m.message, "Upgrade to 4.2");
    ASSERT_STR_EQ(m.at, "2026-12-07 14:00 UTC");

    /* Seconds since the epoch are read as well. */
    ASSERT_EQ(parse("{\"state\":\"active\",\"message\":\"Down\","
                    "\"at\":1796652000}",
                    &m),
              0);
    ASSERT_EQ(m.state, MAINTENANCE_ACTIVE);
    ASSERT_STR_EQ(m.at, "2026-12-07 14:00 UTC");

    ASSERT_EQ(parse("{\"state\":\"none\",\"message\":null,\"at\":null}", &m),
              0);
    ASSERT_EQ(m.state, MAINTENANCE_NONE);
    ASSERT_STR_EQ(m.message, "");
    ASSERT_STR_EQ(m.at, "");

    /* A time in another shape is shown as it came; unknown keys are a
     * newer Gatehouse's business. */
    ASSERT_EQ(parse("{\"state\":\"announced\",\"message\":\"m\","
                    "\"at\":\"tonight\",\"extra\":1}",
                    &m),
              0);
    ASSERT_STR_EQ(m.at, "tonight");
}

TEST(anything_else_is_not_an_answer_and_changes_nothing)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "\"announced\"",
        "{}",
        "{\"state\":\"soon\"}",
        "{\"state\":1}",
        "{\"state\":\"announced\",\"message\":42}",
        "{\"state\":\"announced\",\"message\":[\"x\"]}",
    };
    struct maintenance m = {.state = MAINTENANCE_ACTIVE, .message = "kept"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &m) != -1)
            FAIL("accepted %s", bad[i]);
        ASSERT_EQ(m.state, MAINTENANCE_ACTIVE);
        ASSERT_STR_EQ(m.message, "kept");
    }
}

TEST(a_long_message_is_cut_to_fit)
{
    char json[4096], big[3000];
    struct maintenance m;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    snprintf(json, sizeof(json), "{\"state\":\"active\",\"message\":\"%s\"}",
             big);
    ASSERT_EQ(parse(json, &m), 0);
    ASSERT_EQ(strlen(m.message), sizeof(m.message) - 1);
}

TEST(the_banner_says_save_your_work_with_message_and_time_escaped)
{
    struct maintenance m;
    char *html;

    ASSERT_EQ(parse("{\"state\":\"announced\",\"message\":"
                    "\"<script>alert(1)</script> & more\","
                    "\"at\":\"2026-12-07T14:00:00Z\"}",
                    &m),
              0);
    ASSERT((html = maintenance_banner_html(&m)) != NULL);
    ASSERT_CONTAINS(html, "role=\"status\"");
    ASSERT_CONTAINS(html, "Save your work.");
    ASSERT_CONTAINS(html, "Maintenance at 2026-12-07 14:00 UTC: "
                          "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more");
    ASSERT(strstr(html, "<script") == NULL);
    free(html);

    ASSERT_EQ(parse("{\"state\":\"active\",\"message\":\"Down\","
                    "\"at\":\"2026-12-07T14:00:00Z\"}",
                    &m),
              0);
    ASSERT((html = maintenance_banner_html(&m)) != NULL);
    ASSERT_CONTAINS(html, "Maintenance under way since 2026-12-07 14:00 UTC: "
                          "Down");
    free(html);

    ASSERT_EQ(parse("{\"state\":\"none\",\"message\":null,\"at\":null}", &m),
              0);
    ASSERT(maintenance_banner_html(&m) == NULL);
}

/* Nothing listens there: no banner, and no long wait. */
TEST(no_answer_shows_no_banner)
{
    char issuer[64];
    double t0 = test_now();

    snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%d", test_free_port());
    maintenance_init(issuer);
    ASSERT(maintenance_banner() == NULL);
    ASSERT(test_now() - t0 < 2.0);
    maintenance_cleanup();
}

/* A Gatehouse older than GET /maintenance answers 404: no banner. When
 * the endpoint is there, whatever it answers is read as above. */
TEST(a_gatehouse_without_the_endpoint_shows_no_banner)
{
    struct harness *h = world_start(&(struct harness_opts){0}, NULL, NULL);
    struct http_result res;
    char url[256];

    snprintf(url, sizeof(url), "%s/maintenance", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    maintenance_init(h->gh.issuer);
    if (res.status == 404) {
        ASSERT(maintenance_banner() == NULL);
    } else {
        struct maintenance m;

        ASSERT_EQ(res.status, 200);
        ASSERT_EQ(maintenance_parse(res.body, res.body_len, &m), 0);
        ASSERT_EQ(m.state, MAINTENANCE_NONE);
        ASSERT(maintenance_banner() == NULL);
    }
    maintenance_cleanup();
    http_result_free(&res);
    world_stop(&h);
}

TEST_MAIN(
    TEST_ENTRY(reads_each_state_the_endpoint_answers),
    TEST_ENTRY(anything_else_is_not_an_answer_and_changes_nothing),
    TEST_ENTRY(a_long_message_is_cut_to_fit),
    TEST_ENTRY(the_banner_says_save_your_work_with_message_and_time_escaped),
    TEST_ENTRY(no_answer_shows_no_banner),
    TEST_ENTRY(a_gatehouse_without_the_endpoint_shows_no_banner))
