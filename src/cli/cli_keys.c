/* SPDX-License-Identifier: MIT */
/* "gatehouse keys generate|list": the signing keys in a directory, with no
 * config and no Redis (SPEC §2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gatehouse/cli/cli.h"
#include "cli/cli_internal.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/crypto/factor_secret.h"
#include "gatehouse/crypto/keys.h"

static const char keys_help[] =
    "usage: gatehouse keys generate --dir DIR [--alg RS256|ES256]\n"
    "       gatehouse keys list     --dir DIR\n"
    "\n"
    "generate writes a new private key (mode 0600) of alg and makes it the\n"
    "active key of its alg; without --alg it makes one of each (RS256 and\n"
    "ES256). Keys of that alg active before are retired and stay in the\n"
    "JWKS until tokens they signed have expired. list shows kid, alg,\n"
    "created, state.\n";

static int
generate(const char *cmd, const char *dir, const char *alg)
{
    /* SPEC §2: without --alg, one of each, so ID tokens can default to
     * RS256 (OIDC Registration §2) whatever signing_alg is. */
    static const char *const both[] = {"RS256", "ES256"};
    unsigned char fkey[FACTOR_KEY_LEN];
    char kid[KEYS_KID_LEN + 1], why[512];
    size_t i;
    int rc;

    if (alg != NULL && strcmp(alg, "RS256") != 0 &&
        strcmp(alg, "ES256") != 0) {
        cli_complain(cmd, "--alg: must be RS256 or ES256");
        return CLI_EXIT_USAGE;
    }
    for (i = 0; i < 2; i++) {
        const char *one = alg != NULL ? alg : both[i];

        if ((rc = keys_generate(dir, one, kid)) < 0) {
            cli_complain(cmd, "%s: %s", dir, gh_strerror(rc));
            return 1;
        }
        /* With --alg the kid alone, as scripts capture it. */
        if (alg != NULL) {
            printf("%s\n", kid);
            break;
        }
        printf("%s %s\n", kid, one);
    }
    /* The second-factor key too, when absent (SPEC §3), and never
     * replaced: secrets sealed under it would no longer open. */
    rc = factor_key_load(dir, 1, fkey, why, sizeof(why));
    OPENSSL_cleanse(fkey, sizeof(fkey));
    if (rc < 0) {
        cli_complain(cmd, "%s", why);
        return 1;
    }
    return 0;
}

static int
list(const char *cmd, const char *dir)
{
    static const char *const head[4] = {"KID", "ALG", "CREATED", "STATE"};
    static const size_t widths[4] = {KEYS_KID_LEN, 5, 20, 0};
    struct cli_table t = {.ncols = 4, .min_width = widths};
    struct key_info *keys = NULL;
    size_t n = 0, i;
    int rc;

    if ((rc = keys_list(dir, &keys, &n)) < 0) {
        cli_complain(cmd, "%s: %s", dir, gh_strerror(rc));
        return 1;
    }
    rc = cli_table_add(&t, head);
    for (i = 0; i < n && rc == 0; i++) {
        char created[32];
        const char *row[4];

        cli_iso_time(keys[i].created, created, sizeof(created));
        row[0] = keys[i].kid;
        row[1] = keys[i].alg;
        row[2] = created;
        row[3] = keys[i].retired ? "retired" : "active";
        rc = cli_table_add(&t, row);
    }
    free(keys);
    if (rc < 0) {
        cli_table_clear(&t);
        cli_complain(cmd, "%s", gh_strerror(rc));
        return 1;
    }
    cli_table_print(&t);
    return 0;
}

int
cli_keys(int argc, char **argv)
{
    static const struct cli_rules generate_rules = {CLI_DIR | CLI_ALG,
                                                    CLI_DIR, 0};
    static const struct cli_rules list_rules = {CLI_DIR, CLI_DIR, 0};
    const char *sub = argc > 1 ? argv[1] : NULL;
    const struct cli_rules *rules;
    struct cli_opts o;
    char cmd[64], msg[256];
    int rc;

    if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(keys_help, sub == NULL ? stderr : stdout);
        return sub == NULL ? CLI_EXIT_USAGE : 0;
    }
    if (strcmp(sub, "generate") == 0) {
        rules = &generate_rules;
    } else if (strcmp(sub, "list") == 0) {
        rules = &list_rules;
    } else {
        fprintf(stderr, "gatehouse keys: unknown subcommand '%s'\n%s", sub,
                keys_help);
        return CLI_EXIT_USAGE;
    }
    snprintf(cmd, sizeof(cmd), "gatehouse keys %s", sub);
    if ((rc = cli_parse(rules, argc - 2, argv + 2, &o, msg, sizeof(msg))) !=
        0)
        return cli_usage(cmd, keys_help, rc, msg);
    log_init(LOG_INFO, LOG_FORMAT_TEXT);
    if (rules == &list_rules)
        return list(cmd, o.dir);
    return generate(cmd, o.dir, o.alg);
}
