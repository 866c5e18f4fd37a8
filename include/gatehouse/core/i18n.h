/* SPDX-License-Identifier: MIT */
/*
 * The language a page speaks (SPEC §4: English and Simplified Chinese,
 * chosen by Accept-Language, a `lang` query parameter overriding it).
 * Every user-facing string is an English msgid passed through tr(); the
 * translations are gettext catalogs (po/). A language is a value handed
 * down with the request, never process or thread state, because a
 * suspended request may finish on another thread.
 */
#ifndef GATEHOUSE_I18N_H
#define GATEHOUSE_I18N_H

enum lang {
    LANG_EN,    /* the msgids themselves */
    LANG_ZH_CN,
    LANG_COUNT
};

/* Marks a literal for xgettext where it is not passed to tr() at once. */
#define N_(s) s

/* Loads the catalogs from localedir (NULL: the built-in place). A
 * language whose catalog cannot be used is served in English. */
void i18n_init(const char *localedir);

/* The language for a request: lang_param ("en", "zh-CN", "zh") when it
 * names one we speak, else the best of Accept-Language, else English.
 * Either may be NULL. */
enum lang i18n_negotiate(const char *lang_param, const char *accept_language);

/* The BCP 47 tag for <html lang>: "en", "zh-CN". */
const char *i18n_tag(enum lang l);

/* msgid in language l (static, never NULL); msgid itself when there is no
 * translation. */
const char *tr(enum lang l, const char *msgid);

#endif
