/* SPDX-License-Identifier: MIT */
/* "gatehouse sessions|logout|deliveries|audit": the Admin API's operations
 * from the command line, straight to Redis (SPEC §2), through the same
 * functions (admin.h), so both end sessions and write audit records
 * alike. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli_internal.h"
#include "gatehouse/api/admin.h"
#include "gatehouse/cli/cli.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/states.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/core/util.h"

/* Sessions read per round of "gatehouse sessions" without --user. */
#define PAGE 1000
#define DELIVERIES_DEFAULT 100
#define AUDIT_DEFAULT 50
/* The CLI may read the whole capped stream. */
#define AUDIT_MAX STORE_AUDIT_MAX
#define DELIVERIES_MAX 100000

/* The line for a failed operation; exit status 1. */
static int
fail(const struct cli_ctx *c, int rc)
{
    return cli_fail(c->cmd, c->cfg, rc);
}

/* The audit record, with the reason --reason gave. */
static void
audit(struct cli_ctx *c, const char *action, const char *target,
      const char *outcome, long long sessions, long long deliveries)
{
    cli_audit_add(c, action, target, c->o->reason, outcome, sessions,
                  deliveries);
}

/*
 * gatehouse sessions
 */

/* What a logout-all is doing, if one is: SPEC's "progress visible in
 * gatehouse sessions". On stderr, so --json output stays clean. */
static void
show_logout_all(struct cli_ctx *c)
{
    struct logout_all_state s;
    char started[32];
    int64_t idle;

    const char *state;

    if (store_logout_all_get(c->st, &s) < 0 ||
        run_state_parse(s.state) != RUN_RUNNING)
        return;
    cli_iso_time(s.started, started, sizeof(started));
    state = admin_logout_all_state(&s, util_now(), &idle);
    fprintf(stderr,
            "%s: logout-all %s: %lld of %lld sessions ended, %lld "
            "notifications queued (by %s since %s)%s\n",
            c->cmd, state, s.ended, s.total, s.queued, s.actor, started,
            run_state_parse(state) == RUN_RESUMING
                ? "; its process stopped, a running server takes it over"
                : "");
}

/* Reads the sessions named by sids, skipping those ended meanwhile, and
 * adds them to the table or the JSON array. */
static int
add_sessions(struct cli_ctx *c, char **sids, size_t n,
             const struct user *known, struct cli_table *t, json_t *arr,
             long long *count)
{
    struct user *u = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        struct session *s = NULL;
        const char *username = NULL;
        char created[32], seen[32], apps[512];
        size_t j;

        rc = session_get(c->st, sids[i], &s);
        if (rc == GH_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        if (known != NULL) {
            username = known->username;
        } else {
            /* The previous row's user is often this one's too. */
            if (u == NULL || strcmp(u->sub, s->sub) != 0) {
                user_free(u);
                u = NULL;
                if (users_get(c->st, s->sub, &u) < 0)
                    u = NULL;
            }
            username = u != NULL ? u->username : NULL;
        }
        if (arr != NULL) {
            if (json_array_append_new(
                    arr, admin_session_json(s, c->cfg, username)) < 0)
                rc = GH_ENOMEM;
        } else {
            const char *row[7];
            cli_iso_time(s->created, created, sizeof(created));
            cli_iso_time(s->last_seen, seen, sizeof(seen));
            apps[0] = '\0';
            for (j = 0; j < s->napps; j++)
                snprintf(apps + strlen(apps), sizeof(apps) - strlen(apps),
                         "%s%s", j > 0 ? "," : "", s->apps[j]);
            row[0] = s->sid;
            row[1] = username;
            row[2] = s->sub;
            row[3] = created;
            row[4] = seen;
            row[5] = s->ip;
            row[6] = apps;
            rc = cli_table_add(t, row);
        }
        (*count)++;
        session_free(s);
    }
    user_free(u);
    return rc;
}

static int
run_sessions(struct cli_ctx *c)
{
    static const char *const head[7] = {"SID",       "USER", "SUB",
                                        "CREATED",   "LAST SEEN", "IP",
                                        "APPS"};
    struct cli_table t = {.ncols = 7};
    struct user *u = NULL;
    json_t *arr = NULL;
    char **sids = NULL, buf[80];
    size_t n = 0, i;
    long long count = 0, start;
    int json = c->o->given & CLI_JSON, rc;

    if (json && (arr = json_array()) == NULL)
        return fail(c, GH_ENOMEM);
    if (!json)
        cli_table_add(&t, head);
    if (c->o->user != NULL) {
        rc = users_get(c->st, c->o->user, &u);
        if (rc == GH_ENOTFOUND) {
            cli_complain(c->cmd, "no user \"%s\"",
                     cli_shown(c->o->user, buf, sizeof(buf)));
            audit(c, "list_sessions", c->o->user, "not_found", -1, -1);
            rc = 1;
            goto out;
        }
        if (rc < 0 ||
            (rc = session_list_user(c->st, u->sub, &sids, &n)) < 0 ||
            (rc = add_sessions(c, sids, n, u, &t, arr, &count)) < 0) {
            rc = fail(c, rc);
            goto out;
        }
    } else {
        /* Page through the expiry index: no one reply holds 100,000
         * sessions. */
        for (start = 0;; start += PAGE) {
            if ((rc = store_sessions_range(c->st, start, PAGE, &sids, &n)) <
                    0 ||
                (rc = add_sessions(c, sids, n, NULL, &t, arr, &count)) < 0) {
                rc = fail(c, rc);
                goto out;
            }
            for (i = 0; i < n; i++)
                free(sids[i]);
            free(sids);
            sids = NULL;
            if (n < PAGE)
                break;
            n = 0;
        }
    }
    if (json) {
        rc = cli_print_json(arr) < 0 ? fail(c, GH_EIO) : 0;
        arr = NULL;
    } else {
        cli_table_print(&t);
        rc = 0;
    }
    audit(c, "list_sessions", c->o->user != NULL ? c->o->user : "all", "ok",
          count, -1);
    show_logout_all(c);
out:
    cli_table_clear(&t);
    for (i = 0; sids != NULL && i < n; i++)
        free(sids[i]);
    free(sids);
    json_decref(arr);
    user_free(u);
    return rc;
}

/*
 * gatehouse logout
 */

static int
check_logout(const struct cli_ctx *c, char *msg, size_t size)
{
    const struct cli_opts *o = c->o;
    int n = !!(o->given & CLI_USER) + !!(o->given & CLI_SESSION) +
            !!(o->given & CLI_ALL);

    if (n != 1)
        snprintf(msg, size, "give exactly one of --user U, --session SID, "
                            "--all");
    else if (o->reason != NULL && !admin_valid_reason(o->reason))
        snprintf(msg, size, "--reason: at most %d bytes, no control "
                            "characters", ADMIN_REASON_MAX);
    return msg[0] != '\0' ? -1 : 0;
}

static void
print_counts(const struct cli_ctx *c, long long sessions, long long queued,
             const char *state)
{
    json_t *o;

    if (c->o->given & CLI_JSON) {
        o = json_pack("{s:I, s:I}", "sessions", (json_int_t)sessions,
                      "notifications", (json_int_t)queued);
        if (o != NULL && state != NULL)
            json_object_set_new(o, "state", json_string(state));
        cli_print_json(o);
    }
}

static int
logout_user(struct cli_ctx *c)
{
    struct user *u = NULL;
    long long sessions = 0, queued = 0;
    char buf[80];
    int rc;

    rc = users_get(c->st, c->o->user, &u);
    if (rc == GH_ENOTFOUND) {
        cli_complain(c->cmd, "no user \"%s\"",
                 cli_shown(c->o->user, buf, sizeof(buf)));
        audit(c, "logout_user", c->o->user, "not_found", -1, -1);
        return 1;
    }
    if (rc < 0)
        return fail(c, rc);
    rc = admin_logout_user(c->st, u->sub, c->actor, &sessions, &queued);
    if (rc < 0) {
        audit(c, "logout_user", c->o->user, "error", -1, -1);
        rc = fail(c, rc);
        goto out;
    }
    audit(c, "logout_user", c->o->user, "ok", sessions, queued);
    if (c->o->given & CLI_JSON)
        print_counts(c, sessions, queued, NULL);
    else
        printf("ended %lld session%s of %s (%s); %lld notification%s "
               "queued\n",
               sessions, sessions == 1 ? "" : "s", u->username, u->sub,
               queued, queued == 1 ? "" : "s");
out:
    user_free(u);
    return rc;
}

static int
logout_session(struct cli_ctx *c)
{
    long long queued = 0;
    char sub[37], buf[80];
    int rc;

    if (!admin_valid_sid(c->o->session)) {
        cli_complain(c->cmd, "\"%s\" is not a session id (22 base64url "
                         "characters)",
                 cli_shown(c->o->session, buf, sizeof(buf)));
        return 1;
    }
    rc = admin_logout_session(c->st, c->cfg, c->o->session, c->actor,
                              &queued, sub);
    if (rc < 0) {
        audit(c, "end_session", c->o->session, "error", -1, -1);
        return fail(c, rc);
    }
    if (rc == 0) {
        cli_complain(c->cmd, "no live session %s", c->o->session);
        audit(c, "end_session", c->o->session, "not_found", -1, -1);
        return 1;
    }
    audit(c, "end_session", c->o->session, "ok", 1, queued);
    if (c->o->given & CLI_JSON)
        print_counts(c, 1, queued, NULL);
    else
        printf("ended session %s of %s; %lld notification%s queued\n",
               c->o->session, sub, queued, queued == 1 ? "" : "s");
    return 0;
}

struct progress_line {
    const char *cmd;
    int tty;
    double last;
    long long shown; /* sessions ended as of the last line, -1: none */
    sigset_t signals; /* SIGINT and SIGTERM, blocked during the run */
    atomic_int stop;
};

/*
 * Takes a pending SIGINT or SIGTERM, blocked for the run: the logout-all
 * stops after its current batch and says so, instead of dying with its
 * progress marked running. Polled between batches rather than caught, so
 * no handler needs a global to talk to.
 */
static void
take_signals(struct progress_line *pl)
{
    struct timespec now = {0, 0};

    while (sigtimedwait(&pl->signals, NULL, &now) > 0)
        atomic_store(&pl->stop, 1);
}

/* SPEC: a progress line on stderr for long operations. On a terminal it
 * rewrites itself; in a log, one line a second at most. */
static void
progress(void *arg, const struct admin_progress *p)
{
    struct progress_line *pl = arg;
    double now = util_monotonic();

    take_signals(pl);
    if (!pl->tty && now - pl->last < 1.0)
        return;
    pl->last = now;
    pl->shown = p->ended;
    fprintf(stderr, "%s%s: %lld of %lld sessions ended, %lld notifications "
                    "queued%s",
            pl->tty ? "\r" : "", pl->cmd, p->ended, p->total, p->queued,
            pl->tty ? "" : "\n");
    fflush(stderr);
}

static int
logout_all(struct cli_ctx *c)
{
    struct progress_line pl = {.cmd = c->cmd, .tty = isatty(STDERR_FILENO),
                               .shown = -1};
    sigset_t old_mask;
    struct logout_all_state other;
    struct admin_progress p;
    struct admin_run run = {.actor = c->actor, .reason = c->o->reason,
                            .addr = "local"};
    char started[32];
    int rc;

    rc = admin_logout_all_begin(c->st, &run, &p, &other);
    if (rc == GH_EBUSY) {
        cli_iso_time(other.started, started, sizeof(started));
        cli_complain(c->cmd,
                 "a logout-all is already running (by %s since %s, %lld "
                 "of %lld sessions ended)",
                 other.actor, started, other.ended, other.total);
        audit(c, "logout_all", "all", "conflict", -1, -1);
        return 1;
    }
    if (rc < 0)
        return fail(c, rc);
    audit(c, "logout_all", "all", "ok", p.total, -1);
    sigemptyset(&pl.signals);
    sigaddset(&pl.signals, SIGINT);
    sigaddset(&pl.signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &pl.signals, &old_mask);
    rc = admin_logout_all_run(c->st, c->cfg, &run, &pl.stop, progress, &pl,
                              &p);
    /* Taken now, or unblocking would deliver it and end the process
     * before the lines below say where the run stopped. */
    take_signals(&pl);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    /* The final count always shows, once, and ends the line. */
    if (pl.shown != p.ended) {
        pl.last = 0;
        progress(&pl, &p);
    }
    if (pl.tty)
        fputc('\n', stderr);
    if (rc == GH_EBUSY) {
        cli_complain(c->cmd,
                 "after %lld sessions a server took the run over as stalled; "
                 "it finishes it (gatehouse sessions shows its progress)",
                 p.ended);
        return 1;
    }
    if (rc < 0) {
        cli_complain(c->cmd,
                 "paused after %lld sessions: %s; a running gatehouse serve "
                 "resumes it within %d s of Redis answering again, or run "
                 "it again",
                 p.ended, gh_strerror(rc), ADMIN_STALE_S + ADMIN_WATCH_S + 1);
        return 1;
    }
    if (rc == 1) {
        cli_complain(c->cmd,
                 "interrupted after %lld sessions; run it again to end the "
                 "rest",
                 p.ended);
        print_counts(c, p.ended, p.queued, run_state_name(RUN_INTERRUPTED));
        return 1;
    }
    if (c->o->given & CLI_JSON)
        print_counts(c, p.ended, p.queued, run_state_name(RUN_DONE));
    else
        printf("ended %lld session%s; %lld notification%s queued\n",
               p.ended, p.ended == 1 ? "" : "s", p.queued,
               p.queued == 1 ? "" : "s");
    return 0;
}

static int
run_logout(struct cli_ctx *c)
{
    if (c->o->given & CLI_USER)
        return logout_user(c);
    if (c->o->given & CLI_SESSION)
        return logout_session(c);
    return logout_all(c);
}

/*
 * gatehouse deliveries
 */

/* --state as a ledger state; LEDGER_STATE_COUNT, both listed ones, when
 * not given. */
static int
listed_state(const struct cli_opts *o)
{
    return o->state != NULL ? ledger_state_parse(o->state) : LEDGER_STATE_COUNT;
}

static int
check_deliveries(const struct cli_ctx *c, char *msg, size_t size)
{
    const struct cli_opts *o = c->o;
    int state = listed_state(o);

    if (state != LEDGER_PENDING && state != LEDGER_FAILED &&
        state != LEDGER_STATE_COUNT)
        snprintf(msg, size, "--state must be pending or failed");
    else if ((o->given & CLI_RETRY) && state == LEDGER_PENDING)
        snprintf(msg, size, "--retry requeues failed deliveries; it takes "
                            "no --state pending");
    else if ((o->given & CLI_RETRY) && (o->given & CLI_LIMIT))
        snprintf(msg, size, "--retry requeues every failed delivery; it "
                            "takes no --limit");
    else if (c->limit > DELIVERIES_MAX)
        snprintf(msg, size, "--limit is at most %d", DELIVERIES_MAX);
    return msg[0] != '\0' ? -1 : 0;
}

static int
add_deliveries(struct cli_ctx *c, int failed, int limit, struct cli_table *t,
               json_t *arr, long long *shown_n, long long *total)
{
    struct delivery_record *d = NULL;
    size_t n = 0, i;
    int rc;

    if ((rc = store_deliveries_list(c->st, failed, limit, &d, &n, total)) <
        0)
        return rc;
    for (i = 0; i < n && rc == 0; i++) {
        char created[32], next[32], last[160], tries[16];
        const char *row[8];

        if (arr != NULL) {
            if (json_array_append_new(arr, admin_delivery_json(&d[i])) < 0)
                rc = GH_ENOMEM;
            continue;
        }
        cli_iso_time(d[i].created, created, sizeof(created));
        cli_iso_time(failed ? d[i].done : (int64_t)d[i].due, next, sizeof(next));
        snprintf(tries, sizeof(tries), "%zu", d[i].nattempts);
        last[0] = '\0';
        if (d[i].nattempts > 0) {
            const struct delivery_attempt *a =
                &d[i].attempts[d[i].nattempts - 1];
            char when[32];
            cli_iso_time(a->time, when, sizeof(when));
            snprintf(last, sizeof(last), "%s %s", when, a->outcome);
        }
        row[0] = d[i].state;
        row[1] = d[i].sid;
        row[2] = d[i].client_id;
        row[3] = d[i].reason;
        row[4] = tries;
        row[5] = created;
        row[6] = next;
        row[7] = last;
        rc = cli_table_add(t, row);
    }
    *shown_n += (long long)n;
    store_delivery_records_free(d, n);
    return rc;
}

static int
run_deliveries(struct cli_ctx *c)
{
    static const char *const head[8] = {
        "STATE", "SID", "APP", "REASON", "ATTEMPTS", "CREATED",
        "NEXT/DONE", "LAST ATTEMPT"};
    struct cli_table t = {.ncols = 8};
    const char *state = c->o->state;
    int listed = listed_state(c->o);
    int json = c->o->given & CLI_JSON;
    int limit = c->limit > 0 ? (int)c->limit : DELIVERIES_DEFAULT;
    long long count = 0, pending = 0, failed = 0, shown_n = 0;
    json_t *arr = NULL;
    int rc = 0;

    if (c->o->given & CLI_RETRY) {
        if ((rc = store_deliveries_retry(c->st, util_now(), &count)) < 0) {
            audit(c, "retry_deliveries", "failed", "error", -1, -1);
            return fail(c, rc);
        }
        audit(c, "retry_deliveries", "failed", "ok", -1, count);
        if (json)
            cli_print_json(json_pack("{s:I}", "requeued", (json_int_t)count));
        else
            printf("requeued %lld failed deliver%s\n", count,
                   count == 1 ? "y" : "ies");
        return 0;
    }
    if (json && (arr = json_array()) == NULL)
        return fail(c, GH_ENOMEM);
    if (!json)
        cli_table_add(&t, head);
    if (listed != LEDGER_FAILED)
        rc = add_deliveries(c, 0, limit, &t, arr, &shown_n, &pending);
    if (rc == 0 && listed != LEDGER_PENDING)
        rc = add_deliveries(c, 1, limit, &t, arr, &shown_n, &failed);
    if (rc < 0) {
        rc = fail(c, rc);
        goto out;
    }
    if (json) {
        cli_print_json(arr);
        arr = NULL;
    } else {
        cli_table_print(&t);
    }
    if (shown_n < pending + failed)
        fprintf(stderr, "%s: showing %lld of %lld; see --limit\n", c->cmd,
                shown_n, pending + failed);
    audit(c, "list_deliveries", state != NULL ? state : "pending,failed",
          "ok", -1, shown_n);
out:
    cli_table_clear(&t);
    json_decref(arr);
    return rc;
}

/*
 * gatehouse audit
 */

static int
check_audit(const struct cli_ctx *c, char *msg, size_t size)
{
    if (c->limit > AUDIT_MAX)
        snprintf(msg, size, "--limit is at most %d", AUDIT_MAX);
    return msg[0] != '\0' ? -1 : 0;
}

static int
run_audit(struct cli_ctx *c)
{
    static const char *const head[7] = {"TIME",    "ACTOR",   "ACTION",
                                        "TARGET",  "OUTCOME", "ADDRESS",
                                        "REASON"};
    struct cli_table t = {.ncols = 7};
    struct audit_record *a = NULL;
    int json = c->o->given & CLI_JSON;
    int limit = c->limit > 0 ? (int)c->limit : AUDIT_DEFAULT;
    json_t *arr = NULL;
    size_t n = 0, i;
    int rc;

    if ((rc = store_audit_list(c->st, limit, &a, &n)) < 0)
        return fail(c, rc);
    if (json) {
        if ((arr = json_array()) == NULL) {
            rc = fail(c, GH_ENOMEM);
            goto out;
        }
        for (i = 0; i < n; i++)
            json_array_append_new(arr, admin_audit_json(&a[i]));
        cli_print_json(arr);
    } else {
        cli_table_add(&t, head);
        for (i = 0; i < n; i++) {
            char when[32];
            const char *row[7];
            cli_iso_time(a[i].time_ms / 1000, when, sizeof(when));
            row[0] = when;
            row[1] = a[i].actor;
            row[2] = a[i].action;
            row[3] = a[i].target;
            /* session_end.lua records say only what happened. */
            row[4] = a[i].outcome[0] != '\0' ? a[i].outcome : "ok";
            row[5] = a[i].addr;
            row[6] = a[i].reason;
            cli_table_add(&t, row);
        }
        cli_table_print(&t);
    }
    audit(c, "read_audit", "audit", "ok", -1, -1);
    rc = 0;
out:
    store_audit_free(a, n);
    return rc;
}

static const struct cli_command commands[] = {
    {"sessions", {CLI_CONFIG | CLI_USER | CLI_JSON, CLI_CONFIG, 0},
     "usage: gatehouse sessions --config FILE [--user U] [--json]\n"
     "\n"
     "Lists live sessions, one line each: SID USER SUB CREATED LAST-SEEN\n"
     "IP APPS (times in UTC), or a JSON array with --json. U is a\n"
     "username or a sub. A logout-all in progress is reported on stderr.\n",
     NULL, run_sessions},
    {"logout",
     {CLI_CONFIG | CLI_USER | CLI_SESSION | CLI_ALL | CLI_REASON |
          CLI_JSON,
      CLI_CONFIG, 0},
     "usage: gatehouse logout --config FILE (--user U | --session SID | "
     "--all)\n"
     "                        [--reason TEXT] [--json]\n"
     "\n"
     "Ends sessions as the Admin API does: one session, every session of\n"
     "a user (username or sub), or every session of every user. Each app\n"
     "of each session is notified by back-channel logout (queued in Redis\n"
     "for the running server to deliver). --all works in batches and\n"
     "prints its progress on stderr; Ctrl-C stops it after the current\n"
     "session, and running it again ends the rest. The action, with the\n"
     "OS user and TEXT, goes to the audit log.\n",
     check_logout, run_logout},
    {"deliveries",
     {CLI_CONFIG | CLI_STATE | CLI_RETRY | CLI_JSON | CLI_LIMIT, CLI_CONFIG, 0},
     "usage: gatehouse deliveries --config FILE [--state pending|failed]\n"
     "                            [--limit N] [--json]\n"
     "       gatehouse deliveries --config FILE --retry [--state failed]\n"
     "\n"
     "Lists back-channel deliveries not yet done (pending: soonest due\n"
     "first; failed: latest first), at most N of each (default 100):\n"
     "STATE SID APP REASON ATTEMPTS CREATED NEXT/DONE LAST-ATTEMPT.\n"
     "--retry requeues every failed delivery, due now, with a fresh\n"
     "budget of attempts; earlier attempts stay in the ledger.\n",
     check_deliveries, run_deliveries},
    {"audit", {CLI_CONFIG | CLI_LIMIT | CLI_JSON, CLI_CONFIG, 0},
     "usage: gatehouse audit --config FILE [--limit N] [--json]\n"
     "\n"
     "Shows the newest N audit records (default 50), newest first: TIME\n"
     "ACTOR ACTION TARGET OUTCOME ADDRESS REASON.\n",
     check_audit, run_audit},
};

static int
run(const char *name, int argc, char **argv)
{
    size_t i;

    for (i = 0; i < NELEM(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return cli_run("gatehouse", &commands[i], argc - 1, argv + 1);
    return CLI_EXIT_USAGE;
}

int
cli_sessions(int argc, char **argv)
{
    return run("sessions", argc, argv);
}

int
cli_logout(int argc, char **argv)
{
    return run("logout", argc, argv);
}

int
cli_deliveries(int argc, char **argv)
{
    return run("deliveries", argc, argv);
}

int
cli_audit(int argc, char **argv)
{
    return run("audit", argc, argv);
}
