/* SPDX-License-Identifier: MIT */
/* What the harness drives (harness.h): sign-ins in a browser, the three
 * kinds of logout, and waiting until the apps have acknowledged theirs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

/* Between two looks at whether the apps acknowledged. */
#define POLL_MS 20
/* An admin token is reused for this long (they live 300 s by default). */
#define ADMIN_TOKEN_REUSE_S 60

/* ---- Sign-in and logout ---- */

/* Remembers that the session sid signed in to apps[app]. */
static void
remember(struct harness *h, const char *sid, int app)
{
    int i, n = h->nsessions < HARNESS_MAX_SESSIONS ? h->nsessions
                                                   : HARNESS_MAX_SESSIONS;

    for (i = 0; i < n; i++) {
        if (strcmp(h->sessions[i].sid, sid) == 0) {
            h->sessions[i].apps |= UINT64_C(1) << app;
            return;
        }
    }
    i = h->nsessions++ % HARNESS_MAX_SESSIONS;
    snprintf(h->sessions[i].sid, sizeof(h->sessions[i].sid), "%s", sid);
    h->sessions[i].apps = UINT64_C(1) << app;
}

static uint64_t
remembered(const struct harness *h, const char *sid)
{
    int i, n = h->nsessions < HARNESS_MAX_SESSIONS ? h->nsessions
                                                   : HARNESS_MAX_SESSIONS;

    for (i = 0; i < n; i++)
        if (strcmp(h->sessions[i].sid, sid) == 0)
            return h->sessions[i].apps;
    return 0;
}

/* Gatehouse's /jwks, malloc'd, or NULL. */
static char *
fetch_jwks(const struct harness *h)
{
    char url[128];
    struct http_result res;
    char *body;

    snprintf(url, sizeof(url), "%s/jwks", h->gh.issuer);
    if (http_do("GET", url, NULL, NULL, &res) < 0)
        return NULL;
    body = res.status == 200 ? res.body : NULL;
    if (body != NULL)
        res.body = NULL;
    http_result_free(&res);
    return body;
}

/* The sid claim of a JWS that verifies against jwks into out; 0 or -1. */
static int
jws_sid(const char *jwks, const char *jws, char *out, size_t size)
{
    char *payload = NULL;
    json_t *claims;
    const char *sid;
    int rc = -1;

    if (jwks == NULL || jws == NULL || jwks_verify(jwks, jws, &payload) < 0)
        return -1;
    claims = json_loads(payload, 0, NULL);
    sid = json_string_value(json_object_get(claims, "sid"));
    if (sid != NULL && strlen(sid) < size) {
        memcpy(out, sid, strlen(sid) + 1);
        rc = 0;
    }
    json_decref(claims);
    free(payload);
    return rc;
}

int
harness_sid(struct harness *h, const json_t *tokens, char *out, size_t size)
{
    const char *id = json_string_value(json_object_get(tokens, "id_token"));
    char *jwks = fetch_jwks(h);
    int rc = jws_sid(jwks, id, out, size);

    if (rc < 0)
        fprintf(stderr, "harness: no verifiable ID token with a sid\n");
    free(jwks);
    return rc;
}

json_t *
harness_sign_in(struct harness *h, struct browser *b, int app,
                const char *username, const char *password)
{
    const struct harness_app *a;
    char *code, *ru, *body = NULL, basic[128], sid[64];
    json_t *t;

    if (app < 0 || app >= h->napps) {
        fprintf(stderr, "harness: no app %d\n", app);
        return NULL;
    }
    a = &h->apps[app];
    code = oidc_get_code(&h->gh, b, a->client_id, a->redirect_uri, username,
                         password, NULL);
    ru = url_encode(a->redirect_uri);
    if (asprintf(&body, "grant_type=authorization_code&code=%s&redirect_uri=%s",
                 code, ru) < 0)
        body = NULL;
    free(code);
    free(ru);
    if (body == NULL)
        return NULL;
    snprintf(basic, sizeof(basic), "%s:%s", a->client_id, a->client_secret);
    t = oidc_token(&h->gh, body, basic, 200);
    explicit_bzero(basic, sizeof(basic));
    free(body);
    if (harness_sid(h, t, sid, sizeof(sid)) < 0) {
        json_decref(t);
        return NULL;
    }
    remember(h, sid, app);
    return t;
}

int
harness_logout_rp(struct harness *h, struct browser *b, const json_t *tokens)
{
    const char *id = json_string_value(json_object_get(tokens, "id_token"));
    char *url = NULL;
    struct http_result res;
    int rc = -1;

    if (id == NULL) {
        fprintf(stderr, "harness: logout: no id_token\n");
        return -1;
    }
    if (asprintf(&url, "%s/logout?id_token_hint=%s", h->gh.issuer, id) < 0)
        return -1;
    if (browser_do(b, "GET", url, NULL, &res) == 0) {
        /* A valid hint signs out at once; the confirmation page instead
         * would mean Gatehouse did not accept it. */
        if (res.status == 302 ||
            (res.status == 200 && strstr(res.body, "You are signed out")))
            rc = 0;
        else
            fprintf(stderr, "harness: /logout answered %ld\n", res.status);
        http_result_free(&res);
    }
    free(url);
    return rc;
}

/* A client_credentials access token of harness-admin (SPEC §4: scope
 * gatehouse:admin), borrowed from h, or NULL with a message. */
static const char *
admin_token(struct harness *h)
{
    char url[128], basic[128], auth[256];
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                          auth, NULL};
    struct http_result res;
    const char *tok;
    json_t *j;
    int rc;

    if (h->admin_token != NULL && test_now() < h->admin_token_until)
        return h->admin_token;
    free(h->admin_token);
    h->admin_token = NULL;
    snprintf(basic, sizeof(basic), "%s:%s", HARNESS_ADMIN_CLIENT,
             h->admin_secret);
    oidc_basic_header(basic, auth, sizeof(auth));
    explicit_bzero(basic, sizeof(basic));
    snprintf(url, sizeof(url), "%s/token", h->gh.issuer);
    rc = http_do("POST", url,
                 "grant_type=client_credentials&scope=" HARNESS_ADMIN_SCOPE,
                 hdrs, &res);
    explicit_bzero(auth, sizeof(auth));
    if (rc < 0) {
        fprintf(stderr, "harness: POST /token failed\n");
        return NULL;
    }
    j = res.status == 200 ? json_loads(res.body, 0, NULL) : NULL;
    if ((tok = json_string_value(json_object_get(j, "access_token"))) != NULL) {
        h->admin_token = strdup(tok);
        h->admin_token_until = test_now() + ADMIN_TOKEN_REUSE_S;
    } else {
        fprintf(stderr, "harness: admin token: %ld %s\n", res.status, res.body);
    }
    json_decref(j);
    http_result_free(&res);
    return h->admin_token;
}

/* An admin API call; 0 with res filled (the caller frees it), or -1. */
static int
admin_do(struct harness *h, const char *method, const char *path,
         struct http_result *res)
{
    const char *tok = admin_token(h);
    char *auth = NULL, url[512];
    const char *hdrs[2] = {NULL, NULL};
    int rc;

    if (tok == NULL || asprintf(&auth, "Authorization: Bearer %s", tok) < 0)
        return -1;
    hdrs[0] = auth;
    snprintf(url, sizeof(url), "%s%s", h->gh.issuer, path);
    rc = http_do(method, url, NULL, hdrs, res);
    free(auth);
    return rc;
}

int
harness_logout_admin(struct harness *h, const char *user)
{
    char path[256], *u = url_encode(user);
    struct http_result res;
    json_t *j;
    int n = -1;

    snprintf(path, sizeof(path), "/admin/users/%s/logout", u);
    free(u);
    if (admin_do(h, "POST", path, &res) < 0)
        return -1;
    j = res.status == 202 ? json_loads(res.body, 0, NULL) : NULL;
    if (json_is_integer(json_object_get(j, "sessions")))
        n = (int)json_integer_value(json_object_get(j, "sessions"));
    else if (res.status == 404)
        fprintf(stderr,
                "harness: POST %s answered 404: no admin API in "
                "this Gatehouse, or no such user\n",
                path);
    else
        fprintf(stderr, "harness: POST %s answered %ld: %s\n", path, res.status,
                res.body);
    json_decref(j);
    http_result_free(&res);
    return n;
}

/* ---- Waiting for acknowledgements ---- */

int
harness_notifications(struct harness *h, int app, const char *sid)
{
    struct bc_app *bc;
    char *jwks = NULL, got[64];
    int i, n, count = 0;

    if (app < 0 || app >= h->napps || (bc = h->apps[app].bc) == NULL)
        return 0;
    n = bc_count(bc);
    if (sid == NULL)
        return n;
    jwks = fetch_jwks(h);
    /* tokens[i] for i < n is written once, before ntokens grows, under
     * the receiver's lock that bc_count took. */
    for (i = 0; i < n; i++)
        if (jws_sid(jwks, bc->tokens[i], got, sizeof(got)) == 0 &&
            strcmp(got, sid) == 0)
            count++;
    free(jwks);
    return count;
}

/* The states of a session's deliveries: client_id -> state. */
struct ledger {
    int n;
    struct {
        char cid[64];
        char state[16];
    } e[HARNESS_MAX_APPS * 2];
};

static void
ledger_add(struct ledger *l, const char *cid, const char *state)
{
    if (l->n >= (int)(sizeof(l->e) / sizeof(l->e[0])))
        return;
    snprintf(l->e[l->n].cid, sizeof(l->e[l->n].cid), "%s", cid);
    snprintf(l->e[l->n].state, sizeof(l->e[l->n].state), "%s", state);
    l->n++;
}

static const char *
ledger_state(const struct ledger *l, const char *cid)
{
    int i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->e[i].cid, cid) == 0)
            return l->e[i].state;
    return NULL;
}

static const char *
first_string(const json_t *o, const char *const *keys)
{
    for (; *keys != NULL; keys++)
        if (json_is_string(json_object_get(o, *keys)))
            return json_string_value(json_object_get(o, *keys));
    return NULL;
}

/*
 * SPEC §4: GET /admin/sessions/{sid}/deliveries, the session's logout
 * ledger: {"deliveries": [{"client_id", "state", ...}]}. A 404 is a session
 * with no ledger (yet). 0, or -1 if the answer is anything else.
 */
static int
ledger_from_admin(struct harness *h, const char *sid, struct ledger *l)
{
    static const char *const cid_keys[] = {"client_id", "app", "cid", NULL};
    static const char *const st_keys[] = {"state", "st", "status", NULL};
    char path[160];
    struct http_result res;
    json_t *j, *arr, *e;
    size_t i;
    int rc = -1;

    snprintf(path, sizeof(path), "/admin/sessions/%s/deliveries", sid);
    if (admin_do(h, "GET", path, &res) < 0)
        return -1;
    if (res.status == 404) {
        http_result_free(&res);
        return 0;
    }
    j = res.status == 200 ? json_loads(res.body, 0, NULL) : NULL;
    arr = json_is_array(j) ? j : json_object_get(j, "deliveries");
    if (json_is_array(arr)) {
        rc = 0;
        json_array_foreach(arr, i, e)
        {
            const char *cid = first_string(e, cid_keys);
            const char *st = first_string(e, st_keys);
            if (cid == NULL || st == NULL) {
                rc = -1;
                break;
            }
            ledger_add(l, cid, st);
        }
    }
    json_decref(j);
    http_result_free(&res);
    return rc;
}

/* The same from Redis: the ids in sdl:{sid} and the st field of each
 * dl:{sid:client_id}, in one script so the answer is consistent. */
static int
ledger_from_redis(const struct harness *h, const char *sid, struct ledger *l)
{
    static const char script[] =
        "local o = {} "
        "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
        "o[#o + 1] = id "
        "o[#o + 1] = redis.call('HGET', ARGV[1] .. id, 'st') or '-' "
        "end return o";
    char key[160], dl[64], *out = NULL, *line, *save = NULL, *id = NULL;
    char *sock = (char *)h->redis.socket, *code = (char *)script;
    char *argv[] = {"redis-cli", "-s", sock, "EVAL", code, "1", key, dl, NULL};
    int rc;

    snprintf(key, sizeof(key), "%ssdl:%s", h->prefix, sid);
    snprintf(dl, sizeof(dl), "%sdl:", h->prefix);
    if ((rc = run_cmd(argv, NULL, &out, NULL)) != 0 || out == NULL) {
        free(out);
        return -1;
    }
    for (line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (id == NULL) {
            id = line;
            continue;
        }
        if (strncmp(id, sid, strlen(sid)) == 0 && id[strlen(sid)] == ':')
            ledger_add(l, id + strlen(sid) + 1, line);
        id = NULL;
    }
    free(out);
    return 0;
}

/*
 * Whether this Gatehouse has the admin API, asked once: an admin call any
 * Gatehouse with the API answers 200. Until the admin API was written, the
 * ledger was only in Redis; a team's older Gatehouse may still be so.
 */
static int
have_admin_api(struct harness *h)
{
    struct http_result res;

    if (h->admin_api == 0) {
        h->admin_api = -1;
        if (admin_do(h, "GET", "/admin/deliveries?state=failed", &res) == 0) {
            if (res.status == 200)
                h->admin_api = 1;
            http_result_free(&res);
        }
    }
    return h->admin_api == 1;
}

/* The session's ledger from the admin API if there is one, else (or if
 * its answer cannot be read) from Redis. */
static int
read_ledger(struct harness *h, const char *sid, struct ledger *l)
{
    memset(l, 0, sizeof(*l));
    if (have_admin_api(h) && ledger_from_admin(h, sid, l) == 0)
        return 0;
    memset(l, 0, sizeof(*l));
    return ledger_from_redis(h, sid, l);
}

int
harness_wait_acked(struct harness *h, const char *sid, double timeout_s)
{
    double deadline = test_now() + timeout_s;
    uint64_t want = remembered(h, sid), acked = 0;
    char *jwks = fetch_jwks(h), got[64], waiting[512];
    int seen[HARNESS_MAX_APPS] = {0};
    int i, k, rounds, failed = 0, done = 0;
    struct ledger l = {0};

    /* Bounded twice: by the deadline and by a count of rounds. */
    rounds = (int)(timeout_s * 1000 / POLL_MS) + 2;
    for (k = 0; k < rounds && !done && !failed; k++) {
        int pending = 0, have_ledger = 0;

        if (jwks == NULL)
            jwks = fetch_jwks(h);

        for (i = 0; i < h->napps; i++) {
            struct harness_app *a = &h->apps[i];
            const char *st;
            int n;

            if (acked & (UINT64_C(1) << i) || a->backchannel_uri[0] == '\0')
                continue;
            if (want != 0 && (want & (UINT64_C(1) << i)) == 0)
                continue;
            if (a->bc != NULL && want != 0) {
                /* Our own receiver: it acknowledged when it holds a
                 * logout token for sid. */
                for (n = bc_count(a->bc); jwks != NULL && seen[i] < n;
                     seen[i]++)
                    if (jws_sid(jwks, a->bc->tokens[seen[i]], got,
                                sizeof(got)) == 0 &&
                        strcmp(got, sid) == 0)
                        acked |= UINT64_C(1) << i;
                if ((acked & (UINT64_C(1) << i)) == 0)
                    pending++;
                continue;
            }
            if (!have_ledger) {
                if (read_ledger(h, sid, &l) < 0)
                    l.n = 0;
                have_ledger = 1;
            }
            st = ledger_state(&l, a->client_id);
            if (st != NULL && strcmp(st, "delivered") == 0) {
                acked |= UINT64_C(1) << i;
            } else if (st != NULL && strcmp(st, "failed") == 0) {
                fprintf(stderr,
                        "harness: %s: delivery for the session "
                        "failed for good\n",
                        a->name);
                failed = 1;
            } else if (want != 0 || st != NULL) {
                pending++;
            }
        }
        /* Without a sign-in of ours to go by, the ledger says which apps
         * there are; an empty one means the session has not ended yet. */
        if (want == 0 && !have_ledger)
            (void)read_ledger(h, sid, &l);
        done = pending == 0 && (want != 0 || l.n > 0);
        if (!done && !failed) {
            if (test_now() >= deadline)
                break;
            test_sleep_ms(POLL_MS);
        }
    }
    free(jwks);
    if (done)
        return 0;
    if (!failed) {
        waiting[0] = '\0';
        for (i = 0; i < h->napps; i++)
            if ((want == 0 || (want & (UINT64_C(1) << i))) &&
                !(acked & (UINT64_C(1) << i)) &&
                h->apps[i].backchannel_uri[0] != '\0')
                snprintf(waiting + strlen(waiting),
                         sizeof(waiting) - strlen(waiting), " %s",
                         h->apps[i].name);
        fprintf(stderr, "harness: after %.1f s still waiting for:%s\n",
                timeout_s, waiting);
    }
    return -1;
}
