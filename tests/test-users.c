/* SPDX-License-Identifier: MIT */
/* users.c and store_users.c against a real redis-server. */
#include <signal.h>
#include <stdarg.h>
#include <time.h>

/* The test checks from the outside what the store wrote, over its own
 * link. */
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "gatehouse/core/config.h"
#include "gatehouse/core/error.h"
#include "gatehouse/crypto/password.h"
#include "gatehouse/store/store.h"
#include "gatehouse/directory/users.h"
#include "gatehouse/core/util.h"
#include "support.h"
#include "test.h"

static struct redis_proc redis;
static struct redis_config conf;
static struct store *st;

/* A fresh redis-server and a store on it. */
static void
setup(void)
{
    /* A write to a connection Redis closed must fail, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (redis_start(&redis, 0) < 0)
        FAIL("redis_start");
    memset(&conf, 0, sizeof(conf));
    conf.prefix = "t:";
    conf.unix_path = redis.socket;
    ASSERT_EQ(store_open(&conf, &st), 0);
}

static void
teardown(void)
{
    store_close(st);
    st = NULL;
    redis_stop(&redis, 0);
}

/* One command over a private connection; the caller frees the reply. */
static redisReply *
raw(const char *fmt, ...)
{
    redisContext *c = redisConnectUnix(redis.socket);
    redisReply *r;
    va_list ap;

    if (c == NULL || c->err)
        FAIL("connect %s: %s", redis.socket, c ? c->errstr : "no memory");
    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r == NULL)
        FAIL("%s: %s", fmt, c->errstr);
    redisFree(c);
    return r;
}

static long long
raw_int(const char *fmt, const char *arg)
{
    redisReply *r = raw(fmt, arg);
    long long v;

    ASSERT_EQ(r->type, REDIS_REPLY_INTEGER);
    v = r->integer;
    freeReplyObject(r);
    return v;
}

/* Every key and value, as one string: "nothing changed" is equality. */
static char *
dump_all(void)
{
    redisReply *keys = raw("KEYS *"), *v;
    size_t i, j, len = 0;
    char *out = calloc(1, 1);

    for (i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        redisReply *type = raw("TYPE %s", k);
        char line[4096];

        if (strcmp(type->str, "hash") == 0)
            v = raw("HGETALL %s", k);
        else if (strcmp(type->str, "zset") == 0)
            v = raw("ZRANGE %s 0 -1 WITHSCORES", k);
        else
            v = raw("GET %s", k);
        snprintf(line, sizeof(line), "%s=", k);
        if (v->type == REDIS_REPLY_STRING) {
            strncat(line, v->str, sizeof(line) - strlen(line) - 1);
        } else {
            for (j = 0; j < v->elements; j++) {
                strncat(line, v->element[j]->str,
                        sizeof(line) - strlen(line) - 1);
                strncat(line, ",", sizeof(line) - strlen(line) - 1);
            }
        }
        out = realloc(out, len + strlen(line) + 2);
        strcpy(out + len, line);
        len += strlen(line);
        out[len++] = '\n';
        out[len] = '\0';
        freeReplyObject(v);
        freeReplyObject(type);
    }
    freeReplyObject(keys);
    return out;
}

static int
looks_like_uuid(const char *s)
{
    size_t i;

    if (strlen(s) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23
                ? s[i] != '-'
                : strchr("0123456789abcdef", s[i]) == NULL)
            return 0;
    }
    return 1;
}

/* Adds a user and returns its sub (static buffer per call site). */
static void
add(const char *username, const char *email, const char *name,
    const char *password, char sub[37])
{
    const char *why = NULL;
    struct user_info info = {.email = email, .name = name};
    int rc = users_add(st, username, &info, password, sub, &why);

    if (rc != 0)
        FAIL("users_add %s: %s (%s)", username, gh_strerror(rc),
             why ? why : "");
}

/* Waits until the wall clock has moved to a new second. */
static void
next_second(void)
{
    int64_t now = util_now();
    struct timespec ts = {0, 10 * 1000 * 1000};

    while (util_now() == now)
        nanosleep(&ts, NULL);
}

TEST(add_then_get_by_username_in_any_case_and_by_sub)
{
    char sub[37], upper[37];
    struct user *u = NULL;
    const char *names[] = {"Alice", "alice", "ALICE", "aLiCe"};
    size_t i;

    setup();
    add("Alice", "alice@example.com", "Alice Liddell", "pw one", sub);
    ASSERT(looks_like_uuid(sub));
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ASSERT_EQ(users_get(st, names[i], &u), 0);
        ASSERT_STR_EQ(u->sub, sub);
        ASSERT_STR_EQ(u->username, "Alice"); /* as given */
        user_free(u);
        u = NULL;
    }
    for (i = 0; i < 37; i++)
        upper[i] =
            (char)(sub[i] >= 'a' && sub[i] <= 'f' ? sub[i] - 32 : sub[i]);
    ASSERT_EQ(users_get(st, sub, &u), 0);
    ASSERT_STR_EQ(u->sub, sub);
    user_free(u);
    ASSERT_EQ(users_get(st, upper, &u), 0);
    ASSERT_STR_EQ(u->sub, sub);
    ASSERT_STR_EQ(u->username, "Alice");
    ASSERT_STR_EQ(u->email, "alice@example.com");
    ASSERT_STR_EQ(u->name, "Alice Liddell");
    ASSERT(!u->disabled);
    ASSERT(u->created > 0);
    ASSERT_EQ(u->updated, u->created);
    ASSERT(strncmp(u->hash, "$scrypt$", 8) == 0);
    ASSERT_EQ(password_verify("pw one", u->hash), 0);
    user_free(u);
    u = NULL;

    /* The schema: short hash fields, the lower-cased index, the zset. */
    {
        char key[64];
        redisReply *r;
        snprintf(key, sizeof(key), "t:user:%s", sub);
        r = raw("HGET %s u", key);
        ASSERT_STR_EQ(r->str, "Alice");
        freeReplyObject(r);
        r = raw("GET t:uname:alice");
        ASSERT_STR_EQ(r->str, sub);
        freeReplyObject(r);
        ASSERT_EQ(raw_int("ZCARD %s", "t:users"), 1);
    }

    ASSERT_EQ(users_get(st, "bob", &u), GH_ENOTFOUND);
    ASSERT_EQ(users_get(st, "00000000-0000-4000-8000-000000000000", &u),
              GH_ENOTFOUND);
    ASSERT_EQ(users_get(st, "no such name!", &u), GH_ENOTFOUND);
    ASSERT_EQ(users_get(st, "", &u), GH_ENOTFOUND);
    ASSERT(u == NULL);
    teardown();
}

TEST(duplicate_username_in_other_case_is_refused_and_changes_nothing)
{
    char sub[37], sub2[37] = "untouched";
    const char *why = NULL;
    char *before, *after;

    setup();
    add("bob", "bob@example.com", "Bob", "first", sub);
    before = dump_all();
    ASSERT_EQ(users_add(st, "BOB",
                        &(struct user_info){.email = "other@example.com",
                                            .name = "Other"},
                        "second", sub2, &why),
              GH_EEXISTS);
    ASSERT_STR_EQ(sub2, "untouched");
    after = dump_all();
    ASSERT_STR_EQ(after, before);
    free(before);
    free(after);
    teardown();
}

TEST(invalid_input_is_refused_with_a_reason_and_writes_nothing)
{
    char long_name[USERNAME_MAX + 2], long_email[300], long_real[200];
    char long_pw[PASSWORD_MAX + 2], sub[37] = "untouched";
    struct {
        const char *username, *email, *name, *password, *field;
    } bad[] = {
        {"", NULL, NULL, "pw", "username"},
        {long_name, NULL, NULL, "pw", "username"},
        {"al ice", NULL, NULL, "pw", "username"},
        {"al/ice", NULL, NULL, "pw", "username"},
        {"al:ice", NULL, NULL, "pw", "username"},
        {"gar\xc3\xa7on", NULL, NULL, "pw", "username"},
        {"0f8fad5b-d9cb-469f-a165-70867728950e", NULL, NULL, "pw", "username"},
        {NULL, NULL, NULL, "pw", "username"},
        {"alice", "alice", NULL, "pw", "email"},
        {"alice", "@example.com", NULL, "pw", "email"},
        {"alice", "alice@", NULL, "pw", "email"},
        {"alice", "al ice@example.com", NULL, "pw", "email"},
        {"alice", "alice@example.com\n", NULL, "pw", "email"},
        {"alice", "\xff@example.com", NULL, "pw", "email"},
        {"alice", long_email, NULL, "pw", "email"},
        {"alice", NULL, long_real, "pw", "name"},
        {"alice", NULL, "Bell\a", "pw", "name"},
        {"alice", NULL, "\xc3", "pw", "name"},
        {"alice", NULL, "\xc0\xaf", "pw", "name"},     /* overlong */
        {"alice", NULL, "\xed\xa0\x80", "pw", "name"}, /* surrogate */
        {"alice", NULL, "\xc2\x85", "pw", "name"},     /* C1 */
        {"alice", NULL, NULL, "", "password"},
        {"alice", NULL, NULL, NULL, "password"},
        {"alice", NULL, NULL, long_pw, "password"},
    };
    size_t i;

    memset(long_name, 'a', USERNAME_MAX + 1);
    long_name[USERNAME_MAX + 1] = '\0';
    memset(long_email, 'e', 250);
    strcpy(long_email + 250, "@x.io"); /* 255 bytes */
    memset(long_real, 'n', 129);
    long_real[129] = '\0';
    memset(long_pw, 'p', PASSWORD_MAX + 1);
    long_pw[PASSWORD_MAX + 1] = '\0';

    setup();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        struct user_info info = {.email = bad[i].email, .name = bad[i].name};
        int rc = users_add(st, bad[i].username, &info, bad[i].password, sub,
                           &why);
        if (rc != GH_EINVAL)
            FAIL("case %zu: %s, want GH_EINVAL", i, gh_strerror(rc));
        ASSERT(why != NULL);
        if (strncmp(why, bad[i].field, strlen(bad[i].field)) != 0)
            FAIL("case %zu: reason \"%s\" does not name %s", i, why,
                 bad[i].field);
    }
    ASSERT_STR_EQ(sub, "untouched");
    {
        redisReply *r = raw("DBSIZE");
        ASSERT_EQ(r->integer, 0);
        freeReplyObject(r);
    }

    /* The edges that are allowed: 64 characters of every allowed kind,
     * UTF-8 in the name, no email at all. */
    {
        char edge[USERNAME_MAX + 1];
        struct user *u = NULL;
        memset(edge, 'x', USERNAME_MAX);
        memcpy(edge, "A.b_c@d-9", 9);
        edge[USERNAME_MAX] = '\0';
        add(edge, "", "Zo\xc3\xab \xe6\x9d\x8e \xf0\x9f\x94\x91", "pw", sub);
        ASSERT_EQ(users_get(st, edge, &u), 0);
        ASSERT_STR_EQ(u->email, "");
        ASSERT_STR_EQ(u->name, "Zo\xc3\xab \xe6\x9d\x8e \xf0\x9f\x94\x91");
        user_free(u);
    }
    teardown();
}

TEST(set_password_replaces_the_old_one)
{
    char sub[37];
    struct user *u = NULL;
    const char *why = NULL;
    char *old_hash;

    setup();
    add("carol", NULL, NULL, "old password", sub);
    ASSERT_EQ(users_get(st, sub, &u), 0);
    old_hash = strdup(u->hash);
    user_free(u);

    ASSERT_EQ(users_set_password(st, "CAROL", "", &why), GH_EINVAL);
    ASSERT_CONTAINS(why, "password");
    ASSERT_EQ(users_set_password(st, "nobody", "x", &why), GH_ENOTFOUND);
    ASSERT_EQ(users_get(st, sub, &u), 0);
    ASSERT_STR_EQ(u->hash, old_hash); /* refused changes leave it be */
    user_free(u);

    next_second();
    ASSERT_EQ(users_set_password(st, "CAROL", "new password", &why), 0);
    ASSERT_EQ(users_get(st, "carol", &u), 0);
    ASSERT(strcmp(u->hash, old_hash) != 0);
    ASSERT_EQ(password_verify("old password", u->hash), GH_EDENIED);
    ASSERT_EQ(password_verify("new password", u->hash), 0);
    ASSERT(u->updated > u->created);
    user_free(u);
    free(old_hash);
    teardown();
}

TEST(disable_marks_the_user_disabled)
{
    char sub[37];
    struct user *u = NULL;

    setup();
    add("dave", NULL, NULL, "pw", sub);
    ASSERT_EQ(users_disable(st, "DAVE"), 0);
    ASSERT_EQ(users_get(st, sub, &u), 0);
    ASSERT(u->disabled);
    user_free(u);
    /* Again is fine: still disabled. */
    ASSERT_EQ(users_disable(st, sub), 0);
    ASSERT_EQ(users_get(st, "dave", &u), 0);
    ASSERT(u->disabled);
    user_free(u);
    ASSERT_EQ(users_disable(st, "nobody"), GH_ENOTFOUND);
    teardown();
}

TEST(list_is_every_user_oldest_first)
{
    char subs[3][37];
    const char *names[] = {"zed", "amy", "Mia"};
    struct user **list = NULL;
    size_t n = 99, i;

    setup();
    ASSERT_EQ(users_list(st, &list, &n), 0);
    ASSERT_EQ(n, 0);
    users_free_list(list, n);

    /* Creation time is in seconds; a second apart, order is by age
     * alone, not by name or sub. */
    for (i = 0; i < 3; i++) {
        if (i > 0)
            next_second();
        add(names[i], NULL, NULL, "pw", subs[i]);
    }
    ASSERT_EQ(users_list(st, &list, &n), 0);
    ASSERT_EQ(n, 3);
    for (i = 0; i < 3; i++) {
        ASSERT_STR_EQ(list[i]->sub, subs[i]);
        ASSERT_STR_EQ(list[i]->username, names[i]);
    }
    ASSERT(list[0]->created < list[1]->created);
    ASSERT(list[1]->created < list[2]->created);
    users_free_list(list, n);
    teardown();
}

static const char *
claim(json_t *c, const char *name)
{
    return json_string_value(json_object_get(c, name));
}

TEST(claims_follow_the_scope)
{
    struct user u = {
        .sub = "0f8fad5b-d9cb-469f-a165-70867728950e",
        .username = "erin",
        .email = "erin@example.com",
        .name = "Erin E",
        .hash = "$scrypt$...",
    };
    struct user bare = u;
    json_t *c;

    bare.email = "";
    bare.name = "";

    c = users_claims(&u, "openid");
    ASSERT_EQ(json_object_size(c), 1);
    ASSERT_STR_EQ(claim(c, "sub"), u.sub);
    json_decref(c);

    c = users_claims(&u, NULL);
    ASSERT_EQ(json_object_size(c), 1);
    json_decref(c);

    c = users_claims(&u, "openid profile");
    ASSERT_EQ(json_object_size(c), 3);
    ASSERT_STR_EQ(claim(c, "name"), "Erin E");
    ASSERT_STR_EQ(claim(c, "preferred_username"), "erin");
    json_decref(c);

    c = users_claims(&u, "email openid");
    ASSERT_EQ(json_object_size(c), 3);
    ASSERT_STR_EQ(claim(c, "email"), "erin@example.com");
    ASSERT(json_is_false(json_object_get(c, "email_verified")));
    json_decref(c);

    c = users_claims(&u, "openid  profile email");
    ASSERT_EQ(json_object_size(c), 5);
    ASSERT(json_object_get(c, "h") == NULL);
    ASSERT(json_object_get(c, "hash") == NULL);
    json_decref(c);

    /* Scope names are whole words. */
    c = users_claims(&u, "openid profiles emails");
    ASSERT_EQ(json_object_size(c), 1);
    json_decref(c);

    /* Empty values are left out, not sent as "". */
    c = users_claims(&bare, "openid profile email");
    ASSERT(json_object_get(c, "name") == NULL);
    ASSERT(json_object_get(c, "email") == NULL);
    ASSERT_STR_EQ(claim(c, "preferred_username"), "erin");
    json_decref(c);

    /* OIDC Core §5.1: every profile claim the record holds, updated_at as
     * a number; email_verified as the record says. */
    {
        struct user full = u;
        full.given_name = "Erin";
        full.family_name = "Example";
        full.locale = "en-GB";
        full.zoneinfo = "Europe/London";
        full.updated = 1717430000;
        full.email_verified = true;
        c = users_claims(&full, "openid profile");
        ASSERT_EQ(json_object_size(c), 8);
        ASSERT_STR_EQ(claim(c, "given_name"), "Erin");
        ASSERT_STR_EQ(claim(c, "family_name"), "Example");
        ASSERT_STR_EQ(claim(c, "locale"), "en-GB");
        ASSERT_STR_EQ(claim(c, "zoneinfo"), "Europe/London");
        ASSERT_EQ(json_integer_value(json_object_get(c, "updated_at")),
                  1717430000);
        json_decref(c);
        c = users_claims(&full, "openid email");
        ASSERT(json_is_true(json_object_get(c, "email_verified")));
        ASSERT(json_object_get(c, "locale") == NULL);
        json_decref(c);
    }
}

TEST(redis_down_is_eredis)
{
    char sub[37] = "untouched";
    struct user *u = NULL;
    struct user **list = NULL;
    const char *why = NULL;
    size_t n = 0;

    setup();
    redis_stop(&redis, 0);
    ASSERT_EQ(users_get(st, "alice", &u), GH_EREDIS);
    ASSERT_EQ(users_list(st, &list, &n), GH_EREDIS);
    ASSERT_EQ(users_set_password(st, "alice", "pw", &why), GH_EREDIS);
    ASSERT_EQ(users_disable(st, "alice"), GH_EREDIS);
    ASSERT_EQ(users_add(st, "alice", NULL, "pw", sub, &why), GH_EREDIS);
    ASSERT_STR_EQ(sub, "untouched");
    ASSERT(u == NULL && list == NULL);
    store_close(st);
    st = NULL;
}

TEST_MAIN(
    TEST_ENTRY(add_then_get_by_username_in_any_case_and_by_sub),
    TEST_ENTRY(duplicate_username_in_other_case_is_refused_and_changes_nothing),
    TEST_ENTRY(invalid_input_is_refused_with_a_reason_and_writes_nothing),
    TEST_ENTRY(set_password_replaces_the_old_one),
    TEST_ENTRY(disable_marks_the_user_disabled),
    TEST_ENTRY(list_is_every_user_oldest_first),
    TEST_ENTRY(claims_follow_the_scope), TEST_ENTRY(redis_down_is_eredis))
