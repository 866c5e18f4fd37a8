/* SPDX-License-Identifier: MIT */
/* The HTML pages a person sees: sign-in, signed in, logout, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/http/form.h"
#include "gatehouse/http/pages.h"

/*
 * Every page is served with "default-src 'none'; style-src 'unsafe-inline';
 * form-action 'self' http: https:; frame-ancestors 'none'": no script, no
 * external stylesheet, font or image can load, so the whole look is the one
 * inline <style> below. (The signed-out page alone also allows its
 * front-channel frames' origins and one script file of our own origin.)
 * Everything that did not come from this file goes through put_esc
 * (form_html_escape), in text and attributes alike; every attribute value
 * is double-quoted.
 */
static const char style[] =
    "*{box-sizing:border-box}"
    "body{margin:0;padding:2rem 1rem;background:#f1f3f5;color:#1a1d21;"
    "font:1.0625rem/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "sans-serif}"
    "main{max-width:26rem;margin:0 auto;padding:2rem 1.5rem;"
    "background:#fff;border-radius:.75rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    ".brand{margin:0 0 1.25rem;color:#4a5260;font-size:.8125rem;"
    "font-weight:600;letter-spacing:.08em;text-transform:uppercase}"
    "h1{margin:0 0 1rem;font-size:1.5rem;line-height:1.25}"
    "p{margin:0 0 1rem}"
    "label{display:block;margin:1rem 0 .375rem;font-weight:600}"
    "input{display:block;width:100%;min-height:3rem;padding:.625rem .75rem;"
    "border:1px solid #6b7380;border-radius:.5rem;background:#fff;"
    "color:inherit;font:inherit}"
    "button{display:block;width:100%;min-height:3rem;margin-top:1.5rem;"
    "padding:.75rem 1rem;border:2px solid #1d4ed8;border-radius:.5rem;"
    "background:#1d4ed8;color:#fff;font:inherit;font-weight:600;"
    "cursor:pointer}"
    "button:hover{background:#1e40af;border-color:#1e40af}"
    "button.secondary{margin-top:.75rem;background:#fff;color:#1d4ed8}"
    "button.secondary:hover{background:#eff4ff}"
    "input:focus,button:focus-visible{outline:3px solid #1d4ed8;"
    "outline-offset:2px}"
    ".error{padding:.75rem 1rem;border-left:4px solid #b42318;"
    "border-radius:.25rem;background:#fef3f2;color:#912018}"
    ".notice{padding:.75rem 1rem;border-left:4px solid #1d4ed8;"
    "border-radius:.25rem;background:#eff4ff;color:#1e3a8a}"
    ".apps{margin:0 0 1rem;padding:0;list-style:none;"
    "border-top:1px solid #e3e6ea}"
    ".apps li{padding:.625rem 0;border-bottom:1px solid #e3e6ea}"
    ".hint{margin-top:1.25rem;color:#4a5260;font-size:.9375rem}"
    "@media (max-width:30rem){body{padding:0;background:#fff}"
    "main{padding:1.5rem 1.25rem;border-radius:0;box-shadow:none}}";

/* A growing string; after a failed allocation every append is a no-op and
 * the result is NULL, so page builders check for memory once, at the end. */
struct buf {
    char *s;
    size_t len, cap;
    int oom;
};

static void
put(struct buf *b, const char *s)
{
    size_t n = strlen(s), cap;
    char *p;

    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        for (cap = b->cap ? b->cap : 2048; cap < b->len + n + 1; cap *= 2)
            ;
        if ((p = realloc(b->s, cap)) == NULL) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

/* Appends s escaped for HTML text or a double-quoted attribute; NULL adds
 * nothing. */
static void
put_esc(struct buf *b, const char *s)
{
    char *e;

    if (s == NULL || b->oom)
        return;
    if ((e = form_html_escape(s)) == NULL) {
        b->oom = 1;
        return;
    }
    put(b, e);
    free(e);
}

/* <input type="hidden">, omitted when value is NULL. */
static void
put_hidden(struct buf *b, const char *name, const char *value)
{
    if (value == NULL)
        return;
    put(b, "<input type=\"hidden\" name=\"");
    put(b, name);
    put(b, "\" value=\"");
    put_esc(b, value);
    put(b, "\">\n");
}

/* The id tying app i's status to its iframe, for the script. */
static void
put_frame_id(struct buf *b, size_t i)
{
    char id[32];

    snprintf(id, sizeof(id), "fcl-%zu", i);
    put(b, id);
}

static void
put_frame_status(struct buf *b, size_t i)
{
    put(b, "<span id=\"");
    put_frame_id(b, i);
    put(b, "\">");
}

/* One <li> per app: "CRM — signed out", or just "CRM" without a status. */
static void
put_apps(struct buf *b, const struct page_app_status *apps, size_t napps)
{
    size_t i;

    if (apps == NULL || napps == 0)
        return;
    put(b, "<ul class=\"apps\">\n");
    for (i = 0; i < napps; i++) {
        put(b, "<li>");
        put_esc(b, apps[i].name ? apps[i].name : "(unnamed app)");
        if (apps[i].status != NULL) {
            put(b, " \xe2\x80\x94 "); /* U+2014 em dash */
            if (apps[i].frame != NULL && apps[i].frame_reports)
                put_frame_status(b, i);
            put_esc(b, apps[i].status);
            if (apps[i].frame != NULL && apps[i].frame_reports)
                put(b, "</span>");
        }
        put(b, "</li>\n");
    }
    put(b, "</ul>\n");
}

/*
 * The layout every page shares: head, style, and a centred card holding the
 * brand, an <h1> of title and the body (already-escaped HTML). Takes the
 * body's memory in every case. Returns the malloc'd page, or NULL when any
 * allocation failed, body's included.
 */
static char *
page(const char *title, struct buf *body)
{
    struct buf b = {0};

    if (body->oom) {
        free(body->s);
        return NULL;
    }
    put(&b, "<!doctype html>\n"
            "<html lang=\"en\">\n"
            "<head>\n"
            "<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex\">\n"
            "<title>");
    put_esc(&b, title);
    put(&b, "</title>\n<style>");
    put(&b, style);
    put(&b, "</style>\n"
            "</head>\n"
            "<body>\n"
            "<main>\n"
            "<p class=\"brand\">Gatehouse</p>\n"
            "<h1>");
    put_esc(&b, title);
    put(&b, "</h1>\n");
    if (body->s != NULL)
        put(&b, body->s);
    put(&b, "</main>\n"
            "</body>\n"
            "</html>\n");
    free(body->s);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *
pages_login(const struct page_login *p)
{
    struct buf b = {0};
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
        put(&b, "<p id=\"notice\" class=\"notice\" role=\"status\">");
        put_esc(&b, p->notice);
        put(&b, "</p>\n");
    }
    /* WCAG 3.3.1: the error is announced (role="alert") and tied to the
     * fields it is about. */
    if (p->error != NULL) {
        put(&b, "<p id=\"error\" class=\"error\" role=\"alert\">");
        put_esc(&b, p->error);
        put(&b, "</p>\n");
        described = " aria-describedby=\"error\"";
    }
    put(&b, "<form method=\"post\" action=\"");
    put_esc(&b, p->action ? p->action : "");
    put(&b, "\">\n");
    put_hidden(&b, "csrf", p->csrf ? p->csrf : "");
    put_hidden(&b, "request", p->request);
    put(&b, "<label for=\"username\">Username</label>\n"
            "<input id=\"username\" name=\"username\" type=\"text\" "
            "autocomplete=\"username\" autocapitalize=\"none\" "
            "spellcheck=\"false\" required autofocus");
    put(&b, described);
    if (p->username != NULL) {
        put(&b, " value=\"");
        put_esc(&b, p->username);
        put(&b, "\"");
    }
    put(&b, ">\n"
            "<label for=\"password\">Password</label>\n"
            "<input id=\"password\" name=\"password\" type=\"password\" "
            "autocomplete=\"current-password\" required");
    put(&b, described);
    put(&b, ">\n"
            "<button type=\"submit\">Sign in</button>\n"
            "</form>\n");

    html = page(title, &b);
    free(title);
    return html;
}

char *
pages_signed_in(const char *username)
{
    struct buf b = {0};

    put(&b, "<p>You are signed in as ");
    put_esc(&b, username ? username : "");
    put(&b, ".</p>\n");
    return page("Signed in", &b);
}

char *
pages_logout_confirm(const struct page_logout_confirm *p)
{
    struct buf b = {0};

    if (p->napps > 0) {
        put(&b, "<p>You will be signed out of:</p>\n");
        put_apps(&b, p->apps, p->napps);
    } else {
        put(&b, "<p>You will be signed out of Gatehouse.</p>\n");
    }
    put(&b, "<p class=\"hint\"><b>Sign out</b> ends your session on this "
            "device. <b>Sign out everywhere</b> ends it on every device "
            "you use.</p>\n");
    put(&b, "<form method=\"post\" action=\"");
    put_esc(&b, p->action ? p->action : "");
    put(&b, "\">\n");
    put_hidden(&b, "csrf", p->csrf ? p->csrf : "");
    put_hidden(&b, "client_id", p->client_id);
    put_hidden(&b, "post_logout_redirect_uri", p->post_logout_redirect_uri);
    put_hidden(&b, "state", p->state);
    put(&b, "<button type=\"submit\" name=\"scope\" value=\"session\">"
            "Sign out</button>\n"
            "<button type=\"submit\" name=\"scope\" value=\"everywhere\" "
            "class=\"secondary\">Sign out everywhere</button>\n"
            "</form>\n");
    return page("Sign out?", &b);
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
    "    if (!f || f.tagName !== \"IFRAME\" || !f.hasAttribute(\"data-frame\"))\n"
    "      return;\n"
    "    id = f.getAttribute(\"data-frame\");\n"
    "    if (done[id]) return;\n"
    "    done[id] = true;\n"
    "    loaded++;\n"
    "    if (f.hasAttribute(\"data-status\")) label(f, \"notified\");\n"
    "    if (parsed &&\n"
    "        loaded >= document.querySelectorAll(\"iframe[data-frame]\").length)\n"
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
put_frames(struct buf *b, const struct page_app_status *apps, size_t napps)
{
    size_t i;

    for (i = 0; i < napps; i++) {
        if (apps[i].frame == NULL)
            continue;
        put(b, "<iframe hidden tabindex=\"-1\" title=\"");
        put_esc(b, apps[i].name ? apps[i].name : "(unnamed app)");
        put(b, "\" src=\"");
        put_esc(b, apps[i].frame);
        put(b, "\" data-frame=\"");
        put_frame_id(b, i);
        put(b, "\"");
        if (apps[i].frame_reports) {
            put(b, " data-status=\"");
            put_frame_id(b, i);
            put(b, "\"");
        }
        put(b, "></iframe>\n");
    }
}

char *
pages_signed_out(const struct page_app_status *apps, size_t napps)
{
    return pages_signed_out_continue(apps, napps, NULL);
}

char *
pages_signed_out_continue(const struct page_app_status *apps, size_t napps,
                          const char *continue_url)
{
    struct buf b = {0};
    size_t i;

    for (i = 0; i < napps; i++)
        if (apps[i].frame != NULL) {
            put(&b, "<script src=\"" PAGES_FRONTCHANNEL_SCRIPT_PATH
                    "\"></script>\n");
            break;
        }
    if (napps > 0) {
        put(&b, "<p>Your apps:</p>\n");
        put_apps(&b, apps, napps);
        put_frames(&b, apps, napps);
    }
    if (continue_url != NULL) {
        put(&b, "<p><a id=\"continue\" href=\"");
        put_esc(&b, continue_url);
        put(&b, "\">Continue</a></p>\n");
    }
    return page("You are signed out", &b);
}

char *
pages_error(const char *title, const char *message)
{
    struct buf b = {0};

    if (message != NULL) {
        put(&b, "<p>");
        put_esc(&b, message);
        put(&b, "</p>\n");
    }
    return page(title ? title : "Something went wrong", &b);
}
