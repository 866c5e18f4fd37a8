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

#endif
