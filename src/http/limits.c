/* SPDX-License-Identifier: MIT */
/* The limits a request must keep before it is served: SPEC §4's request
 * line and header budget, SPEC §7's unambiguous framing. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "gatehouse/core/log.h"
#include "gatehouse/http/http.h"
#include "gatehouse/http/limits.h"

/*
 * SPEC §4: a request line up to HTTP_URI_MAX and request headers up to
 * HEADER_BUDGET in total (at most HEADER_COUNT_MAX of them) are served;
 * past that the handler itself answers
 * one 414 or 431, so the boundary is exact and owes nothing to
 * libmicrohttpd's pool arithmetic.
 *
 * libmicrohttpd keeps a request in one pool per connection: the header
 * block as received, a 64-byte record per header and query parameter, then
 * the response's header block. HTTP_CONN_MEMORY holds a full budget with the
 * worst response we build (a redirect echoing an 8 KiB URI): 16 KiB +
 * (64 + 1) records * 64 B + ~10 KiB = ~30 KiB (http.c's on_uri keeps query
 * parameters out of it). Larger requests still
 * reach the handler up to about the pool's size; past it libmicrohttpd
 * answers its own 431 (http.c's on_mhd_log counts it), except within a few
 * hundred bytes of the edge, where it has no room left to answer at all.
 * Its cost: 0.9.75 zeroes the whole pool after every request
 * (MHD_pool_reset), so a keep-alive connection that has made one request
 * keeps all of it resident; above 32 KiB the pool is mmap'd, so one that
 * never sent a byte costs none.
 */
#define HTTP_URI_MAX (8 * 1024)
#define HEADER_BUDGET (16 * 1024)
/* No limit of one line's own: SPEC promises one header up to 8 KiB, but a
 * browser sends all of a host's cookies in one Cookie line (three apps with
 * 3 KB each on a shared host make 9 KB), so one may take the whole budget. */
#define HEADER_COUNT_MAX 64
/* libmicrohttpd's own bytes per header record. */
#define MHD_RECORD_SIZE 64

/*
 * libmicrohttpd 0.9.75 copies the Cookie header into the pool to split it
 * into cookies we never read (form_cookie reads the header itself); when
 * the copy does not fit it queues a 431 of its own and then builds the
 * header block a second time, or sends nothing when that fails. A Cookie
 * header with this empty value, added before the request's own headers, is
 * the one it finds and copies instead; http.c adds it and skips it by
 * address, as the tally below does.
 */
const char limits_cookie_decoy[] = "";

struct header_tally {
    size_t count;
    size_t largest;
};

static enum MHD_Result
tally_header(void *cls, enum MHD_ValueKind kind, const char *key,
             size_t key_size, const char *value, size_t value_size)
{
    struct header_tally *t = cls;
    size_t line = key_size + value_size + 4; /* "name: value\r\n" */

    (void)kind;
    (void)key;
    if (value == limits_cookie_decoy)
        return MHD_YES;
    t->count++;
    if (line > t->largest)
        t->largest = line;
    return MHD_YES;
}

int
limits_headers(struct MHD_Connection *mhd, size_t url_len, const char *path,
               int *lean)
{
    const union MHD_ConnectionInfo *ci;
    struct header_tally t = {0, 0};
    size_t total = 0, records, used;
    const char *why = NULL;
    int status = 431;

    ci = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci != NULL)
        total = ci->header_size;
    MHD_get_connection_values_n(mhd, MHD_HEADER_KIND, tally_header, &t);
    records = t.count + 1; /* and cookie_decoy's; on_uri left no query */
    /* What the pool still has for the response's header block, from
     * libmicrohttpd's layout (see HTTP_CONN_MEMORY). */
    used = total + records * MHD_RECORD_SIZE;
    *lean = used + 1024 > HTTP_CONN_MEMORY;
    if (url_len > HTTP_URI_MAX) {
        why = "uri";
        status = 414;
    } else if (total > HEADER_BUDGET) {
        why = "total";
    } else if (t.count > HEADER_COUNT_MAX) {
        why = "count";
    } else {
        *lean = 0;
        return 0;
    }
    log_info("http_headers_refused status=%d reason=%s bytes=%zu "
             "largest=%zu headers=%zu path=%s",
             status, why, total, t.largest, t.count, path);
    return status;
}

struct framing {
    size_t lengths;  /* Content-Length headers */
    size_t codings;  /* Transfer-Encoding headers */
    int chunked;     /* the one Transfer-Encoding is exactly chunked */
    int spaced;      /* white space in a header name */
};

static enum MHD_Result
tally_framing(void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
    struct framing *f = cls;

    (void)kind;
    /* libmicrohttpd 0.9.75 keeps "Transfer-Encoding :" as a header of
     * another name; a proxy in front may not (RFC 9112 §5.1: reject). */
    if (strpbrk(key, " \t") != NULL)
        f->spaced = 1;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->lengths++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->codings++;
        f->chunked = value != NULL && strcasecmp(value, "chunked") == 0;
    }
    return MHD_YES;
}

int
limits_framing(struct MHD_Connection *mhd, const char *path)
{
    struct framing f = {0, 0, 0, 0};
    const char *why;

    MHD_get_connection_values(mhd, MHD_HEADER_KIND, tally_framing, &f);
    if (f.spaced)
        why = "space_before_colon";
    else if (f.lengths > 0 && f.codings > 0)
        why = "length_and_coding";
    else if (f.lengths > 1)
        why = "two_lengths";
    else if (f.codings > 1 || (f.codings == 1 && !f.chunked))
        why = "coding";
    else
        return 0;
    log_info("http_framing_refused reason=%s path=%s", why, path);
    return 400;
}
