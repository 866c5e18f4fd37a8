/* SPDX-License-Identifier: MIT */
/* Passkey pages (SPEC §7): the account's list with "Add a passkey", the
 * sign-in with one, and the one script both load from our origin. */
#include <stdio.h>
#include <stdlib.h>

#include "gatehouse/core/i18n.h"
#include "gatehouse/http/pages.h"
#include "http/page_buf.h"

/* WebAuthn Level 2 §5.1.3 and §5.1.4: the two calls, their answers
 * base64url into the form's hidden fields, and the form posted. Nothing
 * else: no fetch, no inline script (the CSP allows 'self' only). */
const char pages_passkey_script[] =
    "\"use strict\";\n"
    "(function () {\n"
    "  function b64u(buf) {\n"
    "    var s = \"\", a = new Uint8Array(buf), i;\n"
    "    for (i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);\n"
    "    return btoa(s).replace(/\\+/g, \"-\").replace(/\\//g, \"_\")\n"
    "      .replace(/=+$/, \"\");\n"
    "  }\n"
    "  function bytes(s) {\n"
    "    var b, a, i;\n"
    "    s = s.replace(/-/g, \"+\").replace(/_/g, \"/\");\n"
    "    while (s.length % 4) s += \"=\";\n"
    "    b = atob(s);\n"
    "    a = new Uint8Array(b.length);\n"
    "    for (i = 0; i < b.length; i++) a[i] = b.charCodeAt(i);\n"
    "    return a;\n"
    "  }\n"
    "  function create(d) {\n"
    "    return navigator.credentials.create({publicKey: {\n"
    "      challenge: bytes(d.challenge),\n"
    "      rp: {id: d.rpId, name: d.rpId},\n"
    "      user: {id: bytes(d.userId), name: d.userName,\n"
    "             displayName: d.userName},\n"
    "      pubKeyCredParams: [{type: \"public-key\", alg: -7},\n"
    "                         {type: \"public-key\", alg: -8},\n"
    "                         {type: \"public-key\", alg: -257}],\n"
    "      authenticatorSelection: {residentKey: \"required\",\n"
    "                               requireResidentKey: true,\n"
    "                               userVerification: \"preferred\"},\n"
    "      excludeCredentials: (d.exclude || \"\").split(\" \")\n"
    "        .filter(Boolean).map(function (id) {\n"
    "          return {type: \"public-key\", id: bytes(id)};\n"
    "        }),\n"
    "      attestation: \"none\", timeout: 300000}});\n"
    "  }\n"
    "  function get(d) {\n"
    "    return navigator.credentials.get({publicKey: {\n"
    "      challenge: bytes(d.challenge), rpId: d.rpId,\n"
    "      userVerification: \"preferred\", timeout: 300000}});\n"
    "  }\n"
    "  function start(f) {\n"
    "    var e = f.elements, err = "
    "document.getElementById(\"passkey-error\");\n"
    "    f.hidden = false;\n"
    "    f.addEventListener(\"submit\", function (ev) {\n"
    "      var d = f.dataset;\n"
    "      ev.preventDefault();\n"
    "      if (err) err.hidden = true;\n"
    "      (d.passkey === \"create\" ? create(d) : get(d)).then(function (c) "
    "{\n"
    "        e.client_data.value = b64u(c.response.clientDataJSON);\n"
    "        if (d.passkey === \"create\") {\n"
    "          e.attestation.value = b64u(c.response.attestationObject);\n"
    "        } else {\n"
    "          e.id.value = b64u(c.rawId);\n"
    "          e.auth_data.value = b64u(c.response.authenticatorData);\n"
    "          e.sig.value = b64u(c.response.signature);\n"
    "        }\n"
    "        f.submit();\n"
    "      }).catch(function () {\n"
    "        if (err) err.hidden = false;\n"
    "      });\n"
    "    });\n"
    "  }\n"
    "  function ready() {\n"
    "    var fs = document.querySelectorAll(\"form[data-passkey]\"), i;\n"
    "    if (!window.PublicKeyCredential) return;\n"
    "    for (i = 0; i < fs.length; i++) start(fs[i]);\n"
    "  }\n"
    "  if (document.readyState === \"loading\")\n"
    "    document.addEventListener(\"DOMContentLoaded\", ready);\n"
    "  else\n"
    "    ready();\n"
    "})();\n";

static void
put_data(struct page_buf *b, const char *name, const char *value)
{
    page_buf_put(b, " data-");
    page_buf_put(b, name);
    page_buf_put(b, "=\"");
    page_buf_esc(b, value != NULL ? value : "");
    page_buf_put(b, "\"");
}

/* What the script shows when the browser or the user said no. */
static void
put_script_error(struct page_buf *b, const struct page_ctx *ctx)
{
    page_buf_put(b, "<p id=\"passkey-error\" class=\"error\" role=\"alert\" "
                    "hidden>");
    page_buf_esc(b, tr(ctx->lang, "The passkey could not be used. Try again, "
                                  "or use another way."));
    page_buf_put(b, "</p>\n");
}

static void
put_alert(struct page_buf *b, const char *error, const char *status)
{
    page_buf_alert(b, error);
    if (status != NULL) {
        page_buf_put(b, "<p id=\"status\" class=\"notice\" role=\"status\">");
        page_buf_esc(b, status);
        page_buf_put(b, "</p>\n");
    }
}

void
pages_passkey_get_open(struct page_buf *b, const struct page_ctx *ctx,
                       const char *challenge, const char *rp_id,
                       const char *action)
{
    put_script_error(b, ctx);
    page_buf_put(b, "<form method=\"post\" hidden data-passkey=\"get\"");
    put_data(b, "challenge", challenge);
    put_data(b, "rp-id", rp_id);
    page_buf_put(b, " action=\"");
    page_buf_action(b, ctx, action);
    page_buf_put(b, "\">\n");
}

void
pages_passkey_get_close(struct page_buf *b, const char *label)
{
    /* What the script fills from the browser's answer. */
    page_buf_hidden(b, "id", "");
    page_buf_hidden(b, "client_data", "");
    page_buf_hidden(b, "auth_data", "");
    page_buf_hidden(b, "sig", "");
    page_buf_submit(b, "passkey", label);
}

char *
pages_passkeys(const struct page_ctx *ctx, const struct page_passkeys *p)
{
    struct page_buf b = {0}, ex = {0};
    size_t i;

    put_alert(&b, p->error, p->status);
    page_buf_signed_in(&b, ctx, p->username);
    page_buf_para(&b, tr(ctx->lang,
                         "A passkey signs you in with this device's screen "
                         "lock or a security key, without a password."));
    if (p->nitems == 0) {
        page_buf_put(&b, "<p id=\"none\">");
        page_buf_esc(&b, tr(ctx->lang, "You have no passkeys yet."));
        page_buf_put(&b, "</p>\n");
    } else {
        page_buf_put(&b, "<ul id=\"passkeys\">\n");
    }
    for (i = 0; i < p->nitems; i++) {
        const struct page_passkey_item *it = &p->items[i];

        page_buf_put(&b, "<li><span class=\"name\">");
        page_buf_esc(&b, it->name);
        page_buf_put(&b, "</span> ");
        page_buf_fmt(&b, tr(ctx->lang, "(added %s)"), "", it->created, "");
        page_buf_put(&b, "\n");
        page_buf_form(&b, ctx, p->action);
        page_buf_hidden(&b, "csrf", p->csrf);
        page_buf_hidden(&b, "op", "remove");
        page_buf_hidden(&b, "id", it->id);
        page_buf_put(&b, "<button type=\"submit\" class=\"secondary\">");
        page_buf_esc(&b, tr(ctx->lang, "Remove"));
        page_buf_put(&b, "</button>\n</form></li>\n");
        if (i > 0)
            page_buf_put(&ex, " ");
        page_buf_put(&ex, it->id);
    }
    if (p->nitems > 0)
        page_buf_put(&b, "</ul>\n");
    put_script_error(&b, ctx);
    page_buf_put(&b, "<form method=\"post\" hidden data-passkey=\"create\"");
    put_data(&b, "challenge", p->challenge);
    put_data(&b, "rp-id", p->rp_id);
    put_data(&b, "user-id", p->user_id);
    put_data(&b, "user-name", p->username);
    put_data(&b, "exclude", ex.s != NULL && !ex.oom ? ex.s : "");
    page_buf_put(&b, " action=\"");
    page_buf_action(&b, ctx, p->action);
    page_buf_put(&b, "\">\n");
    page_buf_hidden(&b, "csrf", p->csrf);
    page_buf_hidden(&b, "op", "add");
    page_buf_hidden(&b, "state", p->state);
    page_buf_hidden(&b, "client_data", "");
    page_buf_hidden(&b, "attestation", "");
    page_buf_field(&b, "name", tr(ctx->lang, "Name of the new passkey"),
                   "maxlength=\"64\" autocomplete=\"off\"", "", NULL);
    page_buf_submit(&b, "add", tr(ctx->lang, "Add a passkey"));
    page_buf_put(&b, "<noscript><p class=\"hint\">");
    page_buf_esc(&b, tr(ctx->lang, "Adding a passkey needs JavaScript."));
    page_buf_put(&b, "</p></noscript>\n<p class=\"hint\"><a href=\"");
    page_buf_action(&b, ctx, "/account");
    page_buf_put(&b, "\">");
    page_buf_esc(&b, tr(ctx->lang, "Your sessions"));
    page_buf_put(&b, "</a></p>\n<script src=\"/passkey.js\"></script>\n");
    free(ex.s);
    return page_buf_finish(ctx, tr(ctx->lang, "Passkeys"), &b);
}

char *
pages_passkey_sign_in(const struct page_ctx *ctx,
                      const struct page_passkey_sign_in *p)
{
    struct page_buf b = {0};

    put_alert(&b, p->error, NULL);
    page_buf_para(&b, tr(ctx->lang, "Use the passkey on this device or your "
                                    "security key."));
    pages_passkey_get_open(&b, ctx, p->challenge, p->rp_id, p->action);
    page_buf_hidden(&b, "state", p->state);
    page_buf_hidden(&b, "step", p->step);
    page_buf_hidden(&b, "request", p->request);
    page_buf_hidden(&b, "return", p->return_to);
    pages_passkey_get_close(&b, tr(ctx->lang, "Sign in with a passkey"));
    page_buf_put(&b, "<noscript><p class=\"hint\">");
    page_buf_esc(&b, tr(ctx->lang, "Signing in with a passkey needs "
                                   "JavaScript."));
    page_buf_put(&b, "</p></noscript>\n");
    if (p->step == NULL) {
        page_buf_put(&b, "<p class=\"hint\"><a href=\"");
        page_buf_esc(&b,
                     p->password_link != NULL ? p->password_link : "/login");
        page_buf_put(&b, "\">");
        page_buf_esc(&b, tr(ctx->lang, "Sign in with a password instead"));
        page_buf_put(&b, "</a></p>\n");
    }
    page_buf_put(&b, "<script src=\"/passkey.js\"></script>\n");
    return page_buf_finish(ctx, tr(ctx->lang, "Sign in with a passkey"), &b);
}
