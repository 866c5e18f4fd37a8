/* SPDX-License-Identifier: MIT */
/* Times an operator types (when.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/when.h"

/* n digits at s as a number, or -1. */
static int
digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm). */
static int
parse_rfc3339(const char *s, int64_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh, om, sign;
    const char *p;
    time_t t;

    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return GH_EINVAL;
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return GH_EINVAL;
    p = s + 19;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++)
            ;
        if (p == s + 20)
            return GH_EINVAL;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        oh = om = 0;
        sign = 1;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        sign = *p == '-' ? -1 : 1;
        oh = digits(p + 1, 2);
        om = digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return GH_EINVAL;
    } else {
        return GH_EINVAL;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec == 60 ? 59 : sec;
    if ((t = timegm(&tm)) == (time_t)-1)
        return GH_EINVAL;
    /* timegm normalises a 31st of a short month: refuse it instead. */
    if (tm.tm_mday != d || tm.tm_mon != mo - 1)
        return GH_EINVAL;
    *out = (int64_t)t - sign * (oh * 3600 + om * 60);
    return 0;
}

int
when_parse(const char *s, int64_t now, int64_t *at)
{
    long long v;
    char *end;

    if (strcmp(s, "now") == 0) {
        *at = now;
        return 0;
    }
    if (s[0] == '+') {
        /* Relative: a count and its unit, nothing more. */
        if (!isdigit((unsigned char)s[1]))
            return GH_EINVAL;
        errno = 0;
        v = strtoll(s + 1, &end, 10);
        if (errno != 0 || v > WHEN_RELATIVE_MAX_S || end[0] == '\0' ||
            end[1] != '\0')
            return GH_EINVAL;
        if (*end == 'm')
            v *= 60;
        else if (*end == 'h')
            v *= 3600;
        else if (*end != 's')
            return GH_EINVAL;
        if (v > WHEN_RELATIVE_MAX_S)
            return GH_EINVAL;
        *at = now + v;
        return 0;
    }
    if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0')
            return GH_EINVAL;
        *at = v;
        return 0;
    }
    return parse_rfc3339(s, at);
}

void
when_format(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (size == 0)
        return;
    buf[0] = '\0';
    if (gmtime_r(&tt, &tm) != NULL)
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
