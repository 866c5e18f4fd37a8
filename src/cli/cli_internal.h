/* SPDX-License-Identifier: MIT */
/* Shared by the cli_*.c files only: the one option parser, the one config
 * loader, the one way an admin command runs, one-line errors, tables and
 * JSON on stdout. */
#ifndef GATEHOUSE_CLI_INTERNAL_H
#define GATEHOUSE_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gatehouse/directory/users.h"

struct config;
struct keyring;
struct redis_config;
struct store;

#define CLI_EXIT_USAGE 2

/* Every option of the command line, a bit each (the table is in cli.c);
 * each command allows some. */
enum {
    CLI_CONFIG = 1 << 0,
    CLI_USERNAME = 1 << 1,
    CLI_EMAIL = 1 << 2,
    CLI_NAME = 1 << 3,
    CLI_PASSWORD_STDIN = 1 << 4,
    CLI_JSON = 1 << 5,
    CLI_EMAIL_VERIFIED = 1 << 6,
    CLI_GIVEN_NAME = 1 << 7,
    CLI_FAMILY_NAME = 1 << 8,
    CLI_LOCALE = 1 << 9,
    CLI_ZONEINFO = 1 << 10,
    CLI_USER = 1 << 11,
    CLI_SESSION = 1 << 12,
    CLI_ALL = 1 << 13,
    CLI_REASON = 1 << 14,
    CLI_STATE = 1 << 15,
    CLI_RETRY = 1 << 16,
    CLI_LIMIT = 1 << 17,
    CLI_DIR = 1 << 18,
    CLI_ALG = 1 << 19,
    CLI_CONNECT = 1 << 20,
    CLI_LOG_LEVEL = 1 << 21,
    CLI_LOG_FORMAT = 1 << 22,
    CLI_MESSAGE = 1 << 23,
    CLI_AT = 1 << 24,
    CLI_WAIT = 1 << 25,
    CLI_TIMEOUT = 1 << 26,
    CLI_OFF = 1 << 27,
};

/* What was given: the flags present and the values, borrowed from argv
 * (NULL when absent). */
struct cli_opts {
    int given;
    const char *config;
    const char *username;
    /* --email .. --zoneinfo, as users_add takes them (email_verified is
     * set from the flag). */
    struct user_info info;
    /* what an admin command acts on, and why */
    const char *user, *session, *reason, *state, *limit;
    /* keys */
    const char *dir, *alg;
    /* serve */
    const char *log_level, *log_format;
    /* maintenance */
    const char *message, *at, *timeout;
};

/* Which options one command takes, as CLI_* flags. */
struct cli_rules {
    int allowed;
    int required;
    int one_of; /* at least one of these, when not 0 */
};

/*
 * Parses argv (the words after the command's name) into o, by the
 * command's rules. Options are spelled exactly ("--opt V" or "--opt=V";
 * no abbreviations, which could turn a typo into another option, and no
 * short forms but -h). Returns 0, 1 if --help was asked for (it wins over
 * any error), or CLI_EXIT_USAGE with the first problem in msg. No message
 * quotes a value: it could be a password typed in the wrong place.
 */
int cli_parse(const struct cli_rules *rules, int argc, char **argv,
              struct cli_opts *o, char *msg, size_t size);
/* What a command does when its parse did not return 0: prints help (rc
 * 1) on stdout, or msg as cmd's one line. Returns the exit status, 0 or
 * CLI_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *help, int rc, const char *msg);
/* One line on stderr: "CMD: ...". */
void cli_complain(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s for a one-line message: control bytes become '?', a long value is
 * cut to size. Returns buf. */
const char *cli_shown(const char *s, char *buf, size_t size);
/* Where Redis is, for a message: the URL with any password masked. */
void cli_redis_where(const struct redis_config *rc, char *buf,
                     size_t size);
/* The one line for a failed operation (GH_EREDIS names where Redis is);
 * returns the exit status, 1. */
int cli_fail(const char *cmd, const struct config *cfg, int rc);

/* Loads the config, or says why on stderr ("FILE: field: problem") and
 * returns NULL. The caller frees it with config_free. */
struct config *cli_load_config(const char *path);
/*
 * Loads cfg's keys and checks every config client's ID token alg has an
 * active key: a client that could never get an ID token is a config
 * error, found at start rather than at its first sign-in. Returns 0, or 1
 * with the line said. *ret is the caller's (keyring_free).
 */
int cli_load_keys(const struct config *cfg, struct keyring **ret);

/* What an admin command works with, set up by cli_run. */
struct cli_ctx {
    const char *cmd; /* "gatehouse user add", for messages */
    const struct cli_opts *o;
    long limit; /* --limit as a number, 0 when not given */
    const struct config *cfg;
    struct store *st;
    const char *password; /* read from stdin, with --password-stdin */
    char actor[160];      /* "cli:" and the OS user, for the audit log */
};

/* An admin command: the user subcommands, sessions, logout, deliveries
 * and audit (SPEC §2: they talk to Redis directly, through the same code
 * paths as the server). */
struct cli_command {
    const char *name; /* as typed after the group: "add", "logout" */
    struct cli_rules rules;
    const char *help;
    /* Checks that need more than presence, before anything is loaded (c
     * has only o and limit): -1 with msg set, or 0; NULL for none. */
    int (*check)(const struct cli_ctx *c, char *msg, size_t size);
    int (*run)(struct cli_ctx *c);
};

/*
 * Adds the audit record of what c did: by c->actor, from "local";
 * sessions and deliveries -1 where they do not apply. A failed operation
 * (outcome "error") is followed by its one line, which already names
 * Redis when Redis is why: a failed write of its record is not said again.
 */
void cli_audit_add(struct cli_ctx *c, const char *action, const char *target,
                   const char *reason, const char *outcome, long long sessions,
                   long long deliveries);

/*
 * Runs cmd, argv the words after its name, as every admin command runs:
 * options, the config, the password from stdin when --password-stdin is
 * given, Redis, then cmd->run. group prefixes its name in messages
 * ("gatehouse user"). Returns the exit status.
 */
int cli_run(const char *group, const struct cli_command *cmd, int argc,
            char **argv);

/* t as 2024-05-01T12:00:00Z, or "-" for 0. */
void cli_iso_time(int64_t t, char *buf, size_t size);

/* A table printed once every row is known, so columns line up. */
struct cli_table {
    size_t ncols;
    /* Per column, the least width, so a column of fixed-size values
     * (ids, states) lines up the same whatever rows there are; or NULL. */
    const size_t *min_width;
    size_t nrows;
    size_t cap;
    char **cells; /* nrows × ncols, malloc'd */
};
/* Adds a row of ncols cells (copied; NULL or "" shows as "-", control
 * bytes as '?'). 0 or GH_ENOMEM. */
int cli_table_add(struct cli_table *t, const char *const *row);
/* Prints the table on stdout and frees its cells. */
void cli_table_print(struct cli_table *t);
/* Frees its cells without printing (NULL-safe contents). */
void cli_table_clear(struct cli_table *t);

/* Prints v on stdout, indented, for scripts, and releases it. 0, or
 * GH_ENOMEM when v is NULL, GH_EIO when stdout fails. */
int cli_print_json(json_t *v);

#endif
