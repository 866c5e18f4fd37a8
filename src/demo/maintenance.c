/* SPDX-License-Identifier: MIT */
/* The maintenance banner (see maintenance.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fetch.h"
#include "maintenance.h"
#include "web.h"

#define MAX_BODY (16 * 1024)
#define TIMEOUT_MS 1500

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *url;               /* issuer/maintenance */
static struct maintenance last; /* the answer, MAINTENANCE_NONE if none */
static struct timespec asked;   /* when */
static int have;                /* asked at least once */

/* "2026-12-07T14:00:00Z" or seconds since the epoch, as
 * "2026-12-07 14:00 UTC"; anything else as it came. */
static void
format_at(const json_t *at, char *out, size_t size)
{
    const char *s = json_string_value(at);
    struct tm tm;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (json_is_integer(at) && json_integer_value(at) > 0) {
        t = (time_t)json_integer_value(at);
        gmtime_r(&t, &tm);
    } else if (s == NULL || *s == '\0') {
        out[0] = '\0';
        return;
    } else {
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

        if (end == NULL || strcmp(end, "Z") != 0) {
            snprintf(out, size, "%s", s);
            return;
        }
    }
    strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm);
}

int
maintenance_parse(const char *json, size_t len, struct maintenance *out)
{
    json_t *o = json_loadb(json, len, 0, NULL);
    const char *state = json_string_value(json_object_get(o, "state"));
    const json_t *msg = json_object_get(o, "message");
    struct maintenance m;
    int rc = -1;

    memset(&m, 0, sizeof(m));
    if (!json_is_object(o) || state == NULL)
        goto out;
    if (strcmp(state, "none") == 0)
        m.state = MAINTENANCE_NONE;
    else if (strcmp(state, "announced") == 0)
        m.state = MAINTENANCE_ANNOUNCED;
    else if (strcmp(state, "active") == 0)
        m.state = MAINTENANCE_ACTIVE;
    else
        goto out;
    if (msg != NULL && !json_is_null(msg) && !json_is_string(msg))
        goto out;
    snprintf(m.message, sizeof(m.message), "%s",
             msg != NULL && json_is_string(msg) ? json_string_value(msg) : "");
    format_at(json_object_get(o, "at"), m.at, sizeof(m.at));
    *out = m;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

char *
maintenance_banner_html(const struct maintenance *m)
{
    char *msg = NULL, *at = NULL, *html = NULL;
    const char *lead;

    if (m->state == MAINTENANCE_NONE)
        return NULL;
    if ((msg = web_escape(m->message)) == NULL ||
        (at = web_escape(m->at)) == NULL)
        goto out;
    if (m->state == MAINTENANCE_ANNOUNCED)
        lead = *m->at != '\0' ? "Maintenance at " : "Maintenance soon";
    else
        lead = *m->at != '\0' ? "Maintenance under way since "
                              : "Maintenance under way";
    if (asprintf(&html,
                 "<div id=\"maintenance\" class=\"banner\" role=\"status\">"
                 "<strong>Save your work.</strong> %s%s%s%s</div>\n",
                 lead, at, *msg != '\0' ? ": " : ".", msg) < 0)
        html = NULL;
out:
    free(msg);
    free(at);
    return html;
}

void
maintenance_init(const char *issuer)
{
    if (asprintf(&url, "%s/maintenance", issuer) < 0)
        url = NULL;
}

void
maintenance_cleanup(void)
{
    free(url);
    url = NULL;
}

/* GET url: what it says, or "none" for a 404, an error or no answer (an
 * older Gatehouse, or one that is down: the app shows no banner). */
static struct maintenance
ask(void)
{
    struct maintenance m = {.state = MAINTENANCE_NONE};
    char *body = NULL;

    if (url != NULL &&
        fetch(url, NULL, NULL, NULL, MAX_BODY, TIMEOUT_MS, &body) == 200 &&
        body != NULL)
        (void)maintenance_parse(body, strlen(body), &m); /* not one: none */
    free(body);
    return m;
}

char *
maintenance_banner(void)
{
    struct maintenance m;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    /* One question at a time: pages rendered meanwhile wait for its
     * answer rather than each asking again. */
    pthread_mutex_lock(&lock);
    if (!have || now.tv_sec - asked.tv_sec >= MAINTENANCE_CACHE_S) {
        last = ask();
        clock_gettime(CLOCK_MONOTONIC, &asked);
        have = 1;
    }
    m = last;
    pthread_mutex_unlock(&lock);
    return maintenance_banner_html(&m);
}
