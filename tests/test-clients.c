/* SPDX-License-Identifier: MIT */
/* Client metadata rules (SPEC §3, §7): what is accepted, what is refused and
 * with which field and reason, and the exact-match lookups. */
#include <jansson.h>

#include "gatehouse/directory/clients.h"
#include "gatehouse/core/error.h"

#include "test.h"

/* Tests write JSON with single quotes; this swaps them for double quotes. */
static json_t *
js(const char *text)
{
    char *s = strdup(text), *p;
    json_error_t jerr;
    json_t *v;

    ASSERT(s != NULL);
    for (p = s; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    v = json_loads(s, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        FAIL("bad test JSON %s: %s", s, jerr.text);
    free(s);
    return v;
}

static struct client *
parse_ok(const char *text)
{
    struct field_error err = {0};
    struct client *c = NULL;
    json_t *v = js(text);
    int rc = client_from_json(v, "", &c, &err);

    if (rc != 0)
        FAIL("%s: %s: %s", text, err.field, err.problem);
    json_decref(v);
    return c;
}

/* Asserts text is refused with exactly this field and a problem containing
 * problem, and that *ret is left alone. */
static void
parse_err(const char *text, const char *prefix, const char *field,
          const char *problem)
{
    struct field_error err = {0};
    struct client *c = (struct client *)&err;
    json_t *v = js(text);
    int rc = client_from_json(v, prefix, &c, &err);

    if (rc != GH_EINVAL)
        FAIL("%s: expected GH_EINVAL, got %d", text, rc);
    ASSERT(c == (struct client *)&err);
    ASSERT_STR_EQ(err.field, field);
    ASSERT_CONTAINS(err.problem, problem);
    json_decref(v);
}

#define CRM_OK "'client_id':'crm','client_secret':'s'"
#define CB "'redirect_uris':['http://127.0.0.1:3001/callback']"

TEST(minimal_client_gets_dcr_defaults)
{
    struct client *c = parse_ok("{" CRM_OK "," CB "}");

    ASSERT_STR_EQ(c->client_id, "crm");
    ASSERT_STR_EQ(c->client_secret, "s");
    ASSERT_STR_EQ(c->name, "crm");
    ASSERT_EQ(c->grant_types, GRANT_AUTHORIZATION_CODE);
    ASSERT_EQ(c->auth_method, AUTH_CLIENT_SECRET_BASIC);
    ASSERT_EQ(c->backchannel_logout_session_required, 0);
    ASSERT(c->backchannel_logout_uri == NULL);
    ASSERT_EQ(c->post_logout_redirect_uris.n, 0);
    ASSERT_EQ(c->scopes.n, 3);
    ASSERT_STR_EQ(c->scopes.v[0], "openid");
    ASSERT_STR_EQ(c->scopes.v[1], "profile");
    ASSERT_STR_EQ(c->scopes.v[2], "email");
    client_free(c);
}

TEST(spec_example_client_parses)
{
    struct client *c = parse_ok(
        "{'client_id':'crm','client_secret':'crm-secret','name':'CRM',"
        "'redirect_uris':['http://127.0.0.1:3001/callback'],"
        "'post_logout_redirect_uris':['http://127.0.0.1:3001/'],"
        "'backchannel_logout_uri':'http://127.0.0.1:3001/backchannel-logout',"
        "'backchannel_logout_session_required':true,"
        "'grant_types':['authorization_code','refresh_token'],"
        "'response_types':['code'],"
        "'token_endpoint_auth_method':'client_secret_basic'}");

    ASSERT_STR_EQ(c->name, "CRM");
    ASSERT_STR_EQ(c->post_logout_redirect_uris.v[0], "http://127.0.0.1:3001/");
    ASSERT_STR_EQ(c->backchannel_logout_uri,
                  "http://127.0.0.1:3001/backchannel-logout");
    ASSERT_EQ(c->backchannel_logout_session_required, 1);
    ASSERT_EQ(c->grant_types, GRANT_AUTHORIZATION_CODE | GRANT_REFRESH_TOKEN);
    client_free(c);

    c = parse_ok("{'client_id':'security-console','client_secret':'x',"
                 "'grant_types':['client_credentials'],"
                 "'scopes':['gatehouse:admin']}");
    ASSERT_EQ(c->grant_types, GRANT_CLIENT_CREDENTIALS);
    ASSERT_EQ(c->redirect_uris.n, 0);
    ASSERT_EQ(c->scopes.n, 1);
    ASSERT(client_allows_scope(c, "gatehouse:admin"));
    ASSERT(!client_allows_scope(c, "openid"));
    client_free(c);
}

TEST(public_client_has_no_secret)
{
    struct client *c = parse_ok("{'client_id':'spa'," CB
                                ",'token_endpoint_auth_method':'none'}");

    ASSERT_EQ(c->auth_method, AUTH_NONE);
    ASSERT(c->client_secret == NULL);
    client_free(c);
    parse_err("{'client_id':'spa','client_secret':'s'," CB
              ",'token_endpoint_auth_method':'none'}",
              "", "client_secret", "must not be set");
}

TEST(confidential_client_needs_secret)
{
    parse_err("{'client_id':'crm'," CB "}", "", "client_secret", "is required");
    parse_err("{'client_id':'crm','client_secret':''," CB "}", "",
              "client_secret", "1 to 512");
    parse_err("{'client_id':'crm','client_secret':5," CB "}", "",
              "client_secret", "must be a string");
    parse_err("{'client_id':'crm','client_secret':'a\\u0001b'," CB "}", "",
              "client_secret", "control characters");
}

TEST(public_client_cannot_use_client_credentials)
{
    parse_err("{'client_id':'spa','token_endpoint_auth_method':'none',"
              "'grant_types':['client_credentials']}",
              "", "grant_types", "not allowed with token_endpoint_auth_method");
}

TEST(client_secret_post_is_accepted)
{
    struct client *c =
        parse_ok("{" CRM_OK "," CB
                 ",'token_endpoint_auth_method':'client_secret_post'}");

    ASSERT_EQ(c->auth_method, AUTH_CLIENT_SECRET_POST);
    client_free(c);
    parse_err("{" CRM_OK "," CB
              ",'token_endpoint_auth_method':'private_key_jwt'}",
              "", "token_endpoint_auth_method", "must be client_secret_basic");
}

TEST(client_id_rules)
{
    char text[400], id[130];

    parse_err("{'client_secret':'s'," CB "}", "clients[0].",
              "clients[0].client_id", "is required");
    parse_err("{'client_id':'','client_secret':'s'," CB "}", "", "client_id",
              "1 to 128");
    parse_err("{'client_id':7,'client_secret':'s'," CB "}", "", "client_id",
              "must be a string");
    parse_err("{'client_id':'a b','client_secret':'s'," CB "}", "", "client_id",
              "may contain only");
    parse_err("{'client_id':'a/b','client_secret':'s'," CB "}", "", "client_id",
              "may contain only");
    memset(id, 'a', 129);
    id[129] = '\0';
    snprintf(text, sizeof(text),
             "{'client_id':'%s','client_secret':'s'," CB "}", id);
    parse_err(text, "", "client_id", "1 to 128");
    id[128] = '\0';
    snprintf(text, sizeof(text),
             "{'client_id':'%s','client_secret':'s'," CB "}", id);
    client_free(parse_ok(text));
    client_free(parse_ok("{'client_id':'A-z_0.9','client_secret':'s'," CB "}"));
}

TEST(unknown_key_is_refused_with_prefix)
{
    parse_err("{" CRM_OK "," CB ",'redirect_uri':'http://x/'}", "clients[3].",
              "clients[3].redirect_uri", "unknown key");
    parse_err("{" CRM_OK "," CB ",'logo_uri':'https://x/l.png'}", "",
              "logo_uri", "unknown key");
}

TEST(not_an_object_names_the_entry)
{
    parse_err("['crm']", "clients[2].", "clients[2]", "must be an object");
    parse_err("'crm'", "", "", "must be an object");
}

TEST(wrong_types_are_named)
{
    parse_err("{" CRM_OK "," CB ",'name':5}", "", "name", "must be a string");
    parse_err("{" CRM_OK ",'redirect_uris':'http://x/'}", "", "redirect_uris",
              "must be an array");
    parse_err("{" CRM_OK ",'redirect_uris':['http://x/',5]}", "clients[1].",
              "clients[1].redirect_uris[1]", "must be a string");
    parse_err("{" CRM_OK "," CB
              ",'backchannel_logout_session_required':'true'}",
              "", "backchannel_logout_session_required", "must be a boolean");
    parse_err("{" CRM_OK "," CB ",'backchannel_logout_uri':['https://x/']}", "",
              "backchannel_logout_uri", "must be a string");
    parse_err("{" CRM_OK "," CB ",'grant_types':'authorization_code'}", "",
              "grant_types", "must be an array");
    parse_err("{" CRM_OK "," CB ",'grant_types':[1]}", "", "grant_types[0]",
              "must be a string");
    parse_err("{" CRM_OK "," CB ",'scopes':'openid'}", "", "scopes",
              "must be an array");
    parse_err("{" CRM_OK "," CB ",'scope':['openid']}", "", "scope",
              "must be a string");
    parse_err("{" CRM_OK "," CB ",'token_endpoint_auth_method':null}", "",
              "token_endpoint_auth_method", "must be a string");
}

TEST(redirect_uris_required_for_code_grant)
{
    parse_err("{" CRM_OK "}", "", "redirect_uris",
              "required for the authorization_code grant");
    parse_err("{" CRM_OK ",'redirect_uris':[]}", "", "redirect_uris",
              "required for the authorization_code grant");
    parse_err("{" CRM_OK
              ",'grant_types':['refresh_token','authorization_code']}",
              "", "redirect_uris", "required");
}

TEST(grant_types_checked)
{
    parse_err("{" CRM_OK "," CB ",'grant_types':['implicit']}", "",
              "grant_types[0]", "must be authorization_code");
    parse_err("{" CRM_OK "," CB
              ",'grant_types':['authorization_code','password']}",
              "", "grant_types[1]", "must be authorization_code");
    parse_err("{" CRM_OK "," CB ",'grant_types':[]}", "", "grant_types",
              "must not be empty");
}

TEST(response_types_must_be_code)
{
    client_free(parse_ok("{" CRM_OK "," CB ",'response_types':['code']}"));
    parse_err("{" CRM_OK "," CB ",'response_types':['token']}", "",
              "response_types", "must be [\"code\"]");
    parse_err("{" CRM_OK "," CB ",'response_types':['code','id_token']}", "",
              "response_types", "must be [\"code\"]");
    parse_err("{" CRM_OK "," CB ",'response_types':'code'}", "",
              "response_types", "must be [\"code\"]");
    parse_err("{" CRM_OK "," CB ",'response_types':[]}", "", "response_types",
              "must be [\"code\"]");
}

/* Each refused redirect URI with the reason it gets. */
static const struct {
    const char *uri;
    const char *why;
} bad_redirects[] = {
    {"//evil.example/cb", "must be an absolute http or https URI"},
    {"/callback", "must be an absolute http or https URI"},
    {"http://user@host/", "must not contain userinfo"},
    {"https://app.example@evil.example/", "must not contain userinfo"},
    {"javascript:alert(1)", "scheme must be http or https"},
    {"file:///etc/passwd", "scheme must be http or https"},
    {"ftp://host/", "scheme must be http or https"},
    {"data:text/html,hi", "scheme must be http or https"},
    {"https://app.example/cb#frag", "must not contain a fragment"},
    {"https://app.example/cb#", "must not contain a fragment"},
    {"https://evil.example\\@app.example/", "must not contain a backslash"},
    {"https:\\\\evil.example/", "must not contain a backslash"},
    {"http:app.example/cb", "must have a host"},
    {"https:///cb", "must have a host"},
    {"https://:443/cb", "must have a host"},
    {"https://app.example:0/", "invalid port"},
    {"https://app.example:65536/", "invalid port"},
    {"https://app.example:/", "invalid port"},
    {"https://app.example:8x/", "invalid port"},
    {"https://app example/", "whitespace"},
    {"https://app.example/cb\n", "whitespace"},
    {"https://app.example/\x01", "control characters"},
    {"https://app.example/<script>", "percent-encoded"},
    {"https://app.example/%zz", "malformed percent-encoding"},
    {"https://app.ex\xc3\xa4mple/", "ASCII"},
    {"https://[::1/", "malformed IPv6"},
    {"https://[nothex]/", "malformed IPv6"},
    {"https://app!example/", "invalid host name"},
    {"", "must not be empty"},
};

TEST(bad_redirect_uris_are_refused)
{
    const char *why;
    char long_uri[2100];
    size_t i;

    for (i = 0; i < sizeof(bad_redirects) / sizeof(bad_redirects[0]); i++) {
        why = NULL;
        if (uri_check_redirect(bad_redirects[i].uri, &why) != GH_EINVAL)
            FAIL("accepted %s", bad_redirects[i].uri);
        ASSERT_CONTAINS(why, bad_redirects[i].why);
    }
    ASSERT_EQ(uri_check_redirect(NULL, &why), GH_EINVAL);

    strcpy(long_uri, "https://app.example/");
    memset(long_uri + 20, 'a', 1981);
    long_uri[2001] = '\0';
    ASSERT_EQ(uri_check_redirect(long_uri, &why), GH_EINVAL);
    ASSERT_CONTAINS(why, "at most 2000");
    long_uri[2000] = '\0';
    ASSERT_EQ(uri_check_redirect(long_uri, &why), 0);
}

TEST(bad_redirect_uri_names_its_index)
{
    parse_err("{" CRM_OK ",'redirect_uris':['http://ok/','//evil']}",
              "clients[1].", "clients[1].redirect_uris[1]",
              "must be an absolute");
    parse_err("{" CRM_OK ",'redirect_uris':['http://user@host/']}", "",
              "redirect_uris[0]", "userinfo");
    parse_err("{" CRM_OK ",'redirect_uris':['javascript:alert(1)']}", "",
              "redirect_uris[0]", "scheme must be http or https");
    parse_err("{" CRM_OK ",'redirect_uris':['https://a/cb#x']}", "",
              "redirect_uris[0]", "fragment");
    parse_err("{" CRM_OK ",'redirect_uris':['https://a\\\\b/cb']}", "",
              "redirect_uris[0]", "backslash");
    parse_err("{" CRM_OK "," CB ",'post_logout_redirect_uris':['//evil']}", "",
              "post_logout_redirect_uris[0]", "must be an absolute");
}

TEST(good_redirect_uris_are_accepted)
{
    static const char *const good[] = {
        "http://127.0.0.1:3001/callback",
        "https://app.example.com/cb?x=1&y=%20",
        "https://app.example.com",
        "https://app.example.com?x",
        "http://[::1]:8080/cb",
        "HTTPS://App.Example.COM/Cb",
        "http://localhost/",
        "https://sub_domain.example:443/a/b;c=d/(e)",
    };
    const char *why = NULL;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (uri_check_redirect(good[i], &why) != 0)
            FAIL("refused %s: %s", good[i], why);
}

TEST(backchannel_uri_needs_https_or_loopback)
{
    static const char *const ok[] = {
        "https://crm.example.com/backchannel-logout",
        "http://127.0.0.1:3001/backchannel-logout",
        "http://127.1.2.3/bc",
        "http://localhost:3001/bc",
        "http://LOCALHOST/bc",
        "http://[::1]:3001/bc",
    };
    static const char *const refused[] = {
        "http://crm.example.com/bc",
        "http://10.0.0.5/bc",
        "http://128.0.0.1/bc",
        "http://127.0.0.1.evil.example/bc",
        "http://localhost.evil.example/bc",
        "http://[::2]/bc",
        "http://0.0.0.0/bc",
    };
    const char *why;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (uri_check_backchannel(ok[i], &why) != 0)
            FAIL("refused %s: %s", ok[i], why);
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        why = NULL;
        if (uri_check_backchannel(refused[i], &why) != GH_EINVAL)
            FAIL("accepted %s", refused[i]);
        ASSERT_CONTAINS(why, "must be https (http only on a loopback");
    }
    /* The redirect rules apply too. */
    ASSERT_EQ(uri_check_backchannel("file:///tmp/bc", &why), GH_EINVAL);
    ASSERT_CONTAINS(why, "scheme must be http or https");
    ASSERT_EQ(uri_check_backchannel("https://a/bc#x", &why), GH_EINVAL);
    ASSERT_CONTAINS(why, "fragment");
    ASSERT_EQ(uri_check_backchannel("https://u@a/bc", &why), GH_EINVAL);
    ASSERT_CONTAINS(why, "userinfo");

    parse_err(
        "{" CRM_OK "," CB ",'backchannel_logout_uri':'http://crm.example/bc'}",
        "clients[0].", "clients[0].backchannel_logout_uri", "must be https");
    parse_err("{" CRM_OK "," CB ",'backchannel_logout_uri':'file:///bc'}", "",
              "backchannel_logout_uri", "scheme must be http or https");
}

/*
 * From fuzzing against libcurl's URL parser (tests/fuzz/fuzz-redirect.c):
 * hosts the two parsers spell differently. libcurl normalises numeric
 * IPv4 forms ("127.1", "0x7f.1", "2130706433" all become 127.0.0.1) and
 * IPv6 ("[::0]" becomes "[::]"); we read the former as names, which are
 * never loopback, and compare IPv6 by value, so a plain-http back-channel
 * URI is accepted only when both agree that it stays on this machine.
 */
TEST(backchannel_loopback_agrees_with_libcurl)
{
    static const char *const ok[] = {
        "http://[0:0:0:0:0:0:0:1]/bc", /* ::1, however written */
        "http://[::0001]:3001/bc",
    };
    static const char *const refused[] = {
        "http://127.1/bc",       "http://0x7f.1/bc",
        "http://2130706433/bc",  "http://0177.0.0.1/bc",
        "http://[::0]:8080/bc",  "http://[::]/bc",
        "http://[::ffff:127.0.0.1]/bc",
    };
    const char *why;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (uri_check_backchannel(ok[i], &why) != 0)
            FAIL("refused %s: %s", ok[i], why);
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (uri_check_backchannel(refused[i], &why) != GH_EINVAL)
            FAIL("accepted %s", refused[i]);
    /* As redirect URIs (where the browser goes, not we) they may stand. */
    ASSERT_EQ(uri_check_redirect("http://[::0]:8080/bc", &why), 0);
}

TEST(scopes_checked)
{
    char text[300], name[70];
    struct client *c;

    parse_err("{" CRM_OK "," CB ",'scopes':[]}", "", "scopes",
              "must not be empty");
    parse_err("{" CRM_OK "," CB ",'scopes':['openid','a b']}", "", "scopes[1]",
              "without spaces");
    parse_err("{" CRM_OK "," CB ",'scopes':['']}", "", "scopes[0]", "1 to 64");
    parse_err("{" CRM_OK "," CB ",'scopes':['a\\'b']}", "", "scopes[0]",
              "quotes");
    memset(name, 's', 65);
    name[65] = '\0';
    snprintf(text, sizeof(text), "{" CRM_OK "," CB ",'scopes':['%s']}", name);
    parse_err(text, "", "scopes[0]", "1 to 64");
    name[64] = '\0';
    snprintf(text, sizeof(text), "{" CRM_OK "," CB ",'scopes':['%s']}", name);
    c = parse_ok(text);
    ASSERT(client_allows_scope(c, name));
    client_free(c);
}

/* RFC 7591 spells the scopes as one space-separated "scope" string. */
TEST(dcr_scope_string_is_split)
{
    struct client *c =
        parse_ok("{" CRM_OK "," CB ",'scope':'openid gatehouse:admin'}");

    ASSERT_EQ(c->scopes.n, 2);
    ASSERT_STR_EQ(c->scopes.v[0], "openid");
    ASSERT_STR_EQ(c->scopes.v[1], "gatehouse:admin");
    client_free(c);
    parse_err("{" CRM_OK "," CB ",'scope':'openid  email'}", "", "scope",
              "single spaces");
    parse_err("{" CRM_OK "," CB ",'scope':' openid'}", "", "scope",
              "single spaces");
    parse_err("{" CRM_OK "," CB ",'scope':'openid '}", "", "scope",
              "single spaces");
    parse_err("{" CRM_OK "," CB ",'scope':''}", "", "scope", "single spaces");
    parse_err("{" CRM_OK "," CB ",'scope':'openid','scopes':['openid']}", "",
              "scope", "give only one");
}

TEST(dcr_client_name_is_name)
{
    struct client *c = parse_ok("{" CRM_OK "," CB ",'client_name':'The CRM'}");

    ASSERT_STR_EQ(c->name, "The CRM");
    client_free(c);
    parse_err("{" CRM_OK "," CB ",'client_name':'A','name':'B'}", "",
              "client_name", "give only one");
    parse_err("{" CRM_OK "," CB ",'client_name':''}", "", "client_name",
              "1 to 256");
    parse_err("{" CRM_OK "," CB ",'name':'a\\nb'}", "", "name",
              "control characters");
}

static void
assert_round_trip(const char *text)
{
    struct field_error err = {0};
    struct client *c = parse_ok(text), *back = NULL;
    json_t *j1 = client_to_json(c, true), *j2;

    ASSERT(j1 != NULL);
    if (client_from_json(j1, "", &back, &err) != 0)
        FAIL("%s: %s: %s", text, err.field, err.problem);
    j2 = client_to_json(back, true);
    ASSERT(j2 != NULL);
    if (!json_equal(j1, j2)) {
        char *a = json_dumps(j1, JSON_SORT_KEYS), *b = json_dumps(j2, 0);
        FAIL("round trip differs: %s vs %s", a, b);
    }
    json_decref(j1);
    json_decref(j2);
    client_free(c);
    client_free(back);
}

TEST(to_json_round_trips_through_from_json)
{
    assert_round_trip("{" CRM_OK "," CB "}");
    assert_round_trip(
        "{'client_id':'crm','client_secret':'crm-secret','name':'CRM',"
        "'redirect_uris':['http://127.0.0.1:3001/callback','https://c/x'],"
        "'post_logout_redirect_uris':['http://127.0.0.1:3001/'],"
        "'backchannel_logout_uri':'http://127.0.0.1:3001/backchannel-logout',"
        "'backchannel_logout_session_required':true,"
        "'grant_types':['authorization_code','refresh_token',"
        "'client_credentials'],"
        "'token_endpoint_auth_method':'client_secret_post',"
        "'scopes':['openid','offline']}");
    assert_round_trip("{'client_id':'spa'," CB
                      ",'token_endpoint_auth_method':'none'}");
    assert_round_trip("{'client_id':'svc','client_secret':'x',"
                      "'grant_types':['client_credentials']}");
}

/* OIDC Registration §2: RS256 or ES256, unset by default (the server
 * picks: SPEC §3), anything else refused by name. */
TEST(id_token_signed_response_alg_checked_and_kept)
{
    struct client *c = parse_ok("{" CRM_OK "," CB "}");
    json_t *j;

    ASSERT(c->id_token_alg == NULL);
    client_free(c);
    c = parse_ok("{" CRM_OK "," CB ",'id_token_signed_response_alg':'ES256'}");
    ASSERT_STR_EQ(c->id_token_alg, "ES256");
    /* Registered clients are stored as client_to_json writes them. */
    j = client_to_json(c, false);
    ASSERT_STR_EQ(
        json_string_value(json_object_get(j, "id_token_signed_response_alg")),
        "ES256");
    json_decref(j);
    client_free(c);
    assert_round_trip(
        "{" CRM_OK "," CB ",'id_token_signed_response_alg':'RS256'}");
    parse_err("{" CRM_OK "," CB ",'id_token_signed_response_alg':'HS256'}",
              "clients[2].", "clients[2].id_token_signed_response_alg",
              "must be RS256 or ES256");
    parse_err("{" CRM_OK "," CB ",'id_token_signed_response_alg':'none'}", "",
              "id_token_signed_response_alg", "must be RS256 or ES256");
    parse_err("{" CRM_OK "," CB ",'id_token_signed_response_alg':256}", "",
              "id_token_signed_response_alg", "must be a string");
}

TEST(to_json_uses_dcr_names_and_hides_secret)
{
    struct client *c = parse_ok("{" CRM_OK "," CB ",'name':'CRM'}");
    json_t *j = client_to_json(c, false);

    ASSERT(json_object_get(j, "client_secret") == NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "client_id")), "crm");
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "client_name")), "CRM");
    ASSERT_STR_EQ(
        json_string_value(json_object_get(j, "token_endpoint_auth_method")),
        "client_secret_basic");
    ASSERT(json_is_false(
        json_object_get(j, "backchannel_logout_session_required")));
    ASSERT(json_object_get(j, "backchannel_logout_uri") == NULL);
    ASSERT_STR_EQ(json_string_value(
                      json_array_get(json_object_get(j, "response_types"), 0)),
                  "code");
    ASSERT_STR_EQ(
        json_string_value(json_array_get(json_object_get(j, "grant_types"), 0)),
        "authorization_code");
    json_decref(j);
    j = client_to_json(c, true);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "client_secret")), "s");
    json_decref(j);
    client_free(c);
}

TEST(redirect_matching_is_exact)
{
    struct client *c =
        parse_ok("{" CRM_OK ",'redirect_uris':['https://crm.example/cb?a=1'],"
                 "'post_logout_redirect_uris':['https://crm.example/']}");

    ASSERT_EQ(client_has_redirect_uri(c, "https://crm.example/cb?a=1"), 1);
    ASSERT_EQ(client_has_redirect_uri(c, "https://crm.example/cb"), 0);
    ASSERT_EQ(client_has_redirect_uri(c, "https://crm.example/cb?a=1&b=2"), 0);
    ASSERT_EQ(client_has_redirect_uri(c, "https://CRM.example/cb?a=1"), 0);
    ASSERT_EQ(client_has_redirect_uri(c, "https://crm.example:443/cb?a=1"), 0);
    ASSERT_EQ(client_has_redirect_uri(c, "https://crm.example/cb?a=%31"), 0);
    ASSERT_EQ(client_has_redirect_uri(c, "https://crm.example/cb?a=1/"), 0);
    ASSERT_EQ(client_has_redirect_uri(c, NULL), 0);
    ASSERT_EQ(client_has_post_logout_uri(c, "https://crm.example/"), 1);
    ASSERT_EQ(client_has_post_logout_uri(c, "https://crm.example"), 0);
    ASSERT_EQ(client_has_post_logout_uri(c, "https://crm.example/cb?a=1"), 0);
    ASSERT_EQ(client_allows_scope(c, "openid"), 1);
    ASSERT_EQ(client_allows_scope(c, "OPENID"), 0);
    ASSERT_EQ(client_allows_scope(c, "gatehouse:admin"), 0);
    ASSERT_EQ(client_has_redirect_uri(NULL, "x"), 0);
    client_free(c);
    client_free(NULL);
}

TEST(long_lists_are_refused)
{
    json_t *o = js("{" CRM_OK "," CB "}"), *arr = json_array();
    struct field_error err = {0};
    struct client *c = NULL;
    int i;

    for (i = 0; i < 101; i++)
        json_array_append_new(arr, json_string("openid"));
    json_object_set_new(o, "scopes", arr);
    ASSERT_EQ(client_from_json(o, "", &c, &err), GH_EINVAL);
    ASSERT_STR_EQ(err.field, "scopes");
    ASSERT_CONTAINS(err.problem, "at most 100");
    json_decref(o);
}

TEST(strlist_helpers)
{
    struct strlist l = {0};
    char *v[] = {strdup("a"), strdup("b")};

    ASSERT_EQ(strlist_contains(&l, "a"), 0);
    l.v = malloc(sizeof(v));
    memcpy(l.v, v, sizeof(v));
    l.n = 2;
    ASSERT_EQ(strlist_contains(&l, "b"), 1);
    ASSERT_EQ(strlist_contains(&l, "B"), 0);
    ASSERT_EQ(strlist_contains(&l, NULL), 0);
    strlist_free(&l);
    ASSERT(l.v == NULL);
    ASSERT_EQ(l.n, 0);
    strlist_free(&l);
    strlist_free(NULL);
}

/* SPEC §3: allowed_origins defaults to the origins of the redirect URIs,
 * each once, as browsers serialise them (lower case, no default port). */
TEST(allowed_origins_default_to_redirect_origins)
{
    struct client *c =
        parse_ok("{'client_id':'spa','token_endpoint_auth_method':'none',"
                 "'redirect_uris':['http://127.0.0.1:3001/cb',"
                 "'http://127.0.0.1:3001/silent','HTTPS://App.Example.com:443/"
                 "x?y=1','http://[::1]:8080/cb']}");

    ASSERT_EQ(c->allowed_origins.n, 3);
    ASSERT_STR_EQ(c->allowed_origins.v[0], "http://127.0.0.1:3001");
    ASSERT_STR_EQ(c->allowed_origins.v[1], "https://app.example.com");
    ASSERT_STR_EQ(c->allowed_origins.v[2], "http://[::1]:8080");
    ASSERT_EQ(client_allows_origin(c, "http://127.0.0.1:3001"), 1);
    ASSERT_EQ(client_allows_origin(c, "http://127.0.0.1:3002"), 0);
    ASSERT_EQ(client_allows_origin(c, "http://127.0.0.1:3001/"), 0);
    ASSERT_EQ(client_allows_origin(NULL, "http://127.0.0.1:3001"), 0);
    client_free(c);

    /* Explicit origins replace the default; an empty list allows none. */
    c = parse_ok("{'client_id':'spa','client_secret':'s',"
                 "'redirect_uris':['http://127.0.0.1:3001/cb'],"
                 "'allowed_origins':['https://spa.example.com',"
                 "'http://localhost:5173']}");
    ASSERT_EQ(c->allowed_origins.n, 2);
    ASSERT_EQ(client_allows_origin(c, "http://127.0.0.1:3001"), 0);
    ASSERT_EQ(client_allows_origin(c, "http://localhost:5173"), 1);
    client_free(c);
    c = parse_ok("{'client_id':'spa','client_secret':'s',"
                 "'redirect_uris':['http://127.0.0.1:3001/cb'],"
                 "'allowed_origins':[]}");
    ASSERT_EQ(c->allowed_origins.n, 0);
    client_free(c);
}

TEST(bad_allowed_origins_are_refused)
{
    static const struct {
        const char *origin;
        const char *problem;
    } bad[] = {
        {"*", "no wildcard"},
        {"null", "no wildcard"},
        {"", "must not be empty"},
        {"http://spa.example.com/", "no path or trailing slash"},
        {"http://spa.example.com/app", "no path"},
        {"http://spa.example.com?x=1", "no path"},
        {"http://u@spa.example.com", "as browsers send it"},
        {"HTTP://Spa.Example.com", "lower case"},
        {"https://spa.example.com:443", "no default port"},
        {"http://spa.example.com:80", "no default port"},
        {"http://spa.example.com:0", "invalid port"},
        {"ftp://spa.example.com", "http or https"},
        {"spa.example.com", "http or https"},
        {"http://", "http or https"},
        {"http://b\xc3\xbc" "cher.example", "ASCII"},
        {"http://spa example.com", "ASCII"},
    };
    char text[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "{'client_id':'spa','client_secret':'s',"
                 "'redirect_uris':['http://127.0.0.1:3001/cb'],"
                 "'allowed_origins':['https://ok.example','%s']}",
                 bad[i].origin);
        parse_err(text, "clients[2].", "clients[2].allowed_origins[1]",
                  bad[i].problem);
    }
    parse_err("{'client_id':'spa','client_secret':'s',"
              "'redirect_uris':['http://127.0.0.1:3001/cb'],"
              "'allowed_origins':'https://ok.example'}",
              "", "allowed_origins", "must be an array");
}

TEST(allowed_origins_round_trip_through_json)
{
    struct field_error err;
    struct client *c = parse_ok("{'client_id':'spa','client_secret':'s',"
                                "'redirect_uris':['http://127.0.0.1:3001/cb'],"
                                "'allowed_origins':['https://a.example',"
                                "'http://127.0.0.1:8080']}"),
                  *back = NULL;
    json_t *j = client_to_json(c, true);

    ASSERT_EQ(json_array_size(json_object_get(j, "allowed_origins")), 2);
    ASSERT_EQ(client_from_json(j, "", &back, &err), 0);
    ASSERT_EQ(back->allowed_origins.n, 2);
    ASSERT_STR_EQ(back->allowed_origins.v[1], "http://127.0.0.1:8080");
    json_decref(j);
    client_free(back);
    client_free(c);
}

/* OIDC Front-Channel Logout 1.0 §2: absent by default; the URI follows
 * the redirect URI rules (http allowed anywhere: the front channel is for
 * apps Gatehouse cannot reach); the flag must be a boolean. */
TEST(frontchannel_metadata_checked_and_kept)
{
    struct client *c = parse_ok("{" CRM_OK "," CB "}");

    ASSERT(c->frontchannel_logout_uri == NULL);
    ASSERT_EQ(c->frontchannel_logout_session_required, 0);
    client_free(c);

    c = parse_ok("{" CRM_OK "," CB ",'frontchannel_logout_uri':"
                 "'http://crm.lan:8080/fcl?x=1',"
                 "'frontchannel_logout_session_required':true,"
                 "'backchannel_logout_uri':'https://crm.example/bc'}");
    ASSERT_STR_EQ(c->frontchannel_logout_uri, "http://crm.lan:8080/fcl?x=1");
    ASSERT_EQ(c->frontchannel_logout_session_required, 1);
    ASSERT_STR_EQ(c->backchannel_logout_uri, "https://crm.example/bc");
    client_free(c);

    parse_err("{" CRM_OK "," CB ",'frontchannel_logout_uri':'https://a/f#x'}",
              "clients[0].", "clients[0].frontchannel_logout_uri",
              "must not contain a fragment");
    parse_err("{" CRM_OK "," CB ",'frontchannel_logout_uri':'javascript:x'}",
              "", "frontchannel_logout_uri", "scheme must be http or https");
    parse_err("{" CRM_OK "," CB ",'frontchannel_logout_uri':'/relative'}", "",
              "frontchannel_logout_uri", "absolute");
    parse_err("{" CRM_OK "," CB ",'frontchannel_logout_uri':'https://u@a/f'}",
              "", "frontchannel_logout_uri", "userinfo");
    parse_err("{" CRM_OK "," CB ",'frontchannel_logout_uri':''}", "",
              "frontchannel_logout_uri", "must not be empty");
    parse_err("{" CRM_OK "," CB ",'frontchannel_logout_uri':['https://a/']}",
              "", "frontchannel_logout_uri", "must be a string");
    parse_err("{" CRM_OK "," CB
              ",'frontchannel_logout_session_required':'true'}",
              "", "frontchannel_logout_session_required", "must be a boolean");
    parse_err("{" CRM_OK "," CB ",'frontchannel_logout_session_required':1}",
              "", "frontchannel_logout_session_required", "must be a boolean");
}

TEST(frontchannel_metadata_round_trips_through_json)
{
    struct client *c = parse_ok("{" CRM_OK "," CB "}");
    json_t *j = client_to_json(c, false);

    /* Unset: no URI in the metadata, and the flag's default stated. */
    ASSERT(json_object_get(j, "frontchannel_logout_uri") == NULL);
    ASSERT(json_is_false(
        json_object_get(j, "frontchannel_logout_session_required")));
    json_decref(j);
    client_free(c);
    assert_round_trip("{" CRM_OK "," CB ",'frontchannel_logout_uri':"
                      "'https://crm.example/fcl',"
                      "'frontchannel_logout_session_required':true}");
    assert_round_trip("{" CRM_OK "," CB ",'frontchannel_logout_uri':"
                      "'http://127.0.0.1:3001/fcl'}");
}

TEST_MAIN(TEST_ENTRY(minimal_client_gets_dcr_defaults),
          TEST_ENTRY(id_token_signed_response_alg_checked_and_kept),
          TEST_ENTRY(spec_example_client_parses),
          TEST_ENTRY(public_client_has_no_secret),
          TEST_ENTRY(confidential_client_needs_secret),
          TEST_ENTRY(public_client_cannot_use_client_credentials),
          TEST_ENTRY(client_secret_post_is_accepted),
          TEST_ENTRY(client_id_rules),
          TEST_ENTRY(unknown_key_is_refused_with_prefix),
          TEST_ENTRY(not_an_object_names_the_entry),
          TEST_ENTRY(wrong_types_are_named),
          TEST_ENTRY(redirect_uris_required_for_code_grant),
          TEST_ENTRY(grant_types_checked),
          TEST_ENTRY(response_types_must_be_code),
          TEST_ENTRY(bad_redirect_uris_are_refused),
          TEST_ENTRY(bad_redirect_uri_names_its_index),
          TEST_ENTRY(good_redirect_uris_are_accepted),
          TEST_ENTRY(backchannel_uri_needs_https_or_loopback),
          TEST_ENTRY(backchannel_loopback_agrees_with_libcurl),
          TEST_ENTRY(scopes_checked), TEST_ENTRY(dcr_scope_string_is_split),
          TEST_ENTRY(dcr_client_name_is_name),
          TEST_ENTRY(to_json_round_trips_through_from_json),
          TEST_ENTRY(to_json_uses_dcr_names_and_hides_secret),
          TEST_ENTRY(redirect_matching_is_exact),
          TEST_ENTRY(long_lists_are_refused), TEST_ENTRY(strlist_helpers),
          TEST_ENTRY(allowed_origins_default_to_redirect_origins),
          TEST_ENTRY(bad_allowed_origins_are_refused),
          TEST_ENTRY(allowed_origins_round_trip_through_json),
          TEST_ENTRY(frontchannel_metadata_checked_and_kept),
          TEST_ENTRY(frontchannel_metadata_round_trips_through_json))
