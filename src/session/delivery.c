/* SPDX-License-Identifier: MIT */
/* The back-channel engines: each thread (two per core) drives its own
 * libcurl multi handle so deliveries to different apps run side by side
 * and a slow or dead app delays nobody (SPEC §6). State lives in Redis,
 * never only here. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/session/delivery.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/jsonw.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/states.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"

/* Idle polling of the queue, for deliveries queued by other instances,
 * the CLI, or due retries. */
#define POLL_S 0.1
/* A logout token lives 2 minutes (SPEC §5). */
#define LOGOUT_TOKEN_TTL_S 120
/* The reaper looks for expired sessions this often: well inside the 5 s
 * SPEC §5 allows, and in batches so one pass never blocks Redis long. */
#define REAP_INTERVAL_S 1
#define REAP_BATCH 500
/* Engines per core: an engine waits on Redis for each claim and batch of
 * outcomes, and a second one per core signs and POSTs meanwhile. */
#define ENGINES_PER_CORE 2
/* More engines than this would only contend for Redis and the apps. */
#define MAX_ENGINES 8

struct transfer {
    struct delivery_claim claim; /* owned */
    CURL *easy;
    char *body;
    char *token;
    int64_t token_exp;
    char jti[B64URL_LEN(16) + 1]; /* the token's, for the log */
    double started;
    struct transfer *next;
};

struct waiter {
    char *sid;
    char **client_ids;
    enum delivery_state *states;
    size_t n;
    double deadline;
    delivery_wait_fn fn;
    void *arg;
    struct waiter *next;
};

/* One engine thread: its own libcurl multi handle, its share of
 * backchannel.concurrency, and (through the store) its own Redis
 * connection. Claims are leases in Redis, so engines never share work. */
struct engine {
    struct delivery *d;
    /* Its name in Redis's per-app counts of attempts in flight
     * (dinf:{client_id}): random per process, so no two instances share
     * one. */
    char id[32];
    pthread_t thread;
    atomic_int woken;
    CURLM *multi;
    struct transfer *inflight;
    int ninflight;
    int concurrency;
    /* The earliest retry this engine scheduled (util_monotonic), 0 if
     * none: it claims then rather than at the next poll, so "1 s ±20%"
     * is not stretched by the poll interval. */
    double retry_at;
    struct curl_slist *headers; /* the same for every POST */
    /* Easy handles of finished transfers, reset for the next: making one
     * costs more than a small POST on a kept-alive connection. */
    CURL **idle;
    int nidle;
};

struct delivery {
    struct app *app;
    pthread_t reaper;
    atomic_int stop;
    struct engine *engines;
    int nengines;
    /* Attempts in flight to one app at most, every instance's together
     * (delivery_claim.lua). */
    int per_app;
    pthread_mutex_t lock; /* guards waiters */
    struct waiter *waiters;
    pthread_mutex_t reap_lock;
    pthread_cond_t reap_cond;
};

/* A claim is a lease a little longer than one attempt can take; so is an
 * engine's count of attempts in flight. */
static int
claim_lease(const struct config *cfg)
{
    return cfg->backchannel_timeout_ms / 1000 + 10;
}

double
delivery_backoff(int attempts)
{
    double base = 1.0, r;
    unsigned char b;

    while (attempts-- > 0 && base < 300)
        base *= 2;
    if (base > 300)
        base = 300;
    if (util_random(&b, 1) < 0)
        b = 128;
    r = (double)b / 255.0; /* 0..1 */
    return base * (0.8 + 0.4 * r);
}

/* A logout token with the given jti (base64url). */
static int
logout_token(const struct keyring *kr, const char *issuer,
             const char *client_id, const char *sub, const char *sid,
             int64_t now, const char *jti, char **ret)
{
    char *claims = NULL;
    struct jw w;
    int rc;

    /* Written, not built in jansson: a logout-all signs 300,000 of these. */
    jw_init(&w, 512);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "iss", issuer);
    jw_str(&w, "aud", client_id);
    jw_int(&w, "iat", now);
    jw_int(&w, "exp", now + LOGOUT_TOKEN_TTL_S);
    jw_str(&w, "jti", jti);
    jw_str(&w, "sub", sub);
    jw_str(&w, "sid", sid);
    jw_obj_begin(&w, "events");
    jw_obj_begin(&w, "http://schemas.openid.net/event/backchannel-logout");
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    if ((rc = jw_finish(&w, &claims, NULL)) < 0)
        return rc;
    rc = jws_sign_json(kr, NULL, "logout+jwt", claims, ret);
    free(claims);
    return rc;
}

int
delivery_logout_token(const struct keyring *kr, const char *issuer,
                      const char *client_id, const char *sub, const char *sid,
                      int64_t now, char **ret)
{
    char jti[B64URL_LEN(16) + 1];
    int rc;

    if ((rc = util_random_id(jti, 16)) < 0)
        return rc;
    return logout_token(kr, issuer, client_id, sub, sid, now, jti, ret);
}

/*
 * The jti of a logout token we signed earlier (a retry reuses it), for the
 * log line; "-" if it cannot be read. Only retries pay for the decoding.
 */
static void
token_jti(const char *jws, char *out, size_t size)
{
    const char *p = strchr(jws, '.'), *end, *at;
    unsigned char *payload = NULL;
    size_t len = 0, n;

    snprintf(out, size, "-");
    if (p == NULL || (end = strchr(p + 1, '.')) == NULL ||
        b64url_decode(p + 1, (size_t)(end - p - 1), &payload, &len) < 0)
        return;
    if ((at = strstr((char *)payload, "\"jti\":\"")) != NULL) {
        at += 7;
        n = strcspn(at, "\"");
        if (n > 0 && n < size && at[n] == '"')
            snprintf(out, size, "%.*s", (int)n, at);
    }
    free(payload);
}

/* Frees t; its easy handle, if e is not NULL, is kept for the next. */
static void
transfer_free(struct engine *e, struct transfer *t)
{
    if (t == NULL)
        return;
    free(t->claim.id);
    free(t->claim.client_id);
    free(t->claim.uri);
    free(t->claim.sid);
    free(t->claim.sub);
    free(t->claim.token);
    if (t->easy != NULL && e != NULL && e->nidle < e->concurrency) {
        curl_easy_reset(t->easy);
        e->idle[e->nidle++] = t->easy;
    } else if (t->easy != NULL) {
        curl_easy_cleanup(t->easy);
    }
    free(t->body);
    free(t->token);
    free(t);
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static int
start_transfer(struct engine *e, struct delivery_claim *c)
{
    struct delivery *d = e->d;
    const struct config *cfg = d->app->cfg;
    struct transfer *t = calloc(1, sizeof(*t));
    int64_t now = util_now();
    int rc;

    if (t == NULL)
        return GH_ENOMEM;
    t->claim = *c;
    memset(c, 0, sizeof(*c));
    /* SPEC §6: sign afresh only if the last token would expire before it
     * arrives. */
    if (t->claim.token[0] != '\0' &&
        t->claim.token_exp - now > cfg->backchannel_timeout_ms / 1000 + 5) {
        t->token = strdup(t->claim.token);
        t->token_exp = t->claim.token_exp;
        token_jti(t->claim.token, t->jti, sizeof(t->jti));
    } else {
        if ((rc = util_random_id(t->jti, 16)) < 0 ||
            (rc = logout_token(d->app->keys, cfg->issuer, t->claim.client_id,
                               t->claim.sub, t->claim.sid, now, t->jti,
                               &t->token)) < 0) {
            transfer_free(e, t);
            return rc;
        }
        t->token_exp = now + LOGOUT_TOKEN_TTL_S;
    }
    t->easy = e->nidle > 0 ? e->idle[--e->nidle] : curl_easy_init();
    if (t->token == NULL || asprintf(&t->body, "logout_token=%s", t->token) < 0 ||
        t->easy == NULL) {
        t->body = NULL;
        transfer_free(e, t);
        return GH_ENOMEM;
    }
    curl_easy_setopt(t->easy, CURLOPT_URL, t->claim.uri);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS,
                     (long)cfg->backchannel_timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    /* A notification goes where the app registered it, nowhere else. */
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "gatehouse-backchannel");
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    t->started = util_monotonic();
    curl_multi_add_handle(e->multi, t->easy);
    t->next = e->inflight;
    e->inflight = t;
    e->ninflight++;
    return 0;
}

/*
 * The engine's attempts in flight per app, less those in done[0..ndone)
 * (a batch being recorded): *ret is malloc'd (client ids borrowed from
 * the transfers), *n its length. A few dozen transfers, a few apps.
 */
static int
app_counts(const struct engine *e, struct transfer *const *done, size_t ndone,
           struct delivery_app_count **ret, size_t *n)
{
    struct delivery_app_count *c;
    const struct transfer *t;
    size_t count = 0, i, j;

    if ((c = calloc((size_t)e->ninflight + 1, sizeof(*c))) == NULL)
        return GH_ENOMEM;
    for (t = e->inflight; t != NULL; t = t->next) {
        for (i = 0; i < count; i++)
            if (strcmp(c[i].client_id, t->claim.client_id) == 0)
                break;
        if (i == count)
            c[count++].client_id = t->claim.client_id;
        c[i].n++;
    }
    for (j = 0; j < ndone; j++)
        for (i = 0; i < count; i++)
            if (strcmp(c[i].client_id, done[j]->claim.client_id) == 0)
                c[i].n--;
    *ret = c;
    *n = count;
    return 0;
}

/* What app_counts says of client_id. */
static int
app_count(const struct delivery_app_count *c, size_t n, const char *client_id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(c[i].client_id, client_id) == 0)
            return c[i].n;
    return 0;
}

/* Calls and frees each waiter of a list taken off d->waiters; outside the
 * lock, since a callback may take its time. */
static void
fire(struct waiter *list)
{
    struct waiter *w;
    size_t i;

    while ((w = list) != NULL) {
        list = w->next;
        w->fn(w->arg, w->states, w->n);
        for (i = 0; i < w->n; i++)
            free(w->client_ids[i]);
        free(w->client_ids);
        free(w->states);
        free(w->sid);
        free(w);
    }
}

/* Takes every waiter that is_done says is done off d->waiters and calls
 * them, outside the lock. */
static void
settle_waiters(struct delivery *d, int (*is_done)(struct waiter *, void *),
               void *arg)
{
    struct waiter **wp, *w, *done = NULL;

    pthread_mutex_lock(&d->lock);
    for (wp = &d->waiters; (w = *wp) != NULL;) {
        if (is_done(w, arg)) {
            *wp = w->next;
            w->next = done;
            done = w;
        } else {
            wp = &w->next;
        }
    }
    pthread_mutex_unlock(&d->lock);
    fire(done);
}

/* How one app's attempt on one session went. */
struct attempt_news {
    const char *sid;
    const char *client_id;
    enum delivery_state state;
};

/* Records the news on w if it waits for that app; done once no app it
 * waits for is left without a first attempt. */
static int
heard(struct waiter *w, void *arg)
{
    const struct attempt_news *news = arg;
    size_t i, left = 0;

    if (strcmp(w->sid, news->sid) != 0)
        return 0;
    for (i = 0; i < w->n; i++) {
        if (w->states[i] == DELIVERY_WAITING &&
            strcmp(w->client_ids[i], news->client_id) == 0)
            w->states[i] = news->state;
        if (w->states[i] == DELIVERY_WAITING)
            left++;
    }
    return left == 0;
}

/* Tells waiters on this session how the app's attempt went. */
static void
notify_waiters(struct delivery *d, const char *sid, const char *client_id,
               enum delivery_state state)
{
    struct attempt_news news = {sid, client_id, state};

    settle_waiters(d, heard, &news);
}

/* Past its deadline; NULL arg: every waiter (the engine stops). */
static int
expired(struct waiter *w, void *arg)
{
    return arg == NULL || w->deadline <= *(const double *)arg;
}

static void
expire_waiters(struct delivery *d, int all)
{
    double now = util_monotonic();

    settle_waiters(d, expired, all ? NULL : &now);
}

/* Records what a batch of finished attempts got, in one round trip, then
 * counts, logs and tells waiters about each. */
static void
finish_batch(struct engine *e, struct transfer **ts, const CURLcode *cc,
             size_t n)
{
    struct delivery *d = e->d;
    const struct config *cfg = d->app->cfg;
    struct delivery_outcome *o = calloc(n, sizeof(*o));
    char (*outcome)[96] = calloc(n, sizeof(*outcome));
    struct delivery_app_count *left = NULL;
    size_t nleft = 0;
    int64_t now = util_now();
    /* Due times to the millisecond: whole seconds turned "1 s ±20%" into
     * anything from 0.4 to 2.0 s. */
    double now_s = util_now_ms() / 1000.0, mono = util_monotonic();
    size_t i;
    int rc;

    if (o == NULL || outcome == NULL ||
        app_counts(e, ts, n, &left, &nleft) < 0) {
        /* Unrecorded attempts are retried when their lease runs out. */
        free(o);
        free(outcome);
        return;
    }
    for (i = 0; i < n; i++) {
        struct transfer *t = ts[i];
        long status = 0;

        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (cc[i] == CURLE_OK)
            snprintf(outcome[i], sizeof(outcome[i]), "http %ld", status);
        else
            snprintf(outcome[i], sizeof(outcome[i]), "error %s",
                     curl_easy_strerror(cc[i]));
        o[i] = (struct delivery_outcome){
            .id = t->claim.id,
            .outcome = outcome[i],
            .delivered = cc[i] == CURLE_OK && (status == 200 || status == 204),
            .token_exp = t->token_exp,
            .client_id = t->claim.client_id,
            .app_left = app_count(left, nleft, t->claim.client_id),
            /* An app that answers, even 4xx, is up and holds no slot for
             * long; one that does not, or fails inside, is what the
             * circuit is for (SPEC §6). */
            .down = cc[i] != CURLE_OK || status >= 500,
            .result = GH_EIO,
        };
        /* The backoff draws a random byte: only a retry needs it. */
        if (!o[i].delivered) {
            double wait = delivery_backoff(t->claim.attempts);
            o[i].next_due = now_s + wait;
            /* A millisecond late, so the claim's clock has passed it. */
            if (e->retry_at == 0 || mono + wait + 0.001 < e->retry_at)
                e->retry_at = mono + wait + 0.001;
        }
        /* Only a retry reuses the token: a delivered one need not travel
         * to Redis (300,000 of them in a logout-all). */
        o[i].token = o[i].delivered ? NULL : t->token;
    }
    if ((rc = store_delivery_done(d->app->store, now, now_s, e->id,
                                  claim_lease(cfg),
                                  cfg->backchannel_max_attempts, o, n)) < 0)
        log_warnx("delivery_record_failed n=%zu error=%s", n,
                  gh_strerror(rc));
    for (i = 0; i < n; i++) {
        struct transfer *t = ts[i];
        double took = util_monotonic() - t->started;
        char fp[13] = "-";

        /* No hash for a delivered one: a logout-all logs 300,000 of them,
         * and the jti names each as the app saw it. */
        if (o[i].result != DELIVERY_RESULT_DELIVERED)
            log_fingerprint(t->claim.sid, fp);
        metrics_delivery((enum delivery_result)o[i].result, took);
        /* One line per attempt: an operator sees each notification
         * delivered at the default level. Cheap, for a logout-all's pace:
         * no hash and no Redis for a delivered one. */
        if (o[i].result == DELIVERY_RESULT_FAILED)
            log_warnx("delivery_failed client=%s sid_fp=%s jti=%s "
                      "attempts=%d outcome=\"%s\"",
                      t->claim.client_id, fp, t->jti, t->claim.attempts + 1,
                      outcome[i]);
        else if (!o[i].delivered || o[i].result < 0)
            log_info("delivery client=%s sid_fp=%s jti=%s attempt=%d "
                     "outcome=\"%s\"%s",
                     t->claim.client_id, fp, t->jti, t->claim.attempts + 1,
                     outcome[i], o[i].result < 0 ? " recorded=0" : "");
        else
            log_info("delivery client=%s jti=%s attempt=%d "
                     "outcome=\"%s\" ms=%d",
                     t->claim.client_id, t->jti, t->claim.attempts + 1,
                     outcome[i], (int)(took * 1000));
        /* Once per change of an app's circuit, whichever instance saw
         * it: the scripts decide atomically. */
        if (o[i].circuit > 0)
            log_warnx("backchannel_circuit state=open client=%s "
                      "next_trial_ms=%d last=\"%s\"",
                      t->claim.client_id, o[i].circuit, outcome[i]);
        else if (o[i].circuit < 0)
            log_info("backchannel_circuit state=closed client=%s",
                     t->claim.client_id);
        notify_waiters(d, t->claim.sid, t->claim.client_id,
                       o[i].delivered ? DELIVERY_DELIVERED : DELIVERY_TRYING);
    }
    free(o);
    free(outcome);
    free(left);
}

static void
claim_due(struct engine *e)
{
    struct delivery *d = e->d;
    const struct config *cfg = d->app->cfg;
    struct delivery_claim *c = NULL;
    struct delivery_app_count *mine = NULL;
    size_t n = 0, nmine = 0, i;
    int room = e->concurrency - e->ninflight, rc;

    if (room <= 0 || app_counts(e, NULL, 0, &mine, &nmine) < 0)
        return;
    rc = store_delivery_claim(d->app->store, util_now_ms() / 1000.0,
                              claim_lease(cfg), room, d->per_app, e->id, mine,
                              nmine, &c, &n);
    free(mine);
    if (rc < 0)
        return;
    for (i = 0; i < n; i++) {
        if (c[i].trial)
            log_info("backchannel_circuit state=half_open client=%s",
                     c[i].client_id);
        if (start_transfer(e, &c[i]) < 0)
            log_warnx("delivery_start_failed id_fp=-");
    }
    store_delivery_claims_free(c, n);
    /* A full batch means more may be due: look again at once. */
    if ((int)n == room)
        atomic_store(&e->woken, 1);
}

/* Takes every finished transfer off the multi handle and records them
 * as one batch. */
static void
collect_finished(struct engine *e)
{
    struct transfer **ts;
    CURLcode *cc;
    CURLMsg *msg;
    size_t n = 0, i;
    int left;

    if (e->ninflight == 0)
        return;
    ts = calloc((size_t)e->ninflight, sizeof(*ts));
    cc = calloc((size_t)e->ninflight, sizeof(*cc));
    if (ts == NULL || cc == NULL) {
        free(ts);
        free(cc);
        return;
    }
    while (n < (size_t)e->ninflight &&
           (msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &ts[n]);
        cc[n++] = msg->data.result;
    }
    if (n > 0)
        finish_batch(e, ts, cc, n);
    for (i = 0; i < n; i++) {
        struct transfer *t = ts[i], **tp;

        curl_multi_remove_handle(e->multi, t->easy);
        for (tp = &e->inflight; *tp != NULL; tp = &(*tp)->next) {
            if (*tp == t) {
                *tp = t->next;
                break;
            }
        }
        e->ninflight--;
        transfer_free(e, t);
    }
    /* Room for more. */
    if (n > 0)
        atomic_store(&e->woken, 1);
    free(ts);
    free(cc);
}

static void *
run(void *arg)
{
    struct engine *e = arg;
    struct delivery *d = e->d;
    double next_poll = 0;
    int running;

    while (!atomic_load(&d->stop)) {
        double now = util_monotonic();
        int timeout_ms;

        if (e->retry_at > 0 && now >= e->retry_at) {
            e->retry_at = 0;
            atomic_store(&e->woken, 1);
        }
        if (atomic_exchange(&e->woken, 0) || now >= next_poll) {
            claim_due(e);
            next_poll = now + POLL_S;
        }
        curl_multi_perform(e->multi, &running);
        collect_finished(e);
        expire_waiters(d, 0);
        now = util_monotonic();
        timeout_ms = (int)((next_poll - now) * 1000);
        if (e->retry_at > 0 && (int)((e->retry_at - now) * 1000) + 1 <
                                   timeout_ms)
            timeout_ms = (int)((e->retry_at - now) * 1000) + 1;
        if (timeout_ms < 0 || atomic_load(&e->woken))
            timeout_ms = 0;
        if (timeout_ms > 100)
            timeout_ms = 100;
        curl_multi_poll(e->multi, NULL, 0, timeout_ms, NULL);
    }
    store_thread_done(d->app->store);
    return NULL;
}

/* Ends expired sessions through the one session_end, with notifications,
 * whether or not any request arrives (SPEC §5). Safe in every instance:
 * ending an ended session is a no-op. */
static void *
reap(void *arg)
{
    struct delivery *d = arg;
    struct timespec ts;

    while (!atomic_load(&d->stop)) {
        char **sids = NULL;
        size_t n = 0, i;
        long long queued = 0;

        if (store_sessions_due(d->app->store, util_now(), REAP_BATCH, &sids,
                               &n) == 0) {
            long long ended = 0;
            if (session_end_many(d->app->store, d->app->cfg, sids, n,
                                 END_TIMEOUT, "reaper", 1, &ended,
                                 &queued) == 0 &&
                ended > 0)
                log_info("sessions_expired ended=%lld deliveries=%lld", ended,
                         queued);
            for (i = 0; i < n; i++)
                free(sids[i]);
            free(sids);
        }
        if (queued > 0)
            delivery_wake(d);
        if (n == REAP_BATCH)
            continue;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += REAP_INTERVAL_S;
        pthread_mutex_lock(&d->reap_lock);
        if (!atomic_load(&d->stop))
            pthread_cond_timedwait(&d->reap_cond, &d->reap_lock, &ts);
        pthread_mutex_unlock(&d->reap_lock);
    }
    store_thread_done(d->app->store);
    return NULL;
}

/* Gives the claims of attempts cut short by a stop back to the queue, so
 * that a restart, or another instance, sends them at once rather than
 * after their lease (whether the app got this attempt is unknown: it may
 * hear twice, which each token's jti lets it tell). */
static void
release_inflight(struct delivery *d)
{
    const struct delivery_claim **ids;
    const char **engines;
    struct transfer *t;
    size_t n = 0;
    int i, rc;

    for (i = 0; i < d->nengines; i++)
        n += (size_t)d->engines[i].ninflight;
    if (n == 0)
        return;
    ids = calloc(n, sizeof(*ids));
    engines = calloc(n, sizeof(*engines));
    if (ids == NULL || engines == NULL) {
        free(ids);
        free(engines);
        return;
    }
    n = 0;
    for (i = 0; i < d->nengines; i++) {
        for (t = d->engines[i].inflight; t != NULL; t = t->next) {
            engines[n] = d->engines[i].id;
            ids[n++] = &t->claim;
        }
    }
    if ((rc = store_delivery_release(d->app->store, util_now_ms() / 1000.0,
                                     ids, engines, n)) < 0)
        log_warnx("delivery_release_failed n=%zu error=%s", n,
                  gh_strerror(rc));
    else
        log_info("delivery_released n=%zu", n);
    free(ids);
    free(engines);
    store_thread_done(d->app->store);
}

/* Stops and frees what delivery_start made: the engines (the first
 * started of them), the reaper if started, the waiters. */
static void
teardown(struct delivery *d, int started, int reaper)
{
    struct transfer *t, *next;
    int i;

    atomic_store(&d->stop, 1);
    for (i = 0; i < started; i++)
        curl_multi_wakeup(d->engines[i].multi);
    pthread_mutex_lock(&d->reap_lock);
    pthread_cond_signal(&d->reap_cond);
    pthread_mutex_unlock(&d->reap_lock);
    for (i = 0; i < started; i++)
        pthread_join(d->engines[i].thread, NULL);
    if (reaper)
        pthread_join(d->reaper, NULL);
    /* Anyone still waiting hears now, with what is known. */
    expire_waiters(d, 1);
    release_inflight(d);
    for (i = 0; i < d->nengines; i++) {
        struct engine *e = &d->engines[i];
        for (t = e->inflight; t != NULL; t = next) {
            next = t->next;
            curl_multi_remove_handle(e->multi, t->easy);
            transfer_free(NULL, t);
        }
        while (e->nidle > 0)
            curl_easy_cleanup(e->idle[--e->nidle]);
        free(e->idle);
        curl_slist_free_all(e->headers);
        if (e->multi != NULL)
            curl_multi_cleanup(e->multi);
    }
    free(d->engines);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->reap_lock);
    pthread_cond_destroy(&d->reap_cond);
    free(d);
}

int
delivery_start(struct app *app, struct delivery **ret)
{
    struct delivery *d = calloc(1, sizeof(*d));
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char instance[B64URL_LEN(6) + 1];
    int i, n, started = 0, reaper = 0;
    sigset_t all, old;

    if (d == NULL)
        return GH_ENOMEM;
    d->app = app;
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->reap_lock, NULL);
    pthread_cond_init(&d->reap_cond, NULL);
    /* Signing and libcurl take most of a core per engine at a logout-all's
     * pace; each engine has its share of the concurrency. */
    n = cores < 1 ? ENGINES_PER_CORE : (int)(cores * ENGINES_PER_CORE);
    if (n > MAX_ENGINES)
        n = MAX_ENGINES;
    if (n > app->cfg->backchannel_concurrency)
        n = app->cfg->backchannel_concurrency;
    if ((d->engines = calloc((size_t)n, sizeof(*d->engines))) == NULL) {
        teardown(d, 0, 0);
        return GH_ENOMEM;
    }
    d->nengines = n;
    /* Never more than half of this instance's slots to one app, whatever
     * per_app_concurrency says: a hung app then leaves the other half to
     * everyone else (SPEC §6), also with a small concurrency. */
    d->per_app = app->cfg->backchannel_per_app_concurrency;
    if (d->per_app > app->cfg->backchannel_concurrency / 2)
        d->per_app = app->cfg->backchannel_concurrency / 2;
    if (d->per_app < 1)
        d->per_app = 1;
    if (util_random_id(instance, 6) < 0) {
        teardown(d, 0, 0);
        return GH_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        struct engine *e = &d->engines[i];
        e->d = d;
        snprintf(e->id, sizeof(e->id), "%s.%d", instance, i);
        e->concurrency = app->cfg->backchannel_concurrency / n +
                         (i < app->cfg->backchannel_concurrency % n);
        e->headers = curl_slist_append(
            NULL, "Content-Type: application/x-www-form-urlencoded");
        e->idle = calloc((size_t)e->concurrency, sizeof(*e->idle));
        if ((e->multi = curl_multi_init()) == NULL || e->headers == NULL ||
            e->idle == NULL) {
            teardown(d, 0, 0);
            return GH_ENOMEM;
        }
    }
    /* Only main's sigwait sees SIGTERM. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (i = 0; i < n; i++) {
        if (pthread_create(&d->engines[i].thread, NULL, run,
                           &d->engines[i]) != 0)
            break;
        started++;
    }
    if (started == n)
        reaper = pthread_create(&d->reaper, NULL, reap, d) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!reaper) {
        teardown(d, started, 0);
        return GH_ENOMEM;
    }
    *ret = d;
    return 0;
}

void
delivery_wake(struct delivery *d)
{
    int i;

    if (d == NULL)
        return;
    for (i = 0; i < d->nengines; i++) {
        atomic_store(&d->engines[i].woken, 1);
        curl_multi_wakeup(d->engines[i].multi);
    }
}

void
delivery_stop(struct delivery *d)
{
    if (d != NULL)
        teardown(d, d->nengines, 1);
}

int
delivery_wait(struct delivery *d, const char *sid,
              const char *const *client_ids, size_t n, int timeout_ms,
              delivery_wait_fn fn, void *arg)
{
    struct waiter *w;
    size_t i;

    if (n == 0 || d == NULL) {
        enum delivery_state none[1] = {DELIVERY_WAITING};
        fn(arg, none, n);
        return 0;
    }
    if ((w = calloc(1, sizeof(*w))) == NULL ||
        (w->client_ids = calloc(n, sizeof(char *))) == NULL ||
        (w->states = calloc(n, sizeof(*w->states))) == NULL ||
        (w->sid = strdup(sid)) == NULL) {
        if (w != NULL) {
            free(w->client_ids);
            free(w->states);
            free(w);
        }
        return GH_ENOMEM;
    }
    for (i = 0; i < n; i++)
        w->client_ids[i] = xstrdup(client_ids[i]);
    w->n = n;
    w->deadline = util_monotonic() + timeout_ms / 1000.0;
    w->fn = fn;
    w->arg = arg;
    pthread_mutex_lock(&d->lock);
    w->next = d->waiters;
    d->waiters = w;
    pthread_mutex_unlock(&d->lock);
    /* Wake the engine so the deliveries just queued go out now. */
    delivery_wake(d);
    return 0;
}
