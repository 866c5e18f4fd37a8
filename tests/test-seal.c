/* SPDX-License-Identifier: MIT */
/* seal.c: what the browser carries comes back unchanged, for the purpose
 * and the binding it was sealed for, before its expiry, or not at all. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/seal.h"
#include "test.h"

static const unsigned char key[SEAL_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char other[SEAL_KEY_LEN] = "x123456789abcdef0123456789abcde";

static char *
sealed(const char *purpose, const char *binding, int64_t exp)
{
    json_t *c = json_pack("{s:s, s:s}", "client_id", "crm", "state", "s\"t");
    char *out = NULL;

    ASSERT_EQ(seal_make(key, purpose, binding, c, exp, &out), 0);
    json_decref(c);
    return out;
}

static int
open_rc(const unsigned char *k, const char *purpose, const char *binding,
        const char *text, int64_t now)
{
    json_t *c = NULL;
    int rc = seal_open(k, purpose, binding, text, strlen(text), now, &c);

    if (rc == 0)
        ASSERT(c != NULL);
    else
        ASSERT(c == NULL);
    json_decref(c);
    return rc;
}

TEST(round_trip_keeps_the_claims)
{
    char *s = sealed("areq", "", 1000);
    json_t *c = NULL;

    ASSERT_EQ(seal_open(key, "areq", "", s, strlen(s), 1000, &c), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(c, "client_id")), "crm");
    ASSERT_STR_EQ(json_string_value(json_object_get(c, "state")), "s\"t");
    ASSERT_EQ(json_integer_value(json_object_get(c, "exp")), 1000);
    /* Only base64url and one dot: safe in a form field and a URL. */
    ASSERT_EQ(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-_."), strlen(s));
    json_decref(c);
    free(s);
}

TEST(purpose_binding_and_key_are_all_checked)
{
    char *s = sealed("login", "cookieA", 1000);

    ASSERT_EQ(open_rc(key, "login", "cookieA", s, 10), 0);
    ASSERT_EQ(open_rc(key, "logout", "cookieA", s, 10), GH_EBADTOKEN);
    ASSERT_EQ(open_rc(key, "login", "cookieB", s, 10), GH_EBADTOKEN);
    ASSERT_EQ(open_rc(key, "login", "", s, 10), GH_EBADTOKEN);
    /* The NUL between purpose and binding: "log"+"in..." is not "login". */
    ASSERT_EQ(open_rc(key, "log", "incookieA", s, 10), GH_EBADTOKEN);
    ASSERT_EQ(open_rc(other, "login", "cookieA", s, 10), GH_EBADTOKEN);
    free(s);
}

TEST(expiry_is_to_the_second)
{
    char *s = sealed("areq", "", 1000);

    ASSERT_EQ(open_rc(key, "areq", "", s, 1000), 0);
    ASSERT_EQ(open_rc(key, "areq", "", s, 1001), GH_EEXPIRED);
    free(s);
}

TEST(any_change_or_malformed_input_is_refused)
{
    char *s = sealed("areq", "", 1000), *t;
    size_t i, n = strlen(s);
    const char *bad[] = {"", ".", "abc", "abc.", ".abc", "a.b.c",
                         "e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};

    /* Every character changed, one at a time. */
    for (i = 0; i < n; i++) {
        t = strdup(s);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        ASSERT_EQ(open_rc(key, "areq", "", t, 10), GH_EBADTOKEN);
        free(t);
    }
    /* Cut short, or something appended. */
    t = strndup(s, n - 1);
    ASSERT_EQ(open_rc(key, "areq", "", t, 10), GH_EBADTOKEN);
    free(t);
    if (asprintf(&t, "%sA", s) < 0)
        FAIL("asprintf");
    ASSERT_EQ(open_rc(key, "areq", "", t, 10), GH_EBADTOKEN);
    free(t);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_EQ(open_rc(key, "areq", "", bad[i], 10), GH_EBADTOKEN);
    /* Too long to be one of ours, before any work. */
    t = calloc(1, SEAL_MAX + 2);
    memset(t, 'A', SEAL_MAX + 1);
    ASSERT_EQ(open_rc(key, "areq", "", t, 10), GH_EBADTOKEN);
    free(t);
    free(s);
}

TEST(only_an_object_is_sealed)
{
    json_t *a = json_array();
    char *out = NULL;

    ASSERT_EQ(seal_make(key, "areq", "", a, 1, &out), GH_EINVAL);
    ASSERT(out == NULL);
    json_decref(a);
}

TEST_MAIN(TEST_ENTRY(round_trip_keeps_the_claims),
          TEST_ENTRY(purpose_binding_and_key_are_all_checked),
          TEST_ENTRY(expiry_is_to_the_second),
          TEST_ENTRY(any_change_or_malformed_input_is_refused),
          TEST_ENTRY(only_an_object_is_sealed))
