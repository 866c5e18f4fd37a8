/* SPDX-License-Identifier: MIT */
/* Discovery, JWKS and health: what a client or a load balancer asks first. */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/jsonw.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/oidc/discovery.h"
#include "gatehouse/http/http.h"
#include "gatehouse/session/session.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/store/store.h"

/* A JSON array of the strings in list (NULL-terminated). */
static void
strings(struct jw *w, const char *key, const char *const *list)
{
    jw_arr_begin(w, key);
    for (; *list != NULL; list++)
        jw_str(w, NULL, *list);
    jw_arr_end(w);
}

#define STRINGS(w, key, ...)                                                   \
    strings(w, key, (const char *const[]){__VA_ARGS__, NULL})

char *
discovery_document(const struct config *cfg, const struct keyring *kr)
{
    /* OpenID Connect Discovery 1.0 §3, plus RFC 8414 names for the
     * introspection and revocation endpoints. Only what is supported. */
    static const struct {
        const char *key, *path;
    } endpoints[] = {
        {"authorization_endpoint", "/authorize"},
        {"token_endpoint", "/token"},
        {"userinfo_endpoint", "/userinfo"},
        {"jwks_uri", "/jwks"},
        {"registration_endpoint", "/register"},
        {"end_session_endpoint", "/logout"},
        {"introspection_endpoint", "/introspect"},
        {"revocation_endpoint", "/revoke"},
    };
    struct jw w;
    char *text = NULL;
    size_t i;

    jw_init(&w, 2048);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "issuer", cfg->issuer);
    for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
        jw_strcat(&w, endpoints[i].key, cfg->issuer, endpoints[i].path);
    STRINGS(&w, "scopes_supported", "openid", "profile", "email");
    STRINGS(&w, "response_types_supported", "code");
    STRINGS(&w, "response_modes_supported", "query");
    STRINGS(&w, "grant_types_supported", "authorization_code",
            "refresh_token", "client_credentials");
    STRINGS(&w, "subject_types_supported", "public");
    /* Every alg with an active key: ID tokens are signed per client in any
     * of them (SPEC §3). */
    strings(&w, "id_token_signing_alg_values_supported", keys_algs(kr));
    STRINGS(&w, "token_endpoint_auth_methods_supported",
            "client_secret_basic", "client_secret_post", "none");
    STRINGS(&w, "introspection_endpoint_auth_methods_supported",
            "client_secret_basic", "client_secret_post");
    /* A public client may revoke its own tokens (introspect.c). */
    STRINGS(&w, "revocation_endpoint_auth_methods_supported",
            "client_secret_basic", "client_secret_post", "none");
    STRINGS(&w, "code_challenge_methods_supported", "S256");
    STRINGS(&w, "prompt_values_supported", "none", "login");
    STRINGS(&w, "acr_values_supported", SESSION_ACR_PWD, SESSION_ACR_2FA);
    STRINGS(&w, "claims_supported", "sub", "iss", "aud", "exp", "iat",
            "auth_time", "amr", "acr", "nonce", "sid", "azp", "at_hash",
            "name",
            "given_name", "family_name", "preferred_username", "locale",
            "zoneinfo", "updated_at", "email", "email_verified");
    jw_bool(&w, "backchannel_logout_supported", 1);
    jw_bool(&w, "backchannel_logout_session_supported", 1);
    jw_bool(&w, "frontchannel_logout_supported", 1);
    jw_bool(&w, "frontchannel_logout_session_supported", 1);
    jw_bool(&w, "claims_parameter_supported", 0);
    jw_bool(&w, "request_parameter_supported", 0);
    jw_bool(&w, "request_uri_parameter_supported", 0);
    jw_bool(&w, "authorization_response_iss_parameter_supported", 1);
    jw_obj_end(&w);
    if (jw_finish(&w, &text, NULL) < 0)
        return NULL;
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
