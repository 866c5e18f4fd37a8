/* SPDX-License-Identifier: MIT */
/* A small keep-alive HTTP/1.1 load generator for bench/run: N connections
 * on loopback, one epoll loop, a request template, a fixed duration and a
 * request budget; prints req/s, latency percentiles and status counts as
 * one JSON object on stdout.
 *
 *   loadgen -p PORT [-c CONNS] [-d SECONDS] [-w WARMUP_S] [-n MAX_REQUESTS]
 *           [-m METHOD] [-u PATH] [-H "Name: value"]... [-b BODY]
 *           [-V FILE [--per-conn]] [-X PREFIX [-Y PREFIX] [-O FILE]]
 *   loadgen -p PORT --idle N [--hold SECONDS] [--ready-file PATH] [-u PATH]
 *   loadgen -p PORT --until-200 TIMEOUT_S [-u PATH]
 *
 * "{V}" in the path, a header or the body is replaced by a value from -V
 * FILE (one per line): each request takes the next one and the run ends
 * when they are spent, or with --per-conn connection i keeps line i and
 * replaces it with what -X finds in each answer (a rotated refresh token).
 * -X PREFIX finds the text after PREFIX in an answer (headers and body)
 * up to a quote, '&', ';', '<' or white space; -O FILE writes each find on
 * its own line (to harvest codes, CSRF tokens, refresh tokens). -Y PREFIX
 * finds a second value in the same answer (the pre-sign-in cookie beside
 * the form's token): the line is then "V<TAB>W", and "{W}" in a template
 * stands for the second.
 *
 * --idle opens N connections, sends the template once on each, and holds
 * them open (keep-alive, silent) for --hold seconds: for RSS per idle
 * connection. The ready file is created once every answer is in.
 *
 * --until-200 asks GET PATH every millisecond until one answer is 200 and
 * prints {"ready_ms":T}, the time since loadgen started (or -1 on timeout):
 * started beside a server, it measures the server's time to ready.
 *
 * Only 127.0.0.0/8 is a target: this is for loopback benchmarks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 16
#define RBUF_MAX (1024 * 1024)
#define VALUE_MAX 4096
#define HIST_US 10               /* bucket width */
#define HIST_N (10 * 1000 * 100) /* 10 s of 10 µs buckets */
#define REQ_TIMEOUT_NS (10LL * 1000000000LL)

enum cstate { C_CLOSED, C_CONNECTING, C_SENDING, C_READING, C_IDLE };

struct conn {
    int fd;
    enum cstate state;
    char *req;
    size_t req_len, req_off;
    char *rbuf;
    size_t rlen, rcap;
    int64_t started; /* ns, of the request in flight */
    char *value;     /* --per-conn: this connection's {V} */
    int answered;    /* --idle */
};

static struct {
    const char *addr;
    int port;
    int conns;
    double duration, warmup, hold;
    long max_requests;
    const char *method, *path, *body;
    const char *headers[MAX_HEADERS];
    int nheaders;
    char **values;
    size_t nvalues, next_value;
    int per_conn;
    const char *extract;
    const char *extract2; /* -Y */
    FILE *extract_out;
    int idle;
    const char *ready_file;
    char *fixed_req; /* the request when no {V} is used */
    size_t fixed_len;
    int templated;
} opt = {
    .addr = "127.0.0.1",
    .conns = 16,
    .duration = 10,
    .method = "GET",
    .path = "/",
};

static struct {
    long requests, started, all;
    long status[600];
    long connect_errors, read_errors, timeouts, reconnects, extracted;
    uint32_t *hist;
    int64_t max_ns;
} st;

static int epfd;
static struct sockaddr_in sa;

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *msg)
{
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

static char *
read_file_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, len = 0;
    ssize_t got;
    char **v = NULL;

    if (f == NULL)
        die("cannot open the values file");
    while ((got = getline(&line, &cap, f)) > 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0)
            continue;
        v = realloc(v, (len + 1) * sizeof(*v));
        if (v == NULL || (v[len] = strdup(line)) == NULL)
            die("out of memory");
        len++;
    }
    free(line);
    fclose(f);
    *n = len;
    return (char *)v;
}

/* Appends src to the growing request, with {V} replaced by value and {W}
 * by value's second field: a value may be "V<TAB>W" (-X with -Y). */
static void
put_subst(char **buf, size_t *len, size_t *cap, const char *src,
          const char *value)
{
    const char *p = src, *tab = value != NULL ? strchr(value, '\t') : NULL;

    while (*p != '\0') {
        const char *v = strstr(p, "{V}"), *w = strstr(p, "{W}");
        const char *sub = NULL;
        size_t n, vn = 0;

        if (w != NULL && (v == NULL || w < v))
            v = w;
        n = v != NULL ? (size_t)(v - p) : strlen(p);
        if (v != NULL && value != NULL) {
            if (v[1] == 'W') {
                sub = tab != NULL ? tab + 1 : "";
                vn = strlen(sub);
            } else {
                sub = value;
                vn = tab != NULL ? (size_t)(tab - value) : strlen(value);
            }
        }
        if (*len + n + vn + 1 > *cap) {
            *cap = (*len + n + vn + 1) * 2;
            if ((*buf = realloc(*buf, *cap)) == NULL)
                die("out of memory");
        }
        memcpy(*buf + *len, p, n);
        *len += n;
        if (v == NULL)
            break;
        if (vn > 0)
            memcpy(*buf + *len, sub, vn);
        *len += vn;
        p = v + 3;
    }
    (*buf)[*len] = '\0';
}

/* The whole request, malloc'd; a body's length is computed after {V}. */
static char *
build_request(const char *value, size_t *ret_len)
{
    char *buf = NULL, *body = NULL, line[128];
    size_t len = 0, cap = 0, blen = 0, bcap = 0;
    int i;

    if (opt.body != NULL)
        put_subst(&body, &blen, &bcap, opt.body, value);
    put_subst(&buf, &len, &cap, opt.method, NULL);
    put_subst(&buf, &len, &cap, " ", NULL);
    put_subst(&buf, &len, &cap, opt.path, value);
    snprintf(line, sizeof(line), " HTTP/1.1\r\nHost: %s:%d\r\n", opt.addr,
             opt.port);
    put_subst(&buf, &len, &cap, line, NULL);
    for (i = 0; i < opt.nheaders; i++) {
        put_subst(&buf, &len, &cap, opt.headers[i], value);
        put_subst(&buf, &len, &cap, "\r\n", NULL);
    }
    if (body != NULL) {
        snprintf(line, sizeof(line), "Content-Length: %zu\r\n", blen);
        put_subst(&buf, &len, &cap, line, NULL);
    }
    put_subst(&buf, &len, &cap, "\r\n", NULL);
    if (body != NULL)
        put_subst(&buf, &len, &cap, body, NULL);
    free(body);
    *ret_len = len;
    return buf;
}

static void
conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = C_CLOSED;
    c->rlen = 0;
}

static int
conn_open(struct conn *c)
{
    struct epoll_event ev;
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        st.connect_errors++;
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
        errno != EINPROGRESS) {
        st.connect_errors++;
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->state = C_CONNECTING;
    c->rlen = 0;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c;
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void
want_write(struct conn *c, int on)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is left of the request; 0 done, 1 more to write, -1 error. */
static int
flush_req(struct conn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t n = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
        if (n < 0) {
            if (errno == EAGAIN)
                return 1;
            return -1;
        }
        c->req_off += (size_t)n;
    }
    return 0;
}

static int stopping;

/* Starts the next request on c; 0 if one was started. */
static int
send_next(struct conn *c)
{
    const char *value = NULL;
    int rc;

    if (stopping ||
        (opt.max_requests > 0 && st.started >= opt.max_requests))
        return -1;
    if (opt.templated) {
        if (opt.per_conn) {
            value = c->value;
        } else {
            if (opt.next_value >= opt.nvalues)
                return -1;
            value = opt.values[opt.next_value++];
        }
        if (c->req != opt.fixed_req)
            free(c->req);
        c->req = build_request(value, &c->req_len);
    } else {
        c->req = opt.fixed_req;
        c->req_len = opt.fixed_len;
    }
    c->req_off = 0;
    c->rlen = 0;
    c->started = now_ns();
    st.started++;
    rc = flush_req(c);
    if (rc < 0)
        return -2;
    c->state = rc == 1 ? C_SENDING : C_READING;
    if (rc == 1)
        want_write(c, 1);
    return 0;
}

static void
record(int64_t lat_ns, int status, int counted)
{
    int64_t b = lat_ns / (HIST_US * 1000);

    st.all++;
    if (!counted)
        return;
    st.requests++;
    if (status >= 0 && status < 600)
        st.status[status]++;
    if (b >= HIST_N)
        b = HIST_N - 1;
    st.hist[b]++;
    if (lat_ns > st.max_ns)
        st.max_ns = lat_ns;
}

/* The value after marker in text, up to a delimiter: its length, 0 if none. */
static size_t
find_value(const char *text, const char *marker, const char **start)
{
    const char *p = strstr(text, marker);
    size_t n;

    if (p == NULL)
        return 0;
    p += strlen(marker);
    n = strcspn(p, "\"'&;< \r\n\t");
    *start = p;
    return n;
}

static void
extract(struct conn *c)
{
    const char *p = NULL, *q = NULL;
    size_t n, m = 0;

    c->rbuf[c->rlen] = '\0';
    if ((n = find_value(c->rbuf, opt.extract, &p)) == 0 || n >= VALUE_MAX)
        return;
    /* -Y: a second value from the same answer (a cookie beside a form
     * token), kept as "V<TAB>W". */
    if (opt.extract2 != NULL &&
        ((m = find_value(c->rbuf, opt.extract2, &q)) == 0 ||
         n + m + 1 >= VALUE_MAX))
        return;
    st.extracted++;
    if (opt.per_conn) {
        memcpy(c->value, p, n);
        c->value[n] = '\0';
        if (m > 0) {
            c->value[n] = '\t';
            memcpy(c->value + n + 1, q, m);
            c->value[n + 1 + m] = '\0';
        }
    }
    if (opt.extract_out != NULL) {
        if (m > 0)
            fprintf(opt.extract_out, "%.*s\t%.*s\n", (int)n, p, (int)m, q);
        else
            fprintf(opt.extract_out, "%.*s\n", (int)n, p);
    }
}

/*
 * Is a whole answer in c->rbuf? Returns its length (headers and body) and
 * sets *status and *close, 0 if more is needed, -1 if it is malformed.
 */
static long
parse_answer(struct conn *c, int *status, int *close_after)
{
    char *buf = c->rbuf, *hend, *p;
    size_t hlen;
    long clen = -1;
    int chunked = 0;

    buf[c->rlen] = '\0';
    if ((hend = strstr(buf, "\r\n\r\n")) == NULL)
        return c->rlen > 65536 ? -1 : 0;
    hlen = (size_t)(hend - buf) + 4;
    if (strncmp(buf, "HTTP/1.", 7) != 0 || c->rlen < 12)
        return -1;
    *status = atoi(buf + 9);
    *close_after = strncmp(buf, "HTTP/1.0", 8) == 0;
    for (p = strstr(buf, "\r\n") + 2; p < hend; p = strstr(p, "\r\n") + 2) {
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            clen = strtol(p + 15, NULL, 10);
        else if (strncasecmp(p, "Transfer-Encoding:", 18) == 0 &&
                 strstr(p, "chunked") != NULL &&
                 strstr(p, "chunked") < strstr(p, "\r\n"))
            chunked = 1;
        else if (strncasecmp(p, "Connection:", 11) == 0) {
            char *v = p + 11;
            while (*v == ' ')
                v++;
            if (strncasecmp(v, "close", 5) == 0)
                *close_after = 1;
            else if (strncasecmp(v, "keep-alive", 10) == 0)
                *close_after = 0;
        }
    }
    if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200))
        return (long)hlen;
    if (chunked) {
        size_t off = hlen;
        for (;;) {
            char *end;
            long sz;
            if ((p = memmem(buf + off, c->rlen - off, "\r\n", 2)) == NULL)
                return 0;
            sz = strtol(buf + off, &end, 16);
            if (end == buf + off || sz < 0)
                return -1;
            off = (size_t)(p - buf) + 2;
            if (sz == 0) {
                /* No trailers expected: the final CRLF. */
                if (c->rlen < off + 2)
                    return 0;
                return (long)(off + 2);
            }
            if (c->rlen < off + (size_t)sz + 2)
                return 0;
            off += (size_t)sz + 2;
        }
    }
    if (clen < 0) {
        *close_after = 1; /* ends when the server closes */
        return 0;
    }
    if (c->rlen < hlen + (size_t)clen)
        return 0;
    return (long)(hlen + (size_t)clen);
}

static int64_t warm_end_ns;

static void
on_readable(struct conn *c)
{
    for (;;) {
        ssize_t n;
        long used;
        int status = 0, close_after = 0;

        if (c->rcap - c->rlen < 16384) {
            size_t ncap = c->rcap == 0 ? 65536 : c->rcap * 2;
            if (ncap > RBUF_MAX + 1) {
                st.read_errors++;
                conn_close(c);
                return;
            }
            if ((c->rbuf = realloc(c->rbuf, ncap)) == NULL)
                die("out of memory");
            c->rcap = ncap;
        }
        n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            /* A close in the middle of an answer is an error; one between
             * answers is the server ending keep-alive. */
            if (c->state == C_READING || c->state == C_SENDING)
                st.read_errors++;
            conn_close(c);
            return;
        }
        c->rlen += (size_t)n;
        if (c->state != C_READING)
            continue;
        used = parse_answer(c, &status, &close_after);
        if (used < 0) {
            st.read_errors++;
            conn_close(c);
            return;
        }
        if (used == 0)
            continue;
        record(now_ns() - c->started, status,
               opt.idle || c->started >= warm_end_ns);
        if (opt.extract != NULL)
            extract(c);
        c->rlen = 0;
        c->state = C_IDLE;
        if (opt.idle) {
            c->answered = 1;
            return;
        }
        if (close_after) {
            conn_close(c);
            st.reconnects++;
            return; /* the main loop reopens it */
        }
        if (send_next(c) == -2)
            conn_close(c);
        return;
    }
}

static void
on_event(struct conn *c, uint32_t ev)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
            st.connect_errors++;
            conn_close(c);
            return;
        }
        want_write(c, 0);
        c->state = C_IDLE;
        if (send_next(c) == -2)
            conn_close(c);
        return;
    }
    if ((ev & EPOLLOUT) && c->state == C_SENDING) {
        int rc = flush_req(c);
        if (rc < 0) {
            st.read_errors++;
            conn_close(c);
            return;
        }
        if (rc == 0) {
            c->state = C_READING;
            want_write(c, 0);
        }
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(c);
}

static double
percentile(double q)
{
    long total = 0, want, acc = 0;
    long i;

    for (i = 0; i < HIST_N; i++)
        total += st.hist[i];
    if (total == 0)
        return 0;
    want = (long)(q * (double)total + 0.5);
    if (want < 1)
        want = 1;
    for (i = 0; i < HIST_N; i++) {
        acc += st.hist[i];
        if (acc >= want)
            return (i + 0.5) * HIST_US / 1000.0; /* ms, bucket middle */
    }
    return st.max_ns / 1e6;
}

static int64_t t0_ns;

static void
report(double elapsed, int conns_open)
{
    int i, first = 1;
    long ok = 0;
    struct rusage ru;
    double cpu = 0;

    /* Our own CPU time, warm-up included, so bench/run can tell what the
     * whole system under test cost per request on a shared machine. */
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
              ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;

    for (i = 200; i < 400; i++)
        ok += st.status[i];
    printf("{\"conns\":%d,\"duration_s\":%.3f,\"requests\":%ld,"
           "\"ok\":%ld,\"rps\":%.1f,\"ok_rps\":%.1f,\"p50_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"status\":{",
           opt.conns, elapsed, st.requests, ok,
           elapsed > 0 ? st.requests / elapsed : 0,
           elapsed > 0 ? ok / elapsed : 0, percentile(0.50),
           percentile(0.90), percentile(0.99), st.max_ns / 1e6);
    for (i = 0; i < 600; i++) {
        if (st.status[i] == 0)
            continue;
        printf("%s\"%d\":%ld", first ? "" : ",", i, st.status[i]);
        first = 0;
    }
    printf("},\"connect_errors\":%ld,\"read_errors\":%ld,\"timeouts\":%ld,"
           "\"reconnects\":%ld,\"extracted\":%ld,\"open\":%d,"
           "\"all_requests\":%ld,\"all_elapsed_s\":%.3f,\"cpu_s\":%.3f}\n",
           st.connect_errors, st.read_errors, st.timeouts, st.reconnects,
           st.extracted, conns_open, st.all, (now_ns() - t0_ns) / 1e9, cpu);
}

/* One GET on a fresh connection, blocking; returns the status or -1. */
static int
probe(void)
{
    char req[512], buf[256];
    int fd, status = -1;
    ssize_t n;
    struct timeval tv = {1, 0};

    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
             opt.path, opt.addr, opt.port);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, req, strlen(req)) == (ssize_t)strlen(req) &&
        (n = read(fd, buf, sizeof(buf) - 1)) > 12) {
        buf[n] = '\0';
        if (strncmp(buf, "HTTP/1.", 7) == 0)
            status = atoi(buf + 9);
    }
    close(fd);
    return status;
}

static int
until_200(double timeout_s)
{
    int64_t t0 = now_ns(), deadline = t0 + (int64_t)(timeout_s * 1e9);
    struct timespec ms = {0, 1000000};

    while (now_ns() < deadline) {
        if (probe() == 200) {
            printf("{\"ready_ms\":%.1f}\n", (now_ns() - t0) / 1e6);
            return 0;
        }
        nanosleep(&ms, NULL);
    }
    printf("{\"ready_ms\":-1}\n");
    return 1;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: loadgen -p PORT [-a 127.0.0.1] [-c CONNS] [-d SECONDS] "
            "[-w WARMUP_S] [-n MAX]\n"
            "               [-m METHOD] [-u PATH] [-H 'Name: value']... "
            "[-b BODY]\n"
            "               [-V FILE [--per-conn]] [-X PREFIX [-O FILE]]\n"
            "       loadgen -p PORT --idle N [--hold S] [--ready-file PATH] "
            "[-u PATH]\n"
            "       loadgen -p PORT --until-200 TIMEOUT_S [-u PATH]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"per-conn", no_argument, NULL, 'P'},
        {"idle", required_argument, NULL, 'I'},
        {"hold", required_argument, NULL, 'L'},
        {"ready-file", required_argument, NULL, 'R'},
        {"until-200", required_argument, NULL, 'U'},
        {NULL, 0, NULL, 0},
    };
    struct epoll_event evs[256];
    struct conn *conns;
    struct rlimit rl;
    int64_t t0, end_ns, last_sweep = 0, done_at = 0;
    int ch, i, ready_written = 0;
    double until_s = 0;

    while ((ch = getopt_long(argc, argv, "a:p:c:d:w:n:m:u:H:b:V:X:Y:O:",
                             lopts, NULL)) != -1) {
        switch (ch) {
        case 'a': opt.addr = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'c': opt.conns = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'n': opt.max_requests = atol(optarg); break;
        case 'm': opt.method = optarg; break;
        case 'u': opt.path = optarg; break;
        case 'H':
            if (opt.nheaders == MAX_HEADERS)
                die("too many headers");
            opt.headers[opt.nheaders++] = optarg;
            break;
        case 'b': opt.body = optarg; break;
        case 'V':
            opt.values = (char **)read_file_lines(optarg, &opt.nvalues);
            break;
        case 'P': opt.per_conn = 1; break;
        case 'X': opt.extract = optarg; break;
        case 'Y': opt.extract2 = optarg; break;
        case 'O':
            if ((opt.extract_out = fopen(optarg, "w")) == NULL)
                die("cannot write the -O file");
            break;
        case 'I': opt.idle = atoi(optarg); break;
        case 'L': opt.hold = atof(optarg); break;
        case 'R': opt.ready_file = optarg; break;
        case 'U': until_s = atof(optarg); break;
        default: usage();
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || optind != argc)
        usage();
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.addr, &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
        die("the target must be an IPv4 loopback address (127.0.0.0/8)");
    if (until_s > 0)
        return until_200(until_s);
    if (opt.idle > 0)
        opt.conns = opt.idle;
    if (opt.conns < 1 || opt.duration <= 0)
        usage();
    opt.templated = opt.values != NULL;
    if (opt.per_conn && (opt.values == NULL ||
                         opt.nvalues < (size_t)opt.conns))
        die("--per-conn needs one value per connection in -V FILE");
    if (!opt.templated)
        opt.fixed_req = build_request(NULL, &opt.fixed_len);

    /* Thousands of sockets: take what the hard limit allows. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((st.hist = calloc(HIST_N, sizeof(*st.hist))) == NULL ||
        (conns = calloc((size_t)opt.conns, sizeof(*conns))) == NULL)
        die("out of memory");
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1 failed");
    for (i = 0; i < opt.conns; i++) {
        conns[i].fd = -1;
        if (opt.per_conn) {
            if ((conns[i].value = malloc(VALUE_MAX)) == NULL)
                die("out of memory");
            snprintf(conns[i].value, VALUE_MAX, "%s", opt.values[i]);
        }
        conn_open(&conns[i]);
    }

    t0 = t0_ns = now_ns();
    warm_end_ns = t0 + (int64_t)(opt.warmup * 1e9);
    end_ns = warm_end_ns + (int64_t)(opt.duration * 1e9);
    if (opt.idle)
        end_ns = t0 + (int64_t)((opt.hold + 30) * 1e9); /* 30 s to connect */
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, 10), open = 0, busy = 0;
        int64_t now;

        for (i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
        now = now_ns();
        if (now >= end_ns)
            break;
        if (now - last_sweep < 100000000LL && n > 0)
            continue;
        last_sweep = now;
        for (i = 0; i < opt.conns; i++) {
            struct conn *c = &conns[i];
            if (c->state == C_CLOSED && !stopping && !opt.idle &&
                !(opt.templated && !opt.per_conn &&
                  opt.next_value >= opt.nvalues) &&
                !(opt.max_requests > 0 && st.started >= opt.max_requests)) {
                st.reconnects++;
                conn_open(c);
            }
            if ((c->state == C_READING || c->state == C_SENDING) &&
                now - c->started > REQ_TIMEOUT_NS) {
                st.timeouts++;
                conn_close(c);
            }
            if (c->state != C_CLOSED)
                open++;
            if (c->state == C_READING || c->state == C_SENDING ||
                c->state == C_CONNECTING)
                busy++;
            if (opt.idle && c->answered)
                busy--;
        }
        if (opt.idle) {
            int answered = 0;
            for (i = 0; i < opt.conns; i++)
                answered += conns[i].answered;
            if (answered == opt.conns && !ready_written) {
                ready_written = 1;
                end_ns = now + (int64_t)(opt.hold * 1e9);
                if (opt.ready_file != NULL) {
                    FILE *f = fopen(opt.ready_file, "w");
                    if (f != NULL)
                        fclose(f);
                }
            }
            continue;
        }
        /* A budget or a value list that ran out ends the run once the
         * answers in flight are in. */
        if (busy == 0 && ((opt.max_requests > 0 &&
                           st.started >= opt.max_requests) ||
                          (opt.templated && !opt.per_conn &&
                           opt.next_value >= opt.nvalues))) {
            done_at = now;
            break;
        }
    }
    {
        int64_t stop = done_at != 0 ? done_at : now_ns();
        double elapsed = (stop - (opt.idle ? t0 : warm_end_ns)) / 1e9;
        int open = 0;
        if (stop < warm_end_ns)
            elapsed = (stop - t0) / 1e9;
        if (done_at == 0 && !opt.idle)
            elapsed = opt.duration;
        stopping = 1;
        for (i = 0; i < opt.conns; i++) {
            if (conns[i].state != C_CLOSED)
                open++;
            conn_close(&conns[i]);
        }
        if (opt.idle) {
            long answered = 0;
            for (i = 0; i < opt.conns; i++)
                answered += conns[i].answered;
            st.requests = answered;
        }
        report(elapsed, open);
    }
    if (opt.extract_out != NULL)
        fclose(opt.extract_out);
    return 0;
}
