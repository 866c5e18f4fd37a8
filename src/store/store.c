/* SPDX-License-Identifier: MIT */
/* Redis: the key schema, one connection per thread, and the Lua scripts. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/store/store.h"
#include "store/store_internal.h"
#include "gatehouse/core/util.h"

/* The key schema (schema.def): each kind's pattern, Redis type and TTL. */
static const struct key_schema {
    const char *pattern;
    const char *type;
    const char *ttl;
} schema[] = {
#define STORE_KEY(kind, pattern, type, ttl) [kind] = {pattern, type, ttl},
#include "store/schema.def"
};

/* The Lua scripts, embedded by src/store/lua/embed.py into lua_scripts.c. */
/* One per line, so scripts added side by side merge cleanly. */
extern const char lua_ping[];
extern const char lua_user_create[];
extern const char lua_session_create[];
extern const char lua_session_touch[];
extern const char lua_session_end[];
extern const char lua_code_redeem[];
extern const char lua_refresh_issue[];
extern const char lua_refresh_rotate[];
extern const char lua_delivery_claim[];
extern const char lua_delivery_done[];
extern const char lua_delivery_retry[];
extern const char lua_delivery_release[];
extern const char lua_logout_all_begin[];
extern const char lua_logout_all_resume[];
extern const char lua_logout_all_update[];
extern const char lua_access_check[];
extern const char lua_client_put[];
extern const char lua_login_reserve[];
extern const char lua_login_refund[];
extern const char lua_maintenance_start[];
extern const char lua_maintenance_claim[];
extern const char lua_factor_enrol[];
extern const char lua_factor_activate[];
extern const char lua_factor_use[];
extern const char lua_factor_recovery[];
extern const char lua_session_reauth[];
extern const char lua_passkey_add[];
extern const char lua_passkey_use[];
extern const char lua_passkey_remove[];
extern const char lua_passkeys_delete[];

static const struct script_source {
    const char *name;
    const char *text;
} scripts[NSCRIPTS] = {
    [SCRIPT_PING] = {"ping", lua_ping},
    [SCRIPT_USER_CREATE] = {"user_create", lua_user_create},
    [SCRIPT_SESSION_CREATE] = {"session_create", lua_session_create},
    [SCRIPT_SESSION_TOUCH] = {"session_touch", lua_session_touch},
    [SCRIPT_SESSION_END] = {"session_end", lua_session_end},
    [SCRIPT_CODE_REDEEM] = {"code_redeem", lua_code_redeem},
    [SCRIPT_REFRESH_ISSUE] = {"refresh_issue", lua_refresh_issue},
    [SCRIPT_REFRESH_ROTATE] = {"refresh_rotate", lua_refresh_rotate},
    [SCRIPT_DELIVERY_CLAIM] = {"delivery_claim", lua_delivery_claim},
    [SCRIPT_DELIVERY_DONE] = {"delivery_done", lua_delivery_done},
    [SCRIPT_ACCESS_CHECK] = {"access_check", lua_access_check},
    [SCRIPT_DELIVERY_RETRY] = {"delivery_retry", lua_delivery_retry},
    [SCRIPT_DELIVERY_RELEASE] = {"delivery_release", lua_delivery_release},
    [SCRIPT_LOGOUT_ALL_BEGIN] = {"logout_all_begin", lua_logout_all_begin},
    [SCRIPT_LOGOUT_ALL_RESUME] = {"logout_all_resume", lua_logout_all_resume},
    [SCRIPT_LOGOUT_ALL_UPDATE] = {"logout_all_update", lua_logout_all_update},
    [SCRIPT_CLIENT_PUT] = {"client_put", lua_client_put},
    [SCRIPT_LOGIN_RESERVE] = {"login_reserve", lua_login_reserve},
    [SCRIPT_LOGIN_REFUND] = {"login_refund", lua_login_refund},
    [SCRIPT_MAINTENANCE_START] = {"maintenance_start", lua_maintenance_start},
    [SCRIPT_MAINTENANCE_CLAIM] = {"maintenance_claim", lua_maintenance_claim},
    [SCRIPT_FACTOR_ENROL] = {"factor_enrol", lua_factor_enrol},
    [SCRIPT_FACTOR_ACTIVATE] = {"factor_activate", lua_factor_activate},
    [SCRIPT_FACTOR_USE] = {"factor_use", lua_factor_use},
    [SCRIPT_FACTOR_RECOVERY] = {"factor_recovery", lua_factor_recovery},
    [SCRIPT_SESSION_REAUTH] = {"session_reauth", lua_session_reauth},
    [SCRIPT_PASSKEY_ADD] = {"passkey_add", lua_passkey_add},
    [SCRIPT_PASSKEY_USE] = {"passkey_use", lua_passkey_use},
    [SCRIPT_PASSKEY_REMOVE] = {"passkey_remove", lua_passkey_remove},
    [SCRIPT_PASSKEYS_DELETE] = {"passkeys_delete", lua_passkeys_delete},
};

/*
 * Every wait is bounded. After a failed connect a thread makes no new
 * attempt until its backoff has passed and fails at once meanwhile, so
 * while Redis is down a thread pays the connect timeout at most once per
 * backoff period instead of on every request.
 */
#define CONNECT_TIMEOUT_MS 1000
#define COMMAND_TIMEOUT_MS 2000
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

/* The calling thread's link to Redis, found through st->key. */
struct conn {
    struct store *st;
    redisContext *c; /* NULL until connected, and after it broke */
    double retry_at; /* no connect attempt before this (util_monotonic) */
    int backoff_ms;  /* the wait after the next failed connect */
    /* In st->conns, so store_close frees those of threads still alive. */
    struct conn *prev, *next;
};

struct store {
    const struct redis_config *conf;
    const char *prefix;
    pthread_key_t key;
    /* Guards conns only: taken when a thread first uses the store and
     * when it is done, never per command. */
    pthread_mutex_t lock;
    struct conn *conns;
    char sha[NSCRIPTS][41]; /* SHA-1 hex of each script, for EVALSHA */
    /* When Redis was last found unreachable (util_monotonic in ms), 0
     * while it answers: an outage is logged once when it starts and once
     * when it ends, however many threads run into it. */
    atomic_llong down_since_ms;
    int log_outages; /* a server logs them; a CLI's one-line error says it */
    /* store_mac_key's copy of KEY_MAC_KEY, read once */
    pthread_mutex_t mac_lock;
    int mac_key_set;
    unsigned char mac_key[32];
};


static void
conn_free(struct conn *cn)
{
    struct store *st = cn->st;

    pthread_mutex_lock(&st->lock);
    if (cn->prev != NULL)
        cn->prev->next = cn->next;
    else
        st->conns = cn->next;
    if (cn->next != NULL)
        cn->next->prev = cn->prev;
    pthread_mutex_unlock(&st->lock);
    if (cn->c != NULL)
        redisFree(cn->c);
    free(cn);
}

/* The pthread key destructor: a thread that exits closes its connection. */
static void
thread_exit(void *arg)
{
    conn_free(arg);
}

static int
script_sha1(const char *text, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len, i;

    if (EVP_Digest(text, strlen(text), md, &len, EVP_sha1(), NULL) != 1)
        return GH_ECRYPTO;
    for (i = 0; i < len && i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[40] = '\0';
    return 0;
}

int
store_open(const struct redis_config *conf, struct store **ret)
{
    struct store *st;
    size_t i;
    int rc;

    if (conf->sentinel_master != NULL
            ? conf->sentinel_addresses.n == 0
            : conf->host == NULL && conf->unix_path == NULL)
        return GH_EINVAL;
    if ((st = calloc(1, sizeof(*st))) == NULL)
        return GH_ENOMEM;
    st->conf = conf;
    st->prefix = conf->prefix != NULL ? conf->prefix : "gh:";
    for (i = 0; i < NSCRIPTS; i++) {
        if ((rc = script_sha1(scripts[i].text, st->sha[i])) < 0)
            goto out;
    }
    rc = GH_ENOMEM;
    if (pthread_mutex_init(&st->lock, NULL) != 0)
        goto out;
    if (pthread_mutex_init(&st->mac_lock, NULL) != 0) {
        pthread_mutex_destroy(&st->lock);
        goto out;
    }
    if (pthread_key_create(&st->key, thread_exit) != 0) {
        pthread_mutex_destroy(&st->mac_lock);
        pthread_mutex_destroy(&st->lock);
        goto out;
    }
    *ret = st;
    st = NULL;
    rc = 0;
out:
    free(st);
    return rc;
}

void
store_close(struct store *st)
{
    struct conn *cn, *next;

    if (st == NULL)
        return;
    /* No destructor runs for a deleted key, so free every connection
     * left here, the caller's and those of threads still alive. */
    pthread_setspecific(st->key, NULL);
    pthread_key_delete(st->key);
    for (cn = st->conns; cn != NULL; cn = next) {
        next = cn->next;
        if (cn->c != NULL)
            redisFree(cn->c);
        free(cn);
    }
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->mac_lock);
    OPENSSL_cleanse(st->mac_key, sizeof(st->mac_key));
    free(st);
}

int
store_mac_key(struct store *st, unsigned char key[32])
{
    unsigned char fresh[32];
    char name[STORE_KEY_MAX];
    redisReply *r = NULL;
    int rc;

    pthread_mutex_lock(&st->mac_lock);
    rc = st->mac_key_set;
    if (rc)
        memcpy(key, st->mac_key, 32);
    pthread_mutex_unlock(&st->mac_lock);
    if (rc)
        return 0;
    if ((rc = store_key_name(st, KEY_MAC_KEY, NULL, name, sizeof(name))) < 0)
        return rc;
    if ((rc = util_random(fresh, sizeof(fresh))) < 0)
        return rc;
    /* The first instance's key wins; everyone, that one included, then
     * reads what won. */
    rc = store_command(st, 0, &r, "SET %s %b NX", name, fresh, sizeof(fresh));
    OPENSSL_cleanse(fresh, sizeof(fresh));
    freeReplyObject(r);
    r = NULL;
    if (rc < 0)
        return rc;
    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "GET %s", name)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_STRING || r->len != 32) {
        freeReplyObject(r);
        return GH_EPROTO;
    }
    pthread_mutex_lock(&st->mac_lock);
    memcpy(st->mac_key, r->str, 32);
    st->mac_key_set = 1;
    pthread_mutex_unlock(&st->mac_lock);
    memcpy(key, r->str, 32);
    freeReplyObject(r);
    return 0;
}

void
store_thread_done(struct store *st)
{
    struct conn *cn = pthread_getspecific(st->key);

    if (cn != NULL) {
        pthread_setspecific(st->key, NULL);
        conn_free(cn);
    }
}

/* The calling thread's conn, made on first use; NULL if out of memory. */
static struct conn *
thread_conn(struct store *st)
{
    struct conn *cn = pthread_getspecific(st->key);

    if (cn != NULL)
        return cn;
    if ((cn = calloc(1, sizeof(*cn))) == NULL)
        return NULL;
    cn->st = st;
    cn->backoff_ms = BACKOFF_MIN_MS;
    if (pthread_setspecific(st->key, cn) != 0) {
        free(cn);
        return NULL;
    }
    pthread_mutex_lock(&st->lock);
    cn->next = st->conns;
    if (st->conns != NULL)
        st->conns->prev = cn;
    st->conns = cn;
    pthread_mutex_unlock(&st->lock);
    return cn;
}

static struct timeval
ms_timeval(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    return tv;
}

/* A connected context with the command timeout set, or NULL. */
static redisContext *
dial(const char *host, int port, const char *unix_path)
{
    struct timeval tv = ms_timeval(CONNECT_TIMEOUT_MS);
    redisContext *c;

    if (unix_path != NULL)
        c = redisConnectUnixWithTimeout(unix_path, tv);
    else
        c = redisConnectWithTimeout(host, port, tv);
    if (c == NULL)
        return NULL;
    if (c->err == 0 &&
        redisSetTimeout(c, ms_timeval(COMMAND_TIMEOUT_MS)) == REDIS_OK) {
        /* Finds a peer that vanished while the connection sat idle. */
        if (unix_path == NULL)
            redisEnableKeepAlive(c);
        if (c->err == 0)
            return c;
    }
    log_debug("redis_connect_failed host=%s port=%d error=\"%s\"",
              unix_path != NULL ? unix_path : host, port, c->errstr);
    redisFree(c);
    return NULL;
}

/*
 * One command on a context being set up (not yet any thread's): 0 with
 * *ret set, or GH_EREDIS on a transport error or an error reply.
 */
static int
ask(redisContext *c, redisReply **ret, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        log_debug("redis_error error=\"%s\"", c->errstr);
        return GH_EREDIS;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        log_debug("redis_error reply=\"%s\"", r->str);
        freeReplyObject(r);
        return GH_EREDIS;
    }
    *ret = r;
    return 0;
}

/* AUTH and SELECT as configured; with need_master, also checks ROLE. */
static int
prepare(const struct redis_config *conf, redisContext *c, int need_master)
{
    redisReply *r = NULL;
    int rc;

    if (conf->password != NULL &&
        (rc = ask(c, &r, "AUTH %s", conf->password)) < 0)
        goto out;
    freeReplyObject(r);
    r = NULL;
    if (conf->db != 0 && (rc = ask(c, &r, "SELECT %d", conf->db)) < 0)
        goto out;
    freeReplyObject(r);
    r = NULL;
    if (need_master) {
        /* Sentinel may not have noticed a failover yet: writing to a
         * replica would only earn -READONLY later. */
        if ((rc = ask(c, &r, "ROLE")) < 0)
            goto out;
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
            r->element[0]->type != REDIS_REPLY_STRING ||
            strcmp(r->element[0]->str, "master") != 0) {
            log_debug("redis_not_master");
            rc = GH_EREDIS;
            goto out;
        }
    }
    rc = 0;
out:
    freeReplyObject(r);
    return rc;
}

/* Splits "host:port" or "[v6]:port"; 0 or GH_EINVAL. */
static int
split_address(const char *addr, char *host, size_t size, int *port)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t len;
    char *end;
    long p;

    if (colon == NULL)
        return GH_EINVAL;
    len = (size_t)(colon - addr);
    if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
        h++;
        len -= 2;
    }
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (len == 0 || len >= size || *end != '\0' || errno != 0 || p < 1 ||
        p > 65535)
        return GH_EINVAL;
    memcpy(host, h, len);
    host[len] = '\0';
    *port = (int)p;
    return 0;
}

/*
 * Asks the sentinels, in the configured order, where the primary is, and
 * connects to it. The next sentinel is tried when one is unreachable, does
 * not know the master, or names a server that is not a primary (yet).
 */
static redisContext *
dial_sentinels(const struct redis_config *conf)
{
    char host[256];
    redisContext *s, *c;
    redisReply *r;
    size_t i;
    int port, rc;

    for (i = 0; i < conf->sentinel_addresses.n; i++) {
        if (split_address(conf->sentinel_addresses.v[i], host, sizeof(host),
                          &port) < 0)
            continue;
        if ((s = dial(host, port, NULL)) == NULL)
            continue;
        r = NULL;
        rc = ask(s, &r, "SENTINEL get-master-addr-by-name %s",
                 conf->sentinel_master);
        redisFree(s);
        if (rc < 0)
            continue;
        c = NULL;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
            r->element[0]->type == REDIS_REPLY_STRING &&
            r->element[1]->type == REDIS_REPLY_STRING)
            c = dial(r->element[0]->str, atoi(r->element[1]->str), NULL);
        freeReplyObject(r);
        if (c != NULL && prepare(conf, c, 1) == 0)
            return c;
        if (c != NULL)
            redisFree(c);
    }
    return NULL;
}

static void
mark_down(struct store *st)
{
    long long up = 0, now = (long long)(util_monotonic() * 1e3);

    if (now == 0)
        now = 1;
    if (atomic_compare_exchange_strong(&st->down_since_ms, &up, now) &&
        st->log_outages)
        log_warnx("redis_unreachable");
}

static void
mark_up(struct store *st)
{
    long long since;

    /* The hot path: one relaxed load while Redis answers. */
    if (atomic_load_explicit(&st->down_since_ms, memory_order_relaxed) == 0)
        return;
    since = atomic_exchange(&st->down_since_ms, 0);
    if (since != 0 && st->log_outages)
        log_warnx("redis_reachable outage_s=%.1f",
                  util_monotonic() - since / 1e3);
}

void
store_log_outages(struct store *st)
{
    st->log_outages = 1;
}

int
store_redis_up(struct store *st)
{
    return atomic_load(&st->down_since_ms) == 0;
}

/*
 * Connects the thread's conn, unless a recent attempt failed: then it
 * fails at once until the backoff has passed, so that while Redis is down
 * callers get GH_EREDIS fast instead of each waiting a connect timeout.
 */
static int
conn_open(struct store *st, struct conn *cn)
{
    const struct redis_config *conf = st->conf;
    redisContext *c;

    if (util_monotonic() < cn->retry_at)
        return GH_EREDIS;
    if (conf->sentinel_master != NULL) {
        c = dial_sentinels(conf);
    } else {
        c = dial(conf->host, conf->port, conf->unix_path);
        if (c != NULL && prepare(conf, c, 0) < 0) {
            redisFree(c);
            c = NULL;
        }
    }
    if (c == NULL) {
        mark_down(st);
        cn->retry_at = util_monotonic() + cn->backoff_ms / 1000.0;
        cn->backoff_ms *= 2;
        if (cn->backoff_ms > BACKOFF_MAX_MS)
            cn->backoff_ms = BACKOFF_MAX_MS;
        return GH_EREDIS;
    }
    cn->c = c;
    cn->backoff_ms = BACKOFF_MIN_MS;
    return 0;
}

static void
conn_drop(struct conn *cn)
{
    redisFree(cn->c);
    cn->c = NULL;
}

/*
 * Whether an idle connection is still worth sending on. No reply is ever
 * outstanding between two calls, so a readable socket means the server
 * closed it (it died, as a primary does before a failover; Sentinel ran
 * CLIENT KILL; a timeout) or sent what nobody asked for. A command written
 * there fails only after it was sent, when nothing tells whether it ran,
 * so a script would not be retried and the first request on each thread
 * after a failover would fail. Looking first makes it a clean reconnect.
 */
static int
conn_alive(const redisContext *c)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

    /* An error of poll itself (EINTR) says nothing: send and see. */
    return poll(&pfd, 1, 0) <= 0;
}

/*
 * Sends one formatted command on the thread's connection and reads the
 * reply, error replies included. A connection the server closed while it
 * sat idle is replaced before sending. A broken connection, or -READONLY
 * (the primary we know became a replica), drops the connection so the next
 * call connects afresh (through the sentinels, if configured).
 */
static int
roundtrip(struct store *st, const char *cmd, size_t len, redisReply **ret)
{
    struct conn *cn;
    redisReply *r = NULL;
    int rc;

    if ((cn = thread_conn(st)) == NULL)
        return GH_ENOMEM;
    if (cn->c != NULL && !conn_alive(cn->c)) {
        log_debug("redis_closed_while_idle");
        conn_drop(cn);
    }
    if (cn->c == NULL && (rc = conn_open(st, cn)) < 0)
        return rc;
    if (redisAppendFormattedCommand(cn->c, cmd, len) != REDIS_OK ||
        redisGetReply(cn->c, (void **)&r) != REDIS_OK || r == NULL) {
        log_debug("redis_error error=\"%s\"", cn->c->errstr);
        freeReplyObject(r);
        conn_drop(cn);
        mark_down(st);
        return GH_EREDIS;
    }
    mark_up(st);
    if (store_reply_error_is(r, "READONLY")) {
        log_debug("redis_readonly");
        freeReplyObject(r);
        conn_drop(cn);
        return GH_EREDIS;
    }
    *ret = r;
    return 0;
}

/* Runs a formatted command (see command()). */
static int
execute(struct store *st, int flags, const char *cmd, size_t len,
        redisReply **ret)
{
    redisReply *r = NULL;
    int rc;

    rc = roundtrip(st, cmd, len, &r);
    if (rc == GH_EREDIS && (flags & STORE_IDEMPOTENT))
        rc = roundtrip(st, cmd, len, &r);
    if (rc < 0)
        return rc;
    /* The script cache lost a script (GH_ENOTFOUND, which only
     * store_script sees), Redis cannot serve now, or a bug. */
    if ((rc = store_reply_error(r)) < 0) {
        freeReplyObject(r);
        return rc;
    }
    *ret = r;
    return 0;
}

/*
 * Runs one command, hiredis format ("HGET %s %b"), on the calling thread's
 * connection. On success *ret is the reply, never an error reply; the
 * caller frees it. GH_EREDIS if Redis cannot be reached or cannot serve
 * now, GH_EPROTO on any other error reply. Only STORE_IDEMPOTENT commands are
 * retried after the connection broke.
 */
static int
vcommand(struct store *st, int flags, redisReply **ret, const char *fmt,
         va_list ap)
{
    char *cmd = NULL;
    int len, rc;

    if ((len = redisvFormatCommand(&cmd, fmt, ap)) < 0)
        return GH_ENOMEM;
    rc = execute(st, flags, cmd, (size_t)len, ret);
    redisFreeCommand(cmd);
    return rc;
}

int
store_command(struct store *st, int flags, redisReply **ret, const char *fmt,
              ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vcommand(st, flags, ret, fmt, ap);
    va_end(ap);
    return rc;
}

int
store_command_ack(struct store *st, int flags, const char *fmt, ...)
{
    redisReply *r = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vcommand(st, flags, &r, fmt, ap);
    va_end(ap);
    freeReplyObject(r);
    return rc;
}

int
store_command_strings(struct store *st, char ***ret, size_t *n, const char *fmt,
                      ...)
{
    redisReply *r = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    if ((rc = vcommand(st, STORE_IDEMPOTENT, &r, fmt, ap)) == 0)
        rc = store_reply_strings(r, 1, ret, n);
    va_end(ap);
    freeReplyObject(r);
    return rc;
}

/* The same with an argument vector (argvlen NULL: NUL-terminated). */
int
store_command_argv(struct store *st, int flags, int argc, const char **argv,
             const size_t *argvlen, redisReply **ret)
{
    char *cmd = NULL;
    int len, rc;

    if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0)
        return GH_ENOMEM;
    rc = execute(st, flags, cmd, (size_t)len, ret);
    redisFreeCommand(cmd);
    return rc;
}

/*
 * Runs a script by SHA. A Redis that restarted (or ran SCRIPT FLUSH) has
 * lost its script cache and answers NOSCRIPT without running anything, so
 * the script is then sent whole once with EVAL, which also caches it again.
 * Scripts change data, so nothing else is retried.
 */
int
store_script(struct store *st, enum script script, int nkeys, int argc,
            const char **argv, redisReply **ret)
{
    const char **args;
    redisReply *r = NULL;
    char nkeys_s[16];
    int rc;

    if ((args = calloc((size_t)argc + 3, sizeof(*args))) == NULL)
        return GH_ENOMEM;
    snprintf(nkeys_s, sizeof(nkeys_s), "%d", nkeys);
    args[0] = "EVALSHA";
    args[1] = st->sha[script];
    args[2] = nkeys_s;
    if (argc > 0)
        memcpy(args + 3, argv, (size_t)argc * sizeof(*args));
    rc = store_command_argv(st, 0, argc + 3, args, NULL, &r);
    if (rc == GH_ENOTFOUND) {
        log_debug("redis_noscript script=%s", scripts[script].name);
        args[0] = "EVAL";
        args[1] = scripts[script].text;
        rc = store_command_argv(st, 0, argc + 3, args, NULL, &r);
    }
    free(args);
    if (rc == 0 && ret != NULL)
        *ret = r;
    else
        freeReplyObject(r);
    /* A script's own error is a bug here, not a missing script. */
    return rc == GH_ENOTFOUND ? GH_EPROTO : rc;
}

int
store_script_int(struct store *st, enum script script, int nkeys, int argc,
                 const char **argv, long long *ret)
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_script(st, script, nkeys, argc, argv, &r)) < 0)
        return rc;
    if (r->type != REDIS_REPLY_INTEGER) {
        rc = GH_EPROTO;
    } else {
        *ret = r->integer;
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int
store_key_name(const struct store *st, enum store_key kind, const char *id,
               char *buf, size_t size)
{
    const char *pattern, *open, *close;
    int n;

    if ((size_t)kind >= NELEM(schema) || schema[kind].pattern == NULL)
        return GH_EINVAL;
    pattern = schema[kind].pattern;
    open = strchr(pattern, '{');
    if ((open == NULL) != (id == NULL))
        return GH_EINVAL;
    if (open == NULL) {
        n = snprintf(buf, size, "%s%s", st->prefix, pattern);
    } else {
        close = strchr(open, '}');
        n = snprintf(buf, size, "%s%.*s%s%s", st->prefix, (int)(open - pattern),
                     pattern, id, close + 1);
    }
    if (n < 0 || (size_t)n >= size)
        return GH_ETOOBIG;
    return 0;
}

int
store_key_names(const struct store *st, const struct store_key_want *want,
                size_t n)
{
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        if ((rc = store_key_name(st, want[i].kind, want[i].id, *want[i].buf,
                                 sizeof(*want[i].buf))) < 0)
            return rc;
    }
    return 0;
}

int
store_key_command(struct store *st, int flags, redisReply **ret,
                  enum store_key kind, const char *id, const char *cmd)
{
    char key[STORE_KEY_MAX];
    int rc;

    if ((rc = store_key_name(st, kind, id, key, sizeof(key))) < 0)
        return rc;
    return store_command(st, flags, ret, "%s %s", cmd, key);
}

int
store_key_integer(struct store *st, int flags, enum store_key kind,
                  const char *id, const char *cmd, long long *ret)
{
    redisReply *r = NULL;
    int rc;

    if ((rc = store_key_command(st, flags, &r, kind, id, cmd)) < 0)
        return rc;
    *ret = store_reply_ll(r);
    freeReplyObject(r);
    return 0;
}

int
store_hgetall(struct store *st, enum store_key kind, const char *id,
              redisReply **ret)
{
    return store_key_command(st, STORE_IDEMPOTENT, ret, kind, id, "HGETALL");
}

int
store_ping(struct store *st)
{
    redisReply *r = NULL;
    int rc;

    rc = store_command(st, STORE_IDEMPOTENT, &r, "PING");
    freeReplyObject(r);
    return rc < 0 ? GH_EREDIS : 0;
}

int
store_load_scripts(struct store *st)
{
    redisReply *r = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; i < NSCRIPTS; i++) {
        if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "SCRIPT LOAD %s",
                          scripts[i].text)) < 0)
            goto out;
        /* Redis and we hash the same bytes; anything else means EVALSHA
         * would never find the script. */
        if (r->type != REDIS_REPLY_STRING || strcmp(r->str, st->sha[i]) != 0) {
            log_debug("redis_script_sha_mismatch script=%s", scripts[i].name);
            rc = GH_EPROTO;
            goto out;
        }
        freeReplyObject(r);
        r = NULL;
    }
out:
    freeReplyObject(r);
    return rc < 0 ? GH_EREDIS : 0;
}

int
store_echo_script(struct store *st, const char *in, char **out)
{
    redisReply *r = NULL;
    char *s;
    int rc;

    if ((rc = store_script(st, SCRIPT_PING, 0, 1, &in, &r)) < 0)
        goto out;
    if (r->type != REDIS_REPLY_STRING) {
        rc = GH_EPROTO;
        goto out;
    }
    if ((s = strdup(r->str)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    *out = s;
out:
    freeReplyObject(r);
    return rc;
}

int
store_info_used_memory(struct store *st, long long *bytes)
{
    static const char field[] = "\nused_memory:";
    redisReply *r = NULL;
    const char *p;
    char *end;
    long long v;
    int rc;

    if ((rc = store_command(st, STORE_IDEMPOTENT, &r, "INFO memory")) < 0)
        goto out;
    /* The section opens with "# Memory\r\n"; the leading newline keeps
     * used_memory_human and friends from matching. */
    if (r->type != REDIS_REPLY_STRING || (p = strstr(r->str, field)) == NULL) {
        rc = GH_EPROTO;
        goto out;
    }
    errno = 0;
    v = strtoll(p + sizeof(field) - 1, &end, 10);
    if (errno != 0 || end == p + sizeof(field) - 1) {
        rc = GH_EPROTO;
        goto out;
    }
    *bytes = v;
out:
    freeReplyObject(r);
    return rc;
}

const char *
store_prefix(const struct store *st)
{
    return st->prefix;
}
