/* SPDX-License-Identifier: MIT */
/* Redis high availability: Gatehouse finds the primary through three
 * Sentinels and follows a failover without a restart, losing no queued
 * back-channel delivery (SPEC §3, §6). Every process is real, on loopback. */
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

#define NSENTINELS 3
#define MASTER "gatehouse"
#define NAPPS 2
static const char *const names[NAPPS] = {"crm", "sales"};
enum { CRM, SALES };

static char dir[256];
static int primary_port, replica_port, sentinel_ports[NSENTINELS];
static pid_t primary_pid, replica_pid, sentinel_pids[NSENTINELS];
static struct harness *h;
static const char *const callbacks[NAPPS] = {"http://127.0.0.1:3001/callback",
                                             "http://127.0.0.1:3002/callback"};

/* redis-cli to 127.0.0.1:port with the arguments that follow, up to a
 * NULL: its output without the last newline (malloc'd), or NULL. */
#define CLI(port, ...) cli(port, __VA_ARGS__, (char *)NULL)

static char *
cli(int port, ...)
{
    char *argv[16], port_s[16], *out = NULL;
    size_t len;
    va_list ap;
    int n = 0;

    snprintf(port_s, sizeof(port_s), "%d", port);
    argv[n++] = "redis-cli";
    argv[n++] = "-h";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-p";
    argv[n++] = port_s;
    va_start(ap, port);
    while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    if (run_cmd(argv, NULL, &out, NULL) != 0) {
        free(out);
        return NULL;
    }
    if (out != NULL && (len = strlen(out)) > 0 && out[len - 1] == '\n')
        out[len - 1] = '\0';
    return out;
}

/* Whether CLI(port, ...) printed exactly want. */
static int
cli_is(const char *want, int port, const char *a, const char *b,
       const char *c)
{
    char *out = CLI(port, (char *)a, (char *)b, (char *)c);
    int ok = out != NULL && strcmp(out, want) == 0;

    free(out);
    return ok;
}

/* In redis-cli's output of a flat reply (one element a line), the number
 * on the line after the line key, or -1. */
static long
field_after(const char *out, const char *key)
{
    const char *p = out;
    size_t n = strlen(key);

    while (p != NULL && *p != '\0') {
        if (strncmp(p, key, n) == 0 && p[n] == '\n')
            return strtol(p + n + 1, NULL, 10);
        if ((p = strchr(p, '\n')) != NULL)
            p++;
    }
    return -1;
}

/* Starts argv, whose server listens on port, and waits until it answers. */
static pid_t
start_server(char *const argv[], const char *name, int port)
{
    char log[300];
    double deadline = test_now() + 10;
    pid_t pid;

    snprintf(log, sizeof(log), "%s/%s.log", dir, name);
    if ((pid = test_spawn(argv, log)) < 0)
        FAIL("cannot start %s", name);
    while (test_now() < deadline) {
        char *out = CLI(port, "PING");
        int up = out != NULL && strcmp(out, "PONG") == 0;
        free(out);
        if (up)
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            FAIL("%s exited; see %s", name, log);
        test_sleep_ms(50);
    }
    FAIL("%s did not answer on port %d in 10 s; see %s", name, port, log);
}

static void
start_redis(const char *name, int port, int primary)
{
    char port_s[16], data[300], master_port_s[16];
    char *argv[] = {"redis-server", "--port", port_s, "--bind", "127.0.0.1",
                    "--dir", data, "--appendonly", "yes", "--save", "",
                    NULL, NULL, NULL, NULL};

    snprintf(port_s, sizeof(port_s), "%d", port);
    snprintf(master_port_s, sizeof(master_port_s), "%d", primary);
    snprintf(data, sizeof(data), "%s/%s", dir, name);
    if (mkdir(data, 0700) < 0)
        FAIL("mkdir %s", data);
    if (primary > 0) {
        argv[11] = "--replicaof";
        argv[12] = "127.0.0.1";
        argv[13] = master_port_s;
    }
    if (strcmp(name, "primary") == 0)
        primary_pid = start_server(argv, name, port);
    else
        replica_pid = start_server(argv, name, port);
}

static pid_t
start_sentinel(int i)
{
    char path[300], name[32];
    char *argv[] = {"redis-server", path, "--sentinel", NULL};
    FILE *f;

    snprintf(name, sizeof(name), "sentinel-%d", i);
    snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
    if ((f = fopen(path, "w")) == NULL)
        FAIL("cannot write %s", path);
    /* Sentinel rewrites this file as it learns, so each has its own. A
     * primary is down after 1 s without answers; two sentinels must
     * agree, and three make a majority to elect the one that fails over. */
    fprintf(f,
            "port %d\n"
            "bind 127.0.0.1\n"
            "dir %s\n"
            "sentinel resolve-hostnames no\n"
            "sentinel monitor " MASTER " 127.0.0.1 %d 2\n"
            "sentinel down-after-milliseconds " MASTER " 1000\n"
            "sentinel failover-timeout " MASTER " 5000\n",
            sentinel_ports[i], dir, primary_port);
    fclose(f);
    return start_server(argv, name, sentinel_ports[i]);
}

/* Waits until the replica follows the primary and every sentinel knows
 * the replica and the two other sentinels: only then can a failover be
 * agreed on. */
static void
wait_topology(void)
{
    double deadline = test_now() + 20;
    int i, ready = 0;

    while (!ready && test_now() < deadline) {
        char *info = CLI(replica_port, "INFO", "replication");
        ready = info != NULL && strstr(info, "master_link_status:up") != NULL;
        free(info);
        for (i = 0; ready && i < NSENTINELS; i++) {
            char *out = CLI(sentinel_ports[i], "SENTINEL", "master", MASTER);
            ready = out != NULL && field_after(out, "num-slaves") == 1 &&
                    field_after(out, "num-other-sentinels") == 2;
            free(out);
        }
        if (!ready)
            test_sleep_ms(200);
    }
    if (!ready)
        FAIL("sentinels did not see the replica and each other in 20 s");
}

/* The port every sentinel names for the primary, or -1 if they differ. */
static int
sentinels_primary(void)
{
    int i, port = -1;

    for (i = 0; i < NSENTINELS; i++) {
        char *out = CLI(sentinel_ports[i], "SENTINEL",
                        "get-master-addr-by-name", MASTER);
        char *nl = out != NULL ? strchr(out, '\n') : NULL;
        int p = nl != NULL ? atoi(nl + 1) : -1;
        free(out);
        if (p <= 0 || (port != -1 && p != port))
            return -1;
        port = p;
    }
    return port;
}

static void
start_topology(void)
{
    int i;

    /* A write to a connection a killed server closed must fail, not kill
     * us (redis-cli and libcurl both write). */
    signal(SIGPIPE, SIG_IGN);
    if (test_mkdtemp(dir, sizeof(dir), "sentinel") < 0)
        FAIL("mkdtemp");
    primary_port = test_free_port();
    start_redis("primary", primary_port, 0);
    replica_port = test_free_port();
    start_redis("replica", replica_port, primary_port);
    for (i = 0; i < NSENTINELS; i++) {
        sentinel_ports[i] = test_free_port();
        sentinel_pids[i] = start_sentinel(i);
    }
    wait_topology();
    ASSERT_EQ(sentinels_primary(), primary_port);
}

static void
stop_topology(void)
{
    char *argv[] = {"rm", "-rf", dir, NULL};
    int i;

    for (i = 0; i < NSENTINELS; i++)
        test_stop_pid(sentinel_pids[i], SIGTERM);
    test_stop_pid(replica_pid, SIGTERM);
    test_stop_pid(primary_pid, SIGTERM);
    run_cmd(argv, NULL, NULL, NULL);
}

/* Gatehouse's config over the world's: the sentinels instead of
 * redis.url. Deliveries are retried long enough (10 attempts) to outlast
 * the failover. */
static char *
config_json(void)
{
    json_t *cfg, *addrs = json_array();
    char *text, addr[32];
    int i;

    for (i = 0; i < NSENTINELS; i++) {
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", sentinel_ports[i]);
        json_array_append_new(addrs, json_string(addr));
    }
    cfg = json_pack("{s:{s:{s:s, s:o}}, s:{s:i, s:i, s:i}}", "redis",
                    "sentinel", "master", MASTER, "addresses", addrs,
                    "backchannel", "timeout_ms", 500, "max_attempts", 10,
                    "logout_wait_ms", 1000);
    ASSERT(cfg != NULL);
    text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    return text;
}

/* Signs the browser in to app i and exchanges the code: the app's tokens. */
static json_t *
sign_in_app(struct browser *b, int i)
{
    return world_sign_in(h, b, i, "alice", "correct horse");
}

/* The sid of an ID or logout token (checked against /jwks); malloc'd. */
static char *
sid_of(const char *jws)
{
    json_t *c = oidc_verified_claims(&h->gh, jws);
    char *sid = strdup(world_str(c, "sid"));

    json_decref(c);
    return sid;
}

/* RP-initiated logout of the session the ID token belongs to. */
static void
logout(struct browser *b, const json_t *tokens)
{
    char *url = NULL;
    struct http_result res;

    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer,
                 world_str(tokens, "id_token")) < 0)
        FAIL("asprintf");
    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    ASSERT_CONTAINS(res.body, "signed out");
    http_result_free(&res);
    free(url);
}

/* Whether the browser's session still gives SSO: /authorize redirects at
 * once instead of showing the sign-in form. */
static int
has_sso(struct browser *b)
{
    char *url =
        oidc_authorize_url(&h->gh, names[SALES], callbacks[SALES], NULL);
    struct http_result res;
    long status;

    ASSERT_EQ(browser_do(b, "GET", url, NULL, &res), 0);
    status = res.status;
    http_result_free(&res);
    free(url);
    return status == 302;
}

/* Whether sid is among the sids of the tokens the app received. */
static int
received_sid(struct bc_app *a, const char *sid)
{
    int i, found = 0;

    for (i = 0; i < bc_count(a) && !found; i++) {
        char *s = sid_of(a->tokens[i]);
        found = strcmp(s, sid) == 0;
        free(s);
    }
    return found;
}

TEST(failover_keeps_sign_in_logout_and_queued_deliveries)
{
    struct browser b1 = {""}, b2 = {""}, b3 = {""};
    json_t *a_crm, *a_sales, *bt, *ct;
    char *sid_a, *sid_b, *sid_c, url[128];
    pid_t gh_pid;
    int crm_port, ready = 0;
    double t0, deadline;

    start_topology();
    {
        /* The world's own redis-server stands idle: the config names the
         * sentinels. The CLI that adds alice goes through them too. */
        struct harness_app_spec specs[NAPPS] = {
            {"crm", names[CRM], callbacks[CRM], NULL, "secret"},
            {"sales", names[SALES], callbacks[SALES], NULL, "secret"}};
        struct harness_opts o = {
            .apps = NAPPS, .builtin = specs, .user = "alice:correct horse"};
        char *cfg = config_json();
        h = world_start(&o, cfg, NULL);
        free(cfg);
    }
    gh_pid = h->gh.pid;

    /* Session A in both apps, session B in Sales only. */
    a_crm = sign_in_app(&b1, CRM);
    a_sales = sign_in_app(&b1, SALES);
    bt = sign_in_app(&b2, SALES);
    sid_a = sid_of(world_str(a_crm, "id_token"));
    sid_b = sid_of(world_str(bt, "id_token"));

    /* CRM's endpoint is down: signing out of A reaches Sales, and CRM's
     * notification stays queued for a retry. */
    crm_port = h->apps[CRM].bc->port;
    bc_stop(h->apps[CRM].bc);
    logout(&b1, a_sales);
    ASSERT_EQ(bc_wait(h->apps[SALES].bc, 1, 5), 0);
    ASSERT(cli_is("1", primary_port, "ZCARD", "gh:dq", NULL));

    /* Replication is asynchronous: a write the replica has not yet
     * received when the primary dies is lost with it, whatever Gatehouse
     * does. WAIT makes the queued delivery (and both sessions) reach the
     * replica first, so what follows tests Gatehouse, not luck. */
    ASSERT(cli_is("1", primary_port, "WAIT", "1", "2000"));
    test_stop_pid(primary_pid, SIGKILL);
    primary_pid = 0;
    t0 = test_now();

    /* The sentinels see it down after 1 s, agree, and promote the
     * replica. */
    deadline = t0 + 30;
    WAIT_UNTIL(sentinels_primary() == replica_port, deadline - test_now(), 100);
    ASSERT_EQ(sentinels_primary(), replica_port);
    {
        char *role = CLI(replica_port, "ROLE");
        ASSERT(role != NULL && strncmp(role, "master\n", 7) == 0);
        free(role);
    }
    fprintf(stderr, "# failover done %.1f s after the kill\n",
            test_now() - t0);

    /* Gatehouse finds the new primary by itself: same process, ready. */
    snprintf(url, sizeof(url), "%s/readyz", h->gh.issuer);
    deadline = test_now() + 10;
    while (!ready && test_now() < deadline) {
        struct http_result res;
        if (http_do("GET", url, NULL, NULL, &res) == 0) {
            ready = res.status == 200;
            http_result_free(&res);
        }
        if (!ready)
            test_sleep_ms(100);
    }
    ASSERT(ready);
    ASSERT_EQ(h->gh.pid, gh_pid);
    ASSERT_EQ(waitpid(h->gh.pid, NULL, WNOHANG), 0);
    fprintf(stderr, "# gatehouse ready %.1f s after the kill\n",
            test_now() - t0);

    /* Session B survived the failover; a new sign-in (session C) works. */
    ASSERT(has_sso(&b2));
    ct = sign_in_app(&b3, SALES);
    sid_c = sid_of(world_str(ct, "id_token"));
    ASSERT(strcmp(sid_c, sid_b) != 0);

    /* Logout works, and its notifications are delivered. */
    logout(&b2, bt);
    logout(&b3, ct);
    ASSERT(!has_sso(&b2));
    ASSERT(!has_sso(&b3));
    ASSERT_EQ(bc_wait(h->apps[SALES].bc, 3, 10), 0);

    /* CRM comes back: the notification queued before the failover
     * arrives, for session A. Its retries back off (1 s, 2 s, 4 s, 8 s
     * ±20%), so allow for the next one. */
    ASSERT_EQ(bc_start_on(h->apps[CRM].bc, crm_port, 0, 0), 0);
    ASSERT_EQ(bc_wait(h->apps[CRM].bc, 1, 30), 0);
    ASSERT(received_sid(h->apps[CRM].bc, sid_a));
    fprintf(stderr, "# queued delivery arrived %.1f s after the kill\n",
            test_now() - t0);

    /* Each notification once: nothing more arrives, nothing is left in
     * the queue, nothing failed. */
    test_sleep_ms(1500);
    ASSERT_EQ(bc_count(h->apps[CRM].bc), 1);
    ASSERT_EQ(bc_count(h->apps[SALES].bc), 3);
    ASSERT(received_sid(h->apps[SALES].bc, sid_a));
    ASSERT(received_sid(h->apps[SALES].bc, sid_b));
    ASSERT(received_sid(h->apps[SALES].bc, sid_c));
    ASSERT(cli_is("0", replica_port, "ZCARD", "gh:dq", NULL));
    ASSERT(cli_is("0", replica_port, "ZCARD", "gh:dfail", NULL));

    json_decref(a_crm);
    json_decref(a_sales);
    json_decref(bt);
    json_decref(ct);
    free(sid_a);
    free(sid_b);
    free(sid_c);
    world_stop(&h);
    stop_topology();
}

TEST_MAIN(TEST_ENTRY(failover_keeps_sign_in_logout_and_queued_deliveries))
