/* SPDX-License-Identifier: MIT */
/* What ties a sign-in form to the browser that was shown it, with nothing
 * stored in Redis (SPEC §7, issue 15). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/auth/presign.h"
#include "gatehouse/crypto/seal.h"
#include "gatehouse/store/store.h"
#include "gatehouse/core/util.h"

const char *
presign_cookie_name(const struct config *cfg)
{
    return cfg->issuer_https ? PRESIGN_COOKIE_HOST : PRESIGN_COOKIE;
}

static int
well_formed(const char *v)
{
    return strlen(v) == PRESIGN_ID_LEN && b64url_valid(v, PRESIGN_ID_LEN);
}

int
presign_browser(struct http_request *req, int make,
                char id[PRESIGN_ID_LEN + 1])
{
    const struct config *cfg = req->app->cfg;
    char *sent = http_cookie(req, presign_cookie_name(cfg)), buf[160];
    int rc;

    if (sent != NULL && well_formed(sent)) {
        memcpy(id, sent, PRESIGN_ID_LEN + 1);
        free(sent);
        return 0;
    }
    free(sent);
    if (!make)
        return GH_ENOTFOUND;
    if ((rc = util_random_id(id, 24)) < 0)
        return rc;
    /* No Max-Age: it lives as long as the browser session, which is as
     * long as a sign-in can take. */
    snprintf(buf, sizeof(buf), "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
             presign_cookie_name(cfg), id, cfg->issuer_https ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", buf);
    return 0;
}

void
presign_forget(struct http_request *req)
{
    const struct config *cfg = req->app->cfg;
    char buf[160];

    snprintf(buf, sizeof(buf),
             "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
             presign_cookie_name(cfg), cfg->issuer_https ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", buf);
}

/* The issuer's origin: scheme://host[:port], without its path. */
static size_t
issuer_origin_len(const char *issuer)
{
    const char *p = strstr(issuer, "://");

    if (p == NULL)
        return strlen(issuer);
    p = strchr(p + 3, '/');
    return p != NULL ? (size_t)(p - issuer) : strlen(issuer);
}

int
presign_same_origin(struct http_request *req)
{
    const char *issuer = req->app->cfg->issuer;
    const char *origin = http_header(req, "Origin");
    const char *site = http_header(req, "Sec-Fetch-Site");
    size_t n = issuer_origin_len(issuer), dflt = 0;

    if (site != NULL && strcasecmp(site, "same-origin") != 0 &&
        strcasecmp(site, "none") != 0)
        return 0;
    if (origin == NULL || strcmp(origin, "null") == 0)
        return 1;
    if (strlen(origin) == n && strncasecmp(origin, issuer, n) == 0)
        return 1;
    /* A browser leaves the scheme's default port out of Origin; an issuer
     * may spell it ("https://sso.example.com:443"). */
    if (strncasecmp(issuer, "https://", 8) == 0 && n > 4 &&
        strncmp(issuer + n - 4, ":443", 4) == 0)
        dflt = 4;
    else if (strncasecmp(issuer, "http://", 7) == 0 && n > 3 &&
             strncmp(issuer + n - 3, ":80", 3) == 0)
        dflt = 3;
    if (dflt == 0)
        return 0;
    n -= dflt;
    return strlen(origin) == n && strncasecmp(origin, issuer, n) == 0;
}

int
presign_seal(struct app *app, const char *purpose, const char *binding,
             json_t *claims, char **out)
{
    unsigned char key[SEAL_KEY_LEN];
    int rc;

    if ((rc = store_mac_key(app->store, key)) < 0)
        return rc;
    rc = seal_make(key, purpose, binding, claims, util_now() + PRESIGN_TTL_S,
                   out);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int
presign_token(struct app *app, const char *purpose, const char *binding,
              char **out)
{
    json_t *none = json_object();
    int rc;

    rc = none != NULL ? presign_seal(app, purpose, binding, none, out)
                      : GH_ENOMEM;
    json_decref(none);
    return rc;
}

int
presign_open(struct app *app, const char *purpose, const char *binding,
             const char *text, json_t **claims)
{
    unsigned char key[SEAL_KEY_LEN];
    int rc;

    if (text == NULL)
        return GH_EBADTOKEN;
    if ((rc = store_mac_key(app->store, key)) < 0)
        return rc;
    rc = seal_open(key, purpose, binding, text, strlen(text), util_now(),
                   claims);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int
presign_form(struct http_request *req, const char *purpose, const char *sid,
             struct form *f)
{
    json_t *claims = NULL;
    int rc;

    f->v = NULL;
    f->n = 0;
    /* A cross-site form is refused before anything is read (SPEC §7). */
    if (!presign_same_origin(req)) {
        http_error_page(req, 403, N_("Request refused"),
                        N_("This form was sent from another site, and nothing "
                           "was changed."));
        return -1;
    }
    if (!http_content_type_is(req, "application/x-www-form-urlencoded") ||
        form_parse(req->body, req->body_len, f) < 0 ||
        form_has_duplicate(f) != NULL) {
        http_error_page(req, 400, N_("Invalid request"),
                        N_("The form was not sent correctly. Nothing was "
                           "changed."));
        return -1;
    }
    rc = presign_open(req->app, purpose, sid, form_get(f, "csrf"), &claims);
    json_decref(claims);
    if (rc == GH_EREDIS)
        return rc;
    if (rc < 0) {
        http_error_page(req, 403, N_("Form expired"),
                        N_("This form can no longer be used, and nothing was "
                           "changed. Reload the page and try again."));
        return -1;
    }
    return 0;
}
