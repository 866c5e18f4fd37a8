/* SPDX-License-Identifier: MIT */
/* The account page: the user's sessions, each with "Sign out", and the
 * step-up form before an action (SPEC §4 /account, §7). */
#include <stdio.h>

#include "gatehouse/core/i18n.h"
#include "gatehouse/http/pages.h"
#include "http/page_buf.h"

static void
put_id(struct page_buf *b, const char *prefix, size_t i)
{
    char id[40];

    snprintf(id, sizeof(id), "%s%zu", prefix, i);
    page_buf_put(b, id);
}

static void
put_row(struct page_buf *b, const char *term, const char *value)
{
    page_buf_put(b, "<dt>");
    page_buf_esc(b, term);
    page_buf_put(b, "</dt><dd>");
    page_buf_esc(b, value);
    page_buf_put(b, "</dd>\n");
}

static void
put_session(struct page_buf *b, const struct page_ctx *ctx,
            const struct page_account *p, size_t i)
{
    const struct page_account_session *s = &p->sessions[i];
    size_t k;

    page_buf_put(b, s->current ? "<section class=\"session current\""
                               : "<section class=\"session\"");
    page_buf_put(b, " aria-labelledby=\"");
    put_id(b, "s", i);
    page_buf_put(b, "\">\n<h2 id=\"");
    put_id(b, "s", i);
    page_buf_put(b, "\">");
    page_buf_esc(b, s->browser);
    if (s->current) {
        page_buf_put(b, " <span class=\"tag\">");
        page_buf_esc(b, tr(ctx->lang, "This device"));
        page_buf_put(b, "</span>");
    }
    page_buf_put(b, "</h2>\n<dl>\n");
    put_row(b, tr(ctx->lang, "Address"), s->address);
    put_row(b, tr(ctx->lang, "Started"), s->started);
    put_row(b, tr(ctx->lang, "Last seen"), s->last_seen);
    page_buf_put(b, "<dt>");
    page_buf_esc(b, tr(ctx->lang, "Apps"));
    page_buf_put(b, "</dt><dd>");
    if (s->napps == 0) {
        page_buf_esc(b, tr(ctx->lang, "None yet"));
    } else {
        page_buf_put(b, "<ul>");
        for (k = 0; k < s->napps; k++) {
            page_buf_put(b, "<li>");
            page_buf_esc(b, s->apps[k]);
            page_buf_put(b, "</li>");
        }
        page_buf_put(b, "</ul>");
    }
    page_buf_put(b, "</dd>\n</dl>\n");
    page_buf_form(b, ctx, p->action);
    page_buf_hidden(b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(b, "scope", "session");
    page_buf_hidden(b, "sid", s->sid ? s->sid : "");
    /* Every button reads "Sign out"; the session's heading tells them
     * apart for assistive technology. */
    page_buf_put(b, "<button type=\"submit\" class=\"secondary\" "
                    "aria-describedby=\"");
    put_id(b, "s", i);
    page_buf_put(b, "\">");
    page_buf_esc(b, tr(ctx->lang, "Sign out"));
    page_buf_put(b, "</button>\n</form>\n</section>\n");
}

/* A form of one button posting scope to the account page. */
static void
put_button_form(struct page_buf *b, const struct page_ctx *ctx,
                const struct page_account *p, const char *scope, const char *id,
                const char *label)
{
    page_buf_form(b, ctx, p->action);
    page_buf_hidden(b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(b, "scope", scope);
    page_buf_put(b, "<button type=\"submit\" class=\"secondary\" id=\"");
    page_buf_put(b, id);
    page_buf_put(b, "\">");
    page_buf_esc(b, label);
    page_buf_put(b, "</button>\n</form>\n");
}

/* "Two-step verification": set up, or remove and new recovery codes. */
static void
put_two_step(struct page_buf *b, const struct page_ctx *ctx,
             const struct page_account *p)
{
    char left[16];

    page_buf_put(b, "<section id=\"two-step\" aria-labelledby=\"ts\">\n"
                    "<h2 id=\"ts\">");
    page_buf_esc(b, tr(ctx->lang, "Two-step verification"));
    page_buf_put(b, "</h2>\n<p>");
    if (!p->totp_active) {
        page_buf_esc(
            b, tr(ctx->lang, "Off. Signing in asks only for your password."));
        page_buf_put(b, "</p>\n");
        put_button_form(b, ctx, p, "totp_setup", "totp-setup",
                        tr(ctx->lang, "Set up an authenticator app"));
    } else {
        page_buf_esc(b,
                     tr(ctx->lang, "On. Signing in asks for a code from your "
                                   "authenticator app."));
        page_buf_put(b, "</p>\n<p id=\"recovery-left\">");
        snprintf(left, sizeof(left), "%d", p->recovery_left);
        page_buf_fmt(b, tr(ctx->lang, "Recovery codes left: %s"), "", left, "");
        page_buf_put(b, "</p>\n");
        put_button_form(b, ctx, p, "recovery_new", "recovery-new",
                        tr(ctx->lang, "New recovery codes"));
        put_button_form(b, ctx, p, "totp_remove", "totp-remove",
                        tr(ctx->lang, "Remove"));
    }
    page_buf_put(b, "</section>\n");
}

char *
pages_account(const struct page_ctx *ctx, const struct page_account *p)
{
    struct page_buf b = {0};
    size_t i;

    if (p->status != NULL) {
        page_buf_put(&b, "<p id=\"status\" class=\"notice\" role=\"status\">");
        page_buf_esc(&b, p->status);
        page_buf_put(&b, "</p>\n");
    }
    page_buf_signed_in(&b, ctx, p->username);
    page_buf_para(&b, tr(ctx->lang,
                         "These are the devices where you are signed in. "
                         "Sign out of any you do not recognise or no longer "
                         "use."));
    for (i = 0; i < p->nsessions; i++)
        put_session(&b, ctx, p, i);
    page_buf_form(&b, ctx, p->action);
    page_buf_hidden(&b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(&b, "scope", "all");
    page_buf_submit(&b, "all", tr(ctx->lang, "Sign out of all sessions"));
    page_buf_put(&b, "<p class=\"hint\">");
    page_buf_esc(&b, tr(ctx->lang,
                        "Each app you signed in to on a device is told when "
                        "you sign out of it."));
    page_buf_put(&b, "</p>\n<p><a id=\"passkeys-link\" href=\"");
    page_buf_action(&b, ctx, "/account/passkeys");
    page_buf_put(&b, "\">");
    page_buf_esc(&b, tr(ctx->lang, "Passkeys"));
    page_buf_put(&b, "</a></p>\n");
    put_two_step(&b, ctx, p);
    /* OIDC Front-Channel Logout 1.0 §3: out of the tab order, named for
     * assistive technology, loaded with or without script. */
    for (i = 0; i < p->nframes; i++) {
        if (p->frames[i] == NULL)
            continue;
        page_buf_put(&b, "<iframe hidden tabindex=\"-1\" title=\"");
        page_buf_esc(&b, tr(ctx->lang, "Signing an app out"));
        page_buf_put(&b, "\" src=\"");
        page_buf_esc(&b, p->frames[i]);
        page_buf_put(&b, "\"></iframe>\n");
    }
    return page_buf_finish(ctx, tr(ctx->lang, "Your sessions"), &b);
}

/* What the step-up form posts back besides the password: the action it
 * stands before. */
static void
put_reauth_action(struct page_buf *b, const struct page_account_reauth *p)
{
    page_buf_hidden(b, "csrf", p->csrf ? p->csrf : "");
    page_buf_hidden(b, "scope", p->scope);
    page_buf_hidden(b, "sid", p->sid);
    page_buf_hidden(b, "client_id", p->client_id);
    page_buf_hidden(b, "post_logout_redirect_uri", p->post_logout_redirect_uri);
    page_buf_hidden(b, "state", p->state);
}

char *
pages_account_reauth(const struct page_ctx *ctx,
                     const struct page_account_reauth *p)
{
    struct page_buf b = {0};
    const char *described = "";

    page_buf_para(&b, p->intro != NULL
                          ? p->intro
                          : tr(ctx->lang, "You signed in a while ago. Enter "
                                          "your password again to change "
                                          "your sessions."));
    page_buf_signed_in(&b, ctx, p->username);
    described = page_buf_alert(&b, p->error);
    page_buf_form(&b, ctx, p->action);
    put_reauth_action(&b, p);
    /* For password managers: whose password this is (WCAG 3.3.8 lets
     * them fill it in). */
    page_buf_put(&b, "<input type=\"text\" name=\"username\" "
                     "autocomplete=\"username\" hidden readonly value=\"");
    page_buf_esc(&b, p->username ? p->username : "");
    page_buf_put(&b, "\">\n");
    /* With a code as the other way, the password alone is not required. */
    page_buf_field(&b, "password", tr(ctx->lang, "Password"),
                   p->totp ? "type=\"password\" "
                             "autocomplete=\"current-password\" autofocus"
                           : "type=\"password\" "
                             "autocomplete=\"current-password\" required "
                             "autofocus",
                   described, NULL);
    if (p->totp)
        page_buf_field(&b, "code",
                       tr(ctx->lang, "Or a code from your authenticator app"),
                       PAGE_BUF_CODE_ATTRS, described, NULL);
    page_buf_submit(&b, NULL, tr(ctx->lang, "Continue"));
    if (p->passkey_challenge != NULL && p->passkey_state != NULL) {
        pages_passkey_get_open(&b, ctx, p->passkey_challenge, p->passkey_rp_id,
                               p->action);
        put_reauth_action(&b, p);
        page_buf_hidden(&b, "pkstate", p->passkey_state);
        pages_passkey_get_close(&b, tr(ctx->lang, "Use a passkey"));
        page_buf_put(&b, "<script src=\"/passkey.js\"></script>\n");
    }
    page_buf_put(&b, "<p class=\"hint\"><a href=\"");
    page_buf_action(&b, ctx, p->action ? p->action : "");
    page_buf_put(&b, "\">");
    page_buf_esc(&b, tr(ctx->lang, "Cancel"));
    page_buf_put(&b, "</a></p>\n");
    return page_buf_finish(ctx, tr(ctx->lang, "Confirm it is you"), &b);
}
