/* SPDX-License-Identifier: MIT */
/* One line per event on stderr, key=value or JSON. */
#ifndef GATEHOUSE_LOG_H
#define GATEHOUSE_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/*
 * Messages are "event key=value key=\"quoted value\" ...": the first word
 * names the event. In JSON format the pairs become members of one object.
 * Never pass a password, secret, code, cookie or whole token: log
 * log_fingerprint() of it instead.
 */
void log_init(enum log_level level, enum log_format format);
int log_parse_level(const char *s, enum log_level *ret);
int log_parse_format(const char *s, enum log_format *ret);

/* Whether a message at level would be written: for the callers whose
 * arguments cost something to make. */
int log_enabled(enum log_level level);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends errno's text as error="..."; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up only: logs and exits 1. Bad input is never fatal. */
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Writes into out (at least 13 bytes) a short, non-reversible hash of a
 * secret value (first 12 hex digits of its SHA-256), so logs can correlate
 * sessions and tokens without revealing them.
 */
void log_fingerprint(const char *secret, char out[13]);

#endif
