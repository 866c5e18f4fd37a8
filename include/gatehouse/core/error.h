/* SPDX-License-Identifier: MIT */
/* Error codes shared by every module: 0 is success, a negative GH_E* fails. */
#ifndef GATEHOUSE_ERROR_H
#define GATEHOUSE_ERROR_H

/*
 * One table, as libuv's UV_ERRNO_MAP: the name, its number and the text
 * gh_strerror() gives. Add at the end; numbers never change meaning.
 */
#define GH_ERRNO_MAP(XX)                                                       \
    XX(NOMEM, 1, "out of memory")                                              \
    XX(INVAL, 2, "invalid argument")                                           \
    XX(NOTFOUND, 3, "not found")                                               \
    XX(EXISTS, 4, "already exists")                                            \
    XX(IO, 5, "input/output error")                                            \
    XX(REDIS, 6, "redis unavailable")                                          \
    XX(CRYPTO, 7, "cryptographic operation failed")                            \
    XX(BADTOKEN, 8, "invalid token")                                           \
    XX(EXPIRED, 9, "expired")                                                  \
    XX(DENIED, 10, "access denied")                                            \
    XX(TOOBIG, 11, "too large")                                                \
    XX(BUSY, 12, "busy, try again later")                                      \
    XX(CONFIG, 13, "bad configuration")                                        \
    XX(PROTO, 14, "protocol error")

enum gh_error {
    GH_OK = 0,
#define XX(name, num, text) GH_E##name = -(num),
    GH_ERRNO_MAP(XX)
#undef XX
};

/* Returns a static string describing rc (0 or a GH_E* code). */
const char *gh_strerror(int rc);

/* Where a problem in a configuration or client metadata was found: the
 * field path and what is wrong with it. */
struct field_error {
    char field[128];
    char problem[256];
};
/* Fills err (if not NULL) with the field (printf-style) and problem.
 * Returns GH_EINVAL, so callers can write "return field_error_set(...)". */
int field_error_set(struct field_error *err, const char *problem,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
