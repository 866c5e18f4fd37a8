/* SPDX-License-Identifier: MIT */
/* libFuzzer target: useragent_family on any User-Agent header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/useragent.h"

/*
 * Besides not crashing, the family must keep its promises on any input: a
 * string that ends inside the buffer, of the form "browser/os" with no
 * control characters (it is stored in Redis and shown on pages), and the
 * same for the same header, since a different answer would sign a user
 * out. A broken promise aborts, which libFuzzer reports like a crash.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *ua = malloc(size + 1), a[USERAGENT_FAMILY_MAX],
         b[USERAGENT_FAMILY_MAX];
    size_t i, len;

    if (ua == NULL)
        return 0;
    memcpy(ua, data, size);
    ua[size] = '\0';
    memset(a, 'x', sizeof(a));
    useragent_family(ua, a);
    if ((len = strnlen(a, sizeof(a))) == sizeof(a) || len == 0 ||
        strchr(a, '/') == NULL)
        abort();
    for (i = 0; i < len; i++)
        if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
            abort();
    useragent_family(ua, b);
    if (strcmp(a, b) != 0)
        abort();
    free(ua);
    return 0;
}
