/* SPDX-License-Identifier: MIT */
/* util.c: base64url, random ids and UUIDs, secret comparison, SHA-256. */
#include "gatehouse/core/error.h"
#include "gatehouse/core/states.h"
#include "gatehouse/core/text.h"
#include "gatehouse/core/useragent.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "test.h"

/* RFC 4648 §10 test vectors; none uses '+' or '/', so they read the same
 * in the url alphabet, here without padding. */
static const struct {
    const char *raw;
    const char *enc;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
};

/* Decodes s and returns the code, freeing any output. */
static int
decode_rc(const char *s)
{
    unsigned char *out = NULL;
    size_t n = 0;
    int rc = b64url_decode(s, strlen(s), &out, &n);

    if (rc < 0)
        ASSERT(out == NULL);
    free(out);
    return rc;
}

TEST(b64url_encodes_rfc4648_vectors)
{
    char buf[16];
    size_t i;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        size_t len = strlen(rfc4648[i].raw);

        ASSERT_EQ(B64URL_LEN(len), strlen(rfc4648[i].enc));
        ASSERT_EQ(b64url_encode(rfc4648[i].raw, len, buf), B64URL_LEN(len));
        ASSERT_STR_EQ(buf, rfc4648[i].enc);
    }
}

TEST(b64url_decodes_rfc4648_vectors)
{
    size_t i;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        unsigned char *out = NULL;
        size_t n = 0;

        ASSERT_EQ(
            b64url_decode(rfc4648[i].enc, strlen(rfc4648[i].enc), &out, &n), 0);
        ASSERT_EQ(n, strlen(rfc4648[i].raw));
        ASSERT_STR_EQ((char *)out, rfc4648[i].raw);
        free(out);
    }
}

TEST(b64url_uses_url_alphabet)
{
    /* Every one of the 64 characters, in order (RFC 4648 §5). */
    static const unsigned char all[] = {
        0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f,
        0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96, 0x9b, 0x71, 0xd7, 0x9f,
        0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7, 0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf,
        0xc3, 0x1c, 0xb3, 0xd3, 0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf};
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char *out = NULL;
    size_t n = 0;
    char *enc;

    enc = b64url_encode_alloc(all, sizeof(all));
    ASSERT_STR_EQ(enc, alpha);
    ASSERT_EQ(b64url_decode(enc, strlen(enc), &out, &n), 0);
    ASSERT_EQ(n, sizeof(all));
    ASSERT(memcmp(out, all, n) == 0);
    free(out);
    free(enc);

    /* 0xfb 0xff is "+/8=" in standard base64. */
    enc = b64url_encode_alloc("\xfb\xff", 2);
    ASSERT_STR_EQ(enc, "-_8");
    free(enc);
}

TEST(b64url_round_trips_binary)
{
    unsigned char raw[64], *out = NULL;
    char enc[B64URL_LEN(sizeof(raw)) + 1];
    size_t len, n;

    for (len = 0; len < sizeof(raw); len++)
        raw[len] = (unsigned char)(len * 37 + 200);
    /* Every length, so each of the three tail shapes is covered; the
     * bytes include NULs, so retlen (not strlen) is what counts. */
    for (len = 0; len <= sizeof(raw); len++) {
        ASSERT_EQ(b64url_encode(raw, len, enc), B64URL_LEN(len));
        ASSERT_EQ(b64url_decode(enc, strlen(enc), &out, &n), 0);
        ASSERT_EQ(n, len);
        ASSERT(memcmp(out, raw, len) == 0);
        ASSERT_EQ(out[n], 0);
        free(out);
    }
}

TEST(b64url_decode_accepts_padding)
{
    unsigned char *out = NULL;
    size_t n = 0;

    ASSERT_EQ(b64url_decode("Zg==", 4, &out, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ((char *)out, "f");
    free(out);
    ASSERT_EQ(b64url_decode("Zm8=", 4, &out, &n), 0);
    ASSERT_STR_EQ((char *)out, "fo");
    free(out);
    /* len bounds the input, not a NUL. */
    ASSERT_EQ(b64url_decode("Zm9vYmFy", 4, &out, &n), 0);
    ASSERT_STR_EQ((char *)out, "foo");
    free(out);
}

TEST(b64url_decode_refuses_other_alphabets_and_whitespace)
{
    ASSERT_EQ(decode_rc("+_8"), GH_EINVAL);
    ASSERT_EQ(decode_rc("-/8"), GH_EINVAL);
    ASSERT_EQ(decode_rc("+/8="), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9v Zg"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9v\nZg"), GH_EINVAL);
    ASSERT_EQ(decode_rc(" Zm9v"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9v\t"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9v\r\n"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zg.="), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zg==Zg"), GH_EINVAL);
    ASSERT_EQ(decode_rc("\xc3\xa9"), GH_EINVAL);
}

TEST(b64url_decode_refuses_impossible_length)
{
    ASSERT_EQ(decode_rc("Z"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9vY"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9vY==="), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9vYmFyZ"), GH_EINVAL);
}

TEST(b64url_decode_refuses_noncanonical_spellings)
{
    /* RFC 4648 §3.5: "Zh" and "Zm9" would be second spellings of "f" and
     * "fo"; stray padding another. */
    ASSERT_EQ(decode_rc("Zh"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9"), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zg="), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zg==="), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zg====="), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9v="), GH_EINVAL);
    ASSERT_EQ(decode_rc("Zm9v=="), GH_EINVAL);
    ASSERT_EQ(decode_rc("="), GH_EINVAL);
    ASSERT_EQ(decode_rc("=="), GH_EINVAL);
}

TEST(uuid_is_version_4)
{
    char a[37], b[37];
    size_t i;
    int round;

    for (round = 0; round < 32; round++) {
        ASSERT_EQ(util_uuid(a), 0);
        ASSERT_EQ(strlen(a), 36);
        for (i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                ASSERT(a[i] == '-');
            else
                ASSERT((a[i] >= '0' && a[i] <= '9') ||
                       (a[i] >= 'a' && a[i] <= 'f'));
        }
        /* RFC 4122 §4.4: version 4, variant 10xx. */
        ASSERT(a[14] == '4');
        ASSERT(strchr("89ab", a[19]) != NULL);
    }
    ASSERT_EQ(util_uuid(b), 0);
    ASSERT(strcmp(a, b) != 0);
}

TEST(random_id_is_base64url_of_n_bytes)
{
    char a[B64URL_LEN(32) + 1], b[B64URL_LEN(32) + 1];
    unsigned char *raw = NULL;
    size_t n = 0;

    ASSERT_EQ(util_random_id(a, 32), 0);
    ASSERT_EQ(strlen(a), 43);
    ASSERT_EQ(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-_"),
              43);
    ASSERT_EQ(b64url_decode(a, strlen(a), &raw, &n), 0);
    ASSERT_EQ(n, 32);
    free(raw);
    ASSERT_EQ(util_random_id(b, 32), 0);
    ASSERT(strcmp(a, b) != 0);
    ASSERT_EQ(util_random_id(a, 65), GH_EINVAL);
}

TEST(random_fills_buffer)
{
    unsigned char a[32], b[32];

    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    ASSERT_EQ(util_random(a, sizeof(a)), 0);
    ASSERT_EQ(util_random(b, sizeof(b)), 0);
    ASSERT(memcmp(a, b, sizeof(a)) != 0);
}

TEST(streq_ct_compares_whole_strings)
{
    ASSERT_EQ(util_streq_ct("s3cret", "s3cret"), 1);
    ASSERT_EQ(util_streq_ct("", ""), 1);
    ASSERT_EQ(util_streq_ct("s3cret", "s3creT"), 0);
    ASSERT_EQ(util_streq_ct("s3cret", "s3cre"), 0);
    ASSERT_EQ(util_streq_ct("s3cre", "s3cret"), 0);
    ASSERT_EQ(util_streq_ct("s3cret", ""), 0);
    ASSERT_EQ(util_streq_ct("", "s3cret"), 0);
    ASSERT_EQ(util_streq_ct(NULL, "s3cret"), 0);
    ASSERT_EQ(util_streq_ct("s3cret", NULL), 0);
    ASSERT_EQ(util_streq_ct(NULL, NULL), 0);
}

TEST(sha256_b64url_matches_rfc7636_pkce_example)
{
    /* RFC 7636 Appendix B: S256 challenge of the example verifier. */
    const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    char out[44];

    util_sha256_b64url(verifier, strlen(verifier), 0, out);
    ASSERT_STR_EQ(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    /* The left half, as at_hash (OIDC Core §3.1.3.6) uses it. */
    util_sha256_b64url(verifier, strlen(verifier), 1, out);
    ASSERT_STR_EQ(out, "E9Melhoa2OwvFrEMTJguCA");
}

TEST(sha256_hex_matches_fips180_vectors)
{
    char out[65];

    util_sha256_hex("abc", 3, out);
    ASSERT_STR_EQ(out, "ba7816bf8f01cfea414140de5dae2223"
                       "b00361a396177a9cb410ff61f20015ad");
    util_sha256_hex("", 0, out);
    ASSERT_STR_EQ(out, "e3b0c44298fc1c149afbf4c8996fb924"
                       "27ae41e4649b934ca495991b7852b855");
}

TEST(free_secret_is_null_safe)
{
    char *s = strdup("hunter2");

    ASSERT(s != NULL);
    util_free_secret(s);
    util_free_secret(NULL);
}

TEST(clocks_are_sane)
{
    double t0 = util_monotonic(), t1 = util_monotonic();

    /* After 2020-01-01. */
    ASSERT(util_now() > 1577836800);
    ASSERT(t1 >= t0);
}

TEST(b64url_valid_takes_only_the_url_alphabet)
{
    ASSERT_EQ(b64url_valid("AZaz09-_", 8), 1);
    ASSERT_EQ(b64url_valid("", 0), 1);
    ASSERT_EQ(b64url_valid("ab+c", 4), 0);
    ASSERT_EQ(b64url_valid("ab/c", 4), 0);
    ASSERT_EQ(b64url_valid("ab=", 3), 0);
    ASSERT_EQ(b64url_valid("ab.c", 4), 0);
    /* Only len bytes are looked at. */
    ASSERT_EQ(b64url_valid("ab.c", 2), 1);
}

TEST(utf8_valid_follows_rfc3629)
{
    static const struct {
        const char *s;
        int ok;
    } v[] = {
        {"plain", 1},
        {"caf\xc3\xa9", 1},
        {"\xe2\x82\xac", 1},
        {"\xf0\x9f\x98\x80", 1},
        {"\xc0\xaf", 0},         /* overlong '/' */
        {"\xe0\x80\xaf", 0},    /* overlong */
        {"\xed\xa0\x80", 0},    /* surrogate */
        {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
        {"\xc3", 0},              /* cut short */
        {"\xff", 0},
    };
    size_t i;

    for (i = 0; i < NELEM(v); i++)
        ASSERT_EQ(util_utf8_valid(v[i].s, strlen(v[i].s)), v[i].ok);
    ASSERT_EQ(util_utf8_valid("a\0b", 3), 0);
}

TEST(text_one_line_refuses_controls_and_overlength)
{
    ASSERT_EQ(text_one_line("key rotation", 1, 200), 1);
    ASSERT_EQ(text_one_line("caf\xc3\xa9", 1, 200), 1);
    ASSERT_EQ(text_one_line("", 0, 200), 1);
    ASSERT_EQ(text_one_line("", 1, 200), 0);
    ASSERT_EQ(text_one_line("two\nlines", 1, 200), 0);
    ASSERT_EQ(text_one_line("tab\there", 1, 200), 0);
    ASSERT_EQ(text_one_line("\x1b[31mred", 1, 200), 0);
    ASSERT_EQ(text_one_line("del\x7f", 1, 200), 0);
    ASSERT_EQ(text_one_line("12345", 1, 5), 1);
    ASSERT_EQ(text_one_line("123456", 1, 5), 0);
}

TEST(state_names_round_trip_through_their_tables)
{
    unsigned i;

    for (i = 0; i < END_REASON_COUNT; i++)
        ASSERT_EQ(end_reason_parse(end_reason_name((enum end_reason)i)), i);
    ASSERT_STR_EQ(end_reason_name(END_RP_LOGOUT), "rp_logout");
    ASSERT_STR_EQ(end_reason_name(END_TIMEOUT_IDLE), "timeout_idle");
    ASSERT_EQ(end_reason_parse("nonsense"), END_OTHER);
    ASSERT_STR_EQ(end_reason_name((enum end_reason)99), "other");
    for (i = 0; i < LEDGER_STATE_COUNT; i++)
        ASSERT_EQ(ledger_state_parse(ledger_state_name((enum ledger_state)i)),
                  i);
    ASSERT_EQ(ledger_state_parse("delivered"), LEDGER_DELIVERED);
    ASSERT_EQ(ledger_state_parse("Pending"), GH_EINVAL);
    /* delivery_done.lua's numbers. */
    ASSERT_EQ(DELIVERY_RESULT_RETRY, 0);
    ASSERT_EQ(DELIVERY_RESULT_DELIVERED, 1);
    ASSERT_EQ(DELIVERY_RESULT_FAILED, 2);
    ASSERT_EQ(DELIVERY_RESULT_COUNT, 3);
}

TEST(xmalloc_family_returns_what_was_asked)
{
    char *s = xstrdup("abc"), *t = xstrndup("abcdef", 2);
    char *f = xasprintf("%s-%d", s, 7);
    int *v = xcalloc(4, sizeof(int));

    ASSERT_STR_EQ(s, "abc");
    ASSERT_STR_EQ(t, "ab");
    ASSERT_STR_EQ(f, "abc-7");
    ASSERT_EQ(v[3], 0);
    v = xrealloc(v, 8, sizeof(int));
    v[7] = 1;
    ASSERT_EQ(v[7], 1);
    free(s);
    free(t);
    free(f);
    free(v);
    free(xmalloc(0));
}

/* session.bind compares these: versions never matter, browser and OS do. */
TEST(user_agent_families_ignore_versions)
{
    static const struct {
        const char *ua, *family;
    } v[] = {
        {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/120.0.0.0 Safari/537.36",
         "Chrome/Linux"},
        {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
         "Gecko) HeadlessChrome/121.0.6167.85 Safari/537.36",
         "Chrome/Linux"},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
         "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
         "Edge/Windows"},
        {"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 "
         "Firefox/121.0",
         "Firefox/Linux"},
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
         "Safari/macOS"},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
         "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 "
         "Safari/604.1",
         "Safari/iOS"},
        {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, "
         "like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
         "Chrome/Android"},
        {"curl/8.5.0", "curl/other"},
        /* Anyone's bytes: only token characters of the product are kept. */
        {"ev\x01il<b>/1.0", "ev/other"},
        {"\x7f\x1b[31m", "unknown/other"},
        {"", "none/other"},
        {NULL, "none/other"},
    };
    char f[USERAGENT_FAMILY_MAX];
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        useragent_family(v[i].ua, f);
        ASSERT_STR_EQ(f, v[i].family);
    }
}

TEST_MAIN(TEST_ENTRY(user_agent_families_ignore_versions),
          TEST_ENTRY(b64url_encodes_rfc4648_vectors),
          TEST_ENTRY(b64url_decodes_rfc4648_vectors),
          TEST_ENTRY(b64url_uses_url_alphabet),
          TEST_ENTRY(b64url_round_trips_binary),
          TEST_ENTRY(b64url_decode_accepts_padding),
          TEST_ENTRY(b64url_decode_refuses_other_alphabets_and_whitespace),
          TEST_ENTRY(b64url_decode_refuses_impossible_length),
          TEST_ENTRY(b64url_decode_refuses_noncanonical_spellings),
          TEST_ENTRY(uuid_is_version_4),
          TEST_ENTRY(random_id_is_base64url_of_n_bytes),
          TEST_ENTRY(random_fills_buffer),
          TEST_ENTRY(streq_ct_compares_whole_strings),
          TEST_ENTRY(sha256_b64url_matches_rfc7636_pkce_example),
          TEST_ENTRY(sha256_hex_matches_fips180_vectors),
          TEST_ENTRY(free_secret_is_null_safe), TEST_ENTRY(clocks_are_sane),
          TEST_ENTRY(b64url_valid_takes_only_the_url_alphabet),
          TEST_ENTRY(utf8_valid_follows_rfc3629),
          TEST_ENTRY(text_one_line_refuses_controls_and_overlength),
          TEST_ENTRY(state_names_round_trip_through_their_tables),
          TEST_ENTRY(xmalloc_family_returns_what_was_asked))
