/* SPDX-License-Identifier: MIT */
/* Seeds IdP sessions for the logout-all workload of SPEC §8, through
 * Gatehouse's own public session API (session_create, session_record_app),
 * so every key is written by the same Lua scripts a sign-in and a code
 * exchange use; nothing here knows the Redis schema.
 *
 *   seed_sessions CONFIG SESSIONS USERS THREADS CLIENT_ID...
 *
 * CONFIG is the config of the instance under test (its Redis URL and key
 * prefix); each session belongs to one of USERS subs and has every
 * CLIENT_ID (registered clients with a backchannel_logout_uri) recorded on
 * it. Prints one JSON object: sessions made, seconds, rate.
 *
 * The API does one round trip per call, so THREADS threads overlap them
 * (the store keeps one Redis connection per thread). Users need not exist:
 * a session, its ending and its logout tokens only carry the sub. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatehouse/directory/clients.h"
#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"

#define MAX_APPS 16
#define MAX_THREADS 64

struct seed {
    struct store *st;
    const struct config *cfg;
    const struct client *apps[MAX_APPS];
    int napps;
    long sessions;
    long users;
    atomic_long next; /* the next session number to make */
    atomic_long made;
    atomic_int rc;    /* the first error, 0 if none */
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A sub shaped like Gatehouse's own (a UUID), one per user number
 * (users < 10^12, checked in main). */
static void
sub_of(long user, char sub[37])
{
    snprintf(sub, 37, "00000000-0000-4000-8000-%012lu",
             (unsigned long)user % 1000000000000UL);
}

/* One session of user (i % users) with every app recorded on it. */
static int
seed_one(struct seed *s, long i)
{
    char sub[37], sid[SESSION_SID_LEN + 1], cookie[SESSION_COOKIE_LEN + 1];
    int a, rc;

    sub_of(i % s->users, sub);
    if ((rc = session_create(s->st, s->cfg, sub, "127.0.0.1", "bench-seed",
                             sid, cookie)) < 0)
        return rc;
    for (a = 0; a < s->napps; a++)
        if ((rc = session_record_app(s->st, s->cfg, sid, s->apps[a], NULL)) <
            0)
            return rc;
    return 0;
}

static void *
worker(void *arg)
{
    struct seed *s = arg;
    long i;

    while (atomic_load(&s->rc) == 0 &&
           (i = atomic_fetch_add(&s->next, 1)) < s->sessions) {
        int rc = seed_one(s, i);
        if (rc < 0) {
            int none = 0;
            atomic_compare_exchange_strong(&s->rc, &none, rc);
            break;
        }
        atomic_fetch_add(&s->made, 1);
    }
    store_thread_done(s->st);
    return NULL;
}

/* Finds each client named on the command line; they must take
 * notifications, or the workload would measure nothing. */
static int
find_apps(struct seed *s, int argc, char **argv)
{
    int i;

    if (argc > MAX_APPS)
        return -1;
    for (i = 0; i < argc; i++) {
        const struct client *c = client_in_config(s->cfg, argv[i]);
        if (c == NULL || c->backchannel_logout_uri == NULL) {
            fprintf(stderr, "seed_sessions: %s: no such client with a "
                            "backchannel_logout_uri\n", argv[i]);
            return -1;
        }
        s->apps[i] = c;
    }
    s->napps = argc;
    return 0;
}

static int
run_threads(struct seed *s, int nthreads)
{
    pthread_t t[MAX_THREADS];
    int i, started = 0;

    for (i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, worker, s) == 0)
            started++;
    if (started == 0)
        worker(s);
    for (i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    return atomic_load(&s->rc);
}

int
main(int argc, char **argv)
{
    struct config *cfg = NULL;
    struct field_error err;
    struct seed s;
    double t0, dt;
    int threads, rc;

    if (argc < 6) {
        fprintf(stderr, "usage: seed_sessions CONFIG SESSIONS USERS THREADS "
                        "CLIENT_ID...\n");
        return 2;
    }
    log_init(LOG_WARN, LOG_FORMAT_TEXT);
    memset(&err, 0, sizeof(err));
    if (config_load(argv[1], &cfg, &err) < 0) {
        fprintf(stderr, "%s: %s: %s\n", argv[1], err.field, err.problem);
        return 1;
    }
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.sessions = atol(argv[2]);
    s.users = atol(argv[3]);
    threads = atoi(argv[4]);
    if (s.sessions < 0 || s.users < 1 || s.users > 999999999999L ||
        threads < 1 ||
        threads > MAX_THREADS || find_apps(&s, argc - 5, argv + 5) < 0) {
        fprintf(stderr, "seed_sessions: bad arguments\n");
        config_free(cfg);
        return 2;
    }
    if ((rc = store_open(&cfg->redis, &s.st)) < 0 ||
        (rc = store_load_scripts(s.st)) < 0) {
        fprintf(stderr, "seed_sessions: redis: %s\n", gh_strerror(rc));
        config_free(cfg);
        return 1;
    }
    t0 = now_s();
    rc = run_threads(&s, threads);
    dt = now_s() - t0;
    printf("{\"sessions\":%ld,\"users\":%ld,\"apps\":%d,\"threads\":%d,"
           "\"seconds\":%.3f,\"per_s\":%.0f,\"error\":%s%s%s}\n",
           atomic_load(&s.made), s.users, s.napps, threads, dt,
           dt > 0 ? atomic_load(&s.made) / dt : 0.0, rc < 0 ? "\"" : "",
           rc < 0 ? gh_strerror(rc) : "null", rc < 0 ? "\"" : "");
    store_close(s.st);
    config_free(cfg);
    return rc < 0 ? 1 : 0;
}
