/* SPDX-License-Identifier: MIT */
/* Checks on short text that others see (text.h). */
#include "gatehouse/core/text.h"

int
text_one_line(const char *s, size_t min, size_t max)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return i >= min && i <= max;
}
