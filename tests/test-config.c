/* SPDX-License-Identifier: MIT */
/* The config file (SPEC §3): defaults, every refusal with its own field and
 * problem, redis URLs, Sentinel, the environment override and paths. */
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gatehouse/cli/config.h"
#include "gatehouse/core/config.h"
#include "gatehouse/directory/clients.h"
#include "gatehouse/core/error.h"

#include "test.h"

#define ISSUER "'issuer':'http://127.0.0.1:8080'"

/* Each test decides the environment it runs in; a stray value from the
 * shell running the tests must not change what they see. */
__attribute__((constructor)) static void
clean_environment(void)
{
    unsetenv("GATEHOUSE_REDIS_URL");
}

/* Tests write JSON with single quotes; this swaps them for double quotes. */
static char *
dq(const char *text)
{
    char *s = strdup(text), *p;

    ASSERT(s != NULL);
    for (p = s; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static struct config *
parse_ok(const char *text, const char *dir)
{
    struct field_error err = {0};
    struct config *cfg = NULL;
    char *s = dq(text);

    if (config_parse(s, dir, &cfg, &err) != 0)
        FAIL("%s: %s: %s", s, err.field, err.problem);
    free(s);
    return cfg;
}

/* Asserts text is refused with exactly this field and a problem containing
 * problem, and that *ret is left alone. */
static void
parse_err(const char *text, const char *field, const char *problem)
{
    struct field_error err = {0};
    struct config *cfg = (struct config *)&err;
    char *s = dq(text);
    int rc = config_parse(s, "/etc/gatehouse", &cfg, &err);

    if (rc != GH_EINVAL)
        FAIL("%s: expected GH_EINVAL, got %d", s, rc);
    ASSERT(cfg == (struct config *)&err);
    ASSERT_STR_EQ(err.field, field);
    ASSERT_CONTAINS(err.problem, problem);
    free(s);
}

TEST(minimal_config_gets_defaults)
{
    struct config *cfg = parse_ok("{" ISSUER "}", "/etc/gatehouse");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    ASSERT_STR_EQ(cfg->issuer, "http://127.0.0.1:8080");
    ASSERT_EQ(cfg->issuer_https, 0);
    ASSERT_STR_EQ(cfg->dir, "/etc/gatehouse");
    ASSERT_STR_EQ(cfg->listen_address, "127.0.0.1");
    ASSERT_EQ(cfg->listen_port, 8080);
    /* Four per core: a handler's thread waits on Redis. */
    cpus = cpus < 1 ? 4 : cpus * 4;
    ASSERT_EQ(cfg->listen_threads, cpus > 256 ? 256 : cpus);
    ASSERT_EQ(cfg->listen_timeout_s, 30);
    ASSERT_STR_EQ(cfg->redis.url, "redis://127.0.0.1:6379/0");
    ASSERT_STR_EQ(cfg->redis.prefix, "gh:");
    ASSERT_STR_EQ(cfg->redis.host, "127.0.0.1");
    ASSERT_EQ(cfg->redis.port, 6379);
    ASSERT_EQ(cfg->redis.db, 0);
    ASSERT(cfg->redis.unix_path == NULL);
    ASSERT(cfg->redis.password == NULL);
    ASSERT(cfg->redis.sentinel_master == NULL);
    ASSERT_STR_EQ(cfg->keys_dir, "/etc/gatehouse/keys");
    ASSERT_STR_EQ(cfg->signing_alg, "RS256");
    ASSERT_EQ(cfg->session_idle_timeout_s, 1800);
    ASSERT_EQ(cfg->session_absolute_timeout_s, 43200);
    ASSERT_EQ(cfg->code_ttl_s, 60);
    ASSERT_EQ(cfg->access_token_ttl_s, 300);
    ASSERT_EQ(cfg->id_token_ttl_s, 300);
    ASSERT_EQ(cfg->refresh_token_ttl_s, 86400);
    ASSERT_EQ(cfg->refresh_reuse_grace_s, 30);
    ASSERT_EQ(cfg->backchannel_timeout_ms, 5000);
    ASSERT_EQ(cfg->backchannel_max_attempts, 8);
    ASSERT_EQ(cfg->backchannel_concurrency, 64);
    ASSERT_EQ(cfg->backchannel_per_app_concurrency, 8);
    ASSERT_EQ(cfg->backchannel_logout_wait_ms, 1000);
    ASSERT_EQ(cfg->login_max_failures, 5);
    ASSERT_EQ(cfg->login_lockout_s, 300);
    ASSERT_EQ(cfg->login_reauth_window_s, 300);
    ASSERT_EQ(cfg->nclients, 0);
    ASSERT(client_in_config(cfg, "crm") == NULL);
    config_free(cfg);
}

static const char spec_example[] =
    "{'issuer':'https://sso.example.com',"
    "'listen':{'address':'0.0.0.0','port':9000,'threads':3,'timeout_s':10},"
    "'redis':{'url':'redis://:pw@10.0.0.2:6380/2','prefix':'sso:'},"
    "'keys_dir':'/var/lib/gatehouse/keys','signing_alg':'ES256',"
    "'session':{'idle_timeout_s':600,'absolute_timeout_s':3600},"
    "'tokens':{'code_ttl_s':30,'access_token_ttl_s':120,'id_token_ttl_s':"
    "180,'refresh_token_ttl_s':7200,'refresh_reuse_grace_s':10},"
    "'backchannel':{'timeout_ms':2000,'max_attempts':3,'concurrency':16,"
    "'per_app_concurrency':4,'logout_wait_ms':0},"
    "'login':{'max_failures':10,'lockout_s':60},"
    "'clients':["
    "{'client_id':'crm','client_secret':'crm-secret','name':'CRM',"
    "'redirect_uris':['http://127.0.0.1:3001/callback'],"
    "'post_logout_redirect_uris':['http://127.0.0.1:3001/'],"
    "'backchannel_logout_uri':'http://127.0.0.1:3001/backchannel-logout',"
    "'backchannel_logout_session_required':true,"
    "'frontchannel_logout_uri':'http://crm.lan/fcl',"
    "'frontchannel_logout_session_required':true,"
    "'grant_types':['authorization_code','refresh_token'],"
    "'token_endpoint_auth_method':'client_secret_basic'},"
    "{'client_id':'security-console','client_secret':'x',"
    "'grant_types':['client_credentials'],'scopes':['gatehouse:admin']}]}";

TEST(every_setting_is_read)
{
    struct config *cfg = parse_ok(spec_example, "/etc/gatehouse");
    const struct client *c;

    ASSERT_EQ(cfg->issuer_https, 1);
    ASSERT_STR_EQ(cfg->listen_address, "0.0.0.0");
    ASSERT_EQ(cfg->listen_port, 9000);
    ASSERT_EQ(cfg->listen_threads, 3);
    ASSERT_EQ(cfg->listen_timeout_s, 10);
    ASSERT_STR_EQ(cfg->redis.prefix, "sso:");
    ASSERT_STR_EQ(cfg->redis.host, "10.0.0.2");
    ASSERT_EQ(cfg->redis.port, 6380);
    ASSERT_EQ(cfg->redis.db, 2);
    ASSERT_STR_EQ(cfg->redis.password, "pw");
    ASSERT_STR_EQ(cfg->keys_dir, "/var/lib/gatehouse/keys");
    ASSERT_STR_EQ(cfg->signing_alg, "ES256");
    ASSERT_EQ(cfg->session_idle_timeout_s, 600);
    ASSERT_EQ(cfg->session_absolute_timeout_s, 3600);
    ASSERT_EQ(cfg->code_ttl_s, 30);
    ASSERT_EQ(cfg->access_token_ttl_s, 120);
    ASSERT_EQ(cfg->id_token_ttl_s, 180);
    ASSERT_EQ(cfg->refresh_token_ttl_s, 7200);
    ASSERT_EQ(cfg->refresh_reuse_grace_s, 10);
    ASSERT_EQ(cfg->backchannel_timeout_ms, 2000);
    ASSERT_EQ(cfg->backchannel_max_attempts, 3);
    ASSERT_EQ(cfg->backchannel_concurrency, 16);
    ASSERT_EQ(cfg->backchannel_per_app_concurrency, 4);
    ASSERT_EQ(cfg->backchannel_logout_wait_ms, 0);
    ASSERT_EQ(cfg->login_max_failures, 10);
    ASSERT_EQ(cfg->login_lockout_s, 60);
    ASSERT_EQ(cfg->nclients, 2);
    c = client_in_config(cfg, "crm");
    ASSERT(c != NULL);
    ASSERT_STR_EQ(c->name, "CRM");
    ASSERT_EQ(c->backchannel_logout_session_required, 1);
    ASSERT_STR_EQ(c->frontchannel_logout_uri, "http://crm.lan/fcl");
    ASSERT_EQ(c->frontchannel_logout_session_required, 1);
    c = client_in_config(cfg, "security-console");
    ASSERT(c != NULL);
    ASSERT(c->frontchannel_logout_uri == NULL);
    ASSERT_EQ(c->frontchannel_logout_session_required, 0);
    ASSERT(client_allows_scope(c, "gatehouse:admin"));
    ASSERT(client_in_config(cfg, "CRM") == NULL);
    ASSERT(client_in_config(cfg, NULL) == NULL);
    config_free(cfg);
    config_free(NULL);
}

TEST(issuer_rules)
{
    parse_err("{}", "issuer", "is required");
    parse_err("{'issuer':5}", "issuer", "must be a string");
    parse_err("{'issuer':'sso.example.com'}", "issuer",
              "must be an absolute http or https URI");
    parse_err("{'issuer':'ftp://sso.example.com'}", "issuer",
              "scheme must be http or https");
    parse_err("{'issuer':'https://sso.example.com/'}", "issuer",
              "must not end with a slash");
    parse_err("{'issuer':'https://sso.example.com/realm/'}", "issuer",
              "must not end with a slash");
    parse_err("{'issuer':'https://sso.example.com?x=1'}", "issuer",
              "must not contain a query");
    parse_err("{'issuer':'https://sso.example.com#x'}", "issuer",
              "must not contain a fragment");
    parse_err("{'issuer':'https://u@sso.example.com'}", "issuer", "userinfo");

    struct config *cfg =
        parse_ok("{'issuer':'https://sso.example.com/realm'}", NULL);
    ASSERT_EQ(cfg->issuer_https, 1);
    config_free(cfg);
}

TEST(unknown_keys_are_refused_at_every_level)
{
    parse_err("{" ISSUER ",'isuer':'x'}", "isuer", "unknown key");
    parse_err("{" ISSUER ",'listen':{'prot':1}}", "listen.prot", "unknown key");
    parse_err("{" ISSUER ",'redis':{'urll':'redis://h'}}", "redis.urll",
              "unknown key");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "['h:1'],'pasword':'x'}}}",
              "redis.sentinel.pasword", "unknown key");
    parse_err("{" ISSUER ",'session':{'idle_timeout':5}}",
              "session.idle_timeout", "unknown key");
    parse_err("{" ISSUER ",'tokens':{'code_ttl':5}}", "tokens.code_ttl",
              "unknown key");
    parse_err("{" ISSUER ",'tokens':{'refresh_grace_s':5}}",
              "tokens.refresh_grace_s", "unknown key");
    parse_err("{" ISSUER ",'backchannel':{'retries':5}}", "backchannel.retries",
              "unknown key");
    parse_err("{" ISSUER ",'login':{'lockout':5}}", "login.lockout",
              "unknown key");
    parse_err("{" ISSUER ",'clients':[{'client_id':'a','client_secret':'s',"
              "'redirect_uri':'http://a/'}]}",
              "clients[0].redirect_uri", "unknown key");
}

TEST(wrong_types_are_refused)
{
    parse_err("{" ISSUER ",'listen':{'port':'8080'}}", "listen.port",
              "must be an integer");
    parse_err("{" ISSUER ",'listen':{'port':8080.0}}", "listen.port",
              "must be an integer");
    parse_err("{" ISSUER ",'listen':{'port':true}}", "listen.port",
              "must be an integer");
    parse_err("{" ISSUER ",'listen':{'port':null}}", "listen.port",
              "must be an integer");
    parse_err("{" ISSUER ",'listen':{'timeout_s':0}}", "listen.timeout_s",
              "must be between 1 and 3600");
    parse_err("{" ISSUER ",'session':{'idle_timeout_s':1.5}}",
              "session.idle_timeout_s", "must be an integer");
    parse_err("{" ISSUER ",'listen':{'address':1}}", "listen.address",
              "must be a string");
    parse_err("{" ISSUER ",'listen':{'address':''}}", "listen.address",
              "host name or IP address");
    parse_err("{" ISSUER ",'listen':8080}", "listen", "must be an object");
    parse_err("{" ISSUER ",'session':[]}", "session", "must be an object");
    parse_err("{" ISSUER ",'redis':'redis://h'}", "redis", "must be an object");
    parse_err("{" ISSUER ",'redis':{'url':6379}}", "redis.url",
              "must be a string");
    parse_err("{" ISSUER ",'redis':{'prefix':1}}", "redis.prefix",
              "must be a string");
    parse_err("{" ISSUER ",'keys_dir':5}", "keys_dir", "must be a string");
    parse_err("{" ISSUER ",'keys_dir':''}", "keys_dir", "must not be empty");
    parse_err("{" ISSUER ",'signing_alg':256}", "signing_alg",
              "must be a string");
    parse_err("{" ISSUER ",'clients':{}}", "clients", "must be an array");
    parse_err("{" ISSUER ",'clients':['crm']}", "clients[0]",
              "must be an object");
}

/* Every integer setting, one step outside each of its bounds. */
static const struct {
    const char *section, *key;
    long long below, above;
    const char *problem;
} ranges[] = {
    {"listen", "port", 0, 65536, "between 1 and 65535"},
    {"listen", "threads", 0, 257, "between 1 and 256"},
    {"session", "idle_timeout_s", 0, 31536001, "between 1 and 31536000"},
    {"session", "absolute_timeout_s", 0, 31536001, "between 1 and 31536000"},
    {"tokens", "code_ttl_s", 0, 601, "between 1 and 600"},
    {"tokens", "access_token_ttl_s", 0, 31536001, "between 1 and 31536000"},
    {"tokens", "id_token_ttl_s", -1, 31536001, "between 1 and 31536000"},
    {"tokens", "refresh_token_ttl_s", 0, 31536001, "between 1 and 31536000"},
    {"tokens", "refresh_reuse_grace_s", -1, 301, "between 0 and 300"},
    {"backchannel", "timeout_ms", 99, 600001, "between 100 and 600000"},
    {"backchannel", "max_attempts", 0, 101, "between 1 and 100"},
    {"backchannel", "concurrency", 0, 10001, "between 1 and 10000"},
    {"backchannel", "per_app_concurrency", 0, 10001, "between 1 and 10000"},
    {"backchannel", "logout_wait_ms", -1, 30001, "between 0 and 30000"},
    {"login", "max_failures", 0, 1001, "between 1 and 1000"},
    {"login", "lockout_s", 0, 31536001, "between 1 and 31536000"},
    {"login", "reauth_window_s", 0, 31536001, "between 1 and 31536000"},
};

TEST(every_integer_is_range_checked)
{
    char text[200], field[64];
    size_t i;

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        snprintf(field, sizeof(field), "%s.%s", ranges[i].section,
                 ranges[i].key);
        snprintf(text, sizeof(text), "{" ISSUER ",'%s':{'%s':%lld}}",
                 ranges[i].section, ranges[i].key, ranges[i].below);
        parse_err(text, field, ranges[i].problem);
        snprintf(text, sizeof(text), "{" ISSUER ",'%s':{'%s':%lld}}",
                 ranges[i].section, ranges[i].key, ranges[i].above);
        parse_err(text, field, ranges[i].problem);
    }
    /* Beyond what an int holds must not wrap into range. */
    parse_err("{" ISSUER ",'listen':{'port':4294975576}}", "listen.port",
              "between 1 and 65535");
}

TEST(bounds_themselves_are_accepted)
{
    struct config *cfg =
        parse_ok("{" ISSUER ",'listen':{'port':65535,'threads':256},"
                 "'session':{'idle_timeout_s':1,'absolute_timeout_s':31536000},"
                 "'tokens':{'code_ttl_s':600,'refresh_reuse_grace_s':0},"
                 "'backchannel':{'timeout_ms':100,"
                 "'logout_wait_ms':0,'concurrency':10000,'max_attempts':100},"
                 "'login':{'max_failures':1,'lockout_s':1}}",
                 NULL);

    ASSERT_EQ(cfg->listen_port, 65535);
    ASSERT_EQ(cfg->listen_threads, 256);
    ASSERT_EQ(cfg->session_idle_timeout_s, 1);
    ASSERT_EQ(cfg->refresh_reuse_grace_s, 0);
    ASSERT_EQ(cfg->backchannel_logout_wait_ms, 0);
    config_free(cfg);
}

TEST(idle_timeout_cannot_exceed_absolute)
{
    struct config *cfg;

    parse_err("{" ISSUER ",'session':{'idle_timeout_s':601,"
              "'absolute_timeout_s':600}}",
              "session.idle_timeout_s", "must not exceed");
    /* Against the default absolute timeout too. */
    parse_err("{" ISSUER ",'session':{'idle_timeout_s':43201}}",
              "session.idle_timeout_s", "must not exceed");
    cfg = parse_ok("{" ISSUER ",'session':{'idle_timeout_s':600,"
                   "'absolute_timeout_s':600}}",
                   NULL);
    config_free(cfg);
}

TEST(signing_alg_is_rs256_or_es256)
{
    struct config *cfg = parse_ok("{" ISSUER ",'signing_alg':'ES256'}", NULL);

    ASSERT_STR_EQ(cfg->signing_alg, "ES256");
    config_free(cfg);
    parse_err("{" ISSUER ",'signing_alg':'HS256'}", "signing_alg",
              "must be RS256 or ES256");
    parse_err("{" ISSUER ",'signing_alg':'es256'}", "signing_alg",
              "must be RS256 or ES256");
}

TEST(redis_prefix_rules)
{
    struct config *cfg =
        parse_ok("{" ISSUER ",'redis':{'prefix':'app1:'}}", NULL);

    ASSERT_STR_EQ(cfg->redis.prefix, "app1:");
    config_free(cfg);
    parse_err("{" ISSUER ",'redis':{'prefix':''}}", "redis.prefix", "1 to 32");
    parse_err("{" ISSUER ",'redis':{'prefix':'"
              "123456789012345678901234567890123'}}",
              "redis.prefix", "1 to 32");
    parse_err("{" ISSUER ",'redis':{'prefix':'g h:'}}", "redis.prefix",
              "whitespace");
    parse_err("{" ISSUER ",'redis':{'prefix':'gh:\\t'}}", "redis.prefix",
              "whitespace");
}

static const struct {
    const char *url;
    const char *host, *path, *password;
    int port, db;
} good_urls[] = {
    {"redis://localhost", "localhost", NULL, NULL, 6379, 0},
    {"redis://localhost/", "localhost", NULL, NULL, 6379, 0},
    {"redis://10.0.0.1:6380/15", "10.0.0.1", NULL, NULL, 6380, 15},
    {"redis://:s3cret@h:1/1", "h", NULL, "s3cret", 1, 1},
    {"redis://:p%40ss%2Fw@h", "h", NULL, "p@ss/w", 6379, 0},
    {"redis://:a@b/c@h/3", "h", NULL, "a@b/c", 6379, 3},
    {"redis://[::1]:7000/2", "::1", NULL, NULL, 7000, 2},
    {"redis://[::1]", "::1", NULL, NULL, 6379, 0},
    {"unix:///run/redis/redis.sock", NULL, "/run/redis/redis.sock", NULL, 0, 0},
    {"unix:///tmp/r.sock?db=7", NULL, "/tmp/r.sock", NULL, 0, 7},
};

TEST(redis_url_forms_are_parsed)
{
    const char *why = NULL;
    size_t i;

    for (i = 0; i < sizeof(good_urls) / sizeof(good_urls[0]); i++) {
        struct redis_config rc = {0};

        if (config_parse_redis_url(good_urls[i].url, &rc, &why) != 0)
            FAIL("%s: %s", good_urls[i].url, why);
        if (good_urls[i].host != NULL)
            ASSERT_STR_EQ(rc.host, good_urls[i].host);
        else
            ASSERT(rc.host == NULL);
        if (good_urls[i].path != NULL)
            ASSERT_STR_EQ(rc.unix_path, good_urls[i].path);
        else
            ASSERT(rc.unix_path == NULL);
        if (good_urls[i].password != NULL)
            ASSERT_STR_EQ(rc.password, good_urls[i].password);
        else
            ASSERT(rc.password == NULL);
        ASSERT_EQ(rc.port, good_urls[i].port);
        ASSERT_EQ(rc.db, good_urls[i].db);
        /* Parsing again replaces (and frees) what the first parse set. */
        ASSERT_EQ(config_parse_redis_url("redis://other", &rc, &why), 0);
        ASSERT_STR_EQ(rc.host, "other");
        ASSERT(rc.unix_path == NULL && rc.password == NULL);
        free(rc.host);
    }
}

static const struct {
    const char *url;
    const char *why;
} bad_urls[] = {
    {"", "is empty"},
    {"http://localhost:6379", "must be redis://"},
    {"localhost:6379", "must be redis://"},
    {"redis:/localhost", "must be redis://"},
    {"rediss://localhost", "TLS (rediss://) is not supported"},
    {"redis://", "has no host"},
    {"redis://:6379/0", "has no host"},
    {"redis://:pw@", "has no host"},
    {"redis://h:0", "port must be 1 to 65535"},
    {"redis://h:65536", "port must be 1 to 65535"},
    {"redis://h:", "port must be 1 to 65535"},
    {"redis://h:63x9", "port must be 1 to 65535"},
    {"redis://[::1", "malformed IPv6"},
    {"redis://[::1]x", "port must be 1 to 65535"},
    {"redis://h/16", "database must be 0 to 15"},
    {"redis://h/-1", "database must be 0 to 15"},
    {"redis://h/x", "database must be 0 to 15"},
    {"redis://h/1/2", "database must be 0 to 15"},
    {"redis://h?db=1", "query parameters are not supported"},
    {"redis://user:pw@h", "usernames are not supported"},
    {"redis://pw@h", "usernames are not supported"},
    {"redis://:@h", "empty password"},
    {"redis://h h", "whitespace"},
    {"unix://relative/sock", "must be unix:///absolute/path"},
    {"unix:/tmp/sock", "must be redis://"},
    {"unix:///", "has no socket path"},
    {"unix:///tmp/sock?db=16", "database must be 0 to 15"},
    {"unix:///tmp/sock?db=", "database must be 0 to 15"},
    {"unix:///tmp/sock?timeout=1", "takes only the db parameter"},
};

TEST(bad_redis_urls_say_why)
{
    struct redis_config rc = {0};
    const char *why;
    size_t i;

    for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        why = NULL;
        if (config_parse_redis_url(bad_urls[i].url, &rc, &why) != GH_EINVAL)
            FAIL("accepted %s", bad_urls[i].url);
        ASSERT_CONTAINS(why, bad_urls[i].why);
        /* Never clobbered on failure. */
        ASSERT(rc.host == NULL && rc.unix_path == NULL && rc.password == NULL);
        ASSERT_EQ(rc.port, 0);
    }
    ASSERT_EQ(config_parse_redis_url(NULL, &rc, &why), GH_EINVAL);
    ASSERT_EQ(config_parse_redis_url("nope", &rc, NULL), GH_EINVAL);
}

TEST(bad_redis_url_in_file_names_redis_url)
{
    parse_err("{" ISSUER ",'redis':{'url':'redis://h:99999'}}", "redis.url",
              "port must be 1 to 65535");
    parse_err("{" ISSUER ",'redis':{'url':'tcp://h'}}", "redis.url",
              "must be redis://");
}

TEST(unix_socket_url_in_file)
{
    struct config *cfg = parse_ok(
        "{" ISSUER ",'redis':{'url':'unix:///run/r.sock?db=3'}}", NULL);

    ASSERT_STR_EQ(cfg->redis.url, "unix:///run/r.sock?db=3");
    ASSERT_STR_EQ(cfg->redis.unix_path, "/run/r.sock");
    ASSERT(cfg->redis.host == NULL);
    ASSERT_EQ(cfg->redis.db, 3);
    config_free(cfg);
}

#define SENTINEL                                                               \
    "'sentinel':{'master':'gatehouse','addresses':['10.0.0.5:26379',"          \
    "'[fd00::6]:26379','sentinel-3:26380']}"

TEST(sentinel_replaces_url)
{
    struct config *cfg = parse_ok("{" ISSUER ",'redis':{" SENTINEL "}}", NULL);

    ASSERT(cfg->redis.url == NULL);
    ASSERT_STR_EQ(cfg->redis.sentinel_master, "gatehouse");
    ASSERT_EQ(cfg->redis.sentinel_addresses.n, 3);
    ASSERT_STR_EQ(cfg->redis.sentinel_addresses.v[0], "10.0.0.5:26379");
    ASSERT_STR_EQ(cfg->redis.sentinel_addresses.v[1], "[fd00::6]:26379");
    ASSERT_STR_EQ(cfg->redis.sentinel_addresses.v[2], "sentinel-3:26380");
    config_free(cfg);
}

TEST(sentinel_and_url_together_are_refused)
{
    parse_err("{" ISSUER ",'redis':{'url':'redis://h'," SENTINEL "}}",
              "redis.sentinel", "cannot be combined with redis.url");
}

TEST(sentinel_rules)
{
    parse_err("{" ISSUER ",'redis':{'sentinel':[]}}", "redis.sentinel",
              "must be an object");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'addresses':['h:1']}}}",
              "redis.sentinel.master", "is required");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':1,'addresses':"
              "['h:1']}}}",
              "redis.sentinel.master", "must be a string");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'','addresses':"
              "['h:1']}}}",
              "redis.sentinel.master", "non-empty");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m'}}}",
              "redis.sentinel.addresses", "is required");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "[]}}}",
              "redis.sentinel.addresses", "must not be empty");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "'h:1'}}}",
              "redis.sentinel.addresses", "must be an array");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "['h:1',2]}}}",
              "redis.sentinel.addresses[1]", "must be a string");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "['h:1','h']}}}",
              "redis.sentinel.addresses[1]", "must be host:port");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "['h:0']}}}",
              "redis.sentinel.addresses[0]", "must be host:port");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "[':26379']}}}",
              "redis.sentinel.addresses[0]", "must be host:port");
    parse_err("{" ISSUER ",'redis':{'sentinel':{'master':'m','addresses':"
              "['::1:26379']}}}",
              "redis.sentinel.addresses[0]", "must be host:port");
}

TEST(env_redis_url_overrides_file)
{
    struct config *cfg;

    setenv("GATEHOUSE_REDIS_URL", "unix:///tmp/gh-test.sock?db=4", 1);
    cfg =
        parse_ok("{" ISSUER ",'redis':{'url':'redis://file-host:1/1'}}", NULL);
    ASSERT_STR_EQ(cfg->redis.url, "unix:///tmp/gh-test.sock?db=4");
    ASSERT_STR_EQ(cfg->redis.unix_path, "/tmp/gh-test.sock");
    ASSERT(cfg->redis.host == NULL);
    ASSERT_EQ(cfg->redis.db, 4);
    config_free(cfg);

    /* It replaces Sentinel too. */
    setenv("GATEHOUSE_REDIS_URL", "redis://env-host:7000", 1);
    cfg = parse_ok("{" ISSUER ",'redis':{" SENTINEL "}}", NULL);
    ASSERT_STR_EQ(cfg->redis.url, "redis://env-host:7000");
    ASSERT_STR_EQ(cfg->redis.host, "env-host");
    ASSERT_EQ(cfg->redis.port, 7000);
    ASSERT(cfg->redis.sentinel_master == NULL);
    ASSERT_EQ(cfg->redis.sentinel_addresses.n, 0);
    config_free(cfg);

    /* And the defaults. */
    cfg = parse_ok("{" ISSUER "}", NULL);
    ASSERT_STR_EQ(cfg->redis.host, "env-host");
    config_free(cfg);

    setenv("GATEHOUSE_REDIS_URL", "redis://env-host:0", 1);
    parse_err("{" ISSUER "}", "GATEHOUSE_REDIS_URL", "port must be 1 to 65535");

    /* Empty counts as unset. */
    setenv("GATEHOUSE_REDIS_URL", "", 1);
    cfg = parse_ok("{" ISSUER "}", NULL);
    ASSERT_STR_EQ(cfg->redis.host, "127.0.0.1");
    config_free(cfg);
    unsetenv("GATEHOUSE_REDIS_URL");
}

TEST(relative_keys_dir_resolves_against_config_dir)
{
    struct config *cfg;

    cfg = parse_ok("{" ISSUER ",'keys_dir':'signing'}", "/srv/gh");
    ASSERT_STR_EQ(cfg->keys_dir, "/srv/gh/signing");
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'keys_dir':'../shared/keys'}", "/srv/gh");
    ASSERT_STR_EQ(cfg->keys_dir, "/srv/gh/../shared/keys");
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'keys_dir':'/var/lib/gh/keys'}", "/srv/gh");
    ASSERT_STR_EQ(cfg->keys_dir, "/var/lib/gh/keys");
    config_free(cfg);
}

TEST(duplicate_client_id_is_refused)
{
    parse_err("{" ISSUER ",'clients':["
              "{'client_id':'crm','client_secret':'a','redirect_uris':"
              "['http://127.0.0.1:3001/cb']},"
              "{'client_id':'sales','client_secret':'b','redirect_uris':"
              "['http://127.0.0.1:3002/cb']},"
              "{'client_id':'crm','client_secret':'c','redirect_uris':"
              "['http://127.0.0.1:3003/cb']}]}",
              "clients[2].client_id", "duplicate client_id (also clients[0])");
}

TEST(client_errors_carry_their_path)
{
    parse_err("{" ISSUER ",'clients':["
              "{'client_id':'crm','client_secret':'a','redirect_uris':"
              "['http://127.0.0.1:3001/cb']},"
              "{'client_id':'sales','client_secret':'b','redirect_uris':"
              "['http://127.0.0.1:3002/cb','http://u@evil/']}]}",
              "clients[1].redirect_uris[1]", "userinfo");
    parse_err("{" ISSUER ",'clients':[{'client_id':'crm','client_secret':'a',"
              "'redirect_uris':['https://crm/cb'],"
              "'backchannel_logout_uri':'http://crm.example/bc'}]}",
              "clients[0].backchannel_logout_uri", "must be https");
    parse_err("{" ISSUER ",'clients':[{'client_id':'crm','client_secret':'a',"
              "'redirect_uris':['https://crm/cb'],"
              "'frontchannel_logout_uri':'https://crm/fcl#x'}]}",
              "clients[0].frontchannel_logout_uri", "fragment");
    parse_err("{" ISSUER ",'clients':[{'client_id':'crm','client_secret':'a',"
              "'redirect_uris':['https://crm/cb'],"
              "'frontchannel_logout_session_required':'no'}]}",
              "clients[0].frontchannel_logout_session_required",
              "must be a boolean");
}

TEST(json_syntax_errors_name_the_line)
{
    struct field_error err = {0};
    struct config *cfg = NULL;

    ASSERT_EQ(config_parse("{\n\"issuer\": \"http://a\",\n}", NULL, &cfg, &err),
              GH_EINVAL);
    ASSERT_STR_EQ(err.field, "line 3");
    ASSERT(err.problem[0] != '\0');
    ASSERT(cfg == NULL);

    parse_err("{" ISSUER "," ISSUER "}", "line 1", "duplicate");
    parse_err("[]", "", "must be a JSON object");
}

static char tmpdir[256];
static char cfgpath[300];

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    char *s = dq(text);

    ASSERT(fp != NULL);
    fputs(s, fp);
    fclose(fp);
    free(s);
}

TEST(load_reads_file_and_resolves_keys_dir)
{
    struct field_error err = {0};
    struct config *cfg = NULL;
    char real[PATH_MAX], want[PATH_MAX + 8];

    ASSERT_EQ(test_mkdtemp(tmpdir, sizeof(tmpdir), "test-config"), 0);
    snprintf(cfgpath, sizeof(cfgpath), "%s/gatehouse.json", tmpdir);
    write_file(cfgpath, "{" ISSUER "}");

    if (config_load(cfgpath, &cfg, &err) != 0)
        FAIL("%s: %s", err.field, err.problem);
    ASSERT(realpath(tmpdir, real) != NULL);
    snprintf(want, sizeof(want), "%s/keys", real);
    ASSERT_STR_EQ(cfg->path, cfgpath);
    ASSERT_STR_EQ(cfg->dir, real);
    ASSERT_STR_EQ(cfg->keys_dir, want);
    config_free(cfg);

    /* A bad file names the field as the caller prints it. */
    write_file(cfgpath, "{" ISSUER ",'login':{'max_failures':0}}");
    cfg = NULL;
    ASSERT_EQ(config_load(cfgpath, &cfg, &err), GH_EINVAL);
    ASSERT_STR_EQ(err.field, "login.max_failures");
    ASSERT(cfg == NULL);

    write_file(cfgpath, "{ oops");
    ASSERT_EQ(config_load(cfgpath, &cfg, &err), GH_EINVAL);
    ASSERT_STR_EQ(err.field, "line 1");

    ASSERT_EQ(unlink(cfgpath), 0);
    ASSERT_EQ(rmdir(tmpdir), 0);
}

TEST(load_of_unreadable_file_is_io_error)
{
    struct field_error err = {0};
    struct config *cfg = NULL;

    ASSERT_EQ(config_load("/nonexistent/gatehouse.json", &cfg, &err), GH_EIO);
    ASSERT_STR_EQ(err.field, "");
    ASSERT_CONTAINS(err.problem, strerror(ENOENT));
    ASSERT(cfg == NULL);

    ASSERT_EQ(config_load(test_tmpdir(), &cfg, &err), GH_EIO);
    ASSERT_STR_EQ(err.field, "");
    ASSERT_CONTAINS(err.problem, "not a regular file");
    ASSERT(cfg == NULL);
}

/* SPEC §3/§5: the Clear-Site-Data types a logout sends; "cookies" only when
 * asked for, since it clears every cookie of the registrable domain. */
TEST(logout_clear_site_data_types)
{
    struct config *cfg = parse_ok("{" ISSUER "}", NULL);

    ASSERT_STR_EQ(cfg->logout_clear_site_data, "\"cache\", \"storage\"");
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'logout':{'clear_site_data':"
                   "['cookies','cache','storage','executionContexts']}}",
                   NULL);
    ASSERT_STR_EQ(cfg->logout_clear_site_data,
                  "\"cookies\", \"cache\", \"storage\", "
                  "\"executionContexts\"");
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'logout':{'clear_site_data':['*']}}", NULL);
    ASSERT_STR_EQ(cfg->logout_clear_site_data, "\"*\"");
    config_free(cfg);
    /* An empty list sends no header at all. */
    cfg = parse_ok("{" ISSUER ",'logout':{'clear_site_data':[]}}", NULL);
    ASSERT(cfg->logout_clear_site_data == NULL);
    config_free(cfg);

    parse_err("{" ISSUER ",'logout':{'clear_site_data':'cache'}}",
              "logout.clear_site_data", "must be an array");
    parse_err("{" ISSUER ",'logout':{'clear_site_data':['cache','cokies']}}",
              "logout.clear_site_data[1]", "unknown type");
    parse_err("{" ISSUER ",'logout':{'clear_site_data':['Cache']}}",
              "logout.clear_site_data[0]", "unknown type");
    parse_err("{" ISSUER ",'logout':{'clear_site_data':[1]}}",
              "logout.clear_site_data[0]", "must be a string");
    parse_err("{" ISSUER ",'logout':{'clear_site_data':['cache','cache']}}",
              "logout.clear_site_data[1]", "given twice");
    parse_err("{" ISSUER ",'logout':{'clear_sitedata':[]}}",
              "logout.clear_sitedata", "unknown key");
    parse_err("{" ISSUER ",'logout':[]}", "logout", "must be an object");
}

/* Issue 17: session.max_per_user and session.bind, defaults and errors. */
TEST(session_limit_and_binding)
{
    struct config *cfg = parse_ok("{" ISSUER "}", "/etc/gatehouse");

    ASSERT_EQ(cfg->session_max_per_user, 0);
    ASSERT_EQ(cfg->session_bind_user_agent, 0);
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'session':{'max_per_user':2,"
                   "'bind':'user_agent'}}",
                   "/etc/gatehouse");
    ASSERT_EQ(cfg->session_max_per_user, 2);
    ASSERT_EQ(cfg->session_bind_user_agent, 1);
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'session':{'bind':'none'}}", "/etc/gatehouse");
    ASSERT_EQ(cfg->session_bind_user_agent, 0);
    config_free(cfg);
    parse_err("{" ISSUER ",'session':{'max_per_user':-1}}",
              "session.max_per_user", "must be between 0 and 10000");
    parse_err("{" ISSUER ",'session':{'max_per_user':'1'}}",
              "session.max_per_user", "must be an integer");
    parse_err("{" ISSUER ",'session':{'bind':'ip'}}", "session.bind",
              "must be \"none\" or \"user_agent\"");
    parse_err("{" ISSUER ",'session':{'bind':true}}", "session.bind",
              "must be \"none\" or \"user_agent\"");
}

/* Issue 18: login.second_factor, its default and its errors. */
TEST(second_factor_policy)
{
    struct config *cfg = parse_ok("{" ISSUER "}", "/etc/gatehouse");

    ASSERT_EQ(cfg->login_second_factor, SECOND_FACTOR_OPTIONAL);
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'login':{'second_factor':'required'}}",
                   "/etc/gatehouse");
    ASSERT_EQ(cfg->login_second_factor, SECOND_FACTOR_REQUIRED);
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'login':{'second_factor':'off'}}",
                   "/etc/gatehouse");
    ASSERT_EQ(cfg->login_second_factor, SECOND_FACTOR_OFF);
    config_free(cfg);
    cfg = parse_ok("{" ISSUER ",'login':{'second_factor':'optional'}}",
                   "/etc/gatehouse");
    ASSERT_EQ(cfg->login_second_factor, SECOND_FACTOR_OPTIONAL);
    config_free(cfg);
    parse_err("{" ISSUER ",'login':{'second_factor':'always'}}",
              "login.second_factor",
              "must be \"off\", \"optional\" or \"required\"");
    parse_err("{" ISSUER ",'login':{'second_factor':1}}",
              "login.second_factor",
              "must be \"off\", \"optional\" or \"required\"");
}

TEST_MAIN(TEST_ENTRY(second_factor_policy),
          TEST_ENTRY(minimal_config_gets_defaults),
          TEST_ENTRY(every_setting_is_read), TEST_ENTRY(issuer_rules),
          TEST_ENTRY(unknown_keys_are_refused_at_every_level),
          TEST_ENTRY(wrong_types_are_refused),
          TEST_ENTRY(every_integer_is_range_checked),
          TEST_ENTRY(bounds_themselves_are_accepted),
          TEST_ENTRY(idle_timeout_cannot_exceed_absolute),
          TEST_ENTRY(signing_alg_is_rs256_or_es256),
          TEST_ENTRY(logout_clear_site_data_types),
          TEST_ENTRY(redis_prefix_rules),
          TEST_ENTRY(redis_url_forms_are_parsed),
          TEST_ENTRY(bad_redis_urls_say_why),
          TEST_ENTRY(bad_redis_url_in_file_names_redis_url),
          TEST_ENTRY(unix_socket_url_in_file),
          TEST_ENTRY(sentinel_replaces_url),
          TEST_ENTRY(sentinel_and_url_together_are_refused),
          TEST_ENTRY(sentinel_rules), TEST_ENTRY(env_redis_url_overrides_file),
          TEST_ENTRY(relative_keys_dir_resolves_against_config_dir),
          TEST_ENTRY(duplicate_client_id_is_refused),
          TEST_ENTRY(client_errors_carry_their_path),
          TEST_ENTRY(json_syntax_errors_name_the_line),
          TEST_ENTRY(load_reads_file_and_resolves_keys_dir),
          TEST_ENTRY(load_of_unreadable_file_is_io_error),
          TEST_ENTRY(session_limit_and_binding))
