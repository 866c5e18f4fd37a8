/* SPDX-License-Identifier: MIT */
/* A test is a function; a table in main runs them. No framework. */
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

/* Runs every test, or only the one named in argv[1]. */
#define TEST_MAIN(...)                                                         \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        static const struct test_entry tests[] = {__VA_ARGS__};                \
        size_t i, ran = 0;                                                     \
        for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {               \
            if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)               \
                continue;                                                      \
            fprintf(stderr, "# %s\n", tests[i].name);                          \
            tests[i].fn();                                                     \
            ran++;                                                             \
        }                                                                      \
        fprintf(stderr, "ok %zu tests\n", ran);                                \
        return ran > 0 ? 0 : 1;                                                \
    }

#endif
