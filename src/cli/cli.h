/* SPDX-License-Identifier: MIT */
/* Admin subcommands that talk to Redis directly (SPEC §2), through the
 * same code paths as the server. */
#ifndef GATEHOUSE_CLI_H
#define GATEHOUSE_CLI_H

/*
 * "gatehouse user add|passwd|disable|list": argv[0] is "user", argv[1] the
 * subcommand. Returns the exit status: 0 ok, 1 bad input or a failed
 * operation, 2 usage. Errors are one line on stderr.
 */
int cli_user(int argc, char **argv);

/*
 * "gatehouse sessions|logout|deliveries|audit" (src/cli_admin.c): the
 * Admin API's operations from the command line, through the same
 * functions (admin.h), acting as "cli:" and the OS user. argv[0] is the
 * command's name. Same exit statuses and one-line errors as cli_user.
 */
int cli_sessions(int argc, char **argv);
int cli_logout(int argc, char **argv);
int cli_deliveries(int argc, char **argv);
int cli_audit(int argc, char **argv);

#endif
