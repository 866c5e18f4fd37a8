/* SPDX-License-Identifier: MIT */
/* grant/scope.c: the scope rules of the token endpoint (strict) and of
 * /authorize (forgiving), over one client's registered scopes. */
#include <stdlib.h>
#include <string.h>

#include "gatehouse/core/error.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/grant/scope.h"
#include "test.h"

static char *names[] = {"openid", "profile", "email", "api:read"};
static struct client crm = {.client_id = "crm", .scopes = {names, 4}};
/* A client registered without openid: /authorize adds it anyway. */
static char *bare_names[] = {"profile"};
static struct client bare = {.client_id = "bare", .scopes = {bare_names, 1}};

/* scope_grant's answer, or NULL with its code in *rc. malloc'd. */
static char *
grant(const char *requested, const struct client *c, const char *within,
      int *rc)
{
    char *out = NULL;

    *rc = scope_grant(requested, c, within, &out);
    if (*rc < 0)
        ASSERT(out == NULL);
    return out;
}

static char *
authorize(const char *requested, const struct client *c, int *rc)
{
    char *out = NULL;

    *rc = scope_authorize(requested, c, &out);
    if (*rc < 0)
        ASSERT(out == NULL);
    return out;
}

TEST(scope_has_matches_whole_names_only)
{
    ASSERT_EQ(scope_has("openid profile", "profile"), 1);
    ASSERT_EQ(scope_has("  openid   profile ", "openid"), 1);
    ASSERT_EQ(scope_has("openid profile", "prof"), 0);
    ASSERT_EQ(scope_has("openid profiles", "profile"), 0);
    ASSERT_EQ(scope_has(NULL, "openid"), 0);
    ASSERT_EQ(scope_has("openid", ""), 0);
}

TEST(grant_without_request_is_all_the_client_may_have)
{
    char *s;
    int rc;

    s = grant(NULL, &crm, NULL, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_EQ(s, "openid profile email api:read");
    free(s);
    /* A refresh without scope keeps what the code granted (RFC 6749 §6). */
    s = grant(NULL, &crm, "openid email", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_EQ(s, "openid email");
    free(s);
}

TEST(grant_refuses_any_name_not_allowed)
{
    char long_name[80];
    int rc;

    ASSERT(grant("openid admin", &crm, NULL, &rc) == NULL);
    ASSERT_EQ(rc, GH_EINVAL);
    ASSERT(grant("prof", &crm, NULL, &rc) == NULL);
    ASSERT_EQ(rc, GH_EINVAL);
    ASSERT(grant("   ", &crm, NULL, &rc) == NULL);
    ASSERT_EQ(rc, GH_EINVAL);
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    ASSERT(grant(long_name, &crm, NULL, &rc) == NULL);
    ASSERT_EQ(rc, GH_EINVAL);
}

TEST(grant_narrows_but_never_widens)
{
    char *s;
    int rc;

    s = grant("email", &crm, "openid email", &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_EQ(s, "email");
    free(s);
    ASSERT(grant("openid profile", &crm, "openid email", &rc) == NULL);
    ASSERT_EQ(rc, GH_EINVAL);
}

TEST(grant_names_each_scope_once_in_the_order_asked)
{
    char *s;
    int rc;

    s = grant("  email openid  email ", &crm, NULL, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_EQ(s, "email openid");
    free(s);
}

TEST(authorize_keeps_what_the_client_may_have)
{
    char *s;
    int rc;

    s = authorize("openid admin profile", &crm, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_EQ(s, "openid profile");
    free(s);
    s = authorize("profile openid", &bare, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_STR_EQ(s, "profile openid");
    free(s);
}

TEST(authorize_requires_openid)
{
    int rc;

    ASSERT(authorize("profile email", &crm, &rc) == NULL);
    ASSERT_EQ(rc, GH_EINVAL);
    ASSERT(authorize("", &crm, &rc) == NULL);
    ASSERT_EQ(rc, GH_EINVAL);
}

TEST_MAIN(TEST_ENTRY(scope_has_matches_whole_names_only),
          TEST_ENTRY(grant_without_request_is_all_the_client_may_have),
          TEST_ENTRY(grant_refuses_any_name_not_allowed),
          TEST_ENTRY(grant_narrows_but_never_widens),
          TEST_ENTRY(grant_names_each_scope_once_in_the_order_asked),
          TEST_ENTRY(authorize_keeps_what_the_client_may_have),
          TEST_ENTRY(authorize_requires_openid))
