/* SPDX-License-Identifier: MIT */
/* libmicrohttpd glue: limits, bodies, responses, suspension. It knows no
 * endpoint: the router main.c passes to http_start does (routes.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "gatehouse/core/app.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/core/jsonw.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/http/limits.h"
#include "gatehouse/http/pages.h"

#define CONN_LIMIT 20000

struct header {
    char *name;
    char *value;
    struct header *next;
};

enum suspend_state { RUNNING, SUSPENDING, SUSPENDED, RESUMED };

struct http_conn {
    struct http_request req;
    struct MHD_Connection *mhd;
    struct http_server *srv;
    char *url; /* raw URI as received: path?query */
    size_t url_len;
    int calls;
    int handled;
    int too_big;
    int refused;  /* 414 or 431: headers past the budget */
    int lean;     /* little pool left for the response's header block */
    char *body;
    size_t body_len;
    char addr[INET6_ADDRSTRLEN];
    double started;
    /* The response, filled by one http_reply*. */
    int status;
    char *resp;
    size_t resp_len;
    const char *ctype;
    struct header *headers;
    int cacheable; /* max-age in seconds; 0: no-store */
    int cors_open;    /* cors.c decides who may read the answer */
    int cors_decided; /* the Origin was shared with or refused */
    /* What pages of this request share (http_page_ctx), made once. */
    int page_ready;
    struct page_ctx page;
    char *banner;
    pthread_mutex_t lock; /* guards suspend state against http_resume */
    /* MHD's reference, and one more while another thread may resume the
     * request: whoever lets go last frees it, so a resumer never touches
     * freed memory after the request completed on an HTTP thread. */
    atomic_int refs;
    enum suspend_state suspend;
    int replied;
};

struct http_server {
    struct MHD_Daemon *mhd;
    const struct http_router *router;
    struct app *app;
    atomic_long in_flight;
    atomic_int draining; /* refuse new connections */
};

/* While draining, new connections are closed at once. Not
 * MHD_quiesce_daemon: on an epoll thread pool it races with the workers
 * removing the listen socket themselves, and libmicrohttpd 0.9.75 then
 * aborts the process (seen here with 8 worker threads). */
static enum MHD_Result
on_accept(void *arg, const struct sockaddr *addr, socklen_t len)
{
    struct http_server *srv = arg;

    (void)addr;
    (void)len;
    return atomic_load(&srv->draining) ? MHD_NO : MHD_YES;
}

/* The route's name in log lines, "-" for none. */
static const char *
route_name(const struct http_conn *c)
{
    return c->req.route >= 0 ? c->srv->router->name(c->req.route) : "-";
}

struct header_find {
    const char *name;
    const char *value;
};

static enum MHD_Result
find_header(void *cls, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct header_find *f = cls;

    (void)kind;
    if (value == limits_cookie_decoy || strcasecmp(key, f->name) != 0)
        return MHD_YES;
    f->value = value;
    return MHD_NO;
}

const char *
http_header(struct http_request *req, const char *name)
{
    struct header_find f = {name, NULL};

    MHD_get_connection_values(req->conn->mhd, MHD_HEADER_KIND, find_header,
                              &f);
    return f.value;
}

char *
http_cookie(struct http_request *req, const char *name)
{
    const char *h = http_header(req, "Cookie");
    char *v = NULL;

    if (h == NULL || form_cookie(h, name, &v) < 0)
        return NULL;
    return v;
}

const char *
http_client_addr(struct http_request *req)
{
    struct http_conn *c = req->conn;
    const union MHD_ConnectionInfo *ci;

    if (c->addr[0] != '\0')
        return c->addr;
    ci = MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL) {
        snprintf(c->addr, sizeof(c->addr), "unknown");
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)ci->client_addr;
        inet_ntop(AF_INET6, &s6->sin6_addr, c->addr, sizeof(c->addr));
    } else {
        const struct sockaddr_in *s4 = (const void *)ci->client_addr;
        inet_ntop(AF_INET, &s4->sin_addr, c->addr, sizeof(c->addr));
    }
    return c->addr;
}

const char *
http_cors_origin(struct http_request *req)
{
    struct http_conn *c = req->conn;

    if (!c->cors_open || c->cors_decided)
        return NULL;
    return http_header(req, "Origin");
}

void
http_cors_open(struct http_request *req)
{
    req->conn->cors_open = 1;
}

void
http_cors_decide(struct http_request *req, int share)
{
    struct http_conn *c = req->conn;
    const char *origin = http_cors_origin(req);

    if (origin == NULL)
        return;
    c->cors_decided = 1;
    /* The Origin itself, never "*", and no Allow-Credentials: these
     * answers are for one app, and cookies play no part in them. */
    if (share)
        http_add_header(req, "Access-Control-Allow-Origin", origin);
}

void
http_cacheable(struct http_request *req)
{
    req->conn->cacheable = 300;
}

void
http_cacheable_for(struct http_request *req, int seconds)
{
    req->conn->cacheable = seconds;
}

void
http_add_header(struct http_request *req, const char *name, const char *value)
{
    struct http_conn *c = req->conn;
    struct header *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return;
    h->name = xstrdup(name);
    h->value = xstrdup(value);
    h->next = c->headers;
    c->headers = h;
}

void
http_reply(struct http_request *req, int status, const char *ctype,
           char *body, size_t len)
{
    struct http_conn *c = req->conn;

    /* A second reply is a bug in a handler; keep the first. */
    if (c->replied) {
        free(body);
        return;
    }
    c->replied = 1;
    /* SPEC §7: every 503 says when to come back, whichever path gave it
     * up (a store error, a full pool, maintenance). */
    if (status == 503) {
        const struct header *h;
        for (h = c->headers; h != NULL; h = h->next)
            if (strcasecmp(h->name, "Retry-After") == 0)
                break;
        if (h == NULL)
            http_add_header(req, "Retry-After", HTTP_RETRY_AFTER_S);
    }
    c->status = status;
    c->ctype = ctype;
    c->resp = body;
    c->resp_len = len;
}

int
http_content_type_is(struct http_request *req, const char *want)
{
    const char *ct = http_header(req, "Content-Type");
    size_t n = strlen(want);

    if (ct == NULL || strncasecmp(ct, want, n) != 0)
        return 0;
    for (ct += n; *ct == ' ' || *ct == '\t'; ct++)
        ;
    return *ct == '\0' || *ct == ';';
}

int
http_status(const struct http_request *req)
{
    return req->conn->status;
}

void
http_reply_json(struct http_request *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);

    json_decref(body);
    if (text == NULL) {
        http_json_error(req, 500, "server_error", NULL);
        return;
    }
    http_reply(req, status, "application/json", text, strlen(text));
}

void
http_reply_json_text(struct http_request *req, int status, const char *text)
{
    http_reply(req, status, "application/json", xstrdup(text), strlen(text));
}

void
http_reply_html(struct http_request *req, int status, char *html)
{
    http_reply_html_csp(req, status, html, NULL);
}

void
http_reply_html_csp(struct http_request *req, int status, char *html,
                    const char *csp_extra)
{
    static const char base[] =
        "default-src 'none'; style-src 'unsafe-inline'; "
        "img-src 'self' data:; form-action 'self' http: https:; "
        "frame-ancestors 'none'; base-uri 'none'";
    char csp[4096];

    /* Too long to add whole: added in part, a cut origin could name
     * another host, so nothing is added. */
    if (csp_extra == NULL ||
        (size_t)snprintf(csp, sizeof(csp), "%s; %s", base, csp_extra) >=
            sizeof(csp))
        snprintf(csp, sizeof(csp), "%s", base);
    http_add_header(req, "Content-Security-Policy", csp);
    http_add_header(req, "X-Frame-Options", "DENY");
    http_add_header(req, "Referrer-Policy", "no-referrer");
    http_add_header(req, "X-Content-Type-Options", "nosniff");
    http_reply(req, status, "text/html; charset=utf-8", html,
               html ? strlen(html) : 0);
}

const struct page_ctx *
http_page_ctx(struct http_request *req)
{
    struct http_conn *c = req->conn;
    struct form q;
    const char *lang = NULL;
    int parsed;

    if (c->page_ready)
        return &c->page;
    parsed = req->query != NULL && req->query[0] != '\0' &&
             form_parse(req->query, strlen(req->query), &q) == 0;
    if (parsed)
        lang = form_get(&q, "lang");
    /* <html lang> says what the page is written in: English when the
     * language asked for cannot be served (i18n_init warned). */
    c->page.lang =
        i18n_served(i18n_negotiate(lang, http_header(req, "Accept-Language")));
    c->page.lang_param = i18n_parse(lang) >= 0;
    if (parsed)
        form_free(&q);
    if (c->srv->router->banner != NULL)
        c->banner = c->srv->router->banner(req->app, c->page.lang);
    c->page.banner = c->banner;
    c->page_ready = 1;
    return &c->page;
}

void
http_error_page(struct http_request *req, int status, const char *title,
                const char *message)
{
    char *html = pages_error(http_page_ctx(req), title, message);

    http_reply_html(req, status, html != NULL ? html : strdup(""));
}

void
http_oauth_error(struct http_request *req, int status, const char *error,
                 const char *description)
{
    if (status == 401)
        http_add_header(req, "WWW-Authenticate", "Basic realm=\"gatehouse\"");
    http_json_error(req, status, error, description);
}

void
http_json_error(struct http_request *req, int status, const char *error,
                const char *description)
{
    struct jw w;
    char *body = NULL;
    size_t len = 0;

    jw_init(&w, 128);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "error", error);
    if (description != NULL)
        jw_str_if_utf8(&w, "error_description", description);
    jw_obj_end(&w);
    if (jw_finish(&w, &body, &len) < 0) {
        /* Only an error code of ours that is not text, or no memory. */
        status = 500;
        body = strdup("{\"error\":\"server_error\"}");
        len = body != NULL ? strlen(body) : 0;
    }
    http_reply(req, status, "application/json", body, len);
}

void
http_redirect(struct http_request *req, int status, const char *url)
{
    http_add_header(req, "Location", url);
    http_reply(req, status, "text/plain; charset=utf-8", strdup(""), 0);
}

static void
conn_release(struct http_conn *c)
{
    struct header *h, *next;

    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (h = c->headers; h != NULL; h = next) {
        next = h->next;
        free(h->name);
        free(h->value);
        free(h);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->resp);
    free(c->body);
    free(c->url);
    free(c->banner);
    free(c);
}

void
http_suspend(struct http_request *req)
{
    struct http_conn *c = req->conn;

    atomic_fetch_add(&c->refs, 1);
    pthread_mutex_lock(&c->lock);
    if (c->suspend == RUNNING)
        c->suspend = SUSPENDING;
    pthread_mutex_unlock(&c->lock);
}

void
http_resume(struct http_request *req)
{
    struct http_conn *c = req->conn;

    pthread_mutex_lock(&c->lock);
    if (c->suspend == SUSPENDED)
        MHD_resume_connection(c->mhd);
    c->suspend = RESUMED;
    pthread_mutex_unlock(&c->lock);
    conn_release(c);
}

/* MHD calls this first, with the raw URI: the place to allocate. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mhd)
{
    struct http_server *srv = cls;
    struct http_conn *c = calloc(1, sizeof(*c));
    const char *q;

    if (c == NULL)
        return NULL;
    c->url = xstrdup(uri);
    c->url_len = strlen(uri);
    /* The query is ours to parse (form.c). libmicrohttpd 0.9.75 would
     * also keep a 64-byte pool record per parameter, and past a few
     * hundred it runs out at the request line and answers nothing at all
     * (parse_initial_message_line carries on after its error). It parses
     * right after this callback, from the buffer uri points into: an empty
     * query there leaves it nothing to parse. */
    if ((q = strchr(uri, '?')) != NULL)
        ((char *)q)[1] = '\0';
    c->mhd = mhd;
    c->srv = srv;
    c->started = util_monotonic();
    c->req.conn = c;
    c->req.route = -1;
    c->req.app = srv->app;
    c->req.body = "";
    pthread_mutex_init(&c->lock, NULL);
    atomic_init(&c->refs, 1);
    atomic_fetch_add(&srv->in_flight, 1);
    /* Before the request's headers are parsed: see limits_cookie_decoy.
     * Should the pool refuse 64 bytes, libmicrohttpd parses the real one. */
    MHD_set_connection_value(mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE,
                             limits_cookie_decoy);
    return c;
}

static void
split_url(struct http_conn *c)
{
    char *q;

    if (c->url == NULL)
        c->url = xstrdup("/");
    q = strchr(c->url, '?');
    if (q != NULL) {
        *q = '\0';
        c->req.query = q + 1;
    } else {
        c->req.query = "";
    }
    c->req.path = c->url;
}

static enum MHD_Result
queue(struct http_conn *c)
{
    struct MHD_Response *r;
    struct header *h;
    enum MHD_Result ret;
    int head = strcmp(c->req.method, "HEAD") == 0;

    if (!c->replied)
        http_json_error(&c->req, 500, "server_error", NULL);
    c->srv->router->finish(&c->req);
    if (c->resp == NULL) {
        c->resp = strdup("");
        c->resp_len = 0;
    }
    r = MHD_create_response_from_buffer(head ? 0 : c->resp_len, c->resp,
                                        MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        return MHD_NO;
    c->resp = NULL;
    MHD_add_response_header(r, "Content-Type", c->ctype);
    /* A header block that does not fit what is left of the pool is not
     * sent at all: close the connection with the least that says why. */
    if (c->lean) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        ret = MHD_queue_response(c->mhd, (unsigned)c->status, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (c->cacheable > 0) {
        char cc[48];
        snprintf(cc, sizeof(cc), "public, max-age=%d", c->cacheable);
        MHD_add_response_header(r, "Cache-Control", cc);
    } else {
        MHD_add_response_header(r, "Cache-Control", "no-store");
    }
    if (!c->cacheable)
        MHD_add_response_header(r, "Pragma", "no-cache");
    for (h = c->headers; h != NULL; h = h->next)
        MHD_add_response_header(r, h->name, h->value);
    ret = MHD_queue_response(c->mhd, (unsigned)c->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void
reply_refused(struct http_conn *c)
{
    struct http_request *req = &c->req;
    int uri = c->refused == 414;

    if (c->refused == 400) {
        http_json_error(req, 400, "invalid_request",
                         "ambiguous request framing");
    } else if (c->srv->router->browser(req->path))
        http_error_page(req, c->refused,
                        uri ? N_("Address too long") : N_("Request too large"),
                        uri ? N_("The address of this page is longer than "
                                 "Gatehouse accepts.")
                            : N_("Your browser sent more cookies than "
                                 "Gatehouse accepts: other sites on this "
                                 "host may have set many. Remove this "
                                 "site's cookies and try again."));
    else
        http_json_error(req, c->refused, "invalid_request",
                         uri ? "request URI too long"
                             : "request headers too large");
    /* The client is likely to send the same again, and after a 400 for
     * framing nothing that follows can be trusted to start a request. */
    http_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mhd, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct http_conn *c = *con_cls;
    enum MHD_Result ret;

    if (c == NULL)
        return MHD_NO;
    if (c->calls++ == 0) {
        const char *cl;
        c->req.method = method;
        split_url(c);
        c->req.route = c->srv->router->match(c->req.path);
        cl = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
            c->too_big = 1;
        c->refused = limits_headers(mhd, c->url_len, route_name(c), &c->lean);
        if (c->refused == 0 &&
            (c->refused = limits_framing(mhd, route_name(c))) != 0) {
            /* Answered now, so libmicrohttpd reads no body by rules that
             * were just refused, and closes. */
            c->handled = 1;
            reply_refused(c);
            return queue(c);
        }
        /* Answering in this first call would cost keep-alive (MHD 0.9.75);
         * everything is answered on a later one. */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->refused || c->too_big || c->body_len + n > HTTP_MAX_BODY) {
            c->too_big = 1;
            return MHD_YES;
        }
        char *nb = realloc(c->body, c->body_len + n + 1);
        if (nb == NULL)
            return MHD_NO;
        c->body = nb;
        memcpy(c->body + c->body_len, upload_data, n);
        c->body_len += n;
        c->body[c->body_len] = '\0';
        return MHD_YES;
    }
    if (!c->handled) {
        c->handled = 1;
        if (c->refused) {
            reply_refused(c);
        } else if (c->too_big) {
            http_json_error(&c->req, 413, "invalid_request",
                             "request body too large");
        } else {
            c->req.body = c->body != NULL ? c->body : "";
            c->req.body_len = c->body_len;
            c->srv->router->serve(&c->req);
        }
        pthread_mutex_lock(&c->lock);
        if (c->suspend == SUSPENDING) {
            c->suspend = SUSPENDED;
            MHD_suspend_connection(mhd);
            pthread_mutex_unlock(&c->lock);
            return MHD_YES;
        }
        pthread_mutex_unlock(&c->lock);
    }
    ret = queue(c);
    return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *mhd, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct http_conn *c = *con_cls;
    double dur;
    size_t ri;

    if (c == NULL)
        return;
    *con_cls = NULL;
    dur = util_monotonic() - c->started;
    ri = c->req.route >= 0 ? (size_t)c->req.route : SIZE_MAX;
    if (c->req.method != NULL) {
        int status = c->replied ? c->status : 0;
        metrics_http(ri, status, dur);
        /* The path only: a query string can carry codes and tokens. */
        log_info("http_request method=%s path=%s status=%d ms=%.2f%s",
                 c->req.method, route_name(c), status,
                 dur * 1e3,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                                                           : " aborted=1");
    }
    conn_release(c);
    atomic_fetch_sub(&srv->in_flight, 1);
}

/* The message libmicrohttpd logs as it answers a request by itself. */
#define MHD_ERROR_ANSWER "Error processing request (HTTP response code is %u"

/*
 * libmicrohttpd's own messages, one line of ours each. When it answers a
 * request by itself (a header block past the whole pool, a malformed
 * request) our handler never sees it, so that answer is logged and counted
 * here, as unmatched: the path was never parsed or is not ours to log.
 */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    size_t n;

    (void)cls;
    if (strncmp(fmt, MHD_ERROR_ANSWER, strlen(MHD_ERROR_ANSWER)) == 0) {
        va_list cp;
        unsigned status;

        va_copy(cp, ap);
        status = va_arg(cp, unsigned);
        va_end(cp);
        metrics_http(SIZE_MAX, (int)status, 0);
        log_info("http_request method=- path=- status=%u ms=0.00 "
                 "by=libmicrohttpd",
                 status);
        return;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (n = strlen(msg); n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ');)
        msg[--n] = '\0';
    for (char *p = msg; *p != '\0'; p++)
        if (*p == '"')
            *p = '\'';
    log_info("libmicrohttpd message=\"%s\"", msg);
}

int
http_start(const struct http_server_options *opt,
           const struct http_router *router, struct app *app,
           struct http_server **ret)
{
    struct http_server *srv;
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    int i;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, opt->address,
                  &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)opt->port);
    } else if (inet_pton(AF_INET6, opt->address,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)opt->port);
        flags |= MHD_USE_IPv6;
    } else {
        return GH_EINVAL;
    }
    for (i = 0; i < router->nroutes; i++)
        metrics_name_route((size_t)i, router->name(i));
    if ((srv = calloc(1, sizeof(*srv))) == NULL)
        return GH_ENOMEM;
    srv->router = router;
    srv->app = app;
    srv->mhd = MHD_start_daemon(
        flags, 0, on_accept, srv, on_request, srv,
        /* First, or libmicrohttpd prints what comes before it itself. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opt->threads,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(opt->timeout_s > 0 ? opt->timeout_s : 30),
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)CONN_LIMIT, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    if (srv->mhd == NULL) {
        free(srv);
        return GH_EIO;
    }
    *ret = srv;
    return 0;
}

void
http_drain(struct http_server *srv, double timeout_s)
{
    double deadline = util_monotonic() + timeout_s;
    struct timespec ts = {0, 10 * 1000 * 1000};

    /* Stop accepting first, so in-flight requests drain and none start. */
    atomic_store(&srv->draining, 1);
    while (atomic_load(&srv->in_flight) > 0 && util_monotonic() < deadline)
        nanosleep(&ts, NULL);
}

void
http_stop(struct http_server *srv)
{
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->mhd);
    free(srv);
}
