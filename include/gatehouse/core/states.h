/* SPDX-License-Identifier: MIT */
/* The reasons and states several layers name: one table each, as
 * GH_ERRNO_MAP is for errors, so no layer keeps a second list. */
#ifndef GATEHOUSE_STATES_H
#define GATEHOUSE_STATES_H

#include <stddef.h>

#include "gatehouse/core/i18n.h"

/*
 * Why a session ended: the name (as Redis, the audit stream, the logs and
 * the metrics spell it), whether an ending can be recorded with it, and
 * what the browser of a session ended so is told on its next visit (a
 * msgid the page translates; NULL: nothing, it ended as the user meant or
 * by the clock). An ending is asked
 * for with TIMEOUT ("only if it expired"), and recorded as TIMEOUT_IDLE or
 * TIMEOUT_ABSOLUTE (session_end.lua); OTHER is what a name read back that
 * is none of these counts as. The order is the metrics'.
 */
#define END_REASON_MAP(XX)                                                     \
    XX(RP_LOGOUT, "rp_logout", 1, NULL)                                        \
    XX(ADMIN, "admin", 1, NULL)                                                \
    XX(TIMEOUT_IDLE, "timeout_idle", 1, NULL)                                  \
    XX(TIMEOUT_ABSOLUTE, "timeout_absolute", 1, NULL)                          \
    XX(REUSE, "reuse", 1,                                                      \
       N_("You were signed out because a sign-in token of your session "       \
          "was used twice, which can mean someone copied it. Sign in "         \
          "again."))                                                           \
    XX(DISABLED, "disabled", 1,                                                \
       N_("You were signed out because an administrator disabled your "        \
          "account."))                                                         \
    XX(PASSWORD, "password", 1,                                                \
       N_("You were signed out because your password was changed."))           \
    XX(EVICTED, "evicted", 1,                                                  \
       N_("You were signed out because your account signed in elsewhere."))    \
    XX(ANOMALY, "anomaly", 1,                                                  \
       N_("You were signed out because your session was used from a "          \
          "different browser."))                                               \
    XX(MAINTENANCE, "maintenance", 1,                                          \
       N_("You were signed out for scheduled maintenance."))                  \
    XX(TIMEOUT, "timeout", 0, NULL)                                            \
    XX(OTHER, "other", 1, NULL)

enum end_reason {
#define XX(name, text, recorded, notice) END_##name,
    END_REASON_MAP(XX)
#undef XX
    END_REASON_COUNT
};

/* The name of r, static; "other" for a value outside the table. */
const char *end_reason_name(enum end_reason r);
/* The reason s names; END_OTHER if none. */
enum end_reason end_reason_parse(const char *s);
/* What the browser of a session that ended for r is told, static; NULL if
 * nothing. */
const char *end_reason_notice(enum end_reason r);

/*
 * What the ledger of one back-channel delivery (dl:{sid:client_id}, field
 * st) says: still to be delivered, delivered, or failed for good.
 */
#define LEDGER_STATE_MAP(XX)                                                   \
    XX(PENDING, "pending")                                                     \
    XX(DELIVERED, "delivered")                                                 \
    XX(FAILED, "failed")

enum ledger_state {
#define XX(name, text) LEDGER_##name,
    LEDGER_STATE_MAP(XX)
#undef XX
    LEDGER_STATE_COUNT
};

/* The name of s, static; NULL for a value outside the table. */
const char *ledger_state_name(enum ledger_state s);
/* The state s names (>= 0), or GH_EINVAL if none. */
int ledger_state_parse(const char *s);

/*
 * Where the logout-all run is (the state field of its record, as Redis,
 * the Admin API and the CLI spell it): running, finished, stopped before
 * the end, or failed to start. NONE and RESUMING are never stored: they
 * are how no run at all, and a running run whose owner has stopped
 * beating, are shown.
 */
#define RUN_STATE_MAP(XX)                                                      \
    XX(RUNNING, "running")                                                     \
    XX(DONE, "done")                                                           \
    XX(INTERRUPTED, "interrupted")                                             \
    XX(FAILED, "failed")                                                       \
    XX(RESUMING, "resuming")                                                   \
    XX(NONE, "none")

enum run_state {
#define XX(name, text) RUN_##name,
    RUN_STATE_MAP(XX)
#undef XX
    RUN_STATE_COUNT
};

/* The state s names (>= 0), or GH_EINVAL if none; and back, the name of
 * a state, static, NULL for a value outside the table. */
int run_state_parse(const char *s);
const char *run_state_name(enum run_state s);

/*
 * Where the maintenance shutdown is (SPEC §5; GET /maintenance, the Admin
 * API and the CLI spell it so): none, announced (every page shows the
 * banner until its start), active (sessions ended, sign-in closed).
 */
#define MAINT_STATE_MAP(XX)                                                    \
    XX(NONE, "none")                                                           \
    XX(ANNOUNCED, "announced")                                                 \
    XX(ACTIVE, "active")

enum maint_state {
#define XX(name, text) MAINT_##name,
    MAINT_STATE_MAP(XX)
#undef XX
    MAINT_STATE_COUNT
};

/* The state s names (>= 0), or GH_EINVAL if none; and back, the name of
 * a state, static, NULL for a value outside the table. */
int maint_state_parse(const char *s);
const char *maint_state_name(enum maint_state s);

/*
 * What recording one delivery attempt decided (delivery_done.lua): the
 * number the script answers with, and the outcome label of the metrics,
 * in the metrics' order.
 */
#define DELIVERY_RESULT_MAP(XX)                                                \
    XX(DELIVERED, 1, "delivered")                                              \
    XX(RETRY, 0, "retried")                                                    \
    XX(FAILED, 2, "failed")

enum delivery_result {
#define XX(name, num, label) DELIVERY_RESULT_##name = num,
    DELIVERY_RESULT_MAP(XX)
#undef XX
    /* The script knew no such delivery: nothing was recorded. */
    DELIVERY_RESULT_UNKNOWN = -1,
};
/* How many numbers DELIVERY_RESULT_MAP has: they run from 0. */
enum {
    DELIVERY_RESULT_COUNT = 0
#define XX(name, num, label) +1
    DELIVERY_RESULT_MAP(XX)
#undef XX
};

/*
 * Second factors (SPEC §7): the kinds a code can be of, as the metrics,
 * the Admin API and the CLI name them, and the states of an enrolment
 * (as fac:{sub} stores them: pending until a code from it was entered).
 */
#define FACTOR_TYPE_MAP(XX)                                                    \
    XX(TOTP, "totp")                                                           \
    XX(RECOVERY, "recovery")                                                   \
    XX(PASSKEY, "passkey")

enum factor_type {
#define XX(name, text) FACTOR_##name,
    FACTOR_TYPE_MAP(XX)
#undef XX
    FACTOR_TYPE_COUNT
};

#define FACTOR_STATE_MAP(XX)                                                   \
    XX(PENDING, "pending")                                                     \
    XX(ACTIVE, "active")

enum factor_state {
#define XX(name, text) FACTOR_STATE_##name,
    FACTOR_STATE_MAP(XX)
#undef XX
    FACTOR_STATE_COUNT
};

/* The name of a type or state, static, NULL outside the table; and the
 * state s names (>= 0), or GH_EINVAL. */
const char *factor_type_name(enum factor_type t);
const char *factor_state_name(enum factor_state s);
int factor_state_parse(const char *s);

#endif
