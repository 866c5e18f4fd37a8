/* SPDX-License-Identifier: MIT */
/* Redis: the only module that includes hiredis. It owns every key pattern
 * (schema.def), the per-thread connections, and the Lua scripts (lua/). */
#ifndef GATEHOUSE_STORE_H
#define GATEHOUSE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct redis_config;
struct store;

/*
 * Prepares a store for rc (borrowed; it must outlive the store). Nothing is
 * connected yet: each thread opens its own connection on first use, so no
 * lock is taken on the hot path. *ret is owned by the caller (store_close).
 */
int store_open(const struct redis_config *rc, struct store **ret);
/* Frees the store; call after every thread that used it has stopped. */
void store_close(struct store *st);
/* Closes the calling thread's connection, if it has one. */
void store_thread_done(struct store *st);

/* 0 if Redis answers PING now, GH_EREDIS if not. */
int store_ping(struct store *st);
/* Logs a warning when Redis becomes unreachable and when it is back
 * (servers; call before any thread uses the store). */
void store_log_outages(struct store *st);
/* 1 unless the last attempt to reach Redis, from any thread, failed. */
int store_redis_up(struct store *st);

/* Loads every Lua script so later calls go by SHA. 0 or GH_EREDIS. */
int store_load_scripts(struct store *st);

/*
 * The kinds of key Gatehouse keeps, KEY_USER, KEY_SESSION, ...: schema.def
 * gives each one's pattern, Redis type and TTL.
 */
enum store_key {
#define STORE_KEY(kind, pattern, type, ttl) kind,
#include "store/schema.def"
};

/* The numbers the schema and its Lua scripts share (schema.def):
 * STORE_AUDIT_MAX, STORE_LEDGER_TTL_S, ... */
enum {
#define STORE_CONST(name, value) STORE_##name = value,
#include "store/schema.def"
};

/*
 * Writes the key of that kind for id (NULL for a key without one, such as
 * KEY_SESSION_EXPIRY) into buf, prefix included. 0, GH_EINVAL if id is
 * missing or not expected, GH_ETOOBIG if size is too small.
 */
int store_key_name(const struct store *st, enum store_key kind, const char *id,
                   char *buf, size_t size);

/*
 * Runs src/lua/ping.lua, which echoes in back: proves the script path works
 * (EVALSHA, and EVAL when Redis has lost its script cache). On success *out
 * is a malloc'd copy of the answer; the caller frees it. GH_EREDIS if Redis
 * is unreachable.
 */
int store_echo_script(struct store *st, const char *in, char **out);

/* Redis's used_memory (INFO memory) into *bytes. 0, GH_EREDIS, or
 * GH_EPROTO if the answer has no used_memory line. */
int store_info_used_memory(struct store *st, long long *bytes);

/*
 * Users (store_users.c). sub and usernames are checked by users.c before
 * they get here; lower_username is already lower-cased.
 */
struct user;
/* 0, or GH_EEXISTS if the username is taken. */
int store_user_create(struct store *st, const struct user *u);
/* *ret is owned by the caller (user_free). GH_ENOTFOUND if none. */
int store_user_get(struct store *st, const char *sub, struct user **ret);
int store_user_find_sub(struct store *st, const char *lower_username,
                        char sub_out[37]);
/* Sets one field of the user hash (and its updated time). */
int store_user_set(struct store *st, const char *sub, const char *field,
                   const char *value, int64_t now);
/* Every sub, oldest first; *subs is a malloc'd array of malloc'd strings. */
int store_user_list(struct store *st, char ***subs, size_t *n);

/* Clients registered at run time (store_clients.c), as DCR JSON text;
 * put also adds its allowed_origins to the origin index (corig). */
int store_client_put(struct store *st, const char *client_id,
                     const char *json);
/* *json is malloc'd; the caller frees it. GH_ENOTFOUND if none. */
int store_client_get(struct store *st, const char *client_id, char **json);
/* 1 if a client registered at run time lists origin in allowed_origins,
 * 0 if none does, GH_EREDIS. */
int store_client_origin_known(struct store *st, const char *origin);

/*
 * Sessions (store_sessions.c); session.c is the domain on top. khash is
 * the hex SHA-256 of the cookie secret. now_ms is the sign-in time in
 * milliseconds (util_now_ms).
 */
struct session;
/*
 * A new session, and the limit it enforces (session.max_per_user): in the
 * same step as the creation, the user's oldest live sessions beyond
 * max_per_user - 1 end with evict_reason, each as store_sessions_end ends
 * one (audited, notifications queued, and with evict_notice the reason
 * kept for its browser). ua_family is what session.bind compares.
 */
struct store_session_new {
    const char *sid, *sub, *khash;
    int64_t now_ms;
    int idle_s, absolute_s;
    const char *ip, *ua, *ua_family;
    int max_per_user; /* 0: no limit */
    const char *evict_reason;
    int evict_notice;
    const char *amr; /* how the user signed in ("pwd"); NULL: "pwd" */
};
/* out (struct session_evicted, records.h) may be NULL; else the caller
 * clears it (session_evicted_clear) whatever is returned. */
struct session_evicted;
int store_session_create(struct store *st, const struct store_session_new *n,
                         struct session_evicted *out);
/* The reason kept for the browser of an ended session sid, and the hash of
 * its cookie secret; GH_ENOTFOUND if none (or no longer). */
int store_session_notice(struct store *st, const char *sid, char reason[32],
                         char khash[65]);
/* *ret owned by the caller (session_free); khash_out may be NULL. */
int store_session_get(struct store *st, const char *sid,
                      struct session **ret, char khash_out[65]);
/* GH_ENOTFOUND if the session ended or expired. sub_out may be NULL;
 * client_id (and its back-channel uri, "" for none) are recorded when not
 * NULL. */
int store_session_touch(struct store *st, const char *sid, int64_t now,
                        int idle_s, int absolute_s, const char *client_id,
                        const char *uri, char sub_out[37]);
/* A step-up: the session's auth time becomes now_ms. GH_ENOTFOUND if the
 * session does not exist. */
int store_session_reauth(struct store *st, const char *sid, int64_t now_ms);
/* 1 alive, 0 not, or a GH_E* code. */
int store_session_alive(struct store *st, const char *sid, int64_t now,
                        int idle_s, int absolute_s);
/* Ends n sessions in one script call (keep n small: Redis runs it whole).
 * out[i] says what ending sids[i] did; out[i].ended is 0 if it had ended
 * already (or, for "timeout", has not expired). audit 0: no audit record
 * per ending (the caller writes one for all). Returns how many ended, or a
 * GH_E* code. */
struct session_ended;
int store_sessions_end(struct store *st, char *const *sids, size_t n,
                       const char *reason, const char *actor, int64_t now,
                       int idle_s, int absolute_s, int audit,
                       struct session_ended *out);
/* Live sessions (members of the expiry index). */
int store_session_count(struct store *st, long long *n);
/* Up to max sids whose expiry is at or before now. */
int store_sessions_due(struct store *st, int64_t now, int max, char ***sids,
                       size_t *n);

/* Back-channel deliveries (store_delivery.c). */
struct delivery_claim {
    char *id; /* sid:client_id */
    char *client_id;
    char *uri;
    char *sid;
    char *sub;
    int attempts;      /* made so far */
    char *token;       /* the last attempt's logout token, "" if none */
    int64_t token_exp; /* its exp */
    int trial;         /* 1: the one attempt a half-open circuit allows */
};
/* How many attempts to one app a delivery engine has in flight. */
struct delivery_app_count {
    const char *client_id;
    int n;
};
/* now is wall-clock seconds to the millisecond: retries are due at
 * fractions of a second (SPEC §6: 1 s ±20%). At most max deliveries, and
 * never more than per_app of one app in flight across every instance nor
 * any of an app whose circuit is open (delivery_claim.lua): those are
 * held back, not dropped, and others' handed out instead. engine names
 * the claiming engine (unique across instances); mine[0..nmine) are its
 * attempts in flight now. */
int store_delivery_claim(struct store *st, double now, int lease_s, int max,
                         int per_app, const char *engine,
                         const struct delivery_app_count *mine, size_t nmine,
                         struct delivery_claim **ret, size_t *n);
void store_delivery_claims_free(struct delivery_claim *c, size_t n);
/* Gives claims back unsent (a server stopping): each of ids still in the
 * queue is due at now again, instead of when its lease runs out. One
 * command, so all or none. */
int store_delivery_release(struct store *st, double now,
                           const struct delivery_claim *const *c,
                           const char *const *engine, size_t n);
/* One attempt's outcome, to record. */
struct delivery_outcome {
    const char *id;
    const char *outcome; /* "http 200", "error Timeout was reached", ... */
    int delivered;
    double next_due;   /* if it is to be retried */
    const char *token; /* the token sent, kept for a retry; may be NULL */
    int64_t token_exp;
    const char *client_id;
    int down;   /* no answer in time, refused, or 5xx: counts for the
                 * app's circuit (SPEC §6) */
    int app_left; /* attempts to client_id the engine still has in flight
                   * once this batch is recorded */
    int result; /* set: an enum delivery_result (core/states.h) */
    int circuit; /* set: what the app's circuit did: 0 nothing, -1 closed,
                  * n > 0 opened for n ms */
};
/* Records n outcomes of engine's attempts in one script call; on error no
 * result is set. now_s is now to the millisecond, for the circuits and the
 * engine's in-flight counts (leased for lease_s). */
int store_delivery_done(struct store *st, int64_t now, double now_s,
                        const char *engine, int lease_s, int max_attempts,
                        struct delivery_outcome *o, size_t n);
/* Deliveries due but held back because their app had no room (parked,
 * delivery_claim.lua): all apps together. */
int store_delivery_parked(struct store *st, long long *count);
/* Calls fn(arg, client_id, open) for each app whose circuit was ever
 * opened: open 1 while it is backed off (open or half-open), 0 since it
 * closed. */
int store_delivery_circuits(struct store *st,
                            void (*fn)(void *arg, const char *client_id,
                                       int open),
                            void *arg);
/* What is known of delivery id: its state ("pending", "delivered",
 * "failed") and attempts so far. GH_ENOTFOUND if none. */
int store_delivery_state(struct store *st, const char *id, char state[16],
                         int *attempts);
/* Deliveries waiting (or in flight) and failed for good. */
int store_delivery_counts(struct store *st, long long *pending,
                          long long *failed);
int store_user_sessions(struct store *st, const char *sub, char ***sids,
                        size_t *n);

/* The key that seals what the browser carries before a sign-in (seal.h;
 * store.c, which caches it): made on first use with SET NX, so every
 * instance on this Redis reads the same one, and kept in memory after.
 * 0, GH_EREDIS, GH_EPROTO (a value of the wrong size), GH_ECRYPTO. */
int store_mac_key(struct store *st, unsigned char key[32]);

/* Sign-in state (store_login.c): the lockout's attempt counters. */
/* Most buckets one sign-in attempt counts in. */
#define STORE_LOGIN_BUCKETS_MAX 4
/*
 * Reserves one attempt in each of the n buckets who[] ("u:sub", "ip:addr",
 * ...; SPEC §7 Lockout) before any hashing, in one step: 0 if reserved in
 * all, GH_EDENIED with *retry_s (seconds until the fullest window ends) if
 * any already holds max_failures, and then nothing is counted. The first
 * attempt in a bucket opens its window of window_s.
 */
int store_login_reserve(struct store *st, const char *const *who, int n,
                        int max_failures, int window_s, long *retry_s);
/* Gives a reserved attempt back (the password was right): the first clear
 * buckets are emptied, the others lose this one attempt. */
int store_login_refund(struct store *st, const char *const *who, int n,
                       int clear);

/*
 * Codes and tokens (store_tokens.c). hash is the hex SHA-256 of a code or
 * token (util_sha256_hex): neither is ever stored itself. Functions that
 * tell outcomes apart return one of these states (>= 0) or a GH_E* code.
 */
struct refresh_token;
enum store_code_state { STORE_CODE_OK, STORE_CODE_REPLAY, STORE_CODE_INVALID };
enum store_refresh_state {
    STORE_REFRESH_OK,
    STORE_REFRESH_GRACE,
    STORE_REFRESH_REUSE,
    STORE_REFRESH_INVALID
};
/* Stores a new code's grant (JSON text) for ttl_s. */
int store_code_put(struct store *st, const char *hash, const char *json,
                   int ttl_s);
/* Spends a code (code_redeem.lua), leaving codeu:{hash} for used_ttl_s.
 * OK: *value is the grant; REPLAY: *value is what codeu:{hash} holds.
 * *value is malloc'd; the caller frees it. */
int store_code_redeem(struct store *st, const char *hash, int used_ttl_s,
                      char **value);
/* Sets codeu:{hash} to value for ttl_s, atomically. *old is its former
 * value (malloc'd, the caller frees it), or NULL if there was none. */
int store_code_used_swap(struct store *st, const char *hash,
                         const char *value, int ttl_s, char **old);
/* A refresh token in family (refresh_issue.lua). GH_ENOTFOUND if the
 * session has ended. */
int store_refresh_issue(struct store *st, const char *hash,
                        const char *family, const char *sid,
                        const char *client_id, const char *sub,
                        const char *scope, int ttl_s);
/* Rotates old_hash to new_hash (refresh_rotate.lua); sealed is the new
 * token sealed under the old one, kept for the grace. OK: *ret has sid,
 * sub, scope and auth_time, and *user the user (without the password
 * hash), or stays NULL if the user is gone; GRACE: the same, nothing
 * rotated, and *ret also has the head of the family and the sealed
 * successors leading to it; REUSE: *ret has sid (the family is gone).
 * Both owned by the caller (store_refresh_free, user_free). */
int store_refresh_rotate(struct store *st, const char *old_hash,
                         const char *new_hash, const char *sealed,
                         const char *client_id, int64_t now, int idle_s,
                         int absolute_s, int ttl_s, int grace_s,
                         struct refresh_token **ret, struct user **user);
/* *ret owned by the caller (store_refresh_free). GH_ENOTFOUND if none. */
int store_refresh_get(struct store *st, const char *hash,
                      struct refresh_token **ret);
/* Deletes a family and every refresh token in it. */
int store_refresh_family_delete(struct store *st, const char *family);
/* Marks an access token's jti revoked for ttl_s. */
int store_token_revoke(struct store *st, const char *jti, int ttl_s);
/* What store_access_check found: good, or why not. */
enum store_access_state {
    STORE_ACCESS_OK,
    STORE_ACCESS_REVOKED,
    STORE_ACCESS_ENDED, /* its session ended or expired */
};
/* Whether an access token is still good, in one round trip: not revoked
 * (jti), and its session (sid, may be NULL) alive. A state (>= 0) or a
 * GH_E* code. */
int store_access_check(struct store *st, const char *jti, const char *sid,
                       int64_t now, int idle_s, int absolute_s);

/*
 * The Admin API and its CLI (store_admin.c): the audit stream, listings of
 * sessions and deliveries, requeueing failed deliveries, and the progress
 * of a logout-all.
 */

/* One audit record to write; strings are borrowed, NULL for none. */
struct audit_event {
    const char *actor;    /* client_id, or "cli:USER" */
    const char *action;   /* "logout_user", "end_session", ... */
    const char *target;   /* a username or sub, a sid, "all", ... */
    const char *reason;   /* free text given by the actor */
    const char *outcome;  /* "ok", "unauthorized", "forbidden", ... */
    const char *addr;     /* the client's address; "local" for the CLI */
    long long sessions;   /* sessions ended, or -1: not applicable */
    long long deliveries; /* notifications queued, or -1 */
};
int store_audit_add(struct store *st, const struct audit_event *ev);

/* One audit record as read back; strings are "" when absent. */
struct audit_record {
    char id[32];     /* the stream id, "ms-seq" */
    int64_t time_ms; /* from the id */
    char *actor;
    char *action;
    char *target;
    char *reason;
    char *outcome;
    char *addr;
    char *sub; /* session_end records name the session's user */
    long long sessions;
    long long deliveries;
};
/* The newest limit records, newest first. *ret is an array of *n the
 * caller frees with store_audit_free. */
int store_audit_list(struct store *st, int limit, struct audit_record **ret,
                     size_t *n);
void store_audit_free(struct audit_record *r, size_t n);

/* One back-channel delivery as the ledger keeps it (dl:{sid:client_id}). */
struct delivery_attempt {
    int64_t time;
    char *outcome; /* "http 200", "error Timeout was reached", ... */
};
struct delivery_record {
    char *id; /* sid:client_id */
    char *sid;
    char *sub;
    char *client_id;
    char *uri;
    char *state;  /* "pending", "delivered", "failed" */
    char *reason; /* why the session ended */
    int64_t created;
    int64_t done; /* delivered or failed at; 0 while pending */
    double due;   /* next attempt (pending only), else 0 */
    struct delivery_attempt *attempts; /* oldest first, requeues included */
    size_t nattempts;
};
/*
 * Deliveries not yet done: pending (failed = 0; soonest due first) or
 * failed for good (failed = 1; newest first), at most limit of them.
 * *total is how many there are in all. The caller frees *ret with
 * store_delivery_records_free.
 */
int store_deliveries_list(struct store *st, int failed, int limit,
                          struct delivery_record **ret, size_t *n,
                          long long *total);
/* The logout ledger of sid (sdl:{sid}), by client_id; none is n = 0. */
int store_session_ledger(struct store *st, const char *sid,
                         struct delivery_record **ret, size_t *n);
void store_delivery_records_free(struct delivery_record *r, size_t n);
/* Requeues every delivery that failed for good (delivery_retry.lua);
 * *count says how many. */
int store_deliveries_retry(struct store *st, int64_t now, long long *count);

/*
 * Live sessions in batches: ZSCAN of the expiry index, so sessions ended
 * meanwhile never stop the walk and every session live throughout is
 * seen. Start with *cursor 0; it is 0 again after the last batch. *sids
 * is a malloc'd array of malloc'd strings.
 */
int store_sessions_scan(struct store *st, unsigned long long *cursor,
                        int count, char ***sids, size_t *n);
/* Up to count live sessions from rank start, soonest to expire first. */
int store_sessions_range(struct store *st, long long start, int count,
                         char ***sids, size_t *n);

/* The progress of the last logout-all (lall), shared by every instance. */
struct logout_all_state {
    char state[16]; /* "running", "done", "interrupted", "failed" */
    char actor[128];
    char reason[256];
    int64_t started;
    int64_t updated; /* the owner's heartbeat */
    long long total; /* live sessions when it began */
    long long ended;
    long long queued; /* notifications queued */
    int resumes;      /* times another process took it over */
};
/* Begins one owned by owner (logout_all_begin.lua). GH_EBUSY if another is
 * running and has made progress within stale_s; *other (if not NULL) then
 * says which. */
int store_logout_all_begin(struct store *st, int64_t now, int stale_s,
                           const char *actor, const char *reason,
                           long long total, const char *owner,
                           struct logout_all_state *other);
/* Takes over a running one without a heartbeat for stale_s
 * (logout_all_resume.lua): 1 and *taken when taken, 0 if none. */
int store_logout_all_resume(struct store *st, int64_t now, int stale_s,
                            const char *owner, struct logout_all_state *taken);
/* Records progress (the heartbeat), and state when it changes (NULL:
 * unchanged). GH_EBUSY if owner no longer owns the run. */
int store_logout_all_update(struct store *st, const char *owner, int64_t now,
                            const char *state, long long ended,
                            long long queued);
/* GH_ENOTFOUND if no logout-all ever ran. */
int store_logout_all_get(struct store *st, struct logout_all_state *out);

/* The maintenance shutdown (store_maintenance.c): one record, maint. */
struct maintenance_record {
    char state[16];    /* "announced" or "active" (no record: none) */
    char message[512];
    int64_t at;        /* its start, epoch seconds */
    char actor[128];   /* who started it */
    int64_t set;       /* when it was started */
    char swept[32];    /* the sweep's claimer, "" until claimed */
};
/* GH_ENOTFOUND when there is none. */
int store_maintenance_get(struct store *st, struct maintenance_record *out);
/* Replaces the record with a new one (maintenance_start.lua). */
int store_maintenance_start(struct store *st, const char *state,
                            const char *message, int64_t at,
                            const char *actor, int64_t now);
/* Deletes it: 1 if there was one, 0 if not. */
int store_maintenance_end(struct store *st);
/* maintenance_claim.lua: makes a due announcement active and claims its
 * sweep for owner: 1 when claimed, 0 when there is nothing to claim. */
int store_maintenance_claim(struct store *st, int64_t now, const char *owner);
/* Gives owner's claim back, for the next tick to take. */
int store_maintenance_release(struct store *st, const char *owner);
/* Takes the sweep of an active shutdown over from previous, its claimer,
 * for another: 1 if taken, 0 if someone else did first. */
int store_maintenance_claim_again(struct store *st, const char *previous,
                                  const char *owner);
/* One app's back-channel deliveries, by client_id. */
struct store_app_deliveries {
    char *client_id;
    long long pending; /* queued, in flight or parked */
    long long failed;  /* failed for good since the time asked */
};
/* Every app with pending deliveries, or failed ones at or after since:
 * *ret is a malloc'd array of *n, for store_app_deliveries_free. */
int store_deliveries_by_app(struct store *st, int64_t since,
                            struct store_app_deliveries **ret, size_t *n);
void store_app_deliveries_free(struct store_app_deliveries *a, size_t n);
/*
 * Second factors (store_factors.c): fac:{sub}, one hash per user. The
 * secret arrives sealed (factor_secret.c) and recovery codes as HMACs:
 * nothing here can be used to sign in.
 */
struct factor_record {
    char totp_state[16]; /* "pending", "active", or "" for no TOTP */
    int64_t totp_created;
    int64_t totp_activated; /* 0 while pending */
    char *totp_sealed;      /* malloc'd, NULL for no TOTP */
    int64_t last_step;      /* -1: none accepted yet */
    long long failures;     /* refused codes in a row */
    int recovery_left;      /* recovery codes not yet used */
};
/* The user's record; an empty one (no factor at all, totp_state "") if
 * none. The caller clears it with store_factors_clear. */
int store_factors_get(struct store *st, const char *sub,
                      struct factor_record *out);
/* Frees what out holds (NULL-safe). */
void store_factors_clear(struct factor_record *r);
/* A pending TOTP with this sealed secret (factor_enrol.lua). 0, or
 * GH_EEXISTS if an active one is there. */
int store_factors_enrol(struct store *st, const char *sub, const char *sealed,
                        int64_t now);
/* Activates the pending TOTP sealed so, with the step of the code just
 * checked and n recovery-code HMACs replacing any there were
 * (factor_activate.lua). 0, or GH_ENOTFOUND if no such enrolment is
 * pending (none, active already, or restarted meanwhile). */
int store_factors_activate(struct store *st, const char *sub,
                           const char *sealed, int64_t step, int64_t now,
                           char *const *hmacs, size_t n);
/* Whether an administrator requires a second factor of sub: 1, 0, or a
 * GH_E* code; and setting it (on) or clearing it. */
int store_factors_required(struct store *st, const char *sub);
int store_factors_require(struct store *st, const char *sub, int on);
/* Replaces the recovery codes of an active TOTP with n HMACs
 * (factor_recovery.lua). 0, or GH_ENOTFOUND if no TOTP is active. */
int store_factors_recovery(struct store *st, const char *sub,
                           char *const *hmacs, size_t n);
/*
 * One attempt (factor_use.lua). kind "totp" with sealed and step (step
 * accepted only if later than the last one), "recovery" with hmac (used
 * up on success), or "fail" for a wrong code. Returns 1 when accepted
 * (*n recovery codes left), 0 when refused (*n failures in a row),
 * GH_ENOTFOUND if the user has no active factor (for "totp": not the one
 * sealed so) and nothing changed.
 */
int store_factors_use(struct store *st, const char *sub, const char *kind,
                      const char *arg, int64_t step, long long *n);
/* Deletes every factor of the user. 1 if there were any, 0 if not. */
int store_factors_delete(struct store *st, const char *sub);

/*
 * Passkeys (store_passkeys.c): pk:{sub} and pkid:{credential id}. Ids
 * and keys are base64url text here; what they mean is crypto/webauthn's.
 */
struct passkey_record {
    char *id;       /* base64url credential id */
    int alg;        /* COSE algorithm */
    int64_t created;
    char *pubkey;   /* base64url, libfido2's raw form for alg */
    char *name;     /* what the user called it */
    uint32_t counter;
    int64_t last_used; /* the last accepted assertion; 0: never */
};
/* Frees n records and the array (NULL-safe). */
void store_passkeys_free(struct passkey_record *p, size_t n);
/* The user's passkeys, oldest first, in a malloc'd array of *n
 * (store_passkeys_free); none is an empty list (*ret NULL, *n 0). */
int store_passkeys_list(struct store *st, const char *sub,
                        struct passkey_record **ret, size_t *n);
/* One of the user's passkeys into *ret (its strings malloc'd; the caller
 * frees them with store_passkey_record_clear). GH_ENOTFOUND if the user
 * has no such passkey. */
int store_passkey_get(struct store *st, const char *sub, const char *id,
                      struct passkey_record *ret);
/* Frees what p holds (NULL-safe). */
void store_passkey_record_clear(struct passkey_record *p);
/* Who owns the credential id: a malloc'd sub into *sub. GH_ENOTFOUND. */
int store_passkey_owner(struct store *st, const char *id, char **sub);
/* Adds p for sub, recording the challenge (its SHA-256, hex) as used
 * (passkey_add.lua). 0; GH_EBADTOKEN if the challenge was used;
 * GH_EEXISTS if the credential is registered already; GH_ETOOBIG if the
 * user has PASSKEYS_MAX. */
int store_passkey_add(struct store *st, const char *sub,
                      const struct passkey_record *p,
                      const char *challenge_hash);
/* Records a verified assertion (passkey_use.lua): the challenge used,
 * the counter from old to new, now its last use. 0; GH_EBADTOKEN
 * (challenge used), GH_EDENIED (counter moved meanwhile), GH_ENOTFOUND
 * (no such passkey). */
int store_passkey_use(struct store *st, const char *sub, const char *id,
                      uint32_t old_counter, uint32_t new_counter,
                      const char *challenge_hash, int64_t now);
/* Removes one of the user's passkeys. 1 if removed, 0 if it had none
 * by that id. */
int store_passkey_remove(struct store *st, const char *sub, const char *id);
/* Removes every passkey of the user (passkeys_delete.lua). 1 if there
 * were any, 0 if not. */
int store_passkeys_delete(struct store *st, const char *sub);

#endif
