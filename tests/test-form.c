/* SPDX-License-Identifier: MIT */
/* form.c: query strings, form bodies, cookies, Authorization headers. */
#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/core/util.h"
#include "test.h"

/* Parses s (NUL-terminated) and returns the code; *f is freed on failure. */
static int
parse(const char *s, struct form *f)
{
    return form_parse(s, strlen(s), f);
}

/* The code form_parse gives for s, freeing whatever it built. */
static int
parse_rc(const char *s)
{
    struct form f;
    int rc = parse(s, &f);

    if (rc < 0)
        ASSERT(f.v == NULL && f.n == 0);
    form_free(&f);
    return rc;
}

TEST(parse_splits_pairs_and_decodes)
{
    struct form f;

    ASSERT_EQ(parse("response_type=code&client_id=app%2F1&scope=openid+email"
                    "&state=a%3db%3D",
                    &f),
              0);
    ASSERT_EQ(f.n, 4);
    ASSERT_STR_EQ(form_get(&f, "response_type"), "code");
    ASSERT_STR_EQ(form_get(&f, "client_id"), "app/1");
    ASSERT_STR_EQ(form_get(&f, "scope"), "openid email");
    ASSERT_STR_EQ(form_get(&f, "state"), "a=b=");
    ASSERT(form_get(&f, "nonce") == NULL);
    ASSERT(form_get(&f, "Scope") == NULL);
    ASSERT(form_has_duplicate(&f) == NULL);
    form_free(&f);
    ASSERT(f.v == NULL && f.n == 0);
    form_free(&f);
    form_free(NULL);
}

TEST(parse_keeps_order_and_splits_at_first_equals)
{
    struct form f;

    ASSERT_EQ(parse("b=2&a==x=&c%2B=%2b", &f), 0);
    ASSERT_EQ(f.n, 3);
    ASSERT_STR_EQ(f.v[0].key, "b");
    ASSERT_STR_EQ(f.v[1].key, "a");
    ASSERT_STR_EQ(f.v[1].value, "=x=");
    ASSERT_STR_EQ(f.v[2].key, "c+");
    ASSERT_STR_EQ(f.v[2].value, "+");
    form_free(&f);
}

TEST(parse_empty_input_is_empty_form)
{
    struct form f;

    ASSERT_EQ(form_parse("", 0, &f), 0);
    ASSERT_EQ(f.n, 0);
    form_free(&f);
    ASSERT_EQ(form_parse(NULL, 0, &f), 0);
    ASSERT_EQ(f.n, 0);
    form_free(&f);
    ASSERT_EQ(parse("&&&", &f), 0);
    ASSERT_EQ(f.n, 0);
    form_free(&f);
}

TEST(parse_key_without_equals_has_empty_value)
{
    struct form f;

    ASSERT_EQ(parse("prompt&max_age=0&x=", &f), 0);
    ASSERT_EQ(f.n, 3);
    ASSERT_STR_EQ(form_get(&f, "prompt"), "");
    ASSERT_STR_EQ(form_get(&f, "max_age"), "0");
    ASSERT_STR_EQ(form_get(&f, "x"), "");
    form_free(&f);
}

TEST(parse_skips_empty_pairs)
{
    struct form f;

    ASSERT_EQ(parse("&a=1&&b=2&", &f), 0);
    ASSERT_EQ(f.n, 2);
    ASSERT_STR_EQ(form_get(&f, "a"), "1");
    ASSERT_STR_EQ(form_get(&f, "b"), "2");
    form_free(&f);
}

TEST(parse_respects_len_not_nul)
{
    struct form f;

    ASSERT_EQ(form_parse("a=1&b=2", 3, &f), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STR_EQ(form_get(&f, "a"), "1");
    ASSERT(form_get(&f, "b") == NULL);
    form_free(&f);
    /* A '%' cut off by len is an incomplete escape. */
    ASSERT_EQ(form_parse("a=%41", 4, &f), GH_EINVAL);
}

TEST(parse_decodes_hex_in_either_case)
{
    struct form f;

    ASSERT_EQ(parse("k=%c3%a9%C3%A9%7e%7E", &f), 0);
    ASSERT_STR_EQ(form_get(&f, "k"), "\xc3\xa9\xc3\xa9~~");
    form_free(&f);
}

TEST(parse_refuses_bad_escapes)
{
    ASSERT_EQ(parse_rc("%"), GH_EINVAL);
    ASSERT_EQ(parse_rc("%4"), GH_EINVAL);
    ASSERT_EQ(parse_rc("%zz"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%4"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%4g"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%g4"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=1&b=%%41"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%-1"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=% 1"), GH_EINVAL);
}

TEST(parse_refuses_nul)
{
    struct form f;

    ASSERT_EQ(parse_rc("%00"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%00"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=x%00y"), GH_EINVAL);
    /* A raw NUL inside len would cut the C string short just the same. */
    ASSERT_EQ(form_parse("a=x\0y", 5, &f), GH_EINVAL);
    ASSERT(f.v == NULL && f.n == 0);
    ASSERT_EQ(form_parse("a\0=1", 4, &f), GH_EINVAL);
}

TEST(parse_refuses_invalid_utf8)
{
    /* Overlong '/' (the classic path traversal disguise). */
    ASSERT_EQ(parse_rc("a=%C0%AF"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%C1%BF"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%E0%80%AF"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%F0%80%80%AF"), GH_EINVAL);
    /* UTF-16 surrogates, lone and paired. */
    ASSERT_EQ(parse_rc("%ED%A0%80"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%ED%BF%BF"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%ED%A0%BD%ED%B8%80"), GH_EINVAL);
    /* Past U+10FFFF. */
    ASSERT_EQ(parse_rc("a=%F4%90%80%80"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%F5%80%80%80"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%FF"), GH_EINVAL);
    /* Truncated sequences, at the end and before another character. */
    ASSERT_EQ(parse_rc("a=%C3"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%E2%82"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%E2%82x"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=%F0%9F%98"), GH_EINVAL);
    /* A lone continuation byte. */
    ASSERT_EQ(parse_rc("a=%80"), GH_EINVAL);
    /* In the key as well as the value, and raw as well as escaped. */
    ASSERT_EQ(parse_rc("%C0%AF=1"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=\xc0\xaf"), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=\xed\xa0\x80"), GH_EINVAL);
}

TEST(parse_accepts_valid_utf8_edges)
{
    struct form f;

    /* U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF */
    ASSERT_EQ(parse("a=%C2%80%DF%BF%E0%A0%80%ED%9F%BF%EE%80%80%EF%BF%BF"
                    "%F0%90%80%80%F4%8F%BF%BF&b=\xf0\x9f\x98\x80",
                    &f),
              0);
    ASSERT_STR_EQ(form_get(&f, "a"), "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
                                     "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"
                                     "\xf4\x8f\xbf\xbf");
    ASSERT_STR_EQ(form_get(&f, "b"), "\xf0\x9f\x98\x80");
    form_free(&f);
}

TEST(parse_refuses_empty_key)
{
    ASSERT_EQ(parse_rc("=1"), GH_EINVAL);
    ASSERT_EQ(parse_rc("="), GH_EINVAL);
    ASSERT_EQ(parse_rc("a=1&=2"), GH_EINVAL);
}

TEST(parse_limits_params)
{
    char buf[65 * 8];
    struct form f;
    size_t i, o = 0;

    for (i = 0; i < FORM_MAX_PARAMS; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%sk%zu=v",
                              i ? "&" : "", i);
    ASSERT_EQ(form_parse(buf, o, &f), 0);
    ASSERT_EQ(f.n, FORM_MAX_PARAMS);
    ASSERT_STR_EQ(form_get(&f, "k63"), "v");
    form_free(&f);
    /* Empty pairs do not count towards the limit... */
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "&&");
    ASSERT_EQ(form_parse(buf, o, &f), 0);
    form_free(&f);
    /* ...the 65th real one does. */
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "k64");
    ASSERT_EQ(form_parse(buf, o, &f), GH_ETOOBIG);
    ASSERT(f.v == NULL && f.n == 0);
}

TEST(duplicate_key_is_detected_and_not_returned)
{
    struct form f;

    /* RFC 6749 §3.1: a repeated parameter must not silently win. */
    ASSERT_EQ(parse("client_id=a&redirect_uri=x&state=s&client_id=b"
                    "&state=t",
                    &f),
              0);
    ASSERT(form_get(&f, "client_id") == NULL);
    ASSERT(form_get(&f, "state") == NULL);
    ASSERT_STR_EQ(form_get(&f, "redirect_uri"), "x");
    ASSERT_STR_EQ(form_has_duplicate(&f), "client_id");
    form_free(&f);

    /* Decoding happens before comparing: "a" and "%61" are one key. */
    ASSERT_EQ(parse("x=1&a=1&%61=1", &f), 0);
    ASSERT(form_get(&f, "a") == NULL);
    ASSERT_STR_EQ(form_has_duplicate(&f), "a");
    form_free(&f);

    /* Same value twice is still a duplicate. */
    ASSERT_EQ(parse("a=1&a=1", &f), 0);
    ASSERT(form_get(&f, "a") == NULL);
    form_free(&f);

    ASSERT(form_get(NULL, "a") == NULL);
    ASSERT(form_has_duplicate(NULL) == NULL);
}

TEST(cookie_finds_value)
{
    char *v = NULL;

    ASSERT_EQ(form_cookie("a=1; gh_sid=abc-DEF_123; b=2", "gh_sid", &v), 0);
    ASSERT_STR_EQ(v, "abc-DEF_123");
    free(v);
    ASSERT_EQ(form_cookie("gh_sid=x", "gh_sid", &v), 0);
    ASSERT_STR_EQ(v, "x");
    free(v);
    ASSERT_EQ(form_cookie("a=1;b=2", "b", &v), 0);
    ASSERT_STR_EQ(v, "2");
    free(v);
    ASSERT_EQ(form_cookie("  a = 1 ;\tb=2  ;", "a", &v), 0);
    ASSERT_STR_EQ(v, "1");
    free(v);
    ASSERT_EQ(form_cookie("a=", "a", &v), 0);
    ASSERT_STR_EQ(v, "");
    free(v);
    /* The value is everything after the first '='. */
    ASSERT_EQ(form_cookie("a=b=c", "a", &v), 0);
    ASSERT_STR_EQ(v, "b=c");
    free(v);
}

TEST(cookie_unquotes_value)
{
    char *v = NULL;

    ASSERT_EQ(form_cookie("a=\"xyz\"; b=1", "a", &v), 0);
    ASSERT_STR_EQ(v, "xyz");
    free(v);
    ASSERT_EQ(form_cookie("a=\"\"", "a", &v), 0);
    ASSERT_STR_EQ(v, "");
    free(v);
    v = NULL;
    ASSERT_EQ(form_cookie("a=\"xyz", "a", &v), GH_EINVAL);
    ASSERT_EQ(form_cookie("a=\"", "a", &v), GH_EINVAL);
    ASSERT_EQ(form_cookie("a=\"x\"y\"", "a", &v), GH_EINVAL);
    ASSERT(v == NULL);
}

TEST(cookie_names_compare_exactly)
{
    char *v = NULL;

    ASSERT_EQ(form_cookie("GH_SID=1; gh_sid2=2; xgh_sid=3", "gh_sid", &v),
              GH_ENOTFOUND);
    ASSERT_EQ(form_cookie("gh_sid", "gh_sid", &v), GH_ENOTFOUND);
    ASSERT_EQ(form_cookie("", "gh_sid", &v), GH_ENOTFOUND);
    ASSERT_EQ(form_cookie(";;; ;", "gh_sid", &v), GH_ENOTFOUND);
    ASSERT_EQ(form_cookie(NULL, "gh_sid", &v), GH_ENOTFOUND);
    ASSERT_EQ(form_cookie("a=1", "", &v), GH_EINVAL);
    ASSERT(v == NULL);
}

TEST(cookie_tossing_is_refused)
{
    char *v = NULL;

    /* A sibling domain planted a second gh_sid: neither can be trusted. */
    ASSERT_EQ(form_cookie("gh_sid=evil; a=1; gh_sid=good", "gh_sid", &v),
              GH_EINVAL);
    ASSERT_EQ(form_cookie("gh_sid=same;gh_sid=same", "gh_sid", &v), GH_EINVAL);
    ASSERT_EQ(form_cookie("gh_sid=x; gh_sid =y", "gh_sid", &v), GH_EINVAL);
    ASSERT(v == NULL);
    /* Duplicates of other cookies are not our business. */
    ASSERT_EQ(form_cookie("a=1; a=2; gh_sid=x", "gh_sid", &v), 0);
    ASSERT_STR_EQ(v, "x");
    free(v);
}

TEST(cookie_refuses_bad_octets_in_wanted_value)
{
    char *v = NULL;

    ASSERT_EQ(form_cookie("a=x y", "a", &v), GH_EINVAL);
    ASSERT_EQ(form_cookie("a=x,y", "a", &v), GH_EINVAL);
    ASSERT_EQ(form_cookie("a=x\\y", "a", &v), GH_EINVAL);
    ASSERT_EQ(form_cookie("a=x\x01y", "a", &v), GH_EINVAL);
    ASSERT_EQ(form_cookie("a=x\x80y", "a", &v), GH_EINVAL);
    ASSERT(v == NULL);
    /* Another cookie's odd value does not spoil ours. */
    ASSERT_EQ(form_cookie("b=x y, z; a=ok", "a", &v), 0);
    ASSERT_STR_EQ(v, "ok");
    free(v);
}

TEST(basic_auth_decodes_user_and_pass)
{
    char *u = NULL, *p = NULL;

    /* "Aladdin:open sesame", RFC 7617 §2. */
    ASSERT_EQ(form_basic_auth("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &u, &p), 0);
    ASSERT_STR_EQ(u, "Aladdin");
    ASSERT_STR_EQ(p, "open sesame");
    free(u);
    util_free_secret(p);
    /* Scheme case-insensitive, several spaces tolerated; "app:s3cr3t". */
    ASSERT_EQ(form_basic_auth("bAsIc   YXBwOnMzY3IzdA==", &u, &p), 0);
    ASSERT_STR_EQ(u, "app");
    ASSERT_STR_EQ(p, "s3cr3t");
    free(u);
    util_free_secret(p);
    /* "a:" with one '=' of padding. */
    ASSERT_EQ(form_basic_auth("Basic YTo=", &u, &p), 0);
    ASSERT_STR_EQ(u, "a");
    ASSERT_STR_EQ(p, "");
    free(u);
    util_free_secret(p);
    /* "app:" : an empty password is allowed. */
    ASSERT_EQ(form_basic_auth("Basic YXBwOg==", &u, &p), 0);
    ASSERT_STR_EQ(u, "app");
    ASSERT_STR_EQ(p, "");
    free(u);
    util_free_secret(p);
}

TEST(basic_auth_splits_at_first_colon_then_urldecodes)
{
    char *u = NULL, *p = NULL;

    /* "my%20app:a%3Ab" : RFC 6749 §2.3.1, the ':' in the secret is
     * escaped and decoded after the split. */
    ASSERT_EQ(form_basic_auth("Basic bXklMjBhcHA6YSUzQWI=", &u, &p), 0);
    ASSERT_STR_EQ(u, "my app");
    ASSERT_STR_EQ(p, "a:b");
    free(u);
    util_free_secret(p);
    /* "a:b:c" : a raw ':' in the password stays in the password. */
    ASSERT_EQ(form_basic_auth("Basic YTpiOmM=", &u, &p), 0);
    ASSERT_STR_EQ(u, "a");
    ASSERT_STR_EQ(p, "b:c");
    free(u);
    util_free_secret(p);
    /* "a+b:c+d" : '+' is a space in form encoding. */
    ASSERT_EQ(form_basic_auth("Basic YStiOmMrZA==", &u, &p), 0);
    ASSERT_STR_EQ(u, "a b");
    ASSERT_STR_EQ(p, "c d");
    free(u);
    util_free_secret(p);
}

TEST(basic_auth_refuses_malformed)
{
    char *u = NULL, *p = NULL;

    ASSERT_EQ(form_basic_auth(NULL, &u, &p), GH_ENOTFOUND);
    /* "nocolon" */
    ASSERT_EQ(form_basic_auth("Basic bm9jb2xvbg==", &u, &p), GH_EINVAL);
    /* ":pw" : empty user */
    ASSERT_EQ(form_basic_auth("Basic OnB3", &u, &p), GH_EINVAL);
    /* Bad base64: wrong alphabet, no padding, bad padding, whitespace. */
    ASSERT_EQ(form_basic_auth("Basic YTpi*A==", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YTpiOmM", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YTpi=mM=", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YTpiOmM===", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YTpi Om M=", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YTpiOmM= ", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic ====", &u, &p), GH_EINVAL);
    /* base64url is not base64: "a:?>" is YTo/Pg== */
    ASSERT_EQ(form_basic_auth("Basic YTo_Pg==", &u, &p), GH_EINVAL);
    /* Non-zero pad bits (RFC 4648 §3.5): YTp= would be a second spelling
     * of "a:" (YTo=), YTq= of "a:" too. */
    ASSERT_EQ(form_basic_auth("Basic YTp=", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YTq=", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YWI6Yx==", &u, &p), GH_EINVAL);
    /* Empty, missing space, other scheme. */
    ASSERT_EQ(form_basic_auth("Basic ", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("BasicYTpi", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Bearer YTpi", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth(" Basic YTpi", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic\tYTpi", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("", &u, &p), GH_EINVAL);
    /* "a:%zz", "a%:b", "a:\0", "a:\xc0\xaf": bad form encoding or bytes. */
    ASSERT_EQ(form_basic_auth("Basic YToleno=", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YSU6Yg==", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YToA", &u, &p), GH_EINVAL);
    ASSERT_EQ(form_basic_auth("Basic YTrArw==", &u, &p), GH_EINVAL);
    ASSERT(u == NULL && p == NULL);
}

TEST(bearer_returns_token)
{
    const char *h = "Bearer mF_9.B5f-4.1JqM", *t = NULL;

    ASSERT_EQ(form_bearer(h, &t), 0);
    ASSERT_STR_EQ(t, "mF_9.B5f-4.1JqM");
    ASSERT(t == h + 7);
    ASSERT_EQ(form_bearer("bearer   a~b+c/d==", &t), 0);
    ASSERT_STR_EQ(t, "a~b+c/d==");
    ASSERT_EQ(form_bearer("BEARER eyJhbGciOiJFUzI1NiJ9.e30.c2ln", &t), 0);
    ASSERT_STR_EQ(t, "eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
}

TEST(bearer_refuses_malformed)
{
    const char *t = NULL;

    ASSERT_EQ(form_bearer(NULL, &t), GH_ENOTFOUND);
    ASSERT_EQ(form_bearer("Bearer abc def", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer abc ", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer abc\t", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer abc,", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer abc=d", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer abc\r\nX-Evil: 1", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer ==", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer ", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearerabc", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer\tabc", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Basic abc", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("Bearer a%62c", &t), GH_EINVAL);
    ASSERT_EQ(form_bearer("", &t), GH_EINVAL);
    ASSERT(t == NULL);
}

TEST(urlencode_keeps_only_unreserved)
{
    char *s;

    s = form_urlencode("AZaz09-._~");
    ASSERT_STR_EQ(s, "AZaz09-._~");
    free(s);
    s = form_urlencode("a b&c=d/e?f#g+h%i:\xc3\xa9\x7f");
    ASSERT_STR_EQ(s, "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25i%3A%C3%A9%7F");
    free(s);
    s = form_urlencode("");
    ASSERT_STR_EQ(s, "");
    free(s);
    ASSERT(form_urlencode(NULL) == NULL);
}

TEST(urlencode_round_trips_through_parse)
{
    const char *orig = "x y+z&=%\xe2\x82\xac";
    char *enc = form_urlencode(orig), *url = malloc(1);
    struct form f;

    ASSERT(enc != NULL && url != NULL);
    url[0] = '\0';
    ASSERT_EQ(form_url_append(&url, "k", orig), 0);
    ASSERT_EQ(parse(url + 1, &f), 0);
    ASSERT_STR_EQ(form_get(&f, "k"), orig);
    form_free(&f);
    free(enc);
    free(url);
}

/* Appends to a copy of base and checks the result. */
static void
check_append(const char *base, const char *key, const char *value,
             const char *want)
{
    char *url = strdup(base);

    ASSERT(url != NULL);
    ASSERT_EQ(form_url_append(&url, key, value), 0);
    ASSERT_STR_EQ(url, want);
    free(url);
}

TEST(url_append_picks_separator)
{
    check_append("https://rp.example/cb", "code", "abc",
                 "https://rp.example/cb?code=abc");
    check_append("https://rp.example/cb?x=1", "code", "abc",
                 "https://rp.example/cb?x=1&code=abc");
    check_append("https://rp.example/cb?", "code", "abc",
                 "https://rp.example/cb?code=abc");
    check_append("https://rp.example/cb?x=1&", "code", "abc",
                 "https://rp.example/cb?x=1&code=abc");
    check_append("https://rp.example/cb", "state", "a b&c=d",
                 "https://rp.example/cb?state=a%20b%26c%3Dd");
    check_append("https://rp.example/cb", "k&y", "",
                 "https://rp.example/cb?k%26y=");
    check_append("https://rp.example/cb", "k", NULL,
                 "https://rp.example/cb?k=");
}

TEST(url_append_twice)
{
    char *url = strdup("https://rp.example/cb");

    ASSERT(url != NULL);
    ASSERT_EQ(form_url_append(&url, "code", "c"), 0);
    ASSERT_EQ(form_url_append(&url, "state", "s"), 0);
    ASSERT_STR_EQ(url, "https://rp.example/cb?code=c&state=s");
    free(url);
    ASSERT_EQ(form_url_append(NULL, "a", "b"), GH_EINVAL);
}

TEST(html_escape_escapes_five_characters)
{
    char *s;

    s = form_html_escape("<a href=\"x\" title='y'>Tom & Jerry</a>");
    ASSERT_STR_EQ(s, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;"
                     "Tom &amp; Jerry&lt;/a&gt;");
    free(s);
    s = form_html_escape("&amp;");
    ASSERT_STR_EQ(s, "&amp;amp;");
    free(s);
    s = form_html_escape("plain \xc3\xa9");
    ASSERT_STR_EQ(s, "plain \xc3\xa9");
    free(s);
    s = form_html_escape("");
    ASSERT_STR_EQ(s, "");
    free(s);
    ASSERT(form_html_escape(NULL) == NULL);
}

TEST_MAIN(TEST_ENTRY(parse_splits_pairs_and_decodes),
          TEST_ENTRY(parse_keeps_order_and_splits_at_first_equals),
          TEST_ENTRY(parse_empty_input_is_empty_form),
          TEST_ENTRY(parse_key_without_equals_has_empty_value),
          TEST_ENTRY(parse_skips_empty_pairs),
          TEST_ENTRY(parse_respects_len_not_nul),
          TEST_ENTRY(parse_decodes_hex_in_either_case),
          TEST_ENTRY(parse_refuses_bad_escapes), TEST_ENTRY(parse_refuses_nul),
          TEST_ENTRY(parse_refuses_invalid_utf8),
          TEST_ENTRY(parse_accepts_valid_utf8_edges),
          TEST_ENTRY(parse_refuses_empty_key), TEST_ENTRY(parse_limits_params),
          TEST_ENTRY(duplicate_key_is_detected_and_not_returned),
          TEST_ENTRY(cookie_finds_value), TEST_ENTRY(cookie_unquotes_value),
          TEST_ENTRY(cookie_names_compare_exactly),
          TEST_ENTRY(cookie_tossing_is_refused),
          TEST_ENTRY(cookie_refuses_bad_octets_in_wanted_value),
          TEST_ENTRY(basic_auth_decodes_user_and_pass),
          TEST_ENTRY(basic_auth_splits_at_first_colon_then_urldecodes),
          TEST_ENTRY(basic_auth_refuses_malformed),
          TEST_ENTRY(bearer_returns_token),
          TEST_ENTRY(bearer_refuses_malformed),
          TEST_ENTRY(urlencode_keeps_only_unreserved),
          TEST_ENTRY(urlencode_round_trips_through_parse),
          TEST_ENTRY(url_append_picks_separator), TEST_ENTRY(url_append_twice),
          TEST_ENTRY(html_escape_escapes_five_characters))
