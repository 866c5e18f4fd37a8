/* SPDX-License-Identifier: MIT */
/* "gatehouse serve": the provider assembled from its parts, run in the
 * foreground until SIGTERM or SIGINT (SPEC §2). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gatehouse/api/admin.h"
#include "gatehouse/api/metrics_endpoint.h"
#include "gatehouse/cli/cli.h"
#include "cli/cli_internal.h"
#include "gatehouse/core/app.h"
#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/core/log.h"
#include "gatehouse/crypto/factor_secret.h"
#include "gatehouse/crypto/jws.h"
#include "gatehouse/crypto/keys.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/http/http.h"
#include "gatehouse/routes.h"
#include "gatehouse/oidc/discovery.h"
#include "gatehouse/session/delivery.h"
#include "gatehouse/session/maintenance.h"
#include "gatehouse/store/store.h"

_Static_assert(sizeof(((struct app *)0)->factor_key) == FACTOR_KEY_LEN,
               "app.factor_key holds a second-factor key");

/* Sign-ins waiting for a hashing thread before /login answers 503. */
#define HASHPOOL_QUEUE 64
/* Browsers returning with a device cookie: one thread is a sign-in every
 * ~74 ms, and a flood of anonymous attempts cannot take it. */
#define HASHPOOL_RETURNING_THREADS 1
#define HASHPOOL_RETURNING_QUEUE 16

/* How long serve waits for requests in flight on SIGTERM (SPEC §2: 10 s). */
#define SHUTDOWN_GRACE_S 8.0

static const struct cli_rules rules = {
    CLI_CONFIG | CLI_LOG_LEVEL | CLI_LOG_FORMAT, CLI_CONFIG, 0};

static const char serve_help[] =
    "usage: gatehouse serve --config FILE [--log-level LEVEL] "
    "[--log-format text|json]\n"
    "\n"
    "Runs the provider in the foreground until SIGTERM or SIGINT.\n";

/* Parses argv (the words after "serve") into o and the log settings: 0,
 * 1 for --help, or CLI_EXIT_USAGE with the problem in msg. */
static int
parse(int argc, char **argv, struct cli_opts *o, enum log_level *level,
      enum log_format *format, char *msg, size_t size)
{
    int rc;

    if ((rc = cli_parse(&rules, argc, argv, o, msg, size)) != 0)
        return rc;
    *level = LOG_INFO;
    *format = LOG_FORMAT_TEXT;
    if (o->log_level != NULL && log_parse_level(o->log_level, level) < 0) {
        snprintf(msg, size, "--log-level: must be debug, info, warn or "
                            "error");
        return CLI_EXIT_USAGE;
    }
    if (o->log_format != NULL &&
        log_parse_format(o->log_format, format) < 0) {
        snprintf(msg, size, "--log-format: must be text or json");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int
cli_serve(int argc, char **argv)
{
    struct cli_opts o;
    enum log_level level;
    enum log_format format;
    char msg[256];
    struct config *cfg;
    struct keyring *kr = NULL;
    struct store *st = NULL;
    struct http_server *srv = NULL;
    struct app app;
    struct http_server_options hopt;
    sigset_t sigs;
    const char *why;
    int sig, rc;

    if ((rc = parse(argc - 1, argv + 1, &o, &level, &format, msg,
                    sizeof(msg))) != 0)
        return cli_usage("gatehouse serve", serve_help, rc, msg);
    log_init(level, format);
    /* Before any thread: it sets up gettext and unsets LANGUAGE. */
    if ((why = i18n_init(NULL)) != NULL)
        log_warnx("i18n_unavailable reason=\"%s\"", why);
    if ((cfg = cli_load_config(o.config)) == NULL)
        return 1;
    if (cli_load_keys(cfg, &kr) != 0) {
        config_free(cfg);
        return 1;
    }
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
    /* Made on first start when absent (SPEC §3), beside the signing keys. */
    if (factor_key_load(cfg->keys_dir, 1, app.factor_key, msg, sizeof(msg)) <
        0)
        fatalx("second_factor_key error=\"%s\"", msg);
    if ((rc = jws_cache_new(&app.jws_cache)) < 0)
        fatalx("jws_cache_new error=\"%s\"", gh_strerror(rc));
    app.maintenance = maintenance_cache_new();
    if ((rc = metrics_endpoint_new(&app.metrics_last)) < 0)
        fatalx("metrics_endpoint_new error=\"%s\"", gh_strerror(rc));
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
    if ((rc = http_start(&hopt, &routes_router, &app, &srv)) < 0)
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
    admin_free(&app);
    store_close(st);
    free(app.discovery);
    jws_cache_free(app.jws_cache);
    metrics_endpoint_free(app.metrics_last);
    maintenance_cache_free(app.maintenance);
    keyring_free(kr);
    OPENSSL_cleanse(app.factor_key, sizeof(app.factor_key));
    config_free(cfg);
    log_info("stopped");
    return 0;
}
