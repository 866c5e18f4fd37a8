/* SPDX-License-Identifier: MIT */
/*
 * The test runner behind TEST_MAIN (test.h), after libuv's: every case
 * runs in a child process of its own, with a deadline, so a crash, an
 * assertion (exit 1), a sanitizer report or a hang fails that case alone,
 * the rest still run, and each result is reported by name.
 *
 * A case's child leads a process group of its own: its redis-server,
 * gatehouse and apps are in it, so a case that times out is killed with
 * everything it started. (They also die with it by PR_SET_PDEATHSIG.)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* Without TEST_TIMEOUT, a case may run this long (ten times as long under
 * GATEHOUSE_WRAPPER, i.e. valgrind). */
#define CASE_TIMEOUT_S 120

static char run_dir[256];

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *
test_tmpdir(void)
{
    const char *d = getenv("GH_TEST_TMPDIR");

    if (d != NULL && d[0] != '\0')
        return d;
    if ((d = getenv("TMPDIR")) != NULL && d[0] == '/')
        return d;
    return "/tmp";
}

int
test_mkdtemp(char *out, size_t size, const char *name)
{
    if (snprintf(out, size, "%s/gh-%s-XXXXXX", test_tmpdir(), name) >=
        (int)size)
        return -1;
    return mkdtemp(out) != NULL ? 0 : -1;
}

int
test_is_tmp(const char *dir)
{
    const char *base = test_tmpdir();
    size_t n = strlen(base);

    return dir != NULL && strncmp(dir, base, n) == 0 && dir[n] == '/' &&
           strncmp(dir + n + 1, "gh-", 3) == 0 && strstr(dir, "..") == NULL;
}

static void
remove_tree(const char *dir)
{
    pid_t pid;

    if ((pid = fork()) == 0) {
        execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* The per-run directory every temp file of this run goes under: one
 * mkdtemp under $TMPDIR, named in GH_TEST_TMPDIR for the cases and the
 * programs they start. An enclosing runner's is reused. */
static int
make_run_dir(void)
{
    const char *outer = getenv("GH_TEST_TMPDIR");

    if (outer != NULL && outer[0] != '\0')
        return 0;
    if (test_mkdtemp(run_dir, sizeof(run_dir), "run") < 0) {
        fprintf(stderr, "cannot make a temp dir under %s: %s\n", test_tmpdir(),
                strerror(errno));
        return -1;
    }
    return setenv("GH_TEST_TMPDIR", run_dir, 1);
}

static double
case_timeout(void)
{
    const char *t = getenv("TEST_TIMEOUT"), *w = getenv("GATEHOUSE_WRAPPER");
    double s = t != NULL ? atof(t) : 0;

    if (s <= 0)
        s = CASE_TIMEOUT_S;
    return w != NULL && w[0] != '\0' ? s * 10 : s;
}

/* Runs one case in a child; 0 if it passed, else -1 having said why. */
static int
run_case(const struct test_entry *t, size_t n, double timeout_s)
{
    sigset_t chld, old;
    struct timespec ts;
    double t0 = now(), left;
    int status = 0;
    pid_t pid, got = 0;

    fprintf(stderr, "# %s\n", t->name);
    fflush(NULL);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    if ((pid = fork()) < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        fprintf(stderr, "not ok %zu - %s: fork: %s\n", n, t->name,
                strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        t->fn();
        /* exit, not _exit: atexit stops what the case started, and a leak
         * checker reports. */
        exit(0);
    }
    setpgid(pid, pid);
    /* SIGCHLD comes only from this child: what it starts is its own. */
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
           (left = t0 + timeout_s - now()) > 0) {
        ts.tv_sec = (time_t)left;
        ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        sigtimedwait(&chld, NULL, &ts);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (got == 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        fprintf(stderr, "not ok %zu - %s: timed out after %.0f s\n", n, t->name,
                timeout_s);
        return -1;
    }
    /* Whatever the case left behind in its group goes too. */
    kill(-pid, SIGKILL);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        fprintf(stderr, "ok %zu - %s (%.2f s)\n", n, t->name, now() - t0);
        return 0;
    }
    if (WIFEXITED(status))
        fprintf(stderr, "not ok %zu - %s: exit status %d (%.2f s)\n", n,
                t->name, WEXITSTATUS(status), now() - t0);
    else
        fprintf(stderr, "not ok %zu - %s: killed by signal %d (%s)\n", n,
                t->name, WTERMSIG(status), strsignal(WTERMSIG(status)));
    return -1;
}

int
test_main(const struct test_entry *tests, size_t count, void (*setup)(void),
          int argc, char **argv)
{
    const char *nofork = getenv("TEST_NOFORK");
    double timeout_s = case_timeout();
    size_t i, ran = 0, failed = 0;
    char failures[1024] = "";

    if (make_run_dir() < 0)
        return 1;
    if (setup != NULL)
        setup();
    for (i = 0; i < count; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        ran++;
        /* TEST_NOFORK=1: in this process, for a debugger. */
        if (nofork != NULL && nofork[0] == '1') {
            fprintf(stderr, "# %s\n", tests[i].name);
            tests[i].fn();
            continue;
        }
        if (run_case(&tests[i], ran, timeout_s) < 0) {
            failed++;
            snprintf(failures + strlen(failures),
                     sizeof(failures) - strlen(failures), " %s", tests[i].name);
        }
    }
    if (ran == 0)
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
    else if (failed > 0)
        fprintf(stderr, "FAILED %zu of %zu tests:%s\n", failed, ran, failures);
    else
        fprintf(stderr, "ok %zu tests\n", ran);
    /* A failure's files stay for a look. */
    if (run_dir[0] != '\0') {
        if (failed == 0)
            remove_tree(run_dir);
        else
            fprintf(stderr, "temp files kept in %s\n", run_dir);
    }
    return ran > 0 && failed == 0 ? 0 : 1;
}
