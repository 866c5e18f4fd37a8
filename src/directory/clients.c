/* SPDX-License-Identifier: MIT */
/* Relying-party client metadata: parsed and checked here for both the config
 * file and Dynamic Client Registration, so the two can never disagree. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "gatehouse/directory/clients.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"

#define CLIENT_ID_MAX 128
#define CLIENT_SECRET_MAX 512
#define CLIENT_NAME_MAX 256
#define URI_MAX 2000
/* Bounds what one registration can make us store and scan per request. */
#define LIST_MAX 100

/* Every key a client object may carry; anything else is a typo or an
 * unsupported feature, and either must be refused rather than ignored. */
static const char *const client_keys[] = {
    "client_id",
    "client_secret",
    "name",
    "client_name",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "frontchannel_logout_uri",
    "frontchannel_logout_session_required",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "id_token_signed_response_alg",
    "scopes",
    "scope",
    "allowed_origins",
};

static const struct {
    const char *name;
    enum grant_type bit;
} grant_names[] = {
    {"authorization_code", GRANT_AUTHORIZATION_CODE},
    {"refresh_token", GRANT_REFRESH_TOKEN},
    {"client_credentials", GRANT_CLIENT_CREDENTIALS},
};

static const char *const auth_method_names[] = {
    [AUTH_CLIENT_SECRET_BASIC] = "client_secret_basic",
    [AUTH_CLIENT_SECRET_POST] = "client_secret_post",
    [AUTH_NONE] = "none",
};

const char *
client_auth_method_name(enum auth_method m)
{
    return auth_method_names[m];
}

int
client_key_known(const char *key)
{
    size_t i;

    for (i = 0; i < NELEM(client_keys); i++)
        if (strcmp(key, client_keys[i]) == 0)
            return 1;
    return 0;
}

/* ---- URI policy ---------------------------------------------------------- */

struct uri_parts {
    int https;
    int loopback;
};

static int
reject(const char **why, const char *reason)
{
    if (why != NULL)
        *why = reason;
    return GH_EINVAL;
}

static int
is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* RFC 3986 §2: unreserved and reserved characters and '%'. Anything else
 * must arrive percent-encoded, or two parties may encode it differently and
 * exact matching (SPEC §7) would compare different strings. */
static int
is_uri_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) ||
           (c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL);
}

static int
host_is_loopback_name(const char *host, size_t len)
{
    struct in_addr a4;
    char buf[16];

    if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
        return 1;
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, host, len);
    buf[len] = '\0';
    /* 127.0.0.0/8, RFC 1122 §3.2.1.3. */
    return inet_pton(AF_INET, buf, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* The authority of an http(s) URI: host (reg-name or [IPv6]) and an
 * optional port. Userinfo is refused: "https://good@evil/" reads as good. */
static int
parse_authority(const char *a, size_t len, struct uri_parts *p,
                const char **why)
{
    const char *host = a, *end = a + len, *port;
    size_t hostlen;

    if (memchr(a, '@', len) != NULL)
        return reject(why, "must not contain userinfo (user@host)");
    if (len > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        struct in6_addr a6;
        char buf[INET6_ADDRSTRLEN];

        if (close == NULL || (size_t)(close - a - 1) >= sizeof(buf))
            return reject(why, "has a malformed IPv6 address");
        memcpy(buf, a + 1, close - a - 1);
        buf[close - a - 1] = '\0';
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return reject(why, "has a malformed IPv6 address");
        p->loopback = IN6_IS_ADDR_LOOPBACK(&a6);
        port = close + 1;
        if (port < end && *port != ':')
            return reject(why, "has a malformed IPv6 address");
    } else {
        const char *s;

        port = memchr(a, ':', len);
        if (port == NULL)
            port = end;
        hostlen = port - host;
        if (hostlen == 0)
            return reject(why, "must have a host");
        for (s = host; s < port; s++)
            if (!is_alpha(*s) && !is_digit(*s) && *s != '-' && *s != '.' &&
                *s != '_')
                return reject(why, "has an invalid host name");
        p->loopback = host_is_loopback_name(host, hostlen);
    }
    if (port < end) {
        const char *s;
        long v = 0;

        port++;
        if (port == end || end - port > 5)
            return reject(why, "has an invalid port");
        for (s = port; s < end; s++) {
            if (!is_digit(*s))
                return reject(why, "has an invalid port");
            v = v * 10 + (*s - '0');
        }
        if (v < 1 || v > 65535)
            return reject(why, "has an invalid port");
    }
    return 0;
}

static int
parse_uri(const char *uri, struct uri_parts *p, const char **why)
{
    const unsigned char *s;
    const char *rest, *auth_end;
    size_t len, schemelen;

    memset(p, 0, sizeof(*p));
    if (uri == NULL || uri[0] == '\0')
        return reject(why, "must not be empty");
    if ((len = strlen(uri)) > URI_MAX)
        return reject(why, "must be at most 2000 characters");
    for (s = (const unsigned char *)uri; *s != '\0'; s++) {
        if (*s <= ' ' || *s == 0x7f)
            return reject(why,
                          "must not contain whitespace or control characters");
        if (*s == '\\')
            return reject(why, "must not contain a backslash");
        if (*s == '#')
            return reject(why, "must not contain a fragment");
        if (*s >= 0x80)
            return reject(why, "must be ASCII (percent-encode other "
                               "characters)");
        if (!is_uri_char(*s))
            return reject(why, "contains a character that must be "
                               "percent-encoded");
        if (*s == '%' && !(is_hex(s[1]) && is_hex(s[2])))
            return reject(why, "has a malformed percent-encoding");
    }

    /* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
    for (schemelen = 0; schemelen < len; schemelen++) {
        unsigned char c = uri[schemelen];
        if (!(is_alpha(c) ||
              (schemelen > 0 && (is_digit(c) || strchr("+-.", c)))))
            break;
    }
    if (schemelen == 0 || uri[schemelen] != ':')
        return reject(why, "must be an absolute http or https URI");
    if (schemelen == 5 && strncasecmp(uri, "https", 5) == 0)
        p->https = 1;
    else if (!(schemelen == 4 && strncasecmp(uri, "http", 4) == 0))
        return reject(why, "scheme must be http or https");

    rest = uri + schemelen + 1;
    if (strncmp(rest, "//", 2) != 0)
        return reject(why, "must have a host (http://host/...)");
    rest += 2;
    auth_end = rest + strcspn(rest, "/?");
    return parse_authority(rest, auth_end - rest, p, why);
}

int
uri_check_redirect(const char *uri, const char **why)
{
    struct uri_parts p;

    return parse_uri(uri, &p, why);
}

int
uri_check_backchannel(const char *uri, const char **why)
{
    struct uri_parts p;
    int rc;

    if ((rc = parse_uri(uri, &p, why)) < 0)
        return rc;
    /* SPEC §7: logout tokens travel only over TLS, except to an app on this
     * machine, where nothing crosses the network. */
    if (!p.https && !p.loopback)
        return reject(why, "must be https (http only on a loopback address)");
    return 0;
}

/*
 * The origin of an http(s) URI, "scheme://host[:port]" (RFC 6454 §6.2):
 * scheme and host in lower case, the port only when not the scheme's
 * default. curl's URL parser reads the URI, so the origin is the one a
 * browser would put in its Origin header.
 */
int
uri_origin(const char *uri, char **ret)
{
    CURLU *u;
    CURLUcode pc;
    char *scheme = NULL, *host = NULL, *port = NULL, *o = NULL, *s;
    size_t n;
    int rc = GH_EINVAL;

    if ((u = curl_url()) == NULL)
        return GH_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        goto out;
    pc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
    if (pc != CURLUE_OK && pc != CURLUE_NO_PORT)
        goto out;
    n = strlen(scheme) + 3 + strlen(host) + (port ? strlen(port) + 1 : 0) + 1;
    if ((o = malloc(n)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    snprintf(o, n, "%s://%s%s%s", scheme, host, port ? ":" : "",
             port ? port : "");
    /* Host names compare case-insensitively; browsers send lower case. */
    for (s = o; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    *ret = o;
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

int
uri_check_origin(const char *origin, const char **why)
{
    const unsigned char *s;
    char *canon = NULL;
    int same;

    if (origin == NULL || origin[0] == '\0')
        return reject(why, "must not be empty");
    if (strcmp(origin, "*") == 0 || strcmp(origin, "null") == 0)
        return reject(why, "must be one origin (no wildcard); list each "
                           "origin");
    if (strlen(origin) > URI_MAX)
        return reject(why, "must be at most 2000 characters");
    for (s = (const unsigned char *)origin; *s != '\0'; s++)
        if (*s <= ' ' || *s >= 0x7f)
            return reject(why, "must be ASCII without spaces or control "
                               "characters (punycode for other names)");
    if (uri_origin(origin, &canon) < 0)
        return reject(why, "must be an http or https origin "
                           "scheme://host[:port]");
    /* Origin headers are compared byte for byte: anything that is not
     * already the form browsers send (a path, a trailing slash, userinfo,
     * upper case, a default port) would never match. */
    same = strcmp(canon, origin) == 0;
    free(canon);
    if (!same)
        return reject(why, "must be an origin scheme://host[:port] as "
                           "browsers send it: lower case, no path or "
                           "trailing slash, no default port");
    if (strlen(origin) > 2 && strcmp(origin + strlen(origin) - 2, ":0") == 0)
        return reject(why, "has an invalid port");
    return 0;
}

/* ---- client metadata ----------------------------------------------------- */

/* Borrows the string at key into *out (NULL when absent). */
static int
opt_string(const json_t *obj, const char *key, const char *pfx,
           const char **out, struct field_error *err)
{
    const json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return field_error_set(err, "must be a string", "%s%s", pfx, key);
    *out = json_string_value(v);
    return 0;
}

static int
has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            return 1;
    return 0;
}

/*
 * Reads the array of strings at key into out, each passed through check
 * (which may be NULL). *present says whether the key was there at all.
 */
static int
string_array(const json_t *obj, const char *key, const char *pfx,
             int (*check)(const char *, const char **), struct strlist *out,
             int *present, struct field_error *err)
{
    const json_t *arr = json_object_get(obj, key);
    size_t i;
    int rc;

    *present = arr != NULL;
    if (arr == NULL)
        return 0;
    if (!json_is_array(arr))
        return field_error_set(err, "must be an array of strings", "%s%s", pfx,
                               key);
    if (json_array_size(arr) > LIST_MAX)
        return field_error_set(err, "must have at most 100 entries", "%s%s",
                               pfx, key);
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);
        const char *why;

        if (!json_is_string(v))
            return field_error_set(err, "must be a string", "%s%s[%zu]", pfx,
                                   key, i);
        if (check != NULL && check(json_string_value(v), &why) < 0)
            return field_error_set(err, why, "%s%s[%zu]", pfx, key, i);
        if ((rc = strlist_add(out, json_string_value(v),
                              json_string_length(v))) < 0)
            return rc;
    }
    return 0;
}

/* RFC 6749 §3.3: scope-token = 1*NQCHAR, %x21 / %x23-5B / %x5D-7E. */
static int
check_scope(const char *s, const char **why)
{
    size_t n = strlen(s);

    if (n == 0 || n > SCOPE_NAME_MAX)
        return reject(why, "must be 1 to 64 characters");
    for (; *s != '\0'; s++)
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
            return reject(why, "must be printable ASCII without spaces, "
                               "quotes or backslashes");
    return 0;
}

static int
parse_id_and_secret(const json_t *obj, const char *pfx, struct client *c,
                    struct field_error *err)
{
    const char *id, *secret, *method, *s;
    size_t i;
    int rc;

    if ((rc = opt_string(obj, "client_id", pfx, &id, err)) < 0)
        return rc;
    if (id == NULL)
        return field_error_set(err, "is required", "%sclient_id", pfx);
    if (id[0] == '\0' || strlen(id) > CLIENT_ID_MAX)
        return field_error_set(err, "must be 1 to 128 characters",
                               "%sclient_id", pfx);
    for (s = id; *s != '\0'; s++)
        if (!is_alpha(*s) && !is_digit(*s) && !strchr("._-", *s))
            return field_error_set(err, "may contain only A-Z a-z 0-9 . _ -",
                                   "%sclient_id", pfx);

    if ((rc = opt_string(obj, "token_endpoint_auth_method", pfx, &method,
                         err)) < 0)
        return rc;
    c->auth_method = AUTH_CLIENT_SECRET_BASIC;
    if (method != NULL) {
        for (i = 0; i < NELEM(auth_method_names); i++)
            if (strcmp(method, auth_method_names[i]) == 0)
                break;
        if (i == NELEM(auth_method_names))
            return field_error_set(
                err,
                "must be client_secret_basic, client_secret_post "
                "or none",
                "%stoken_endpoint_auth_method", pfx);
        c->auth_method = (enum auth_method)i;
    }

    if ((rc = opt_string(obj, "client_secret", pfx, &secret, err)) < 0)
        return rc;
    if (c->auth_method == AUTH_NONE && secret != NULL)
        return field_error_set(
            err,
            "must not be set when token_endpoint_auth_method "
            "is none",
            "%sclient_secret", pfx);
    if (c->auth_method != AUTH_NONE && secret == NULL)
        return field_error_set(err,
                               "is required unless token_endpoint_auth_method "
                               "is none",
                               "%sclient_secret", pfx);
    if (secret != NULL &&
        (secret[0] == '\0' || strlen(secret) > CLIENT_SECRET_MAX))
        return field_error_set(err, "must be 1 to 512 characters",
                               "%sclient_secret", pfx);
    if (secret != NULL && has_control(secret))
        return field_error_set(err, "must not contain control characters",
                               "%sclient_secret", pfx);

    if ((c->client_id = strdup(id)) == NULL)
        return GH_ENOMEM;
    if (secret != NULL && (c->client_secret = strdup(secret)) == NULL)
        return GH_ENOMEM;
    return 0;
}

/* OIDC Registration §2. Whether a key of the alg is active is checked
 * where the keys are known: at start for the config file's clients, at
 * /register for the others. */
static int
parse_id_token_alg(const json_t *obj, const char *pfx, struct client *c,
                   struct field_error *err)
{
    const char *alg;
    int rc;

    if ((rc = opt_string(obj, "id_token_signed_response_alg", pfx, &alg,
                         err)) < 0 ||
        alg == NULL)
        return rc;
    if (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0)
        return field_error_set(err, "must be RS256 or ES256",
                               "%sid_token_signed_response_alg", pfx);
    if ((c->id_token_alg = strdup(alg)) == NULL)
        return GH_ENOMEM;
    return 0;
}

/* "name" is ours, "client_name" the DCR spelling (RFC 7591 §2). */
static int
parse_name(const json_t *obj, const char *pfx, struct client *c,
           struct field_error *err)
{
    const char *name, *dcr_name, *key = "name";
    int rc;

    if ((rc = opt_string(obj, "name", pfx, &name, err)) < 0 ||
        (rc = opt_string(obj, "client_name", pfx, &dcr_name, err)) < 0)
        return rc;
    if (name != NULL && dcr_name != NULL)
        return field_error_set(err, "is the same as name; give only one",
                               "%sclient_name", pfx);
    if (dcr_name != NULL) {
        name = dcr_name;
        key = "client_name";
    }
    if (name == NULL)
        name = c->client_id;
    if (name[0] == '\0' || strlen(name) > CLIENT_NAME_MAX)
        return field_error_set(err, "must be 1 to 256 characters", "%s%s", pfx,
                               key);
    if (has_control(name))
        return field_error_set(err, "must not contain control characters",
                               "%s%s", pfx, key);
    if ((c->name = strdup(name)) == NULL)
        return GH_ENOMEM;
    return 0;
}

static int
parse_grants(const json_t *obj, const char *pfx, struct client *c,
             struct field_error *err)
{
    const json_t *arr = json_object_get(obj, "grant_types");
    const json_t *rt = json_object_get(obj, "response_types");
    size_t i, j;

    c->grant_types = GRANT_AUTHORIZATION_CODE;
    if (arr != NULL) {
        if (!json_is_array(arr))
            return field_error_set(err, "must be an array of strings",
                                   "%sgrant_types", pfx);
        if (json_array_size(arr) == 0)
            return field_error_set(err, "must not be empty", "%sgrant_types",
                                   pfx);
        c->grant_types = 0;
        for (i = 0; i < json_array_size(arr); i++) {
            const json_t *v = json_array_get(arr, i);

            if (!json_is_string(v))
                return field_error_set(err, "must be a string",
                                       "%sgrant_types[%zu]", pfx, i);
            for (j = 0; j < NELEM(grant_names); j++)
                if (strcmp(json_string_value(v), grant_names[j].name) == 0)
                    break;
            if (j == NELEM(grant_names))
                return field_error_set(
                    err,
                    "must be authorization_code, refresh_token "
                    "or client_credentials",
                    "%sgrant_types[%zu]", pfx, i);
            c->grant_types |= grant_names[j].bit;
        }
    }
    /* RFC 6749 §2.1: a public client cannot authenticate, so it cannot use
     * a grant whose only proof is the client's own credentials. */
    if (c->auth_method == AUTH_NONE &&
        (c->grant_types & GRANT_CLIENT_CREDENTIALS))
        return field_error_set(err,
                               "client_credentials is not allowed with "
                               "token_endpoint_auth_method none",
                               "%sgrant_types", pfx);

    /* Only the code flow exists here (no implicit or hybrid flows). */
    if (rt != NULL &&
        (!json_is_array(rt) || json_array_size(rt) != 1 ||
         !json_is_string(json_array_get(rt, 0)) ||
         strcmp(json_string_value(json_array_get(rt, 0)), "code") != 0))
        return field_error_set(err, "must be [\"code\"]", "%sresponse_types",
                               pfx);
    return 0;
}

/* SPEC §3 allowed_origins: by default the origins of the redirect URIs,
 * as Keycloak's "+" web origin does, so a single-page app whose callback
 * is on its own origin works without more configuration. An empty list
 * shares nothing with any browser. */
static int
parse_origins(const json_t *obj, const char *pfx, struct client *c,
              struct field_error *err)
{
    char *o;
    size_t i;
    int present, rc;

    if ((rc = string_array(obj, "allowed_origins", pfx, uri_check_origin,
                           &c->allowed_origins, &present, err)) < 0 ||
        present)
        return rc;
    for (i = 0; i < c->redirect_uris.n; i++) {
        /* A URI curl reads differently from uri_check_redirect only
         * gives no origin: a config that loaded before still loads. */
        if ((rc = uri_origin(c->redirect_uris.v[i], &o)) == GH_EINVAL)
            continue;
        if (rc < 0)
            return rc;
        if (!strlist_contains(&c->allowed_origins, o))
            rc = strlist_add(&c->allowed_origins, o, strlen(o));
        free(o);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * An optional NAME_logout_uri, checked by check, and its
 * NAME_logout_session_required, false when omitted (OIDC Back-Channel
 * Logout 1.0 §2.2, Front-Channel Logout 1.0 §2).
 */
static int
parse_logout_uri(const json_t *obj, const char *pfx, const char *name,
                 int (*check)(const char *, const char **), char **uri_out,
                 bool *required, struct field_error *err)
{
    char uri_key[40], flag_key[56];
    const json_t *v;
    const char *uri, *why;
    int rc;

    snprintf(uri_key, sizeof(uri_key), "%s_logout_uri", name);
    snprintf(flag_key, sizeof(flag_key), "%s_logout_session_required", name);
    if ((rc = opt_string(obj, uri_key, pfx, &uri, err)) < 0)
        return rc;
    if (uri != NULL) {
        if (check(uri, &why) < 0)
            return field_error_set(err, why, "%s%s", pfx, uri_key);
        if ((*uri_out = strdup(uri)) == NULL)
            return GH_ENOMEM;
    }
    v = json_object_get(obj, flag_key);
    if (v != NULL && !json_is_boolean(v))
        return field_error_set(err, "must be a boolean", "%s%s", pfx,
                               flag_key);
    *required = json_is_true(v);
    return 0;
}

static int
parse_uris(const json_t *obj, const char *pfx, struct client *c,
           struct field_error *err)
{
    int present, rc;

    if ((rc = string_array(obj, "redirect_uris", pfx, uri_check_redirect,
                           &c->redirect_uris, &present, err)) < 0)
        return rc;
    if ((c->grant_types & GRANT_AUTHORIZATION_CODE) && c->redirect_uris.n == 0)
        return field_error_set(err,
                               "is required for the authorization_code grant",
                               "%sredirect_uris", pfx);
    if ((rc = string_array(obj, "post_logout_redirect_uris", pfx,
                           uri_check_redirect, &c->post_logout_redirect_uris,
                           &present, err)) < 0)
        return rc;
    if ((rc = parse_origins(obj, pfx, c, err)) < 0)
        return rc;

    if ((rc = parse_logout_uri(obj, pfx, "backchannel", uri_check_backchannel,
                               &c->backchannel_logout_uri,
                               &c->backchannel_logout_session_required,
                               err)) < 0)
        return rc;
    /* The front channel's URI is the user's browser's to load, so it
     * follows the redirect URI rules: http anywhere, for an app on a
     * laptop or behind a firewall is what the front channel is for. */
    return parse_logout_uri(obj, pfx, "frontchannel", uri_check_redirect,
                            &c->frontchannel_logout_uri,
                            &c->frontchannel_logout_session_required, err);
}

/* RFC 7591 §2 "scope": names separated by single spaces. */
static int
split_scope(const char *s, const char *pfx, struct strlist *out,
            struct field_error *err)
{
    const char *why;
    char name[SCOPE_NAME_MAX + 1];
    size_t n;
    int rc;

    for (;;) {
        n = strcspn(s, " ");
        if (n == 0 || (s[n] == ' ' && s[n + 1] == '\0'))
            return field_error_set(err,
                                   "must be scope names separated by single "
                                   "spaces",
                                   "%sscope", pfx);
        if (n > SCOPE_NAME_MAX)
            return field_error_set(err, "must be 1 to 64 characters", "%sscope",
                                   pfx);
        memcpy(name, s, n);
        name[n] = '\0';
        if (check_scope(name, &why) < 0)
            return field_error_set(err, why, "%sscope", pfx);
        if (out->n == LIST_MAX)
            return field_error_set(err, "must have at most 100 entries",
                                   "%sscope", pfx);
        if ((rc = strlist_add(out, name, n)) < 0)
            return rc;
        if (s[n] == '\0')
            return 0;
        s += n + 1;
    }
}

static int
parse_scopes(const json_t *obj, const char *pfx, struct client *c,
             struct field_error *err)
{
    static const char *const defaults[] = {"openid", "profile", "email"};
    const char *scope;
    size_t i;
    int present, rc;

    if ((rc = opt_string(obj, "scope", pfx, &scope, err)) < 0)
        return rc;
    if (scope != NULL && json_object_get(obj, "scopes") != NULL)
        return field_error_set(err, "is the same as scopes; give only one",
                               "%sscope", pfx);
    if (scope != NULL)
        return split_scope(scope, pfx, &c->scopes, err);

    if ((rc = string_array(obj, "scopes", pfx, check_scope, &c->scopes,
                           &present, err)) < 0)
        return rc;
    if (present && c->scopes.n == 0)
        return field_error_set(err, "must not be empty", "%sscopes", pfx);
    if (!present)
        for (i = 0; i < NELEM(defaults); i++)
            if ((rc = strlist_add(&c->scopes, defaults[i],
                                  strlen(defaults[i]))) < 0)
                return rc;
    return 0;
}

int
client_from_json(const json_t *obj, const char *field_prefix,
                 struct client **ret, struct field_error *err)
{
    const char *pfx = field_prefix != NULL ? field_prefix : "";
    struct client *c = NULL;
    const char *key;
    json_t *v;
    int rc;

    if (!json_is_object(obj)) {
        /* "clients[0]." names the object itself as "clients[0]". */
        size_t n = strlen(pfx);
        rc =
            field_error_set(err, "must be an object", "%.*s",
                            (int)(n > 0 && pfx[n - 1] == '.' ? n - 1 : n), pfx);
        goto out;
    }
    json_object_foreach((json_t *)obj, key, v) {
        if (!client_key_known(key)) {
            rc = field_error_set(err, "unknown key", "%s%s", pfx, key);
            goto out;
        }
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((rc = parse_id_and_secret(obj, pfx, c, err)) < 0 ||
        (rc = parse_name(obj, pfx, c, err)) < 0 ||
        (rc = parse_id_token_alg(obj, pfx, c, err)) < 0 ||
        (rc = parse_grants(obj, pfx, c, err)) < 0 ||
        (rc = parse_uris(obj, pfx, c, err)) < 0 ||
        (rc = parse_scopes(obj, pfx, c, err)) < 0)
        goto out;
    *ret = c;
    c = NULL;
out:
    client_free(c);
    return rc;
}

static json_t *
strlist_to_json(const struct strlist *l)
{
    json_t *arr = json_array();
    size_t i;

    if (arr == NULL)
        return NULL;
    for (i = 0; i < l->n; i++) {
        if (json_array_append_new(arr, json_string(l->v[i])) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *
client_to_json(const struct client *c, bool with_secret)
{
    json_t *o, *grants;
    size_t i;
    int bad = 0;

    if ((o = json_object()) == NULL)
        return NULL;
    bad |= json_object_set_new(o, "client_id", json_string(c->client_id));
    if (with_secret && c->client_secret != NULL)
        bad |= json_object_set_new(o, "client_secret",
                                   json_string(c->client_secret));
    bad |= json_object_set_new(o, "client_name", json_string(c->name));
    bad |= json_object_set_new(o, "redirect_uris",
                               strlist_to_json(&c->redirect_uris));
    bad |= json_object_set_new(o, "post_logout_redirect_uris",
                               strlist_to_json(&c->post_logout_redirect_uris));
    if (c->backchannel_logout_uri != NULL)
        bad |= json_object_set_new(o, "backchannel_logout_uri",
                                   json_string(c->backchannel_logout_uri));
    bad |= json_object_set_new(
        o, "backchannel_logout_session_required",
        json_boolean(c->backchannel_logout_session_required));
    if (c->frontchannel_logout_uri != NULL)
        bad |= json_object_set_new(o, "frontchannel_logout_uri",
                                   json_string(c->frontchannel_logout_uri));
    bad |= json_object_set_new(
        o, "frontchannel_logout_session_required",
        json_boolean(c->frontchannel_logout_session_required));
    if ((grants = json_array()) != NULL)
        for (i = 0; i < NELEM(grant_names); i++)
            if (c->grant_types & grant_names[i].bit)
                bad |= json_array_append_new(grants,
                                             json_string(grant_names[i].name));
    bad |= json_object_set_new(o, "grant_types", grants);
    bad |= json_object_set_new(o, "response_types", json_pack("[s]", "code"));
    bad |= json_object_set_new(o, "token_endpoint_auth_method",
                               json_string(auth_method_names[c->auth_method]));
    if (c->id_token_alg != NULL)
        bad |= json_object_set_new(o, "id_token_signed_response_alg",
                                   json_string(c->id_token_alg));
    /* "scopes" (an array), not the DCR "scope" string: client_from_json
     * reads both, and the array survives a round trip unchanged. */
    bad |= json_object_set_new(o, "scopes", strlist_to_json(&c->scopes));
    bad |= json_object_set_new(o, "allowed_origins",
                               strlist_to_json(&c->allowed_origins));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void
client_free(struct client *c)
{
    if (c == NULL)
        return;
    free(c->client_id);
    util_free_secret(c->client_secret);
    free(c->name);
    strlist_free(&c->redirect_uris);
    strlist_free(&c->post_logout_redirect_uris);
    free(c->backchannel_logout_uri);
    free(c->frontchannel_logout_uri);
    free(c->id_token_alg);
    strlist_free(&c->scopes);
    strlist_free(&c->allowed_origins);
    free(c);
}

int
client_has_redirect_uri(const struct client *c, const char *uri)
{
    /* SPEC §7, RFC 6749 §3.1.2.3: exact match, no normalisation. */
    return c != NULL && strlist_contains(&c->redirect_uris, uri);
}

int
client_has_post_logout_uri(const struct client *c, const char *uri)
{
    return c != NULL && strlist_contains(&c->post_logout_redirect_uris, uri);
}

int
client_allows_scope(const struct client *c, const char *scope)
{
    return c != NULL && strlist_contains(&c->scopes, scope);
}

int
client_allows_origin(const struct client *c, const char *origin)
{
    /* RFC 6454 §5: origins are compared as the browser serialises them. */
    return c != NULL && strlist_contains(&c->allowed_origins, origin);
}

const struct client *
client_in_config(const struct config *cfg, const char *id)
{
    size_t i;

    if (cfg == NULL || id == NULL)
        return NULL;
    for (i = 0; i < cfg->nclients; i++)
        if (strcmp(cfg->clients[i]->client_id, id) == 0)
            return cfg->clients[i];
    return NULL;
}
