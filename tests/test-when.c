/* SPDX-License-Identifier: MIT */
/* Times an operator types (core/when.c). */
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/when.h"
#include "test.h"

#define NOW 1796650000 /* 2026-12-07T13:26:40Z */

TEST(accepts_now_relative_epoch_and_rfc3339)
{
    int64_t at = 0;

    ASSERT_EQ(when_parse("now", NOW, &at), 0);
    ASSERT_EQ(at, NOW);
    ASSERT_EQ(when_parse("+90s", NOW, &at), 0);
    ASSERT_EQ(at, NOW + 90);
    ASSERT_EQ(when_parse("+2m", NOW, &at), 0);
    ASSERT_EQ(at, NOW + 120);
    ASSERT_EQ(when_parse("+1h", NOW, &at), 0);
    ASSERT_EQ(at, NOW + 3600);
    ASSERT_EQ(when_parse("1796653600", NOW, &at), 0);
    ASSERT_EQ(at, 1796653600);
    ASSERT_EQ(when_parse("2026-12-07T13:26:40Z", NOW, &at), 0);
    ASSERT_EQ(at, NOW);
    ASSERT_EQ(when_parse("2026-12-07T14:26:40.5+01:00", NOW, &at), 0);
    ASSERT_EQ(at, NOW);
    ASSERT_EQ(when_parse("2026-12-07T08:26:40-05:00", NOW, &at), 0);
    ASSERT_EQ(at, NOW);
}

TEST(refuses_anything_else_and_leaves_the_time_alone)
{
    static const char *const bad[] = {
        "", "tomorrow", "+", "+5", "+5x", "+5mm", "+-5m", "-5",
        "2026-12-07", "2026-12-07T15:26:40", "2026-02-30T10:00:00Z",
        "2026-13-01T10:00:00Z", "2026-12-07T24:00:00Z",
        "2026-12-07T15:26:40+1:00", "2026-12-07T15:26:40.Z",
        "99999999999999999999", "+99999999999999999999s", "12ab",
    };
    int64_t at = 7;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (when_parse(bad[i], NOW, &at) != GH_EINVAL)
            FAIL("'%s' was accepted", bad[i]);
        ASSERT_EQ(at, 7);
    }
}

TEST(formats_rfc3339_utc)
{
    char buf[32];

    when_format(NOW, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "2026-12-07T13:26:40Z");
}

TEST_MAIN(TEST_ENTRY(accepts_now_relative_epoch_and_rfc3339),
          TEST_ENTRY(refuses_anything_else_and_leaves_the_time_alone),
          TEST_ENTRY(formats_rfc3339_utc))
