/* SPDX-License-Identifier: MIT */
/* Step-up: the password again for a session signed in too long ago
 * (stepup.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/auth/lockout.h"
#include "gatehouse/auth/stepup.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/core/util.h"
#include "gatehouse/core/xmalloc.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/crypto/webauthn.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/http/http.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"

/* The lockout buckets a step-up counts in, as a sign-in's (SPEC §7). */
#define BUCKETS 2
#define BUCKET_MAX (USERNAME_MAX + 60)

struct stepup_job {
    struct http_request *req;
    char sid[SESSION_SID_LEN + 1];
    char sub[37];
    char *password;
    char *hash; /* the user's PHC string; NULL: disabled or gone */
    char who[BUCKETS][BUCKET_MAX];
    stepup_done_fn done;
    void *arg;
};

int
stepup_fresh(const struct config *cfg, const struct session *s)
{
    return util_now_ms() - s->auth_time_ms <=
           (int64_t)cfg->login_reauth_window_s * 1000;
}

static void
job_free(struct stepup_job *j)
{
    util_free_secret(j->password);
    free(j->hash);
    free(j);
}

static void
job_run(void *arg)
{
    struct stepup_job *j = arg;
    struct http_request *req = j->req;
    struct store *st = req->app->store;
    const char *who[BUCKETS] = {j->who[0], j->who[1]};
    int rc;

    /* A disabled or deleted user costs the same as a wrong password. */
    rc = j->hash != NULL ? password_verify(j->password, j->hash)
                         : password_verify_dummy(j->password);
    if (rc < 0) {
        log_info("stepup_failed sub=%s", j->sub);
        rc = GH_EDENIED;
    } else if (store_login_refund(st, who, BUCKETS, 1) < 0) {
        rc = GH_EREDIS;
    } else if ((rc = session_reauth(st, j->sid)) == 0) {
        log_info("stepup sub=%s", j->sub);
    } else if (rc != GH_ENOTFOUND) {
        rc = GH_EREDIS;
    }
    if (j->done(req, j->arg, rc) == 0)
        http_resume(req);
    job_free(j);
}

/* Shed at shutdown or never queued: nothing was checked, so the attempt
 * is given back. */
static void
job_cancel(void *arg)
{
    struct stepup_job *j = arg;
    struct http_request *req = j->req;
    const char *who[BUCKETS] = {j->who[0], j->who[1]};

    store_login_refund(req->app->store, who, BUCKETS, 0);
    if (j->done(req, j->arg, GH_EBUSY) == 0)
        http_resume(req);
    job_free(j);
}

/*
 * Reserves one attempt of s's user from this address in the lockout's
 * buckets (named into b) before anything is checked, as a sign-in does.
 * 0: reserved. 1: locked out, and the 429 is sent. GH_EREDIS: Redis did
 * not answer; the caller sends its 503.
 */
static int
reserve(struct http_request *req, const struct session *s,
        char b[BUCKETS][BUCKET_MAX])
{
    const char *who[BUCKETS] = {b[0], b[1]};
    int rc;

    snprintf(b[0], BUCKET_MAX, "u:%s", s->sub);
    snprintf(b[1], BUCKET_MAX, "ip:%s", http_client_addr(req));
    if ((rc = lockout_reserve(req, who, BUCKETS)) == 1)
        log_info("stepup_locked_out sub=%s", s->sub);
    return rc;
}

int
stepup_verify(struct http_request *req, const struct session *s,
              const char *password, stepup_done_fn done, void *arg)
{
    struct app *app = req->app;
    struct stepup_job *j = xcalloc(1, sizeof(*j));
    struct user *u = NULL;
    int rc;

    j->req = req;
    j->done = done;
    j->arg = arg;
    snprintf(j->sid, sizeof(j->sid), "%s", s->sid);
    snprintf(j->sub, sizeof(j->sub), "%s", s->sub);
    j->password = xstrdup(password);
    if ((rc = users_get(app->store, s->sub, &u)) < 0 && rc != GH_ENOTFOUND)
        goto unavailable;
    if (u != NULL && !u->disabled)
        j->hash = xstrdup(u->hash);
    user_free(u);
    if ((rc = reserve(req, s, j->who)) == 1) {
        job_free(j);
        return 1;
    }
    if (rc < 0)
        goto unavailable;
    /* SPEC §7: scrypt never runs on an HTTP thread. */
    http_suspend(req);
    if (hashpool_submit_cancellable(app->hashpool, job_run, job_cancel, j) < 0)
        job_cancel(j);
    return 0;
unavailable:
    http_add_header(req, "Retry-After", "5");
    http_error_page(req, 503, N_("Temporarily unavailable"),
                    N_("Your password cannot be checked right now; nothing "
                       "was changed. Please try again in a moment."));
    job_free(j);
    return 1;
}

int
stepup_verify_code(struct http_request *req, const struct session *s,
                   const char *code)
{
    struct app *app = req->app;
    struct factor_result res;
    char b[BUCKETS][BUCKET_MAX];
    const char *who[BUCKETS] = {b[0], b[1]};
    int rc;

    if ((rc = reserve(req, s, b)) != 0)
        return rc;
    memset(&res, 0, sizeof(res));
    rc = factors_verify(app->store, app->factor_key, s->sub, code,
                        strlen(code), util_now(), &res);
    if (rc == 0 && !res.accepted) {
        log_info("stepup_failed sub=%s code=1 replayed=%d", s->sub,
                 res.replayed);
        return GH_EDENIED; /* stays counted */
    }
    if (rc < 0) {
        /* Nothing was checked: the attempt is given back. */
        store_login_refund(app->store, who, BUCKETS, 0);
        return rc == GH_EINVAL || rc == GH_ENOTFOUND || rc == GH_EBADTOKEN
                   ? GH_EINVAL
                   : GH_EREDIS;
    }
    if (store_login_refund(app->store, who, BUCKETS, 1) < 0)
        return GH_EREDIS;
    if ((rc = session_reauth(app->store, s->sid)) < 0)
        return rc == GH_ENOTFOUND ? rc : GH_EREDIS;
    log_info("stepup sub=%s code=1", s->sub);
    return 0;
}

/* What a step-up's passkey challenge is bound to: this session only. */
static void
passkey_binding(const struct session *s, char out[SESSION_SID_LEN + 8])
{
    snprintf(out, SESSION_SID_LEN + 8, "stepup.%s", s->sid);
}

int
stepup_passkey_offer(struct http_request *req, const struct session *s,
                     char *challenge, char **sealed)
{
    struct passkey_record *p = NULL;
    char binding[SESSION_SID_LEN + 8];
    size_t n = 0;
    int rc;

    *sealed = NULL;
    if ((rc = store_passkeys_list(req->app->store, s->sub, &p, &n)) < 0)
        return rc;
    store_passkeys_free(p, n);
    if (n == 0)
        return 0;
    passkey_binding(s, binding);
    if ((rc = passkeys_challenge(req->app->store, PASSKEY_PURPOSE_SIGN_IN,
                                 binding, challenge, sealed)) < 0)
        return rc;
    return 1;
}

int
stepup_verify_passkey(struct http_request *req, const struct session *s,
                      const char *sealed, const char *id,
                      const char *client_data, const char *auth_data,
                      const char *sig)
{
    struct app *app = req->app;
    char b[BUCKETS][BUCKET_MAX], binding[SESSION_SID_LEN + 8];
    char origin[512], rp_id[256], *owner = NULL;
    const char *who[BUCKETS] = {b[0], b[1]};
    struct webauthn_rp rp = {origin, rp_id};
    int rc, uv = 0;

    if (webauthn_rp_from_issuer(app->cfg->issuer, origin, sizeof(origin), rp_id,
                                sizeof(rp_id)) < 0)
        return GH_EINVAL;
    if ((rc = reserve(req, s, b)) != 0)
        return rc;
    passkey_binding(s, binding);
    rc = passkeys_sign_in(app->store, &rp, binding, sealed, s->sub, id,
                          client_data, auth_data, sig, &owner, &uv);
    free(owner);
    if (rc == GH_EBADTOKEN || rc == GH_EINVAL || rc == GH_EREDIS) {
        /* Nothing was checked: the attempt is given back. */
        store_login_refund(app->store, who, BUCKETS, 0);
        return rc == GH_EREDIS ? GH_EREDIS : GH_EINVAL;
    }
    metrics_factor(FACTOR_PASSKEY, rc == 0);
    if (rc < 0) {
        log_info("stepup_failed sub=%s passkey=1 rc=%s", s->sub,
                 gh_strerror(rc));
        return GH_EDENIED; /* stays counted */
    }
    if (store_login_refund(app->store, who, BUCKETS, 1) < 0)
        return GH_EREDIS;
    if ((rc = session_reauth(app->store, s->sid)) < 0)
        return rc == GH_ENOTFOUND ? rc : GH_EREDIS;
    log_info("stepup sub=%s passkey=1", s->sub);
    return 0;
}
