/* SPDX-License-Identifier: MIT */
/* Logging: one line per event on stderr, key=value or JSON. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/util.h"

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_init(enum log_level level, enum log_format fmt)
{
    min_level = level;
    format = fmt;
}

int
log_parse_level(const char *s, enum log_level *ret)
{
    size_t i;

    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *ret = (enum log_level)i;
            return 0;
        }
    }
    return GH_EINVAL;
}

int
log_parse_format(const char *s, enum log_format *ret)
{
    if (strcmp(s, "text") == 0)
        *ret = LOG_FORMAT_TEXT;
    else if (strcmp(s, "json") == 0)
        *ret = LOG_FORMAT_JSON;
    else
        return GH_EINVAL;
    return 0;
}

static void
timestamp(char *buf, size_t len)
{
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
}

/*
 * Turns "event k=v k2=\"a b\"" into a JSON object. Values stay strings:
 * the text format is the source of truth, JSON only reshapes it.
 */
static char *
to_json(const char *ts, const char *level, const char *msg)
{
    json_t *o = json_object();
    const char *p = msg, *sp;
    char *out;

    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "level", json_string(level));
    sp = strchr(p, ' ');
    json_object_set_new(o, "event",
                        json_stringn(p, sp ? (size_t)(sp - p) : strlen(p)));
    p = sp;
    while (p != NULL && *p != '\0') {
        const char *k, *eq, *v, *end;
        char *key, *val;

        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        k = p;
        eq = strchr(k, '=');
        sp = strchr(k, ' ');
        if (eq == NULL || (sp != NULL && sp < eq)) {
            /* A bare word: keep it under "msg" rather than lose it. */
            end = sp ? sp : k + strlen(k);
            json_object_set_new(o, "msg", json_stringn(k, (size_t)(end - k)));
            p = end;
            continue;
        }
        v = eq + 1;
        if (*v == '"') {
            v++;
            end = v;
            while (*end != '\0' && !(*end == '"' && end[-1] != '\\'))
                end++;
            val = strndup(v, (size_t)(end - v));
            p = *end ? end + 1 : end;
        } else {
            end = strchr(v, ' ');
            if (end == NULL)
                end = v + strlen(v);
            val = strndup(v, (size_t)(end - v));
            p = end;
        }
        key = strndup(k, (size_t)(eq - k));
        if (key != NULL && val != NULL)
            json_object_set_new(o, key, json_string(val));
        free(key);
        free(val);
    }
    out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

int
log_enabled(enum log_level level)
{
    return level >= min_level;
}

static void
vlog(enum log_level level, const char *errtext, const char *fmt, va_list ap)
{
    char ts[64], msg[2048];
    int n;

    if (level < min_level)
        return;
    timestamp(ts, sizeof(ts));
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (errtext != NULL && n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, " error=\"%s\"", errtext);
    /* Replace line breaks so one event is always one line. */
    for (char *c = msg; *c != '\0'; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    if (format == LOG_FORMAT_JSON) {
        char *j = to_json(ts, level_names[level], msg);
        if (j != NULL) {
            fprintf(stderr, "%s\n", j);
            free(j);
            return;
        }
    }
    fprintf(stderr, "ts=%s level=%s event=%s\n", ts, level_names[level], msg);
}

#define DEFINE_LOG(fn, level, with_errno)                                      \
    void fn(const char *fmt, ...)                                              \
    {                                                                          \
        char eb[128];                                                          \
        const char *et = NULL;                                                 \
        va_list ap;                                                            \
        if (with_errno)                                                        \
            et = strerror_r(errno, eb, sizeof(eb));                            \
        va_start(ap, fmt);                                                     \
        vlog(level, et, fmt, ap);                                              \
        va_end(ap);                                                            \
    }

DEFINE_LOG(log_debug, LOG_DEBUG, 0)
DEFINE_LOG(log_info, LOG_INFO, 0)
DEFINE_LOG(log_warn, LOG_WARN, 1)
DEFINE_LOG(log_warnx, LOG_WARN, 0)
DEFINE_LOG(log_error, LOG_ERROR, 0)

void
fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_ERROR, NULL, fmt, ap);
    va_end(ap);
    exit(1);
}

void
log_fingerprint(const char *secret, char out[13])
{
    char hex[65];

    util_sha256_hex(secret, strlen(secret), hex);
    memcpy(out, hex, 12);
    out[12] = '\0';
}
