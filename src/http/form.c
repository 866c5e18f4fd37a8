/* SPDX-License-Identifier: MIT */
/* Parsers for query strings, form bodies, cookies and Authorization headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/percent.h"
#include "gatehouse/http/form.h"
#include "gatehouse/core/util.h"

/*
 * Everything here reads bytes an attacker chose, and is fuzzed. Each parser
 * makes one pass over its input, allocates at most a small multiple of the
 * input length, and refuses rather than guesses: a request a browser or
 * client library would never send is an error, not something to repair.
 */

/*
 * Decodes one application/x-www-form-urlencoded key or value (WHATWG URL
 * §5.1: '+' is a space, %XX a byte). A '%' without two hex digits is an
 * error rather than kept literally: no client we serve sends one, and
 * accepting it would give one string two readings. The decoded text is
 * never longer than the input.
 */
static int
urldecode(const char *s, size_t len, char **ret)
{
    char *out = NULL;
    size_t n;
    int rc;

    if ((rc = percent_decode(s, len, PERCENT_PLUS | PERCENT_STRICT, &out,
                             &n)) < 0)
        return rc;
    if (!util_utf8_valid(out, n)) {
        /* A value may be a password (the login form, client_secret_post). */
        OPENSSL_cleanse(out, n);
        free(out);
        return GH_EINVAL;
    }
    *ret = out;
    return 0;
}

/* Non-empty '&'-separated pairs in s; empty ones ("a=1&&b=2") are skipped. */
static size_t
count_pairs(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        if (s[i] != '&' && (i == 0 || s[i - 1] == '&'))
            n++;
    return n;
}

int
form_parse(const char *s, size_t len, struct form *out)
{
    struct form f = {NULL, 0};
    size_t npairs, start, end;
    int rc = 0;

    if (len == 0)
        goto out;
    if (s == NULL) {
        rc = GH_EINVAL;
        goto out;
    }
    /* Count first so an oversized form costs no allocation at all. */
    if ((npairs = count_pairs(s, len)) > FORM_MAX_PARAMS) {
        rc = GH_ETOOBIG;
        goto out;
    }
    if (npairs == 0)
        goto out;
    if ((f.v = calloc(npairs, sizeof(*f.v))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    for (start = 0; start < len; start = end + 1) {
        const char *pair = s + start, *eq;
        struct form_param *p;
        size_t plen, klen;

        for (end = start; end < len && s[end] != '&'; end++)
            ;
        if ((plen = end - start) == 0)
            continue;
        /* A pair without '=' is a key with an empty value. */
        eq = memchr(pair, '=', plen);
        klen = eq != NULL ? (size_t)(eq - pair) : plen;
        if (klen == 0) {
            rc = GH_EINVAL;
            goto out;
        }
        p = &f.v[f.n++];
        if ((rc = urldecode(pair, klen, &p->key)) < 0)
            goto out;
        if (eq != NULL)
            rc = urldecode(eq + 1, plen - klen - 1, &p->value);
        else
            rc = urldecode("", 0, &p->value);
        if (rc < 0)
            goto out;
    }
out:
    if (rc == 0) {
        *out = f;
    } else {
        form_free(&f);
        out->v = NULL;
        out->n = 0;
    }
    return rc;
}

void
form_free(struct form *f)
{
    size_t i;

    if (f == NULL)
        return;
    for (i = 0; i < f->n; i++) {
        free(f->v[i].key);
        util_free_secret(f->v[i].value);
    }
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

const char *
form_get(const struct form *f, const char *key)
{
    const char *found = NULL;
    size_t i;

    if (f == NULL || key == NULL)
        return NULL;
    for (i = 0; i < f->n; i++) {
        if (strcmp(f->v[i].key, key) != 0)
            continue;
        /* RFC 6749 §3.1: parameters MUST NOT be included more than once. */
        if (found != NULL)
            return NULL;
        found = f->v[i].value;
    }
    return found;
}

const char *
form_has_duplicate(const struct form *f)
{
    size_t i, j;

    /* Quadratic, but n is at most FORM_MAX_PARAMS. */
    if (f == NULL)
        return NULL;
    for (i = 0; i < f->n; i++)
        for (j = i + 1; j < f->n; j++)
            if (strcmp(f->v[i].key, f->v[j].key) == 0)
                return f->v[i].key;
    return NULL;
}

static int
is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 6265 §4.1.1 cookie-octet: no CTLs, whitespace, DQUOTE, ',', ';', '\'. */
static int
is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/*
 * The Cookie header is "a=1; b=2" (RFC 6265 §4.2.1); we also accept what
 * §5.4 user agents may send in practice: no space after ';', extra
 * whitespace, pairs without '='. Other cookies on the same host are not
 * ours to judge, so only the one asked for is checked strictly.
 *
 * The whole header is always scanned: a second cookie of the same name
 * means someone on a sibling or parent domain planted one (cookie tossing),
 * and the browser gives no way to tell which is genuine, so neither is
 * used.
 */
int
form_cookie(const char *header, const char *name, char **ret)
{
    const char *p, *val = NULL;
    size_t namelen, vlen = 0, i;
    char *copy;

    if (header == NULL)
        return GH_ENOTFOUND;
    if (name == NULL || *name == '\0')
        return GH_EINVAL;
    namelen = strlen(name);
    for (p = header; *p != '\0';) {
        const char *end = p + strcspn(p, ";"), *eq, *ne, *vs, *ve;

        while (p < end && is_ows(*p))
            p++;
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq != NULL) {
            for (ne = eq; ne > p && is_ows(ne[-1]); ne--)
                ;
            if ((size_t)(ne - p) == namelen && memcmp(p, name, namelen) == 0) {
                if (val != NULL)
                    return GH_EINVAL;
                for (vs = eq + 1; vs < end && is_ows(*vs); vs++)
                    ;
                for (ve = end; ve > vs && is_ows(ve[-1]); ve--)
                    ;
                val = vs;
                vlen = (size_t)(ve - vs);
            }
        }
        p = *end == ';' ? end + 1 : end;
    }
    if (val == NULL)
        return GH_ENOTFOUND;
    /* RFC 6265 §4.1.1: cookie-value may be wrapped in DQUOTEs. */
    if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
        val++;
        vlen -= 2;
    }
    for (i = 0; i < vlen; i++)
        if (!is_cookie_octet((unsigned char)val[i]))
            return GH_EINVAL;
    if ((copy = malloc(vlen + 1)) == NULL)
        return GH_ENOMEM;
    memcpy(copy, val, vlen);
    copy[vlen] = '\0';
    *ret = copy;
    return 0;
}

/*
 * Standard base64 with padding (RFC 4648 §4), as RFC 7617 §2 requires for
 * Basic credentials: the length is a multiple of 4; util's decoder does the
 * rest strictly (padding only at the end, unused bits zero), so every
 * credential has exactly one encoding.
 */
static int
basic_decode(const char *s, size_t len, unsigned char **ret, size_t *retlen)
{
    if (len % 4 != 0)
        return GH_EINVAL;
    return b64_decode(s, len, ret, retlen);
}

/*
 * Returns the text after "<scheme> " (RFC 7235 §2.1: the scheme is
 * case-insensitive, then 1*SP), or NULL when the header names another
 * scheme.
 */
static const char *
skip_scheme(const char *header, const char *scheme)
{
    size_t n = strlen(scheme);

    if (strncasecmp(header, scheme, n) != 0 || header[n] != ' ')
        return NULL;
    header += n;
    while (*header == ' ')
        header++;
    return header;
}

int
form_basic_auth(const char *header, char **user, char **pass)
{
    unsigned char *raw = NULL;
    char *u = NULL, *pw = NULL;
    const char *b64, *colon;
    size_t rawlen = 0;
    int rc;

    if (header == NULL)
        return GH_ENOTFOUND;
    if ((b64 = skip_scheme(header, "Basic")) == NULL) {
        rc = GH_EINVAL;
        goto out;
    }
    if ((rc = basic_decode(b64, strlen(b64), &raw, &rawlen)) < 0)
        goto out;
    /* RFC 7617 §2: the user-id cannot contain ':', the password can. */
    if ((colon = memchr(raw, ':', rawlen)) == NULL) {
        rc = GH_EINVAL;
        goto out;
    }
    /* RFC 6749 §2.3.1: client_id and secret are form-urlencoded first, so
     * a ':' in either arrives as %3A and is decoded only after the split. */
    if ((rc = urldecode((char *)raw, (size_t)(colon - (char *)raw), &u)) < 0)
        goto out;
    if ((rc = urldecode(colon + 1, rawlen - (size_t)(colon - (char *)raw) - 1,
                        &pw)) < 0)
        goto out;
    if (*u == '\0') {
        rc = GH_EINVAL;
        goto out;
    }
    *user = u;
    *pass = pw;
    u = pw = NULL;
out:
    if (raw != NULL) {
        OPENSSL_cleanse(raw, rawlen);
        free(raw);
    }
    free(u);
    util_free_secret(pw);
    return rc;
}

/* RFC 6750 §2.1 b64token, less the trailing '='. */
static int
is_b64token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '+' || c == '/';
}

int
form_bearer(const char *header, const char **ret)
{
    const char *tok, *p;

    if (header == NULL)
        return GH_ENOTFOUND;
    if ((tok = skip_scheme(header, "Bearer")) == NULL)
        return GH_EINVAL;
    /* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
     * *"=", and nothing after it. */
    for (p = tok; is_b64token_char((unsigned char)*p); p++)
        ;
    if (p == tok)
        return GH_EINVAL;
    while (*p == '=')
        p++;
    if (*p != '\0')
        return GH_EINVAL;
    *ret = tok;
    return 0;
}

/* RFC 3986 §2.3 unreserved characters, the only ones left unescaped. */
static int
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

char *
form_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;
    size_t len;
    char *out, *o;

    if (s == NULL)
        return NULL;
    len = strlen(s);
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    if ((out = malloc(len * 3 + 1)) == NULL)
        return NULL;
    /* RFC 3986 §2.1: producers should use uppercase hex digits. */
    for (p = (const unsigned char *)s, o = out; *p != '\0'; p++) {
        if (is_unreserved(*p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/*
 * Registered redirect URIs carry no fragment (RFC 6749 §3.1.2), so the
 * parameter always goes at the end; one that already has a query gets '&'
 * (§3.1.2: the query component must be retained).
 */
int
form_url_append(char **url, const char *key, const char *value)
{
    char *k = NULL, *v = NULL, *n;
    const char *sep;
    size_t ulen, slen, klen, vlen;
    int rc;

    if (url == NULL || *url == NULL || key == NULL)
        return GH_EINVAL;
    if (value == NULL)
        value = "";
    if ((k = form_urlencode(key)) == NULL ||
        (v = form_urlencode(value)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    ulen = strlen(*url);
    if (strchr(*url, '?') == NULL)
        sep = "?";
    else if ((*url)[ulen - 1] == '?' || (*url)[ulen - 1] == '&')
        sep = "";
    else
        sep = "&";
    slen = strlen(sep);
    klen = strlen(k);
    vlen = strlen(v);
    if ((n = realloc(*url, ulen + slen + klen + 1 + vlen + 1)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    memcpy(n + ulen, sep, slen);
    memcpy(n + ulen + slen, k, klen);
    n[ulen + slen + klen] = '=';
    memcpy(n + ulen + slen + klen + 1, v, vlen + 1);
    *url = n;
    rc = 0;
out:
    free(k);
    free(v);
    return rc;
}

char *
form_html_escape(const char *s)
{
    const char *p;
    size_t len = 0;
    char *out, *o;

    if (s == NULL)
        return NULL;
    /* Measure first: one allocation of the exact size. */
    for (p = s; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            len += 5;
            break;
        case '<':
        case '>':
            len += 4;
            break;
        case '"':
            len += 6;
            break;
        case '\'':
            len += 5;
            break;
        default:
            len++;
        }
    }
    if ((out = malloc(len + 1)) == NULL)
        return NULL;
    for (p = s, o = out; *p != '\0'; p++) {
        const char *rep;

        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            *o++ = *p;
            continue;
        }
        memcpy(o, rep, strlen(rep));
        o += strlen(rep);
    }
    *o = '\0';
    return out;
}
