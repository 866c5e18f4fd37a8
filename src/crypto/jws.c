/* SPDX-License-Identifier: MIT */
/* Compact JWS (RFC 7515 §7.1): built and signed through keys.c, and taken
 * apart again trusting nothing in it until its signature checks out. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonw.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/core/util.h"

int
jws_sign(const struct keyring *kr, const char *alg, const char *typ,
         const json_t *claims, char **ret)
{
    char *ptext;
    int rc;

    if (!json_is_object(claims))
        return GH_EINVAL;
    if ((ptext = json_dumps(claims, JSON_COMPACT)) == NULL)
        return GH_ENOMEM;
    rc = jws_sign_json(kr, alg, typ, ptext, ret);
    free(ptext);
    return rc;
}

int
jws_sign_json(const struct keyring *kr, const char *alg, const char *typ,
              const char *ptext, char **ret)
{
    const char *kid = keys_kid(kr, alg);
    char *htext = NULL, *out = NULL;
    size_t hlen = 0, plen, hb, pb;
    struct jw w;
    int rc = GH_ENOMEM;

    if (kid == NULL)
        return GH_ENOTFOUND;
    if (alg == NULL)
        alg = keys_active_alg(kr);
    jw_init(&w, 128);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "alg", alg);
    jw_str(&w, "kid", kid);
    if (typ != NULL)
        jw_str(&w, "typ", typ);
    jw_obj_end(&w);
    if ((rc = jw_finish(&w, &htext, &hlen)) < 0)
        goto out;
    rc = GH_ENOMEM;
    plen = strlen(ptext);
    if ((out = malloc(B64URL_LEN(hlen) + B64URL_LEN(plen) + 2 +
                      KEYS_SIG_MAX)) == NULL)
        goto out;
    hb = b64url_encode(htext, hlen, out);
    out[hb] = '.';
    pb = b64url_encode(ptext, plen, out + hb + 1);
    out[hb + 1 + pb] = '.';
    if ((rc = keys_sign(kr, alg, out, hb + 1 + pb, out + hb + 1 + pb + 1)) < 0)
        goto out;
    /* A token we would refuse to verify ourselves must not go out. */
    if (strlen(out) > JWS_MAX_LEN) {
        rc = GH_ETOOBIG;
        goto out;
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    free(htext);
    free(out);
    return rc;
}

/*
 * One part of a compact JWS: base64url without padding (RFC 7515 §2).
 * b64url_decode already takes one spelling per byte string, padding aside;
 * refusing '=' makes it exactly one, so a token compared or stored by its
 * text (a revocation list, a replay cache) cannot be spelt another way.
 */
static int
part_decode(const char *s, size_t len, unsigned char **ret, size_t *retlen)
{
    if (len == 0 || memchr(s, '=', len) != NULL)
        return GH_EBADTOKEN;
    return b64url_decode(s, len, ret, retlen) < 0 ? GH_EBADTOKEN : 0;
}

/* RFC 7515 §4.1.9: "application/" may be left out of typ, and media types
 * compare case-insensitively (RFC 2045 §5.1). */
static const char *
media_type(const char *s)
{
    return strncasecmp(s, "application/", 12) == 0 ? s + 12 : s;
}

static int
typ_matches(const json_t *typ, const char *expected)
{
    const char *s = json_string_value(typ);

    return s != NULL && strcasecmp(media_type(s), media_type(expected)) == 0;
}

int
jws_verify(const struct keyring *kr, const char *jws, const char *expected_typ,
           json_t **claims)
{
    const char *dot1, *dot2;
    unsigned char *hraw = NULL, *praw = NULL, *sig = NULL;
    size_t len, hlen, plen, siglen;
    json_t *hdr = NULL, *payload = NULL;
    const char *alg, *kid;
    int rc = GH_EBADTOKEN;

    if (jws == NULL || (len = strnlen(jws, JWS_MAX_LEN + 1)) > JWS_MAX_LEN)
        goto out;
    /* Exactly three parts: a JWE (five) or anything else is not ours. */
    if ((dot1 = memchr(jws, '.', len)) == NULL ||
        (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jws))) ==
            NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jws)) != NULL)
        goto out;
    if (part_decode(jws, (size_t)(dot1 - jws), &hraw, &hlen) < 0 ||
        part_decode(dot2 + 1, len - (size_t)(dot2 + 1 - jws), &sig, &siglen) <
            0)
        goto out;
    hdr = json_loadb((const char *)hraw, hlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(hdr))
        goto out;
    /* RFC 7515 §4.1.11: we understand no extension, so any crit fails. */
    if (json_object_get(hdr, "crit") != NULL)
        goto out;
    alg = json_string_value(json_object_get(hdr, "alg"));
    kid = json_string_value(json_object_get(hdr, "kid"));
    if (alg == NULL || kid == NULL)
        goto out;
    /* RFC 8725 §3.11: an ID token must not pass as a logout token. */
    if (expected_typ != NULL &&
        !typ_matches(json_object_get(hdr, "typ"), expected_typ))
        goto out;
    if (keys_verify(kr, kid, alg, jws, (size_t)(dot2 - jws), sig, siglen) != 0)
        goto out;
    /* Only now is the payload ours to read. */
    if (part_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &praw, &plen) < 0)
        goto out;
    payload =
        json_loadb((const char *)praw, plen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(payload))
        goto out;
    *claims = payload;
    payload = NULL;
    rc = 0;
out:
    free(hraw);
    free(praw);
    free(sig);
    json_decref(hdr);
    json_decref(payload);
    return rc;
}

static int
aud_contains(const json_t *aud, const char *audience)
{
    const char *v;
    size_t i;

    /* RFC 7519 §4.1.3: a single string or an array of strings. */
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), audience) == 0;
    for (i = 0; i < json_array_size(aud); i++) {
        v = json_string_value(json_array_get(aud, i));
        if (v != NULL && strcmp(v, audience) == 0)
            return 1;
    }
    return 0;
}

int
jws_check_claims(const json_t *claims, const char *issuer, const char *audience,
                 int64_t now, int64_t leeway_s, bool allow_expired)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const json_t *exp = json_object_get(claims, "exp");
    const json_t *iat = json_object_get(claims, "iat");

    /* Exact comparison (OIDC Core §3.1.3.7): no normalising of URLs. */
    if (issuer == NULL || iss == NULL || strcmp(iss, issuer) != 0)
        return GH_EBADTOKEN;
    if (audience != NULL &&
        !aud_contains(json_object_get(claims, "aud"), audience))
        return GH_EBADTOKEN;
    /* Every token we issue carries both; one without them is not ours. */
    if (!json_is_number(exp) || !json_is_number(iat))
        return GH_EBADTOKEN;
    if (json_number_value(iat) > (double)(now + leeway_s))
        return GH_EBADTOKEN;
    /* RFC 7519 §4.1.4: valid only while now is before exp. */
    if (!allow_expired && json_number_value(exp) <= (double)(now - leeway_s))
        return GH_EEXPIRED;
    return 0;
}

/* The verified-token cache: direct-mapped slots, each guarded by one of a
 * few striped locks, so concurrent introspections rarely wait. */
#define VCACHE_SLOTS 2048
#define VCACHE_LOCKS 64

struct vslot {
    unsigned char hash[32];
    const struct keyring *kr;
    const char *typ; /* the caller's constant, compared by value */
    int64_t exp;
    char *payload; /* claims as JSON text */
};

struct jws_cache {
    struct vslot slots[VCACHE_SLOTS];
    pthread_mutex_t locks[VCACHE_LOCKS];
};

int
jws_cache_new(struct jws_cache **ret)
{
    struct jws_cache *vc;
    size_t i;

    if ((vc = calloc(1, sizeof(*vc))) == NULL)
        return GH_ENOMEM;
    for (i = 0; i < VCACHE_LOCKS; i++)
        pthread_mutex_init(&vc->locks[i], NULL);
    *ret = vc;
    return 0;
}

void
jws_cache_free(struct jws_cache *vc)
{
    size_t i;

    if (vc == NULL)
        return;
    for (i = 0; i < VCACHE_SLOTS; i++)
        free(vc->slots[i].payload);
    for (i = 0; i < VCACHE_LOCKS; i++)
        pthread_mutex_destroy(&vc->locks[i]);
    free(vc);
}

static int
same_typ(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
jws_verify_cached(struct jws_cache *vc, const struct keyring *kr,
                  const char *jws, const char *expected_typ, json_t **claims)
{
    unsigned char hash[32];
    size_t slot;
    struct vslot *v;
    pthread_mutex_t *lock;
    char *payload = NULL;
    json_t *c = NULL, *exp;
    int64_t now = util_now();
    int rc;

    if (strlen(jws) > JWS_MAX_LEN)
        return GH_EBADTOKEN;
    if (vc == NULL)
        return jws_verify(kr, jws, expected_typ, claims);
    util_sha256(jws, strlen(jws), hash);
    memcpy(&slot, hash, sizeof(slot));
    slot %= VCACHE_SLOTS;
    v = &vc->slots[slot];
    lock = &vc->locks[slot % VCACHE_LOCKS];
    pthread_mutex_lock(lock);
    if (v->payload != NULL && v->kr == kr && v->exp > now &&
        same_typ(v->typ, expected_typ) &&
        CRYPTO_memcmp(v->hash, hash, sizeof(hash)) == 0)
        payload = strdup(v->payload);
    pthread_mutex_unlock(lock);
    if (payload != NULL) {
        c = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
        free(payload);
        if (c != NULL) {
            *claims = c;
            return 0;
        }
    }
    if ((rc = jws_verify(kr, jws, expected_typ, &c)) < 0)
        return rc;
    /* Only tokens that expire are remembered, and only until then. */
    exp = json_object_get(c, "exp");
    if (json_is_integer(exp) && json_integer_value(exp) > now &&
        (payload = json_dumps(c, JSON_COMPACT)) != NULL) {
        pthread_mutex_lock(lock);
        free(v->payload);
        memcpy(v->hash, hash, sizeof(hash));
        v->kr = kr;
        v->typ = expected_typ;
        v->exp = json_integer_value(exp);
        v->payload = payload;
        pthread_mutex_unlock(lock);
    }
    *claims = c;
    return 0;
}
