/* SPDX-License-Identifier: MIT */
/* Reading members of JSON we wrote ourselves (grant records, verified
 * claims): a missing or mistyped member reads as absent. Inline, as the
 * token, introspection and bearer paths read several per request. */
#ifndef GATEHOUSE_JSONGET_H
#define GATEHOUSE_JSONGET_H

#include <jansson.h>

/* o's string member key (borrowed from o), or NULL if it is not one. */
static inline const char *
jsonget_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

#endif
