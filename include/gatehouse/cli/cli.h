/* SPDX-License-Identifier: MIT */
/* The subcommands of the gatehouse command (SPEC §2), one group per file:
 * main.c's table calls these. */
#ifndef GATEHOUSE_CLI_H
#define GATEHOUSE_CLI_H

/*
 * Each takes argv from the subcommand's name on (argv[0] is "serve",
 * "user", ...) and returns the exit status: 0 ok, 1 bad input or a failed
 * operation or check, 2 usage. Errors are one line on stderr.
 */

/* "gatehouse serve" (cli_serve.c): runs the provider until SIGTERM or
 * SIGINT. */
int cli_serve(int argc, char **argv);
/* "gatehouse check-config" (cli_check_config.c). */
int cli_check_config(int argc, char **argv);
/* "gatehouse keys generate|list" (cli_keys.c): argv[1] is the
 * subcommand. */
int cli_keys(int argc, char **argv);

/* "gatehouse user add|passwd|disable|list" (cli_users.c): argv[1] is the
 * subcommand. */
int cli_user(int argc, char **argv);

/*
 * "gatehouse sessions|logout|deliveries|audit" (cli_admin.c): the Admin
 * API's operations from the command line, through the same functions
 * (admin.h), acting as "cli:" and the OS user.
 */
int cli_sessions(int argc, char **argv);
int cli_logout(int argc, char **argv);
int cli_deliveries(int argc, char **argv);
int cli_audit(int argc, char **argv);
/* gatehouse maintenance start|status|end (cli_maintenance.c). */
int cli_maintenance(int argc, char **argv);

#endif
