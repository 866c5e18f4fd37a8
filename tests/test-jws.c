/* SPDX-License-Identifier: MIT */
/* jws.c: compact JWS sign/verify round trips, every refusal jws_verify
 * promises, claims checks, and libjwt as an independent second opinion.
 * Keys are generated at run time into a temp dir: none is committed. */
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "gatehouse/session/delivery.h"
#include "gatehouse/core/error.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/core/util.h"
#include "test.h"

#define ISSUER "https://id.example.com"

/* One ES256 and one RS256 keyring, made once for the whole run. */
static struct {
    char root[256];
    char es_dir[300], rs_dir[300];
    char es_kid[KEYS_KID_LEN + 1], rs_kid[KEYS_KID_LEN + 1];
    struct keyring *es, *rs;
    pid_t owner; /* the runner, which made it: each case is a fork */
} fx;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void
fixture_free(void)
{
    keyring_free(fx.es);
    keyring_free(fx.rs);
    if (getpid() == fx.owner)
        nftw(fx.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct keyring *
load(const char *dir, const char *alg)
{
    struct keyring *kr = NULL;
    char why[512];

    if (keyring_load(dir, alg, 600, &kr, why, sizeof(why)) != 0)
        FAIL("keyring_load: %s", why);
    return kr;
}

static void
fixture(void)
{
    if (fx.es != NULL)
        return;
    ASSERT_EQ(test_mkdtemp(fx.root, sizeof(fx.root), "test-jws"), 0);
    snprintf(fx.es_dir, sizeof(fx.es_dir), "%s/es", fx.root);
    snprintf(fx.rs_dir, sizeof(fx.rs_dir), "%s/rs", fx.root);
    ASSERT_EQ(keys_generate(fx.es_dir, "ES256", fx.es_kid), 0);
    ASSERT_EQ(keys_generate(fx.rs_dir, "RS256", fx.rs_kid), 0);
    fx.es = load(fx.es_dir, "ES256");
    fx.rs = load(fx.rs_dir, "RS256");
    fx.owner = getpid();
    atexit(fixture_free);
}

static json_t *
std_claims(int64_t now)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", ISSUER, "sub",
                          "alice", "aud", "crm", "iat", (json_int_t)now, "exp",
                          (json_int_t)(now + 300));
    ASSERT(c != NULL);
    return c;
}

/* A compact JWS with any header and payload text, signed by the active key
 * of kr: how an attacker who could make us sign something would build it. */
static char *
craft(const struct keyring *kr, const char *header, const char *payload)
{
    size_t hl = strlen(header), pl = strlen(payload);
    char *t = malloc(B64URL_LEN(hl) + B64URL_LEN(pl) + 2 + KEYS_SIG_MAX);
    size_t n;

    ASSERT(t != NULL);
    n = b64url_encode(header, hl, t);
    t[n++] = '.';
    n += b64url_encode(payload, pl, t + n);
    t[n] = '.';
    ASSERT_EQ(keys_sign(kr, NULL, t, n, t + n + 1), 0);
    return t;
}

/* jws_verify's code, releasing any claims. */
static int
verify_rc(const struct keyring *kr, const char *jws, const char *typ)
{
    json_t *c = NULL;
    int rc = jws_verify(kr, jws, typ, &c);

    if (rc != 0)
        ASSERT(c == NULL);
    json_decref(c);
    return rc;
}

/* The decoded text of part i (0 header, 1 payload) of a compact JWS. */
static char *
part_text(const char *jws, int i)
{
    const char *s = jws, *e;
    unsigned char *out = NULL;
    size_t n;

    while (i-- > 0)
        s = strchr(s, '.') + 1;
    e = strchr(s, '.');
    ASSERT_EQ(b64url_decode(s, (size_t)(e - s), &out, &n), 0);
    return (char *)out;
}

/* The public key of a key file, as PEM, for libjwt (malloc'd). */
static char *
public_pem(const char *dir, const char *kid)
{
    char path[256], *data, *out;
    EVP_PKEY *pkey;
    BIO *bio;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s.pem", dir, kid);
    ASSERT((f = fopen(path, "r")) != NULL);
    ASSERT((pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL)) != NULL);
    fclose(f);
    ASSERT((bio = BIO_new(BIO_s_mem())) != NULL);
    ASSERT_EQ(PEM_write_bio_PUBKEY(bio, pkey), 1);
    n = BIO_get_mem_data(bio, &data);
    ASSERT((out = malloc((size_t)n + 1)) != NULL);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return out;
}

static char *
private_pem(const char *dir, const char *kid, size_t *len)
{
    char path[256], *buf;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.pem", dir, kid);
    ASSERT((f = fopen(path, "r")) != NULL);
    ASSERT((buf = calloc(1, 16384)) != NULL);
    *len = fread(buf, 1, 16383, f);
    fclose(f);
    return buf;
}

static void
round_trip(const struct keyring *kr, const char *alg, const char *kid)
{
    json_t *claims = std_claims(util_now()), *got = NULL;
    char *tok = NULL, *text, *want, want_hdr[128];

    ASSERT_EQ(jws_sign(kr, NULL, "JWT", claims, &tok), 0);
    snprintf(want_hdr, sizeof(want_hdr),
             "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid);
    text = part_text(tok, 0);
    ASSERT_STR_EQ(text, want_hdr);
    free(text);
    text = part_text(tok, 1);
    want = json_dumps(claims, JSON_COMPACT);
    ASSERT_STR_EQ(text, want);
    free(text);
    free(want);

    ASSERT_EQ(jws_verify(kr, tok, "JWT", &got), 0);
    ASSERT(json_equal(got, claims));
    json_decref(got);
    ASSERT_EQ(verify_rc(kr, tok, NULL), 0);
    free(tok);

    /* Without typ the header has only alg and kid. */
    ASSERT_EQ(jws_sign(kr, NULL, NULL, claims, &tok), 0);
    snprintf(want_hdr, sizeof(want_hdr), "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg,
             kid);
    text = part_text(tok, 0);
    ASSERT_STR_EQ(text, want_hdr);
    free(text);
    ASSERT_EQ(verify_rc(kr, tok, NULL), 0);
    free(tok);
    json_decref(claims);
}

TEST(sign_verify_round_trip_es256)
{
    fixture();
    round_trip(fx.es, "ES256", fx.es_kid);
}

TEST(sign_verify_round_trip_rs256)
{
    fixture();
    round_trip(fx.rs, "RS256", fx.rs_kid);
}

TEST(token_of_another_keyring_refused)
{
    json_t *claims = std_claims(util_now());
    char *tok = NULL;

    fixture();
    ASSERT_EQ(jws_sign(fx.es, NULL, NULL, claims, &tok), 0);
    ASSERT_EQ(verify_rc(fx.rs, tok, NULL), GH_EBADTOKEN);
    free(tok);
    json_decref(claims);
}

/* The cache remembers what verified, and nothing else: a tampered copy,
 * another typ, another keyring or an expired token still fail. */
TEST(verify_cached_remembers_only_what_verified)
{
    int64_t now = util_now();
    json_t *claims = std_claims(now), *c = NULL;
    struct jws_cache *vc = NULL;
    char *tok = NULL, *bad;
    size_t n;
    int i;

    fixture();
    ASSERT_EQ(jws_cache_new(&vc), 0);
    ASSERT_EQ(jws_sign(fx.es, NULL, "at+jwt", claims, &tok), 0);
    for (i = 0; i < 3; i++) {
        ASSERT_EQ(jws_verify_cached(vc, fx.es, tok, "at+jwt", &c), 0);
        ASSERT_STR_EQ(json_string_value(json_object_get(c, "sub")), "alice");
        json_decref(c);
        c = NULL;
    }
    ASSERT_EQ(jws_verify_cached(vc, fx.es, tok, "logout+jwt", &c),
              GH_EBADTOKEN);
    ASSERT_EQ(jws_verify_cached(vc, fx.rs, tok, "at+jwt", &c), GH_EBADTOKEN);
    bad = strdup(tok);
    n = strlen(bad);
    bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A';
    ASSERT_EQ(jws_verify_cached(vc, fx.es, bad, "at+jwt", &c), GH_EBADTOKEN);
    free(bad);
    free(tok);
    /* An expired token is never served from the cache. */
    json_object_set_new(claims, "exp", json_integer(now - 10));
    ASSERT_EQ(jws_sign(fx.es, NULL, "at+jwt", claims, &tok), 0);
    ASSERT_EQ(jws_verify_cached(vc, fx.es, tok, "at+jwt", &c), 0);
    ASSERT_EQ(jws_check_claims(c, ISSUER, NULL, now, 0, false), GH_EEXPIRED);
    json_decref(c);
    free(tok);
    json_decref(claims);
    jws_cache_free(vc);
}

TEST(tampered_payload_or_signature_refused)
{
    json_t *a = std_claims(util_now()), *b = std_claims(util_now());
    char *ta = NULL, *tb = NULL, *mix, *sig;
    const char *pa, *pb;

    fixture();
    json_object_set_new(b, "sub", json_string("mallory"));
    ASSERT_EQ(jws_sign(fx.es, NULL, "JWT", a, &ta), 0);
    ASSERT_EQ(jws_sign(fx.es, NULL, "JWT", b, &tb), 0);
    /* header and signature of a, payload of b */
    pa = strchr(ta, '.');
    pb = strchr(tb, '.');
    ASSERT((mix = malloc(strlen(ta) + strlen(tb))) != NULL);
    sprintf(mix, "%.*s%.*s%s", (int)(pa - ta), ta,
            (int)(strchr(pb + 1, '.') - pb), pb, strrchr(ta, '.'));
    ASSERT_EQ(verify_rc(fx.es, mix, "JWT"), GH_EBADTOKEN);
    free(mix);

    sig = strrchr(ta, '.') + 1;
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    ASSERT_EQ(verify_rc(fx.es, ta, "JWT"), GH_EBADTOKEN);
    free(ta);
    free(tb);
    json_decref(a);
    json_decref(b);
}

TEST(alg_none_refused)
{
    char hdr[128], *tok, *p, *hb;
    const char *payload = "{\"iss\":\"" ISSUER "\",\"sub\":\"alice\"}";

    fixture();
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\"}", fx.es_kid);
    /* RFC 7519 §6.1: an unsecured JWT has an empty signature... */
    hb = b64url_encode_alloc(hdr, strlen(hdr));
    p = b64url_encode_alloc(payload, strlen(payload));
    ASSERT((tok = malloc(strlen(hb) + strlen(p) + 3)) != NULL);
    sprintf(tok, "%s.%s.", hb, p);
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    free(hb);
    free(p);
    /* ...and one with a genuine signature still names the wrong alg. */
    tok = craft(fx.es, hdr, payload);
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"None\",\"kid\":\"%s\"}", fx.es_kid);
    tok = craft(fx.es, hdr, payload);
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
}

/* The classic key confusion: HMAC keyed with the public key everyone can
 * fetch from /jwks. */
static void
hs256_refused(const struct keyring *kr, const char *kid)
{
    char hdr[128], *input, *tok, *hb, *pb;
    const char *payload = "{\"iss\":\"" ISSUER "\",\"sub\":\"admin\"}";
    const char *jwks = keys_jwks(kr);
    unsigned char mac[32];
    unsigned int maclen = 0;
    char macb[64];

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kid);
    hb = b64url_encode_alloc(hdr, strlen(hdr));
    pb = b64url_encode_alloc(payload, strlen(payload));
    ASSERT((input = malloc(strlen(hb) + strlen(pb) + 2)) != NULL);
    sprintf(input, "%s.%s", hb, pb);
    ASSERT(HMAC(EVP_sha256(), jwks, (int)strlen(jwks),
                (const unsigned char *)input, strlen(input), mac,
                &maclen) != NULL);
    b64url_encode(mac, maclen, macb);
    ASSERT((tok = malloc(strlen(input) + strlen(macb) + 2)) != NULL);
    sprintf(tok, "%s.%s", input, macb);
    ASSERT_EQ(verify_rc(kr, tok, NULL), GH_EBADTOKEN);
    free(tok);
    free(input);
    free(hb);
    free(pb);
}

TEST(hs256_keyed_with_public_key_refused)
{
    fixture();
    hs256_refused(fx.es, fx.es_kid);
    hs256_refused(fx.rs, fx.rs_kid);
}

TEST(alg_other_than_the_keys_refused)
{
    char hdr[128], *tok;

    fixture();
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", fx.es_kid);
    tok = craft(fx.es, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"PS256\",\"kid\":\"%s\"}", fx.rs_kid);
    tok = craft(fx.rs, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.rs, tok, NULL), GH_EBADTOKEN);
    free(tok);
}

TEST(unknown_or_missing_kid_refused)
{
    char *tok;

    fixture();
    /* Signed by the right key; only the kid is wrong or absent. */
    tok = craft(fx.es, "{\"alg\":\"ES256\",\"kid\":\"no-such-key\"}", "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    tok = craft(fx.es, "{\"alg\":\"ES256\"}", "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    tok = craft(fx.es, "{\"alg\":\"ES256\",\"kid\":7}", "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
}

TEST(typ_compared_as_rfc8725_says)
{
    json_t *claims = std_claims(util_now());
    char *tok = NULL, hdr[160], *t2;

    fixture();
    ASSERT_EQ(jws_sign(fx.es, NULL, "logout+jwt", claims, &tok), 0);
    ASSERT_EQ(verify_rc(fx.es, tok, "logout+jwt"), 0);
    ASSERT_EQ(verify_rc(fx.es, tok, "application/logout+jwt"), 0);
    ASSERT_EQ(verify_rc(fx.es, tok, "LOGOUT+JWT"), 0);
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), 0);
    /* An ID token must not pass as a logout token, nor the reverse. */
    ASSERT_EQ(verify_rc(fx.es, tok, "JWT"), GH_EBADTOKEN);
    ASSERT_EQ(verify_rc(fx.es, tok, "at+jwt"), GH_EBADTOKEN);
    ASSERT_EQ(verify_rc(fx.es, tok, "logout"), GH_EBADTOKEN);
    free(tok);

    snprintf(
        hdr, sizeof(hdr),
        "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"Application/AT+JWT\"}",
        fx.es_kid);
    t2 = craft(fx.es, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.es, t2, "at+jwt"), 0);
    free(t2);
    /* A typ with another type tree is not the same media type. */
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"text/at+jwt\"}",
             fx.es_kid);
    t2 = craft(fx.es, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.es, t2, "at+jwt"), GH_EBADTOKEN);
    free(t2);
    /* No typ at all fails when one is expected. */
    ASSERT_EQ(jws_sign(fx.es, NULL, NULL, claims, &tok), 0);
    ASSERT_EQ(verify_rc(fx.es, tok, "JWT"), GH_EBADTOKEN);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":1}",
             fx.es_kid);
    t2 = craft(fx.es, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.es, t2, "JWT"), GH_EBADTOKEN);
    free(t2);
    json_decref(claims);
}

TEST(malformed_compact_serialization_refused)
{
    json_t *claims = std_claims(util_now());
    char *tok = NULL, *bad, *big;
    size_t len;
    int v;

    fixture();
    ASSERT_EQ(jws_sign(fx.es, NULL, NULL, claims, &tok), 0);
    len = strlen(tok);
    ASSERT((bad = malloc(len + 16)) != NULL);

    ASSERT_EQ(verify_rc(fx.es, NULL, NULL), GH_EBADTOKEN);
    ASSERT_EQ(verify_rc(fx.es, "", NULL), GH_EBADTOKEN);
    ASSERT_EQ(verify_rc(fx.es, "..", NULL), GH_EBADTOKEN);
    ASSERT_EQ(verify_rc(fx.es, "...", NULL), GH_EBADTOKEN);
    /* two parts */
    snprintf(bad, len + 16, "%.*s", (int)(strrchr(tok, '.') - tok), tok);
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    /* four parts, and five (a JWE) */
    snprintf(bad, len + 16, "%s.", tok);
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    snprintf(bad, len + 16, "%s.AAAA", tok);
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    snprintf(bad, len + 16, "%s.AA.AA", tok);
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    /* padding: valid base64url elsewhere, not in JWS (RFC 7515 §2) */
    snprintf(bad, len + 16, "%s==", tok);
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    /* the standard alphabet's '+' and '/' */
    snprintf(bad, len + 16, "%s", tok);
    bad[1] = '+';
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    bad[1] = '/';
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    bad[1] = ' ';
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    /* The 86-character ES256 signature ends in a character whose low four
     * bits encode nothing: setting one gives another spelling of the same
     * bytes, which must not verify. */
    snprintf(bad, len + 16, "%s", tok);
    ASSERT_EQ(strlen(strrchr(bad, '.') + 1), 86);
    v = bad[len - 1];
    bad[len - 1] = (char)(v == 'A'   ? 'B'
                          : v == 'Q' ? 'R'
                          : v == 'g' ? 'h'
                                     : 'x');
    ASSERT_EQ(verify_rc(fx.es, bad, NULL), GH_EBADTOKEN);
    /* a whole token just above the limit is refused before any parsing */
    ASSERT((big = malloc(JWS_MAX_LEN + 2)) != NULL);
    memset(big, 'A', JWS_MAX_LEN + 1);
    big[JWS_MAX_LEN + 1] = '\0';
    memcpy(big, tok, len);
    ASSERT_EQ(verify_rc(fx.es, big, NULL), GH_EBADTOKEN);
    free(big);
    free(bad);
    free(tok);
    json_decref(claims);
}

TEST(header_and_payload_must_be_json_objects)
{
    char hdr[128], *tok;

    fixture();
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", fx.es_kid);
    /* each validly signed: only the structure is wrong */
    tok = craft(fx.es, "[\"ES256\"]", "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    tok = craft(fx.es, "not json", "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    tok = craft(fx.es, hdr, "[1,2]");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    tok = craft(fx.es, hdr, "\"alice\"");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    tok = craft(fx.es, hdr, "{\"sub\":\"alice\"");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    /* Duplicate members: two parsers could read two different tokens. */
    tok = craft(fx.es, hdr, "{\"sub\":\"alice\",\"sub\":\"admin\"}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"none\",\"kid\":\"%s\",\"alg\":\"ES256\"}", fx.es_kid);
    tok = craft(fx.es, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    /* the same token with a valid structure passes */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", fx.es_kid);
    tok = craft(fx.es, hdr, "{\"sub\":\"alice\"}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), 0);
    free(tok);
}

TEST(crit_header_refused)
{
    char hdr[192], *tok;

    fixture();
    snprintf(hdr, sizeof(hdr),
             "{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[\"exp\"],"
             "\"exp\":1}",
             fx.es_kid);
    tok = craft(fx.es, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[]}",
             fx.es_kid);
    tok = craft(fx.es, hdr, "{}");
    ASSERT_EQ(verify_rc(fx.es, tok, NULL), GH_EBADTOKEN);
    free(tok);
}

TEST(sign_refuses_non_object_and_oversized_claims)
{
    json_t *claims;
    char *tok = NULL, *longs;

    fixture();
    claims = json_pack("[s]", "alice");
    ASSERT_EQ(jws_sign(fx.es, NULL, NULL, claims, &tok), GH_EINVAL);
    ASSERT(tok == NULL);
    json_decref(claims);

    ASSERT((longs = malloc(JWS_MAX_LEN)) != NULL);
    memset(longs, 'x', JWS_MAX_LEN - 1);
    longs[JWS_MAX_LEN - 1] = '\0';
    claims = json_pack("{s:s}", "blob", longs);
    ASSERT_EQ(jws_sign(fx.es, NULL, NULL, claims, &tok), GH_ETOOBIG);
    ASSERT(tok == NULL);
    json_decref(claims);
    free(longs);
}

/* libjwt checks the signatures we make: a second, independent verifier. */
static void
libjwt_verifies(const struct keyring *kr, const char *dir, const char *kid,
                jwt_alg_t alg)
{
    json_t *claims = std_claims(util_now());
    char *tok = NULL, *pem = public_pem(dir, kid);
    jwt_t *jwt = NULL;
    int i;

    /* several rounds: ECDSA R or S with a leading zero byte is 1 in 128 */
    for (i = 0; i < 50; i++) {
        ASSERT_EQ(jws_sign(kr, NULL, "JWT", claims, &tok), 0);
        ASSERT_EQ(
            jwt_decode(&jwt, tok, (const unsigned char *)pem, (int)strlen(pem)),
            0);
        ASSERT_EQ(jwt_get_alg(jwt), alg);
        ASSERT_STR_EQ(jwt_get_grant(jwt, "sub"), "alice");
        ASSERT_STR_EQ(jwt_get_header(jwt, "kid"), kid);
        jwt_free(jwt);
        jwt = NULL;
        free(tok);
        tok = NULL;
    }
    /* and libjwt does refuse a bad one, so the check above means something */
    ASSERT_EQ(jws_sign(kr, NULL, "JWT", claims, &tok), 0);
    tok[strlen(tok) - 5] = tok[strlen(tok) - 5] == 'A' ? 'B' : 'A';
    ASSERT(jwt_decode(&jwt, tok, (const unsigned char *)pem,
                      (int)strlen(pem)) != 0);
    jwt_free(jwt);
    free(tok);
    free(pem);
    json_decref(claims);
}

TEST(libjwt_verifies_our_es256_tokens)
{
    fixture();
    libjwt_verifies(fx.es, fx.es_dir, fx.es_kid, JWT_ALG_ES256);
}

TEST(libjwt_verifies_our_rs256_tokens)
{
    fixture();
    libjwt_verifies(fx.rs, fx.rs_dir, fx.rs_kid, JWT_ALG_RS256);
}

/* And the other way round: what libjwt signs with our key, we verify. */
static void
we_verify_libjwt(const struct keyring *kr, const char *dir, const char *kid,
                 jwt_alg_t alg)
{
    size_t len = 0;
    char *pem = private_pem(dir, kid, &len), *tok;
    json_t *claims = NULL;
    jwt_t *jwt = NULL;
    int i;

    for (i = 0; i < 20; i++) {
        ASSERT_EQ(jwt_new(&jwt), 0);
        ASSERT_EQ(jwt_set_alg(jwt, alg, (const unsigned char *)pem, (int)len),
                  0);
        ASSERT_EQ(jwt_add_header(jwt, "kid", kid), 0);
        ASSERT_EQ(jwt_add_grant(jwt, "iss", ISSUER), 0);
        ASSERT_EQ(jwt_add_grant(jwt, "sub", "bob"), 0);
        ASSERT_EQ(jwt_add_grant_int(jwt, "iat", (long)util_now()), 0);
        ASSERT_EQ(jwt_add_grant_int(jwt, "exp", (long)util_now() + 60), 0);
        ASSERT((tok = jwt_encode_str(jwt)) != NULL);
        ASSERT_EQ(jws_verify(kr, tok, "JWT", &claims), 0);
        ASSERT_STR_EQ(json_string_value(json_object_get(claims, "sub")), "bob");
        ASSERT_EQ(jws_check_claims(claims, ISSUER, NULL, util_now(), 0, false),
                  0);
        json_decref(claims);
        claims = NULL;
        jwt_free(jwt);
        jwt = NULL;
        free(tok);
    }
    OPENSSL_cleanse(pem, len);
    free(pem);
}

TEST(we_verify_libjwt_es256_tokens)
{
    fixture();
    we_verify_libjwt(fx.es, fx.es_dir, fx.es_kid, JWT_ALG_ES256);
}

TEST(we_verify_libjwt_rs256_tokens)
{
    fixture();
    we_verify_libjwt(fx.rs, fx.rs_dir, fx.rs_kid, JWT_ALG_RS256);
}

TEST(claims_valid_token_passes)
{
    int64_t now = 1700000000;
    json_t *c = std_claims(now);

    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), 0);
    ASSERT_EQ(jws_check_claims(c, ISSUER, NULL, now, 0, false), 0);
    /* fractional NumericDate is allowed (RFC 7519 §2) */
    json_object_set_new(c, "exp", json_real((double)now + 0.5));
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), 0);
    json_decref(c);
}

TEST(claims_expired_with_and_without_leeway)
{
    int64_t now = 1700000000;
    json_t *c = std_claims(now - 400); /* exp = now - 100 */

    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EEXPIRED);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 99, false), GH_EEXPIRED);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 101, false), 0);
    /* id_token_hint at logout: expired is fine, forged is not */
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, true), 0);
    ASSERT_EQ(jws_check_claims(c, "https://evil.example", "crm", now, 0, true),
              GH_EBADTOKEN);
    json_decref(c);
    /* RFC 7519 §4.1.4: at exp itself the token is already expired */
    c = std_claims(now - 300);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EEXPIRED);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now - 1, 0, false), 0);
    json_decref(c);
}

TEST(claims_iat_in_the_future_refused)
{
    int64_t now = 1700000000;
    json_t *c = std_claims(now + 60);

    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EBADTOKEN);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 59, false), GH_EBADTOKEN);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 60, false), 0);
    json_decref(c);
}

TEST(claims_aud_string_or_array)
{
    int64_t now = 1700000000;
    json_t *c = std_claims(now);

    ASSERT_EQ(jws_check_claims(c, ISSUER, "sales", now, 0, false),
              GH_EBADTOKEN);
    json_object_set_new(c, "aud", json_pack("[s, s]", "sales", "crm"));
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), 0);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "sales", now, 0, false), 0);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "service", now, 0, false),
              GH_EBADTOKEN);
    ASSERT_EQ(jws_check_claims(c, ISSUER, "cr", now, 0, false), GH_EBADTOKEN);
    json_object_set_new(c, "aud", json_pack("[]"));
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EBADTOKEN);
    json_object_set_new(c, "aud", json_integer(1));
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EBADTOKEN);
    json_object_del(c, "aud");
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EBADTOKEN);
    ASSERT_EQ(jws_check_claims(c, ISSUER, NULL, now, 0, false), 0);
    json_decref(c);
}

TEST(claims_wrong_or_missing_iss_refused)
{
    int64_t now = 1700000000;
    json_t *c = std_claims(now);

    ASSERT_EQ(jws_check_claims(c, ISSUER "/", "crm", now, 0, false),
              GH_EBADTOKEN);
    ASSERT_EQ(
        jws_check_claims(c, "https://ID.example.com", "crm", now, 0, false),
        GH_EBADTOKEN);
    ASSERT_EQ(jws_check_claims(c, NULL, "crm", now, 0, false), GH_EBADTOKEN);
    /* wrong issuer and expired: the forgery is what gets reported */
    ASSERT_EQ(jws_check_claims(c, "https://other", "crm", now + 1000, 0, false),
              GH_EBADTOKEN);
    json_object_del(c, "iss");
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EBADTOKEN);
    json_decref(c);
}

TEST(claims_exp_and_iat_must_be_numbers)
{
    int64_t now = 1700000000;
    json_t *c = std_claims(now);

    json_object_set_new(c, "exp", json_string("1700000300"));
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EBADTOKEN);
    json_object_del(c, "exp");
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, true), GH_EBADTOKEN);
    json_decref(c);
    c = std_claims(now);
    json_object_set_new(c, "iat", json_true());
    ASSERT_EQ(jws_check_claims(c, ISSUER, "crm", now, 0, false), GH_EBADTOKEN);
    json_decref(c);
}

/* The logout token's claims as jansson writes them, given its jti: what
 * delivery_logout_token's hand-written fast path must equal byte for
 * byte. */
static char *
logout_claims_by_jansson(const char *client_id, const char *sub,
                         const char *sid, int64_t now, const char *jti)
{
    json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:{s:{}}}",
                          "iss", ISSUER, "aud", client_id, "iat",
                          (json_int_t)now, "exp", (json_int_t)(now + 120),
                          "jti", jti, "sub", sub, "sid", sid, "events",
                          "http://schemas.openid.net/event/backchannel-logout");
    char *text;

    ASSERT(c != NULL);
    text = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    ASSERT(text != NULL);
    return text;
}

/* The payload part of a compact JWS, decoded and NUL-terminated. */
static char *
payload_of(const char *jws)
{
    const char *a = strchr(jws, '.'), *b = a ? strchr(a + 1, '.') : NULL;
    unsigned char *raw = NULL;
    size_t n = 0;
    char *text;

    ASSERT(b != NULL);
    ASSERT_EQ(b64url_decode(a + 1, (size_t)(b - a - 1), &raw, &n), 0);
    text = strndup((const char *)raw, n);
    free(raw);
    return text;
}

TEST(logout_token_by_hand_equals_jansson_and_escapes_the_rest)
{
    const char *subs[] = {"00000000-0000-4000-8000-000000000001",
                          "a \"quoted\" \\ sub", "caf\xc3\xa9"};
    int64_t now = util_now();
    size_t i;

    fixture();
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char *jws = NULL, *got, *want;
        json_t *claims = NULL;

        ASSERT_EQ(delivery_logout_token(fx.es, ISSUER, "crm", subs[i],
                                        "sid-AbC_09", now, &jws),
                  0);
        ASSERT_EQ(jws_verify(fx.es, jws, "logout+jwt", &claims), 0);
        ASSERT_STR_EQ(json_string_value(json_object_get(claims, "sub")),
                      subs[i]);
        got = payload_of(jws);
        want = logout_claims_by_jansson(
            "crm", subs[i], "sid-AbC_09", now,
            json_string_value(json_object_get(claims, "jti")));
        ASSERT_STR_EQ(got, want);
        free(got);
        free(want);
        json_decref(claims);
        free(jws);
    }
}

TEST_MAIN_SETUP(
    fixture, TEST_ENTRY(sign_verify_round_trip_es256),
    TEST_ENTRY(logout_token_by_hand_equals_jansson_and_escapes_the_rest),
    TEST_ENTRY(sign_verify_round_trip_rs256),
    TEST_ENTRY(token_of_another_keyring_refused),
    TEST_ENTRY(verify_cached_remembers_only_what_verified),
    TEST_ENTRY(tampered_payload_or_signature_refused),
    TEST_ENTRY(alg_none_refused),
    TEST_ENTRY(hs256_keyed_with_public_key_refused),
    TEST_ENTRY(alg_other_than_the_keys_refused),
    TEST_ENTRY(unknown_or_missing_kid_refused),
    TEST_ENTRY(typ_compared_as_rfc8725_says),
    TEST_ENTRY(malformed_compact_serialization_refused),
    TEST_ENTRY(header_and_payload_must_be_json_objects),
    TEST_ENTRY(crit_header_refused),
    TEST_ENTRY(sign_refuses_non_object_and_oversized_claims),
    TEST_ENTRY(libjwt_verifies_our_es256_tokens),
    TEST_ENTRY(libjwt_verifies_our_rs256_tokens),
    TEST_ENTRY(we_verify_libjwt_es256_tokens),
    TEST_ENTRY(we_verify_libjwt_rs256_tokens),
    TEST_ENTRY(claims_valid_token_passes),
    TEST_ENTRY(claims_expired_with_and_without_leeway),
    TEST_ENTRY(claims_iat_in_the_future_refused),
    TEST_ENTRY(claims_aud_string_or_array),
    TEST_ENTRY(claims_wrong_or_missing_iss_refused),
    TEST_ENTRY(claims_exp_and_iat_must_be_numbers))
