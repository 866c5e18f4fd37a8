/* SPDX-License-Identifier: MIT */
/* Page language: negotiation and lookup (see i18n.h). */
#include <string.h>
#include <strings.h>

#include "gatehouse/core/i18n.h"

static const char *const tags[LANG_COUNT] = {
    [LANG_EN] = "en",
    [LANG_ZH_CN] = "zh-CN",
};

void
i18n_init(const char *localedir)
{
    (void)localedir;
}

/* The language a tag names: its primary subtag decides ("zh-Hans-CN",
 * "zh-TW" and "zh" read as zh-CN, the one Chinese we have). -1: none. */
static int
from_tag(const char *s, size_t n)
{
    if (n >= 2 && strncasecmp(s, "en", 2) == 0 && (n == 2 || s[2] == '-'))
        return LANG_EN;
    if (n >= 2 && strncasecmp(s, "zh", 2) == 0 && (n == 2 || s[2] == '-'))
        return LANG_ZH_CN;
    return -1;
}

enum lang
i18n_negotiate(const char *lang_param, const char *accept_language)
{
    int l;

    if (lang_param != NULL &&
        (l = from_tag(lang_param, strlen(lang_param))) >= 0)
        return (enum lang)l;
    /* Placeholder until q-values are read: the first range we speak. */
    if (accept_language != NULL) {
        const char *p = accept_language;

        while (*p != '\0') {
            size_t n = strcspn(p, ",;");

            while (*p == ' ')
                p++, n = n > 0 ? n - 1 : 0;
            if ((l = from_tag(p, n)) >= 0)
                return (enum lang)l;
            p += strcspn(p, ",");
            if (*p == ',')
                p++;
        }
    }
    return LANG_EN;
}

const char *
i18n_tag(enum lang l)
{
    return (unsigned)l < LANG_COUNT ? tags[l] : tags[LANG_EN];
}

const char *
tr(enum lang l, const char *msgid)
{
    (void)l;
    return msgid;
}
