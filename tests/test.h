/* SPDX-License-Identifier: MIT */
/* A test is a function; a table in main runs them, each case in its own
 * process (runner.c). No framework. */
#ifndef GATEHOUSE_TEST_H
#define GATEHOUSE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) { #name, test_##name }

struct test_entry {
    const char *name;
    void (*fn)(void);
};

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

#define ASSERT(c)                                                              \
    do {                                                                       \
        if (!(c))                                                              \
            FAIL("assertion failed: %s", #c);                                  \
    } while (0)

#define ASSERT_EQ(a, b)                                                        \
    do {                                                                       \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                       \
        if (a_ != b_)                                                          \
            FAIL("%s == %s: %jd != %jd", #a, #b, a_, b_);                      \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                    \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                   \
            FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",     \
                 b_ ? b_ : "(null)");                                          \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                           \
    do {                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                \
        if (h_ == NULL || strstr(h_, n_) == NULL)                              \
            FAIL("%s does not contain \"%s\": \"%s\"", #hay, n_,              \
                 h_ ? h_ : "(null)");                                          \
    } while (0)

/*
 * Runs every test, or only the one named in argv[1], each in a child
 * process of its own with a deadline (runner.c): a failing case is
 * reported by name and the rest still run. TEST_TIMEOUT=s sets the
 * deadline of one case (default 120 s), TEST_NOFORK=1 runs the cases in
 * this process, one after another, as a debugger wants.
 */
int test_main(const struct test_entry *tests, size_t count, void (*setup)(void),
              int argc, char **argv);
#define TEST_MAIN(...) TEST_MAIN_SETUP(NULL, __VA_ARGS__)
/* The same with setup run once, before the first case, in the runner: the
 * cases inherit what it made (a costly fixture such as RSA keys). */
#define TEST_MAIN_SETUP(setup, ...)                                            \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        static const struct test_entry tests[] = {__VA_ARGS__};                \
        return test_main(tests, sizeof(tests) / sizeof(tests[0]), setup, argc, \
                         argv);                                                \
    }

/* The directory temp files of this run go under (GH_TEST_TMPDIR, set by
 * the runner; else $TMPDIR or /tmp). */
const char *test_tmpdir(void);
/* mkdtemp of test_tmpdir()/gh-NAME-XXXXXX into out; 0 or -1. */
int test_mkdtemp(char *out, size_t size, const char *name);
/* Whether dir is one test_mkdtemp made (safe to rm -rf). */
int test_is_tmp(const char *dir);

#endif
