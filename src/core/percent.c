/* SPDX-License-Identifier: MIT */
/* Percent-decoding for URLs and forms: one pass, no allocation past one
 * buffer as long as the input. */
#include <stdlib.h>

#include <openssl/crypto.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/percent.h"

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
percent_decode(const char *s, size_t len, int flags, char **ret,
               size_t *retlen)
{
    char *out;
    size_t i, o = 0;
    int hi, lo;

    if ((out = malloc(len + 1)) == NULL)
        return GH_ENOMEM;
    for (i = 0; i < len; i++) {
        if (s[i] == '+' && (flags & PERCENT_PLUS)) {
            out[o++] = ' ';
        } else if (s[i] == '%' && len - i >= 3 &&
                   (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
                   (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (s[i] == '%' && (flags & PERCENT_STRICT)) {
            OPENSSL_cleanse(out, len + 1);
            free(out);
            return GH_EINVAL;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *ret = out;
    if (retlen != NULL)
        *retlen = o;
    return 0;
}
