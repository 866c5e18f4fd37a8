/* SPDX-License-Identifier: MIT */
/* The maintenance page: what sign-in shows while a maintenance shutdown
 * is active (SPEC §5). */
#include <stdio.h>

#include "gatehouse/http/pages.h"
#include "http/page_buf.h"

char *
pages_maintenance(const struct page_ctx *ctx, const char *message,
                  const char *since)
{
    struct page_buf b = {0};
    char line[512];

    /* The operator's own words, as written: they are not translated. */
    if (message != NULL && message[0] != '\0') {
        page_buf_put(&b, "<p id=\"maintenance-message\">");
        page_buf_esc(&b, message);
        page_buf_put(&b, "</p>\n");
    }
    page_buf_put(&b, "<p>");
    if (since != NULL) {
        snprintf(line, sizeof(line),
                 tr(ctx->lang, "Sign-in has been closed for scheduled "
                               "maintenance since %s."),
                 since);
        page_buf_esc(&b, line);
    } else {
        page_buf_esc(&b, tr(ctx->lang, "Sign-in is closed for scheduled "
                                       "maintenance."));
    }
    page_buf_put(&b, " ");
    page_buf_esc(&b, tr(ctx->lang, "Please try again later."));
    page_buf_put(&b, "</p>\n");
    return page_buf_finish(ctx, tr(ctx->lang, "Down for maintenance"), &b);
}
