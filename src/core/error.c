/* SPDX-License-Identifier: MIT */
/* Text for the GH_E* codes, and where a field was found wrong. */
#include <stdarg.h>
#include <stdio.h>

#include "gatehouse/core/error.h"

const char *
gh_strerror(int rc)
{
    switch (rc) {
    case GH_OK:
        return "success";
#define XX(name, num, text)                                                    \
    case GH_E##name:                                                           \
        return text;
        GH_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

int
field_error_set(struct field_error *err, const char *problem, const char *fmt,
                ...)
{
    va_list ap;

    if (err == NULL)
        return GH_EINVAL;
    va_start(ap, fmt);
    vsnprintf(err->field, sizeof(err->field), fmt, ap);
    va_end(ap);
    snprintf(err->problem, sizeof(err->problem), "%s", problem);
    return GH_EINVAL;
}
