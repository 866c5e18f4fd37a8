/* SPDX-License-Identifier: MIT */
/* Real processes and real HTTP for integration tests. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "support.h"
#include "test.h"

#define MAX_CHILDREN 32

static pid_t children[MAX_CHILDREN];
static int atexit_done;

static void
kill_children(void)
{
    int i;

    for (i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
}

static void
track(pid_t pid)
{
    int i;

    if (!atexit_done) {
        atexit(kill_children);
        atexit_done = 1;
    }
    for (i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    }
}

static void
untrack(pid_t pid)
{
    int i;

    for (i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid)
            children[i] = 0;
}

double
test_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Forks argv with output to logpath (or inherited if NULL). The child dies
 * with the test process (PR_SET_PDEATHSIG), so nothing is left running. */
static pid_t
spawn(char *const argv[], const char *logpath)
{
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (logpath != NULL) {
            int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    track(pid);
    return pid;
}

pid_t
test_spawn(char *const argv[], const char *logpath)
{
    return spawn(argv, logpath);
}

void
test_stop_pid(pid_t pid, int sig)
{
    double deadline = test_now() + 10;

    if (pid <= 0)
        return;
    kill(pid, sig);
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        if (test_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            break;
        }
        test_sleep_ms(10);
    }
    untrack(pid);
}

static int
unix_connectable(const char *path)
{
    struct sockaddr_un sa;
    int fd, ok;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return 0;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
        return 0;
    ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

int
redis_restart(struct redis_proc *r, int aof)
{
    char log[300], *argv[16];
    int i = 0;
    double deadline;

    snprintf(log, sizeof(log), "%s/redis.log", r->dir);
    argv[i++] = "redis-server";
    argv[i++] = "--port";
    argv[i++] = "0";
    argv[i++] = "--unixsocket";
    argv[i++] = r->socket;
    argv[i++] = "--dir";
    argv[i++] = r->dir;
    argv[i++] = "--save";
    argv[i++] = "";
    argv[i++] = "--appendonly";
    argv[i++] = aof ? "yes" : "no";
    argv[i++] = NULL;
    if ((r->pid = spawn(argv, log)) < 0)
        return -1;
    deadline = test_now() + 10;
    while (test_now() < deadline) {
        if (unix_connectable(r->socket))
            return 0;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            untrack(r->pid);
            fprintf(stderr, "redis-server exited; see %s\n", log);
            return -1;
        }
        test_sleep_ms(10);
    }
    fprintf(stderr, "redis-server did not start in 10 s\n");
    return -1;
}

int
redis_start(struct redis_proc *r, int aof)
{
    memset(r, 0, sizeof(*r));
    if (test_mkdtemp(r->dir, sizeof(r->dir), "redis") < 0)
        return -1;
    snprintf(r->socket, sizeof(r->socket), "%s/redis.sock", r->dir);
    snprintf(r->url, sizeof(r->url), "unix://%s", r->socket);
    return redis_restart(r, aof);
}

static void
rm_rf(const char *dir)
{
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};

    if (test_is_tmp(dir))
        run_cmd(argv, NULL, NULL, NULL);
}

void
redis_stop(struct redis_proc *r, int keep_dir)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
        untrack(r->pid);
        r->pid = 0;
    }
    if (!keep_dir)
        rm_rf(r->dir);
}

static int
free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd, port = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static const char *
gh_bin(void)
{
    const char *b = getenv("GATEHOUSE_BIN");

    return b != NULL ? b : "gatehouse";
}

int
gh_prepare(struct gh_proc *g, const char *redis_url, const char *alg,
           const char *extra_json)
{
    char keys[300], algs[32], signing[8], *out = NULL, *err = NULL;
    char *one, *save = NULL;
    json_t *cfg, *extra;
    int rc;

    memset(g, 0, sizeof(*g));
    if (test_mkdtemp(g->dir, sizeof(g->dir), "test") < 0)
        return -1;
    snprintf(keys, sizeof(keys), "%s/keys", g->dir);
    /* "ES256,RS256": a key of each, the first the signing_alg. */
    snprintf(algs, sizeof(algs), "%s", alg);
    snprintf(signing, sizeof(signing), "%.*s", (int)strcspn(alg, ","), alg);
    for (one = strtok_r(algs, ",", &save); one != NULL;
         one = strtok_r(NULL, ",", &save)) {
        char *argv[] = {(char *)gh_bin(), "keys", "generate", "--dir", keys,
                        "--alg", one, NULL};
        rc = run_cmd(argv, NULL, &out, &err);
        if (rc != 0) {
            fprintf(stderr, "keys generate failed: %s\n", err ? err : "");
            free(out);
            free(err);
            return -1;
        }
        free(out);
        free(err);
        out = err = NULL;
    }
    g->port = free_port();
    snprintf(g->issuer, sizeof(g->issuer), "http://127.0.0.1:%d", g->port);
    cfg = json_pack("{s:s, s:{s:s, s:i}, s:{s:s}, s:s, s:s}",
                    "issuer", g->issuer, "listen", "address", "127.0.0.1",
                    "port", g->port, "redis", "prefix", "gh:", "keys_dir",
                    "keys", "signing_alg", signing);
    if (redis_url != NULL)
        json_object_set_new(json_object_get(cfg, "redis"), "url",
                            json_string(redis_url));
    if (extra_json != NULL) {
        json_error_t je;
        if ((extra = json_loads(extra_json, 0, &je)) == NULL) {
            fprintf(stderr, "bad extra_json: %s\n", je.text);
            json_decref(cfg);
            return -1;
        }
        json_object_update_recursive(cfg, extra);
        json_decref(extra);
    }
    snprintf(g->config, sizeof(g->config), "%s/config.json", g->dir);
    rc = json_dump_file(cfg, g->config, JSON_INDENT(2));
    json_decref(cfg);
    return rc == 0 ? 0 : -1;
}

/* GATEHOUSE_WRAPPER (e.g. "valgrind --error-exitcode=99"), split on
 * spaces, runs the server under another program: tests/run --valgrind.
 * Everything is slower there, so waits are longer. */
int
wrapped(void)
{
    const char *w = getenv("GATEHOUSE_WRAPPER");

    return w != NULL && w[0] != '\0';
}

int
gh_launch(struct gh_proc *g)
{
    char log[300], url[128], words[1024], *save = NULL, *w;
    char *argv[40];
    double deadline;
    struct http_result res;
    int n = 0;

    if (wrapped()) {
        snprintf(words, sizeof(words), "%s", getenv("GATEHOUSE_WRAPPER"));
        for (w = strtok_r(words, " ", &save); w != NULL && n < 32;
             w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
    }
    argv[n++] = (char *)gh_bin();
    argv[n++] = "serve";
    argv[n++] = "--config";
    argv[n++] = g->config;
    argv[n++] = "--log-level";
    argv[n++] = "debug";
    argv[n] = NULL;
    snprintf(log, sizeof(log), "%s/gatehouse.log", g->dir);
    if ((g->pid = spawn(argv, log)) < 0)
        return -1;
    snprintf(url, sizeof(url), "%s/healthz", g->issuer);
    deadline = test_now() + (wrapped() ? 60 : 15);
    while (test_now() < deadline) {
        if (http_do("GET", url, NULL, NULL, &res) == 0) {
            long st = res.status;
            http_result_free(&res);
            if (st == 200)
                return 0;
        }
        if (waitpid(g->pid, NULL, WNOHANG) == g->pid) {
            untrack(g->pid);
            g->pid = 0;
            fprintf(stderr, "gatehouse exited; see %s\n", log);
            return -1;
        }
        test_sleep_ms(20);
    }
    fprintf(stderr, "gatehouse not healthy in %d s; see %s\n",
            wrapped() ? 60 : 15, log);
    return -1;
}

int
gh_start(struct gh_proc *g, const char *redis_url, const char *alg,
         const char *extra_json)
{
    if (gh_prepare(g, redis_url, alg, extra_json) < 0)
        return -1;
    return gh_launch(g);
}

int
gh_signal_wait(struct gh_proc *g, int sig, double timeout_s)
{
    double deadline = test_now() + timeout_s;
    int status;

    if (g->pid <= 0)
        return -1;
    kill(g->pid, sig);
    while (test_now() < deadline) {
        if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
            untrack(g->pid);
            g->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        }
        test_sleep_ms(10);
    }
    return -1;
}

void
gh_stop(struct gh_proc *g)
{
    int status = 0;

    if (g->pid > 0 &&
        (status = gh_signal_wait(g, SIGTERM, wrapped() ? 60 : 10)) < 0) {
        kill(g->pid, SIGKILL);
        waitpid(g->pid, NULL, 0);
        untrack(g->pid);
        g->pid = 0;
    }
    /* SPEC §2: SIGTERM exits 0. Anything else — a sanitizer's leak or
     * error report, a crash, a hang — fails the test that started it, and
     * the dir stays for a look. */
    if (status != 0) {
        char *argv[] = {"tail", "-n", "40", NULL, NULL};
        char log[300];
        snprintf(log, sizeof(log), "%s/gatehouse.log", g->dir);
        argv[3] = log;
        fprintf(stderr, "gatehouse did not exit 0 on SIGTERM (%d); %s:\n",
                status, log);
        run_cmd(argv, NULL, NULL, NULL);
        {
            char *out = NULL;
            run_cmd(argv, NULL, &out, NULL);
            fprintf(stderr, "%s\n", out ? out : "");
            free(out);
        }
        exit(1);
    }
    rm_rf(g->dir);
}

static char *
slurp_fd(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t n;

    if (buf == NULL)
        return NULL;
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
    }
    buf[len] = '\0';
    return buf;
}

char *
gh_log(const struct gh_proc *g)
{
    char path[320], *text = NULL;
    size_t len = 0;
    FILE *f, *m = open_memstream(&text, &len);
    int ch;

    snprintf(path, sizeof(path), "%s/gatehouse.log", g->dir);
    if (m == NULL)
        abort();
    if ((f = fopen(path, "r")) != NULL) {
        while ((ch = fgetc(f)) != EOF)
            fputc(ch, m);
        fclose(f);
    }
    fclose(m);
    return text;
}

static int
log_has(const struct gh_proc *g, const char *needle)
{
    char *log = gh_log(g);
    int found = strstr(log, needle) != NULL;

    free(log);
    return found;
}

int
gh_log_wait(const struct gh_proc *g, const char *needle, double timeout_s)
{
    return WAIT_UNTIL(log_has(g, needle), timeout_s, 20);
}

int
run_cmd(char *const argv[], const char *stdin_text, char **out, char **err)
{
    char outpath[300], errpath[300];
    int in[2], ofd, efd, status;
    pid_t pid;

    snprintf(outpath, sizeof(outpath), "%s/gh-out-XXXXXX", test_tmpdir());
    snprintf(errpath, sizeof(errpath), "%s/gh-err-XXXXXX", test_tmpdir());
    if ((ofd = mkstemp(outpath)) < 0)
        return -1;
    if ((efd = mkstemp(errpath)) < 0) {
        close(ofd);
        unlink(outpath);
        return -1;
    }
    unlink(outpath);
    unlink(errpath);
    if (pipe(in) < 0)
        return -1;
    if ((pid = fork()) == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        close(in[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    if (stdin_text != NULL) {
        size_t left = strlen(stdin_text);
        while (left > 0) {
            ssize_t n = write(in[1], stdin_text, left);
            if (n <= 0)
                break;
            stdin_text += n;
            left -= (size_t)n;
        }
    }
    close(in[1]);
    waitpid(pid, &status, 0);
    if (out != NULL) {
        lseek(ofd, 0, SEEK_SET);
        *out = slurp_fd(ofd);
    }
    if (err != NULL) {
        lseek(efd, 0, SEEK_SET);
        *err = slurp_fd(efd);
    }
    close(ofd);
    close(efd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct buf {
    char *p;
    size_t len;
};

static size_t
append(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    char *np = realloc(b->p, b->len + size * n + 1);

    if (np == NULL)
        return 0;
    b->p = np;
    memcpy(b->p + b->len, data, size * n);
    b->len += size * n;
    b->p[b->len] = '\0';
    return size * n;
}

int
http_do(const char *method, const char *url, const char *body,
        const char *const *headers, struct http_result *res)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    struct buf b = {NULL, 0}, h = {NULL, 0};
    CURLcode cc;

    memset(res, 0, sizeof(*res));
    if (c == NULL)
        return -1;
    for (; headers != NULL && *headers != NULL; headers++)
        hl = curl_slist_append(hl, *headers);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
        res->body = b.p != NULL ? b.p : strdup("");
        res->body_len = b.len;
        res->headers = h.p != NULL ? h.p : strdup("");
    } else {
        free(b.p);
        free(h.p);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return cc == CURLE_OK ? 0 : -1;
}

char *
http_header_value(const struct http_result *res, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = res->headers;

    while (p != NULL && *p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > nlen && strncasecmp(p, name, nlen) == 0 &&
            p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            return strndup(v, linelen - (size_t)(v - p));
        }
        p = eol ? eol + 2 : NULL;
    }
    return NULL;
}

void
http_result_free(struct http_result *res)
{
    free(res->body);
    free(res->headers);
    memset(res, 0, sizeof(*res));
}

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

int
tcp_connect(int port)
{
    struct sockaddr_in sa;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Plain base64url decoding, written again here on purpose: the check must
 * not share code with what it checks. */
static unsigned char *
unb64url(const char *in, size_t len, size_t *outlen)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char *out = malloc(len + 1);
    unsigned acc = 0;
    int bits = 0;
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        const char *p = memchr(alpha, in[i], 64);
        if (p == NULL || in[i] == '\0') {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (unsigned)(p - alpha);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static BIGNUM *
jwk_bn(json_t *jwk, const char *name)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    unsigned char *raw;
    size_t n;
    BIGNUM *bn;

    if (s == NULL || (raw = unb64url(s, strlen(s), &n)) == NULL)
        return NULL;
    bn = BN_bin2bn(raw, (int)n, NULL);
    free(raw);
    return bn;
}

static EVP_PKEY *
jwk_to_pkey(json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *a = NULL, *b = NULL;
    unsigned char point[65];

    if (kty != NULL && strcmp(kty, "RSA") == 0) {
        a = jwk_bn(jwk, "n");
        b = jwk_bn(jwk, "e");
        if (a == NULL || b == NULL)
            goto out;
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, a);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, b);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    } else if (kty != NULL && strcmp(kty, "EC") == 0) {
        a = jwk_bn(jwk, "x");
        b = jwk_bn(jwk, "y");
        if (a == NULL || b == NULL)
            goto out;
        point[0] = 4;
        BN_bn2binpad(a, point + 1, 32);
        BN_bn2binpad(b, point + 33, 32);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        "prime256v1", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         sizeof(point));
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    } else {
        goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    if (ctx == NULL || params == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    BN_free(a);
    BN_free(b);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

int
jwks_verify(const char *jwks_json, const char *jws, char **payload)
{
    const char *d1 = strchr(jws, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    unsigned char *hdr = NULL, *sig = NULL, *pl = NULL, *der = NULL;
    size_t hlen = 0, slen = 0, plen = 0;
    json_t *jwks = NULL, *h = NULL, *keys, *k;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    const char *kid, *alg;
    size_t i;
    int rc = -1, derlen = 0;

    if (d2 == NULL || strchr(d2 + 1, '.') != NULL)
        return -1;
    hdr = unb64url(jws, (size_t)(d1 - jws), &hlen);
    pl = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &plen);
    sig = unb64url(d2 + 1, strlen(d2 + 1), &slen);
    jwks = json_loads(jwks_json, 0, NULL);
    h = hdr ? json_loads((char *)hdr, 0, NULL) : NULL;
    if (pl == NULL || sig == NULL || jwks == NULL || h == NULL)
        goto out;
    kid = json_string_value(json_object_get(h, "kid"));
    alg = json_string_value(json_object_get(h, "alg"));
    if (kid == NULL || alg == NULL)
        goto out;
    keys = json_object_get(jwks, "keys");
    json_array_foreach(keys, i, k) {
        const char *kk = json_string_value(json_object_get(k, "kid"));
        const char *ka = json_string_value(json_object_get(k, "alg"));
        if (kk && ka && strcmp(kk, kid) == 0 && strcmp(ka, alg) == 0)
            pkey = jwk_to_pkey(k);
    }
    if (pkey == NULL)
        goto out;
    if (strcmp(alg, "ES256") == 0) {
        /* JWS carries R||S; OpenSSL wants DER. */
        ECDSA_SIG *es = ECDSA_SIG_new();
        if (slen != 64) {
            ECDSA_SIG_free(es);
            goto out;
        }
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
                       BN_bin2bn(sig + 32, 32, NULL));
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
    } else if (strcmp(alg, "RS256") == 0) {
        der = OPENSSL_malloc(slen);
        memcpy(der, sig, slen);
        derlen = (int)slen;
    } else {
        goto out;
    }
    md = EVP_MD_CTX_new();
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
        EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)jws,
                         (size_t)(d2 - jws)) == 1)
        rc = 0;
out:
    if (rc == 0 && payload != NULL) {
        *payload = (char *)pl;
        pl = NULL;
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    if (der != NULL)
        OPENSSL_free(der);
    json_decref(jwks);
    json_decref(h);
    free(hdr);
    free(pl);
    free(sig);
    return rc;
}

static void
browser_store_cookies(struct browser *b, const struct http_result *res)
{
    const char *p = res->headers;

    while (p != NULL && (p = strcasestr(p, "\nSet-Cookie:")) != NULL) {
        const char *v = p + 12, *end, *eq;
        char name[128], pair[1024];
        while (*v == ' ')
            v++;
        end = v + strcspn(v, ";\r\n");
        eq = memchr(v, '=', (size_t)(end - v));
        p = end;
        if (eq == NULL || (size_t)(eq - v) >= sizeof(name))
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(eq - v), v);
        /* Drop the old value of this cookie, then add the new one unless
         * the server cleared it. */
        {
            char out[2048] = "", *save = NULL, *tok;
            char copy[2048];
            snprintf(copy, sizeof(copy), "%s", b->cookies);
            for (tok = strtok_r(copy, ";", &save); tok != NULL;
                 tok = strtok_r(NULL, ";", &save)) {
                while (*tok == ' ')
                    tok++;
                if (strncmp(tok, name, strlen(name)) == 0 &&
                    tok[strlen(name)] == '=')
                    continue;
                if (*tok == '\0')
                    continue;
                snprintf(out + strlen(out), sizeof(out) - strlen(out),
                         "%s%s", out[0] ? "; " : "", tok);
            }
            snprintf(pair, sizeof(pair), "%.*s", (int)(end - v), v);
            if (eq + 1 < end)
                snprintf(out + strlen(out), sizeof(out) - strlen(out),
                         "%s%s", out[0] ? "; " : "", pair);
            snprintf(b->cookies, sizeof(b->cookies), "%s", out);
        }
    }
}

int
browser_do(struct browser *b, const char *method, const char *url,
           const char *form_body, struct http_result *res)
{
    return browser_do_ua(b, NULL, method, url, form_body, res);
}

int
browser_do_ua(struct browser *b, const char *ua, const char *method,
              const char *url, const char *form_body, struct http_result *res)
{
    char cookie[2100], agent[512];
    const char *hdrs[4];
    int n = 0, rc;

    if (b->cookies[0] != '\0') {
        snprintf(cookie, sizeof(cookie), "Cookie: %s", b->cookies);
        hdrs[n++] = cookie;
    }
    if (form_body != NULL)
        hdrs[n++] = "Content-Type: application/x-www-form-urlencoded";
    if (ua != NULL) {
        snprintf(agent, sizeof(agent), "User-Agent: %s", ua);
        hdrs[n++] = agent;
    }
    hdrs[n] = NULL;
    rc = http_do(method, url, form_body, hdrs, res);
    if (rc == 0)
        browser_store_cookies(b, res);
    return rc;
}

char *
browser_cookie(const struct browser *b, const char *name)
{
    const char *p = b->cookies;
    size_t n = strlen(name);

    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return strndup(p + n + 1, strcspn(p + n + 1, ";"));
        p = strchr(p, ';');
    }
    return NULL;
}

int
browser_has_cookie(const struct browser *b, const char *name)
{
    char *v = browser_cookie(b, name);
    int has = v != NULL;

    free(v);
    return has;
}

char *
html_hidden(const char *html, const char *name)
{
    char needle[160];
    const char *p, *v, *end;
    char *out, *o;

    snprintf(needle, sizeof(needle), "name=\"%s\" value=\"", name);
    if (html == NULL || (p = strstr(html, needle)) == NULL)
        return NULL;
    v = p + strlen(needle);
    if ((end = strchr(v, '"')) == NULL)
        return NULL;
    out = strndup(v, (size_t)(end - v));
    for (o = out; o != NULL && (o = strstr(o, "&amp;")) != NULL; o++)
        memmove(o + 1, o + 5, strlen(o + 5) + 1);
    return out;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *
url_param(const char *url, const char *name)
{
    const char *q = strchr(url, '?'), *p;
    size_t n = strlen(name);

    if (q == NULL)
        return NULL;
    for (p = q + 1; p != NULL && *p != '\0';) {
        const char *end = p + strcspn(p, "&#");
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            char *out = malloc((size_t)(end - p)), *o = out;
            const char *s;
            for (s = p + n + 1; s < end; s++) {
                if (*s == '%' && s + 2 < end + 0 + 1 && hexval(s[1]) >= 0 &&
                    hexval(s[2]) >= 0) {
                    *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
                    s += 2;
                } else {
                    *o++ = *s == '+' ? ' ' : *s;
                }
            }
            *o = '\0';
            return out;
        }
        p = *end == '&' ? end + 1 : NULL;
    }
    return NULL;
}

char *
url_encode(const char *s)
{
    char *out = malloc(strlen(s) * 3 + 1), *o = out;

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~')
            *o++ = (char)c;
        else
            o += sprintf(o, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

#include <microhttpd.h>
#include <pthread.h>

struct bc_req {
    char *body;
    size_t len;
};

static enum MHD_Result
bc_handler(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *data,
           size_t *size, void **ctx)
{
    struct bc_app *a = cls;
    struct bc_req *r = *ctx;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    int status;

    if (r == NULL) {
        *ctx = calloc(1, sizeof(struct bc_req));
        return MHD_YES;
    }
    if (*size > 0) {
        r->body = realloc(r->body, r->len + *size + 1);
        memcpy(r->body + r->len, data, *size);
        r->len += *size;
        r->body[r->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(a->lock);
    if (a->requests < BC_MAX_TOKENS) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        a->request_at[a->requests] = (double)now.tv_sec + now.tv_nsec / 1e9;
    }
    a->requests++;
    status = a->requests <= a->fail_first ? 500 : 200;
    if (status == 200 && r->body != NULL &&
        strncmp(r->body, "logout_token=", 13) == 0 &&
        a->ntokens < BC_MAX_TOKENS) {
        a->tokens[a->ntokens++] = strdup(r->body + 13);
        if (a->first_at == 0)
            a->first_at = test_now();
    }
    pthread_mutex_unlock(a->lock);
    resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void
bc_done(void *cls, struct MHD_Connection *conn, void **ctx,
        enum MHD_RequestTerminationCode toe)
{
    struct bc_req *r = *ctx;

    if (r != NULL) {
        free(r->body);
        free(r);
    }
    *ctx = NULL;
}

int
test_free_port(void)
{
    return free_port();
}

int
bc_start(struct bc_app *a, int fail_first, int hang)
{
    return bc_start_on(a, 0, fail_first, hang);
}

int
bc_start_on(struct bc_app *a, int port, int fail_first, int hang)
{
    memset(a, 0, sizeof(*a));
    a->fail_first = fail_first;
    a->hang = hang;
    a->hang_fd = -1;
    a->lock = malloc(sizeof(pthread_mutex_t));
    if (a->lock == NULL)
        return -1;
    pthread_mutex_init(a->lock, NULL);
    /* Port 0: the kernel picks one as the socket is bound, and we read it
     * back, so no other process can take it in between. */
    if (hang) {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        int one = 1;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->hang_fd = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(a->hang_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(a->hang_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(a->hang_fd, 64) < 0 ||
            getsockname(a->hang_fd, (struct sockaddr *)&sa, &len) < 0)
            return -1;
        a->port = ntohs(sa.sin_port);
    } else {
        const union MHD_DaemonInfo *info;
        a->daemon = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port,
            NULL, NULL, bc_handler, a, MHD_OPTION_NOTIFY_COMPLETED, bc_done, a,
            /* A test may put an answering app where a hanging one was. */
            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
        if (a->daemon == NULL ||
            (info = MHD_get_daemon_info(a->daemon,
                                        MHD_DAEMON_INFO_BIND_PORT)) == NULL)
            return -1;
        a->port = info->port;
    }
    snprintf(a->uri, sizeof(a->uri), "http://127.0.0.1:%d/backchannel-logout",
             a->port);
    return 0;
}

int
bc_count(struct bc_app *a)
{
    int n;

    pthread_mutex_lock(a->lock);
    n = a->ntokens;
    pthread_mutex_unlock(a->lock);
    return n;
}

int
bc_wait(struct bc_app *a, int n, double timeout_s)
{
    return WAIT_UNTIL(bc_count(a) >= n, timeout_s, 20) ? 0 : -1;
}

void
bc_stop(struct bc_app *a)
{
    int i;

    if (a->daemon != NULL)
        MHD_stop_daemon(a->daemon);
    if (a->hang_fd >= 0)
        close(a->hang_fd);
    for (i = 0; i < a->ntokens; i++)
        free(a->tokens[i]);
    if (a->lock != NULL) {
        pthread_mutex_destroy(a->lock);
        free(a->lock);
    }
    memset(a, 0, sizeof(*a));
    a->hang_fd = -1; /* stopping it again closes nothing */
}

#define SUPPORT_FAIL(...)                                                      \
    do {                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

char *
oidc_authorize_url(const struct gh_proc *g, const char *client_id,
                   const char *redirect_uri, const char *extra)
{
    char *url = NULL, *ru = url_encode(redirect_uri);

    if (asprintf(&url,
                 "%s/authorize?response_type=code&client_id=%s&"
                 "redirect_uri=%s&scope=openid%%20profile%%20email&"
                 "state=st8&nonce=n0nce%s",
                 g->issuer, client_id, ru, extra ? extra : "") < 0)
        url = NULL;
    free(ru);
    return url;
}

void
oidc_sign_in(const struct gh_proc *g, struct browser *b,
             const char *login_page, const char *username,
             const char *password, struct http_result *res)
{
    char *csrf = html_hidden(login_page, "csrf");
    char *request = html_hidden(login_page, "request");
    char *body = NULL, *pw = url_encode(password), url[256];

    if (csrf == NULL)
        SUPPORT_FAIL("no csrf field in the sign-in page");
    if (asprintf(&body, "username=%s&password=%s&csrf=%s%s%s", username, pw,
                 csrf, request ? "&request=" : "", request ? request : "") <
        0)
        SUPPORT_FAIL("asprintf");
    snprintf(url, sizeof(url), "%s/login", g->issuer);
    if (browser_do(b, "POST", url, body, res) < 0)
        SUPPORT_FAIL("POST /login failed");
    free(body);
    free(pw);
    free(csrf);
    free(request);
}

char *
oidc_get_code(const struct gh_proc *g, struct browser *b,
              const char *client_id, const char *redirect_uri,
              const char *username, const char *password, const char *extra)
{
    char *url = oidc_authorize_url(g, client_id, redirect_uri, extra);
    char *loc = NULL, *code;
    struct http_result res, res2;

    if (browser_do(b, "GET", url, NULL, &res) < 0)
        SUPPORT_FAIL("GET /authorize failed");
    free(url);
    if (res.status == 302) {
        loc = http_header_value(&res, "Location");
    } else if (res.status == 200) {
        oidc_sign_in(g, b, res.body, username, password, &res2);
        if (res2.status != 303)
            SUPPORT_FAIL("sign-in answered %ld", res2.status);
        loc = http_header_value(&res2, "Location");
        http_result_free(&res2);
    } else {
        SUPPORT_FAIL("/authorize answered %ld", res.status);
    }
    http_result_free(&res);
    if (loc == NULL || strncmp(loc, redirect_uri, strlen(redirect_uri)) != 0)
        SUPPORT_FAIL("redirect to %s, not %s", loc ? loc : "(none)",
                     redirect_uri);
    code = url_param(loc, "code");
    if (code == NULL)
        SUPPORT_FAIL("no code in %s", loc);
    free(loc);
    return code;
}

void
oidc_basic_header(const char *id_secret, char *out, size_t size)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                              "opqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)id_secret;
    size_t n = strlen(id_secret), i, o;

    o = (size_t)snprintf(out, size, "Authorization: Basic ");
    for (i = 0; i < n && o + 5 < size; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

json_t *
oidc_token(const struct gh_proc *g, const char *body, const char *basic,
           long want)
{
    char url[256], auth[512];
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded",
                           NULL, NULL};
    struct http_result res;
    json_t *j;

    if (basic != NULL) {
        oidc_basic_header(basic, auth, sizeof(auth));
        hdrs[1] = auth;
    }
    snprintf(url, sizeof(url), "%s/token", g->issuer);
    if (http_do("POST", url, body, hdrs, &res) < 0)
        SUPPORT_FAIL("POST /token failed");
    if (res.status != want)
        SUPPORT_FAIL("POST /token %s: status %ld, want %ld: %s", body,
                     res.status, want, res.body);
    if ((j = json_loads(res.body, 0, NULL)) == NULL)
        SUPPORT_FAIL("/token answer is not JSON: %s", res.body);
    http_result_free(&res);
    return j;
}

json_t *
oidc_verified_claims(const struct gh_proc *g, const char *jws)
{
    char url[256], *payload = NULL;
    struct http_result res;
    json_t *j;

    snprintf(url, sizeof(url), "%s/jwks", g->issuer);
    if (http_do("GET", url, NULL, NULL, &res) < 0)
        SUPPORT_FAIL("GET /jwks failed");
    if (jwks_verify(res.body, jws, &payload) < 0)
        SUPPORT_FAIL("token does not verify against /jwks");
    http_result_free(&res);
    j = json_loads(payload, 0, NULL);
    free(payload);
    if (j == NULL)
        SUPPORT_FAIL("token payload is not JSON");
    return j;
}

int
oidc_add_user(const struct gh_proc *g, const char *username,
              const char *password)
{
    char *pw = NULL, *err = NULL;
    char *argv[] = {(char *)gh_bin(), "user", "add", "--config",
                    (char *)g->config, "--username", (char *)username,
                    "--password-stdin", NULL};
    int rc;

    if (asprintf(&pw, "%s\n", password) < 0)
        return -1;
    rc = run_cmd(argv, pw, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "user add: %s\n", err ? err : "");
    free(pw);
    free(err);
    return rc == 0 ? 0 : -1;
}
