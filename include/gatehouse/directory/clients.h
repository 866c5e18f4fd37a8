/* SPDX-License-Identifier: MIT */
/* Relying-party clients: their metadata, parsed and checked in one place for
 * both the config file and Dynamic Client Registration. */
#ifndef GATEHOUSE_CLIENTS_H
#define GATEHOUSE_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/strlist.h"

struct config;

/* The longest scope name a client may be allowed: a longer name in a
 * request is allowed to no client. */
#define SCOPE_NAME_MAX 64

enum grant_type {
    GRANT_AUTHORIZATION_CODE = 1 << 0,
    GRANT_REFRESH_TOKEN = 1 << 1,
    GRANT_CLIENT_CREDENTIALS = 1 << 2,
};

enum auth_method {
    AUTH_CLIENT_SECRET_BASIC,
    AUTH_CLIENT_SECRET_POST,
    AUTH_NONE, /* public client: PKCE S256 required */
};

struct client {
    char *client_id;
    char *client_secret; /* NULL for AUTH_NONE */
    char *name;          /* display name; defaults to client_id */
    struct strlist redirect_uris;
    struct strlist post_logout_redirect_uris;
    char *backchannel_logout_uri; /* NULL when the app wants no notice */
    bool backchannel_logout_session_required;
    /* OIDC Front-Channel Logout 1.0: loaded in an iframe of the signed-out
     * page; NULL when the app wants none. With session_required the page
     * adds iss and sid to it. */
    char *frontchannel_logout_uri;
    bool frontchannel_logout_session_required;
    unsigned grant_types; /* enum grant_type bits */
    enum auth_method auth_method;
    /* id_token_signed_response_alg, "RS256" or "ES256"; NULL when unset:
     * RS256 if an RS256 key is active, else signing_alg (SPEC §3). */
    char *id_token_alg;
    struct strlist scopes;
    /* Origins a browser app calls /token, /userinfo and /revoke from
     * (CORS, SPEC §3): canonical "scheme://host[:port]"; by default those
     * of redirect_uris. */
    struct strlist allowed_origins;
};

/*
 * Builds a client from its JSON metadata (the config's "clients" entries
 * and POST /register bodies share these rules: SPEC §3, §7). Unknown keys
 * are an error. field_prefix is prepended to field names in err (e.g.
 * "clients[0]."). On success *ret is a new client the caller frees with
 * client_free. On failure returns GH_EINVAL and fills err.
 */
int client_from_json(const json_t *obj, const char *field_prefix,
                     struct client **ret, struct field_error *err);
/* 1 if key is one client_from_json understands (the RFC 7591 and OIDC
 * Registration names, plus the config file's "name" and "scopes"). */
int client_key_known(const char *key);
/* Returns new JSON metadata for c (with the secret only if with_secret). */
json_t *client_to_json(const struct client *c, bool with_secret);
void client_free(struct client *c);
/* The token_endpoint_auth_method value m stands for (static). */
const char *client_auth_method_name(enum auth_method m);
/* The client with that id from the config file, or NULL (borrowed). */
const struct client *client_in_config(const struct config *cfg, const char *id);

/* 1 if uri is registered for c, compared exactly (SPEC §7), else 0. */
int client_has_redirect_uri(const struct client *c, const char *uri);
int client_has_post_logout_uri(const struct client *c, const char *uri);
/* 1 if scope (one name) is allowed for c. */
int client_allows_scope(const struct client *c, const char *scope);
/* 1 if origin (a request's Origin header) may read c's responses. */
int client_allows_origin(const struct client *c, const char *origin);

/*
 * Redirect and back-channel URI policy: absolute http(s) URI, no fragment,
 * no userinfo; back-channel URIs https, or http on a loopback address.
 * 0 if acceptable, else GH_EINVAL with *why set to a static reason.
 */
int uri_check_redirect(const char *uri, const char **why);
int uri_check_backchannel(const char *uri, const char **why);
/* An origin as browsers send it (RFC 6454 §6.2): "scheme://host[:port]",
 * http(s), lower-case host, no default port, no path. Same contract. */
int uri_check_origin(const char *origin, const char **why);
/* The origin of an http(s) URI (malloc'd; the caller frees it) into *ret.
 * 0, GH_EINVAL if uri has none, GH_ENOMEM. */
int uri_origin(const char *uri, char **ret);

#endif
