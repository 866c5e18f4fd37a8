/* SPDX-License-Identifier: MIT */
/* jsonw.c: the bytes jansson's json_dumps(JSON_COMPACT) writes, always. */
#include <limits.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonw.h"
#include "test.h"

/* What jansson writes for the string s, or NULL where json_string refuses
 * it; malloc'd. */
static char *
jansson_string(const char *s)
{
    json_t *j = json_string(s);
    char *t;

    if (j == NULL)
        return NULL;
    t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    return t;
}

/* What jw writes for the string s, or NULL on GH_EINVAL; malloc'd. */
static char *
jw_string(const char *s)
{
    struct jw w;
    char *t = NULL;
    int rc;

    jw_init(&w, 4);
    jw_str(&w, NULL, s);
    rc = jw_finish(&w, &t, NULL);
    if (rc < 0) {
        ASSERT_EQ(rc, GH_EINVAL);
        return NULL;
    }
    return t;
}

static void
same_as_jansson(const char *s)
{
    char *want = jansson_string(s), *got = jw_string(s);

    if ((want == NULL) != (got == NULL))
        FAIL("\"%s\": jansson %s, jw %s", s, want ? want : "refuses",
             got ? got : "refuses");
    if (want != NULL)
        ASSERT_STR_EQ(got, want);
    free(want);
    free(got);
}

TEST(control_characters_escape_as_jansson_does)
{
    char s[2] = {0, 0};
    int c;

    for (c = 1; c < 0x20; c++) {
        s[0] = (char)c;
        same_as_jansson(s);
    }
    same_as_jansson("\x7f");
    same_as_jansson("tab\there\r\nand\bform\ffeed");
    s[0] = 0x1f;
    {
        char *t = jw_string(s);
        ASSERT_STR_EQ(t, "\"\\u001F\"");
        free(t);
    }
}

TEST(quotes_backslash_and_slash)
{
    char *t = jw_string("a\"b\\c/d");

    /* '/' stays as it is: jansson escapes it only with JSON_ESCAPE_SLASH. */
    ASSERT_STR_EQ(t, "\"a\\\"b\\\\c/d\"");
    free(t);
    same_as_jansson("\"\"\\\\\"");
    same_as_jansson("");
}

TEST(utf8_passes_through)
{
    static const char *const ok[] = {
        "caf\xc3\xa9",              /* U+00E9 */
        "\xc2\x80",                 /* U+0080, the first two-byte one */
        "\xe0\xa0\x80",             /* U+0800 */
        "\xe2\x80\xa8\xe2\x80\xa9", /* U+2028, U+2029: not escaped */
        "\xef\xbf\xbf",             /* U+FFFF */
        "\xf0\x9f\x98\x80",         /* U+1F600 */
        "\xf4\x8f\xbf\xbf",         /* U+10FFFF, the last */
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *t = jw_string(ok[i]);
        ASSERT(t != NULL);
        ASSERT_EQ(strlen(t), strlen(ok[i]) + 2);
        free(t);
        same_as_jansson(ok[i]);
    }
}

TEST(invalid_utf8_is_refused_as_json_string_refuses_it)
{
    static const char *const bad[] = {
        "\x80",             /* a continuation byte first */
        "\xbf",
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xc3",             /* cut short at the end */
        "\xc3x",            /* cut short by ASCII */
        "\xe0\x80\x80",     /* overlong three bytes */
        "\xe0\x9f\xbf",
        "\xed\xa0\x80",     /* U+D800, a surrogate */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf0\x8f\xbf\xbf", /* overlong four bytes */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xfe",
        "\xff",
        "ok\xe2\x82",       /* cut short */
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *t = jw_string(bad[i]);
        if (t != NULL)
            FAIL("bad[%zu] written as %s", i, t);
        same_as_jansson(bad[i]);
    }
}

TEST(a_bad_string_fails_the_whole_document)
{
    struct jw w;
    char *t = NULL;

    jw_init(&w, 16);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "a", "fine");
    jw_str(&w, "b", "\xff");
    jw_str(&w, "c", "fine");
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);
    ASSERT(t == NULL);

    jw_init(&w, 16);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "a", NULL);
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);

    /* A key is a string like any other. */
    jw_init(&w, 16);
    jw_obj_begin(&w, NULL);
    jw_int(&w, "\xc0", 1);
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);
    ASSERT(t == NULL);
}

/* The error body's description may quote a client's bytes: jansson left
 * such a member out, and so does jw_str_if_utf8. */
TEST(str_if_utf8_leaves_out_what_is_not_utf8)
{
    struct jw w;
    char *t = NULL;

    jw_init(&w, 16);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "error", "invalid_request");
    jw_str_if_utf8(&w, "error_description", "repeated parameter: \xc3");
    jw_str_if_utf8(&w, "\xff", "v");
    jw_str_if_utf8(&w, "fine", "caf\xc3\xa9");
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), 0);
    ASSERT_STR_EQ(t, "{\"error\":\"invalid_request\","
                     "\"fine\":\"caf\xc3\xa9\"}");
    free(t);

    jw_init(&w, 16);
    jw_obj_begin(&w, NULL);
    jw_str_if_utf8(&w, "a", "\xff");
    jw_str(&w, "b", "x");
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), 0);
    ASSERT_STR_EQ(t, "{\"b\":\"x\"}");
    free(t);
}

TEST(strcat_writes_one_string_of_two)
{
    struct jw w;
    char *t = NULL;

    jw_init(&w, 8);
    jw_obj_begin(&w, NULL);
    jw_strcat(&w, "token_endpoint", "https://id.ex/a\"b", "/token");
    jw_strcat(&w, "e", "", "");
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), 0);
    ASSERT_STR_EQ(t, "{\"token_endpoint\":\"https://id.ex/a\\\"b/token\","
                     "\"e\":\"\"}");
    free(t);

    jw_init(&w, 8);
    jw_strcat(&w, NULL, "ok", "\xff");
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);
}

TEST(numbers)
{
    static const long long v[] = {0,  1,  -1,        9,         10,
                                  -10, 1700000000, LLONG_MAX, LLONG_MIN};
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct jw w;
        json_t *j = json_integer(v[i]);
        char *want = json_dumps(j, JSON_ENCODE_ANY), *got = NULL;

        jw_init(&w, 1);
        jw_int(&w, NULL, v[i]);
        ASSERT_EQ(jw_finish(&w, &got, NULL), 0);
        ASSERT_STR_EQ(got, want);
        free(got);
        free(want);
        json_decref(j);
    }
}

/* A document of every kind of value, against the same built by jansson. */
TEST(nesting_matches_jansson)
{
    struct jw w;
    json_t *j;
    char *want, *got = NULL;
    size_t len = 0;

    jw_init(&w, 8); /* small: it must grow, many times */
    jw_obj_begin(&w, NULL);
    jw_str(&w, "iss", "https://id.example/");
    jw_int(&w, "exp", 1700000000);
    jw_bool(&w, "t", 1);
    jw_bool(&w, "f", 0);
    jw_arr_begin(&w, "empty");
    jw_arr_end(&w);
    jw_obj_begin(&w, "none");
    jw_obj_end(&w);
    jw_arr_begin(&w, "list");
    jw_str(&w, NULL, "a");
    jw_int(&w, NULL, -2);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "k\"ey", "v\n");
    jw_obj_end(&w);
    jw_arr_begin(&w, NULL);
    jw_arr_end(&w);
    jw_arr_end(&w);
    jw_obj_begin(&w, "events");
    jw_obj_begin(&w, "http://schemas.openid.net/event/backchannel-logout");
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &got, &len), 0);

    j = json_pack("{s:s, s:I, s:b, s:b, s:[], s:{}, s:[s, I, {s:s}, []],"
                  " s:{s:{}}}",
                  "iss", "https://id.example/", "exp",
                  (json_int_t)1700000000, "t", 1, "f", 0, "empty", "none",
                  "list", "a", (json_int_t)-2,
                  "k\"ey", "v\n", "events",
                  "http://schemas.openid.net/event/backchannel-logout");
    ASSERT(j != NULL);
    want = json_dumps(j, JSON_COMPACT);
    ASSERT_STR_EQ(got, want);
    ASSERT_EQ(len, strlen(want));
    free(want);
    free(got);
    json_decref(j);
}

TEST(members_join_an_object)
{
    struct jw w;
    char *t = NULL;

    jw_init(&w, 64);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "sub", "u1");
    jw_members(&w, "{\"name\":\"Ann\",\"email\":\"a@x\"}");
    jw_members(&w, "{}");
    jw_int(&w, "n", 1);
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), 0);
    ASSERT_STR_EQ(t, "{\"sub\":\"u1\",\"name\":\"Ann\",\"email\":\"a@x\","
                     "\"n\":1}");
    free(t);

    jw_init(&w, 64);
    jw_obj_begin(&w, NULL);
    jw_members(&w, "{\"a\":1}");
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), 0);
    ASSERT_STR_EQ(t, "{\"a\":1}");
    free(t);

    jw_init(&w, 64);
    jw_obj_begin(&w, NULL);
    jw_members(&w, "[1]");
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);
}

TEST(unbalanced_documents_fail)
{
    struct jw w;
    char *t = NULL;

    jw_init(&w, 16);
    jw_obj_begin(&w, NULL);
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);

    jw_init(&w, 16);
    jw_obj_end(&w);
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);

    jw_init(&w, 16);
    ASSERT_EQ(jw_finish(&w, &t, NULL), GH_EINVAL);
    ASSERT(t == NULL);
}

/* A long string with escapes spread through it, past the first size. */
TEST(long_strings_grow_the_buffer)
{
    char s[5000];
    size_t i;

    for (i = 0; i < sizeof(s) - 1; i++)
        s[i] = i % 97 == 0 ? '\n' : i % 89 == 0 ? '"' : (char)('a' + i % 26);
    s[sizeof(s) - 1] = '\0';
    same_as_jansson(s);
}

/* Strings are scanned eight bytes at a time: a byte that needs care is
 * found at every offset in a word, and at the last bytes past one. */
TEST(every_offset_of_a_word)
{
    static const char *const odd[] = {"\n", "\"", "\\", "\x1f", "\x01",
                                      "\x7f", "\xc3\xa9", " ", "~", "\xff"};
    char s[32];
    size_t i, len, at;

    for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        for (len = 1; len < 20; len++)
            for (at = 0; at < len; at++) {
                memset(s, 'a', len);
                s[len] = '\0';
                memcpy(s + at, odd[i], strlen(odd[i]));
                s[len > at + strlen(odd[i]) ? len : at + strlen(odd[i])] =
                    '\0';
                same_as_jansson(s);
            }
}

TEST_MAIN(TEST_ENTRY(control_characters_escape_as_jansson_does),
          TEST_ENTRY(quotes_backslash_and_slash),
          TEST_ENTRY(utf8_passes_through),
          TEST_ENTRY(invalid_utf8_is_refused_as_json_string_refuses_it),
          TEST_ENTRY(a_bad_string_fails_the_whole_document),
          TEST_ENTRY(str_if_utf8_leaves_out_what_is_not_utf8),
          TEST_ENTRY(strcat_writes_one_string_of_two),
          TEST_ENTRY(numbers), TEST_ENTRY(nesting_matches_jansson),
          TEST_ENTRY(members_join_an_object),
          TEST_ENTRY(unbalanced_documents_fail),
          TEST_ENTRY(long_strings_grow_the_buffer),
          TEST_ENTRY(every_offset_of_a_word))
