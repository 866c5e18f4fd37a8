/* SPDX-License-Identifier: MIT */
/* The HTML pages a person sees: sign-in, signed in, logout, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/i18n.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/pages.h"
#include "http/page_buf.h"

/* fmt with arg in place of its one "%s" (page_buf_fmt, unescaped, for a
 * title); malloc'd, NULL: out of memory. */
static char *
subst(const char *fmt, const char *arg)
{
    const char *at = strstr(fmt, "%s");
    size_t n;
    char *s;

    if (at == NULL)
        return strdup(fmt);
    n = strlen(fmt) - 2 + strlen(arg) + 1;
    if ((s = malloc(n)) == NULL)
        return NULL;
    snprintf(s, n, "%.*s%s%s", (int)(at - fmt), fmt, arg, at + 2);
    return s;
}

static const char *
app_name(const struct page_ctx *ctx, const struct page_app_status *a)
{
    return a->name != NULL ? a->name : tr(ctx->lang, "(unnamed app)");
}

/* The account page (pages_account.c), linked from the sign-out pages. */
static void
put_account_link(struct page_buf *b, const struct page_ctx *ctx)
{
    page_buf_put(b, "<p class=\"hint\"><a id=\"account\" href=\"");
    page_buf_action(b, ctx, "/account");
    page_buf_put(b, "\">");
    page_buf_esc(b, tr(ctx->lang, "Manage your sessions"));
    page_buf_put(b, "</a></p>\n");
}

/* The id tying app i's status to its iframe, for the script. */
static void
put_frame_id(struct page_buf *b, size_t i)
{
    char id[32];

    snprintf(id, sizeof(id), "fcl-%zu", i);
    page_buf_put(b, id);
}

/* The status the script rewrites, with the words it writes, in the
 * reader's language. */
static void
put_frame_status(const struct page_ctx *ctx, struct page_buf *b, size_t i)
{
    page_buf_put(b, "<span id=\"");
    put_frame_id(b, i);
    page_buf_put(b, "\" data-notified=\"");
    /* TRANSLATORS: an app's status once its front-channel frame loaded */
    page_buf_esc(b, tr(ctx->lang, "notified"));
    page_buf_put(b, "\" data-notifying=\"");
    /* TRANSLATORS: an app's status while its front-channel frame loads */
    page_buf_esc(b, tr(ctx->lang, "notifying\xe2\x80\xa6"));
    page_buf_put(b, "\">");
}

/* One <li> per app: "CRM — signed out", or just "CRM" without a status. */
static void
put_apps(const struct page_ctx *ctx, struct page_buf *b,
         const struct page_app_status *apps, size_t napps)
{
    size_t i;

    if (apps == NULL || napps == 0)
        return;
    page_buf_put(b, "<ul class=\"apps\">\n");
    for (i = 0; i < napps; i++) {
        if (apps[i].frame != NULL && apps[i].status == NULL)
            continue; /* another session's frame, not listed */
        page_buf_put(b, "<li>");
        page_buf_esc(b, app_name(ctx, &apps[i]));
        if (apps[i].status != NULL) {
            page_buf_put(b, " \xe2\x80\x94 "); /* U+2014 em dash */
            if (apps[i].frame != NULL && apps[i].frame_reports)
                put_frame_status(ctx, b, i);
            page_buf_esc(b, tr(ctx->lang, apps[i].status));
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

    if (p->app_name != NULL)
        /* TRANSLATORS: %s is the name of the application signed in to */
        title = subst(tr(ctx->lang, "Sign in to %s"), p->app_name);
    else
        title = strdup(tr(ctx->lang, "Sign in"));
    if (title == NULL)
        return NULL;

    /* Why this browser was signed out, read before the form (a status,
     * not an alert: nothing the user typed was wrong). */
    if (p->notice != NULL) {
        page_buf_put(&b, "<p id=\"notice\" class=\"notice\" role=\"status\">");
        page_buf_esc(&b, tr(ctx->lang, p->notice));
        page_buf_put(&b, "</p>\n");
    }
    /* WCAG 3.3.1: the error is announced (role="alert") and tied to the
     * fields it is about. */
    described =
        page_buf_alert(&b, p->error != NULL ? tr(ctx->lang, p->error) : NULL);
    page_buf_form(&b, ctx, p->action);
    page_buf_hidden(&b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(&b, "request", p->request);
    page_buf_hidden(&b, "return", p->return_to);
    page_buf_field(&b, "username", tr(ctx->lang, "Username"),
                   "type=\"text\" autocomplete=\"username\" "
                   "autocapitalize=\"none\" spellcheck=\"false\" "
                   "required autofocus",
                   described, p->username);
    page_buf_field(&b, "password", tr(ctx->lang, "Password"),
                   "type=\"password\" autocomplete=\"current-password\" "
                   "required",
                   described, NULL);
    /* SPEC §5: unticked, the SSO cookie ends with the browser session. */
    page_buf_put(&b, "<div class=\"check\"><input id=\"keep\" name=\"keep\" "
                     "type=\"checkbox\" value=\"1\"");
    if (p->keep)
        page_buf_put(&b, " checked");
    page_buf_put(&b, ">\n<label for=\"keep\">");
    page_buf_esc(&b, tr(ctx->lang, "Keep me signed in on this device"));
    page_buf_put(&b, "</label></div>\n");
    page_buf_submit(&b, NULL, tr(ctx->lang, "Sign in"));
    /* SPEC §7: a passwordless sign-in, on a page of its own (its script
     * is loaded there only); a GET form carries the pending request. */
    page_buf_put(&b, "<form method=\"get\" action=\"/login/passkey\" "
                     "class=\"alt\">\n");
    page_buf_hidden(&b, "request", p->request);
    page_buf_hidden(&b, "return", p->return_to);
    page_buf_put(&b, "<button type=\"submit\" class=\"secondary\" "
                     "id=\"use-passkey\">");
    /* Not "Sign in with ...": the form's own button is the one "Sign in"
     * names (for people and for tests looking for it). */
    page_buf_esc(&b, tr(ctx->lang, "Use a passkey"));
    page_buf_put(&b, "</button>\n</form>\n");

    html = page_buf_finish(ctx, title, &b);
    free(title);
    return html;
}

char *
pages_signed_in(const struct page_ctx *ctx, const char *username)
{
    struct page_buf b = {0};

    page_buf_put(&b, "<p>");
    /* TRANSLATORS: %s is the username */
    page_buf_fmt(&b, tr(ctx->lang, "You are signed in as %s."), "",
                 username ? username : "", "");
    page_buf_put(&b, "</p>\n");
    return page_buf_finish(ctx, tr(ctx->lang, "Signed in"), &b);
}

char *
pages_logout_confirm(const struct page_ctx *ctx,
                     const struct page_logout_confirm *p)
{
    struct page_buf b = {0};
    const char *out = tr(ctx->lang, "Sign out"),
               *everywhere = tr(ctx->lang, "Sign out everywhere");

    /* Issue 17: the apps by name, and the work open in them first. */
    if (p->napps > 0) {
        page_buf_put(&b, "<p id=\"save-work\">");
        page_buf_esc(&b, tr(ctx->lang, "Save your work in these apps before "
                                       "you sign out. Signing out here signs "
                                       "you out of each of them:"));
        page_buf_put(&b, "</p>\n");
        put_apps(ctx, &b, p->apps, p->napps);
    } else {
        page_buf_para(&b,
                      tr(ctx->lang, "You will be signed out of Gatehouse."));
    }
    page_buf_put(&b, "<p class=\"hint\">");
    /* TRANSLATORS: %s is the "Sign out" button's label */
    page_buf_fmt(&b, tr(ctx->lang, "%s ends your session on this device."),
                 "<b>", out, "</b>");
    page_buf_put(&b, " ");
    /* TRANSLATORS: %s is the "Sign out everywhere" button's label */
    page_buf_fmt(&b, tr(ctx->lang, "%s ends it on every device you use."),
                 "<b>", everywhere, "</b>");
    page_buf_put(&b, "</p>\n");
    page_buf_form(&b, ctx, p->action);
    page_buf_hidden(&b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(&b, "client_id", p->client_id);
    page_buf_hidden(&b, "post_logout_redirect_uri",
                    p->post_logout_redirect_uri);
    page_buf_hidden(&b, "state", p->state);
    page_buf_put(&b, "<button type=\"submit\" name=\"scope\" "
                     "value=\"session\">");
    page_buf_esc(&b, out);
    page_buf_put(&b, "</button>\n"
                     "<button type=\"submit\" name=\"scope\" "
                     "value=\"everywhere\" class=\"secondary\">");
    page_buf_esc(&b, everywhere);
    page_buf_put(&b, "</button>\n</form>\n");
    put_account_link(&b, ctx);
    return page_buf_finish(ctx, tr(ctx->lang, "Sign out?"), &b);
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
    "  function label(f, word) {\n"
    "    var s = document.getElementById(f.getAttribute(\"data-status\"));\n"
    "    if (s) s.textContent = s.getAttribute(\"data-\" + word);\n"
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
    "        label(fs[i], \"notifying\");\n"
    "    if (loaded >= fs.length) go();\n"
    "    else setTimeout(go, 5000);\n"
    "  });\n"
    "})();\n";

/* OIDC Front-Channel Logout 1.0 §3: one hidden iframe per app, which the
 * browser loads with or without script; out of the tab order and named
 * for assistive technology. */
static void
put_frames(const struct page_ctx *ctx, struct page_buf *b,
           const struct page_app_status *apps, size_t napps)
{
    size_t i;

    for (i = 0; i < napps; i++) {
        if (apps[i].frame == NULL)
            continue;
        page_buf_put(b, "<iframe hidden tabindex=\"-1\" title=\"");
        page_buf_esc(b, app_name(ctx, &apps[i]));
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
pages_signed_out(const struct page_ctx *ctx, enum signed_out_scope scope,
                 const struct page_app_status *apps, size_t napps)
{
    return pages_signed_out_continue(ctx, scope, apps, napps, NULL);
}

char *
pages_signed_out_continue(const struct page_ctx *ctx,
                          enum signed_out_scope scope,
                          const struct page_app_status *apps, size_t napps,
                          const char *continue_url)
{
    const char *what = scope == SIGNED_OUT_EVERYWHERE
                           ? N_("You are signed out on every device.")
                       : scope == SIGNED_OUT_DEVICE
                           ? N_("You are signed out on this device.")
                           : N_("You were already signed out on this "
                                "device.");
    struct page_buf b = {0};
    size_t i;

    for (i = 0; i < napps; i++)
        if (apps[i].frame != NULL) {
            page_buf_put(&b, "<script src=\"" PAGES_FRONTCHANNEL_SCRIPT_PATH
                             "\"></script>\n");
            break;
        }
    page_buf_put(&b, "<p id=\"ended\">");
    page_buf_esc(&b, tr(ctx->lang, what));
    page_buf_put(&b, "</p>\n");
    for (i = 0; i < napps; i++)
        if (apps[i].frame == NULL || apps[i].status != NULL)
            break; /* one is listed */
    if (i < napps) {
        page_buf_para(&b, tr(ctx->lang, "Your apps:"));
        put_apps(ctx, &b, apps, napps);
    }
    put_frames(ctx, &b, apps, napps);
    page_buf_put(&b, "<p id=\"shared\" class=\"hint\">");
    page_buf_esc(&b, tr(ctx->lang, "On a shared computer? Close the browser "
                                   "now, so that the next person cannot use "
                                   "your apps."));
    page_buf_put(&b, "</p>\n");
    if (continue_url != NULL) {
        page_buf_put(&b, "<p><a id=\"continue\" href=\"");
        page_buf_esc(&b, continue_url);
        page_buf_put(&b, "\">");
        page_buf_esc(&b, tr(ctx->lang, "Continue"));
        page_buf_put(&b, "</a></p>\n");
    }
    put_account_link(&b, ctx);
    return page_buf_finish(ctx, tr(ctx->lang, "You are signed out"), &b);
}

char *
pages_error(const struct page_ctx *ctx, const char *title, const char *message)
{
    struct page_buf b = {0};

    if (message != NULL) {
        page_buf_para(&b, tr(ctx->lang, message));
    }
    return page_buf_finish(
        ctx, tr(ctx->lang, title ? title : N_("Something went wrong")), &b);
}
