/* SPDX-License-Identifier: MIT */
/* password.c: scrypt PHC strings, RFC 7914 vectors, dummy cost, hashpool. */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/core/util.h"
#include "test.h"

#define PREFIX "$scrypt$ln=15,r=8,p=1$"

/* Parses "fd ba be ..." into out; returns the byte count. */
static size_t
unhex(const char *s, unsigned char *out)
{
    size_t n = 0;
    char *end;

    for (;;) {
        unsigned long v = strtoul(s, &end, 16);

        if (end == s)
            return n;
        out[n++] = (unsigned char)v;
        s = end;
    }
}

TEST(hash_then_verify_accepts_same_password)
{
    char *phc = NULL;
    double t0, t1;

    t0 = util_monotonic();
    ASSERT_EQ(password_hash("correct horse", &phc), 0);
    t1 = util_monotonic();
    fprintf(stderr, "password_hash: %.1f ms\n", (t1 - t0) * 1e3);
    ASSERT_EQ(password_verify("correct horse", phc), 0);
    free(phc);
}

TEST(verify_denies_wrong_password)
{
    char *phc = NULL;

    ASSERT_EQ(password_hash("correct horse", &phc), 0);
    ASSERT_EQ(password_verify("correct horsE", phc), GH_EDENIED);
    ASSERT_EQ(password_verify("correct horse ", phc), GH_EDENIED);
    ASSERT_EQ(password_verify("", phc), GH_EDENIED);
    free(phc);
}

TEST(hashes_of_same_password_differ_by_salt)
{
    char *a = NULL, *b = NULL;

    ASSERT_EQ(password_hash("same", &a), 0);
    ASSERT_EQ(password_hash("same", &b), 0);
    ASSERT(strcmp(a, b) != 0);
    /* The salts (first part after the parameters) differ, not only the
     * hashes. */
    ASSERT(strncmp(a, b, strlen(PREFIX) + 22) != 0);
    ASSERT_EQ(password_verify("same", a), 0);
    ASSERT_EQ(password_verify("same", b), 0);
    free(a);
    free(b);
}

TEST(hash_is_phc_string_with_spec_parameters)
{
    char *phc = NULL;
    const char *salt, *hash;

    ASSERT_EQ(password_hash("pw", &phc), 0);
    ASSERT_EQ(strncmp(phc, PREFIX, strlen(PREFIX)), 0);
    salt = phc + strlen(PREFIX);
    hash = strchr(salt, '$');
    ASSERT(hash != NULL);
    hash++;
    /* 16 and 32 bytes in base64 without padding. */
    ASSERT_EQ(hash - 1 - salt, 22);
    ASSERT_EQ(strlen(hash), 43);
    ASSERT(strchr(salt, '=') == NULL);
    ASSERT_EQ(strspn(salt,
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789+/$"),
              strlen(salt));
    free(phc);
}

TEST(empty_password_hashes_and_verifies)
{
    char *phc = NULL;

    ASSERT_EQ(password_hash("", &phc), 0);
    ASSERT_EQ(password_verify("", phc), 0);
    ASSERT_EQ(password_verify("x", phc), GH_EDENIED);
    free(phc);
}

TEST(too_long_password_is_refused_not_truncated)
{
    char pw[PASSWORD_MAX + 2];
    char *phc = (char *)"untouched", *good = NULL;

    memset(pw, 'a', sizeof(pw) - 1);
    pw[sizeof(pw) - 1] = '\0';
    ASSERT_EQ(strlen(pw), PASSWORD_MAX + 1);
    ASSERT_EQ(password_hash(pw, &phc), GH_EINVAL);
    ASSERT_STR_EQ(phc, "untouched");
    ASSERT_EQ(password_verify_dummy(pw), GH_EINVAL);

    /* Exactly PASSWORD_MAX is fine, and one more byte does not match it. */
    pw[PASSWORD_MAX] = '\0';
    ASSERT_EQ(password_hash(pw, &good), 0);
    ASSERT_EQ(password_verify(pw, good), 0);
    pw[PASSWORD_MAX] = 'a';
    ASSERT_EQ(password_verify(pw, good), GH_EINVAL);
    free(good);
}

/* RFC 7914 §12, vector 2: the one the brief names. */
TEST(scrypt_raw_matches_rfc7914_vectors)
{
    static const struct {
        const char *pw, *salt;
        uint64_t n, r, p;
        const char *hex;
    } v[] = {
        {"", "", 16, 1, 1,
         "77 d6 57 62 38 65 7b 20 3b 19 ca 42 c1 8a 04 97 f1 6b 48 44 e3 07 "
         "4a e8 df df fa 3f ed e2 14 42 fc d0 06 9d ed 09 48 f8 32 6a 75 3a "
         "0f c8 1f 17 e8 d3 e0 fb 2e 0d 36 28 cf 35 e2 0c 38 d1 89 06"},
        {"password", "NaCl", 1024, 8, 16,
         "fd ba be 1c 9d 34 72 00 78 56 e7 19 0d 01 e9 fe 7c 6a d7 cb c8 23 "
         "78 30 e7 73 76 63 4b 37 31 62 2e af 30 d9 2e 22 a3 88 6f f1 09 27 "
         "9d 98 30 da c7 27 af b9 4a 83 ee 6d 83 60 cb df a2 cc 06 40"},
        {"pleaseletmein", "SodiumChloride", 16384, 8, 1,
         "70 23 bd cb 3a fd 73 48 46 1c 06 cd 81 fd 38 eb fd a8 fb ba 90 4f "
         "8e 3e a9 b5 43 f6 54 5d a1 f2 d5 43 29 55 61 3f 0f cf 62 d4 97 05 "
         "24 2a 9a f9 e6 1e 85 dc 0d 65 1e 40 df cf 01 7b 45 57 58 87"},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        unsigned char want[64], got[64];

        ASSERT_EQ(unhex(v[i].hex, want), 64);
        ASSERT_EQ(password_scrypt_raw(v[i].pw, strlen(v[i].pw), v[i].salt,
                                      strlen(v[i].salt), v[i].n, v[i].r, v[i].p,
                                      got, sizeof(got)),
                  0);
        ASSERT(memcmp(got, want, sizeof(want)) == 0);
    }
}

TEST(scrypt_raw_refuses_parameters_scrypt_cannot_take)
{
    unsigned char out[32];

    /* N not a power of two; N = 1; r or p zero. */
    ASSERT_EQ(password_scrypt_raw("a", 1, "saltsalt", 8, 1000, 8, 1, out, 32),
              GH_EINVAL);
    ASSERT_EQ(password_scrypt_raw("a", 1, "saltsalt", 8, 1, 8, 1, out, 32),
              GH_EINVAL);
    ASSERT_EQ(password_scrypt_raw("a", 1, "saltsalt", 8, 1024, 0, 1, out, 32),
              GH_EINVAL);
    ASSERT_EQ(password_scrypt_raw("a", 1, "saltsalt", 8, 1024, 8, 0, out, 32),
              GH_EINVAL);
    /* N = 2^16 needs r >= 2 (RFC 7914 §2: N < 2^(128 r / 8)). */
    ASSERT_EQ(
        password_scrypt_raw("a", 1, "saltsalt", 8, 1 << 16, 1, 1, out, 32),
        GH_EINVAL);
    /* 2^16 * 8 * 128 = 64 MiB for V alone: over the cap. */
    ASSERT_EQ(
        password_scrypt_raw("a", 1, "saltsalt", 8, 1 << 16, 8, 1, out, 32),
        GH_EINVAL);
    ASSERT_EQ(
        password_scrypt_raw("a", 1, "saltsalt", 8, 1 << 20, 32, 16, out, 32),
        GH_EINVAL);
}

/* A string password_hash did not make, with other parameters and a salt
 * and hash whose base64 uses '+' and '/': RFC 7914 vector 3 as PHC. */
TEST(verify_reads_other_parameters_and_standard_alphabet)
{
    const char *phc = "$scrypt$ln=14,r=8,p=1$U29kaXVtQ2hsb3JpZGU$"
                      "cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofLVQylVYT8Pz2L"
                      "UlwUkKpr55h6F3A1lHkDfzwF7RVdYhw";

    ASSERT_EQ(password_verify("pleaseletmein", phc), 0);
    ASSERT_EQ(password_verify("pleaseletmeout", phc), GH_EDENIED);
}

TEST(verify_rejects_malformed_phc)
{
    /* Salt "saltsalt" (8 bytes), hash 16 zero bytes, otherwise valid. */
#define S "c2FsdHNhbHQ"
#define H "AAAAAAAAAAAAAAAAAAAAAA"
    static const char *const bad[] = {
        "",
        "$scrypt$",
        "$argon2id$v=19,m=65536,t=3,p=4$" S "$" H,
        "scrypt$ln=15,r=8,p=1$" S "$" H,
        " $scrypt$ln=15,r=8,p=1$" S "$" H,
        "$SCRYPT$ln=15,r=8,p=1$" S "$" H,
        "$scrypt$ln=99,r=8,p=1$" S "$" H,
        "$scrypt$ln=21,r=8,p=1$" S "$" H,
        "$scrypt$ln=0,r=8,p=1$" S "$" H,
        "$scrypt$ln=015,r=8,p=1$" S "$" H,
        "$scrypt$ln=+15,r=8,p=1$" S "$" H,
        "$scrypt$ln=-1,r=8,p=1$" S "$" H,
        "$scrypt$ln=4294967311,r=8,p=1$" S "$" H,
        "$scrypt$ln=15,r=33,p=1$" S "$" H,
        "$scrypt$ln=15,r=8,p=17$" S "$" H,
        "$scrypt$ln=15,r=8,p=0$" S "$" H,
        "$scrypt$ln=15,p=1,r=8$" S "$" H,
        "$scrypt$ln=15,r=8$" S "$" H,
        "$scrypt$ln=15,r=8,p=1,x=2$" S "$" H,
        "$scrypt$ln=15,r=8,p=1$" S,
        "$scrypt$ln=15,r=8,p=1$" S "$",
        "$scrypt$ln=15,r=8,p=1$$" H,
        "$scrypt$ln=15,r=8,p=1" S "$" H,
        "$scrypt$ln=15,r=8,p=1$c2Fsd!NhbHQ$" H,
        "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ=$" H,
        "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHR$" H, /* non-zero unused bits */
        "$scrypt$ln=15,r=8,p=1$c2FsdHNhbH$" H,  /* length % 4 == 1 */
        "$scrypt$ln=15,r=8,p=1$c2FsdHNhbA$" H,  /* 7-byte salt */
        "$scrypt$ln=15,r=8,p=1$" S "$" H "==",
        "$scrypt$ln=15,r=8,p=1$" S "$" H "\n",
        "$scrypt$ln=15,r=8,p=1$" S "$" H "$",
        "$scrypt$ln=15,r=8,p=1$" S "$" H "$" H,
        "$scrypt$ln=15,r=8,p=1$" S "$AAAAAAAAAAAAAAAAAAAA", /* 15 bytes */
        "$scrypt$ln=15,r=8,p=1$" S "$" H "-_",
        /* Well formed but 1 GiB of memory: refused, not attempted. */
        "$scrypt$ln=20,r=8,p=1$" S "$" H,
    };
#undef S
#undef H
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = password_verify("pw", bad[i]);

        if (rc != GH_EINVAL)
            FAIL("\"%s\": %d, want GH_EINVAL", bad[i], rc);
    }
    ASSERT_EQ(password_verify("pw", NULL), GH_EINVAL);
    ASSERT_EQ(password_verify(NULL, bad[2]), GH_EINVAL);
}

/* The lower bounds themselves parse: the table above fails for the reason
 * it names and not for an off-by-one. */
TEST(verify_accepts_smallest_well_formed_phc)
{
    ASSERT_EQ(password_verify("pw", "$scrypt$ln=1,r=1,p=1$c2FsdHNhbHQ$"
                                    "AAAAAAAAAAAAAAAAAAAAAA"),
              GH_EDENIED);
}

TEST(dummy_verify_denies_and_costs_like_real)
{
    char *phc = NULL;
    double t0, real, dummy;
    int i;

    ASSERT_EQ(password_hash("secret", &phc), 0);
    /* First call creates the dummy string: keep it out of the timing. */
    ASSERT_EQ(password_verify_dummy("secret"), GH_EDENIED);
    t0 = util_monotonic();
    for (i = 0; i < 3; i++)
        ASSERT_EQ(password_verify("secret", phc), 0);
    real = (util_monotonic() - t0) / 3;
    t0 = util_monotonic();
    for (i = 0; i < 3; i++)
        ASSERT_EQ(password_verify_dummy("secret"), GH_EDENIED);
    dummy = (util_monotonic() - t0) / 3;
    fprintf(stderr, "verify: %.1f ms, dummy: %.1f ms\n", real * 1e3,
            dummy * 1e3);
    ASSERT(dummy >= real / 2);
    ASSERT_EQ(password_verify_dummy(""), GH_EDENIED);
    free(phc);
}

static atomic_int counter;

static void
count_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&counter, 1);
}

TEST(hashpool_runs_every_job)
{
    struct hashpool *p = NULL;
    int i, rc;

    atomic_store(&counter, 0);
    ASSERT_EQ(hashpool_start(4, 128, &p), 0);
    for (i = 0; i < 100; i++) {
        rc = hashpool_submit(p, count_job, NULL);
        ASSERT_EQ(rc, 0);
    }
    hashpool_stop(p);
    ASSERT_EQ(atomic_load(&counter), 100);
}

/* Holds a pool thread until released, so the queue can be filled. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int started;
    int released;
};

static void
gate_job(void *arg)
{
    struct gate *g = arg;

    pthread_mutex_lock(&g->lock);
    g->started = 1;
    pthread_cond_broadcast(&g->cond);
    while (!g->released)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_add(&counter, 1);
}

static void
gate_wait_started(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    while (!g->started)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void
gate_release(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->released = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

TEST(hashpool_refuses_when_queue_full)
{
    struct hashpool *p = NULL;
    struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER,
                     .cond = PTHREAD_COND_INITIALIZER};

    atomic_store(&counter, 0);
    ASSERT_EQ(hashpool_start(1, 2, &p), 0);
    ASSERT_EQ(hashpool_submit(p, gate_job, &g), 0);
    gate_wait_started(&g);
    /* The running job does not count as waiting. */
    ASSERT_EQ(hashpool_queued(p), 0);
    ASSERT_EQ(hashpool_submit(p, count_job, NULL), 0);
    ASSERT_EQ(hashpool_submit(p, count_job, NULL), 0);
    ASSERT_EQ(hashpool_submit(p, count_job, NULL), GH_EBUSY);
    ASSERT_EQ(hashpool_submit(p, count_job, NULL), GH_EBUSY);
    ASSERT_EQ(hashpool_queued(p), 2);
    gate_release(&g);
    hashpool_stop(p);
    ASSERT_EQ(atomic_load(&counter), 3);
}

static void *
release_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};

    nanosleep(&ts, NULL);
    gate_release(arg);
    return NULL;
}

TEST(hashpool_stop_runs_queued_jobs)
{
    struct hashpool *p = NULL;
    struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER,
                     .cond = PTHREAD_COND_INITIALIZER};
    pthread_t t;
    int i;

    atomic_store(&counter, 0);
    ASSERT_EQ(hashpool_start(1, 8, &p), 0);
    ASSERT_EQ(hashpool_submit(p, gate_job, &g), 0);
    gate_wait_started(&g);
    for (i = 0; i < 5; i++)
        ASSERT_EQ(hashpool_submit(p, count_job, NULL), 0);
    ASSERT_EQ(hashpool_queued(p), 5);
    /* Stop is called with five jobs still waiting behind the held one. */
    ASSERT_EQ(pthread_create(&t, NULL, release_later, &g), 0);
    hashpool_stop(p);
    pthread_join(t, NULL);
    ASSERT_EQ(atomic_load(&counter), 6);
}

static atomic_int cancelled;

static void
cancel_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&cancelled, 1);
}

/* SIGTERM after a flood: what is queued is answered, not hashed. */
TEST(hashpool_shed_cancels_queued_jobs_and_refuses_new_ones)
{
    struct hashpool *p = NULL;
    struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER,
                     .cond = PTHREAD_COND_INITIALIZER};
    int i;

    atomic_store(&counter, 0);
    atomic_store(&cancelled, 0);
    ASSERT_EQ(hashpool_start(1, 8, &p), 0);
    ASSERT_EQ(hashpool_submit(p, gate_job, &g), 0);
    gate_wait_started(&g);
    for (i = 0; i < 3; i++)
        ASSERT_EQ(hashpool_submit_cancellable(p, count_job, cancel_job, NULL),
                  0);
    /* One without a cancel: it still runs. */
    ASSERT_EQ(hashpool_submit(p, count_job, NULL), 0);
    ASSERT_EQ(hashpool_submit_cancellable(p, count_job, cancel_job, NULL), 0);
    hashpool_shed(p);
    /* Cancelled at once, on this thread, while the gate still holds the
     * only worker. */
    ASSERT_EQ(atomic_load(&cancelled), 4);
    ASSERT_EQ(hashpool_queued(p), 1);
    ASSERT_EQ(hashpool_submit(p, count_job, NULL), GH_EBUSY);
    ASSERT_EQ(hashpool_submit_cancellable(p, count_job, cancel_job, NULL),
              GH_EBUSY);
    gate_release(&g);
    hashpool_stop(p);
    /* The gate's job and the one without a cancel; none of the others. */
    ASSERT_EQ(atomic_load(&counter), 2);
    ASSERT_EQ(atomic_load(&cancelled), 4);
}

static atomic_int term_blocked;

static void
mask_job(void *arg)
{
    sigset_t cur;

    (void)arg;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    atomic_store(&term_blocked, sigismember(&cur, SIGTERM) == 1 &&
                                    sigismember(&cur, SIGINT) == 1);
}

TEST(hashpool_threads_block_signals_for_main_sigwait)
{
    struct hashpool *p = NULL;
    sigset_t cur;

    atomic_store(&term_blocked, 0);
    ASSERT_EQ(hashpool_start(1, 1, &p), 0);
    /* The caller's own mask is left as it was. */
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    ASSERT_EQ(sigismember(&cur, SIGTERM), 0);
    ASSERT_EQ(hashpool_submit(p, mask_job, NULL), 0);
    hashpool_stop(p);
    ASSERT_EQ(atomic_load(&term_blocked), 1);
}

static atomic_int job_policy = -1;
static atomic_int idle_tasks = -1;

/* How many of this process's threads run at SCHED_IDLE (policy is field
 * 41 of /proc/self/task/TID/stat). */
static int
count_idle_tasks(void)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;

    if (dir == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL) {
        char path[300], buf[1024], *p;
        FILE *f;
        int field;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        /* Fields count from after the command's closing parenthesis. */
        if (p == NULL || (p = strrchr(buf, ')')) == NULL)
            continue;
        for (field = 2; p != NULL && field < 41; field++)
            p = strchr(p + 1, ' ');
        if (p != NULL && atoi(p + 1) == SCHED_IDLE)
            n++;
    }
    closedir(dir);
    return n;
}

static void
policy_job(void *arg)
{
    char *phc = NULL;

    (void)arg;
    atomic_store(&job_policy, sched_getscheduler(0));
    /* A hash while this job runs: its runner is at work, at SCHED_IDLE. */
    if (password_hash("pw", &phc) == 0)
        atomic_store(&idle_tasks, count_idle_tasks());
    free(phc);
}

/* A sign-in burst must not delay /token: scrypt runs only on what HTTP
 * threads leave, on a runner at SCHED_IDLE of its own, while the job
 * itself (its Redis calls, logging, answer) stays at the normal policy,
 * holding nothing an HTTP thread could wait for behind an idle thread. */
/* The returning browsers' pool must get CPU while a flood keeps every
 * core busy: no runner at SCHED_IDLE, the worker hashes itself. */
TEST(hashpool_urgent_hashes_at_normal_policy)
{
    struct hashpool *p = NULL;

    atomic_store(&job_policy, -1);
    atomic_store(&idle_tasks, -1);
    ASSERT_EQ(hashpool_start_urgent(1, 1, &p), 0);
    ASSERT_EQ(hashpool_submit(p, policy_job, NULL), 0);
    hashpool_stop(p);
    ASSERT_EQ(atomic_load(&job_policy), SCHED_OTHER);
    ASSERT_EQ(atomic_load(&idle_tasks), 0);
}

TEST(hashpool_hashes_at_idle_policy_and_runs_jobs_at_normal)
{
    struct hashpool *p = NULL;

    ASSERT_EQ(hashpool_start(2, 1, &p), 0);
    ASSERT_EQ(hashpool_submit(p, policy_job, NULL), 0);
    hashpool_stop(p);
    ASSERT_EQ(atomic_load(&job_policy), SCHED_OTHER);
    /* The job's runner at least (the other worker's may not have set
     * its policy yet). */
    ASSERT(atomic_load(&idle_tasks) >= 1);
    ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
    /* Stopped pools leave no runner behind. */
    ASSERT_EQ(count_idle_tasks(), 0);
}

TEST(hashpool_rejects_bad_arguments)
{
    struct hashpool *p = NULL;

    ASSERT_EQ(hashpool_start(0, 4, &p), GH_EINVAL);
    ASSERT_EQ(hashpool_start(2, 0, &p), GH_EINVAL);
    ASSERT(p == NULL);
    ASSERT_EQ(hashpool_start(2, 4, &p), 0);
    ASSERT_EQ(hashpool_submit(p, NULL, NULL), GH_EINVAL);
    ASSERT_EQ(hashpool_queued(p), 0);
    hashpool_stop(p);
    hashpool_stop(NULL);
}

TEST_MAIN(TEST_ENTRY(hash_then_verify_accepts_same_password),
          TEST_ENTRY(verify_denies_wrong_password),
          TEST_ENTRY(hashes_of_same_password_differ_by_salt),
          TEST_ENTRY(hash_is_phc_string_with_spec_parameters),
          TEST_ENTRY(empty_password_hashes_and_verifies),
          TEST_ENTRY(too_long_password_is_refused_not_truncated),
          TEST_ENTRY(scrypt_raw_matches_rfc7914_vectors),
          TEST_ENTRY(scrypt_raw_refuses_parameters_scrypt_cannot_take),
          TEST_ENTRY(verify_reads_other_parameters_and_standard_alphabet),
          TEST_ENTRY(verify_rejects_malformed_phc),
          TEST_ENTRY(verify_accepts_smallest_well_formed_phc),
          TEST_ENTRY(dummy_verify_denies_and_costs_like_real),
          TEST_ENTRY(hashpool_runs_every_job),
          TEST_ENTRY(hashpool_hashes_at_idle_policy_and_runs_jobs_at_normal),
          TEST_ENTRY(hashpool_refuses_when_queue_full),
          TEST_ENTRY(hashpool_stop_runs_queued_jobs),
          TEST_ENTRY(hashpool_shed_cancels_queued_jobs_and_refuses_new_ones),
          TEST_ENTRY(hashpool_urgent_hashes_at_normal_policy),
          TEST_ENTRY(hashpool_threads_block_signals_for_main_sigwait),
          TEST_ENTRY(hashpool_rejects_bad_arguments))
