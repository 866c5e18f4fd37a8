/* SPDX-License-Identifier: MIT */
/* What the Admin API and the admin CLI share (admin_ops.h). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/session/admin_ops.h"
#include "gatehouse/session/delivery.h"
#include "gatehouse/session/maintenance.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/states.h"
#include "gatehouse/core/text.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/core/util.h"

int
admin_valid_sid(const char *s)
{
    size_t n = strlen(s);

    return n == SESSION_SID_LEN && b64url_valid(s, n);
}

int
admin_valid_user(const char *s)
{
    size_t i;

    /* A sub is a UUID, which is made of username characters too. */
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
              c == '-'))
            return 0;
    }
    return i >= 1 && i <= USERNAME_MAX;
}

int
admin_valid_reason(const char *s)
{
    /* It is shown in tables and logs. Its UTF-8 is not checked here: the
     * HTTP body was parsed by jansson, which refuses invalid UTF-8. */
    return text_one_line(s, 0, ADMIN_REASON_MAX);
}

int
admin_audit(struct store *st, const struct audit_event *ev)
{
    int rc = store_audit_add(st, ev);

    if (rc < 0)
        log_warnx("audit_write_failed action=%s actor=%s error=\"%s\"",
                  ev->action, ev->actor, gh_strerror(rc));
    return rc;
}

int
admin_logout_user(struct store *st, const char *sub, const char *actor,
                  long long *sessions, long long *notifications)
{
    long long ended = 0, queued = 0;
    int rc;

    if ((rc = session_end_user(st, sub, END_ADMIN, actor, &ended, &queued)) < 0)
        return rc;
    *sessions = ended;
    *notifications = queued;
    return 0;
}

int
admin_reset_factors(struct store *st, const char *sub, const char *actor,
                    int *had, long long *sessions, long long *notifications)
{
    int rc, any;

    /* Factors first: no new sign-in with them can start while the
     * sessions end. */
    if ((any = factors_reset(st, sub)) < 0)
        return any;
    if ((rc = store_passkeys_delete(st, sub)) < 0)
        return rc;
    any |= rc;
    if ((rc = admin_logout_user(st, sub, actor, sessions, notifications)) < 0)
        return rc;
    *had = any;
    return 0;
}

int
admin_logout_session(struct store *st, const struct config *cfg,
                     const char *sid, const char *actor,
                     long long *notifications, char sub_out[37])
{
    struct session_ended e;
    int rc;

    rc = session_end_by(st, cfg, sid, END_ADMIN, actor, &e);
    if (rc == 1) {
        *notifications = e.queued;
        memcpy(sub_out, e.sub, 37);
        session_ended_clear(&e);
    }
    return rc;
}

int
admin_logout_all_begin(struct store *st, struct admin_run *run,
                       struct admin_progress *p,
                       struct logout_all_state *other)
{
    long long total = 0;
    int rc;

    if ((rc = util_random_id(run->owner, 16)) < 0)
        return rc;
    if ((rc = store_session_count(st, &total)) < 0)
        return rc;
    if ((rc = store_logout_all_begin(st, util_now(), ADMIN_STALE_S,
                                     run->actor, run->reason, total,
                                     run->owner, other)) < 0)
        return rc;
    memset(p, 0, sizeof(*p));
    p->total = total;
    return 0;
}

static void
audit_run(struct store *st, const struct admin_run *run, const char *action,
          const char *outcome, const struct admin_progress *p)
{
    struct audit_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.actor = run->actor;
    ev.action = action;
    ev.target = "all";
    ev.reason = run->reason;
    ev.outcome = outcome;
    ev.addr = run->addr;
    ev.sessions = p->ended;
    ev.deliveries = p->queued;
    admin_audit(st, &ev);
}

int
admin_logout_all_run(struct store *st, const struct config *cfg,
                     struct admin_run *run, atomic_int *stop,
                     admin_progress_fn fn, void *arg,
                     struct admin_progress *p)
{
    unsigned long long cursor = 0;
    const char *state;
    int rc = 0, interrupted = 0;

    /*
     * ZSCAN, not one big script: each batch is a cheap read and its
     * endings go SESSION_END_BATCH to a short script, so other clients of
     * Redis get their turn between any two. SCAN also returns every session that stays
     * live throughout, however many end meanwhile.
     */
    do {
        char **sids = NULL;
        size_t n = 0, i;

        if ((rc = store_sessions_scan(st, &cursor, ADMIN_BATCH, &sids, &n)) <
            0)
            break;
        /* The run is audited once, started and finished, not per
         * session. */
        rc = session_end_many(st, cfg, sids, n,
                              run->maintenance ? END_MAINTENANCE : END_ADMIN,
                              run->actor, 0, &p->ended, &p->queued);
        for (i = 0; i < n; i++)
            free(sids[i]);
        free(sids);
        if (rc == 0)
            rc = store_logout_all_update(st, run->owner, util_now(), NULL,
                                         p->ended, p->queued);
        if (fn != NULL)
            fn(arg, p);
    } while (rc == 0 && cursor != 0 && !atomic_load(stop));

    if (rc == GH_EBUSY) {
        /* Taken for dead and resumed elsewhere: that run finishes it. */
        log_warnx("logout_all_taken_over actor=%s sessions=%lld", run->actor,
                  p->ended);
        return rc;
    }
    if (rc < 0) {
        /* Redis failed: nothing more can be recorded now. Left "running"
         * without a heartbeat, a server resumes it when Redis is back. */
        log_warnx("logout_all_paused actor=%s sessions=%lld error=\"%s\"",
                  run->actor, p->ended, gh_strerror(rc));
        return rc;
    }
    if (atomic_load(stop) && cursor != 0) {
        if (run->hand_over) {
            /* No heartbeat from now on: resumed at once elsewhere, or by
             * this server after its restart. */
            store_logout_all_update(st, run->owner, 0, NULL, p->ended,
                                    p->queued);
            log_info("logout_all_handed_over actor=%s sessions=%lld",
                     run->actor, p->ended);
            return 1;
        }
        interrupted = 1;
    }
    state = run_state_name(interrupted ? RUN_INTERRUPTED : RUN_DONE);
    if ((rc = store_logout_all_update(st, run->owner, util_now(), state,
                                      p->ended, p->queued)) < 0)
        return rc;
    log_info("logout_all_finished actor=%s state=%s sessions=%lld "
             "deliveries=%lld",
             run->actor, state, p->ended, p->queued);
    audit_run(st, run, "logout_all_finished", state, p);
    return interrupted;
}

const char *
admin_logout_all_state(const struct logout_all_state *s, int64_t now,
                       int64_t *age_s)
{
    *age_s = now - s->updated;
    if (run_state_parse(s->state) == RUN_RUNNING && *age_s >= ADMIN_STALE_S)
        return run_state_name(RUN_RESUMING);
    return s->state;
}

json_t *
admin_session_json(const struct session *s, const struct config *cfg,
                   const char *username)
{
    json_t *o, *apps;
    int64_t idle_end, abs_end;
    size_t i;

    if ((apps = json_array()) == NULL)
        return NULL;
    for (i = 0; i < s->napps; i++)
        json_array_append_new(apps, json_string(s->apps[i]));
    idle_end = s->last_seen + cfg->session_idle_timeout_s;
    abs_end = s->created + cfg->session_absolute_timeout_s;
    o = json_pack("{s:s, s:s, s:s*, s:I, s:I, s:I, s:I, s:s, s:s, s:o}",
                  "sid", s->sid, "sub", s->sub, "username", username,
                  "created", (json_int_t)s->created, "last_seen",
                  (json_int_t)s->last_seen, "auth_time",
                  (json_int_t)s->auth_time, "expires",
                  (json_int_t)(idle_end < abs_end ? idle_end : abs_end), "ip",
                  s->ip, "user_agent", s->ua != NULL ? s->ua : "", "apps",
                  apps);
    return o;
}

json_t *
admin_delivery_json(const struct delivery_record *d)
{
    json_t *o, *tries;
    size_t i;

    if ((tries = json_array()) == NULL)
        return NULL;
    for (i = 0; i < d->nattempts; i++)
        json_array_append_new(
            tries, json_pack("{s:I, s:s}", "time",
                             (json_int_t)d->attempts[i].time, "outcome",
                             d->attempts[i].outcome));
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "id",
                  d->id, "sid", d->sid, "sub", d->sub, "client_id",
                  d->client_id, "uri", d->uri, "state", d->state, "reason",
                  d->reason, "created", (json_int_t)d->created, "attempts",
                  tries);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "done",
                        d->done > 0 ? json_integer(d->done) : json_null());
    json_object_set_new(o, "next_attempt",
                        d->due > 0 ? json_integer((json_int_t)d->due)
                                   : json_null());
    return o;
}

static json_t *
string_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
admin_audit_json(const struct audit_record *a)
{
    json_t *o;

    o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "id", a->id,
                  "time", (json_int_t)(a->time_ms / 1000), "actor", a->actor,
                  "action", a->action, "target", a->target, "reason",
                  string_or_null(a->reason), "outcome",
                  string_or_null(a->outcome), "address",
                  string_or_null(a->addr));
    if (o == NULL)
        return NULL;
    if (a->sub[0] != '\0')
        json_object_set_new(o, "sub", json_string(a->sub));
    if (a->sessions >= 0)
        json_object_set_new(o, "sessions", json_integer(a->sessions));
    if (a->deliveries >= 0)
        json_object_set_new(o, "deliveries", json_integer(a->deliveries));
    return o;
}

json_t *
admin_logout_all_json(const struct logout_all_state *s)
{
    int64_t age;
    const char *state = admin_logout_all_state(s, util_now(), &age);

    return json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
                     "state", state, "actor", s->actor, "reason",
                     string_or_null(s->reason), "started",
                     (json_int_t)s->started, "updated",
                     (json_int_t)s->updated, "age_s", (json_int_t)age,
                     "sessions", (json_int_t)s->total, "ended",
                     (json_int_t)s->ended, "notifications",
                     (json_int_t)s->queued, "resumes", s->resumes);
}

/*
 * logout-all in a server: one thread of its own at a time per process
 * (and, through Redis, per deployment), joined by admin_stop; and a
 * watcher that resumes a run whose process died. app->logout_all holds
 * it, from admin_start to admin_free.
 */
struct logout_all_runner {
    pthread_mutex_t lock; /* guards everything but the atomics */
    pthread_cond_t wake;  /* the watcher's sleep, cut short by admin_stop */
    pthread_t thread;
    pthread_t watcher;
    int joinable; /* a thread was started and not yet joined */
    int watching; /* the watcher was started and not yet joined */
    int closed;   /* admin_stop ran: start nothing more */
    atomic_int running;
    atomic_int stop;
    char actor[160];
    char reason[sizeof(((struct logout_all_state *)0)->reason)];
    char addr[64];
    struct admin_run run;
    struct admin_progress progress;
};

static void
bg_progress(void *arg, const struct admin_progress *p)
{
    struct app *app = arg;

    metrics_logout_all(1, p->total, p->ended, p->queued);
    /* A batch queued up to ADMIN_BATCH × apps notifications: send them
     * now rather than at the engine's next poll. */
    delivery_wake(app->delivery);
}

static void *
bg_run(void *arg)
{
    struct app *app = arg;
    struct logout_all_runner *bg = app->logout_all;
    int rc;

    rc = admin_logout_all_run(app->store, app->cfg, &bg->run, &bg->stop,
                              bg_progress, app, &bg->progress);
    if (rc < 0 && rc != GH_EBUSY)
        log_warnx("logout_all_failed error=\"%s\"", gh_strerror(rc));
    metrics_logout_all(0, bg->progress.total, bg->progress.ended,
                       bg->progress.queued);
    atomic_store(&bg->running, 0);
    store_thread_done(app->store);
    return NULL;
}

/* Starts bg_run for bg->run; called with bg->lock held. */
static int
bg_launch(struct app *app)
{
    struct logout_all_runner *bg = app->logout_all;
    sigset_t all, old;
    int made;

    if (bg->joinable) {
        pthread_join(bg->thread, NULL); /* finished: running is 0 */
        bg->joinable = 0;
    }
    bg->run.actor = bg->actor;
    bg->run.reason = bg->reason;
    bg->run.addr = bg->addr;
    bg->run.hand_over = 1;
    bg->run.maintenance =
        end_reason_parse(bg->reason) == END_MAINTENANCE;
    atomic_store(&bg->stop, 0);
    atomic_store(&bg->running, 1);
    metrics_logout_all(1, bg->progress.total, bg->progress.ended,
                       bg->progress.queued);
    /* Only main's sigwait may see SIGTERM. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    made = pthread_create(&bg->thread, NULL, bg_run, app) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!made) {
        atomic_store(&bg->running, 0);
        metrics_logout_all(0, bg->progress.total, bg->progress.ended,
                           bg->progress.queued);
        store_logout_all_update(app->store, bg->run.owner, util_now(),
                                run_state_name(RUN_FAILED), bg->progress.ended,
                                bg->progress.queued);
        return GH_ENOMEM;
    }
    bg->joinable = 1;
    return 0;
}

/* admin_logout_all_start with bg->lock held. */
static int
start_locked(struct app *app, const char *actor, const char *reason,
             const char *addr, long long *total,
             struct logout_all_state *other)
{
    struct logout_all_runner *bg = app->logout_all;
    int rc;

    if (bg->closed)
        return GH_EDENIED;
    if (atomic_load(&bg->running)) {
        if (store_logout_all_get(app->store, other) < 0)
            memset(other, 0, sizeof(*other));
        rc = GH_EBUSY;
        goto out;
    }
    snprintf(bg->actor, sizeof(bg->actor), "%s", actor);
    snprintf(bg->reason, sizeof(bg->reason), "%s",
             reason != NULL ? reason : "");
    snprintf(bg->addr, sizeof(bg->addr), "%s", addr);
    bg->run.actor = bg->actor;
    bg->run.reason = bg->reason;
    if ((rc = admin_logout_all_begin(app->store, &bg->run, &bg->progress,
                                     other)) < 0)
        goto out;
    if ((rc = bg_launch(app)) < 0)
        goto out;
    *total = bg->progress.total;
out:
    return rc;
}

int
admin_logout_all_start(struct app *app, const char *actor,
                       const char *reason, const char *addr,
                       long long *total, struct logout_all_state *other)
{
    struct logout_all_runner *bg = app->logout_all;
    int rc;

    memset(other, 0, sizeof(*other));
    /* Not a server (admin_start never ran): nothing can run it. */
    if (bg == NULL)
        return GH_EDENIED;
    pthread_mutex_lock(&bg->lock);
    rc = start_locked(app, actor, reason, addr, total, other);
    pthread_mutex_unlock(&bg->lock);
    return rc;
}

/*
 * Ends every session once a maintenance shutdown has started, if this
 * server claims the sweep; bg->lock held. A sweep that cannot start now
 * (a logout-all of an administrator is running) is given back and
 * claimed again at the next tick.
 */
static void
sweep_if_due(struct app *app)
{
    struct logout_all_runner *bg = app->logout_all;
    struct logout_all_state other;
    struct maintenance m;
    char owner[ADMIN_OWNER_LEN + 1];
    long long total = 0;
    int rc;

    if (atomic_load(&bg->running) || util_random_id(owner, 16) < 0)
        return;
    if (maintenance_claim(app->maintenance, app->store, util_now(), owner) != 1 &&
        maintenance_claim_again(app->store, util_now(), owner) != 1)
        return;
    if (maintenance_read(app->store, &m) < 0 || m.state != MAINT_ACTIVE) {
        maintenance_release(app->store, owner);
        return;
    }
    rc = start_locked(app, m.actor[0] != '\0' ? m.actor : "maintenance",
                      end_reason_name(END_MAINTENANCE), "maintenance", &total,
                      &other);
    if (rc < 0) {
        maintenance_release(app->store, owner);
        log_warnx("maintenance_sweep_deferred error=\"%s\"", gh_strerror(rc));
        return;
    }
    log_info("maintenance_started actor=%s sessions=%lld", bg->actor, total);
}

/* Resumes a run that lost its process, if there is one; bg->lock held. */
static void
resume_if_orphaned(struct app *app)
{
    struct logout_all_runner *bg = app->logout_all;
    struct logout_all_state taken;
    char owner[ADMIN_OWNER_LEN + 1];

    if (atomic_load(&bg->running) || util_random_id(owner, 16) < 0)
        return;
    if (store_logout_all_resume(app->store, util_now(), ADMIN_STALE_S, owner,
                                &taken) != 1)
        return;
    snprintf(bg->actor, sizeof(bg->actor), "%s", taken.actor);
    snprintf(bg->reason, sizeof(bg->reason), "%s", taken.reason);
    snprintf(bg->addr, sizeof(bg->addr), "%s", "resumed");
    memcpy(bg->run.owner, owner, sizeof(owner));
    bg->progress.total = taken.total;
    bg->progress.ended = taken.ended;
    bg->progress.queued = taken.queued;
    bg->run.actor = bg->actor;
    bg->run.reason = bg->reason;
    bg->run.addr = bg->addr;
    log_warnx("logout_all_resumed actor=%s sessions=%lld of %lld resumes=%d",
              bg->actor, taken.ended, taken.total, taken.resumes);
    audit_run(app->store, &bg->run, "logout_all_resumed", "ok", &bg->progress);
    bg_launch(app);
}

static void *
watch(void *arg)
{
    struct app *app = arg;
    struct logout_all_runner *bg = app->logout_all;
    struct timespec ts;

    pthread_mutex_lock(&bg->lock);
    while (!bg->closed) {
        resume_if_orphaned(app);
        sweep_if_due(app);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ADMIN_WATCH_S;
        pthread_cond_timedwait(&bg->wake, &bg->lock, &ts);
    }
    pthread_mutex_unlock(&bg->lock);
    store_thread_done(app->store);
    return NULL;
}

int
admin_start(struct app *app)
{
    struct logout_all_runner *bg;
    sigset_t all, old;
    int made;

    if ((bg = calloc(1, sizeof(*bg))) == NULL)
        return GH_ENOMEM;
    pthread_mutex_init(&bg->lock, NULL);
    pthread_cond_init(&bg->wake, NULL);
    app->logout_all = bg;
    pthread_mutex_lock(&bg->lock);
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    made = pthread_create(&bg->watcher, NULL, watch, app) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    bg->watching = made;
    pthread_mutex_unlock(&bg->lock);
    return made ? 0 : GH_ENOMEM;
}

void
admin_stop(struct app *app)
{
    struct logout_all_runner *bg = app->logout_all;

    if (bg == NULL)
        return;
    pthread_mutex_lock(&bg->lock);
    bg->closed = 1;
    atomic_store(&bg->stop, 1);
    pthread_cond_signal(&bg->wake);
    if (bg->joinable) {
        pthread_join(bg->thread, NULL);
        bg->joinable = 0;
    }
    pthread_mutex_unlock(&bg->lock);
    if (bg->watching) {
        pthread_join(bg->watcher, NULL);
        bg->watching = 0;
    }
}

void
admin_free(struct app *app)
{
    struct logout_all_runner *bg = app->logout_all;

    if (bg == NULL)
        return;
    pthread_mutex_destroy(&bg->lock);
    pthread_cond_destroy(&bg->wake);
    free(bg);
    app->logout_all = NULL;
}
