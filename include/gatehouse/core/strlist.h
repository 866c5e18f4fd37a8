/* SPDX-License-Identifier: MIT */
/* A growable list of owned strings: a client's URIs and scopes, the
 * config's Sentinel addresses. */
#ifndef GATEHOUSE_STRLIST_H
#define GATEHOUSE_STRLIST_H

#include <stddef.h>

struct strlist {
    char **v;
    size_t n;
};

/* Appends a copy of the len bytes at s; 0 or GH_ENOMEM (l unchanged). */
int strlist_add(struct strlist *l, const char *s, size_t len);
/* 1 if l holds s, compared exactly, else 0 (also for NULL). */
int strlist_contains(const struct strlist *l, const char *s);
/* Frees the strings and empties l; NULL-safe. */
void strlist_free(struct strlist *l);

#endif
