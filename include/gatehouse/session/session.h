/* SPDX-License-Identifier: MIT */
/* IdP sessions (SPEC §5): one per sign-in, in Redis, with idle and absolute
 * expiry; the apps that received an ID token in it are recorded on it. */
#ifndef GATEHOUSE_SESSION_H
#define GATEHOUSE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "gatehouse/core/states.h"
/* struct session, struct session_ended, SESSION_SID_LEN and their free
 * functions: the records the store keeps. */
#include "gatehouse/store/records.h"

struct config;
struct store;

#define SESSION_COOKIE "gh_session"
/* How a session's user signed in, as ID tokens' amr says (RFC 8176):
 * space-separated methods. */
#define SESSION_AMR_PWD "pwd"
/* A passkey alone (passwordless sign-in): RFC 8176 "hwk", a key held in
 * hardware; a second factor by itself, so acr 2fa. */
#define SESSION_AMR_HWK "hwk"
/* The acr of ID tokens (OIDC Core §2): a password alone, or a password
 * and a second factor (amr "pwd otp" or "pwd hwk"). */
#define SESSION_ACR_PWD "urn:gatehouse:acr:pwd"
#define SESSION_ACR_2FA "urn:gatehouse:acr:2fa"
/* The sid (SESSION_SID_LEN) is public (the sid claim), so the cookie also
 * carries a 256-bit secret whose hash the session keeps: knowing a sid is
 * never enough to use the session. */
#define SESSION_COOKIE_LEN (SESSION_SID_LEN + 1 + 43)

/*
 * Creates a session for sub (a sign-in just succeeded) and writes the
 * cookie value into cookie_out and the sid into sid_out. A session is
 * always new: an id the browser brought is never promoted (fixation).
 * With session.max_per_user, the user's oldest sessions beyond it end in
 * the same step (END_EVICTED), with notifications.
 */
int session_create(struct store *st, const struct config *cfg,
                   const char *sub, const char *ip, const char *ua,
                   char sid_out[SESSION_SID_LEN + 1],
                   char cookie_out[SESSION_COOKIE_LEN + 1]);
/* The same for a sign-in that used the methods amr (RFC 8176,
 * space-separated: "pwd otp"); session_create's is "pwd". */
int session_create_amr(struct store *st, const struct config *cfg,
                       const char *sub, const char *ip, const char *ua,
                       const char *amr, char sid_out[SESSION_SID_LEN + 1],
                       char cookie_out[SESSION_COOKIE_LEN + 1]);

/*
 * Finds the live session a cookie value names and restarts its idle clock
 * (SPEC §5: every request that carries the cookie). ua is the request's
 * User-Agent (NULL: none): with session.bind "user_agent", a session
 * presented by another browser family ends (END_ANOMALY) and is not
 * found. *ret is owned by the caller (session_free). GH_ENOTFOUND if the
 * cookie is malformed, its secret wrong, or the session ended or expired.
 */
int session_from_cookie(struct store *st, const struct config *cfg,
                        const char *cookie, const char *ua,
                        struct session **ret);

/*
 * Why the session a stale cookie named ended, if its browser is to be told
 * (end_reason_notice is not NULL for it, and the record has not lapsed);
 * END_OTHER if not, or if it cannot tell (the page then says nothing).
 */
enum end_reason session_ended_why(struct store *st, const char *cookie);

/*
 * Restarts the idle clock of sid and, when client_id is not NULL, records
 * that app on it (SPEC §5: each app that receives an ID token in the
 * session), with its back-channel URI if it has one. Writes the session's
 * sub into sub_out if not NULL. GH_ENOTFOUND if the session ended or
 * expired.
 */
int session_touch(struct store *st, const struct config *cfg, const char *sid,
                  const char *client_id, char sub_out[37]);
struct client;
int session_record_app(struct store *st, const struct config *cfg,
                       const char *sid, const struct client *c,
                       char sub_out[37]);

/* 1 if sid is a live session, 0 if not, or a GH_E* code. Cheap: one
 * round trip, for introspection. */
int session_alive(struct store *st, const struct config *cfg,
                  const char *sid);

/*
 * Ends a session — the one operation every path uses (logout, admin,
 * timeout, refresh-token reuse, disable, password change): in one atomic
 * step the session and its refresh tokens go and one back-channel
 * delivery per recorded app with a URI is queued (src/lua/session_end.lua).
 * reason is why (END_TIMEOUT ends it only if it has expired, and needs
 * cfg; END_TIMEOUT_IDLE, END_TIMEOUT_ABSOLUTE and END_OTHER are recorded,
 * never asked for: GH_EINVAL). actor names who
 * (a client_id, "cli:USER", "reaper"). out may be NULL; else the caller
 * clears it with session_ended_clear. Returns 1 if it ended now, 0 if it
 * had already ended (a no-op), or a GH_E* code.
 */
int session_end_by(struct store *st, const struct config *cfg, const char *sid,
                   enum end_reason reason, const char *actor,
                   struct session_ended *out);
/*
 * Ends many sessions as session_end_by would each, SESSION_END_BATCH per
 * script call (a round trip each would cost far more than the endings);
 * each ending is logged at debug only, so the caller sums them up. cfg may
 * be NULL but for END_TIMEOUT. audit 0 writes no audit record per ending
 * (the caller audits the whole run). Adds to *ended and *queued (either
 * may be NULL). 0, or a GH_E* code with the counts so far.
 */
#define SESSION_END_BATCH 100
int session_end_many(struct store *st, const struct config *cfg,
                     char *const *sids, size_t n, enum end_reason reason,
                     const char *actor, int audit, long long *ended,
                     long long *queued);
/* session_end_by with actor "gatehouse" and no result. */
int session_end(struct store *st, const char *sid, enum end_reason reason);

/* Ends every live session of sub as session_end_many does, by actor, each
 * ending audited. Adds to *ended and *queued (either may be NULL). */
int session_end_user(struct store *st, const char *sub, enum end_reason reason,
                     const char *actor, long long *ended, long long *queued);

/* The sids of sub's live sessions; *ret is a malloc'd array of malloc'd
 * strings. */
int session_list_user(struct store *st, const char *sub, char ***ret,
                      size_t *n);

/* A step-up (SPEC §7): the user of sid has just typed the password again,
 * so its auth_time becomes now. GH_ENOTFOUND if it ended. */
int session_reauth(struct store *st, const char *sid);

/* Reads one session without touching it. GH_ENOTFOUND if none. */
int session_get(struct store *st, const char *sid, struct session **ret);

#endif
