/* SPDX-License-Identifier: MIT */
/* What a User-Agent header says about the browser, for session.bind. */
#ifndef GATEHOUSE_USERAGENT_H
#define GATEHOUSE_USERAGENT_H

#include <stddef.h>

#define USERAGENT_FAMILY_MAX 48

/*
 * The family of a User-Agent: browser name and OS, "Chrome/Linux", with
 * no version, so that a browser update keeps it and another browser does
 * not. A browser it does not know is named by the first product token
 * ("curl/other"); no header at all is "none/other".
 */
void useragent_family(const char *ua, char out[USERAGENT_FAMILY_MAX]);

#endif
