/* SPDX-License-Identifier: MIT */
/* The relying-party side of OpenID Connect, part one: discovery, HTTP and
 * the code exchange (see oidc.h). The token checks are in oidc_tokens.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fetch.h"
#include "oidc_private.h"

#define MAX_BODY (256 * 1024)
#define HTTP_TIMEOUT_MS 5000

/* ---- HTTP ---- */

long
oidc_http_json(const struct oidc *o, const char *url, const char *form,
               json_t **json)
{
    char *body = NULL;
    long status = fetch(url, form, o->client_id, o->client_secret, MAX_BODY,
                        HTTP_TIMEOUT_MS, &body);

    *json = body != NULL ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return status;
}

/* ---- Encodings ---- */

static void
b64url_encode(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n), i;

    for (i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
}

unsigned char *
oidc_b64url_decode(const char *s, size_t n, size_t *len)
{
    size_t padded = (n + 3) / 4 * 4, i;
    unsigned char *t, *out;
    int m = -1;

    if (n % 4 == 1 || (t = malloc(padded + 1)) == NULL)
        return NULL;
    for (i = 0; i < padded; i++) {
        char ch = i < n ? s[i] : '=';
        if (i < n && strchr("+/= \t\r\n", ch) != NULL)
            ch = '!'; /* only the URL alphabet, unpadded; '!' fails below */
        t[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    t[padded] = '\0';
    if ((out = malloc(padded / 4 * 3 + 1)) != NULL)
        m = EVP_DecodeBlock(out, t, (int)padded);
    free(t);
    if (m < 0) {
        free(out);
        return NULL;
    }
    *len = (size_t)m - (padded - n); /* DecodeBlock counts the padding */
    out[*len] = '\0';
    return out;
}

int
oidc_random(char out[44])
{
    unsigned char r[32];

    if (RAND_bytes(r, sizeof(r)) != 1)
        return -1;
    b64url_encode(r, sizeof(r), out);
    return 0;
}

void
oidc_pkce_challenge(const char *verifier, char out[44])
{
    unsigned char md[32];

    EVP_Digest(verifier, strlen(verifier), md, NULL, EVP_sha256(), NULL);
    b64url_encode(md, sizeof(md), out);
}

int
oidc_exchange_code(struct oidc *o, const char *code, const char *redirect_uri,
                   const char *verifier, char **id_token, const char **why)
{
    char *form = NULL, *c = curl_easy_escape(NULL, code, 0),
         *r = curl_easy_escape(NULL, redirect_uri, 0);
    const char *tok;
    json_t *res = NULL;
    long status;
    int rc = -1;

    *why = "out of memory";
    if (c == NULL || r == NULL ||
        asprintf(&form,
                 "grant_type=authorization_code&code=%s&redirect_uri=%s"
                 "&code_verifier=%s",
                 c, r, verifier) < 0) {
        form = NULL;
        goto out;
    }
    status = oidc_http_json(o, o->token_endpoint, form, &res);
    tok = json_string_value(json_object_get(res, "id_token"));
    *why = status < 0      ? "token endpoint unreachable"
           : status != 200 ? "token endpoint refused the code"
           : tok == NULL   ? "no id_token in the answer"
                           : NULL;
    if (*why == NULL && (*id_token = strdup(tok)) != NULL)
        rc = 0;
out:
    json_decref(res); /* holds the access and refresh tokens: not needed */
    free(form);
    curl_free(c);
    curl_free(r);
    return rc;
}

static char *
dup_field(const json_t *doc, const char *name)
{
    const char *s = json_string_value(json_object_get(doc, name));

    return s != NULL ? strdup(s) : NULL;
}

int
oidc_discover(const char *issuer, const char *client_id,
              const char *client_secret, int wait_s, struct oidc **ret)
{
    struct oidc *o = calloc(1, sizeof(*o));
    char *url = NULL;
    json_t *doc = NULL;
    int tries;

    if (o == NULL ||
        asprintf(&url, "%s/.well-known/openid-configuration", issuer) < 0) {
        free(o);
        return -1;
    }
    pthread_mutex_init(&o->lock, NULL);
    o->issuer = strdup(issuer);
    o->client_id = strdup(client_id);
    o->client_secret = strdup(client_secret);
    o->jtis = json_object();
    if (o->issuer == NULL || o->client_id == NULL ||
        o->client_secret == NULL || o->jtis == NULL) {
        free(url);
        oidc_free(o);
        return -1;
    }
    for (tries = 0; tries < wait_s * 5; tries++) {
        if (oidc_http_json(o, url, NULL, &doc) == 200)
            break;
        json_decref(doc);
        doc = NULL;
        usleep(200 * 1000);
    }
    free(url);
    /* Discovery §4.3: the document's issuer is exactly the one we asked. */
    if (doc == NULL ||
        json_string_value(json_object_get(doc, "issuer")) == NULL ||
        strcmp(json_string_value(json_object_get(doc, "issuer")), issuer) !=
            0) {
        json_decref(doc);
        oidc_free(o);
        return -1;
    }
    o->authorization_endpoint = dup_field(doc, "authorization_endpoint");
    o->token_endpoint = dup_field(doc, "token_endpoint");
    o->jwks_uri = dup_field(doc, "jwks_uri");
    o->end_session_endpoint = dup_field(doc, "end_session_endpoint");
    json_decref(doc);
    if (o->authorization_endpoint == NULL || o->token_endpoint == NULL ||
        o->jwks_uri == NULL || o->end_session_endpoint == NULL ||
        o->issuer == NULL || o->client_id == NULL || o->client_secret == NULL ||
        o->jtis == NULL) {
        oidc_free(o);
        return -1;
    }
    *ret = o;
    return 0;
}

void
oidc_keys_clear(struct oidc *o)
{
    while (o->nkeys > 0)
        EVP_PKEY_free(o->keys[--o->nkeys].pkey);
}

void
oidc_free(struct oidc *o)
{
    if (o == NULL)
        return;
    oidc_keys_clear(o);
    json_decref(o->jtis);
    if (o->client_secret != NULL)
        OPENSSL_cleanse(o->client_secret, strlen(o->client_secret));
    free(o->client_secret);
    free(o->issuer);
    free(o->client_id);
    free(o->authorization_endpoint);
    free(o->token_endpoint);
    free(o->jwks_uri);
    free(o->end_session_endpoint);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

const char *
oidc_issuer(const struct oidc *o)
{
    return o->issuer;
}

const char *
oidc_authorization_endpoint(const struct oidc *o)
{
    return o->authorization_endpoint;
}

const char *
oidc_end_session_endpoint(const struct oidc *o)
{
    return o->end_session_endpoint;
}
