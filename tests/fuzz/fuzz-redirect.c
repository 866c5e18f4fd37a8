/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the redirect and back-channel URI policy, and exact
 * redirect URI matching, checked against libcurl's URL parser. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "gatehouse/directory/clients.h"
#include "gatehouse/core/error.h"

/*
 * The input is lines: the first is a URI to judge, the others the URIs a
 * client registered. Promises checked:
 * - a URI uri_check_redirect accepts is absolute http(s) with "//", has no
 *   userinfo, backslash, fragment, whitespace or byte outside ASCII, and
 *   names the same host for libcurl (the parser back-channel delivery
 *   uses) as for us: two parsers never disagree on where it goes;
 * - uri_check_backchannel accepts a subset of that: https, or http to a
 *   host that libcurl too sees as loopback;
 * - client_has_redirect_uri is byte-exact membership, nothing looser.
 */

/* Our reading of the host: the authority minus a port, lower-cased. */
static void
our_host(const char *uri, char *out, size_t size)
{
    const char *a = strstr(uri, "//") + 2;
    size_t n = strcspn(a, "/?"), i;
    const char *colon;

    if (a[0] == '[') {
        n = (size_t)(strchr(a, ']') - a) + 1;
    } else if ((colon = memchr(a, ':', n)) != NULL) {
        n = (size_t)(colon - a);
    }
    if (n >= size)
        abort();
    for (i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)a[i]);
    out[n] = '\0';
}

/* "[::0]" and "[::]" are one address; libcurl prints the short form. */
static int
same_ipv6(const char *a, const char *b)
{
    struct in6_addr x, y;
    char buf[64];
    size_t n;

    if (a[0] != '[' || b[0] != '[')
        return 0;
    n = strlen(a);
    if (n - 2 >= sizeof(buf))
        return 0;
    memcpy(buf, a + 1, n - 2);
    buf[n - 2] = '\0';
    if (inet_pton(AF_INET6, buf, &x) != 1)
        return 0;
    n = strlen(b);
    if (n - 2 >= sizeof(buf) || b[n - 1] != ']')
        return 0;
    memcpy(buf, b + 1, n - 2);
    buf[n - 2] = '\0';
    return inet_pton(AF_INET6, buf, &y) == 1 && memcmp(&x, &y, sizeof(x)) == 0;
}

static int
curl_loopback(const char *h)
{
    struct in_addr a4;

    if (strcmp(h, "localhost") == 0 || same_ipv6(h, "[::1]"))
        return 1;
    return inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

static void
check_uri(const char *uri)
{
    const char *why = NULL;
    int redirect_ok = uri_check_redirect(uri, &why) == 0;
    int bc_ok;
    char ours[2048], *theirs = NULL;
    const unsigned char *p;
    CURLU *u;
    size_t i;

    if (!redirect_ok && why == NULL)
        abort();
    why = NULL;
    bc_ok = uri_check_backchannel(uri, &why) == 0;
    if (!bc_ok && why == NULL)
        abort();
    if (bc_ok && !redirect_ok)
        abort();
    if (!redirect_ok)
        return;

    if (strncasecmp(uri, "http://", 7) != 0 &&
        strncasecmp(uri, "https://", 8) != 0)
        abort();
    for (p = (const unsigned char *)uri; *p != '\0'; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '\\' || *p == '#')
            abort();
    our_host(uri, ours, sizeof(ours));
    if (strchr(ours, '@') != NULL || ours[0] == '\0')
        abort();
    for (i = 0; ours[i] != '\0'; i++)
        if (ours[i] == '%')
            abort();

    if ((u = curl_url()) == NULL)
        return;
    if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &theirs, 0) != CURLUE_OK) {
        /* libcurl refusing a URI we accept is only a problem for a
         * back-channel URI, which libcurl must be able to reach. */
        if (bc_ok) {
            fprintf(stderr, "accepted, libcurl cannot parse: %s\n", uri);
            abort();
        }
        goto out;
    }
    for (i = 0; theirs[i] != '\0'; i++)
        theirs[i] = (char)tolower((unsigned char)theirs[i]);
    if (strcmp(ours, theirs) != 0 && !same_ipv6(ours, theirs)) {
        struct in_addr a4;

        /* libcurl normalises numeric IPv4 spellings ("0x7f.1"); we treat
         * them as names, which are never loopback for us. Any other
         * disagreement is a bug. */
        if (!(inet_aton(ours, &a4) == 1 &&
              inet_pton(AF_INET, ours, &a4) != 1)) {
            fprintf(stderr, "host: ours \"%s\", libcurl \"%s\": %s\n", ours,
                    theirs, uri);
            abort();
        }
    }
    if (bc_ok && strncasecmp(uri, "https:", 6) != 0 && !curl_loopback(theirs)) {
        fprintf(stderr, "plain http to a non-loopback host: %s\n", uri);
        abort();
    }
out:
    curl_free(theirs);
    curl_url_cleanup(u);
}

static void
check_matching(const char *uri, char **lines, size_t n)
{
    struct client c;
    size_t i;
    int want = 0;

    memset(&c, 0, sizeof(c));
    c.redirect_uris.v = lines;
    c.redirect_uris.n = n;
    c.post_logout_redirect_uris.v = lines;
    c.post_logout_redirect_uris.n = n;
    for (i = 0; i < n; i++)
        if (strcmp(lines[i], uri) == 0)
            want = 1;
    if (client_has_redirect_uri(&c, uri) != want ||
        client_has_post_logout_uri(&c, uri) != want)
        abort();
    if (client_has_redirect_uri(NULL, uri) != 0 ||
        client_has_redirect_uri(&c, NULL) != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *lines[16], *p, *nl;
    size_t n = 0;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (p = s; n < 16; p = nl + 1) {
        lines[n++] = p;
        if ((nl = strchr(p, '\n')) == NULL)
            break;
        *nl = '\0';
    }
    check_uri(lines[0]);
    check_matching(lines[0], lines + 1, n - 1);
    free(s);
    return 0;
}
