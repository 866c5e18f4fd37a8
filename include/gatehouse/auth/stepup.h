/* SPDX-License-Identifier: MIT */
/* Step-up (SPEC §7): an authentication within login.reauth_window_s before
 * account-page actions and "sign out everywhere"; the password asked again
 * is checked as a sign-in's is, on the hash pool. */
#ifndef GATEHOUSE_STEPUP_H
#define GATEHOUSE_STEPUP_H

struct config;
struct http_request;
struct session;

/* 1 if s was authenticated within login.reauth_window_s (to the
 * millisecond), else 0. */
int stepup_fresh(const struct config *cfg, const struct session *s);

/*
 * What stepup_verify's done is told: 0 the password was right and the
 * session's auth time is now; GH_EDENIED it was wrong (the attempt counts
 * against lockout); GH_ENOTFOUND the session ended meanwhile; GH_EBUSY
 * the hash pool is full or stopping; GH_EREDIS Redis failed.
 */
typedef int (*stepup_done_fn)(struct http_request *req, void *arg, int rc);

/*
 * Checks password as the user of s (whose sid and sub are copied): the
 * attempt is reserved in the user's and the address's lockout buckets
 * first, then the request is suspended and the hash runs on the pool;
 * done(req, arg, rc) runs there and either answers and returns 0 (the
 * request is resumed after it), or hands the still-suspended request on
 * to what will answer and resume it, and returns 1 (suspensions do not
 * nest). Returns 0 if done will run, or 1 if the answer was given here
 * (429 locked out, 503) and done will not: arg stays the caller's.
 */
int stepup_verify(struct http_request *req, const struct session *s,
                  const char *password, stepup_done_fn done, void *arg);

/*
 * The step-up with a code from the user's authenticator app (or a
 * recovery code) instead of the password: checked at once (no hashing),
 * counted in the same lockout buckets. 0: right, the session's auth time
 * is now; GH_EDENIED wrong or already used (counted); GH_EINVAL not a
 * code, or the user has no active factor (not counted); GH_ENOTFOUND the
 * session ended; GH_EREDIS; 1: answered here (429 locked out).
 */
int stepup_verify_code(struct http_request *req, const struct session *s,
                       const char *code);

/*
 * The step-up with one of the user's passkeys: stepup_passkey_offer makes
 * the page's challenge (base64url into challenge, PASSKEY_CHALLENGE_TEXT
 * bytes) and its sealed state (*sealed, malloc'd), bound to the session
 * (a sign-in page's challenge does not open here), when the user has a
 * passkey: 1 offered, 0 none (nothing made), or GH_EREDIS/GH_ECRYPTO.
 * stepup_verify_passkey checks the browser's answer (the fields /passkey.js
 * fills: id, client_data, auth_data, sig; the sealed state as "pkstate")
 * for that user's passkeys only, counted in the same lockout buckets
 * first; it answers as stepup_verify_code does.
 */
int stepup_passkey_offer(struct http_request *req, const struct session *s,
                         char *challenge, char **sealed);
int stepup_verify_passkey(struct http_request *req, const struct session *s,
                          const char *sealed, const char *id,
                          const char *client_data, const char *auth_data,
                          const char *sig);

#endif
