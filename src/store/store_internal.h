/* SPDX-License-Identifier: MIT */
/* Shared by the store_*.c files only: the files that include hiredis. Each
 * owns the keys of one part of the domain; store.c owns the connections,
 * the key schema and the script table. */
#ifndef GATEHOUSE_STORE_INTERNAL_H
#define GATEHOUSE_STORE_INTERNAL_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "gatehouse/store/store.h"

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
    SCRIPT_MAINTENANCE_START,
    SCRIPT_MAINTENANCE_CLAIM,
    SCRIPT_FACTOR_ENROL,
    SCRIPT_FACTOR_ACTIVATE,
    SCRIPT_FACTOR_USE,
    SCRIPT_FACTOR_RECOVERY,
    SCRIPT_SESSION_REAUTH,
    SCRIPT_PASSKEY_ADD,
    SCRIPT_PASSKEY_USE,
    SCRIPT_PASSKEY_REMOVE,
    SCRIPT_PASSKEYS_DELETE,
    NSCRIPTS
};

/* One of the keys a script call names: the key of that kind for id (NULL
 * for a key without one), written into *buf. */
struct store_key_want {
    enum store_key kind;
    const char *id;
    char (*buf)[STORE_KEY_MAX];
};

/* store_key_name for each of want[0..n), in order: 0, or the code of the
 * first that fails. */
int store_key_names(const struct store *st, const struct store_key_want *want,
                    size_t n);

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
/* The same for a command whose reply says nothing store_command's code
 * does not (MULTI, a queued command, SET): the reply is freed here. */
int store_command_ack(struct store *st, int flags, const char *fmt, ...);
/* The same with an argument vector (argvlen NULL: NUL-terminated). */
int store_command_argv(struct store *st, int flags, int argc,
                       const char **argv, const size_t *argvlen,
                       redisReply **ret);
/* A read command (sent as STORE_IDEMPOTENT) whose reply is an array of
 * strings: *ret is copies of them, *n how many, for
 * store_reply_strings_free. store_command's codes; GH_EPROTO if the reply
 * is no array. */
int store_command_strings(struct store *st, char ***ret, size_t *n,
                          const char *fmt, ...);
/* Runs a Lua script by SHA (EVAL once if Redis lost it). ret NULL: the
 * reply says nothing the code does not, and is freed here. */
int store_script(struct store *st, enum script script, int nkeys, int argc,
                 const char **argv, redisReply **ret);
/* The same for a script that answers one integer: *ret is that integer;
 * GH_EPROTO for any other reply. */
int store_script_int(struct store *st, enum script script, int nkeys, int argc,
                     const char **argv, long long *ret);
/* The configured key prefix (borrowed). */
const char *store_prefix(const struct store *st);
/* Runs cmd, a command whose one argument is a key (GET, DEL, EXISTS,
 * ZCARD, SMEMBERS...), on the key of that kind for id: store_command's
 * codes, *ret the reply for the caller to free. */
int store_key_command(struct store *st, int flags, redisReply **ret,
                      enum store_key kind, const char *id, const char *cmd);
/* The same for a command that answers an integer (DEL, EXISTS, ZCARD...):
 * *ret is that integer (store_reply_ll). */
int store_key_integer(struct store *st, int flags, enum store_key kind,
                      const char *id, const char *cmd, long long *ret);
/* HGETALL of the key of that kind for id (store_command's codes). *ret
 * is an array, empty when there is no such key; the caller frees it. */
int store_hgetall(struct store *st, enum store_key kind, const char *id,
                  redisReply **ret);

/*
 * Replies (store_reply.c): the checks and copies every store_*.c uses.
 * NULL is taken for "no such reply" everywhere, so a positional reply
 * shorter than expected reads as nil.
 */

/* Whether r is an error reply whose code (its first word) is code. */
int store_reply_error_is(const redisReply *r, const char *code);
/* What an error reply means: GH_EREDIS when Redis cannot serve now (OOM,
 * READONLY, LOADING, ...; never taken for success or for a bug),
 * GH_ENOTFOUND for NOSCRIPT, GH_EPROTO for anything else; 0 if r is not
 * an error reply. */
int store_reply_error(const redisReply *r);
/* r's text if it is a string reply, else NULL (borrowed from r). */
const char *store_reply_str(const redisReply *r);
/* Element i of an array reply, or NULL (not an array, or out of range). */
const redisReply *store_reply_at(const redisReply *r, size_t i);
/* A malloc'd copy of a string reply, "" for any other (nil); NULL only
 * when out of memory. The caller frees it. */
char *store_reply_dup(const redisReply *r);
/* An integer reply, or a string that starts with one; 0 otherwise. */
long long store_reply_ll(const redisReply *r);
/* Every step-th element of an array reply (2: the members of a reply
 * WITHSCORES) as copies (store_reply_dup): *ret is a malloc'd array of *n
 * malloc'd strings, for store_reply_strings_free. GH_EPROTO if r is no
 * array. */
int store_reply_strings(const redisReply *r, size_t step, char ***ret,
                        size_t *n);
void store_reply_strings_free(char **v, size_t n);

/* How store_reply_decode stores a hash field's value into a struct. */
enum store_field_type {
    STORE_FIELD_STR,  /* char *: a malloc'd copy */
    STORE_FIELD_BUF,  /* char[size]: a copy, cut to fit */
    STORE_FIELD_NUM,  /* int, int64_t or long long (by size): base 10 */
    STORE_FIELD_FLAG, /* bool or int: true when the value is "1" */
    /* bool or int: false only when the value is "0", so a damaged
     * record fails closed ("disabled") */
    STORE_FIELD_FLAG_CLOSED,
};

/* One row of a decoding table: a field and where its value goes. */
struct store_field {
    const char *name;
    enum store_field_type type;
    size_t offset;
    size_t size;
    /* STORE_FIELD_STR: the value when the field is absent (NULL: the
     * member stays NULL) */
    const char *absent;
};

#define STORE_FIELD(name, type, st, member)                                    \
    {name, type, offsetof(st, member), sizeof(((st *)0)->member), NULL}
/* A STORE_FIELD_STR row whose member is a copy of absent when the field
 * is not there. */
#define STORE_FIELD_OR(name, st, member, absent)                               \
    {name, STORE_FIELD_STR, offsetof(st, member),                             \
     sizeof(((st *)0)->member), absent}

/*
 * Decodes a field/value array (HGETALL's reply, a stream entry's fields)
 * into the struct at base by the table fields[0..n): each field found is
 * stored as its row says; fields not in the table are left to the caller.
 * The struct's STORE_FIELD_STR members must start NULL; on failure those
 * set are left for the caller's usual free. 0; GH_ENOTFOUND for an empty
 * array (no such key); GH_EPROTO for any other shape, or a known field
 * whose value is not a string; an error reply, even nested, as
 * store_reply_error says (OOM stays GH_EREDIS); GH_ENOMEM.
 */
int store_reply_decode(const redisReply *r, const struct store_field *fields,
                       size_t n, void *base);
/* The same with a table that is an array in scope. */
#define STORE_DECODE(r, table, base)                                           \
    store_reply_decode(r, table, sizeof(table) / sizeof((table)[0]), base)
/* Frees an array of n records of size bytes each at v, each emptied by
 * clear first (records.c); NULL-safe. Behind the *_free of every array of
 * records the store hands out. */
void store_records_free(void *v, size_t n, size_t size, void (*clear)(void *));
/* A user from a user:{sub} hash's field/value array (HGETALL's shape);
 * with_hash 0 accepts a reply without the password hash ("h"). */
struct user;
int store_user_parse(const redisReply *r, const char *sub, int with_hash,
                     struct user **ret);

#endif
