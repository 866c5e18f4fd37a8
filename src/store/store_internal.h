/* SPDX-License-Identifier: MIT */
/* Shared by the store_*.c files only: the files that include hiredis. Each
 * owns the keys of one part of the domain; store.c owns the connections,
 * the key schema and the script table. */
#ifndef GATEHOUSE_STORE_INTERNAL_H
#define GATEHOUSE_STORE_INTERNAL_H

#include <hiredis/hiredis.h>

#include "store/store.h"

/* Room for any key: a prefix of up to 32 bytes and an id of up to 200. */
#define STORE_KEY_MAX 256

/* Every Lua script in src/store/lua/, by the name of its file. */
enum script {
    SCRIPT_PING,
    SCRIPT_USER_CREATE,
    SCRIPT_SESSION_CREATE,
    SCRIPT_SESSION_TOUCH,
    SCRIPT_SESSION_END,
    SCRIPT_CODE_REDEEM,
    SCRIPT_REFRESH_ISSUE,
    SCRIPT_REFRESH_ROTATE,
    SCRIPT_DELIVERY_CLAIM,
    SCRIPT_DELIVERY_DONE,
    SCRIPT_ACCESS_CHECK,
    SCRIPT_DELIVERY_RETRY,
    SCRIPT_DELIVERY_RELEASE,
    SCRIPT_LOGOUT_ALL_BEGIN,
    SCRIPT_LOGOUT_ALL_RESUME,
    SCRIPT_LOGOUT_ALL_UPDATE,
    SCRIPT_CLIENT_PUT,
    SCRIPT_LOGIN_RESERVE,
    SCRIPT_LOGIN_REFUND,
    NSCRIPTS
};

/* Flags for store_command(): safe to send twice (PING, reads), so after a
 * broken connection it is sent once more on a fresh one. */
#define STORE_IDEMPOTENT 1

/*
 * Runs one command, hiredis format ("HGET %s %b"), on the calling thread's
 * connection. On success *ret is the reply, never an error reply; the
 * caller frees it. GH_EREDIS if Redis cannot be reached or cannot serve
 * now, GH_EPROTO on any other error reply.
 */
int store_command(struct store *st, int flags, redisReply **ret,
                  const char *fmt, ...);
/* The same with an argument vector (argvlen NULL: NUL-terminated). */
int store_command_argv(struct store *st, int flags, int argc,
                       const char **argv, const size_t *argvlen,
                       redisReply **ret);
/* Runs a Lua script by SHA (EVAL once if Redis lost it). */
int store_script(struct store *st, enum script script, int nkeys, int argc,
                 const char **argv, redisReply **ret);
/* The configured key prefix (borrowed). */
const char *store_prefix(const struct store *st);
/* A user from a user:{sub} hash's field/value array (HGETALL's shape);
 * with_hash 0 accepts a reply without the password hash ("h"). */
struct user;
int store_user_parse(const redisReply *r, const char *sub, int with_hash,
                     struct user **ret);

#endif
