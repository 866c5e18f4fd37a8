/* SPDX-License-Identifier: MIT */
/* The maintenance shutdown (maintenance.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/states.h"
#include "gatehouse/core/text.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/when.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/session/maintenance.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"

struct maintenance_cache {
    pthread_mutex_t lock;
    struct maintenance value;
    int64_t ms; /* when it was read; 0: never, or dropped */
};

struct maintenance_cache *
maintenance_cache_new(void)
{
    struct maintenance_cache *c = xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void
maintenance_cache_free(struct maintenance_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void
cache_drop(struct maintenance_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    c->ms = 0;
    pthread_mutex_unlock(&c->lock);
}

int
maintenance_valid_message(const char *s)
{
    /* Shown on every page and in the apps' banners (JSON bodies' UTF-8
     * was checked by jansson). */
    return text_one_line(s, 1, MAINTENANCE_MESSAGE_MAX);
}

int
maintenance_parse_time(const char *s, int64_t now, int64_t *at)
{
    int64_t t;

    /* A year ahead is the furthest anyone plans a shutdown; more is a
     * typo (milliseconds for seconds). */
    if (when_parse(s, now, &t) < 0 || t > now + 366 * 86400)
        return GH_EINVAL;
    *at = t < now ? now : t;
    return 0;
}

void
maintenance_format_time(int64_t t, char *buf, size_t size)
{
    when_format(t, buf, size);
}

int
maintenance_start(struct maintenance_cache *c, struct store *st,
                  const char *message, int64_t at, const char *actor,
                  int64_t now, struct maintenance *out)
{
    enum maint_state state = at <= now ? MAINT_ACTIVE : MAINT_ANNOUNCED;
    int rc;

    if (!maintenance_valid_message(message))
        return GH_EINVAL;
    if ((rc = store_maintenance_start(st, maint_state_name(state), message,
                                      at, actor, now)) < 0)
        return rc;
    cache_drop(c);
    memset(out, 0, sizeof(*out));
    out->state = state;
    out->at = at;
    snprintf(out->message, sizeof(out->message), "%s", message);
    snprintf(out->actor, sizeof(out->actor), "%s", actor);
    return 0;
}

int
maintenance_end(struct maintenance_cache *c, struct store *st)
{
    int rc = store_maintenance_end(st);

    cache_drop(c);
    return rc;
}

int
maintenance_read(struct store *st, struct maintenance *out)
{
    struct maintenance_record r;
    struct maintenance m;
    int rc, state;

    memset(&m, 0, sizeof(m));
    rc = store_maintenance_get(st, &r);
    if (rc == GH_ENOTFOUND) {
        *out = m;
        return 0;
    }
    if (rc < 0)
        return rc;
    if ((state = maint_state_parse(r.state)) < 0 || state == MAINT_NONE)
        return GH_EPROTO;
    m.state = (enum maint_state)state;
    /* Between its time and the watcher's next tick, it is active already
     * for everyone who asks. */
    if (m.state == MAINT_ANNOUNCED && r.at <= util_now())
        m.state = MAINT_ACTIVE;
    m.at = r.at;
    snprintf(m.message, sizeof(m.message), "%s", r.message);
    snprintf(m.actor, sizeof(m.actor), "%s", r.actor);
    *out = m;
    return 0;
}

int
maintenance_get(struct maintenance_cache *c, struct store *st,
                struct maintenance *out)
{
    struct maintenance m;
    int64_t now = util_now_ms();
    int rc;

    if (c == NULL)
        return maintenance_read(st, out);
    pthread_mutex_lock(&c->lock);
    if (c->ms != 0 && now - c->ms < MAINTENANCE_CACHE_MS && now >= c->ms) {
        m = c->value;
        pthread_mutex_unlock(&c->lock);
        if (m.state == MAINT_ANNOUNCED && m.at <= now / 1000)
            m.state = MAINT_ACTIVE;
        *out = m;
        return 0;
    }
    pthread_mutex_unlock(&c->lock);
    if ((rc = maintenance_read(st, &m)) < 0)
        return rc;
    pthread_mutex_lock(&c->lock);
    c->value = m;
    c->ms = now;
    pthread_mutex_unlock(&c->lock);
    *out = m;
    return 0;
}

int
maintenance_active(struct maintenance_cache *c, struct store *st)
{
    struct maintenance m;
    int rc;

    if ((rc = maintenance_get(c, st, &m)) < 0)
        return rc;
    return m.state == MAINT_ACTIVE;
}

int
maintenance_claim(struct maintenance_cache *c, struct store *st, int64_t now,
                  const char *owner)
{
    int rc = store_maintenance_claim(st, now, owner);

    if (rc == 1)
        cache_drop(c);
    return rc;
}

int
maintenance_claim_again(struct store *st, int64_t now, const char *owner)
{
    struct maintenance_record r;
    struct logout_all_state run;
    long long live = 0;
    int rc;

    if ((rc = store_maintenance_get(st, &r)) < 0)
        return rc == GH_ENOTFOUND ? 0 : rc;
    if (maint_state_parse(r.state) != MAINT_ACTIVE || r.swept[0] == '\0')
        return 0;
    if ((rc = store_session_count(st, &live)) < 0 || live == 0)
        return rc < 0 ? rc : 0;
    rc = store_logout_all_get(st, &run);
    if (rc < 0 && rc != GH_ENOTFOUND)
        return rc;
    /* A run in progress (or being resumed) ends them; the last one must
     * have finished a moment ago, not be finishing now. */
    if (rc == 0 && (run_state_parse(run.state) == RUN_RUNNING ||
                    now - run.updated < MAINTENANCE_RESWEEP_S))
        return 0;
    return store_maintenance_claim_again(st, r.swept, owner);
}

int
maintenance_release(struct store *st, const char *owner)
{
    return store_maintenance_release(st, owner);
}

/* The entry of client_id in s->apps, added if new; NULL: no memory. */
static struct maintenance_app *
app_of(struct maintenance_status *s, const char *client_id)
{
    struct maintenance_app *grown;
    size_t i;

    for (i = 0; i < s->napps; i++)
        if (strcmp(s->apps[i].client_id, client_id) == 0)
            return &s->apps[i];
    if ((grown = realloc(s->apps, (s->napps + 1) * sizeof(*grown))) == NULL)
        return NULL;
    s->apps = grown;
    memset(&s->apps[s->napps], 0, sizeof(*grown));
    if ((s->apps[s->napps].client_id = strdup(client_id)) == NULL)
        return NULL;
    return &s->apps[s->napps++];
}

/* Adds one session's apps to s; a session ended meanwhile adds none. */
static int
count_session(struct store *st, struct maintenance_status *s, const char *sid)
{
    struct session *sess = NULL;
    struct maintenance_app *a;
    size_t j;
    int rc;

    if ((rc = session_get(st, sid, &sess)) < 0)
        return rc == GH_ENOTFOUND ? 0 : rc;
    for (j = 0; j < sess->napps && rc == 0; j++) {
        if ((a = app_of(s, sess->apps[j])) == NULL)
            rc = GH_ENOMEM;
        else
            a->sessions++;
    }
    session_free(sess);
    return rc;
}

/* Counts the apps of live sessions, the first MAINTENANCE_SCAN_MAX. */
static int
count_sessions(struct store *st, struct maintenance_status *s)
{
    unsigned long long cursor = 0;
    long long seen = 0;
    int rc = 0;

    do {
        char **sids = NULL;
        size_t n = 0, i;

        if ((rc = store_sessions_scan(st, &cursor, 500, &sids, &n)) < 0)
            return rc;
        for (i = 0; i < n; i++) {
            if (rc == 0 && seen < MAINTENANCE_SCAN_MAX) {
                seen++;
                rc = count_session(st, s, sids[i]);
            }
            free(sids[i]);
        }
        free(sids);
    } while (rc == 0 && cursor != 0 && seen < MAINTENANCE_SCAN_MAX);
    if (cursor != 0)
        s->apps_partial = 1;
    return rc;
}

int
maintenance_status(struct store *st, struct maintenance_status *out)
{
    struct maintenance_status s;
    struct store_app_deliveries *d = NULL;
    struct maintenance_app *a;
    size_t nd = 0, i;
    int rc;

    memset(&s, 0, sizeof(s));
    if ((rc = maintenance_read(st, &s.m)) < 0)
        goto out;
    if ((rc = store_session_count(st, &s.sessions)) < 0)
        goto out;
    if (s.sessions > 0 && (rc = count_sessions(st, &s)) < 0)
        goto out;
    /* Failed since the shutdown started: older failures are not about
     * it. With none, every failure. */
    if ((rc = store_deliveries_by_app(st, s.m.state != MAINT_NONE ? s.m.at : 0,
                                      &d, &nd)) < 0)
        goto out;
    for (i = 0; i < nd; i++) {
        if ((a = app_of(&s, d[i].client_id)) == NULL) {
            rc = GH_ENOMEM;
            goto out;
        }
        a->pending += d[i].pending;
        a->failed += d[i].failed;
        s.pending += d[i].pending;
        s.failed += d[i].failed;
    }
    s.everyone_out = s.sessions == 0 && s.pending == 0;
    *out = s;
    memset(&s, 0, sizeof(s));
out:
    store_app_deliveries_free(d, nd);
    maintenance_status_clear(&s);
    return rc;
}

void
maintenance_status_clear(struct maintenance_status *s)
{
    size_t i;

    for (i = 0; i < s->napps; i++)
        free(s->apps[i].client_id);
    free(s->apps);
    s->apps = NULL;
    s->napps = 0;
}

json_t *
maintenance_json(const struct maintenance *m)
{
    char at[32];

    if (m->state == MAINT_NONE)
        return json_pack("{s:s, s:n, s:n}", "state",
                         maint_state_name(MAINT_NONE), "message", "at");
    maintenance_format_time(m->at, at, sizeof(at));
    return json_pack("{s:s, s:s, s:s}", "state", maint_state_name(m->state),
                     "message", m->message, "at", at);
}

json_t *
maintenance_status_json(const struct maintenance_status *s)
{
    json_t *o, *apps;
    size_t i;

    if ((o = maintenance_json(&s->m)) == NULL)
        return NULL;
    if ((apps = json_array()) == NULL) {
        json_decref(o);
        return NULL;
    }
    for (i = 0; i < s->napps; i++)
        json_array_append_new(
            apps, json_pack("{s:s, s:I, s:I, s:I}", "client_id",
                            s->apps[i].client_id, "sessions",
                            (json_int_t)s->apps[i].sessions, "pending",
                            (json_int_t)s->apps[i].pending, "failed",
                            (json_int_t)s->apps[i].failed));
    if (s->m.state != MAINT_NONE)
        json_object_set_new(o, "actor", json_string(s->m.actor));
    json_object_set_new(o, "sessions", json_integer(s->sessions));
    json_object_set_new(o, "pending", json_integer(s->pending));
    json_object_set_new(o, "failed", json_integer(s->failed));
    json_object_set_new(o, "apps", apps);
    if (s->apps_partial)
        json_object_set_new(o, "apps_partial", json_true());
    json_object_set_new(o, "everyone_out", json_boolean(s->everyone_out));
    return o;
}
