/* SPDX-License-Identifier: MIT */
/*
 * SPEC §8: a returning user's sign-in while ATTACKERS concurrent attackers
 * from fresh addresses flood /login. Each attacker is a thread with its own
 * source address, 127.0.0.2 upwards (the whole of 127/8 is loopback), that
 * fetches the sign-in form and posts a wrong password for a fresh username,
 * again and again, as fast as the answers come. First the user signs in
 * once from 127.0.0.1 (the browser keeps the device cookie); once the flood
 * turns sign-ins away (503), TRIALS times: a browser that never signed in
 * here tries, then the returning browser signs in and is timed (the form
 * and the POST). Everything is bounded: each request by 15 s, the flood by
 * the trials plus 30 s. Prints one JSON line:
 * {"attackers":A,"trials":T,"returning_ok":N,"returning_p50_ms":..,
 *  "returning_max_ms":..,"fresh_ok":..,"fresh_busy":..,"fresh_other":..,
 *  "flood_attempts":..,"flood_busy":..,"flood_hashed":..,
 *  "flood_locked":..,"flood_other":..,"flood_s":..}
 *
 *   flood_login PORT USER PASSWORD [ATTACKERS] [TRIALS]
 */
#define _GNU_SOURCE /* asprintf */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define ATTACKERS_MAX 250

static int port;
static atomic_int stop;
static atomic_long attempts, busy, hashed, locked, other;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct buf {
    char *p;
    size_t len;
};

static size_t
append(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    char *p = realloc(b->p, b->len + size * n + 1);

    if (p == NULL)
        return 0;
    memcpy(p + b->len, data, size * n);
    b->len += size * n;
    p[b->len] = '\0';
    b->p = p;
    return size * n;
}

/* A browser: a cookie jar (curl's engine) at one source address. */
static CURL *
browser(int last_octet)
{
    CURL *c = curl_easy_init();
    char addr[24];

    if (c == NULL)
        return NULL;
    snprintf(addr, sizeof(addr), "127.0.0.%d", last_octet);
    curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(c, CURLOPT_INTERFACE, addr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    return c;
}

/* GET or (body not NULL) POST path; the status, or -1. */
static long
request(CURL *c, const char *path, const char *body, struct buf *out)
{
    struct curl_slist *hl = NULL;
    char url[128], origin[96];
    long status = -1;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body != NULL) {
        hl = curl_slist_append(hl, origin);
        hl = curl_slist_append(
            hl, "Content-Type: application/x-www-form-urlencoded");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
    return status;
}

/* The form, then the POST: the POST's status, or -1. */
static long
sign_in(CURL *c, const char *user, const char *password)
{
    struct buf form = {NULL, 0}, res = {NULL, 0};
    const char *needle = "name=\"csrf\" value=\"", *v, *end;
    char *u = NULL, *p = NULL, *body = NULL;
    long status = -1;

    if (request(c, "/login", NULL, &form) != 200 || form.p == NULL ||
        (v = strstr(form.p, needle)) == NULL)
        goto out;
    v += strlen(needle);
    if ((end = strchr(v, '"')) == NULL)
        goto out;
    u = curl_easy_escape(c, user, 0);
    p = curl_easy_escape(c, password, 0);
    if (u == NULL || p == NULL ||
        asprintf(&body, "csrf=%.*s&username=%s&password=%s", (int)(end - v),
                 v, u, p) < 0) {
        body = NULL;
        goto out;
    }
    status = request(c, "/login", body, &res);
out:
    curl_free(u);
    curl_free(p);
    free(body);
    free(form.p);
    free(res.p);
    return status;
}

static void *
attacker(void *arg)
{
    int n = (int)(long)arg;
    CURL *c = browser(2 + n);
    char name[64];
    long status, k;

    for (k = 0; c != NULL && !atomic_load(&stop); k++) {
        snprintf(name, sizeof(name), "flood-%d-%ld", n, k);
        status = sign_in(c, name, "password123");
        atomic_fetch_add(&attempts, 1);
        if (status == 503)
            atomic_fetch_add(&busy, 1);
        else if (status == 401)
            atomic_fetch_add(&hashed, 1);
        else if (status == 429)
            atomic_fetch_add(&locked, 1);
        else
            atomic_fetch_add(&other, 1);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    pthread_t th[ATTACKERS_MAX];
    double ms[64], t0, t_flood, deadline;
    int n_att = 100, trials = 10, i, ok = 0, fresh_ok = 0, fresh_busy = 0,
        fresh_other = 0;
    const char *user, *password;
    CURL *home;

    if (argc < 4) {
        fprintf(stderr, "usage: flood_login PORT USER PASSWORD [ATTACKERS] "
                        "[TRIALS]\n");
        return 2;
    }
    port = atoi(argv[1]);
    user = argv[2];
    password = argv[3];
    if (argc > 4)
        n_att = atoi(argv[4]);
    if (argc > 5)
        trials = atoi(argv[5]);
    if (n_att < 1 || n_att > ATTACKERS_MAX || trials < 1 || trials > 64) {
        fprintf(stderr, "flood_login: 1..%d attackers, 1..64 trials\n",
                ATTACKERS_MAX);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((home = browser(1)) == NULL || sign_in(home, user, password) != 200) {
        fprintf(stderr, "flood_login: the first sign-in failed\n");
        return 1;
    }
    t_flood = now();
    for (i = 0; i < n_att; i++)
        if (pthread_create(&th[i], NULL, attacker, (void *)(long)i) != 0)
            return 1;
    deadline = now() + 30;
    while (atomic_load(&busy) < 50 && now() < deadline)
        usleep(50 * 1000);
    for (i = 0; i < trials; i++) {
        CURL *fresh = browser(1);
        long s = fresh != NULL ? sign_in(fresh, user, password) : -1;

        curl_easy_cleanup(fresh);
        fresh_ok += s == 200;
        fresh_busy += s == 503;
        fresh_other += s != 200 && s != 503;
        t0 = now();
        ok += sign_in(home, user, password) == 200;
        ms[i] = (now() - t0) * 1e3;
        usleep(200 * 1000);
    }
    atomic_store(&stop, 1);
    for (i = 0; i < n_att; i++)
        pthread_join(th[i], NULL);
    t_flood = now() - t_flood;
    curl_easy_cleanup(home);
    qsort(ms, (size_t)trials, sizeof(ms[0]), cmp);
    printf("{\"attackers\":%d,\"trials\":%d,\"returning_ok\":%d,"
           "\"returning_p50_ms\":%.1f,\"returning_max_ms\":%.1f,"
           "\"fresh_ok\":%d,\"fresh_busy\":%d,\"fresh_other\":%d,"
           "\"flood_attempts\":%ld,\"flood_busy\":%ld,\"flood_hashed\":%ld,"
           "\"flood_locked\":%ld,\"flood_other\":%ld,\"flood_s\":%.1f}\n",
           n_att, trials, ok, ms[trials / 2], ms[trials - 1], fresh_ok,
           fresh_busy, fresh_other, atomic_load(&attempts),
           atomic_load(&busy), atomic_load(&hashed), atomic_load(&locked),
           atomic_load(&other), t_flood);
    curl_global_cleanup();
    return 0;
}
