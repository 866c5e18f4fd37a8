/* SPDX-License-Identifier: MIT */
/* GET /metrics: the counters of core/metrics and the gauges read from Redis. */
#ifndef GATEHOUSE_METRICS_ENDPOINT_H
#define GATEHOUSE_METRICS_ENDPOINT_H

struct http_request;

void metrics_endpoint_handle(struct http_request *req);

#endif
