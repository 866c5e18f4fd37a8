/* SPDX-License-Identifier: MIT */
/* Prometheus metrics: lock-free counters and histograms, rendered as text. */
#ifndef GATEHOUSE_METRICS_H
#define GATEHOUSE_METRICS_H

#include <stddef.h>

#include "core/states.h"

struct http_request;

/* Names the routes once at start; route indexes are positions in names. */
void metrics_init(const char *const *route_names, size_t nroutes);
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

/* Renders the text exposition format; returns a malloc'd string. */
char *metrics_render(void);

/* GET /metrics */
void metrics_handle(struct http_request *req);

#endif
