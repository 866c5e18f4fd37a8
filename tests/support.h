/* SPDX-License-Identifier: MIT */
/* Real processes for integration tests: a private redis-server on a unix
 * socket, a gatehouse on a free loopback port, and HTTP through libcurl.
 * Everything started is stopped by pid, also when a test fails (atexit). */
#ifndef GATEHOUSE_TEST_SUPPORT_H
#define GATEHOUSE_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

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
 * redis at redis_url, keys generated with alg: one alg, or a list such as
 * "ES256,RS256" for a key of each with the first as signing_alg), merging
 * extra_json (a JSON
 * object text, or NULL) over the defaults, then starts "gatehouse serve"
 * and waits until /healthz answers. GATEHOUSE_BIN names the binary.
 * redis_url NULL writes no redis.url: extra_json then names the store
 * ({"redis": {"sentinel": ...}}).
 */
int gh_start(struct gh_proc *g, const char *redis_url, const char *alg,
             const char *extra_json);
/* Writes the config and keys but starts nothing (for check-config). */
int gh_prepare(struct gh_proc *g, const char *redis_url, const char *alg,
               const char *extra_json);
/* Starts a prepared gatehouse and waits until it is healthy. */
int gh_launch(struct gh_proc *g);
/* Whether GATEHOUSE_WRAPPER runs the server under valgrind or the like. */
int wrapped(void);
/* Sends sig, waits up to timeout_s, returns the exit status (or -1). */
int gh_signal_wait(struct gh_proc *g, int sig, double timeout_s);
void gh_stop(struct gh_proc *g);
/* Everything the server logged so far (malloc'd; "" if nothing). */
char *gh_log(const struct gh_proc *g);
/* Whether the server's log comes to contain needle within timeout_s: a
 * line is written after the event it tells of, so a test that saw the
 * event waits for its line. */
int gh_log_wait(const struct gh_proc *g, const char *needle, double timeout_s);

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

/* Starts argv (argv[0] looked up in PATH) with stdout and stderr appended
 * to logpath; it is killed at exit like every process started here.
 * Returns its pid or -1. */
pid_t test_spawn(char *const argv[], const char *logpath);
/* Sends sig to a process test_spawn started and reaps it (SIGKILL after
 * 10 s). */
void test_stop_pid(pid_t pid, int sig);

/* Seconds since an arbitrary point, monotonic. */
double test_now(void);

/* Sleeps ms milliseconds: only where the wait is itself the test (a TTL or
 * window to run out, a time in which nothing more may happen, load to run
 * through an outage). Anything observable is waited for with WAIT_UNTIL. */
void test_sleep_ms(int ms);

/*
 * Waits on a condition: evaluates cond (an expression) every every_ms
 * until it holds or timeout_s has passed, and is 1 if it held, else 0.
 * The interval is the caller's, as some conditions cost a process or a
 * round trip to look at.
 */
#define WAIT_UNTIL(cond, timeout_s, every_ms)                                  \
    ({                                                                         \
        double wait_deadline_ = test_now() + (timeout_s);                      \
        int wait_ok_;                                                          \
        while (!(wait_ok_ = !!(cond)) && test_now() < wait_deadline_)          \
            test_sleep_ms(every_ms);                                           \
        wait_ok_;                                                              \
    })

/*
 * Verifies a compact JWS against a JWKS document using OpenSSL directly
 * (not keys.c): finds the key by kid, checks alg (RS256/ES256) and the
 * signature. Returns 0 if valid; on success *payload (if not NULL) is the
 * decoded payload text, malloc'd.
 */
int jwks_verify(const char *jwks_json, const char *jws, char **payload);

/* Connects a TCP socket to 127.0.0.1:port; returns the fd or -1. */
int tcp_connect(int port);

/*
 * A browser in miniature: remembers the cookies a server sets (name=value
 * only) and sends them back. Enough for the sign-in flows.
 */
struct browser {
    char cookies[2048]; /* "a=1; b=2" */
};
int browser_do(struct browser *b, const char *method, const char *url,
               const char *form_body, struct http_result *res);
/* The same with a User-Agent header (ua NULL: none, as browser_do). */
int browser_do_ua(struct browser *b, const char *ua, const char *method,
                  const char *url, const char *form_body,
                  struct http_result *res);
/* The value of a cookie the browser holds (malloc'd), or NULL. */
char *browser_cookie(const struct browser *b, const char *name);
/* Whether b holds a cookie name. */
int browser_has_cookie(const struct browser *b, const char *name);

/* The value of <input type="hidden" name="NAME" value="..."> (malloc'd,
 * HTML entities for & only undone), or NULL. */
char *html_hidden(const char *html, const char *name);
/* The decoded value of query parameter name in url (malloc'd), or NULL. */
char *url_param(const char *url, const char *name);
/* Percent-encodes s (malloc'd). */
char *url_encode(const char *s);

/*
 * A relying app's back-channel endpoint, for real: an HTTP server on a
 * free loopback port that records every logout_token POSTed to it. It
 * answers 500 to the first fail_first requests, then 200. hang = 1 makes a
 * socket that accepts connections (the kernel does) and never answers.
 */
#define BC_MAX_TOKENS 64
struct bc_app {
    int port;
    char uri[96]; /* http://127.0.0.1:PORT/backchannel-logout */
    int fail_first;
    int hang;
    int hang_fd;
    void *daemon;
    void *lock;
    int requests;
    int ntokens;
    char *tokens[BC_MAX_TOKENS];
    double first_at; /* test_now() of the first token, 0 if none */
    /* Wall-clock time (CLOCK_REALTIME, seconds) of each request as it was
     * answered, 200 or 500, the first BC_MAX_TOKENS of them. */
    double request_at[BC_MAX_TOKENS];
};
int bc_start(struct bc_app *a, int fail_first, int hang);
/* The same on a given port (0: one the kernel picks, read back). */
int bc_start_on(struct bc_app *a, int port, int fail_first, int hang);
/* A free loopback port (nothing listens there now), for a server that
 * cannot bind port 0 and say which it got: gatehouse (its issuer names the
 * port), redis-server over TCP, the demo app, an app that is not up yet.
 * The one place such a port is chosen. */
int test_free_port(void);
/* Tokens received so far (thread-safe snapshot count). */
int bc_count(struct bc_app *a);
/* Waits until at least n tokens arrived or timeout_s passed. */
int bc_wait(struct bc_app *a, int n, double timeout_s);
void bc_stop(struct bc_app *a);

/* The OIDC steps an app and a browser take, for tests and the harness. */

/* The /authorize URL for client_id with scope "openid profile email",
 * state st8 and nonce n0nce, plus extra ("&k=v..."); malloc'd. */
char *oidc_authorize_url(const struct gh_proc *g, const char *client_id,
                         const char *redirect_uri, const char *extra);
/* Submits the sign-in form found in login_page. */
void oidc_sign_in(const struct gh_proc *g, struct browser *b,
                  const char *login_page, const char *username,
                  const char *password, struct http_result *res);
/* /authorize, then the form if one is shown; returns the code (malloc'd)
 * or NULL, failing the test on anything unexpected. */
char *oidc_get_code(const struct gh_proc *g, struct browser *b,
                    const char *client_id, const char *redirect_uri,
                    const char *username, const char *password,
                    const char *extra);
/* POST /token with body; basic "id:secret" or NULL. Fails the test unless
 * the status is want. Returns the JSON answer (new reference). */
json_t *oidc_token(const struct gh_proc *g, const char *body,
                   const char *basic, long want);
/* "Authorization: Basic ..." for "id:secret" into out. */
void oidc_basic_header(const char *id_secret, char *out, size_t size);
/* Verifies jws against the server's /jwks (OpenSSL, not keys.c); returns
 * its claims (new reference), failing the test if invalid. */
json_t *oidc_verified_claims(const struct gh_proc *g, const char *jws);
/* Adds a user through the CLI; returns 0. */
int oidc_add_user(const struct gh_proc *g, const char *username,
                  const char *password);

#endif
