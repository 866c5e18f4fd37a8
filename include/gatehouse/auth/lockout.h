/* SPDX-License-Identifier: MIT */
/* SPEC §7 Lockout as a browser meets it: an attempt reserved in its
 * buckets before anything is checked, and the 429 when they are full.
 * The sign-in (login.c) and the step-up (stepup.c) count alike. */
#ifndef GATEHOUSE_LOCKOUT_H
#define GATEHOUSE_LOCKOUT_H

struct http_request;

/*
 * Reserves one attempt in the n buckets who (store_login_reserve, with
 * login.max_failures and login.lockout_s), so parallel guesses cannot all
 * pass a check made before the first is counted. 0: reserved. 1: locked
 * out, and the 429 page with Retry-After is sent (the caller logs it).
 * GH_EREDIS: Redis did not answer; the caller sends its 503.
 */
int lockout_reserve(struct http_request *req, const char *const *who, int n);

#endif
