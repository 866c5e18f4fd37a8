/* SPDX-License-Identifier: MIT */
/* Checks on short text an operator or a user types and others see: an
 * audit reason, a maintenance message, a passkey's name. */
#ifndef GATEHOUSE_TEXT_H
#define GATEHOUSE_TEXT_H

#include <stddef.h>

/*
 * 1 if s is one line of min..max bytes that a table, a page or a log can
 * show as it is: no ASCII control character (below 0x20, or DEL), so
 * nothing a terminal acts on. Bytes >= 0x80 pass: whether they are UTF-8
 * is util_utf8_valid's to say.
 */
int text_one_line(const char *s, size_t min, size_t max);

#endif
