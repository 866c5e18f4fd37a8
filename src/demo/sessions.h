/* SPDX-License-Identifier: MIT */
/* What the demo app remembers, in memory: its own sessions (keyed by its
 * cookie, findable by Gatehouse's sid for back-channel logout) and the
 * sign-ins and sign-outs in flight (keyed by their state). Thread-safe. */
#ifndef DEMO_SESSIONS_H
#define DEMO_SESSIONS_H

#include <jansson.h>

#define SESSION_TTL_S (8 * 3600) /* a working day, then sign in again */
#define PENDING_TTL_S 600        /* to finish a sign-in at Gatehouse */

struct local_session {
    char *sid; /* Gatehouse's session: what a logout token names */
    char *sub;
    char *username; /* what the page shows */
    char *id_token; /* the id_token_hint for signing out */
};

/* A sign-in (state, nonce, PKCE verifier) or a sign-out (state only). */
struct pending {
    char state[44];
    char nonce[44];
    char verifier[44];
    int logout;
};

/* Starts a session for the ID token's claims; its cookie value (43
 * random characters) goes to id_out. Returns 0 or -1. */
int session_add(const json_t *claims, const char *id_token, char id_out[44]);
/* A copy of the session the cookie value names (session_free), or NULL. */
struct local_session *session_get(const char *id);
/* The same, removing it. */
struct local_session *session_take(const char *id);
void session_free(struct local_session *s);
/* BCL 1.0 §2.7: ends every session of sid, or when sid is NULL every
 * session of sub. Returns how many ended. */
int sessions_end(const char *sid, const char *sub);
int session_count(void);

/* Remembers a copy of p for PENDING_TTL_S. Returns 0 or -1. */
int pending_add(const struct pending *p);
/* The pending entry of state, removed so it is used once (malloc'd; the
 * caller frees), or NULL. */
struct pending *pending_take(const char *state);

/* Forgets everything (at exit). */
void sessions_clear(void);

#endif
