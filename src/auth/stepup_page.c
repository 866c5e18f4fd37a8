/* SPDX-License-Identifier: MIT */
/* The step-up form of the account page and of "Sign out everywhere". */
#include <stdlib.h>

#include <jansson.h>

#include "gatehouse/auth/presign.h"
#include "gatehouse/auth/stepup.h"
#include "gatehouse/auth/stepup_page.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/crypto/webauthn.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/http/http.h"
#include "gatehouse/http/pages.h"
#include "gatehouse/session/session.h"

int
stepup_page_show(struct http_request *req, const struct session *s,
                 const char *purpose, struct page_account_reauth *pr,
                 int status)
{
    struct app *app = req->app;
    struct factor_info fi[FACTORS_MAX];
    struct user *u = NULL;
    char *csrf = NULL, *html, *pkstate = NULL;
    char challenge[PASSKEY_CHALLENGE_TEXT], origin[512], rp_id[256];
    size_t nfi = 0;
    int rc = GH_ENOMEM, left = 0;

    /* Sealed and bound to the session, not stored. */
    if ((rc = users_get(app->store, s->sub, &u)) < 0 ||
        (rc = presign_token(app, purpose, s->sid, &csrf)) < 0)
        goto out;
    pr->csrf = csrf;
    pr->username = u->username;
    /* A code from the authenticator app does as well. */
    pr->totp = factors_list(app->store, s->sub, fi, &nfi, &left) > 0;
    /* So does one of the user's passkeys (an issuer whose host is an IP
     * address has none to offer). */
    if (webauthn_rp_from_issuer(app->cfg->issuer, origin, sizeof(origin), rp_id,
                                sizeof(rp_id)) == 0 &&
        stepup_passkey_offer(req, s, challenge, &pkstate) == 1) {
        pr->passkey_challenge = challenge;
        pr->passkey_rp_id = rp_id;
        pr->passkey_state = pkstate;
    }
    html = pages_account_reauth(http_page_ctx(req), pr);
    if (pkstate != NULL)
        http_reply_html_csp(req, status, html != NULL ? html : xstrdup(""),
                            "script-src 'self'");
    else
        http_reply_html(req, status, html != NULL ? html : xstrdup(""));
    rc = 0;
out:
    free(pkstate);
    free(csrf);
    user_free(u);
    return rc;
}
