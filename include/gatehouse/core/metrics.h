/* SPDX-License-Identifier: MIT */
/* Prometheus metrics: lock-free counters and histograms, rendered as text
 * (GET /metrics is api/metrics_endpoint.c). */
#ifndef GATEHOUSE_METRICS_H
#define GATEHOUSE_METRICS_H

#include <stddef.h>

#include "gatehouse/core/states.h"

/* Names route (an index below 64) once at start, before any request; the
 * name is borrowed for good. */
void metrics_name_route(size_t route, const char *name);
/* One finished request on route (SIZE_MAX: no route matched). */
void metrics_http(size_t route, int status, double seconds);
/* One finished delivery attempt and how long it took. */
void metrics_delivery(enum delivery_result outcome, double seconds);
/* One session ended, by the reason recorded. */
void metrics_session_end(enum end_reason reason);
/* One Admin API call, by outcome (ok, unauthorized, forbidden, invalid,
 * not_found, conflict, error). */
void metrics_admin_call(const char *outcome);
/* A logout-all's progress in this process: running (1/0), sessions live
 * when it began, ended and notifications queued so far. */
void metrics_logout_all(int running, long long total, long long ended,
                        long long queued);

/* One password check (scrypt) for a sign-in, on the pool for returning
 * browsers (1) or the open one (0). */
void metrics_login_hash(int returning);

/* One second-factor code checked, by type, accepted (ok) or not. */
void metrics_factor(enum factor_type type, int ok);

/* Renders the counters in the text exposition format; returns a malloc'd
 * string, or NULL. */
char *metrics_render(void);

/* Exposition text being written: p is malloc'd, len bytes and a NUL, in
 * cap. A text from metrics_render continues as {p, strlen(p), that + 1}.
 * An append that finds no memory is dropped. */
struct metrics_text {
    char *p;
    size_t len, cap;
};
void metrics_put(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends value with the escapes a label value takes (\\, \", \n). */
void metrics_put_label(struct metrics_text *t, const char *value);

#endif
