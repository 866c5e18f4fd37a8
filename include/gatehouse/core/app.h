/* SPDX-License-Identifier: MIT */
/* What a running server shares with its handlers: read-only after start. */
#ifndef GATEHOUSE_APP_H
#define GATEHOUSE_APP_H

struct config;
struct delivery;
struct hashpool;
struct jws_cache;
struct keyring;
struct logout_all_runner;
struct metrics_last;
struct store;

struct app {
    const struct config *cfg;
    const struct keyring *keys;
    /* access tokens verified already (jws_verify_cached); NULL: none */
    struct jws_cache *jws_cache;
    struct store *store;
    char *discovery; /* the discovery document, built once at start */
    struct hashpool *hashpool; /* password hashing, off the HTTP threads */
    /* the share of hashing anonymous sign-ins cannot fill: browsers
     * returning with a device cookie (SPEC §7 Lockout) */
    struct hashpool *hashpool_returning;
    struct delivery *delivery; /* the back-channel engine */
    /* the background logout-all and its watcher (admin_start) */
    struct logout_all_runner *logout_all;
    /* the gauges /metrics last read from Redis (metrics_endpoint_new) */
    struct metrics_last *metrics_last;
    /* the last read of the maintenance state (maintenance_get) */
    struct maintenance_cache *maintenance;
    /* the key second-factor secrets are sealed under (FACTOR_KEY_LEN,
     * crypto/factor_secret.h), from keys_dir */
    unsigned char factor_key[32];
};

#endif
