/* SPDX-License-Identifier: MIT */
/* The one writer of errors for callers that failed to authenticate, or
 * that we could not check: OAuth 2.0 bearer challenges (RFC 6750 §3) and
 * the token endpoints' server-side failures (RFC 6749 §5.2). */
#ifndef GATEHOUSE_AUTH_ERROR_H
#define GATEHOUSE_AUTH_ERROR_H

struct http_request;

/*
 * Answers status with {"error", "error_description"} and a Bearer
 * challenge in WWW-Authenticate naming error and, if not NULL, the scope
 * the resource needs. Without error (no token at all, RFC 6750 §3.1) the
 * challenge names only the scheme and the body says invalid_token. A 503
 * also says when to come back (Retry-After).
 */
void auth_error_bearer(struct http_request *req, int status, const char *error,
                       const char *scope, const char *description);

/* Answers 503 temporarily_unavailable for GH_EREDIS, else 500
 * server_error (logged). */
void auth_error_server(struct http_request *req, int rc);

#endif
