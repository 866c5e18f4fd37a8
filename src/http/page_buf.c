/* SPDX-License-Identifier: MIT */
/* The layout and building blocks of every page (page_buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/i18n.h"
#include "gatehouse/http/form.h"
#include "http/page_buf.h"

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
    ".check{display:flex;align-items:center;gap:.625rem;margin-top:1rem}"
    ".check input{flex:none;width:1.375rem;min-height:0;height:1.375rem;"
    "margin:0;accent-color:#1d4ed8}"
    ".check label{margin:0;font-weight:400}"
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
    /* the account page's sessions (pages_account.c) */
    ".session{margin:0 0 1rem;padding:1rem;border:1px solid #d0d5dc;"
    "border-radius:.5rem}"
    ".session.current{border:2px solid #1d4ed8}"
    ".session h2{margin:0 0 .5rem;font-size:1.125rem}"
    ".tag{display:inline-block;margin-left:.5rem;padding:0 .5rem;"
    "border-radius:1rem;background:#1d4ed8;color:#fff;font-size:.8125rem;"
    "font-weight:600;vertical-align:middle}"
    ".session dl{display:grid;grid-template-columns:auto 1fr;"
    "gap:.25rem 1rem;margin:0}"
    ".session dt{color:#4a5260}"
    ".session dd{margin:0;overflow-wrap:anywhere}"
    ".session ul{margin:0;padding:0;list-style:none}"
    ".session button{margin-top:1rem}"
    "@media (max-width:30rem){body{padding:0;background:#fff}"
    "main{padding:1.5rem 1.25rem;border-radius:0;box-shadow:none}}";

void
page_buf_put(struct page_buf *b, const char *s)
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

void
page_buf_esc(struct page_buf *b, const char *s)
{
    char *e;

    if (s == NULL || b->oom)
        return;
    if ((e = form_html_escape(s)) == NULL) {
        b->oom = 1;
        return;
    }
    page_buf_put(b, e);
    free(e);
}

void
page_buf_fmt(struct page_buf *b, const char *fmt, const char *open,
             const char *arg, const char *close)
{
    const char *at = strstr(fmt, "%s");
    char *head;

    if (at == NULL) {
        page_buf_esc(b, fmt);
        return;
    }
    if ((head = strndup(fmt, (size_t)(at - fmt))) == NULL) {
        b->oom = 1;
        return;
    }
    page_buf_esc(b, head);
    free(head);
    page_buf_put(b, open);
    page_buf_esc(b, arg);
    page_buf_put(b, close);
    page_buf_esc(b, at + 2);
}

void
page_buf_action(struct page_buf *b, const struct page_ctx *ctx,
                const char *action)
{
    page_buf_esc(b, action != NULL ? action : "");
    if (!ctx->lang_param)
        return;
    page_buf_put(b,
                 action != NULL && strchr(action, '?') != NULL ? "&amp;" : "?");
    page_buf_put(b, "lang=");
    page_buf_put(b, i18n_tag(ctx->lang));
}

void
page_buf_form(struct page_buf *b, const struct page_ctx *ctx,
              const char *action)
{
    page_buf_put(b, "<form method=\"post\" action=\"");
    page_buf_action(b, ctx, action);
    page_buf_put(b, "\">\n");
}

void
page_buf_para(struct page_buf *b, const char *text)
{
    page_buf_put(b, "<p>");
    page_buf_esc(b, text);
    page_buf_put(b, "</p>\n");
}

void
page_buf_submit(struct page_buf *b, const char *id, const char *label)
{
    page_buf_put(b, "<button type=\"submit\"");
    if (id != NULL) {
        page_buf_put(b, " id=\"");
        page_buf_put(b, id);
        page_buf_put(b, "\"");
    }
    page_buf_put(b, ">");
    page_buf_esc(b, label);
    page_buf_put(b, "</button>\n</form>\n");
}

const char *
page_buf_alert(struct page_buf *b, const char *error)
{
    if (error == NULL)
        return "";
    page_buf_put(b, "<p id=\"error\" class=\"error\" role=\"alert\">");
    page_buf_esc(b, error);
    page_buf_put(b, "</p>\n");
    return " aria-describedby=\"error\"";
}

void
page_buf_hidden(struct page_buf *b, const char *name, const char *value)
{
    if (value == NULL)
        return;
    page_buf_put(b, "<input type=\"hidden\" name=\"");
    page_buf_put(b, name);
    page_buf_put(b, "\" value=\"");
    page_buf_esc(b, value);
    page_buf_put(b, "\">\n");
}

void
page_buf_field(struct page_buf *b, const char *name, const char *label,
               const char *attrs, const char *described, const char *value)
{
    page_buf_put(b, "<label for=\"");
    page_buf_put(b, name);
    page_buf_put(b, "\">");
    page_buf_esc(b, label);
    page_buf_put(b, "</label>\n<input id=\"");
    page_buf_put(b, name);
    page_buf_put(b, "\" name=\"");
    page_buf_put(b, name);
    page_buf_put(b, "\" ");
    page_buf_put(b, attrs);
    page_buf_put(b, described);
    if (value != NULL) {
        page_buf_put(b, " value=\"");
        page_buf_esc(b, value);
        page_buf_put(b, "\"");
    }
    page_buf_put(b, ">\n");
}

void
page_buf_signed_in(struct page_buf *b, const struct page_ctx *ctx,
                   const char *username)
{
    page_buf_put(b, "<p>");
    page_buf_fmt(b, tr(ctx->lang, "Signed in as %s."), "",
                 username ? username : "", "");
    page_buf_put(b, "</p>\n");
}

char *
page_buf_finish(const struct page_ctx *ctx, const char *title,
                struct page_buf *body)
{
    struct page_buf b = {0};

    if (body->oom) {
        free(body->s);
        return NULL;
    }
    page_buf_put(&b, "<!doctype html>\n"
                     "<html lang=\"");
    page_buf_put(&b, i18n_tag(ctx->lang));
    page_buf_put(&b, "\">\n"
                     "<head>\n"
                     "<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" "
                     "content=\"width=device-width, initial-scale=1\">\n"
                     "<meta name=\"robots\" content=\"noindex\">\n"
                     "<title>");
    page_buf_esc(&b, title);
    page_buf_put(&b, "</title>\n<style>");
    page_buf_put(&b, style);
    page_buf_put(&b, "</style>\n"
                     "</head>\n"
                     "<body>\n"
                     "<main>\n"
                     "<p class=\"brand\">Gatehouse</p>\n");
    /* The maintenance announcement, before anything else the page says,
     * read out as a status (nothing the reader did caused it). */
    if (ctx->banner != NULL) {
        page_buf_put(&b, "<p id=\"banner\" class=\"notice\" role=\"status\">");
        page_buf_esc(&b, ctx->banner);
        page_buf_put(&b, "</p>\n");
    }
    page_buf_put(&b, "<h1>");
    page_buf_esc(&b, title);
    page_buf_put(&b, "</h1>\n");
    if (body->s != NULL)
        page_buf_put(&b, body->s);
    page_buf_put(&b, "</main>\n"
                     "</body>\n"
                     "</html>\n");
    free(body->s);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
