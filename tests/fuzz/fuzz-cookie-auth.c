/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the Cookie and Authorization header parsers, checked
 * against what their callers rely on, not only for crashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/session/session.h"
#include "gatehouse/core/util.h"

/*
 * Promises checked on every input (a broken one aborts, which libFuzzer
 * reports like a crash):
 * - form_cookie: a value found holds only cookie-octets and is found again
 *   in "name=value"; appending a second cookie of that name always turns
 *   the answer into GH_EINVAL (cookie tossing is never missed).
 * - form_basic_auth: credentials it accepts, encoded again the way a
 *   client library does (RFC 6749 §2.3.1, RFC 7617), parse back equal.
 * - form_bearer: the token lies inside the header, and "Bearer <token>"
 *   gives the same token.
 */
static char *
join(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);

    if (s == NULL)
        abort();
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

static void
check_cookie(const char *hdr, const char *name)
{
    char *v = NULL, *again = NULL, *h;
    int rc;

    rc = form_cookie(hdr, name, &v);
    if (rc != 0) {
        if (v != NULL || (rc != GH_ENOTFOUND && rc != GH_EINVAL))
            abort();
        return;
    }
    if (strpbrk(v, " \t\r\n;,\"\\") != NULL)
        abort();
    h = join(name, "=", v);
    if (form_cookie(h, name, &again) != 0 || strcmp(again, v) != 0)
        abort();
    free(h);
    free(again);
    again = NULL;
    /* The planted second cookie, before and after the real one. */
    if (asprintf(&h, "%s; %s=x", hdr, name) < 0)
        abort();
    if (form_cookie(h, name, &again) != GH_EINVAL || again != NULL)
        abort();
    free(h);
    h = join(name, "=x; ", hdr);
    if (form_cookie(h, name, &again) != GH_EINVAL || again != NULL)
        abort();
    free(h);
    free(v);
}

static void
check_basic(const char *hdr)
{
    char *u = NULL, *p = NULL, *eu, *ep, *cred, *b64, *again;
    char *u2 = NULL, *p2 = NULL;
    size_t n;

    if (form_basic_auth(hdr, &u, &p) != 0) {
        if (u != NULL || p != NULL)
            abort();
        return;
    }
    if (u[0] == '\0')
        abort();
    eu = form_urlencode(u);
    ep = form_urlencode(p);
    if (eu == NULL || ep == NULL)
        abort();
    cred = join(eu, ":", ep);
    n = strlen(cred);
    if ((b64 = malloc(4 * ((n + 2) / 3) + 1)) == NULL)
        abort();
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)cred, (int)n);
    again = join("Basic ", b64, "");
    if (form_basic_auth(again, &u2, &p2) != 0 || strcmp(u, u2) != 0 ||
        strcmp(p, p2) != 0)
        abort();
    free(u);
    free(u2);
    util_free_secret(p);
    util_free_secret(p2);
    free(eu);
    free(ep);
    free(cred);
    free(b64);
    free(again);
}

static void
check_bearer(const char *hdr, size_t len)
{
    const char *t = NULL, *t2 = NULL;
    char *again;

    if (form_bearer(hdr, &t) != 0)
        return;
    if (t <= hdr || t >= hdr + len || *t == '\0')
        abort();
    again = join("Bearer ", t, "");
    if (form_bearer(again, &t2) != 0 || strcmp(t2, t) != 0)
        abort();
    free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* Header values arrive as C strings from libmicrohttpd. */
    check_cookie(s, SESSION_COOKIE);
    check_cookie(s, "a");
    check_basic(s);
    check_bearer(s, strlen(s));
    free(s);
    return 0;
}
