/* SPDX-License-Identifier: MIT */
/* The integration-test harness (harness.h): a private Gatehouse with apps,
 * built from the pieces in tests/support.c. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

#define DEFAULT_ALG "ES256"
#define DEFAULT_PREFIX "gh:"
/* A demo app must answer GET /healthz within this long. */
#define DEMO_START_S 10.0

/* A random secret of 40 hex digits (160 bits) into out. */
static int
make_secret(char *out, size_t size)
{
    unsigned char raw[20];
    size_t i;

    if (size < sizeof(raw) * 2 + 1 ||
        getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return -1;
    for (i = 0; i < sizeof(raw); i++)
        snprintf(out + i * 2, 3, "%02x", raw[i]);
    return 0;
}

/* Copies src into dst of size, failing (-1) rather than truncating. */
static int
copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* "scheme://host[:port]/" of uri into out, for post_logout_redirect_uris. */
static int
origin_of(const char *uri, char *out, size_t size)
{
    const char *p = strstr(uri, "://");
    size_t n;

    if (p == NULL)
        return -1;
    n = (size_t)(p + 3 - uri) + strcspn(p + 3, "/?#");
    if (n + 2 > size)
        return -1;
    memcpy(out, uri, n);
    out[n] = '/';
    out[n + 1] = '\0';
    return 0;
}

/* Prints the last bytes of a log file to stderr, so a failed start says
 * why before its dir is removed. */
static void
dump_tail(const char *path)
{
    char buf[4096];
    FILE *f = fopen(path, "r");
    long size;
    size_t n;

    if (f == NULL)
        return;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
        size >= (long)sizeof(buf))
        fseek(f, size - (long)sizeof(buf) + 1, SEEK_SET);
    else
        rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "--- %s ---\n%s", path, buf);
}

/* ---- Apps ---- */

/* Built-in app i: a receiver (hanging or failing once first, as opts
 * says), named as s says (or NULL). */
static int
builtin_app(struct harness_app *a, int i, const struct harness_app_spec *s,
            const struct harness_opts *opts)
{
    int hang = (opts->hang_apps >> i) & 1;
    int fail_first = (opts->failing_apps >> i) & 1;

    a->kind = HARNESS_APP_BUILTIN;
    if ((a->bc = calloc(1, sizeof(*a->bc))) == NULL ||
        bc_start(a->bc, fail_first, hang) < 0) {
        fprintf(stderr, "harness: app%d: cannot start a receiver\n", i + 1);
        if (a->bc != NULL)
            bc_stop(a->bc);
        free(a->bc);
        a->bc = NULL;
        return -1;
    }
    snprintf(a->name, sizeof(a->name), "app%d", i + 1);
    snprintf(a->client_id, sizeof(a->client_id), "app%d", i + 1);
    snprintf(a->redirect_uri, sizeof(a->redirect_uri),
             "http://127.0.0.1:%d/callback", a->bc->port);
    snprintf(a->post_logout_redirect_uri, sizeof(a->post_logout_redirect_uri),
             "http://127.0.0.1:%d/", a->bc->port);
    if (s != NULL &&
        ((s->name != NULL && copy(a->name, sizeof(a->name), s->name) < 0) ||
         (s->client_id != NULL &&
          copy(a->client_id, sizeof(a->client_id), s->client_id) < 0) ||
         (s->redirect_uri != NULL &&
          (copy(a->redirect_uri, sizeof(a->redirect_uri), s->redirect_uri) <
               0 ||
           origin_of(s->redirect_uri, a->post_logout_redirect_uri,
                     sizeof(a->post_logout_redirect_uri)) < 0)) ||
         (s->client_secret != NULL &&
          copy(a->client_secret, sizeof(a->client_secret), s->client_secret) <
              0))) {
        fprintf(stderr, "harness: app%d: a name or URI too long\n", i + 1);
        return -1;
    }
    return copy(a->backchannel_uri, sizeof(a->backchannel_uri), a->bc->uri);
}

/* The demo app: DEMO_BIN, or gatehouse-demo-app next to the gatehouse
 * binary (the top of the build tree, or src/demo/ in it). */
static int
find_demo_bin(char *out, size_t size)
{
    static const char *const where[] = {"gatehouse-demo-app",
                                        "src/demo/gatehouse-demo-app"};
    const char *env = getenv("DEMO_BIN"), *gh = getenv("GATEHOUSE_BIN");
    char dir[PATH_MAX];
    size_t i;

    if (env != NULL && env[0] != '\0') {
        if (access(env, X_OK) == 0 && copy(out, size, env) == 0)
            return 0;
        fprintf(stderr, "harness: DEMO_BIN=%s is not an executable\n", env);
        return -1;
    }
    if (gh != NULL && strchr(gh, '/') != NULL &&
        copy(dir, sizeof(dir), gh) == 0) {
        *strrchr(dir, '/') = '\0';
        for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
            if (snprintf(out, size, "%s/%s", dir, where[i]) < (int)size &&
                access(out, X_OK) == 0)
                return 0;
        }
    }
    fprintf(stderr, "harness: demo apps need gatehouse-demo-app: set "
                    "DEMO_BIN, or build it next to gatehouse "
                    "(GATEHOUSE_BIN)\n");
    return -1;
}

static void
demo_app(struct harness_app *a, int i)
{
    int port = test_free_port();

    a->kind = HARNESS_APP_DEMO;
    snprintf(a->name, sizeof(a->name), "app%d", i + 1);
    snprintf(a->client_id, sizeof(a->client_id), "app%d", i + 1);
    snprintf(a->url, sizeof(a->url), "http://127.0.0.1:%d/", port);
    snprintf(a->redirect_uri, sizeof(a->redirect_uri), "%scallback", a->url);
    snprintf(a->post_logout_redirect_uri, sizeof(a->post_logout_redirect_uri),
             "%s", a->url);
    snprintf(a->backchannel_uri, sizeof(a->backchannel_uri),
             "%sbackchannel-logout", a->url);
}

static int
external_app(struct harness_app *a, const struct harness_app_spec *s)
{
    a->kind = HARNESS_APP_EXTERNAL;
    if (s->name == NULL || s->client_id == NULL || s->redirect_uri == NULL ||
        copy(a->name, sizeof(a->name), s->name) < 0 ||
        copy(a->client_id, sizeof(a->client_id), s->client_id) < 0 ||
        copy(a->redirect_uri, sizeof(a->redirect_uri), s->redirect_uri) < 0 ||
        origin_of(s->redirect_uri, a->post_logout_redirect_uri,
                  sizeof(a->post_logout_redirect_uri)) < 0 ||
        copy(a->backchannel_uri, sizeof(a->backchannel_uri),
             s->backchannel_uri != NULL ? s->backchannel_uri : "") < 0 ||
        copy(a->client_secret, sizeof(a->client_secret),
             s->client_secret != NULL ? s->client_secret : "") < 0) {
        fprintf(stderr,
                "harness: external app %s: missing or too long "
                "name, client_id or URI\n",
                s->name != NULL ? s->name : "(no name)");
        return -1;
    }
    return 0;
}

/*
 * Starts one demo app: gatehouse-demo-app --name --port --issuer
 * --client-id, with the secret in DEMO_CLIENT_SECRET rather than in argv,
 * where every user could read it. Its output goes to Gatehouse's temp dir.
 */
static int
demo_spawn(struct harness *h, struct harness_app *a, const char *bin)
{
    char log[600], port[16];
    char *argv[] = {(char *)bin,  "--name",   a->name,      "--port",
                    port,         "--issuer", h->gh.issuer, "--client-id",
                    a->client_id, NULL};

    snprintf(port, sizeof(port), "%d", atoi(strrchr(a->url, ':') + 1));
    snprintf(log, sizeof(log), "%s/%s.log", h->gh.dir, a->name);
    setenv("DEMO_CLIENT_SECRET", a->client_secret, 1);
    a->pid = test_spawn(argv, log);
    unsetenv("DEMO_CLIENT_SECRET");
    return a->pid > 0 ? 0 : -1;
}

/* Waits until a started demo app answers GET /healthz. */
static int
demo_wait(struct harness *h, struct harness_app *a, double deadline)
{
    char url[96], log[600];
    struct http_result res;
    long status;
    int i;

    snprintf(url, sizeof(url), "%shealthz", a->url);
    snprintf(log, sizeof(log), "%s/%s.log", h->gh.dir, a->name);
    for (i = 0; i < DEMO_START_S * 100 && test_now() < deadline; i++) {
        if (http_do("GET", url, NULL, NULL, &res) == 0) {
            status = res.status;
            http_result_free(&res);
            if (status == 200)
                return 0;
        }
        if (waitpid(a->pid, NULL, WNOHANG) == a->pid) {
            a->pid = 0;
            fprintf(stderr, "harness: %s exited at start\n", a->name);
            dump_tail(log);
            return -1;
        }
        test_sleep_ms(10);
    }
    fprintf(stderr, "harness: %s not healthy within %.0f s\n", a->name,
            DEMO_START_S);
    dump_tail(log);
    return -1;
}

/* ---- Up and down ---- */

/* The config over support.c's defaults: every app, the admin client, and
 * opts->config_json over that. Returns malloc'd JSON text or NULL, and
 * notes the Redis key prefix in h. */
static char *
config_text(struct harness *h, const char *extra, const char *more_clients)
{
    json_t *cfg = json_object(), *clients = json_array(), *x;
    json_error_t je;
    char *text;
    int i;

    json_array_append_new(
        clients,
        json_pack("{s:s, s:s, s:s, s:[s], s:[s]}", "client_id",
                  HARNESS_ADMIN_CLIENT, "client_secret", h->admin_secret,
                  "name", "Harness admin", "grant_types", "client_credentials",
                  "scopes", HARNESS_ADMIN_SCOPE));
    for (i = 0; i < h->napps; i++) {
        const struct harness_app *a = &h->apps[i];
        json_t *c =
            json_pack("{s:s, s:s, s:s, s:[s], s:[s], s:[ss]}", "client_id",
                      a->client_id, "client_secret", a->client_secret, "name",
                      a->name, "redirect_uris", a->redirect_uri,
                      "post_logout_redirect_uris", a->post_logout_redirect_uri,
                      "grant_types", "authorization_code", "refresh_token");
        if (a->backchannel_uri[0] != '\0') {
            json_object_set_new(c, "backchannel_logout_uri",
                                json_string(a->backchannel_uri));
            json_object_set_new(c, "backchannel_logout_session_required",
                                json_true());
        }
        json_array_append_new(clients, c);
    }
    if (more_clients != NULL) {
        if ((x = json_loads(more_clients, 0, &je)) == NULL ||
            !json_is_array(x)) {
            fprintf(stderr, "harness: clients_json is not a JSON array: %s\n",
                    x == NULL ? je.text : "not an array");
            json_decref(x);
            json_decref(clients);
            json_decref(cfg);
            return NULL;
        }
        json_array_extend(clients, x);
        json_decref(x);
    }
    json_object_set_new(cfg, "clients", clients);
    if (extra != NULL) {
        if ((x = json_loads(extra, 0, &je)) == NULL || !json_is_object(x)) {
            fprintf(stderr, "harness: config_json is not a JSON object: %s\n",
                    x == NULL ? je.text : "not an object");
            json_decref(x);
            json_decref(cfg);
            return NULL;
        }
        json_object_update_recursive(cfg, x);
        json_decref(x);
    }
    x = json_object_get(json_object_get(cfg, "redis"), "prefix");
    snprintf(h->prefix, sizeof(h->prefix), "%s",
             json_is_string(x) ? json_string_value(x) : DEFAULT_PREFIX);
    text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    return text;
}

/*
 * Gatehouse's signing key is made by a process (about 0.2 s) while
 * redis-server starts (about as long): the two overlap, which is most of
 * what keeps start-up under 1 s. The key runs on a helper thread because
 * redis-server must be a child of the calling thread: PR_SET_PDEATHSIG
 * follows the thread that forked, not the process. (redis-server may
 * inherit a copy of the key step's stdin pipe or output files if the two
 * forks interleave: harmless, as it never touches them and the key tool
 * reads no input.)
 */
struct prepare {
    struct gh_proc *gh;
    const char *alg;
    const char *cfg;
    int rc;
};

static void *
prepare(void *arg)
{
    struct prepare *p = arg;

    p->rc = gh_prepare(p->gh, NULL, p->alg, p->cfg);
    return NULL;
}

/* Points the prepared config at our Redis, unless config_json named a
 * store of its own. */
static int
set_redis_url(const struct gh_proc *g, const char *url)
{
    json_t *cfg = json_load_file(g->config, 0, NULL), *r;
    int rc = -1;

    r = json_object_get(cfg, "redis");
    if (json_is_object(r)) {
        rc = 0;
        if (json_object_get(r, "url") == NULL &&
            json_object_get(r, "sentinel") == NULL) {
            json_object_set_new(r, "url", json_string(url));
            rc = json_dump_file(cfg, g->config, JSON_INDENT(2));
        }
    }
    json_decref(cfg);
    return rc;
}

/* Creates the user of "name:password". */
static int
add_user(struct harness *h, const char *user)
{
    const char *colon = strchr(user, ':');
    char name[128];

    if (colon == NULL || (size_t)(colon - user) >= sizeof(name)) {
        fprintf(stderr, "harness: user %s is not name:password\n", user);
        return -1;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(colon - user), user);
    return harness_add_user(h, name, colon + 1);
}

int
harness_up(const struct harness_opts *opts, struct harness **ret)
{
    struct harness *h;
    char demo_bin[PATH_MAX], log[320], *cfg = NULL;
    double t0 = test_now();
    struct prepare p;
    pthread_t helper;
    int i, rc;

    if (opts->apps < 0 || opts->nexternal < 0 ||
        opts->apps + opts->nexternal > HARNESS_MAX_APPS) {
        fprintf(stderr, "harness: at most %d apps\n", HARNESS_MAX_APPS);
        return -1;
    }
    if (opts->demo_apps && opts->apps > 0 &&
        find_demo_bin(demo_bin, sizeof(demo_bin)) < 0)
        return -1;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return -1;
    if (make_secret(h->admin_secret, sizeof(h->admin_secret)) < 0)
        goto fail;
    for (i = 0; i < opts->apps; i++, h->napps++) {
        if (opts->demo_apps)
            demo_app(&h->apps[i], i);
        else if (builtin_app(&h->apps[i], i,
                             opts->builtin ? &opts->builtin[i] : NULL,
                             opts) < 0)
            goto fail;
    }
    for (i = 0; i < opts->nexternal; i++, h->napps++)
        if (external_app(&h->apps[h->napps], &opts->external[i]) < 0)
            goto fail;
    for (i = 0; i < h->napps; i++)
        if (h->apps[i].client_secret[0] == '\0' &&
            make_secret(h->apps[i].client_secret,
                        sizeof(h->apps[i].client_secret)) < 0)
            goto fail;
    if ((cfg = config_text(h, opts->config_json, opts->clients_json)) == NULL)
        goto fail;
    p = (struct prepare){&h->gh, opts->alg ? opts->alg : DEFAULT_ALG, cfg, -1};
    if (pthread_create(&helper, NULL, prepare, &p) != 0)
        goto fail;
    rc = redis_start(&h->redis, opts->aof);
    pthread_join(helper, NULL);
    if (rc < 0)
        goto fail;
    if (p.rc < 0 || set_redis_url(&h->gh, h->redis.url) < 0) {
        fprintf(stderr, "harness: cannot write Gatehouse's config\n");
        goto fail;
    }
    if (gh_launch(&h->gh) < 0) {
        snprintf(log, sizeof(log), "%s/gatehouse.log", h->gh.dir);
        dump_tail(log);
        goto fail;
    }
    /* All demo apps start at once; then each is waited for. */
    for (i = 0; i < h->napps; i++)
        if (h->apps[i].kind == HARNESS_APP_DEMO &&
            demo_spawn(h, &h->apps[i], demo_bin) < 0)
            goto fail;
    for (i = 0; i < h->napps; i++)
        if (h->apps[i].kind == HARNESS_APP_DEMO &&
            demo_wait(h, &h->apps[i], test_now() + DEMO_START_S) < 0)
            goto fail;
    if (opts->user != NULL && add_user(h, opts->user) < 0)
        goto fail;
    free(cfg);
    h->startup_s = test_now() - t0;
    *ret = h;
    return 0;
fail:
    free(cfg);
    harness_down(h);
    return -1;
}

void
harness_down(struct harness *h)
{
    int i;

    if (h == NULL)
        return;
    for (i = 0; i < h->napps; i++)
        if (h->apps[i].pid > 0)
            test_stop_pid(h->apps[i].pid, SIGTERM);
    gh_stop(&h->gh);
    for (i = 0; i < h->napps; i++) {
        if (h->apps[i].bc != NULL) {
            bc_stop(h->apps[i].bc);
            free(h->apps[i].bc);
        }
    }
    redis_stop(&h->redis, 0);
    free(h->admin_token);
    explicit_bzero(h, sizeof(*h));
    free(h);
}

int
harness_gatehouse_again(const struct harness *h, struct gh_proc *g)
{
    json_t *cfg = json_load_file(h->gh.config, 0, NULL);
    const char *alg = json_string_value(json_object_get(cfg, "signing_alg"));
    char keys[300], *text = NULL;
    int rc = -1;

    if (cfg == NULL || alg == NULL)
        goto out;
    /* gh_prepare gives it a port: the issuer stays h's, as behind one
     * load balancer. */
    json_object_del(cfg, "listen");
    snprintf(keys, sizeof(keys), "%s/keys", h->gh.dir);
    json_object_set_new(cfg, "keys_dir", json_string(keys));
    if ((text = json_dumps(cfg, JSON_COMPACT)) != NULL)
        rc = gh_start(g, NULL, alg, text);
out:
    if (rc < 0)
        fprintf(stderr, "harness: the second Gatehouse did not start\n");
    free(text);
    json_decref(cfg);
    return rc;
}

int
harness_add_user(struct harness *h, const char *username, const char *password)
{
    return oidc_add_user(&h->gh, username, password);
}

/* ---- The environment ---- */

json_t *
harness_env(const struct harness *h)
{
    json_t *env, *apps = json_array();
    char disc[128];
    int i;

    snprintf(disc, sizeof(disc), "%s/.well-known/openid-configuration",
             h->gh.issuer);
    for (i = 0; i < h->napps; i++) {
        const struct harness_app *a = &h->apps[i];
        static const char *const kinds[] = {"builtin", "demo", "external"};
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", a->name, "kind",
            kinds[a->kind], "client_id", a->client_id, "client_secret",
            a->client_secret, "redirect_uri", a->redirect_uri,
            "post_logout_redirect_uri", a->post_logout_redirect_uri,
            "backchannel_logout_uri", a->backchannel_uri);
        if (a->url[0] != '\0')
            json_object_set_new(o, "url", json_string(a->url));
        json_array_append_new(apps, o);
    }
    env = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o}", "issuer",
                    h->gh.issuer, "discovery_url", disc, "config", h->gh.config,
                    "redis_url", h->redis.url, "admin", "client_id",
                    HARNESS_ADMIN_CLIENT, "client_secret", h->admin_secret,
                    "scope", HARNESS_ADMIN_SCOPE, "apps", apps);
    return env;
}

/* NAME='value' with the value single-quoted for any POSIX shell. */
static void
put_export(FILE *f, const char *name, const char *value)
{
    fprintf(f, "export %s='", name);
    for (; *value != '\0'; value++) {
        if (*value == '\'')
            fputs("'\\''", f);
        else
            fputc(*value, f);
    }
    fputs("'\n", f);
}

/* Every string member of o as PREFIX_KEY (key upper-cased). */
static void
put_object(FILE *f, const char *prefix, const json_t *o)
{
    const char *key;
    json_t *v;
    char name[128];
    size_t i;

    json_object_foreach((json_t *)o, key, v)
    {
        if (!json_is_string(v))
            continue;
        snprintf(name, sizeof(name), "%s_%s", prefix, key);
        for (i = strlen(prefix) + 1; name[i] != '\0'; i++) {
            unsigned char c = (unsigned char)name[i];
            name[i] = isalnum(c) ? (char)toupper(c) : '_';
        }
        put_export(f, name, json_string_value(v));
    }
}

int
harness_print_env(const json_t *env, int as_json, FILE *f)
{
    /* GATEHOUSE_REDIS_URL would redirect every gatehouse run from that
     * shell to this Redis, hence a name of our own. */
    static const struct {
        const char *key, *var;
    } top[] = {
        {"issuer", "GATEHOUSE_ISSUER"},
        {"discovery_url", "GATEHOUSE_DISCOVERY_URL"},
        {"config", "GATEHOUSE_CONFIG"},
        {"redis_url", "GATEHOUSE_HARNESS_REDIS_URL"},
        {"state_dir", "GATEHOUSE_HARNESS_STATE_DIR"},
    };
    const json_t *apps = json_object_get(env, "apps");
    char prefix[64], n[16];
    size_t i;

    if (as_json) {
        if (json_dumpf(env, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
            return -1;
        fputc('\n', f);
        return fflush(f) == 0 ? 0 : -1;
    }
    for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        const char *v = json_string_value(json_object_get(env, top[i].key));
        if (v != NULL)
            put_export(f, top[i].var, v);
    }
    put_object(f, "GATEHOUSE_ADMIN", json_object_get(env, "admin"));
    snprintf(n, sizeof(n), "%zu", json_array_size(apps));
    put_export(f, "GATEHOUSE_APPS", n);
    for (i = 0; i < json_array_size(apps); i++) {
        snprintf(prefix, sizeof(prefix), "GATEHOUSE_APP%zu", i + 1);
        put_object(f, prefix, json_array_get(apps, i));
    }
    return fflush(f) == 0 ? 0 : -1;
}

int
harness_env_shell(const struct harness *h, FILE *f)
{
    json_t *env = harness_env(h);
    int rc = env != NULL ? harness_print_env(env, 0, f) : -1;

    json_decref(env);
    return rc;
}

int
harness_env_json(const struct harness *h, FILE *f)
{
    json_t *env = harness_env(h);
    int rc = env != NULL ? harness_print_env(env, 1, f) : -1;

    json_decref(env);
    return rc;
}
