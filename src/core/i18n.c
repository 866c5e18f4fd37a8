/* SPDX-License-Identifier: MIT */
/* Page language: negotiation and lookup (see i18n.h). */
#include <libintl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gatehouse/core/i18n.h"

/* meson.build sets both; these are for a build that does not (fuzz). */
#ifndef GATEHOUSE_LOCALEDIR_INSTALLED
#define GATEHOUSE_LOCALEDIR_INSTALLED "/usr/local/share/locale"
#endif
#ifndef GATEHOUSE_LOCALEDIR_BUILD
#define GATEHOUSE_LOCALEDIR_BUILD ""
#endif

#define DOMAIN "gatehouse"

static const char header_msgid[] = "";

static const char *const tags[LANG_COUNT] = {
    [LANG_EN] = "en",
    [LANG_ZH_CN] = "zh-CN",
};

/* The locale each language is looked up under; (locale_t)0: served in
 * English. LANG_EN never looks anything up. Set once by i18n_init. */
static locale_t locales[LANG_COUNT];

/* dir holds a catalog of ours (how meson's i18n.gettext lays the build
 * tree out, and how it installs: DIR/zh_CN/LC_MESSAGES/gatehouse.mo). */
static int
has_catalog(const char *dir)
{
    char path[4096];
    struct stat st;

    if (dir == NULL || dir[0] == '\0')
        return 0;
    snprintf(path, sizeof(path), "%s/zh_CN/LC_MESSAGES/" DOMAIN ".mo", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *
i18n_init(const char *localedir)
{
    const char *dir = localedir, *header;
    locale_t zh, old;

    /* glibc reads LANGUAGE on every lookup in a locale other than C, and
     * it would win over the locale each request looks up under. */
    unsetenv("LANGUAGE");
    if (dir == NULL)
        dir = getenv("GATEHOUSE_LOCALEDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = has_catalog(GATEHOUSE_LOCALEDIR_BUILD)
                  ? GATEHOUSE_LOCALEDIR_BUILD
                  : GATEHOUSE_LOCALEDIR_INSTALLED;
    if (locales[LANG_ZH_CN] != (locale_t)0) {
        freelocale(locales[LANG_ZH_CN]);
        locales[LANG_ZH_CN] = (locale_t)0;
    }
    if (bindtextdomain(DOMAIN, dir) == NULL ||
        bind_textdomain_codeset(DOMAIN, "UTF-8") == NULL)
        return "gettext could not be set up: pages are served in English";
    zh = newlocale(LC_MESSAGES_MASK, "zh_CN.UTF-8", (locale_t)0);
    if (zh == (locale_t)0)
        return "the zh_CN.UTF-8 locale is not installed (localedef -i "
               "zh_CN -f UTF-8 zh_CN.UTF-8): pages are served in English";
    /* A catalog that loaded answers "" with its header (a variable, so
     * that xgettext does not take it for a msgid). */
    old = uselocale(zh);
    header = dgettext(DOMAIN, header_msgid);
    uselocale(old);
    if (header == NULL || header[0] == '\0') {
        freelocale(zh);
        return "no Chinese catalog (zh_CN/LC_MESSAGES/gatehouse.mo) in the "
               "locale directory (GATEHOUSE_LOCALEDIR): pages are served "
               "in English";
    }
    locales[LANG_ZH_CN] = zh;
    return NULL;
}

/* 1*8ALPHA *("-" 1*8alphanum) (RFC 9110 §12.5.4, RFC 4647 §2.1). */
static int
well_formed(const char *s, size_t n)
{
    size_t i, run = 0, first = 1;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '-') {
            if (run == 0)
                return 0;
            run = 0;
            first = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (!first && c >= '0' && c <= '9')))
            return 0;
        if (++run > 8)
            return 0;
    }
    return run > 0;
}

/* The language a tag names: its primary subtag decides ("zh-Hans-CN",
 * "zh-TW" and "zh" read as zh-CN, the one Chinese we have). -1: none. */
static int
from_tag(const char *s, size_t n)
{
    if (!well_formed(s, n))
        return -1;
    if (n >= 2 && strncasecmp(s, "en", 2) == 0 && (n == 2 || s[2] == '-'))
        return LANG_EN;
    if (n >= 2 && strncasecmp(s, "zh", 2) == 0 && (n == 2 || s[2] == '-'))
        return LANG_ZH_CN;
    return -1;
}

int
i18n_parse(const char *tag)
{
    return tag != NULL ? from_tag(tag, strlen(tag)) : -1;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths; -1 if malformed. */
static int
qvalue(const char *s, size_t n)
{
    int q, scale = 100;
    size_t i;

    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    for (i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

static int
ows(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * One element of the list, s[0..n): its range into *range and *rlen, its
 * weight (1000 when none). -1 if malformed: such an element is skipped,
 * as if absent, and the others still count.
 */
static int
element(const char *s, size_t n, const char **range, size_t *rlen, int *q)
{
    size_t i = 0, j;

    while (i < n && ows(s[i]))
        i++;
    while (n > i && ows(s[n - 1]))
        n--;
    for (j = i; j < n && s[j] != ';' && !ows(s[j]); j++)
        ;
    *range = s + i;
    *rlen = j - i;
    *q = 1000;
    if (*rlen == 0 ||
        !((*rlen == 1 && s[i] == '*') || well_formed(s + i, *rlen)))
        return -1;
    while (j < n && ows(s[j]))
        j++;
    if (j == n)
        return 0;
    /* weight = OWS ";" OWS "q=" qvalue, and nothing after it */
    if (s[j] != ';')
        return -1;
    j++;
    while (j < n && ows(s[j]))
        j++;
    if (n - j < 2 || (s[j] != 'q' && s[j] != 'Q') || s[j + 1] != '=')
        return -1;
    return (*q = qvalue(s + j + 2, n - j - 2)) < 0 ? -1 : 0;
}

/* Calls fn for each well-formed element of the header, in order. */
static void
each_range(const char *h, void (*fn)(void *, const char *, size_t, int),
           void *arg)
{
    const char *range;
    size_t n, rlen;
    int q;

    for (;;) {
        n = strcspn(h, ",");
        if (element(h, n, &range, &rlen, &q) == 0)
            fn(arg, range, rlen, q);
        if (h[n] == '\0')
            break;
        h += n + 1;
    }
}

struct pick {
    int named[LANG_COUNT]; /* named by a range of its own, any q */
    int best, best_q;
};

static void
mark_named(void *arg, const char *range, size_t n, int q)
{
    struct pick *p = arg;
    int l = from_tag(range, n);

    (void)q;
    if (l >= 0)
        p->named[l] = 1;
}

static void
weigh(void *arg, const char *range, size_t n, int q)
{
    struct pick *p = arg;
    int l = -1, i;

    if (n == 1 && range[0] == '*') {
        /* "*": any language not named otherwise, ours in table order */
        for (i = 0; i < LANG_COUNT && l < 0; i++)
            if (!p->named[i])
                l = i;
    } else {
        l = from_tag(range, n);
    }
    /* q=0 is "not acceptable"; a tie keeps the one named first. */
    if (l >= 0 && q > 0 && q > p->best_q) {
        p->best = l;
        p->best_q = q;
    }
}

enum lang
i18n_negotiate(const char *lang_param, const char *accept_language)
{
    struct pick p;
    int l;

    if ((l = i18n_parse(lang_param)) >= 0)
        return (enum lang)l;
    if (accept_language == NULL)
        return LANG_EN;
    memset(&p, 0, sizeof(p));
    p.best = LANG_EN;
    each_range(accept_language, mark_named, &p);
    each_range(accept_language, weigh, &p);
    return (enum lang)p.best;
}

enum lang
i18n_served(enum lang l)
{
    return (unsigned)l < LANG_COUNT &&
                   (l == LANG_EN || locales[l] != (locale_t)0)
               ? l
               : LANG_EN;
}

const char *
i18n_tag(enum lang l)
{
    return (unsigned)l < LANG_COUNT ? tags[l] : tags[LANG_EN];
}

const char *
tr(enum lang l, const char *msgid)
{
    locale_t old;
    const char *s;

    /* "" would answer with the catalog's header */
    if (msgid == NULL || msgid[0] == '\0' || (unsigned)l >= LANG_COUNT ||
        l == LANG_EN || locales[l] == (locale_t)0)
        return msgid;
    /* This thread's locale for this one lookup: the language is the
     * request's, whichever thread serves it. */
    old = uselocale(locales[l]);
    s = dgettext(DOMAIN, msgid);
    uselocale(old);
    return s != NULL ? s : msgid;
}
