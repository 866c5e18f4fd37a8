/* SPDX-License-Identifier: MIT */
/* The step-up form (SPEC §7) that the account page and "Sign out
 * everywhere" both show: the password again, or a code or a passkey where
 * the user has one. */
#ifndef GATEHOUSE_STEPUP_PAGE_H
#define GATEHOUSE_STEPUP_PAGE_H

struct http_request;
struct page_account_reauth;
struct session;

/*
 * Answers req with the step-up form for the user of s, with status: pr
 * holds what the caller's action carries (action, scope, error, ...); its
 * csrf (sealed for purpose, bound to s's sid), username, totp and
 * passkey_* are filled here, and point into this call's own memory only
 * while it runs. 0 answered; a GH_E* code if the user, the token or the
 * page could not be had, and nothing was answered (the caller says
 * "unavailable" its own way).
 */
int stepup_page_show(struct http_request *req, const struct session *s,
                     const char *purpose, struct page_account_reauth *pr,
                     int status);

#endif
