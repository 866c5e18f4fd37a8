/* SPDX-License-Identifier: MIT */
/* POST /register: OpenID Connect Dynamic Client Registration 1.0 (RFC 7591)
 * for holders of an admin token (SPEC §4). Registered clients live in Redis
 * and are found by client_auth_find like config clients. */
#ifndef GATEHOUSE_REGISTER_H
#define GATEHOUSE_REGISTER_H

struct http_request;

/* Random bytes in an assigned client_id (22 base64url characters) and
 * client_secret (43). */
#define REGISTER_ID_BYTES 16
#define REGISTER_SECRET_BYTES 32

/*
 * POST /register. Needs "Authorization: Bearer" with a client_credentials
 * access token carrying ADMIN_SCOPE (401 invalid_token, 403
 * insufficient_scope). Takes an application/json object of client
 * metadata, checked by client_from_json; metadata names Gatehouse does not
 * know are ignored (RFC 7591 §2), client_id and client_secret are refused
 * (the server assigns them). Answers 201 with the registered metadata,
 * client_id, client_secret (unless token_endpoint_auth_method is none),
 * client_id_issued_at and client_secret_expires_at (0: never); or 400
 * invalid_redirect_uri / invalid_client_metadata naming the field, having
 * stored nothing. Every call leaves an audit record.
 */
void register_handle(struct http_request *req);

#endif
