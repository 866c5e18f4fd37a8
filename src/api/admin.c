/* SPDX-License-Identifier: MIT */
/* The Admin API under /admin/ (SPEC §4): a bearer token from
 * client_credentials with scope gatehouse:admin, every call audited. The
 * work itself is in admin_ops.c, shared with the admin CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/api/admin.h"
#include "gatehouse/auth/admin_auth.h"
#include "gatehouse/core/app.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/core/config.h"
#include "gatehouse/session/delivery.h"
#include "gatehouse/core/error.h"
#include "gatehouse/http/form.h"
#include "gatehouse/http/http.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/states.h"
#include "gatehouse/session/maintenance.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/core/util.h"

#define PREFIX "/admin/"
/* Longer paths are refused before they are looked at: no admin path
 * needs more than a username and a word or two. */
#define PATH_MAX_LEN 200
#define MAX_SEGMENTS 4
#define TARGET_MAX 64
#define DELIVERIES_DEFAULT 100
#define AUDIT_DEFAULT 50
#define LIST_MAX 1000

/* One admin request: what it asks, who asks, and what the audit says. */
struct call {
    struct http_request *req;
    struct app *app;
    const struct admin_route *route;
    const char *action;
    char actor[160];
    char target[TARGET_MAX + 1];
    char user[USERNAME_MAX + 1];
    char sid[SESSION_SID_LEN + 1];
    char reason[ADMIN_REASON_MAX + 1];
    int path_status; /* a problem found in the path: 400, 404, 405 */
    char allow[32];  /* for a 405: the methods the path takes */
    const char *path_problem;
    const char *outcome;
    int status;
    long long sessions, deliveries;
};

struct admin_route {
    const char *method;
    const char *segments[MAX_SEGMENTS + 1]; /* "{user}", "{sid}" capture */
    const char *action;
    void (*fn)(struct call *c);
};

static void get_user_sessions(struct call *c);
static void post_user_logout(struct call *c);
static void delete_session(struct call *c);
static void get_session_deliveries(struct call *c);
static void post_logout_all(struct call *c);
static void get_logout_all(struct call *c);
static void get_deliveries(struct call *c);
static void get_audit(struct call *c);
static void post_maintenance(struct call *c);
static void get_maintenance(struct call *c);
static void delete_maintenance(struct call *c);
static void get_user_factors(struct call *c);
static void delete_user_factors(struct call *c);
static void put_user_factors_required(struct call *c);

static const struct admin_route admin_routes[] = {
    {"GET", {"users", "{user}", "sessions", NULL}, "list_sessions",
     get_user_sessions},
    {"POST", {"users", "{user}", "logout", NULL}, "logout_user",
     post_user_logout},
    {"GET", {"users", "{user}", "factors", NULL}, "list_factors",
     get_user_factors},
    {"DELETE", {"users", "{user}", "factors", NULL}, "reset_factors",
     delete_user_factors},
    {"PUT", {"users", "{user}", "factors", "required", NULL},
     "require_factor", put_user_factors_required},
    {"DELETE", {"sessions", "{sid}", NULL}, "end_session", delete_session},
    {"GET", {"sessions", "{sid}", "deliveries", NULL}, "session_deliveries",
     get_session_deliveries},
    {"POST", {"logout-all", NULL}, "logout_all", post_logout_all},
    {"GET", {"logout-all", NULL}, "logout_all_status", get_logout_all},
    {"GET", {"deliveries", NULL}, "list_deliveries", get_deliveries},
    {"GET", {"audit", NULL}, "read_audit", get_audit},
    {"POST", {"maintenance", NULL}, "maintenance_start", post_maintenance},
    {"GET", {"maintenance", NULL}, "maintenance_status", get_maintenance},
    {"DELETE", {"maintenance", NULL}, "maintenance_end", delete_maintenance},
};
#define NROUTES (sizeof(admin_routes) / sizeof(admin_routes[0]))

/* What an outcome is called in the audit log and the metrics. */
static const char *
outcome_of(int status)
{
    switch (status) {
    case 200:
    case 202:
        return "ok";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 409:
        return "conflict";
    default:
        return status < 500 ? "invalid" : "error";
    }
}

static void
reply_failure(struct call *c, int rc)
{
    if (rc == GH_EREDIS)
        http_json_error(c->req, 503, "temporarily_unavailable",
                        "the store is unavailable; try again");
    else
        http_json_error(c->req, 500, "server_error", gh_strerror(rc));
}

/* Sessions have ended and their apps' notifications are queued: the
 * delivery engine is woken for them, and the audit gets both counts. */
static void
record_ended(struct call *c, long long sessions, long long queued)
{
    delivery_wake(c->app->delivery);
    c->sessions = sessions;
    c->deliveries = queued;
}

/* 202: the sessions have ended; the notifications are queued, not yet
 * delivered (GET /admin/sessions/{sid}/deliveries tells). */
static void
reply_ended(struct call *c, long long sessions, long long queued)
{
    record_ended(c, sessions, queued);
    http_reply_json(c->req, 202,
                    json_pack("{s:I, s:I}", "sessions", (json_int_t)sessions,
                              "notifications", (json_int_t)queued));
}

/* s as an audit target: attacker-chosen text is kept (it is evidence)
 * but made harmless and short. */
static void
set_target(struct call *c, const char *s, size_t len)
{
    size_t i;

    if (len > TARGET_MAX)
        len = TARGET_MAX;
    for (i = 0; i < len; i++) {
        char ch = s[i];
        c->target[i] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                               (ch >= '0' && ch <= '9') || ch == '.' ||
                               ch == '_' || ch == '@' || ch == '-' ||
                               ch == ':' || ch == '/'
                           ? ch
                           : '?';
    }
    c->target[len] = '\0';
}

/*
 * Matches the path against the routes without trusting any of it: the
 * raw path (never percent-decoded), at most MAX_SEGMENTS segments, no '%'
 * and no dot segments anywhere. Sets c->route and the captured ids, or
 * c->path_status with the problem; either way c->action and c->target
 * say what the audit should record.
 */
static void
match(struct call *c)
{
    const char *rest = c->req->path + strlen(PREFIX);
    const char *seg[MAX_SEGMENTS + 1];
    size_t seglen[MAX_SEGMENTS + 1], nseg = 0, i, j, plen;
    const struct admin_route *shape = NULL;
    const char *p;

    c->action = "unknown";
    plen = strlen(rest);
    set_target(c, rest, plen);
    if (plen > PATH_MAX_LEN) {
        c->path_status = 400;
        c->path_problem = "the path is too long";
        return;
    }
    if (strchr(rest, '%') != NULL) {
        c->path_status = 400;
        c->path_problem = "percent-encoding is not accepted in admin paths";
        return;
    }
    for (p = rest;; p++) {
        const char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (nseg == MAX_SEGMENTS + 1) {
            c->path_status = 404;
            c->path_problem = "no such admin endpoint";
            return;
        }
        if ((len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.')) {
            c->path_status = 400;
            c->path_problem = "dot segments are not accepted";
            return;
        }
        seg[nseg] = p;
        seglen[nseg++] = len;
        if (slash == NULL)
            break;
        p = slash;
    }
    for (i = 0; i < NROUTES; i++) {
        const struct admin_route *r = &admin_routes[i];
        for (j = 0; j < nseg && r->segments[j] != NULL; j++) {
            if (r->segments[j][0] != '{' &&
                (strlen(r->segments[j]) != seglen[j] ||
                 strncmp(r->segments[j], seg[j], seglen[j]) != 0))
                break;
        }
        if (j != nseg || r->segments[j] != NULL)
            continue;
        shape = r;
        if (strcmp(r->method, c->req->method) == 0) {
            c->route = r;
            break;
        }
        snprintf(c->allow + strlen(c->allow),
                 sizeof(c->allow) - strlen(c->allow), "%s%s",
                 c->allow[0] != '\0' ? ", " : "", r->method);
    }
    if (shape == NULL) {
        c->path_status = 404;
        c->path_problem = "no such admin endpoint";
        return;
    }
    if (c->route == NULL) {
        c->path_status = 405;
        c->path_problem = "method not allowed";
        return;
    }
    c->action = c->route->action;
    for (j = 0; j < nseg; j++) {
        const char *name = c->route->segments[j];
        char buf[PATH_MAX_LEN + 1];

        if (name[0] != '{')
            continue;
        memcpy(buf, seg[j], seglen[j]);
        buf[seglen[j]] = '\0';
        set_target(c, buf, seglen[j]);
        if (strcmp(name, "{sid}") == 0) {
            if (!admin_valid_sid(buf)) {
                c->path_status = 400;
                c->path_problem = "a session id is 22 base64url characters";
                return;
            }
            memcpy(c->sid, buf, SESSION_SID_LEN + 1);
        } else {
            if (!admin_valid_user(buf)) {
                c->path_status = 400;
                c->path_problem = "a user is a username (1 to 64 of "
                                  "A-Z a-z 0-9 . _ @ -) or a sub";
                return;
            }
            memcpy(c->user, buf, seglen[j] + 1); /* valid: <= 64 */
        }
    }
    if (c->route->segments[0] != NULL &&
        strcmp(c->route->segments[0], "logout-all") == 0)
        snprintf(c->target, sizeof(c->target), "all");
}

/*
 * Parses the query string, allowing only the names in allowed (a typo in
 * an admin call should fail, not widen it). On failure the request has
 * been answered.
 */
static int
read_query(struct call *c, const char *const *allowed, struct form *f)
{
    size_t i, j;

    if (form_parse(c->req->query, strlen(c->req->query), f) < 0) {
        http_json_error(c->req, 400, "invalid_request",
                        "malformed query string");
        return -1;
    }
    if (form_has_duplicate(f) != NULL) {
        http_json_error(c->req, 400, "invalid_request",
                        "a parameter is repeated");
        form_free(f);
        return -1;
    }
    for (i = 0; i < f->n; i++) {
        for (j = 0; allowed[j] != NULL; j++)
            if (strcmp(f->v[i].key, allowed[j]) == 0)
                break;
        if (allowed[j] == NULL) {
            http_json_error(c->req, 400, "invalid_request",
                            "unknown query parameter");
            form_free(f);
            return -1;
        }
    }
    return 0;
}

/* A limit parameter: 1..LIST_MAX, or def if absent. -1 if malformed. */
static int
parse_limit(const char *s, int def)
{
    char *end;
    long v;

    if (s == NULL)
        return def;
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > LIST_MAX)
        return -1;
    return (int)v;
}

/* The body as JSON, NULL when it does not parse (the caller's check of
 * its shape answers that); or -1, answered 415, when it is not
 * application/json. */
static int
read_json(struct call *c, json_t **body)
{
    const char *ctype = http_header(c->req, "Content-Type");

    if (ctype == NULL || strncmp(ctype, "application/json", 16) != 0) {
        http_json_error(c->req, 415, "invalid_request",
                        "the body must be application/json");
        return -1;
    }
    *body = json_loadb(c->req->body, c->req->body_len, 0, NULL);
    return 0;
}

/*
 * The actor's reason: {"reason": "..."} as a JSON body, or ?reason=...
 * (for DELETE, which has no body by convention). Optional. On failure the
 * request has been answered.
 */
static int
read_reason(struct call *c)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *r = NULL;
    json_t *body = NULL, *v;
    struct form f;
    int rc = -1;

    if (read_query(c, allowed, &f) < 0)
        return -1;
    if (c->req->body_len > 0) {
        if (read_json(c, &body) < 0)
            goto out;
        if (!json_is_object(body) ||
            json_object_size(body) !=
                (json_object_get(body, "reason") != NULL ? 1u : 0u)) {
            http_json_error(c->req, 400, "invalid_request",
                            "the body must be {\"reason\": \"...\"}");
            goto out;
        }
        v = json_object_get(body, "reason");
        if (v != NULL && !json_is_string(v)) {
            http_json_error(c->req, 400, "invalid_request",
                            "reason must be a string");
            goto out;
        }
        r = json_string_value(v);
    }
    if (form_get(&f, "reason") != NULL) {
        if (r != NULL) {
            http_json_error(c->req, 400, "invalid_request",
                            "give the reason once, in the body or the query");
            goto out;
        }
        r = form_get(&f, "reason");
    }
    if (r != NULL && !admin_valid_reason(r)) {
        http_json_error(c->req, 400, "invalid_request",
                        "reason: at most 200 bytes, no control characters");
        goto out;
    }
    snprintf(c->reason, sizeof(c->reason), "%s", r != NULL ? r : "");
    rc = 0;
out:
    json_decref(body);
    form_free(&f);
    return rc;
}

/* The user {user} names, or the request has been answered (404). */
static int
find_user(struct call *c, struct user **u)
{
    int rc = users_get(c->app->store, c->user, u);

    if (rc == GH_ENOTFOUND) {
        http_json_error(c->req, 404, "not_found", "no such user");
        return -1;
    }
    if (rc < 0) {
        reply_failure(c, rc);
        return -1;
    }
    return 0;
}

static int
by_created(const void *a, const void *b)
{
    const struct session *x = *(struct session *const *)a;
    const struct session *y = *(struct session *const *)b;

    return (x->created > y->created) - (x->created < y->created);
}

static void
get_user_sessions(struct call *c)
{
    struct store *st = c->app->store;
    struct session **list = NULL;
    struct user *u = NULL;
    char **sids = NULL;
    size_t n = 0, i, count = 0;
    json_t *arr = NULL;
    int rc;

    if (find_user(c, &u) < 0)
        return;
    if ((rc = session_list_user(st, u->sub, &sids, &n)) < 0) {
        reply_failure(c, rc);
        goto out;
    }
    if ((list = calloc(n + 1, sizeof(*list))) == NULL ||
        (arr = json_array()) == NULL) {
        reply_failure(c, GH_ENOMEM);
        goto out;
    }
    for (i = 0; i < n; i++) {
        rc = session_get(st, sids[i], &list[count]);
        if (rc == GH_ENOTFOUND)
            continue; /* ended since the index was read */
        if (rc < 0) {
            reply_failure(c, rc);
            goto out;
        }
        count++;
    }
    qsort(list, count, sizeof(*list), by_created);
    for (i = 0; i < count; i++)
        json_array_append_new(
            arr, admin_session_json(list[i], c->app->cfg, u->username));
    c->sessions = (long long)count;
    http_reply_json(
        c->req, 200,
        json_pack("{s:o, s:O}", "user", users_json(u), "sessions", arr));
out:
    json_decref(arr);
    for (i = 0; i < count; i++)
        session_free(list[i]);
    free(list);
    for (i = 0; i < n; i++)
        free(sids[i]);
    free(sids);
    user_free(u);
}

static void
post_user_logout(struct call *c)
{
    struct user *u = NULL;
    long long sessions = 0, queued = 0;
    int rc;

    if (read_reason(c) < 0 || find_user(c, &u) < 0)
        goto out;
    /* By sub: the user found above, even if renamed meanwhile. */
    rc = admin_logout_user(c->app->store, u->sub, c->actor, &sessions, &queued);
    if (rc < 0) {
        reply_failure(c, rc);
        goto out;
    }
    reply_ended(c, sessions, queued);
out:
    user_free(u);
}

static void
get_user_factors(struct call *c)
{
    struct factor_info f[FACTORS_MAX];
    struct user *u = NULL;
    json_t *listing = NULL;
    size_t n = 0;
    int left = 0, rc;

    if (find_user(c, &u) < 0)
        return;
    if ((rc = factors_list(c->app->store, u->sub, f, &n, &left)) >= 0) {
        listing = factors_json(u->sub, u->username, f, n, left);
        rc = listing == NULL
                 ? GH_ENOMEM
                 : passkeys_list_json(c->app->store, u->sub, listing);
    }
    if (rc < 0) {
        json_decref(listing);
        reply_failure(c, rc);
    } else {
        http_reply_json(c->req, 200, listing);
    }
    user_free(u);
}

static void
delete_user_factors(struct call *c)
{
    struct user *u = NULL;
    long long sessions = 0, queued = 0;
    int had = 0, rc;

    if (read_reason(c) < 0 || find_user(c, &u) < 0)
        goto out;
    rc = admin_reset_factors(c->app->store, u->sub, c->actor, &had,
                             &sessions, &queued);
    if (rc < 0) {
        reply_failure(c, rc);
        goto out;
    }
    record_ended(c, sessions, queued);
    http_reply_json(c->req, 200,
                    json_pack("{s:b, s:I, s:I}", "removed", had, "sessions",
                              (json_int_t)sessions, "notifications",
                              (json_int_t)queued));
out:
    user_free(u);
}

/* {"required": true|false}: whether the user must have a second factor
 * (the sign-in sets one up after the password when they have none, and
 * the account page's "Remove" is refused). */
static void
put_user_factors_required(struct call *c)
{
    json_t *body = NULL, *v;
    struct user *u = NULL;
    int rc;

    if (read_json(c, &body) < 0)
        return;
    v = json_object_get(body, "required");
    if (!json_is_object(body) || json_object_size(body) != 1 ||
        !json_is_boolean(v)) {
        http_json_error(c->req, 400, "invalid_request",
                        "the body must be {\"required\": true|false}");
        goto out;
    }
    if (find_user(c, &u) < 0)
        goto out;
    if ((rc = factors_require(c->app->store, u->sub, json_is_true(v))) < 0) {
        reply_failure(c, rc);
        goto out;
    }
    http_reply_json(c->req, 200,
                    json_pack("{s:s, s:s, s:b}", "sub", u->sub, "username",
                              u->username, "required", json_is_true(v)));
out:
    user_free(u);
    json_decref(body);
}

static void
delete_session(struct call *c)
{
    long long queued = 0;
    char sub[37];
    int rc;

    if (read_reason(c) < 0)
        return;
    rc = admin_logout_session(c->app->store, c->app->cfg, c->sid, c->actor,
                              &queued, sub);
    if (rc < 0) {
        reply_failure(c, rc);
        return;
    }
    if (rc == 0) {
        http_json_error(c->req, 404, "not_found",
                        "no live session with that id");
        return;
    }
    reply_ended(c, 1, queued);
}

static void
get_session_deliveries(struct call *c)
{
    struct store *st = c->app->store;
    struct delivery_record *d = NULL;
    size_t n = 0, i;
    json_t *arr = NULL;
    int alive, rc;

    if ((alive = session_alive(st, c->app->cfg, c->sid)) < 0) {
        reply_failure(c, alive);
        return;
    }
    if ((rc = store_session_ledger(st, c->sid, &d, &n)) < 0) {
        reply_failure(c, rc);
        return;
    }
    if (!alive && n == 0) {
        http_json_error(c->req, 404, "not_found",
                        "no live session and no ledger with that id (ledgers "
                        "are kept 7 days)");
        goto out;
    }
    if ((arr = json_array()) == NULL) {
        reply_failure(c, GH_ENOMEM);
        goto out;
    }
    for (i = 0; i < n; i++)
        json_array_append_new(arr, admin_delivery_json(&d[i]));
    c->deliveries = (long long)n;
    http_reply_json(c->req, 200,
                    json_pack("{s:s, s:b, s:o}", "sid", c->sid, "active", alive,
                              "deliveries", arr));
out:
    store_delivery_records_free(d, n);
}

/* Lists one queue into arr. */
static int
list_queue(struct call *c, int failed, int limit, json_t *arr,
           long long *total)
{
    struct delivery_record *d = NULL;
    size_t n = 0, i;
    int rc;

    if ((rc = store_deliveries_list(c->app->store, failed, limit, &d, &n,
                                    total)) < 0)
        return rc;
    for (i = 0; i < n; i++)
        json_array_append_new(arr, admin_delivery_json(&d[i]));
    store_delivery_records_free(d, n);
    return 0;
}

static void
get_deliveries(struct call *c)
{
    static const char *const allowed[] = {"state", "limit", NULL};
    long long pending = 0, failed = 0;
    const char *state;
    json_t *arr = NULL;
    struct form f;
    int limit, rc = 0, want;

    if (read_query(c, allowed, &f) < 0)
        return;
    state = form_get(&f, "state");
    /* Neither given: both queues. */
    want = state != NULL ? ledger_state_parse(state) : LEDGER_STATE_COUNT;
    if (state != NULL && want != LEDGER_PENDING && want != LEDGER_FAILED) {
        http_json_error(c->req, 400, "invalid_request",
                        "state must be pending or failed");
        goto out;
    }
    if ((limit = parse_limit(form_get(&f, "limit"), DELIVERIES_DEFAULT)) <
        0) {
        http_json_error(c->req, 400, "invalid_request",
                        "limit must be a number from 1 to 1000");
        goto out;
    }
    snprintf(c->target, sizeof(c->target), "%s",
             state != NULL ? state : "pending,failed");
    if ((arr = json_array()) == NULL) {
        reply_failure(c, GH_ENOMEM);
        goto out;
    }
    if (want != LEDGER_FAILED)
        rc = list_queue(c, 0, limit, arr, &pending);
    if (rc == 0 && want != LEDGER_PENDING)
        rc = list_queue(c, 1, limit, arr, &failed);
    /* The totals of both queues, whichever was listed. */
    if (rc == 0)
        rc = store_delivery_counts(c->app->store, &pending, &failed);
    if (rc < 0) {
        reply_failure(c, rc);
        goto out;
    }
    c->deliveries = (long long)json_array_size(arr);
    http_reply_json(c->req, 200,
                    json_pack("{s:I, s:I, s:O}", "pending", (json_int_t)pending,
                              "failed", (json_int_t)failed, "deliveries", arr));
out:
    json_decref(arr);
    form_free(&f);
}

static void
get_audit(struct call *c)
{
    static const char *const allowed[] = {"limit", NULL};
    struct audit_record *a = NULL;
    size_t n = 0, i;
    json_t *arr = NULL;
    struct form f;
    int limit, rc;

    if (read_query(c, allowed, &f) < 0)
        return;
    if ((limit = parse_limit(form_get(&f, "limit"), AUDIT_DEFAULT)) < 0) {
        http_json_error(c->req, 400, "invalid_request",
                        "limit must be a number from 1 to 1000");
        goto out;
    }
    if ((rc = store_audit_list(c->app->store, limit, &a, &n)) < 0) {
        reply_failure(c, rc);
        goto out;
    }
    if ((arr = json_array()) == NULL) {
        reply_failure(c, GH_ENOMEM);
        goto out;
    }
    for (i = 0; i < n; i++)
        json_array_append_new(arr, admin_audit_json(&a[i]));
    http_reply_json(c->req, 200, json_pack("{s:O}", "records", arr));
out:
    json_decref(arr);
    store_audit_free(a, n);
    form_free(&f);
}

static void
reply_busy(struct call *c, const struct logout_all_state *s)
{
    json_t *o = json_pack("{s:s, s:s}", "error", "conflict",
                          "error_description",
                          "a logout-all is already running");

    if (o != NULL && s != NULL)
        json_object_set_new(o, "logout_all", admin_logout_all_json(s));
    http_reply_json(c->req, 409, o);
}

static void
post_logout_all(struct call *c)
{
    struct logout_all_state other;
    long long total = 0;
    int rc;

    if (read_reason(c) < 0)
        return;
    /* The request only starts it: a thread of its own does the work, so
     * no HTTP worker is held for the minutes 100,000 sessions may take. */
    rc = admin_logout_all_start(c->app, c->actor, c->reason,
                                http_client_addr(c->req), &total, &other);
    if (rc == GH_EBUSY) {
        reply_busy(c, other.state[0] != '\0' ? &other : NULL);
        return;
    }
    if (rc == GH_EDENIED) {
        http_json_error(c->req, 503, "temporarily_unavailable",
                        "shutting down");
        return;
    }
    if (rc < 0) {
        reply_failure(c, rc);
        return;
    }
    c->sessions = total;
    log_info("logout_all_started actor=%s sessions=%lld", c->actor, total);
    /* "notifications" is what was queued by the time of this answer,
     * usually 0: the count is only known once each session has ended.
     * GET /admin/logout-all follows the run. */
    http_reply_json(c->req, 202,
                    json_pack("{s:I, s:I, s:s}", "sessions", (json_int_t)total,
                              "notifications", (json_int_t)0, "state",
                              run_state_name(RUN_RUNNING)));
}

static void
get_logout_all(struct call *c)
{
    struct logout_all_state s;
    int rc = store_logout_all_get(c->app->store, &s);

    if (rc == GH_ENOTFOUND) {
        http_reply_json(c->req, 200,
                        json_pack("{s:s}", "state", run_state_name(RUN_NONE)));
        return;
    }
    if (rc < 0) {
        reply_failure(c, rc);
        return;
    }
    http_reply_json(c->req, 200, admin_logout_all_json(&s));
}

/*
 * POST /admin/maintenance {"message": "...", "at": TIME}: at is optional,
 * RFC 3339 text, "+30m"-style, or epoch seconds; absent or past is now.
 * Anything else is a 400 and nothing changes.
 */
static void
post_maintenance(struct call *c)
{
    json_t *body = NULL, *msg, *at;
    struct maintenance m;
    int64_t now = util_now(), when = now;
    char text[32];
    int rc;

    if (read_json(c, &body) < 0)
        return;
    msg = json_object_get(body, "message");
    at = json_object_get(body, "at");
    if (!json_is_object(body) ||
        json_object_size(body) != 1u + (at != NULL ? 1u : 0u) ||
        !json_is_string(msg)) {
        http_json_error(c->req, 400, "invalid_request",
                        "the body must be {\"message\": \"...\", "
                        "\"at\": TIME} (at optional)");
        goto out;
    }
    if (!maintenance_valid_message(json_string_value(msg))) {
        http_json_error(c->req, 400, "invalid_request",
                        "message: 1 to 500 bytes, no control characters");
        goto out;
    }
    if (json_is_integer(at)) {
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(at));
        rc = maintenance_parse_time(text, now, &when);
    } else if (json_is_string(at)) {
        rc = maintenance_parse_time(json_string_value(at), now, &when);
    } else {
        rc = at == NULL || json_is_null(at) ? 0 : GH_EINVAL;
    }
    if (rc < 0) {
        http_json_error(c->req, 400, "invalid_request",
                        "at: RFC 3339 (2026-12-07T15:00:00Z), +N with s, m "
                        "or h, epoch seconds, or now; within a year");
        goto out;
    }
    /* The audit record's reason is the message (cut to its size). */
    snprintf(c->reason, sizeof(c->reason), "%s", json_string_value(msg));
    if ((rc = maintenance_start(c->app->maintenance, c->app->store, json_string_value(msg), when,
                                c->actor, now, &m)) < 0) {
        reply_failure(c, rc);
        goto out;
    }
    log_info("maintenance_set actor=%s state=%s at=%lld", c->actor,
             maint_state_name(m.state), (long long)m.at);
    http_reply_json(c->req, 200, maintenance_json(&m));
out:
    json_decref(body);
}

static void
get_maintenance(struct call *c)
{
    struct maintenance_status s;
    int rc;

    if ((rc = maintenance_status(c->app->store, &s)) < 0) {
        reply_failure(c, rc);
        return;
    }
    c->sessions = s.sessions;
    c->deliveries = s.pending;
    http_reply_json(c->req, 200, maintenance_status_json(&s));
    maintenance_status_clear(&s);
}

static void
delete_maintenance(struct call *c)
{
    int rc = maintenance_end(c->app->maintenance, c->app->store);

    if (rc < 0) {
        reply_failure(c, rc);
        return;
    }
    log_info("maintenance_lifted actor=%s was_set=%d", c->actor, rc);
    http_reply_json(c->req, 200,
                    json_pack("{s:s, s:b}", "state",
                              maint_state_name(MAINT_NONE), "lifted", rc));
}

void
admin_handle(struct http_request *req)
{
    struct call c = {.req = req,
                     .app = req->app,
                     .actor = "anonymous",
                     .sessions = -1,
                     .deliveries = -1};
    struct audit_event ev;
    /* The path is read first only to name the attempt in the audit log:
     * nothing about it is answered before the caller is known. */
    match(&c);
    if (admin_auth_check(c.req, c.actor, sizeof(c.actor)) == 0) {
        if (c.path_status == 405) {
            http_add_header(req, "Allow", c.allow);
            http_json_error(req, 405, "invalid_request", c.path_problem);
        } else if (c.path_status != 0) {
            http_json_error(req, c.path_status,
                            c.path_status == 404 ? "not_found"
                                                 : "invalid_request",
                            c.path_problem);
        } else {
            c.route->fn(&c);
        }
    }
    /* Whoever answered (the check, a handler, the glue on no memory). */
    c.status = http_status(req);
    c.outcome = outcome_of(c.status);
    metrics_admin_call(c.outcome);
    /* Every call, allowed or not, leaves a record (SPEC §4). */
    ev = (struct audit_event){.actor = c.actor,
                              .action = c.action,
                              .target = c.target,
                              .reason = c.reason,
                              .outcome = c.outcome,
                              .addr = http_client_addr(req),
                              .sessions = c.sessions,
                              .deliveries = c.deliveries};
    admin_audit(c.app->store, &ev);
    log_info("admin_call actor=%s action=%s target=%s outcome=%s status=%d",
             c.actor, c.action, c.target[0] != '\0' ? c.target : "-",
             c.outcome, c.status);
}
