/* SPDX-License-Identifier: MIT */
/* pages.c: the HTML a person sees, escaped, script-free, accessible. */
#include "gatehouse/http/pages.h"
#include "test.h"

/* English, no maintenance announcement. */
static const struct page_ctx en = {LANG_EN, NULL, 0};

/* Every kind of markup injection at once: text, a double-quoted attribute
 * break-out, and a single quote for single-quoted attributes. */
#define HOSTILE "<script>alert(1)</script>\"><img src=x onerror=1>'"
#define HOSTILE_ESC                                                            \
    "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x "            \
    "onerror=1&gt;&#39;"

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;

    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

/* A malloc'd copy of the whole tag ("<input ...>") holding attr, or NULL. */
static char *
tag(const char *html, const char *attr)
{
    const char *at = strstr(html, attr), *start, *end;

    if (at == NULL)
        return NULL;
    for (start = at; start > html && *start != '<'; start--)
        ;
    if ((end = strchr(at, '>')) == NULL)
        return NULL;
    return strndup(start, (size_t)(end - start + 1));
}

/* ASSERTs that html holds HOSTILE escaped exactly n times and never raw. */
static void
assert_escaped(const char *html, size_t n)
{
    ASSERT(html != NULL);
    ASSERT(strcasestr(html, "<script") == NULL);
    ASSERT(strstr(html, "<img") == NULL);
    ASSERT(strstr(html, "onerror=1>") == NULL);
    ASSERT(strstr(html, HOSTILE) == NULL);
    /* The templates themselves use no single quote, so any is an escape
     * that failed. */
    ASSERT(strchr(html, '\'') == NULL);
    ASSERT_EQ(count(html, HOSTILE_ESC), n);
}

static const struct page_app_status two_apps[] = {
    {"CRM", "signed out", NULL, 0},
    {"Sales", "still trying", NULL, 0},
};

static const char *const crm_sales[] = {"CRM", "Sales"};
static const struct page_account_session two_sessions[] = {
    {"sidLaptop", "Chrome on Linux", "10.0.0.1", "2026-12-07 09:00 UTC",
     "2026-12-07 13:00 UTC", crm_sales, 2, 1},
    {"sidPhone", "Firefox on Android", "10.0.0.2", "2026-12-06 08:00 UTC",
     "2026-12-06 18:00 UTC", NULL, 0, 0},
};

TEST(every_page_shares_the_script_free_layout)
{
    struct page_login login = {.app_name = "CRM",
                               .action = "/login",
                               .csrf = "tok",
                               .request = "req",
                               .username = "alice",
                               .error = "Wrong username or password"};
    struct page_logout_confirm confirm = {.action = "/logout",
                                          .csrf = "tok",
                                          .client_id = "app",
                                          .post_logout_redirect_uri =
                                              "https://app/bye",
                                          .state = "st",
                                          .apps = two_apps,
                                          .napps = 2};
    struct page_account account = {"/account", "tok", "alice", "Done.",
                                   two_sessions, 2, NULL, 0, 0, 0};
    struct page_account_reauth reauth = {.action = "/account",
                                         .csrf = "tok",
                                         .username = "alice",
                                         .scope = "all"};
    char *html[8];
    size_t i;

    html[6] = pages_account(&en, &account);
    html[7] = pages_account_reauth(&en, &reauth);
    html[0] = pages_login(&en, &login);
    html[1] = pages_signed_in(&en, "alice");
    html[2] = pages_logout_confirm(&en, &confirm);
    html[3] = pages_signed_out(&en, SIGNED_OUT_DEVICE, two_apps, 2);
    html[4] = pages_signed_out(&en, SIGNED_OUT_ALREADY, NULL, 0);
    html[5] = pages_error(&en, "Invalid redirect URI", "Not registered.");
    for (i = 0; i < 8; i++) {
        ASSERT(html[i] != NULL);
        ASSERT(strncmp(html[i], "<!doctype html>\n", 16) == 0);
        ASSERT_CONTAINS(html[i], "<html lang=\"en\">");
        ASSERT_CONTAINS(html[i], "<meta charset=\"utf-8\">");
        ASSERT_CONTAINS(html[i], "<meta name=\"viewport\" content=\"width="
                                 "device-width, initial-scale=1\">");
        ASSERT_EQ(count(html[i], "<style>"), 1);
        ASSERT_EQ(count(html[i], "<h1>"), 1);
        ASSERT_CONTAINS(html[i], "<main>");
        ASSERT_CONTAINS(html[i], "<p class=\"brand\">Gatehouse</p>");
        ASSERT_CONTAINS(html[i], "</html>\n");
        /* The CSP blocks scripts and every external asset anyway; the
         * pages must not need them. */
        ASSERT(strcasestr(html[i], "<script") == NULL);
        ASSERT(strcasestr(html[i], "javascript:") == NULL);
        ASSERT(strcasestr(html[i], " onclick") == NULL);
        ASSERT(strcasestr(html[i], "<link") == NULL);
        ASSERT(strcasestr(html[i], "<img") == NULL);
        ASSERT(strcasestr(html[i], "src=") == NULL);
        ASSERT(strcasestr(html[i], "url(") == NULL);
        ASSERT(strcasestr(html[i], "@import") == NULL);
        free(html[i]);
    }
}

TEST(login_has_labelled_fields_csrf_and_one_button)
{
    struct page_login p = {.app_name = "CRM",
                           .action = "/login",
                           .csrf = "csrf-tok-123",
                           .request = "req-42"};
    char *html = pages_login(&en, &p), *t;

    ASSERT_CONTAINS(html, "<title>Sign in to CRM</title>");
    ASSERT_CONTAINS(html, "<h1>Sign in to CRM</h1>");
    ASSERT_CONTAINS(html, "<form method=\"post\" action=\"/login\">");
    ASSERT_CONTAINS(html, "<label for=\"username\">Username</label>");
    ASSERT_CONTAINS(html, "<label for=\"password\">Password</label>");

    ASSERT((t = tag(html, "name=\"username\"")) != NULL);
    ASSERT_CONTAINS(t, "id=\"username\"");
    ASSERT_CONTAINS(t, "autocomplete=\"username\"");
    ASSERT_CONTAINS(t, " required");
    ASSERT(strstr(t, "value=") == NULL);
    free(t);

    ASSERT((t = tag(html, "name=\"password\"")) != NULL);
    ASSERT_CONTAINS(t, "id=\"password\"");
    ASSERT_CONTAINS(t, "type=\"password\"");
    ASSERT_CONTAINS(t, "autocomplete=\"current-password\"");
    ASSERT_CONTAINS(t, " required");
    ASSERT(strstr(t, "value=") == NULL);
    free(t);

    ASSERT((t = tag(html, "name=\"csrf\"")) != NULL);
    ASSERT_CONTAINS(t, "type=\"hidden\"");
    ASSERT_CONTAINS(t, "value=\"csrf-tok-123\"");
    free(t);
    ASSERT((t = tag(html, "name=\"request\"")) != NULL);
    ASSERT_CONTAINS(t, "type=\"hidden\"");
    ASSERT_CONTAINS(t, "value=\"req-42\"");
    free(t);

    /* The password form's button, and the passkey page's (a GET form
     * carrying the request). */
    ASSERT_EQ(count(html, "<button"), 2);
    ASSERT_CONTAINS(html, "<button type=\"submit\">Sign in</button>");
    ASSERT_CONTAINS(html, "action=\"/login/passkey\"");
    ASSERT_EQ(count(html, "<input"), 6);
    ASSERT(strstr(html, "role=\"alert\"") == NULL);
    ASSERT(strstr(html, "aria-describedby") == NULL);
    free(html);
}

TEST(login_autofocuses_the_first_field_in_tab_order)
{
    struct page_login p = {.app_name = "CRM",
                           .action = "/login",
                           .csrf = "tok",
                           .username = "alice",
                           .error = "Wrong"};
    char *html = pages_login(&en, &p), *t;
    const char *user, *pass, *button;

    ASSERT_EQ(count(html, "autofocus"), 1);
    ASSERT((t = tag(html, "name=\"username\"")) != NULL);
    ASSERT_CONTAINS(t, "autofocus");
    free(t);
    /* Document order is the tab order: no tabindex reshuffles it. */
    ASSERT(strstr(html, "tabindex") == NULL);
    user = strstr(html, "name=\"username\"");
    pass = strstr(html, "name=\"password\"");
    button = strstr(html, "<button");
    ASSERT(user != NULL && pass != NULL && button != NULL);
    ASSERT(user < pass && pass < button);
    free(html);
}

TEST(login_offers_keep_me_signed_in_unticked_unless_chosen)
{
    struct page_login p = {.action = "/login", .csrf = "tok"};
    char *html = pages_login(&en, &p), *t;
    const char *pass, *keep, *button;

    /* A labelled checkbox, in tab order between the password and the
     * button, unticked by default (SPEC §5). */
    ASSERT((t = tag(html, "name=\"keep\"")) != NULL);
    ASSERT_CONTAINS(t, "id=\"keep\"");
    ASSERT_CONTAINS(t, "type=\"checkbox\"");
    ASSERT_CONTAINS(t, "value=\"1\"");
    ASSERT(strstr(t, "checked") == NULL);
    free(t);
    ASSERT_CONTAINS(html, "<label for=\"keep\">Keep me signed in on this "
                          "device</label>");
    pass = strstr(html, "name=\"password\"");
    keep = strstr(html, "name=\"keep\"");
    button = strstr(html, "<button");
    ASSERT(pass != NULL && keep != NULL && button != NULL);
    ASSERT(pass < keep && keep < button);
    free(html);

    /* Shown again after a failed attempt, the choice is kept. */
    p.keep = 1;
    html = pages_login(&en, &p);
    ASSERT((t = tag(html, "name=\"keep\"")) != NULL);
    ASSERT_CONTAINS(t, " checked");
    free(t);
    free(html);
}

TEST(login_without_app_or_request_says_sign_in)
{
    struct page_login p = {.action = "/login", .csrf = "tok"};
    char *html = pages_login(&en, &p);

    ASSERT_CONTAINS(html, "<title>Sign in</title>");
    ASSERT_CONTAINS(html, "<h1>Sign in</h1>");
    ASSERT_CONTAINS(html, "Gatehouse");
    ASSERT(strstr(html, "name=\"request\"") == NULL);
    ASSERT_CONTAINS(html, "name=\"csrf\" value=\"tok\"");
    free(html);
}

TEST(login_shows_error_above_form_and_prefills_username)
{
    struct page_login p = {.app_name = "CRM",
                           .action = "/login",
                           .csrf = "tok",
                           .username = "alice",
                           .error = "Wrong username or password."};
    char *html = pages_login(&en, &p), *t;
    const char *alert, *form;

    ASSERT_CONTAINS(html, "<p id=\"error\" class=\"error\" role=\"alert\">"
                          "Wrong username or password.</p>");
    alert = strstr(html, "role=\"alert\"");
    form = strstr(html, "<form");
    ASSERT(alert != NULL && form != NULL && alert < form);

    ASSERT((t = tag(html, "name=\"username\"")) != NULL);
    ASSERT_CONTAINS(t, "value=\"alice\"");
    ASSERT_CONTAINS(t, "aria-describedby=\"error\"");
    free(t);
    /* A password is never echoed back. */
    ASSERT((t = tag(html, "name=\"password\"")) != NULL);
    ASSERT(strstr(t, "value=") == NULL);
    ASSERT_CONTAINS(t, "aria-describedby=\"error\"");
    free(t);
    free(html);
}

TEST(login_escapes_hostile_input_everywhere)
{
    struct page_login p = {HOSTILE, HOSTILE, HOSTILE, HOSTILE,
                           HOSTILE, HOSTILE, HOSTILE, 0,
                           HOSTILE};
    char *html = pages_login(&en, &p);

    /* title, h1, action, csrf, request, username, error, notice, return,
     * and request and return again in the passkey form */
    assert_escaped(html, 11);
    ASSERT_CONTAINS(html, "<title>Sign in to " HOSTILE_ESC "</title>");
    ASSERT_CONTAINS(html, "action=\"" HOSTILE_ESC "\"");
    ASSERT_CONTAINS(html, "name=\"csrf\" value=\"" HOSTILE_ESC "\"");
    ASSERT_CONTAINS(html, "name=\"request\" value=\"" HOSTILE_ESC "\"");
    ASSERT_CONTAINS(html, "role=\"alert\">" HOSTILE_ESC "</p>");
    ASSERT_CONTAINS(html, "role=\"status\">" HOSTILE_ESC "</p>");
    ASSERT_CONTAINS(html, "name=\"return\" value=\"" HOSTILE_ESC "\"");
    ASSERT_EQ(count(html, "<input"), 8);
    free(html);
}

TEST(signed_in_names_the_user)
{
    char *html = pages_signed_in(&en, "alice");

    ASSERT_CONTAINS(html, "You are signed in as alice");
    ASSERT(strstr(html, "<form") == NULL);
    free(html);

    html = pages_signed_in(&en, HOSTILE);
    assert_escaped(html, 1);
    ASSERT_CONTAINS(html, "You are signed in as " HOSTILE_ESC);
    free(html);
}

TEST(logout_confirm_lists_apps_and_offers_two_scopes)
{
    struct page_logout_confirm p = {.action = "/logout",
                                    .csrf = "csrf-tok",
                                    .client_id = "crm",
                                    .post_logout_redirect_uri =
                                        "https://crm.example/bye",
                                    .state = "xyz",
                                    .apps = two_apps,
                                    .napps = 2};
    char *html = pages_logout_confirm(&en, &p), *t;

    ASSERT_CONTAINS(html, "<h1>Sign out?</h1>");
    ASSERT_CONTAINS(html, "<li>CRM");
    ASSERT_CONTAINS(html, "<li>Sales");
    ASSERT_CONTAINS(html, "<form method=\"post\" action=\"/logout\">");
    /* Issue 17: the apps are named after a reminder to save the work in
     * them first. */
    ASSERT(strstr(html, "Save your work in these apps before you sign out") <
           strstr(html, "<li>CRM"));
    ASSERT_CONTAINS(html, "<p id=\"save-work\">Save your work in these apps "
                          "before you sign out.");
    ASSERT_CONTAINS(html, "<b>Sign out</b> ends your session on this device.");
    ASSERT_CONTAINS(html, "<b>Sign out everywhere</b> ends it on every device");

    ASSERT((t = tag(html, "name=\"csrf\"")) != NULL);
    ASSERT_CONTAINS(t, "type=\"hidden\"");
    ASSERT_CONTAINS(t, "value=\"csrf-tok\"");
    free(t);
    ASSERT_CONTAINS(html, "name=\"client_id\" value=\"crm\"");
    ASSERT_CONTAINS(html, "name=\"post_logout_redirect_uri\" "
                          "value=\"https://crm.example/bye\"");
    ASSERT_CONTAINS(html, "name=\"state\" value=\"xyz\"");

    ASSERT_EQ(count(html, "<button type=\"submit\""), 2);
    ASSERT((t = tag(html, "value=\"session\"")) != NULL);
    ASSERT_CONTAINS(t, "<button type=\"submit\" name=\"scope\"");
    free(t);
    ASSERT_CONTAINS(html, "value=\"session\">Sign out</button>");
    ASSERT((t = tag(html, "value=\"everywhere\"")) != NULL);
    ASSERT_CONTAINS(t, "<button type=\"submit\" name=\"scope\"");
    free(t);
    ASSERT_CONTAINS(html, ">Sign out everywhere</button>");
    /* No text field: only a deliberate click signs out. */
    ASSERT(strstr(html, "type=\"text\"") == NULL);
    free(html);
}

TEST(logout_confirm_omits_null_hidden_fields)
{
    static const struct page_app_status one[] = {{"CRM", NULL, NULL, 0}};
    struct page_logout_confirm p = {
        .action = "/logout", .csrf = "tok", .apps = one, .napps = 1};
    char *html = pages_logout_confirm(&en, &p);

    ASSERT_CONTAINS(html, "name=\"csrf\" value=\"tok\"");
    ASSERT(strstr(html, "name=\"client_id\"") == NULL);
    ASSERT(strstr(html, "name=\"post_logout_redirect_uri\"") == NULL);
    ASSERT(strstr(html, "name=\"state\"") == NULL);
    ASSERT_EQ(count(html, "<input"), 1);
    /* An app without a status is just its name. */
    ASSERT_CONTAINS(html, "<li>CRM</li>");
    ASSERT_EQ(count(html, "<button"), 2);
    free(html);

    p.apps = NULL;
    p.napps = 0;
    html = pages_logout_confirm(&en, &p);
    ASSERT(html != NULL);
    ASSERT(strstr(html, "<li>") == NULL);
    /* Nothing to save work in: no reminder naming no app. */
    ASSERT(strstr(html, "Save your work") == NULL);
    ASSERT_CONTAINS(html, "You will be signed out of Gatehouse.");
    ASSERT_EQ(count(html, "<button"), 2);
    free(html);
}

TEST(logout_confirm_escapes_hostile_input_everywhere)
{
    static const struct page_app_status apps[] = {{HOSTILE, HOSTILE, NULL, 0}};
    struct page_logout_confirm p = {HOSTILE, HOSTILE, HOSTILE, HOSTILE,
                                    HOSTILE, apps,    1};
    char *html = pages_logout_confirm(&en, &p);

    /* action, csrf, client_id, post_logout_redirect_uri, state, name,
     * status */
    assert_escaped(html, 7);
    ASSERT_CONTAINS(html, "name=\"state\" value=\"" HOSTILE_ESC "\"");
    ASSERT_CONTAINS(html, "<li>" HOSTILE_ESC);
    ASSERT_EQ(count(html, "<input"), 4);
    ASSERT_EQ(count(html, "<button"), 2);
    free(html);
}

TEST(signed_out_lists_each_app_with_its_status)
{
    char *html = pages_signed_out(&en, SIGNED_OUT_DEVICE, two_apps, 2);

    ASSERT_CONTAINS(html, "<h1>You are signed out</h1>");
    ASSERT_CONTAINS(html, "<li>CRM \xe2\x80\x94 signed out</li>");
    ASSERT_CONTAINS(html, "<li>Sales \xe2\x80\x94 still trying</li>");
    ASSERT(strstr(html, "<form") == NULL);
    free(html);
}

TEST(signed_out_without_apps_is_just_the_message)
{
    char *html = pages_signed_out(&en, SIGNED_OUT_ALREADY, NULL, 0);

    ASSERT_CONTAINS(html, "<h1>You are signed out</h1>");
    ASSERT_CONTAINS(html, "<p id=\"ended\">You were already signed out on "
                          "this device.</p>");
    ASSERT(strstr(html, "<ul") == NULL);
    ASSERT(strstr(html, "<li") == NULL);
    free(html);
}

/* Issue 17: what ended, this device or every device, and the advice for
 * a shared computer, which holds whatever ended. */
TEST(signed_out_says_what_ended_and_to_close_a_shared_browser)
{
    char *html = pages_signed_out(&en, SIGNED_OUT_DEVICE, two_apps, 2);

    ASSERT_CONTAINS(html, "<p id=\"ended\">You are signed out on this "
                          "device.</p>");
    ASSERT(strstr(html, "every device") == NULL);
    ASSERT_CONTAINS(html, "<p id=\"shared\" class=\"hint\">On a shared "
                          "computer? Close the browser");
    free(html);

    html = pages_signed_out_continue(&en, SIGNED_OUT_EVERYWHERE, two_apps, 2,
                                     "https://crm/bye");
    ASSERT_CONTAINS(html, "<p id=\"ended\">You are signed out on every "
                          "device.</p>");
    ASSERT(strstr(html, "this device") == NULL);
    ASSERT_CONTAINS(html, "<li>CRM \xe2\x80\x94 signed out</li>");
    ASSERT_CONTAINS(html, "On a shared computer? Close the browser");
    free(html);

    html = pages_signed_out(&en, SIGNED_OUT_ALREADY, NULL, 0);
    ASSERT_CONTAINS(html, "On a shared computer? Close the browser");
    free(html);
}

TEST(signed_out_escapes_app_names_and_statuses)
{
    static const struct page_app_status apps[] = {{HOSTILE, HOSTILE, NULL, 0},
                                                  {"CRM", NULL, NULL, 0}};
    char *html = pages_signed_out(&en, SIGNED_OUT_DEVICE, apps, 2);

    assert_escaped(html, 2);
    ASSERT_CONTAINS(html,
                    "<li>" HOSTILE_ESC " \xe2\x80\x94 " HOSTILE_ESC "</li>");
    ASSERT_CONTAINS(html, "<li>CRM</li>");
    free(html);
}

TEST(error_page_shows_title_and_message)
{
    char *html = pages_error(&en, "Invalid redirect URI",
                             "This address is not registered for the app.");

    ASSERT_CONTAINS(html, "<title>Invalid redirect URI</title>");
    ASSERT_CONTAINS(html, "<h1>Invalid redirect URI</h1>");
    ASSERT_CONTAINS(html, "<p>This address is not registered for the app.</p>");
    ASSERT(strstr(html, "<form") == NULL);
    free(html);

    /* Never a blank page, even when the caller has nothing to say. */
    html = pages_error(&en, NULL, NULL);
    ASSERT_CONTAINS(html, "<h1>Something went wrong</h1>");
    free(html);
}

TEST(error_page_escapes_title_and_message)
{
    char *html = pages_error(&en, HOSTILE, HOSTILE);

    assert_escaped(html, 3);
    ASSERT_CONTAINS(html, "<h1>" HOSTILE_ESC "</h1>");
    ASSERT_CONTAINS(html, "<p>" HOSTILE_ESC "</p>");
    free(html);
}

/* OIDC Front-Channel Logout 1.0: one hidden, untabbable iframe per
 * front-channel app, its URL escaped in the attribute; the status of a
 * reporting app tied to its frame for the script, which is the page's only
 * one and comes from our own origin; a Continue link when the logout has a
 * way back to the app. */
TEST(signed_out_loads_front_channel_frames)
{
    static const struct page_app_status apps[] = {
        {"CRM", "signed out", "https://crm/fcl?a=1&iss=x&sid=y", 0},
        {"Sales", "notified by your browser", "http://sales/fcl", 1},
        {"Service", "signed out", NULL, 0},
    };
    char *html = pages_signed_out(&en, SIGNED_OUT_DEVICE, apps, 3), *t;

    ASSERT_EQ(count(html, "<iframe"), 2);
    ASSERT_EQ(count(html, "<script"), 1);
    ASSERT_CONTAINS(html, "<script src=\"/logout/frontchannel.js\"></script>");
    t = tag(html, "src=\"https://crm/fcl");
    ASSERT(t != NULL);
    ASSERT_STR_EQ(t, "<iframe hidden tabindex=\"-1\" title=\"CRM\" "
                     "src=\"https://crm/fcl?a=1&amp;iss=x&amp;sid=y\" "
                     "data-frame=\"fcl-0\">");
    free(t);
    t = tag(html, "src=\"http://sales/fcl\"");
    ASSERT_STR_EQ(t, "<iframe hidden tabindex=\"-1\" title=\"Sales\" "
                     "src=\"http://sales/fcl\" data-frame=\"fcl-1\" "
                     "data-status=\"fcl-1\">");
    free(t);
    ASSERT_CONTAINS(html, "<li>CRM \xe2\x80\x94 signed out</li>");
    /* The words the script writes come from the page, in its language. */
    ASSERT_CONTAINS(html, "<li>Sales \xe2\x80\x94 <span id=\"fcl-1\" "
                          "data-notified=\"notified\" "
                          "data-notifying=\"notifying\xe2\x80\xa6\">"
                          "notified by your browser</span></li>");
    ASSERT_CONTAINS(html, "<li>Service \xe2\x80\x94 signed out</li>");
    ASSERT(strstr(html, "id=\"continue\"") == NULL);
    free(html);

    html = pages_signed_out_continue(&en, SIGNED_OUT_DEVICE, apps + 2, 1,
                                     "https://crm/bye?state=" HOSTILE);
    assert_escaped(html, 1);
    ASSERT_CONTAINS(html, "<a id=\"continue\" href=\"https://crm/bye?state="
                          HOSTILE_ESC "\">Continue</a>");
    free(html);

    /* No frame, no script. */
    html = pages_signed_out(&en, SIGNED_OUT_DEVICE, apps + 2, 1);
    ASSERT(strcasestr(html, "<script") == NULL);
    ASSERT(strcasestr(html, "<iframe") == NULL);
    free(html);
}

TEST(page_speaks_its_language_and_shows_the_banner)
{
    static const struct page_ctx zh = {LANG_ZH_CN, HOSTILE, 0};
    char *html = pages_error(&zh, "Invalid request", NULL), *banner, *h1;

    ASSERT_CONTAINS(html, "<html lang=\"zh-CN\">");
    /* The announcement comes before the page's own title, escaped. */
    banner = strstr(html, "<p id=\"banner\" class=\"notice\" role=\"status\">"
                          HOSTILE_ESC "</p>");
    h1 = strstr(html, "<h1>");
    ASSERT(banner != NULL && h1 != NULL && banner < h1);
    free(html);

    html = pages_error(&en, "Invalid request", NULL);
    ASSERT_CONTAINS(html, "<html lang=\"en\">");
    ASSERT(strstr(html, "id=\"banner\"") == NULL);
    free(html);
}

TEST(front_channel_script_writes_text_only)
{
    /* It sets textContent and follows our own link: nothing it reads
     * from the page can become markup or code. */
    ASSERT(strstr(pages_frontchannel_script, "innerHTML") == NULL);
    ASSERT(strstr(pages_frontchannel_script, "eval") == NULL);
    ASSERT_CONTAINS(pages_frontchannel_script, "textContent");
    ASSERT_CONTAINS(pages_frontchannel_script, "data-status");
    /* ... and no English of its own: the words are the page's. */
    ASSERT(strstr(pages_frontchannel_script, "\"notifying\\u2026\"") == NULL);
    ASSERT_CONTAINS(pages_frontchannel_script, "\"data-\" + word");
    ASSERT_CONTAINS(pages_frontchannel_script, "\"continue\"");
}

TEST(account_lists_sessions_each_with_its_own_sign_out_form)
{
    struct page_account p = {"/account", "tok", "alice", NULL, two_sessions,
                             2, NULL, 0, 0, 0};
    char *html = pages_account(&en, &p), *t;

    ASSERT(html != NULL);
    ASSERT_CONTAINS(html, "<title>Your sessions</title>");
    ASSERT_CONTAINS(html, "Signed in as alice.");
    /* Two sessions, "all", and "Set up an authenticator app". */
    ASSERT_EQ(count(html, "<form method=\"post\" action=\"/account\">"), 4);
    ASSERT_EQ(count(html, "name=\"csrf\" value=\"tok\""), 4);
    ASSERT_EQ(count(html, "name=\"scope\" value=\"totp_setup\""), 1);
    ASSERT(strstr(html, "totp_remove") == NULL);
    ASSERT_CONTAINS(html, "name=\"sid\" value=\"sidLaptop\"");
    ASSERT_CONTAINS(html, "name=\"sid\" value=\"sidPhone\"");
    ASSERT_EQ(count(html, "name=\"scope\" value=\"session\""), 2);
    ASSERT_EQ(count(html, "name=\"scope\" value=\"all\""), 1);
    ASSERT_EQ(count(html, "This device"), 1);
    ASSERT(strstr(html, "This device") < strstr(html, "sidLaptop"));
    ASSERT_CONTAINS(html, "<li>CRM</li><li>Sales</li>");
    ASSERT_CONTAINS(html, "None yet");
    ASSERT_CONTAINS(html, "<dd>2026-12-06 18:00 UTC</dd>");
    ASSERT_CONTAINS(html, ">Sign out of all sessions</button>");
    /* Each "Sign out" is described by its session's heading. */
    t = tag(html, "aria-describedby=\"s1\"");
    ASSERT(t != NULL);
    ASSERT_CONTAINS(t, "<button type=\"submit\"");
    ASSERT_CONTAINS(html, "<h2 id=\"s1\">Firefox on Android</h2>");
    ASSERT(strstr(html, "role=\"status\"") == NULL);
    ASSERT(strstr(html, "<iframe") == NULL);
    free(t);
    free(html);
}

TEST(account_shows_a_status_line_and_escapes_everything)
{
    const char *const apps[] = {HOSTILE};
    struct page_account_session s = {HOSTILE, HOSTILE, HOSTILE, HOSTILE,
                                     HOSTILE, apps,    1,       1};
    char *const frames[] = {HOSTILE, NULL};
    struct page_account p = {HOSTILE, HOSTILE, HOSTILE, HOSTILE,
                             &s,      1,       frames,  2, 0, 0};
    char *html = pages_account(&en, &p);

    /* action x3, csrf x3 (the third: two-step verification), status,
     * username, sid, browser, address, started, last seen, app, frame */
    assert_escaped(html, 15);
    ASSERT_EQ(count(html, "<iframe hidden tabindex=\"-1\""), 1);
    ASSERT_CONTAINS(html, "role=\"status\">" HOSTILE_ESC "</p>");
    free(html);
}

TEST(account_with_totp_on_offers_remove_and_new_codes)
{
    struct page_account p = {"/account", "tok", "alice", NULL, two_sessions,
                             2, NULL, 0, 1, 7};
    char *html = pages_account(&en, &p);

    ASSERT(html != NULL);
    ASSERT_CONTAINS(html, "<h2 id=\"ts\">Two-step verification</h2>");
    ASSERT_CONTAINS(html, "Recovery codes left: 7");
    ASSERT_EQ(count(html, "name=\"scope\" value=\"totp_remove\""), 1);
    ASSERT_EQ(count(html, "name=\"scope\" value=\"recovery_new\""), 1);
    ASSERT(strstr(html, "totp_setup") == NULL);
    free(html);
}

TEST(totp_setup_draws_the_qr_code_in_svg_and_groups_the_key)
{
    struct page_totp_setup p = {
        "/account", "tok", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "otpauth://totp/id.example:alice?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "234567&issuer=id.example",
        "Wrong.", NULL};
    const char *const codes[] = {"abcde-fghij", HOSTILE};
    char *html = pages_totp_setup(&en, &p);

    ASSERT(html != NULL);
    ASSERT_CONTAINS(html, "<svg id=\"qr\"");
    ASSERT_CONTAINS(html, "<path fill=\"#000\" d=\"M4 4h1v1h-1z");
    ASSERT_CONTAINS(html, "</svg>");
    ASSERT(strstr(html, "<script") == NULL);
    ASSERT_CONTAINS(html, "<code id=\"key\">ABCD EFGH IJKL MNOP QRST UVWX "
                          "YZ23 4567</code>");
    ASSERT_CONTAINS(html, "name=\"scope\" value=\"totp_activate\"");
    ASSERT_CONTAINS(html, "name=\"csrf\" value=\"tok\"");
    ASSERT_CONTAINS(html, "autocomplete=\"one-time-code\"");
    ASSERT_CONTAINS(html, "role=\"alert\">Wrong.</p>");
    ASSERT_CONTAINS(html, "aria-describedby=\"error\"");
    free(html);
    html = pages_totp_codes(&en, "/account", NULL, codes, 2);
    ASSERT(html != NULL);
    ASSERT_CONTAINS(html, "<li><code>abcde-fghij</code></li>");
    ASSERT_CONTAINS(html, "<li><code>" HOSTILE_ESC "</code></li>");
    ASSERT_CONTAINS(html, "Save these recovery codes");
    free(html);
}

TEST(login_code_page_carries_the_step_and_escapes_it)
{
    struct page_login_code p = {"/login", HOSTILE, HOSTILE, NULL, NULL, NULL};
    char *html = pages_login_code(&en, &p);

    ASSERT(html != NULL);
    ASSERT_CONTAINS(html, "<title>Two-step verification</title>");
    ASSERT_CONTAINS(html, "name=\"step\" value=\"" HOSTILE_ESC "\"");
    ASSERT_CONTAINS(html, "role=\"alert\">" HOSTILE_ESC "</p>");
    ASSERT_CONTAINS(html, "name=\"code\"");
    ASSERT_CONTAINS(html, "autocomplete=\"one-time-code\"");
    ASSERT(strstr(html, HOSTILE) == NULL);
    /* No passkey: no script, no passkey form. */
    ASSERT(strstr(html, "<script") == NULL);
    ASSERT(strstr(html, "data-passkey") == NULL);
    free(html);
}

TEST(login_code_page_offers_a_passkey_too_when_the_user_has_one)
{
    struct page_login_code p = {"/login", HOSTILE, NULL,
                                HOSTILE, HOSTILE, HOSTILE};
    char *html = pages_login_code(&en, &p);

    ASSERT(html != NULL);
    /* Both: the code field and "Use a passkey". */
    ASSERT_CONTAINS(html, "name=\"code\"");
    ASSERT_CONTAINS(html, "data-passkey=\"get\"");
    ASSERT_CONTAINS(html, "data-challenge=\"" HOSTILE_ESC "\"");
    ASSERT_CONTAINS(html, "name=\"state\" value=\"" HOSTILE_ESC "\"");
    ASSERT_CONTAINS(html, "Use a passkey");
    ASSERT_CONTAINS(html, "<script src=\"/passkey.js\"></script>");
    ASSERT(strstr(html, HOSTILE) == NULL);
    free(html);
}

TEST(account_reauth_asks_for_the_password_and_carries_the_action)
{
    struct page_account_reauth p = {.action = "/account",
                                    .csrf = "tok",
                                    .username = "alice",
                                    .scope = "session",
                                    .sid = "sidPhone",
                                    .error = "Incorrect password."};
    char *html = pages_account_reauth(&en, &p), *t;

    ASSERT(html != NULL);
    ASSERT_CONTAINS(html, "name=\"csrf\" value=\"tok\"");
    ASSERT_CONTAINS(html, "name=\"scope\" value=\"session\"");
    ASSERT_CONTAINS(html, "name=\"sid\" value=\"sidPhone\"");
    ASSERT_CONTAINS(html, "<label for=\"password\">Password</label>");
    t = tag(html, "id=\"password\"");
    ASSERT(t != NULL);
    ASSERT_CONTAINS(t, "autocomplete=\"current-password\"");
    ASSERT_CONTAINS(t, "aria-describedby=\"error\"");
    ASSERT_CONTAINS(html, "role=\"alert\">Incorrect password.</p>");
    free(t);
    free(html);
    p.scope = "all";
    p.sid = NULL;
    p.error = NULL;
    html = pages_account_reauth(&en, &p);
    ASSERT(strstr(html, "name=\"sid\"") == NULL);
    ASSERT(strstr(html, "role=\"alert\"") == NULL);
    ASSERT(strstr(html, "name=\"state\"") == NULL);
    free(html);
    /* The logout confirmation's fields go through. */
    p.action = "/logout";
    p.scope = "everywhere";
    p.client_id = "crm";
    p.post_logout_redirect_uri = "https://crm/bye";
    p.state = "st";
    html = pages_account_reauth(&en, &p);
    ASSERT_CONTAINS(html, "action=\"/logout\"");
    ASSERT_CONTAINS(html, "name=\"client_id\" value=\"crm\"");
    ASSERT_CONTAINS(html, "name=\"post_logout_redirect_uri\" "
                          "value=\"https://crm/bye\"");
    ASSERT_CONTAINS(html, "name=\"state\" value=\"st\"");
    free(html);
}

TEST(sign_out_pages_link_to_the_account_page)
{
    struct page_logout_confirm confirm = {.action = "/logout", .csrf = "t"};
    char *html = pages_logout_confirm(&en, &confirm);

    ASSERT_CONTAINS(html, "<a id=\"account\" href=\"/account\">Manage your "
                          "sessions</a>");
    free(html);
    html = pages_signed_out(&en, SIGNED_OUT_ALREADY, NULL, 0);
    ASSERT_CONTAINS(html, "<a id=\"account\" href=\"/account\">Manage your "
                          "sessions</a>");
    free(html);
}

TEST(signed_out_loads_other_sessions_frames_without_listing_them)
{
    const struct page_app_status apps[] = {
        {"CRM", "signed out", NULL, 0},
        {"Field", NULL, "https://field.example/fcl?sid=other", 0},
    };
    char *html = pages_signed_out(&en, SIGNED_OUT_EVERYWHERE, apps, 2);

    ASSERT_CONTAINS(html, "<li>CRM");
    ASSERT(strstr(html, "<li>Field") == NULL);
    ASSERT_CONTAINS(html, "src=\"https://field.example/fcl?sid=other\"");
    free(html);
    /* Only such frames: nothing listed, no "Your apps". */
    html = pages_signed_out(&en, SIGNED_OUT_EVERYWHERE, apps + 1, 1);
    ASSERT(strstr(html, "Your apps") == NULL);
    ASSERT_CONTAINS(html, "<iframe");
    free(html);
}

/* assert_escaped for a page that loads its one script: the same, with
 * that tag taken out first. */
static void
assert_escaped_but_script(char *html, size_t n)
{
    static const char tag[] = "<script src=\"/passkey.js\"></script>";
    char *at;

    ASSERT(html != NULL);
    ASSERT_EQ(count(html, "<script"), 1);
    ASSERT((at = strstr(html, tag)) != NULL);
    memset(at, ' ', sizeof(tag) - 1);
    assert_escaped(html, n);
}

TEST(passkey_pages_escape_everything_and_load_one_script)
{
    struct page_passkey_item item = {HOSTILE, HOSTILE, "2026-12-07 13:45 UTC"};
    struct page_passkeys pk = {"/account/passkeys", HOSTILE, HOSTILE, NULL,
                               NULL, &item, 1, HOSTILE, HOSTILE, HOSTILE,
                               HOSTILE};
    struct page_passkey_sign_in si;
    char *html = pages_passkeys(&en, &pk);

    /* csrf twice (Remove, Add), username twice (text, data-user-name),
     * the item's id and name, and its id again in data-exclude; the
     * challenge, state, RP ID and user handle */
    ASSERT_CONTAINS(html, "<form method=\"post\" hidden data-passkey=\"create\"");
    assert_escaped_but_script(html, 11);
    free(html);

    memset(&si, 0, sizeof(si));
    si.action = "/login/passkey";
    si.challenge = si.state = si.rp_id = si.request = si.return_to = HOSTILE;
    html = pages_passkey_sign_in(&en, &si);
    ASSERT_CONTAINS(html, "Sign in with a password instead");
    assert_escaped_but_script(html, 5);
    ASSERT(strstr(html, "name=\"step\"") == NULL);
    free(html);
    /* As the second step: the sealed state, and no way around it. */
    memset(&si, 0, sizeof(si));
    si.action = "/login";
    si.step = "st";
    html = pages_passkey_sign_in(&en, &si);
    ASSERT_CONTAINS(html, "name=\"step\" value=\"st\"");
    ASSERT(strstr(html, "Sign in with a password instead") == NULL);
    free(html);
}

TEST_MAIN(TEST_ENTRY(every_page_shares_the_script_free_layout),
          TEST_ENTRY(signed_out_loads_other_sessions_frames_without_listing_them),
          TEST_ENTRY(account_lists_sessions_each_with_its_own_sign_out_form),
          TEST_ENTRY(account_shows_a_status_line_and_escapes_everything),
          TEST_ENTRY(account_with_totp_on_offers_remove_and_new_codes),
    TEST_ENTRY(totp_setup_draws_the_qr_code_in_svg_and_groups_the_key),
    TEST_ENTRY(login_code_page_carries_the_step_and_escapes_it),
          TEST_ENTRY(login_code_page_offers_a_passkey_too_when_the_user_has_one),
    TEST_ENTRY(account_reauth_asks_for_the_password_and_carries_the_action),
          TEST_ENTRY(sign_out_pages_link_to_the_account_page),
          TEST_ENTRY(login_has_labelled_fields_csrf_and_one_button),
          TEST_ENTRY(login_autofocuses_the_first_field_in_tab_order),
          TEST_ENTRY(login_without_app_or_request_says_sign_in),
          TEST_ENTRY(login_shows_error_above_form_and_prefills_username),
          TEST_ENTRY(login_escapes_hostile_input_everywhere),
          TEST_ENTRY(login_offers_keep_me_signed_in_unticked_unless_chosen),
          TEST_ENTRY(signed_in_names_the_user),
          TEST_ENTRY(logout_confirm_lists_apps_and_offers_two_scopes),
          TEST_ENTRY(logout_confirm_omits_null_hidden_fields),
          TEST_ENTRY(logout_confirm_escapes_hostile_input_everywhere),
          TEST_ENTRY(signed_out_lists_each_app_with_its_status),
          TEST_ENTRY(signed_out_without_apps_is_just_the_message),
          TEST_ENTRY(signed_out_says_what_ended_and_to_close_a_shared_browser),
          TEST_ENTRY(signed_out_escapes_app_names_and_statuses),
          TEST_ENTRY(signed_out_loads_front_channel_frames),
          TEST_ENTRY(front_channel_script_writes_text_only),
          TEST_ENTRY(error_page_shows_title_and_message),
          TEST_ENTRY(error_page_escapes_title_and_message),
          TEST_ENTRY(page_speaks_its_language_and_shows_the_banner),
          TEST_ENTRY(passkey_pages_escape_everything_and_load_one_script))
