/* SPDX-License-Identifier: MIT */
/* Percent-decoding (RFC 3986 §2.1), one decoder for every layer that reads
 * a URL or a form: the config's Redis URL and the HTTP form parser. */
#ifndef GATEHOUSE_PERCENT_H
#define GATEHOUSE_PERCENT_H

#include <stddef.h>

/* '+' is a space, as in application/x-www-form-urlencoded (WHATWG URL
 * §5.1). */
#define PERCENT_PLUS 0x1
/* A '%' without two hex digits is an error; without this flag it is kept
 * as it is. */
#define PERCENT_STRICT 0x2

/*
 * Decodes len bytes of s (flags: PERCENT_*). *ret is malloc'd and
 * NUL-terminated, the caller frees it; *retlen (when not NULL) is its
 * length, which counts any %00 decoded and is never more than len.
 * GH_EINVAL for a bad escape under PERCENT_STRICT, or GH_ENOMEM; the text
 * may be a password, so what was decoded before a failure is wiped.
 */
int percent_decode(const char *s, size_t len, int flags, char **ret,
                   size_t *retlen);

#endif
