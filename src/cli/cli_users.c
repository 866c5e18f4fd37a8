/* SPDX-License-Identifier: MIT */
/* "gatehouse user add|passwd|disable|list": user administration from the
 * command line, straight to Redis (SPEC §2). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gatehouse/cli/cli.h"
#include "cli/cli_internal.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/core/util.h"
#include "gatehouse/directory/factors.h"
#include "gatehouse/directory/passkeys.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/session/admin_ops.h"
#include "gatehouse/session/session.h"

static int run_add(struct cli_ctx *c);
static int run_passwd(struct cli_ctx *c);
static int run_disable(struct cli_ctx *c);
static int run_list(struct cli_ctx *c);
static int run_factors(struct cli_ctx *c);
static int run_reset_factors(struct cli_ctx *c);
static int run_require_factor(struct cli_ctx *c);
static int check_reason(const struct cli_ctx *c, char *msg, size_t size);

static const char user_help[] =
    "usage: gatehouse user add     --config FILE --username U [--email E]\n"
    "                              [--email-verified] [--name N]\n"
    "                              [--given-name G] [--family-name F]\n"
    "                              [--locale L] [--zoneinfo Z]\n"
    "                              --password-stdin\n"
    "       gatehouse user passwd  --config FILE --username U\n"
    "                              [--password-stdin] [--email-verified]\n"
    "       gatehouse user disable --config FILE --username U\n"
    "       gatehouse user list    --config FILE [--json]\n"
    "       gatehouse user factors --config FILE --username U [--json]\n"
    "       gatehouse user reset-factors --config FILE --username U\n"
    "       gatehouse user require-factor --config FILE --username U [--off]\n"
    "                              [--reason TEXT]\n"
    "\n"
    "U is a username (any case) or a sub. --password-stdin reads the\n"
    "password from standard input up to the first newline; a password is\n"
    "never taken from the command line.\n";

static const struct cli_command subcommands[] = {
    {"add",
     {CLI_CONFIG | CLI_USERNAME | CLI_EMAIL | CLI_NAME | CLI_PASSWORD_STDIN |
          CLI_EMAIL_VERIFIED | CLI_GIVEN_NAME | CLI_FAMILY_NAME | CLI_LOCALE |
          CLI_ZONEINFO,
      CLI_CONFIG | CLI_USERNAME | CLI_PASSWORD_STDIN, 0},
     "usage: gatehouse user add --config FILE --username U [--email E]\n"
     "                          [--email-verified] [--name N]\n"
     "                          [--given-name G] [--family-name F]\n"
     "                          [--locale L] [--zoneinfo Z]\n"
     "                          --password-stdin\n"
     "\n"
     "Creates a user and prints its sub. The username is 1 to 64 of\n"
     "A-Z a-z 0-9 . _ @ - and unique regardless of case. The password is\n"
     "read from standard input up to the first newline.\n"
     "\n"
     "The other options are the user's claims (OIDC Core 5.1):\n"
     "  --email E            an address; email_verified is false unless\n"
     "  --email-verified     says you have verified it\n"
     "  --name N             full name; --given-name G and --family-name F\n"
     "                       its parts (each up to 128 bytes)\n"
     "  --locale L           a BCP 47 language tag, e.g. en-US or fr-CA\n"
     "  --zoneinfo Z         a time zone name, e.g. Europe/Paris\n"
     "updated_at is set on creation and on every change.\n",
     NULL, run_add},
    {"passwd",
     {CLI_CONFIG | CLI_USERNAME | CLI_PASSWORD_STDIN | CLI_EMAIL_VERIFIED,
      CLI_CONFIG | CLI_USERNAME, CLI_PASSWORD_STDIN | CLI_EMAIL_VERIFIED},
     "usage: gatehouse user passwd --config FILE --username U\n"
     "                             [--password-stdin] [--email-verified]\n"
     "\n"
     "--password-stdin sets a new password, read from standard input up\n"
     "to the first newline, and ends every session of the user.\n"
     "--email-verified marks the user's email address verified (the\n"
     "email_verified claim). At least one of them is required. U is a\n"
     "username or a sub.\n",
     NULL, run_passwd},
    {"disable", {CLI_CONFIG | CLI_USERNAME, CLI_CONFIG | CLI_USERNAME, 0},
     "usage: gatehouse user disable --config FILE --username U\n"
     "\n"
     "Disables the user, who can no longer sign in, and ends every one of\n"
     "their sessions (each app is notified by back-channel logout). U is a\n"
     "username or a sub.\n",
     NULL, run_disable},
    {"list", {CLI_CONFIG | CLI_JSON, CLI_CONFIG, 0},
     "usage: gatehouse user list --config FILE [--json]\n"
     "\n"
     "Lists every user, oldest first: SUB USERNAME EMAIL NAME STATE\n"
     "CREATED, or a JSON array with --json.\n",
     NULL, run_list},
    {"factors", {CLI_CONFIG | CLI_USERNAME | CLI_JSON,
                 CLI_CONFIG | CLI_USERNAME, 0},
     "usage: gatehouse user factors --config FILE --username U [--json]\n"
     "\n"
     "Lists the user's second factors: TYPE STATE CREATED ACTIVATED, then\n"
     "the recovery codes left, then the passkeys: PASSKEY (its name)\n"
     "CREATED LAST USED; a JSON object with --json (passkeys as type\n"
     "\"passkey\" with name and last_used). A TOTP is pending until the\n"
     "user enters a code from their app. U is a username or a sub.\n",
     NULL, run_factors},
    {"reset-factors",
     {CLI_CONFIG | CLI_USERNAME | CLI_REASON, CLI_CONFIG | CLI_USERNAME, 0},
     "usage: gatehouse user reset-factors --config FILE --username U\n"
     "                                    [--reason TEXT]\n"
     "\n"
     "Removes every second factor of the user (TOTP and recovery codes),\n"
     "for a user who lost their device, and ends every one of their\n"
     "sessions (each app is notified by back-channel logout). Audited\n"
     "as reset_factors, with the reason if given. U is a username or a\n"
     "sub.\n",
     check_reason, run_reset_factors},
    {"require-factor",
     {CLI_CONFIG | CLI_USERNAME | CLI_OFF, CLI_CONFIG | CLI_USERNAME, 0},
     "usage: gatehouse user require-factor --config FILE --username U [--off]\n"
     "\n"
     "Requires a second factor of the user: one without sets up an\n"
     "authenticator app right after the password at the next sign-in,\n"
     "and cannot remove it on the account page. --off lifts the\n"
     "requirement. A reset of the factors keeps it. Audited as\n"
     "require_factor. U is a username or a sub.\n",
     NULL, run_require_factor},
};

static int
run_add(struct cli_ctx *c)
{
    const char *why = NULL;
    char sub[37], buf[80];
    struct user_info info = c->o->info;
    int rc;

    info.email_verified = (c->o->given & CLI_EMAIL_VERIFIED) != 0;
    rc = users_add(c->st, c->o->username, &info, c->password, sub, &why);
    if (rc == GH_EEXISTS) {
        cli_complain(c->cmd, "username \"%s\" is taken",
                 cli_shown(c->o->username, buf, sizeof(buf)));
        return 1;
    }
    if (rc == GH_EINVAL && why != NULL) {
        cli_complain(c->cmd, "%s", why);
        return 1;
    }
    if (rc < 0)
        return cli_fail(c->cmd, c->cfg, rc);
    printf("%s\n", sub);
    return 0;
}

/* The user U names, or 1 with the line said. */
static int
find_user(const struct cli_ctx *c, struct user **ret)
{
    int rc = users_get(c->st, c->o->username, ret);
    char buf[80];

    if (rc == GH_ENOTFOUND) {
        cli_complain(c->cmd, "no user \"%s\"",
                 cli_shown(c->o->username, buf, sizeof(buf)));
        return 1;
    }
    return rc < 0 ? cli_fail(c->cmd, c->cfg, rc) : 0;
}

/* The new password, and the end of every session that knew the old one;
 * 0 or 1 with the line said. */
static int
change_password(const struct cli_ctx *c, const struct user *u)
{
    const char *why = NULL;
    long long n = 0;
    int rc;

    /* By sub: the user found before, even if renamed meanwhile. */
    rc = users_set_password(c->st, u->sub, c->password, &why);
    if (rc == GH_EINVAL && why != NULL) {
        cli_complain(c->cmd, "%s", why);
        return 1;
    }
    if (rc < 0)
        return cli_fail(c->cmd, c->cfg, rc);
    /* A new password is a reason to sign out whoever knew the old one:
     * the user's sessions end (with notifications) like any logout. */
    if ((rc = session_end_user(c->st, u->sub, END_PASSWORD, "gatehouse", &n,
                               NULL)) < 0) {
        cli_complain(c->cmd,
                 "password changed for %s but ending their sessions "
                 "failed: %s",
                 u->username, gh_strerror(rc));
        return 1;
    }
    printf("password changed for %s (%s); %lld session%s ended\n", u->username,
           u->sub, n, n == 1 ? "" : "s");
    return 0;
}

static int
mark_verified(const struct cli_ctx *c, const struct user *u)
{
    const char *why = NULL;
    int rc;

    rc = users_set_email_verified(c->st, u->sub, &why);
    if (rc == GH_EINVAL && why != NULL) {
        cli_complain(c->cmd, "%s", why);
        return 1;
    }
    if (rc < 0)
        return cli_fail(c->cmd, c->cfg, rc);
    printf("email %s of %s (%s) marked verified\n", u->email, u->username,
           u->sub);
    return 0;
}

static int
run_passwd(struct cli_ctx *c)
{
    struct user *u = NULL;
    int verify = (c->o->given & CLI_EMAIL_VERIFIED) != 0;
    int rc;

    if ((rc = find_user(c, &u)) != 0)
        goto out;
    /* Checked before the password changes: bad input changes nothing. */
    if (verify && u->email[0] == '\0') {
        cli_complain(c->cmd, "email_verified: %s has no email",
                     u->username);
        rc = 1;
        goto out;
    }
    if (c->password != NULL && (rc = change_password(c, u)) != 0)
        goto out;
    if (verify)
        rc = mark_verified(c, u);
out:
    user_free(u);
    return rc;
}

static int
run_disable(struct cli_ctx *c)
{
    struct user *u = NULL;
    long long n = 0;
    int rc;

    if ((rc = find_user(c, &u)) != 0)
        goto out;
    if ((rc = users_disable(c->st, u->sub)) < 0) {
        rc = cli_fail(c->cmd, c->cfg, rc);
        goto out;
    }
    /*
     * Disabled first, so no new sign-in can start while the sessions are
     * ended (SPEC §5: the same way as every other logout). Run again, the
     * command ends whatever a failure here left.
     */
    if ((rc = session_end_user(c->st, u->sub, END_DISABLED, "gatehouse", &n,
                               NULL)) < 0) {
        if (rc == GH_EREDIS) {
            char where[512];
            cli_redis_where(&c->cfg->redis, where, sizeof(where));
            cli_complain(c->cmd,
                     "%s is disabled but ending their sessions "
                     "failed: redis: no answer from %s",
                     u->username, where);
        } else {
            cli_complain(c->cmd,
                     "%s is disabled but ending their sessions "
                     "failed: %s",
                     u->username, gh_strerror(rc));
        }
        rc = 1;
        goto out;
    }
    printf("disabled %s (%s); %lld session%s ended\n", u->username, u->sub, n,
           n == 1 ? "" : "s");
    rc = 0;
out:
    user_free(u);
    return rc;
}

/* SUB and STATE keep their widths with no row, or only active users. */
static const size_t list_widths[6] = {36, 0, 0, 0, 8, 0};

static int
print_table(struct user **list, size_t n)
{
    static const char *const head[6] = {"SUB",  "USERNAME", "EMAIL",
                                        "NAME", "STATE",    "CREATED"};
    struct cli_table t = {.ncols = 6, .min_width = list_widths};
    size_t i;
    int rc;

    if ((rc = cli_table_add(&t, head)) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        char created[32];
        const char *row[6];

        cli_iso_time(list[i]->created, created, sizeof(created));
        row[0] = list[i]->sub;
        row[1] = list[i]->username;
        row[2] = list[i]->email;
        row[3] = list[i]->name;
        row[4] = list[i]->disabled ? "disabled" : "active";
        row[5] = created;
        if ((rc = cli_table_add(&t, row)) < 0)
            goto out;
    }
    cli_table_print(&t);
out:
    cli_table_clear(&t);
    return rc;
}

/* Everything but the password hash, which never leaves Redis this way. */
static int
print_json(struct user **list, size_t n)
{
    json_t *arr, *obj;
    size_t i;

    if ((arr = json_array()) == NULL)
        return GH_ENOMEM;
    for (i = 0; i < n; i++) {
        obj = users_json(list[i]);
        if (obj == NULL || json_array_append_new(arr, obj) < 0) {
            json_decref(arr);
            return GH_ENOMEM;
        }
    }
    return cli_print_json(arr);
}

static int
run_list(struct cli_ctx *c)
{
    struct user **list = NULL;
    size_t n = 0;
    int rc;

    if ((rc = users_list(c->st, &list, &n)) < 0)
        return cli_fail(c->cmd, c->cfg, rc);
    rc = c->o->given & CLI_JSON ? print_json(list, n) : print_table(list, n);
    if (rc < 0)
        rc = cli_fail(c->cmd, c->cfg, rc);
    users_free_list(list, n);
    return rc;
}

static int
run_factors(struct cli_ctx *c)
{
    static const char *const head[4] = {"TYPE", "STATE", "CREATED",
                                        "ACTIVATED"};
    static const char *const pkhead[3] = {"PASSKEY", "CREATED", "LAST USED"};
    struct factor_info f[FACTORS_MAX];
    struct cli_table t = {.ncols = 4}, pt = {.ncols = 3};
    struct user *u = NULL;
    json_t *listing = NULL, *o;
    size_t n = 0, i;
    int left = 0, rc;

    if ((rc = find_user(c, &u)) != 0)
        goto out;
    if ((rc = factors_list(c->st, u->sub, f, &n, &left)) >= 0) {
        listing = factors_json(u->sub, u->username, f, n, left);
        rc = listing == NULL ? GH_ENOMEM
                             : passkeys_list_json(c->st, u->sub, listing);
    }
    if (rc < 0) {
        rc = cli_fail(c->cmd, c->cfg, rc);
        goto out;
    }
    if (c->o->given & CLI_JSON) {
        rc = cli_print_json(listing);
        listing = NULL;
    } else {
        if ((rc = cli_table_add(&t, head)) < 0)
            goto table;
        for (i = 0; i < n; i++) {
            char created[32], activated[32];
            const char *row[4];

            cli_iso_time(f[i].created, created, sizeof(created));
            cli_iso_time(f[i].activated, activated, sizeof(activated));
            row[0] = factor_type_name(f[i].type);
            row[1] = factor_state_name(f[i].state);
            row[2] = created;
            row[3] = activated;
            if ((rc = cli_table_add(&t, row)) < 0)
                goto table;
        }
        cli_table_print(&t);
        printf("recovery codes left: %d\n", left);
        if ((rc = cli_table_add(&pt, pkhead)) < 0)
            goto table;
        json_array_foreach(json_object_get(listing, "factors"), i, o) {
            char created[32], used[32];
            const char *row[3];

            if (strcmp(json_string_value(json_object_get(o, "type")),
                       "passkey") != 0)
                continue;
            cli_iso_time(json_integer_value(json_object_get(o, "created")),
                         created, sizeof(created));
            cli_iso_time(json_integer_value(json_object_get(o, "last_used")),
                         used, sizeof(used));
            row[0] = json_string_value(json_object_get(o, "name"));
            row[1] = created;
            row[2] = used;
            if ((rc = cli_table_add(&pt, row)) < 0)
                goto table;
        }
        cli_table_print(&pt);
    table:
        cli_table_clear(&t);
        cli_table_clear(&pt);
    }
    if (rc < 0)
        rc = cli_fail(c->cmd, c->cfg, rc);
out:
    json_decref(listing);
    user_free(u);
    return rc;
}

static int
check_reason(const struct cli_ctx *c, char *msg, size_t size)
{
    if (c->o->reason != NULL && !admin_valid_reason(c->o->reason)) {
        snprintf(msg, size, "--reason: at most %d bytes, no control "
                            "characters", ADMIN_REASON_MAX);
        return -1;
    }
    return 0;
}

static int
run_reset_factors(struct cli_ctx *c)
{
    struct user *u = NULL;
    long long n = 0, queued = 0;
    int had = 0, rc;

    if ((rc = find_user(c, &u)) != 0)
        goto out;
    rc = admin_reset_factors(c->st, u->sub, c->actor, &had, &n, &queued);
    if (rc < 0) {
        cli_audit_add(c, "reset_factors", u->sub, c->o->reason, "error", -1,
                      -1);
        rc = cli_fail(c->cmd, c->cfg, rc);
        goto out;
    }
    cli_audit_add(c, "reset_factors", u->sub, c->o->reason, "ok", n, queued);
    printf("%s (%s): %s; %lld session%s ended\n", u->username, u->sub,
           had ? "second factors removed" : "had no second factor", n,
           n == 1 ? "" : "s");
    rc = 0;
out:
    user_free(u);
    return rc;
}

static int
run_require_factor(struct cli_ctx *c)
{
    struct user *u = NULL;
    int on = (c->o->given & CLI_OFF) == 0, rc;

    if ((rc = find_user(c, &u)) != 0)
        goto out;
    rc = factors_require(c->st, u->sub, on);
    cli_audit_add(c, "require_factor", u->sub, on ? "required" : "not required",
                  rc < 0 ? "error" : "ok", -1, -1);
    if (rc < 0) {
        rc = cli_fail(c->cmd, c->cfg, rc);
        goto out;
    }
    printf("%s (%s): second factor %s\n", u->username, u->sub,
           on ? "required" : "not required");
    rc = 0;
out:
    user_free(u);
    return rc;
}

int
cli_user(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        fprintf(stderr, "gatehouse user: add, passwd, disable, list, "
                        "factors, reset-factors or require-factor "
                        "expected; see --help\n");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(user_help, stdout);
        return 0;
    }
    for (i = 0; i < NELEM(subcommands); i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return cli_run("gatehouse user", &subcommands[i], argc - 2,
                           argv + 2);
    }
    fprintf(stderr,
            "gatehouse user: unknown subcommand '%.64s'; see --help\n",
            argv[1]);
    return CLI_EXIT_USAGE;
}
