/* SPDX-License-Identifier: MIT */
/* The little HTTP toolkit the demo app's routes use, on libmicrohttpd:
 * responses, cookies, the one page layout, request bodies and forms. */
#ifndef DEMO_WEB_H
#define DEMO_WEB_H

#include <stddef.h>

#include <microhttpd.h>

/* A response holding a copy of text, with Cache-Control: no-store; NULL
 * when out of memory (every function below takes a NULL response). */
struct MHD_Response *web_text(const char *content_type, const char *text);
/* An empty response with Location: url; send it with a 302 or 303. */
struct MHD_Response *web_redirect(const char *url);
/* Adds "name=value; Path=path; Max-Age=max_age; HttpOnly; SameSite=Lax",
 * or the deletion of the cookie when value is NULL. */
void web_set_cookie(struct MHD_Response *r, const char *name, const char *value,
                    const char *path, int max_age);
/* Queues r with status and releases it. */
enum MHD_Result web_send(struct MHD_Connection *c, unsigned status,
                         struct MHD_Response *r);

/* Sends a whole HTML page: <title> and <h1> are title, then body (HTML,
 * already escaped), with the security headers every page carries. top
 * (HTML, already escaped; NULL: none) goes above the card, across the top
 * of the page: the signed-in bar (class "bar"), the maintenance banner. */
enum MHD_Result web_page(struct MHD_Connection *c, unsigned status,
                         const char *title, const char *top, const char *body);
/* s escaped for HTML text and double-quoted attributes (malloc'd). */
char *web_escape(const char *s);

/*
 * Gathers a request body across libmicrohttpd's calls to the handler.
 * Returns 1 while more calls are needed (answer MHD_YES), then 0 with
 * *body the whole body ("" when there is none), or -1 when it was larger
 * than max. web_completed (MHD_OPTION_NOTIFY_COMPLETED) frees it.
 */
int web_upload(void **con_cls, const char *data, size_t *size, size_t max,
               const char **body);
void web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                   enum MHD_RequestTerminationCode why);
/* The value of name in an application/x-www-form-urlencoded body
 * (malloc'd), or NULL. */
char *web_form_value(const char *body, const char *name);

#endif
