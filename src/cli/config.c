/* SPDX-License-Identifier: MIT */
/* The JSON configuration (SPEC §3): loaded and checked once, at start, so
 * that a typo stops the server with "FILE: field: problem" instead of
 * surfacing as odd behaviour later. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "gatehouse/cli/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/percent.h"
#include "gatehouse/core/util.h"
#include "gatehouse/directory/clients.h"

#define YEAR_S (365 * 24 * 3600)
#define REDIS_PREFIX_MAX 32
#define THREADS_MAX 256

/*
 * Every integer setting: its section, key, where it lives, its default and
 * its bounds. One table keeps defaults and limits in one readable place.
 * A default of -1 is computed at load time.
 */
static const struct int_setting {
    const char *section;
    const char *key;
    size_t offset;
    int def;
    int min;
    int max;
} int_settings[] = {
#define F(field) offsetof(struct config, field)
    {"listen", "port", F(listen_port), 8080, 1, 65535},
    {"listen", "threads", F(listen_threads), -1, 1, THREADS_MAX},
    {"listen", "timeout_s", F(listen_timeout_s), 30, 1, 3600},
    {"session", "idle_timeout_s", F(session_idle_timeout_s), 1800, 1, YEAR_S},
    {"session", "absolute_timeout_s", F(session_absolute_timeout_s), 43200, 1,
     YEAR_S},
    /* 0: unlimited. */
    {"session", "max_per_user", F(session_max_per_user), 0, 0, 10000},
    /* RFC 6749 §4.1.2: a code lives at most 10 minutes. */
    {"tokens", "code_ttl_s", F(code_ttl_s), 60, 1, 600},
    {"tokens", "access_token_ttl_s", F(access_token_ttl_s), 300, 1, YEAR_S},
    {"tokens", "id_token_ttl_s", F(id_token_ttl_s), 300, 1, YEAR_S},
    {"tokens", "refresh_token_ttl_s", F(refresh_token_ttl_s), 86400, 1, YEAR_S},
    /* 0 turns the grace off. Every second of it is a second in which a
     * stolen spent token passes for a retry, hence the cap (Hydra's). */
    {"tokens", "refresh_reuse_grace_s", F(refresh_reuse_grace_s), 30, 0, 300},
    {"backchannel", "timeout_ms", F(backchannel_timeout_ms), 5000, 100, 600000},
    {"backchannel", "max_attempts", F(backchannel_max_attempts), 8, 1, 100},
    {"backchannel", "concurrency", F(backchannel_concurrency), 64, 1, 10000},
    /* SPEC §6: one app's attempts in flight at most, so a hung app holds
     * a few slots rather than all of them. */
    {"backchannel", "per_app_concurrency", F(backchannel_per_app_concurrency),
     8, 1, 10000},
    {"backchannel", "logout_wait_ms", F(backchannel_logout_wait_ms), 1000, 0,
     30000},
    {"login", "max_failures", F(login_max_failures), 5, 1, 1000},
    {"login", "lockout_s", F(login_lockout_s), 300, 1, YEAR_S},
    {"login", "reauth_window_s", F(login_reauth_window_s), 300, 1, YEAR_S},
#undef F
};

static const char *const top_keys[] = {
    "issuer",  "listen", "redis",       "keys_dir", "signing_alg",
    "session", "tokens", "backchannel", "login",    "clients",
    "logout",
};

/* Sections made only of int_settings; "listen" adds "address", "session"
 * adds "bind", "login" "second_factor". */
static const char *const int_sections[] = {
    "listen", "session", "tokens", "backchannel", "login",
};

static int
has_space_or_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 1;
    return 0;
}

/* Parses decimal digits [s, end) into *out if within [min, max]. */
static int
parse_uint(const char *s, const char *end, int min, int max, int *out)
{
    long v = 0;

    if (s == end || end - s > 9)
        return GH_EINVAL;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return GH_EINVAL;
        v = v * 10 + (*s - '0');
    }
    if (v < min || v > max)
        return GH_EINVAL;
    *out = (int)v;
    return 0;
}

static int
parse_unix_url(const char *url, char **path, int *db, const char **why)
{
    const char *p = url + strlen("unix://"), *q = strchr(p, '?');
    size_t len = q != NULL ? (size_t)(q - p) : strlen(p);

    if (p[0] != '/')
        *why = "must be unix:///absolute/path";
    else if (len < 2)
        *why = "has no socket path";
    else if (q != NULL && strncmp(q, "?db=", 4) != 0)
        *why = "takes only the db parameter (unix:///path?db=N)";
    else if (q != NULL && parse_uint(q + 4, q + strlen(q), 0, 15, db) < 0)
        *why = "database must be 0 to 15";
    else if ((*path = strndup(p, len)) == NULL)
        return GH_ENOMEM;
    else
        return 0;
    return GH_EINVAL;
}

/*
 * redis://[:password@]host[:port][/db]. The host is kept without IPv6
 * brackets, as hiredis wants it.
 */
static int
parse_tcp_url(const char *url, char **host, int *port, int *db, char **password,
              const char **why)
{
    const char *start = url + strlen("redis://"), *at, *h, *hend, *p, *end;

    /* Hosts and db numbers never contain '@', so the last one ends the
     * password, whatever the password holds. */
    at = strrchr(start, '@');
    h = at != NULL ? at + 1 : start;
    if ((end = strchr(h, '/')) == NULL)
        end = h + strlen(h);
    if (at != NULL && start[0] != ':') {
        *why = "usernames are not supported (use redis://:password@host)";
        return GH_EINVAL;
    }
    if (at != NULL && at == start + 1) {
        *why = "has an empty password";
        return GH_EINVAL;
    }
    if (strchr(h, '?') != NULL) {
        *why = "query parameters are not supported";
        return GH_EINVAL;
    }
    if (*h == '[') {
        if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL) {
            *why = "has a malformed IPv6 address";
            return GH_EINVAL;
        }
        p = hend + 1;
        h++;
    } else {
        if ((hend = memchr(h, ':', (size_t)(end - h))) == NULL)
            hend = end;
        p = hend;
    }
    if (hend == h) {
        *why = "has no host";
        return GH_EINVAL;
    }
    if (p < end && (*p != ':' || parse_uint(p + 1, end, 1, 65535, port) < 0)) {
        *why = "port must be 1 to 65535";
        return GH_EINVAL;
    }
    if (*end == '/' && end[1] != '\0' &&
        parse_uint(end + 1, end + strlen(end), 0, 15, db) < 0) {
        *why = "database must be 0 to 15";
        return GH_EINVAL;
    }
    if ((*host = strndup(h, (size_t)(hend - h))) == NULL)
        return GH_ENOMEM;
    /* Escapes decoded so a password may hold any byte; a lone '%' is
     * kept as it is, as it always was. */
    if (at != NULL && percent_decode(start + 1, (size_t)(at - start - 1), 0,
                                     password, NULL) < 0)
        return GH_ENOMEM;
    return 0;
}

/*
 * Fills rc's host, port, unix_path, db and password from url, freeing what
 * they held before. On failure rc is untouched and *why (when why is not
 * NULL) says what is wrong.
 */
int
config_parse_redis_url(const char *url, struct redis_config *rc,
                       const char **why)
{
    char *host = NULL, *path = NULL, *password = NULL;
    const char *reason = NULL;
    int port = 6379, db = 0, r;

    if (url == NULL || url[0] == '\0') {
        reason = "is empty";
        r = GH_EINVAL;
    } else if (has_space_or_control(url)) {
        reason = "must not contain whitespace or control characters";
        r = GH_EINVAL;
    } else if (strncmp(url, "redis://", 8) == 0) {
        r = parse_tcp_url(url, &host, &port, &db, &password, &reason);
    } else if (strncmp(url, "unix://", 7) == 0) {
        port = 0;
        r = parse_unix_url(url, &path, &db, &reason);
    } else if (strncmp(url, "rediss://", 9) == 0) {
        reason = "TLS (rediss://) is not supported";
        r = GH_EINVAL;
    } else {
        reason = "must be redis://[:password@]host[:port][/db] or "
                 "unix:///path[?db=N]";
        r = GH_EINVAL;
    }
    if (r < 0)
        goto out;
    free(rc->host);
    free(rc->unix_path);
    util_free_secret(rc->password);
    rc->host = host;
    rc->unix_path = path;
    rc->password = password;
    rc->port = port;
    rc->db = db;
    host = path = password = NULL;
out:
    if (r < 0 && why != NULL)
        *why = reason != NULL ? reason : gh_strerror(r);
    free(host);
    free(path);
    util_free_secret(password);
    return r;
}

/* The section object at key, or NULL when absent (defaults apply). */
static int
get_section(json_t *root, const char *key, json_t **out,
            struct field_error *err)
{
    json_t *v = json_object_get(root, key);

    *out = v;
    if (v != NULL && !json_is_object(v))
        return field_error_set(err, "must be an object", "%s", key);
    return 0;
}

static int
copy_string(json_t *v, const char *field, char **out, struct field_error *err)
{
    if (!json_is_string(v))
        return field_error_set(err, "must be a string", "%s", field);
    free(*out);
    if ((*out = strdup(json_string_value(v))) == NULL)
        return GH_ENOMEM;
    return 0;
}

static int
parse_int_section(json_t *root, const char *section, struct config *cfg,
                  struct field_error *err)
{
    const struct int_setting *s;
    char problem[64];
    const char *key;
    json_t *sec, *v;
    size_t i;
    int rc;

    if ((rc = get_section(root, section, &sec, err)) < 0 || sec == NULL)
        return rc;
    json_object_foreach(sec, key, v) {
        json_int_t n;

        if (strcmp(section, "listen") == 0 && strcmp(key, "address") == 0) {
            if ((rc = copy_string(v, "listen.address", &cfg->listen_address,
                                  err)) < 0)
                return rc;
            if (cfg->listen_address[0] == '\0' ||
                has_space_or_control(cfg->listen_address))
                return field_error_set(err, "must be a host name or IP address",
                                       "listen.address");
            continue;
        }
        if (strcmp(section, "login") == 0 &&
            strcmp(key, "second_factor") == 0) {
            const char *p = json_string_value(v);

            if (p != NULL && strcmp(p, "off") == 0)
                cfg->login_second_factor = SECOND_FACTOR_OFF;
            else if (p != NULL && strcmp(p, "optional") == 0)
                cfg->login_second_factor = SECOND_FACTOR_OPTIONAL;
            else if (p != NULL && strcmp(p, "required") == 0)
                cfg->login_second_factor = SECOND_FACTOR_REQUIRED;
            else
                return field_error_set(err, "must be \"off\", \"optional\" "
                                       "or \"required\"",
                                       "login.second_factor");
            continue;
        }
        if (strcmp(section, "session") == 0 && strcmp(key, "bind") == 0) {
            if (!json_is_string(v) ||
                (strcmp(json_string_value(v), "none") != 0 &&
                 strcmp(json_string_value(v), "user_agent") != 0))
                return field_error_set(err, "must be \"none\" or "
                                       "\"user_agent\"", "session.bind");
            cfg->session_bind_user_agent =
                strcmp(json_string_value(v), "user_agent") == 0;
            continue;
        }
        for (i = 0, s = NULL; i < NELEM(int_settings) && s == NULL; i++)
            if (strcmp(int_settings[i].section, section) == 0 &&
                strcmp(int_settings[i].key, key) == 0)
                s = &int_settings[i];
        if (s == NULL)
            return field_error_set(err, "unknown key", "%s.%s", section, key);
        /* json_is_integer excludes 5.0, "5" and true: they are typos. */
        if (!json_is_integer(v))
            return field_error_set(err, "must be an integer", "%s.%s", section,
                                   key);
        n = json_integer_value(v);
        if (n < s->min || n > s->max) {
            snprintf(problem, sizeof(problem), "must be between %d and %d",
                     s->min, s->max);
            return field_error_set(err, problem, "%s.%s", section, key);
        }
        *(int *)((char *)cfg + s->offset) = (int)n;
    }
    return 0;
}

/* "host:port" or "[v6]:port", as Sentinel addresses are written. */
static int
check_host_port(const char *s)
{
    const char *colon = strrchr(s, ':');
    size_t hostlen;
    int port;

    if (colon == NULL || has_space_or_control(s))
        return GH_EINVAL;
    hostlen = (size_t)(colon - s);
    if (s[0] == '[' && (hostlen < 3 || s[hostlen - 1] != ']'))
        return GH_EINVAL;
    if (s[0] != '[' && memchr(s, ':', hostlen) != NULL)
        return GH_EINVAL;
    if (hostlen == 0)
        return GH_EINVAL;
    return parse_uint(colon + 1, colon + strlen(colon), 1, 65535, &port);
}

static int
parse_sentinel(json_t *sen, struct redis_config *redis, struct field_error *err)
{
    const char *key;
    json_t *v, *addrs;
    size_t i;
    int r;

    if (!json_is_object(sen))
        return field_error_set(err, "must be an object", "redis.sentinel");
    json_object_foreach(sen, key, v) {
        if (strcmp(key, "master") != 0 && strcmp(key, "addresses") != 0)
            return field_error_set(err, "unknown key", "redis.sentinel.%s",
                                   key);
    }

    if ((v = json_object_get(sen, "master")) == NULL)
        return field_error_set(err, "is required", "redis.sentinel.master");
    if ((r = copy_string(v, "redis.sentinel.master", &redis->sentinel_master,
                         err)) < 0)
        return r;
    if (redis->sentinel_master[0] == '\0' ||
        has_space_or_control(redis->sentinel_master))
        return field_error_set(err,
                               "must be a non-empty name without whitespace",
                               "redis.sentinel.master");

    addrs = json_object_get(sen, "addresses");
    if (addrs == NULL)
        return field_error_set(err, "is required", "redis.sentinel.addresses");
    if (!json_is_array(addrs))
        return field_error_set(err, "must be an array of strings",
                               "redis.sentinel.addresses");
    if (json_array_size(addrs) == 0)
        return field_error_set(err, "must not be empty",
                               "redis.sentinel.addresses");
    json_array_foreach(addrs, i, v) {
        if (!json_is_string(v))
            return field_error_set(err, "must be a string",
                                   "redis.sentinel.addresses[%zu]", i);
        if (check_host_port(json_string_value(v)) < 0)
            return field_error_set(err, "must be host:port",
                                   "redis.sentinel.addresses[%zu]", i);
        if ((r = strlist_add(&redis->sentinel_addresses, json_string_value(v),
                             strlen(json_string_value(v)))) < 0)
            return r;
    }
    return 0;
}

static int
parse_redis(json_t *root, struct config *cfg, struct field_error *err)
{
    struct redis_config *rc = &cfg->redis;
    const char *key, *env, *why, *field = "redis.url";
    json_t *sec, *v, *url = NULL, *sen = NULL;
    size_t n;
    int r;

    if ((r = get_section(root, "redis", &sec, err)) < 0)
        return r;
    if (sec != NULL) {
        json_object_foreach(sec, key, v) {
            if (strcmp(key, "url") == 0) {
                url = v;
            } else if (strcmp(key, "sentinel") == 0) {
                sen = v;
            } else if (strcmp(key, "prefix") == 0) {
                if ((r = copy_string(v, "redis.prefix", &rc->prefix, err)) < 0)
                    return r;
                n = strlen(rc->prefix);
                if (n == 0 || n > REDIS_PREFIX_MAX)
                    return field_error_set(err, "must be 1 to 32 characters",
                                           "redis.prefix");
                if (has_space_or_control(rc->prefix))
                    return field_error_set(err, "must not contain whitespace",
                                           "redis.prefix");
            } else {
                return field_error_set(err, "unknown key", "redis.%s", key);
            }
        }
    }
    if (url != NULL && sen != NULL)
        return field_error_set(err, "cannot be combined with redis.url",
                               "redis.sentinel");
    if (url != NULL && (r = copy_string(url, "redis.url", &rc->url, err)) < 0)
        return r;
    if (sen != NULL && (r = parse_sentinel(sen, rc, err)) < 0)
        return r;

    /* SPEC §3: the environment wins over the file, Sentinel included, so
     * one config file serves every deployment. Empty counts as unset. */
    env = getenv("GATEHOUSE_REDIS_URL");
    if (env != NULL && env[0] != '\0') {
        free(rc->url);
        if ((rc->url = strdup(env)) == NULL)
            return GH_ENOMEM;
        free(rc->sentinel_master);
        rc->sentinel_master = NULL;
        strlist_free(&rc->sentinel_addresses);
        field = "GATEHOUSE_REDIS_URL";
    } else if (rc->sentinel_master != NULL) {
        /* The primary's address is found at connect time. */
        free(rc->url);
        rc->url = NULL;
        return 0;
    }
    if ((r = config_parse_redis_url(rc->url, rc, &why)) < 0)
        return r == GH_EINVAL ? field_error_set(err, why, "%s", field) : r;
    return 0;
}

/* SPEC §3: the issuer is compared byte-for-byte with "iss" by every client
 * (OIDC Discovery §4.3), so only one spelling of it is accepted. */
static int
parse_issuer(json_t *root, struct config *cfg, struct field_error *err)
{
    json_t *v = json_object_get(root, "issuer");
    const char *why;
    size_t n;
    int rc;

    if (v == NULL)
        return field_error_set(err, "is required", "issuer");
    if ((rc = copy_string(v, "issuer", &cfg->issuer, err)) < 0)
        return rc;
    if (uri_check_redirect(cfg->issuer, &why) < 0)
        return field_error_set(err, why, "issuer");
    if (strchr(cfg->issuer, '?') != NULL)
        return field_error_set(err, "must not contain a query", "issuer");
    n = strlen(cfg->issuer);
    if (cfg->issuer[n - 1] == '/')
        return field_error_set(err, "must not end with a slash", "issuer");
    cfg->issuer_https = strncasecmp(cfg->issuer, "https:", 6) == 0;
    return 0;
}

static int
parse_keys_dir(json_t *root, const char *dir, struct config *cfg,
               struct field_error *err)
{
    json_t *v = json_object_get(root, "keys_dir");
    const char *kd = "keys";
    char *joined;

    if (v != NULL) {
        if (!json_is_string(v))
            return field_error_set(err, "must be a string", "keys_dir");
        kd = json_string_value(v);
        if (kd[0] == '\0')
            return field_error_set(err, "must not be empty", "keys_dir");
    }
    /* SPEC §3: relative to the config file, not to wherever the server
     * happened to be started. */
    if (kd[0] == '/' || dir == NULL)
        joined = strdup(kd);
    else if (asprintf(&joined, "%s/%s", dir, kd) < 0)
        joined = NULL;
    if (joined == NULL)
        return GH_ENOMEM;
    cfg->keys_dir = joined;
    return 0;
}

static int
parse_clients(json_t *root, struct config *cfg, struct field_error *err)
{
    json_t *arr = json_object_get(root, "clients"), *v;
    char prefix[32];
    size_t i, j;
    int rc;

    if (arr == NULL)
        return 0;
    if (!json_is_array(arr))
        return field_error_set(err, "must be an array", "clients");
    if ((cfg->clients =
             calloc(json_array_size(arr) + 1, sizeof(*cfg->clients))) == NULL)
        return GH_ENOMEM;
    json_array_foreach(arr, i, v) {
        snprintf(prefix, sizeof(prefix), "clients[%zu].", i);
        if ((rc = client_from_json(v, prefix, &cfg->clients[i], err)) < 0)
            return rc;
        cfg->nclients++;
        for (j = 0; j < i; j++)
            if (strcmp(cfg->clients[j]->client_id,
                       cfg->clients[i]->client_id) == 0) {
                char problem[64];

                snprintf(problem, sizeof(problem),
                         "duplicate client_id (also clients[%zu])", j);
                return field_error_set(err, problem, "clients[%zu].client_id",
                                       i);
            }
    }
    return 0;
}

/*
 * logout.clear_site_data, kept as the header value it becomes. "cookies"
 * is allowed but not the default: the browser clears every cookie of the
 * registrable domain with it, the other apps' included (issue 14).
 */
static int
parse_logout(json_t *root, struct config *cfg, struct field_error *err)
{
    static const char *const types[] = {"cache", "cookies", "storage",
                                        "executionContexts", "*"};
    json_t *sec, *list = NULL, *v;
    const char *key, *t;
    char *value = NULL;
    size_t i, j, k, len = 0;
    int rc;

    if ((rc = get_section(root, "logout", &sec, err)) < 0)
        return rc;
    json_object_foreach(sec, key, v) {
        if (strcmp(key, "clear_site_data") != 0)
            return field_error_set(err, "unknown key", "logout.%s", key);
        list = v;
    }
    if (list == NULL) {
        cfg->logout_clear_site_data = strdup("\"cache\", \"storage\"");
        return cfg->logout_clear_site_data != NULL ? 0 : GH_ENOMEM;
    }
    if (!json_is_array(list))
        return field_error_set(err, "must be an array of types",
                               "logout.clear_site_data");
    json_array_foreach(list, i, v) {
        if ((t = json_string_value(v)) == NULL)
            return field_error_set(err, "must be a string",
                                   "logout.clear_site_data[%zu]", i);
        for (k = 0; k < NELEM(types) && strcmp(t, types[k]) != 0; k++)
            ;
        if (k == NELEM(types))
            return field_error_set(err,
                                   "unknown type (cache, cookies, storage, "
                                   "executionContexts or *)",
                                   "logout.clear_site_data[%zu]", i);
        for (j = 0; j < i; j++)
            if (strcmp(t, json_string_value(json_array_get(list, j))) == 0)
                return field_error_set(err, "given twice",
                                       "logout.clear_site_data[%zu]", i);
        len += strlen(t) + 4;
    }
    if (json_array_size(list) == 0)
        return 0;
    if ((value = calloc(1, len + 1)) == NULL)
        return GH_ENOMEM;
    json_array_foreach(list, i, v) {
        if (i > 0)
            strcat(value, ", ");
        strcat(value, "\"");
        strcat(value, json_string_value(v));
        strcat(value, "\"");
    }
    cfg->logout_clear_site_data = value;
    return 0;
}

static int
parse_root(json_t *root, const char *dir, struct config *cfg,
           struct field_error *err)
{
    const struct int_setting *s;
    const char *key;
    json_t *v;
    long cpus;
    size_t i;
    int rc;

    if (!json_is_object(root))
        return field_error_set(err, "must be a JSON object", "%s", "");
    json_object_foreach(root, key, v) {
        for (i = 0; i < NELEM(top_keys); i++)
            if (strcmp(key, top_keys[i]) == 0)
                break;
        if (i == NELEM(top_keys))
            return field_error_set(err, "unknown key", "%s", key);
    }

    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (s = int_settings; s < int_settings + NELEM(int_settings); s++)
        *(int *)((char *)cfg + s->offset) = s->def;
    /* A handler waits on Redis round trips with its thread; four per core
     * keep the cores busy meanwhile (measured: /introspect, wall rate
     * +25% over one per core). */
    cfg->listen_threads = (int)(cpus < 1 ? 1 : cpus) * 4;
    if (cfg->listen_threads > THREADS_MAX)
        cfg->listen_threads = THREADS_MAX;
    if ((cfg->listen_address = strdup("127.0.0.1")) == NULL ||
        (cfg->redis.url = strdup("redis://127.0.0.1:6379/0")) == NULL ||
        (cfg->redis.prefix = strdup("gh:")) == NULL ||
        (cfg->signing_alg = strdup("RS256")) == NULL)
        return GH_ENOMEM;

    if ((rc = parse_issuer(root, cfg, err)) < 0)
        return rc;
    for (i = 0; i < NELEM(int_sections); i++)
        if ((rc = parse_int_section(root, int_sections[i], cfg, err)) < 0)
            return rc;
    if ((rc = parse_redis(root, cfg, err)) < 0 ||
        (rc = parse_keys_dir(root, dir, cfg, err)) < 0)
        return rc;
    if ((v = json_object_get(root, "signing_alg")) != NULL) {
        if ((rc = copy_string(v, "signing_alg", &cfg->signing_alg, err)) < 0)
            return rc;
        if (strcmp(cfg->signing_alg, "RS256") != 0 &&
            strcmp(cfg->signing_alg, "ES256") != 0)
            return field_error_set(err, "must be RS256 or ES256",
                                   "signing_alg");
    }
    /* A session cannot idle longer than it may live at all. */
    if (cfg->session_idle_timeout_s > cfg->session_absolute_timeout_s)
        return field_error_set(err,
                               "must not exceed session.absolute_timeout_s",
                               "session.idle_timeout_s");
    if ((rc = parse_logout(root, cfg, err)) < 0)
        return rc;
    return parse_clients(root, cfg, err);
}

/* Takes a reference-owning root; shared by config_parse and config_load. */
static int
config_from_json(json_t *root, const char *dir, struct config **ret,
                 struct field_error *err)
{
    struct config *cfg;
    int rc;

    if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
        return GH_ENOMEM;
    if (dir != NULL && (cfg->dir = strdup(dir)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((rc = parse_root(root, dir, cfg, err)) < 0)
        goto out;
    *ret = cfg;
    cfg = NULL;
out:
    config_free(cfg);
    return rc;
}

static int
json_error(const json_error_t *jerr, struct field_error *err)
{
    if (jerr->line > 0)
        return field_error_set(err, jerr->text, "line %d", jerr->line);
    return field_error_set(err, jerr->text, "%s", "");
}

int
config_parse(const char *text, const char *dir, struct config **ret,
             struct field_error *err)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    /* A key given twice is as much a typo as an unknown one. */
    if ((root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return json_error(&jerr, err);
    rc = config_from_json(root, dir, ret, err);
    json_decref(root);
    return rc;
}

/* The directory holding path, made absolute when possible so keys_dir
 * survives a later chdir. Returns a malloc'd string. */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir, *abs;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir != NULL && (abs = realpath(dir, NULL)) != NULL) {
        free(dir);
        dir = abs;
    }
    return dir;
}

int
config_load(const char *path, struct config **ret, struct field_error *err)
{
    struct config *cfg = NULL;
    json_error_t jerr;
    json_t *root = NULL;
    char *dir = NULL;
    struct stat st;
    FILE *fp;
    int rc;

    if ((fp = fopen(path, "re")) == NULL) {
        rc = GH_EIO;
        field_error_set(err, strerror(errno), "%s", "");
        goto out;
    }
    if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = GH_EIO;
        field_error_set(err, "not a regular file", "%s", "");
        goto out;
    }
    if ((root = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        rc = json_error(&jerr, err);
        goto out;
    }
    if ((dir = dir_of(path)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    if ((rc = config_from_json(root, dir, &cfg, err)) < 0)
        goto out;
    if ((cfg->path = strdup(path)) == NULL) {
        rc = GH_ENOMEM;
        goto out;
    }
    *ret = cfg;
    cfg = NULL;
out:
    if (fp != NULL)
        fclose(fp);
    json_decref(root);
    free(dir);
    config_free(cfg);
    return rc;
}

void
config_free(struct config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->dir);
    free(cfg->issuer);
    free(cfg->listen_address);
    free(cfg->redis.url);
    free(cfg->redis.prefix);
    free(cfg->redis.sentinel_master);
    strlist_free(&cfg->redis.sentinel_addresses);
    free(cfg->redis.host);
    free(cfg->redis.unix_path);
    util_free_secret(cfg->redis.password);
    free(cfg->keys_dir);
    free(cfg->signing_alg);
    free(cfg->logout_clear_site_data);
    for (i = 0; i < cfg->nclients; i++)
        client_free(cfg->clients[i]);
    free(cfg->clients);
    free(cfg);
}
