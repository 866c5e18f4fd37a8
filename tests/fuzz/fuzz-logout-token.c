/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the demo app's logout-token validator (src/demo), the
 * relying-party side of Back-Channel Logout, fed hostile tokens. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "gatehouse/core/util.h"
#include "oidc_private.h"

#define ISSUER "https://id.example.com"
#define CLIENT "crm"
#define KID "fuzz-key"

/*
 * The provider is built in memory (no discovery, no HTTP): one ES256 key
 * with kid "fuzz-key", and a JWKS fetch time in the far future so an
 * unknown kid never triggers one. The first byte picks what the rest is:
 *   0  a token as it arrives: it was not signed with our key (made at
 *      start-up), so accepting it would be a forgery;
 *   1  "HEADER\nPAYLOAD", signed with the key whatever it says: what the
 *      validator accepts must obey BCL 1.0 §2.6, and the same token twice
 *      is a replay (step 8).
 */
static struct oidc *o;
static EVP_PKEY *key;

static void
setup(void)
{
    if (o != NULL)
        return;
    if ((key = EVP_EC_gen("P-256")) == NULL ||
        (o = calloc(1, sizeof(*o))) == NULL)
        abort();
    pthread_mutex_init(&o->lock, NULL);
    o->issuer = strdup(ISSUER);
    o->client_id = strdup(CLIENT);
    o->jwks_uri = strdup("http://127.0.0.1:9/jwks");
    o->jtis = json_object();
    o->jwks_fetched = (time_t)1 << 40;
    snprintf(o->keys[0].kid, sizeof(o->keys[0].kid), "%s", KID);
    snprintf(o->keys[0].alg, sizeof(o->keys[0].alg), "ES256");
    o->keys[0].pkey = key;
    EVP_PKEY_up_ref(key);
    o->nkeys = 1;
}

static char *
sign(const char *hdr, size_t hlen, const char *payload, size_t plen)
{
    char *h = b64url_encode_alloc(hdr, hlen);
    char *p = b64url_encode_alloc(payload, plen), *jws, *s;
    unsigned char der[80], raw[64];
    const unsigned char *d = der;
    size_t dlen = sizeof(der), n;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *sig;
    const BIGNUM *r, *sv;

    if (h == NULL || p == NULL || md == NULL)
        abort();
    n = strlen(h) + strlen(p) + 1;
    if ((jws = malloc(n + 1 + B64URL_LEN(64) + 1)) == NULL)
        abort();
    snprintf(jws, n + 1, "%s.%s", h, p);
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &dlen, (unsigned char *)jws, n) != 1 ||
        (sig = d2i_ECDSA_SIG(NULL, &d, (long)dlen)) == NULL)
        abort();
    ECDSA_SIG_get0(sig, &r, &sv);
    BN_bn2binpad(r, raw, 32);
    BN_bn2binpad(sv, raw + 32, 32);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    s = jws + n;
    *s++ = '.';
    b64url_encode(raw, sizeof(raw), s);
    free(h);
    free(p);
    return jws;
}

/* What BCL 1.0 §2.6 lets through. */
static void
check_accepted(const json_t *c)
{
    const json_t *aud = json_object_get(c, "aud"), *a, *ev;
    const char *iss = json_string_value(json_object_get(c, "iss"));
    int mine =
        json_is_string(aud) && strcmp(json_string_value(aud), CLIENT) == 0;
    size_t i;

    json_array_foreach(aud, i, a) mine |=
        json_is_string(a) && strcmp(json_string_value(a), CLIENT) == 0;
    ev = json_object_get(json_object_get(c, "events"),
                         "http://schemas.openid.net/event/backchannel-logout");
    if (iss == NULL || strcmp(iss, ISSUER) != 0 || !mine ||
        !json_is_object(ev) || json_object_get(c, "nonce") != NULL ||
        !json_is_string(json_object_get(c, "jti")) ||
        !json_is_integer(json_object_get(c, "exp")) ||
        (!json_is_string(json_object_get(c, "sid")) &&
         !json_is_string(json_object_get(c, "sub"))))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL, *nl;
    json_t *claims = NULL;
    char *s, *jws;

    if (size == 0)
        return 0;
    setup();
    if ((s = malloc(size)) == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] % 2 == 0) {
        if (oidc_check_logout_token(o, s, &claims, &why) == 0)
            abort();
        if (why == NULL)
            abort();
    } else if ((nl = memchr(s, '\n', size - 1)) != NULL) {
        jws =
            sign(s, (size_t)(nl - s), nl + 1, size - 1 - (size_t)(nl - s) - 1);
        if (oidc_check_logout_token(o, jws, &claims, &why) == 0) {
            check_accepted(claims);
            json_decref(claims);
            claims = NULL;
            /* The same token again is a replay. */
            if (oidc_check_logout_token(o, jws, &claims, &why) == 0)
                abort();
        } else if (why == NULL) {
            abort();
        }
        free(jws);
    }
    free(s);
    return 0;
}
