/* SPDX-License-Identifier: MIT */
/* What the Admin API and the admin CLI share (SPEC §4): input checks, audit
 * records, ending sessions (one, a user's, everyone's in batches, also in
 * the background of a server), and the JSON shapes both print. Both end
 * sessions through the one session_end_* and write the same audit
 * records. Nothing here knows about HTTP. */
#ifndef GATEHOUSE_ADMIN_OPS_H
#define GATEHOUSE_ADMIN_OPS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gatehouse/store/store.h"

struct app;
struct config;
struct session;

/* The longest reason accepted, in bytes. */
#define ADMIN_REASON_MAX 200
/* Sessions a logout-all ends between two progress reports, in scripts of
 * SESSION_END_BATCH, so Redis is never blocked for long. */
#define ADMIN_BATCH 1000
/* A logout-all whose owner sent no heartbeat (a batch's progress) for this
 * long is taken to have died with its process: any server resumes it,
 * checking every ADMIN_WATCH_S, so a dead run goes on within 10 s. */
#define ADMIN_STALE_S 5
#define ADMIN_WATCH_S 1
/* The length of a run's owner id (random, one per process's turn). */
#define ADMIN_OWNER_LEN 22

/* 1 if s is a well-formed sid: 22 base64url characters. */
int admin_valid_sid(const char *s);
/* 1 if s can name a user: a username (1..64 of A-Za-z0-9._@-) or a sub;
 * "." and ".." never. */
int admin_valid_user(const char *s);
/* 1 if s is an acceptable reason: at most ADMIN_REASON_MAX bytes, no
 * control characters. */
int admin_valid_reason(const char *s);

/* Writes one audit record. A failure is logged and returned, but an
 * action already done is not undone for want of its record. */
int admin_audit(struct store *st, const struct audit_event *ev);

/*
 * Ends every live session of sub, by actor, with reason "admin" (the
 * metrics label; the actor's own words go in the audit record).
 * *sessions and *notifications say how many ended and were queued.
 */
int admin_logout_user(struct store *st, const char *sub, const char *actor,
                      long long *sessions, long long *notifications);
/*
 * Removes every second factor of sub (TOTP and recovery codes) and then
 * ends every live session of the user as admin_logout_user does: a
 * session signed in with a factor now gone, or by whoever enrolled it, is
 * not left standing. *had is 1 if there were factors. Run again after a
 * failure, it finishes the job. The caller writes the audit record
 * ("reset_factors").
 */
int admin_reset_factors(struct store *st, const char *sub, const char *actor,
                        int *had, long long *sessions,
                        long long *notifications);
/* Ends one session: 1 if it ended now (*notifications queued, sub_out its
 * user), 0 if it was not live, or a GH_E* code. */
int admin_logout_session(struct store *st, const struct config *cfg,
                         const char *sid, const char *actor,
                         long long *notifications, char sub_out[37]);

/* A logout-all's counts. */
struct admin_progress {
    long long total;  /* live sessions when it began */
    long long ended;  /* ended by this run so far */
    long long queued; /* notifications queued so far */
};
typedef void (*admin_progress_fn)(void *arg, const struct admin_progress *p);

/* Who runs a logout-all and how it ends when stopped early. */
struct admin_run {
    const char *actor;
    const char *reason;
    const char *addr;               /* for the audit record */
    char owner[ADMIN_OWNER_LEN + 1]; /* set by begin */
    /* Stopped early, leave it running for another process to resume at
     * once (a server shutting down), rather than mark it interrupted. */
    int hand_over;
    /* The sweep of a maintenance shutdown: sessions end with reason
     * END_MAINTENANCE, not END_ADMIN (a resumed run knows it by its
     * reason, "maintenance"). */
    int maintenance;
};

/*
 * Claims the one logout-all that may run at a time, across every instance
 * and the CLI, for run->owner (made here), and counts the live sessions
 * into p->total. GH_EBUSY if one is running; *other (if not NULL) then
 * says whose.
 */
int admin_logout_all_begin(struct store *st, struct admin_run *run,
                           struct admin_progress *p,
                           struct logout_all_state *other);
/*
 * Runs the logout-all run owns: walks the live sessions in batches of
 * ADMIN_BATCH and ends them through session_end_many, until all are done
 * or *stop is set (checked between batches: one takes ~0.1 s). After each
 * batch it records progress in Redis, which is also its heartbeat, and
 * calls fn(arg, p) if fn is not NULL. When done it records the state and
 * writes an audit record "logout_all_finished". Returns 0 when done, 1
 * when stopped, GH_EBUSY when another process took the run over, or a
 * GH_E* code: the run then stays "running" without a heartbeat, so a
 * server resumes it once Redis answers again.
 */
int admin_logout_all_run(struct store *st, const struct config *cfg,
                         struct admin_run *run, atomic_int *stop,
                         admin_progress_fn fn, void *arg,
                         struct admin_progress *p);
/* "resuming" for a run without a heartbeat for ADMIN_STALE_S, else
 * s->state; *age_s the heartbeat's age. */
const char *admin_logout_all_state(const struct logout_all_state *s,
                                   int64_t now, int64_t *age_s);

/*
 * Starts a logout-all in the background of a server: a thread of its own
 * runs admin_logout_all_run, waking app's delivery engine and updating
 * the metrics after each batch. *total is the number of live sessions it
 * began with. GH_EBUSY if one is running, here or in another instance
 * (*other says whose when known, else other->state is ""); GH_EDENIED
 * after admin_stop.
 */
int admin_logout_all_start(struct app *app, const char *actor,
                           const char *reason, const char *addr,
                           long long *total, struct logout_all_state *other);
/*
 * Starts the watcher of a server: every ADMIN_WATCH_S it looks for a
 * logout-all that lost its process and resumes it in the background, and
 * for a maintenance shutdown whose start has come, whose sweep (a
 * logout-all with reason "maintenance") exactly one server runs
 * (maintenance_claim). 0 or GH_ENOMEM.
 */
int admin_start(struct app *app);
/*
 * Stops a logout-all running in the background at its next session and
 * hands it over (another instance, or this one restarted, resumes it),
 * stops the watcher, waits for both threads, and refuses new runs. serve
 * calls it after the HTTP server has drained and before delivery_stop
 * (the thread wakes the engine).
 */
void admin_stop(struct app *app);
/* Frees what admin_start made; after http_stop, when no request can
 * start a logout-all any more. NULL-safe as to what was never started. */
void admin_free(struct app *app);

/*
 * One JSON shape for the API and the CLI's --json. Each returns a new
 * reference, or NULL when out of memory.
 */
/* username may be NULL (not looked up). */
json_t *admin_session_json(const struct session *s,
                           const struct config *cfg, const char *username);
json_t *admin_delivery_json(const struct delivery_record *d);
json_t *admin_audit_json(const struct audit_record *a);
json_t *admin_logout_all_json(const struct logout_all_state *s);

#endif
