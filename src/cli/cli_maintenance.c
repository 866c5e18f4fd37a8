/* SPDX-License-Identifier: MIT */
/* gatehouse maintenance start|status|end (SPEC §2): the maintenance
 * shutdown, through the same session/maintenance.c as the Admin API. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli_internal.h"
#include "gatehouse/cli/cli.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/states.h"
#include "gatehouse/core/util.h"
#include "gatehouse/session/admin_ops.h"
#include "gatehouse/session/maintenance.h"
#include "gatehouse/store/store.h"

/* How long status --wait waits by default, and at most. */
#define WAIT_DEFAULT_S 300
#define WAIT_MAX_S 86400
/* Width of the progress bar on a terminal. */
#define BAR_WIDTH 30

static const char group_help[] =
    "usage: gatehouse maintenance --config FILE start --message TEXT "
    "[--at TIME] [--json]\n"
    "       gatehouse maintenance --config FILE status [--wait [--timeout S]] "
    "[--json]\n"
    "       gatehouse maintenance --config FILE end [--json]\n"
    "\n"
    "A maintenance shutdown (SPEC §5). start announces it: until TIME every\n"
    "Gatehouse page shows TEXT and the time, and GET /maintenance tells the\n"
    "apps. At TIME (or at once) every session ends, each app is notified by\n"
    "back-channel logout, and sign-in and user grants answer 503 until\n"
    "end lifts it. status shows, per app, sessions still active and\n"
    "notifications pending and failed, and says \"everyone is out\" only\n"
    "when no session and no notification is left; --wait waits for that\n"
    "(at most S seconds, default 300; exit 1 on timeout).\n"
    "\n"
    "TIME: now, +N with a unit s, m or h (+30m), epoch seconds, or RFC 3339\n"
    "(2026-12-07T15:00:00Z, or with an offset +01:00); a past time is now.\n";

static int
fail(const struct cli_ctx *c, int rc)
{
    return cli_fail(c->cmd, c->cfg, rc);
}

/*
 * The sweep, here, when the shutdown starts at once and no server has
 * claimed it yet: the sessions end even with no server running (the
 * notifications wait in Redis for one). A server that claimed it first
 * does it instead.
 */
static int
sweep(struct cli_ctx *c, long long *ended)
{
    char owner[ADMIN_OWNER_LEN + 1];
    struct admin_run run = {.actor = c->actor, .addr = "local",
                            .maintenance = 1};
    struct logout_all_state other;
    struct admin_progress p;
    atomic_int stop = 0;
    int rc;

    *ended = -1;
    if ((rc = util_random_id(owner, 16)) < 0)
        return rc;
    if ((rc = maintenance_claim(NULL, c->st, util_now(), owner)) != 1)
        return rc;
    run.reason = end_reason_name(END_MAINTENANCE);
    rc = admin_logout_all_begin(c->st, &run, &p, &other);
    if (rc < 0) {
        /* An administrator's logout-all is running: a server claims the
         * sweep again once it is done. */
        maintenance_release(c->st, owner);
        return rc == GH_EBUSY ? 0 : rc;
    }
    rc = admin_logout_all_run(c->st, c->cfg, &run, &stop, NULL, NULL, &p);
    if (rc < 0 && rc != GH_EBUSY)
        return rc;
    *ended = p.ended;
    return 0;
}

static int
run_start(struct cli_ctx *c)
{
    int json = c->o->given & CLI_JSON;
    int64_t now = util_now(), at = now;
    struct maintenance m;
    long long ended = -1;
    char when[32];
    int rc;

    if (c->o->at != NULL && maintenance_parse_time(c->o->at, now, &at) < 0) {
        /* Checked before anything changed (check_start), so unreachable
         * but for a clock that moved. */
        cli_complain(c->cmd, "--at: not a time; see --help");
        return 1;
    }
    if ((rc = maintenance_start(NULL, c->st, c->o->message, at, c->actor, now,
                                &m)) < 0) {
        cli_audit_add(c, "maintenance_start", "maintenance", c->o->message,
                      "error", -1, -1);
        return fail(c, rc);
    }
    cli_audit_add(c, "maintenance_start", "maintenance", c->o->message, "ok",
                  -1, -1);
    if (m.state == MAINT_ACTIVE && (rc = sweep(c, &ended)) < 0)
        return fail(c, rc);
    if (json)
        return cli_print_json(maintenance_json(&m)) < 0 ? fail(c, GH_EIO) : 0;
    maintenance_format_time(m.at, when, sizeof(when));
    if (m.state == MAINT_ANNOUNCED)
        printf("maintenance announced for %s: every page shows the message "
               "until then\n", when);
    else if (ended >= 0)
        printf("maintenance active since %s: %lld session%s ended, apps "
               "notified\n", when, ended, ended == 1 ? "" : "s");
    else
        printf("maintenance active since %s: a running gatehouse ends every "
               "session\n", when);
    return 0;
}

static void
print_status(const struct maintenance_status *s)
{
    static const char *const head[4] = {"APP", "SESSIONS", "PENDING",
                                        "FAILED"};
    struct cli_table t = {.ncols = 4};
    char when[32], n[3][24];
    size_t i;

    printf("state: %s\n", maint_state_name(s->m.state));
    if (s->m.state != MAINT_NONE) {
        maintenance_format_time(s->m.at, when, sizeof(when));
        printf("message: %s\nat: %s\nby: %s\n", s->m.message, when,
               s->m.actor);
    }
    if (s->napps > 0) {
        cli_table_add(&t, head);
        for (i = 0; i < s->napps; i++) {
            const char *row[4];
            snprintf(n[0], sizeof(n[0]), "%lld", s->apps[i].sessions);
            snprintf(n[1], sizeof(n[1]), "%lld", s->apps[i].pending);
            snprintf(n[2], sizeof(n[2]), "%lld", s->apps[i].failed);
            row[0] = s->apps[i].client_id;
            row[1] = n[0];
            row[2] = n[1];
            row[3] = n[2];
            cli_table_add(&t, row);
        }
        cli_table_print(&t);
    }
    printf("sessions %lld, notifications pending %lld, failed %lld: %s\n",
           s->sessions, s->pending, s->failed,
           s->everyone_out ? "everyone is out" : "not everyone is out yet");
}

/* One step of --wait: a bar redrawn in place on a terminal, else a line
 * when the counts change. */
static void
progress(const struct maintenance_status *s, long long first, int tty,
         long long *shown)
{
    long long left = s->sessions + s->pending;
    int i, done;

    if (tty) {
        done = first > 0 ? (int)((first - (left < first ? left : first)) *
                                 BAR_WIDTH / first)
                         : BAR_WIDTH;
        fputs("\r[", stdout);
        for (i = 0; i < BAR_WIDTH; i++)
            fputc(i < done ? '#' : '.', stdout);
        printf("] sessions %lld, pending %lld, failed %lld   ", s->sessions,
               s->pending, s->failed);
        fflush(stdout);
    } else if (left != *shown) {
        printf("waiting: sessions %lld, notifications pending %lld, failed "
               "%lld\n",
               s->sessions, s->pending, s->failed);
        fflush(stdout);
    }
    *shown = left;
}

static int
run_status(struct cli_ctx *c)
{
    int json = c->o->given & CLI_JSON, wait = c->o->given & CLI_WAIT;
    int tty = !json && isatty(STDOUT_FILENO);
    long timeout = c->o->timeout != NULL ? atol(c->o->timeout)
                                         : WAIT_DEFAULT_S;
    double until = util_now_ms() / 1000.0 + (double)timeout;
    struct maintenance_status s;
    long long first = -1, shown = -1;
    int rc, timed_out = 0;

    for (;;) {
        if ((rc = maintenance_status(c->st, &s)) < 0) {
            if (tty)
                fputc('\n', stdout);
            return fail(c, rc);
        }
        if (!wait || s.everyone_out)
            break;
        if (first < 0)
            first = s.sessions + s.pending;
        if (util_now_ms() / 1000.0 >= until) {
            timed_out = 1;
            break;
        }
        if (!json)
            progress(&s, first, tty, &shown);
        maintenance_status_clear(&s);
        usleep(500 * 1000);
    }
    if (wait && !json && shown >= 0) {
        progress(&s, first, tty, &shown);
        if (tty)
            fputc('\n', stdout);
    }
    cli_audit_add(c, "maintenance_status", "maintenance", NULL, "ok",
                  s.sessions, s.pending);
    rc = 0;
    if (!json)
        print_status(&s);
    else if (cli_print_json(maintenance_status_json(&s)) < 0)
        rc = fail(c, GH_EIO);
    maintenance_status_clear(&s);
    if (rc == 0 && timed_out) {
        cli_complain(c->cmd, "not everyone is out after %ld s", timeout);
        return 1;
    }
    return rc;
}

static int
run_end(struct cli_ctx *c)
{
    int json = c->o->given & CLI_JSON;
    int rc = maintenance_end(NULL, c->st);

    if (rc < 0) {
        cli_audit_add(c, "maintenance_end", "maintenance", NULL, "error", -1,
                      -1);
        return fail(c, rc);
    }
    cli_audit_add(c, "maintenance_end", "maintenance", NULL, "ok", -1, -1);
    if (json)
        return cli_print_json(json_pack("{s:s, s:b}", "state",
                                        maint_state_name(MAINT_NONE),
                                        "lifted", rc)) < 0
                   ? fail(c, GH_EIO)
                   : 0;
    printf(rc == 1 ? "maintenance lifted: sign-in is open again\n"
                   : "no maintenance was set\n");
    return 0;
}

static int
check_start(const struct cli_ctx *c, char *msg, size_t size)
{
    int64_t at;

    if (!maintenance_valid_message(c->o->message))
        snprintf(msg, size, "--message: 1 to %d bytes, no control characters",
                 MAINTENANCE_MESSAGE_MAX);
    else if (c->o->at != NULL &&
             maintenance_parse_time(c->o->at, util_now(), &at) < 0)
        snprintf(msg, size, "--at: now, +N with s, m or h, epoch seconds, "
                            "or RFC 3339, within a year");
    return msg[0] != '\0' ? -1 : 0;
}

static int
check_status(const struct cli_ctx *c, char *msg, size_t size)
{
    const char *t = c->o->timeout;
    char *end;
    long v;

    if (t == NULL)
        return 0;
    v = strtol(t, &end, 10);
    if (!(c->o->given & CLI_WAIT))
        snprintf(msg, size, "--timeout goes with --wait");
    else if (*t == '\0' || *end != '\0' || v < 1 || v > WAIT_MAX_S)
        snprintf(msg, size, "--timeout: 1 to %d seconds", WAIT_MAX_S);
    return msg[0] != '\0' ? -1 : 0;
}

static const struct cli_command commands[] = {
    {"start", {CLI_CONFIG | CLI_MESSAGE | CLI_AT | CLI_JSON,
               CLI_CONFIG | CLI_MESSAGE, 0},
     group_help, check_start, run_start},
    {"status", {CLI_CONFIG | CLI_WAIT | CLI_TIMEOUT | CLI_JSON, CLI_CONFIG, 0},
     group_help, check_status, run_status},
    {"end", {CLI_CONFIG | CLI_JSON, CLI_CONFIG, 0}, group_help, NULL,
     run_end},
};

/* Whether the word after an option is its value: the options these
 * commands take that have one, spelled apart ("--at TIME"). */
static int
takes_value(const char *opt)
{
    static const char *const with_value[] = {"--config", "--message", "--at",
                                             "--timeout"};
    size_t i;

    for (i = 0; i < NELEM(with_value); i++)
        if (strcmp(opt, with_value[i]) == 0)
            return 1;
    return 0;
}

int
cli_maintenance(int argc, char **argv)
{
    char **rest;
    int i, j, word = -1, rc;
    size_t k;

    /* SPEC §2 puts --config before the subcommand; after it works too. */
    for (i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0 || strcmp(argv[i], "-h") == 0) {
            if (takes_value(argv[i]))
                i++;
            continue;
        }
        word = i;
        break;
    }
    if (word < 0) {
        for (i = 1; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                fputs(group_help, stdout);
                return 0;
            }
        fprintf(stderr, "gatehouse maintenance: start, status or end "
                        "expected; see --help\n");
        return CLI_EXIT_USAGE;
    }
    for (k = 0; k < NELEM(commands); k++)
        if (strcmp(argv[word], commands[k].name) == 0)
            break;
    if (k == NELEM(commands)) {
        fprintf(stderr,
                "gatehouse maintenance: unknown subcommand '%.64s'; see "
                "--help\n",
                argv[word]);
        return CLI_EXIT_USAGE;
    }
    /* The words but the command's name and the subcommand. */
    if ((rest = calloc((size_t)argc, sizeof(*rest))) == NULL)
        return 1;
    for (i = 1, j = 0; i < argc; i++)
        if (i != word)
            rest[j++] = argv[i];
    rc = cli_run("gatehouse maintenance", &commands[k], j, rest);
    free(rest);
    return rc;
}
