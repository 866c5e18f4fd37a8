/* SPDX-License-Identifier: MIT */
/* base64url, randomness, time and secret handling shared by every module. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
b64url_encode(const void *in, size_t len, char *out)
{
    const unsigned char *p = in;
    size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64url_alphabet[v >> 18];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[o++] = b64url_alphabet[v >> 18];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

char *
b64url_encode_alloc(const void *in, size_t len)
{
    char *out = malloc(B64URL_LEN(len) + 1);

    if (out != NULL)
        b64url_encode(in, len, out);
    return out;
}

int
b64url_valid(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* The value of c in the base64url (url) or standard alphabet, or -1. */
static int
b64_value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/*
 * Exactly one spelling per byte string is accepted: padding, when present,
 * completes the last quantum (at most two '='), and the unused low bits of
 * the last character are zero (RFC 4648 §3.5). Otherwise "Zg", "Zh" and
 * "Zg=====" would all decode to "f": a token altered that way would decode
 * (and verify) the same while no longer matching a revocation or replay
 * record kept by its text.
 */
static int
decode(const char *in, size_t len, int url, unsigned char **ret,
       size_t *retlen)
{
    unsigned char *out;
    unsigned acc = 0;
    size_t i, o = 0, pad = 0, cap;
    int bits = 0;

    while (len > 0 && in[len - 1] == '=') {
        len--;
        pad++;
    }
    if (len % 4 == 1)
        return GH_EINVAL;
    if (pad > 0 && (pad > 2 || (len + pad) % 4 != 0))
        return GH_EINVAL;
    cap = len * 3 / 4 + 1;
    if ((out = malloc(cap)) == NULL)
        return GH_ENOMEM;
    for (i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i], url);
        if (v < 0)
            goto fail;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        goto fail;
    out[o] = '\0';
    *ret = out;
    *retlen = o;
    return 0;
fail:
    /* What was decoded may be part of a credential. */
    OPENSSL_cleanse(out, cap);
    free(out);
    return GH_EINVAL;
}

int
b64url_decode(const char *in, size_t len, unsigned char **ret, size_t *retlen)
{
    return decode(in, len, 1, ret, retlen);
}

int
b64_decode(const char *in, size_t len, unsigned char **ret, size_t *retlen)
{
    return decode(in, len, 0, ret, retlen);
}

int
util_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : GH_ECRYPTO;
}

int
util_random_id(char *out, size_t nbytes)
{
    unsigned char raw[64];
    int rc;

    if (nbytes > sizeof(raw))
        return GH_EINVAL;
    if ((rc = util_random(raw, nbytes)) < 0)
        return rc;
    b64url_encode(raw, nbytes, out);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

int
util_uuid(char out[37])
{
    unsigned char b[16];
    int rc;

    if ((rc = util_random(b, sizeof(b))) < 0)
        return rc;
    b[6] = (b[6] & 0x0f) | 0x40; /* RFC 4122 §4.4: version 4 */
    b[8] = (b[8] & 0x3f) | 0x80; /* variant 10 */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
             b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

int64_t
util_now(void)
{
    return (int64_t)time(NULL);
}

int64_t
util_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
util_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
util_streq_ct(const char *a, const char *b)
{
    size_t la, lb;

    if (a == NULL || b == NULL)
        return 0;
    la = strlen(a);
    lb = strlen(b);
    /* Compare over the expected length either way so timing does not tell
     * how much of a guess was right. */
    if (la != lb) {
        CRYPTO_memcmp(b, b, lb);
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}

void
util_free_secret(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/*
 * The second byte's range is what excludes overlong forms (C0, C1, E0
 * 80-9F, F0 80-8F), surrogates (ED A0-BF) and code points past U+10FFFF
 * (F4 90-BF, F5-FF).
 */
int
util_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n, k;

        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return 0;
        i += n + 1;
    }
    return 1;
}

/* SHA256() fetches its implementation on every call in OpenSSL 3 (a lock
 * and a name lookup: ~4% of a grant); fetch it once instead. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
util_sha256(const void *data, size_t len, unsigned char md[32])
{
    pthread_once(&sha256_once, sha256_fetch);
    /* Should the fetch have failed, the slow path still gives the digest. */
    if (sha256_md == NULL ||
        EVP_Digest(data, len, md, NULL, sha256_md, NULL) != 1)
        SHA256(data, len, md);
}

void
util_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    int i;

    util_sha256(data, len, md);
    for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

void
util_sha256_b64url(const void *data, size_t len, int half, char out[44])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    util_sha256(data, len, md);
    b64url_encode(md, half ? SHA256_DIGEST_LENGTH / 2 : SHA256_DIGEST_LENGTH,
                  out);
}
