/* SPDX-License-Identifier: MIT */
/* Redis: the only module that includes hiredis. It owns every key pattern,
 * the per-thread connections, and the Lua scripts (src/lua/). */
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

/* Loads every Lua script so later calls go by SHA. 0 or GH_EREDIS. */
int store_load_scripts(struct store *st);

/*
 * The kinds of key Gatehouse keeps; store.c's schema table gives each one's
 * pattern, Redis type and TTL.
 */
enum store_key {
    KEY_USER,            /* {p}user:{sub} */
    KEY_USERNAME,        /* {p}uname:{lower-username} */
    KEY_CLIENT,          /* {p}client:{client_id} */
    KEY_SESSION,         /* {p}sess:{sid} */
    KEY_USER_SESSIONS,   /* {p}usess:{sub} */
    KEY_SESSION_EXPIRY,  /* {p}sexp */
    KEY_CODE,            /* {p}code:{hash} */
    KEY_REFRESH,         /* {p}rt:{hash} */
    KEY_DELIVERY_QUEUE,  /* {p}dq */
    KEY_DELIVERY_LEDGER, /* {p}ledger:{sid} */
    KEY_LOGIN_FAILURES,  /* {p}lfail:{lower-username} */
    KEY_AUDIT,           /* {p}audit */
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

#endif
