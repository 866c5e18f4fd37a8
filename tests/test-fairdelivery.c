/* SPDX-License-Identifier: MIT */
/* Delivery is fair between apps (SPEC §6, §8): one app that hangs or fails
 * again and again neither holds every slot nor delays another app's
 * notification, and its own notifications wait rather than being dropped.
 * Real redis, real gatehouse, real receivers on loopback. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <jansson.h>
#include <hiredis.h>

#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "harness/world.h"
#include "test.h"

#define CRM_CB "http://127.0.0.1:3001/callback"
/* Under tests/run --valgrind everything is ~10 times slower. */
#define LIMIT(s) ((wrapped() ? 10 : 1) * (s))

static struct harness *h;

/*
 * The world: crm (back-channel to crm_bc), the app under test "other"
 * (back-channel to other_bc), and backchannel settings from extra (a JSON
 * object text merged over the defaults, or NULL).
 */
static void
start(const char *crm_bc, const char *other_bc, const char *extra)
{
    struct harness_app_spec specs[2] = {
        {"CRM", "crm", CRM_CB, crm_bc, "crm-secret"},
        {"Other", "other", "http://127.0.0.1:3002/callback", other_bc,
         "other-secret"}};
    struct harness_opts o = {
        .external = specs, .nexternal = 2, .user = "alice:correct horse"};

    h = world_start(&o, "{\"login\":{\"max_failures\":1000,\"lockout_s\":60}}",
                    extra);
}

/*
 * n sessions straight into Redis, as sign-ins to "other" would make them,
 * then ended the way an admin ends them: n notifications to "other" queue
 * at once.
 */
static void
end_sessions_of_other(int n)
{
    struct config *cfg = NULL;
    struct field_error fe;
    struct store *st = NULL;
    char sid[SESSION_SID_LEN + 1], cookie[SESSION_COOKIE_LEN + 1], sub[37];
    char **sids = calloc((size_t)n, sizeof(*sids));
    long long ended = 0, queued = 0;
    int i;

    ASSERT(sids != NULL);
    ASSERT_EQ(config_load(h->gh.config, &cfg, &fe), 0);
    ASSERT_EQ(store_open(&cfg->redis, &st), 0);
    for (i = 0; i < n; i++) {
        snprintf(sub, sizeof(sub), "00000000-0000-4000-8000-%012d", i);
        ASSERT_EQ(
            session_create(st, cfg, sub, "127.0.0.1", "fair", sid, cookie), 0);
        ASSERT_EQ(session_record_app(st, cfg, sid,
                                     client_in_config(cfg, "other"), NULL),
                  0);
        sids[i] = strdup(sid);
    }
    ASSERT_EQ(session_end_many(st, cfg, sids, (size_t)n, END_ADMIN, "test", 0,
                               &ended, &queued),
              0);
    ASSERT_EQ(ended, n);
    ASSERT_EQ(queued, n);
    for (i = 0; i < n; i++)
        free(sids[i]);
    free(sids);
    store_close(st);
    config_free(cfg);
}

/* Signs alice in to crm alone and signs her out with the ID token as the
 * hint; returns when the crm app heard, relative to the logout's start,
 * and what the signed-out page said. */
static double
crm_only_logout(struct bc_app *crm, char **page)
{
    struct browser b = {""};
    char *hint, *url = NULL;
    char ck[2100];
    const char *hdrs[2] = {ck, NULL};
    struct http_result res;
    json_t *t;
    double t0;

    t = world_sign_in(h, &b, 0, "alice", "correct horse");
    hint = url_encode(json_string_value(json_object_get(t, "id_token")));
    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer, hint) < 0)
        FAIL("asprintf");
    snprintf(ck, sizeof(ck), "Cookie: %s", b.cookies);
    t0 = test_now();
    ASSERT_EQ(http_do("GET", url, NULL, hdrs, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_EQ(bc_wait(crm, 1, LIMIT(10)), 0);
    *page = strdup(res.body);
    http_result_free(&res);
    free(url);
    free(hint);
    json_decref(t);
    return crm->first_at - t0;
}

/*
 * SPEC §8's row: one app's back channel hanging, 160 sessions including
 * it; a CRM-only logout still reaches the CRM within logout_wait_ms. Run
 * with the default concurrency (64) and with 4, where a hung app could
 * hold every slot.
 */
static void
hung_app_and_crm_only_logout(const char *extra)
{
    struct bc_app crm, hung;
    char *page = NULL;
    double heard;

    ASSERT_EQ(bc_start(&crm, 0, 0), 0);
    ASSERT_EQ(bc_start(&hung, 0, 1), 0);
    start(crm.uri, hung.uri, extra);
    end_sessions_of_other(160);
    /* The engines have claimed the hung app's notifications (polled every
     * 100 ms) and are stuck on them for timeout_ms (5 s). */
    test_sleep_ms(500);
    heard = crm_only_logout(&crm, &page);
    fprintf(stderr, "crm heard %.3f s after its logout began\n", heard);
    ASSERT(heard < LIMIT(1.0)); /* logout_wait_ms */
    /* So the page the user sees already says so. */
    ASSERT_CONTAINS(page, "CRM \xe2\x80\x94 signed out");
    free(page);
    world_stop(&h);
    bc_stop(&crm);
    bc_stop(&hung);
}

TEST(one_hung_app_with_160_sessions_delays_no_crm_logout)
{
    hung_app_and_crm_only_logout(NULL);
}

TEST(one_hung_app_delays_no_crm_logout_with_concurrency_4)
{
    hung_app_and_crm_only_logout("{\"backchannel\":{\"concurrency\":4}}");
}

/*
 * An app that accepts every connection and never answers, counting how
 * many are open at once: what Gatehouse holds against it.
 */
struct sink {
    int fd, port;
    pthread_t th;
    atomic_int stop, accepted, open, max_open;
};

static void *
sink_run(void *arg)
{
    struct sink *s = arg;
    struct pollfd p[256];
    int n = 1, i;

    p[0] = (struct pollfd){s->fd, POLLIN, 0};
    while (!atomic_load(&s->stop)) {
        if (poll(p, (nfds_t)n, 50) <= 0)
            continue;
        for (i = n - 1; i >= 1; i--) {
            char buf[4096];

            if (p[i].revents == 0)
                continue;
            /* Requests are read and never answered; 0 is Gatehouse giving
             * up on the attempt. */
            if (read(p[i].fd, buf, sizeof(buf)) > 0)
                continue;
            close(p[i].fd);
            p[i] = p[--n];
            atomic_fetch_sub(&s->open, 1);
        }
        if ((p[0].revents & POLLIN) && n < (int)(sizeof(p) / sizeof(p[0]))) {
            int fd = accept(s->fd, NULL, NULL);
            int now;

            if (fd < 0)
                continue;
            p[n++] = (struct pollfd){fd, POLLIN, 0};
            atomic_fetch_add(&s->accepted, 1);
            now = atomic_fetch_add(&s->open, 1) + 1;
            if (now > atomic_load(&s->max_open))
                atomic_store(&s->max_open, now);
        }
    }
    for (i = 1; i < n; i++)
        close(p[i].fd);
    return NULL;
}

static void
sink_start(struct sink *s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);

    memset(s, 0, sizeof(*s));
    ASSERT((s->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    ASSERT(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    ASSERT(listen(s->fd, 256) == 0);
    ASSERT(getsockname(s->fd, (struct sockaddr *)&sa, &len) == 0);
    s->port = ntohs(sa.sin_port);
    ASSERT_EQ(pthread_create(&s->th, NULL, sink_run, s), 0);
}

static void
sink_stop(struct sink *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->fd);
}

/* The cap holds across instances: two on one Redis, each with room for
 * all forty, hold three between them. */
TEST(never_more_than_per_app_concurrency_attempts_reach_one_app)
{
    static const char extra[] =
        "{\"backchannel\":{\"per_app_concurrency\":3,\"timeout_ms\":1500,"
        "\"max_attempts\":20}}";
    struct bc_app crm;
    struct gh_proc gh2;
    struct sink sink;
    char uri[96];

    ASSERT_EQ(bc_start(&crm, 0, 0), 0);
    sink_start(&sink);
    snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/bc", sink.port);
    start(crm.uri, uri, extra);
    if (harness_gatehouse_again(h, &gh2) < 0)
        FAIL("second gatehouse did not start");
    end_sessions_of_other(40);
    /* Two rounds of timeouts: each slot given back is taken again, never
     * more than three at once. */
    WAIT_UNTIL(atomic_load(&sink.accepted) >= 6, LIMIT(10), 50);
    fprintf(stderr, "accepted %d, at most %d open at once\n",
            atomic_load(&sink.accepted), atomic_load(&sink.max_open));
    ASSERT(atomic_load(&sink.accepted) >= 6);
    ASSERT(atomic_load(&sink.max_open) <= 3);
    ASSERT(atomic_load(&sink.max_open) >= 1);
    gh_stop(&gh2);
    world_stop(&h);
    sink_stop(&sink);
    bc_stop(&crm);
}

static int
requests(struct bc_app *a)
{
    int n;

    pthread_mutex_lock(a->lock);
    n = a->requests;
    pthread_mutex_unlock(a->lock);
    return n;
}

/* The text of a redis-cli reply (malloc'd, trailing newline cut). */
static char *
redis_cli(const char *cmd, const char *arg)
{
    char *argv[] = {"redis-cli", "-s",        h->redis.socket,
                    (char *)cmd, (char *)arg, NULL};
    char *out = NULL;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* The value of gatehouse_backchannel_circuit_open{client="other"}, or -1
 * if /metrics has no such line. */
static int
circuit_metric(void)
{
    static const char line[] =
        "gatehouse_backchannel_circuit_open{client=\"other\"} ";
    struct http_result res;
    char *url = NULL, *p;
    int v = -1;

    if (asprintf(&url, "%s/metrics", h->gh.issuer) < 0)
        FAIL("asprintf");
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    if ((p = strstr(res.body, line)) != NULL)
        v = atoi(p + strlen(line));
    http_result_free(&res);
    free(url);
    return v;
}

static int
count_of(const char *text, const char *word)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, word)) != NULL; p++)
        n++;
    return n;
}

/* The app answers 200 from now on (it answers 500 to requests up to
 * fail_first). */
static void
recover(struct bc_app *a)
{
    pthread_mutex_lock(a->lock);
    a->fail_first = a->requests;
    pthread_mutex_unlock(a->lock);
}

TEST(a_failing_app_is_backed_off_and_gets_everything_once_it_recovers)
{
    enum { N = 20 };
    struct bc_app crm, shaky;
    char *v, *log, *page = NULL;
    double t0, heard, trial1, trial2;
    int burst, attempts = 0, delivered = 0;

    ASSERT_EQ(bc_start(&crm, 0, 0), 0);
    ASSERT_EQ(bc_start(&shaky, 1000000, 0), 0); /* 500 until recover() */
    start(crm.uri, shaky.uri,
          "{\"backchannel\":{\"timeout_ms\":1000,\"max_attempts\":8}}");
    ASSERT_EQ(circuit_metric(), 0);
    t0 = test_now();
    end_sessions_of_other(N);

    /* Five 500s in a row open its circuit: the rest wait instead of each
     * being tried (without the circuit, all twenty at once, and each
     * again a second later). Before the fifth is recorded, at most four
     * slots of the eight were given back and taken again. */
    WAIT_UNTIL(requests(&shaky) >= 5, LIMIT(5), 20);
    test_sleep_ms(500);
    burst = requests(&shaky);
    fprintf(stderr, "%d requests in the first %.1f s\n", burst,
            test_now() - t0);
    ASSERT(burst >= 5);
    ASSERT(burst <= 8 + 4);
    ASSERT_EQ(circuit_metric(), 1);
    /* Held back, not failed: nothing in dfail. */
    v = redis_cli("ZCARD", "gh:dfail");
    ASSERT_STR_EQ(v, "0");
    free(v);
    /* Other apps' notifications go out at once meanwhile. */
    heard = crm_only_logout(&crm, &page);
    fprintf(stderr, "crm heard %.3f s after its logout began\n", heard);
    ASSERT(heard < LIMIT(1.0));
    free(page);

    /* One trial 1 s after the circuit opened, the next 2 s after that. */
    WAIT_UNTIL(requests(&shaky) >= burst + 2, LIMIT(10), 20);
    ASSERT_EQ(requests(&shaky), burst + 2);
    trial1 = shaky.request_at[burst] - shaky.request_at[burst - 1];
    trial2 = shaky.request_at[burst + 1] - shaky.request_at[burst];
    fprintf(stderr, "trials %.2f s and %.2f s apart\n", trial1, trial2);
    ASSERT(trial1 > 0.7);
    ASSERT(trial2 > 1.5);
    ASSERT(trial2 > trial1);
    ASSERT_EQ(circuit_metric(), 1);

    /* The app recovers: the next trial (4 s later) gets its 200, the
     * circuit closes and the rest go at once. */
    recover(&shaky);
    WAIT_UNTIL(bc_count(&shaky) >= N, LIMIT(30), 100);
    fprintf(stderr, "all %d delivered after %.1f s in %d requests\n",
            bc_count(&shaky), test_now() - t0, requests(&shaky));
    ASSERT_EQ(bc_count(&shaky), N);
    ASSERT(shaky.request_at[burst + 2] - shaky.request_at[burst + 1] > 3.0);
    /* No attempt was charged that the app did not receive, and every
     * notification to it was delivered. */
    {
        char *argv[] = {"redis-cli", "-s",        h->redis.socket,
                        "--scan",    "--pattern", "gh:dl:*",
                        NULL};
        char *out = NULL, *line, *save = NULL;

        ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
        for (line = strtok_r(out, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
            char *argv2[] = {"redis-cli", "-s", h->redis.socket, "HMGET", line,
                             "n",         "st", "cid",           NULL};
            char *o = NULL;

            ASSERT_EQ(run_cmd(argv2, NULL, &o, NULL), 0);
            if (strstr(o, "other") != NULL) {
                ASSERT_CONTAINS(o, "delivered");
                attempts += atoi(o);
                delivered++;
            }
            free(o);
        }
        free(out);
    }
    ASSERT_EQ(delivered, N);
    ASSERT_EQ(attempts, requests(&shaky));
    v = redis_cli("ZCARD", "gh:dfail");
    ASSERT_STR_EQ(v, "0");
    free(v);
    ASSERT_EQ(circuit_metric(), 0);
    /* One line per change of state. */
    log = gh_log(&h->gh);
    ASSERT_EQ(count_of(log, "backchannel_circuit state=closed client=other"),
              1);
    ASSERT_EQ(count_of(log, "backchannel_circuit state=open client=other"), 3);
    ASSERT_EQ(count_of(log, "backchannel_circuit state=half_open client=other"),
              3);
    free(log);
    world_stop(&h);
    bc_stop(&crm);
    bc_stop(&shaky);
}

/* SIGTERM gives back the stopping engines' share of each app's cap with
 * their claims: the restart sends at once, not after the lease
 * (timeout_ms + 10 s) of counts nobody holds any more. */
TEST(sigterm_gives_back_the_per_app_slots_with_the_claims)
{
    struct bc_app crm;
    struct sink sink;
    char uri[96], *log, *v;
    double t0;

    ASSERT_EQ(bc_start(&crm, 0, 0), 0);
    sink_start(&sink);
    snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/bc", sink.port);
    start(crm.uri, uri,
          "{\"backchannel\":{\"per_app_concurrency\":1,"
          "\"timeout_ms\":3000}}");
    end_sessions_of_other(1);
    t0 = test_now();
    WAIT_UNTIL(atomic_load(&sink.accepted) >= 1, LIMIT(5), 20);
    ASSERT_EQ(atomic_load(&sink.accepted), 1);
    v = redis_cli("HLEN", "gh:dinf:other");
    ASSERT_STR_EQ(v, "1");
    free(v);
    ASSERT_EQ(gh_signal_wait(&h->gh, SIGTERM, 10), 0);
    log = gh_log(&h->gh);
    ASSERT_CONTAINS(log, "delivery_released n=1");
    free(log);
    v = redis_cli("HLEN", "gh:dinf:other");
    ASSERT_STR_EQ(v, "0");
    free(v);

    /* Restarted, it tries again at once: the app's one slot is free. */
    t0 = test_now();
    ASSERT_EQ(gh_launch(&h->gh), 0);
    WAIT_UNTIL(atomic_load(&sink.accepted) >= 2, LIMIT(15), 20);
    fprintf(stderr, "tried again %.2f s after the restart\n",
            test_now() - t0);
    ASSERT_EQ(atomic_load(&sink.accepted), 2);
    ASSERT(test_now() - t0 < LIMIT(4.0));
    world_stop(&h);
    sink_stop(&sink);
    bc_stop(&crm);
}

TEST_MAIN(
    TEST_ENTRY(one_hung_app_with_160_sessions_delays_no_crm_logout),
    TEST_ENTRY(one_hung_app_delays_no_crm_logout_with_concurrency_4),
    TEST_ENTRY(never_more_than_per_app_concurrency_attempts_reach_one_app),
    TEST_ENTRY(
        a_failing_app_is_backed_off_and_gets_everything_once_it_recovers),
    TEST_ENTRY(sigterm_gives_back_the_per_app_slots_with_the_claims))
