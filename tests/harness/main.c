/* SPDX-License-Identifier: MIT */
/*
 * gatehouse-harness: the harness as a command, for testing an app against
 * a private Gatehouse from a shell.
 *
 * "up" must return while everything keeps running, so it forks a
 * supervisor: a detached process (its own session, output in
 * STATE_DIR/harness.log) that runs harness_up, writes STATE_DIR/state.json
 * (pids, dirs, environment), tells "up" it is ready through a pipe, and
 * waits for SIGTERM to run harness_down. Redis, Gatehouse and demo apps are
 * the supervisor's children and die with it (PR_SET_PDEATHSIG), and the
 * built-in apps are its threads. "down" stops the supervisor by pid, then
 * anything of the state file still alive, and removes the dirs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "test.h"

/* How long "up" waits for the supervisor, and "down" for each process. */
#define UP_TIMEOUT_S 60
#define STOP_TIMEOUT_S 15.0

static const char usage_text[] =
    "usage: gatehouse-harness up [--apps N] [--demo-apps] [--app SPEC]...\n"
    "                            [--config-json JSON] [--alg ES256|RS256]\n"
    "                            [--json] [--state-dir DIR]\n"
    "       gatehouse-harness env [--json] [--state-dir DIR]\n"
    "       gatehouse-harness user --username U [--state-dir DIR]\n"
    "       gatehouse-harness down [--state-dir DIR]\n"
    "\n"
    "up    starts a private Redis, Gatehouse and the apps in the background\n"
    "      and prints the environment as export lines (or JSON with --json)\n"
    "env   prints it again\n"
    "user  adds a user; the password is read from stdin\n"
    "down  stops everything and removes its files\n"
    "\n"
    "--apps N     N built-in back-channel receivers, app1..appN (default 3,\n"
    "             or 0 when --app is given)\n"
    "--demo-apps  the N apps are gatehouse-demo-app processes (DEMO_BIN, or\n"
    "             the one next to gatehouse)\n"
    "--app NAME=CLIENT_ID,REDIRECT_URI[,BACKCHANNEL_URI]\n"
    "             also register an app you run yourself (repeatable)\n"
    "--config-json JSON   merged over the generated Gatehouse config\n"
    "--state-dir DIR      where the state lives; default\n"
    "                     /tmp/gatehouse-harness-$UID\n"
    "\n"
    "gatehouse is GATEHOUSE_BIN, or the one of this build tree, or PATH's.\n"
    "Exit codes: 0 ok, 1 failed, 2 usage.\n";

struct cli {
    const char *cmd;
    int apps;
    int demo_apps;
    int json;
    const char *alg;
    const char *config_json;
    const char *username;
    char state_dir[PATH_MAX];
    struct harness_app_spec external[HARNESS_MAX_APPS];
    int nexternal;
};

static void
usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "gatehouse-harness: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see gatehouse-harness --help)\n");
    exit(2);
}

/* NAME=CLIENT_ID,REDIRECT_URI[,BACKCHANNEL_URI], split in place. */
static int
parse_app(char *arg, struct harness_app_spec *s)
{
    char *eq = strchr(arg, '='), *c1, *c2;

    if (eq == NULL || (c1 = strchr(eq + 1, ',')) == NULL)
        return -1;
    *eq = *c1 = '\0';
    if ((c2 = strchr(c1 + 1, ',')) != NULL)
        *c2 = '\0';
    s->name = arg;
    s->client_id = eq + 1;
    s->redirect_uri = c1 + 1;
    s->backchannel_uri = c2 != NULL ? c2 + 1 : NULL;
    s->client_secret = NULL; /* generated */
    return arg[0] != '\0' && s->client_id[0] != '\0' ? 0 : -1;
}

static void
parse_args(int argc, char **argv, struct cli *c)
{
    enum {
        O_APPS = 256,
        O_DEMO,
        O_APP,
        O_CONFIG,
        O_ALG,
        O_JSON,
        O_STATE,
        O_USER
    };
    static const struct option opts[] = {
        {"apps", required_argument, NULL, O_APPS},
        {"demo-apps", no_argument, NULL, O_DEMO},
        {"app", required_argument, NULL, O_APP},
        {"config-json", required_argument, NULL, O_CONFIG},
        {"alg", required_argument, NULL, O_ALG},
        {"json", no_argument, NULL, O_JSON},
        {"state-dir", required_argument, NULL, O_STATE},
        {"username", required_argument, NULL, O_USER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *state = NULL;
    char *end, cwd[PATH_MAX / 2];
    int ch;

    memset(c, 0, sizeof(*c));
    c->apps = -1;
    if (argc < 2)
        usage_error("%s", "a command is required");
    c->cmd = argv[1];
    if (strcmp(c->cmd, "--help") == 0 || strcmp(c->cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        exit(0);
    }
    optind = 2;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case O_APPS:
            c->apps = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || c->apps < 0 || c->apps > HARNESS_MAX_APPS)
                usage_error("--apps: %s: not a number from 0 to 32", optarg);
            break;
        case O_DEMO:
            c->demo_apps = 1;
            break;
        case O_APP:
            if (c->nexternal == HARNESS_MAX_APPS ||
                parse_app(optarg, &c->external[c->nexternal]) < 0)
                usage_error("--app %s: want NAME=CLIENT_ID,REDIRECT_URI"
                            "[,BACKCHANNEL_URI]",
                            optarg);
            c->nexternal++;
            break;
        case O_CONFIG:
            c->config_json = optarg;
            break;
        case O_ALG:
            c->alg = optarg;
            break;
        case O_JSON:
            c->json = 1;
            break;
        case O_STATE:
            state = optarg;
            break;
        case O_USER:
            c->username = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        default:
            usage_error("%s: unknown option or missing value",
                        argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error("%s: unexpected argument", argv[optind]);
    if (c->apps < 0)
        c->apps = c->nexternal > 0 ? 0 : 3;
    /* Absolute, as the supervisor leaves the working directory. */
    if (state != NULL && state[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
        snprintf(c->state_dir, sizeof(c->state_dir), "%s/%s", cwd, state);
    else if (state != NULL)
        snprintf(c->state_dir, sizeof(c->state_dir), "%s", state);
    else
        snprintf(c->state_dir, sizeof(c->state_dir),
                 "/tmp/gatehouse-harness-%u", (unsigned)getuid());
}

/*
 * support.c runs GATEHOUSE_BIN. Unless it is set, use the gatehouse of
 * this build tree (this program is tests/harness/gatehouse-harness in it)
 * or the one installed beside this program, else the PATH's.
 */
static void
find_gatehouse(void)
{
    static const char *const rel[] = {"../../gatehouse", "gatehouse"};
    char self[PATH_MAX], path[PATH_MAX + 32], real[PATH_MAX];
    ssize_t n;
    size_t i;

    if (getenv("GATEHOUSE_BIN") != NULL)
        return;
    if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
        return;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", self, rel[i]);
        if (access(path, X_OK) == 0 && realpath(path, real) != NULL) {
            setenv("GATEHOUSE_BIN", real, 1);
            return;
        }
    }
}

/* ---- The state file ---- */

static void
state_path(const struct cli *c, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", c->state_dir, name);
}

/* state.json, or NULL if there is none (new reference). */
static json_t *
state_load(const struct cli *c)
{
    char path[PATH_MAX + 16];
    json_error_t je;
    json_t *s;

    state_path(c, "state.json", path, sizeof(path));
    if ((s = json_load_file(path, 0, &je)) == NULL && access(path, F_OK) == 0)
        fprintf(stderr, "gatehouse-harness: %s: %s\n", path, je.text);
    return s;
}

/* Written whole or not at all: a temp file renamed over it. */
static int
state_save(const struct cli *c, struct harness *h)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 16];
    json_t *s, *procs = json_array(), *env = harness_env(h);
    int i, rc;

    json_object_set_new(env, "state_dir", json_string(c->state_dir));
    json_array_append_new(procs,
                          json_pack("{s:i, s:s}", "pid", (int)h->redis.pid,
                                    "name", "redis-server"));
    json_array_append_new(procs, json_pack("{s:i, s:s}", "pid", (int)h->gh.pid,
                                           "name", "gatehouse"));
    for (i = 0; i < h->napps; i++)
        if (h->apps[i].pid > 0)
            json_array_append_new(procs, json_pack("{s:i, s:s}", "pid",
                                                   (int)h->apps[i].pid, "name",
                                                   "gatehouse-demo-app"));
    s = json_pack("{s:i, s:i, s:o, s:[ss], s:o}", "version", 1, "pid",
                  (int)getpid(), "processes", procs, "dirs", h->redis.dir,
                  h->gh.dir, "env", env);
    state_path(c, "state.json", path, sizeof(path));
    state_path(c, "state.json.tmp", tmp, sizeof(tmp));
    rc = s != NULL ? json_dump_file(s, tmp, JSON_INDENT(2)) : -1;
    json_decref(s);
    if (rc == 0 && (chmod(tmp, 0600) < 0 || rename(tmp, path) < 0))
        rc = -1;
    return rc;
}

/*
 * 1 if pid is alive and is what we started (its /proc comm starts with
 * name's first 15 bytes, as the kernel keeps them), so a pid reused by
 * another program after a crash is never signalled. Zombies count as dead.
 */
static int
alive(pid_t pid, const char *name)
{
    char path[64], buf[256], *lp, *rp;
    FILE *f;
    size_t n;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ...": comm may hold spaces and parentheses. */
    if ((lp = strchr(buf, '(')) == NULL || (rp = strrchr(buf, ')')) == NULL ||
        rp[1] == '\0' || rp[2] == 'Z' || rp[2] == 'X')
        return 0;
    *rp = '\0';
    return strncmp(lp + 1, name, 15) == 0;
}

/* Waits up to timeout_s for pid to be gone; 1 if it is. We cannot wait
 * for a process that is not our child, so we watch /proc. */
static int
wait_gone(pid_t pid, const char *name, double timeout_s)
{
    double deadline = test_now() + timeout_s;
    int i, max = (int)(timeout_s * 1000 / 20) + 1;

    for (i = 0; i < max && alive(pid, name) && test_now() < deadline; i++)
        test_sleep_ms(20);
    return !alive(pid, name);
}

/* SIGTERM, then SIGKILL after timeout_s; 0 once it is gone. */
static int
stop(pid_t pid, const char *name, double timeout_s)
{
    if (!alive(pid, name))
        return 0;
    kill(pid, SIGTERM);
    if (wait_gone(pid, name, timeout_s))
        return 0;
    kill(pid, SIGKILL);
    return wait_gone(pid, name, 5) ? 0 : -1;
}

/* Any pid of the state still alive: the supervisor's, or a child's. */
static pid_t
state_live_pid(const json_t *s)
{
    const json_t *p;
    pid_t pid = (pid_t)json_integer_value(json_object_get(s, "pid"));
    size_t i;

    if (alive(pid, "gatehouse-harness"))
        return pid;
    json_array_foreach(json_object_get(s, "processes"), i, p)
    {
        pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
        if (alive(pid, json_string_value(json_object_get(p, "name"))))
            return pid;
    }
    return 0;
}

static void
rm_rf(const char *dir)
{
    char *argv[] = {"rm", "-rf", "--", (char *)dir, NULL};

    /* Only what support.c makes: TMPDIR/gh-redis-*, TMPDIR/gh-test-*. */
    if (test_is_tmp(dir))
        run_cmd(argv, NULL, NULL, NULL);
}

/* Stops what s names and removes its files; 0, or -1 if something would
 * not die. */
static int
state_down(const struct cli *c, const json_t *s)
{
    static const char *const files[] = {"state.json", "state.json.tmp",
                                        "harness.log"};
    const json_t *p;
    char path[PATH_MAX + 16];
    pid_t pid = (pid_t)json_integer_value(json_object_get(s, "pid"));
    size_t i;
    int rc = 0;

    /* The supervisor stops its children itself, gracefully... */
    if (stop(pid, "gatehouse-harness", STOP_TIMEOUT_S) < 0)
        rc = -1;
    /* ...and whatever outlived it is stopped here. */
    json_array_foreach(json_object_get(s, "processes"), i, p)
    {
        pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
        if (stop(pid, json_string_value(json_object_get(p, "name")),
                 STOP_TIMEOUT_S) < 0)
            rc = -1;
    }
    json_array_foreach(json_object_get(s, "dirs"), i, p)
        rm_rf(json_string_value(p));
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        state_path(c, files[i], path, sizeof(path));
        unlink(path);
    }
    rmdir(c->state_dir); /* kept if someone else's files are in it */
    return rc;
}

/* ---- Commands ---- */

static int stop_pipe[2] = {-1, -1};

static void
on_stop_signal(int sig)
{
    unsigned char b = (unsigned char)sig;

    if (write(stop_pipe[1], &b, 1) < 0)
        return; /* the pipe holds a byte already: enough */
}

/*
 * The supervisor: never returns. Signals arrive through a self-pipe rather
 * than sigwait, because a blocked mask would be inherited by Redis and
 * Gatehouse (across exec) and they would never see SIGTERM; a handler is
 * reset to the default by exec instead.
 */
static void
supervise(const struct cli *c, int ready_fd)
{
    struct harness_opts o = {
        .apps = c->apps,
        .demo_apps = c->demo_apps,
        .external = c->external,
        .nexternal = c->nexternal,
        .alg = c->alg,
        .config_json = c->config_json,
    };
    struct sigaction sa;
    struct harness *h;
    struct pollfd pfd;
    char log[PATH_MAX + 16];
    unsigned char sig = 0;
    int fd;

    setsid();
    state_path(c, "harness.log", log, sizeof(log));
    if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
        dup2(fd, 0);
        close(fd);
    }
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        _exit(1);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (chdir("/") < 0 || harness_up(&o, &h) < 0)
        _exit(1);
    if (state_save(c, h) < 0) {
        fprintf(stderr, "gatehouse-harness: cannot write the state file\n");
        harness_down(h);
        _exit(1);
    }
    fprintf(stderr, "gatehouse-harness: up in %.3f s, %s\n", h->startup_s,
            h->gh.issuer);
    if (write(ready_fd, "ok", 2) != 2) {
        harness_down(h);
        _exit(1);
    }
    close(ready_fd);
    /* Until "down": no deadline, on purpose. */
    pfd = (struct pollfd){.fd = stop_pipe[0], .events = POLLIN};
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
        continue;
    if (read(stop_pipe[0], &sig, 1) < 0)
        sig = 0;
    fprintf(stderr, "gatehouse-harness: signal %d, going down\n", sig);
    harness_down(h);
    exit(0);
}

static int
cmd_up(const struct cli *c)
{
    char log[PATH_MAX + 16], buf[8];
    struct pollfd pfd;
    struct stat st;
    json_t *s;
    pid_t pid;
    int fds[2], rc;
    ssize_t n = 0;

    /* In a shared /tmp, the dir must be ours, not one planted for us. */
    if ((mkdir(c->state_dir, 0700) < 0 && errno != EEXIST) ||
        lstat(c->state_dir, &st) < 0) {
        fprintf(stderr, "gatehouse-harness: %s: %s\n", c->state_dir,
                strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
        fprintf(stderr, "gatehouse-harness: %s: not a directory of ours\n",
                c->state_dir);
        return 1;
    }
    if ((s = state_load(c)) != NULL) {
        if ((pid = state_live_pid(s)) > 0) {
            fprintf(stderr,
                    "gatehouse-harness: already up in %s (pid %d); "
                    "run 'gatehouse-harness down' first\n",
                    c->state_dir, (int)pid);
            json_decref(s);
            return 1;
        }
        /* Left by a harness that died: clean it up, then start afresh. */
        state_down(c, s);
        json_decref(s);
        mkdir(c->state_dir, 0700);
    }
    if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        fprintf(stderr, "gatehouse-harness: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        supervise(c, fds[1]);
    }
    close(fds[1]);
    pfd = (struct pollfd){.fd = fds[0], .events = POLLIN};
    if (poll(&pfd, 1, UP_TIMEOUT_S * 1000) == 1)
        n = read(fds[0], buf, sizeof(buf));
    close(fds[0]);
    state_path(c, "harness.log", log, sizeof(log));
    if (n != 2) {
        fprintf(stderr, "gatehouse-harness: up failed\n");
        {
            char *argv[] = {"tail", "-c", "4000", log, NULL}, *out = NULL;
            run_cmd(argv, NULL, &out, NULL);
            fputs(out != NULL ? out : "", stderr);
            free(out);
        }
        /* SIGKILL: its children die with it (PR_SET_PDEATHSIG). */
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if ((s = state_load(c)) != NULL) {
            state_down(c, s);
            json_decref(s);
        } else {
            unlink(log);
            rmdir(c->state_dir);
        }
        return 1;
    }
    if ((s = state_load(c)) == NULL)
        return 1;
    rc = harness_print_env(json_object_get(s, "env"), c->json, stdout);
    json_decref(s);
    return rc == 0 ? 0 : 1;
}

static int
cmd_env(const struct cli *c)
{
    json_t *s = state_load(c);
    int rc;

    if (s == NULL || state_live_pid(s) == 0) {
        fprintf(stderr, "gatehouse-harness: nothing is up in %s\n",
                c->state_dir);
        json_decref(s);
        return 1;
    }
    rc = harness_print_env(json_object_get(s, "env"), c->json, stdout);
    json_decref(s);
    return rc == 0 ? 0 : 1;
}

static int
cmd_user(const struct cli *c)
{
    char line[1024], *argv[] = {(char *)getenv("GATEHOUSE_BIN"),
                                "user",
                                "add",
                                "--config",
                                NULL,
                                "--username",
                                (char *)c->username,
                                "--password-stdin",
                                NULL};
    char *out = NULL, *err = NULL;
    json_t *s = state_load(c);
    int rc;

    if (c->username == NULL)
        usage_error("%s", "user: --username is required");
    if (s == NULL) {
        fprintf(stderr, "gatehouse-harness: nothing is up in %s\n",
                c->state_dir);
        return 1;
    }
    if (argv[0] == NULL)
        argv[0] = "gatehouse";
    argv[4] = (char *)json_string_value(
        json_object_get(json_object_get(s, "env"), "config"));
    if (fgets(line, sizeof(line), stdin) == NULL)
        line[0] = '\0';
    rc = run_cmd(argv, line, &out, &err);
    fputs(out != NULL ? out : "", stdout);
    fputs(err != NULL ? err : "", stderr);
    explicit_bzero(line, sizeof(line));
    free(out);
    free(err);
    json_decref(s);
    return rc == 0 ? 0 : 1;
}

static int
cmd_down(const struct cli *c)
{
    json_t *s = state_load(c);
    int rc;

    if (s == NULL) {
        fprintf(stderr, "gatehouse-harness: nothing is up in %s\n",
                c->state_dir);
        return 0;
    }
    rc = state_down(c, s);
    json_decref(s);
    if (rc < 0)
        fprintf(stderr, "gatehouse-harness: a process would not stop\n");
    return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    struct cli c;

    parse_args(argc, argv, &c);
    find_gatehouse();
    if (strcmp(c.cmd, "up") == 0)
        return cmd_up(&c);
    if (strcmp(c.cmd, "env") == 0)
        return cmd_env(&c);
    if (strcmp(c.cmd, "user") == 0)
        return cmd_user(&c);
    if (strcmp(c.cmd, "down") == 0)
        return cmd_down(&c);
    usage_error("%s: unknown command", c.cmd);
    return 2;
}
