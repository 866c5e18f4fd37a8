/* SPDX-License-Identifier: MIT */
/* TOTP through liboath: HOTP and TOTP are liboath's (an implementation
 * others have checked); what is ours is the input parsing, the URI and the
 * constant-time comparison. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/totp.h"

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready;

static void
oath_start(void)
{
    oath_ready = oath_init() == OATH_OK;
}

int
totp_secret_new(unsigned char secret[TOTP_SECRET_LEN])
{
    return RAND_bytes(secret, TOTP_SECRET_LEN) == 1 ? 0 : GH_ECRYPTO;
}

int
totp_secret_text(const unsigned char secret[TOTP_SECRET_LEN],
                 char out[TOTP_SECRET_B32_LEN + 1])
{
    char *b32 = NULL;
    size_t len = 0;

    pthread_once(&oath_once, oath_start);
    if (!oath_ready || oath_base32_encode((const char *)secret, TOTP_SECRET_LEN,
                                          &b32, &len) != OATH_OK)
        return GH_ENOMEM;
    /* 160 bits are 32 whole characters: no padding to strip. */
    if (len != TOTP_SECRET_B32_LEN) {
        util_free_secret(b32);
        return GH_ECRYPTO;
    }
    memcpy(out, b32, TOTP_SECRET_B32_LEN + 1);
    util_free_secret(b32);
    return 0;
}

/* RFC 3986 §2.3: unreserved characters stay, every other byte is %XX. */
static void
put_encoded(char **p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            *(*p)++ = (char)c;
        } else {
            *(*p)++ = '%';
            *(*p)++ = hex[c >> 4];
            *(*p)++ = hex[c & 15];
        }
    }
}

/* The host of an absolute URL, without userinfo, port or brackets, into
 * out. 0, or GH_EINVAL. */
static int
url_host(const char *url, char *out, size_t size)
{
    const char *h = strstr(url, "://"), *end;
    size_t len;

    if (h == NULL)
        return GH_EINVAL;
    h += 3;
    end = h + strcspn(h, "/?#");
    /* userinfo@host: the host is after the last '@' of the authority. */
    for (const char *at = h; at < end; at++)
        if (*at == '@')
            h = at + 1;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (close == NULL)
            return GH_EINVAL;
        h++;
        end = close;
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));
        if (colon != NULL)
            end = colon;
    }
    len = (size_t)(end - h);
    if (len == 0 || len >= size)
        return GH_EINVAL;
    memcpy(out, h, len);
    out[len] = '\0';
    return 0;
}

int
totp_uri(const unsigned char secret[TOTP_SECRET_LEN], const char *issuer_url,
         const char *account, char **ret)
{
    char host[256], b32[TOTP_SECRET_B32_LEN + 1], *uri, *p;
    size_t cap;
    int rc;

    if ((rc = url_host(issuer_url, host, sizeof(host))) < 0)
        return rc;
    if ((rc = totp_secret_text(secret, b32)) < 0)
        return rc;
    /* Each byte of host (twice) and account may take three. */
    cap = 128 + 3 * (2 * strlen(host) + strlen(account)) + sizeof(b32);
    if ((uri = malloc(cap)) == NULL) {
        OPENSSL_cleanse(b32, sizeof(b32));
        return GH_ENOMEM;
    }
    p = uri;
    p += sprintf(p, "otpauth://totp/");
    put_encoded(&p, host);
    *p++ = ':';
    put_encoded(&p, account);
    p += sprintf(p, "?secret=%s&issuer=", b32);
    put_encoded(&p, host);
    sprintf(p, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP_S);
    OPENSSL_cleanse(b32, sizeof(b32));
    *ret = uri;
    return 0;
}

int
totp_parse_code(const char *in, size_t len, char out[TOTP_DIGITS + 1])
{
    char code[TOTP_DIGITS + 1];
    size_t i, n = 0;

    if (in == NULL)
        return GH_EINVAL;
    for (i = 0; i < len; i++) {
        if (in[i] == ' ')
            continue;
        if (in[i] < '0' || in[i] > '9' || n == TOTP_DIGITS)
            return GH_EINVAL;
        code[n++] = in[i];
    }
    if (n != TOTP_DIGITS)
        return GH_EINVAL;
    code[n] = '\0';
    memcpy(out, code, sizeof(code));
    return 0;
}

int
totp_check(const unsigned char *secret, size_t secret_len,
           const char code[TOTP_DIGITS + 1], int64_t now, int64_t *step)
{
    int64_t found = -1;
    int off;

    pthread_once(&oath_once, oath_start);
    if (!oath_ready || now < TOTP_STEP_S)
        return GH_ECRYPTO;
    /*
     * liboath's own validate compares with strcmp, which stops at the
     * first differing digit; so each candidate is generated with liboath
     * and compared here, all three every time.
     */
    for (off = -1; off <= 1; off++) {
        char want[TOTP_DIGITS + 1];
        time_t t = (time_t)(now + off * TOTP_STEP_S);
        int match;

        if (oath_totp_generate2((const char *)secret, secret_len, t,
                                TOTP_STEP_S, OATH_TOTP_DEFAULT_START_TIME,
                                TOTP_DIGITS, 0, want) != OATH_OK)
            return GH_ECRYPTO;
        match = CRYPTO_memcmp(want, code, TOTP_DIGITS) == 0;
        OPENSSL_cleanse(want, sizeof(want));
        /* The latest matching step, so a replay check sees the newest. */
        if (match)
            found = t / TOTP_STEP_S;
    }
    if (found < 0)
        return GH_EDENIED;
    *step = found;
    return 0;
}
