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
/* The end of a form: its submit button, reading label (text, escaped
 * here), with id when not NULL. */
void page_buf_submit(struct page_buf *b, const char *id, const char *label);
/*
 * The message of a failed form, above it: announced (role="alert") and
 * tied to the fields it is about (WCAG 3.3.1). error is text in the
 * page's language; NULL writes nothing. Returns the attribute the fields
 * carry (" aria-describedby=\"error\"", or "" when there is no message).
 */
const char *page_buf_alert(struct page_buf *b, const char *error);
/* A paragraph of text (escaped here). */
void page_buf_para(struct page_buf *b, const char *text);
/* <input type="hidden">, omitted when value is NULL. */
void page_buf_hidden(struct page_buf *b, const char *name, const char *value);
/*
 * A field and its label: <label for="NAME"> with label (text, escaped
 * here), then <input id="NAME" name="NAME" ATTRS> (attrs: markup of ours,
 * such as type="text" required), carrying described (page_buf_alert's
 * attribute, or "") and value (escaped) when it is not NULL.
 */
void page_buf_field(struct page_buf *b, const char *name, const char *label,
                    const char *attrs, const char *described,
                    const char *value);
/* page_buf_field's attrs for a code from an authenticator app or a
 * recovery code: letters too (no numeric keypad), and room for a
 * recovery code typed with spaces. */
#define PAGE_BUF_CODE_ATTRS                                                    \
    "type=\"text\" autocomplete=\"one-time-code\" maxlength=\"16\" "           \
    "autocapitalize=\"none\" spellcheck=\"false\""
/* "Signed in as NAME." in a paragraph: whose account the page is about. */
void page_buf_signed_in(struct page_buf *b, const struct page_ctx *ctx,
                        const char *username);
/*
 * The passkey sign-in form (WebAuthn Level 2 §5.1.4), from
 * pages_passkeys.c beside the script that fills it: the message the
 * script shows when the browser or the person said no, and the opening
 * of a form posting to action that the script shows and fills. The
 * caller adds its page's hidden fields, then closes the form with
 * pages_passkey_get_close, the button reading label (text).
 */
void pages_passkey_get_open(struct page_buf *b, const struct page_ctx *ctx,
                            const char *challenge, const char *rp_id,
                            const char *action);
void pages_passkey_get_close(struct page_buf *b, const char *label);

/*
 * The layout every page shares: head, style, the banner, and a centred card
 * holding the brand, an <h1> of title (text, escaped here) and the body
 * (already-escaped HTML). Takes the body's memory in every case. Returns the
 * malloc'd page, or NULL when any allocation failed, body's included.
 */
char *page_buf_finish(const struct page_ctx *ctx, const char *title,
                      struct page_buf *body);

#endif
