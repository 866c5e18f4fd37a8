/* SPDX-License-Identifier: MIT */
/* GET /metrics: core/metrics' counters, then the gauges only Redis knows
 * (sessions, the delivery queue, circuits), each kept from the last scrape
 * that could read it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/api/metrics_endpoint.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/http/http.h"
#include "gatehouse/session/maintenance.h"
#include "gatehouse/store/store.h"

/* One sample of the circuit gauge; client ids registered at run time are
 * anyone's text, hence the escaping of the exposition format. */
static void
put_circuit(struct metrics_text *o, const char *client_id, int open)
{
    metrics_put(o, "gatehouse_backchannel_circuit_open{client=\"");
    metrics_put_label(o, client_id);
    metrics_put(o, "\"} %d\n", open);
}

static void
circuit_seen(void *arg, const char *client_id, int open)
{
    put_circuit(arg, client_id, open);
}

/* What the last scrape read from Redis, -1 (NULL) until one could: while
 * Redis is down the gauges keep their last value, which a graph shows flat
 * beside gatehouse_redis_up 0, instead of vanishing. */
struct metrics_last {
    pthread_mutex_t lock;
    char *circuits;
    long long sessions, pending, failed;
};

int
metrics_endpoint_new(struct metrics_last **out)
{
    struct metrics_last *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return GH_ENOMEM;
    pthread_mutex_init(&m->lock, NULL);
    m->sessions = m->pending = m->failed = -1;
    *out = m;
    return 0;
}

void
metrics_endpoint_free(struct metrics_last *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->circuits);
    free(m);
}

/*
 * gatehouse_backchannel_circuit_open: 1 for each app backed off after
 * failing again and again (SPEC §6), 0 for the others with a back
 * channel. From Redis, so every instance reports the same. Returns a
 * malloc'd text, or NULL.
 */
static char *
circuits_render(struct app *app)
{
    struct metrics_last *last = app->metrics_last;
    struct metrics_text o = {malloc(1024), 0, 1024};
    size_t i, seen;
    char *text;

    if (o.p == NULL)
        return NULL;
    metrics_put(&o, "# HELP gatehouse_backchannel_circuit_open 1 while the "
                    "app's notifications are held back after failures in a "
                    "row.\n"
                    "# TYPE gatehouse_backchannel_circuit_open gauge\n");
    seen = o.len;
    if (store_delivery_circuits(app->store, circuit_seen, &o) == 0) {
        for (i = 0; i < app->cfg->nclients; i++) {
            const struct client *c = app->cfg->clients[i];
            struct metrics_text one = {malloc(256), 0, 256};

            if (c->backchannel_logout_uri == NULL || one.p == NULL) {
                free(one.p);
                continue;
            }
            put_circuit(&one, c->client_id, 0);
            if (one.len < 3) {
                free(one.p);
                continue;
            }
            /* Not named by Redis: its circuit never opened. The line up
             * to "}" names exactly one client. */
            one.p[one.len - 3] = '\0';
            if (strstr(o.p + seen, one.p) == NULL)
                metrics_put(&o, "%s 0\n", one.p);
            free(one.p);
        }
        pthread_mutex_lock(&last->lock);
        free(last->circuits);
        last->circuits = strdup(o.p);
        pthread_mutex_unlock(&last->lock);
    }
    free(o.p);
    pthread_mutex_lock(&last->lock);
    text = last->circuits != NULL ? strdup(last->circuits) : NULL;
    pthread_mutex_unlock(&last->lock);
    return text;
}

/* gatehouse_maintenance_state: 1 for the state the maintenance shutdown
 * is in, 0 for the others; left out while Redis cannot say. Appended to
 * *text. */
static void
maintenance_render(struct app *app, char **text)
{
    struct metrics_text o = {malloc(512), 0, 512};
    struct maintenance m;
    char *all;
    int i;

    if (o.p == NULL)
        return;
    o.p[0] = '\0';
    if (maintenance_get(app->maintenance, app->store, &m) == 0) {
        metrics_put(&o, "# HELP gatehouse_maintenance_state 1 for the state "
                        "the maintenance shutdown is in.\n"
                        "# TYPE gatehouse_maintenance_state gauge\n");
        for (i = 0; i < MAINT_STATE_COUNT; i++)
            metrics_put(&o, "gatehouse_maintenance_state{state=\"%s\"} %d\n",
                        maint_state_name((enum maint_state)i),
                        (int)m.state == i);
    }
    if (asprintf(&all, "%s%s", *text, o.p) >= 0) {
        free(*text);
        *text = all;
    }
    free(o.p);
}

void
metrics_endpoint_handle(struct http_request *req)
{
    struct metrics_last *last = req->app->metrics_last;
    char *text = metrics_render(), *all = NULL, *circuits;
    long long sessions = -1, pending = -1, failed = -1;
    int up;

    if (text == NULL) {
        http_json_error(req, 500, "server_error", NULL);
        return;
    }
    if (store_session_count(req->app->store, &sessions) == 0 &&
        store_delivery_counts(req->app->store, &pending, &failed) == 0) {
        pthread_mutex_lock(&last->lock);
        last->sessions = sessions;
        last->pending = pending;
        last->failed = failed;
        pthread_mutex_unlock(&last->lock);
    }
    pthread_mutex_lock(&last->lock);
    sessions = last->sessions;
    pending = last->pending;
    failed = last->failed;
    pthread_mutex_unlock(&last->lock);
    up = store_redis_up(req->app->store);
    if (asprintf(&all,
                 "%s# HELP gatehouse_redis_up 1 while Redis answers, 0 "
                 "while it cannot be reached.\n"
                 "# TYPE gatehouse_redis_up gauge\n"
                 "gatehouse_redis_up %d\n",
                 text, up) >= 0) {
        free(text);
        text = all;
    }
    if (sessions >= 0 &&
        asprintf(&all,
                 "%s# HELP gatehouse_sessions_active Live IdP sessions.\n"
                 "# TYPE gatehouse_sessions_active gauge\n"
                 "gatehouse_sessions_active %lld\n"
                 "# HELP gatehouse_backchannel_queue_depth Deliveries not "
                 "yet done (due, scheduled or in flight).\n"
                 "# TYPE gatehouse_backchannel_queue_depth gauge\n"
                 "gatehouse_backchannel_queue_depth %lld\n"
                 "# HELP gatehouse_backchannel_failed Deliveries that "
                 "failed for good.\n"
                 "# TYPE gatehouse_backchannel_failed gauge\n"
                 "gatehouse_backchannel_failed %lld\n",
                 text, sessions, pending, failed) >= 0) {
        free(text);
        text = all;
    }
    if ((circuits = circuits_render(req->app)) != NULL &&
        asprintf(&all, "%s%s", text, circuits) >= 0) {
        free(text);
        text = all;
    }
    free(circuits);
    maintenance_render(req->app, &text);
    http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text,
               strlen(text));
}
