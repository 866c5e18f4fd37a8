/* SPDX-License-Identifier: MIT */
/* A growable list of owned strings. */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/strlist.h"

int
strlist_add(struct strlist *l, const char *s, size_t len)
{
    char **v;
    char *copy;

    if ((copy = strndup(s, len)) == NULL)
        return GH_ENOMEM;
    if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
        free(copy);
        return GH_ENOMEM;
    }
    l->v = v;
    l->v[l->n++] = copy;
    return 0;
}

int
strlist_contains(const struct strlist *l, const char *s)
{
    size_t i;

    if (l == NULL || s == NULL)
        return 0;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

void
strlist_free(struct strlist *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
