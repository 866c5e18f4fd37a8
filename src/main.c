/* SPDX-License-Identifier: MIT */
/* The gatehouse command: subcommand dispatch and wiring, nothing else. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "api/admin.h"
#include "core/app.h"
#include "cli/cli.h"
#include "core/config.h"
#include "session/delivery.h"
#include "oidc/discovery.h"
#include "core/error.h"
#include "http/http.h"
#include "crypto/jws.h"
#include "crypto/keys.h"
#include "core/log.h"
#include "crypto/password.h"
#include "store/store.h"

/* Sign-ins waiting for a hashing thread before /login answers 503. */
#define HASHPOOL_QUEUE 64
/* Browsers returning with a device cookie: one thread is a sign-in every
 * ~74 ms, and a flood of anonymous attempts cannot take it. */
#define HASHPOOL_RETURNING_THREADS 1
#define HASHPOOL_RETURNING_QUEUE 16

/* How long serve waits for requests in flight on SIGTERM (SPEC §2: 10 s). */
#define SHUTDOWN_GRACE_S 8.0

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
    "\n"
    "Run 'gatehouse COMMAND --help' for a command's options.\n";

struct common_opts {
    const char *config;
    const char *dir;
    const char *alg;
    int connect;
    int help;
};

enum { OPT_LOG_LEVEL = 256, OPT_LOG_FORMAT, OPT_CONNECT };

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"dir", required_argument, NULL, 'd'},
    {"alg", required_argument, NULL, 'a'},
    {"connect", no_argument, NULL, OPT_CONNECT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Parses the options every subcommand shares; exit 2 on a usage error. */
static void
parse_opts(int argc, char **argv, const char *cmd, const char *help,
           struct common_opts *o)
{
    enum log_level level = LOG_INFO;
    enum log_format format = LOG_FORMAT_TEXT;
    int ch;

    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "c:d:a:h", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'd':
            o->dir = optarg;
            break;
        case 'a':
            o->alg = optarg;
            break;
        case OPT_CONNECT:
            o->connect = 1;
            break;
        case OPT_LOG_LEVEL:
            if (log_parse_level(optarg, &level) < 0) {
                fprintf(stderr, "gatehouse %s: --log-level: must be debug, "
                                "info, warn or error\n", cmd);
                exit(2);
            }
            break;
        case OPT_LOG_FORMAT:
            if (log_parse_format(optarg, &format) < 0) {
                fprintf(stderr, "gatehouse %s: --log-format: must be text "
                                "or json\n", cmd);
                exit(2);
            }
            break;
        case 'h':
            fputs(help, stdout);
            exit(0);
        default:
            fprintf(stderr, "gatehouse %s: unknown or incomplete option "
                            "'%s'; see --help\n", cmd, argv[optind - 1]);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gatehouse %s: unexpected argument '%s'\n", cmd,
                argv[optind]);
        exit(2);
    }
    log_init(level, format);
}

static struct config *
load_config_or_exit(const char *cmd, const char *path)
{
    struct config *cfg = NULL;
    struct field_error err;

    if (path == NULL) {
        fprintf(stderr, "gatehouse %s: --config FILE is required\n", cmd);
        exit(2);
    }
    memset(&err, 0, sizeof(err));
    if (config_load(path, &cfg, &err) < 0) {
        if (err.field[0] != '\0')
            fprintf(stderr, "%s: %s: %s\n", path, err.field, err.problem);
        else
            fprintf(stderr, "%s: %s\n", path, err.problem);
        exit(1);
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

/* Loads the keys, and checks every config client's ID token alg has an
 * active key: a client that could never get an ID token is a config
 * error, found at start rather than at its first sign-in. */
static struct keyring *
load_keys_or_exit(const struct config *cfg)
{
    struct keyring *kr = NULL;
    char why[512];
    size_t i;

    if (keyring_load(cfg->keys_dir, cfg->signing_alg, key_keep_s(cfg), &kr,
                     why, sizeof(why)) < 0) {
        fprintf(stderr, "%s: keys_dir: %s\n", cfg->path, why);
        exit(1);
    }
    for (i = 0; i < cfg->nclients; i++) {
        const char *alg = cfg->clients[i]->id_token_alg;

        if (alg != NULL && keys_kid(kr, alg) == NULL) {
            fprintf(stderr,
                    "%s: clients[%zu].id_token_signed_response_alg: no "
                    "active %s key in %s: run \"gatehouse keys generate "
                    "--dir %s --alg %s\"\n",
                    cfg->path, i, alg, cfg->keys_dir, cfg->keys_dir, alg);
            exit(1);
        }
    }
    return kr;
}

static const char serve_help[] =
    "usage: gatehouse serve --config FILE [--log-level LEVEL] "
    "[--log-format text|json]\n"
    "\n"
    "Runs the provider in the foreground until SIGTERM or SIGINT.\n";

static int
cmd_serve(int argc, char **argv)
{
    struct common_opts o;
    struct config *cfg;
    struct keyring *kr;
    struct store *st = NULL;
    struct http_server *srv = NULL;
    struct app app;
    struct http_server_options hopt;
    sigset_t sigs;
    int sig, rc;

    parse_opts(argc, argv, "serve", serve_help, &o);
    cfg = load_config_or_exit("serve", o.config);
    kr = load_keys_or_exit(cfg);
    if ((rc = store_open(&cfg->redis, &st)) < 0)
        fatalx("store_open error=\"%s\"", gh_strerror(rc));
    store_log_outages(st);
    /* Scripts also load on first use, so a Redis that is down now only
     * makes /readyz say so until it is back. */
    if (store_load_scripts(st) < 0)
        log_warnx("redis_unreachable at=start");

    memset(&app, 0, sizeof(app));
    /* One hashing thread per HTTP thread, and a short queue: past it,
     * sign-ins get 503 rather than an unbounded wait (SPEC §7). */
    if ((rc = hashpool_start(cfg->listen_threads, HASHPOOL_QUEUE,
                            &app.hashpool)) < 0)
        fatalx("hashpool_start error=\"%s\"", gh_strerror(rc));
    if ((rc = hashpool_start_urgent(HASHPOOL_RETURNING_THREADS,
                                    HASHPOOL_RETURNING_QUEUE,
                                    &app.hashpool_returning)) < 0)
        fatalx("hashpool_start error=\"%s\"", gh_strerror(rc));
    app.cfg = cfg;
    app.keys = kr;
    app.store = st;
    if ((rc = jws_cache_new(&app.jws_cache)) < 0)
        fatalx("jws_cache_new error=\"%s\"", gh_strerror(rc));
    if ((app.discovery = discovery_document(cfg, kr)) == NULL)
        fatalx("discovery_document error=\"out of memory\"");

    /* Every thread started from here on inherits the blocked set, so only
     * sigwait below sees these. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if ((rc = delivery_start(&app, &app.delivery)) < 0)
        fatalx("delivery_start error=\"%s\"", gh_strerror(rc));
    if ((rc = admin_start(&app)) < 0)
        fatalx("admin_start error=\"%s\"", gh_strerror(rc));

    hopt.address = cfg->listen_address;
    hopt.port = cfg->listen_port;
    hopt.threads = cfg->listen_threads;
    hopt.timeout_s = cfg->listen_timeout_s;
    if ((rc = http_start(&hopt, &app, &srv)) < 0)
        fatalx("listen_failed address=%s port=%d error=\"%s\"",
               cfg->listen_address, cfg->listen_port, gh_strerror(rc));
    log_info("serving issuer=%s address=%s port=%d threads=%d kid=%s alg=%s",
             cfg->issuer, cfg->listen_address, cfg->listen_port,
             cfg->listen_threads, keys_active_kid(kr), keys_active_alg(kr));

    while (sigwait(&sigs, &sig) != 0)
        ;
    log_info("stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
    /* Sign-ins still queued for hashing are told "busy" now rather than
     * hashed: after a flood the queue is full, and the drain would wait
     * on all of it. */
    hashpool_shed(app.hashpool);
    hashpool_shed(app.hashpool_returning);
    http_drain(srv, SHUTDOWN_GRACE_S);
    /* Both may still resume parked requests: stop them before the
     * server. */
    hashpool_stop(app.hashpool);
    hashpool_stop(app.hashpool_returning);
    /* A logout-all thread wakes the engine: stop it first. */
    admin_stop(&app);
    delivery_stop(app.delivery);
    http_stop(srv);
    store_close(st);
    free(app.discovery);
    jws_cache_free(app.jws_cache);
    keyring_free(kr);
    config_free(cfg);
    log_info("stopped");
    return 0;
}

static const char check_help[] =
    "usage: gatehouse check-config --config FILE [--connect]\n"
    "\n"
    "Checks the config file and that keys_dir holds a usable active key;\n"
    "with --connect also that Redis answers. Exit 0 if all is well, or 1\n"
    "with one line \"FILE: field: problem\".\n";

static int
cmd_check_config(int argc, char **argv)
{
    struct common_opts o;
    struct config *cfg;
    struct keyring *kr;
    struct store *st = NULL;
    int rc = 0;

    parse_opts(argc, argv, "check-config", check_help, &o);
    cfg = load_config_or_exit("check-config", o.config);
    kr = load_keys_or_exit(cfg);
    if (o.connect) {
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
    if (rc == 0)
        printf("%s: ok (key %s, %s)\n", cfg->path, keys_active_kid(kr),
               keys_active_alg(kr));
    keyring_free(kr);
    config_free(cfg);
    return rc;
}

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
cmd_keys(int argc, char **argv)
{
    struct common_opts o;
    const char *sub = argc > 1 ? argv[1] : NULL;
    int rc;

    if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(keys_help, sub == NULL ? stderr : stdout);
        return sub == NULL ? 2 : 0;
    }
    if (strcmp(sub, "generate") == 0) {
        /* SPEC §2: without --alg, one of each, so ID tokens can default
         * to RS256 (OIDC Registration §2) whatever signing_alg is. */
        static const char *const both[] = {"RS256", "ES256"};
        char kid[KEYS_KID_LEN + 1];
        size_t i;
        parse_opts(argc - 1, argv + 1, "keys generate", keys_help, &o);
        if (o.dir == NULL) {
            fprintf(stderr, "gatehouse keys generate: --dir DIR is "
                            "required\n");
            return 2;
        }
        if (o.alg != NULL && strcmp(o.alg, "RS256") != 0 &&
            strcmp(o.alg, "ES256") != 0) {
            fprintf(stderr, "gatehouse keys generate: --alg: must be RS256 "
                            "or ES256\n");
            return 2;
        }
        for (i = 0; i < 2; i++) {
            const char *alg = o.alg != NULL ? o.alg : both[i];
            if ((rc = keys_generate(o.dir, alg, kid)) < 0) {
                fprintf(stderr, "gatehouse keys generate: %s: %s\n", o.dir,
                        gh_strerror(rc));
                return 1;
            }
            /* With --alg the kid alone, as scripts capture it. */
            if (o.alg != NULL) {
                printf("%s\n", kid);
                break;
            }
            printf("%s %s\n", kid, alg);
        }
        return 0;
    }
    if (strcmp(sub, "list") == 0) {
        struct key_info *keys = NULL;
        size_t n = 0, i;
        parse_opts(argc - 1, argv + 1, "keys list", keys_help, &o);
        if (o.dir == NULL) {
            fprintf(stderr, "gatehouse keys list: --dir DIR is required\n");
            return 2;
        }
        if ((rc = keys_list(o.dir, &keys, &n)) < 0) {
            fprintf(stderr, "gatehouse keys list: %s: %s\n", o.dir,
                    gh_strerror(rc));
            return 1;
        }
        printf("%-43s  %-5s  %-20s  %s\n", "KID", "ALG", "CREATED", "STATE");
        for (i = 0; i < n; i++) {
            char created[32];
            time_t t = (time_t)keys[i].created;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
            printf("%-43s  %-5s  %-20s  %s\n", keys[i].kid, keys[i].alg,
                   created, keys[i].retired ? "retired" : "active");
        }
        free(keys);
        return 0;
    }
    fprintf(stderr, "gatehouse keys: unknown subcommand '%s'\n%s", sub,
            keys_help);
    return 2;
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
} commands[] = {
    {"serve", cmd_serve},
    {"check-config", cmd_check_config},
    {"keys", cmd_keys},
    {"user", cli_user},
    {"sessions", cli_sessions},
    {"logout", cli_logout},
    {"deliveries", cli_deliveries},
    {"audit", cli_audit},
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
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
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
