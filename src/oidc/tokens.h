/* SPDX-License-Identifier: MIT */
/* The token side of OAuth 2.0 / OIDC: codes, /token, /userinfo,
 * /introspect, /revoke, and the checks every bearer token goes through. */
#ifndef GATEHOUSE_TOKENS_H
#define GATEHOUSE_TOKENS_H

#include <stdint.h>

#include <jansson.h>

struct app;
struct client;
struct http_request;

/* What a code stands for, fixed at /authorize (RFC 6749 §4.1.2: bound to
 * client, redirect_uri and PKCE challenge). */
struct code_grant {
    const char *client_id;
    const char *redirect_uri;
    const char *code_challenge; /* S256 challenge, or NULL */
    const char *nonce;          /* or NULL */
    const char *scope;          /* space-separated, granted */
    const char *sid;
    const char *sub;
    int64_t auth_time;
};

/* Issues a single-use code for g, alive tokens.code_ttl_s; writes it (43
 * base64url characters) into code_out. */
int tokens_code_issue(struct app *app, const struct code_grant *g,
                      char code_out[44]);

void tokens_handle_token(struct http_request *req);      /* POST /token */
void tokens_handle_userinfo(struct http_request *req);   /* GET,POST */
void tokens_handle_introspect(struct http_request *req); /* POST */
void tokens_handle_revoke(struct http_request *req);     /* POST */

/*
 * Verifies an access token Gatehouse issued: signature through the JWKS
 * keys, typ at+jwt, iss, exp, not revoked, and, if it carries a sid, that
 * the session is alive. On success *claims is a new reference.
 * GH_EBADTOKEN, GH_EEXPIRED, or GH_EREDIS (cannot tell now).
 */
int tokens_verify_access(struct app *app, const char *jwt, json_t **claims);

/*
 * The client with that id: from the config file, else registered at run
 * time (Redis). *c is borrowed; if *owned is set on return, it is the same
 * client and the caller frees it with client_free. GH_ENOTFOUND if none.
 */
int tokens_find_client(struct app *app, const char *client_id,
                       const struct client **c, struct client **owned);

/* A refresh token as stored (rt:{hash}); fields are malloc'd. */
struct refresh_token {
    char *family;
    char *sid;
    char *client_id;
    char *sub;
    char *scope; /* space-separated, as granted by the code */
    int spent;   /* rotated already: presenting it again is reuse */
    int64_t auth_time; /* the session's, from a rotation; else 0 */
    /* From a rotation in the grace (STORE_REFRESH_GRACE): the hash of the
     * family's live head, and each successor from the presented token to
     * it, sealed under its predecessor, oldest first. */
    char *head;
    char **sealed;
    size_t nsealed;
};
void tokens_refresh_free(struct refresh_token *t);

/*
 * Shared by the token endpoints (client_auth.c, tokens.c, introspect.c).
 */
struct form;

/* A client that authenticated (RFC 6749 §2.3). */
struct client_auth {
    const struct client *client; /* borrowed, or the same as owned */
    struct client *owned;        /* registered at run time, or NULL */
};

/*
 * Parses an application/x-www-form-urlencoded body into *f (freed with
 * form_free), refusing any other content type and any repeated parameter
 * (RFC 6749 §3.2). On failure the request has been answered (400).
 */
int tokens_read_form(struct http_request *req, struct form *f);

/*
 * Authenticates the client by its registered token_endpoint_auth_method:
 * client_secret_basic, client_secret_post, or none (client_id only, when
 * allow_public). On failure the request has been answered (401
 * invalid_client, or 400 when two methods were used at once). On success
 * the caller releases *ret with tokens_client_auth_done.
 */
int tokens_client_auth(struct http_request *req, const struct form *f,
                       int allow_public, struct client_auth *ret);
void tokens_client_auth_done(struct client_auth *a);

/* Answers 503 temporarily_unavailable for GH_EREDIS, else 500. */
void tokens_reply_failure(struct http_request *req, int rc);

/* 1 if the space-separated scope holds name (RFC 6749 §3.3), else 0. */
int tokens_scope_has(const char *scope, const char *name);

/* Clock skew allowed on exp and iat; a revocation outlives exp by it. */
#define TOKENS_LEEWAY_S 30

#endif
