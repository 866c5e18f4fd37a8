/* SPDX-License-Identifier: MIT */
/* What every subcommand needs (SPEC §2): the one option parser, the one
 * config loader, the one way an admin command runs, one-line errors,
 * masked Redis addresses, tables and JSON output. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli/cli_internal.h"
#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/util.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/session/admin_ops.h"
#include "gatehouse/store/store.h"

/* One option of the command line. */
static const struct cli_option {
    const char *name; /* "--config" */
    int flag;         /* CLI_* */
    const char *arg;  /* what its value is ("FILE"), or NULL: it takes none */
    size_t at;        /* where its value goes in struct cli_opts */
    /* When set, the option is refused wherever it appears, and this
     * follows its name in the message. */
    const char *refused;
} options[] = {
#define V(field) offsetof(struct cli_opts, field)
    {"--config", CLI_CONFIG, "FILE", V(config), NULL},
    {"--username", CLI_USERNAME, "U", V(username), NULL},
    {"--email", CLI_EMAIL, "E", V(info.email), NULL},
    {"--name", CLI_NAME, "N", V(info.name), NULL},
    {"--given-name", CLI_GIVEN_NAME, "G", V(info.given_name), NULL},
    {"--family-name", CLI_FAMILY_NAME, "F", V(info.family_name), NULL},
    {"--locale", CLI_LOCALE, "L", V(info.locale), NULL},
    {"--zoneinfo", CLI_ZONEINFO, "Z", V(info.zoneinfo), NULL},
    {"--password-stdin", CLI_PASSWORD_STDIN, NULL, 0, NULL},
    {"--email-verified", CLI_EMAIL_VERIFIED, NULL, 0, NULL},
    {"--json", CLI_JSON, NULL, 0, NULL},
    {"--user", CLI_USER, "U", V(user), NULL},
    {"--session", CLI_SESSION, "SID", V(session), NULL},
    {"--all", CLI_ALL, NULL, 0, NULL},
    {"--reason", CLI_REASON, "TEXT", V(reason), NULL},
    {"--state", CLI_STATE, "pending|failed", V(state), NULL},
    {"--retry", CLI_RETRY, NULL, 0, NULL},
    {"--limit", CLI_LIMIT, "N", V(limit), NULL},
    {"--dir", CLI_DIR, "DIR", V(dir), NULL},
    {"--alg", CLI_ALG, "RS256|ES256", V(alg), NULL},
    {"--connect", CLI_CONNECT, NULL, 0, NULL},
    {"--log-level", CLI_LOG_LEVEL, "LEVEL", V(log_level), NULL},
    {"--log-format", CLI_LOG_FORMAT, "text|json", V(log_format), NULL},
    {"--message", CLI_MESSAGE, "TEXT", V(message), NULL},
    {"--at", CLI_AT, "TIME", V(at), NULL},
    {"--wait", CLI_WAIT, NULL, 0, NULL},
    {"--timeout", CLI_TIMEOUT, "S", V(timeout), NULL},
    {"--off", CLI_OFF, NULL, 0, NULL},
    /* Refused by name, pointing at --password-stdin: the word after it
     * is a password, and only stdin may carry one. */
    {"--password", 0, NULL, 0, "is not accepted: a password never "
                               "appears in argv; use --password-stdin"},
#undef V
};

static const struct cli_option *
find_option(const char *arg, size_t len)
{
    size_t i;

    for (i = 0; i < NELEM(options); i++) {
        if (strlen(options[i].name) == len &&
            strncmp(arg, options[i].name, len) == 0)
            return &options[i];
    }
    return NULL;
}

/* "--a or --b is required", for the options in flags. */
static void
one_of_required(int flags, char *msg, size_t size)
{
    size_t i, len = 0;

    for (i = 0; i < NELEM(options) && len < size; i++) {
        if (flags & options[i].flag)
            len += (size_t)snprintf(msg + len, size - len, "%s%s",
                                    len > 0 ? " or " : "", options[i].name);
    }
    if (len < size)
        snprintf(msg + len, size - len, " is required");
}

int
cli_parse(const struct cli_rules *rules, int argc, char **argv,
          struct cli_opts *o, char *msg, size_t size)
{
    size_t k;
    int i, help = 0;

    memset(o, 0, sizeof(*o));
    msg[0] = '\0';
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        const struct cli_option *opt;
        const char *value = NULL;

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
        opt = find_option(arg, len);
        if (opt != NULL && opt->refused != NULL) {
            snprintf(msg, size, "%s %s", opt->name, opt->refused);
            continue;
        }
        if (opt == NULL || !(rules->allowed & opt->flag)) {
            snprintf(msg, size, "unknown option '%.*s'; see --help",
                     (int)(len < 64 ? len : 64), arg);
            continue;
        }
        if (o->given & opt->flag) {
            snprintf(msg, size, "%s given twice", opt->name);
            continue;
        }
        if (opt->arg != NULL) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                snprintf(msg, size, "%s needs a value (%s)", opt->name,
                         opt->arg);
        } else if (eq != NULL) {
            snprintf(msg, size, "%s takes no value", opt->name);
        }
        if (msg[0] != '\0')
            continue;
        o->given |= opt->flag;
        if (value != NULL)
            *(const char **)((char *)o + opt->at) = value;
    }
    if (help)
        return 1;
    for (k = 0; msg[0] == '\0' && k < NELEM(options); k++) {
        const struct cli_option *opt = &options[k];

        if ((rules->required & opt->flag) && !(o->given & opt->flag))
            snprintf(msg, size, "%s%s%s is required", opt->name,
                     opt->arg != NULL ? " " : "",
                     opt->arg != NULL ? opt->arg : "");
    }
    if (msg[0] == '\0' && rules->one_of != 0 && !(o->given & rules->one_of))
        one_of_required(rules->one_of, msg, size);
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

/*
 * Reads the password from standard input up to the first newline or the
 * end of input (SPEC §2); a CR before the newline goes too, or a file
 * saved on Windows would set a password nobody can type. *ret is
 * malloc'd; the caller frees it with util_free_secret. On failure *why
 * says what was wrong.
 */
static int
read_password(char **ret, const char **why)
{
    char *buf;
    size_t len = 0;
    ssize_t n;
    int rc;

    /* One byte at a time: no stdio buffer keeps a copy, nothing past the
     * newline is consumed, and a longer input is refused, not cut. */
    if ((buf = malloc(PASSWORD_MAX + 2)) == NULL) {
        *why = "out of memory";
        return GH_ENOMEM;
    }
    for (;;) {
        n = read(STDIN_FILENO, buf + len, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = "password: cannot read standard input";
            rc = GH_EIO;
            goto out;
        }
        if (n == 0 || buf[len] == '\n')
            break;
        if (buf[len] == '\0') {
            *why = "password: contains a NUL byte";
            rc = GH_EINVAL;
            goto out;
        }
        /* One byte past the limit may still be the CR of a CRLF. */
        if (++len > PASSWORD_MAX + 1) {
            *why = "password: longer than 1024 bytes";
            rc = GH_EINVAL;
            goto out;
        }
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    if ((rc = users_check_password(buf, why)) < 0)
        goto out;
    *ret = buf;
    buf = NULL;
    rc = 0;
out:
    if (buf != NULL)
        OPENSSL_cleanse(buf, PASSWORD_MAX + 2);
    free(buf);
    return rc;
}

/* Opens cfg's Redis and checks it answers, or says so as cli_fail does
 * and returns 1. */
static int
connect_store(const char *cmd, const struct config *cfg, struct store **ret)
{
    struct store *st = NULL;

    if (store_open(&cfg->redis, &st) < 0 || store_ping(st) < 0) {
        store_close(st);
        return cli_fail(cmd, cfg, GH_EREDIS);
    }
    *ret = st;
    return 0;
}

/* "cli:" and the OS user running the command, for the audit log. */
static void
actor_name(char *buf, size_t size)
{
    struct passwd *pw = getpwuid(geteuid());

    /* The effective user: who the command acts as, sudo included. */
    if (pw != NULL && pw->pw_name != NULL)
        snprintf(buf, size, "cli:%s", pw->pw_name);
    else
        snprintf(buf, size, "cli:%u", (unsigned)geteuid());
}

/* --limit as a positive number into *ret; -1 with msg set if it is not
 * one. */
static int
parse_limit(const char *s, long *ret, char *msg, size_t size)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v < 1) {
        snprintf(msg, size, "--limit must be a positive number");
        return -1;
    }
    *ret = v;
    return 0;
}

void
cli_audit_add(struct cli_ctx *c, const char *action, const char *target,
              const char *reason, const char *outcome, long long sessions,
              long long deliveries)
{
    struct audit_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.actor = c->actor;
    ev.action = action;
    ev.target = target;
    ev.reason = reason;
    ev.outcome = outcome;
    ev.addr = "local";
    ev.sessions = sessions;
    ev.deliveries = deliveries;
    if (strcmp(outcome, "error") == 0)
        store_audit_add(c->st, &ev);
    else
        admin_audit(c->st, &ev);
}

int
cli_run(const char *group, const struct cli_command *cmd, int argc,
        char **argv)
{
    struct config *cfg = NULL;
    struct store *st = NULL;
    char *password = NULL;
    const char *why = NULL;
    char name[64], msg[256];
    struct cli_opts o;
    struct cli_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    snprintf(name, sizeof(name), "%s %s", group, cmd->name);
    c.cmd = name;
    c.o = &o;
    rc = cli_parse(&cmd->rules, argc, argv, &o, msg, sizeof(msg));
    if (rc == 0 && o.limit != NULL &&
        parse_limit(o.limit, &c.limit, msg, sizeof(msg)) < 0)
        rc = CLI_EXIT_USAGE;
    if (rc == 0 && cmd->check != NULL && cmd->check(&c, msg, sizeof(msg)) < 0)
        rc = CLI_EXIT_USAGE;
    if (rc != 0)
        return cli_usage(name, cmd->help, rc, msg);
    /* session_end logs each ending at info; here the lines printed say
     * it all, and stderr is for errors and progress (SPEC §2). */
    log_init(LOG_WARN, LOG_FORMAT_TEXT);

    rc = 1;
    if ((cfg = cli_load_config(o.config)) == NULL)
        goto out;
    /* Read before Redis is asked anything, so a bad password is refused
     * whatever state Redis is in. */
    if ((o.given & CLI_PASSWORD_STDIN) && read_password(&password, &why) < 0) {
        cli_complain(name, "%s", why);
        goto out;
    }
    /* Fail now, not after an ~100 ms scrypt that could only be thrown
     * away. */
    if (connect_store(name, cfg, &st) != 0)
        goto out;
    c.cfg = cfg;
    c.st = st;
    c.password = password;
    actor_name(c.actor, sizeof(c.actor));
    rc = cmd->run(&c);
out:
    util_free_secret(password);
    store_close(st);
    config_free(cfg);
    return rc;
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
