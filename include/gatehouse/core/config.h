/* SPDX-License-Identifier: MIT */
/* The settings of the JSON configuration (SPEC §3), as cli/config.c loads
 * and checks them once, at start. */
#ifndef GATEHOUSE_CONFIG_H
#define GATEHOUSE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "gatehouse/core/strlist.h"

struct client;

struct redis_config {
    /* Exactly one of url and sentinel_master is set. */
    char *url;    /* redis://host:port/db or unix:///path[?db=N] */
    char *prefix; /* key prefix, default "gh:" */
    char *sentinel_master;
    struct strlist sentinel_addresses; /* "host:port" */
    /* Parsed from url (or found through Sentinel at connect time). */
    char *host; /* NULL for a unix socket */
    int port;
    char *unix_path; /* NULL for TCP */
    int db;
    char *password; /* from redis://:password@host, NULL if none */
};

struct config {
    char *path; /* the file it came from */
    char *dir;  /* its directory: relative paths resolve against it */
    char *issuer;
    bool issuer_https;
    char *listen_address;
    int listen_port;
    int listen_threads; /* HTTP worker threads, default = cores */
    int listen_timeout_s; /* idle connections are closed after this */
    struct redis_config redis;
    char *keys_dir; /* absolute or resolved against dir */
    char *signing_alg; /* "RS256" or "ES256" */
    int session_idle_timeout_s;
    int session_absolute_timeout_s;
    int session_max_per_user;     /* 0: unlimited */
    bool session_bind_user_agent; /* session.bind "user_agent" */
    int code_ttl_s;
    int access_token_ttl_s;
    int id_token_ttl_s;
    int refresh_token_ttl_s;
    int refresh_reuse_grace_s; /* 0: any reuse of a spent token is theft */
    int backchannel_timeout_ms;
    int backchannel_max_attempts;
    int backchannel_concurrency;
    int backchannel_per_app_concurrency;
    int backchannel_logout_wait_ms;
    int login_max_failures;
    int login_lockout_s;
    /* SPEC §7 step-up: how recent a sign-in must be for account-page
     * actions and "sign out everywhere". */
    int login_reauth_window_s;
    /* login.second_factor (SPEC §7): whether the sign-in asks for a second
     * factor; the zero value is the default. */
    enum {
        SECOND_FACTOR_OPTIONAL = 0, /* asked of users who set one up */
        SECOND_FACTOR_OFF,          /* never asked */
        SECOND_FACTOR_REQUIRED,     /* everyone: set up after the password */
    } login_second_factor;
    /* The Clear-Site-Data value a logout that ended a session sends
     * ("\"cache\", \"storage\""), NULL to send none (SPEC §5). */
    char *logout_clear_site_data;
    struct client **clients;
    size_t nclients;
};

#endif
