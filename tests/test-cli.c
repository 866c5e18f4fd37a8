/* SPDX-License-Identifier: MIT */
/* "gatehouse user ...": the real binary against a real redis-server. */
#include <signal.h>
#include <stdarg.h>
#include <time.h>

#include <jansson.h>

#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/session/session.h"
#include "gatehouse/store/store.h"
#include "gatehouse/directory/users.h"
#include "support.h"
#include "test.h"

static struct redis_proc redis;
static struct gh_proc gh;

/* A fresh redis-server and a config (with keys) pointing at it. */
static void
setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (redis_start(&redis, 0) < 0)
        FAIL("redis_start");
    if (gh_prepare(&gh, redis.url, "ES256", NULL) < 0)
        FAIL("gh_prepare");
}

static void
teardown(void)
{
    gh_stop(&gh);
    redis_stop(&redis, 0);
}

struct result {
    int status;
    char *out;
    char *err;
};

static void
result_free(struct result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* Runs "gatehouse ARGS..." (NULL-terminated) with stdin_text on stdin. */
static struct result
gh_run(const char *stdin_text, ...)
{
    char *argv[32];
    struct result r;
    va_list ap;
    int n = 0;

    argv[n++] = getenv("GATEHOUSE_BIN");
    va_start(ap, stdin_text);
    while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    r.status = run_cmd(argv, stdin_text, &r.out, &r.err);
    return r;
}

/* Exactly one line, as every error must be. */
static int
one_line(const char *s)
{
    const char *nl = s != NULL ? strchr(s, '\n') : NULL;

    return nl != NULL && nl[1] == '\0' && nl != s;
}

static int
is_uuid_line(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 37 || s[36] != '\n')
        return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23
                ? s[i] != '-'
                : strchr("0123456789abcdef", s[i]) == NULL)
            return 0;
    }
    return 1;
}

/* Adds a user through the binary; writes its sub. */
static void
add_user(const char *username, const char *email, const char *name,
         const char *stdin_text, char sub[37])
{
    char *argv[16];
    char *out = NULL, *err = NULL;
    int n = 0, rc;

    argv[n++] = getenv("GATEHOUSE_BIN");
    argv[n++] = "user";
    argv[n++] = "add";
    argv[n++] = "--config";
    argv[n++] = gh.config;
    argv[n++] = "--username";
    argv[n++] = (char *)username;
    if (email != NULL) {
        argv[n++] = "--email";
        argv[n++] = (char *)email;
    }
    if (name != NULL) {
        argv[n++] = "--name";
        argv[n++] = (char *)name;
    }
    argv[n++] = "--password-stdin";
    argv[n] = NULL;
    rc = run_cmd(argv, stdin_text, &out, &err);
    if (rc != 0 || !is_uuid_line(out))
        FAIL("user add %s: exit %d, out \"%s\", err \"%s\"", username, rc,
             out ? out : "", err ? err : "");
    memcpy(sub, out, 36);
    sub[36] = '\0';
    free(out);
    free(err);
}

/* The stored record, read the way the server reads it. */
static struct user *
stored_user(const char *name_or_sub)
{
    struct redis_config conf;
    struct store *st = NULL;
    struct user *u = NULL;
    int rc;

    memset(&conf, 0, sizeof(conf));
    conf.prefix = "gh:";
    conf.unix_path = redis.socket;
    ASSERT_EQ(store_open(&conf, &st), 0);
    rc = users_get(st, name_or_sub, &u);
    store_close(st);
    return rc == 0 ? u : NULL;
}

TEST(user_add_prints_the_sub_alone)
{
    struct result r;
    struct user *u;

    setup();
    r = gh_run("s3cret pass\n", "user", "add", "--config", gh.config,
               "--username", "Alice", "--email", "alice@example.com", "--name",
               "Alice Liddell", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT(is_uuid_line(r.out));
    ASSERT_STR_EQ(r.err, "");
    r.out[36] = '\0';
    u = stored_user("alice");
    ASSERT(u != NULL);
    ASSERT_STR_EQ(u->sub, r.out);
    ASSERT_STR_EQ(u->email, "alice@example.com");
    ASSERT_STR_EQ(u->name, "Alice Liddell");
    /* The newline ends the password; it is not part of it. */
    ASSERT_EQ(password_verify("s3cret pass", u->hash), 0);
    user_free(u);
    result_free(&r);

    /* A CRLF line and a line without newline end the same way. */
    {
        char sub[37];
        add_user("bob", NULL, NULL, "crlf pw\r\nignored\n", sub);
        u = stored_user(sub);
        ASSERT(u != NULL);
        ASSERT_STR_EQ(u->email, "");
        ASSERT_EQ(password_verify("crlf pw", u->hash), 0);
        user_free(u);
    }
    teardown();
}

TEST(password_is_never_taken_from_argv)
{
    struct result r;

    setup();
    r = gh_run("", "user", "add", "--config", gh.config, "--username", "alice",
               "--password", "hunter2", NULL);
    ASSERT_EQ(r.status, 2);
    ASSERT(one_line(r.err));
    ASSERT(strstr(r.err, "hunter2") == NULL);
    ASSERT_CONTAINS(r.err, "--password-stdin");
    result_free(&r);

    r = gh_run("", "user", "add", "--config", gh.config, "--username", "alice",
               "--password=hunter2", NULL);
    ASSERT_EQ(r.status, 2);
    ASSERT(one_line(r.err));
    ASSERT(strstr(r.err, "hunter2") == NULL);
    result_free(&r);

    r = gh_run("", "user", "passwd", "--config", gh.config, "--username",
               "alice", "--password-stdin", "hunter2", NULL);
    ASSERT_EQ(r.status, 2);
    ASSERT(one_line(r.err));
    ASSERT(strstr(r.err, "hunter2") == NULL);
    result_free(&r);

    /* Without --password-stdin there is no password: a usage error. */
    r = gh_run("hunter2\n", "user", "add", "--config", gh.config, "--username",
               "alice", NULL);
    ASSERT_EQ(r.status, 2);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "--password-stdin");
    result_free(&r);

    ASSERT(stored_user("alice") == NULL);
    teardown();
}

TEST(empty_or_oversized_password_is_refused)
{
    char big[PASSWORD_MAX + 3];
    const char *inputs[] = {"", "\n", "\r\n", big};
    struct result r;
    size_t i;

    memset(big, 'p', PASSWORD_MAX + 1);
    strcpy(big + PASSWORD_MAX + 1, "\n");
    setup();
    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        r = gh_run(inputs[i], "user", "add", "--config", gh.config,
                   "--username", "alice", "--password-stdin", NULL);
        ASSERT_EQ(r.status, 1);
        ASSERT(one_line(r.err));
        ASSERT_CONTAINS(r.err, "gatehouse user add: password");
        ASSERT_STR_EQ(r.out, "");
        result_free(&r);
    }
    ASSERT(stored_user("alice") == NULL);
    teardown();
}

TEST(duplicate_username_is_exit_1_with_one_line)
{
    char sub[37];
    struct result r;
    struct user *u;

    setup();
    add_user("alice", "a@example.com", NULL, "pw1\n", sub);
    r = gh_run("pw2\n", "user", "add", "--config", gh.config, "--username",
               "ALICE", "--email", "b@example.com", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT_STR_EQ(r.err, "gatehouse user add: username \"ALICE\" is taken\n");
    ASSERT_STR_EQ(r.out, "");
    result_free(&r);
    u = stored_user("alice");
    ASSERT_STR_EQ(u->sub, sub);
    ASSERT_STR_EQ(u->email, "a@example.com");
    user_free(u);

    /* Bad input names the field. */
    r = gh_run("pw\n", "user", "add", "--config", gh.config, "--username",
               "no spaces", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "gatehouse user add: username:");
    result_free(&r);
    r = gh_run("pw\n", "user", "add", "--config", gh.config, "--username",
               "carol", "--email", "not-an-address", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "gatehouse user add: email:");
    result_free(&r);
    teardown();
}

TEST(passwd_sets_a_new_password)
{
    char sub[37];
    struct result r;
    struct user *u;

    setup();
    add_user("dave", NULL, NULL, "old\n", sub);
    /* By username in another case, password ended by end of input. */
    r = gh_run("new password", "user", "passwd", "--config", gh.config,
               "--username", "DAVE", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_STR_EQ(r.err, "");
    result_free(&r);
    u = stored_user(sub);
    ASSERT_EQ(password_verify("new password", u->hash), 0);
    ASSERT_EQ(password_verify("old", u->hash), GH_EDENIED);
    user_free(u);

    r = gh_run("pw\n", "user", "passwd", "--config", gh.config, "--username",
               "nobody", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT_STR_EQ(r.err, "gatehouse user passwd: no user \"nobody\"\n");
    result_free(&r);

    r = gh_run("\n", "user", "passwd", "--config", gh.config, "--username", sub,
               "--password-stdin", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "password");
    result_free(&r);
    teardown();
}

TEST(passwd_ends_every_session_of_the_user)
{
    char sub[37], sid[SESSION_SID_LEN + 1];
    char cookie[SESSION_COOKIE_LEN + 1];
    struct config *cfg = NULL;
    struct field_error fe;
    struct store *st = NULL;
    struct session *s = NULL;
    struct result r;

    setup();
    add_user("fay", NULL, NULL, "pw\n", sub);
    ASSERT_EQ(config_load(gh.config, &cfg, &fe), 0);
    ASSERT_EQ(store_open(&cfg->redis, &st), 0);
    ASSERT_EQ(session_create(st, cfg, sub, "127.0.0.1", "test", sid, cookie),
              0);
    r = gh_run("new pw\n", "user", "passwd", "--config", gh.config,
               "--username", "fay", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_CONTAINS(r.out, "1 session ended");
    result_free(&r);
    ASSERT_EQ(session_get(st, sid, &s), GH_ENOTFOUND);
    store_close(st);
    config_free(cfg);
    teardown();
}

/* The keys of the whole database, for "nothing changed". */
static long long
db_size(void)
{
    char *argv[] = {"redis-cli", "-s", redis.socket, "DBSIZE", NULL};
    char *out = NULL;
    long long n;

    ASSERT_EQ(run_cmd(argv, NULL, &out, NULL), 0);
    n = strtoll(out, NULL, 10);
    free(out);
    return n;
}

TEST(user_add_sets_profile_claims_and_email_verified)
{
    struct result r;
    struct user *u;
    json_t *arr, *o;
    long long now = (long long)time(NULL);

    setup();
    r = gh_run("pw\n", "user", "add", "--config", gh.config, "--username",
               "carol", "--email", "carol@example.com", "--email-verified",
               "--name", "Carol Dupont", "--given-name", "Carol",
               "--family-name", "Dupont", "--locale", "fr-CA", "--zoneinfo",
               "America/Montreal", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT(is_uuid_line(r.out));
    ASSERT_STR_EQ(r.err, "");
    result_free(&r);
    u = stored_user("carol");
    ASSERT(u != NULL);
    ASSERT_STR_EQ(u->given_name, "Carol");
    ASSERT_STR_EQ(u->family_name, "Dupont");
    ASSERT_STR_EQ(u->locale, "fr-CA");
    ASSERT_STR_EQ(u->zoneinfo, "America/Montreal");
    ASSERT(u->email_verified);
    ASSERT(u->updated >= now - 5 && u->updated <= now + 60);
    user_free(u);

    /* Without the options: empty, and the address not verified. */
    r = gh_run("pw\n", "user", "add", "--config", gh.config, "--username",
               "dan", "--email", "dan@example.com", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 0);
    result_free(&r);
    u = stored_user("dan");
    ASSERT_STR_EQ(u->given_name, "");
    ASSERT_STR_EQ(u->locale, "");
    ASSERT(!u->email_verified);
    user_free(u);

    r = gh_run(NULL, "user", "list", "--config", gh.config, "--json", NULL);
    ASSERT_EQ(r.status, 0);
    arr = json_loads(r.out, 0, NULL);
    ASSERT(json_is_array(arr));
    o = json_array_get(arr, 0);
    if (strcmp(json_string_value(json_object_get(o, "username")), "carol"))
        o = json_array_get(arr, 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "given_name")),
                  "Carol");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "zoneinfo")),
                  "America/Montreal");
    ASSERT(json_is_true(json_object_get(o, "email_verified")));
    json_decref(arr);
    result_free(&r);
    teardown();
}

TEST(user_add_refuses_bad_profile_values_and_changes_nothing)
{
    /* Each row: option, value (NULL: a flag), the field the error names. */
    static const struct {
        const char *opt, *value, *field;
    } rows[] = {
        {"--locale", "fr_CA", "locale: "},
        {"--locale", "f", "locale: "},
        {"--locale", "en-", "locale: "},
        {"--locale", "en-toolongsub", "locale: "},
        {"--locale", "1en", "locale: "},
        {"--zoneinfo", "../etc/passwd", "zoneinfo: "},
        {"--zoneinfo", "/UTC", "zoneinfo: "},
        {"--zoneinfo", "Europe//Paris", "zoneinfo: "},
        {"--zoneinfo", "Europe/Paris/", "zoneinfo: "},
        {"--zoneinfo", "Europe/Par is", "zoneinfo: "},
        {"--given-name", "Bell\a", "given_name: "},
        {"--family-name", "\xc3", "family_name: "},
        {"--email-verified", NULL, "email_verified: "},
    };
    struct result r;
    size_t i;

    setup();
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].value != NULL)
            r = gh_run("pw\n", "user", "add", "--config", gh.config,
                       "--username", "eve", rows[i].opt, rows[i].value,
                       "--password-stdin", NULL);
        else
            r = gh_run("pw\n", "user", "add", "--config", gh.config,
                       "--username", "eve", rows[i].opt, "--password-stdin",
                       NULL);
        if (r.status != 1 || !one_line(r.err) ||
            strstr(r.err, rows[i].field) == NULL)
            FAIL("row %zu: exit %d, err \"%s\"", i, r.status, r.err);
        ASSERT_STR_EQ(r.out, "");
        result_free(&r);
    }
    ASSERT_EQ(db_size(), 0);

    /* The shapes that are fine. */
    r = gh_run("pw\n", "user", "add", "--config", gh.config, "--username",
               "eve", "--locale", "zh-Hans-CN", "--zoneinfo",
               "America/Argentina/Buenos_Aires", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 0);
    result_free(&r);
    r = gh_run("pw\n", "user", "add", "--config", gh.config, "--username",
               "eve2", "--locale", "en", "--zoneinfo", "Etc/GMT+5",
               "--password-stdin", NULL);
    ASSERT_EQ(r.status, 0);
    result_free(&r);
    teardown();
}

TEST(passwd_email_verified_marks_the_address)
{
    char sub[37], sub2[37];
    struct result r;
    struct user *u;

    setup();
    add_user("gus", "gus@example.com", NULL, "old pw\n", sub);
    add_user("hal", NULL, NULL, "pw\n", sub2);

    /* Alone, it leaves the password as it is. */
    r = gh_run(NULL, "user", "passwd", "--config", gh.config, "--username",
               "gus", "--email-verified", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_CONTAINS(r.out, "gus@example.com");
    ASSERT_STR_EQ(r.err, "");
    result_free(&r);
    u = stored_user(sub);
    ASSERT(u->email_verified);
    ASSERT_EQ(password_verify("old pw", u->hash), 0);
    user_free(u);

    /* A user without an address: refused, nothing changed, not even the
     * password given with it. */
    r = gh_run("new pw\n", "user", "passwd", "--config", gh.config,
               "--username", "hal", "--password-stdin", "--email-verified",
               NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "email_verified: ");
    result_free(&r);
    u = stored_user(sub2);
    ASSERT(!u->email_verified);
    ASSERT_EQ(password_verify("pw", u->hash), 0);
    user_free(u);

    /* Neither option: nothing to do is a usage error. */
    r = gh_run(NULL, "user", "passwd", "--config", gh.config, "--username",
               "gus", NULL);
    ASSERT_EQ(r.status, 2);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "--password-stdin or --email-verified");
    result_free(&r);
    teardown();
}

TEST(disable_marks_disabled_and_ends_every_session)
{
    char sub[37], sid1[SESSION_SID_LEN + 1], sid2[SESSION_SID_LEN + 1];
    char cookie[SESSION_COOKIE_LEN + 1];
    struct config *cfg = NULL;
    struct field_error fe;
    struct store *st = NULL;
    struct session *s = NULL;
    struct result r;
    struct user *u;

    setup();
    add_user("erin", NULL, NULL, "pw\n", sub);
    ASSERT_EQ(config_load(gh.config, &cfg, &fe), 0);
    ASSERT_EQ(store_open(&cfg->redis, &st), 0);
    ASSERT_EQ(session_create(st, cfg, sub, "127.0.0.1", "test", sid1, cookie),
              0);
    ASSERT_EQ(session_create(st, cfg, sub, "127.0.0.1", "test", sid2, cookie),
              0);

    r = gh_run(NULL, "user", "disable", "--config", gh.config, "--username",
               sub, NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_STR_EQ(r.err, "");
    ASSERT_CONTAINS(r.out, "2 sessions ended");
    result_free(&r);
    u = stored_user("erin");
    ASSERT(u->disabled);
    user_free(u);
    ASSERT_EQ(session_get(st, sid1, &s), GH_ENOTFOUND);
    ASSERT_EQ(session_get(st, sid2, &s), GH_ENOTFOUND);

    /* Again: still disabled, nothing left to end. */
    r = gh_run(NULL, "user", "disable", "--config", gh.config, "--username",
               "Erin", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_CONTAINS(r.out, "0 sessions ended");
    result_free(&r);

    r = gh_run(NULL, "user", "disable", "--config", gh.config, "--username",
               "nobody", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT_STR_EQ(r.err, "gatehouse user disable: no user \"nobody\"\n");
    result_free(&r);

    store_close(st);
    config_free(cfg);
    teardown();
}

TEST(list_prints_a_table_or_json)
{
    char sub1[37], sub2[37];
    struct result r;
    json_t *arr, *o;
    json_error_t je;
    char *line1, *line2;

    setup();
    r = gh_run(NULL, "user", "list", "--config", gh.config, NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT(strncmp(r.out, "SUB ", 4) == 0);
    ASSERT(one_line(r.out)); /* the header alone */
    result_free(&r);

    add_user("frank", "frank@example.com", "Frank F\xc3\xa9", "pw\n", sub1);
    add_user("gina", NULL, NULL, "pw\n", sub2);
    r = gh_run(NULL, "user", "disable", "--config", gh.config, "--username",
               "gina", NULL);
    ASSERT_EQ(r.status, 0);
    result_free(&r);

    r = gh_run(NULL, "user", "list", "--config", gh.config, NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_STR_EQ(r.err, "");
    {
        const char *cols[] = {"SUB",  "USERNAME", "EMAIL",
                              "NAME", "STATE",    "CREATED"};
        const char *p = r.out;
        size_t i;
        for (i = 0; i < 6; i++) {
            ASSERT((p = strstr(p, cols[i])) != NULL);
            p += strlen(cols[i]);
        }
        ASSERT(p <= strchr(r.out, '\n'));
    }
    /* Both were made in the same second, so their order is not
     * asserted here (test-users does that). */
    ASSERT((line1 = strstr(r.out, sub1)) != NULL);
    ASSERT((line2 = strstr(r.out, sub2)) != NULL);
    ASSERT(line1[-1] == '\n' && line2[-1] == '\n');
    *strchr(line1, '\n') = '\0';
    *strchr(line2, '\n') = '\0';
    ASSERT_CONTAINS(line1, "frank@example.com");
    ASSERT_CONTAINS(line1, "Frank F\xc3\xa9");
    ASSERT_CONTAINS(line1, " active ");
    ASSERT_CONTAINS(line2, " gina ");
    ASSERT_CONTAINS(line2, " disabled ");
    ASSERT(strstr(r.out, "$scrypt$") == NULL);
    result_free(&r);

    r = gh_run(NULL, "user", "list", "--config", gh.config, "--json", NULL);
    ASSERT_EQ(r.status, 0);
    arr = json_loads(r.out, 0, &je);
    ASSERT(json_is_array(arr));
    ASSERT_EQ(json_array_size(arr), 2);
    o = json_array_get(arr, 0);
    if (strcmp(json_string_value(json_object_get(o, "sub")), sub1) != 0)
        o = json_array_get(arr, 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "sub")), sub1);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "username")), "frank");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "email")),
                  "frank@example.com");
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "name")),
                  "Frank F\xc3\xa9");
    ASSERT(json_is_false(json_object_get(o, "disabled")));
    ASSERT(json_integer_value(json_object_get(o, "created")) > 0);
    o = json_array_get(arr, o == json_array_get(arr, 0) ? 1 : 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "sub")), sub2);
    ASSERT_STR_EQ(json_string_value(json_object_get(o, "email")), "");
    ASSERT(json_is_true(json_object_get(o, "disabled")));
    ASSERT(json_object_get(o, "hash") == NULL);
    ASSERT(strstr(r.out, "$scrypt$") == NULL);
    json_decref(arr);
    result_free(&r);
    teardown();
}

TEST(help_for_each_subcommand_exits_0)
{
    const char *subs[] = {"add", "passwd", "disable", "list"};
    struct result r;
    size_t i;

    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        r = gh_run(NULL, "user", subs[i], "--help", NULL);
        ASSERT_EQ(r.status, 0);
        ASSERT_CONTAINS(r.out, "usage: gatehouse user ");
        ASSERT_CONTAINS(r.out, subs[i]);
        ASSERT_STR_EQ(r.err, "");
        if (strcmp(subs[i], "add") == 0 || strcmp(subs[i], "passwd") == 0)
            ASSERT_CONTAINS(r.out, "--email-verified");
        if (strcmp(subs[i], "add") == 0) {
            ASSERT_CONTAINS(r.out, "--given-name G");
            ASSERT_CONTAINS(r.out, "--family-name F");
            ASSERT_CONTAINS(r.out, "--locale L");
            ASSERT_CONTAINS(r.out, "--zoneinfo Z");
        }
        result_free(&r);
    }
    /* --help wins over what else is wrong on the line. */
    r = gh_run(NULL, "user", "add", "--bogus", "--help", NULL);
    ASSERT_EQ(r.status, 0);
    result_free(&r);
    r = gh_run(NULL, "user", "--help", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_CONTAINS(r.out, "user disable");
    result_free(&r);
    r = gh_run(NULL, "--help", NULL);
    ASSERT_EQ(r.status, 0);
    ASSERT_CONTAINS(r.out, "user ");
    result_free(&r);
}

TEST(usage_errors_exit_2_with_one_line)
{
    struct result r;
    size_t i;
    /* Each row: arguments after "gatehouse", up to 7. */
    const char *rows[][8] = {
        {"user", NULL},
        {"user", "frobnicate", NULL},
        {"user", "list", "--bogus", NULL},
        {"user", "list", NULL},             /* no --config */
        {"user", "list", "--config", NULL}, /* no value */
        {"user", "list", "--config", "x", "extra", NULL},
        {"user", "list", "--config", "x", "--config", "y", NULL},
        {"user", "list", "--config", "x", "--json=1", NULL},
        {"user", "disable", "--config", "x", NULL}, /* no --username */
        {"user", "add", "--config", "x", "--json", NULL},
        {"user", "disable", "--config", "x", "--username", "a", "--pass", NULL},
    };

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *argv[10];
        size_t k;
        argv[0] = getenv("GATEHOUSE_BIN");
        for (k = 0; rows[i][k] != NULL; k++)
            argv[k + 1] = (char *)rows[i][k];
        argv[k + 1] = NULL;
        r.status = run_cmd(argv, NULL, &r.out, &r.err);
        if (r.status != 2 || !one_line(r.err))
            FAIL("row %zu: exit %d, err \"%s\"", i, r.status, r.err);
        ASSERT_STR_EQ(r.out, "");
        result_free(&r);
    }
}

TEST(bad_config_is_exit_1_file_field_problem)
{
    struct result r;

    if (redis_start(&redis, 0) < 0)
        FAIL("redis_start");
    ASSERT_EQ(gh_prepare(&gh, redis.url, "ES256",
                         "{\"session\":{\"idle_timout_s\":5}}"),
              0);
    r = gh_run(NULL, "user", "list", "--config", gh.config, NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT(strncmp(r.err, gh.config, strlen(gh.config)) == 0);
    ASSERT_CONTAINS(r.err, ": session.idle_timout_s: ");
    result_free(&r);

    r = gh_run("pw\n", "user", "add", "--config", "/nonexistent/gh.json",
               "--username", "alice", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT(strncmp(r.err, "/nonexistent/gh.json: ", 22) == 0);
    result_free(&r);
    teardown();
}

TEST(redis_down_is_exit_1_naming_redis)
{
    struct result r;
    char want[400];

    setup();
    redis_stop(&redis, 1);
    r = gh_run("pw\n", "user", "add", "--config", gh.config, "--username",
               "alice", "--password-stdin", NULL);
    ASSERT_EQ(r.status, 1);
    snprintf(want, sizeof(want),
             "gatehouse user add: redis: no answer from %s\n", redis.url);
    ASSERT_STR_EQ(r.err, want);
    ASSERT_STR_EQ(r.out, "");
    result_free(&r);

    r = gh_run(NULL, "user", "list", "--config", gh.config, NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "gatehouse user list: redis: no answer from ");
    result_free(&r);

    r = gh_run(NULL, "user", "disable", "--config", gh.config, "--username",
               "alice", NULL);
    ASSERT_EQ(r.status, 1);
    ASSERT(one_line(r.err));
    ASSERT_CONTAINS(r.err, "redis: no answer from ");
    result_free(&r);
    teardown();
}

TEST_MAIN(TEST_ENTRY(user_add_prints_the_sub_alone),
          TEST_ENTRY(password_is_never_taken_from_argv),
          TEST_ENTRY(empty_or_oversized_password_is_refused),
          TEST_ENTRY(duplicate_username_is_exit_1_with_one_line),
          TEST_ENTRY(passwd_sets_a_new_password),
          TEST_ENTRY(passwd_ends_every_session_of_the_user),
          TEST_ENTRY(user_add_sets_profile_claims_and_email_verified),
          TEST_ENTRY(user_add_refuses_bad_profile_values_and_changes_nothing),
          TEST_ENTRY(passwd_email_verified_marks_the_address),
          TEST_ENTRY(disable_marks_disabled_and_ends_every_session),
          TEST_ENTRY(list_prints_a_table_or_json),
          TEST_ENTRY(help_for_each_subcommand_exits_0),
          TEST_ENTRY(usage_errors_exit_2_with_one_line),
          TEST_ENTRY(bad_config_is_exit_1_file_field_problem),
          TEST_ENTRY(redis_down_is_exit_1_naming_redis))
