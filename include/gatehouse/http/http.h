/* SPDX-License-Identifier: MIT */
/* The HTTP server: libmicrohttpd, request bodies, response helpers,
 * suspension for work that must not hold a worker thread. Which handler
 * answers is the route table's business (routes.c), given at start. */
#ifndef GATEHOUSE_HTTP_H
#define GATEHOUSE_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "gatehouse/core/i18n.h"

struct app;
struct http_server;
struct page_ctx;

/* Bodies past this are refused with 413 before they are read whole. */
#define HTTP_MAX_BODY (64 * 1024)
/* libmicrohttpd's memory pool per connection, sized for SPEC §4's header
 * budget (limits.c says how). A connection that has made a request keeps all
 * of it resident: libmicrohttpd 0.9.75 zeroes it after every request. */
#define HTTP_CONN_MEMORY (36 * 1024)

/*
 * One request. Handlers read the public fields (borrowed, alive until the
 * response is sent) and answer through exactly one http_reply* call, or
 * http_suspend and later, from any thread, a reply and http_resume.
 */
struct http_request {
    const char *method;
    const char *path;  /* without the query string */
    const char *query; /* raw query string after '?', "" if none */
    const char *body;  /* NUL-terminated, "" if none */
    size_t body_len;
    int route;         /* the router's match for path, -1 if none */
    struct app *app;
    struct http_conn *conn; /* private to http.c */
};

struct http_server_options {
    const char *address;
    int port;
    int threads;
    int timeout_s; /* a connection silent this long is closed */
};

/*
 * The route table's side of the server (routes.c, wired by main.c): the
 * glue reads and answers requests but includes no handler, so nothing it
 * calls can call it back. The functions run on HTTP threads; finish also
 * on the thread that resumes a suspended request.
 */
struct http_router {
    int nroutes;
    /* The route of path (below nroutes), or -1: before the body is
     * read, for logs and metrics. */
    int (*match)(const char *path);
    /* A route's name in logs and metrics (static). */
    const char *(*name)(int route);
    /* Answers req (req->route set) through one http_reply* or
     * http_suspend; -1 routes too, with a 404. */
    void (*serve)(struct http_request *req);
    /* The last word on any answer, the glue's own refusals included,
     * just before it is sent. */
    void (*finish)(struct http_request *req);
    /* 1 if path is a page a person's browser opens: the glue refuses a
     * request there with a page, not JSON. */
    int (*browser)(const char *path);
    /* The maintenance announcement every page shows, in lang (malloc'd,
     * the glue frees it), or NULL: none. NULL function: never one. */
    char *(*banner)(struct app *app, enum lang lang);
};

/* Starts listening and serving what router routes. router (static) and
 * app are borrowed; *ret is owned by the caller (http_stop). */
int http_start(const struct http_server_options *opt,
               const struct http_router *router, struct app *app,
               struct http_server **ret);
/* Stops accepting and lets requests in flight finish, for up to
 * timeout_s. */
void http_drain(struct http_server *srv, double timeout_s);
/* Closes every connection and frees the server. Whatever may still resume
 * a suspended request (the hash pool) must have stopped first. */
void http_stop(struct http_server *srv);

/* A request header's value (borrowed), or NULL. */
const char *http_header(struct http_request *req, const char *name);
/* Whether the Content-Type header is the media type want (ASCII case
 * ignored), alone or with parameters such as charset. */
int http_content_type_is(struct http_request *req, const char *want);
/* The value of cookie name (malloc'd; the caller frees it), or NULL if
 * absent, malformed or sent twice (cookie tossing). */
char *http_cookie(struct http_request *req, const char *name);
/* The client's address as text (borrowed, cached per request). */
const char *http_client_addr(struct http_request *req);

/*
 * CORS on the routes open to browser apps (SPEC §3 allowed_origins; the
 * policy is cors.c's): the request's Origin while the answer is neither
 * shared nor refused yet, else NULL (always NULL until http_cors_open).
 */
const char *http_cors_origin(struct http_request *req);
/* Marks req's route as one whose answers some origins may read. */
void http_cors_open(struct http_request *req);
/* Shares the answer with that Origin (share 1) or not (0), once. */
void http_cors_decide(struct http_request *req, int share);

/* Lets clients cache the answer for a while (else it is no-store). */
void http_cacheable(struct http_request *req);
/* The same for seconds rather than the default 300 (a document that
 * changes, read often: GET /maintenance). */
void http_cacheable_for(struct http_request *req, int seconds);

/* Adds a response header; name and value are copied. */
void http_add_header(struct http_request *req, const char *name,
                     const char *value);
/* Seconds a 503 asks the client to wait when its handler named none. */
#define HTTP_RETRY_AFTER_S "5"
/* Sets the response: body is malloc'd and owned by http from now on. A 503
 * always carries Retry-After (HTTP_RETRY_AFTER_S unless one was added). */
void http_reply(struct http_request *req, int status, const char *ctype,
                char *body, size_t len);
/* A JSON response; steals the reference to body. */
void http_reply_json(struct http_request *req, int status, json_t *body);
/* A JSON response from text (copied). */
void http_reply_json_text(struct http_request *req, int status,
                          const char *text);
/* An HTML page (malloc'd, owned by http) with the security headers of
 * SPEC §7: CSP, X-Frame-Options DENY, Referrer-Policy no-referrer. */
void http_reply_html(struct http_request *req, int status, char *html);
/* The same with csp_extra ("directive value; ...") added to the page's
 * Content-Security-Policy, for a page that needs more than the default
 * allows (the signed-out page's front-channel iframes); NULL adds none,
 * and so does an extra too long for the header (4 KiB in all). */
void http_reply_html_csp(struct http_request *req, int status, char *html,
                         const char *csp_extra);
/* What every page of req shares: the reader's language (`lang` query
 * parameter, else Accept-Language) and the maintenance banner. Made on the
 * first call, borrowed until the response is sent. */
const struct page_ctx *http_page_ctx(struct http_request *req);
/* A browser-facing error page with a title and a message: English msgids,
 * translated into the reader's language and escaped here. */
void http_error_page(struct http_request *req, int status, const char *title,
                     const char *message);
/* RFC 6749 §5.2 error body, the one error body of every JSON endpoint:
 * {"error":...,"error_description":...}; description may be NULL, and is
 * left out if it is not UTF-8. No WWW-Authenticate: the caller's. */
void http_json_error(struct http_request *req, int status, const char *error,
                     const char *description);
/* http_json_error, and on a 401 the WWW-Authenticate Basic of the client
 * authentication endpoints (RFC 6749 §5.2). */
void http_oauth_error(struct http_request *req, int status, const char *error,
                      const char *description);
/* A redirect (302 or 303) to url (copied). */
void http_redirect(struct http_request *req, int status, const char *url);
/* The status of the response set so far, 0 before any: what an audit
 * line reports, whichever function answered. */
int http_status(const struct http_request *req);

/*
 * Parks the connection without holding a worker thread: after the handler
 * returns nothing is sent until another thread sets a reply and calls
 * http_resume. Safe if the reply and resume come before the handler
 * returns. Every http_suspend is matched by exactly one http_resume: the
 * request is freed only after both it completed and it was resumed.
 */
void http_suspend(struct http_request *req);
void http_resume(struct http_request *req);

#endif
