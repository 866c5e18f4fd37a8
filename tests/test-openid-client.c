/* SPDX-License-Identifier: MIT */
/* A certified third-party client against a real gatehouse: openid-client
 * (npm, by the author of node-oidc-provider), run by node, does discovery,
 * the code flow with PKCE, state and nonce, validates the ID token, then
 * refreshes and calls userinfo (tests/node/openid-client-flow.mjs). Node
 * and the package are installed by tests/run (npm ci --prefix tests/node);
 * without them this test fails rather than skips. */
#include <libgen.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/world.h"
#include "test.h"

static struct harness *h;

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* tests/node/openid-client-flow.mjs, found beside tests/data (malloc'd). */
static char *
flow_script(void)
{
    const char *data = getenv("TEST_DATA");
    char *copy, *path = NULL;

    if (data == NULL)
        FAIL("TEST_DATA is not set (run through meson test)");
    copy = strdup(data);
    if (asprintf(&path, "%s/node/openid-client-flow.mjs", dirname(copy)) < 0)
        FAIL("asprintf");
    free(copy);
    if (access(path, R_OK) != 0)
        FAIL("%s is missing", path);
    return path;
}

/* Adds a user with an email and a name through the CLI; returns its sub
 * (malloc'd). */
static char *
add_user(const char *username, const char *email, const char *name,
         const char *password)
{
    char *argv[] = {getenv("GATEHOUSE_BIN"),
                    "user",
                    "add",
                    "--config",
                    h->gh.config,
                    "--username",
                    (char *)username,
                    "--email",
                    (char *)email,
                    "--name",
                    (char *)name,
                    "--password-stdin",
                    NULL};
    char *out = NULL, *err = NULL, *pw = NULL;

    if (asprintf(&pw, "%s\n", password) < 0)
        FAIL("asprintf");
    if (run_cmd(argv, pw, &out, &err) != 0)
        FAIL("user add: %s", err ? err : "");
    out[strcspn(out, "\n")] = '\0';
    ASSERT_EQ(strlen(out), 36);
    free(pw);
    free(err);
    return out;
}

/*
 * The whole flow with keys of algs (gh_start's list) in keys_dir; rp_alg,
 * if not NULL, is the ID token alg the library insists on without it being
 * registered. The ID token must come signed with want_alg.
 */
static void
openid_client_flow(const char *algs, const char *rp_alg, const char *want_alg)
{
    char redirect[64], *config = NULL, *script, *sub, *out = NULL;
    char *err = NULL;
    json_t *s, *id, *ui, *rf;
    int rc;

    snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/cb",
             test_free_port());
    if (asprintf(&config,
                 "{\"clients\":[{\"client_id\":\"wiki\","
                 "\"client_secret\":\"wiki-secret\",\"name\":\"Wiki\","
                 "\"redirect_uris\":[\"%s\"],"
                 "\"grant_types\":[\"authorization_code\","
                 "\"refresh_token\"]}]}",
                 redirect) < 0)
        FAIL("asprintf");
    script = flow_script();
    h = world_start(&(struct harness_opts){.alg = algs}, config, NULL);
    sub = add_user("alice", "alice@example.com", "Alice Example",
                   "correct horse");

    /* Through the environment, not argv: a password stays off ps. */
    setenv("ISSUER", h->gh.issuer, 1);
    setenv("CLIENT_ID", "wiki", 1);
    setenv("CLIENT_SECRET", "wiki-secret", 1);
    setenv("REDIRECT_URI", redirect, 1);
    setenv("USERNAME", "alice", 1);
    setenv("PASSWORD", "correct horse", 1);
    if (rp_alg != NULL)
        setenv("ID_TOKEN_ALG", rp_alg, 1);
    else
        unsetenv("ID_TOKEN_ALG");
    {
        char *argv[] = {"node", script, NULL};
        rc = run_cmd(argv, NULL, &out, &err);
    }
    if (rc == 127)
        FAIL("node is not installed: tests/run installs it (nodejs, npm) "
             "and runs npm ci --prefix tests/node");
    if (rc != 0)
        FAIL("openid-client flow failed (exit %d): %s%s", rc, err ? err : "",
             err != NULL && strstr(err, "openid-client") != NULL &&
                     strstr(err, "Cannot find") != NULL
                 ? " (run npm ci --prefix tests/node)"
                 : "");
    if ((s = json_loads(out, 0, NULL)) == NULL)
        FAIL("the flow printed no JSON summary: %s", out);
    fprintf(stderr, "# summary: %s", out);

    /* The library accepted everything; the summary says it was the right
     * user, client and issuer all along. */
    ASSERT_STR_EQ(str(s, "issuer"), h->gh.issuer);
    ASSERT_STR_EQ(str(s, "sub"), sub);
    ASSERT_STR_EQ(str(s, "scope"), "openid profile email");
    ASSERT(str(s, "token_type") != NULL &&
           strcasecmp(str(s, "token_type"), "bearer") == 0);
    ASSERT(json_integer_value(json_object_get(s, "expires_in")) > 0);
    id = json_object_get(s, "id_token");
    ASSERT_STR_EQ(str(id, "alg"), want_alg);
    ASSERT_STR_EQ(str(id, "iss"), h->gh.issuer);
    ASSERT_STR_EQ(str(id, "aud"), "wiki");
    ASSERT_STR_EQ(str(id, "azp"), "wiki");
    ASSERT(str(id, "sid") != NULL && strlen(str(id, "sid")) > 0);
    ASSERT(json_is_true(json_object_get(id, "nonce_matched")));
    ASSERT(json_is_true(json_object_get(id, "at_hash")));
    ASSERT(json_integer_value(json_object_get(id, "auth_time")) > 0);
    /* A password sign-in: amr ["pwd"] (RFC 8176) and its acr. */
    ASSERT_EQ(json_array_size(json_object_get(id, "amr")), 1);
    ASSERT_STR_EQ(json_string_value(
                      json_array_get(json_object_get(id, "amr"), 0)),
                  "pwd");
    ASSERT_STR_EQ(str(id, "acr"), "urn:gatehouse:acr:pwd");
    rf = json_object_get(s, "refresh");
    ASSERT(json_is_true(json_object_get(rf, "rotated")));
    if (json_is_true(json_object_get(rf, "id_token"))) {
        ASSERT_EQ(json_array_size(json_object_get(rf, "amr")), 1);
        ASSERT_STR_EQ(json_string_value(
                          json_array_get(json_object_get(rf, "amr"), 0)),
                      "pwd");
    }
    ui = json_object_get(s, "userinfo");
    ASSERT_STR_EQ(str(ui, "sub"), sub);
    ASSERT_STR_EQ(str(ui, "preferred_username"), "alice");
    ASSERT_STR_EQ(str(ui, "name"), "Alice Example");
    ASSERT_STR_EQ(str(ui, "email"), "alice@example.com");
    ASSERT(json_is_false(json_object_get(ui, "email_verified")));

    json_decref(s);
    free(out);
    free(err);
    free(sub);
    free(script);
    free(config);
    world_stop(&h);
}

TEST(openid_client_signs_in_with_pkce_refreshes_and_reads_userinfo)
{
    /* ES256 only: discovery lists ES256 alone, and the library takes it. */
    openid_client_flow("ES256", NULL, "ES256");
}

/* OpenID conformance EnsureIdTokenSignatureIsRS256, with a real RP: an app
 * that assumes RS256 ID tokens without registering an alg signs in, on a
 * server whose signing_alg is ES256, because its ID tokens default to
 * RS256 when an RS256 key is active (OIDC Registration §2, SPEC §3). */
TEST(openid_client_assuming_rs256_gets_rs256_id_tokens)
{
    openid_client_flow("ES256,RS256", "RS256", "RS256");
}

TEST_MAIN(
    TEST_ENTRY(openid_client_signs_in_with_pkce_refreshes_and_reads_userinfo),
    TEST_ENTRY(openid_client_assuming_rs256_gets_rs256_id_tokens))
