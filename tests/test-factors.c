/* SPDX-License-Identifier: MIT */
/* Second factors end to end: a real redis-server and gatehouse, codes from
 * oathtool (an independent TOTP implementation), the directory module
 * called in-process on the same Redis as the server, and the operators'
 * CLI and Admin API. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/jws.h"
#include "authn.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/store/store.h"
#include "harness/world.h"
#include "test.h"

static struct harness *h;
static struct config *cfg;
static struct store *st;
static unsigned char fkey[FACTOR_KEY_LEN];

/* One app with a back channel, users alice and bob, and the store and
 * second-factor key the server uses, opened here too. */
static void
start(void)
{
    struct harness_opts o = {.apps = 1, .user = "alice:correct horse"};
    struct field_error fe;
    char why[256];

    if (access("/usr/bin/oathtool", X_OK) != 0) {
        fprintf(stderr, "oathtool not installed\n");
        exit(77);
    }
    h = world_start(&o, NULL, NULL);
    ASSERT_EQ(harness_add_user(h, "bob", "battery staple"), 0);
    ASSERT_EQ(config_load(h->gh.config, &cfg, &fe), 0);
    ASSERT_EQ(store_open(&cfg->redis, &st), 0);
    /* Made by the server's first start (SPEC §3), not by this test. */
    if (factor_key_load(cfg->keys_dir, 0, fkey, why, sizeof(why)) != 0)
        FAIL("%s", why);
}

static void
stop(void)
{
    store_close(st);
    config_free(cfg);
    world_stop(&h);
}

static void
sub_of(const char *username, char sub[37])
{
    struct user *u = NULL;

    ASSERT_EQ(users_get(st, username, &u), 0);
    memcpy(sub, u->sub, 37);
    user_free(u);
}

/* What oathtool says the code of a base32 secret is at epoch second t. */
static void
oathtool_code(const char *b32, int64_t t, char out[TOTP_DIGITS + 1])
{
    char now[64], *so = NULL;
    char *argv[] = {"/usr/bin/oathtool", "--totp", "-b", now, (char *)b32,
                    NULL};

    snprintf(now, sizeof(now), "--now=@%lld", (long long)t);
    ASSERT_EQ(run_cmd(argv, NULL, &so, NULL), 0);
    ASSERT(so != NULL && strlen(so) >= TOTP_DIGITS);
    memcpy(out, so, TOTP_DIGITS);
    out[TOTP_DIGITS] = '\0';
    free(so);
}

/* A mid-step second near now, so t ± 30 stays clear of step edges. */
static int64_t
mid_step(void)
{
    return util_now() / TOTP_STEP_S * TOTP_STEP_S + 15;
}

/* Enrols and activates a TOTP for sub at time t; the secret's text into
 * b32 and the recovery codes into codes (either may be NULL). */
static void
enrol_active(const char *sub, const char *username, int64_t t,
             char b32[TOTP_SECRET_B32_LEN + 1],
             char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1])
{
    char mine[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    struct totp_enrolment e;
    char code[TOTP_DIGITS + 1];

    ASSERT_EQ(factors_totp_enrol(st, fkey, h->gh.issuer, sub, username, &e),
              0);
    oathtool_code(e.secret, t, code);
    ASSERT_EQ(factors_totp_activate(st, fkey, sub, code, strlen(code), t,
                                    codes != NULL ? codes : mine),
              0);
    if (b32 != NULL)
        memcpy(b32, e.secret, sizeof(e.secret));
    factors_enrolment_clear(&e);
}

static struct factor_result
verify(const char *sub, const char *code, int64_t t, int want_rc)
{
    struct factor_result r;

    memset(&r, 0x55, sizeof(r));
    ASSERT_EQ(factors_verify(st, fkey, sub, code, strlen(code), t, &r),
              want_rc);
    return r;
}

/* Runs redis-cli against the test redis; its output (malloc'd). */
static char *
redis_cli(const char *a1, const char *a2, const char *a3, const char *a4,
          const char *a5)
{
    char *argv[] = {"redis-cli", "-s",       h->redis.socket,
                    (char *)a1,  (char *)a2, (char *)a3,
                    (char *)a4,  (char *)a5, NULL};
    char *out = NULL;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    return out;
}

TEST(enrol_is_pending_until_a_code_from_the_app_activates_it)
{
    struct factor_info f[FACTORS_MAX];
    struct totp_enrolment e;
    char sub[37], code[TOTP_DIGITS + 1], wrong[TOTP_DIGITS + 1];
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    int64_t t = mid_step();
    size_t n = 0, i;
    int left = -1;

    start();
    sub_of("alice", sub);
    ASSERT_EQ(factors_totp_enrol(st, fkey, h->gh.issuer, sub, "alice", &e), 0);
    ASSERT_EQ(strlen(e.secret), TOTP_SECRET_B32_LEN);
    ASSERT_CONTAINS(e.uri, "otpauth://totp/127.0.0.1:alice?secret=");
    ASSERT_CONTAINS(e.uri, e.secret);
    ASSERT_EQ(factors_list(st, sub, f, &n, &left), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(f[0].type, FACTOR_TOTP);
    ASSERT_EQ(f[0].state, FACTOR_STATE_PENDING);
    ASSERT_EQ(f[0].activated, 0);
    ASSERT_EQ(left, 0);
    /* A pending factor is no factor to sign in with. */
    oathtool_code(e.secret, t, code);
    verify(sub, code, t, GH_ENOTFOUND);
    /* A wrong code activates nothing. */
    memcpy(wrong, code, sizeof(code));
    wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
    ASSERT_EQ(factors_totp_activate(st, fkey, sub, wrong, 6, t, codes),
              GH_EDENIED);
    ASSERT_EQ(factors_totp_activate(st, fkey, sub, "12a456", 6, t, codes),
              GH_EINVAL);
    ASSERT_EQ(factors_list(st, sub, f, &n, &left), 0);
    ASSERT_EQ(f[0].state, FACTOR_STATE_PENDING);
    /* The right one, as the app shows it (with a space). */
    {
        char spaced[8] = {code[0], code[1], code[2], ' ',
                          code[3], code[4], code[5], '\0'};
        ASSERT_EQ(factors_totp_activate(st, fkey, sub, spaced, 7, t, codes),
                  0);
    }
    ASSERT_EQ(factors_list(st, sub, f, &n, &left), 1);
    ASSERT_EQ(f[0].state, FACTOR_STATE_ACTIVE);
    ASSERT(f[0].activated > 0);
    ASSERT_EQ(left, RECOVERY_CODES);
    for (i = 0; i < RECOVERY_CODES; i++) {
        ASSERT_EQ(strlen(codes[i]), RECOVERY_CODE_TEXT_LEN);
        ASSERT_EQ(codes[i][5], '-');
    }
    ASSERT(strcmp(codes[0], codes[1]) != 0);
    /* The code that activated it was used: it does not sign in again. */
    {
        struct factor_result r = verify(sub, code, t, 0);
        ASSERT_EQ(r.accepted, 0);
        ASSERT_EQ(r.replayed, 1);
    }
    /* An active TOTP is not replaced by enrolling again. */
    factors_enrolment_clear(&e);
    ASSERT_EQ(factors_totp_enrol(st, fkey, h->gh.issuer, sub, "alice", &e),
              GH_EEXISTS);
    stop();
}

TEST(a_code_is_accepted_once_and_an_earlier_step_never)
{
    char sub[37], b32[TOTP_SECRET_B32_LEN + 1], code[TOTP_DIGITS + 1];
    int64_t t = mid_step() - 300; /* activated five minutes ago */
    struct factor_result r;

    start();
    sub_of("alice", sub);
    enrol_active(sub, "alice", t, b32, NULL);
    t += 300;
    oathtool_code(b32, t, code);
    r = verify(sub, code, t, 0);
    ASSERT_EQ(r.type, FACTOR_TOTP);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(r.replayed, 0);
    ASSERT_EQ(r.recovery_left, RECOVERY_CODES);
    /* The same code again, within its window: refused and counted. */
    r = verify(sub, code, t + 20, 0);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.replayed, 1);
    ASSERT_EQ(r.failures, 1);
    /* The previous step's code is still within the skew, but older than
     * one accepted: refused too. */
    oathtool_code(b32, t - TOTP_STEP_S, code);
    r = verify(sub, code, t, 0);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.replayed, 1);
    ASSERT_EQ(r.failures, 2);
    /* The next step's code is new: accepted, and the count starts over. */
    oathtool_code(b32, t + TOTP_STEP_S, code);
    r = verify(sub, code, t, 0);
    ASSERT_EQ(r.accepted, 1);
    /* Two steps of skew are too many. */
    oathtool_code(b32, t + 3 * TOTP_STEP_S, code);
    r = verify(sub, code, t, 0);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.replayed, 0);
    ASSERT_EQ(r.failures, 1);
    stop();
}

/* Racers presenting one code at once, each on its own thread (and so
 * its own Redis connection). */
#define RACERS 8
struct racer {
    pthread_t t;
    const char *sub, *code;
    int64_t now;
    int rc, accepted;
};

static void *
race(void *arg)
{
    struct racer *r = arg;
    struct factor_result res = {0};

    r->rc = factors_verify(st, fkey, r->sub, r->code, strlen(r->code),
                           r->now, &res);
    r->accepted = res.accepted;
    store_thread_done(st);
    return NULL;
}

/* How many of RACERS presenting code at once got in. */
static int
race_code(const char *sub, const char *code, int64_t now)
{
    struct racer r[RACERS];
    int i, n = 0;

    for (i = 0; i < RACERS; i++) {
        r[i] = (struct racer){.sub = sub, .code = code, .now = now};
        ASSERT_EQ(pthread_create(&r[i].t, NULL, race, &r[i]), 0);
    }
    for (i = 0; i < RACERS; i++) {
        pthread_join(r[i].t, NULL);
        ASSERT_EQ(r[i].rc, 0);
        n += r[i].accepted;
    }
    return n;
}

TEST(one_code_presented_at_once_by_many_gets_one_in)
{
    char sub[37], b32[TOTP_SECRET_B32_LEN + 1], code[TOTP_DIGITS + 1];
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    int64_t t = mid_step();

    start();
    sub_of("alice", sub);
    enrol_active(sub, "alice", t - 120, b32, codes);
    oathtool_code(b32, t, code);
    ASSERT_EQ(race_code(sub, code, t), 1);
    ASSERT_EQ(race_code(sub, codes[0], t), 1);
    stop();
}

TEST(a_wrong_code_is_refused_and_counted)
{
    char sub[37], b32[TOTP_SECRET_B32_LEN + 1], code[TOTP_DIGITS + 1];
    int64_t t = mid_step();
    struct factor_result r;
    char *m;

    start();
    sub_of("alice", sub);
    enrol_active(sub, "alice", t - 60, b32, NULL);
    oathtool_code(b32, t, code);
    code[5] = code[5] == '9' ? '0' : (char)(code[5] + 1);
    r = verify(sub, code, t, 0);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.replayed, 0);
    ASSERT_EQ(r.failures, 1);
    r = verify(sub, "000000", t, 0);
    ASSERT_EQ(r.failures, 2);
    /* Not a code at all: a clear error, nothing counted. */
    verify(sub, "12345", t, GH_EINVAL);
    verify(sub, "abc", t, GH_EINVAL);
    oathtool_code(b32, t, code);
    r = verify(sub, code, t, 0);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(r.failures, 0);
    /* Counted for /metrics, by type and outcome (this process's). */
    m = metrics_render();
    ASSERT_CONTAINS(m, "gatehouse_factor_checks_total{type=\"totp\","
                       "outcome=\"failure\"} 2\n");
    /* The activation's code and this one. */
    ASSERT_CONTAINS(m, "gatehouse_factor_checks_total{type=\"totp\","
                       "outcome=\"success\"} 2\n");
    free(m);
    /* Bob has no factor: nothing to check, nothing written for him. */
    sub_of("bob", sub);
    verify(sub, "123456", t, GH_ENOTFOUND);
    verify(sub, "abcde-fghij", t, GH_ENOTFOUND);
    {
        char key[128], *out;

        snprintf(key, sizeof(key), "%sfac:%s", h->prefix, sub);
        out = redis_cli("EXISTS", key, NULL, NULL, NULL);
        ASSERT_STR_EQ(out, "0\n");
        free(out);
    }
    stop();
}

TEST(new_recovery_codes_replace_the_old_ones)
{
    char sub[37], old[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    char fresh[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    int64_t t = mid_step();
    struct factor_result r;

    start();
    sub_of("alice", sub);
    /* None without an active TOTP, and nothing is written. */
    ASSERT_EQ(factors_recovery_new(st, fkey, sub, fresh), GH_ENOTFOUND);
    enrol_active(sub, "alice", t, NULL, old);
    r = verify(sub, old[0], t, 0);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(factors_recovery_new(st, fkey, sub, fresh), 0);
    /* The old codes stopped working as the new ones started: all ten. */
    r = verify(sub, old[1], t, 0);
    ASSERT_EQ(r.accepted, 0);
    r = verify(sub, fresh[9], t, 0);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(r.recovery_left, RECOVERY_CODES - 1);
    stop();
}

TEST(a_recovery_code_works_once)
{
    char sub[37], codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];
    char upper[RECOVERY_CODE_TEXT_LEN + 1];
    int64_t t = mid_step();
    struct factor_result r;
    struct factor_info f[FACTORS_MAX];
    size_t n = 0, i;
    int left = 0;

    start();
    sub_of("alice", sub);
    enrol_active(sub, "alice", t, NULL, codes);
    r = verify(sub, codes[3], t, 0);
    ASSERT_EQ(r.type, FACTOR_RECOVERY);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(r.recovery_left, RECOVERY_CODES - 1);
    r = verify(sub, codes[3], t, 0);
    ASSERT_EQ(r.accepted, 0);
    ASSERT_EQ(r.failures, 1);
    /* Typed in capitals with a space: the same code. */
    for (i = 0; codes[4][i] != '\0'; i++)
        upper[i] = codes[4][i] == '-' ? ' ' : (char)(codes[4][i] >= 'a' &&
                                                     codes[4][i] <= 'z'
                                                 ? codes[4][i] - 32
                                                 : codes[4][i]);
    upper[i] = '\0';
    r = verify(sub, upper, t, 0);
    ASSERT_EQ(r.accepted, 1);
    ASSERT_EQ(factors_list(st, sub, f, &n, &left), 1);
    ASSERT_EQ(left, RECOVERY_CODES - 2);
    /* Alice's code is not Bob's. */
    {
        char bob[37], bcodes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1];

        sub_of("bob", bob);
        enrol_active(bob, "bob", t, NULL, bcodes);
        r = verify(bob, codes[5], t, 0);
        ASSERT_EQ(r.accepted, 0);
    }
    stop();
}

TEST(secrets_are_encrypted_at_rest_and_bound_to_their_user)
{
    char alice[37], bob[37], key[128], akey[128];
    char b32[TOTP_SECRET_B32_LEN + 1], code[TOTP_DIGITS + 1];
    char codes[RECOVERY_CODES][RECOVERY_CODE_TEXT_LEN + 1], norm[16];
    char *dump, *sealed;
    int64_t t = mid_step();
    size_t i;

    start();
    sub_of("alice", alice);
    sub_of("bob", bob);
    enrol_active(alice, "alice", t - 60, b32, codes);
    enrol_active(bob, "bob", t - 60, NULL, NULL);
    snprintf(akey, sizeof(akey), "%sfac:%s", h->prefix, alice);
    snprintf(key, sizeof(key), "%sfac:%s", h->prefix, bob);
    dump = redis_cli("HGETALL", akey, NULL, NULL, NULL);
    ASSERT_CONTAINS(dump, "active");
    /* Neither the secret nor a recovery code is there in any form. */
    ASSERT(strstr(dump, b32) == NULL);
    for (i = 0; i < RECOVERY_CODES; i++) {
        ASSERT(strstr(dump, codes[i]) == NULL);
        ASSERT_EQ(recovery_code_parse(codes[i], strlen(codes[i]), norm), 0);
        ASSERT(strstr(dump, norm) == NULL);
    }
    free(dump);
    /* Alice's sealed secret copied over Bob's: Alice's codes do not work
     * for Bob, nor does Bob's record open any more. */
    sealed = redis_cli("HGET", akey, "t.k", NULL, NULL);
    sealed[strcspn(sealed, "\n")] = '\0';
    free(redis_cli("HSET", key, "t.k", sealed, NULL));
    free(sealed);
    oathtool_code(b32, t, code);
    verify(bob, code, t, GH_EBADTOKEN);
    /* Alice's own still works. */
    ASSERT_EQ(verify(alice, code, t, 0).accepted, 1);
    stop();
}

/* The JSON a command prints; exit status want. */
static json_t *
cli_json(int want, const char *a1, const char *a2, const char *a3)
{
    const char *bin = getenv("GATEHOUSE_BIN");
    char *argv[] = {(char *)bin, "user", (char *)a1, "--config",
                    h->gh.config, "--username", (char *)a2, (char *)a3,
                    NULL};
    char *out = NULL, *err = NULL;
    json_t *j = NULL;
    int rc;

    ASSERT(bin != NULL);
    rc = run_cmd(argv, NULL, &out, &err);
    if (rc != want)
        FAIL("user %s: exit %d, want %d: %s%s", a1, rc, want,
             out ? out : "", err ? err : "");
    if (want == 0 && a3 != NULL && strcmp(a3, "--json") == 0) {
        j = json_loads(out, 0, NULL);
        ASSERT(j != NULL);
    } else {
        j = json_pack("{s:s, s:s}", "out", out ? out : "", "err",
                      err ? err : "");
    }
    free(out);
    free(err);
    return j;
}

static char *
admin_token(void)
{
    char creds[128];
    json_t *t;
    char *tok;

    snprintf(creds, sizeof(creds), "%s:%s", HARNESS_ADMIN_CLIENT,
             h->admin_secret);
    t = oidc_token(&h->gh, "grant_type=client_credentials", creds, 200);
    tok = strdup(world_str(t, "access_token"));
    json_decref(t);
    return tok;
}

static json_t *
admin_call(const char *method, const char *path, const char *token,
           long want)
{
    char url[512], auth[JWS_MAX_LEN + 64];
    const char *hdrs[2] = {auth, NULL};
    struct http_result res;
    json_t *j;

    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             token != NULL ? token : "x");
    ASSERT_EQ(http_do(method, url, NULL, token != NULL ? hdrs : NULL, &res),
              0);
    if (res.status != want)
        FAIL("%s %s: %ld, want %ld: %s", method, path, res.status, want,
             res.body ? res.body : "");
    j = json_loads(res.body, 0, NULL);
    http_result_free(&res);
    ASSERT(j != NULL);
    return j;
}

static json_int_t
num(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

TEST(operators_list_factors_by_cli_and_api)
{
    char sub[37];
    json_t *j, *f;
    char *tok;

    start();
    sub_of("alice", sub);
    /* None yet. */
    j = cli_json(0, "factors", "alice", "--json");
    ASSERT_EQ(json_array_size(json_object_get(j, "factors")), 0);
    ASSERT_EQ(num(j, "recovery_codes_left"), 0);
    json_decref(j);
    enrol_active(sub, "alice", mid_step(), NULL, NULL);
    j = cli_json(0, "factors", "alice", "--json");
    ASSERT_STR_EQ(world_str(j, "sub"), sub);
    ASSERT_STR_EQ(world_str(j, "username"), "alice");
    f = json_array_get(json_object_get(j, "factors"), 0);
    ASSERT_STR_EQ(world_str(f, "type"), "totp");
    ASSERT_STR_EQ(world_str(f, "state"), "active");
    ASSERT(num(f, "created") > 0);
    ASSERT_EQ(num(j, "recovery_codes_left"), RECOVERY_CODES);
    json_decref(j);
    /* The table, by sub. */
    j = cli_json(0, "factors", sub, NULL);
    ASSERT_CONTAINS(world_str(j, "out"), "TYPE");
    ASSERT_CONTAINS(world_str(j, "out"), "totp");
    ASSERT_CONTAINS(world_str(j, "out"), "active");
    ASSERT_CONTAINS(world_str(j, "out"), "recovery codes left: 10");
    json_decref(j);
    j = cli_json(1, "factors", "nobody", NULL);
    ASSERT_CONTAINS(world_str(j, "err"), "no user \"nobody\"");
    json_decref(j);

    tok = admin_token();
    j = admin_call("GET", "/admin/users/alice/factors", tok, 200);
    f = json_array_get(json_object_get(j, "factors"), 0);
    ASSERT_STR_EQ(world_str(f, "state"), "active");
    ASSERT_EQ(num(j, "recovery_codes_left"), RECOVERY_CODES);
    json_decref(j);
    json_decref(admin_call("GET", "/admin/users/nobody/factors", tok, 404));
    json_decref(admin_call("GET", "/admin/users/alice/factors", NULL, 401));
    json_decref(admin_call("PUT", "/admin/users/alice/factors", tok, 405));
    /* Every call is audited. */
    j = admin_call("GET", "/admin/audit?limit=10", tok, 200);
    {
        char *text = json_dumps(j, 0);
        ASSERT_CONTAINS(text, "list_factors");
        free(text);
    }
    json_decref(j);
    free(tok);
    stop();
}

/* A passkey registered for sub in-process, as /account/passkeys would (the
 * RP is localhost: the test server's issuer is an IP address). */
#define PK_ORIGIN "http://localhost:8080"
#define PK_RPID "localhost"
static const struct webauthn_rp pk_rp = {PK_ORIGIN, PK_RPID};

static void
passkey_add(struct authn *a, const char *sub, const char *name,
            int64_t created)
{
    char challenge[PASSKEY_CHALLENGE_TEXT], cd[512], *sealed = NULL;
    char *cd64, *ao64;
    unsigned char *ao = NULL;
    size_t aolen;

    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_REGISTER, sub, challenge,
                                 &sealed),
              0);
    snprintf(cd, sizeof(cd),
             "{\"type\":\"webauthn.create\",\"challenge\":\"%s\","
             "\"origin\":\"%s\"}",
             challenge, PK_ORIGIN);
    aolen = authn_attobj(a, "none", PK_RPID, 0x05, cd, 0, &ao);
    cd64 = b64url_encode_alloc(cd, strlen(cd));
    ao64 = b64url_encode_alloc(ao, aolen);
    ASSERT_EQ(passkeys_register(st, &pk_rp, sub, sealed, cd64, ao64, name,
                                created),
              0);
    free(cd64);
    free(ao64);
    free(ao);
    free(sealed);
}

/* A passwordless sign-in with a's passkey, in-process. */
static void
passkey_use(struct authn *a)
{
    char challenge[PASSKEY_CHALLENGE_TEXT], cd[512], *sealed = NULL;
    char *id, *cd64, *ad64, *sig64, *sub = NULL;
    unsigned char ad[512], sig[256];
    size_t adlen, siglen;
    int uv = 0;

    ASSERT_EQ(passkeys_challenge(st, PASSKEY_PURPOSE_SIGN_IN, "b", challenge,
                                 &sealed),
              0);
    snprintf(cd, sizeof(cd),
             "{\"type\":\"webauthn.get\",\"challenge\":\"%s\","
             "\"origin\":\"%s\"}",
             challenge, PK_ORIGIN);
    a->counter++;
    adlen = authn_auth_data(a, PK_RPID, 0x05, 0, ad);
    siglen = authn_sign(a, ad, adlen, cd, sig);
    id = b64url_encode_alloc(a->id, sizeof(a->id));
    cd64 = b64url_encode_alloc(cd, strlen(cd));
    ad64 = b64url_encode_alloc(ad, adlen);
    sig64 = b64url_encode_alloc(sig, siglen);
    ASSERT_EQ(passkeys_sign_in(st, &pk_rp, "b", sealed, NULL, id, cd64, ad64,
                               sig64, &sub, &uv),
              0);
    free(sub);
    free(id);
    free(cd64);
    free(ad64);
    free(sig64);
    free(sealed);
}

TEST(operators_see_passkeys_but_the_code_step_stays_on_totp)
{
    struct factor_info f[FACTORS_MAX];
    struct authn a, b;
    char sub[37], *text, *tok;
    json_t *j, *e;
    size_t n = 9, i, passkeys = 0;
    int left = -1;

    start();
    sub_of("bob", sub);
    authn_new(&a, 0);
    authn_new(&b, 1);
    /* Listed oldest first. */
    passkey_add(&a, sub, "Laptop", util_now() - 200);
    passkey_add(&b, sub, "Yubi Key", util_now() - 100);
    passkey_use(&b);
    /* Passkeys only: no TOTP, so the sign-in asks for no code. */
    ASSERT_EQ(factors_list(st, sub, f, &n, &left), 0);
    ASSERT_EQ(n, 0);

    j = cli_json(0, "factors", "bob", "--json");
    ASSERT_EQ(json_array_size(json_object_get(j, "factors")), 2);
    json_array_foreach(json_object_get(j, "factors"), i, e) {
        ASSERT_STR_EQ(world_str(e, "type"), "passkey");
        ASSERT_STR_EQ(world_str(e, "state"), "active");
        ASSERT(num(e, "created") > 0);
        /* Never key material or the credential id. */
        ASSERT(json_object_get(e, "pubkey") == NULL);
        ASSERT(json_object_get(e, "id") == NULL);
        passkeys++;
    }
    ASSERT_EQ(passkeys, 2);
    e = json_array_get(json_object_get(j, "factors"), 0);
    ASSERT_STR_EQ(world_str(e, "name"), "Laptop");
    ASSERT_EQ(num(e, "last_used"), 0);
    e = json_array_get(json_object_get(j, "factors"), 1);
    ASSERT_STR_EQ(world_str(e, "name"), "Yubi Key");
    ASSERT(num(e, "last_used") >= util_now() - 60);
    ASSERT_EQ(num(j, "recovery_codes_left"), 0);
    text = json_dumps(j, 0);
    {
        char *id = b64url_encode_alloc(a.id, sizeof(a.id));
        ASSERT(strstr(text, id) == NULL);
        free(id);
    }
    free(text);
    json_decref(j);

    /* With a TOTP too: both listed, the TOTP first; the code step is
     * decided by it alone. */
    enrol_active(sub, "bob", mid_step(), NULL, NULL);
    ASSERT_EQ(factors_list(st, sub, f, &n, &left), 1);
    ASSERT_EQ(n, 1);
    j = cli_json(0, "factors", sub, NULL);
    text = (char *)world_str(j, "out");
    ASSERT_CONTAINS(text, "totp");
    ASSERT_CONTAINS(text, "PASSKEY");
    ASSERT_CONTAINS(text, "LAST USED");
    ASSERT_CONTAINS(text, "Laptop");
    ASSERT_CONTAINS(text, "Yubi Key");
    json_decref(j);

    tok = admin_token();
    j = admin_call("GET", "/admin/users/bob/factors", tok, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "factors")), 3);
    ASSERT_STR_EQ(world_str(json_array_get(json_object_get(j, "factors"), 0),
                            "type"),
                  "totp");
    e = json_array_get(json_object_get(j, "factors"), 2);
    ASSERT_STR_EQ(world_str(e, "type"), "passkey");
    ASSERT_STR_EQ(world_str(e, "name"), "Yubi Key");
    json_decref(j);
    /* A reset takes them all. */
    json_decref(admin_call("DELETE", "/admin/users/bob/factors", tok, 200));
    j = admin_call("GET", "/admin/users/bob/factors", tok, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "factors")), 0);
    json_decref(j);
    free(tok);
    authn_free(&a);
    authn_free(&b);
    stop();
}

/* The sid of the session a token response belongs to. */
static void
sid_of(const json_t *tokens, char sid[64])
{
    ASSERT_EQ(harness_sid(h, tokens, sid, 64), 0);
}

TEST(reset_by_cli_removes_factors_ends_sessions_and_notifies_apps)
{
    struct browser b = {0};
    struct factor_info f[FACTORS_MAX];
    char sub[37], sid[64], *audit;
    json_t *tokens, *j;
    size_t n = 9;
    int left = 9;

    start();
    sub_of("alice", sub);
    tokens = world_sign_in(h, &b, 0, "alice", "correct horse");
    sid_of(tokens, sid);
    enrol_active(sub, "alice", mid_step(), NULL, NULL);
    j = cli_json(0, "reset-factors", "alice", "--reason=lost phone");
    ASSERT_CONTAINS(world_str(j, "out"), "second factors removed");
    ASSERT_CONTAINS(world_str(j, "out"), "1 session ended");
    json_decref(j);
    ASSERT_EQ(factors_list(st, sub, f, &n, &left), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(left, 0);
    /* The app was told over the back channel. */
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, sid), 1);
    {
        char key[64];

        snprintf(key, sizeof(key), "%saudit", h->prefix);
        audit = redis_cli("XREVRANGE", key, "+", "-", NULL);
    }
    ASSERT_CONTAINS(audit, "reset_factors");
    ASSERT_CONTAINS(audit, "lost phone");
    free(audit);
    /* Again: nothing to remove, still fine. */
    j = cli_json(0, "reset-factors", "alice", NULL);
    ASSERT_CONTAINS(world_str(j, "out"), "had no second factor");
    json_decref(j);
    json_decref(tokens);
    stop();
}

TEST(reset_by_api_removes_factors_ends_sessions_and_notifies_apps)
{
    struct browser b = {0};
    char sub[37], sid[64], *tok;
    json_t *tokens, *j;

    start();
    sub_of("alice", sub);
    tokens = world_sign_in(h, &b, 0, "alice", "correct horse");
    sid_of(tokens, sid);
    enrol_active(sub, "alice", mid_step(), NULL, NULL);
    tok = admin_token();
    j = admin_call("DELETE", "/admin/users/alice/factors?reason=lost+phone",
                   tok, 200);
    ASSERT(json_is_true(json_object_get(j, "removed")));
    ASSERT_EQ(num(j, "sessions"), 1);
    ASSERT_EQ(num(j, "notifications"), 1);
    json_decref(j);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    j = admin_call("GET", "/admin/users/alice/factors", tok, 200);
    ASSERT_EQ(json_array_size(json_object_get(j, "factors")), 0);
    json_decref(j);
    j = admin_call("GET", "/admin/audit?limit=10", tok, 200);
    {
        char *text = json_dumps(j, 0);
        ASSERT_CONTAINS(text, "reset_factors");
        ASSERT_CONTAINS(text, "lost phone");
        free(text);
    }
    json_decref(j);
    /* A user that does not exist: 404, nothing changed. */
    json_decref(admin_call("DELETE", "/admin/users/nobody/factors", tok, 404));
    free(tok);
    json_decref(tokens);
    stop();
}

TEST(the_key_is_made_by_keys_generate_and_on_first_start)
{
    struct gh_proc g2;
    struct http_result res;
    struct stat sb;
    char path[512], url[128];
    unsigned char again[FACTOR_KEY_LEN];

    start();
    /* The harness made keys_dir with "gatehouse keys generate". */
    snprintf(path, sizeof(path), "%s/%s", cfg->keys_dir, FACTOR_KEY_FILE);
    ASSERT_EQ(stat(path, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600);
    ASSERT_EQ(sb.st_size, FACTOR_KEY_LEN);
    /* Without it, a server starting makes one. */
    ASSERT_EQ(unlink(path), 0);
    ASSERT_EQ(harness_gatehouse_again(h, &g2), 0);
    ASSERT_EQ(stat(path, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600);
    ASSERT_EQ(factor_key_load(cfg->keys_dir, 0, again, NULL, 0), 0);
    ASSERT(memcmp(again, fkey, sizeof(fkey)) != 0);
    /* Its /metrics has the factor counters. */
    snprintf(url, sizeof(url), "%s/metrics", g2.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_CONTAINS(res.body, "gatehouse_factor_checks_total{type=\"totp\","
                              "outcome=\"success\"} 0\n");
    ASSERT_CONTAINS(res.body, "gatehouse_factor_checks_total{type=\""
                              "recovery\",outcome=\"failure\"} 0\n");
    http_result_free(&res);
    gh_stop(&g2);
    /* One others can read is refused, and check-config says so first. */
    ASSERT_EQ(chmod(path, 0644), 0);
    {
        const char *bin = getenv("GATEHOUSE_BIN");
        char *argv[] = {(char *)bin, "check-config", "--config", h->gh.config,
                        NULL};
        char *out = NULL, *err = NULL;

        ASSERT_EQ(run_cmd(argv, NULL, &out, &err), 1);
        ASSERT_CONTAINS(err, "chmod 600");
        free(out);
        free(err);
    }
    stop();
}

TEST(redis_down_is_503_with_retry_after_and_a_failed_cli)
{
    struct http_result res;
    char url[256], auth[JWS_MAX_LEN + 64], *tok, *ra;
    const char *hdrs[2] = {auth, NULL};
    json_t *j;

    start();
    tok = admin_token();
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
    /* The token is checked without Redis (a JWT), the factors are not. */
    redis_stop(&h->redis, 1);
    snprintf(url, sizeof(url), "%s/admin/users/alice/factors", h->gh.issuer);
    ASSERT_EQ(http_do("DELETE", url, NULL, hdrs, &res), 0);
    ASSERT_EQ(res.status, 503);
    ra = http_header_value(&res, "Retry-After");
    ASSERT(ra != NULL);
    free(ra);
    http_result_free(&res);
    ASSERT_EQ(http_do("GET", url, NULL, hdrs, &res), 0);
    ASSERT_EQ(res.status, 503);
    http_result_free(&res);
    j = cli_json(1, "reset-factors", "alice", NULL);
    ASSERT_CONTAINS(world_str(j, "err"), "redis");
    json_decref(j);
    j = cli_json(1, "factors", "alice", "--json");
    json_decref(j);
    free(tok);
    stop();
}

TEST_MAIN(TEST_ENTRY(the_key_is_made_by_keys_generate_and_on_first_start),
          TEST_ENTRY(operators_see_passkeys_but_the_code_step_stays_on_totp),
          TEST_ENTRY(enrol_is_pending_until_a_code_from_the_app_activates_it),
          TEST_ENTRY(a_code_is_accepted_once_and_an_earlier_step_never),
          TEST_ENTRY(one_code_presented_at_once_by_many_gets_one_in),
          TEST_ENTRY(a_wrong_code_is_refused_and_counted),
          TEST_ENTRY(a_recovery_code_works_once),
          TEST_ENTRY(new_recovery_codes_replace_the_old_ones),
          TEST_ENTRY(secrets_are_encrypted_at_rest_and_bound_to_their_user),
          TEST_ENTRY(operators_list_factors_by_cli_and_api),
          TEST_ENTRY(reset_by_cli_removes_factors_ends_sessions_and_notifies_apps),
          TEST_ENTRY(reset_by_api_removes_factors_ends_sessions_and_notifies_apps),
          TEST_ENTRY(redis_down_is_503_with_retry_after_and_a_failed_cli))
