/* SPDX-License-Identifier: MIT */
/* The JSON writer: jansson's compact bytes, one pass, one buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonw.h"
#include "gatehouse/core/util.h"

/* What a byte needs in a JSON string: 0 nothing, 1 an escape, 2 it starts
 * (or wrongly continues) a UTF-8 sequence that must be checked. */
static const unsigned char byte_class[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 2,
};

static const char hex[] = "0123456789ABCDEF";

void
jw_init(struct jw *w, size_t size)
{
    memset(w, 0, sizeof(*w));
    w->cap = size > 0 ? size : 64;
    if ((w->buf = malloc(w->cap)) == NULL)
        w->err = GH_ENOMEM;
}

/* Room for n more bytes and a NUL; 0, or the writer has failed. */
static int
reserve(struct jw *w, size_t n)
{
    size_t cap;
    char *nb;

    if (w->err != 0)
        return -1;
    if (w->cap - w->len > n)
        return 0;
    cap = w->cap * 2 > w->len + n + 1 ? w->cap * 2 : w->len + n + 1;
    if ((nb = realloc(w->buf, cap)) == NULL) {
        w->err = GH_ENOMEM;
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

/*
 * 1 if the 8 bytes in x may hold one that needs attention (a control
 * character, '"', '\\' or a byte past ASCII); never 0 when one does. A
 * string is scanned a word at a time: tokens are hundreds of bytes with
 * nothing to escape, and this is most of the cost of writing them.
 */
static int
word_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

    return ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
             ((b - ones) & ~b) | x) &
            highs) != 0;
}

/* s escaped, without quotes. */
static void
put_escaped(struct jw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end;
    int utf8_checked = 0;
    uint64_t x;

    if (s == NULL) {
        w->err = w->err != 0 ? w->err : GH_EINVAL;
        return;
    }
    end = p + strlen(s);
    /* Room for the rest of s as it is and a closing quote, from here on:
     * the usual case, nothing to escape, reserves once. An escape reserves
     * its own extra bytes. */
    if (reserve(w, (size_t)(end - p) + 2) < 0)
        return;
    while (p < end) {
        while (end - p >= 8 && (memcpy(&x, p, 8), !word_special(x))) {
            memcpy(w->buf + w->len, &x, 8);
            w->len += 8;
            p += 8;
        }
        while (p < end && byte_class[*p] == 0)
            w->buf[w->len++] = (char)*p++;
        if (p == end)
            break;
        if (byte_class[*p] == 2) {
            /* What json_string() refuses (overlong forms, surrogates,
             * past U+10FFFF) is refused: the rest is checked once, at the
             * first byte past ASCII, and then copied as it is. */
            if (!utf8_checked &&
                !util_utf8_valid((const char *)p, (size_t)(end - p))) {
                w->err = GH_EINVAL;
                return;
            }
            utf8_checked = 1;
            while (p < end && byte_class[*p] == 2)
                w->buf[w->len++] = (char)*p++;
            continue;
        }
        if (reserve(w, 6 + (size_t)(end - p) + 1) < 0)
            return;
        w->buf[w->len++] = '\\';
        switch (*p) {
        case '"':
        case '\\':
            w->buf[w->len++] = (char)*p;
            break;
        case '\b':
            w->buf[w->len++] = 'b';
            break;
        case '\f':
            w->buf[w->len++] = 'f';
            break;
        case '\n':
            w->buf[w->len++] = 'n';
            break;
        case '\r':
            w->buf[w->len++] = 'r';
            break;
        case '\t':
            w->buf[w->len++] = 't';
            break;
        default:
            memcpy(w->buf + w->len, "u00", 3);
            w->buf[w->len + 3] = hex[*p >> 4];
            w->buf[w->len + 4] = hex[*p & 0xf];
            w->len += 5;
            break;
        }
        p++;
    }
}

static void
put_char(struct jw *w, char c)
{
    if (reserve(w, 1) == 0)
        w->buf[w->len++] = c;
}

/* s as a JSON string, quotes included. */
static void
put_string(struct jw *w, const char *s)
{
    put_char(w, '"');
    put_escaped(w, s);
    put_char(w, '"');
}

/* What comes before a value: the comma after a sibling, and the key. */
static int
begin_value(struct jw *w, const char *key)
{
    if (w->err != 0)
        return -1;
    if (w->comma) {
        if (reserve(w, 1) < 0)
            return -1;
        w->buf[w->len++] = ',';
    }
    if (key != NULL) {
        put_string(w, key);
        if (reserve(w, 1) < 0)
            return -1;
        w->buf[w->len++] = ':';
    }
    w->comma = 1;
    return 0;
}

static void
nest(struct jw *w, const char *key, char c)
{
    if (begin_value(w, key) < 0)
        return;
    put_char(w, c);
    w->depth++;
    w->comma = 0;
}

static void
unnest(struct jw *w, char c)
{
    if (w->err != 0)
        return;
    if (w->depth == 0) {
        w->err = GH_EINVAL;
        return;
    }
    put_char(w, c);
    w->depth--;
    w->comma = 1;
}

void
jw_obj_begin(struct jw *w, const char *key)
{
    nest(w, key, '{');
}

void
jw_obj_end(struct jw *w)
{
    unnest(w, '}');
}

void
jw_arr_begin(struct jw *w, const char *key)
{
    nest(w, key, '[');
}

void
jw_arr_end(struct jw *w)
{
    unnest(w, ']');
}

void
jw_str(struct jw *w, const char *key, const char *value)
{
    if (begin_value(w, key) < 0)
        return;
    put_string(w, value);
}

void
jw_strcat(struct jw *w, const char *key, const char *a, const char *b)
{
    if (begin_value(w, key) < 0)
        return;
    put_char(w, '"');
    put_escaped(w, a);
    put_escaped(w, b);
    put_char(w, '"');
}

void
jw_str_if_utf8(struct jw *w, const char *key, const char *value)
{
    size_t len = w->len;
    int comma = w->comma;

    if (w->err != 0)
        return;
    jw_str(w, key, value);
    if (w->err == GH_EINVAL) {
        w->len = len;
        w->comma = comma;
        w->err = 0;
    }
}

void
jw_int(struct jw *w, const char *key, long long value)
{
    char tmp[24];
    size_t n = sizeof(tmp);
    /* Negated as unsigned: -LLONG_MIN does not fit a long long. */
    unsigned long long u = value < 0 ? 0ULL - (unsigned long long)value
                                     : (unsigned long long)value;

    if (begin_value(w, key) < 0)
        return;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (value < 0)
        tmp[--n] = '-';
    if (reserve(w, sizeof(tmp) - n) < 0)
        return;
    memcpy(w->buf + w->len, tmp + n, sizeof(tmp) - n);
    w->len += sizeof(tmp) - n;
}

void
jw_bool(struct jw *w, const char *key, int value)
{
    const char *text = value ? "true" : "false";
    size_t n = value ? 4 : 5;

    if (begin_value(w, key) < 0 || reserve(w, n) < 0)
        return;
    memcpy(w->buf + w->len, text, n);
    w->len += n;
}

void
jw_members(struct jw *w, const char *obj)
{
    size_t n;

    if (w->err != 0)
        return;
    n = obj != NULL ? strlen(obj) : 0;
    if (n < 2 || obj[0] != '{' || obj[n - 1] != '}' || w->depth == 0) {
        w->err = GH_EINVAL;
        return;
    }
    if (n == 2)
        return;
    if (w->comma)
        put_char(w, ',');
    if (reserve(w, n - 2) < 0)
        return;
    memcpy(w->buf + w->len, obj + 1, n - 2);
    w->len += n - 2;
    w->comma = 1;
}

int
jw_finish(struct jw *w, char **ret, size_t *len)
{
    int rc = w->err;

    if (rc == 0 && w->depth != 0)
        rc = GH_EINVAL;
    if (rc == 0 && w->len == 0)
        rc = GH_EINVAL; /* nothing was written: not a JSON text */
    if (rc == 0 && reserve(w, 0) < 0)
        rc = w->err;
    if (rc < 0) {
        free(w->buf);
        memset(w, 0, sizeof(*w));
        return rc;
    }
    w->buf[w->len] = '\0';
    *ret = w->buf;
    if (len != NULL)
        *len = w->len;
    memset(w, 0, sizeof(*w));
    return 0;
}
