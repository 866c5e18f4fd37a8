/* SPDX-License-Identifier: MIT */
/* The maintenance shutdown as HTTP sees it (maintenance_endpoint.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "gatehouse/api/maintenance_endpoint.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/i18n.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/http/http.h"
#include "gatehouse/http/pages.h"
#include "gatehouse/session/maintenance.h"

/* How long apps may cache GET /maintenance (SPEC §4). */
#define MAINTENANCE_MAX_AGE_S 5

void
maintenance_endpoint_handle(struct http_request *req)
{
    struct maintenance m;
    int rc = maintenance_get(req->app->maintenance, req->app->store, &m);

    if (rc < 0) {
        /* Never "none" for want of Redis: an app would drop its banner. */
        http_json_error(req, 503, "temporarily_unavailable",
                        "the store is unavailable; try again");
        return;
    }
    http_cacheable_for(req, MAINTENANCE_MAX_AGE_S);
    http_reply_json(req, 200, maintenance_json(&m));
}

/* "15:00 UTC" for today, else "2026-12-08 15:00 UTC": a reader's time. */
static void
shown_time(int64_t at, char *buf, size_t size)
{
    time_t t = (time_t)at, now = time(NULL);
    struct tm tm, today;

    gmtime_r(&t, &tm);
    gmtime_r(&now, &today);
    if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
        strftime(buf, size, "%H:%M UTC", &tm);
    else
        strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
}

int
maintenance_endpoint_closed(struct http_request *req)
{
    const struct page_ctx *ctx;
    struct maintenance m;
    char since[40];
    char *html;

    if (maintenance_get(req->app->maintenance, req->app->store, &m) < 0 || m.state != MAINT_ACTIVE)
        return 0;
    ctx = http_page_ctx(req);
    shown_time(m.at, since, sizeof(since));
    html = pages_maintenance(ctx, m.message, since);
    http_add_header(req, "Retry-After", MAINTENANCE_RETRY_AFTER);
    if (html == NULL) {
        http_error_page(req, 503, "Down for maintenance", NULL);
        return 1;
    }
    http_reply_html(req, 503, html);
    return 1;
}

char *
maintenance_endpoint_banner(struct app *app, enum lang lang)
{
    struct maintenance m;
    char when[40], *out;
    int n;

    if (app == NULL || app->store == NULL ||
        maintenance_get(app->maintenance, app->store, &m) < 0 || m.state != MAINT_ANNOUNCED)
        return NULL;
    shown_time(m.at, when, sizeof(when));
    /* One sentence with its placeholders (the time, then the operator's
     * words), never pieced together: a translation may reorder them with
     * %1$s and %2$s. */
    n = snprintf(NULL, 0, tr(lang, "Maintenance starts at %s: %s"), when,
                 m.message);
    if (n < 0)
        return NULL;
    out = xmalloc((size_t)n + 1);
    snprintf(out, (size_t)n + 1, tr(lang, "Maintenance starts at %s: %s"),
             when, m.message);
    return out;
}
