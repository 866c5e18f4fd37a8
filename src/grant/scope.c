/* SPDX-License-Identifier: MIT */
/* Scope rules: one walk over the requested names, strict at the token
 * endpoint, forgiving at /authorize. */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/grant/scope.h"

/* The next name at *p: its start, its length in *len; NULL at the end. */
static const char *
next_name(const char **p, size_t *len)
{
    const char *s = *p;

    while (*s == ' ')
        s++;
    if (*s == '\0')
        return NULL;
    *len = strcspn(s, " ");
    *p = s + *len;
    return s;
}

int
scope_has(const char *scope, const char *name)
{
    size_t n = strlen(name), len;
    const char *p = scope, *s;

    if (scope == NULL || n == 0)
        return 0;
    while ((s = next_name(&p, &len)) != NULL)
        if (len == n && memcmp(s, name, n) == 0)
            return 1;
    return 0;
}

static char *
scope_join(const struct strlist *l)
{
    size_t i, len = 1;
    char *out;

    for (i = 0; i < l->n; i++)
        len += strlen(l->v[i]) + 1;
    if ((out = malloc(len)) == NULL)
        return NULL;
    out[0] = '\0';
    for (i = 0; i < l->n; i++) {
        if (i > 0)
            strcat(out, " ");
        strcat(out, l->v[i]);
    }
    return out;
}

/*
 * The names of requested that c may have (and within holds, if not NULL),
 * once each, in the order asked. A name not allowed fails the whole scope
 * when strict, else it is left out. No check of the characters is needed:
 * clients.c allows a client only well-formed names (RFC 6749 §3.3
 * scope-token), so a malformed one is never allowed. openid is always
 * allowed when not strict: /authorize treats it as the request's kind,
 * not as a scope the client registers.
 */
static int
pick(const char *requested, const struct client *c, const char *within,
     int strict, char **ret)
{
    char name[SCOPE_NAME_MAX + 1], *out;
    const char *p = requested, *s;
    size_t len, n = 0;
    int rc = GH_EINVAL;

    if ((out = malloc(strlen(requested) + 1)) == NULL)
        return GH_ENOMEM;
    out[0] = '\0';
    while ((s = next_name(&p, &len)) != NULL) {
        if (len <= SCOPE_NAME_MAX) {
            memcpy(name, s, len);
            name[len] = '\0';
        }
        if (len > SCOPE_NAME_MAX ||
            (!client_allows_scope(c, name) &&
             (strict || strcmp(name, "openid") != 0)) ||
            (within != NULL && !scope_has(within, name))) {
            if (strict)
                goto out;
            continue;
        }
        if (scope_has(out, name))
            continue;
        if (n > 0)
            out[n++] = ' ';
        memcpy(out + n, name, len + 1);
        n += len;
    }
    if (n == 0)
        goto out;
    *ret = out;
    out = NULL;
    rc = 0;
out:
    free(out);
    return rc;
}

int
scope_grant(const char *requested, const struct client *c, const char *within,
            char **ret)
{
    char *out;

    if (requested != NULL)
        return pick(requested, c, within, 1, ret);
    out = within != NULL ? strdup(within) : scope_join(&c->scopes);
    if (out == NULL)
        return GH_ENOMEM;
    *ret = out;
    return 0;
}

int
scope_authorize(const char *requested, const struct client *c, char **ret)
{
    char *out = NULL;
    int rc;

    if ((rc = pick(requested, c, NULL, 0, &out)) < 0)
        return rc;
    if (!scope_has(out, "openid")) {
        free(out);
        return GH_EINVAL;
    }
    *ret = out;
    return 0;
}
