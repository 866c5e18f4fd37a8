/* SPDX-License-Identifier: MIT */
/* What every subcommand needs (SPEC §2): the one option parser, the one
 * config loader, one-line errors, masked Redis addresses, tables and JSON
 * output. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli_internal.h"
#include "core/config.h"
#include "core/error.h"
#include "crypto/keys.h"
#include "store/store.h"

static int
option_index(const struct cli_option *opts, const char *arg, size_t len)
{
    int i;

    for (i = 0; opts[i].name != NULL; i++) {
        if (strlen(opts[i].name) == len &&
            strncmp(arg, opts[i].name, len) == 0)
            return i;
    }
    return -1;
}

/* "--a or --b is required", for the options in flags. */
static void
one_of_required(const struct cli_option *opts, int flags, char *msg,
                size_t size)
{
    size_t len = 0;
    int i;

    for (i = 0; opts[i].name != NULL && len < size; i++) {
        if (flags & opts[i].flag)
            len += (size_t)snprintf(msg + len, size - len, "%s%s",
                                    len > 0 ? " or " : "", opts[i].name);
    }
    if (len < size)
        snprintf(msg + len, size - len, " is required");
}

int
cli_parse(const struct cli_option *opts, const struct cli_rules *rules,
          int argc, char **argv, int *given, void *values, char *msg,
          size_t size)
{
    int i, k, help = 0;

    *given = 0;
    msg[0] = '\0';
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        const char *value = NULL;
        const struct cli_option *o;
        int idx;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            help = 1;
            continue;
        }
        if (msg[0] != '\0')
            continue; /* only --help still matters */
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(msg, size, "unexpected argument (word %d); see --help",
                     i + 1);
            continue;
        }
        idx = option_index(opts, arg, len);
        if (idx >= 0 && opts[idx].refused != NULL) {
            snprintf(msg, size, "%s %s", opts[idx].name, opts[idx].refused);
            continue;
        }
        if (idx < 0 || !(rules->allowed & opts[idx].flag)) {
            snprintf(msg, size, "unknown option '%.*s'; see --help",
                     (int)(len < 64 ? len : 64), arg);
            continue;
        }
        o = &opts[idx];
        if (*given & o->flag) {
            snprintf(msg, size, "%s given twice", o->name);
            continue;
        }
        if (o->arg != NULL) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                snprintf(msg, size, "%s needs a value (%s)", o->name,
                         o->arg);
        } else if (eq != NULL) {
            snprintf(msg, size, "%s takes no value", o->name);
        }
        if (msg[0] != '\0')
            continue;
        *given |= o->flag;
        if (value != NULL)
            *(const char **)((char *)values + o->at) = value;
    }
    if (help)
        return 1;
    for (k = 0; msg[0] == '\0' && opts[k].name != NULL; k++) {
        if ((rules->required & opts[k].flag) && !(*given & opts[k].flag))
            snprintf(msg, size, "%s%s%s is required", opts[k].name,
                     opts[k].arg != NULL ? " " : "",
                     opts[k].arg != NULL ? opts[k].arg : "");
    }
    if (msg[0] == '\0' && rules->one_of != 0 && !(*given & rules->one_of))
        one_of_required(opts, rules->one_of, msg, size);
    return msg[0] != '\0' ? CLI_EXIT_USAGE : 0;
}

int
cli_usage(const char *cmd, const char *help, int rc, const char *msg)
{
    if (rc == 1) {
        fputs(help, stdout);
        return 0;
    }
    cli_complain(cmd, "%s", msg);
    return CLI_EXIT_USAGE;
}

void
cli_complain(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *
cli_shown(const char *s, char *buf, size_t size)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i + 1 < size; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

void
cli_redis_where(const struct redis_config *rc, char *buf, size_t size)
{
    const char *url = rc->url, *host, *end, *at = NULL, *p;

    if (url == NULL) {
        snprintf(buf, size, "the sentinels");
        return;
    }
    host = strstr(url, "://");
    host = host != NULL ? host + 3 : url;
    end = host + strcspn(host, "/?");
    for (p = host; p < end; p++) {
        if (*p == '@')
            at = p;
    }
    if (at == NULL)
        snprintf(buf, size, "%s", url);
    else
        snprintf(buf, size, "%.*s***%s", (int)(host - url), url, at);
}

int
cli_fail(const char *cmd, const struct config *cfg, int rc)
{
    char where[512];

    if (rc == GH_EREDIS) {
        cli_redis_where(&cfg->redis, where, sizeof(where));
        cli_complain(cmd, "redis: no answer from %s", where);
    } else {
        cli_complain(cmd, "%s", gh_strerror(rc));
    }
    return 1;
}

struct config *
cli_load_config(const char *path)
{
    struct config *cfg = NULL;
    struct field_error err;

    memset(&err, 0, sizeof(err));
    if (config_load(path, &cfg, &err) < 0) {
        if (err.field[0] != '\0')
            fprintf(stderr, "%s: %s: %s\n", path, err.field, err.problem);
        else
            fprintf(stderr, "%s: %s\n", path, err.problem);
        return NULL;
    }
    return cfg;
}

/* Retired keys verify for as long as anything they signed can live. */
static int64_t
key_keep_s(const struct config *cfg)
{
    int64_t keep = cfg->access_token_ttl_s;

    if (cfg->id_token_ttl_s > keep)
        keep = cfg->id_token_ttl_s;
    return keep + 120;
}

int
cli_load_keys(const struct config *cfg, struct keyring **ret)
{
    struct keyring *kr = NULL;
    char why[512];
    size_t i;

    if (keyring_load(cfg->keys_dir, cfg->signing_alg, key_keep_s(cfg), &kr,
                     why, sizeof(why)) < 0) {
        fprintf(stderr, "%s: keys_dir: %s\n", cfg->path, why);
        return 1;
    }
    for (i = 0; i < cfg->nclients; i++) {
        const char *alg = cfg->clients[i]->id_token_alg;

        if (alg != NULL && keys_kid(kr, alg) == NULL) {
            fprintf(stderr,
                    "%s: clients[%zu].id_token_signed_response_alg: no "
                    "active %s key in %s: run \"gatehouse keys generate "
                    "--dir %s --alg %s\"\n",
                    cfg->path, i, alg, cfg->keys_dir, cfg->keys_dir, alg);
            keyring_free(kr);
            return 1;
        }
    }
    *ret = kr;
    return 0;
}

int
cli_connect(const char *cmd, const struct config *cfg, struct store **ret)
{
    struct store *st = NULL;

    if (store_open(&cfg->redis, &st) < 0 || store_ping(st) < 0) {
        store_close(st);
        return cli_fail(cmd, cfg, GH_EREDIS);
    }
    *ret = st;
    return 0;
}

void
cli_actor(char *buf, size_t size)
{
    struct passwd *pw = getpwuid(geteuid());

    /* The effective user: who the command acts as, sudo included. */
    if (pw != NULL && pw->pw_name != NULL)
        snprintf(buf, size, "cli:%s", pw->pw_name);
    else
        snprintf(buf, size, "cli:%u", (unsigned)geteuid());
}

void
cli_iso_time(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0) {
        snprintf(buf, size, "-");
        return;
    }
    gmtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Characters as a terminal shows them, near enough: UTF-8 lead bytes. */
static size_t
text_width(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int
cli_table_add(struct cli_table *t, const char *const *row)
{
    size_t i;

    if (t->nrows == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 64;
        char **nc = realloc(t->cells, cap * t->ncols * sizeof(char *));
        if (nc == NULL)
            return GH_ENOMEM;
        t->cells = nc;
        t->cap = cap;
    }
    for (i = 0; i < t->ncols; i++) {
        const char *v = row[i] != NULL && row[i][0] != '\0' ? row[i] : "-";
        char *copy = strdup(v), *p;
        if (copy == NULL) {
            while (i-- > 0)
                free(t->cells[t->nrows * t->ncols + i]);
            return GH_ENOMEM;
        }
        /* One row, one line, whatever the stored text holds. */
        for (p = copy; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        t->cells[t->nrows * t->ncols + i] = copy;
    }
    t->nrows++;
    return 0;
}

void
cli_table_clear(struct cli_table *t)
{
    size_t i;

    for (i = 0; t->cells != NULL && i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void
cli_table_print(struct cli_table *t)
{
    size_t *w = calloc(t->ncols, sizeof(*w)), r, i, n;

    for (i = 0; w != NULL && t->min_width != NULL && i < t->ncols; i++)
        w[i] = t->min_width[i];
    for (r = 0; w != NULL && r < t->nrows; r++)
        for (i = 0; i < t->ncols; i++)
            if ((n = text_width(t->cells[r * t->ncols + i])) > w[i])
                w[i] = n;
    for (r = 0; r < t->nrows; r++) {
        for (i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i];
            fputs(s, stdout);
            if (i + 1 == t->ncols)
                break;
            for (n = text_width(s); w != NULL && n < w[i] + 2; n++)
                putchar(' ');
            if (w == NULL)
                putchar(' ');
        }
        putchar('\n');
    }
    free(w);
    cli_table_clear(t);
}

int
cli_print_json(json_t *v)
{
    int rc;

    if (v == NULL)
        return GH_ENOMEM;
    rc = json_dumpf(v, stdout, JSON_INDENT(2)) < 0 ? GH_EIO : 0;
    putchar('\n');
    json_decref(v);
    return rc;
}
