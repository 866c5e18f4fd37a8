/* SPDX-License-Identifier: MIT */
/* The maintenance banner: what Gatehouse's public GET /maintenance says
 * (SPEC §4), asked from the server side when a page is rendered and kept
 * for a few seconds, shown as a "save your work" banner on every page while
 * a shutdown is announced or under way. Gatehouse not answering, or
 * answering something else, shows nothing: the app works on. */
#ifndef DEMO_MAINTENANCE_H
#define DEMO_MAINTENANCE_H

#include <stddef.h>

#define MAINTENANCE_CACHE_S 5 /* as Gatehouse's Cache-Control: max-age=5 */

enum maintenance_state {
    MAINTENANCE_NONE,
    MAINTENANCE_ANNOUNCED, /* a shutdown at .at: save your work */
    MAINTENANCE_ACTIVE,    /* under way since .at */
};

struct maintenance {
    enum maintenance_state state;
    char message[512]; /* as the administrator wrote it (cut to fit) */
    char at[64];       /* "2026-12-07 14:00 UTC", or "" when not given */
};

/*
 * Reads a GET /maintenance body, {"state":"none|announced|active",
 * "message":..., "at":...}; "at" an RFC 3339 UTC time or seconds since
 * the epoch. Returns 0 and *out, or -1 (out untouched) when it is not
 * such a document.
 */
int maintenance_parse(const char *json, size_t len, struct maintenance *out);

/* The banner for m (HTML, escaped here; malloc'd, the caller frees), or
 * NULL when there is none to show (or out of memory). */
char *maintenance_banner_html(const struct maintenance *m);

/* Where to ask: issuer + "/maintenance". Call once, before any page. */
void maintenance_init(const char *issuer);
/* The banner to show now (maintenance_banner_html of the answer at most
 * MAINTENANCE_CACHE_S old), or NULL. Thread-safe; waits at most a second
 * and a half for Gatehouse when the cached answer is stale. */
char *maintenance_banner(void);
void maintenance_cleanup(void);

#endif
