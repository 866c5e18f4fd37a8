/* SPDX-License-Identifier: MIT */
/* Device cookies: made and checked here, with no state of their own. The
 * key comes from the caller (Redis keeps it; see store_mac_key). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gatehouse/auth/device.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"

#define SUB_MAX 64
#define MAC_LEN B64URL_LEN(32)
/* Longest decimal expiry accepted: year 5138 is far enough. */
#define EXPIRES_DIGITS_MAX 11

/* A sub as users.c makes them, or any id of that alphabet: nothing that
 * could carry a '.' into the cookie or break its syntax. */
static int
plain_id(const char *s, size_t n)
{
    return n > 0 && n <= SUB_MAX && b64url_valid(s, n);
}

/* The base64url MAC of the first len bytes of value into mac. */
static int
mac_of(const unsigned char key[DEVICE_KEY_LEN], const char *value,
       size_t len, char mac[MAC_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (HMAC(EVP_sha256(), key, DEVICE_KEY_LEN, (const unsigned char *)value,
             len, md, &mdlen) == NULL ||
        mdlen != 32)
        return GH_ECRYPTO;
    b64url_encode(md, 32, mac);
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

int
device_cookie_seal(const unsigned char key[DEVICE_KEY_LEN], const char *sub,
                   int64_t expires, char *out)
{
    char id[DEVICE_ID_LEN + 1], mac[MAC_LEN + 1];
    int n, rc;

    if (sub == NULL || !plain_id(sub, strlen(sub)) || expires < 0)
        return GH_EINVAL;
    if ((rc = util_random_id(id, 16)) < 0)
        return rc;
    n = snprintf(out, DEVICE_VALUE_MAX, "%s.%" PRId64 ".%s.", sub, expires,
                 id);
    if (n < 0 || (size_t)n + MAC_LEN >= DEVICE_VALUE_MAX)
        return GH_EINVAL;
    /* The MAC covers everything before it, separators included. */
    if ((rc = mac_of(key, out, (size_t)n - 1, mac)) < 0)
        return rc;
    memcpy(out + n, mac, MAC_LEN + 1);
    return 0;
}

int
device_cookie_open(const unsigned char key[DEVICE_KEY_LEN], const char *value,
                   const char *sub, int64_t now, char id[DEVICE_ID_LEN + 1])
{
    const char *p, *dot, *e, *i, *m;
    char mac[MAC_LEN + 1];
    int64_t expires = 0;
    size_t len;

    if (value == NULL ||
        (len = strnlen(value, DEVICE_VALUE_MAX)) >= DEVICE_VALUE_MAX)
        return GH_EDENIED;
    /* sub '.' expires '.' id '.' mac, each part exactly as seal makes it. */
    if ((dot = strchr(value, '.')) == NULL ||
        !plain_id(value, (size_t)(dot - value)))
        return GH_EDENIED;
    if (sub != NULL && (strlen(sub) != (size_t)(dot - value) ||
                        strncmp(value, sub, (size_t)(dot - value)) != 0))
        return GH_EDENIED;
    e = dot + 1;
    /* Counted before it is added up: a long run of digits must not
     * overflow. */
    for (p = e; *p >= '0' && *p <= '9'; p++)
        if (p - e >= EXPIRES_DIGITS_MAX)
            return GH_EDENIED;
    if (p == e || (*e == '0' && p - e > 1) || *p != '.')
        return GH_EDENIED;
    for (; e < p; e++)
        expires = expires * 10 + (*e - '0');
    i = p + 1;
    if (strlen(i) != DEVICE_ID_LEN + 1 + MAC_LEN || i[DEVICE_ID_LEN] != '.' ||
        !plain_id(i, DEVICE_ID_LEN))
        return GH_EDENIED;
    m = i + DEVICE_ID_LEN + 1;
    if (mac_of(key, value, (size_t)(m - 1 - value), mac) < 0 ||
        CRYPTO_memcmp(mac, m, MAC_LEN) != 0)
        return GH_EDENIED;
    /* Checked after the MAC: an expiry we never wrote tells nothing. */
    if (expires <= now)
        return GH_EDENIED;
    memcpy(id, i, DEVICE_ID_LEN);
    id[DEVICE_ID_LEN] = '\0';
    return 0;
}
