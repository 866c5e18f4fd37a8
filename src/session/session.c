/* SPDX-License-Identifier: MIT */
/* IdP sessions: created at sign-in, found from the cookie, ended one way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gatehouse/directory/clients.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/log.h"
#include "gatehouse/core/metrics.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/core/useragent.h"
#include "gatehouse/core/util.h"

/* 128 bits of sid and 256 bits of cookie secret (SPEC §7). */
#define SID_BYTES 16
#define SECRET_BYTES 32

static void ended_note(const char *sid, const struct session_ended *e,
                       const char *actor, int quiet);

int
session_create(struct store *st, const struct config *cfg, const char *sub,
               const char *ip, const char *ua,
               char sid_out[SESSION_SID_LEN + 1],
               char cookie_out[SESSION_COOKIE_LEN + 1])
{
    return session_create_amr(st, cfg, sub, ip, ua, SESSION_AMR_PWD, sid_out,
                              cookie_out);
}

int
session_create_amr(struct store *st, const struct config *cfg,
                   const char *sub, const char *ip, const char *ua,
                   const char *amr, char sid_out[SESSION_SID_LEN + 1],
                   char cookie_out[SESSION_COOKIE_LEN + 1])
{
    char sid[SESSION_SID_LEN + 1], secret[B64URL_LEN(SECRET_BYTES) + 1];
    char khash[65], family[USERAGENT_FAMILY_MAX];
    struct store_session_new n;
    struct session_evicted ev = {0};
    size_t i;
    int rc;

    if ((rc = util_random_id(sid, SID_BYTES)) < 0 ||
        (rc = util_random_id(secret, SECRET_BYTES)) < 0)
        return rc;
    util_sha256_hex(secret, strlen(secret), khash);
    useragent_family(ua, family);
    memset(&n, 0, sizeof(n));
    n.sid = sid;
    n.sub = sub;
    n.khash = khash;
    n.now_ms = util_now_ms();
    /* How the user signed in (RFC 8176: "pwd", "pwd otp"); the ID tokens
     * of the session say so (amr, acr). */
    n.amr = amr != NULL && amr[0] != '\0' ? amr : SESSION_AMR_PWD;
    n.idle_s = cfg->session_idle_timeout_s;
    n.absolute_s = cfg->session_absolute_timeout_s;
    n.ip = ip;
    n.ua = ua;
    n.ua_family = family;
    /* SPEC §3: a sign-in beyond the limit ends the oldest, in the same
     * step, so parallel sign-ins cannot overshoot it. */
    n.max_per_user = cfg->session_max_per_user;
    n.evict_reason = end_reason_name(END_EVICTED);
    n.evict_notice = end_reason_notice(END_EVICTED) != NULL;
    rc = store_session_create(st, &n, &ev);
    for (i = 0; i < ev.n; i++)
        ended_note(ev.sids[i], &ev.ended[i], "gatehouse", 0);
    session_evicted_clear(&ev);
    if (rc == 0) {
        memcpy(sid_out, sid, sizeof(sid));
        snprintf(cookie_out, SESSION_COOKIE_LEN + 1, "%s.%s", sid, secret);
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

/* Splits "sid.secret" after checking its shape, so nothing malformed
 * reaches Redis. */
static int
split_cookie(const char *cookie, char sid[SESSION_SID_LEN + 1],
             const char **secret)
{
    const char *dot;

    if (cookie == NULL || strlen(cookie) != SESSION_COOKIE_LEN)
        return GH_EINVAL;
    dot = cookie + SESSION_SID_LEN;
    if (*dot != '.' || !b64url_valid(cookie, SESSION_SID_LEN) ||
        !b64url_valid(dot + 1, SESSION_COOKIE_LEN - SESSION_SID_LEN - 1))
        return GH_EINVAL;
    memcpy(sid, cookie, SESSION_SID_LEN);
    sid[SESSION_SID_LEN] = '\0';
    *secret = dot + 1;
    return 0;
}

/*
 * session.bind "user_agent": a session presented by another browser family
 * than the one it began in ends (SPEC §5, reason anomaly) instead of being
 * honoured. A session from before families were kept has none: nothing
 * to compare it with.
 */
static int
bound_elsewhere(const struct config *cfg, const struct session *s,
                const char *ua)
{
    char family[USERAGENT_FAMILY_MAX];

    if (!cfg->session_bind_user_agent || s->ua_family[0] == '\0')
        return 0;
    useragent_family(ua, family);
    return strcmp(family, s->ua_family) != 0;
}

int
session_from_cookie(struct store *st, const struct config *cfg,
                    const char *cookie, const char *ua, struct session **ret)
{
    char sid[SESSION_SID_LEN + 1], khash[65], want[65];
    const char *secret;
    struct session *s = NULL;
    int rc;

    if (split_cookie(cookie, sid, &secret) < 0)
        return GH_ENOTFOUND;
    if ((rc = store_session_get(st, sid, &s, khash)) < 0)
        return rc;
    util_sha256_hex(secret, strlen(secret), want);
    if (CRYPTO_memcmp(khash, want, sizeof(want)) != 0) {
        rc = GH_ENOTFOUND;
        goto out;
    }
    if (bound_elsewhere(cfg, s, ua)) {
        rc = session_end_by(st, cfg, sid, END_ANOMALY, "gatehouse", NULL);
        if (rc >= 0)
            rc = GH_ENOTFOUND;
        goto out;
    }
    /* The touch also decides whether it is still alive: expiry is the
     * sorted set's business, and the script reads the same fields. */
    if ((rc = store_session_touch(st, sid, util_now(),
                                  cfg->session_idle_timeout_s,
                                  cfg->session_absolute_timeout_s, NULL, NULL,
                                  NULL)) < 0)
        goto out;
    *ret = s;
    s = NULL;
out:
    session_free(s);
    return rc;
}

int
session_reauth(struct store *st, const char *sid)
{
    return store_session_reauth(st, sid, util_now_ms());
}

enum end_reason
session_ended_why(struct store *st, const char *cookie)
{
    char sid[SESSION_SID_LEN + 1], khash[65], want[65], reason[32];
    const char *secret;
    enum end_reason r;

    if (split_cookie(cookie, sid, &secret) < 0 ||
        store_session_notice(st, sid, reason, khash) < 0)
        return END_OTHER;
    /* Only the browser that held the session is told: the sid is no
     * secret (the sid claim). */
    util_sha256_hex(secret, strlen(secret), want);
    if (strlen(khash) != 64 || CRYPTO_memcmp(khash, want, sizeof(want)) != 0)
        return END_OTHER;
    r = end_reason_parse(reason);
    return end_reason_notice(r) != NULL ? r : END_OTHER;
}

int
session_touch(struct store *st, const struct config *cfg, const char *sid,
              const char *client_id, char sub_out[37])
{
    return store_session_touch(st, sid, util_now(),
                               cfg->session_idle_timeout_s,
                               cfg->session_absolute_timeout_s, client_id, "",
                               sub_out);
}

int
session_record_app(struct store *st, const struct config *cfg,
                   const char *sid, const struct client *c, char sub_out[37])
{
    /* The URI is kept on the session so ending it later needs nothing
     * else; an app registered without one gets no notification. */
    return store_session_touch(
        st, sid, util_now(), cfg->session_idle_timeout_s,
        cfg->session_absolute_timeout_s, c->client_id,
        c->backchannel_logout_uri != NULL ? c->backchannel_logout_uri : "",
        sub_out);
}

int
session_alive(struct store *st, const struct config *cfg, const char *sid)
{
    return store_session_alive(st, sid, util_now(),
                               cfg->session_idle_timeout_s,
                               cfg->session_absolute_timeout_s);
}

/* What an ending may be asked for with: the recorded-only reasons are
 * session_end.lua's to decide. END_TIMEOUT needs cfg for the timeouts. */
static int
check_reason(enum end_reason reason, const struct config *cfg)
{
    if (reason == END_TIMEOUT_IDLE || reason == END_TIMEOUT_ABSOLUTE ||
        reason == END_OTHER || (unsigned)reason >= END_REASON_COUNT)
        return GH_EINVAL;
    if (reason == END_TIMEOUT && cfg == NULL)
        return GH_EINVAL;
    return 0;
}

/* What every ending does here, besides Redis: count it and say so. */
static void
ended_note(const char *sid, const struct session_ended *e, const char *actor,
           int quiet)
{
    char fp[13];

    metrics_session_end(e->reason);
    log_fingerprint(sid, fp);
    if (quiet)
        log_debug("session_end sid_fp=%s reason=%s actor=%s deliveries=%d", fp,
                  end_reason_name(e->reason), actor, e->queued);
    else
        log_info("session_end sid_fp=%s reason=%s actor=%s deliveries=%d", fp,
                 end_reason_name(e->reason), actor, e->queued);
}

int
session_end_by(struct store *st, const struct config *cfg, const char *sid,
               enum end_reason reason, const char *actor,
               struct session_ended *out)
{
    struct session_ended e;
    char *sids[1] = {(char *)sid};
    int rc;

    if ((rc = check_reason(reason, cfg)) < 0)
        return rc;
    rc = store_sessions_end(st, sids, 1, end_reason_name(reason), actor,
                            util_now(), cfg ? cfg->session_idle_timeout_s : 0,
                            cfg ? cfg->session_absolute_timeout_s : 0, 1, &e);
    if (rc == 1) {
        ended_note(sid, &e, actor, 0);
        if (out != NULL) {
            *out = e;
            return rc;
        }
    }
    session_ended_clear(&e);
    return rc;
}

int
session_end_many(struct store *st, const struct config *cfg, char *const *sids,
                 size_t n, enum end_reason reason, const char *actor, int audit,
                 long long *ended, long long *queued)
{
    struct session_ended e[SESSION_END_BATCH];
    size_t at, i, k;
    int rc;

    if ((rc = check_reason(reason, cfg)) < 0)
        return rc;
    for (at = 0; at < n; at += k) {
        k = n - at < SESSION_END_BATCH ? n - at : SESSION_END_BATCH;
        rc = store_sessions_end(
            st, sids + at, k, end_reason_name(reason), actor, util_now(),
            cfg ? cfg->session_idle_timeout_s : 0,
            cfg ? cfg->session_absolute_timeout_s : 0, audit, e);
        if (rc < 0)
            return rc;
        for (i = 0; i < k; i++) {
            if (!e[i].ended)
                continue;
            ended_note(sids[at + i], &e[i], actor, 1);
            if (ended != NULL)
                (*ended)++;
            if (queued != NULL)
                *queued += e[i].queued;
            session_ended_clear(&e[i]);
        }
    }
    return 0;
}

int
session_end(struct store *st, const char *sid, enum end_reason reason)
{
    return session_end_by(st, NULL, sid, reason, "gatehouse", NULL);
}

int
session_end_user(struct store *st, const char *sub, enum end_reason reason,
                 const char *actor, long long *ended, long long *queued)
{
    char **sids = NULL;
    size_t n = 0, i;
    int rc;

    if ((rc = store_user_sessions(st, sub, &sids, &n)) < 0)
        return rc;
    rc = session_end_many(st, NULL, sids, n, reason, actor, 1, ended, queued);
    for (i = 0; i < n; i++)
        free(sids[i]);
    free(sids);
    return rc;
}

int
session_list_user(struct store *st, const char *sub, char ***ret, size_t *n)
{
    return store_user_sessions(st, sub, ret, n);
}

int
session_get(struct store *st, const char *sid, struct session **ret)
{
    return store_session_get(st, sid, ret, NULL);
}
