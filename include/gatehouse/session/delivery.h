/* SPDX-License-Identifier: MIT */
/* The back-channel engine (SPEC §6): claims due deliveries from Redis,
 * signs logout tokens, POSTs them with libcurl multi, records outcomes,
 * and retries with backoff. Also the reaper that ends expired sessions. */
#ifndef GATEHOUSE_DELIVERY_H
#define GATEHOUSE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct delivery;
struct keyring;

/* Starts the engines' threads, one per core up to 4, and the reaper's.
 * *ret is owned by the caller (delivery_stop). */
int delivery_start(struct app *app, struct delivery **ret);
/* New deliveries were queued: claim now rather than at the next poll. */
void delivery_wake(struct delivery *d);
/* Stops both threads. Transfers in flight are abandoned: their leases
 * run out and whichever instance runs next delivers them (SPEC §2:
 * undelivered notifications stay queued in Redis). */
void delivery_stop(struct delivery *d);

/* What a waiter learns of each app's first attempt. */
enum delivery_state {
    DELIVERY_WAITING = 0,   /* no attempt finished yet */
    DELIVERY_DELIVERED = 1, /* the app answered 200 or 204 */
    DELIVERY_TRYING = 2,    /* the attempt failed; retries follow */
};

typedef void (*delivery_wait_fn)(void *arg, const enum delivery_state *st,
                                 size_t n);
/*
 * Calls fn(arg, states, n) exactly once, on the engine's thread, when the
 * deliveries of sid to each of client_ids[0..n) have had a first attempt,
 * or when timeout_ms has passed, whichever comes first (SPEC §5: the
 * logout response waits, without holding a worker thread). states[i] is
 * for client_ids[i]. With n == 0 fn is called at once.
 */
int delivery_wait(struct delivery *d, const char *sid,
                  const char *const *client_ids, size_t n, int timeout_ms,
                  delivery_wait_fn fn, void *arg);

/*
 * Builds a logout token (OIDC Back-Channel Logout 1.0 §2.4): typ
 * logout+jwt; iss, aud, iat, exp = iat + 120, a fresh jti, sub, sid,
 * events; never nonce. *ret is malloc'd; the caller frees it.
 */
int delivery_logout_token(const struct keyring *kr, const char *issuer,
                          const char *client_id, const char *sub,
                          const char *sid, int64_t now, char **ret);

/* Seconds before attempt number attempts+1: 1, 2, 4 … capped at 300,
 * ±20% jitter (SPEC §6). */
double delivery_backoff(int attempts);

#endif
