/* SPDX-License-Identifier: MIT */
/* The HTML pages a person sees: sign-in, signed in, logout, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/http/form.h"
#include "gatehouse/http/pages.h"
#include "http/page_buf.h"

/* The id tying app i's status to its iframe, for the script. */
static void
put_frame_id(struct page_buf *b, size_t i)
{
    char id[32];

    snprintf(id, sizeof(id), "fcl-%zu", i);
    page_buf_put(b, id);
}

static void
put_frame_status(struct page_buf *b, size_t i)
{
    page_buf_put(b, "<span id=\"");
    put_frame_id(b, i);
    page_buf_put(b, "\">");
}

/* One <li> per app: "CRM — signed out", or just "CRM" without a status. */
static void
put_apps(struct page_buf *b, const struct page_app_status *apps, size_t napps)
{
    size_t i;

    if (apps == NULL || napps == 0)
        return;
    page_buf_put(b, "<ul class=\"apps\">\n");
    for (i = 0; i < napps; i++) {
        page_buf_put(b, "<li>");
        page_buf_esc(b, apps[i].name ? apps[i].name : "(unnamed app)");
        if (apps[i].status != NULL) {
            page_buf_put(b, " \xe2\x80\x94 "); /* U+2014 em dash */
            if (apps[i].frame != NULL && apps[i].frame_reports)
                put_frame_status(b, i);
            page_buf_esc(b, apps[i].status);
            if (apps[i].frame != NULL && apps[i].frame_reports)
                page_buf_put(b, "</span>");
        }
        page_buf_put(b, "</li>\n");
    }
    page_buf_put(b, "</ul>\n");
}

char *
pages_login(const struct page_ctx *ctx, const struct page_login *p)
{
    struct page_buf b = {0};
    const char *described = "";
    char *title, *html;
    size_t n;

    if (p->app_name != NULL) {
        n = strlen("Sign in to ") + strlen(p->app_name) + 1;
        if ((title = malloc(n)) == NULL)
            return NULL;
        strcpy(title, "Sign in to ");
        strcat(title, p->app_name);
    } else if ((title = strdup("Sign in")) == NULL) {
        return NULL;
    }

    /* Why this browser was signed out, read before the form (a status,
     * not an alert: nothing the user typed was wrong). */
    if (p->notice != NULL) {
        page_buf_put(&b, "<p id=\"notice\" class=\"notice\" role=\"status\">");
        page_buf_esc(&b, p->notice);
        page_buf_put(&b, "</p>\n");
    }
    /* WCAG 3.3.1: the error is announced (role="alert") and tied to the
     * fields it is about. */
    if (p->error != NULL) {
        page_buf_put(&b, "<p id=\"error\" class=\"error\" role=\"alert\">");
        page_buf_esc(&b, p->error);
        page_buf_put(&b, "</p>\n");
        described = " aria-describedby=\"error\"";
    }
    page_buf_put(&b, "<form method=\"post\" action=\"");
    page_buf_esc(&b, p->action ? p->action : "");
    page_buf_put(&b, "\">\n");
    page_buf_hidden(&b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(&b, "request", p->request);
    page_buf_put(&b, "<label for=\"username\">Username</label>\n"
                     "<input id=\"username\" name=\"username\" type=\"text\" "
                     "autocomplete=\"username\" autocapitalize=\"none\" "
                     "spellcheck=\"false\" required autofocus");
    page_buf_put(&b, described);
    if (p->username != NULL) {
        page_buf_put(&b, " value=\"");
        page_buf_esc(&b, p->username);
        page_buf_put(&b, "\"");
    }
    page_buf_put(&b,
                 ">\n"
                 "<label for=\"password\">Password</label>\n"
                 "<input id=\"password\" name=\"password\" type=\"password\" "
                 "autocomplete=\"current-password\" required");
    page_buf_put(&b, described);
    page_buf_put(&b, ">\n");
    /* SPEC §5: unticked, the SSO cookie ends with the browser session. */
    page_buf_put(&b, "<div class=\"check\"><input id=\"keep\" name=\"keep\" "
                     "type=\"checkbox\" value=\"1\"");
    if (p->keep)
        page_buf_put(&b, " checked");
    page_buf_put(&b, ">\n<label for=\"keep\">");
    page_buf_esc(&b, tr(ctx->lang, "Keep me signed in on this device"));
    page_buf_put(&b, "</label></div>\n");
    page_buf_put(&b, "<button type=\"submit\">Sign in</button>\n"
                     "</form>\n");

    html = page_buf_finish(ctx, title, &b);
    free(title);
    return html;
}

char *
pages_signed_in(const struct page_ctx *ctx, const char *username)
{
    struct page_buf b = {0};

    page_buf_put(&b, "<p>You are signed in as ");
    page_buf_esc(&b, username ? username : "");
    page_buf_put(&b, ".</p>\n");
    return page_buf_finish(ctx, "Signed in", &b);
}

char *
pages_logout_confirm(const struct page_ctx *ctx,
                     const struct page_logout_confirm *p)
{
    struct page_buf b = {0};

    if (p->napps > 0) {
        page_buf_put(&b, "<p>You will be signed out of:</p>\n");
        put_apps(&b, p->apps, p->napps);
    } else {
        page_buf_put(&b, "<p>You will be signed out of Gatehouse.</p>\n");
    }
    page_buf_put(&b,
                 "<p class=\"hint\"><b>Sign out</b> ends your session on this "
                 "device. <b>Sign out everywhere</b> ends it on every device "
                 "you use.</p>\n");
    page_buf_put(&b, "<form method=\"post\" action=\"");
    page_buf_esc(&b, p->action ? p->action : "");
    page_buf_put(&b, "\">\n");
    page_buf_hidden(&b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(&b, "client_id", p->client_id);
    page_buf_hidden(&b, "post_logout_redirect_uri",
                    p->post_logout_redirect_uri);
    page_buf_hidden(&b, "state", p->state);
    page_buf_put(&b,
                 "<button type=\"submit\" name=\"scope\" value=\"session\">"
                 "Sign out</button>\n"
                 "<button type=\"submit\" name=\"scope\" value=\"everywhere\" "
                 "class=\"secondary\">Sign out everywhere</button>\n"
                 "</form>\n");
    return page_buf_finish(ctx, "Sign out?", &b);
}

/*
 * Marks each reporting app "notified" once its iframe has loaded, and
 * follows the "Continue" link once every frame has (OIDC Front-Channel
 * Logout 1.0 §4: back to the app only after the apps were told), or after
 * 5 s whatever a frame does. Loaded by a blocking <script> before the
 * iframes exist, it listens on the document in the capture phase (load
 * does not bubble), so no load is missed however fast a frame answers;
 * whatever has not loaded when the page is parsed reads "notifying" until
 * it does.
 */
const char pages_frontchannel_script[] =
    "\"use strict\";\n"
    "(function () {\n"
    "  var done = {}, loaded = 0, parsed = false;\n"
    "  function label(f, text) {\n"
    "    var s = document.getElementById(f.getAttribute(\"data-status\"));\n"
    "    if (s) s.textContent = text;\n"
    "  }\n"
    "  function go() {\n"
    "    var c = document.getElementById(\"continue\");\n"
    "    if (c) location.replace(c.href);\n"
    "  }\n"
    "  document.addEventListener(\"load\", function (e) {\n"
    "    var f = e.target, id;\n"
    "    if (!f || f.tagName !== \"IFRAME\" || "
    "!f.hasAttribute(\"data-frame\"))\n"
    "      return;\n"
    "    id = f.getAttribute(\"data-frame\");\n"
    "    if (done[id]) return;\n"
    "    done[id] = true;\n"
    "    loaded++;\n"
    "    if (f.hasAttribute(\"data-status\")) label(f, \"notified\");\n"
    "    if (parsed &&\n"
    "        loaded >= "
    "document.querySelectorAll(\"iframe[data-frame]\").length)\n"
    "      go();\n"
    "  }, true);\n"
    "  document.addEventListener(\"DOMContentLoaded\", function () {\n"
    "    var fs = document.querySelectorAll(\"iframe[data-frame]\");\n"
    "    parsed = true;\n"
    "    for (var i = 0; i < fs.length; i++)\n"
    "      if (!done[fs[i].getAttribute(\"data-frame\")] &&\n"
    "          fs[i].hasAttribute(\"data-status\"))\n"
    "        label(fs[i], \"notifying\\u2026\");\n"
    "    if (loaded >= fs.length) go();\n"
    "    else setTimeout(go, 5000);\n"
    "  });\n"
    "})();\n";

/* OIDC Front-Channel Logout 1.0 §3: one hidden iframe per app, which the
 * browser loads with or without script; out of the tab order and named
 * for assistive technology. */
static void
put_frames(struct page_buf *b, const struct page_app_status *apps, size_t napps)
{
    size_t i;

    for (i = 0; i < napps; i++) {
        if (apps[i].frame == NULL)
            continue;
        page_buf_put(b, "<iframe hidden tabindex=\"-1\" title=\"");
        page_buf_esc(b, apps[i].name ? apps[i].name : "(unnamed app)");
        page_buf_put(b, "\" src=\"");
        page_buf_esc(b, apps[i].frame);
        page_buf_put(b, "\" data-frame=\"");
        put_frame_id(b, i);
        page_buf_put(b, "\"");
        if (apps[i].frame_reports) {
            page_buf_put(b, " data-status=\"");
            put_frame_id(b, i);
            page_buf_put(b, "\"");
        }
        page_buf_put(b, "></iframe>\n");
    }
}

char *
pages_signed_out(const struct page_ctx *ctx, const struct page_app_status *apps,
                 size_t napps)
{
    return pages_signed_out_continue(ctx, apps, napps, NULL);
}

char *
pages_signed_out_continue(const struct page_ctx *ctx,
                          const struct page_app_status *apps, size_t napps,
                          const char *continue_url)
{
    struct page_buf b = {0};
    size_t i;

    for (i = 0; i < napps; i++)
        if (apps[i].frame != NULL) {
            page_buf_put(&b, "<script src=\"" PAGES_FRONTCHANNEL_SCRIPT_PATH
                             "\"></script>\n");
            break;
        }
    if (napps > 0) {
        page_buf_put(&b, "<p>Your apps:</p>\n");
        put_apps(&b, apps, napps);
        put_frames(&b, apps, napps);
    }
    if (continue_url != NULL) {
        page_buf_put(&b, "<p><a id=\"continue\" href=\"");
        page_buf_esc(&b, continue_url);
        page_buf_put(&b, "\">Continue</a></p>\n");
    }
    return page_buf_finish(ctx, "You are signed out", &b);
}

char *
pages_error(const struct page_ctx *ctx, const char *title, const char *message)
{
    struct page_buf b = {0};

    if (message != NULL) {
        page_buf_put(&b, "<p>");
        page_buf_esc(&b, tr(ctx->lang, message));
        page_buf_put(&b, "</p>\n");
    }
    return page_buf_finish(
        ctx, tr(ctx->lang, title ? title : "Something went wrong"), &b);
}
