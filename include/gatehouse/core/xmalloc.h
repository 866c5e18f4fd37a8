/* SPDX-License-Identifier: MIT */
/* Allocation that cannot fail, as OpenSMTPD's xmalloc.c: out of memory is
 * logged and the process aborts, so no result needs checking. For places
 * where a failure cannot be turned into a clean GH_ENOMEM; a function that
 * already returns GH_ENOMEM keeps doing so. */
#ifndef GATEHOUSE_XMALLOC_H
#define GATEHOUSE_XMALLOC_H

#include <stddef.h>

/* Each returns memory the caller frees; none returns NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
