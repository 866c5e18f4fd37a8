/* SPDX-License-Identifier: MIT */
/*
 * The route table (SPEC §4): which handler answers which path and methods,
 * and what the answer may be (cached, read by browser apps). The server
 * glue (http.c) reaches it only through routes_router, which cli_serve.c hands
 * to http_start, so the glue includes no handler.
 */
#include <string.h>

#include "gatehouse/api/admin.h"
#include "gatehouse/api/maintenance_endpoint.h"
#include "gatehouse/api/metrics_endpoint.h"
#include "gatehouse/auth/cors.h"
#include "gatehouse/http/http.h"
#include "gatehouse/routes.h"
#include "gatehouse/oidc/account.h"
#include "gatehouse/oidc/passkey.h"
#include "gatehouse/oidc/authorize.h"
#include "gatehouse/oidc/login.h"
#include "gatehouse/oidc/discovery.h"
#include "gatehouse/oidc/logout.h"
#include "gatehouse/oidc/introspect.h"
#include "gatehouse/oidc/register.h"
#include "gatehouse/oidc/token.h"
#include "gatehouse/oidc/userinfo.h"

enum {
    M_GET = 1 << 0,
    M_POST = 1 << 1,
    M_DELETE = 1 << 2,
    M_HEAD = 1 << 3,
    M_OPTIONS = 1 << 4, /* CORS preflight, on the routes open to browsers */
    M_PUT = 1 << 5,
};

/* Discovery and keys may be cached by clients; nothing else may. */
#define ROUTE_CACHEABLE 1u
/* Public documents: readable from any origin, without credentials. */
#define ROUTE_CORS_ANY 2u
/* Answers about a client: readable from the origins it allows (cors.c). */
#define ROUTE_CORS_CLIENT 4u
/* Sign-in: closed with the maintenance page while a maintenance shutdown
 * is active (SPEC §5). */
#define ROUTE_SIGN_IN 8u

struct route {
    unsigned methods;
    const char *path; /* a trailing '*' matches any rest */
    void (*fn)(struct http_request *);
    unsigned flags;
};

/* Every endpoint, in one place (SPEC §4). */
static const struct route routes[] = {
    {M_GET | M_HEAD | M_OPTIONS, "/.well-known/openid-configuration",
     discovery_handle, ROUTE_CACHEABLE | ROUTE_CORS_ANY},
    {M_GET | M_HEAD | M_OPTIONS, "/jwks", discovery_jwks,
     ROUTE_CACHEABLE | ROUTE_CORS_ANY},
    {M_GET | M_HEAD, "/healthz", discovery_healthz, 0},
    {M_GET | M_HEAD, "/readyz", discovery_readyz, 0},
    {M_GET, "/metrics", metrics_endpoint_handle, 0},
    {M_GET | M_POST, "/authorize", authorize_handle, ROUTE_SIGN_IN},
    {M_GET | M_POST, "/login", login_handle, ROUTE_SIGN_IN},
    {M_GET | M_POST, "/logout", logout_handle, 0},
    {M_GET | M_POST, "/account", account_handle, 0},
    {M_GET | M_POST, "/account/passkeys", passkey_account_handle, 0},
    {M_GET | M_POST, "/login/passkey", passkey_login_handle, ROUTE_SIGN_IN},
    {M_GET | M_HEAD, "/passkey.js", passkey_script, ROUTE_CACHEABLE},
    {M_GET | M_HEAD, "/logout/frontchannel.js", logout_frontchannel_script,
     ROUTE_CACHEABLE},
    {M_POST | M_OPTIONS, "/token", token_handle, ROUTE_CORS_CLIENT},
    {M_GET | M_POST | M_OPTIONS, "/userinfo", userinfo_handle,
     ROUTE_CORS_CLIENT},
    {M_POST, "/introspect", introspect_handle, 0},
    {M_POST | M_OPTIONS, "/revoke", introspect_handle_revoke,
     ROUTE_CORS_CLIENT},
    {M_POST, "/register", register_handle, 0},
    /* Cacheable for seconds, not minutes: the handler says so. */
    {M_GET | M_HEAD | M_OPTIONS, "/maintenance", maintenance_endpoint_handle,
     ROUTE_CORS_ANY},
    {M_GET | M_POST | M_PUT | M_DELETE, "/admin/*", admin_handle, 0},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static int
match(const char *path)
{
    size_t i;

    for (i = 0; i < NROUTES; i++) {
        const char *p = routes[i].path;
        size_t n = strlen(p);
        if (p[n - 1] == '*' ? strncmp(path, p, n - 1) == 0
                            : strcmp(path, p) == 0)
            return (int)i;
    }
    return -1;
}

static const char *
name(int route)
{
    return routes[route].path;
}

static unsigned
method_bit(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return M_GET;
    if (strcmp(m, "POST") == 0)
        return M_POST;
    if (strcmp(m, "DELETE") == 0)
        return M_DELETE;
    if (strcmp(m, "PUT") == 0)
        return M_PUT;
    if (strcmp(m, "HEAD") == 0)
        return M_HEAD;
    if (strcmp(m, "OPTIONS") == 0)
        return M_OPTIONS;
    return 0;
}

static void
allow_header(unsigned methods, char *buf, size_t len)
{
    buf[0] = '\0';
    if (methods & M_GET)
        strncat(buf, "GET, HEAD, ", len - strlen(buf) - 1);
    if (methods & M_POST)
        strncat(buf, "POST, ", len - strlen(buf) - 1);
    if (methods & M_PUT)
        strncat(buf, "PUT, ", len - strlen(buf) - 1);
    if (methods & M_DELETE)
        strncat(buf, "DELETE, ", len - strlen(buf) - 1);
    if (methods & M_OPTIONS)
        strncat(buf, "OPTIONS, ", len - strlen(buf) - 1);
    if (strlen(buf) >= 2)
        buf[strlen(buf) - 2] = '\0';
}

/* CORS preflight (Fetch Standard §4.8): the methods and headers the
 * route takes from a browser. */
static void
preflight(struct http_request *req, const struct route *r)
{
    char allow[64];

    allow_header(r->methods, allow, sizeof(allow));
    if (r->flags & ROUTE_CORS_CLIENT) {
        cors_preflight(req, allow);
        return;
    }
    http_add_header(req, "Access-Control-Allow-Methods", allow);
    http_add_header(req, "Access-Control-Max-Age", "86400");
    http_reply(req, 204, "text/plain; charset=utf-8", strdup(""), 0);
}

/* Lets cors.c decide who may read the answers of a route about a client:
 * every answer, the 405 and the glue's own refusals included. */
static void
open_cors(struct http_request *req)
{
    if (req->route >= 0 && (routes[req->route].flags & ROUTE_CORS_CLIENT))
        http_cors_open(req);
}

static void
serve(struct http_request *req)
{
    const struct route *r;
    char allow[64];

    open_cors(req);
    if (req->route < 0) {
        http_json_error(req, 404, "not_found", "no such endpoint");
        return;
    }
    r = &routes[req->route];
    if ((r->methods & method_bit(req->method)) == 0) {
        allow_header(r->methods, allow, sizeof(allow));
        http_add_header(req, "Allow", allow);
        http_json_error(req, 405, "invalid_request", "method not allowed");
        return;
    }
    if (r->flags & ROUTE_CACHEABLE)
        http_cacheable(req);
    if (r->flags & ROUTE_CORS_ANY)
        http_add_header(req, "Access-Control-Allow-Origin", "*");
    /* Whether the Origin may read the answer depends on it (Fetch
     * Standard §3.2.5: caches must key on it). */
    if (r->flags & ROUTE_CORS_CLIENT)
        http_add_header(req, "Vary", "Origin");
    if (strcmp(req->method, "OPTIONS") == 0) {
        preflight(req, r);
        return;
    }
    if ((r->flags & ROUTE_SIGN_IN) && maintenance_endpoint_closed(req))
        return;
    r->fn(req);
}

/* An answer the handler tied to no client (an early error, or one the
 * glue gave itself): cors.c decides who may read it. */
static void
finish(struct http_request *req)
{
    open_cors(req);
    cors_allow(req, NULL);
}

/* Paths a person's browser opens: their errors are pages, not JSON. */
static int
browser(const char *path)
{
    static const char *const pages[] = {"/authorize", "/login", "/logout",
                                        "/account"};
    size_t i, n;

    for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        n = strlen(pages[i]);
        if (strncmp(path, pages[i], n) == 0 &&
            (path[n] == '\0' || path[n] == '/'))
            return 1;
    }
    return 0;
}

const struct http_router routes_router = {
    .nroutes = NROUTES,
    .match = match,
    .name = name,
    .serve = serve,
    .finish = finish,
    .browser = browser,
    .banner = maintenance_endpoint_banner,
};
