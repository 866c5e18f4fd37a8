/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the configuration file parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/directory/clients.h"
#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"

/*
 * Promises checked: a refusal says which field and what is wrong; an
 * accepted config holds only what its rules allow (issuer and client URIs
 * pass the URI policy, idle <= absolute, exactly one way to reach Redis,
 * unique client ids, keys_dir absolute), and frees cleanly.
 */
static void
check_config(const struct config *cfg)
{
    size_t i, j;

    if (cfg->issuer == NULL || uri_check_redirect(cfg->issuer, NULL) != 0 ||
        cfg->issuer[strlen(cfg->issuer) - 1] == '/')
        abort();
    if (cfg->session_idle_timeout_s > cfg->session_absolute_timeout_s ||
        cfg->session_idle_timeout_s < 1 || cfg->listen_threads < 1 ||
        cfg->listen_port < 1 || cfg->listen_port > 65535)
        abort();
    if (cfg->session_max_per_user < 0 || cfg->session_max_per_user > 10000)
        abort();
    if ((cfg->redis.url == NULL) == (cfg->redis.sentinel_master == NULL))
        abort();
    if (cfg->redis.url != NULL &&
        (cfg->redis.host == NULL) == (cfg->redis.unix_path == NULL))
        abort();
    if (cfg->redis.db < 0 || cfg->redis.db > 15)
        abort();
    if (cfg->keys_dir == NULL || cfg->keys_dir[0] != '/')
        abort();
    if (strcmp(cfg->signing_alg, "RS256") != 0 &&
        strcmp(cfg->signing_alg, "ES256") != 0)
        abort();
    for (i = 0; i < cfg->nclients; i++) {
        const struct client *c = cfg->clients[i];

        if (c == NULL || client_in_config(cfg, c->client_id) != c)
            abort();
        for (j = 0; j < c->redirect_uris.n; j++)
            if (uri_check_redirect(c->redirect_uris.v[j], NULL) != 0)
                abort();
        if (c->backchannel_logout_uri != NULL &&
            uri_check_backchannel(c->backchannel_logout_uri, NULL) != 0)
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *cfg = NULL;
    struct field_error err;
    char *s = malloc(size + 1);
    int rc;

    if (s == NULL)
        return 0;
    /* The environment would override redis.url; the fuzzer tests the
     * file. */
    unsetenv("GATEHOUSE_REDIS_URL");
    memcpy(s, data, size);
    s[size] = '\0';
    memset(&err, 0, sizeof(err));
    rc = config_parse(s, "/etc/gatehouse", &cfg, &err);
    if (rc == 0) {
        check_config(cfg);
        config_free(cfg);
    } else if (cfg != NULL || err.problem[0] == '\0' ||
               (rc != GH_EINVAL && rc != GH_ENOMEM)) {
        abort();
    }
    free(s);
    return 0;
}
