/* SPDX-License-Identifier: MIT */
/*
 * The maintenance shutdown (SPEC §5): announced with a message and a start
 * time, shown on every page until then; at the start a server's watcher
 * (admin_ops.c) ends every session in one logout-all, and from then on
 * sign-in and user grants answer 503 until it is lifted. The state lives
 * in Redis (maint), so it survives restarts and every instance agrees;
 * the Admin API, the CLI and the pages read it through here.
 */
#ifndef GATEHOUSE_MAINTENANCE_H
#define GATEHOUSE_MAINTENANCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gatehouse/core/states.h"

struct store;
/* A server's last read of the state, reused by maintenance_get for
 * MAINTENANCE_CACHE_MS (struct app holds it); NULL wherever one is taken:
 * no reuse (the CLI, a process of its own). Start, end and claim through
 * the same cache drop it, so this server sees its own change at once. */
struct maintenance_cache;
struct maintenance_cache *maintenance_cache_new(void);
void maintenance_cache_free(struct maintenance_cache *c);

/* The longest message accepted, in bytes. */
#define MAINTENANCE_MESSAGE_MAX 500
/* How long a read is reused by maintenance_get: every page and user grant
 * asks, and a second's lag in seeing a change is harmless. */
#define MAINTENANCE_CACHE_MS 1000
/* What a 503 during maintenance asks the client to wait, in seconds (the
 * end is not known). */
#define MAINTENANCE_RETRY_AFTER_S 120
#define MAINTENANCE_RETRY_AFTER "120"
/* Sessions maintenance_status looks at one by one for the per-app counts;
 * past it they are counted from the first this many only. */
#define MAINTENANCE_SCAN_MAX 10000

struct maintenance {
    enum maint_state state;
    char message[512]; /* MAINTENANCE_MESSAGE_MAX bytes at most */
    int64_t at;      /* its start, epoch seconds; 0 for none */
    char actor[128]; /* who started it */
};

/* 1 if s is an acceptable message: 1..MAINTENANCE_MESSAGE_MAX bytes, no
 * control characters. */
int maintenance_valid_message(const char *s);
/*
 * Reads a start time: "now", epoch seconds, "+N" with a unit s, m or h
 * (from now), or RFC 3339 ("2026-12-07T15:00:00Z", or with an offset
 * "+01:00"). A time in the past is now. GH_EINVAL if s is none of these.
 */
int maintenance_parse_time(const char *s, int64_t now, int64_t *at);
/* t as RFC 3339 UTC text ("2026-12-07T15:00:00Z") into buf. */
void maintenance_format_time(int64_t t, char *buf, size_t size);

/*
 * Starts (or replaces) the shutdown: announced until at, active at once
 * if at is now or past (its sessions end at the next tick of a server's
 * watcher, within a second or two). *out says what was stored.
 */
int maintenance_start(struct maintenance_cache *c, struct store *st,
                      const char *message, int64_t at, const char *actor,
                      int64_t now, struct maintenance *out);
/* Lifts it: 1 if there was one, 0 if not. */
int maintenance_end(struct maintenance_cache *c, struct store *st);
/* The state as Redis has it now (state MAINT_NONE when there is none). An
 * announcement whose time has passed reads as active. */
int maintenance_read(struct store *st, struct maintenance *out);
/* The same, reused for MAINTENANCE_CACHE_MS through c: for the hot paths
 * (pages, grants). A Redis failure is returned, never read as "none". */
int maintenance_get(struct maintenance_cache *c, struct store *st,
                    struct maintenance *out);
/* 1 if the shutdown is active (sign-in and user grants closed), 0 if not,
 * or a GH_E* code. Cached as maintenance_get. */
int maintenance_active(struct maintenance_cache *c, struct store *st);
/* Claims the sweep of a shutdown whose start has come for owner
 * (maintenance_claim.lua): 1 if this caller is to end every session, else
 * 0; and gives a claim back that could not be acted on. */
int maintenance_claim(struct maintenance_cache *c, struct store *st, int64_t now,
                      const char *owner);
/* Claims a sweep again while the shutdown is active, sessions are still
 * live and no logout-all has run for MAINTENANCE_RESWEEP_S: one that began
 * in the moment before the start (a sign-in already past the gate) is
 * ended too. 1 if this caller is to sweep, else 0, or a GH_E* code. */
#define MAINTENANCE_RESWEEP_S 2
int maintenance_claim_again(struct store *st, int64_t now,
                            const char *owner);
int maintenance_release(struct store *st, const char *owner);

/* One app in the status. */
struct maintenance_app {
    char *client_id;
    long long sessions; /* live sessions the app is recorded on */
    long long pending;  /* back-channel notifications not yet delivered */
    long long failed;   /* failed for good since the shutdown started */
};
/* What an administrator asks before switching off (GET
 * /admin/maintenance, gatehouse maintenance status). */
struct maintenance_status {
    struct maintenance m;
    long long sessions, pending, failed;
    struct maintenance_app *apps;
    size_t napps;
    int apps_partial;  /* more than MAINTENANCE_SCAN_MAX sessions */
    int everyone_out;  /* sessions == 0 and pending == 0 */
};
int maintenance_status(struct store *st, struct maintenance_status *out);
void maintenance_status_clear(struct maintenance_status *s);

/* The public shape (GET /maintenance): {"state", "message", "at"}, with
 * message and at null for none. A new reference, or NULL. */
json_t *maintenance_json(const struct maintenance *m);
/* The administrator's shape: the public one and the counts. */
json_t *maintenance_status_json(const struct maintenance_status *s);

#endif
