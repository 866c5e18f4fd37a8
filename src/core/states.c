/* SPDX-License-Identifier: MIT */
/* Names of the reasons and states in states.h, from its tables. */
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/core/states.h"

static const char *const end_reason_names[] = {
#define XX(name, text, recorded, notice) [END_##name] = text,
    END_REASON_MAP(XX)
#undef XX
};

static const char *const end_reason_notices[] = {
#define XX(name, text, recorded, notice) [END_##name] = notice,
    END_REASON_MAP(XX)
#undef XX
};

static const char *const ledger_state_names[] = {
#define XX(name, text) [LEDGER_##name] = text,
    LEDGER_STATE_MAP(XX)
#undef XX
};

static const char *const run_state_names[] = {
#define XX(name, text) [RUN_##name] = text,
    RUN_STATE_MAP(XX)
#undef XX
};

static const char *const maint_state_names[] = {
#define XX(name, text) [MAINT_##name] = text,
    MAINT_STATE_MAP(XX)
#undef XX
};

static const char *const factor_type_names[] = {
#define XX(name, text) [FACTOR_##name] = text,
    FACTOR_TYPE_MAP(XX)
#undef XX
};

static const char *const factor_state_names[] = {
#define XX(name, text) [FACTOR_STATE_##name] = text,
    FACTOR_STATE_MAP(XX)
#undef XX
};

const char *
end_reason_name(enum end_reason r)
{
    if ((unsigned)r >= END_REASON_COUNT)
        return end_reason_names[END_OTHER];
    return end_reason_names[r];
}

const char *
end_reason_notice(enum end_reason r)
{
    return (unsigned)r < END_REASON_COUNT ? end_reason_notices[r] : NULL;
}

/* The index of s among the n names, or GH_EINVAL. */
static int
find(const char *const *names, unsigned n, const char *s)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return GH_EINVAL;
}

enum end_reason
end_reason_parse(const char *s)
{
    int i = find(end_reason_names, END_REASON_COUNT, s);

    return i >= 0 ? (enum end_reason)i : END_OTHER;
}

const char *
ledger_state_name(enum ledger_state s)
{
    return (unsigned)s < LEDGER_STATE_COUNT ? ledger_state_names[s] : NULL;
}

int
ledger_state_parse(const char *s)
{
    return find(ledger_state_names, LEDGER_STATE_COUNT, s);
}

int
run_state_parse(const char *s)
{
    return find(run_state_names, RUN_STATE_COUNT, s);
}

const char *
run_state_name(enum run_state s)
{
    return (unsigned)s < RUN_STATE_COUNT ? run_state_names[s] : NULL;
}

int
maint_state_parse(const char *s)
{
    return find(maint_state_names, MAINT_STATE_COUNT, s);
}

const char *
maint_state_name(enum maint_state s)
{
    return (unsigned)s < MAINT_STATE_COUNT ? maint_state_names[s] : NULL;
}

const char *
factor_type_name(enum factor_type t)
{
    return (unsigned)t < FACTOR_TYPE_COUNT ? factor_type_names[t] : NULL;
}

const char *
factor_state_name(enum factor_state s)
{
    return (unsigned)s < FACTOR_STATE_COUNT ? factor_state_names[s] : NULL;
}

int
factor_state_parse(const char *s)
{
    return find(factor_state_names, FACTOR_STATE_COUNT, s);
}
