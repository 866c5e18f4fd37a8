/* SPDX-License-Identifier: MIT */
/* The limits a request must keep before it is served (the glue's, http.c). */
#ifndef GATEHOUSE_LIMITS_H
#define GATEHOUSE_LIMITS_H

#include <stddef.h>

#include <microhttpd.h>

/* The value of the Cookie header the glue adds before a request's own,
 * recognised by its address (limits.c says why). */
extern const char limits_cookie_decoy[];

/*
 * SPEC §4's header budget, checked on the first call: returns 0 to serve
 * the request, or the status (414, 431) it is refused with, and then sets
 * *lean if so little of the pool is left that the answer must be bare
 * (else 0). path names the route in the log line.
 */
int limits_headers(struct MHD_Connection *mhd, size_t url_len,
                   const char *path, int *lean);

/*
 * SPEC §7 (RFC 9112 §6.3): a body's end must be unambiguous, or a proxy in
 * front and Gatehouse may split the bytes into different requests. Both
 * Content-Length and Transfer-Encoding, two Content-Lengths, a coding other
 * than exactly chunked (which libmicrohttpd would read as a body without
 * end), or a header name with white space before its colon are refused.
 * Returns 0 to serve the request, or 400.
 */
int limits_framing(struct MHD_Connection *mhd, const char *path);

#endif
