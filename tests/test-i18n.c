/* SPDX-License-Identifier: MIT */
/* i18n.c: which language a request gets, and gettext under it; the pages
 * in Chinese. The catalog is the build's (po/): without it, or without the
 * zh_CN.UTF-8 locale, these tests fail rather than skip. */
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>

#include "gatehouse/core/i18n.h"
#include "gatehouse/core/states.h"
#include "gatehouse/http/pages.h"
#include "test.h"

#define EN LANG_EN
#define ZH LANG_ZH_CN

/* The catalog must load: a build that lost it fails here, naming why. */
static void
init_or_fail(void)
{
    const char *why = i18n_init(NULL);

    if (why != NULL)
        FAIL("i18n_init: %s", why);
}

TEST(accept_language_highest_q_wins)
{
    static const struct {
        const char *header;
        enum lang want;
    } cases[] = {
        {"zh-CN", ZH},
        {"zh", ZH},
        {"ZH-cn", ZH},
        {"zh-Hans-CN", ZH},
        {"zh-TW", ZH},
        {"en-US", EN},
        {"en", EN},
        /* RFC 9110 §12.5.4: the weight decides, not the order */
        {"en;q=0.5, zh-CN;q=0.9", ZH},
        {"zh-CN;q=0.4, en;q=0.8", EN},
        {"en-US,en;q=0.9,zh-CN;q=0.8", EN},
        {"zh-CN,zh;q=0.9,en;q=0.8", ZH},
        {"fr-FR, fr;q=0.9, zh;q=0.7, en;q=0.5", ZH},
        {"de, en;q=0.1", EN},
        /* a tie goes to the one named first */
        {"zh;q=0.5, en;q=0.5", ZH},
        {"en;q=0.5, zh;q=0.5", EN},
        {"zh, en", ZH},
        /* q=0 is "not acceptable", never chosen */
        {"zh;q=0", EN},
        {"zh;q=0.000, fr", EN},
        {"en;q=0, zh;q=0.001", ZH},
        /* "*": any language not named otherwise */
        {"*", EN},
        {"en;q=0, *", ZH},
        {"fr, *;q=0.1", EN},
        {"en;q=0.1, *;q=0.5", ZH},
        {"*;q=0.5, zh;q=0.1", EN},
        /* spaces and tabs around every part; Q= in capitals */
        {"  fr ,\tzh-CN ; q=0.7 , en ;Q=0.3 ", ZH},
        /* nothing we speak, nothing at all */
        {"fr-CA, de", EN},
        {"", EN},
        {",,, ,", EN},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (i18n_negotiate(NULL, cases[i].header) != cases[i].want)
            FAIL("Accept-Language \"%s\": got %s, want %s", cases[i].header,
                 i18n_tag(i18n_negotiate(NULL, cases[i].header)),
                 i18n_tag(cases[i].want));
    ASSERT_EQ(i18n_negotiate(NULL, NULL), EN);
}

/* A malformed element is skipped as if absent; the others still count,
 * and nothing malformed chooses a language. */
TEST(accept_language_skips_malformed_elements)
{
    static const struct {
        const char *header;
        enum lang want;
    } cases[] = {
        {"zh;q=2, en;q=0.5", EN}, /* q above 1 */
        {"zh;q=1.5", EN},
        {"zh;q=1.0001", EN}, /* more than three decimals */
        {"zh;q=.5", EN},
        {"zh;q=-1", EN},
        {"zh;q=", EN},
        {"zh;q=0.5x", EN},
        {"zh;level=1", EN}, /* not a weight */
        {"zh;q=0.5;q=0.6", EN},
        {"zhongwen", EN}, /* a primary tag of 8+ letters */
        {"zh-", EN},
        {"zh--CN", EN},
        {"-zh", EN},
        {"z h", EN},
        {"zh_CN", EN},
        {"zh-CN123456789", EN}, /* subtag over 8 */
        {"\xe4\xb8\xad\xe6\x96\x87", EN},
        {"zh;q=1.5, en;q=0.1, zh-CN;q=0.2", ZH},
        {"en;q=abc, zh", ZH},
        {"1zh, zh-CN;q=0.3", ZH},
        {"zh;q=1.000", ZH},
        {"zh;q=1.", ZH},
        {"zh;q=0.999, en;q=1", EN},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (i18n_negotiate(NULL, cases[i].header) != cases[i].want)
            FAIL("Accept-Language \"%s\": got %s, want %s", cases[i].header,
                 i18n_tag(i18n_negotiate(NULL, cases[i].header)),
                 i18n_tag(cases[i].want));
}

TEST(lang_parameter_overrides_accept_language)
{
    ASSERT_EQ(i18n_negotiate("zh-CN", "en"), ZH);
    ASSERT_EQ(i18n_negotiate("zh", "en;q=1"), ZH);
    ASSERT_EQ(i18n_negotiate("en", "zh-CN"), EN);
    ASSERT_EQ(i18n_negotiate("EN", "zh-CN"), EN);
    ASSERT_EQ(i18n_negotiate("zh-Hans", NULL), ZH);
    /* one we do not speak, or no tag at all: Accept-Language decides */
    ASSERT_EQ(i18n_negotiate("fr", "zh-CN"), ZH);
    ASSERT_EQ(i18n_negotiate("", "zh-CN"), ZH);
    ASSERT_EQ(i18n_negotiate("zh;q=1", "en"), EN);
    ASSERT_EQ(i18n_negotiate("zh-<script>", "en"), EN);
    ASSERT_EQ(i18n_negotiate("english", "zh"), ZH);
    ASSERT_EQ(i18n_parse("zh-CN"), ZH);
    ASSERT_EQ(i18n_parse("en-GB"), EN);
    ASSERT_EQ(i18n_parse("de"), -1);
    ASSERT_EQ(i18n_parse(NULL), -1);
    ASSERT_STR_EQ(i18n_tag(EN), "en");
    ASSERT_STR_EQ(i18n_tag(ZH), "zh-CN");
    ASSERT_STR_EQ(i18n_tag((enum lang)42), "en");
}

TEST(tr_speaks_chinese_from_the_built_catalog)
{
    const char *msgid = "Sign in";

    init_or_fail();
    ASSERT_STR_EQ(tr(ZH, "Sign in"), "\xe7\x99\xbb\xe5\xbd\x95"); /* 登录 */
    ASSERT_STR_EQ(tr(ZH, "Sign out everywhere"),
                  "\xe5\x9c\xa8\xe6\x89\x80\xe6\x9c\x89\xe8\xae\xbe\xe5\xa4"
                  "\x87\xe4\xb8\x8a\xe9\x80\x80\xe5\x87\xba\xe7\x99\xbb\xe5"
                  "\xbd\x95"); /* 在所有设备上退出登录 */
    /* English is the msgid itself, no lookup */
    ASSERT(tr(EN, msgid) == msgid);
    /* no translation: the msgid; "" is no door to the catalog's header */
    ASSERT_STR_EQ(tr(ZH, "No such message"), "No such message");
    ASSERT_STR_EQ(tr(ZH, ""), "");
    ASSERT(tr(ZH, NULL) == NULL);
    ASSERT_STR_EQ(tr((enum lang)42, "Sign in"), "Sign in");
    /* the notices of states.h are msgids too */
    ASSERT(strcmp(tr(ZH, end_reason_notice(END_EVICTED)),
                  end_reason_notice(END_EVICTED)) != 0);
}

/* glibc lets LANGUAGE override the locale of a lookup: an operator's
 * LANGUAGE=fr must not turn a Chinese reader's page English. */
TEST(operator_language_env_cannot_override)
{
    setenv("LANGUAGE", "fr:de", 1);
    init_or_fail();
    ASSERT(getenv("LANGUAGE") == NULL);
    ASSERT_STR_EQ(tr(ZH, "Sign in"), "\xe7\x99\xbb\xe5\xbd\x95");
}

/* No catalog where GATEHOUSE_LOCALEDIR points: a reason to warn with, and
 * English for everyone. */
TEST(missing_catalog_serves_english_and_says_why)
{
    const char *why;

    setenv("GATEHOUSE_LOCALEDIR", "/nonexistent/locale", 1);
    why = i18n_init(NULL);
    ASSERT(why != NULL);
    ASSERT_CONTAINS(why, "English");
    ASSERT_STR_EQ(tr(ZH, "Sign in"), "Sign in");
    /* an explicit directory wins over the environment */
    ASSERT(i18n_init("/also/nonexistent") != NULL);
    ASSERT_STR_EQ(tr(ZH, "Sign in"), "Sign in");
    /* and the page says it is English */
    ASSERT_EQ(i18n_served(ZH), EN);
    ASSERT_EQ(i18n_served(EN), EN);
    unsetenv("GATEHOUSE_LOCALEDIR");
    init_or_fail();
    ASSERT_STR_EQ(tr(ZH, "Sign in"), "\xe7\x99\xbb\xe5\xbd\x95");
    ASSERT_EQ(i18n_served(ZH), ZH);
    ASSERT_EQ(i18n_served((enum lang)42), EN);
}

struct worker {
    enum lang lang;
    int bad;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    const char *want = w->lang == ZH ? "\xe7\x99\xbb\xe5\xbd\x95" : "Sign in";
    locale_t before = uselocale((locale_t)0);
    int i;

    for (i = 0; i < 20000; i++)
        if (strcmp(tr(w->lang, "Sign in"), want) != 0)
            w->bad++;
    /* the thread's own locale is as it was */
    if (uselocale((locale_t)0) != before)
        w->bad++;
    return NULL;
}

/* A language is the request's, never the thread's: threads looking up in
 * different languages at once each get their own. */
TEST(tr_is_per_call_across_threads)
{
    pthread_t t[8];
    struct worker w[8];
    int i;

    init_or_fail();
    for (i = 0; i < 8; i++) {
        w[i].lang = i % 2 ? ZH : EN;
        w[i].bad = 0;
        ASSERT_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT_EQ(w[i].bad, 0);
    }
}

/* The English labels of every page; none may be left in a Chinese page. */
static const char *const english_labels[] = {
    ">Sign in<",
    ">Sign out<",
    ">Sign out everywhere<",
    ">Continue<",
    ">Username<",
    ">Password<",
    "Sign out?",
    "You are signed out",
    "Save your work",
    "signed out<",
    "still trying",
    "On a shared computer",
    "Your apps",
    "data-notified=\"notified\"",
};

static void
assert_chinese(const char *html)
{
    size_t i;

    ASSERT(html != NULL);
    ASSERT_CONTAINS(html, "<html lang=\"zh-CN\">");
    for (i = 0; i < sizeof(english_labels) / sizeof(english_labels[0]); i++)
        if (strstr(html, english_labels[i]) != NULL)
            FAIL("untranslated \"%s\" in:\n%s", english_labels[i], html);
}

TEST(every_page_in_chinese)
{
    static const struct page_ctx zh = {LANG_ZH_CN, NULL, 0};
    /* the same, chosen by the lang parameter */
    static const struct page_ctx zh_param = {LANG_ZH_CN, NULL, 1};
    static const struct page_app_status apps[] = {
        {"CRM", N_("signed out"), NULL, 0},
        {"Sales", N_("still trying"), NULL, 0},
        {"Service", N_("notified by your browser"), "http://svc/fcl", 1},
    };
    struct page_login login = {.app_name = "CRM",
                               .action = "/login",
                               .csrf = "tok",
                               .error = N_("Incorrect username or password."),
                               .notice = end_reason_notice(END_EVICTED)};
    struct page_logout_confirm confirm = {
        .action = "/logout", .csrf = "tok", .apps = apps, .napps = 2};
    char *html;

    init_or_fail();
    html = pages_login(&zh, &login);
    assert_chinese(html);
    ASSERT_CONTAINS(html, "<title>\xe7\x99\xbb\xe5\xbd\x95 CRM</title>");
    ASSERT_CONTAINS(html, "<button type=\"submit\">\xe7\x99\xbb\xe5\xbd\x95"
                          "</button>");
    /* 用户名或密码错误。 */
    ASSERT_CONTAINS(html, "\xe7\x94\xa8\xe6\x88\xb7\xe5\x90\x8d\xe6\x88\x96"
                          "\xe5\xaf\x86\xe7\xa0\x81\xe9\x94\x99\xe8\xaf\xaf");
    ASSERT(strstr(html, "Incorrect") == NULL);
    ASSERT(strstr(html, "signed in elsewhere") == NULL);
    /* Accept-Language chose it: the POST's chooses again */
    ASSERT_CONTAINS(html, "action=\"/login\"");
    free(html);
    /* the parameter chose it: the form carries it on */
    html = pages_login(&zh_param, &login);
    ASSERT_CONTAINS(html, "action=\"/login?lang=zh-CN\"");
    free(html);
    login.action = "/login?x=1";
    html = pages_login(&zh_param, &login);
    ASSERT_CONTAINS(html, "action=\"/login?x=1&amp;lang=zh-CN\"");
    free(html);

    html = pages_signed_in(&zh, "alice");
    assert_chinese(html);
    ASSERT_CONTAINS(html, "alice");
    ASSERT(strstr(html, "You are signed in") == NULL);
    free(html);

    html = pages_logout_confirm(&zh, &confirm);
    assert_chinese(html);
    /* 退出登录 */
    ASSERT_CONTAINS(html, "value=\"session\">\xe9\x80\x80\xe5\x87\xba\xe7\x99"
                          "\xbb\xe5\xbd\x95</button>");
    ASSERT_CONTAINS(html, "<b>\xe9\x80\x80\xe5\x87\xba\xe7\x99\xbb\xe5\xbd\x95"
                          "</b>");
    ASSERT_CONTAINS(html, "action=\"/logout\"");
    free(html);
    html = pages_logout_confirm(&zh_param, &confirm);
    ASSERT_CONTAINS(html, "action=\"/logout?lang=zh-CN\"");
    free(html);

    html = pages_signed_out_continue(&zh, SIGNED_OUT_EVERYWHERE, apps, 3,
                                     "https://crm/bye");
    assert_chinese(html);
    ASSERT(strstr(html, "every device") == NULL);
    ASSERT(strstr(html, "notified by your browser") == NULL);
    ASSERT(strstr(html, "=\"notifying") == NULL);
    free(html);

    html = pages_error(&zh, N_("Invalid redirect URI"),
                       N_("The sign-out link is malformed."));
    assert_chinese(html);
    ASSERT(strstr(html, "Invalid") == NULL);
    ASSERT(strstr(html, "malformed") == NULL);
    free(html);
}

TEST_MAIN(TEST_ENTRY(accept_language_highest_q_wins),
          TEST_ENTRY(accept_language_skips_malformed_elements),
          TEST_ENTRY(lang_parameter_overrides_accept_language),
          TEST_ENTRY(tr_speaks_chinese_from_the_built_catalog),
          TEST_ENTRY(operator_language_env_cannot_override),
          TEST_ENTRY(missing_catalog_serves_english_and_says_why),
          TEST_ENTRY(tr_is_per_call_across_threads),
          TEST_ENTRY(every_page_in_chinese))
