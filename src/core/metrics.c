/* SPDX-License-Identifier: MIT */
/* Prometheus metrics. Counters are relaxed atomics: a scrape may see one
 * request counted before its latency, which Prometheus tolerates. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/metrics.h"

#define MAX_ROUTES 64

static const int status_codes[] = {200, 201, 202, 204, 302, 303, 304,
                                   400, 401, 403, 404, 405, 409, 413,
                                   415, 429, 431, 500, 501, 503, 0};
#define NSTATUS (sizeof(status_codes) / sizeof(status_codes[0]))

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                 0.025,  0.05,  0.1,    0.25,  0.5,
                                 1,      2.5,   5,      10};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct route_metrics {
    atomic_ulong status[NSTATUS]; /* last slot: any other status */
    atomic_ulong bucket[NBUCKETS + 1]; /* last slot: +Inf only */
    atomic_ulong sum_us;
};

static atomic_ulong deliveries[DELIVERY_RESULT_COUNT];
static atomic_ulong delivery_bucket[NBUCKETS + 1];
static atomic_ulong delivery_sum_us;

static atomic_ulong sessions_ended[END_REASON_COUNT];

static const char *const admin_outcomes[] = {
    "ok", "unauthorized", "forbidden", "invalid", "not_found", "conflict",
    "error"};
#define NOUTCOMES (sizeof(admin_outcomes) / sizeof(admin_outcomes[0]))
static atomic_ulong admin_calls[NOUTCOMES];
static atomic_int logout_all_running;
/* password checks run, on the open pool [0] and the returning one [1] */
static atomic_ulong login_hashes[2];
/* second-factor codes checked, by type, refused [0] or accepted [1] */
static atomic_ulong factor_checks[FACTOR_TYPE_COUNT][2];
static atomic_llong logout_all_total, logout_all_ended, logout_all_queued;

static const char *names[MAX_ROUTES];
static size_t nroutes;
/* One slot past the routes for requests that matched none. */
static struct route_metrics routes[MAX_ROUTES + 1];

void
metrics_name_route(size_t route, const char *name)
{
    if (route >= MAX_ROUTES)
        return;
    names[route] = name;
    if (route >= nroutes)
        nroutes = route + 1;
}

void
metrics_http(size_t route, int status, double seconds)
{
    struct route_metrics *m;
    size_t i;

    m = &routes[route < nroutes ? route : MAX_ROUTES];
    for (i = 0; i < NSTATUS - 1 && status_codes[i] != status; i++)
        ;
    atomic_fetch_add_explicit(&m->status[i], 1, memory_order_relaxed);
    for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
        ;
    atomic_fetch_add_explicit(&m->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

void
metrics_delivery(enum delivery_result outcome, double seconds)
{
    size_t i;

    /* Anything but an answer recorded counts as a retry, as it will be. */
    if (outcome != DELIVERY_RESULT_DELIVERED &&
        outcome != DELIVERY_RESULT_FAILED)
        outcome = DELIVERY_RESULT_RETRY;
    atomic_fetch_add_explicit(&deliveries[outcome], 1, memory_order_relaxed);
    for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
        ;
    atomic_fetch_add_explicit(&delivery_bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&delivery_sum_us,
                              (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

void
metrics_session_end(enum end_reason reason)
{
    if ((unsigned)reason >= END_REASON_COUNT)
        reason = END_OTHER;
    atomic_fetch_add_explicit(&sessions_ended[reason], 1, memory_order_relaxed);
}

void
metrics_admin_call(const char *outcome)
{
    size_t i;

    /* Anything unknown counts as an error rather than being lost. */
    for (i = 0; i < NOUTCOMES - 1 && strcmp(admin_outcomes[i], outcome) != 0;
         i++)
        ;
    atomic_fetch_add_explicit(&admin_calls[i], 1, memory_order_relaxed);
}

void
metrics_logout_all(int running, long long total, long long ended,
                   long long queued)
{
    atomic_store(&logout_all_total, total);
    atomic_store(&logout_all_ended, ended);
    atomic_store(&logout_all_queued, queued);
    atomic_store(&logout_all_running, running);
}

void
metrics_login_hash(int returning)
{
    atomic_fetch_add_explicit(&login_hashes[returning ? 1 : 0], 1,
                              memory_order_relaxed);
}

void
metrics_factor(enum factor_type type, int ok)
{
    if ((unsigned)type >= FACTOR_TYPE_COUNT)
        return;
    atomic_fetch_add_explicit(&factor_checks[type][ok ? 1 : 0], 1,
                              memory_order_relaxed);
}

static void
vput(struct metrics_text *o, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    for (;;) {
        va_copy(cp, ap);
        n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, cp);
        va_end(cp);
        if (n < 0)
            return;
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        char *np = realloc(o->p, o->cap * 2 + (size_t)n);
        if (np == NULL)
            return;
        o->p = np;
        o->cap = o->cap * 2 + (size_t)n;
    }
}

static void
put(struct metrics_text *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct metrics_text *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vput(o, fmt, ap);
    va_end(ap);
}

void
metrics_put(struct metrics_text *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vput(o, fmt, ap);
    va_end(ap);
}

void
metrics_put_label(struct metrics_text *o, const char *value)
{
    const char *c;

    for (c = value; *c != '\0'; c++) {
        if (*c == '\\' || *c == '"')
            put(o, "\\%c", *c);
        else if (*c == '\n')
            put(o, "\\n");
        else
            put(o, "%c", *c);
    }
}

static const char *
route_name(size_t r)
{
    return r < nroutes ? names[r] : "unmatched";
}

char *
metrics_render(void)
{
    struct metrics_text o = {malloc(8192), 0, 8192};
    size_t r, i;

    if (o.p == NULL)
        return NULL;
    o.p[0] = '\0';
    put(&o, "# HELP gatehouse_http_requests_total HTTP requests by endpoint "
            "and status.\n# TYPE gatehouse_http_requests_total counter\n");
    for (r = 0; r <= MAX_ROUTES; r++) {
        if (r >= nroutes && r != MAX_ROUTES)
            continue;
        for (i = 0; i < NSTATUS; i++) {
            unsigned long v = atomic_load(&routes[r].status[i]);
            if (v == 0)
                continue;
            if (status_codes[i] != 0)
                put(&o,
                    "gatehouse_http_requests_total{endpoint=\"%s\","
                    "status=\"%d\"} %lu\n",
                    route_name(r), status_codes[i], v);
            else
                put(&o,
                    "gatehouse_http_requests_total{endpoint=\"%s\","
                    "status=\"other\"} %lu\n",
                    route_name(r), v);
        }
    }
    put(&o, "# HELP gatehouse_http_request_duration_seconds Time from "
            "request line to response.\n"
            "# TYPE gatehouse_http_request_duration_seconds histogram\n");
    for (r = 0; r <= MAX_ROUTES; r++) {
        unsigned long cum = 0;
        if (r >= nroutes && r != MAX_ROUTES)
            continue;
        for (i = 0; i <= NBUCKETS; i++)
            cum += atomic_load(&routes[r].bucket[i]);
        if (cum == 0)
            continue;
        cum = 0;
        for (i = 0; i < NBUCKETS; i++) {
            cum += atomic_load(&routes[r].bucket[i]);
            put(&o,
                "gatehouse_http_request_duration_seconds_bucket{endpoint="
                "\"%s\",le=\"%g\"} %lu\n",
                route_name(r), buckets[i], cum);
        }
        cum += atomic_load(&routes[r].bucket[NBUCKETS]);
        put(&o,
            "gatehouse_http_request_duration_seconds_bucket{endpoint=\"%s\","
            "le=\"+Inf\"} %lu\n",
            route_name(r), cum);
        put(&o,
            "gatehouse_http_request_duration_seconds_sum{endpoint=\"%s\"} "
            "%.6f\n",
            route_name(r), atomic_load(&routes[r].sum_us) / 1e6);
        put(&o,
            "gatehouse_http_request_duration_seconds_count{endpoint=\"%s\"} "
            "%lu\n",
            route_name(r), cum);
    }
    {
        unsigned long cum = 0, total = 0;
        put(&o, "# HELP gatehouse_backchannel_deliveries_total Back-channel "
                "delivery attempts by outcome.\n"
                "# TYPE gatehouse_backchannel_deliveries_total counter\n");
#define XX(name, num, label)                                                   \
    put(&o, "gatehouse_backchannel_deliveries_total{outcome=\"%s\"} %lu\n",    \
        label, atomic_load(&deliveries[num]));
        DELIVERY_RESULT_MAP(XX)
#undef XX
        put(&o, "# HELP gatehouse_backchannel_delivery_seconds Time of one "
                "delivery attempt.\n"
                "# TYPE gatehouse_backchannel_delivery_seconds histogram\n");
        for (i = 0; i <= NBUCKETS; i++)
            total += atomic_load(&delivery_bucket[i]);
        for (i = 0; i < NBUCKETS; i++) {
            cum += atomic_load(&delivery_bucket[i]);
            put(&o,
                "gatehouse_backchannel_delivery_seconds_bucket{le=\"%g\"} "
                "%lu\n",
                buckets[i], cum);
        }
        put(&o,
            "gatehouse_backchannel_delivery_seconds_bucket{le=\"+Inf\"} "
            "%lu\n"
            "gatehouse_backchannel_delivery_seconds_sum %.6f\n"
            "gatehouse_backchannel_delivery_seconds_count %lu\n",
            total, atomic_load(&delivery_sum_us) / 1e6, total);
        put(&o, "# HELP gatehouse_sessions_ended_total Sessions ended, by "
                "reason.\n# TYPE gatehouse_sessions_ended_total counter\n");
        /* Only the reasons an ending is recorded with. */
#define XX(name, text, recorded, notice)                                       \
    if (recorded)                                                              \
        put(&o, "gatehouse_sessions_ended_total{reason=\"%s\"} %lu\n", text,   \
            atomic_load(&sessions_ended[END_##name]));
        END_REASON_MAP(XX)
#undef XX
        put(&o, "# HELP gatehouse_admin_calls_total Admin API calls, by "
                "outcome.\n# TYPE gatehouse_admin_calls_total counter\n");
        for (i = 0; i < NOUTCOMES; i++)
            put(&o, "gatehouse_admin_calls_total{outcome=\"%s\"} %lu\n",
                admin_outcomes[i], atomic_load(&admin_calls[i]));
        put(&o,
            "# HELP gatehouse_logout_all_running 1 while this instance runs "
            "a logout-all.\n# TYPE gatehouse_logout_all_running gauge\n"
            "gatehouse_logout_all_running %d\n"
            "# HELP gatehouse_logout_all_sessions Sessions of the current "
            "or last logout-all: live when it began, and ended so far.\n"
            "# TYPE gatehouse_logout_all_sessions gauge\n"
            "gatehouse_logout_all_sessions{state=\"total\"} %lld\n"
            "gatehouse_logout_all_sessions{state=\"ended\"} %lld\n"
            "# HELP gatehouse_logout_all_notifications_queued Back-channel "
            "notifications the current or last logout-all queued.\n"
            "# TYPE gatehouse_logout_all_notifications_queued gauge\n"
            "gatehouse_logout_all_notifications_queued %lld\n",
            atomic_load(&logout_all_running), atomic_load(&logout_all_total),
            atomic_load(&logout_all_ended), atomic_load(&logout_all_queued));
        put(&o,
            "# HELP gatehouse_login_hashes_total Password checks (scrypt) "
            "run for sign-ins, by pool: open to anyone, or reserved for "
            "browsers returning with a device cookie.\n"
            "# TYPE gatehouse_login_hashes_total counter\n"
            "gatehouse_login_hashes_total{pool=\"open\"} %lu\n"
            "gatehouse_login_hashes_total{pool=\"returning\"} %lu\n",
            atomic_load(&login_hashes[0]), atomic_load(&login_hashes[1]));
        put(&o, "# HELP gatehouse_factor_checks_total Second-factor codes "
                "checked, by type and outcome.\n"
                "# TYPE gatehouse_factor_checks_total counter\n");
        for (size_t t = 0; t < FACTOR_TYPE_COUNT; t++)
            put(&o,
                "gatehouse_factor_checks_total{type=\"%s\",outcome="
                "\"success\"} %lu\n"
                "gatehouse_factor_checks_total{type=\"%s\",outcome="
                "\"failure\"} %lu\n",
                factor_type_name((enum factor_type)t),
                atomic_load(&factor_checks[t][1]),
                factor_type_name((enum factor_type)t),
                atomic_load(&factor_checks[t][0]));
    }
    return o.p;
}
