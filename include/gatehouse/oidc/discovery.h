/* SPDX-License-Identifier: MIT */
/* What a client learns before it starts: discovery, JWKS, health. */
#ifndef GATEHOUSE_DISCOVERY_H
#define GATEHOUSE_DISCOVERY_H

struct config;
struct http_request;
struct keyring;

/* Builds the OpenID Connect Discovery 1.0 document for cfg and the keys
 * of kr. Returns a malloc'd JSON text; the caller frees it. */
char *discovery_document(const struct config *cfg, const struct keyring *kr);

void discovery_handle(struct http_request *req); /* GET /.well-known/... */
void discovery_jwks(struct http_request *req);   /* GET /jwks */
void discovery_healthz(struct http_request *req);
void discovery_readyz(struct http_request *req);

#endif
