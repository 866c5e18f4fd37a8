/* SPDX-License-Identifier: MIT */
/* Who is calling the token endpoints: the client, found in the config or
 * in Redis, authenticated by its registered method (RFC 6749 §2.3). */
#ifndef GATEHOUSE_CLIENT_AUTH_H
#define GATEHOUSE_CLIENT_AUTH_H

struct app;
struct client;
struct form;
struct http_request;

/* A client that authenticated. */
struct client_auth {
    const struct client *client; /* borrowed, or the same as owned */
    struct client *owned;        /* registered at run time, or NULL */
};

/*
 * The client with that id: from the config file, else registered at run
 * time (Redis). *c is borrowed; if *owned is set on return, it is the same
 * client and the caller frees it with client_free. GH_ENOTFOUND if none.
 */
int client_auth_find(struct app *app, const char *client_id,
                     const struct client **c, struct client **owned);

/*
 * Authenticates the client by its registered token_endpoint_auth_method:
 * client_secret_basic, client_secret_post, or none (client_id only, when
 * allow_public). f is the request's form body. On failure the request has
 * been answered (401 invalid_client, 400 when two methods were used at
 * once, or 503/500). On success the caller releases *ret with
 * client_auth_done.
 */
int client_auth_check(struct http_request *req, const struct form *f,
                      int allow_public, struct client_auth *ret);
void client_auth_done(struct client_auth *a);

#endif
