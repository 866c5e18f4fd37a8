/* SPDX-License-Identifier: MIT */
/* webauthn.c: registrations and assertions made here by an authenticator
 * written for the test (OpenSSL keys, libcbor encoding: the
 * authenticator's side of the protocol) are verified, and every way one
 * can be not for us, not fresh or not signed is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/webauthn.h"
#include "authn.h"
#include "support.h"
#include "test.h"

#define ORIGIN "http://localhost:8080"
#define RPID "localhost"

static const struct webauthn_rp rp = {ORIGIN, RPID};

static void
client_data(char *out, size_t len, const char *type, const char *challenge,
            const char *origin)
{
    snprintf(out, len,
             "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\","
             "\"crossOrigin\":false}",
             type, challenge, origin);
}

static int
do_register(struct authn *a, const char *fmt, const char *rpid,
            unsigned char flags, const char *type, const char *challenge,
            const char *origin, const char *want_challenge, int sig_flip,
            struct webauthn_credential *cred)
{
    char cd[512];
    unsigned char *ao = NULL;
    size_t aolen;
    int rc;

    client_data(cd, sizeof(cd), type, challenge, origin);
    aolen = authn_attobj(a, fmt, rpid, flags, cd, sig_flip, &ao);
    rc = webauthn_register_verify(&rp, want_challenge, cd, strlen(cd), ao,
                                  aolen, cred);
    free(ao);
    return rc;
}

static int
do_assert(struct authn *a, const struct webauthn_credential *cred,
          const char *rpid, unsigned char flags, const char *type,
          const char *challenge, const char *origin, int sig_flip,
          uint32_t *counter, int *uv)
{
    char cd[512];
    unsigned char ad[64], sig[256];
    size_t adlen, siglen;

    client_data(cd, sizeof(cd), type, challenge, origin);
    adlen = authn_auth_data(a, rpid, flags, 0, ad);
    siglen = authn_sign(a, ad, adlen, cd, sig);
    if (sig_flip)
        sig[siglen - 1] ^= 1;
    return webauthn_assert_verify(&rp, "Y2hhbA", cred, cd, strlen(cd), ad,
                                  adlen, sig, siglen, counter, uv);
}

TEST(registration_with_attestation_none_gives_the_credential)
{
    struct authn a;
    struct webauthn_credential c = {0};

    authn_new(&a, 0);
    a.counter = 0;
    ASSERT_EQ(do_register(&a, "none", RPID, 0x05, "webauthn.create", "Y2hhbA",
                          ORIGIN, "Y2hhbA", 0, &c),
              0);
    ASSERT_EQ(c.id_len, sizeof(a.id));
    ASSERT(memcmp(c.id, a.id, sizeof(a.id)) == 0);
    ASSERT_EQ(c.cose_alg, -7);
    ASSERT_EQ(c.pubkey_len, 64);
    ASSERT_EQ(c.counter, 0);
    webauthn_credential_clear(&c);
    authn_free(&a);
}

TEST(registration_packed_self_attestation_es256_and_eddsa)
{
    struct authn a;
    struct webauthn_credential c = {0};
    int ed;

    for (ed = 0; ed < 2; ed++) {
        authn_new(&a, ed);
        a.counter = 5;
        ASSERT_EQ(do_register(&a, "packed", RPID, 0x05, "webauthn.create",
                              "Y2hhbA", ORIGIN, "Y2hhbA", 0, &c),
                  0);
        ASSERT_EQ(c.cose_alg, ed ? -8 : -7);
        ASSERT_EQ(c.counter, 5);
        webauthn_credential_clear(&c);
        /* A packed statement whose signature does not verify. */
        ASSERT_EQ(do_register(&a, "packed", RPID, 0x05, "webauthn.create",
                              "Y2hhbA", ORIGIN, "Y2hhbA", 1, &c),
                  GH_EDENIED);
        ASSERT(c.id == NULL);
        authn_free(&a);
    }
}

TEST(registration_packed_with_x5c_is_verified_by_the_certificate)
{
    struct authn a;
    struct webauthn_credential c = {0};
    char cd[512];
    unsigned char *ao = NULL;
    size_t len;

    authn_new(&a, 0);
    client_data(cd, sizeof(cd), "webauthn.create", "Y2hhbA", ORIGIN);
    len = authn_attobj_x5c(&a, RPID, cd, 0, &ao);
    ASSERT_EQ(webauthn_register_verify(&rp, "Y2hhbA", cd, strlen(cd), ao, len,
                                       &c),
              0);
    /* The credential is the authenticator's, not the attestation key. */
    ASSERT_EQ(c.id_len, sizeof(a.id));
    ASSERT(memcmp(c.id, a.id, sizeof(a.id)) == 0);
    webauthn_credential_clear(&c);
    free(ao);
    len = authn_attobj_x5c(&a, RPID, cd, 1, &ao);
    ASSERT_EQ(webauthn_register_verify(&rp, "Y2hhbA", cd, strlen(cd), ao, len,
                                       &c),
              GH_EDENIED);
    ASSERT(c.id == NULL);
    free(ao);
    authn_free(&a);
}

TEST(registration_not_for_us_is_refused)
{
    struct authn a;
    struct webauthn_credential c = {0};

    authn_new(&a, 0);
    /* Another challenge, origin, RP ID or ceremony type. */
    ASSERT_EQ(do_register(&a, "none", RPID, 0x05, "webauthn.create", "b3RoZXI",
                          ORIGIN, "Y2hhbA", 0, &c),
              GH_EDENIED);
    ASSERT_EQ(do_register(&a, "none", RPID, 0x05, "webauthn.create", "Y2hhbA",
                          "http://evil.example:8080", "Y2hhbA", 0, &c),
              GH_EDENIED);
    ASSERT_EQ(do_register(&a, "packed", "evil.example", 0x05,
                          "webauthn.create", "Y2hhbA", ORIGIN, "Y2hhbA", 0,
                          &c),
              GH_EDENIED);
    ASSERT_EQ(do_register(&a, "none", RPID, 0x05, "webauthn.get", "Y2hhbA",
                          ORIGIN, "Y2hhbA", 0, &c),
              GH_EDENIED);
    /* No user presence. */
    ASSERT_EQ(do_register(&a, "none", RPID, 0x04, "webauthn.create", "Y2hhbA",
                          ORIGIN, "Y2hhbA", 0, &c),
              GH_EDENIED);
    /* An attestation format we do not take. */
    ASSERT_EQ(do_register(&a, "fido-u2f", RPID, 0x05, "webauthn.create",
                          "Y2hhbA", ORIGIN, "Y2hhbA", 0, &c),
              GH_EDENIED);
    ASSERT(c.id == NULL);
    authn_free(&a);
}

TEST(assertion_verifies_and_the_counter_must_grow)
{
    struct authn a;
    struct webauthn_credential c = {0};
    uint32_t counter = 0;
    int uv = 0;

    authn_new(&a, 0);
    a.counter = 1;
    ASSERT_EQ(do_register(&a, "none", RPID, 0x05, "webauthn.create", "Y2hhbA",
                          ORIGIN, "Y2hhbA", 0, &c),
              0);
    a.counter = 2;
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x05, "webauthn.get", "Y2hhbA", ORIGIN,
                        0, &counter, &uv),
              0);
    ASSERT_EQ(counter, 2);
    ASSERT_EQ(uv, 1);
    c.counter = counter;
    /* The same counter again, or one that went back: a clone. */
    counter = 99;
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x05, "webauthn.get", "Y2hhbA", ORIGIN,
                        0, &counter, &uv),
              GH_EDENIED);
    a.counter = 1;
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x01, "webauthn.get", "Y2hhbA", ORIGIN,
                        0, &counter, &uv),
              GH_EDENIED);
    ASSERT_EQ(counter, 99);
    a.counter = 3;
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x01, "webauthn.get", "Y2hhbA", ORIGIN,
                        0, &counter, &uv),
              0);
    ASSERT_EQ(counter, 3);
    ASSERT_EQ(uv, 0);
    webauthn_credential_clear(&c);
    authn_free(&a);
}

TEST(assertion_counter_zero_both_sides_is_accepted)
{
    struct authn a;
    struct webauthn_credential c = {0};
    uint32_t counter = 7;
    int uv = 0;

    authn_new(&a, 1);
    ASSERT_EQ(do_register(&a, "none", RPID, 0x05, "webauthn.create", "Y2hhbA",
                          ORIGIN, "Y2hhbA", 0, &c),
              0);
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x05, "webauthn.get", "Y2hhbA", ORIGIN,
                        0, &counter, &uv),
              0);
    ASSERT_EQ(counter, 0);
    webauthn_credential_clear(&c);
    authn_free(&a);
}

TEST(assertion_not_signed_or_not_for_us_is_refused)
{
    struct authn a, other;
    struct webauthn_credential c = {0};
    uint32_t counter = 0;
    int uv = 0;

    authn_new(&a, 0);
    authn_new(&other, 0);
    ASSERT_EQ(do_register(&a, "none", RPID, 0x05, "webauthn.create", "Y2hhbA",
                          ORIGIN, "Y2hhbA", 0, &c),
              0);
    a.counter = other.counter = 10;
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x05, "webauthn.get", "Y2hhbA", ORIGIN,
                        1, &counter, &uv),
              GH_EDENIED);
    /* Signed by another key. */
    ASSERT_EQ(do_assert(&other, &c, RPID, 0x05, "webauthn.get", "Y2hhbA",
                        ORIGIN, 0, &counter, &uv),
              GH_EDENIED);
    ASSERT_EQ(do_assert(&a, &c, "evil.example", 0x05, "webauthn.get",
                        "Y2hhbA", ORIGIN, 0, &counter, &uv),
              GH_EDENIED);
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x04, "webauthn.get", "Y2hhbA", ORIGIN,
                        0, &counter, &uv),
              GH_EDENIED);
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x05, "webauthn.create", "Y2hhbA",
                        ORIGIN, 0, &counter, &uv),
              GH_EDENIED);
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x05, "webauthn.get", "b3RoZXI", ORIGIN,
                        0, &counter, &uv),
              GH_EDENIED);
    ASSERT_EQ(do_assert(&a, &c, RPID, 0x05, "webauthn.get", "Y2hhbA",
                        "https://localhost:8080", 0, &counter, &uv),
              GH_EDENIED);
    ASSERT_EQ(counter, 0);
    webauthn_credential_clear(&c);
    authn_free(&a);
    authn_free(&other);
}

TEST(client_data_is_parsed_strictly)
{
    struct webauthn_client_data cd;
    static const char *bad[] = {
        "",
        "[]",
        "{\"type\":\"webauthn.get\",\"challenge\":\"abc\"}",
        "{\"type\":1,\"challenge\":\"abc\",\"origin\":\"x\"}",
        "{\"type\":\"a\",\"challenge\":\"a+b\",\"origin\":\"x\"}",
        "{\"type\":\"a\",\"type\":\"b\",\"challenge\":\"a\",\"origin\":\"x\"}",
        "{\"type\":\"a\\u0000\",\"challenge\":\"a\",\"origin\":\"x\"}",
        "{\"type\":\"a\",\"challenge\":\"a\",\"origin\":\"x\"} junk",
    };
    const char *good = "{\"type\":\"webauthn.get\",\"challenge\":\"Y2hh_-\","
                       "\"origin\":\"http://localhost\",\"other\":[1]}";
    size_t i;

    for (i = 0; i < NELEM(bad); i++)
        ASSERT_EQ(webauthn_client_data_parse(bad[i], strlen(bad[i]), &cd),
                  GH_EINVAL);
    ASSERT_EQ(webauthn_client_data_parse(good, strlen(good), &cd), 0);
    ASSERT_STR_EQ(cd.type, "webauthn.get");
    ASSERT_STR_EQ(cd.challenge, "Y2hh_-");
    ASSERT_STR_EQ(cd.origin, "http://localhost");
    webauthn_client_data_clear(&cd);
}

TEST(attestation_object_is_parsed_strictly)
{
    struct authn a;
    struct webauthn_attobj ao;
    unsigned char *buf = NULL, *longer;
    size_t len;
    /* {"fmt": "none"} alone; a map with an integer key; a text string. */
    static const unsigned char no_auth[] = {0xa1, 0x63, 'f', 'm', 't',
                                            0x64, 'n', 'o', 'n', 'e'};
    static const unsigned char int_key[] = {0xa1, 0x01, 0x02};
    static const unsigned char text[] = {0x61, 'x'};
    /* An array that declares 1.6 billion items in five bytes: refused
     * before libcbor allocates for them (found by fuzz-webauthn-attobj). */
    static const unsigned char huge[] = {0x9a, 0x61, 0x74, 0x74, 0x53};

    authn_new(&a, 0);
    len = authn_attobj(&a, "none", RPID, 0x05, "{}", 0, &buf);
    ASSERT_EQ(webauthn_attobj_parse(buf, len, &ao), 0);
    ASSERT_STR_EQ(ao.fmt, "none");
    ASSERT(ao.auth_data_len > 37);
    ASSERT_EQ(ao.att_stmt_len, 1);
    webauthn_attobj_clear(&ao);
    /* Cut short, or with a byte after the map. */
    ASSERT_EQ(webauthn_attobj_parse(buf, len - 1, &ao), GH_EINVAL);
    longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    ASSERT_EQ(webauthn_attobj_parse(longer, len + 1, &ao), GH_EINVAL);
    ASSERT_EQ(webauthn_attobj_parse(no_auth, sizeof(no_auth), &ao), GH_EINVAL);
    ASSERT_EQ(webauthn_attobj_parse(int_key, sizeof(int_key), &ao), GH_EINVAL);
    ASSERT_EQ(webauthn_attobj_parse(text, sizeof(text), &ao), GH_EINVAL);
    ASSERT_EQ(webauthn_attobj_parse(huge, sizeof(huge), &ao), GH_EINVAL);
    free(longer);
    free(buf);
    authn_free(&a);
}

TEST(rp_is_the_issuer_origin_and_host)
{
    char origin[128], id[64];

    ASSERT_EQ(webauthn_rp_from_issuer("http://localhost:8080/gh", origin,
                                      sizeof(origin), id, sizeof(id)),
              0);
    ASSERT_STR_EQ(origin, "http://localhost:8080");
    ASSERT_STR_EQ(id, "localhost");
    ASSERT_EQ(webauthn_rp_from_issuer("https://SSO.Example.com", origin,
                                      sizeof(origin), id, sizeof(id)),
              0);
    ASSERT_STR_EQ(origin, "https://SSO.Example.com");
    ASSERT_STR_EQ(id, "sso.example.com");
    /* A browser's origin has no default port. */
    ASSERT_EQ(webauthn_rp_from_issuer("https://sso.example.com:443/x", origin,
                                      sizeof(origin), id, sizeof(id)),
              0);
    ASSERT_STR_EQ(origin, "https://sso.example.com");
    ASSERT_EQ(webauthn_rp_from_issuer("http://localhost:80", origin,
                                      sizeof(origin), id, sizeof(id)),
              0);
    ASSERT_STR_EQ(origin, "http://localhost");
    ASSERT_EQ(webauthn_rp_from_issuer("https://sso.example.com:8443", origin,
                                      sizeof(origin), id, sizeof(id)),
              0);
    ASSERT_STR_EQ(origin, "https://sso.example.com:8443");
    /* An RP ID cannot be an IP address (WebAuthn §5.1.4 via RFC 6454). */
    ASSERT_EQ(webauthn_rp_from_issuer("http://127.0.0.1:8080", origin,
                                      sizeof(origin), id, sizeof(id)),
              GH_EINVAL);
    ASSERT_EQ(webauthn_rp_from_issuer("http://[::1]:8080", origin,
                                      sizeof(origin), id, sizeof(id)),
              GH_EINVAL);
    ASSERT_EQ(webauthn_rp_from_issuer("ftp://x", origin, sizeof(origin), id,
                                      sizeof(id)),
              GH_EINVAL);
}

TEST_MAIN(TEST_ENTRY(registration_with_attestation_none_gives_the_credential),
          TEST_ENTRY(registration_packed_self_attestation_es256_and_eddsa),
          TEST_ENTRY(registration_packed_with_x5c_is_verified_by_the_certificate),
          TEST_ENTRY(registration_not_for_us_is_refused),
          TEST_ENTRY(assertion_verifies_and_the_counter_must_grow),
          TEST_ENTRY(assertion_counter_zero_both_sides_is_accepted),
          TEST_ENTRY(assertion_not_signed_or_not_for_us_is_refused),
          TEST_ENTRY(client_data_is_parsed_strictly),
          TEST_ENTRY(attestation_object_is_parsed_strictly),
          TEST_ENTRY(rp_is_the_issuer_origin_and_host))
