/* SPDX-License-Identifier: MIT */
/* POST /register: OpenID Connect Dynamic Client Registration 1.0 and
 * RFC 7591, for a security console holding an admin token (SPEC §4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <jansson.h>

#include "gatehouse/auth/admin_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/core/log.h"
#include "gatehouse/oidc/register.h"
#include "gatehouse/session/admin_ops.h"
#include "gatehouse/store/store.h"
#include "gatehouse/core/util.h"

/* A fresh 128-bit id colliding even once is already beyond belief; more
 * than this many in a row means the random source is broken. */
#define ID_TRIES 4

/* One registration: who asks, and what the audit and the log say. */
struct call {
    struct http_request *req;
    struct app *app;
    char actor[160];
    char client_id[B64URL_LEN(REGISTER_ID_BYTES) + 1]; /* "" until stored */
    int status;
};

static void
reply_failure(struct call *c, int rc)
{
    if (rc == GH_EREDIS) {
        http_add_header(c->req, "Retry-After", "1");
        http_oauth_error(c->req, 503, "temporarily_unavailable",
                         "the store is unreachable, try again");
        return;
    }
    log_warnx("register_failed error=\"%s\"", gh_strerror(rc));
    http_oauth_error(c->req, 500, "server_error", gh_strerror(rc));
}

/*
 * Reads the request body into *ret: a new object holding only the
 * understood metadata. On failure the request has been answered.
 */
static int
read_metadata(struct call *c, json_t **ret)
{
    json_t *body, *meta = NULL, *v;
    json_error_t je;
    const char *key;
    char why[300];
    size_t ignored = 0;

    /* RFC 7591 §3.1: "application/json", parameters such as charset
     * allowed. */
    if (!http_content_type_is(c->req, "application/json")) {
        http_oauth_error(c->req, 415, "invalid_request",
                         "the body must be application/json");
        return -1;
    }
    /* Duplicate names are refused: two parsers could pick different ones. */
    body =
        json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (body == NULL) {
        snprintf(why, sizeof(why), "the body is not valid JSON: %s", je.text);
        http_oauth_error(c->req, 400, "invalid_client_metadata", why);
        return -1;
    }
    if (!json_is_object(body)) {
        http_oauth_error(c->req, 400, "invalid_client_metadata",
                         "the body must be a JSON object");
        goto fail;
    }
    if ((meta = json_object()) == NULL) {
        reply_failure(c, GH_ENOMEM);
        goto fail;
    }
    json_object_foreach(body, key, v) {
        /* RFC 7591 §3.2.1: the server issues these; a client that sends
         * one expects something this server will not do. */
        if (strcmp(key, "client_id") == 0 ||
            strcmp(key, "client_secret") == 0) {
            snprintf(why, sizeof(why),
                     "%s: is assigned by the server; leave it out", key);
            http_oauth_error(c->req, 400, "invalid_client_metadata", why);
            goto fail;
        }
        /* RFC 7591 §2: "The authorization server MUST ignore any client
         * metadata sent by the client that it does not understand"; the
         * 201 answer shows the client what was registered, so nothing is
         * lost silently. */
        if (!client_key_known(key)) {
            ignored++;
            continue;
        }
        if (json_object_set(meta, key, v) < 0) {
            reply_failure(c, GH_ENOMEM);
            goto fail;
        }
    }
    if (ignored > 0)
        log_debug("register_ignored_metadata actor=%s names=%zu", c->actor,
                  ignored);
    json_decref(body);
    *ret = meta;
    return 0;
fail:
    json_decref(meta);
    json_decref(body);
    return -1;
}

/* 1 if id names a client already (config or Redis), 0 if free, or a
 * GH_E* code. */
static int
id_taken(struct app *app, const char *id)
{
    char *text = NULL;
    int rc;

    if (client_in_config(app->cfg, id) != NULL)
        return 1;
    rc = store_client_get(app->store, id, &text);
    util_free_secret(text);
    if (rc == GH_ENOTFOUND)
        return 0;
    return rc < 0 ? rc : 1;
}

/* RFC 7591 §3.2.2: a problem with a redirection URI has its own code. */
static const char *
error_for_field(const char *field)
{
    if (strncmp(field, "redirect_uris", 13) == 0 ||
        strncmp(field, "post_logout_redirect_uris", 25) == 0)
        return "invalid_redirect_uri";
    return "invalid_client_metadata";
}

/*
 * The 201 answer (RFC 7591 §3.2.1): every registered field by its DCR
 * name ("scope" as one string), the credentials, and when they were
 * issued. A new reference, or NULL.
 */
static json_t *
response_json(const struct client *cl, int64_t issued_at)
{
    json_t *o = client_to_json(cl, true);
    char *scope = NULL, *p;
    size_t i, len = 0;
    int bad = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; i < cl->scopes.n; i++)
        len += strlen(cl->scopes.v[i]) + 1;
    if ((scope = calloc(1, len + 1)) == NULL) {
        json_decref(o);
        return NULL;
    }
    for (p = scope, i = 0; i < cl->scopes.n; i++)
        p += sprintf(p, "%s%s", i > 0 ? " " : "", cl->scopes.v[i]);
    json_object_del(o, "scopes");
    bad |= json_object_set_new(o, "scope", json_string(scope));
    bad |=
        json_object_set_new(o, "client_id_issued_at", json_integer(issued_at));
    if (cl->client_secret != NULL)
        bad |=
            json_object_set_new(o, "client_secret_expires_at", json_integer(0));
    if (bad) {
        json_decref(o);
        o = NULL;
    }
    free(scope);
    return o;
}

static void
register_client(struct call *c)
{
    char id[B64URL_LEN(REGISTER_ID_BYTES) + 1];
    char secret[B64URL_LEN(REGISTER_SECRET_BYTES) + 1];
    struct field_error fe;
    char why[sizeof(fe.field) + sizeof(fe.problem) + 2];
    const char *method;
    struct client *cl = NULL;
    json_t *meta = NULL, *answer = NULL, *stored = NULL;
    char *text = NULL;
    int64_t now;
    int tries, rc;

    secret[0] = '\0';
    if (read_metadata(c, &meta) < 0)
        return;
    /* A public client gets no secret (RFC 7591 §3.2.1); anything else
     * that is not a valid method fails in client_from_json below. */
    method =
        json_string_value(json_object_get(meta, "token_endpoint_auth_method"));
    if (method == NULL || strcmp(method, "none") != 0) {
        if ((rc = util_random_id(secret, REGISTER_SECRET_BYTES)) < 0 ||
            json_object_set_new(meta, "client_secret", json_string(secret)) <
                0) {
            reply_failure(c, rc < 0 ? rc : GH_ENOMEM);
            goto out;
        }
    }
    /* The metadata is checked with each candidate id, since the display
     * name defaults to it; the check is the same every time. */
    for (tries = 0;; tries++) {
        if (tries == ID_TRIES) {
            reply_failure(c, GH_ECRYPTO);
            goto out;
        }
        if ((rc = util_random_id(id, REGISTER_ID_BYTES)) < 0 ||
            json_object_set_new(meta, "client_id", json_string(id)) < 0) {
            reply_failure(c, rc < 0 ? rc : GH_ENOMEM);
            goto out;
        }
        client_free(cl);
        cl = NULL;
        if ((rc = client_from_json(meta, "", &cl, &fe)) == GH_EINVAL) {
            snprintf(why, sizeof(why), "%s: %s", fe.field, fe.problem);
            http_oauth_error(c->req, 400, error_for_field(fe.field), why);
            goto out;
        }
        if (rc < 0) {
            reply_failure(c, rc);
            goto out;
        }
        /* SPEC §4: admin clients are the config file's, where whoever
         * reviews it sees them; a leaked admin token must not be able to
         * mint a lasting admin credential of its own. */
        if (client_allows_scope(cl, ADMIN_SCOPE)) {
            http_oauth_error(c->req, 400, "invalid_client_metadata",
                             "scope: " ADMIN_SCOPE
                             " cannot be registered; admin "
                             "clients are configured in the config file");
            goto out;
        }
        /* An ID token of an alg with no active key could not be signed:
         * say so now rather than fail every sign-in of the client. */
        if (cl->id_token_alg != NULL &&
            keys_kid(c->app->keys, cl->id_token_alg) == NULL) {
            snprintf(why, sizeof(why),
                     "id_token_signed_response_alg: %s is not supported "
                     "here (no active key); see id_token_signing_alg_"
                     "values_supported in discovery",
                     cl->id_token_alg);
            http_oauth_error(c->req, 400, "invalid_client_metadata", why);
            goto out;
        }
        if ((rc = id_taken(c->app, id)) < 0) {
            reply_failure(c, rc);
            goto out;
        }
        if (rc == 0)
            break;
    }

    /* The answer is made before anything is stored, so a failure here
     * leaves no client whose secret nobody was told. */
    now = util_now();
    if ((answer = response_json(cl, now)) == NULL) {
        reply_failure(c, GH_ENOMEM);
        goto out;
    }
    /* Stored as client_to_json makes it, which client_from_json reads
     * back unchanged (client_auth_find). */
    if ((stored = client_to_json(cl, true)) == NULL ||
        (text = json_dumps(stored, JSON_COMPACT)) == NULL) {
        reply_failure(c, GH_ENOMEM);
        goto out;
    }
    if ((rc = store_client_put(c->app->store, id, text)) < 0) {
        reply_failure(c, rc);
        goto out;
    }
    memcpy(c->client_id, id, sizeof(id));
    http_reply_json(c->req, 201, answer);
    answer = NULL;
out:
    json_decref(answer);
    json_decref(stored);
    util_free_secret(text);
    client_free(cl);
    json_decref(meta);
    OPENSSL_cleanse(secret, sizeof(secret));
}

static const char *
outcome_of(int status)
{
    switch (status) {
    case 201:
        return "ok";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    default:
        return status < 500 ? "invalid" : "error";
    }
}

void
register_handle(struct http_request *req)
{
    struct call c = {.req = req, .app = req->app, .actor = "anonymous"};
    struct audit_event ev;
    /* The same check, in the same place, as the admin API. */
    if (admin_auth_check(req, c.actor, sizeof(c.actor)) == 0)
        register_client(&c);
    c.status = http_status(req);
    /* Like every admin call, allowed or not, it leaves a record. */
    ev = (struct audit_event){.actor = c.actor,
                              .action = "register_client",
                              .target =
                                  c.client_id[0] != '\0' ? c.client_id : NULL,
                              .outcome = outcome_of(c.status),
                              .addr = http_client_addr(req),
                              .sessions = -1,
                              .deliveries = -1};
    admin_audit(c.app->store, &ev);
    log_info("register_call actor=%s client=%s outcome=%s status=%d", c.actor,
             c.client_id[0] != '\0' ? c.client_id : "-", ev.outcome, c.status);
}
