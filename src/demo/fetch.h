/* SPDX-License-Identifier: MIT */
/* The demo app's one HTTP client call, through libcurl. */
#ifndef DEMO_FETCH_H
#define DEMO_FETCH_H

#include <stddef.h>

/*
 * GET url, or POST the urlencoded form to it with HTTP Basic user:pass
 * (each form-encoded first, RFC 6749 §2.3.1) when form is not NULL. A body
 * past max bytes or an answer slower than timeout_ms is nothing. Returns
 * the status and *body (malloc'd, NUL-terminated; NULL if empty), or -1
 * and NULL if nothing came.
 */
long fetch(const char *url, const char *form, const char *user,
           const char *pass, size_t max, long timeout_ms, char **body);

#endif
