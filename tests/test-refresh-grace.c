/* SPDX-License-Identifier: MIT */
/* The refresh rotation grace (SPEC §3 tokens.refresh_reuse_grace_s, §5):
 * apps that refresh from several requests at once, as mod_auth_openidc and
 * a single-page app in two tabs do, stay signed in; reuse past the window
 * is still theft. Real gatehouse, redis-server and back-channel apps; the
 * parallel refreshes are real HTTP requests from threads. */
#include <pthread.h>
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/store/store.h"
#include "gatehouse/store/records.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/core/util.h"
#include "harness/world.h"
#include "test.h"

#define NAPPS 2
static const char *const names[NAPPS] = {"crm", "sales"};

/* Threads that refresh at one instant, and how many times in a row. */
#define PARALLEL_MAX 6
#define ROUNDS 5

static struct harness *h;

/* Both apps take part in single logout, so a session that ends tells
 * them; grace_s < 0 leaves tokens.refresh_reuse_grace_s at its default. */
static void
start(int grace_s)
{
    struct harness_app_spec specs[NAPPS] = {
        {"crm", "crm", "http://127.0.0.1:3001/callback", NULL, "secret"},
        {"sales", "sales", "http://127.0.0.1:3002/callback", NULL, "secret"}};
    struct harness_opts o = {
        .apps = NAPPS, .builtin = specs, .user = "alice:correct horse"};
    char grace[64];

    snprintf(grace, sizeof(grace),
             "{\"tokens\":{\"refresh_reuse_grace_s\":%d}}", grace_s);
    h = world_start(&o,
                    "{\"backchannel\":{\"timeout_ms\":500,"
                    "\"max_attempts\":3}}",
                    grace_s >= 0 ? grace : NULL);
}

/* Signs the browser in to app i and exchanges the code: its tokens. */
static json_t *
sign_in_app(struct browser *b, int i)
{
    return world_sign_in(h, b, i, "alice", "correct horse");
}

/* POST /token grant_type=refresh_token as app i, with extra ("&k=v") or
 * NULL; fails the test unless the status is want. */
static json_t *
refresh_as(int i, const char *rt, const char *extra, long want)
{
    char body[512], basic[64];

    snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s%s",
             rt, extra != NULL ? extra : "");
    snprintf(basic, sizeof(basic), "%s:secret", names[i]);
    return oidc_token(&h->gh, body, basic, want);
}

/* Whether app i's introspection calls tok active (RFC 7662). */
static int
is_active(int i, const char *tok)
{
    char url[256], body[2048], basic[64], auth[512];
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           auth, NULL};
    struct http_result res;
    json_t *j;
    int active;

    snprintf(basic, sizeof(basic), "%s:secret", names[i]);
    oidc_basic_header(basic, auth, sizeof(auth));
    snprintf(url, sizeof(url), "%s/introspect", h->gh.issuer);
    snprintf(body, sizeof(body), "token=%s", tok);
    ASSERT_EQ(http_do("POST", url, body, hdrs, &res), 0);
    ASSERT_EQ(res.status, 200);
    j = json_loads(res.body, 0, NULL);
    ASSERT(j != NULL);
    active = json_is_true(json_object_get(j, "active"));
    json_decref(j);
    http_result_free(&res);
    return active;
}

/* The session's sid, from an ID token verified against /jwks. */
static char *
sid_of(const json_t *t)
{
    json_t *id = oidc_verified_claims(&h->gh, world_str(t, "id_token"));
    char *sid = strdup(world_str(id, "sid"));

    json_decref(id);
    return sid;
}

/* The value of one sample in /metrics, -1 if absent. */
static long
metric(const char *sample)
{
    char url[256];
    struct http_result res;
    const char *p;
    long v = -1;

    snprintf(url, sizeof(url), "%s/metrics", h->gh.issuer);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    if ((p = strstr(res.body, sample)) != NULL)
        v = strtol(p + strlen(sample), NULL, 10);
    http_result_free(&res);
    return v;
}

/* How many back-channel deliveries the session's ledger holds. */
static long
deliveries_queued(const char *sid)
{
    char key[128], *out = NULL;
    char *argv[] = {"redis-cli", "-s", h->redis.socket, "SCARD", key, NULL};
    long n;

    snprintf(key, sizeof(key), "gh:sdl:%s", sid);
    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    n = strtol(out, NULL, 10);
    free(out);
    return n;
}

/* How Redis holds the record of a refresh token: the grace adds fields to
 * a spent one, and they must stay small enough for a compact hash. */
static char *
record_encoding(const char *rt)
{
    char key[128], hash[65], *out = NULL;
    char *argv[] = {"redis-cli", "-s", h->redis.socket, "OBJECT", "ENCODING",
                    key,         NULL};

    util_sha256_hex(rt, strlen(rt), hash);
    snprintf(key, sizeof(key), "gh:rt:%s", hash);
    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/*
 * Nobody was signed out: the session lives (the other app's access token
 * introspects active), no notification is queued or arrived, and no
 * session ended for reuse.
 */
static void
assert_nobody_signed_out(const char *sid, const json_t *other)
{
    int i;

    ASSERT(is_active(1, world_str(other, "access_token")));
    ASSERT(is_active(1, world_str(other, "refresh_token")));
    ASSERT_EQ(deliveries_queued(sid), 0);
    test_sleep_ms(300); /* a queued notification goes out at once */
    for (i = 0; i < NAPPS; i++)
        ASSERT_EQ(bc_count(h->apps[i].bc), 0);
    ASSERT_EQ(metric("gatehouse_sessions_ended_total{reason=\"reuse\"} "), 0);
}

/* The session ended for reuse, as RFC 9700 §4.14.2 wants: every app told,
 * every token of the session dead. */
static void
assert_session_ended(const char *sid, const json_t *other)
{
    int i;

    for (i = 0; i < NAPPS; i++)
        ASSERT_EQ(bc_wait(h->apps[i].bc, 1, 5), 0);
    ASSERT(deliveries_queued(sid) >= NAPPS);
    ASSERT(!is_active(1, world_str(other, "access_token")));
    ASSERT(!is_active(1, world_str(other, "refresh_token")));
    ASSERT_EQ(metric("gatehouse_sessions_ended_total{reason=\"reuse\"} "), 1);
}

/* One refresher thread: waits at the barrier, then refreshes. */
struct refresher {
    pthread_barrier_t *go;
    const char *rt;
    long status;
    char *body;
};

static void *
refresh_thread(void *arg)
{
    struct refresher *r = arg;
    char url[256], body[512], auth[512];
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           auth, NULL};
    struct http_result res;

    oidc_basic_header("crm:secret", auth, sizeof(auth));
    snprintf(url, sizeof(url), "%s/token", h->gh.issuer);
    snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s",
             r->rt);
    pthread_barrier_wait(r->go);
    if (http_do("POST", url, body, hdrs, &res) < 0)
        return NULL; /* status stays 0: the main thread fails the test */
    r->status = res.status;
    r->body = res.body;
    res.body = NULL;
    http_result_free(&res);
    return NULL;
}

/*
 * n refreshes of crm's token at the same instant, ROUNDS times, each
 * round with the token the last one handed out: every one succeeds, all
 * of a round get the same successor, and nobody is signed out.
 */
static void
check_parallel_refreshes(int n)
{
    struct refresher r[PARALLEL_MAX];
    pthread_t th[PARALLEL_MAX];
    pthread_barrier_t go;
    struct browser b = {""};
    json_t *t0, *t1, *t;
    char *rt, *sid;
    int round, i;

    start(-1);
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    sid = sid_of(t0);
    rt = strdup(world_str(t0, "refresh_token"));
    for (round = 0; round < ROUNDS; round++) {
        char *next = NULL;

        ASSERT_EQ(pthread_barrier_init(&go, NULL, (unsigned)n), 0);
        memset(r, 0, sizeof(r));
        for (i = 0; i < n; i++) {
            r[i].go = &go;
            r[i].rt = rt;
            ASSERT_EQ(pthread_create(&th[i], NULL, refresh_thread, &r[i]), 0);
        }
        for (i = 0; i < n; i++)
            ASSERT_EQ(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&go);
        for (i = 0; i < n; i++) {
            if (r[i].status != 200)
                FAIL("round %d, refresh %d: status %ld: %s", round, i,
                     r[i].status, r[i].body ? r[i].body : "");
            t = json_loads(r[i].body, 0, NULL);
            ASSERT(t != NULL);
            ASSERT(world_str(t, "id_token") != NULL);
            ASSERT(is_active(0, world_str(t, "access_token")));
            if (next == NULL)
                next = strdup(world_str(t, "refresh_token"));
            /* They converge on one family head. */
            ASSERT_STR_EQ(world_str(t, "refresh_token"), next);
            json_decref(t);
            free(r[i].body);
        }
        ASSERT(strcmp(next, rt) != 0);
        free(rt);
        rt = next;
    }
    assert_nobody_signed_out(sid, t1);
    /* The head they share still works. */
    t = refresh_as(0, rt, NULL, 200);
    json_decref(t);
    free(rt);
    free(sid);
    json_decref(t0);
    json_decref(t1);
    world_stop(&h);
}

TEST(two_refreshes_at_the_same_instant_both_succeed)
{
    check_parallel_refreshes(2);
}

/* mod_auth_openidc refreshes from every request that finds the token
 * due: six at once is a page with a few images. */
TEST(six_parallel_refreshes_keep_everyone_signed_in)
{
    check_parallel_refreshes(6);
}

TEST(rotated_token_again_within_grace_gets_the_same_successor)
{
    struct browser b = {""};
    json_t *t0, *t1, *r1, *r2, *r3, *id;
    char *sid, *enc;

    start(-1);
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    sid = sid_of(t0);
    r1 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    enc = record_encoding(world_str(t0, "refresh_token"));
    if (strcmp(enc, "listpack") != 0 && strcmp(enc, "ziplist") != 0)
        FAIL("a spent refresh token's record is a %s hash", enc);
    free(enc);
    /* The response was lost, say: the client tries again. */
    r2 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    ASSERT_STR_EQ(world_str(r2, "refresh_token"),
                  world_str(r1, "refresh_token"));
    /* Fresh access and ID tokens, of the same session. */
    ASSERT(strcmp(world_str(r2, "access_token"),
                  world_str(r1, "access_token")) != 0);
    ASSERT(is_active(0, world_str(r2, "access_token")));
    ASSERT(is_active(0, world_str(r1, "access_token")));
    id = oidc_verified_claims(&h->gh, world_str(r2, "id_token"));
    ASSERT_STR_EQ(world_str(id, "sid"), sid);
    ASSERT_STR_EQ(world_str(id, "aud"), "crm");
    json_decref(id);
    /* A narrowed scope in the grace, as in any refresh: without openid,
     * no ID token, and the successor is still the same. */
    r3 = refresh_as(0, world_str(t0, "refresh_token"), "&scope=profile", 200);
    ASSERT_STR_EQ(world_str(r3, "scope"), "profile");
    ASSERT(json_object_get(r3, "id_token") == NULL);
    ASSERT_STR_EQ(world_str(r3, "refresh_token"),
                  world_str(r1, "refresh_token"));
    json_decref(r3);
    /* The successor is live and rotates as usual. */
    ASSERT(is_active(0, world_str(r1, "refresh_token")));
    r3 = refresh_as(0, world_str(r1, "refresh_token"), NULL, 200);
    ASSERT(strcmp(world_str(r3, "refresh_token"),
                  world_str(r1, "refresh_token")) != 0);
    assert_nobody_signed_out(sid, t1);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    json_decref(t0);
    json_decref(t1);
    free(sid);
    world_stop(&h);
}

/* README "Refresh rotation grace": within the window of a token, the
 * caller gets the family's current head, even if the successor has been
 * rotated since, so a slow refresher lands where the fast ones are. */
TEST(successor_rotated_since_hands_out_the_family_head)
{
    struct browser b = {""};
    json_t *t0, *t1, *r1, *r2, *r3, *r4;
    char *sid;

    start(-1);
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    sid = sid_of(t0);
    r1 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    r2 = refresh_as(0, world_str(r1, "refresh_token"), NULL, 200);
    r3 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    ASSERT_STR_EQ(world_str(r3, "refresh_token"),
                  world_str(r2, "refresh_token"));
    r4 = refresh_as(0, world_str(r1, "refresh_token"), NULL, 200);
    ASSERT_STR_EQ(world_str(r4, "refresh_token"),
                  world_str(r2, "refresh_token"));
    json_decref(r4);
    r4 = refresh_as(0, world_str(r2, "refresh_token"), NULL, 200);
    ASSERT(strcmp(world_str(r4, "refresh_token"),
                  world_str(r2, "refresh_token")) != 0);
    assert_nobody_signed_out(sid, t1);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    json_decref(r4);
    json_decref(t0);
    json_decref(t1);
    free(sid);
    world_stop(&h);
}

TEST(reuse_after_the_grace_revokes_the_family_and_ends_the_session)
{
    struct browser b = {""};
    json_t *t0, *t1, *r1, *e;
    char *sid;

    start(1);
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    sid = sid_of(t0);
    r1 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    /* Past the window, whatever the clock's second boundaries. */
    test_sleep_ms(2100);
    e = refresh_as(0, world_str(t0, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(world_str(e, "error"), "invalid_grant");
    json_decref(e);
    assert_session_ended(sid, t1);
    e = refresh_as(0, world_str(r1, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(world_str(e, "error"), "invalid_grant");
    json_decref(e);
    ASSERT(!is_active(0, world_str(r1, "access_token")));
    json_decref(r1);
    json_decref(t0);
    json_decref(t1);
    free(sid);
    world_stop(&h);
}

TEST(grace_zero_makes_any_reuse_theft)
{
    struct browser b = {""};
    json_t *t0, *t1, *r1, *e;
    char *sid;

    start(0);
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    sid = sid_of(t0);
    r1 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    e = refresh_as(0, world_str(t0, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(world_str(e, "error"), "invalid_grant");
    json_decref(e);
    assert_session_ended(sid, t1);
    e = refresh_as(0, world_str(r1, "refresh_token"), NULL, 400);
    json_decref(e);
    json_decref(r1);
    json_decref(t0);
    json_decref(t1);
    free(sid);
    world_stop(&h);
}

TEST(another_client_cannot_use_a_rotated_token_in_the_grace)
{
    struct browser b = {""};
    json_t *t0, *t1, *r1, *r2, *e;
    char *sid;

    start(-1);
    t0 = sign_in_app(&b, 0);
    t1 = sign_in_app(&b, 1);
    sid = sid_of(t0);
    r1 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    /* RFC 6749 §6: bound to its client. Not the owner, so not theft by
     * the owner's hand either: refused, and nothing else changes. */
    e = refresh_as(1, world_str(t0, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(world_str(e, "error"), "invalid_grant");
    ASSERT(json_object_get(e, "refresh_token") == NULL);
    json_decref(e);
    e = refresh_as(1, world_str(r1, "refresh_token"), NULL, 400);
    ASSERT_STR_EQ(world_str(e, "error"), "invalid_grant");
    json_decref(e);
    assert_nobody_signed_out(sid, t1);
    /* The owner's grace and its successor are untouched. */
    r2 = refresh_as(0, world_str(t0, "refresh_token"), NULL, 200);
    ASSERT_STR_EQ(world_str(r2, "refresh_token"),
                  world_str(r1, "refresh_token"));
    json_decref(r2);
    r2 = refresh_as(0, world_str(r1, "refresh_token"), NULL, 200);
    json_decref(r2);
    json_decref(r1);
    json_decref(t0);
    json_decref(t1);
    free(sid);
    world_stop(&h);
}

/* One rotation through the store, at a given time; returns the state and
 * keeps what came back in *t (freed first). */
static int
rotate_at(struct store *st, const char *old, const char *new,
          const char *sealed, const char *client, int64_t now, int grace_s,
          struct refresh_token **t)
{
    struct user *u = NULL;
    int rc;

    store_refresh_free(*t);
    *t = NULL;
    rc = store_refresh_rotate(st, old, new, sealed, client, now, 600, 3600,
                              3600, grace_s, t, &u);
    user_free(u);
    return rc;
}

static int
exists(struct store *st, const char *hash)
{
    struct refresh_token *t = NULL;
    int rc = store_refresh_get(st, hash, &t);

    store_refresh_free(t);
    ASSERT(rc == 0 || rc == GH_ENOTFOUND);
    return rc == 0;
}

/*
 * refresh_rotate.lua on its own, with the clock in the test's hands: the
 * window's edges to the second, a grace that rotates nothing, chains that
 * lead to the head, and grace 0.
 */
TEST(grace_window_is_exact_and_leads_to_the_head)
{
    struct redis_proc redis;
    struct redis_config conf = {0};
    struct refresh_token *t = NULL;
    struct store *st;
    char khash[65];
    int64_t now = util_now();
    struct store_session_new sess = {.sid = "sid-1",
                                     .sub = "sub-1",
                                     .khash = khash,
                                     .now_ms = now * 1000,
                                     .idle_s = 600,
                                     .absolute_s = 3600,
                                     .ip = "127.0.0.1",
                                     .ua = "test"};

    memset(khash, 'a', 64);
    khash[64] = '\0';
    ASSERT_EQ(redis_start(&redis, 0), 0);
    conf.prefix = "t:";
    conf.unix_path = redis.socket;
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_session_create(st, &sess, NULL), 0);
    ASSERT_EQ(store_refresh_issue(st, "h0", "fam", "sid-1", "crm", "sub-1",
                                  "openid", 3600),
              0);
    ASSERT_EQ(rotate_at(st, "h0", "h1", "s1", "crm", now, 5, &t),
              STORE_REFRESH_OK);
    /* The last second of the window: the head, and nothing rotated. */
    ASSERT_EQ(rotate_at(st, "h0", "hx", "sx", "crm", now + 5, 5, &t),
              STORE_REFRESH_GRACE);
    ASSERT_STR_EQ(t->head, "h1");
    ASSERT_EQ(t->nsealed, 1);
    ASSERT_STR_EQ(t->sealed[0], "s1");
    ASSERT_STR_EQ(t->sid, "sid-1");
    ASSERT_STR_EQ(t->scope, "openid");
    ASSERT(!exists(st, "hx"));
    /* Another client: refused, and nothing changes. */
    ASSERT_EQ(rotate_at(st, "h0", "hx", "sx", "sales", now, 5, &t),
              STORE_REFRESH_INVALID);
    ASSERT(exists(st, "h1"));
    /* The successor rotated since: the chain leads to its head. */
    ASSERT_EQ(rotate_at(st, "h1", "h2", "s2", "crm", now + 1, 5, &t),
              STORE_REFRESH_OK);
    ASSERT_EQ(rotate_at(st, "h0", "hx", "sx", "crm", now + 2, 5, &t),
              STORE_REFRESH_GRACE);
    ASSERT_STR_EQ(t->head, "h2");
    ASSERT_EQ(t->nsealed, 2);
    ASSERT_STR_EQ(t->sealed[0], "s1");
    ASSERT_STR_EQ(t->sealed[1], "s2");
    /* A second past the window: theft, the family is gone. */
    ASSERT_EQ(rotate_at(st, "h0", "hx", "sx", "crm", now + 6, 5, &t),
              STORE_REFRESH_REUSE);
    ASSERT_STR_EQ(t->sid, "sid-1");
    ASSERT(!exists(st, "h0") && !exists(st, "h1") && !exists(st, "h2"));

    /* Grace 0: reuse in the very second of the rotation is theft. */
    ASSERT_EQ(store_refresh_issue(st, "g0", "fam2", "sid-1", "crm", "sub-1",
                                  "openid", 3600),
              0);
    ASSERT_EQ(rotate_at(st, "g0", "g1", "s1", "crm", now, 0, &t),
              STORE_REFRESH_OK);
    ASSERT_EQ(rotate_at(st, "g0", "gx", "sx", "crm", now, 0, &t),
              STORE_REFRESH_REUSE);
    ASSERT(!exists(st, "g1"));
    store_refresh_free(t);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST_MAIN(TEST_ENTRY(grace_window_is_exact_and_leads_to_the_head),
          TEST_ENTRY(two_refreshes_at_the_same_instant_both_succeed),
          TEST_ENTRY(six_parallel_refreshes_keep_everyone_signed_in),
          TEST_ENTRY(rotated_token_again_within_grace_gets_the_same_successor),
          TEST_ENTRY(successor_rotated_since_hands_out_the_family_head),
          TEST_ENTRY(reuse_after_the_grace_revokes_the_family_and_ends_the_session),
          TEST_ENTRY(grace_zero_makes_any_reuse_theft),
          TEST_ENTRY(another_client_cannot_use_a_rotated_token_in_the_grace))
