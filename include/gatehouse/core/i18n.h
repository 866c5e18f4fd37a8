/* SPDX-License-Identifier: MIT */
/*
 * The language a page speaks (SPEC §4: English and Simplified Chinese,
 * chosen by Accept-Language, a `lang` query parameter overriding it).
 * Every user-facing string is an English msgid passed through tr(); the
 * translations are gettext catalogs (po/, text domain "gatehouse"). A
 * language is a value handed down with the request, never process or
 * thread state, because a suspended request may finish on another thread:
 * tr() looks a msgid up under a locale of its own for that one call.
 */
#ifndef GATEHOUSE_I18N_H
#define GATEHOUSE_I18N_H

enum lang {
    LANG_EN,    /* the msgids themselves */
    LANG_ZH_CN,
    LANG_COUNT
};

/* Marks a literal for xgettext where it is not passed to tr() at once,
 * e.g. the title and message of http_error_page, which translates them
 * (po/meson.build: the keywords are tr:2 and N_). */
#define N_(s) s

/*
 * Loads the catalogs, once, before any thread is started. localedir NULL:
 * $GATEHOUSE_LOCALEDIR if set, else the build tree's po/ when this binary
 * was built there and it still exists (tests, deploy/quickstart), else the
 * installed localedir. Also unsets LANGUAGE, which glibc's gettext would
 * otherwise let override the language each request asked for.
 * Returns NULL when every language can be served, else why one cannot (a
 * static English sentence for a warning); that one is served in English.
 */
const char *i18n_init(const char *localedir);

/* The language a tag ("en", "zh-CN", "zh", "zh-Hans-CN") names, or -1 if
 * none we speak or not a well-formed tag. */
int i18n_parse(const char *tag);

/* The language for a request: lang_param when it names one we speak, else
 * the best of Accept-Language (RFC 9110 §12.5.4: the highest q wins, q=0
 * never, ties go to the first named, "*" any we speak not named), else
 * English. Either may be NULL. */
enum lang i18n_negotiate(const char *lang_param, const char *accept_language);

/* l if it can be served (its catalog loaded: i18n_init), else English, the
 * language a page asked for in l is then written in. */
enum lang i18n_served(enum lang l);

/* The BCP 47 tag for <html lang>: "en", "zh-CN". */
const char *i18n_tag(enum lang l);

/* msgid in language l (static, never NULL); msgid itself when there is no
 * translation. */
const char *tr(enum lang l, const char *msgid);

#endif
