/* SPDX-License-Identifier: MIT */
/* Passkey ceremonies (directory/passkeys.c) on a real redis-server, with
 * the test authenticator (authn.c): a registration and a passwordless
 * sign-in name the owner; a challenge works once, for the browser it was
 * sealed for; a counter that did not grow is refused and changes
 * nothing; an anonymous visitor's challenge stores nothing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "authn.h"
#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/store/store.h"
#include "harness/world.h"
#include "support.h"
#include "test.h"

#define ORIGIN "http://localhost:8080"
#define RPID "localhost"
#define SUB_A "0b7b2b8e-1111-4c1e-9d1a-aaaaaaaaaaaa"
#define SUB_B "0b7b2b8e-2222-4c1e-9d1a-bbbbbbbbbbbb"

static const struct webauthn_rp rp = {ORIGIN, RPID};
static struct redis_proc redis;
static struct store *st;
/* The store keeps a pointer to its configuration. */
static struct redis_config conf;

static void
start(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (redis_start(&redis, 0) < 0)
        FAIL("redis_start");
    memset(&conf, 0, sizeof(conf));
    conf.prefix = "t:";
    conf.unix_path = redis.socket;
    ASSERT_EQ(store_open(&conf, &st), 0);
}

static void
stop(void)
{
    store_close(st);
    redis_stop(&redis, 0);
}

static long long
dbsize(void)
{
    redisContext *c = redisConnectUnix(redis.socket);
    redisReply *r;
    long long n;

    ASSERT(c != NULL && !c->err);
    r = redisCommand(c, "DBSIZE");
    ASSERT(r != NULL && r->type == REDIS_REPLY_INTEGER);
    n = r->integer;
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static char *
b64(const void *p, size_t n)
{
    return b64url_encode_alloc(p, n);
}

static void
client_data(char *out, size_t len, const char *type, const char *challenge)
{
    snprintf(out, len,
             "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\"}", type,
             challenge, ORIGIN);
}

/* A registration of a's credential for sub through the ceremony. */
static int
enrol(struct authn *a, const char *sub, const char *name)
{
    char challenge[PASSKEY_CHALLENGE_TEXT], cd[512], *sealed = NULL;
    char *cd64, *ao64;
    unsigned char *ao = NULL;
    size_t aolen;
    int rc;

    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_REGISTER, sub, challenge,
                                 &sealed),
              0);
    client_data(cd, sizeof(cd), "webauthn.create", challenge);
    aolen = authn_attobj(a, "packed", RPID, 0x05, cd, 0, &ao);
    cd64 = b64(cd, strlen(cd));
    ao64 = b64(ao, aolen);
    rc = passkeys_register(st, &rp, sub, sealed, cd64, ao64, name, 1000);
    free(cd64);
    free(ao64);
    free(ao);
    free(sealed);
    return rc;
}

/* One assertion by a for the sealed challenge: the browser's fields. */
struct answer {
    char *id, *cd, *ad, *sig;
};

static void
answer(struct authn *a, const char *challenge, struct answer *ans)
{
    char cd[512];
    unsigned char ad[64], sig[256];
    size_t adlen, siglen;

    client_data(cd, sizeof(cd), "webauthn.get", challenge);
    adlen = authn_auth_data(a, RPID, 0x05, 0, ad);
    siglen = authn_sign(a, ad, adlen, cd, sig);
    ans->id = b64(a->id, sizeof(a->id));
    ans->cd = b64(cd, strlen(cd));
    ans->ad = b64(ad, adlen);
    ans->sig = b64(sig, siglen);
}

static void
answer_free(struct answer *ans)
{
    free(ans->id);
    free(ans->cd);
    free(ans->ad);
    free(ans->sig);
}

static int
sign_in(const char *binding, const char *sealed, const char *want,
        const struct answer *ans, char **sub)
{
    int uv = 0;

    return passkeys_sign_in(st, &rp, binding, sealed, want, ans->id, ans->cd,
                            ans->ad, ans->sig, sub, &uv);
}

TEST(registration_then_passwordless_sign_in_names_the_owner)
{
    struct authn a;
    struct answer ans;
    struct passkey_record *list = NULL;
    char challenge[PASSKEY_CHALLENGE_TEXT], *sealed = NULL, *sub = NULL;
    size_t n = 0;

    start();
    authn_new(&a, 0);
    ASSERT_EQ(enrol(&a, SUB_A, "Laptop"), 0);
    ASSERT_EQ(store_passkeys_list(st, SUB_A, &list, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(list[0].name, "Laptop");
    ASSERT_EQ(list[0].alg, -7);
    ASSERT_EQ(list[0].created, 1000);
    store_passkeys_free(list, n);

    a.counter = 1;
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "browser-1",
                                 challenge, &sealed),
              0);
    answer(&a, challenge, &ans);
    ASSERT_EQ(sign_in("browser-1", sealed, NULL, &ans, &sub), 0);
    ASSERT_STR_EQ(sub, SUB_A);
    free(sub);
    answer_free(&ans);
    free(sealed);
    authn_free(&a);
    stop();
}

TEST(a_challenge_works_once_and_only_for_its_browser)
{
    struct authn a;
    struct answer ans;
    char challenge[PASSKEY_CHALLENGE_TEXT], *sealed = NULL, *sub = NULL;

    start();
    authn_new(&a, 0);
    ASSERT_EQ(enrol(&a, SUB_A, ""), 0);
    a.counter = 1;
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "browser-1",
                                 challenge, &sealed),
              0);
    answer(&a, challenge, &ans);
    /* Sealed for another browser, or for a registration. */
    ASSERT_EQ(sign_in("browser-2", sealed, NULL, &ans, &sub), GH_EBADTOKEN);
    ASSERT_EQ(sign_in("browser-1", "v1.forged", NULL, &ans, &sub),
              GH_EBADTOKEN);
    ASSERT_EQ(sign_in("browser-1", sealed, NULL, &ans, &sub), 0);
    free(sub);
    sub = NULL;
    /* The same answer again: its counter did not grow. */
    ASSERT_EQ(sign_in("browser-1", sealed, NULL, &ans, &sub), GH_EDENIED);
    answer_free(&ans);
    /* A fresh answer (higher counter) to the spent challenge: still no. */
    a.counter = 2;
    answer(&a, challenge, &ans);
    ASSERT_EQ(sign_in("browser-1", sealed, NULL, &ans, &sub), GH_EBADTOKEN);
    ASSERT(sub == NULL);
    answer_free(&ans);
    free(sealed);
    authn_free(&a);

    /* An authenticator without a counter (always 0): only the spent
     * challenge stops the replay of its answer. */
    authn_new(&a, 1);
    ASSERT_EQ(enrol(&a, SUB_B, "No counter"), 0);
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "browser-3",
                                 challenge, &sealed),
              0);
    answer(&a, challenge, &ans);
    ASSERT_EQ(sign_in("browser-3", sealed, NULL, &ans, &sub), 0);
    ASSERT_STR_EQ(sub, SUB_B);
    free(sub);
    sub = NULL;
    ASSERT_EQ(sign_in("browser-3", sealed, NULL, &ans, &sub), GH_EBADTOKEN);
    ASSERT(sub == NULL);
    answer_free(&ans);
    free(sealed);
    authn_free(&a);
    stop();
}

TEST(a_counter_that_did_not_grow_is_refused_and_changes_nothing)
{
    struct authn a;
    struct answer ans;
    struct passkey_record rec = {0};
    char challenge[PASSKEY_CHALLENGE_TEXT], *sealed = NULL, *sub = NULL;
    char *id;

    start();
    authn_new(&a, 0);
    a.counter = 10;
    ASSERT_EQ(enrol(&a, SUB_A, "Key"), 0);
    id = b64(a.id, sizeof(a.id));
    /* A clone of the authenticator answers with a counter it had. */
    a.counter = 10;
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "b", challenge,
                                 &sealed),
              0);
    answer(&a, challenge, &ans);
    ASSERT_EQ(sign_in("b", sealed, NULL, &ans, &sub), GH_EDENIED);
    answer_free(&ans);
    ASSERT_EQ(store_passkey_get(st, SUB_A, id, &rec), 0);
    ASSERT_EQ(rec.counter, 10);
    store_passkey_record_clear(&rec);
    /* The challenge was not spent by the refusal: the real one signs in. */
    a.counter = 11;
    answer(&a, challenge, &ans);
    ASSERT_EQ(sign_in("b", sealed, NULL, &ans, &sub), 0);
    free(sub);
    answer_free(&ans);
    ASSERT_EQ(store_passkey_get(st, SUB_A, id, &rec), 0);
    ASSERT_EQ(rec.counter, 11);
    store_passkey_record_clear(&rec);
    free(sealed);
    free(id);
    authn_free(&a);
    stop();
}

TEST(an_anonymous_challenge_stores_nothing)
{
    char challenge[PASSKEY_CHALLENGE_TEXT], *sealed = NULL;
    long long before;
    int i;

    start();
    /* The MAC key is made by the first challenge; after it, none adds. */
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "b", challenge,
                                 &sealed),
              0);
    free(sealed);
    before = dbsize();
    for (i = 0; i < 50; i++) {
        ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "b",
                                     challenge, &sealed),
                  0);
        free(sealed);
    }
    ASSERT_EQ(dbsize(), before);
    stop();
}

TEST(registration_refuses_replay_other_users_and_bad_names)
{
    struct authn a, b;
    struct answer ans;
    char challenge[PASSKEY_CHALLENGE_TEXT], cd[512], *sealed = NULL;
    char *cd64, *ao64, *sub = NULL, *id;
    unsigned char *ao = NULL;
    size_t aolen;
    long long before;

    start();
    authn_new(&a, 0);
    authn_new(&b, 1);
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_REGISTER, SUB_A,
                                 challenge, &sealed),
              0);
    client_data(cd, sizeof(cd), "webauthn.create", challenge);
    aolen = authn_attobj(&a, "none", RPID, 0x05, cd, 0, &ao);
    cd64 = b64(cd, strlen(cd));
    ao64 = b64(ao, aolen);
    /* Sealed for A: B's account cannot take it. */
    ASSERT_EQ(passkeys_register(st, &rp, SUB_B, sealed, cd64, ao64, "x", 1),
              GH_EBADTOKEN);
    before = dbsize();
    ASSERT_EQ(passkeys_register(st, &rp, SUB_A, sealed, cd64, ao64,
                                "a\nnewline", 1),
              GH_EINVAL);
    ASSERT_EQ(passkeys_register(st, &rp, SUB_A, sealed, cd64, "%%%", "x", 1),
              GH_EINVAL);
    ASSERT_EQ(dbsize(), before);
    ASSERT_EQ(passkeys_register(st, &rp, SUB_A, sealed, cd64, ao64, "x", 1),
              0);
    /* The same registration again. */
    ASSERT_EQ(passkeys_register(st, &rp, SUB_A, sealed, cd64, ao64, "x", 1),
              GH_EBADTOKEN);
    free(cd64);
    free(ao64);
    free(ao);
    free(sealed);
    /* The credential is A's: as B's second factor it is not found. */
    ASSERT_EQ(enrol(&b, SUB_B, "B"), 0);
    a.counter = 3;
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "b", challenge,
                                 &sealed),
              0);
    answer(&a, challenge, &ans);
    ASSERT_EQ(sign_in("b", sealed, SUB_B, &ans, &sub), GH_ENOTFOUND);
    /* Removed, it signs in no one. */
    id = b64(a.id, sizeof(a.id));
    ASSERT_EQ(store_passkey_remove(st, SUB_B, id), 0);
    ASSERT_EQ(store_passkey_remove(st, SUB_A, id), 1);
    ASSERT_EQ(sign_in("b", sealed, NULL, &ans, &sub), GH_ENOTFOUND);
    ASSERT(sub == NULL);
    answer_free(&ans);
    free(id);
    free(sealed);
    /* An administrator's reset takes every passkey and its owner entry. */
    ASSERT_EQ(store_passkeys_delete(st, SUB_B), 1);
    ASSERT_EQ(store_passkeys_delete(st, SUB_B), 0);
    id = b64(b.id, sizeof(b.id));
    ASSERT_EQ(store_passkey_owner(st, id, &sub), GH_ENOTFOUND);
    free(id);
    authn_free(&a);
    authn_free(&b);
    stop();
}

/* A gatehouse (world) whose issuer is http://localhost:PORT, since an RP
 * ID cannot be an IP address: started as the harness does, then again
 * with the issuer's host changed. st opens its store. */
static struct harness *
world_localhost(const char *extra, struct config **cfg)
{
    struct harness_opts o = {.apps = 0, .user = "alice:correct horse"};
    struct field_error fe;
    struct harness *h = world_start(&o, NULL, extra);
    json_error_t je;
    json_t *c;

    ASSERT_EQ(gh_signal_wait(&h->gh, SIGTERM, 10), 0);
    ASSERT((c = json_load_file(h->gh.config, 0, &je)) != NULL);
    snprintf(h->gh.issuer, sizeof(h->gh.issuer), "http://localhost:%d",
             h->gh.port);
    json_object_set_new(c, "issuer", json_string(h->gh.issuer));
    ASSERT_EQ(json_dump_file(c, h->gh.config, JSON_INDENT(2)), 0);
    json_decref(c);
    ASSERT_EQ(gh_launch(&h->gh), 0);
    ASSERT_EQ(config_load(h->gh.config, cfg, &fe), 0);
    ASSERT_EQ(store_open(&(*cfg)->redis, &st), 0);
    return h;
}

/* The value of attribute data-NAME="..." in html (malloc'd). */
static char *
html_data(const char *html, const char *name)
{
    char pat[64];
    const char *p, *e;

    snprintf(pat, sizeof(pat), "data-%s=\"", name);
    ASSERT((p = strstr(html, pat)) != NULL);
    p += strlen(pat);
    ASSERT((e = strchr(p, '"')) != NULL);
    return strndup(p, (size_t)(e - p));
}

/* One passwordless sign-in at h by browser b with authenticator a: the
 * page's challenge answered (with bad, a wrong signature; with forged, a
 * state the server never sealed). The HTTP status. */
static long post_answer(struct harness *h, struct browser *b,
                        struct authn *a, int bad, int forged,
                        const char *page, const char *path);

static long
http_passkey(struct harness *h, struct browser *b, struct authn *a, int bad,
             int forged)
{
    struct http_result r;
    char url[256];
    long status;

    snprintf(url, sizeof(url), "%s/login/passkey", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "GET", url, NULL, &r), 0);
    ASSERT_EQ(r.status, 200);
    status = post_answer(h, b, a, bad, forged, r.body, "/login/passkey");
    http_result_free(&r);
    return status;
}

/* Answers the passkey form of page (its challenge, state and step, if
 * any) by POST to path. The HTTP status. */
static long
post_answer(struct harness *h, struct browser *b, struct authn *a, int bad,
            int forged, const char *page, const char *path)
{
    struct http_result r;
    char url[256], origin[128], cd[512], *challenge, *state, *body = NULL;
    char *id, *cd64, *ad64, *sig64, *st_enc, *step, *step_enc;
    unsigned char ad[512], sig[256];
    size_t adlen, siglen;
    long status;

    snprintf(origin, sizeof(origin), "%s", h->gh.issuer);
    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    const char *field = "state";
    char *csrf, *csrf_enc, *scope;

    challenge = html_data(page, "challenge");
    /* The step-up's passkey form carries its seal as pkstate, and the
     * account form's csrf and scope. */
    if ((state = html_hidden(page, "pkstate")) != NULL)
        field = "pkstate";
    else
        state = html_hidden(page, "state");
    ASSERT(state != NULL);
    step = html_hidden(page, "step");
    step_enc = url_encode(step != NULL ? step : "");
    csrf = html_hidden(page, "csrf");
    csrf_enc = url_encode(csrf != NULL ? csrf : "");
    scope = html_hidden(page, "scope");
    snprintf(cd, sizeof(cd),
             "{\"type\":\"webauthn.get\",\"challenge\":\"%s\","
             "\"origin\":\"%s\"}",
             challenge, origin);
    a->counter++;
    adlen = authn_auth_data(a, RPID, 0x05, 0, ad);
    siglen = authn_sign(a, ad, adlen, cd, sig);
    if (bad)
        sig[siglen / 2] ^= 0x01;
    id = b64(a->id, sizeof(a->id));
    cd64 = b64(cd, strlen(cd));
    ad64 = b64(ad, adlen);
    sig64 = b64(sig, siglen);
    st_enc = url_encode(forged ? "v1.forged" : state);
    ASSERT(asprintf(&body,
                    "%s=%s&id=%s&client_data=%s&auth_data=%s&sig=%s%s%s%s%s"
                    "%s%s",
                    field, st_enc, id, cd64, ad64, sig64,
                    step != NULL && *step != '\0' ? "&step=" : "",
                    step != NULL && *step != '\0' ? step_enc : "",
                    csrf != NULL ? "&csrf=" : "",
                    csrf != NULL ? csrf_enc : "",
                    scope != NULL ? "&scope=" : "",
                    scope != NULL ? scope : "") > 0);
    ASSERT_EQ(browser_do(b, "POST", url, body, &r), 0);
    status = r.status;
    http_result_free(&r);
    free(body);
    free(st_enc);
    free(id);
    free(cd64);
    free(ad64);
    free(sig64);
    free(challenge);
    free(state);
    free(step);
    free(step_enc);
    free(csrf);
    free(csrf_enc);
    free(scope);
    return status;
}

/* The failures counted in the user's lockout bucket (0: none). */
static long long
user_failures(struct harness *h, const char *sub)
{
    redisContext *c = redisConnectUnix(h->redis.socket);
    redisReply *r;
    long long n = 0;

    ASSERT(c != NULL && !c->err);
    r = redisCommand(c, "GET %slfail:u:%s", h->prefix, sub);
    ASSERT(r != NULL);
    if (r->type == REDIS_REPLY_STRING)
        n = strtoll(r->str, NULL, 10);
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static void
redis_del_ip(struct harness *h)
{
    redisContext *c = redisConnectUnix(h->redis.socket);
    redisReply *r;

    ASSERT(c != NULL && !c->err);
    r = redisCommand(c, "DEL %slfail:ip:127.0.0.1", h->prefix);
    ASSERT(r != NULL && r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    redisFree(c);
}

/* Registers a's passkey for the user sub at h (issuer localhost). */
static void
http_enrol(struct harness *h, struct authn *a, const char *sub)
{
    struct webauthn_rp hrp;
    char origin[128], challenge[PASSKEY_CHALLENGE_TEXT], cd[512];
    char *sealed = NULL, *cd64, *ao64;
    unsigned char *ao = NULL;
    size_t aolen;

    snprintf(origin, sizeof(origin), "%s", h->gh.issuer);
    hrp.origin = origin;
    hrp.id = RPID;
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_REGISTER, sub, challenge,
                                 &sealed),
              0);
    snprintf(cd, sizeof(cd),
             "{\"type\":\"webauthn.create\",\"challenge\":\"%s\","
             "\"origin\":\"%s\"}",
             challenge, origin);
    aolen = authn_attobj(a, "packed", RPID, 0x05, cd, 0, &ao);
    cd64 = b64(cd, strlen(cd));
    ao64 = b64(ao, aolen);
    ASSERT_EQ(passkeys_register(st, &hrp, sub, sealed, cd64, ao64, "Key",
                                util_now()),
              0);
    free(cd64);
    free(ao64);
    free(ao);
    free(sealed);
}

/* Signs alice in at h with her password and then the passkey a. */
static void
http_sign_in_2fa(struct harness *h, struct browser *b, struct authn *a)
{
    struct http_result r;
    char url[256], *csrf, *enc, *body = NULL;

    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(b, "GET", url, NULL, &r), 0);
    csrf = html_hidden(r.body, "csrf");
    ASSERT(csrf != NULL);
    enc = url_encode(csrf);
    http_result_free(&r);
    ASSERT(asprintf(&body, "username=alice&password=correct+horse&csrf=%s",
                    enc) > 0);
    ASSERT_EQ(browser_do(b, "POST", url, body, &r), 0);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(post_answer(h, b, a, 0, 0, r.body, "/login"), 200);
    http_result_free(&r);
    free(body);
    free(enc);
    free(csrf);
}

/*
 * alice with the passkey a, signed in (password and passkey) at a fresh
 * world in b, then past its 1 s step-up window: the form of path posted
 * with scope. The step-up page it answers is in *r; *cfg and sub are
 * the world's config and alice's sub.
 */
static struct harness *
step_up_page(struct config **cfg, struct browser *b, struct authn *a,
             char sub[37], const char *path, const char *scope,
             struct http_result *r)
{
    struct harness *h;
    struct user *u = NULL;
    char url[256], *csrf, *enc, *body = NULL;

    h = world_localhost("{\"login\": {\"reauth_window_s\": 1}}", cfg);
    ASSERT_EQ(users_get(st, "alice", &u), 0);
    memcpy(sub, u->sub, 37);
    user_free(u);
    authn_new(a, 0);
    http_enrol(h, a, sub);
    http_sign_in_2fa(h, b, a);
    usleep(1300 * 1000); /* past the step-up window */
    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    ASSERT_EQ(browser_do(b, "GET", url, NULL, r), 0);
    ASSERT_EQ(r->status, 200);
    csrf = html_hidden(r->body, "csrf");
    ASSERT(csrf != NULL);
    enc = url_encode(csrf);
    http_result_free(r);
    ASSERT(asprintf(&body, "csrf=%s&scope=%s", enc, scope) > 0);
    ASSERT_EQ(browser_do(b, "POST", url, body, r), 0);
    ASSERT_EQ(r->status, 200);
    free(body);
    free(enc);
    free(csrf);
    return h;
}

TEST(step_up_takes_a_passkey_counted_like_a_password)
{
    struct config *cfg = NULL;
    struct harness *h;
    struct browser b = {{0}};
    struct http_result r;
    struct authn a;
    char url[256], sub[37];

    /* "Sign out of all sessions" asks first, offering the passkey. */
    h = step_up_page(&cfg, &b, &a, sub, "/account", "all", &r);
    ASSERT_CONTAINS(r.body, "data-passkey=\"get\"");
    ASSERT_CONTAINS(r.body, "name=\"pkstate\"");
    ASSERT_CONTAINS(r.body, "/passkey.js");
    ASSERT_CONTAINS(r.headers, "script-src 'self'");
    /* A wrong signature: refused, counted, nothing signed out. */
    ASSERT_EQ(post_answer(h, &b, &a, 1, 0, r.body, "/account"), 401);
    ASSERT_EQ(user_failures(h, sub), 1);
    /* A forged state: not a check of the passkey, nothing counted. */
    ASSERT_EQ(post_answer(h, &b, &a, 0, 1, r.body, "/account"), 400);
    ASSERT_EQ(user_failures(h, sub), 1);
    /* The right passkey: the action goes on, every session ends. */
    ASSERT_EQ(post_answer(h, &b, &a, 0, 0, r.body, "/account"), 200);
    ASSERT_EQ(user_failures(h, sub), 0);
    http_result_free(&r);
    snprintf(url, sizeof(url), "%s/account", h->gh.issuer);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &r), 0);
    ASSERT(r.status == 302 || r.status == 303);
    http_result_free(&r);
    authn_free(&a);
    store_close(st);
    config_free(cfg);
    world_stop(&h);
}

/* An active TOTP for sub at h, activated with oathtool's code. */
static void
totp_enrol(struct config *cfg, const char *sub)
{
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1], why[256];
    char now[64], *so = NULL, code[TOTP_DIGITS + 1];
    unsigned char key[FACTOR_KEY_LEN];
    struct totp_enrolment e;
    int64_t t = util_now();

    if (factor_key_load(cfg->keys_dir, 0, key, why, sizeof(why)) != 0)
        FAIL("%s", why);
    ASSERT_EQ(factors_totp_enrol(st, key, cfg->issuer, sub, "alice", &e), 0);
    {
        char *argv[] = {"/usr/bin/oathtool", "--totp", "-b", now, e.secret,
                        NULL};

        snprintf(now, sizeof(now), "--now=@%lld", (long long)t);
        ASSERT_EQ(run_cmd(argv, NULL, &so, NULL), 0);
    }
    ASSERT(so != NULL && strlen(so) >= TOTP_DIGITS);
    memcpy(code, so, TOTP_DIGITS);
    code[TOTP_DIGITS] = '\0';
    free(so);
    ASSERT_EQ(factors_totp_activate(st, key, sub, code, strlen(code), t,
                                    codes),
              0);
    factors_enrolment_clear(&e);
}

TEST(sign_out_everywhere_steps_up_with_a_passkey)
{
    struct config *cfg = NULL;
    struct harness *h;
    struct browser b = {{0}};
    struct http_result r;
    struct authn a;
    char url[256], sub[37];

    h = step_up_page(&cfg, &b, &a, sub, "/logout", "everywhere", &r);
    ASSERT_CONTAINS(r.body, "name=\"scope\" value=\"everywhere\"");
    ASSERT_CONTAINS(r.body, "data-passkey=\"get\"");
    ASSERT_CONTAINS(r.body, "name=\"pkstate\"");
    ASSERT_CONTAINS(r.headers, "script-src 'self'");
    ASSERT_EQ(post_answer(h, &b, &a, 1, 0, r.body, "/logout"), 401);
    ASSERT_EQ(user_failures(h, sub), 1);
    ASSERT_EQ(post_answer(h, &b, &a, 0, 0, r.body, "/logout"), 200);
    ASSERT_EQ(user_failures(h, sub), 0);
    http_result_free(&r);
    /* Signed out: the account page sends the browser to sign in. */
    snprintf(url, sizeof(url), "%s/account", h->gh.issuer);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &r), 0);
    ASSERT(r.status == 302 || r.status == 303);
    http_result_free(&r);
    authn_free(&a);
    store_close(st);
    config_free(cfg);
    world_stop(&h);
}

TEST(a_user_with_totp_and_a_passkey_is_offered_both)
{
    struct config *cfg = NULL;
    struct harness *h;
    struct browser b = {{0}};
    struct http_result r;
    struct authn a;
    struct user *u = NULL;
    char url[256], sub[37], *csrf, *enc, *body = NULL;

    if (access("/usr/bin/oathtool", X_OK) != 0) {
        fprintf(stderr, "oathtool not installed\n");
        exit(77);
    }
    h = world_localhost(NULL, &cfg);
    ASSERT_EQ(users_get(st, "alice", &u), 0);
    memcpy(sub, u->sub, sizeof(sub));
    user_free(u);
    authn_new(&a, 0);
    http_enrol(h, &a, sub);
    totp_enrol(cfg, sub);
    snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
    ASSERT_EQ(browser_do(&b, "GET", url, NULL, &r), 0);
    csrf = html_hidden(r.body, "csrf");
    ASSERT(csrf != NULL);
    enc = url_encode(csrf);
    http_result_free(&r);
    ASSERT(asprintf(&body, "username=alice&password=correct+horse&csrf=%s",
                    enc) > 0);
    ASSERT_EQ(browser_do(&b, "POST", url, body, &r), 0);
    ASSERT_EQ(r.status, 200);
    /* The code page, with "Use a passkey" too. */
    ASSERT_CONTAINS(r.body, "name=\"code\"");
    ASSERT_CONTAINS(r.body, "data-passkey=\"get\"");
    ASSERT_CONTAINS(r.body, "Use a passkey");
    ASSERT_CONTAINS(r.headers, "script-src 'self'");
    /* A wrong passkey: refused and counted. */
    ASSERT_EQ(post_answer(h, &b, &a, 1, 0, r.body, "/login"), 401);
    ASSERT_EQ(user_failures(h, sub), 1);
    /* The right passkey instead of a code: signed in. */
    ASSERT_EQ(post_answer(h, &b, &a, 0, 0, r.body, "/login"), 200);
    ASSERT(browser_has_cookie(&b, "gh_session"));
    ASSERT_EQ(user_failures(h, sub), 0);
    http_result_free(&r);
    free(body);
    free(enc);
    free(csrf);
    authn_free(&a);
    store_close(st);
    config_free(cfg);
    world_stop(&h);
}

TEST(passkey_failures_count_toward_the_lockout_and_a_locked_user_gets_none)
{
    struct config *cfg = NULL;
    struct harness *h;
    struct browser b1 = {{0}}, b2 = {{0}}, b3 = {{0}};
    struct webauthn_rp hrp;
    struct authn a;
    struct user *u = NULL;
    char origin[128], challenge[PASSKEY_CHALLENGE_TEXT], cd[512];
    char *sealed = NULL, *cd64, *ao64, sub[37];
    unsigned char *ao = NULL;
    size_t aolen;
    int i;

    h = world_localhost("{\"login\": {\"max_failures\": 3}}", &cfg);
    ASSERT_EQ(users_get(st, "alice", &u), 0);
    memcpy(sub, u->sub, sizeof(sub));
    user_free(u);
    snprintf(origin, sizeof(origin), "%s", h->gh.issuer);
    hrp.origin = origin;
    hrp.id = RPID;
    authn_new(&a, 0);
    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_REGISTER, sub, challenge,
                                 &sealed),
              0);
    snprintf(cd, sizeof(cd),
             "{\"type\":\"webauthn.create\",\"challenge\":\"%s\","
             "\"origin\":\"%s\"}",
             challenge, origin);
    aolen = authn_attobj(&a, "packed", RPID, 0x05, cd, 0, &ao);
    cd64 = b64(cd, strlen(cd));
    ao64 = b64(ao, aolen);
    ASSERT_EQ(passkeys_register(st, &hrp, sub, sealed, cd64, ao64, "Key",
                                util_now()),
              0);
    free(cd64);
    free(ao64);
    free(ao);
    free(sealed);

    /* A forged page state is no check of the passkey: nothing counted,
     * however often. */
    for (i = 0; i < 5; i++)
        ASSERT_EQ(http_passkey(h, &b1, &a, 0, 1), 401);
    ASSERT_EQ(user_failures(h, sub), 0);
    /* The right passkey signs in. */
    ASSERT_EQ(http_passkey(h, &b1, &a, 0, 0), 200);
    ASSERT(browser_has_cookie(&b1, "gh_session"));
    /* The second step after her password: a wrong passkey counts too,
     * the right one clears her count. */
    {
        struct browser b4 = {{0}};
        struct http_result r;
        char url[256], *csrf, *enc, *body = NULL;

        snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
        for (i = 0; i < 2; i++) {
            ASSERT_EQ(browser_do(&b4, "GET", url, NULL, &r), 0);
            csrf = html_hidden(r.body, "csrf");
            ASSERT(csrf != NULL);
            enc = url_encode(csrf);
            http_result_free(&r);
            ASSERT(asprintf(&body,
                            "username=alice&password=correct+horse&csrf=%s",
                            enc) > 0);
            ASSERT_EQ(browser_do(&b4, "POST", url, body, &r), 0);
            ASSERT_EQ(r.status, 200);
            ASSERT_CONTAINS(r.body, "data-passkey=\"get\"");
            ASSERT_EQ(post_answer(h, &b4, &a, i == 0, 0, r.body, "/login"),
                      i == 0 ? 401 : 200);
            ASSERT_EQ(user_failures(h, sub), i == 0 ? 1 : 0);
            http_result_free(&r);
            free(body);
            body = NULL;
            free(enc);
            free(csrf);
        }
        ASSERT(browser_has_cookie(&b4, "gh_session"));
        /* This part's one failure from this address goes, so the next
         * part counts from nothing. */
        redis_del_ip(h);
    }
    /* Wrong signatures count against alice (and the address)... */
    ASSERT_EQ(http_passkey(h, &b2, &a, 1, 0), 401);
    ASSERT_EQ(user_failures(h, sub), 1);
    ASSERT_EQ(http_passkey(h, &b2, &a, 1, 0), 401);
    ASSERT_EQ(http_passkey(h, &b2, &a, 1, 0), 401);
    ASSERT_EQ(user_failures(h, sub), 3);
    /* ...until she is locked out: the right passkey is refused too,
     * before it is checked, and so is her password. */
    ASSERT_EQ(http_passkey(h, &b3, &a, 0, 0), 429);
    ASSERT(!browser_has_cookie(&b3, "gh_session"));
    {
        struct http_result r;
        char url[256];

        snprintf(url, sizeof(url), "%s/login", h->gh.issuer);
        ASSERT_EQ(browser_do(&b3, "GET", url, NULL, &r), 0);
        {
            char *csrf = html_hidden(r.body, "csrf"), *body = NULL;
            char *enc = url_encode(csrf != NULL ? csrf : "");

            http_result_free(&r);
            ASSERT(asprintf(&body,
                            "username=alice&password=correct+horse&csrf=%s",
                            enc) > 0);
            ASSERT_EQ(browser_do(&b3, "POST", url, body, &r), 0);
            ASSERT_EQ(r.status, 429);
            http_result_free(&r);
            free(body);
            free(enc);
            free(csrf);
        }
    }
    ASSERT(!browser_has_cookie(&b3, "gh_session"));
    authn_free(&a);
    store_close(st);
    config_free(cfg);
    world_stop(&h);
}

TEST_MAIN(TEST_ENTRY(registration_then_passwordless_sign_in_names_the_owner),
          TEST_ENTRY(a_challenge_works_once_and_only_for_its_browser),
          TEST_ENTRY(a_counter_that_did_not_grow_is_refused_and_changes_nothing),
          TEST_ENTRY(an_anonymous_challenge_stores_nothing),
          TEST_ENTRY(registration_refuses_replay_other_users_and_bad_names),
          TEST_ENTRY(
              passkey_failures_count_toward_the_lockout_and_a_locked_user_gets_none),
          TEST_ENTRY(step_up_takes_a_passkey_counted_like_a_password),
          TEST_ENTRY(a_user_with_totp_and_a_passkey_is_offered_both),
          TEST_ENTRY(sign_out_everywhere_steps_up_with_a_passkey))
