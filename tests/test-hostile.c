/* SPDX-License-Identifier: MIT */
/* Hostile input against a real gatehouse and redis-server: oversized and
 * malformed requests, forged tokens, CSRF replay, session fixation, cookie
 * tossing, open redirects, user enumeration by timing, and back-channel
 * URIs outside policy. Each test says what an attacker tries and checks
 * that it gets a clear refusal and changes nothing. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "gatehouse/core/util.h"
#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3001/callback"
#define CRM_HOME "http://127.0.0.1:3001/"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct harness *h;

/* A high failure limit: the timing test makes ten failed sign-ins. */
static const char clients_json[] =
    "{\"login\":{\"max_failures\":1000,\"lockout_s\":60},"
    "\"backchannel\":{\"timeout_ms\":500,\"max_attempts\":2,"
    "\"logout_wait_ms\":300},"
    "\"clients\":[{\"client_id\":\"crm\",\"client_secret\":\"crm-secret\","
    "\"name\":\"CRM\",\"redirect_uris\":[\"" CRM_CB "\"],"
    "\"post_logout_redirect_uris\":[\"" CRM_HOME "\"],"
    "\"grant_types\":[\"authorization_code\",\"refresh_token\"]}]}";

static void
start_with(const char *cfg)
{
    h = world_start(&(struct harness_opts){.user = "alice:correct horse"}, cfg,
                    NULL);
}

static void
start(void)
{
    start_with(clients_json);
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- HTTP helpers ------------------------------------------------------ */

static char *
url_of(const char *path)
{
    char *u = NULL;

    if (asprintf(&u, "%s%s", h->gh.issuer, path) < 0)
        FAIL("asprintf");
    return u;
}

/* One request; returns the status, and the Location header if asked. */
static long
request(const char *method, const char *path, const char *body,
        const char *const *hdrs, char **location)
{
    char *u = url_of(path);
    struct http_result res;
    long st;

    if (http_do(method, u, body, hdrs, &res) < 0)
        FAIL("%s %s: no answer", method, path);
    st = res.status;
    if (location != NULL)
        *location = http_header_value(&res, "Location");
    http_result_free(&res);
    free(u);
    return st;
}

static const char *const form_ct[] = {
    "Content-Type: application/x-www-form-urlencoded", NULL};

static void
expect_healthy(void)
{
    ASSERT_EQ(request("GET", "/healthz", NULL, NULL, NULL), 200);
}

/*
 * Sends raw bytes on a new connection (for what libcurl will not send:
 * NUL bytes, broken framing) and reads until the server closes or 10 s
 * pass. Returns the status, or 0 if the server answered nothing.
 */
static long
raw_request(const void *req, size_t len, char **resp)
{
    char buf[65536];
    size_t got = 0;
    double deadline = test_now() + 10;
    int fd = tcp_connect(h->gh.port);
    long st = 0;

    ASSERT(fd >= 0);
    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        FAIL("short write");
    while (got < sizeof(buf) - 1 && test_now() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;

        if (poll(&p, 1, 100) <= 0)
            continue;
        if ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        st = strtol(buf + 9, NULL, 10);
    if (resp != NULL)
        *resp = strdup(buf);
    return st;
}

/* Gatehouse's resident memory, from /proc. */
static long
gh_rss_kib(void)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)h->gh.pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ---- Signing in -------------------------------------------------------- */

/* Signs b in to crm and returns its tokens (id_token, access_token, ...). */
static json_t *
sign_in_crm(struct browser *b, const char *user, const char *password)
{
    char *code, *body = NULL, *ru = url_encode(CRM_CB);
    json_t *t;

    code = oidc_get_code(&h->gh, b, "crm", CRM_CB, user, password, NULL);
    if (asprintf(&body, "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    t = oidc_token(&h->gh, body, "crm:crm-secret", 200);
    free(body);
    free(ru);
    free(code);
    return t;
}

/* The sub an authorize with this exact Cookie header signs in as, through
 * prompt=none and a code exchange; NULL when there is no session. */
static char *
session_sub(const char *cookie_header)
{
    char *url = oidc_authorize_url(&h->gh, "crm", CRM_CB, "&prompt=none");
    const char *hdrs[2] = {cookie_header, NULL};
    struct http_result res;
    char *loc, *code, *body = NULL, *ru, *sub;
    json_t *t, *c;

    ASSERT_EQ(http_do("GET", url, NULL, cookie_header ? hdrs : NULL, &res), 0);
    free(url);
    ASSERT_EQ(res.status, 302);
    loc = http_header_value(&res, "Location");
    http_result_free(&res);
    ASSERT(loc != NULL && strncmp(loc, CRM_CB "?", strlen(CRM_CB) + 1) == 0);
    if ((code = url_param(loc, "code")) == NULL) {
        char *err = url_param(loc, "error");
        ASSERT_STR_EQ(err, "login_required");
        free(err);
        free(loc);
        return NULL;
    }
    free(loc);
    ru = url_encode(CRM_CB);
    if (asprintf(&body, "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, ru) < 0)
        FAIL("asprintf");
    t = oidc_token(&h->gh, body, "crm:crm-secret", 200);
    c = oidc_verified_claims(&h->gh, str(t, "id_token"));
    sub = strdup(str(c, "sub"));
    json_decref(c);
    json_decref(t);
    free(body);
    free(ru);
    free(code);
    return sub;
}

static char *
cookie_header(const struct browser *b)
{
    char *h = NULL;

    if (asprintf(&h, "Cookie: %s", b->cookies) < 0)
        FAIL("asprintf");
    return h;
}

/* 1 if the browser's session is alive (a silent authorize succeeds). */
static int
alive(const struct browser *b)
{
    char *h = cookie_header(b), *sub = session_sub(h);
    int ok = sub != NULL;

    free(sub);
    free(h);
    return ok;
}

/* ---- Forging tokens ------------------------------------------------------ */

static char *
b64(const void *p, size_t n)
{
    char *s = b64url_encode_alloc(p, n);

    ASSERT(s != NULL);
    return s;
}

/* The signing input "b64(header).b64(payload)". */
static char *
signing_input(const char *header, const char *payload)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    char *s = NULL;

    if (asprintf(&s, "%s.%s", h, p) < 0)
        FAIL("asprintf");
    free(h);
    free(p);
    return s;
}

static char *
finish(char *input, const unsigned char *sig, size_t siglen)
{
    char *s = b64(sig, siglen), *out = NULL;

    if (asprintf(&out, "%s.%s", input, siglen > 0 ? s : "") < 0)
        FAIL("asprintf");
    free(s);
    free(input);
    return out;
}

/* alg "none": no signature at all. */
static char *
forge_none(const char *header, const char *payload)
{
    return finish(signing_input(header, payload), NULL, 0);
}

/* HS256 keyed with something public (the JWK, the PEM): the old
 * "algorithm confusion" attack on libraries that let the token pick. */
static char *
forge_hs256(const char *header, const char *payload, const char *key)
{
    char *in = signing_input(header, payload);
    unsigned char mac[32];
    unsigned int len = sizeof(mac);

    ASSERT(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)in,
                strlen(in), mac, &len) != NULL);
    return finish(in, mac, len);
}

/* ES256 with key (raw R||S, as JWS wants). */
static char *
forge_es256(const char *header, const char *payload, EVP_PKEY *key)
{
    char *in = signing_input(header, payload);
    unsigned char der[80], raw[64];
    const unsigned char *p = der;
    size_t dlen = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *sig;
    const BIGNUM *r, *s;

    ASSERT(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1);
    ASSERT(EVP_DigestSign(md, der, &dlen, (const unsigned char *)in,
                          strlen(in)) == 1);
    EVP_MD_CTX_free(md);
    ASSERT((sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) != NULL);
    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, raw, 32);
    BN_bn2binpad(s, raw + 32, 32);
    ECDSA_SIG_free(sig);
    return finish(in, raw, sizeof(raw));
}

/* The server's own signing key, read from its keys dir (the test made it),
 * to mint tokens that are well signed but wrong in some other way. */
static EVP_PKEY *
server_key(char kid[64])
{
    char dir[320], path[700];
    struct dirent *e;
    EVP_PKEY *k = NULL;
    DIR *d;
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/keys", h->gh.dir);
    ASSERT((d = opendir(dir)) != NULL);
    while ((e = readdir(d)) != NULL && k == NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0 ||
            e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        snprintf(kid, 64, "%.*s", (int)(n - 4), e->d_name);
        ASSERT((f = fopen(path, "r")) != NULL);
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    closedir(d);
    ASSERT(k != NULL);
    return k;
}

/* The public key as PEM text and the JWK as JSON text: what an attacker
 * has and might use as an HMAC secret. */
static char *
public_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    ASSERT(PEM_write_bio_PUBKEY(b, k) == 1);
    n = BIO_get_mem_data(b, &p);
    out = strndup(p, (size_t)n);
    BIO_free(b);
    return out;
}

static char *
public_jwk(void)
{
    char *u = url_of("/jwks"), *out;
    struct http_result res;
    json_t *j;

    ASSERT_EQ(http_do("GET", u, NULL, NULL, &res), 0);
    j = json_loads(res.body, 0, NULL);
    ASSERT(j != NULL);
    out =
        json_dumps(json_array_get(json_object_get(j, "keys"), 0), JSON_COMPACT);
    json_decref(j);
    http_result_free(&res);
    free(u);
    return out;
}

static char *
header(const char *alg, const char *kid, const char *typ)
{
    json_t *h = json_pack("{s:s}", "alg", alg);
    char *s;

    if (kid != NULL)
        json_object_set_new(h, "kid", json_string(kid));
    if (typ != NULL)
        json_object_set_new(h, "typ", json_string(typ));
    s = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    return s;
}

/* claims with one member replaced (value a JSON text), as compact text. */
static char *
claims_with(const json_t *claims, const char *key, const char *value_json)
{
    json_t *c = json_deep_copy(claims);
    char *s;

    if (key != NULL)
        json_object_set_new(c, key,
                            json_loads(value_json, JSON_DECODE_ANY, NULL));
    s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

/* Every forgery of a token with these claims, NULL-terminated (malloc'd
 * strings). typ is the typ the genuine token has. */
static char **
forgeries(const json_t *claims, const char *typ, EVP_PKEY *real,
          const char *kid)
{
    char **v = calloc(16, sizeof(char *)), *h, *p, *pem = public_pem(real);
    char *jwk = public_jwk();
    EVP_PKEY *foreign = EVP_EC_gen("P-256");
    int n = 0;

    ASSERT(foreign != NULL);
    p = claims_with(claims, NULL, NULL);
    h = header("none", kid, typ);
    v[n++] = forge_none(h, p);
    free(h);
    h = header("none", NULL, typ);
    v[n++] = forge_none(h, p);
    free(h);
    h = header("HS256", kid, typ);
    v[n++] = forge_hs256(h, p, jwk);
    v[n++] = forge_hs256(h, p, pem);
    free(h);
    /* A key of our own, claiming to be theirs. */
    h = header("ES256", kid, typ);
    v[n++] = forge_es256(h, p, foreign);
    free(h);
    /* Their key, but a kid they never published. */
    h = header("ES256", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", typ);
    v[n++] = forge_es256(h, p, real);
    free(h);
    /* RS256 named on an ES256 key. */
    h = header("RS256", kid, typ);
    v[n++] = forge_es256(h, p, real);
    free(h);
    free(p);
    /* Well signed, but from another issuer. */
    h = header("ES256", kid, typ);
    p = claims_with(claims, "iss", "\"https://evil.example\"");
    v[n++] = forge_es256(h, p, real);
    free(p);
    free(h);
    /* The genuine token with its signature cut off. */
    h = header("ES256", kid, typ);
    p = claims_with(claims, NULL, NULL);
    v[n] = signing_input(h, p);
    {
        char *t = NULL;
        if (asprintf(&t, "%s.", v[n]) < 0)
            FAIL("asprintf");
        free(v[n]);
        v[n++] = t;
    }
    free(p);
    free(h);
    EVP_PKEY_free(foreign);
    free(pem);
    free(jwk);
    return v;
}

static void
free_list(char **v)
{
    size_t i;

    for (i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

/* ---- Tests -----------------------------------------------------------------
 */

TEST(oversized_headers_and_uris_get_431_and_414_without_memory_growth)
{
    char *big = malloc(20001), *hdr = NULL, *path = NULL, *many;
    const char *hdrs[2] = {NULL, NULL};
    long before, after;
    size_t i;

    start();
    memset(big, 'a', 20000);
    big[20000] = '\0';
    /* Past the 16 KiB budget: one line may take all of it, not more. */
    if (asprintf(&hdr, "X-Big: %.17000s", big) < 0 ||
        asprintf(&path, "/authorize?state=%s", big) < 0)
        FAIL("asprintf");
    hdrs[0] = hdr;
    ASSERT_EQ(request("GET", "/healthz", NULL, hdrs, NULL), 431);
    ASSERT_EQ(request("GET", path, NULL, NULL, NULL), 414);
    free(hdr);
    /* A cookie jar stuffed by a sibling domain. */
    if (asprintf(&hdr, "Cookie: gh_session=x; junk=%.17000s", big) < 0)
        FAIL("asprintf");
    hdrs[0] = hdr;
    ASSERT_EQ(request("GET", "/authorize", NULL, hdrs, NULL), 431);
    /* Many small headers add up the same way. */
    many = malloc(300 * 40 + 200);
    many[0] = '\0';
    strcat(many, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for (i = 0; i < 300; i++)
        sprintf(many + strlen(many), "X-H%03zu: %.28s\r\n", i, big);
    strcat(many, "Connection: close\r\n\r\n");
    ASSERT_EQ(raw_request(many, strlen(many), NULL), 431);

    /* Two hundred refusals later, no memory was kept for them. */
    before = gh_rss_kib();
    for (i = 0; i < 200; i++)
        ASSERT_EQ(request("GET", "/healthz", NULL, hdrs, NULL), 431);
    after = gh_rss_kib();
    fprintf(stderr, "rss before %ld KiB, after %ld KiB\n", before, after);
    ASSERT(before > 0 && (wrapped() || after - before < 16 * 1024));
    expect_healthy();
    free(many);
    free(hdr);
    free(path);
    free(big);
    world_stop(&h);
}

TEST(oversized_bodies_get_413_on_every_post_endpoint)
{
    static const char *const paths[] = {"/token",      "/login",    "/logout",
                                        "/introspect", "/userinfo", "/revoke"};
    static const char *const chunked[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Transfer-Encoding: chunked", NULL};
    char *body = malloc(70 * 1024 + 1);
    size_t i;

    start();
    memset(body, 'a', 70 * 1024);
    body[70 * 1024] = '\0';
    for (i = 0; i < NELEM(paths); i++) {
        ASSERT_EQ(request("POST", paths[i], body, form_ct, NULL), 413);
        ASSERT_EQ(request("POST", paths[i], body, chunked, NULL), 413);
    }
    /* Exactly at the limit is still read (and refused for what it
     * says, not for its size). */
    body[64 * 1024] = '\0';
    {
        long st = request("POST", "/token", body, form_ct, NULL);
        ASSERT(st == 400 || st == 401);
    }
    expect_healthy();
    free(body);
    world_stop(&h);
}

TEST(too_many_and_duplicated_parameters_are_refused)
{
    char *body = NULL, *loc = NULL, *p, *err;
    char basic[128];
    const char *hdrs[3] = {form_ct[0], basic, NULL};
    size_t i;

    start();
    oidc_basic_header("crm:crm-secret", basic, sizeof(basic));
    /* 65 parameters: one past FORM_MAX_PARAMS. */
    body = strdup("grant_type=client_credentials");
    for (i = 0; i < 64; i++) {
        char *nb = NULL;
        if (asprintf(&nb, "%s&p%zu=1", body, i) < 0)
            FAIL("asprintf");
        free(body);
        body = nb;
    }
    ASSERT_EQ(request("POST", "/token", body, hdrs, NULL), 400);
    free(body);
    ASSERT_EQ(request("POST", "/token",
                      "grant_type=refresh_token&grant_type=client_credentials"
                      "&refresh_token=x",
                      hdrs, NULL),
              400);
    ASSERT_EQ(request("POST", "/introspect", "token=a&token=b", hdrs, NULL),
              400);
    ASSERT_EQ(request("POST", "/revoke", "token=a&token=b", hdrs, NULL), 400);

    /* /authorize: a duplicated client_id or redirect_uri is never trusted
     * enough to redirect to; any other duplicate goes back as an error. */
    p = oidc_authorize_url(&h->gh, "crm", CRM_CB, "&client_id=crm");
    ASSERT_EQ(request("GET", p + strlen(h->gh.issuer), NULL, NULL, &loc), 400);
    ASSERT(loc == NULL);
    free(p);
    p = oidc_authorize_url(&h->gh, "crm", CRM_CB,
                           "&redirect_uri=http%3A%2F%2Fevil.example%2F");
    ASSERT_EQ(request("GET", p + strlen(h->gh.issuer), NULL, NULL, &loc), 400);
    ASSERT(loc == NULL);
    free(p);
    p = oidc_authorize_url(&h->gh, "crm", CRM_CB, "&nonce=again");
    ASSERT_EQ(request("GET", p + strlen(h->gh.issuer), NULL, NULL, &loc), 302);
    ASSERT(loc != NULL && strncmp(loc, CRM_CB "?", strlen(CRM_CB) + 1) == 0);
    err = url_param(loc, "error");
    ASSERT_STR_EQ(err, "invalid_request");
    free(err);
    free(loc);
    free(p);
    ASSERT_EQ(request("GET", "/logout?state=a&state=b", NULL, NULL, NULL), 400);
    ASSERT_EQ(request("POST", "/logout", "client_id=crm&client_id=crm", form_ct,
                      NULL),
              400);
    expect_healthy();
    world_stop(&h);
}

TEST(invalid_utf8_and_nul_in_any_field_are_400_and_change_nothing)
{
    static const char *const bad[] = {
        "%00", "%FF", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "a%", "%zz"};
    static const char *const authorize_params[] = {
        "client_id",     "redirect_uri",   "state",      "nonce", "scope",
        "response_type", "code_challenge", "login_hint", "prompt"};
    struct browser b = {""};
    char basic[128], *path = NULL, *loc = NULL, *body = NULL, *resp;
    const char *hdrs[3] = {form_ct[0], basic, NULL};
    size_t i, j;
    json_t *t;

    start();
    oidc_basic_header("crm:crm-secret", basic, sizeof(basic));
    t = sign_in_crm(&b, "alice", "correct horse");
    for (i = 0; i < NELEM(bad); i++) {
        for (j = 0; j < NELEM(authorize_params); j++) {
            char *u = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
            if (asprintf(&path, "%s&%s=x%s", u + strlen(h->gh.issuer),
                         authorize_params[j], bad[i]) < 0)
                FAIL("asprintf");
            ASSERT_EQ(request("GET", path, NULL, NULL, &loc), 400);
            ASSERT(loc == NULL);
            free(path);
            free(u);
        }
        if (asprintf(&body, "grant_type=refresh_token&refresh_token=%s%s",
                     str(t, "refresh_token"), bad[i]) < 0)
            FAIL("asprintf");
        ASSERT_EQ(request("POST", "/token", body, hdrs, NULL), 400);
        free(body);
        if (asprintf(&body, "token=%s%s", str(t, "access_token"), bad[i]) < 0)
            FAIL("asprintf");
        ASSERT_EQ(request("POST", "/introspect", body, hdrs, NULL), 400);
        free(body);
        if (asprintf(&body, "access_token=%s%s", str(t, "access_token"),
                     bad[i]) < 0)
            FAIL("asprintf");
        ASSERT_EQ(request("POST", "/userinfo", body, form_ct, NULL), 400);
        free(body);
        if (asprintf(&path, "/logout?client_id=crm&state=%s", bad[i]) < 0)
            FAIL("asprintf");
        ASSERT_EQ(request("GET", path, NULL, NULL, NULL), 400);
        free(path);
        if (asprintf(&body, "username=alice%s&password=x&csrf=y", bad[i]) < 0)
            FAIL("asprintf");
        ASSERT_EQ(request("POST", "/login", body, form_ct, NULL), 400);
        free(body);
    }
    /* A raw NUL in a body, which a C string would silently cut short. */
    {
        static const char req[] =
            "POST /logout HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 21\r\nConnection: close\r\n\r\n"
            "client_id=crm&x=a\0b=c";
        ASSERT_EQ(raw_request(req, sizeof(req) - 1, NULL), 400);
    }
    {
        static const char req[] =
            "POST /token HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Authorization: Basic Y3JtOmNybS1zZWNyZXQ=\r\n"
            "Content-Length: 33\r\nConnection: close\r\n\r\n"
            "grant_type=client_credentials\0abc";
        ASSERT_EQ(raw_request(req, sizeof(req) - 1, &resp), 400);
        free(resp);
    }
    /* Invalid UTF-8 in headers: a bearer token and a cookie. */
    {
        static const char req[] = "GET /userinfo HTTP/1.1\r\nHost: x\r\n"
                                  "Authorization: Bearer \xc0\xaf\xff\r\n"
                                  "Connection: close\r\n\r\n";
        ASSERT_EQ(raw_request(req, sizeof(req) - 1, NULL), 401);
    }
    /* The session and its tokens came through all of that untouched. */
    ASSERT(alive(&b));
    if (asprintf(&body, "token=%s", str(t, "access_token")) < 0)
        FAIL("asprintf");
    {
        char *u = url_of("/introspect");
        struct http_result res;
        ASSERT_EQ(http_do("POST", u, body, hdrs, &res), 0);
        ASSERT_EQ(res.status, 200);
        ASSERT_CONTAINS(res.body, "\"active\":true");
        http_result_free(&res);
        free(u);
    }
    free(body);
    json_decref(t);
    expect_healthy();
    world_stop(&h);
}

/* GET /logout?id_token_hint=hint with b's cookie; the status and body. */
static long
logout_with_hint(struct browser *b, const char *hint, char **page)
{
    char *hv = url_encode(hint), *u = NULL;
    struct http_result res;
    long st;

    if (asprintf(&u, "%s/logout?id_token_hint=%s", h->gh.issuer, hv) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(b, "GET", u, NULL, &res), 0);
    st = res.status;
    if (page != NULL)
        *page = strdup(res.body);
    http_result_free(&res);
    free(u);
    free(hv);
    return st;
}

TEST(forged_id_token_hints_get_the_confirmation_page_never_a_silent_logout)
{
    struct browser b = {""};
    char kid[64], *page, **v;
    EVP_PKEY *real;
    json_t *t, *claims;
    size_t i;

    start();
    t = sign_in_crm(&b, "alice", "correct horse");
    claims = oidc_verified_claims(&h->gh, str(t, "id_token"));
    real = server_key(kid);
    v = forgeries(claims, "JWT", real, kid);
    for (i = 0; v[i] != NULL; i++) {
        ASSERT_EQ(logout_with_hint(&b, v[i], &page), 200);
        if (strstr(page, "Sign out?") == NULL)
            FAIL("forgery %zu was taken as a hint: %s", i, page);
        free(page);
        ASSERT(alive(&b));
    }
    /* An access token has aud and sid too, but it is not an ID token
     * (RFC 8725 §3.11): a resource server holding one must not be able
     * to sign the user out unasked. */
    ASSERT_EQ(logout_with_hint(&b, str(t, "access_token"), &page), 200);
    ASSERT_CONTAINS(page, "Sign out?");
    free(page);
    ASSERT(alive(&b));
    /* The genuine hint still works: the checks above could fail. */
    ASSERT_EQ(logout_with_hint(&b, str(t, "id_token"), &page), 200);
    ASSERT_CONTAINS(page, "You are signed out");
    free(page);
    ASSERT(!alive(&b));
    free_list(v);
    EVP_PKEY_free(real);
    json_decref(claims);
    json_decref(t);
    world_stop(&h);
}

/* The status /userinfo gives a bearer token, and the "active" /introspect
 * gives it when crm asks. */
static long
userinfo_status(const char *token, int *active)
{
    char auth[9000], basic[128], *body = NULL, *u;
    const char *hdrs[2] = {auth, NULL};
    const char *ihdrs[3] = {form_ct[0], basic, NULL};
    struct http_result res;
    long st;

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    st = request("GET", "/userinfo", NULL, hdrs, NULL);
    oidc_basic_header("crm:crm-secret", basic, sizeof(basic));
    if (asprintf(&body, "token=%s", token) < 0)
        FAIL("asprintf");
    u = url_of("/introspect");
    ASSERT_EQ(http_do("POST", u, body, ihdrs, &res), 0);
    ASSERT_EQ(res.status, 200);
    *active = strstr(res.body, "\"active\":true") != NULL;
    http_result_free(&res);
    free(u);
    free(body);
    return st;
}

TEST(forged_expired_and_misused_bearer_tokens_get_401)
{
    struct browser b = {""};
    char kid[64], **v, *p, *hv, *tok, big[8300];
    EVP_PKEY *real;
    json_t *t, *claims;
    int active;
    size_t i;

    start();
    t = sign_in_crm(&b, "alice", "correct horse");
    ASSERT_EQ(userinfo_status(str(t, "access_token"), &active), 200);
    ASSERT(active);
    claims = oidc_verified_claims(&h->gh, str(t, "access_token"));
    real = server_key(kid);
    v = forgeries(claims, "at+jwt", real, kid);
    for (i = 0; v[i] != NULL; i++) {
        if (userinfo_status(v[i], &active) != 401 || active)
            FAIL("forgery %zu was accepted as a bearer token", i);
    }
    free_list(v);
    /* Our key, our issuer, but expired an hour ago. */
    hv = header("ES256", kid, "at+jwt");
    p = claims_with(claims, "exp", "1700000000");
    tok = forge_es256(hv, p, real);
    ASSERT_EQ(userinfo_status(tok, &active), 401);
    ASSERT(!active);
    free(tok);
    free(p);
    /* Issued in the future. */
    p = claims_with(claims, "iat", "4102444800");
    tok = forge_es256(hv, p, real);
    ASSERT_EQ(userinfo_status(tok, &active), 401);
    ASSERT(!active);
    free(tok);
    free(p);
    free(hv);
    /* An ID token is not an access token. */
    ASSERT_EQ(userinfo_status(str(t, "id_token"), &active), 401);
    ASSERT(!active);
    /* Past the size limit, refused before any parsing (in a header it
     * does not even fit the 8 KiB a connection may use: 431). */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    {
        long st = userinfo_status(big, &active);
        ASSERT(st == 401 || st == 431);
        ASSERT(!active);
    }
    /* The genuine one still works. */
    ASSERT_EQ(userinfo_status(str(t, "access_token"), &active), 200);
    ASSERT(active);
    EVP_PKEY_free(real);
    json_decref(claims);
    json_decref(t);
    world_stop(&h);
}

TEST(csrf_tokens_are_single_use_and_bound_to_their_form)
{
    struct browser b = {""}, b2 = {""};
    struct http_result res, res2;
    char *u, *csrf, *request_id, *body = NULL, *page;
    json_t *t;

    start();
    /* A sign-in form used twice: the second post is refused and signs no
     * one in. */
    u = oidc_authorize_url(&h->gh, "crm", CRM_CB, NULL);
    ASSERT_EQ(browser_do(&b, "GET", u, NULL, &res), 0);
    free(u);
    csrf = html_hidden(res.body, "csrf");
    request_id = html_hidden(res.body, "request");
    ASSERT(csrf != NULL && request_id != NULL);
    oidc_sign_in(&h->gh, &b, res.body, "alice", "correct horse", &res2);
    ASSERT_EQ(res2.status, 303);
    http_result_free(&res2);
    if (asprintf(&body,
                 "username=alice&password=correct+horse&csrf=%s"
                 "&request=%s",
                 csrf, request_id) < 0)
        FAIL("asprintf");
    u = url_of("/login");
    ASSERT_EQ(browser_do(&b2, "POST", u, body, &res2), 0);
    ASSERT_EQ(res2.status, 403);
    ASSERT(!browser_has_cookie(&b2, "gh_session"));
    http_result_free(&res2);
    free(body);
    http_result_free(&res);
    free(csrf);
    free(request_id);

    /* A sign-out confirmation token works only for the session it was
     * made for: b2's own session cannot be ended with b's form. */
    t = sign_in_crm(&b2, "alice", "correct horse");
    json_decref(t);
    ASSERT_EQ(logout_with_hint(&b, "x", &page), 200);
    csrf = html_hidden(page, "csrf");
    free(page);
    ASSERT(csrf != NULL);
    if (asprintf(&body, "csrf=%s", csrf) < 0)
        FAIL("asprintf");
    free(u);
    u = url_of("/logout");
    ASSERT_EQ(browser_do(&b2, "POST", u, body, &res2), 0);
    ASSERT_EQ(res2.status, 403);
    http_result_free(&res2);
    ASSERT(alive(&b2));
    /* A login form's token is no sign-out token either. */
    {
        char *lu = url_of("/login"), *lcsrf, *lbody = NULL;
        ASSERT_EQ(browser_do(&b2, "GET", lu, NULL, &res2), 0);
        lcsrf = html_hidden(res2.body, "csrf");
        http_result_free(&res2);
        if (asprintf(&lbody, "csrf=%s", lcsrf) < 0)
            FAIL("asprintf");
        ASSERT_EQ(browser_do(&b2, "POST", u, lbody, &res2), 0);
        ASSERT_EQ(res2.status, 403);
        http_result_free(&res2);
        ASSERT(alive(&b2));
        free(lbody);
        free(lcsrf);
        free(lu);
    }
    /* The token is sealed and bound to b's session, not stored: the
     * refusals above spent nothing, and ending the session spends it. */
    free(body);
    free(csrf);
    /* A fresh form, used by its own session, works. */
    ASSERT_EQ(logout_with_hint(&b, "x", &page), 200);
    csrf = html_hidden(page, "csrf");
    free(page);
    if (asprintf(&body, "csrf=%s", csrf) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(&b, "POST", u, body, &res2), 0);
    ASSERT_EQ(res2.status, 200);
    ASSERT_CONTAINS(res2.body, "You are signed out");
    http_result_free(&res2);
    ASSERT(!alive(&b));
    ASSERT(alive(&b2));
    free(body);
    free(csrf);
    free(u);
    world_stop(&h);
}

TEST(a_session_id_set_before_sign_in_is_never_promoted)
{
    struct browser victim = {""}, mallory = {""};
    char made_up[80], *cookie, *hv, *sub, *mallory_sub;
    struct http_result res, res2;
    char *u;
    json_t *t;

    start();
    ASSERT_EQ(oidc_add_user(&h->gh, "mallory", "mallory pass"), 0);
    /* 1. A well-formed id the attacker made up and planted. */
    snprintf(made_up, sizeof(made_up), "gh_session=%s.%s",
             "AAAAAAAAAAAAAAAAAAAAAA",
             "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    snprintf(victim.cookies, sizeof(victim.cookies), "%s", made_up);
    t = sign_in_crm(&victim, "alice", "correct horse");
    json_decref(t);
    cookie = browser_cookie(&victim, "gh_session");
    ASSERT(cookie != NULL && strcmp(cookie, made_up + 11) != 0);
    free(cookie);
    hv = NULL;
    if (asprintf(&hv, "Cookie: %s", made_up) < 0)
        FAIL("asprintf");
    ASSERT((sub = session_sub(hv)) == NULL);
    free(hv);

    /* 2. The attacker's own, real session planted in the victim's
     * browser: signing in (prompt=login) makes a new session for the
     * victim and leaves the attacker's as it was. */
    t = sign_in_crm(&mallory, "mallory", "mallory pass");
    json_decref(t);
    hv = cookie_header(&mallory);
    mallory_sub = session_sub(hv);
    ASSERT(mallory_sub != NULL);
    memcpy(victim.cookies, mallory.cookies, sizeof(victim.cookies));
    u = oidc_authorize_url(&h->gh, "crm", CRM_CB, "&prompt=login");
    ASSERT_EQ(browser_do(&victim, "GET", u, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    oidc_sign_in(&h->gh, &victim, res.body, "alice", "correct horse", &res2);
    ASSERT_EQ(res2.status, 303);
    ASSERT(strcmp(victim.cookies, mallory.cookies) != 0);
    sub = session_sub(hv);
    ASSERT_STR_EQ(sub, mallory_sub);
    free(sub);
    free(hv);
    hv = cookie_header(&victim);
    sub = session_sub(hv);
    ASSERT(sub != NULL && strcmp(sub, mallory_sub) != 0);
    free(sub);
    free(hv);
    free(mallory_sub);
    http_result_free(&res);
    http_result_free(&res2);
    free(u);
    world_stop(&h);
}

TEST(two_session_cookies_count_as_none_and_end_nothing)
{
    struct browser b = {""};
    char *real, *hv = NULL, *sub, *page;
    long st;
    json_t *t;

    start();
    t = sign_in_crm(&b, "alice", "correct horse");
    real = browser_cookie(&b, "gh_session");
    /* A sibling domain planted a second gh_session, before or after. */
    if (asprintf(&hv, "Cookie: gh_session=%s; gh_session=planted", real) < 0)
        FAIL("asprintf");
    ASSERT((sub = session_sub(hv)) == NULL);
    free(hv);
    if (asprintf(&hv, "Cookie: gh_session=planted; other=1; gh_session=%s",
                 real) < 0)
        FAIL("asprintf");
    ASSERT((sub = session_sub(hv)) == NULL);
    /* A sign-out with the tossed jar ends nothing: the session stays
     * usable with the genuine cookie. */
    {
        const char *hdrs[2] = {hv, NULL};
        char *path = NULL, *hint = url_encode(str(t, "id_token"));
        if (asprintf(&path, "/logout?id_token_hint=%s", hint) < 0)
            FAIL("asprintf");
        st = request("GET", path, NULL, hdrs, NULL);
        ASSERT(st == 200 || st == 400);
        free(path);
        free(hint);
    }
    ASSERT(alive(&b));
    (void)page;
    free(hv);
    free(real);
    json_decref(t);
    world_stop(&h);
}

TEST(open_redirects_are_refused_in_every_spelling)
{
    static const char *const evil[] = {
        "//evil.example/callback",
        "\\\\evil.example/callback",
        "/\\evil.example/callback",
        "http://127.0.0.1:3001@evil.example/callback",
        "http://127.0.0.1:3001%40evil.example/callback",
        "http%3A%2F%2Fevil.example%2Fcallback",
        "%2F%2Fevil.example%2Fcallback",
        "http://evil.example/callback",
        "https://127.0.0.1:3001/callback",
        "http://127.0.0.1:3001/callback/../../evil",
        "http://127.0.0.1:3001/callback?next=http://evil.example/",
        "http://127.0.0.1:3001/callback#@evil.example",
        "http://127.0.0.1:3001/callback%2F..%2F..%2Fevil",
        "http://127.0.0.1:3001/callback\r\nLocation: http://evil.example/",
        " http://127.0.0.1:3001/callback",
        "HTTP://127.0.0.1:3001/callback",
        "javascript:alert(1)//http://127.0.0.1:3001/callback",
        "http://127.0.0.1:3001/",
    };
    struct browser b = {""};
    char *path = NULL, *loc = NULL, *e, *hint;
    size_t i;
    json_t *t;

    start();
    t = sign_in_crm(&b, "alice", "correct horse");
    hint = url_encode(str(t, "id_token"));
    for (i = 0; i < NELEM(evil); i++) {
        /* Sent both as the attacker typed it and percent-encoded. */
        int enc;
        for (enc = 0; enc < 2; enc++) {
            e = enc ? url_encode(evil[i]) : strdup(evil[i]);
            /* libcurl would drop a fragment and split on '&'. */
            if (enc == 0 && strpbrk(e, " \r\n#&") != NULL) {
                free(e);
                continue;
            }
            if (asprintf(&path,
                         "/authorize?response_type=code&client_id=crm&"
                         "scope=openid&state=s&redirect_uri=%s",
                         e) < 0)
                FAIL("asprintf");
            if (request("GET", path, NULL, NULL, &loc) != 400 || loc != NULL)
                FAIL("authorize redirect_uri %s: went to %s", e,
                     loc ? loc : "(no Location but not 400)");
            free(path);
            /* The last one is crm's post-logout URI, not a callback. */
            if (i + 1 < NELEM(evil)) {
                if (asprintf(&path,
                             "/logout?id_token_hint=%s&"
                             "post_logout_redirect_uri=%s",
                             hint, e) < 0)
                    FAIL("asprintf");
                {
                    char *ch = cookie_header(&b);
                    const char *hdrs[2] = {ch, NULL};
                    if (request("GET", path, NULL, hdrs, &loc) != 400 ||
                        loc != NULL)
                        FAIL("post_logout_redirect_uri %s: went to %s", e,
                             loc ? loc : "(no Location but not 400)");
                    free(ch);
                }
                free(path);
            }
            free(e);
        }
    }
    /* None of that signed anyone out. */
    ASSERT(alive(&b));
    free(hint);
    json_decref(t);
    world_stop(&h);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One failed sign-in from a fresh form; its duration in seconds. */
static double
failed_login_time(const char *user)
{
    struct browser b = {""};
    struct http_result res, res2;
    char *u = url_of("/login");
    double t0, dt;

    ASSERT_EQ(browser_do(&b, "GET", u, NULL, &res), 0);
    t0 = test_now();
    oidc_sign_in(&h->gh, &b, res.body, user, "not the password", &res2);
    dt = test_now() - t0;
    ASSERT_EQ(res2.status, 401);
    ASSERT_CONTAINS(res2.body, "Incorrect username or password");
    http_result_free(&res);
    http_result_free(&res2);
    free(u);
    return dt;
}

TEST(login_timing_does_not_reveal_whether_a_user_exists)
{
    enum { N = 5 };
    double known[N], unknown[N], mk, mu, diff;
    int i;

    start();
    failed_login_time("alice"); /* warm up: first hash, first connection */
    failed_login_time("nobody");
    /* Interleaved, so drift in machine load hits both alike. */
    for (i = 0; i < N; i++) {
        known[i] = failed_login_time("alice");
        unknown[i] = failed_login_time(i % 2 ? "nobody" : "Mallory-x");
    }
    qsort(known, N, sizeof(double), cmp_double);
    qsort(unknown, N, sizeof(double), cmp_double);
    mk = known[N / 2];
    mu = unknown[N / 2];
    diff = mk > mu ? (mk - mu) / mu : (mu - mk) / mk;
    fprintf(stderr,
            "median failed sign-in: existing user %.1f ms, unknown "
            "user %.1f ms (%.0f%% apart)\n",
            mk * 1e3, mu * 1e3, diff * 100);
    /* Under valgrind the difference would be valgrind's. */
    ASSERT(wrapped() || diff < 0.30);
    world_stop(&h);
}

TEST(what_is_typed_as_a_username_never_reaches_the_log)
{
    /* A password typed into the username field, as people do. */
    const char *typed = "Tr0ub4dor&3-horse";
    char hex[65], *log;

    start();
    failed_login_time(typed);
    failed_login_time("alice");
    log = gh_log(&h->gh);
    util_sha256_hex(typed, strlen(typed), hex);
    hex[12] = '\0';
    ASSERT(strstr(log, "login_failed sub=- ") != NULL);
    ASSERT(strstr(log, "Tr0ub4dor") == NULL);
    /* Nor a hash of it: a dictionary inverts an unsalted one. */
    ASSERT(strstr(log, hex) == NULL);
    ASSERT(strstr(log, "user_fp=") == NULL);
    /* The known user is named by sub, so a security team can follow it. */
    {
        const char *first = strstr(log, "login_failed sub=");
        const char *second = first ? strstr(first + 1, "login_failed sub=") : NULL;
        ASSERT(second != NULL);
        ASSERT(strncmp(second, "login_failed sub=- ", 19) != 0);
    }
    free(log);
    world_stop(&h);
}

/* check-config on a config whose crm client has this back-channel URI. */
static int
check_backchannel(const char *uri, char **err)
{
    char *cfg = NULL;
    char *argv[] = {getenv("GATEHOUSE_BIN"), "check-config", "--config", NULL,
                    NULL};
    struct gh_proc g;
    json_t *j =
        json_pack("{s:[{s:s, s:s, s:[s], s:s}]}", "clients", "client_id", "crm",
                  "client_secret", "x", "redirect_uris", CRM_CB,
                  "backchannel_logout_uri", uri);
    int rc;

    cfg = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ASSERT_EQ(gh_prepare(&g, "redis://127.0.0.1:1/0", "ES256", cfg), 0);
    argv[3] = g.config;
    rc = run_cmd(argv, NULL, NULL, err);
    gh_stop(&g);
    free(cfg);
    return rc;
}

TEST(backchannel_uris_outside_policy_are_refused_at_check_config)
{
    static const char *const refused[] = {
        "http://example.com/bc",
        "HTTP://example.com/bc",
        "file:///etc/passwd",
        "ftp://127.0.0.1/bc",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "dict://127.0.0.1:6379/",
        "http://127.0.0.1@evil.example/bc",
        "https://user:pass@app.example/bc",
        "http://0.0.0.0/bc",
        "http://[::]/bc",
        "http://[::ffff:127.0.0.1]/bc",
        "http://127.1/bc",
        "http://2130706433/bc",
        "http://localhost.evil.example/bc",
        "http://127.0.0.1.evil.example/bc",
        "http://10.0.0.5/bc",
        "https://app.example/bc#frag",
        "https://app.example\\@evil.example/bc",
        "http:/127.0.0.1/bc",
        "//127.0.0.1/bc",
        "https://app.example/b c",
    };
    static const char *const accepted[] = {
        "https://app.example/bc", "http://127.0.0.1:9/bc",
        "http://127.9.8.7/bc",    "http://localhost:3001/bc",
        "http://[::1]:3001/bc",
    };
    char *err = NULL;
    size_t i;

    for (i = 0; i < NELEM(refused); i++) {
        if (check_backchannel(refused[i], &err) != 1)
            FAIL("backchannel_logout_uri %s was accepted", refused[i]);
        ASSERT_CONTAINS(err, "clients[0].backchannel_logout_uri");
        free(err);
    }
    for (i = 0; i < NELEM(accepted); i++) {
        if (check_backchannel(accepted[i], &err) != 0)
            FAIL("backchannel_logout_uri %s was refused: %s", accepted[i], err);
        free(err);
    }
}

/* An app whose back-channel endpoint answers every POST with a redirect
 * to another app's endpoint. */
struct redirector {
    struct MHD_Daemon *d;
    char target[128];
    int hits;
};

static enum MHD_Result
redirect_handler(void *cls, struct MHD_Connection *conn, const char *url,
                 const char *method, const char *version, const char *data,
                 size_t *size, void **ctx)
{
    struct redirector *r = cls;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (*ctx == NULL) {
        *ctx = r;
        return MHD_YES;
    }
    if (*size > 0) {
        *size = 0;
        return MHD_YES;
    }
    __atomic_add_fetch(&r->hits, 1, __ATOMIC_SEQ_CST);
    resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Location", r->target);
    ret = MHD_queue_response(conn, 307, resp);
    MHD_destroy_response(resp);
    return ret;
}

TEST(backchannel_delivery_never_follows_a_redirect)
{
    struct bc_app elsewhere;
    struct redirector r;
    struct browser b = {""};
    char *cfg = NULL, *page;
    const union MHD_DaemonInfo *info;
    int port;
    json_t *t;

    memset(&r, 0, sizeof(r));
    ASSERT_EQ(bc_start(&elsewhere, 0, 0), 0);
    snprintf(r.target, sizeof(r.target), "%s", elsewhere.uri);
    r.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                           redirect_handler, &r, MHD_OPTION_END);
    ASSERT(r.d != NULL);
    info = MHD_get_daemon_info(r.d, MHD_DAEMON_INFO_BIND_PORT);
    ASSERT(info != NULL && info->port > 0);
    port = info->port;
    if (asprintf(&cfg,
                 "{\"login\":{\"max_failures\":1000,\"lockout_s\":60},"
                 "\"backchannel\":{\"timeout_ms\":500,\"max_attempts\":2,"
                 "\"logout_wait_ms\":500},"
                 "\"clients\":[{\"client_id\":\"crm\",\"client_secret\":"
                 "\"crm-secret\",\"redirect_uris\":[\"" CRM_CB "\"],"
                 "\"backchannel_logout_uri\":"
                 "\"http://127.0.0.1:%d/backchannel-logout\"}]}",
                 port) < 0)
        FAIL("asprintf");
    start_with(cfg);
    t = sign_in_crm(&b, "alice", "correct horse");
    ASSERT_EQ(logout_with_hint(&b, str(t, "id_token"), &page), 200);
    ASSERT_CONTAINS(page, "You are signed out");
    free(page);
    /* Both attempts (1 s apart) hit the redirector; none went on. */
    ASSERT_EQ(bc_wait(&elsewhere, 1, 3.0), -1);
    ASSERT(__atomic_load_n(&r.hits, __ATOMIC_SEQ_CST) >= 1);
    ASSERT_EQ(elsewhere.requests, 0);
    json_decref(t);
    world_stop(&h);
    MHD_stop_daemon(r.d);
    bc_stop(&elsewhere);
    free(cfg);
}

TEST(header_injection_and_markup_in_parameters_stay_inert)
{
    struct http_result res;
    char *u, *loc;

    start();
    /* CR LF in state comes back percent-encoded in the Location. */
    if (asprintf(&u,
                 "%s/authorize?response_type=code&client_id=crm&"
                 "redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A3001%%2Fcallback"
                 "&scope=openid&prompt=none&state=%%0D%%0AX-Injected:%%201",
                 h->gh.issuer) < 0)
        FAIL("asprintf");
    ASSERT_EQ(http_do("GET", u, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 302);
    ASSERT(strcasestr(res.headers, "\nX-Injected") == NULL);
    loc = http_header_value(&res, "Location");
    ASSERT_CONTAINS(loc, "state=%0D%0AX-Injected%3A%201");
    free(loc);
    http_result_free(&res);
    free(u);
    /* Markup in login_hint is escaped in the sign-in page. */
    if (asprintf(&u,
                 "%s/authorize?response_type=code&client_id=crm&"
                 "redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A3001%%2Fcallback"
                 "&scope=openid&login_hint=%%22%%3E%%3Cscript%%3Ealert(1)"
                 "%%3C%%2Fscript%%3E",
                 h->gh.issuer) < 0)
        FAIL("asprintf");
    ASSERT_EQ(http_do("GET", u, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT(strstr(res.body, "<script>") == NULL);
    ASSERT_CONTAINS(res.body, "&lt;script&gt;");
    http_result_free(&res);
    free(u);
    world_stop(&h);
}

TEST(malformed_client_credentials_get_401_never_500)
{
    static const char *const auths[] = {
        "Authorization: Basic",
        "Authorization: Basic ",
        "Authorization: Basic ====",
        "Authorization: Basic Y3JtOmNybS1zZWNyZXQ",   /* no padding */
        "Authorization: Basic Y3JtOmNybS1zZWNyZXQ==", /* extra padding */
        "Authorization: Basic Y3Jt",                  /* no colon */
        "Authorization: Basic OmNybS1zZWNyZXQ=",      /* empty id */
        "Authorization: Basic Y3JtJTAwOng=",          /* crm%00:x */
        "Authorization: Basic Y3JtOiVGRg==",          /* crm:%FF */
        "Authorization: Basic Y3Jt OmNybS1zZWNyZXQ=", /* a space inside */
        "Authorization: Bearer Y3JtOmNybS1zZWNyZXQ=",
        "Authorization: Digest username=\"crm\"",
        "Authorization: Basic Y3JtOmNybS1zZWNyZXQ=, Basic Y3JtOng=",
    };
    const char *hdrs[3] = {form_ct[0], NULL, NULL};
    long st;
    size_t i;

    start();
    for (i = 0; i < NELEM(auths); i++) {
        hdrs[1] = auths[i];
        st = request("POST", "/token", "grant_type=client_credentials", hdrs,
                     NULL);
        if (st != 401 && st != 400)
            FAIL("%s: status %ld", auths[i], st);
        st = request("POST", "/introspect", "token=x", hdrs, NULL);
        if (st != 401 && st != 400)
            FAIL("%s: /introspect status %ld", auths[i], st);
    }
    expect_healthy();
    world_stop(&h);
}

TEST_MAIN(
    TEST_ENTRY(
        oversized_headers_and_uris_get_431_and_414_without_memory_growth),
    TEST_ENTRY(oversized_bodies_get_413_on_every_post_endpoint),
    TEST_ENTRY(too_many_and_duplicated_parameters_are_refused),
    TEST_ENTRY(invalid_utf8_and_nul_in_any_field_are_400_and_change_nothing),
    TEST_ENTRY(
        forged_id_token_hints_get_the_confirmation_page_never_a_silent_logout),
    TEST_ENTRY(forged_expired_and_misused_bearer_tokens_get_401),
    TEST_ENTRY(csrf_tokens_are_single_use_and_bound_to_their_form),
    TEST_ENTRY(a_session_id_set_before_sign_in_is_never_promoted),
    TEST_ENTRY(two_session_cookies_count_as_none_and_end_nothing),
    TEST_ENTRY(open_redirects_are_refused_in_every_spelling),
    TEST_ENTRY(login_timing_does_not_reveal_whether_a_user_exists),
    TEST_ENTRY(what_is_typed_as_a_username_never_reaches_the_log),
    TEST_ENTRY(backchannel_uris_outside_policy_are_refused_at_check_config),
    TEST_ENTRY(backchannel_delivery_never_follows_a_redirect),
    TEST_ENTRY(header_injection_and_markup_in_parameters_stay_inert),
    TEST_ENTRY(malformed_client_credentials_get_401_never_500))
