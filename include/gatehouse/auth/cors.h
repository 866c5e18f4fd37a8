/* SPDX-License-Identifier: MIT */
/* CORS for browser apps on /token, /userinfo and /revoke (SPEC §3
 * allowed_origins): which Origin may read which answer. */
#ifndef GATEHOUSE_CORS_H
#define GATEHOUSE_CORS_H

struct app;
struct client;
struct http_request;

/* 1 if some client (config or registered at run time) lists origin in
 * allowed_origins, 0 if none does, GH_EREDIS. */
int cors_origin_known(struct app *app, const char *origin);

/*
 * Answers the preflight (OPTIONS) of a route open to browser apps, whose
 * methods are listed in methods: 204, sharing with the Origin only if
 * some client allows it, since a preflight names no client.
 */
void cors_preflight(struct http_request *req, const char *methods);

/*
 * Decides whether the request's Origin may read the answer: only if c
 * allows it; c NULL when the request names no client that exists (an
 * error answer), then if some client allows it. Does nothing off those
 * routes, without an Origin, or once decided.
 */
void cors_allow(struct http_request *req, const struct client *c);

#endif
