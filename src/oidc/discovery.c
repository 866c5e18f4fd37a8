/* SPDX-License-Identifier: MIT */
/* Discovery, JWKS and health: what a client or a load balancer asks first. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/app.h"
#include "core/config.h"
#include "core/xmalloc.h"
#include "oidc/discovery.h"
#include "http/http.h"
#include "crypto/keys.h"
#include "store/store.h"

static json_t *
endpoint(const struct config *cfg, const char *path)
{
    return json_sprintf("%s%s", cfg->issuer, path);
}

char *
discovery_document(const struct config *cfg, const struct keyring *kr)
{
    const char *const *alg;
    json_t *d, *algs;
    char *text;

    /* Every alg with an active key: ID tokens are signed per client in any
     * of them (SPEC §3). */
    if ((algs = json_array()) == NULL)
        return NULL;
    for (alg = keys_algs(kr); *alg != NULL; alg++)
        if (json_array_append_new(algs, json_string(*alg)) < 0) {
            json_decref(algs);
            return NULL;
        }

    /* OpenID Connect Discovery 1.0 §3, plus RFC 8414 names for the
     * introspection and revocation endpoints. Only what is supported. */
    d = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
        " s:[sss], s:[s], s:[s], s:[sss], s:[s], s:o,"
        " s:[sss], s:[ss], s:[sss], s:[s], s:[ss],"
        " s:[sssssssssssssssssss], s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
        "issuer", cfg->issuer,
        "authorization_endpoint", endpoint(cfg, "/authorize"),
        "token_endpoint", endpoint(cfg, "/token"),
        "userinfo_endpoint", endpoint(cfg, "/userinfo"),
        "jwks_uri", endpoint(cfg, "/jwks"),
        "registration_endpoint", endpoint(cfg, "/register"),
        "end_session_endpoint", endpoint(cfg, "/logout"),
        "introspection_endpoint", endpoint(cfg, "/introspect"),
        "revocation_endpoint", endpoint(cfg, "/revoke"),
        "scopes_supported", "openid", "profile", "email",
        "response_types_supported", "code",
        "response_modes_supported", "query",
        "grant_types_supported", "authorization_code", "refresh_token",
        "client_credentials",
        "subject_types_supported", "public",
        "id_token_signing_alg_values_supported", algs,
        "token_endpoint_auth_methods_supported", "client_secret_basic",
        "client_secret_post", "none",
        "introspection_endpoint_auth_methods_supported",
        "client_secret_basic", "client_secret_post",
        /* A public client may revoke its own tokens (introspect.c). */
        "revocation_endpoint_auth_methods_supported", "client_secret_basic",
        "client_secret_post", "none",
        "code_challenge_methods_supported", "S256",
        "prompt_values_supported", "none", "login",
        "claims_supported", "sub", "iss", "aud", "exp", "iat", "auth_time",
        "nonce", "sid", "azp", "at_hash", "name", "given_name",
        "family_name", "preferred_username", "locale", "zoneinfo",
        "updated_at", "email", "email_verified",
        "backchannel_logout_supported", 1,
        "backchannel_logout_session_supported", 1,
        "frontchannel_logout_supported", 0,
        "claims_parameter_supported", 0,
        "request_parameter_supported", 0,
        "request_uri_parameter_supported", 0,
        "authorization_response_iss_parameter_supported", 1);
    if (d == NULL)
        return NULL;
    text = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    return text;
}

void
discovery_handle(struct http_request *req)
{
    http_reply_json_text(req, 200, req->app->discovery);
}

void
discovery_jwks(struct http_request *req)
{
    http_reply(req, 200, "application/jwk-set+json",
               xstrdup(keys_jwks(req->app->keys)),
               strlen(keys_jwks(req->app->keys)));
}

void
discovery_healthz(struct http_request *req)
{
    http_reply_json_text(req, 200, "{\"status\":\"ok\"}");
}

void
discovery_readyz(struct http_request *req)
{
    if (store_ping(req->app->store) == 0)
        http_reply_json_text(req, 200, "{\"status\":\"ready\"}");
    else
        http_reply_json_text(req, 503,
                             "{\"status\":\"unavailable\","
                             "\"reason\":\"redis unreachable\"}");
}
