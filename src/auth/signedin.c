/* SPDX-License-Identifier: MIT */
/* The opening every signed-in user's own page shares (signedin.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatehouse/auth/presign.h"
#include "gatehouse/auth/signedin.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/session/session.h"

void
signedin_time(int64_t t, char out[SIGNEDIN_TIME_MAX])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, SIGNEDIN_TIME_MAX, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, SIGNEDIN_TIME_MAX, "-");
}

void
signedin_unavailable(struct http_request *req, const struct signedin_page *page)
{
    http_add_header(req, "Retry-After", "5");
    http_error_page(req, 503, N_("Temporarily unavailable"), page->unavailable);
}

void
signedin_handle(struct http_request *req, const struct signedin_page *page,
                signedin_get_fn get, signedin_post_fn post)
{
    struct app *app = req->app;
    int is_post = strcmp(req->method, "POST") == 0;
    struct session *s = NULL;
    struct form f;
    char *cookie;
    int rc;

    cookie = http_cookie(req, SESSION_COOKIE);
    rc = cookie != NULL
             ? session_from_cookie(app->store, app->cfg, cookie,
                                   http_header(req, "User-Agent"), &s)
             : GH_ENOTFOUND;
    free(cookie);
    if (rc == GH_ENOTFOUND) {
        http_redirect(req, is_post ? 303 : 302, page->sign_in);
        return;
    }
    if (rc < 0) {
        signedin_unavailable(req, page);
        return;
    }
    if (!is_post) {
        get(req, s);
        session_free(s);
        return;
    }
    if ((rc = presign_form(req, page->purpose, s->sid, &f)) < 0) {
        if (rc == GH_EREDIS)
            signedin_unavailable(req, page);
        session_free(s);
    } else {
        post(req, s, &f);
    }
    form_free(&f);
}
