/* SPDX-License-Identifier: MIT */
/* The one config loader: reads the JSON configuration (SPEC §3) into a
 * struct config (core/config.h), checked once, at start. */
#ifndef GATEHOUSE_CLI_CONFIG_H
#define GATEHOUSE_CLI_CONFIG_H

#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"

/*
 * Loads and checks path. GATEHOUSE_REDIS_URL, when set, replaces
 * redis.url. On success *ret is owned by the caller (config_free). On
 * failure returns GH_EINVAL (GH_EIO if the file cannot be read) and err
 * names the field and the problem, printed as "FILE: field: problem".
 */
int config_load(const char *path, struct config **ret, struct field_error *err);
/* The same from a JSON text; dir resolves relative paths. For tests. */
int config_parse(const char *text, const char *dir, struct config **ret,
                 struct field_error *err);
void config_free(struct config *cfg);

/* Parses a redis URL into rc's host/port/unix_path/db/password. */
int config_parse_redis_url(const char *url, struct redis_config *rc,
                           const char **why);

#endif
