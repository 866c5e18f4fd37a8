/* SPDX-License-Identifier: MIT */
/* The records the store keeps (user:{sub}, sess:{sid}, code:{hash},
 * rt:{hash}) and what ending a session returns: plain data with their
 * free functions (records.c), so the store and the layers above it share
 * them and the store includes none of those layers' headers. */
#ifndef GATEHOUSE_RECORDS_H
#define GATEHOUSE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gatehouse/core/states.h"

#define USERNAME_MAX 64
/* sid: 128 random bits, base64url (session.h says why it is public). */
#define SESSION_SID_LEN 22

/* A user (user:{sub}); the strings are malloc'd. */
struct user {
    char sub[37];   /* random UUID, never reused, never changes */
    char *username; /* as given; unique case-insensitively */
    char *email;    /* "" if none */
    char *name;     /* "" if none */
    char *given_name;  /* "" if none */
    char *family_name; /* "" if none */
    char *locale;      /* BCP 47 tag ("fr-CA"), "" if none */
    char *zoneinfo;    /* tz database name ("Europe/Paris"), "" if none */
    char *hash;     /* PHC scrypt string */
    bool email_verified;
    bool disabled;
    int64_t created;
    int64_t updated; /* any change; the updated_at claim */
};
/* Frees u and every field, the password hash wiped (NULL-safe). */
void user_free(struct user *u);

/* An IdP session (sess:{sid}); ua, apps and each app are malloc'd. */
struct session {
    char sid[SESSION_SID_LEN + 1];
    char sub[37];
    int64_t auth_time;    /* seconds: the auth_time claim */
    int64_t auth_time_ms; /* the same in milliseconds, for max_age */
    int64_t created;
    int64_t last_seen;
    char ip[46];
    char *ua;     /* user agent, truncated */
    char ua_family[48]; /* "browser/OS" (useragent_family); "" if unknown */
    /* how the user signed in: RFC 8176 methods, space-separated ("pwd",
     * "pwd otp"); "" for a session made before it was recorded */
    char amr[32];
    char **apps;  /* client_ids recorded on the session */
    size_t napps;
};
/* Frees s and every field (NULL-safe). */
void session_free(struct session *s);

/* What ending a session did. */
struct session_ended {
    int ended;       /* 0: it had ended already, nothing below is set */
    enum end_reason reason; /* recorded: for END_TIMEOUT, idle or absolute */
    char sub[37];
    int queued;      /* back-channel deliveries queued */
    char **apps;     /* client_ids that took part */
    int *notified;   /* per app: 1 if a delivery was queued for it */
    size_t napps;
};
/* Frees what e holds and zeroes it, ready for reuse. */
void session_ended_clear(struct session_ended *e);

/* The sessions a sign-in ended (session.max_per_user): ended[i] is what
 * ending sids[i] did. */
struct session_evicted {
    struct session_ended *ended;
    char (*sids)[SESSION_SID_LEN + 1];
    size_t n;
};
/* Frees what e holds and zeroes it. */
void session_evicted_clear(struct session_evicted *e);

/* What a code stands for, fixed at /authorize (RFC 6749 §4.1.2: bound to
 * client, redirect_uri and PKCE challenge). Every string is borrowed. */
struct code_grant {
    const char *client_id;
    const char *redirect_uri;
    const char *code_challenge; /* S256 challenge, or NULL */
    const char *nonce;          /* or NULL */
    const char *scope;          /* space-separated, granted */
    const char *sid;
    const char *sub;
    int64_t auth_time;
    const char *amr; /* the session's ("pwd", "pwd otp"), or NULL: "pwd" */
};

/* A refresh token as stored (rt:{hash}); fields are malloc'd. */
struct refresh_token {
    char *family;
    char *sid;
    char *client_id;
    char *sub;
    char *scope;       /* space-separated, as granted by the code */
    int spent;         /* rotated already: presenting it again is reuse */
    int64_t auth_time; /* the session's, from a rotation; else 0 */
    char amr[32];      /* the session's, from a rotation; else "" */
    /* From a rotation in the grace (STORE_REFRESH_GRACE): the hash of the
     * family's live head, and each successor from the presented token to
     * it, sealed under its predecessor, oldest first. */
    char *head;
    char **sealed;
    size_t nsealed;
};
/* Frees t and every field (NULL-safe). */
void store_refresh_free(struct refresh_token *t);

#endif
