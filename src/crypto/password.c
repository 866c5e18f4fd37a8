/* SPDX-License-Identifier: MIT */
/* scrypt password hashes in PHC strings, and the thread pool they run on. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "gatehouse/core/error.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/core/util.h"

/* SPEC §7: N = 2^15, r = 8, p = 1, 16-byte salt; 32 bytes of output. */
#define HASH_LN 15
#define HASH_R 8
#define HASH_P 1
#define SALT_LEN 16
#define KEY_LEN 32

/*
 * N = 2^15, r = 8 needs 128 * r * (N + 2) bytes, just over 32 MiB, which is
 * OpenSSL's default cap; 64 MiB leaves room for that and no more, so a
 * stored string with heavier parameters is refused instead of allocating.
 */
#define SCRYPT_MAXMEM (64 * 1024 * 1024)

/* What a stored string may carry: wide enough to raise the cost later,
 * narrow enough that a corrupt one cannot ask for absurd work. */
#define LN_MIN 1
#define LN_MAX 20
#define R_MAX 32
#define P_MAX 16
#define PHC_SALT_MIN 8
#define PHC_SALT_MAX 64
#define PHC_HASH_MIN 16
#define PHC_HASH_MAX 64

#define B64_LEN(n) (((n)*4 + 2) / 3)

#define PHC_PREFIX "$scrypt$"

struct phc {
    unsigned ln, r, p;
    unsigned char salt[PHC_SALT_MAX];
    size_t saltlen;
    unsigned char hash[PHC_HASH_MAX];
    size_t hashlen;
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 without padding, as the PHC string format has it (util.c
 * has only the url alphabet). out holds B64_LEN(len) + 1 bytes. */
static void
b64_encode(const unsigned char *in, size_t len, char *out)
{
    unsigned acc = 0;
    size_t i;
    int bits = 0;

    for (i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *out++ = b64_alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        *out++ = b64_alphabet[(acc << (6 - bits)) & 63];
    *out = '\0';
}

/*
 * Decodes len characters into out (at most outmax bytes). The PHC string
 * format has no padding; util's decoder is strict about the rest (unused
 * low bits zero), so each byte string has one spelling only.
 */
static int
phc_decode(const char *in, size_t len, unsigned char *out, size_t outmax,
           size_t *outlen)
{
    unsigned char *raw = NULL;
    size_t n = 0;

    if (memchr(in, '=', len) != NULL || b64_decode(in, len, &raw, &n) < 0)
        return GH_EINVAL;
    if (n > outmax) {
        OPENSSL_cleanse(raw, n);
        free(raw);
        return GH_EINVAL;
    }
    memcpy(out, raw, n);
    OPENSSL_cleanse(raw, n);
    free(raw);
    *outlen = n;
    return 0;
}

/* Advances *s past lit, or fails. */
static int
expect(const char **s, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(*s, lit, n) != 0)
        return GH_EINVAL;
    *s += n;
    return 0;
}

/* A decimal in [min, max] with no sign, no leading zero (but "0" itself)
 * and nothing else; advances *s past it. */
static int
parse_uint(const char **s, unsigned min, unsigned max, unsigned *ret)
{
    const char *p = *s;
    unsigned v = 0;

    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return GH_EINVAL;
    if (*p < '0' || *p > '9')
        return GH_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > max)
            return GH_EINVAL;
    }
    if (v < min)
        return GH_EINVAL;
    *s = p;
    *ret = v;
    return 0;
}

/* "$scrypt$ln=<ln>,r=<r>,p=<p>$<salt>$<hash>", nothing before or after. */
static int
phc_parse(const char *s, struct phc *h)
{
    const char *dollar;

    if (s == NULL)
        return GH_EINVAL;
    if (expect(&s, PHC_PREFIX "ln=") < 0 ||
        parse_uint(&s, LN_MIN, LN_MAX, &h->ln) < 0 || expect(&s, ",r=") < 0 ||
        parse_uint(&s, 1, R_MAX, &h->r) < 0 || expect(&s, ",p=") < 0 ||
        parse_uint(&s, 1, P_MAX, &h->p) < 0 || expect(&s, "$") < 0)
        return GH_EINVAL;
    if ((dollar = strchr(s, '$')) == NULL)
        return GH_EINVAL;
    if (phc_decode(s, (size_t)(dollar - s), h->salt, sizeof(h->salt),
                   &h->saltlen) < 0 ||
        h->saltlen < PHC_SALT_MIN)
        return GH_EINVAL;
    s = dollar + 1;
    /* A further '$' or any junk after the hash is outside the alphabet. */
    if (phc_decode(s, strlen(s), h->hash, sizeof(h->hash), &h->hashlen) < 0 ||
        h->hashlen < PHC_HASH_MIN)
        return GH_EINVAL;
    return 0;
}

/* Refused rather than truncated: two passwords sharing a long prefix must
 * not verify as each other. */
static int
password_len(const char *pw, size_t *ret)
{
    size_t n;

    if (pw == NULL)
        return GH_EINVAL;
    if ((n = strnlen(pw, PASSWORD_MAX + 1)) > PASSWORD_MAX)
        return GH_EINVAL;
    *ret = n;
    return 0;
}

/*
 * OpenSSL's own checks, made first so that parameters it would refuse
 * (N not a power of two above 1, N >= 2^(16r), more memory than the cap,
 * counted as it counts: 128r(N + 2) for V plus 128rp for B) read as
 * GH_EINVAL, and only a failure past them as GH_ECRYPTO.
 */
static int
params_ok(uint64_t n, uint64_t r, uint64_t p)
{
    uint64_t per, v;

    if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0)
        return 0;
    if (r > SCRYPT_MAXMEM / 128)
        return 0;
    if (16 * r < 64 && n >= (uint64_t)1 << (16 * r))
        return 0;
    per = 128 * r;
    if (n + 2 > SCRYPT_MAXMEM / per)
        return 0;
    v = per * (n + 2);
    return p <= (SCRYPT_MAXMEM - v) / per;
}

/* One scrypt call, as password_scrypt_raw takes it. */
struct scrypt_call {
    const void *pw;
    size_t pwlen;
    const void *salt;
    size_t saltlen;
    uint64_t n, r, p;
    unsigned char *out;
    size_t outlen;
    int ok;
};

static void
scrypt_run(struct scrypt_call *c)
{
    c->ok = EVP_PBE_scrypt(c->pwlen > 0 ? c->pw : "", c->pwlen, c->salt,
                           c->saltlen, c->n, c->r, c->p, SCRYPT_MAXMEM,
                           c->out, c->outlen) == 1;
    /* Leave no stale entry for the next OpenSSL caller on this thread. */
    if (!c->ok)
        ERR_clear_error();
}

/*
 * Hashing takes only what the HTTP threads leave: a burst of sign-ins may
 * fill every core and must not make /token wait (SPEC §8). A nice value
 * is not enough: the scheduler lets a nice thread finish its slice before
 * a woken HTTP thread runs. SCHED_IDLE is preempted at once, but such a
 * thread may wait long for the CPU, so it must never hold what an HTTP
 * thread needs (the stderr lock, a connection's, MHD's): each pool worker
 * has a runner at SCHED_IDLE that does the scrypt computation and nothing
 * else, while the worker itself, at the normal policy, waits for it and
 * does the rest of the job.
 */
struct runner {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct scrypt_call *call; /* posted, not yet done */
    int done;
    int stop;
};

/* The calling pool worker's runner; NULL on any other thread. */
static __thread struct runner *my_runner;

static void *
runner_main(void *arg)
{
    struct runner *r = arg;
    struct sched_param sp = {.sched_priority = 0};

    /* Lowering a thread's own policy needs no privilege; failing to only
     * costs latency. */
    (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->call == NULL && !r->stop)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->call == NULL)
            break;
        pthread_mutex_unlock(&r->lock);
        scrypt_run(r->call);
        pthread_mutex_lock(&r->lock);
        r->call = NULL;
        r->done = 1;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void
scrypt_on_runner(struct runner *r, struct scrypt_call *c)
{
    pthread_mutex_lock(&r->lock);
    r->call = c;
    r->done = 0;
    pthread_cond_broadcast(&r->cond);
    while (!r->done)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

int
password_scrypt_raw(const void *pw, size_t pwlen, const void *salt,
                    size_t saltlen, uint64_t n, uint64_t r, uint64_t p,
                    unsigned char *out, size_t outlen)
{
    struct scrypt_call c = {pw, pwlen, salt, saltlen, n, r, p, out, outlen,
                            0};

    if (out == NULL || outlen == 0 || !params_ok(n, r, p))
        return GH_EINVAL;
    if (my_runner != NULL)
        scrypt_on_runner(my_runner, &c);
    else
        scrypt_run(&c);
    if (!c.ok) {
        OPENSSL_cleanse(out, outlen);
        return GH_ECRYPTO;
    }
    return 0;
}

int
password_hash(const char *pw, char **ret)
{
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    char salt64[B64_LEN(SALT_LEN) + 1], key64[B64_LEN(KEY_LEN) + 1];
    char buf[sizeof(PHC_PREFIX "ln=99,r=99,p=99$$") + sizeof(salt64) +
             sizeof(key64)];
    char *s;
    size_t pwlen;
    int rc;

    if ((rc = password_len(pw, &pwlen)) < 0)
        goto out;
    if ((rc = util_random(salt, sizeof(salt))) < 0)
        goto out;
    if ((rc = password_scrypt_raw(pw, pwlen, salt, sizeof(salt),
                                  (uint64_t)1 << HASH_LN, HASH_R, HASH_P, key,
                                  sizeof(key))) < 0)
        goto out;
    b64_encode(salt, sizeof(salt), salt64);
    b64_encode(key, sizeof(key), key64);
    snprintf(buf, sizeof(buf), PHC_PREFIX "ln=%d,r=%d,p=%d$%s$%s", HASH_LN,
             HASH_R, HASH_P, salt64, key64);
    if ((s = strdup(buf)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    *ret = s;
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int
password_verify(const char *pw, const char *phc)
{
    struct phc h;
    unsigned char key[PHC_HASH_MAX];
    size_t pwlen;
    int rc;

    if ((rc = password_len(pw, &pwlen)) < 0)
        goto out;
    if ((rc = phc_parse(phc, &h)) < 0)
        goto out;
    if ((rc = password_scrypt_raw(pw, pwlen, h.salt, h.saltlen,
                                  (uint64_t)1 << h.ln, h.r, h.p, key,
                                  h.hashlen)) < 0)
        goto out;
    rc = CRYPTO_memcmp(key, h.hash, h.hashlen) == 0 ? 0 : GH_EDENIED;
out:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_phc[sizeof(PHC_PREFIX "ln=15,r=8,p=1$$") + B64_LEN(SALT_LEN) +
                      B64_LEN(KEY_LEN)];

/*
 * A string of the shape password_hash makes, with the same parameters so
 * verifying against it costs the same. Its "hash" is random bytes, not a
 * derivation: nothing has to be computed up front, and no password can
 * match it. Should the random source fail, zeros serve as well: only the
 * cost matters here.
 */
static void
dummy_init(void)
{
    unsigned char salt[SALT_LEN] = {0}, key[KEY_LEN] = {0};
    char salt64[B64_LEN(SALT_LEN) + 1], key64[B64_LEN(KEY_LEN) + 1];

    if (util_random(salt, sizeof(salt)) < 0 ||
        util_random(key, sizeof(key)) < 0) {
        memset(salt, 0, sizeof(salt));
        memset(key, 0, sizeof(key));
    }
    b64_encode(salt, sizeof(salt), salt64);
    b64_encode(key, sizeof(key), key64);
    snprintf(dummy_phc, sizeof(dummy_phc), PHC_PREFIX "ln=%d,r=%d,p=%d$%s$%s",
             HASH_LN, HASH_R, HASH_P, salt64, key64);
}

/*
 * Goes through password_verify itself so that it also refuses exactly what
 * a real verification refuses (a too-long password is GH_EINVAL for a
 * known and an unknown user alike); otherwise GH_EDENIED.
 */
int
password_verify_dummy(const char *pw)
{
    int rc;

    pthread_once(&dummy_once, dummy_init);
    rc = password_verify(pw, dummy_phc);
    return rc == 0 ? GH_EDENIED : rc;
}

struct job {
    void (*fn)(void *arg);
    void (*cancel)(void *arg); /* instead of fn when shed; may be NULL */
    void *arg;
};

struct hashpool {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job arrived, or stopping was set */
    struct job *ring;    /* queue_max slots, FIFO from head */
    int queue_max;
    int head;
    int count; /* waiting, not running */
    int stopping;
    int shedding; /* hashpool_shed: no new jobs */
    int urgent; /* hashes at the normal policy: no SCHED_IDLE runner */
    pthread_t *threads;
    int nthreads; /* started, hence to join */
};

/* Leaves only when stopping and the queue is empty, so stop drains it.
 * Its runner (see struct runner) lives as long as it; without one, the
 * worker hashes itself. */
static void *
worker(void *arg)
{
    struct hashpool *p = arg;
    struct runner r = {.call = NULL};
    struct job j;

    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    /* The runner inherits this thread's mask: every signal blocked. */
    if (!p->urgent && pthread_create(&r.thread, NULL, runner_main, &r) == 0)
        my_runner = &r;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->count == 0) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        j = p->ring[p->head];
        p->head = (p->head + 1) % p->queue_max;
        p->count--;
        pthread_mutex_unlock(&p->lock);
        j.fn(j.arg);
    }
    if (my_runner != NULL) {
        pthread_mutex_lock(&r.lock);
        r.stop = 1;
        pthread_cond_broadcast(&r.cond);
        pthread_mutex_unlock(&r.lock);
        pthread_join(r.thread, NULL);
        my_runner = NULL;
    }
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    return NULL;
}

/* Joins the started workers and frees p; the queue is empty by then. */
static void
pool_free(struct hashpool *p)
{
    int i;

    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p->ring);
    free(p);
}

static int
pool_start(int threads, int queue_max, int urgent, struct hashpool **ret)
{
    struct hashpool *p = NULL;
    sigset_t all, old;
    int i, rc;

    if (threads < 1 || queue_max < 1)
        return GH_EINVAL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return GH_ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->queue_max = queue_max;
    p->urgent = urgent;
    p->ring = calloc((size_t)queue_max, sizeof(*p->ring));
    p->threads = calloc((size_t)threads, sizeof(*p->threads));
    if (p->ring == NULL || p->threads == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    /*
     * Workers inherit the creating thread's mask: blocking every signal
     * around pthread_create, rather than in the worker, leaves no moment
     * where one could take SIGTERM meant for main's sigwait.
     */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break;
        p->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->nthreads < threads) {
        rc = GH_ENOMEM;
        goto out;
    }
    *ret = p;
    p = NULL;
    rc = 0;
out:
    if (p != NULL)
        pool_free(p);
    return rc;
}

int
hashpool_start(int threads, int queue_max, struct hashpool **ret)
{
    return pool_start(threads, queue_max, 0, ret);
}

int
hashpool_start_urgent(int threads, int queue_max, struct hashpool **ret)
{
    return pool_start(threads, queue_max, 1, ret);
}

int
hashpool_submit(struct hashpool *p, void (*fn)(void *arg), void *arg)
{
    return hashpool_submit_cancellable(p, fn, NULL, arg);
}

int
hashpool_submit_cancellable(struct hashpool *p, void (*fn)(void *arg),
                            void (*cancel)(void *arg), void *arg)
{
    int rc = 0;

    if (fn == NULL)
        return GH_EINVAL;
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->shedding || p->count >= p->queue_max) {
        rc = GH_EBUSY;
        goto out;
    }
    p->ring[(p->head + p->count) % p->queue_max] =
        (struct job){fn, cancel, arg};
    p->count++;
    pthread_cond_signal(&p->cond);
out:
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void
hashpool_shed(struct hashpool *p)
{
    struct job *shed;
    int i, n = 0, kept = 0;

    if (p == NULL)
        return;
    /* Taken out under the lock, cancelled outside it: a cancel answers
     * its request, which must not wait on the pool. */
    if ((shed = calloc((size_t)p->queue_max, sizeof(*shed))) == NULL)
        return; /* then they run, as hashpool_stop would run them */
    pthread_mutex_lock(&p->lock);
    p->shedding = 1;
    for (i = 0; i < p->count; i++) {
        struct job j = p->ring[(p->head + i) % p->queue_max];
        if (j.cancel != NULL)
            shed[n++] = j;
        else
            p->ring[(p->head + kept++) % p->queue_max] = j;
    }
    p->count = kept;
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < n; i++)
        shed[i].cancel(shed[i].arg);
    free(shed);
}

int
hashpool_full(struct hashpool *p)
{
    int full;

    pthread_mutex_lock(&p->lock);
    full = p->stopping || p->count >= p->queue_max;
    pthread_mutex_unlock(&p->lock);
    return full;
}

int
hashpool_queued(struct hashpool *p)
{
    int n;

    pthread_mutex_lock(&p->lock);
    n = p->count;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void
hashpool_stop(struct hashpool *p)
{
    if (p != NULL)
        pool_free(p);
}
