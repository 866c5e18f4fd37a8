/* SPDX-License-Identifier: MIT */
/* The integration-test harness (tests/harness), as a library and as the
 * gatehouse-harness command: what it starts, drives, and leaves behind. */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/harness.h"
#include "test.h"

#define PASSWORD "correct horse"

/* The start-up bound asserted: SPEC wants under 1 s and that is what is
 * printed, but a loaded CI machine must not make the test flaky, and
 * sanitizers make every process start several times slower. */
#ifdef __SANITIZE_ADDRESS__
#define STARTUP_BOUND_S 15
#else
#define STARTUP_BOUND_S 5
#endif

static struct harness *
up(const struct harness_opts *o)
{
    struct harness *h = NULL;

    if (harness_up(o, &h) < 0)
        FAIL("harness_up failed");
    fprintf(stderr, "harness_up with %d apps: %.3f s\n", h->napps,
            h->startup_s);
    ASSERT(h->startup_s < STARTUP_BOUND_S);
    ASSERT_EQ(harness_add_user(h, "alice", PASSWORD), 0);
    return h;
}

static void
sid_of(struct harness *h, const json_t *t, char *sid, size_t size)
{
    ASSERT_EQ(harness_sid(h, t, sid, size), 0);
}

/* 1 while pid exists and is not a zombie of ours (we reap those). */
static int
running(pid_t pid)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        continue;
    return kill(pid, 0) == 0 || errno != ESRCH;
}

/* Waits up to 5 s for pid to be gone. */
static int
gone(pid_t pid)
{
    int i;

    for (i = 0; i < 250 && running(pid); i++)
        test_sleep_ms(20);
    return !running(pid);
}

static int
dir_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

TEST(three_apps_share_one_sign_in_and_each_gets_one_rp_logout)
{
    struct harness_opts o = {.apps = 3};
    struct harness *h = up(&o);
    struct browser b = {""};
    char sid[64], other[64];
    json_t *t[3];
    int i;

    for (i = 0; i < 3; i++)
        ASSERT((t[i] = harness_sign_in(h, &b, i, "alice", PASSWORD)) != NULL);
    /* One browser, one session: the second and third were SSO. */
    sid_of(h, t[0], sid, sizeof(sid));
    for (i = 1; i < 3; i++) {
        sid_of(h, t[i], other, sizeof(other));
        ASSERT_STR_EQ(other, sid);
    }
    ASSERT_EQ(harness_logout_rp(h, &b, t[1]), 0);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    for (i = 0; i < 3; i++)
        ASSERT_EQ(harness_notifications(h, i, sid), 1);
    /* Exactly one: nothing more arrives later. */
    test_sleep_ms(1000);
    for (i = 0; i < 3; i++) {
        ASSERT_EQ(harness_notifications(h, i, NULL), 1);
        json_decref(t[i]);
    }
    harness_down(h);
}

TEST(idle_timeout_logout_is_acknowledged_by_every_app)
{
    struct harness_opts o = {
        .apps = 2,
        .config_json = "{\"session\":{\"idle_timeout_s\":2}}",
    };
    struct harness *h = up(&o);
    struct browser b = {""};
    char sid[64];
    json_t *t0, *t1;
    double t_start = test_now();

    t0 = harness_sign_in(h, &b, 0, "alice", PASSWORD);
    t1 = harness_sign_in(h, &b, 1, "alice", PASSWORD);
    ASSERT(t0 != NULL && t1 != NULL);
    sid_of(h, t0, sid, sizeof(sid));
    /* Idle at 2 s, acted on within 5 s of that (SPEC §5). */
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    ASSERT(test_now() - t_start > 1.5);
    ASSERT_EQ(harness_notifications(h, 0, sid), 1);
    ASSERT_EQ(harness_notifications(h, 1, sid), 1);
    json_decref(t0);
    json_decref(t1);
    harness_down(h);
}

TEST(admin_logout_ends_the_session_and_is_acknowledged)
{
    struct harness_opts o = {.apps = 2};
    struct harness *h = up(&o);
    struct browser b = {""};
    char sid[64];
    json_t *t0, *t1;

    t0 = harness_sign_in(h, &b, 0, "alice", PASSWORD);
    t1 = harness_sign_in(h, &b, 1, "alice", PASSWORD);
    ASSERT(t0 != NULL && t1 != NULL);
    sid_of(h, t0, sid, sizeof(sid));
    ASSERT_EQ(harness_logout_admin(h, "alice"), 1);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    ASSERT_EQ(harness_notifications(h, 0, sid), 1);
    ASSERT_EQ(harness_notifications(h, 1, sid), 1);
    json_decref(t0);
    json_decref(t1);
    harness_down(h);
}

/* An app the harness does not own: acknowledgement is read from
 * Gatehouse's delivery ledger, not from a receiver of ours. */
TEST(external_app_acknowledgement_comes_from_the_delivery_ledger)
{
    struct bc_app mine;
    char redirect[96], sid[64];
    struct harness_app_spec spec = {"crm", "crm", redirect, NULL, NULL};
    struct harness_opts o = {.apps = 1, .external = &spec, .nexternal = 1};
    struct harness *h;
    struct browser b = {""};
    json_t *t0, *t1;

    ASSERT_EQ(bc_start(&mine, 0, 0), 0);
    snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/callback",
             mine.port);
    spec.backchannel_uri = mine.uri;
    h = up(&o);
    ASSERT_EQ(h->napps, 2);
    ASSERT_STR_EQ(h->apps[1].client_id, "crm");
    ASSERT(h->apps[1].kind == HARNESS_APP_EXTERNAL);
    t0 = harness_sign_in(h, &b, 0, "alice", PASSWORD);
    t1 = harness_sign_in(h, &b, 1, "alice", PASSWORD);
    ASSERT(t0 != NULL && t1 != NULL);
    sid_of(h, t1, sid, sizeof(sid));
    /* Before the logout nobody has acknowledged anything. */
    ASSERT_EQ(harness_wait_acked(h, sid, 0.2), -1);
    ASSERT_EQ(harness_logout_rp(h, &b, t1), 0);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    ASSERT_EQ(bc_count(&mine), 1);
    json_decref(t0);
    json_decref(t1);
    harness_down(h);
    bc_stop(&mine);
}

/* The demo app checks every logout token itself (BCL 1.0 §2.6) and
 * answers 400 to a bad one, so "delivered" means it accepted it. */
TEST(demo_apps_accept_and_acknowledge_their_logout_tokens)
{
    struct harness_opts o = {.apps = 2, .demo_apps = 1};
    struct harness *h;
    struct browser b = {""};
    struct http_result res;
    char sid[64], url[128];
    json_t *t0, *t1;
    int i;

    h = up(&o);
    for (i = 0; i < 2; i++) {
        ASSERT(h->apps[i].kind == HARNESS_APP_DEMO && h->apps[i].pid > 0);
        snprintf(url, sizeof(url), "%shealthz", h->apps[i].url);
        ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
        ASSERT_EQ(res.status, 200);
        http_result_free(&res);
    }
    t0 = harness_sign_in(h, &b, 0, "alice", PASSWORD);
    t1 = harness_sign_in(h, &b, 1, "alice", PASSWORD);
    ASSERT(t0 != NULL && t1 != NULL);
    sid_of(h, t0, sid, sizeof(sid));
    ASSERT_EQ(harness_logout_rp(h, &b, t0), 0);
    ASSERT_EQ(harness_wait_acked(h, sid, 10), 0);
    json_decref(t0);
    json_decref(t1);
    harness_down(h);
}

TEST(demo_apps_without_the_binary_fail_with_a_clear_error)
{
    struct harness_opts o = {.apps = 2, .demo_apps = 1};
    struct harness *h = NULL;
    double t0 = test_now();

    setenv("DEMO_BIN", "/nonexistent/gatehouse-demo-app", 1);
    ASSERT_EQ(harness_up(&o, &h), -1);
    ASSERT(h == NULL);
    /* It fails before starting anything, so at once. */
    ASSERT(test_now() - t0 < 1);
    unsetenv("DEMO_BIN");
}

TEST(env_lists_every_client_with_its_secret)
{
    struct harness_opts o = {.apps = 2};
    struct harness *h = up(&o);
    char path[300], *out = NULL;
    char *argv[] = {"sh", "-c",
                    ". \"$0\" && printf '%s|%s|%s|%s|%s\\n' "
                    "\"$GATEHOUSE_ISSUER\" \"$GATEHOUSE_APPS\" "
                    "\"$GATEHOUSE_APP2_CLIENT_ID\" "
                    "\"$GATEHOUSE_APP2_CLIENT_SECRET\" "
                    "\"$GATEHOUSE_ADMIN_CLIENT_ID\"",
                    path, NULL};
    char want[512];
    json_t *env;
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "%s/gh-harness-env-XXXXXX", test_tmpdir());
    ASSERT((fd = mkstemp(path)) >= 0);
    ASSERT((f = fdopen(fd, "w")) != NULL);
    ASSERT_EQ(harness_env_shell(h, f), 0);
    fclose(f);
    /* A shell reads it back as it was meant. */
    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    snprintf(want, sizeof(want), "%s|2|app2|%s|harness-admin\n", h->gh.issuer,
             h->apps[1].client_secret);
    ASSERT_STR_EQ(out, want);
    unlink(path);
    free(out);
    env = harness_env(h);
    ASSERT_STR_EQ(json_string_value(json_object_get(env, "issuer")),
                  h->gh.issuer);
    ASSERT_EQ(json_array_size(json_object_get(env, "apps")), 2);
    json_decref(env);
    harness_down(h);
}

/* What a test process leaves when it dies without harness_down: nothing
 * running. */
TEST(children_die_with_the_process_that_started_them)
{
    struct {
        pid_t pids[2];
        char dirs[2][256];
    } what;
    int fds[2], i;
    pid_t child;
    ssize_t n;

    /* The orphans come to us, so we can reap them and see them go. */
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    ASSERT_EQ(pipe(fds), 0);
    if ((child = fork()) == 0) {
        struct harness_opts o = {.apps = 1};
        struct harness *h;
        close(fds[0]);
        if (harness_up(&o, &h) < 0)
            _exit(1);
        what.pids[0] = h->redis.pid;
        what.pids[1] = h->gh.pid;
        snprintf(what.dirs[0], sizeof(what.dirs[0]), "%s", h->redis.dir);
        snprintf(what.dirs[1], sizeof(what.dirs[1]), "%s", h->gh.dir);
        if (write(fds[1], &what, sizeof(what)) != (ssize_t)sizeof(what))
            _exit(1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    n = read(fds[0], &what, sizeof(what));
    close(fds[0]);
    ASSERT_EQ(n, sizeof(what));
    ASSERT(running(what.pids[0]) && running(what.pids[1]));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    for (i = 0; i < 2; i++)
        ASSERT(gone(what.pids[i]));
    /* A crash leaves its temp dirs for a look; this test removes them. */
    for (i = 0; i < 2; i++) {
        char *argv[] = {"rm", "-rf", "--", what.dirs[i], NULL};
        ASSERT(test_is_tmp(what.dirs[i]));
        ASSERT_EQ(run_cmd(argv, NULL, NULL, NULL), 0);
    }
}

static const char *
harness_bin(void)
{
    const char *b = getenv("GATEHOUSE_HARNESS_BIN");

    if (b == NULL)
        FAIL("GATEHOUSE_HARNESS_BIN is not set");
    return b;
}

/* The pids and dirs a state file names. */
static void
state_of(const char *dir, pid_t *pids, int *npids, char dirs[][256], int *ndirs)
{
    char path[300];
    json_t *s, *p;
    size_t i;

    snprintf(path, sizeof(path), "%s/state.json", dir);
    ASSERT((s = json_load_file(path, 0, NULL)) != NULL);
    *npids = 0;
    pids[(*npids)++] = (pid_t)json_integer_value(json_object_get(s, "pid"));
    json_array_foreach(json_object_get(s, "processes"), i, p) pids[(*npids)++] =
        (pid_t)json_integer_value(json_object_get(p, "pid"));
    *ndirs = 0;
    json_array_foreach(json_object_get(s, "dirs"), i, p)
        snprintf(dirs[(*ndirs)++], 256, "%s", json_string_value(p));
    json_decref(s);
}

TEST(cli_up_env_down_leaves_no_process_and_no_dir)
{
    char state[256], envfile[300];
    char *out = NULL, *err = NULL, *out2 = NULL, url[128];
    char *up_argv[] = {(char *)harness_bin(), "up",  "--apps", "2",
                       "--state-dir",         state, NULL};
    char *env_argv[] = {(char *)harness_bin(), "env", "--json",
                        "--state-dir",         state, NULL};
    char *down_argv[] = {(char *)harness_bin(), "down", "--state-dir", state,
                         NULL};
    char *user_argv[] = {(char *)harness_bin(), "user", "--username", "bob",
                         "--state-dir",         state,  NULL};
    char *sh_argv[] = {"sh", "-c",
                       ". \"$0\" && printf '%s %s %s' \"$GATEHOUSE_ISSUER\" "
                       "\"$GATEHOUSE_APP1_CLIENT_ID\" \"$GATEHOUSE_APPS\"",
                       envfile, NULL};
    char dirs[4][256], want[256];
    pid_t pids[8];
    int npids, ndirs, i;
    struct http_result res;
    json_t *env;
    double t0;
    FILE *f;

    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    ASSERT_EQ(test_mkdtemp(state, sizeof(state), "harness-cli"), 0);
    t0 = test_now();
    ASSERT_EQ(run_cmd(up_argv, NULL, &out, &err), 0);
    fprintf(stderr, "gatehouse-harness up --apps 2: %.3f s\n", test_now() - t0);
    ASSERT(test_now() - t0 < STARTUP_BOUND_S);
    /* The export lines are shell: source them. */
    snprintf(envfile, sizeof(envfile), "%s/env.sh", state);
    ASSERT((f = fopen(envfile, "w")) != NULL);
    fputs(out, f);
    fclose(f);
    ASSERT_EQ(run_cmd(sh_argv, NULL, &out2, NULL), 0);
    unlink(envfile);
    ASSERT_CONTAINS(out2, "http://127.0.0.1:");
    ASSERT_CONTAINS(out2, " app1 2");
    /* It is really up, and detached: "up" itself has exited. */
    snprintf(url, sizeof(url), "%.*s/healthz", (int)strcspn(out2, " "), out2);
    ASSERT_EQ(http_do("GET", url, NULL, NULL, &res), 0);
    ASSERT_EQ(res.status, 200);
    http_result_free(&res);
    free(out);
    free(err);
    /* A second "up" refuses while the first one lives. */
    ASSERT_EQ(run_cmd(up_argv, NULL, &out, &err), 1);
    ASSERT_CONTAINS(err, "already up");
    free(out);
    free(err);
    /* env --json is the same environment, as JSON. */
    ASSERT_EQ(run_cmd(env_argv, NULL, &out, &err), 0);
    ASSERT((env = json_loads(out, 0, NULL)) != NULL);
    snprintf(want, sizeof(want), "%.*s", (int)strcspn(out2, " "), out2);
    ASSERT_STR_EQ(json_string_value(json_object_get(env, "issuer")), want);
    ASSERT_EQ(json_array_size(json_object_get(env, "apps")), 2);
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(env, "admin"), "client_id")),
                  "harness-admin");
    json_decref(env);
    free(out);
    free(err);
    free(out2);
    /* Users are added with the password on stdin; the sub is printed. */
    ASSERT_EQ(run_cmd(user_argv, "hunter2 hunter2\n", &out, &err), 0);
    ASSERT(strlen(out) == 37 && out[36] == '\n');
    free(out);
    free(err);

    state_of(state, pids, &npids, dirs, &ndirs);
    ASSERT_EQ(npids, 3); /* supervisor, redis-server, gatehouse */
    ASSERT_EQ(ndirs, 2);
    for (i = 0; i < npids; i++)
        ASSERT(running(pids[i]));
    ASSERT_EQ(run_cmd(down_argv, NULL, &out, &err), 0);
    free(out);
    free(err);
    for (i = 0; i < npids; i++)
        ASSERT(gone(pids[i]));
    for (i = 0; i < ndirs; i++)
        ASSERT(!dir_exists(dirs[i]));
    ASSERT(!dir_exists(state));
    /* Down again, or env, with nothing up: said plainly. */
    ASSERT_EQ(run_cmd(down_argv, NULL, &out, &err), 0);
    free(out);
    free(err);
    ASSERT_EQ(run_cmd(env_argv, NULL, &out, &err), 1);
    ASSERT_CONTAINS(err, "nothing is up");
    free(out);
    free(err);
}

TEST_MAIN(
    TEST_ENTRY(three_apps_share_one_sign_in_and_each_gets_one_rp_logout),
    TEST_ENTRY(idle_timeout_logout_is_acknowledged_by_every_app),
    TEST_ENTRY(admin_logout_ends_the_session_and_is_acknowledged),
    TEST_ENTRY(external_app_acknowledgement_comes_from_the_delivery_ledger),
    TEST_ENTRY(demo_apps_accept_and_acknowledge_their_logout_tokens),
    TEST_ENTRY(demo_apps_without_the_binary_fail_with_a_clear_error),
    TEST_ENTRY(env_lists_every_client_with_its_secret),
    TEST_ENTRY(children_die_with_the_process_that_started_them),
    TEST_ENTRY(cli_up_env_down_leaves_no_process_and_no_dir))
