/* SPDX-License-Identifier: MIT */
/* libFuzzer target: jws_verify and jws_check_claims, the code every
 * bearer token and id_token_hint goes through. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/core/util.h"

#define ISSUER "https://id.example.com"
#define NOW 1700000000

/*
 * The first byte picks what the rest is:
 *   0  a token from outside, verified as is. It was not made with our keys
 *      (they are generated at start-up), so it must never verify: success
 *      would be a forgery.
 *   1  "HEADER\nPAYLOAD": two texts encoded and signed with our active key
 *      whatever they say, the way only a bug or a stolen key could; a kid
 *      of "ACTIVE" or "RETIRED" is replaced by the real one. Then the
 *      payload parser and the claims checks see hostile JSON that passed
 *      the signature.
 *   2  claims JSON through jws_sign: what we sign must verify and come
 *      back equal.
 *   3  claims JSON straight into jws_check_claims: it must accept only
 *      what it promises to.
 */
static struct keyring *kr;
/* The verify cache, as the server keeps one for its whole run. */
static struct jws_cache *vc;
static char active_kid[KEYS_KID_LEN + 1], retired_kid[KEYS_KID_LEN + 1];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void
setup(void)
{
    char dir[] = "/tmp/gh-fuzz-jws-XXXXXX", why[256];
    char rs_kid[KEYS_KID_LEN + 1];

    if (kr != NULL)
        return;
    if (jws_cache_new(&vc) < 0)
        abort();
    /* A second RS256 key retires the first (each alg has its own active
     * key); ES256 signs. */
    if (mkdtemp(dir) == NULL || keys_generate(dir, "RS256", retired_kid) != 0 ||
        keys_generate(dir, "RS256", rs_kid) != 0 ||
        keys_generate(dir, "ES256", active_kid) != 0 ||
        keyring_load(dir, "ES256", 365 * 86400, &kr, why, sizeof(why)) != 0) {
        fprintf(stderr, "fuzz-jws: no keyring\n");
        abort();
    }
    /* Loaded once, the keys live in memory only. */
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The promises of jws_check_claims, checked against its answer. */
static void
check_claims(const json_t *c)
{
    static const char *const auds[] = {NULL, "crm", ""};
    const char *iss = json_string_value(json_object_get(c, "iss"));
    const json_t *exp = json_object_get(c, "exp");
    const json_t *iat = json_object_get(c, "iat");
    size_t i;
    int rc, rc2;

    for (i = 0; i < sizeof(auds) / sizeof(auds[0]); i++) {
        rc = jws_check_claims(c, ISSUER, auds[i], NOW, 30, false);
        rc2 = jws_check_claims(c, ISSUER, auds[i], NOW, 30, true);
        if (rc != 0 && rc != GH_EBADTOKEN && rc != GH_EEXPIRED)
            abort();
        /* allow_expired only ever forgives expiry. */
        if (rc == 0 && rc2 != 0)
            abort();
        if (rc2 != 0 && rc2 != GH_EBADTOKEN)
            abort();
        if (rc == GH_EEXPIRED && rc2 != 0)
            abort();
        if (rc2 != 0)
            continue;
        if (iss == NULL || strcmp(iss, ISSUER) != 0 || !json_is_number(exp) ||
            !json_is_number(iat) || json_number_value(iat) > NOW + 30)
            abort();
        if (rc == 0 && json_number_value(exp) <= NOW - 30)
            abort();
    }
    if (jws_check_claims(c, NULL, NULL, NOW, 30, true) == 0)
        abort();
}

/*
 * jws_verify_cached must answer exactly as jws_verify does, the first
 * time (a miss) and the second (a hit, for a token that verified and has
 * not expired).
 */
static void
check_cached(const char *jws, const char *typ)
{
    json_t *want = NULL, *got = NULL;
    int rc = jws_verify(kr, jws, typ, &want), i;

    for (i = 0; i < 2; i++) {
        if (jws_verify_cached(vc, kr, jws, typ, &got) != rc)
            abort();
        if (rc == 0 && !json_equal(want, got))
            abort();
        json_decref(got);
        got = NULL;
    }
    json_decref(want);
}

static void
verify_outside(const char *s)
{
    json_t *claims = NULL;

    if (jws_verify(kr, s, NULL, &claims) == 0 ||
        jws_verify(kr, s, "logout+jwt", &claims) == 0 ||
        jws_verify_cached(vc, kr, s, "at+jwt", &claims) == 0)
        abort();
    if (claims != NULL)
        abort();
}

static char *
b64(const char *s, size_t len)
{
    char *out = b64url_encode_alloc(s, len);

    if (out == NULL)
        abort();
    return out;
}

static void
verify_signed(const char *s, size_t len)
{
    const char *nl = memchr(s, '\n', len);
    char *htext = NULL, *hb = NULL, *pb = NULL, *jws;
    json_t *hdr, *kid, *claims = NULL, *want;
    size_t hlen, n;

    if (nl == NULL)
        return;
    hlen = (size_t)(nl - s);
    /* Swap the placeholder kids for real ones, keeping the text otherwise
     * as the fuzzer wrote it. */
    hdr = json_loadb(s, hlen, JSON_DISABLE_EOF_CHECK, NULL);
    kid = json_object_get(hdr, "kid");
    if (json_is_string(kid) &&
        (strcmp(json_string_value(kid), "ACTIVE") == 0 ||
         strcmp(json_string_value(kid), "RETIRED") == 0)) {
        json_object_set_new(hdr, "kid",
                            json_string(json_string_value(kid)[0] == 'A'
                                            ? active_kid
                                            : retired_kid));
        htext = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (htext == NULL)
            abort();
        hb = b64(htext, strlen(htext));
    } else {
        hb = b64(s, hlen);
    }
    json_decref(hdr);
    pb = b64(nl + 1, len - hlen - 1);
    n = strlen(hb) + 1 + strlen(pb) + 1;
    if ((jws = malloc(n + KEYS_SIG_MAX)) == NULL)
        abort();
    snprintf(jws, n + 1, "%s.%s.", hb, pb);
    if (keys_sign(kr, NULL, jws, n - 1, jws + n) != 0)
        abort();
    if (jws_verify(kr, jws, NULL, &claims) == 0) {
        /* Verified means: the payload is a JSON object, read strictly. */
        want = json_loadb(nl + 1, len - hlen - 1, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(claims) || want == NULL ||
            !json_equal(claims, want))
            abort();
        json_decref(want);
        check_claims(claims);
        json_decref(claims);
    } else if (claims != NULL) {
        abort();
    }
    claims = NULL;
    if (jws_verify(kr, jws, "logout+jwt", &claims) == 0)
        json_decref(claims);
    check_cached(jws, NULL);
    check_cached(jws, "at+jwt");
    free(jws);
    free(htext);
    free(hb);
    free(pb);
}

static void
sign_round_trip(const char *s, size_t len)
{
    json_t *c = json_loadb(s, len, 0, NULL), *back = NULL;
    char *jws = NULL;
    int rc;

    if (c == NULL)
        return;
    rc = jws_sign(kr, NULL, "JWT", c, &jws);
    if (rc == 0) {
        if (jws_verify(kr, jws, "jwt", &back) != 0 || !json_equal(c, back))
            abort();
        json_decref(back);
        free(jws);
    } else if (rc != GH_EINVAL && rc != GH_ETOOBIG) {
        abort();
    } else if (rc == GH_EINVAL && json_is_object(c)) {
        abort();
    }
    json_decref(c);
}

static void
claims_only(const char *s, size_t len)
{
    json_t *c = json_loadb(s, len, 0, NULL);

    if (c != NULL)
        check_claims(c);
    json_decref(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size == 0)
        return 0;
    setup();
    if ((s = malloc(size)) == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0:
        verify_outside(s);
        break;
    case 1:
        verify_signed(s, size - 1);
        break;
    case 2:
        sign_round_trip(s, size - 1);
        break;
    default:
        claims_only(s, size - 1);
    }
    free(s);
    return 0;
}
