/* SPDX-License-Identifier: MIT */
/* Shared by the cli_*.c files only: the one option parser, the one config
 * loader, one-line errors, tables and JSON on stdout. */
#ifndef GATEHOUSE_CLI_INTERNAL_H
#define GATEHOUSE_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct config;
struct keyring;
struct redis_config;
struct store;

#define CLI_EXIT_USAGE 2

/*
 * One option a group of commands knows; a table of them ends with a
 * zeroed entry. Each command has a struct of its option values, and an
 * option names the member its value goes to, as config.c's table of
 * settings does.
 */
struct cli_option {
    const char *name; /* "--config" */
    int flag;         /* a bit of its own */
    const char *arg;  /* what its value is ("FILE"), or NULL: it takes none */
    size_t at;        /* offsetof the const char * its value goes to */
    /* When set, the option is refused wherever it appears, and this
     * follows its name in the message. */
    const char *refused;
};

/* Which options of its table one command takes, as their flags. */
struct cli_rules {
    int allowed;
    int required;
    int one_of; /* at least one of these, when not 0 */
};

/*
 * Parses argv (the words after the command's name) against opts and the
 * command's rules: *given gets the flags present, and values (the
 * command's struct) each value given, borrowed from argv. Options are
 * spelled exactly ("--opt V" or "--opt=V"; no abbreviations, which could
 * turn a typo into another option, and no short forms but -h). Returns 0,
 * 1 if --help was asked for (it wins over any error), or CLI_EXIT_USAGE
 * with the first problem in msg. No message quotes a value: it could be a
 * password typed in the wrong place.
 */
int cli_parse(const struct cli_option *opts, const struct cli_rules *rules,
              int argc, char **argv, int *given, void *values, char *msg,
              size_t size);
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
/* Opens cfg's Redis and checks it answers, or says so as cli_fail does
 * and returns 1. *ret is the caller's (store_close). */
int cli_connect(const char *cmd, const struct config *cfg,
                struct store **ret);
/* "cli:" and the OS user running the command, for the audit log. */
void cli_actor(char *buf, size_t size);

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
