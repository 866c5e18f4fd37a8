/* SPDX-License-Identifier: MIT */
/* The gatehouse command: subcommand dispatch and wiring, nothing else. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "gatehouse/cli/cli.h"
#include "gatehouse/core/util.h"

static const char usage_text[] =
    "usage: gatehouse COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  serve         --config FILE               run the provider\n"
    "  check-config  --config FILE [--connect]   validate a config\n"
    "  keys generate --dir DIR [--alg RS256|ES256]  new active signing key\n"
    "  keys list     --dir DIR                   kid, alg, created, state\n"
    "  user add|passwd|disable|list --config FILE ...  manage users\n"
    "  sessions      --config FILE [--user U]    active sessions\n"
    "  logout        --config FILE (--user U | --session SID | --all)\n"
    "                [--reason TEXT]             end sessions, notify apps\n"
    "  deliveries    --config FILE [--state pending|failed] [--retry]\n"
    "                                            back-channel deliveries\n"
    "  audit         --config FILE [--limit N]   newest audit records\n"
    "  maintenance   --config FILE start --message TEXT [--at TIME] |\n"
    "                status [--wait] [--json] | end   maintenance shutdown\n"
    "\n"
    "Run 'gatehouse COMMAND --help' for a command's options.\n";

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    {"serve", cli_serve},
    {"check-config", cli_check_config},
    {"keys", cli_keys},
    {"user", cli_user},
    {"sessions", cli_sessions},
    {"logout", cli_logout},
    {"deliveries", cli_deliveries},
    {"audit", cli_audit},
    {"maintenance", cli_maintenance},
};

int
main(int argc, char **argv)
{
    size_t i;
    int rc;

    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    /* hiredis writes with write(): a Redis that closed the connection
     * must give an error, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < NELEM(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            curl_global_init(CURL_GLOBAL_DEFAULT);
            rc = commands[i].fn(argc - 1, argv + 1);
            curl_global_cleanup();
            return rc;
        }
    }
    fprintf(stderr, "gatehouse: unknown command '%s'\n%s", argv[1],
            usage_text);
    return 2;
}
