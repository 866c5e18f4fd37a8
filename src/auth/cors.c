/* SPDX-License-Identifier: MIT */
/* CORS for browser apps, as Keycloak's web origins and node-oidc-provider
 * do it: an answer about a client is shared only with the origins that
 * client allows, never with "*" on these routes and never with
 * credentials (Fetch Standard §3.2.5). A refused origin gets no
 * Access-Control-Allow-Origin, so the browser withholds the answer; the
 * request itself is served as for any other caller. */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/app.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/core/config.h"
#include "gatehouse/auth/cors.h"
#include "gatehouse/core/error.h"
#include "gatehouse/http/http.h"
#include "gatehouse/core/log.h"
#include "gatehouse/store/store.h"

/* How long a browser may reuse a preflight answer. Short, so a client
 * whose origins changed in the config is honoured soon after a restart. */
#define PREFLIGHT_MAX_AGE "600"

int
cors_origin_known(struct app *app, const char *origin)
{
    size_t i;

    /* Config clients first: no Redis round trip for them. */
    for (i = 0; i < app->cfg->nclients; i++)
        if (client_allows_origin(app->cfg->clients[i], origin))
            return 1;
    return store_client_origin_known(app->store, origin);
}

void
cors_preflight(struct http_request *req, const char *methods)
{
    const char *origin = http_cors_origin(req);
    int rc = 0;

    if (origin != NULL && (rc = cors_origin_known(req->app, origin)) < 0) {
        log_warnx("cors_preflight_failed error=\"%s\"", gh_strerror(rc));
        http_add_header(req, "Retry-After", "1");
        http_json_error(req, 503, "temporarily_unavailable",
                         "the store is unreachable, try again");
        return;
    }
    http_cors_decide(req, rc == 1);
    if (rc == 1) {
        http_add_header(req, "Access-Control-Allow-Methods", methods);
        /* Authorization carries client credentials and bearer tokens,
         * Content-Type a form body; nothing else is read here. */
        http_add_header(req, "Access-Control-Allow-Headers",
                        "Authorization, Content-Type");
        http_add_header(req, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
    }
    http_reply(req, 204, "text/plain; charset=utf-8", strdup(""), 0);
}

void
cors_allow(struct http_request *req, const struct client *c)
{
    const char *origin = http_cors_origin(req);

    if (origin == NULL)
        return;
    if (c != NULL) {
        http_cors_decide(req, client_allows_origin(c, origin));
        return;
    }
    /* No client to ask (the answer is an error about a client that does
     * not exist, or a token that is not valid): an app of a registered
     * origin may read why, so it can start a new sign-in. */
    http_cors_decide(req, cors_origin_known(req->app, origin) == 1);
}
