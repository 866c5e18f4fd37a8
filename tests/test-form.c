/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
#include "test.h"
TEST(placeholder) { ASSERT(1); }
TEST_MAIN(TEST_ENTRY(placeholder))
