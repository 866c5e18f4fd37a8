/* SPDX-License-Identifier: MIT */
/* Allocation that logs and aborts on failure (xmalloc.h). A separate file
 * from util.c because it logs, and the log uses util. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/log.h"
#include "gatehouse/core/xmalloc.h"

static void oom(const char *what, size_t size) __attribute__((noreturn));

/* abort, not exit: the core dump shows who asked for what. */
static void
oom(const char *what, size_t size)
{
    log_error("out_of_memory in=%s bytes=%zu", what, size);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p;

    if (size == 0)
        size = 1;
    if ((p = malloc(size)) == NULL)
        oom("xmalloc", size);
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p;

    if (n == 0 || size == 0)
        n = size = 1;
    if ((p = calloc(n, size)) == NULL)
        oom("xcalloc", n * size);
    return p;
}

void *
xrealloc(void *p, size_t n, size_t size)
{
    void *np;

    if (size != 0 && n > SIZE_MAX / size)
        oom("xrealloc", SIZE_MAX);
    if (n == 0 || size == 0)
        n = size = 1;
    if ((np = realloc(p, n * size)) == NULL)
        oom("xrealloc", n * size);
    return np;
}

char *
xstrdup(const char *s)
{
    char *p;

    if ((p = strdup(s)) == NULL)
        oom("xstrdup", strlen(s) + 1);
    return p;
}

char *
xstrndup(const char *s, size_t n)
{
    char *p;

    if ((p = strndup(s, n)) == NULL)
        oom("xstrndup", n + 1);
    return p;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom("xasprintf", 0);
    return p;
}
