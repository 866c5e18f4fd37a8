/* SPDX-License-Identifier: MIT */
/* Who is calling the token endpoints: the client, found in the config or
 * in Redis, authenticated by its registered method (RFC 6749 §2.3). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/auth/auth_error.h"
#include "gatehouse/auth/client_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/core/config.h"
#include "gatehouse/auth/cors.h"
#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/core/log.h"
#include "gatehouse/store/store.h"
#include "gatehouse/core/util.h"

int
client_auth_find(struct app *app, const char *client_id,
                 const struct client **c, struct client **owned)
{
    const struct client *fixed;
    struct client *nc = NULL;
    struct field_error fe;
    json_t *j = NULL;
    char *text = NULL;
    int rc;

    if (client_id == NULL || *client_id == '\0')
        return GH_ENOTFOUND;
    /* Config clients first: no Redis round trip on the hot path. */
    if ((fixed = client_in_config(app->cfg, client_id)) != NULL) {
        *c = fixed;
        *owned = NULL;
        return 0;
    }
    if ((rc = store_client_get(app->store, client_id, &text)) < 0)
        goto out;
    if ((j = json_loads(text, 0, NULL)) == NULL ||
        client_from_json(j, "", &nc, &fe) < 0 ||
        strcmp(nc->client_id, client_id) != 0) {
        log_warnx("client_record_corrupt client=%s", client_id);
        rc = GH_EPROTO;
        goto out;
    }
    *c = nc;
    *owned = nc;
    nc = NULL;
    rc = 0;
out:
    client_free(nc);
    json_decref(j);
    util_free_secret(text);
    return rc;
}

/*
 * RFC 6749 §2.3: a client authenticates with the one method it registered
 * (OIDC Registration token_endpoint_auth_method), never more than one at
 * once; a public client only names itself.
 */
int
client_auth_check(struct http_request *req, const struct form *f,
                  int allow_public, struct client_auth *ret)
{
    const char *authz = http_header(req, "Authorization");
    const char *id = form_get(f, "client_id");
    const char *secret = form_get(f, "client_secret");
    enum auth_method method = AUTH_NONE;
    const struct client *c = NULL;
    struct client *owned = NULL;
    char *buser = NULL, *bpass = NULL;
    const char *why = NULL;
    int rc = 0;

    if (authz != NULL && secret != NULL) {
        http_oauth_error(req, 400, "invalid_request",
                         "more than one client authentication method");
        return GH_EINVAL;
    }
    if (authz != NULL) {
        method = AUTH_CLIENT_SECRET_BASIC;
        if (form_basic_auth(authz, &buser, &bpass) < 0) {
            why = "malformed Authorization header";
            goto out;
        }
        if (id != NULL && strcmp(id, buser) != 0) {
            why = "client_id does not match the credentials";
            goto out;
        }
        id = buser;
        secret = bpass;
    } else if (secret != NULL) {
        method = AUTH_CLIENT_SECRET_POST;
    }
    if (id == NULL) {
        why = "client authentication required";
        goto out;
    }
    rc = client_auth_find(req->app, id, &c, &owned);
    if (rc == GH_ENOTFOUND) {
        why = "client authentication failed";
        goto out;
    }
    if (rc < 0) {
        auth_error_server(req, rc);
        goto out;
    }
    /* The client is named: its origins alone may read the answer, failed
     * authentication included (SPEC §3 allowed_origins). */
    cors_allow(req, c);
    if (c->auth_method != method)
        why = "the client must use its registered authentication method";
    else if (method == AUTH_NONE && !allow_public)
        why = "public clients cannot use this endpoint";
    else if (method != AUTH_NONE && !util_streq_ct(secret, c->client_secret))
        why = "client authentication failed";
    if (why != NULL)
        goto out;
    ret->client = c;
    ret->owned = owned;
    owned = NULL;
out:
    if (why != NULL) {
        log_info("client_auth_failed client=%s method=%s path=%s "
                 "reason=\"%s\"",
                 c != NULL ? c->client_id : "-",
                 client_auth_method_name(method), req->path, why);
        /* RFC 6749 §5.2: 401, and http.c adds WWW-Authenticate. */
        http_oauth_error(req, 401, "invalid_client", why);
        rc = GH_EDENIED;
    }
    client_free(owned);
    free(buser);
    util_free_secret(bpass);
    return rc;
}

void
client_auth_done(struct client_auth *a)
{
    client_free(a->owned);
    a->owned = NULL;
    a->client = NULL;
}
