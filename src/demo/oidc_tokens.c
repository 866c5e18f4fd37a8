/* SPDX-License-Identifier: MIT */
/* The relying-party side of OpenID Connect, part two: ID and logout tokens
 * (see oidc.h). Signatures are checked with OpenSSL against the provider's
 * JWKS, cached per kid. Not with libjwt: 1.10 refuses every typ but "JWT",
 * and a logout token is typ "logout+jwt" (BCL 1.0 §2.4). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "oidc_private.h"

/* Clocks of two hosts differ a little; tokens live for minutes. */
#define LEEWAY_S 30
/* An unknown kid refetches the JWKS (the provider rotated its keys), but
 * not more often than this, so forged kids cannot make us hammer it. */
#define JWKS_REFETCH_S 10
#define BCL_EVENT "http://schemas.openid.net/event/backchannel-logout"

/* ---- Keys: JWKS -> EVP_PKEY, cached per kid ---- */

static BIGNUM *
jwk_bn(const json_t *jwk, const char *name)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    unsigned char *raw;
    size_t len;
    BIGNUM *bn;

    if (s == NULL || (raw = oidc_b64url_decode(s, strlen(s), &len)) == NULL)
        return NULL;
    bn = BN_bin2bn(raw, (int)len, NULL);
    free(raw);
    return bn;
}

/* An RS256 (RSA) or ES256 (EC P-256) public key; NULL for anything else. */
static EVP_PKEY *
jwk_to_pkey(const json_t *jwk, const char *alg)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    int rsa = strcmp(alg, "RS256") == 0;
    BIGNUM *a = jwk_bn(jwk, rsa ? "n" : "x");
    BIGNUM *b = jwk_bn(jwk, rsa ? "e" : "y");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    unsigned char point[65];

    if (a == NULL || b == NULL || bld == NULL || kty == NULL)
        goto out;
    if (rsa && strcmp(kty, "RSA") == 0) {
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, a);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, b);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    } else if (!rsa && strcmp(kty, "EC") == 0 && crv != NULL &&
               strcmp(crv, "P-256") == 0 && BN_num_bytes(a) <= 32 &&
               BN_num_bytes(b) <= 32) {
        point[0] = 4; /* uncompressed: 04 || x || y */
        BN_bn2binpad(a, point + 1, 32);
        BN_bn2binpad(b, point + 33, 32);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        "prime256v1", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         sizeof(point));
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    }
    if (ctx == NULL || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    BN_free(a);
    BN_free(b);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Replaces the cache with the provider's current JWKS. Lock held. */
static void
jwks_fetch(struct oidc *o)
{
    json_t *jwks, *k;
    size_t i;

    o->jwks_fetched = time(NULL);
    if (oidc_http_json(o, o->jwks_uri, NULL, &jwks) != 200) {
        json_decref(jwks);
        return;
    }
    oidc_keys_clear(o);
    json_array_foreach(json_object_get(jwks, "keys"), i, k) {
        const char *kid = json_string_value(json_object_get(k, "kid"));
        const char *alg = json_string_value(json_object_get(k, "alg"));
        const char *use = json_string_value(json_object_get(k, "use"));
        struct key *key = &o->keys[o->nkeys];

        if (o->nkeys == MAX_KEYS || kid == NULL || alg == NULL ||
            strlen(kid) >= sizeof(key->kid) ||
            (use != NULL && strcmp(use, "sig") != 0) ||
            (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0) ||
            (key->pkey = jwk_to_pkey(k, alg)) == NULL)
            continue;
        strcpy(key->kid, kid);
        strcpy(key->alg, alg);
        o->nkeys++;
    }
    json_decref(jwks);
}

/* The key named kid, if its alg is alg; a new reference or NULL. */
static EVP_PKEY *
key_for(struct oidc *o, const char *kid, const char *alg)
{
    EVP_PKEY *pkey = NULL;
    size_t i;
    int pass;

    pthread_mutex_lock(&o->lock);
    for (pass = 0; pass < 2 && pkey == NULL; pass++) {
        if (pass == 1) {
            if (time(NULL) - o->jwks_fetched < JWKS_REFETCH_S)
                break;
            jwks_fetch(o); /* under the lock: one fetch at a time */
        }
        for (i = 0; i < o->nkeys; i++)
            if (strcmp(o->keys[i].kid, kid) == 0 &&
                strcmp(o->keys[i].alg, alg) == 0)
                pkey = o->keys[i].pkey;
    }
    if (pkey != NULL)
        EVP_PKEY_up_ref(pkey);
    pthread_mutex_unlock(&o->lock);
    return pkey;
}

/* ---- Tokens ---- */

/* RFC 7515 §4.1.9: "application/" may be left out of a typ. */
static int
typ_is(const char *typ, const char *want)
{
    if (typ != NULL && strncasecmp(typ, "application/", 12) == 0)
        typ += 12;
    return typ != NULL && strcasecmp(typ, want) == 0;
}

/*
 * A compact JWS signed by one of the provider's keys, with header typ
 * (checked when want_typ is not NULL). The alg must be the alg of the key
 * the kid names: "none" and HS256 can never match one (OIDC Core §3.1.3.7,
 * BCL §2.6 step 3). Returns 0 and *claims, or -1 with a reason.
 */
static int
jws_verify(struct oidc *o, const char *jws, const char *want_typ,
           json_t **claims, const char **why)
{
    const char *d1 = strchr(jws, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    unsigned char *hdr = NULL, *payload = NULL, *sig = NULL, *der = NULL;
    size_t hlen, plen, slen;
    json_t *h = NULL, *c = NULL;
    const char *alg, *kid;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    int derlen = 0, rc = -1;

    *why = "malformed token";
    if (d2 == NULL || strchr(d2 + 1, '.') != NULL ||
        (hdr = oidc_b64url_decode(jws, (size_t)(d1 - jws), &hlen)) == NULL ||
        (payload = oidc_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &plen)) ==
            NULL ||
        (sig = oidc_b64url_decode(d2 + 1, strlen(d2 + 1), &slen)) == NULL ||
        (h = json_loads((char *)hdr, 0, NULL)) == NULL ||
        (c = json_loads((char *)payload, 0, NULL)) == NULL ||
        !json_is_object(c))
        goto out;
    alg = json_string_value(json_object_get(h, "alg"));
    kid = json_string_value(json_object_get(h, "kid"));
    *why = "wrong typ";
    if (want_typ != NULL &&
        !typ_is(json_string_value(json_object_get(h, "typ")), want_typ))
        goto out;
    *why = "no key of the provider has this kid and alg";
    if (alg == NULL || kid == NULL ||
        (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0) ||
        (pkey = key_for(o, kid, alg)) == NULL)
        goto out;
    *why = "bad signature";
    if (strcmp(alg, "ES256") == 0) {
        /* JWS carries R || S (RFC 7518 §3.4); OpenSSL wants DER. */
        ECDSA_SIG *es = ECDSA_SIG_new();
        if (es == NULL || slen != 64) {
            ECDSA_SIG_free(es);
            goto out;
        }
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
                       BN_bin2bn(sig + 32, 32, NULL));
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
    } else {
        der = OPENSSL_memdup(sig, slen);
        derlen = (int)slen;
    }
    if (der == NULL || derlen <= 0 || (md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)jws,
                         (size_t)(d2 - jws)) != 1)
        goto out;
    *claims = c;
    c = NULL;
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    OPENSSL_free(der);
    json_decref(h);
    json_decref(c);
    free(hdr);
    free(payload);
    free(sig);
    return rc;
}

/* OIDC Core §3.1.3.7 steps 2-5, 9, 10: the checks an ID token and a logout
 * token share (BCL §2.6 step 4: "in the same way"). */
static const char *
check_common(const struct oidc *o, const json_t *c)
{
    const json_t *aud = json_object_get(c, "aud"), *a;
    const char *azp = json_string_value(json_object_get(c, "azp"));
    json_int_t now = (json_int_t)time(NULL);
    int mine = 0;
    size_t i;

    if (!json_is_string(json_object_get(c, "iss")) ||
        strcmp(json_string_value(json_object_get(c, "iss")), o->issuer) != 0)
        return "wrong iss";
    if (json_is_string(aud))
        mine = strcmp(json_string_value(aud), o->client_id) == 0;
    json_array_foreach(aud, i, a) {
        if (json_is_string(a) &&
            strcmp(json_string_value(a), o->client_id) == 0)
            mine = 1;
    }
    if (!mine)
        return "aud is not this app";
    if (azp != NULL && strcmp(azp, o->client_id) != 0)
        return "azp is not this app";
    if (!json_is_integer(json_object_get(c, "exp")) ||
        json_integer_value(json_object_get(c, "exp")) + LEEWAY_S <= now)
        return "expired";
    if (!json_is_integer(json_object_get(c, "iat")) ||
        json_integer_value(json_object_get(c, "iat")) > now + LEEWAY_S)
        return "iat missing or in the future";
    return NULL;
}

int
oidc_check_id_token(struct oidc *o, const char *jws, const char *nonce,
                    json_t **claims, const char **why)
{
    const char *n;
    json_t *c;

    if (jws_verify(o, jws, NULL, &c, why) < 0)
        return -1;
    n = json_string_value(json_object_get(c, "nonce"));
    if ((*why = check_common(o, c)) == NULL) {
        if (n == NULL || strcmp(n, nonce) != 0)
            *why = "nonce does not match"; /* §3.1.3.7 step 11 */
        else if (!json_is_string(json_object_get(c, "sub")))
            *why = "no sub";
    }
    if (*why != NULL) {
        json_decref(c);
        return -1;
    }
    *claims = c;
    return 0;
}

/* Step 8: a jti never seen before. Remembered until its token expires,
 * after which the token is refused as expired anyway. */
static int
jti_first_time(struct oidc *o, const char *jti, json_int_t exp)
{
    json_int_t now = (json_int_t)time(NULL);
    const char *k;
    json_t *v;
    void *tmp;
    int fresh;

    pthread_mutex_lock(&o->lock);
    json_object_foreach_safe(o->jtis, tmp, k, v) {
        if (json_integer_value(v) + LEEWAY_S < now)
            json_object_del(o->jtis, k);
    }
    fresh = json_object_get(o->jtis, jti) == NULL;
    if (fresh)
        json_object_set_new(o->jtis, jti, json_integer(exp));
    pthread_mutex_unlock(&o->lock);
    return fresh;
}

int
oidc_check_logout_token(struct oidc *o, const char *jws, json_t **claims,
                        const char **why)
{
    json_t *c, *events;
    const char *jti;

    /* Steps 2, 3 (and the explicit typ of §2.4, so that no other token
     * of ours can pass for a logout token). */
    if (jws_verify(o, jws, "logout+jwt", &c, why) < 0)
        return -1;
    events = json_object_get(c, "events");
    jti = json_string_value(json_object_get(c, "jti"));
    if ((*why = check_common(o, c)) == NULL) { /* step 4 */
        if (!json_is_string(json_object_get(c, "sid")) &&
            !json_is_string(json_object_get(c, "sub")))
            *why = "neither sid nor sub"; /* step 5 */
        else if (!json_is_object(json_object_get(events, BCL_EVENT)))
            *why = "no back-channel logout event"; /* step 6 */
        else if (json_object_get(c, "nonce") != NULL)
            *why = "has a nonce"; /* step 7 */
        else if (jti == NULL)
            *why = "no jti";
        else if (!jti_first_time(o, jti,
                                 json_integer_value(json_object_get(c, "exp"))))
            *why = "jti seen before"; /* step 8 */
    }
    if (*why != NULL) {
        json_decref(c);
        return -1;
    }
    *claims = c;
    return 0;
}
