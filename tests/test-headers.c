/* SPDX-License-Identifier: MIT */
/* SPEC §4's header budget against a real gatehouse, byte for byte over raw
 * sockets: the cookies of neighbouring apps on a shared host name up to 16
 * KiB of headers (8 KiB in one) are served on every endpoint, and anything
 * larger gets exactly one well-formed 431 (a page on browser paths, JSON
 * elsewhere), logged in Gatehouse's format and counted in /metrics. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3001/callback"
#define KIB 1024

static struct harness *h;
static char basic_svc[128];
static char *authorize_path; /* a valid /authorize request, path?query */

static void
start(void)
{
    static const char cfg[] =
        "{\"clients\":[{\"client_id\":\"crm\",\"client_secret\":"
        "\"crm-secret\",\"name\":\"CRM\",\"redirect_uris\":[\"" CRM_CB "\"],"
        "\"grant_types\":[\"authorization_code\",\"refresh_token\"]},"
        "{\"client_id\":\"svc\",\"client_secret\":\"svc-secret\","
        "\"grant_types\":[\"client_credentials\"]}]}";
    char *url;

    oidc_basic_header("svc:svc-secret", basic_svc, sizeof(basic_svc));
    h = world_start(&(struct harness_opts){}, cfg, NULL);
    url = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    authorize_path = strdup(url + strlen(h->gh.issuer));
    free(url);
}

static void
stop(void)
{
    world_stop(&h);
    free(authorize_path);
    authorize_path = NULL;
}

/* ---- Raw HTTP ---------------------------------------------------------- */

/* One answer as the bytes on the wire. */
struct answer {
    char *raw; /* every byte the server sent, NUL-terminated */
    size_t len;
    long status;
    int status_lines;    /* "HTTP/1.1 " anywhere in raw */
    int exact;           /* raw is one header block and Content-Length bytes */
    int closed;          /* the server closed the connection after it */
    char ctype[128];     /* Content-Type */
    const char *body;    /* into raw */
};

static void
answer_free(struct answer *a)
{
    free(a->raw);
    memset(a, 0, sizeof(*a));
}

static int
count(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* The value of header name in the block that ends at end, into out. */
static void
header_of(const char *raw, const char *end, const char *name, char *out,
          size_t size)
{
    size_t n = strlen(name);

    out[0] = '\0';
    for (const char *l = strstr(raw, "\r\n"); l != NULL && l < end;
         l = strstr(l + 2, "\r\n")) {
        const char *v = l + 2, *e;
        if (strncasecmp(v, name, n) != 0 || v[n] != ':')
            continue;
        v += n + 1;
        while (*v == ' ')
            v++;
        e = strstr(v, "\r\n");
        snprintf(out, size, "%.*s", (int)(e - v), v);
        return;
    }
}

/*
 * Sends req on fd and reads the answer: until the server closes, or 300 ms
 * after a whole answer (header block and Content-Length bytes) with nothing
 * more, so a second header block would still be seen. 10 s at most.
 */
static void
exchange_on(int fd, const char *req, size_t len, struct answer *a)
{
    size_t cap = 256 * KIB, got = 0;
    double deadline = test_now() + 10, quiet_since = 0;
    char cl[32], *end;

    memset(a, 0, sizeof(*a));
    a->raw = malloc(cap + 1);
    ASSERT(a->raw != NULL);
    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        FAIL("short write: %s", strerror(errno));
    while (got < cap && test_now() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;

        if (poll(&p, 1, 50) <= 0) {
            if (quiet_since > 0 && test_now() - quiet_since > 0.3)
                break;
            continue;
        }
        if ((n = read(fd, a->raw + got, cap - got)) <= 0) {
            a->closed = 1;
            break;
        }
        got += (size_t)n;
        a->raw[got] = '\0';
        end = strstr(a->raw, "\r\n\r\n");
        if (end != NULL) {
            header_of(a->raw, end, "Content-Length", cl, sizeof(cl));
            if (cl[0] != '\0' &&
                got >= (size_t)(end + 4 - a->raw) + strtoul(cl, NULL, 10))
                quiet_since = test_now();
        }
    }
    a->raw[got] = '\0';
    a->len = got;
    a->status_lines = count(a->raw, "HTTP/1.1 ");
    if (got > 12 && strncmp(a->raw, "HTTP/1.1 ", 9) == 0)
        a->status = strtol(a->raw + 9, NULL, 10);
    if ((end = strstr(a->raw, "\r\n\r\n")) == NULL)
        return;
    a->body = end + 4;
    header_of(a->raw, end, "Content-Type", a->ctype, sizeof(a->ctype));
    header_of(a->raw, end, "Content-Length", cl, sizeof(cl));
    a->exact = cl[0] != '\0' &&
               (size_t)(a->body - a->raw) + strtoul(cl, NULL, 10) == got;
}

static void
exchange(const char *req, struct answer *a)
{
    int fd = tcp_connect(h->gh.port);

    ASSERT(fd >= 0);
    exchange_on(fd, req, strlen(req), a);
    close(fd);
}

/* A Cookie header value of exactly len bytes: the cookies a few apps on
 * the same host leave (sessions of ~1 KB, state cookies, preferences). */
static char *
neighbour_cookies(size_t len)
{
    char *v = malloc(len + 1);
    size_t n = 0;
    int i = 0;

    ASSERT(v != NULL);
    while (n < len) {
        int w = snprintf(v + n, len + 1 - n, "%sapp%02d_session=",
                         n ? "; " : "", i++);
        n += (size_t)w < len - n ? (size_t)w : len - n;
        for (int k = 0; k < 1000 && n < len; k++)
            v[n++] = "abcdefghijklmnopqrstuvwxyz0123456789"[k % 36];
    }
    v[len] = '\0';
    return v;
}

/* One endpoint the way a client calls it, with extra header lines
 * ("Name: value\r\n"...). Returns the request (malloc'd). */
struct endpoint {
    const char *name;
    int browser; /* errors are pages */
    int post;
};

static const struct endpoint endpoints[] = {
    {"/authorize", 1, 0},
    {"/login", 1, 0},
    {"/token", 0, 1},
    {"/.well-known/openid-configuration", 0, 0},
};

static char *
request_for(const struct endpoint *e, const char *extra)
{
    char *r = NULL;
    const char *path = strcmp(e->name, "/authorize") == 0 ? authorize_path
                                                          : e->name;
    static const char body[] = "grant_type=client_credentials";

    if (e->post) {
        if (asprintf(&r,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s",
                     path, basic_svc, sizeof(body) - 1, extra, body) < 0)
            FAIL("asprintf");
    } else if (asprintf(&r, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
                        path, extra) < 0) {
        FAIL("asprintf");
    }
    return r;
}

static char *
cookie_line(size_t len)
{
    char *v = neighbour_cookies(len), *l = NULL;

    if (asprintf(&l, "Cookie: %s\r\n", v) < 0)
        FAIL("asprintf");
    free(v);
    return l;
}

/* A refusal as SPEC §4 has it: one status line, one header block, the
 * body its Content-Length says, a page or JSON, then the connection
 * closed. */
static void
assert_one_refusal(const struct answer *a, long status, int browser)
{
    if (a->status != status || a->status_lines != 1 || !a->exact ||
        !a->closed)
        FAIL("not one clean %ld (status %ld, %d status lines, exact %d, "
             "closed %d): %.300s",
             status, a->status, a->status_lines, a->exact, a->closed, a->raw);
    if (browser) {
        ASSERT(strncmp(a->ctype, "text/html", 9) == 0);
        ASSERT_CONTAINS(a->body, "<html");
        ASSERT_CONTAINS(a->raw, "Content-Security-Policy: ");
    } else {
        json_t *j = json_loads(a->body, 0, NULL);
        ASSERT(strncmp(a->ctype, "application/json", 16) == 0);
        ASSERT(j != NULL);
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "error")),
                      "invalid_request");
        json_decref(j);
    }
}

/* What /metrics counts for endpoint and status (0 if absent). */
static long
metric(const char *endpoint, int status)
{
    struct answer a;
    char key[160];
    const char *p;
    long v = 0;

    exchange("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &a);
    ASSERT_EQ(a.status, 200);
    snprintf(key, sizeof(key),
             "gatehouse_http_requests_total{endpoint=\"%s\",status=\"%d\"} ",
             endpoint, status);
    if ((p = strstr(a.raw, key)) != NULL)
        v = strtol(p + strlen(key), NULL, 10);
    answer_free(&a);
    return v;
}

/* The server's log (malloc'd). */
static char *
server_log(void)
{
    char path[320], *text;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/gatehouse.log", h->gh.dir);
    f = fopen(path, "r");
    ASSERT(f != NULL);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    ASSERT(text != NULL && fread(text, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return text;
}

/* Every line of the log is one of ours: no library writes its own. */
static void
assert_log_all_ours(const char *log)
{
    const char *l = log;

    while (*l != '\0') {
        const char *e = strchr(l, '\n');
        if (strncmp(l, "ts=", 3) != 0)
            FAIL("a log line not in Gatehouse's format: %.*s",
                 (int)(e ? e - l : (long)strlen(l)), l);
        if (e == NULL)
            break;
        l = e + 1;
    }
    ASSERT(strstr(log, "Not enough memory in pool to parse cookies") == NULL);
    /* libmicrohttpd prints what comes before its logger option itself. */
    ASSERT(strstr(log, "not the first option") == NULL);
}

/* ---- Tests ------------------------------------------------------------- */

TEST(neighbour_cookies_up_to_the_budget_are_served_past_it_one_431)
{
    /* 12 KiB of Cookie is more than SPEC's one header of 8 KiB, but a
     * browser sends every cookie of a shared host in that one line. */
    static const double served_kib[] = {2.5, 3, 6, 12};
    static const double refused_kib[] = {16, 20};
    long before[4], after;
    size_t e, i;
    char *log;

    start();
    for (e = 0; e < sizeof(endpoints) / sizeof(endpoints[0]); e++) {
        const struct endpoint *ep = &endpoints[e];
        struct answer base, a;
        char *req = request_for(ep, "");

        exchange(req, &base);
        free(req);
        ASSERT(base.status >= 200 && base.status < 500 && base.status != 431);
        ASSERT(base.status_lines == 1 && base.exact);
        for (i = 0; i < sizeof(served_kib) / sizeof(served_kib[0]); i++) {
            char *line = cookie_line((size_t)(served_kib[i] * KIB));
            int fd = tcp_connect(h->gh.port);
            struct answer again;

            req = request_for(ep, line);
            exchange_on(fd, req, strlen(req), &a);
            fprintf(stderr, "%s with %.1f KiB of cookies: %ld\n", ep->name,
                    served_kib[i], a.status);
            /* The same answer as without them, once, and the connection
             * serves the next request. */
            ASSERT_EQ(a.status, base.status);
            ASSERT(a.status_lines == 1 && a.exact && !a.closed);
            ASSERT_STR_EQ(a.ctype, base.ctype);
            exchange_on(fd, req, strlen(req), &again);
            ASSERT_EQ(again.status, base.status);
            ASSERT(again.status_lines == 1 && again.exact);
            close(fd);
            answer_free(&again);
            answer_free(&a);
            free(req);
            free(line);
        }
        before[e] = metric(ep->name, 431);
        for (i = 0; i < sizeof(refused_kib) / sizeof(refused_kib[0]); i++) {
            char *line = cookie_line((size_t)(refused_kib[i] * KIB));

            req = request_for(ep, line);
            exchange(req, &a);
            fprintf(stderr, "%s with %.0f KiB of cookies: %ld\n", ep->name,
                    refused_kib[i], a.status);
            assert_one_refusal(&a, 431, ep->browser);
            answer_free(&a);
            free(req);
            free(line);
        }
        after = metric(ep->name, 431);
        ASSERT_EQ(after - before[e], 2);
        answer_free(&base);
    }
    log = server_log();
    ASSERT_CONTAINS(log, "event=http_headers_refused status=431 reason=total");
    ASSERT_CONTAINS(log, "event=http_request method=GET path=/authorize "
                         "status=431");
    ASSERT_CONTAINS(log, "event=http_request method=POST path=/token "
                         "status=431");
    assert_log_all_ours(log);
    free(log);
    stop();
}

/* A GET /healthz whose header block is total bytes, the request line and
 * the closing empty line included, with one header line of line bytes
 * ("X-One: ...\r\n", 0 for none) and the rest in lines of at most 4000. */
static char *
padded(size_t total, size_t line)
{
    char *r = malloc(total + 1);
    size_t n, left;
    int k = 0;

    ASSERT(r != NULL);
    n = (size_t)sprintf(r, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (line > 0) {
        n += (size_t)sprintf(r + n, "X-One: ");
        memset(r + n, 'o', line - 9);
        n += line - 9;
        n += (size_t)sprintf(r + n, "\r\n");
    }
    ASSERT(n + 2 <= total);
    left = total - n - 2;
    while (left > 0) {
        size_t chunk = left > 4000 ? 4000 : left;
        if (left - chunk > 0 && left - chunk < 20)
            chunk = left - 20;
        ASSERT(chunk >= 13);
        n += (size_t)sprintf(r + n, "X-Pad-%02d: ", k++);
        memset(r + n, 'p', chunk - 12);
        n += chunk - 12;
        n += (size_t)sprintf(r + n, "\r\n");
        left -= chunk;
    }
    n += (size_t)sprintf(r + n, "\r\n");
    ASSERT_EQ(n, total);
    return r;
}

TEST(the_budget_is_exact_16_kib_in_all_or_one_line_64_lines_8_kib_uri)
{
    struct answer a;
    char *req, *many = NULL, *uri = NULL;
    size_t i;

    start();
    req = padded(16 * KIB, 0);
    exchange(req, &a);
    ASSERT(a.status == 200 && a.status_lines == 1 && a.exact && !a.closed);
    answer_free(&a);
    free(req);
    req = padded(16 * KIB + 1, 0);
    exchange(req, &a);
    assert_one_refusal(&a, 431, 0);
    answer_free(&a);
    free(req);

    /* One line may take all of the budget (SPEC's floor is 8 KiB). */
    req = padded(16 * KIB, 15 * KIB);
    exchange(req, &a);
    ASSERT(a.status == 200 && a.status_lines == 1 && a.exact);
    answer_free(&a);
    free(req);
    req = padded(16 * KIB + 1, 15 * KIB);
    exchange(req, &a);
    assert_one_refusal(&a, 431, 0);
    answer_free(&a);
    free(req);

    /* Host and 63 more header lines; then one more. */
    for (i = 0; i < 2; i++) {
        size_t n, lines = 63 + i;
        many = malloc(64 * 32 + 128);
        n = (size_t)sprintf(many, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
        for (size_t k = 0; k < lines; k++)
            n += (size_t)sprintf(many + n, "X-H%03zu: v\r\n", k);
        sprintf(many + n, "\r\n");
        exchange(many, &a);
        if (i == 0)
            ASSERT(a.status == 200 && a.status_lines == 1 && a.exact);
        else
            assert_one_refusal(&a, 431, 0);
        answer_free(&a);
        free(many);
    }

    /* A thousand query parameters in 5 KiB: one answer, not none. */
    {
        size_t n = (size_t)sprintf(uri = malloc(8 * KIB), "/healthz?");
        for (i = 0; i < 1000; i++)
            n += (size_t)sprintf(uri + n, "%sp%zu", i ? "&" : "", i);
        if (asprintf(&req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", uri) < 0)
            FAIL("asprintf");
        exchange(req, &a);
        ASSERT(a.status == 200 && a.status_lines == 1 && a.exact);
        answer_free(&a);
        free(req);
        free(uri);
    }

    /* The request line: up to 8 KiB of URI, then 414. */
    for (i = 0; i < 2; i++) {
        size_t ulen = 8 * KIB + i;
        uri = malloc(ulen + 1);
        memcpy(uri, "/healthz?x=", 11);
        memset(uri + 11, 'u', ulen - 11);
        uri[ulen] = '\0';
        if (asprintf(&req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", uri) < 0)
            FAIL("asprintf");
        exchange(req, &a);
        if (i == 0)
            ASSERT(a.status == 200 && a.status_lines == 1 && a.exact);
        else
            assert_one_refusal(&a, 414, 0);
        answer_free(&a);
        free(req);
        free(uri);
    }
    stop();
}

TEST(past_the_connection_pool_libmicrohttpd_answers_once_logged_and_counted)
{
    static const double kib[] = {40, 64, 200};
    struct answer a;
    long before, after;
    char *log;
    size_t i;

    start();
    before = metric("unmatched", 431);
    for (i = 0; i < sizeof(kib) / sizeof(kib[0]); i++) {
        char *line = cookie_line((size_t)(kib[i] * KIB)), *req;

        req = request_for(&endpoints[0], line);
        exchange(req, &a);
        fprintf(stderr, "/authorize with %.0f KiB of cookies: %ld\n", kib[i],
                a.status);
        /* libmicrohttpd's own page: HTML everywhere, one block, closed. */
        ASSERT(a.status == 431 && a.status_lines == 1 && a.exact && a.closed);
        answer_free(&a);
        free(req);
        free(line);
    }
    after = metric("unmatched", 431);
    ASSERT_EQ(after - before, 3);
    log = server_log();
    ASSERT_CONTAINS(log, "event=http_request method=- path=- status=431 "
                         "ms=0.00 by=libmicrohttpd");
    assert_log_all_ours(log);
    free(log);
    /* And the server is as it was. */
    exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &a);
    ASSERT_EQ(a.status, 200);
    answer_free(&a);
    stop();
}

/* ---- Request framing (SPEC §7) ------------------------------------------
 */

/* A POST /token whose framing headers are framing ("Name: value\r\n"...),
 * then body, then a GET /jwks behind it: smuggled if it is answered. */
static char *
framed(const char *framing, const char *body)
{
    char *r = NULL;

    if (asprintf(&r,
                 "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n%s\r\n"
                 "%sGET /jwks HTTP/1.1\r\nHost: x\r\n\r\n",
                 basic_svc, framing, body) < 0)
        FAIL("asprintf");
    return r;
}

TEST(ambiguous_framing_is_400_and_closed_nothing_smuggled)
{
    static const char chunked_body[] =
        "1d\r\ngrant_type=client_credentials\r\n0\r\n\r\n";
    static const struct {
        const char *framing;
        const char *body;
    } bad[] = {
        /* Both: a front that reads Content-Length and a back that reads
         * chunked disagree on where the request ends. */
        {"Content-Length: 42\r\nTransfer-Encoding: chunked\r\n",
         chunked_body},
        {"Transfer-Encoding: chunked\r\nContent-Length: 42\r\n",
         chunked_body},
        /* Two lengths: which one? */
        {"Content-Length: 29\r\nContent-Length: 60\r\n",
         "grant_type=client_credentials"},
        {"Content-Length: 29\r\nContent-Length: 29\r\n",
         "grant_type=client_credentials"},
        /* Codings other than exactly chunked. */
        {"Transfer-Encoding: xchunked\r\n", chunked_body},
        {"Transfer-Encoding: gzip, chunked\r\n", chunked_body},
        {"Transfer-Encoding: chunked, identity\r\n", chunked_body},
        {"Transfer-Encoding: identity\r\n", "grant_type=client_credentials"},
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
         chunked_body},
        /* A coding a proxy may read and libmicrohttpd does not. */
        {"Transfer-Encoding : chunked\r\nContent-Length: 42\r\n",
         chunked_body},
    };
    struct answer a;
    char *log, *req;
    long before;
    size_t i;

    start();
    /* What is fine stays fine: chunked alone, and Content-Length alone. */
    req = framed("Transfer-Encoding: chunked\r\n", chunked_body);
    exchange(req, &a);
    ASSERT_EQ(a.status, 200);
    ASSERT_CONTAINS(a.raw, "access_token");
    answer_free(&a);
    free(req);
    req = framed("Content-Length: 29\r\n", "grant_type=client_credentials");
    exchange(req, &a);
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(a.status_lines, 2); /* and the pipelined request after it */
    answer_free(&a);
    free(req);

    before = metric("/token", 400);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req = framed(bad[i].framing, bad[i].body);
        exchange(req, &a);
        fprintf(stderr, "framing %zu: %ld, %d answers, closed %d\n", i,
                a.status, a.status_lines, a.closed);
        /* One 400, the connection closed: the smuggled GET never runs. */
        assert_one_refusal(&a, 400, 0);
        answer_free(&a);
        free(req);
    }
    ASSERT_EQ(metric("/token", 400) - before,
              (long)(sizeof(bad) / sizeof(bad[0])));
    log = server_log();
    ASSERT_CONTAINS(log, "event=http_framing_refused");
    /* Only the two well-framed requests had the GET behind them run. */
    ASSERT_EQ(count(log, "method=GET path=/jwks status=200"), 2);
    assert_log_all_ours(log);
    free(log);
    stop();
}

TEST_MAIN(TEST_ENTRY(neighbour_cookies_up_to_the_budget_are_served_past_it_one_431),
          TEST_ENTRY(the_budget_is_exact_16_kib_in_all_or_one_line_64_lines_8_kib_uri),
          TEST_ENTRY(
              past_the_connection_pool_libmicrohttpd_answers_once_logged_and_counted),
          TEST_ENTRY(ambiguous_framing_is_400_and_closed_nothing_smuggled))
