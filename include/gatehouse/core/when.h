/* SPDX-License-Identifier: MIT */
/* Times an operator types (gatehouse maintenance start --at, POST
 * /admin/maintenance "at"), and the one way such a time is written back. */
#ifndef GATEHOUSE_WHEN_H
#define GATEHOUSE_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* The furthest a relative time reaches: ten years, in seconds. */
#define WHEN_RELATIVE_MAX_S (10LL * 366 * 86400)

/*
 * Reads s as epoch seconds into *at: "now"; "+N" with a unit s, m or h,
 * from now; epoch seconds (digits); or RFC 3339 date-time
 * ("2026-12-07T15:00:00Z", fractions ignored, or an offset "+01:00"), year
 * 1970 to 9999. GH_EINVAL for anything else, *at untouched.
 */
int when_parse(const char *s, int64_t now, int64_t *at);
/* t as RFC 3339 UTC text ("2026-12-07T15:00:00Z") into buf; "" if it
 * cannot be written. */
void when_format(int64_t t, char *buf, size_t size);

#endif
