/* SPDX-License-Identifier: MIT */
/* The enrolment again after a wrong first code (enrol.h). */
#include "gatehouse/auth/enrol.h"
#include "gatehouse/core/app.h"
#include "gatehouse/core/config.h"
#include "gatehouse/directory/users.h"

int
enrol_pending(struct app *app, const char *sub, struct totp_enrolment *e)
{
    struct user *u = NULL;
    int rc;

    if ((rc = users_get(app->store, sub, &u)) == 0)
        rc = factors_totp_pending(app->store, app->factor_key, app->cfg->issuer,
                                  sub, u->username, e);
    user_free(u);
    return rc;
}
