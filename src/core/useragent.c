/* SPDX-License-Identifier: MIT */
/* User-Agent families: the few substrings that tell browsers and systems
 * apart, in the order that disambiguates them (every Chromium browser also
 * says "Chrome/" and "Safari/", iOS says "like Mac OS X", Android says
 * "Linux"). */
#include <stdio.h>
#include <string.h>

#include "gatehouse/core/useragent.h"
#include "gatehouse/core/util.h"

struct marker {
    const char *needle;
    const char *name;
};

static const struct marker browsers[] = {
    {"Edg/", "Edge"},        {"EdgA/", "Edge"},      {"EdgiOS/", "Edge"},
    {"OPR/", "Opera"},       {"Opera", "Opera"},     {"SamsungBrowser/", "Samsung"},
    {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},  {"CriOS/", "Chrome"},
    {"Chrome/", "Chrome"},   {"Chromium/", "Chrome"}, {"Safari/", "Safari"},
};

static const struct marker systems[] = {
    {"Windows", "Windows"}, {"iPhone", "iOS"},    {"iPad", "iOS"},
    {"iPod", "iOS"},        {"Android", "Android"}, {"CrOS", "ChromeOS"},
    {"Macintosh", "macOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
};

static const char *
find(const struct marker *m, size_t n, const char *ua)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strstr(ua, m[i].needle) != NULL)
            return m[i].name;
    return NULL;
}

static int
is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

void
useragent_family(const char *ua, char out[USERAGENT_FAMILY_MAX])
{
    const char *browser, *os;
    size_t len;

    if (ua == NULL || *ua == '\0') {
        snprintf(out, USERAGENT_FAMILY_MAX, "none/other");
        return;
    }
    os = find(systems, NELEM(systems), ua);
    if (os == NULL)
        os = "other";
    browser = find(browsers, NELEM(browsers), ua);
    if (browser != NULL) {
        snprintf(out, USERAGENT_FAMILY_MAX, "%s/%s", browser, os);
        return;
    }
    /* The product token without its version: "curl/8.5" is curl. Only
     * token characters (RFC 9110 §5.6.2) are kept: the family is stored
     * and shown, and a header is anyone's bytes. */
    for (len = 0; len < 24 && is_tchar(ua[len]); len++)
        ;
    if (len == 0)
        snprintf(out, USERAGENT_FAMILY_MAX, "unknown/%s", os);
    else
        snprintf(out, USERAGENT_FAMILY_MAX, "%.*s/%s", (int)len, ua, os);
}
