/* SPDX-License-Identifier: MIT */
/* totp.c and factor_secret.c: codes agree with oathtool (an independent
 * implementation), one step of skew either way and no more, typed input
 * parsed strictly, secrets sealed to their owner, recovery codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/factor_secret.h"
#include "gatehouse/crypto/totp.h"
#include "support.h"
#include "test.h"

/* RFC 6238 Appendix B's SHA-1 secret, "12345678901234567890". */
static const unsigned char rfc_secret[TOTP_SECRET_LEN] =
    "12345678901234567890";

/* What oathtool says the code is at epoch second t for a base32 secret. */
static void
oathtool_code(const char *b32, long long t, char out[TOTP_DIGITS + 1])
{
    char now[64], *so = NULL, *se = NULL;
    char *argv[] = {"/usr/bin/oathtool", "--totp", "-b", now, (char *)b32,
                    NULL};

    if (access(argv[0], X_OK) != 0) {
        fprintf(stderr, "oathtool not installed\n");
        exit(77);
    }
    snprintf(now, sizeof(now), "--now=@%lld", t);
    ASSERT_EQ(run_cmd(argv, NULL, &so, &se), 0);
    ASSERT(so != NULL && strlen(so) >= TOTP_DIGITS);
    memcpy(out, so, TOTP_DIGITS);
    out[TOTP_DIGITS] = '\0';
    free(so);
    free(se);
}

TEST(secret_text_is_base32_of_160_bits)
{
    char b32[TOTP_SECRET_B32_LEN + 1];

    ASSERT_EQ(totp_secret_text(rfc_secret, b32), 0);
    ASSERT_STR_EQ(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(codes_from_oathtool_are_accepted_with_their_step)
{
    unsigned char secret[TOTP_SECRET_LEN];
    char b32[TOTP_SECRET_B32_LEN + 1], code[TOTP_DIGITS + 1];
    long long t = 1700000000 + 7; /* inside a step, not on its edge */
    int64_t step = 0;
    int i;

    for (i = 0; i < 5; i++) {
        ASSERT_EQ(totp_secret_new(secret), 0);
        ASSERT_EQ(totp_secret_text(secret, b32), 0);
        oathtool_code(b32, t, code);
        ASSERT_EQ(totp_check(secret, sizeof(secret), code, t, &step), 0);
        ASSERT_EQ(step, t / TOTP_STEP_S);
    }
}

TEST(rfc_6238_vector)
{
    int64_t step = 0;

    /* Appendix B: T = 59 s gives 94287082, of which six digits are the
     * last six. */
    ASSERT_EQ(totp_check(rfc_secret, sizeof(rfc_secret), "287082", 59, &step),
              0);
    ASSERT_EQ(step, 1);
}

TEST(one_step_of_skew_either_way_and_no_more)
{
    char b32[TOTP_SECRET_B32_LEN + 1], code[TOTP_DIGITS + 1];
    long long t = 1800000015;
    int64_t step = 0;
    int off;

    ASSERT_EQ(totp_secret_text(rfc_secret, b32), 0);
    for (off = -2; off <= 2; off++) {
        int want = off >= -1 && off <= 1 ? 0 : GH_EDENIED;

        /* The phone's clock is off by off steps. */
        oathtool_code(b32, t + off * TOTP_STEP_S, code);
        ASSERT_EQ(totp_check(rfc_secret, sizeof(rfc_secret), code, t, &step),
                  want);
        if (want == 0)
            ASSERT_EQ(step, t / TOTP_STEP_S + off);
    }
}

TEST(a_wrong_code_is_refused_and_sets_nothing)
{
    char b32[TOTP_SECRET_B32_LEN + 1], code[TOTP_DIGITS + 1];
    long long t = 1800000015;
    int64_t step = 42;

    ASSERT_EQ(totp_secret_text(rfc_secret, b32), 0);
    oathtool_code(b32, t, code);
    code[5] = code[5] == '9' ? '0' : (char)(code[5] + 1);
    ASSERT_EQ(totp_check(rfc_secret, sizeof(rfc_secret), code, t, &step),
              GH_EDENIED);
    ASSERT_EQ(step, 42);
}

TEST(typed_codes_are_parsed_strictly)
{
    static const struct {
        const char *in;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"123456", "123456"},   {"123 456", "123456"},
        {" 12 34 56 ", "123456"}, {"12345", NULL},
        {"1234567", NULL},      {"12345a", NULL},
        {"123-456", NULL},      {"", NULL},
        {"      ", NULL},       {"１２３４５６", NULL},
        {"123\t456", NULL},     {"+12345", NULL},
    };
    char out[TOTP_DIGITS + 1];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;

        memcpy(out, "xxxxxx", 7);
        rc = totp_parse_code(cases[i].in, strlen(cases[i].in), out);
        if (cases[i].want == NULL) {
            ASSERT_EQ(rc, GH_EINVAL);
            ASSERT_STR_EQ(out, "xxxxxx");
        } else {
            ASSERT_EQ(rc, 0);
            ASSERT_STR_EQ(out, cases[i].want);
        }
    }
    /* A NUL inside the input is not a digit. */
    ASSERT_EQ(totp_parse_code("123\0456", 7, out), GH_EINVAL);
}

TEST(uri_names_the_issuer_host_and_the_account_encoded)
{
    char *uri = NULL;

    ASSERT_EQ(totp_uri(rfc_secret, "https://sso.example.com:8443/idp",
                       "alice b@x", &uri),
              0);
    ASSERT_STR_EQ(uri, "otpauth://totp/sso.example.com:alice%20b%40x"
                       "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                       "&issuer=sso.example.com&algorithm=SHA1&digits=6"
                       "&period=30");
    free(uri);
    uri = NULL;
    ASSERT_EQ(totp_uri(rfc_secret, "http://[::1]:8080", "bob", &uri), 0);
    ASSERT_CONTAINS(uri, "otpauth://totp/%3A%3A1:bob?");
    free(uri);
    ASSERT_EQ(totp_uri(rfc_secret, "no-scheme", "bob", &uri), GH_EINVAL);
}

static const unsigned char fkey[FACTOR_KEY_LEN] =
    "0123456789abcdef0123456789abcde";
static const char sub_a[] = "6f1c9f3e-0000-4000-8000-000000000001";
static const char sub_b[] = "6f1c9f3e-0000-4000-8000-000000000002";

TEST(sealed_secret_opens_only_for_its_owner_and_key)
{
    unsigned char out[64];
    char *a = NULL, *a2 = NULL;
    size_t len = 0;
    static const unsigned char other[FACTOR_KEY_LEN] =
        "x123456789abcdef0123456789abcde";

    ASSERT_EQ(factor_secret_seal(fkey, sub_a, rfc_secret, TOTP_SECRET_LEN, &a),
              0);
    ASSERT_EQ(factor_secret_open(fkey, sub_a, a, out, sizeof(out), &len), 0);
    ASSERT_EQ(len, TOTP_SECRET_LEN);
    ASSERT(memcmp(out, rfc_secret, len) == 0);
    /* The secret is not in it, in any form a reader would try. */
    ASSERT(strstr(a, "GEZDGNBVGY3TQOJQ") == NULL);
    ASSERT(strstr(a, "12345678901234567890") == NULL);
    /* A fresh nonce each time: the same secret never seals the same. */
    ASSERT_EQ(factor_secret_seal(fkey, sub_a, rfc_secret, TOTP_SECRET_LEN,
                                 &a2),
              0);
    ASSERT(strcmp(a, a2) != 0);
    ASSERT_EQ(factor_secret_open(fkey, sub_b, a, out, sizeof(out), &len),
              GH_EBADTOKEN);
    ASSERT_EQ(factor_secret_open(other, sub_a, a, out, sizeof(out), &len),
              GH_EBADTOKEN);
    /* One character changed anywhere past the version. */
    a[10] = a[10] == 'A' ? 'B' : 'A';
    ASSERT_EQ(factor_secret_open(fkey, sub_a, a, out, sizeof(out), &len),
              GH_EBADTOKEN);
    ASSERT_EQ(factor_secret_open(fkey, sub_a, "v1.", out, sizeof(out), &len),
              GH_EBADTOKEN);
    ASSERT_EQ(factor_secret_open(fkey, sub_a, "garbage", out, sizeof(out),
                                 &len),
              GH_EBADTOKEN);
    free(a);
    free(a2);
}

TEST(key_file_is_made_once_0600_and_refused_when_open_to_others)
{
    char dir[512], path[600], why[256];
    unsigned char k1[FACTOR_KEY_LEN], k2[FACTOR_KEY_LEN];
    struct stat sb;

    ASSERT_EQ(test_mkdtemp(dir, sizeof(dir), "fkey"), 0);
    snprintf(path, sizeof(path), "%s/keys", dir);
    ASSERT_EQ(factor_key_load(path, 0, k1, why, sizeof(why)), GH_ENOTFOUND);
    ASSERT_CONTAINS(why, "gatehouse keys generate");
    ASSERT_EQ(factor_key_load(path, 1, k1, why, sizeof(why)), 0);
    ASSERT_EQ(factor_key_load(path, 1, k2, why, sizeof(why)), 0);
    ASSERT(memcmp(k1, k2, sizeof(k1)) == 0);
    snprintf(path, sizeof(path), "%s/keys/%s", dir, FACTOR_KEY_FILE);
    ASSERT_EQ(stat(path, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600);
    ASSERT_EQ(sb.st_size, FACTOR_KEY_LEN);
    ASSERT_EQ(chmod(path, 0644), 0);
    snprintf(path, sizeof(path), "%s/keys", dir);
    ASSERT_EQ(factor_key_load(path, 1, k2, why, sizeof(why)), GH_EDENIED);
    ASSERT_CONTAINS(why, "chmod 600");
}

TEST(recovery_codes_are_random_and_parse_back)
{
    char a[RECOVERY_CODE_TEXT_LEN + 1], b[RECOVERY_CODE_TEXT_LEN + 1];
    char n[RECOVERY_CODE_CHARS + 1], upper[RECOVERY_CODE_TEXT_LEN + 1];
    char h1[65], h2[65], h3[65];
    size_t i;

    ASSERT_EQ(recovery_code_new(a), 0);
    ASSERT_EQ(recovery_code_new(b), 0);
    ASSERT(strcmp(a, b) != 0);
    ASSERT_EQ(strlen(a), 11);
    ASSERT_EQ(a[5], '-');
    ASSERT_EQ(recovery_code_parse(a, strlen(a), n), 0);
    ASSERT_EQ(strlen(n), RECOVERY_CODE_CHARS);
    ASSERT_EQ(recovery_code_hash(fkey, sub_a, n, h1), 0);
    /* Typed in capitals, with spaces instead of the dash: the same. */
    for (i = 0; a[i] != '\0'; i++)
        upper[i] = a[i] == '-' ? ' ' : (char)(a[i] >= 'a' && a[i] <= 'z'
                                                  ? a[i] - 'a' + 'A'
                                                  : a[i]);
    upper[i] = '\0';
    ASSERT_EQ(recovery_code_parse(upper, strlen(upper), n), 0);
    ASSERT_EQ(recovery_code_hash(fkey, sub_a, n, h2), 0);
    ASSERT_STR_EQ(h1, h2);
    /* Another user's hash of the same code differs. */
    ASSERT_EQ(recovery_code_hash(fkey, sub_b, n, h3), 0);
    ASSERT(strcmp(h1, h3) != 0);
    ASSERT_EQ(recovery_code_parse("abcde-fghi", 10, n), GH_EINVAL);
    ASSERT_EQ(recovery_code_parse("abcde-fghijk", 12, n), GH_EINVAL);
    ASSERT_EQ(recovery_code_parse("abcde-fgh1j", 11, n), GH_EINVAL);
    ASSERT_EQ(recovery_code_parse("123456", 6, n), GH_EINVAL);
}

TEST_MAIN(TEST_ENTRY(secret_text_is_base32_of_160_bits),
          TEST_ENTRY(codes_from_oathtool_are_accepted_with_their_step),
          TEST_ENTRY(rfc_6238_vector),
          TEST_ENTRY(one_step_of_skew_either_way_and_no_more),
          TEST_ENTRY(a_wrong_code_is_refused_and_sets_nothing),
          TEST_ENTRY(typed_codes_are_parsed_strictly),
          TEST_ENTRY(uri_names_the_issuer_host_and_the_account_encoded),
          TEST_ENTRY(sealed_secret_opens_only_for_its_owner_and_key),
          TEST_ENTRY(key_file_is_made_once_0600_and_refused_when_open_to_others),
          TEST_ENTRY(recovery_codes_are_random_and_parse_back))
