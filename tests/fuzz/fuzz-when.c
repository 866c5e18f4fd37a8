/* SPDX-License-Identifier: MIT */
/* libFuzzer target: when_parse on any operator-typed time (--at, the
 * Admin API's "at"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/when.h"

/*
 * Besides not crashing: a time it accepts and writes back as RFC 3339
 * reads back as the same time, so what the API echoes is what was
 * stored. A broken promise aborts, which libFuzzer reports like a crash.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), text[64];
    int64_t now = 1796650000, at = 0, again = 0;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (when_parse(s, now, &at) == 0) {
        when_format(at, text, sizeof(text));
        if (strlen(text) == 20 &&
            (when_parse(text, now, &again) != 0 || again != at))
            abort();
    }
    free(s);
    return 0;
}
