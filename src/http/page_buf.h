/* SPDX-License-Identifier: MIT */
/*
 * What the page files of http/ share: a growing string to build a page in,
 * escaping, and the layout every page has (head, style, maintenance banner,
 * a card with the title). Private to src/http.
 */
#ifndef GATEHOUSE_PAGE_BUF_H
#define GATEHOUSE_PAGE_BUF_H

#include <stddef.h>

#include "gatehouse/http/pages.h"

/* A growing string; after a failed allocation every append is a no-op and
 * the result is NULL, so page builders check for memory once, at the end. */
struct page_buf {
    char *s;
    size_t len, cap;
    int oom;
};

void page_buf_put(struct page_buf *b, const char *s);
/* Appends s escaped for HTML text or a double-quoted attribute; NULL adds
 * nothing. */
void page_buf_esc(struct page_buf *b, const char *s);
/*
 * Appends fmt (a translated sentence with one "%s", e.g. "Sign in to %s")
 * with arg in place of the "%s" between open and close (markup of ours,
 * "" for none); fmt and arg escaped. A fmt without "%s" is appended whole.
 * Sentences stay whole for translators; no printf reads a catalog's text.
 */
void page_buf_fmt(struct page_buf *b, const char *fmt, const char *open,
                  const char *arg, const char *close);
/* A form's action attribute value: action escaped, and "lang=TAG" added
 * to its query when the `lang` parameter chose the page's language, so
 * that the answer to the POST speaks it too. */
void page_buf_action(struct page_buf *b, const struct page_ctx *ctx,
                     const char *action);
/* <form method="post" action="..."> with page_buf_action's action (NULL:
 * ""); the caller closes it. */
void page_buf_form(struct page_buf *b, const struct page_ctx *ctx,
                   const char *action);
/*
 * The message of a failed form, above it: announced (role="alert") and
 * tied to the fields it is about (WCAG 3.3.1). error is text in the
 * page's language; NULL writes nothing. Returns the attribute the fields
 * carry (" aria-describedby=\"error\"", or "" when there is no message).
 */
const char *page_buf_alert(struct page_buf *b, const char *error);
/* <input type="hidden">, omitted when value is NULL. */
void page_buf_hidden(struct page_buf *b, const char *name, const char *value);
/*
 * The layout every page shares: head, style, the banner, and a centred card
 * holding the brand, an <h1> of title (text, escaped here) and the body
 * (already-escaped HTML). Takes the body's memory in every case. Returns the
 * malloc'd page, or NULL when any allocation failed, body's included.
 */
char *page_buf_finish(const struct page_ctx *ctx, const char *title,
                      struct page_buf *body);

#endif
