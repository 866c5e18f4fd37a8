/* SPDX-License-Identifier: MIT */
/*
 * The integration-test harness: a private redis-server, a Gatehouse on a
 * free loopback port with a generated config, and N relying apps, driven
 * from C. Our own integration tests use it, and so can any team that wants
 * to test an app against Gatehouse (tests/harness/main.c is the same thing
 * as a command, gatehouse-harness).
 *
 * Lifetime: everything harness_up starts is a child of the calling thread
 * and dies with it (PR_SET_PDEATHSIG, and an atexit handler in support.c),
 * so a crashed test leaves nothing running; harness_down stops it all
 * earlier and removes its temp dirs. The built-in apps are back-channel
 * receivers running as threads of the calling process. Demo apps are
 * gatehouse-demo-app processes: the harness drives their sign-ins itself,
 * as for any app, and they check and acknowledge their logout tokens.
 *
 * Not thread-safe: one thread drives one harness. This header includes
 * support.h (browser, bc_app, http_do, ...); include it instead of that.
 */
#ifndef GATEHOUSE_HARNESS_H
#define GATEHOUSE_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "support.h"

#define HARNESS_MAX_APPS 32
/* Sign-ins remembered for harness_wait_acked (a ring: the oldest go). */
#define HARNESS_MAX_SESSIONS 256
#define HARNESS_ADMIN_CLIENT "harness-admin"
#define HARNESS_ADMIN_SCOPE "gatehouse:admin"

enum harness_app_kind {
    HARNESS_APP_BUILTIN,  /* a bc_app receiver inside this process */
    HARNESS_APP_DEMO,     /* a gatehouse-demo-app process */
    HARNESS_APP_EXTERNAL, /* an app someone else runs */
};

/* An app that runs elsewhere; the harness registers it as a client with a
 * generated secret. Strings are borrowed for the duration of harness_up.
 * The same names a built-in app (opts.builtin), whose back-channel URI is
 * its receiver's. */
struct harness_app_spec {
    const char *name;
    const char *client_id;
    const char *redirect_uri;    /* built-in: NULL for its receiver's */
    const char *backchannel_uri; /* NULL or "": no back-channel logout */
    const char *client_secret;   /* NULL: a generated one */
};

struct harness_opts {
    int apps;      /* built-in apps app1..appN (or demo apps), 0 or more */
    int demo_apps; /* 1: the N apps are gatehouse-demo-app processes */
    const struct harness_app_spec *external; /* more apps, after the N */
    int nexternal;
    const char *alg;         /* signing alg, NULL for ES256 */
    const char *config_json; /* JSON object merged over the generated
                                config, e.g. {"session":{"idle_timeout_s":2}},
                                or NULL */
    /* What our own tests need of a world; all may be left 0. */
    const struct harness_app_spec *builtin; /* apps entries naming the
                                               built-in apps, NULL: app1.. */
    uint32_t hang_apps;       /* bit i: built-in app i never answers */
    uint32_t failing_apps;    /* bit i: it answers 500 once, then 200 */
    const char *clients_json; /* a JSON array of more clients, or NULL */
    int aof;                  /* Redis keeps an append-only file */
    const char *user;         /* "name:password" of a user to create, or NULL */
};

struct harness_app {
    enum harness_app_kind kind;
    char name[64];
    char client_id[64];
    char client_secret[48];
    char redirect_uri[256];
    char post_logout_redirect_uri[256];
    char backchannel_uri[256]; /* "" if the app has none */
    char url[64];              /* a demo app's home page, else "" */
    struct bc_app *bc;         /* a built-in app's receiver, else NULL */
    pid_t pid;                 /* a demo app's process, else 0 */
};

/* Everything is readable; change nothing. */
struct harness {
    struct redis_proc redis;
    struct gh_proc gh; /* gh.issuer, gh.config, gh.dir */
    char admin_secret[48];
    int napps;
    struct harness_app apps[HARNESS_MAX_APPS];
    double startup_s; /* how long harness_up took */
    /* private */
    char prefix[32];   /* redis.prefix */
    int admin_api;     /* 1 has the admin API, -1 not, 0 unknown */
    char *admin_token; /* harness-admin's access token, reused */
    double admin_token_until;
    struct { /* which apps each session signed in to */
        char sid[64];
        uint64_t apps; /* bit i: apps[i] */
    } sessions[HARNESS_MAX_SESSIONS];
    int nsessions;
};

/*
 * Starts redis-server, then Gatehouse with a config naming every app and
 * the admin client "harness-admin" (client_credentials, scope
 * gatehouse:admin), then the apps, and returns once all of them answer.
 * Demo apps are found through DEMO_BIN or next to the gatehouse binary
 * (GATEHOUSE_BIN); without one it fails with a message saying so. Returns
 * 0 and a harness the caller owns (harness_down), or -1 with a message on
 * stderr, having stopped whatever it started.
 */
int harness_up(const struct harness_opts *opts, struct harness **ret);
/* Stops the apps, Gatehouse and Redis by pid, removes their temp dirs and
 * frees h. NULL-safe. */
void harness_down(struct harness *h);

/* Starts g, a second Gatehouse with h's config, issuer and keys on a port
 * of its own, sharing h's Redis; the caller stops it (gh_stop). 0 or -1. */
int harness_gatehouse_again(const struct harness *h, struct gh_proc *g);

/* Creates a user through "gatehouse user add". 0 or -1. */
int harness_add_user(struct harness *h, const char *username,
                     const char *password);

/*
 * Signs the browser in to apps[app] the way the app would: /authorize,
 * the sign-in form if the browser has no session yet (else SSO), and the
 * code exchange with the app's credentials. Returns the token response
 * (new reference: access_token, id_token, ...), or NULL with a message.
 * Like the oidc_* helpers it reuses, an answer Gatehouse should never give
 * fails the calling test (exit 1 with a message).
 */
json_t *harness_sign_in(struct harness *h, struct browser *b, int app,
                        const char *username, const char *password);
/* The sid claim of tokens' ID token, verified against /jwks, into
 * out; 0 or -1. */
int harness_sid(struct harness *h, const json_t *tokens, char *out,
                size_t size);

/* RP-initiated logout (/logout with the ID token of tokens as hint) in the
 * browser. 0 when Gatehouse says signed out, -1 otherwise. */
int harness_logout_rp(struct harness *h, struct browser *b,
                      const json_t *tokens);
/*
 * Admin logout: a client_credentials token of harness-admin with scope
 * gatehouse:admin, then POST /admin/users/{user}/logout. Returns the
 * number of sessions ended, or -1 with a message (also when this Gatehouse
 * has no admin API).
 */
int harness_logout_admin(struct harness *h, const char *user);
/* (Timeout logout: set session.idle_timeout_s through opts.config_json,
 * stop using the session, and harness_wait_acked.) */

/*
 * Waits at most timeout_s until every app the session signed in to (by
 * harness_sign_in; for a session the harness did not make, every app in
 * its logout ledger) has acknowledged its back-channel notification: a
 * built-in app has received a logout token for sid; any other app's
 * delivery is "delivered" per GET /admin/sessions/{sid}/deliveries or,
 * without an admin API, the delivery's record in Redis. Returns 0, or -1
 * with a message naming the apps still waiting (or failed for good).
 */
int harness_wait_acked(struct harness *h, const char *sid, double timeout_s);
/* Logout tokens built-in apps[app] received for sid (NULL: for any). */
int harness_notifications(struct harness *h, int app, const char *sid);

/*
 * The environment apps need, as JSON (new reference): issuer, discovery
 * URL, config path, Redis URL, the admin client and every app's
 * credentials and URIs. harness_print_env writes such an object as shell
 * export lines (GATEHOUSE_ISSUER=..., GATEHOUSE_APP1_CLIENT_ID=...) or as
 * JSON; the two wrappers do it for h.
 */
json_t *harness_env(const struct harness *h);
int harness_print_env(const json_t *env, int as_json, FILE *f);
int harness_env_shell(const struct harness *h, FILE *f);
int harness_env_json(const struct harness *h, FILE *f);

#endif
