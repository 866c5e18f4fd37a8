/* SPDX-License-Identifier: MIT */
/* Frees the records of records.h. They keep the names their callers have
 * always used (user_free, session_free, ...): each frees one record, and
 * lives here, beside the records, so that the store which makes them and
 * every layer that holds them share one definition; store_records_free
 * is the one loop behind the store's frees of arrays of records. */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/util.h"
#include "gatehouse/store/records.h"
#include "store/store_internal.h"

void
store_records_free(void *v, size_t n, size_t size, void (*clear)(void *))
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        clear((char *)v + i * size);
    free(v);
}

void
user_free(struct user *u)
{
    if (u == NULL)
        return;
    free(u->username);
    free(u->email);
    free(u->name);
    free(u->given_name);
    free(u->family_name);
    free(u->locale);
    free(u->zoneinfo);
    /* Not the password, but enough to attack it offline. */
    util_free_secret(u->hash);
    free(u);
}

void
session_free(struct session *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->napps; i++)
        free(s->apps[i]);
    free(s->apps);
    free(s->ua);
    free(s);
}

void
session_ended_clear(struct session_ended *e)
{
    size_t i;

    for (i = 0; i < e->napps; i++)
        free(e->apps[i]);
    free(e->apps);
    free(e->notified);
    memset(e, 0, sizeof(*e));
}

void
store_refresh_free(struct refresh_token *t)
{
    size_t i;

    if (t == NULL)
        return;
    free(t->family);
    free(t->sid);
    free(t->client_id);
    free(t->sub);
    free(t->scope);
    free(t->head);
    for (i = 0; i < t->nsealed; i++)
        free(t->sealed[i]);
    free(t->sealed);
    free(t);
}

void
session_evicted_clear(struct session_evicted *e)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        session_ended_clear(&e->ended[i]);
    free(e->ended);
    free(e->sids);
    memset(e, 0, sizeof(*e));
}
