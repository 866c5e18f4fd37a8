/* SPDX-License-Identifier: MIT */
/* Setting up an authenticator app from the account page (SPEC §7): the
 * otpauth URI as a QR code drawn in inline SVG by libqrencode (no script,
 * nothing fetched: the page's CSP allows it), the key as text in groups
 * of four, the field for the first code; then the recovery codes, once. */
#include <stdio.h>
#include <string.h>

#include <qrencode.h>

#include "gatehouse/core/i18n.h"
#include "gatehouse/http/pages.h"
#include "http/page_buf.h"

/* Light modules around the code, as ISO/IEC 18004 asks. */
#define QUIET 4

/* The QR code of text as one SVG path of dark squares; 0, or -1. */
static int
put_qr(struct page_buf *b, const struct page_ctx *ctx, const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    char num[64];
    int x, y, w;

    if (qr == NULL)
        return -1;
    w = qr->width + 2 * QUIET;
    snprintf(num, sizeof(num), "0 0 %d %d", w, w);
    page_buf_put(b, "<svg id=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" "
                    "role=\"img\" width=\"200\" height=\"200\" "
                    "shape-rendering=\"crispEdges\" viewBox=\"");
    page_buf_put(b, num);
    page_buf_put(b, "\" aria-label=\"");
    page_buf_esc(b, tr(ctx->lang, "QR code for your authenticator app"));
    page_buf_put(b, "\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
                    "<path fill=\"#000\" d=\"");
    for (y = 0; y < qr->width; y++)
        for (x = 0; x < qr->width; x++)
            if (qr->data[y * qr->width + x] & 1) {
                snprintf(num, sizeof(num), "M%d %dh1v1h-1z", x + QUIET,
                         y + QUIET);
                page_buf_put(b, num);
            }
    page_buf_put(b, "\"/></svg>\n");
    QRcode_free(qr);
    return 0;
}

/* The key in groups of four, as apps ask it typed. */
static void
put_key(struct page_buf *b, const char *secret)
{
    char group[5];
    size_t i, n = strlen(secret);

    page_buf_put(b, "<code id=\"key\">");
    for (i = 0; i < n; i += 4) {
        snprintf(group, sizeof(group), "%.4s", secret + i);
        if (i > 0)
            page_buf_put(b, " ");
        page_buf_esc(b, group);
    }
    page_buf_put(b, "</code>");
}

/* The key for the app, both ways: the QR code to scan, the text to type. */
static void
put_secret(struct page_buf *b, const struct page_ctx *ctx,
           const struct page_totp_setup *p)
{
    page_buf_para(b, tr(ctx->lang,
                        "Scan this QR code with an authenticator app on your "
                        "phone, then enter the 6-digit code it shows."));
    if (put_qr(b, ctx, p->uri ? p->uri : "") < 0)
        b->oom = 1;
    page_buf_put(b, "<p>");
    page_buf_esc(b, tr(ctx->lang, "Or enter this key in the app:"));
    page_buf_put(b, "<br>");
    put_key(b, p->secret ? p->secret : "");
    page_buf_put(b, "</p>\n");
}

char *
pages_totp_setup(const struct page_ctx *ctx, const struct page_totp_setup *p)
{
    struct page_buf b = {0};
    const char *described = "";

    put_secret(&b, ctx, p);
    described = page_buf_alert(&b, p->error);
    page_buf_form(&b, ctx, p->action);
    if (p->step != NULL) {
        page_buf_hidden(&b, "step", p->step);
    } else {
        page_buf_hidden(&b, "csrf", p->csrf ? p->csrf : "");
        page_buf_hidden(&b, "scope", "totp_activate");
    }
    page_buf_field(&b, "code", tr(ctx->lang, "Code from the app"),
                   "type=\"text\" inputmode=\"numeric\" "
                   "autocomplete=\"one-time-code\" maxlength=\"16\" "
                   "required autofocus",
                   described, NULL);
    page_buf_submit(&b, NULL, tr(ctx->lang, "Turn on"));
    page_buf_put(&b, "<p class=\"hint\"><a href=\"");
    page_buf_action(&b, ctx, p->action ? p->action : "");
    page_buf_put(&b, "\">");
    page_buf_esc(&b, tr(ctx->lang, "Cancel"));
    page_buf_put(&b, "</a></p>\n");
    return page_buf_finish(ctx, tr(ctx->lang, "Set up an authenticator app"),
                           &b);
}

char *
pages_totp_codes(const struct page_ctx *ctx, const char *back, const char *step,
                 const char *const *codes, size_t n)
{
    struct page_buf b = {0};
    size_t i;

    page_buf_put(&b, "<p id=\"status\" class=\"notice\" role=\"status\">");
    page_buf_esc(&b, tr(ctx->lang, "Two-step verification is on."));
    page_buf_put(&b, "</p>\n");
    page_buf_para(&b, tr(ctx->lang,
                         "Save these recovery codes somewhere safe. Each "
                         "works once, if you lose your phone. They are not "
                         "shown again."));
    page_buf_put(&b, "<ul id=\"codes\">\n");
    for (i = 0; i < n; i++) {
        page_buf_put(&b, "<li><code>");
        page_buf_esc(&b, codes[i]);
        page_buf_put(&b, "</code></li>\n");
    }
    if (step != NULL) {
        page_buf_put(&b, "</ul>\n");
        page_buf_form(&b, ctx, back);
        page_buf_hidden(&b, "step", step);
        page_buf_submit(&b, "saved", tr(ctx->lang, "I have saved them"));
        return page_buf_finish(ctx, tr(ctx->lang, "Recovery codes"), &b);
    }
    page_buf_put(&b, "</ul>\n<p><a href=\"");
    page_buf_action(&b, ctx, back ? back : "");
    page_buf_put(&b, "\">");
    page_buf_esc(&b, tr(ctx->lang, "I have saved them"));
    page_buf_put(&b, "</a></p>\n");
    return page_buf_finish(ctx, tr(ctx->lang, "Recovery codes"), &b);
}

char *
pages_login_code(const struct page_ctx *ctx, const struct page_login_code *p)
{
    struct page_buf b = {0};
    const char *described = "";

    page_buf_para(&b, tr(ctx->lang,
                         "Enter the 6-digit code from your authenticator "
                         "app, or one of your recovery codes."));
    described = page_buf_alert(&b, p->error);
    page_buf_form(&b, ctx, p->action);
    page_buf_hidden(&b, "step", p->step ? p->step : "");
    page_buf_field(&b, "code", tr(ctx->lang, "Code"),
                   PAGE_BUF_CODE_ATTRS " required autofocus", described, NULL);
    page_buf_submit(&b, NULL, tr(ctx->lang, "Continue"));
    if (p->passkey_challenge != NULL && p->passkey_state != NULL) {
        pages_passkey_get_open(&b, ctx, p->passkey_challenge, p->passkey_rp_id,
                               p->action);
        page_buf_hidden(&b, "step", p->step ? p->step : "");
        page_buf_hidden(&b, "state", p->passkey_state);
        pages_passkey_get_close(&b, tr(ctx->lang, "Use a passkey"));
        page_buf_put(&b, "<script src=\"/passkey.js\"></script>\n");
    }
    return page_buf_finish(ctx, tr(ctx->lang, "Two-step verification"), &b);
}
