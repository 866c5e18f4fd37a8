/* SPDX-License-Identifier: MIT */
/* Names of the reasons and states in states.h, from its tables. */
#include <string.h>

#include "core/error.h"
#include "core/states.h"

static const char *const end_reason_names[] = {
#define XX(name, text, recorded) [END_##name] = text,
    END_REASON_MAP(XX)
#undef XX
};

static const char *const ledger_state_names[] = {
#define XX(name, text) [LEDGER_##name] = text,
    LEDGER_STATE_MAP(XX)
#undef XX
};

const char *
end_reason_name(enum end_reason r)
{
    if ((unsigned)r >= END_REASON_COUNT)
        return end_reason_names[END_OTHER];
    return end_reason_names[r];
}

enum end_reason
end_reason_parse(const char *s)
{
    unsigned i;

    for (i = 0; i < END_REASON_COUNT; i++)
        if (strcmp(end_reason_names[i], s) == 0)
            return (enum end_reason)i;
    return END_OTHER;
}

const char *
ledger_state_name(enum ledger_state s)
{
    return (unsigned)s < LEDGER_STATE_COUNT ? ledger_state_names[s] : NULL;
}

int
ledger_state_parse(const char *s)
{
    unsigned i;

    for (i = 0; i < LEDGER_STATE_COUNT; i++)
        if (strcmp(ledger_state_names[i], s) == 0)
            return (int)i;
    return GH_EINVAL;
}
