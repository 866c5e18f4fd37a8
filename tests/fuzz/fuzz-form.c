/* SPDX-License-Identifier: MIT */
/* libFuzzer target: every form.c parser on the same hostile bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/core/util.h"

/*
 * Besides not crashing, each parser must keep its promises on any input: a
 * parsed form has at most FORM_MAX_PARAMS non-empty keys, form_get hands
 * out no duplicated key, and re-encoding the form parses back to the same
 * pairs; a bearer token lies inside the header; escaping leaves no
 * markup. A broken promise aborts, which libFuzzer reports like a crash.
 */
static void
check_reencode(const struct form *f)
{
    struct form g;
    char *url = strdup("?");
    size_t i;

    if (url == NULL)
        return;
    for (i = 0; i < f->n; i++)
        if (form_url_append(&url, f->v[i].key, f->v[i].value) < 0)
            goto out;
    if (form_parse(url + 1, strlen(url + 1), &g) < 0 || g.n != f->n)
        abort();
    for (i = 0; i < f->n; i++)
        if (strcmp(f->v[i].key, g.v[i].key) != 0 ||
            strcmp(f->v[i].value, g.v[i].value) != 0)
            abort();
    form_free(&g);
out:
    free(url);
}

static void
check_form(const char *s, size_t len)
{
    struct form f;
    const char *dup;
    size_t i;

    if (form_parse(s, len, &f) < 0) {
        if (f.v != NULL || f.n != 0)
            abort();
        return;
    }
    if (f.n > FORM_MAX_PARAMS)
        abort();
    dup = form_has_duplicate(&f);
    if (dup != NULL && form_get(&f, dup) != NULL)
        abort();
    for (i = 0; i < f.n; i++) {
        if (f.v[i].key[0] == '\0')
            abort();
        if (dup == NULL && form_get(&f, f.v[i].key) != f.v[i].value)
            abort();
    }
    check_reencode(&f);
    form_free(&f);
}

static void
check_cookie(const char *s)
{
    char *v = NULL;

    if (form_cookie(s, "gh_sid", &v) == 0)
        free(v);
    else if (v != NULL)
        abort();
}

static void
check_basic(const char *s)
{
    char *u = NULL, *p = NULL;

    if (form_basic_auth(s, &u, &p) == 0) {
        if (u[0] == '\0')
            abort();
        free(u);
        util_free_secret(p);
    } else if (u != NULL || p != NULL) {
        abort();
    }
}

static void
check_bearer(const char *s, size_t len)
{
    const char *t = NULL;

    if (form_bearer(s, &t) == 0 && (t <= s || t >= s + len))
        abort();
}

static void
check_escape(const char *s)
{
    char *e = form_html_escape(s), *u = form_urlencode(s);

    if (e == NULL || u == NULL || strlen(e) < strlen(s) ||
        strlen(u) < strlen(s) || strpbrk(e, "<>\"'") != NULL)
        abort();
    free(e);
    free(u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* form_parse takes a length, so it also sees embedded NULs; the
     * header parsers take C strings, as libmicrohttpd hands them over. */
    check_form(s, size);
    check_cookie(s);
    check_basic(s);
    check_bearer(s, size);
    check_escape(s);
    free(s);
    return 0;
}
