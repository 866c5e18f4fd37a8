/* SPDX-License-Identifier: MIT */
/* store.c against a real redis-server (and redis-server --sentinel). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The test checks from the outside what store.c did, over its own link. */
#include <hiredis/hiredis.h>

#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "store/store_internal.h"
#include "gatehouse/core/util.h"
#include "gatehouse/directory/users.h"
#include "support.h"
#include "test.h"

/* A session for sub straight into Redis (no limit, no eviction), as a
 * sign-in from 127.0.0.1 leaves it. */
static int
test_session_create(struct store *st, const char *sid, const char *sub,
                    const char *khash, int64_t now_ms, int idle_s,
                    int absolute_s)
{
    struct store_session_new n = {
        .sid = sid,
        .sub = sub,
        .khash = khash,
        .now_ms = now_ms,
        .idle_s = idle_s,
        .absolute_s = absolute_s,
        .ip = "127.0.0.1",
        .ua = "test",
    };

    return store_session_create(st, &n, NULL);
}

/* A fresh redis-server and a config pointing at its socket. */
static void
setup(struct redis_proc *redis, struct redis_config *conf)
{
    /* A write to a connection Redis closed must fail, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (redis_start(redis, 0) < 0)
        FAIL("redis_start");
    memset(conf, 0, sizeof(*conf));
    conf->prefix = "t:";
    conf->unix_path = redis->socket;
}

/* One command over a private connection; the caller frees the reply. */
static redisReply *
raw(const struct redis_proc *redis, const char *fmt, ...)
{
    redisContext *c = redisConnectUnix(redis->socket);
    redisReply *r;
    va_list ap;

    if (c == NULL || c->err)
        FAIL("connect %s: %s", redis->socket, c ? c->errstr : "no memory");
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL)
        FAIL("%s: %s", fmt, c->errstr);
    redisFree(c);
    return r;
}

/* How many clients other than the asking one are connected. */
static int
client_count(const struct redis_proc *redis)
{
    redisReply *r = raw(redis, "CLIENT LIST");
    const char *p;
    int n = 0;

    ASSERT_EQ(r->type, REDIS_REPLY_STRING);
    for (p = r->str; *p != '\0'; p++)
        n += *p == '\n';
    freeReplyObject(r);
    return n - 1;
}

TEST(key_name_is_prefix_plus_pattern)
{
    struct redis_config conf;
    struct store *st;
    char buf[64];

    memset(&conf, 0, sizeof(conf));
    conf.prefix = "t:";
    conf.unix_path = "/nonexistent/redis.sock";
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_key_name(st, KEY_SESSION, "abc", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "t:sess:abc");
    ASSERT_EQ(store_key_name(st, KEY_USERNAME, "alice", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "t:uname:alice");
    ASSERT_EQ(store_key_name(st, KEY_SESSION_EXPIRY, NULL, buf, sizeof(buf)),
              0);
    ASSERT_STR_EQ(buf, "t:sexp");
    ASSERT_EQ(store_key_name(st, KEY_SESSION, NULL, buf, sizeof(buf)),
              GH_EINVAL);
    ASSERT_EQ(store_key_name(st, KEY_AUDIT, "x", buf, sizeof(buf)), GH_EINVAL);
    ASSERT_EQ(store_key_name(st, KEY_SESSION, "abc", buf, 10), GH_ETOOBIG);
    store_close(st);

    /* SPEC §3: the prefix defaults to "gh:". */
    conf.prefix = NULL;
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_key_name(st, KEY_CODE, "h", buf, sizeof(buf)), 0);
    ASSERT_STR_EQ(buf, "gh:code:h");
    store_close(st);
}

TEST(open_needs_an_address)
{
    struct redis_config conf;
    struct store *st = NULL;

    memset(&conf, 0, sizeof(conf));
    ASSERT_EQ(store_open(&conf, &st), GH_EINVAL);
    conf.sentinel_master = "gh";
    ASSERT_EQ(store_open(&conf, &st), GH_EINVAL);
    ASSERT(st == NULL);
    store_close(NULL);
}

TEST(ping_answers)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_ping(st), 0);
    ASSERT_EQ(store_ping(st), 0);
    ASSERT_EQ(client_count(&redis), 1);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(script_runs_by_sha_and_survives_script_flush)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    redisReply *r;
    char *out = NULL;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_load_scripts(st), 0);
    freeReplyObject(raw(&redis, "CONFIG RESETSTAT"));
    ASSERT_EQ(store_echo_script(st, "hello", &out), 0);
    ASSERT_STR_EQ(out, "hello");
    free(out);

    /* As after a Redis restart: the cache is gone, EVALSHA says NOSCRIPT
     * and the store sends the script whole, once. */
    freeReplyObject(raw(&redis, "SCRIPT FLUSH"));
    ASSERT_EQ(store_echo_script(st, "again", &out), 0);
    ASSERT_STR_EQ(out, "again");
    free(out);
    /* EVAL cached it again: this one goes by SHA. */
    ASSERT_EQ(store_echo_script(st, "third", &out), 0);
    ASSERT_STR_EQ(out, "third");
    free(out);

    r = raw(&redis, "INFO commandstats");
    ASSERT_CONTAINS(r->str, "cmdstat_eval:calls=1,");
    ASSERT_CONTAINS(r->str, "cmdstat_evalsha:calls=3,");
    freeReplyObject(r);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(script_works_without_load_scripts)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    char *out = NULL;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_echo_script(st, "", &out), 0);
    ASSERT_STR_EQ(out, "");
    free(out);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(ping_retries_once_after_connection_killed)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_ping(st), 0);
    freeReplyObject(raw(&redis, "CLIENT KILL TYPE normal"));
    ASSERT_EQ(client_count(&redis), 0);
    /* PING is idempotent: sent again on a fresh connection. */
    ASSERT_EQ(store_ping(st), 0);
    ASSERT_EQ(client_count(&redis), 1);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(script_after_connection_closed_while_idle_runs)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    char *out = NULL;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_ping(st), 0);
    /* As when a primary dies before a failover: the server closed the
     * idle connection. A script is never sent twice (it may have run), so
     * the store must notice before sending and connect afresh. */
    freeReplyObject(raw(&redis, "CLIENT KILL TYPE normal"));
    ASSERT_EQ(store_echo_script(st, "after kill", &out), 0);
    ASSERT_STR_EQ(out, "after kill");
    free(out);
    ASSERT_EQ(client_count(&redis), 1);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(redis_down_fails_fast_then_recovers)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    double t0, t1, deadline;
    int i, rc;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_ping(st), 0);
    redis_stop(&redis, 1);

    ASSERT_EQ(store_ping(st), GH_EREDIS);
    /* In backoff now: no connect attempt, no waiting. */
    t0 = test_now();
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    t1 = test_now();
    if (t1 - t0 > 0.1)
        FAIL("second ping took %.3f s", t1 - t0);
    for (i = 0; i < 100; i++)
        ASSERT_EQ(store_ping(st), GH_EREDIS);
    if (test_now() - t1 > 0.1)
        FAIL("100 pings took %.3f s", test_now() - t1);

    /* Let the backoff grow to its cap, then come back within it. */
    test_sleep_ms(1500);
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    ASSERT_EQ(redis_restart(&redis, 0), 0);
    t0 = test_now();
    deadline = t0 + 2.5;
    WAIT_UNTIL((rc = store_ping(st)) == 0, deadline - test_now(), 20);
    ASSERT_EQ(rc, 0);
    if (test_now() - t0 > 2.0)
        FAIL("reconnected after %.3f s", test_now() - t0);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(unreachable_from_start_fails_fast)
{
    struct redis_config conf;
    struct store *st;
    double t0;

    signal(SIGPIPE, SIG_IGN);
    memset(&conf, 0, sizeof(conf));
    conf.unix_path = "/nonexistent/redis.sock";
    ASSERT_EQ(store_open(&conf, &st), 0);
    t0 = test_now();
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    ASSERT_EQ(store_load_scripts(st), GH_EREDIS);
    if (test_now() - t0 > 0.1)
        FAIL("took %.3f s", test_now() - t0);
    store_close(st);
}

/*
 * A TCP port whose accept queue is full, so a connect hangs until the
 * connect timeout (Linux drops the SYN): Redis on a host that went away.
 * Returns the listening fd; *port is set.
 */
static int
blackhole(int *port, int fillers[4])
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd, i;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || listen(fd, 0) < 0)
        FAIL("blackhole: %s", strerror(errno));
    for (i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

TEST(slow_connect_is_paid_once_per_backoff)
{
    struct redis_config conf;
    struct store *st;
    int fd, fillers[4], i;
    double t0, t1;

    memset(&conf, 0, sizeof(conf));
    conf.host = "127.0.0.1";
    fd = blackhole(&conf.port, fillers);
    ASSERT_EQ(store_open(&conf, &st), 0);

    t0 = test_now();
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    t1 = test_now();
    if (t1 - t0 < 0.5 || t1 - t0 > 1.8)
        FAIL("connect gave up after %.3f s, not the ~1 s timeout", t1 - t0);
    /* Backoff: the next calls do not wait another timeout. */
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    if (test_now() - t1 > 0.1)
        FAIL("second ping took %.3f s", test_now() - t1);

    /* Once the backoff (50 ms, then 100 ms) has passed it tries again. */
    test_sleep_ms(60);
    t0 = test_now();
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    if (test_now() - t0 < 0.5)
        FAIL("no new connect attempt after the backoff");
    t1 = test_now();
    test_sleep_ms(60);
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    if (test_now() - t1 > 0.1 + 0.06)
        FAIL("backoff did not double");

    store_close(st);
    for (i = 0; i < 4; i++)
        close(fillers[i]);
    close(fd);
}

struct thread_arg {
    struct store *st;
    pthread_barrier_t *barrier;
    int call_done; /* store_thread_done, or leave it to thread exit */
    int rc;
};

static void *
pinger(void *p)
{
    struct thread_arg *a = p;

    a->rc = store_ping(a->st);
    pthread_barrier_wait(a->barrier); /* both connected */
    pthread_barrier_wait(a->barrier); /* main has counted */
    if (a->call_done)
        store_thread_done(a->st);
    return NULL;
}

TEST(each_thread_has_its_own_connection)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    pthread_barrier_t barrier;
    pthread_t t[2];
    struct thread_arg a[2];
    double deadline;
    int i;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    pthread_barrier_init(&barrier, NULL, 3);
    for (i = 0; i < 2; i++) {
        a[i].st = st;
        a[i].barrier = &barrier;
        a[i].call_done = i == 0;
        a[i].rc = -1;
        ASSERT_EQ(pthread_create(&t[i], NULL, pinger, &a[i]), 0);
    }
    pthread_barrier_wait(&barrier);
    ASSERT_EQ(client_count(&redis), 2);
    pthread_barrier_wait(&barrier);
    for (i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(a[i].rc, 0);
    }
    /* store_thread_done and thread exit both closed theirs. */
    deadline = test_now() + 2;
    WAIT_UNTIL(client_count(&redis) == 0, deadline - test_now(), 10);
    ASSERT_EQ(client_count(&redis), 0);

    pthread_barrier_destroy(&barrier);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(auth_and_db_are_applied)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st, *noauth;
    redisReply *r;
    redisContext *c;

    setup(&redis, &conf);
    freeReplyObject(raw(&redis, "CONFIG SET requirepass s3cret"));
    conf.password = "s3cret";
    conf.db = 3;
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_ping(st), 0);

    /* Without the password Redis refuses. */
    conf.password = NULL;
    ASSERT_EQ(store_open(&conf, &noauth), 0);
    ASSERT_EQ(store_ping(noauth), GH_EREDIS);
    store_close(noauth);

    if ((c = redisConnectUnix(redis.socket)) == NULL || c->err)
        FAIL("connect");
    freeReplyObject(redisCommand(c, "AUTH s3cret"));
    r = redisCommand(c, "CLIENT LIST");
    ASSERT(r != NULL && r->type == REDIS_REPLY_STRING);
    ASSERT_CONTAINS(r->str, " db=3 ");
    freeReplyObject(r);
    redisFree(c);
    store_close(st);
    redis_stop(&redis, 0);
}

TEST(used_memory_is_reported)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    long long bytes = 0;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_info_used_memory(st, &bytes), 0);
    ASSERT(bytes > 100000);
    store_close(st);
    redis_stop(&redis, 0);
}

/* SPEC §3: the MAC key is made on first use and shared through Redis, so
 * two instances agree; once read it is kept, and a key of the wrong size
 * is refused rather than used. */
TEST(mac_key_is_made_once_and_shared)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *a, *b;
    unsigned char ka[32], kb[32], again[32];
    redisReply *r;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &a), 0);
    ASSERT_EQ(store_open(&conf, &b), 0);
    r = raw(&redis, "EXISTS t:mackey");
    ASSERT_EQ(r->integer, 0);
    freeReplyObject(r);
    ASSERT_EQ(store_mac_key(a, ka), 0);
    ASSERT_EQ(store_mac_key(b, kb), 0);
    ASSERT(memcmp(ka, kb, 32) == 0);
    r = raw(&redis, "GET t:mackey");
    ASSERT_EQ(r->type, REDIS_REPLY_STRING);
    ASSERT_EQ(r->len, 32);
    ASSERT(memcmp(r->str, ka, 32) == 0);
    freeReplyObject(r);
    /* Kept in memory: read once, not per request. */
    freeReplyObject(raw(&redis, "SET t:mackey short"));
    ASSERT_EQ(store_mac_key(a, again), 0);
    ASSERT(memcmp(again, ka, 32) == 0);
    store_close(b);
    ASSERT_EQ(store_open(&conf, &b), 0);
    ASSERT_EQ(store_mac_key(b, kb), GH_EPROTO);
    store_close(b);
    store_close(a);
    redis_stop(&redis, 0);
}

TEST(unreachable_sentinels_fail_fast)
{
    struct redis_config conf;
    struct store *st;
    char a[32], b[32];
    char *addrs[] = {a, b};
    double t0;

    signal(SIGPIPE, SIG_IGN);
    snprintf(a, sizeof(a), "127.0.0.1:%d", test_free_port());
    snprintf(b, sizeof(b), "[::1]:%d", test_free_port());
    memset(&conf, 0, sizeof(conf));
    conf.sentinel_master = "gh";
    conf.sentinel_addresses.v = addrs;
    conf.sentinel_addresses.n = 2;
    ASSERT_EQ(store_open(&conf, &st), 0);
    t0 = test_now();
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    if (test_now() - t0 > 0.1)
        FAIL("took %.3f s", test_now() - t0);
    store_close(st);
}

/* Processes this file starts itself (TCP, which the support helpers do not
 * do); killed at exit, like support.c's. */
static pid_t tcp_children[4];

static void
kill_tcp_children(void)
{
    size_t i;

    for (i = 0; i < sizeof(tcp_children) / sizeof(tcp_children[0]); i++) {
        if (tcp_children[i] > 0) {
            kill(tcp_children[i], SIGKILL);
            waitpid(tcp_children[i], NULL, 0);
            tcp_children[i] = 0;
        }
    }
}

/* Starts argv with output to log and waits until port answers PING. */
static pid_t
start_tcp(char *const argv[], const char *log, int port)
{
    static int registered;
    double deadline = test_now() + 10;
    redisContext *c;
    redisReply *r;
    size_t i;
    pid_t pid;

    if (!registered) {
        atexit(kill_tcp_children);
        registered = 1;
    }
    if ((pid = fork()) < 0)
        FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    for (i = 0; i < sizeof(tcp_children) / sizeof(tcp_children[0]); i++) {
        if (tcp_children[i] == 0) {
            tcp_children[i] = pid;
            break;
        }
    }
    while (test_now() < deadline) {
        c = redisConnect("127.0.0.1", port);
        r = c != NULL && !c->err ? redisCommand(c, "PING") : NULL;
        redisFree(c);
        if (r != NULL) {
            freeReplyObject(r);
            return pid;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            FAIL("%s exited; see %s", argv[0], log);
        test_sleep_ms(20);
    }
    FAIL("%s did not answer on port %d", argv[0], port);
}

static void
stop_tcp(pid_t pid)
{
    size_t i;

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    for (i = 0; i < sizeof(tcp_children) / sizeof(tcp_children[0]); i++)
        if (tcp_children[i] == pid)
            tcp_children[i] = 0;
}

/* One command to 127.0.0.1:port; the caller frees the reply. */
static redisReply *
raw_tcp(int port, const char *cmd)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    redisReply *r;

    if (c == NULL || c->err)
        FAIL("connect %d", port);
    if ((r = redisCommand(c, cmd)) == NULL)
        FAIL("%s: %s", cmd, c->errstr);
    redisFree(c);
    return r;
}

TEST(sentinel_finds_the_primary)
{
    char dir[256];
    char path[300], log[300], port_s[16], dead[32], live[32], *out = NULL;
    char *addrs[] = {dead, live};
    struct redis_config conf;
    struct store *st;
    pid_t primary, sentinel;
    int port, sport, rc;
    double deadline;
    FILE *f;

    signal(SIGPIPE, SIG_IGN);
    if (test_mkdtemp(dir, sizeof(dir), "sentinel") < 0)
        FAIL("mkdtemp");
    port = test_free_port();
    snprintf(port_s, sizeof(port_s), "%d", port);
    snprintf(log, sizeof(log), "%s/primary.log", dir);
    {
        char *argv[] = {"redis-server", "--port", port_s, "--bind",
                        "127.0.0.1",    "--save", "",     "--appendonly",
                        "no",           "--dir",  dir,    NULL};
        primary = start_tcp(argv, log, port);
    }
    sport = test_free_port();
    snprintf(path, sizeof(path), "%s/sentinel.conf", dir);
    if ((f = fopen(path, "w")) == NULL)
        FAIL("%s: %s", path, strerror(errno));
    fprintf(f,
            "port %d\nbind 127.0.0.1\ndir %s\n"
            "sentinel monitor gh 127.0.0.1 %d 1\n",
            sport, dir, port);
    fclose(f);
    snprintf(log, sizeof(log), "%s/sentinel.log", dir);
    {
        char *argv[] = {"redis-server", path, "--sentinel", NULL};
        sentinel = start_tcp(argv, log, sport);
    }

    /* The first sentinel is down: the store asks the next. */
    snprintf(dead, sizeof(dead), "127.0.0.1:%d", test_free_port());
    snprintf(live, sizeof(live), "127.0.0.1:%d", sport);
    memset(&conf, 0, sizeof(conf));
    conf.prefix = "t:";
    conf.sentinel_master = "gh";
    conf.sentinel_addresses.v = addrs;
    conf.sentinel_addresses.n = 2;
    ASSERT_EQ(store_open(&conf, &st), 0);
    ASSERT_EQ(store_ping(st), 0);
    ASSERT_EQ(store_echo_script(st, "via sentinel", &out), 0);
    ASSERT_STR_EQ(out, "via sentinel");
    free(out);

    /* The named server is no primary any more (as in a failover Sentinel
     * has not finished): after the connection breaks, the store asks the
     * sentinel again, sees ROLE slave, and refuses it. */
    freeReplyObject(raw_tcp(port, "REPLICAOF 127.0.0.1 1"));
    freeReplyObject(raw_tcp(port, "CLIENT KILL TYPE normal"));
    ASSERT_EQ(store_ping(st), GH_EREDIS);
    freeReplyObject(raw_tcp(port, "REPLICAOF NO ONE"));
    deadline = test_now() + 2.5;
    WAIT_UNTIL((rc = store_ping(st)) == 0, deadline - test_now(), 20);
    ASSERT_EQ(rc, 0);

    store_close(st);
    stop_tcp(sentinel);
    stop_tcp(primary);
    {
        char *argv[] = {"rm", "-rf", dir, NULL};
        run_cmd(argv, NULL, NULL, NULL);
    }
}

/* A delivery claim or outcome batch larger than Lua's unpack takes at once
 * (the scripts slice their queue updates): every one is leased, recorded
 * and taken off the queue, the failed ones onto the failed set. */
#define BIG_BATCH 4500
TEST(delivery_batches_beyond_one_slice_are_whole)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    struct session_ended *ended = calloc(BIG_BATCH, sizeof(*ended));
    struct delivery_outcome *o = calloc(BIG_BATCH, sizeof(*o));
    struct delivery_claim *c = NULL;
    char *sids[BIG_BATCH], khash[65];
    int64_t now = util_now();
    size_t i, n = 0;
    redisReply *r;

    ASSERT(ended != NULL && o != NULL);
    memset(khash, 'a', 64);
    khash[64] = '\0';
    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    for (i = 0; i < BIG_BATCH; i++) {
        ASSERT(asprintf(&sids[i], "sid-%04zu", i) > 0);
        ASSERT_EQ(test_session_create(st, sids[i], "sub-1", khash,
                                       now * 1000, 600,
                                       3600),
                  0);
        ASSERT_EQ(store_session_touch(st, sids[i], now, 600, 3600, "app",
                                      "http://127.0.0.1:9/bc", NULL),
                  0);
    }
    for (i = 0; i < BIG_BATCH; i += 100)
        ASSERT_EQ(store_sessions_end(st, sids + i, 100, "admin", "test", now,
                                     600, 3600, 1, ended + i),
                  100);

    ASSERT_EQ(store_delivery_claim(st, now, 30, 2 * BIG_BATCH, 2 * BIG_BATCH,
                                   "e1", NULL, 0, &c, &n),
              0);
    ASSERT_EQ(n, BIG_BATCH);
    /* The engine's count of attempts in flight to the app, leased. */
    r = raw(&redis, "HGET t:dinf:app e1");
    ASSERT_EQ(strncmp(r->str, "4500 ", 5), 0);
    freeReplyObject(r);
    /* Every one leased: none is due again before the lease ends. */
    r = raw(&redis, "ZCOUNT t:dq -inf %lld", (long long)now + 29);
    ASSERT_EQ(r->integer, 0);
    freeReplyObject(r);
    r = raw(&redis, "ZCOUNT t:dq %lld %lld", (long long)now + 30,
            (long long)now + 30);
    ASSERT_EQ(r->integer, BIG_BATCH);
    freeReplyObject(r);

    /* The first 3,600 delivered, the rest failed for good (one attempt). */
    for (i = 0; i < n; i++)
        o[i] = (struct delivery_outcome){.id = c[i].id,
                                         .outcome = i < 3600 ? "http 200"
                                                             : "http 500",
                                         .delivered = i < 3600,
                                         .next_due = (double)now + 60,
                                         .client_id = c[i].client_id,
                                         .result = -9};
    ASSERT_EQ(store_delivery_done(st, now, (double)now, "e1", 30, 1, o, n), 0);
    for (i = 0; i < n; i++)
        ASSERT_EQ(o[i].result, i < 3600 ? 1 : 2);
    r = raw(&redis, "ZCARD t:dq");
    ASSERT_EQ(r->integer, 0);
    freeReplyObject(r);
    r = raw(&redis, "ZCARD t:dfail");
    ASSERT_EQ(r->integer, BIG_BATCH - 3600);
    freeReplyObject(r);
    r = raw(&redis, "EXISTS t:dinf:app");
    ASSERT_EQ(r->integer, 0);
    freeReplyObject(r);
    r = raw(&redis, "HGET t:dl:%s st", c[BIG_BATCH - 1].id);
    ASSERT_STR_EQ(r->str, "failed");
    freeReplyObject(r);

    store_delivery_claims_free(c, n);
    for (i = 0; i < BIG_BATCH; i++) {
        session_ended_clear(&ended[i]);
        free(sids[i]);
    }
    free(ended);
    free(o);
    store_close(st);
    redis_stop(&redis, 0);
}

/* Sessions sid-0..n-1 each ended with one delivery to app: n queued. */
static void
queue_deliveries(struct store *st, const char *app, int n, int64_t now,
                 char **sids)
{
    struct session_ended e;
    char khash[65];
    int i;

    memset(khash, 'b', 64);
    khash[64] = '\0';
    for (i = 0; i < n; i++) {
        ASSERT(asprintf(&sids[i], "s%s%d", app, i) > 0);
        ASSERT_EQ(test_session_create(st, sids[i], "sub-1", khash,
                                       now * 1000, 600, 3600),
                  0);
        ASSERT_EQ(store_session_touch(st, sids[i], now, 600, 3600, app,
                                      "http://127.0.0.1:9/bc", NULL),
                  0);
        ASSERT_EQ(store_sessions_end(st, sids + i, 1, "admin", "test", now,
                                     600, 3600, 1, &e),
                  1);
        session_ended_clear(&e);
    }
}

static void
seen_circuit(void *arg, const char *client_id, int open)
{
    if (strcmp(client_id, "down") == 0)
        *(int *)arg = open;
}

/* SPEC §6: per_app_concurrency holds across every claim (every instance),
 * what an app cannot take waits (parked, still pending, listed and
 * counted) while other apps' deliveries are handed out in the same call,
 * and five failures in a row open an app's circuit. */
TEST(deliveries_are_claimed_fairly_between_apps)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;
    struct delivery_claim *c = NULL, *c2 = NULL;
    struct delivery_record *rec = NULL;
    struct delivery_outcome o[5];
    /* What engine "a" has in flight as the test goes. */
    struct delivery_app_count mine[3] = {{"busy", 1}, {"calm", 1}, {"down", 0}};
    char *busy[6], *calm[1], *down[5];
    int64_t now = util_now();
    long long pending, failed, total, parked;
    size_t n = 0, n2 = 0, nrec = 0, i;
    int open = -1;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    queue_deliveries(st, "busy", 6, now, busy);
    queue_deliveries(st, "calm", 1, now, calm);

    /* Six of busy are due before calm's one: busy gets its two, calm
     * its one, and busy's other four wait. */
    ASSERT_EQ(store_delivery_claim(st, (double)now + 1, 30, 10, 2, "a", NULL, 0,
                                   &c, &n),
              0);
    ASSERT_EQ(n, 3);
    for (i = 0; i < n; i++)
        ASSERT_EQ(c[i].trial, 0);
    ASSERT_EQ(store_delivery_parked(st, &parked), 0);
    ASSERT_EQ(parked, 4);
    ASSERT_EQ(store_delivery_counts(st, &pending, &failed), 0);
    ASSERT_EQ(pending, 7);
    ASSERT_EQ(store_deliveries_list(st, 0, 100, &rec, &nrec, &total), 0);
    ASSERT_EQ(nrec, 7);
    ASSERT_EQ(total, 7);
    store_delivery_records_free(rec, nrec);
    /* Another instance's claim sees busy's two in flight: nothing more. */
    ASSERT_EQ(store_delivery_claim(st, (double)now + 1, 30, 10, 2, "b", NULL, 0,
                                   &c2, &n2),
              0);
    ASSERT_EQ(n2, 0);
    store_delivery_claims_free(c2, n2);

    /* One of busy's done: one parked one goes, and only one. */
    for (i = 0; i < n && strcmp(c[i].client_id, "busy") != 0; i++)
        ;
    ASSERT(i < n);
    o[0] = (struct delivery_outcome){.id = c[i].id, .outcome = "http 200",
                                     .delivered = 1, .client_id = "busy",
                                     .app_left = 1};
    ASSERT_EQ(store_delivery_done(st, now, (double)now + 1, "a", 30, 8, o, 1),
              0);
    ASSERT_EQ(o[0].result, 1);
    ASSERT_EQ(store_delivery_claim(st, (double)now + 1, 30, 10, 2, "a", mine,
                                   2, &c2, &n2),
              0);
    ASSERT_EQ(n2, 1);
    ASSERT_STR_EQ(c2[0].client_id, "busy");
    store_delivery_claims_free(c2, n2);
    ASSERT_EQ(store_delivery_parked(st, &parked), 0);
    ASSERT_EQ(parked, 3);
    store_delivery_claims_free(c, n);

    /* An app down five times in a row: its circuit opens, and its
     * deliveries wait until the trial time. */
    queue_deliveries(st, "down", 5, now, down);
    mine[0].n = 2;
    ASSERT_EQ(store_delivery_claim(st, (double)now + 2, 30, 10, 8, "a", mine, 2,
                                   &c, &n),
              0);
    ASSERT_EQ(n, 5 + 3); /* down's five, and busy's three parked */
    for (i = 0, n2 = 0; i < n; i++) {
        if (strcmp(c[i].client_id, "down") != 0)
            continue;
        o[n2] = (struct delivery_outcome){.id = c[i].id,
                                          .outcome = "error Timeout",
                                          .next_due = (double)now + 3,
                                          .client_id = "down",
                                          .down = 1};
        n2++;
    }
    ASSERT_EQ(n2, 5);
    ASSERT_EQ(store_delivery_done(st, now, (double)now + 2, "a", 30, 8, o, 5),
              0);
    for (i = 0; i < 4; i++)
        ASSERT_EQ(o[i].circuit, 0);
    ASSERT_EQ(o[4].circuit, 1000);
    ASSERT_EQ(o[4].result, 0); /* still pending, not failed */
    ASSERT_EQ(store_delivery_circuits(st, seen_circuit, &open), 0);
    ASSERT_EQ(open, 1);
    store_delivery_claims_free(c, n);
    /* Due again at now + 3, but the circuit holds them until now + 3. */
    mine[0].n = 5;
    ASSERT_EQ(store_delivery_claim(st, (double)now + 2.9, 30, 10, 8, "a", mine,
                                   2, &c, &n),
              0);
    ASSERT_EQ(n, 0);
    store_delivery_claims_free(c, n);
    ASSERT_EQ(store_delivery_claim(st, (double)now + 3.5, 30, 10, 8, "a", mine,
                                   2, &c, &n),
              0);
    /* Then one trial, no more. */
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(c[0].client_id, "down");
    ASSERT_EQ(c[0].trial, 1);
    o[0] = (struct delivery_outcome){.id = c[0].id, .outcome = "http 204",
                                     .delivered = 1, .client_id = "down"};
    ASSERT_EQ(store_delivery_done(st, now, (double)now + 3.6, "a", 30, 8, o, 1),
              0);
    ASSERT_EQ(o[0].circuit, -1);
    ASSERT_EQ(store_delivery_circuits(st, seen_circuit, &open), 0);
    ASSERT_EQ(open, 0);
    store_delivery_claims_free(c, n);
    /* Closed: the other four go at once. */
    ASSERT_EQ(store_delivery_claim(st, (double)now + 3.7, 30, 10, 8, "a", mine,
                                   2, &c, &n),
              0);
    ASSERT_EQ(n, 4);
    store_delivery_claims_free(c, n);

    for (i = 0; i < 6; i++)
        free(busy[i]);
    free(calm[0]);
    for (i = 0; i < 5; i++)
        free(down[i]);
    store_close(st);
    redis_stop(&redis, 0);
}

/* Redis at maxmemory (noeviction) refuses writes with -OOM: that is Redis
 * unable to serve now, as for LOADING or READONLY, never a bug or "not
 * found" a caller could take for success (issue 15). */
TEST(out_of_memory_is_unavailable)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct store *st;

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);
    freeReplyObject(raw(&redis, "CONFIG SET maxmemory-policy noeviction"));
    freeReplyObject(raw(&redis, "CONFIG SET maxmemory 1"));
    {
        const char *who[] = {"u:x"};
        long retry = 0;
        /* A script whose first command writes. */
        ASSERT_EQ(store_login_reserve(st, who, 1, 5, 60, &retry), GH_EREDIS);
    }
    /* And one that reads first. */
    ASSERT_EQ(test_session_create(st, "sid0000000000000000000", "sub", "h",
                                   1000, 60, 600),
              GH_EREDIS);
    freeReplyObject(raw(&redis, "CONFIG SET maxmemory 0"));
    {
        const char *who[] = {"u:x"};
        long retry = 0;
        ASSERT_EQ(store_login_reserve(st, who, 1, 5, 60, &retry), 0);
    }
    store_close(st);
    redis_stop(&redis, 0);
}


/* A reply as hiredis parses it from RESP text: what the decoder sees
 * from a real Redis, including shapes no command of ours asks for. */
static redisReply *
resp(const char *text)
{
    redisReader *rd = redisReaderCreate();
    void *r = NULL;

    ASSERT(rd != NULL);
    ASSERT_EQ(redisReaderFeed(rd, text, strlen(text)), REDIS_OK);
    ASSERT_EQ(redisReaderGetReply(rd, &r), REDIS_OK);
    ASSERT(r != NULL);
    redisReaderFree(rd);
    return r;
}

struct decoded {
    char *name;
    char *nick;
    char *note;
    char city[8];
    int count;
    int64_t when;
    long long big;
    bool verified;
    bool disabled;
};

static const struct store_field decoded_fields[] = {
    STORE_FIELD("n", STORE_FIELD_STR, struct decoded, name),
    STORE_FIELD_OR("k", struct decoded, nick, ""),
    STORE_FIELD("o", STORE_FIELD_STR, struct decoded, note),
    STORE_FIELD("city", STORE_FIELD_BUF, struct decoded, city),
    STORE_FIELD("cnt", STORE_FIELD_NUM, struct decoded, count),
    STORE_FIELD("w", STORE_FIELD_NUM, struct decoded, when),
    STORE_FIELD("b", STORE_FIELD_NUM, struct decoded, big),
    STORE_FIELD("v", STORE_FIELD_FLAG, struct decoded, verified),
    STORE_FIELD("d", STORE_FIELD_FLAG_CLOSED, struct decoded, disabled),
};

static void
decoded_clear(struct decoded *d)
{
    free(d->name);
    free(d->nick);
    free(d->note);
    memset(d, 0, sizeof(*d));
}

/* Decodes RESP text into a fresh struct decoded; returns the code. */
static int
decode_text(const char *text, struct decoded *d)
{
    redisReply *r = resp(text);
    int rc;

    memset(d, 0, sizeof(*d));
    rc = STORE_DECODE(r, decoded_fields, d);
    freeReplyObject(r);
    return rc;
}

TEST(hash_decoder_fills_a_struct_by_its_table)
{
    struct decoded d;

    /* Every type, a field not in the table, and one given twice. */
    ASSERT_EQ(decode_text("*18\r\n"
                          "$1\r\nn\r\n$5\r\nalice\r\n"
                          "$4\r\ncity\r\n$9\r\nMontreal!\r\n"
                          "$3\r\ncnt\r\n$2\r\n42\r\n"
                          "$1\r\nw\r\n$13\r\n1733570000123\r\n"
                          "$1\r\nb\r\n$2\r\n-7\r\n"
                          "$1\r\nv\r\n$1\r\n1\r\n"
                          "$1\r\nd\r\n$1\r\n0\r\n"
                          "$3\r\nxyz\r\n$5\r\nother\r\n"
                          "$1\r\nn\r\n$3\r\nbob\r\n",
                          &d),
              0);
    ASSERT_STR_EQ(d.name, "alice");
    ASSERT_STR_EQ(d.city, "Montrea"); /* cut to fit */
    ASSERT_EQ(d.count, 42);
    ASSERT_EQ(d.when, 1733570000123LL);
    ASSERT_EQ(d.big, -7);
    ASSERT(d.verified);
    ASSERT(!d.disabled);
    /* Absent: "" where the table says so, else untouched. */
    ASSERT_STR_EQ(d.nick, "");
    ASSERT(d.note == NULL);
    decoded_clear(&d);

    /* Flags: FLAG wants "1"; FLAG_CLOSED is set by anything but "0". */
    ASSERT_EQ(decode_text("*4\r\n$1\r\nv\r\n$3\r\nyes\r\n"
                          "$1\r\nd\r\n$3\r\nbad\r\n",
                          &d),
              0);
    ASSERT(!d.verified);
    ASSERT(d.disabled);
    decoded_clear(&d);
}

TEST(hash_decoder_refuses_wrong_shapes)
{
    struct decoded d;

    /* No such key: HGETALL's empty array. */
    ASSERT_EQ(decode_text("*0\r\n", &d), GH_ENOTFOUND);
    /* Not a field/value array at all. */
    ASSERT_EQ(decode_text("$5\r\nhello\r\n", &d), GH_EPROTO);
    ASSERT_EQ(decode_text(":3\r\n", &d), GH_EPROTO);
    ASSERT_EQ(decode_text("*-1\r\n", &d), GH_EPROTO);
    /* A field without its value. */
    ASSERT_EQ(decode_text("*3\r\n$1\r\nn\r\n$1\r\na\r\n$1\r\nk\r\n", &d),
              GH_EPROTO);
    decoded_clear(&d);
    /* A field name that is not a string. */
    ASSERT_EQ(decode_text("*2\r\n:1\r\n$1\r\na\r\n", &d), GH_EPROTO);
    /* A known field whose value is an integer, nil or an array. */
    ASSERT_EQ(decode_text("*2\r\n$3\r\ncnt\r\n:5\r\n", &d), GH_EPROTO);
    ASSERT_EQ(decode_text("*2\r\n$1\r\nn\r\n$-1\r\n", &d), GH_EPROTO);
    ASSERT_EQ(decode_text("*2\r\n$1\r\nn\r\n*1\r\n$1\r\na\r\n", &d),
              GH_EPROTO);
    /* An unknown field's value is not looked at. */
    ASSERT_EQ(decode_text("*4\r\n$1\r\nz\r\n*0\r\n$1\r\nn\r\n$1\r\na\r\n",
                          &d),
              0);
    ASSERT_STR_EQ(d.name, "a");
    decoded_clear(&d);
}

/* An error reply is Redis speaking, at any depth: one that means "cannot
 * serve now" must reach the caller as an outage (503), never as a
 * malformed record or a missing one (issue 15). */
TEST(hash_decoder_passes_error_replies_on)
{
    struct decoded d;

    ASSERT_EQ(decode_text("-OOM command not allowed when used memory > "
                          "'maxmemory'.\r\n",
                          &d),
              GH_EREDIS);
    ASSERT_EQ(decode_text("-LOADING Redis is loading the dataset\r\n", &d),
              GH_EREDIS);
    ASSERT_EQ(decode_text("*2\r\n$1\r\nn\r\n-READONLY You can't write "
                          "against a read only replica.\r\n",
                          &d),
              GH_EREDIS);
    ASSERT_EQ(decode_text("*2\r\n-OOM no room\r\n$1\r\na\r\n", &d),
              GH_EREDIS);
    /* Any other error is a bug, reported as such. */
    ASSERT_EQ(decode_text("-WRONGTYPE Operation against a key holding the "
                          "wrong kind of value\r\n",
                          &d),
              GH_EPROTO);
    ASSERT_EQ(decode_text("*2\r\n$1\r\nz\r\n-ERR what\r\n", &d), GH_EPROTO);
    decoded_clear(&d);
}

/* The user record: required fields, defaults, and the password hash that
 * refresh_rotate.lua leaves out. */
TEST(user_record_needs_username_and_hash)
{
    struct user *u = NULL;
    redisReply *r;

    r = resp("*6\r\n$1\r\nu\r\n$5\r\nAlice\r\n$1\r\nh\r\n$4\r\nphc!\r\n"
             "$1\r\nd\r\n$1\r\n1\r\n");
    ASSERT_EQ(store_user_parse(r, "sub-1", 1, &u), 0);
    ASSERT_STR_EQ(u->sub, "sub-1");
    ASSERT_STR_EQ(u->username, "Alice");
    ASSERT_STR_EQ(u->hash, "phc!");
    ASSERT_STR_EQ(u->email, "");
    ASSERT_STR_EQ(u->zoneinfo, "");
    ASSERT(u->disabled);
    ASSERT(!u->email_verified);
    user_free(u);
    freeReplyObject(r);

    /* Without the hash: fine for a grant, refused for a sign-in. */
    r = resp("*2\r\n$1\r\nu\r\n$5\r\nAlice\r\n");
    u = NULL;
    ASSERT_EQ(store_user_parse(r, "sub-1", 1, &u), GH_EPROTO);
    ASSERT(u == NULL);
    ASSERT_EQ(store_user_parse(r, "sub-1", 0, &u), 0);
    ASSERT(u->hash == NULL);
    user_free(u);
    freeReplyObject(r);

    /* Without a username it was not written by user_create. */
    r = resp("*2\r\n$1\r\nh\r\n$4\r\nphc!\r\n");
    u = NULL;
    ASSERT_EQ(store_user_parse(r, "sub-1", 1, &u), GH_EPROTO);
    ASSERT(u == NULL);
    freeReplyObject(r);
}

/* The hash readers against real Redis: records with fields missing, and a
 * key of the wrong type. */
TEST(hash_readers_take_what_redis_holds)
{
    struct redis_proc redis;
    struct redis_config conf;
    struct logout_all_state la;
    struct session *s = NULL;
    struct user *u = NULL;
    struct store *st;
    char khash[65];

    setup(&redis, &conf);
    ASSERT_EQ(store_open(&conf, &st), 0);

    ASSERT_EQ(store_user_get(st, "nobody", &u), GH_ENOTFOUND);
    freeReplyObject(raw(&redis, "HSET t:user:u1 u bob h x c 17 gn Bob"));
    ASSERT_EQ(store_user_get(st, "u1", &u), 0);
    ASSERT_STR_EQ(u->username, "bob");
    ASSERT_STR_EQ(u->given_name, "Bob");
    ASSERT_STR_EQ(u->family_name, "");
    ASSERT_EQ(u->created, 17);
    user_free(u);
    freeReplyObject(raw(&redis, "SET t:user:u2 not-a-hash"));
    ASSERT_EQ(store_user_get(st, "u2", &u), GH_EPROTO);

    freeReplyObject(raw(&redis, "HSET t:sess:s1 sub u1 k %s c 100 ls 150 "
                                "at 100 a:app1 https://a a:app2 \"\"",
                        "ab12"));
    ASSERT_EQ(store_session_get(st, "s1", &s, khash), 0);
    ASSERT_STR_EQ(s->sub, "u1");
    ASSERT_STR_EQ(khash, "ab12");
    ASSERT_EQ(s->created, 100);
    ASSERT_EQ(s->last_seen, 150);
    ASSERT_EQ(s->auth_time_ms, 100000); /* no "am": from "at" */
    ASSERT(s->ua == NULL);
    ASSERT_STR_EQ(s->ip, "");
    ASSERT_EQ(s->napps, 2);
    session_free(s);
    s = NULL;
    ASSERT_EQ(store_session_get(st, "s2", &s, NULL), GH_ENOTFOUND);

    ASSERT_EQ(store_logout_all_get(st, &la), GH_ENOTFOUND);
    freeReplyObject(raw(&redis, "HSET t:lall state done actor cli:root "
                                "total 12 ended 12 resumes 2 started 5"));
    ASSERT_EQ(store_logout_all_get(st, &la), 0);
    ASSERT_STR_EQ(la.state, "done");
    ASSERT_STR_EQ(la.actor, "cli:root");
    ASSERT_STR_EQ(la.reason, "");
    ASSERT_EQ(la.total, 12);
    ASSERT_EQ(la.queued, 0);
    ASSERT_EQ(la.resumes, 2);
    ASSERT_EQ(la.started, 5);

    store_close(st);
    redis_stop(&redis, 0);
}

/* Whether a line of Lua code quotes key: a string that opens with it
 * ("sess:" for sess:{sid}), or that is it (whole, for a key such as
 * sexp, so 'sexpx' does not match). Comments ("--" on) do not count. */
static int
lua_quotes(const char *line, const char *key, int whole)
{
    const char *end = strstr(line, "--"), *p;
    size_t len = strlen(key);

    for (p = line; (p = strpbrk(p, "'\"")) != NULL; p++) {
        if (end != NULL && p >= end)
            break;
        if (strncmp(p + 1, key, len) == 0 && (!whole || p[1 + len] == *p))
            return 1;
    }
    return 0;
}

/*
 * The key schema is spelled once (schema.def); the scripts take it from
 * the prelude embed.py writes (K.sess, C.LEDGER_TTL_S). A quoted key
 * prefix, single key or shared number in a script's code is the drift
 * that happened before: this reads every .lua file for one, with the
 * patterns store_key_name() gives, not embed.py's own reading.
 */
TEST(lua_scripts_spell_out_no_key_or_shared_number)
{
    struct redis_config conf;
    struct {
        char text[64];
        int whole;
    } keys[64];
    char buf[STORE_KEY_MAX], dir[512], path[1024], line[512];
    char numbers[2][24];
    const char *data = getenv("TEST_DATA");
    struct store *st;
    struct dirent *e;
    size_t nkeys = 0, nfiles = 0, i;
    DIR *d;
    FILE *f;
    int kind;

    if (data == NULL)
        FAIL("TEST_DATA is not set (run through meson test)");
    memset(&conf, 0, sizeof(conf));
    conf.prefix = "";
    conf.unix_path = "/nonexistent/redis.sock";
    ASSERT_EQ(store_open(&conf, &st), 0);
    for (kind = 0; nkeys < 64; kind++) {
        if (store_key_name(st, kind, "", buf, sizeof(buf)) == 0)
            keys[nkeys].whole = 0;
        else if (store_key_name(st, kind, NULL, buf, sizeof(buf)) == 0)
            keys[nkeys].whole = 1;
        else
            break;
        ASSERT(strlen(buf) < sizeof(keys[nkeys].text));
        memcpy(keys[nkeys].text, buf, strlen(buf) + 1);
        nkeys++;
    }
    store_close(st);
    ASSERT(nkeys >= 20);
    snprintf(numbers[0], sizeof(numbers[0]), "%d", STORE_LEDGER_TTL_S);
    snprintf(numbers[1], sizeof(numbers[1]), "%d", STORE_AUDIT_MAX);

    /* TEST_DATA is tests/data in the source tree (it may not exist). */
    snprintf(dir, sizeof(dir), "%.*s/../src/store/lua",
             (int)(strrchr(data, '/') != NULL ? strrchr(data, '/') - data
                                              : 0),
             data);
    ASSERT((d = opendir(dir)) != NULL);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int lineno = 0;

        if (len < 5 || strcmp(e->d_name + len - 4, ".lua") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ASSERT((f = fopen(path, "r")) != NULL);
        nfiles++;
        while (fgets(line, sizeof(line), f) != NULL) {
            char *comment = strstr(line, "--");

            lineno++;
            for (i = 0; i < nkeys; i++) {
                if (lua_quotes(line, keys[i].text, keys[i].whole))
                    FAIL("%s:%d spells out the key %s: use K (schema.def)",
                         e->d_name, lineno, keys[i].text);
            }
            if (comment != NULL)
                *comment = '\0';
            for (i = 0; i < 2; i++) {
                if (strstr(line, numbers[i]) != NULL)
                    FAIL("%s:%d spells out %s: use C (schema.def)",
                         e->d_name, lineno, numbers[i]);
            }
        }
        fclose(f);
    }
    closedir(d);
    ASSERT(nfiles >= 19);
    /* And the check itself sees a key when there is one. */
    ASSERT(lua_quotes("redis.call('DEL', p .. 'sess:' .. sid)", "sess:", 0));
    ASSERT(lua_quotes("local q = \"sexp\"", "sexp", 1));
    ASSERT(!lua_quotes("local q = 'sexpx'", "sexp", 1));
    ASSERT(!lua_quotes("x = 1 -- KEYS[1] 'sess:'{sid}", "sess:", 0));
}

TEST_MAIN(TEST_ENTRY(key_name_is_prefix_plus_pattern),
          TEST_ENTRY(hash_decoder_fills_a_struct_by_its_table),
          TEST_ENTRY(hash_decoder_refuses_wrong_shapes),
          TEST_ENTRY(hash_decoder_passes_error_replies_on),
          TEST_ENTRY(user_record_needs_username_and_hash),
          TEST_ENTRY(hash_readers_take_what_redis_holds),
          TEST_ENTRY(lua_scripts_spell_out_no_key_or_shared_number),
          TEST_ENTRY(out_of_memory_is_unavailable),
          TEST_ENTRY(delivery_batches_beyond_one_slice_are_whole),
          TEST_ENTRY(deliveries_are_claimed_fairly_between_apps),
          TEST_ENTRY(open_needs_an_address), TEST_ENTRY(ping_answers),
          TEST_ENTRY(script_runs_by_sha_and_survives_script_flush),
          TEST_ENTRY(script_works_without_load_scripts),
          TEST_ENTRY(ping_retries_once_after_connection_killed),
          TEST_ENTRY(script_after_connection_closed_while_idle_runs),
          TEST_ENTRY(redis_down_fails_fast_then_recovers),
          TEST_ENTRY(unreachable_from_start_fails_fast),
          TEST_ENTRY(slow_connect_is_paid_once_per_backoff),
          TEST_ENTRY(each_thread_has_its_own_connection),
          TEST_ENTRY(auth_and_db_are_applied),
          TEST_ENTRY(used_memory_is_reported),
          TEST_ENTRY(mac_key_is_made_once_and_shared),
          TEST_ENTRY(unreachable_sentinels_fail_fast),
          TEST_ENTRY(sentinel_finds_the_primary))
