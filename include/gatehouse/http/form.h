/* SPDX-License-Identifier: MIT */
/* Pure parsers for what arrives from outside: query strings, form bodies,
 * cookies, the Authorization header. No I/O, no logging; fuzzed. */
#ifndef GATEHOUSE_FORM_H
#define GATEHOUSE_FORM_H

#include <stddef.h>

/* At most this many parameters in one query string or body. */
#define FORM_MAX_PARAMS 64

struct form_param {
    char *key;
    char *value;
};

struct form {
    struct form_param *v;
    size_t n;
};

/*
 * Parses application/x-www-form-urlencoded text (a query string or a body)
 * of len bytes: '&'-separated key=value, '+' is a space, %XX decoded.
 * Refuses (GH_EINVAL) a bad escape, a NUL byte or invalid UTF-8 in a
 * decoded key or value; GH_ETOOBIG past FORM_MAX_PARAMS. Empty input is an
 * empty form. On success *out owns its strings; free with form_free.
 * On failure *out is left empty.
 */
int form_parse(const char *s, size_t len, struct form *out);
void form_free(struct form *f);

/*
 * The value of key (borrowed), or NULL. RFC 6749 §3.1: a parameter sent
 * more than once is an error, so form_get returns NULL for a duplicated key
 * too; use form_has_duplicate to tell which happened.
 */
const char *form_get(const struct form *f, const char *key);
/* The first key that appears more than once (borrowed), or NULL. */
const char *form_has_duplicate(const struct form *f);

/*
 * Finds cookie name in a Cookie header value. *ret is a malloc'd copy of
 * its value; the caller frees it. GH_ENOTFOUND if absent; if the cookie
 * appears more than once (cookie tossing), GH_EINVAL.
 */
int form_cookie(const char *header, const char *name, char **ret);

/*
 * Parses "Basic base64(user:pass)"; user and pass are then
 * form-urlencoding-decoded as RFC 6749 §2.3.1 requires. *user and *pass are
 * malloc'd; the caller frees them (pass with util_free_secret). GH_EINVAL
 * for any other form. GH_ENOTFOUND when header is NULL.
 */
int form_basic_auth(const char *header, char **user, char **pass);

/*
 * Finds the token in "Bearer <token>" (scheme case-insensitive, RFC 6750
 * b64token characters only). *ret points into header (borrowed).
 * GH_ENOTFOUND when header is NULL, GH_EINVAL when malformed.
 */
int form_bearer(const char *header, const char **ret);

/* Percent-encodes s for a query component (unreserved kept). Returns a
 * malloc'd string; the caller frees it. */
char *form_urlencode(const char *s);

/*
 * Appends "key=value" (value percent-encoded) to the URL in *url, with '?'
 * or '&' as needed; *url is realloc'd. Returns 0 or GH_ENOMEM.
 */
int form_url_append(char **url, const char *key, const char *value);

/* Escapes &<>"' for HTML text and attributes. Returns a malloc'd string;
 * the caller frees it. */
char *form_html_escape(const char *s);

#endif
