/* SPDX-License-Identifier: MIT */
/* GET /metrics: the counters of core/metrics and the gauges read from Redis. */
#ifndef GATEHOUSE_METRICS_ENDPOINT_H
#define GATEHOUSE_METRICS_ENDPOINT_H

struct http_request;
struct metrics_last;

/* The gauges the last scrape read from Redis, kept for scrapes while it is
 * down; one per server, in struct app. */
int metrics_endpoint_new(struct metrics_last **out);
void metrics_endpoint_free(struct metrics_last *m);

void metrics_endpoint_handle(struct http_request *req);

#endif
