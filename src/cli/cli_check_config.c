/* SPDX-License-Identifier: MIT */
/* "gatehouse check-config": what serve would refuse, found before it
 * starts (SPEC §2), with the same loaders serve uses. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gatehouse/cli/cli.h"
#include "cli/cli_internal.h"
#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/core/log.h"
#include "gatehouse/crypto/factor_secret.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/store/store.h"

static const struct cli_rules rules = {CLI_CONFIG | CLI_CONNECT, CLI_CONFIG, 0};

static const char check_help[] =
    "usage: gatehouse check-config --config FILE [--connect]\n"
    "\n"
    "Checks the config file and that keys_dir holds a usable active key\n"
    "(and a usable second-factor key, if it has one yet); with --connect\n"
    "also that Redis answers. Exit 0 if all is well, or 1\n"
    "with one line \"FILE: field: problem\".\n";

int
cli_check_config(int argc, char **argv)
{
    struct config *cfg = NULL;
    struct keyring *kr = NULL;
    struct store *st = NULL;
    struct cli_opts o;
    const char *why;
    char msg[256];
    int rc;

    if ((rc = cli_parse(&rules, argc - 1, argv + 1, &o, msg,
                        sizeof(msg))) != 0)
        return cli_usage("gatehouse check-config", check_help, rc, msg);
    log_init(LOG_INFO, LOG_FORMAT_TEXT);
    rc = 1;
    if ((cfg = cli_load_config(o.config)) == NULL ||
        cli_load_keys(cfg, &kr) != 0)
        goto out;
    /* The second-factor key: absent is fine (serve makes it), unusable
     * (readable by others, not 32 bytes) is what serve would refuse. */
    {
        unsigned char fkey[FACTOR_KEY_LEN];
        char why[512];
        int frc = factor_key_load(cfg->keys_dir, 0, fkey, why, sizeof(why));

        OPENSSL_cleanse(fkey, sizeof(fkey));
        if (frc < 0 && frc != GH_ENOTFOUND) {
            fprintf(stderr, "%s: keys_dir: %s\n", cfg->path, why);
            goto out;
        }
    }
    rc = 0;
    if (o.given & CLI_CONNECT) {
        if (store_open(&cfg->redis, &st) < 0 || store_ping(st) < 0) {
            fprintf(stderr, "%s: redis: no answer from %s\n", cfg->path,
                    cfg->redis.url != NULL ? cfg->redis.url
                                           : "the sentinels");
            rc = 1;
        }
        store_close(st);
    }
    /* OIDC Registration §2: an RP that registers no alg may assume RS256
     * ID tokens. Without an RS256 key they come in signing_alg (SPEC §3):
     * valid, but such an RP will refuse them. */
    if (keys_kid(kr, "RS256") == NULL)
        fprintf(stderr,
                "%s: warning: no active RS256 key in %s: ID tokens of "
                "clients without id_token_signed_response_alg are signed "
                "%s, and RPs assuming RS256 (the OIDC default) will fail; "
                "run \"gatehouse keys generate --dir %s --alg RS256\"\n",
                cfg->path, cfg->keys_dir, keys_active_alg(kr), cfg->keys_dir);
    /* SPEC §4: pages in English and Chinese; without the locale or the
     * catalog serve answers in English only. */
    if ((why = i18n_init(NULL)) != NULL)
        fprintf(stderr, "%s: warning: %s\n", cfg->path, why);
    if (rc == 0)
        printf("%s: ok (key %s, %s)\n", cfg->path, keys_active_kid(kr),
               keys_active_alg(kr));
out:
    keyring_free(kr);
    config_free(cfg);
    return rc;
}
