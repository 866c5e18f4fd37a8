/* SPDX-License-Identifier: MIT */
/* Text for the GH_E* codes. */
#include "core/error.h"

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
