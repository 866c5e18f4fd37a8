/* SPDX-License-Identifier: MIT */
/* keys.c: RFC 7638 kids, generate/list/load, rotation, refusals, sign and
 * verify. Keys are generated at run time into temp dirs: none is committed. */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/core/util.h"
#include "test.h"

/* RFC 7638 §3.1, the RSA key of RFC 7517 Appendix A.1. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aP"
    "FFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl9"
    "3lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
    "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
    "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumbprint[] =
    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* A temp dir per test; keys go in <tmp>/keys, which generate creates. */
struct tmp {
    char root[128];
    char keys[160];
};

static void
tmp_make(struct tmp *t)
{
    ASSERT_EQ(test_mkdtemp(t->root, sizeof(t->root), "test-keys"), 0);
    snprintf(t->keys, sizeof(t->keys), "%s/keys", t->root);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void
tmp_remove(struct tmp *t)
{
    ASSERT_EQ(nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void
key_file(char *buf, size_t len, const char *dir, const char *kid,
         const char *ext)
{
    snprintf(buf, len, "%s/%s%s", dir, kid, ext);
}

/* Rewrites one number in a key's metadata ("created" or "retired"). */
static void
set_meta(const char *dir, const char *kid, const char *field, int64_t value)
{
    char path[256];
    json_t *m;

    key_file(path, sizeof(path), dir, kid, ".json");
    ASSERT((m = json_load_file(path, 0, NULL)) != NULL);
    ASSERT_EQ(json_object_set_new(m, field, json_integer(value)), 0);
    ASSERT_EQ(json_dump_file(m, path, JSON_COMPACT), 0);
    json_decref(m);
}

static void
copy_file(const char *from, const char *to)
{
    char buf[8192];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;

    ASSERT(in != NULL && out != NULL);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        ASSERT_EQ(fwrite(buf, 1, n, out), n);
    fclose(in);
    ASSERT_EQ(fclose(out), 0);
}

/* The JWK named kid in the keyring's JWKS, or NULL (new reference). */
static json_t *
jwks_find(const struct keyring *kr, const char *kid)
{
    json_t *doc = json_loads(keys_jwks(kr), 0, NULL), *keys, *k;
    json_t *found = NULL;
    size_t i;

    ASSERT(doc != NULL);
    keys = json_object_get(doc, "keys");
    for (i = 0; i < json_array_size(keys); i++) {
        k = json_array_get(keys, i);
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0)
            found = json_incref(k);
    }
    json_decref(doc);
    return found;
}

static size_t
jwks_count(const struct keyring *kr)
{
    json_t *doc = json_loads(keys_jwks(kr), 0, NULL);
    size_t n = json_array_size(json_object_get(doc, "keys"));

    json_decref(doc);
    return n;
}

static struct keyring *
load_ok(const char *dir, const char *alg, int64_t keep_s)
{
    struct keyring *kr = NULL;
    char why[512] = "";
    int rc = keyring_load(dir, alg, keep_s, &kr, why, sizeof(why));

    if (rc != 0)
        FAIL("keyring_load(%s, %s): %s: %s", dir, alg, gh_strerror(rc), why);
    return kr;
}

/* Signs input with the active key and checks it against kid: 0 or the
 * verify code. */
static int
sign_then_verify(const struct keyring *signer, const struct keyring *verifier,
                 const char *kid, const char *alg, const char *input)
{
    char sig[KEYS_SIG_MAX];
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int rc;

    ASSERT_EQ(keys_sign(signer, NULL, input, strlen(input), sig), 0);
    ASSERT_EQ(b64url_decode(sig, strlen(sig), &raw, &rawlen), 0);
    rc = keys_verify(verifier, kid, alg, input, strlen(input), raw, rawlen);
    free(raw);
    return rc;
}

TEST(thumbprint_matches_rfc7638_example)
{
    char out[KEYS_KID_LEN + 1];
    json_t *jwk;

    /* With the members RFC 7517 A.1 adds: they must not count. */
    jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", rfc7638_n,
                    "e", "AQAB", "alg", "RS256", "kid", "2011-04-29");
    ASSERT(jwk != NULL);
    ASSERT_EQ(keys_jwk_thumbprint(jwk, out), 0);
    ASSERT_STR_EQ(out, rfc7638_thumbprint);
    ASSERT_EQ(strlen(out), KEYS_KID_LEN);
    json_decref(jwk);
}

TEST(thumbprint_ec_uses_crv_kty_x_y_in_order)
{
    const char *x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const char *y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    char canon[256], want[44], out[KEYS_KID_LEN + 1];
    json_t *jwk;

    snprintf(canon, sizeof(canon),
             "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
             y);
    util_sha256_b64url(canon, strlen(canon), 0, want);
    /* Members in another order, plus ones that are not part of the key. */
    jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "y", y, "use", "sig", "x",
                    x, "kty", "EC", "kid", "k1", "crv", "P-256");
    ASSERT_EQ(keys_jwk_thumbprint(jwk, out), 0);
    ASSERT_STR_EQ(out, want);
    json_decref(jwk);
}

TEST(thumbprint_refuses_incomplete_or_unknown_jwk)
{
    char out[KEYS_KID_LEN + 1];
    json_t *jwk;

    jwk = json_pack("{s:s, s:s}", "kty", "RSA", "n", rfc7638_n);
    ASSERT_EQ(keys_jwk_thumbprint(jwk, out), GH_EINVAL);
    json_decref(jwk);
    jwk = json_pack("{s:s, s:s, s:i}", "kty", "RSA", "n", rfc7638_n, "e", 3);
    ASSERT_EQ(keys_jwk_thumbprint(jwk, out), GH_EINVAL);
    json_decref(jwk);
    jwk = json_pack("{s:s, s:s}", "kty", "oct", "k", "AAAA");
    ASSERT_EQ(keys_jwk_thumbprint(jwk, out), GH_EINVAL);
    json_decref(jwk);
    jwk = json_pack("{s:s}", "n", rfc7638_n);
    ASSERT_EQ(keys_jwk_thumbprint(jwk, out), GH_EINVAL);
    json_decref(jwk);
}

/* generate → files and modes → list → load → JWKS, for one alg. */
static void
generate_list_load(const char *alg)
{
    struct tmp t;
    struct key_info *ki = NULL;
    struct keyring *kr;
    char kid[KEYS_KID_LEN + 1], path[256], thumb[KEYS_KID_LEN + 1];
    struct stat st;
    json_t *jwk, *meta;
    size_t n = 0;
    int64_t before = util_now();

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, alg, kid), 0);
    ASSERT_EQ(strlen(kid), KEYS_KID_LEN);

    ASSERT_EQ(stat(t.keys, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0700);
    key_file(path, sizeof(path), t.keys, kid, ".pem");
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    key_file(path, sizeof(path), t.keys, kid, ".json");
    ASSERT((meta = json_load_file(path, 0, NULL)) != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(meta, "kid")), kid);
    ASSERT_STR_EQ(json_string_value(json_object_get(meta, "alg")), alg);
    ASSERT(json_integer_value(json_object_get(meta, "created")) >= before);
    ASSERT_EQ(json_integer_value(json_object_get(meta, "retired")), 0);
    json_decref(meta);

    ASSERT_EQ(keys_list(t.keys, &ki, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(ki[0].kid, kid);
    ASSERT_STR_EQ(ki[0].alg, alg);
    ASSERT_EQ(ki[0].retired, 0);
    free(ki);

    kr = load_ok(t.keys, alg, 600);
    ASSERT_STR_EQ(keys_active_kid(kr), kid);
    ASSERT_STR_EQ(keys_active_alg(kr), alg);
    ASSERT_EQ(jwks_count(kr), 1);
    ASSERT((jwk = jwks_find(kr, kid)) != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "use")), "sig");
    ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "alg")), alg);
    if (strcmp(alg, "ES256") == 0) {
        ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "kty")), "EC");
        ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "crv")), "P-256");
        /* 32-byte coordinates, never shortened (RFC 7518 §6.2.1.2) */
        ASSERT_EQ(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
        ASSERT_EQ(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
    } else {
        ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "kty")), "RSA");
        ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "e")), "AQAB");
        ASSERT_EQ(strlen(json_string_value(json_object_get(jwk, "n"))),
                  B64URL_LEN(256));
    }
    /* The published key is public: no private member of RFC 7518 §6. */
    ASSERT(json_object_get(jwk, "d") == NULL);
    ASSERT(json_object_get(jwk, "p") == NULL);
    ASSERT(json_object_get(jwk, "q") == NULL);
    ASSERT(json_object_get(jwk, "dp") == NULL);
    /* Anyone can recompute the kid from the JWKS. */
    ASSERT_EQ(keys_jwk_thumbprint(jwk, thumb), 0);
    ASSERT_STR_EQ(thumb, kid);
    json_decref(jwk);
    keyring_free(kr);
    tmp_remove(&t);
}

TEST(generate_list_load_es256)
{
    generate_list_load("ES256");
}

TEST(generate_list_load_rs256)
{
    generate_list_load("RS256");
}

TEST(generate_retires_previous_key_which_still_verifies)
{
    struct tmp t;
    struct key_info *ki = NULL;
    struct keyring *old, *kr;
    char first[KEYS_KID_LEN + 1], second[KEYS_KID_LEN + 1];
    char sig[KEYS_SIG_MAX];
    unsigned char *raw = NULL;
    size_t n = 0, rawlen = 0;
    const char *input = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0";
    json_t *jwks;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", first), 0);
    old = load_ok(t.keys, "ES256", 600);
    ASSERT_EQ(keys_sign(old, NULL, input, strlen(input), sig), 0);

    ASSERT_EQ(keys_generate(t.keys, "ES256", second), 0);
    ASSERT(strcmp(first, second) != 0);
    ASSERT_EQ(keys_list(t.keys, &ki, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(ki[0].kid, second); /* newest first */
    ASSERT_EQ(ki[0].retired, 0);
    ASSERT_STR_EQ(ki[1].kid, first);
    ASSERT(ki[1].retired >= ki[1].created);
    free(ki);

    kr = load_ok(t.keys, "ES256", 600);
    ASSERT_STR_EQ(keys_active_kid(kr), second);
    ASSERT_EQ(jwks_count(kr), 2);
    /* The signing key is listed first. */
    jwks = json_loads(keys_jwks(kr), 0, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_array_get(json_object_get(jwks, "keys"), 0), "kid")),
                  second);
    json_decref(jwks);
    /* What the retired key signed still verifies; new signatures use the
     * new key. */
    ASSERT_EQ(b64url_decode(sig, strlen(sig), &raw, &rawlen), 0);
    ASSERT_EQ(
        keys_verify(kr, first, "ES256", input, strlen(input), raw, rawlen), 0);
    ASSERT_EQ(
        keys_verify(kr, second, "ES256", input, strlen(input), raw, rawlen),
        GH_EBADTOKEN);
    ASSERT_EQ(sign_then_verify(kr, kr, second, "ES256", input), 0);
    ASSERT_EQ(sign_then_verify(kr, kr, first, "ES256", input), GH_EBADTOKEN);
    free(raw);
    keyring_free(old);
    keyring_free(kr);
    tmp_remove(&t);
}

/* Signs input with alg's active key and verifies it with kid: 0 or the
 * verify code. */
static int
sign_alg_then_verify(const struct keyring *kr, const char *alg,
                     const char *kid, const char *input)
{
    char sig[KEYS_SIG_MAX];
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int rc;

    ASSERT_EQ(keys_sign(kr, alg, input, strlen(input), sig), 0);
    ASSERT_EQ(b64url_decode(sig, strlen(sig), &raw, &rawlen), 0);
    rc = keys_verify(kr, kid, alg, input, strlen(input), raw, rawlen);
    free(raw);
    return rc;
}

/* SPEC §3: one active key per alg. A new key of one alg leaves the other
 * alg's key active, and either alg can be the signing_alg. */
TEST(generate_other_alg_keeps_both_active)
{
    struct tmp t;
    struct key_info *ki = NULL;
    struct keyring *kr;
    char es[KEYS_KID_LEN + 1], rs[KEYS_KID_LEN + 1];
    size_t n = 0;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", es), 0);
    ASSERT_EQ(keys_generate(t.keys, "RS256", rs), 0);
    ASSERT_EQ(keys_list(t.keys, &ki, &n), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(ki[0].retired, 0);
    ASSERT_EQ(ki[1].retired, 0);
    free(ki);

    kr = load_ok(t.keys, "RS256", 600);
    ASSERT_STR_EQ(keys_active_kid(kr), rs);
    ASSERT_EQ(jwks_count(kr), 2);
    ASSERT_EQ(sign_then_verify(kr, kr, rs, "RS256", "a.b"), 0);
    keyring_free(kr);
    /* The ES256 key is still active: it can be the signing_alg. */
    kr = load_ok(t.keys, "ES256", 600);
    ASSERT_STR_EQ(keys_active_kid(kr), es);
    ASSERT_EQ(sign_then_verify(kr, kr, es, "ES256", "a.b"), 0);
    keyring_free(kr);
    tmp_remove(&t);
}

/* id_token_signing_alg_values_supported comes from keys_algs: a keyring
 * with both keys signs with either, by name, and verifies both. */
TEST(keyring_with_both_algs_signs_with_each)
{
    struct tmp t;
    struct keyring *kr;
    char es[KEYS_KID_LEN + 1], rs[KEYS_KID_LEN + 1], es2[KEYS_KID_LEN + 1];
    const char *const *algs;
    json_t *jwk;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "RS256", rs), 0);
    ASSERT_EQ(keys_generate(t.keys, "ES256", es), 0);
    kr = load_ok(t.keys, "ES256", 600);
    /* signing_alg signs when no alg is named. */
    ASSERT_STR_EQ(keys_active_kid(kr), es);
    ASSERT_STR_EQ(keys_kid(kr, NULL), es);
    ASSERT_STR_EQ(keys_kid(kr, "ES256"), es);
    ASSERT_STR_EQ(keys_kid(kr, "RS256"), rs);
    ASSERT(keys_kid(kr, "HS256") == NULL);
    algs = keys_algs(kr);
    ASSERT_STR_EQ(algs[0], "RS256");
    ASSERT_STR_EQ(algs[1], "ES256");
    ASSERT(algs[2] == NULL);
    ASSERT_EQ(jwks_count(kr), 2);
    ASSERT((jwk = jwks_find(kr, rs)) != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "alg")), "RS256");
    json_decref(jwk);
    ASSERT((jwk = jwks_find(kr, es)) != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(jwk, "alg")), "ES256");
    json_decref(jwk);
    ASSERT_EQ(sign_alg_then_verify(kr, "RS256", rs, "a.b"), 0);
    ASSERT_EQ(sign_alg_then_verify(kr, "ES256", es, "a.b"), 0);
    ASSERT_EQ(sign_then_verify(kr, kr, es, "ES256", "a.b"), 0);
    keyring_free(kr);

    /* A new ES256 key retires the old ES256 one only; what it signed still
     * verifies, and RS256 is untouched. */
    ASSERT_EQ(keys_generate(t.keys, "ES256", es2), 0);
    kr = load_ok(t.keys, "RS256", 600);
    ASSERT_STR_EQ(keys_kid(kr, "RS256"), rs);
    ASSERT_STR_EQ(keys_kid(kr, "ES256"), es2);
    ASSERT_EQ(jwks_count(kr), 3);
    ASSERT_EQ(sign_alg_then_verify(kr, "ES256", es2, "a.b"), 0);
    keyring_free(kr);
    tmp_remove(&t);
}

/* An ES256-only ring: no RS256 signer, and asking for one is an error,
 * never a signature of another alg. */
TEST(sign_with_alg_that_has_no_key_refused)
{
    struct tmp t;
    struct keyring *kr;
    char es[KEYS_KID_LEN + 1], sig[KEYS_SIG_MAX];
    const char *const *algs;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", es), 0);
    kr = load_ok(t.keys, "ES256", 600);
    ASSERT(keys_kid(kr, "RS256") == NULL);
    ASSERT_EQ(keys_sign(kr, "RS256", "a.b", 3, sig), GH_ENOTFOUND);
    ASSERT_EQ(keys_sign(kr, "none", "a.b", 3, sig), GH_ENOTFOUND);
    algs = keys_algs(kr);
    ASSERT_STR_EQ(algs[0], "ES256");
    ASSERT(algs[1] == NULL);
    keyring_free(kr);
    tmp_remove(&t);
}

TEST(newest_active_key_signs)
{
    struct tmp t;
    struct key_info *ki = NULL;
    struct keyring *kr;
    char a[KEYS_KID_LEN + 1], b[KEYS_KID_LEN + 1], c[KEYS_KID_LEN + 1];
    int64_t now = util_now();
    size_t n = 0;

    /* Two active keys: what a "keys generate" that died before retiring
     * the old key leaves behind. The newer one must sign. */
    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", a), 0);
    ASSERT_EQ(keys_generate(t.keys, "ES256", b), 0);
    ASSERT_EQ(keys_generate(t.keys, "ES256", c), 0);
    set_meta(t.keys, a, "retired", 0);
    set_meta(t.keys, a, "created", now - 100);
    set_meta(t.keys, b, "retired", 0);
    set_meta(t.keys, b, "created", now - 200);
    set_meta(t.keys, c, "retired", now - 10);
    set_meta(t.keys, c, "created", now - 50);

    ASSERT_EQ(keys_list(t.keys, &ki, &n), 0);
    ASSERT_EQ(n, 3);
    ASSERT_STR_EQ(ki[0].kid, c);
    ASSERT_STR_EQ(ki[1].kid, a);
    ASSERT_STR_EQ(ki[2].kid, b);
    free(ki);
    kr = load_ok(t.keys, "ES256", 600);
    ASSERT_STR_EQ(keys_active_kid(kr), a);
    ASSERT_EQ(jwks_count(kr), 3);
    keyring_free(kr);

    set_meta(t.keys, b, "created", now - 20);
    kr = load_ok(t.keys, "ES256", 600);
    ASSERT_STR_EQ(keys_active_kid(kr), b);
    keyring_free(kr);
    tmp_remove(&t);
}

TEST(retired_key_dropped_after_keep_s)
{
    struct tmp t;
    struct keyring *kr;
    char first[KEYS_KID_LEN + 1], second[KEYS_KID_LEN + 1], path[256];
    json_t *jwk;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", first), 0);
    ASSERT_EQ(keys_generate(t.keys, "ES256", second), 0);
    set_meta(t.keys, first, "retired", util_now() - 1000);

    kr = load_ok(t.keys, "ES256", 5000);
    ASSERT_EQ(jwks_count(kr), 2);
    ASSERT((jwk = jwks_find(kr, first)) != NULL);
    json_decref(jwk);
    keyring_free(kr);

    kr = load_ok(t.keys, "ES256", 100);
    ASSERT_EQ(jwks_count(kr), 1);
    ASSERT(jwks_find(kr, first) == NULL);
    ASSERT_STR_EQ(keys_active_kid(kr), second);
    keyring_free(kr);

    /* An expired key's file is not even read: a broken one does not stop a
     * start. */
    key_file(path, sizeof(path), t.keys, first, ".pem");
    ASSERT_EQ(chmod(path, 0644), 0);
    kr = load_ok(t.keys, "ES256", 100);
    keyring_free(kr);
    tmp_remove(&t);
}

TEST(private_key_readable_by_others_refused)
{
    struct tmp t;
    struct keyring *kr = NULL;
    char kid[KEYS_KID_LEN + 1], path[256], why[512];
    int rc;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", kid), 0);
    key_file(path, sizeof(path), t.keys, kid, ".pem");
    ASSERT_EQ(chmod(path, 0644), 0);
    rc = keyring_load(t.keys, "ES256", 600, &kr, why, sizeof(why));
    ASSERT_EQ(rc, GH_EDENIED);
    ASSERT(kr == NULL);
    ASSERT_CONTAINS(why, path);
    ASSERT_CONTAINS(why, "chmod 600");
    ASSERT_EQ(chmod(path, 0640), 0);
    ASSERT(keyring_load(t.keys, "ES256", 600, &kr, why, sizeof(why)) < 0);
    ASSERT_EQ(chmod(path, 0600), 0);
    kr = load_ok(t.keys, "ES256", 600);
    keyring_free(kr);
    tmp_remove(&t);
}

TEST(missing_dir_says_how_to_fix)
{
    struct keyring *kr = NULL;
    struct key_info *ki = NULL;
    size_t n = 0;
    char why[512];
    const char *dir = "/nonexistent/gatehouse-keys";

    ASSERT_EQ(keyring_load(dir, "ES256", 600, &kr, why, sizeof(why)),
              GH_ENOTFOUND);
    ASSERT(kr == NULL);
    ASSERT_STR_EQ(why, "/nonexistent/gatehouse-keys does not exist: run "
                       "\"gatehouse keys generate --dir "
                       "/nonexistent/gatehouse-keys --alg ES256\"");
    ASSERT_EQ(keys_list(dir, &ki, &n), GH_ENOTFOUND);
}

TEST(empty_dir_has_no_active_key)
{
    struct tmp t;
    struct keyring *kr = NULL;
    struct key_info *ki = NULL;
    char why[512], want[512];
    size_t n = 99;

    tmp_make(&t);
    ASSERT_EQ(mkdir(t.keys, 0700), 0);
    ASSERT_EQ(keys_list(t.keys, &ki, &n), 0);
    ASSERT_EQ(n, 0);
    free(ki);
    ASSERT_EQ(keyring_load(t.keys, "ES256", 600, &kr, why, sizeof(why)),
              GH_ENOTFOUND);
    ASSERT(kr == NULL);
    snprintf(want, sizeof(want),
             "no active ES256 key in %s: run \"gatehouse keys generate "
             "--dir %s --alg ES256\"",
             t.keys, t.keys);
    ASSERT_STR_EQ(why, want);
    tmp_remove(&t);
}

TEST(unknown_alg_refused)
{
    struct tmp t;
    struct keyring *kr = NULL;
    char kid[KEYS_KID_LEN + 1], why[512];

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "HS256", kid), GH_EINVAL);
    ASSERT_EQ(keys_generate(t.keys, "none", kid), GH_EINVAL);
    ASSERT_EQ(keyring_load(t.keys, "PS256", 600, &kr, why, sizeof(why)),
              GH_EINVAL);
    ASSERT_CONTAINS(why, "PS256");
    tmp_remove(&t);
}

TEST(pem_not_matching_its_kid_refused)
{
    struct tmp t;
    struct keyring *kr = NULL;
    char first[KEYS_KID_LEN + 1], second[KEYS_KID_LEN + 1];
    char from[256], to[256], why[512];

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", first), 0);
    ASSERT_EQ(keys_generate(t.keys, "ES256", second), 0);
    key_file(from, sizeof(from), t.keys, second, ".pem");
    key_file(to, sizeof(to), t.keys, first, ".pem");
    copy_file(from, to);
    ASSERT(keyring_load(t.keys, "ES256", 600, &kr, why, sizeof(why)) < 0);
    ASSERT(kr == NULL);
    ASSERT_CONTAINS(why, to);
    ASSERT_CONTAINS(why, "does not match");
    tmp_remove(&t);
}

TEST(pem_that_does_not_parse_refused)
{
    struct tmp t;
    struct keyring *kr = NULL;
    char kid[KEYS_KID_LEN + 1], path[256], why[512];
    FILE *f;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "RS256", kid), 0);
    key_file(path, sizeof(path), t.keys, kid, ".pem");
    ASSERT((f = fopen(path, "w")) != NULL);
    fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    ASSERT_EQ(keyring_load(t.keys, "RS256", 600, &kr, why, sizeof(why)),
              GH_ECONFIG);
    ASSERT_CONTAINS(why, path);
    tmp_remove(&t);
}

TEST(key_of_wrong_type_for_its_alg_refused)
{
    struct tmp t;
    struct keyring *kr = NULL;
    char kid[KEYS_KID_LEN + 1], path[256], why[512];

    /* An EC key whose metadata claims RS256. */
    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", kid), 0);
    key_file(path, sizeof(path), t.keys, kid, ".json");
    {
        json_t *m = json_load_file(path, 0, NULL);
        json_object_set_new(m, "alg", json_string("RS256"));
        ASSERT_EQ(json_dump_file(m, path, 0), 0);
        json_decref(m);
    }
    ASSERT_EQ(keyring_load(t.keys, "RS256", 600, &kr, why, sizeof(why)),
              GH_ECONFIG);
    ASSERT_CONTAINS(why, kid);
    tmp_remove(&t);
}

TEST(pem_without_metadata_refused)
{
    struct tmp t;
    struct keyring *kr = NULL;
    struct key_info *ki = NULL;
    char kid[KEYS_KID_LEN + 1], path[256], why[512];
    size_t n = 0;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", kid), 0);
    key_file(path, sizeof(path), t.keys, kid, ".json");
    ASSERT_EQ(unlink(path), 0);
    ASSERT_EQ(keyring_load(t.keys, "ES256", 600, &kr, why, sizeof(why)),
              GH_ECONFIG);
    ASSERT_CONTAINS(why, kid);
    ASSERT_CONTAINS(why, "metadata");
    /* list shows what has metadata, and does not fail. */
    ASSERT_EQ(keys_list(t.keys, &ki, &n), 0);
    ASSERT_EQ(n, 0);
    free(ki);
    tmp_remove(&t);
}

TEST(other_files_in_dir_ignored)
{
    struct tmp t;
    struct keyring *kr;
    char kid[KEYS_KID_LEN + 1], path[256];
    FILE *f;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", kid), 0);
    snprintf(path, sizeof(path), "%s/README.md", t.keys);
    ASSERT((f = fopen(path, "w")) != NULL);
    fputs("dev keys\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/.%s.json.abcdef", t.keys, kid);
    ASSERT((f = fopen(path, "w")) != NULL);
    fputs("{", f);
    fclose(f);
    kr = load_ok(t.keys, "ES256", 600);
    keyring_free(kr);
    tmp_remove(&t);
}

/* Sign and verify one alg, with the refusals keys_verify promises. */
static void
sign_verify(const char *alg, size_t siglen)
{
    struct tmp t;
    struct keyring *kr;
    char kid[KEYS_KID_LEN + 1], sig[KEYS_SIG_MAX];
    const char *input = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9";
    unsigned char *raw = NULL;
    size_t rawlen = 0, len = strlen(input);

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, alg, kid), 0);
    kr = load_ok(t.keys, alg, 600);
    ASSERT_EQ(keys_sign(kr, NULL, input, len, sig), 0);
    ASSERT_EQ(strlen(sig), B64URL_LEN(siglen));
    ASSERT_EQ(b64url_decode(sig, strlen(sig), &raw, &rawlen), 0);
    ASSERT_EQ(rawlen, siglen);

    ASSERT_EQ(keys_verify(kr, kid, alg, input, len, raw, rawlen), 0);
    /* Another input, another alg, another kid, another length: all fail. */
    ASSERT_EQ(keys_verify(kr, kid, alg, input, len - 1, raw, rawlen),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, kid, "none", input, len, raw, rawlen),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, kid, "HS256", input, len, raw, rawlen),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, kid, strcmp(alg, "ES256") ? "ES256" : "RS256",
                          input, len, raw, rawlen),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, kid, NULL, input, len, raw, rawlen),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          alg, input, len, raw, rawlen),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, NULL, alg, input, len, raw, rawlen),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, kid, alg, input, len, raw, rawlen - 1),
              GH_EBADTOKEN);
    ASSERT_EQ(keys_verify(kr, kid, alg, input, len, raw, 0), GH_EBADTOKEN);
    raw[rawlen / 2] ^= 1;
    ASSERT_EQ(keys_verify(kr, kid, alg, input, len, raw, rawlen), GH_EBADTOKEN);
    raw[rawlen / 2] ^= 1;
    /* A failed verify leaves the key usable. */
    ASSERT_EQ(keys_verify(kr, kid, alg, input, len, raw, rawlen), 0);
    free(raw);
    keyring_free(kr);
    tmp_remove(&t);
}

TEST(sign_verify_es256)
{
    sign_verify("ES256", 64);
}

TEST(sign_verify_rs256)
{
    sign_verify("RS256", 256);
}

TEST(es256_signature_zero_r_or_s_refused)
{
    struct tmp t;
    struct keyring *kr;
    char kid[KEYS_KID_LEN + 1];
    unsigned char zero[64] = {0};

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", kid), 0);
    kr = load_ok(t.keys, "ES256", 600);
    /* CVE-2022-21449 ("psychic signatures"): r = s = 0 must fail. */
    ASSERT_EQ(keys_verify(kr, kid, "ES256", "a.b", 3, zero, sizeof(zero)),
              GH_EBADTOKEN);
    keyring_free(kr);
    tmp_remove(&t);
}

struct worker {
    const struct keyring *kr;
    int failures;
};

static void *
sign_many(void *arg)
{
    struct worker *w = arg;
    char input[64], sig[KEYS_SIG_MAX];
    unsigned char *raw;
    size_t rawlen;
    int i;

    for (i = 0; i < 200; i++) {
        snprintf(input, sizeof(input), "header.payload-%p-%d", arg, i);
        raw = NULL;
        if (keys_sign(w->kr, NULL, input, strlen(input), sig) != 0 ||
            b64url_decode(sig, strlen(sig), &raw, &rawlen) != 0 ||
            keys_verify(w->kr, keys_active_kid(w->kr), keys_active_alg(w->kr),
                        input, strlen(input), raw, rawlen) != 0)
            w->failures++;
        free(raw);
    }
    return NULL;
}

TEST(sign_and_verify_from_many_threads)
{
    struct tmp t;
    struct keyring *kr;
    struct worker w[8];
    pthread_t th[8];
    char kid[KEYS_KID_LEN + 1];
    int i;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, "ES256", kid), 0);
    kr = load_ok(t.keys, "ES256", 600);
    for (i = 0; i < 8; i++) {
        w[i].kr = kr;
        w[i].failures = 0;
        ASSERT_EQ(pthread_create(&th[i], NULL, sign_many, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
        ASSERT_EQ(w[i].failures, 0);
    }
    keyring_free(kr);
    tmp_remove(&t);
}

/* Not an assertion: timing depends on the machine (SPEC §8 is measured in
 * bench/). Printed so a regression is visible in the test log. */
static void
time_alg(const char *alg, int iters)
{
    struct tmp t;
    struct keyring *kr;
    char kid[KEYS_KID_LEN + 1], sig[KEYS_SIG_MAX];
    const char *input = "eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJhbGlj"
                        "ZSIsImF1ZCI6ImNybSIsImV4cCI6MTcwMDAwMDAwMH0";
    unsigned char *raw = NULL;
    size_t rawlen = 0, len = strlen(input);
    double t0, sign_us, verify_us;
    int i;

    tmp_make(&t);
    ASSERT_EQ(keys_generate(t.keys, alg, kid), 0);
    kr = load_ok(t.keys, alg, 600);
    ASSERT_EQ(keys_sign(kr, NULL, input, len, sig), 0); /* warm the pool */
    t0 = util_monotonic();
    for (i = 0; i < iters; i++)
        ASSERT_EQ(keys_sign(kr, NULL, input, len, sig), 0);
    sign_us = (util_monotonic() - t0) * 1e6 / iters;
    ASSERT_EQ(b64url_decode(sig, strlen(sig), &raw, &rawlen), 0);
    t0 = util_monotonic();
    for (i = 0; i < iters; i++)
        ASSERT_EQ(keys_verify(kr, kid, alg, input, len, raw, rawlen), 0);
    verify_us = (util_monotonic() - t0) * 1e6 / iters;
    fprintf(stderr, "# %s: sign %.1f us/op, verify %.1f us/op (%d ops)\n", alg,
            sign_us, verify_us, iters);
    free(raw);
    keyring_free(kr);
    tmp_remove(&t);
}

TEST(timing_sign_verify)
{
    time_alg("ES256", 2000);
    time_alg("RS256", 500);
}

TEST_MAIN(TEST_ENTRY(thumbprint_matches_rfc7638_example),
          TEST_ENTRY(thumbprint_ec_uses_crv_kty_x_y_in_order),
          TEST_ENTRY(thumbprint_refuses_incomplete_or_unknown_jwk),
          TEST_ENTRY(generate_list_load_es256),
          TEST_ENTRY(generate_list_load_rs256),
          TEST_ENTRY(generate_retires_previous_key_which_still_verifies),
          TEST_ENTRY(generate_other_alg_keeps_both_active),
          TEST_ENTRY(keyring_with_both_algs_signs_with_each),
          TEST_ENTRY(sign_with_alg_that_has_no_key_refused),
          TEST_ENTRY(newest_active_key_signs),
          TEST_ENTRY(retired_key_dropped_after_keep_s),
          TEST_ENTRY(private_key_readable_by_others_refused),
          TEST_ENTRY(missing_dir_says_how_to_fix),
          TEST_ENTRY(empty_dir_has_no_active_key),
          TEST_ENTRY(unknown_alg_refused),
          TEST_ENTRY(pem_not_matching_its_kid_refused),
          TEST_ENTRY(pem_that_does_not_parse_refused),
          TEST_ENTRY(key_of_wrong_type_for_its_alg_refused),
          TEST_ENTRY(pem_without_metadata_refused),
          TEST_ENTRY(other_files_in_dir_ignored), TEST_ENTRY(sign_verify_es256),
          TEST_ENTRY(sign_verify_rs256),
          TEST_ENTRY(es256_signature_zero_r_or_s_refused),
          TEST_ENTRY(sign_and_verify_from_many_threads),
          TEST_ENTRY(timing_sign_verify))
