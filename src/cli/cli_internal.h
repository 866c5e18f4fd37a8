/* SPDX-License-Identifier: MIT */
/* Shared by the cli_*.c files only: option parsing as SPEC §2 wants it,
 * one-line errors, tables and JSON on stdout. */
#ifndef GATEHOUSE_CLI_INTERNAL_H
#define GATEHOUSE_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct config;
struct redis_config;

#define CLI_EXIT_USAGE 2
#define CLI_MAX_OPTIONS 32

/* One option a command may take; flag is a bit of its own. */
struct cli_option {
    const char *name; /* "--config" */
    int flag;
    int has_arg;
    const char *arg; /* what the value is, for "--config FILE is required" */
};

/* What was given: the flags present, and each value by the option's
 * index in its table (borrowed from argv). */
struct cli_args {
    int given;
    const char *value[CLI_MAX_OPTIONS];
};

/*
 * Parses argv against opts (n of them), allowing the flags in allowed and
 * requiring those in required. Options are spelled exactly ("--opt V" or
 * "--opt=V"; no abbreviations, which could turn a typo into another
 * option). Returns 0, 1 if --help was asked for (it wins over any error),
 * or CLI_EXIT_USAGE with the first problem in msg. No message quotes a
 * value.
 */
int cli_parse(const struct cli_option *opts, size_t n, int allowed,
              int required, int argc, char **argv, struct cli_args *out,
              char *msg, size_t size);
/* The value given for flag, or NULL. */
const char *cli_value(const struct cli_option *opts, size_t n,
                      const struct cli_args *a, int flag);

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
/* "cli:" and the OS user running the command, for the audit log. */
void cli_actor(char *buf, size_t size);

/* t as 2024-05-01T12:00:00Z, or "-" for 0. */
void cli_iso_time(int64_t t, char *buf, size_t size);

/* A table printed once every row is known, so columns line up. */
struct cli_table {
    size_t ncols;
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
