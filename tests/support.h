/* SPDX-License-Identifier: MIT */
/* Real processes for integration tests: a private redis-server on a unix
 * socket, a gatehouse on a free loopback port, and HTTP through libcurl.
 * Everything started is stopped by pid, also when a test fails (atexit). */
#ifndef GATEHOUSE_TEST_SUPPORT_H
#define GATEHOUSE_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

struct redis_proc {
    pid_t pid;
    char dir[256];    /* temp dir holding the socket and any AOF */
    char socket[300]; /* unix socket path */
    char url[320];    /* unix:///.../redis.sock */
};

/* Starts redis-server in a new temp dir (appendonly if aof) and waits until
 * it answers. Returns 0, or -1 with a message on stderr. */
int redis_start(struct redis_proc *r, int aof);
/* Restarts a stopped redis in the same dir (keeps its AOF). */
int redis_restart(struct redis_proc *r, int aof);
/* Stops it (SIGTERM, then waits); removes the dir unless keep_dir. */
void redis_stop(struct redis_proc *r, int keep_dir);

struct gh_proc {
    pid_t pid;
    int port;
    char dir[256];    /* temp dir: config.json, keys/ */
    char config[300]; /* path of config.json */
    char issuer[64];  /* http://127.0.0.1:PORT */
};

/*
 * Writes a config into a new temp dir (issuer and listen on a free port,
 * redis at redis_url, keys generated with alg), merging extra_json (a JSON
 * object text, or NULL) over the defaults, then starts "gatehouse serve"
 * and waits until /healthz answers. GATEHOUSE_BIN names the binary.
 */
int gh_start(struct gh_proc *g, const char *redis_url, const char *alg,
             const char *extra_json);
/* Writes the config and keys but starts nothing (for check-config). */
int gh_prepare(struct gh_proc *g, const char *redis_url, const char *alg,
               const char *extra_json);
/* Starts a prepared gatehouse and waits until it is healthy. */
int gh_launch(struct gh_proc *g);
/* Sends sig, waits up to timeout_s, returns the exit status (or -1). */
int gh_signal_wait(struct gh_proc *g, int sig, double timeout_s);
void gh_stop(struct gh_proc *g);

/* Runs argv (argv[0] a path) with stdin_text fed on standard input; returns
 * the exit status and captures stdout/stderr (malloc'd, may be NULL). */
int run_cmd(char *const argv[], const char *stdin_text, char **out,
            char **err);

struct http_result {
    long status;
    char *body;
    size_t body_len;
    char *headers; /* raw response headers, all of them */
};

/*
 * One HTTP request with libcurl. method "GET"/"POST"/...; body may be NULL;
 * headers is a NULL-terminated list of "Name: value" (may be NULL).
 * Redirects are not followed. Returns 0 or -1 on transport failure.
 */
int http_do(const char *method, const char *url, const char *body,
            const char *const *headers, struct http_result *res);
/* The value of a response header (malloc'd), or NULL. */
char *http_header_value(const struct http_result *res, const char *name);
void http_result_free(struct http_result *res);

/* Seconds since an arbitrary point, monotonic. */
double test_now(void);

#endif

/*
 * Verifies a compact JWS against a JWKS document using OpenSSL directly
 * (not keys.c): finds the key by kid, checks alg (RS256/ES256) and the
 * signature. Returns 0 if valid; on success *payload (if not NULL) is the
 * decoded payload text, malloc'd.
 */
int jwks_verify(const char *jwks_json, const char *jws, char **payload);

/* Connects a TCP socket to 127.0.0.1:port; returns the fd or -1. */
int tcp_connect(int port);
