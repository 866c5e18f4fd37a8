/* SPDX-License-Identifier: MIT */
/* Sealed browser-carried state: base64url(JSON) "." base64url(HMAC-SHA256).
 * The MAC covers the purpose and the binding too, so a value sealed for one
 * form or one browser does not open for another. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/seal.h"
#include "gatehouse/core/util.h"

/* HMAC(key, purpose NUL binding NUL payload-text). */
static int
mac(const unsigned char key[SEAL_KEY_LEN], const char *purpose,
    const char *binding, const char *payload, size_t plen,
    unsigned char md[32])
{
    size_t a = strlen(purpose) + 1, b = strlen(binding) + 1;
    unsigned int mdlen = 0;
    unsigned char *msg;
    int rc = 0;

    if ((msg = malloc(a + b + plen)) == NULL)
        return GH_ENOMEM;
    memcpy(msg, purpose, a);
    memcpy(msg + a, binding, b);
    memcpy(msg + a + b, payload, plen);
    if (HMAC(EVP_sha256(), key, SEAL_KEY_LEN, msg, a + b + plen, md,
             &mdlen) == NULL ||
        mdlen != 32)
        rc = GH_ECRYPTO;
    free(msg);
    return rc;
}

int
seal_make(const unsigned char key[SEAL_KEY_LEN], const char *purpose,
          const char *binding, json_t *claims, int64_t exp, char **out)
{
    json_t *o;
    char *text = NULL, *payload = NULL, *res = NULL;
    unsigned char md[32];
    size_t plen;
    int rc;

    if (!json_is_object(claims))
        return GH_EINVAL;
    /* The claims and exp, as the base64url of their JSON text. */
    o = json_deep_copy(claims);
    if (o != NULL && json_object_set_new(o, "exp", json_integer(exp)) == 0)
        text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text != NULL)
        payload = b64url_encode_alloc(text, strlen(text));
    free(text);
    if (payload == NULL)
        return GH_ENOMEM;
    plen = strlen(payload);
    if ((rc = mac(key, purpose, binding, payload, plen, md)) < 0)
        goto out;
    if ((res = malloc(plen + 1 + B64URL_LEN(32) + 1)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    memcpy(res, payload, plen);
    res[plen] = '.';
    b64url_encode(md, sizeof(md), res + plen + 1);
    *out = res;
    rc = 0;
out:
    free(payload);
    return rc;
}

int
seal_open(const unsigned char key[SEAL_KEY_LEN], const char *purpose,
          const char *binding, const char *text, size_t len, int64_t now,
          json_t **claims)
{
    const char *dot;
    unsigned char want[32], *got = NULL, *json = NULL;
    size_t glen = 0, jlen = 0, plen;
    json_t *o = NULL, *exp;
    int rc = GH_EBADTOKEN;

    if (text == NULL || len == 0 || len > SEAL_MAX)
        return GH_EBADTOKEN;
    if ((dot = memchr(text, '.', len)) == NULL)
        return GH_EBADTOKEN;
    plen = (size_t)(dot - text);
    /* The MAC first: nothing of an unverified payload is parsed. */
    if (len - plen - 1 != B64URL_LEN(32) ||
        b64url_decode(dot + 1, len - plen - 1, &got, &glen) < 0 ||
        glen != sizeof(want))
        goto out;
    if ((rc = mac(key, purpose, binding, text, plen, want)) < 0)
        goto out;
    rc = GH_EBADTOKEN;
    if (CRYPTO_memcmp(want, got, sizeof(want)) != 0)
        goto out;
    if (b64url_decode(text, plen, &json, &jlen) < 0)
        goto out;
    o = json_loadb((const char *)json, jlen, JSON_REJECT_DUPLICATES, NULL);
    exp = json_object_get(o, "exp");
    if (!json_is_object(o) || !json_is_integer(exp))
        goto out;
    if (now > json_integer_value(exp)) {
        rc = GH_EEXPIRED;
        goto out;
    }
    *claims = o;
    o = NULL;
    rc = 0;
out:
    json_decref(o);
    free(json);
    free(got);
    return rc;
}
