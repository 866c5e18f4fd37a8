/* SPDX-License-Identifier: MIT */
/* A TOTP set up in the browser, inside the sign-in (login.c) or on the
 * account page (account.c): the same enrolment shown again after a wrong
 * first code (SPEC §7). */
#ifndef GATEHOUSE_ENROL_H
#define GATEHOUSE_ENROL_H

#include "gatehouse/core/i18n.h"
#include "gatehouse/directory/factors.h"

struct app;

/* What the set-up page says then (a msgid). */
#define ENROL_WRONG_CODE                                                       \
    N_("That code is not right. Enter the 6-digit code the app shows now.")

/*
 * The pending enrolment of sub again, to show its QR code and key once
 * more (factors_totp_pending, named for the user as factors_totp_enrol
 * named it). *e is the caller's (factors_enrolment_clear). GH_ENOTFOUND:
 * the user or the enrolment is gone; else as factors_totp_pending.
 */
int enrol_pending(struct app *app, const char *sub, struct totp_enrolment *e);

#endif
