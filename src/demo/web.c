/* SPDX-License-Identifier: MIT */
/* The demo app's HTTP toolkit (see web.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* No script and no external asset on any page: the whole look is this
 * inline style, readable on a phone. */
static const char style[] =
    "body{margin:0;padding:0 1rem 2rem;background:#f1f3f5;color:#1a1d21;"
    "font:1.0625rem/1.5 system-ui,sans-serif}"
    "main{max-width:26rem;margin:2rem auto 0;padding:2rem 1.5rem;"
    "background:#fff;border-radius:.75rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "h1{margin:0 0 1rem;font-size:1.5rem}"
    "button{width:100%;min-height:3rem;margin-top:1rem;border:0;"
    "border-radius:.5rem;background:#1d4ed8;color:#fff;font:inherit;"
    "font-weight:600;cursor:pointer}"
    "button:focus-visible{outline:3px solid #1a1d21;outline-offset:2px}"
    /* The signed-in bar: the app on the left, who and "Sign out" in the
     * top-right corner, where people look for it. */
    ".bar{display:flex;align-items:center;gap:.75rem;margin:0 -1rem;"
    "padding:.5rem 1rem;background:#fff;border-bottom:1px solid #d0d5dc}"
    ".bar .app{margin-right:auto;font-weight:600}"
    ".bar .who{min-width:0;overflow:hidden;text-overflow:ellipsis;"
    "white-space:nowrap;color:#4a5260}"
    ".bar form{margin:0}"
    ".bar button{width:auto;min-height:2.75rem;margin:0;padding:0 1rem}"
    ".banner{max-width:26rem;margin:1rem auto 0;padding:.75rem 1rem;"
    "border-left:4px solid #b54708;border-radius:.25rem;"
    "background:#fffaeb;color:#7a2e0e}"
    "@media (max-width:30rem){body{padding:0;background:#fff}"
    ".bar{margin:0}.banner{margin:0}"
    "main{margin-top:0;border-radius:0;box-shadow:none}}";

struct MHD_Response *
web_text(const char *content_type, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);

    if (r != NULL) {
        MHD_add_response_header(r, "Content-Type", content_type);
        MHD_add_response_header(r, "Cache-Control", "no-store");
    }
    return r;
}

struct MHD_Response *
web_redirect(const char *url)
{
    struct MHD_Response *r = web_text("text/plain", "");

    if (r != NULL)
        MHD_add_response_header(r, "Location", url);
    return r;
}

void
web_set_cookie(struct MHD_Response *r, const char *name, const char *value,
               const char *path, int max_age)
{
    char buf[256];

    /* SameSite=Lax also keeps other sites from posting our forms with it. */
    snprintf(buf, sizeof(buf),
             "%s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=Lax", name,
             value ? value : "", path, value ? max_age : 0);
    if (r != NULL)
        MHD_add_response_header(r, "Set-Cookie", buf);
}

enum MHD_Result
web_send(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

char *
web_escape(const char *s)
{
    size_t n = 1;
    const char *p;
    char *out, *o;

    for (p = s; *p; p++)
        n += strchr("<>&\"'", *p) ? 6 : 1;
    if ((out = o = malloc(n)) == NULL)
        return NULL;
    for (p = s; *p; p++) {
        const char *e = *p == '<'    ? "&lt;"
                        : *p == '>'  ? "&gt;"
                        : *p == '&'  ? "&amp;"
                        : *p == '"'  ? "&quot;"
                        : *p == '\'' ? "&#39;"
                                     : NULL;
        if (e != NULL)
            o = stpcpy(o, e);
        else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

enum MHD_Result
web_page(struct MHD_Connection *c, unsigned status, const char *title,
         const char *top, const char *body)
{
    char *t = web_escape(title), *html = NULL;
    struct MHD_Response *r;

    if (t == NULL ||
        asprintf(&html,
                 "<!doctype html>\n<html lang=\"en\">\n<head>\n"
                 "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                 "content=\"width=device-width, initial-scale=1\">\n"
                 "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n"
                 "%s<main>\n<h1>%s</h1>\n%s</main>\n</body>\n</html>\n",
                 t, style, top ? top : "", t, body) < 0)
        html = NULL;
    r = html != NULL ? web_text("text/html; charset=utf-8", html) : NULL;
    if (r != NULL) {
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; style-src "
                                "'unsafe-inline'; form-action 'self' http: "
                                "https:; frame-ancestors 'none'");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    }
    free(t);
    free(html);
    return web_send(c, status, r);
}

struct upload {
    char *body;
    size_t len;
    int too_big;
};

int
web_upload(void **con_cls, const char *data, size_t *size, size_t max,
           const char **body)
{
    struct upload *u = *con_cls;
    char *b;

    if (u == NULL) { /* the first call: headers only */
        if ((u = calloc(1, sizeof(*u))) == NULL)
            return -1;
        *con_cls = u;
        return 1;
    }
    if (*size > 0) { /* a piece of the body */
        if (u->too_big || u->len + *size > max ||
            (b = realloc(u->body, u->len + *size + 1)) == NULL) {
            u->too_big = 1;
        } else {
            memcpy(b + u->len, data, *size);
            u->body = b;
            u->len += *size;
            u->body[u->len] = '\0';
        }
        *size = 0;
        return 1;
    }
    if (u->too_big)
        return -1;
    *body = u->body != NULL ? u->body : "";
    return 0;
}

void
web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
              enum MHD_RequestTerminationCode why)
{
    struct upload *u = *con_cls;

    if (u != NULL)
        free(u->body);
    free(u);
    *con_cls = NULL;
}

char *
web_form_value(const char *body, const char *name)
{
    size_t n = strlen(name), len;
    const char *p, *end;
    char *v, *q;

    for (p = body; p != NULL && *p != '\0'; p = end ? end + 1 : NULL) {
        end = strchr(p, '&');
        len = end ? (size_t)(end - p) : strlen(p);
        if (len <= n || strncmp(p, name, n) != 0 || p[n] != '=')
            continue;
        if ((v = strndup(p + n + 1, len - n - 1)) == NULL)
            return NULL;
        for (q = v; *q; q++)
            *q = *q == '+' ? ' ' : *q;
        MHD_http_unescape(v);
        return v;
    }
    return NULL;
}
