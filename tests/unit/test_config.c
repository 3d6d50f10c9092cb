/* test_config: config_load through a fake environment: defaults, precedence
 * of the region and endpoint variables, local endpoints, and one clear line
 * naming the variable for each bad value. config_clean_up runs after every
 * load, successful or not (ASan checks nothing leaks). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fake_env.h"
#include "log.h"
#include "retryquota.h"


#define CREDS {"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", "secret/key+1"}

/* Loads env into cfg; returns config_load's result. err is reset first. */
static int load(struct config *cfg, const struct fake_env *env, struct buf *err)
{
    buf_reset(err);
    return config_load(cfg, fake_env_lookup, (void *)env, err);
}

static void test_defaults(void)
{
    struct fake_env env = {{CREDS}};
    struct config cfg;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(load(&cfg, &env, &err), 0);
    CHECK_STR_EQ(buf_cstr(&err), "");
    CHECK_STR_EQ(cfg.host, "127.0.0.1");
    CHECK_INT_EQ(cfg.port, 3000);
    CHECK_STR_EQ(cfg.table, "Users");
    CHECK_STR_EQ(cfg.email_index, "email-index");
    CHECK_STR_EQ(cfg.region, "us-east-1");
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.us-east-1.amazonaws.com");
    CHECK_STR_EQ(cfg.endpoint_host, "dynamodb.us-east-1.amazonaws.com");
    CHECK_INT_EQ(cfg.endpoint_is_local, 0);
    CHECK_INT_EQ(cfg.auto_create_table, 0);
    CHECK_INT_EQ(cfg.max_body_bytes, 65536);
    CHECK_INT_EQ(cfg.connection_memory_bytes, 4096);
    CHECK_STR_EQ(cfg.cursor_key, "Users");
    CHECK_STR_EQ(cfg.access_key_id, "AKIDTEST");
    CHECK_STR_EQ(cfg.secret_access_key, "secret/key+1");
    CHECK(cfg.session_token == NULL);
    CHECK_INT_EQ(cfg.log_level, LOG_INFO);
    CHECK_INT_EQ(cfg.log_format, LOG_FORMAT_JSON);
    CHECK(cfg.threads >= 1);
    CHECK(cfg.connect_timeout_ms > 0 && cfg.timeout_ms > 0);
    config_clean_up(&cfg);
    CHECK(cfg.host == NULL && cfg.secret_access_key == NULL);
    buf_clean_up(&err);
}

static void test_settings(void)
{
    struct fake_env env = {{CREDS,
                            {"HOST", "0.0.0.0"},
                            {"PORT", "8080"},
                            {"TABLE_NAME", "users-prod"},
                            {"EMAIL_INDEX", "by_email"},
                            {"MAX_BODY_BYTES", "1024"},
                            {"CONNECTION_MEMORY_BYTES", "16384"},
                            {"CURSOR_SECRET", "s3cret"},
                            {"AWS_SESSION_TOKEN", "tok"},
                            {"LOG_LEVEL", "debug"},
                            {"LOG_FORMAT", "text"},
                            {"AUTO_CREATE_TABLE", "true"}}};
    struct config cfg;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(load(&cfg, &env, &err), 0);
    CHECK_STR_EQ(cfg.host, "0.0.0.0");
    CHECK_INT_EQ(cfg.port, 8080);
    CHECK_STR_EQ(cfg.table, "users-prod");
    CHECK_STR_EQ(cfg.email_index, "by_email");
    CHECK_INT_EQ(cfg.max_body_bytes, 1024);
    CHECK_INT_EQ(cfg.connection_memory_bytes, 16384);
    CHECK_STR_EQ(cfg.cursor_key, "s3cret");
    CHECK_STR_EQ(cfg.session_token, "tok");
    CHECK_INT_EQ(cfg.log_level, LOG_DEBUG);
    CHECK_INT_EQ(cfg.log_format, LOG_FORMAT_TEXT);
    CHECK_INT_EQ(cfg.auto_create_table, 1);
    config_clean_up(&cfg);

    /* Empty values count as unset. */
    struct fake_env empty = {{CREDS, {"PORT", ""}, {"TABLE_NAME", ""}}};
    CHECK_INT_EQ(load(&cfg, &empty, &err), 0);
    CHECK_INT_EQ(cfg.port, 3000);
    CHECK_STR_EQ(cfg.table, "Users");
    CHECK_STR_EQ(cfg.region, "us-east-1");
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

/* HOST takes addresses (either family) and localhost; LOG_LEVEL any case. */
static void test_host_and_log_level(void)
{
    static const char *const hosts[] = {"127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "LocalHost"};
    struct config cfg;
    struct buf err = BUF_INIT;
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        struct fake_env env = {{CREDS, {"HOST", hosts[i]}}};
        CHECK_INT_EQ(load(&cfg, &env, &err), 0);
        CHECK_STR_EQ(cfg.host, hosts[i]);
        config_clean_up(&cfg);
    }
    static const struct {
        const char *name;
        int level;
    } levels[] = {{"INFO", LOG_INFO}, {"Debug", LOG_DEBUG}, {"WARN", LOG_WARN}, {"error", LOG_ERROR}, {"OFF", LOG_OFF}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        struct fake_env env = {{CREDS, {"LOG_LEVEL", levels[i].name}}};
        CHECK_INT_EQ(load(&cfg, &env, &err), 0);
        CHECK_INT_EQ(cfg.log_level, levels[i].level);
        config_clean_up(&cfg);
    }
    buf_clean_up(&err);
}

static void test_edge_limits(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env defaults = {{CREDS}};
    CHECK_INT_EQ(load(&cfg, &defaults, &err), 0);
    CHECK_INT_EQ(cfg.header_timeout_ms, 10000);
    CHECK_INT_EQ(cfg.body_timeout_ms, 10000);
    CHECK_INT_EQ(cfg.keepalive_timeout_ms, 60000);
    CHECK_INT_EQ(cfg.max_connections, 16384);
    CHECK_INT_EQ(cfg.max_connections_per_ip, -1); /* half of what the open-file limit lets the process hold */
    config_clean_up(&cfg);

    struct fake_env set = {{CREDS, {"HEADER_TIMEOUT_MS", "2500"}, {"BODY_TIMEOUT_MS", "100"},
                            {"KEEPALIVE_TIMEOUT_MS", "3600000"}, {"MAX_CONNECTIONS", "300"}}};
    CHECK_INT_EQ(load(&cfg, &set, &err), 0);
    CHECK_INT_EQ(cfg.header_timeout_ms, 2500);
    CHECK_INT_EQ(cfg.body_timeout_ms, 100);
    CHECK_INT_EQ(cfg.keepalive_timeout_ms, 3600000);
    CHECK_INT_EQ(cfg.max_connections, 300);
    CHECK_INT_EQ(cfg.max_connections_per_ip, -1);
    config_clean_up(&cfg);

    struct fake_env unlimited = {{CREDS, {"MAX_CONNECTIONS_PER_IP", "0"}}};
    CHECK_INT_EQ(load(&cfg, &unlimited, &err), 0);
    CHECK_INT_EQ(cfg.max_connections_per_ip, 0);
    config_clean_up(&cfg);

    static const char *const bad[][3] = {
        {"HEADER_TIMEOUT_MS", "0", "HEADER_TIMEOUT_MS: '0' is not 100-600000"},
        {"BODY_TIMEOUT_MS", "10s", "BODY_TIMEOUT_MS: '10s' is not 100-600000"},
        {"KEEPALIVE_TIMEOUT_MS", "-1", "KEEPALIVE_TIMEOUT_MS: '-1' is not 100-3600000"},
        {"MAX_CONNECTIONS", "15", "MAX_CONNECTIONS: '15' is not 16-1000000"},
        {"MAX_CONNECTIONS_PER_IP", "x", "MAX_CONNECTIONS_PER_IP: 'x' is not 0-1000000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fake_env env = {{CREDS, {bad[i][0], bad[i][1]}}};
        CHECK_INT_EQ(load(&cfg, &env, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), bad[i][2]);
        config_clean_up(&cfg);
    }
    buf_clean_up(&err);
}

static void test_region_precedence(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env both = {{CREDS, {"AWS_DEFAULT_REGION", "us-west-2"}, {"AWS_REGION", "eu-west-1"}}};
    CHECK_INT_EQ(load(&cfg, &both, &err), 0);
    CHECK_STR_EQ(cfg.region, "eu-west-1");
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.eu-west-1.amazonaws.com");
    CHECK_STR_EQ(cfg.endpoint_host, "dynamodb.eu-west-1.amazonaws.com");
    config_clean_up(&cfg);

    struct fake_env fallback = {{CREDS, {"AWS_DEFAULT_REGION", "us-west-2"}}};
    CHECK_INT_EQ(load(&cfg, &fallback, &err), 0);
    CHECK_STR_EQ(cfg.region, "us-west-2");
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.us-west-2.amazonaws.com");
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

static void test_endpoint_precedence(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env all = {{{"DYNAMODB_ENDPOINT", "http://127.0.0.1:3"},
                            {"AWS_ENDPOINT_URL", "http://127.0.0.1:2"},
                            {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1"}}};
    CHECK_INT_EQ(load(&cfg, &all, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "http://127.0.0.1:1");
    CHECK_STR_EQ(cfg.endpoint_host, "127.0.0.1:1");
    config_clean_up(&cfg);

    struct fake_env two = {{{"DYNAMODB_ENDPOINT", "http://127.0.0.1:3"}, {"AWS_ENDPOINT_URL", "http://127.0.0.1:2"}}};
    CHECK_INT_EQ(load(&cfg, &two, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "http://127.0.0.1:2");
    config_clean_up(&cfg);

    struct fake_env one = {{{"DYNAMODB_ENDPOINT", "http://127.0.0.1:3"}}};
    CHECK_INT_EQ(load(&cfg, &one, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "http://127.0.0.1:3");
    config_clean_up(&cfg);

    /* An endpoint wins over the region's default endpoint, the region is kept. */
    struct fake_env region = {{{"AWS_REGION", "eu-central-1"}, {"AWS_ENDPOINT_URL", "http://localhost:8000"}}};
    CHECK_INT_EQ(load(&cfg, &region, &err), 0);
    CHECK_STR_EQ(cfg.region, "eu-central-1");
    CHECK_STR_EQ(cfg.endpoint, "http://localhost:8000");
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

static void test_local_endpoints(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env local = {{{"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"}}};
    CHECK_INT_EQ(load(&cfg, &local, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "http://127.0.0.1:8000");
    CHECK_STR_EQ(cfg.endpoint_host, "127.0.0.1:8000");
    CHECK_INT_EQ(cfg.endpoint_is_local, 1);
    CHECK_INT_EQ(cfg.auto_create_table, 1);
    /* No credentials needed: some default ones are filled in. */
    CHECK(cfg.access_key_id != NULL && cfg.access_key_id[0] != '\0');
    CHECK(cfg.secret_access_key != NULL && cfg.secret_access_key[0] != '\0');
    config_clean_up(&cfg);

    struct fake_env slash = {{{"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000/"}}};
    CHECK_INT_EQ(load(&cfg, &slash, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "http://localhost:8000");
    CHECK_STR_EQ(cfg.endpoint_host, "localhost:8000");
    CHECK_INT_EQ(cfg.endpoint_is_local, 1);
    config_clean_up(&cfg);

    struct fake_env no_auto = {{{"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"},
                                {"AUTO_CREATE_TABLE", "false"}}};
    CHECK_INT_EQ(load(&cfg, &no_auto, &err), 0);
    CHECK_INT_EQ(cfg.endpoint_is_local, 1);
    CHECK_INT_EQ(cfg.auto_create_table, 0);
    config_clean_up(&cfg);

    /* https to a loopback host is local too. */
    struct fake_env https_local = {{{"AWS_ENDPOINT_URL_DYNAMODB", "https://localhost:8443"}}};
    CHECK_INT_EQ(load(&cfg, &https_local, &err), 0);
    CHECK_STR_EQ(cfg.endpoint_host, "localhost:8443");
    CHECK_INT_EQ(cfg.endpoint_is_local, 1);
    config_clean_up(&cfg);

    struct fake_env v6 = {{{"AWS_ENDPOINT_URL_DYNAMODB", "https://[::1]:8000"}}};
    CHECK_INT_EQ(load(&cfg, &v6, &err), 0);
    CHECK_STR_EQ(cfg.endpoint_host, "[::1]:8000");
    CHECK_INT_EQ(cfg.endpoint_is_local, 1);
    config_clean_up(&cfg);

    /* A custom https endpoint is not local: credentials required, no auto-create. */
    struct fake_env remote = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "https://ddb.example.com"}}};
    CHECK_INT_EQ(load(&cfg, &remote, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://ddb.example.com");
    CHECK_STR_EQ(cfg.endpoint_host, "ddb.example.com");
    CHECK_INT_EQ(cfg.endpoint_is_local, 0);
    CHECK_INT_EQ(cfg.auto_create_table, 0);
    config_clean_up(&cfg);

    /* A host name that merely starts with "127." is not a loopback address. */
    struct fake_env lookalike = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "https://127.example.com"}}};
    CHECK_INT_EQ(load(&cfg, &lookalike, &err), 0);
    CHECK_INT_EQ(cfg.endpoint_is_local, 0);
    CHECK_INT_EQ(cfg.auto_create_table, 0);
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

/* Loopback hosts are local whatever the scheme: default credentials, table auto-creation. */
static void expect_local(const char *url, const char *host, int plain_http)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env env = {{{"AWS_ENDPOINT_URL_DYNAMODB", url}}};
    int rc = load(&cfg, &env, &err);
    if (rc != 0 || !cfg.endpoint_is_local)
        fprintf(stderr, "  (%s: rc %d, err [%s], local %d)\n", url, rc, buf_cstr(&err), cfg.endpoint_is_local);
    CHECK_INT_EQ(rc, 0);
    CHECK_STR_EQ(cfg.endpoint_host, host);
    CHECK_INT_EQ(cfg.endpoint_is_local, 1);
    CHECK_INT_EQ(cfg.endpoint_is_plain_http, plain_http);
    CHECK_INT_EQ(cfg.auto_create_table, 1);
    CHECK_STR_EQ(cfg.access_key_id, "local");
    CHECK_STR_EQ(cfg.secret_access_key, "local");
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

static void test_loopback_is_local(void)
{
    expect_local("http://127.0.0.1:8000", "127.0.0.1:8000", 1);
    expect_local("http://127.255.0.9:8000", "127.255.0.9:8000", 1);
    expect_local("http://localhost:8000", "localhost:8000", 1);
    expect_local("http://LOCALHOST", "LOCALHOST", 1);
    expect_local("http://[::1]:8000", "[::1]:8000", 1);
    expect_local("http://[0:0:0:0:0:0:0:1]:8000", "[0:0:0:0:0:0:0:1]:8000", 1);
    expect_local("http://[::ffff:127.0.0.1]:8000", "[::ffff:127.0.0.1]:8000", 1);
    expect_local("https://localhost:8443", "localhost:8443", 0);
    expect_local("https://[::1]", "[::1]", 0);
}

/* Plain http to any other host (DynamoDB Local in a compose network): not local, so no dummy
 * credentials and no auto-creation by default; and credentials go there only with the opt-in. */
static void test_plain_http_sts(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env remote = {{CREDS, {"AWS_ENDPOINT_URL_STS", "http://sts.internal:8080"}}};
    CHECK_INT_EQ(load(&cfg, &remote, &err), -1); /* the web identity token would cross the network in clear */
    CHECK_STR_EQ(buf_cstr(&err), "ALLOW_INSECURE_ENDPOINT: the STS endpoint http://sts.internal:8080 is plain http:// "
                                 "to a host that is not loopback; set ALLOW_INSECURE_ENDPOINT=true to send tokens "
                                 "to it unencrypted, or use https://");
    config_clean_up(&cfg);
    struct fake_env shared = {{CREDS, {"AWS_ENDPOINT_URL", "http://[fd00::5]:4566"}}}; /* applies to STS too */
    CHECK_INT_EQ(load(&cfg, &shared, &err), -1);
    config_clean_up(&cfg);
    struct fake_env allowed = {{CREDS, {"AWS_ENDPOINT_URL_STS", "http://sts.internal:8080"},
                                {"ALLOW_INSECURE_ENDPOINT", "true"}}};
    CHECK_INT_EQ(load(&cfg, &allowed, &err), 0);
    config_clean_up(&cfg);
    static const char *const fine[] = {"http://127.0.0.1:9", "http://localhost:9/", "http://[::1]:9", "https://sts.x"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        struct fake_env env = {{CREDS, {"AWS_ENDPOINT_URL_STS", fine[i]}}};
        CHECK_INT_EQ(load(&cfg, &env, &err), 0);
        config_clean_up(&cfg);
    }
    buf_clean_up(&err);
}

static void test_plain_http_elsewhere(void)
{
    static const char *const urls[] = {"http://10.0.0.5:8000", "http://dynamodb-local:8000", "http://[fe80::1]:8000",
                                       "http://128.0.0.1:8000", "http://localhost.example.com:8000"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct config cfg;
        struct buf err = BUF_INIT;
        struct fake_env none = {{{"AWS_ENDPOINT_URL_DYNAMODB", urls[i]}, {"ALLOW_INSECURE_ENDPOINT", "true"}}};
        /* No keys in the environment: the provider chain decides at start-up (credschain.h). */
        CHECK_INT_EQ(load(&cfg, &none, &err), 0);
        config_clean_up(&cfg);

        struct fake_env no_opt_in = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", urls[i]}}};
        CHECK_INT_EQ(load(&cfg, &no_opt_in, &err), -1);
        CHECK(strstr(buf_cstr(&err), "ALLOW_INSECURE_ENDPOINT=true") != NULL);
        CHECK(strstr(buf_cstr(&err), urls[i]) != NULL);
        CHECK(strstr(buf_cstr(&err), "secret/key+1") == NULL && strstr(buf_cstr(&err), "AKIDTEST") == NULL);
        CHECK(strchr(buf_cstr(&err), '\n') == NULL);
        config_clean_up(&cfg);

        struct fake_env opt_out = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", urls[i]}, {"ALLOW_INSECURE_ENDPOINT", "false"}}};
        CHECK_INT_EQ(load(&cfg, &opt_out, &err), -1);
        CHECK(strstr(buf_cstr(&err), "ALLOW_INSECURE_ENDPOINT") != NULL);
        config_clean_up(&cfg);

        struct fake_env both = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", urls[i]}, {"ALLOW_INSECURE_ENDPOINT", "true"}}};
        CHECK_INT_EQ(load(&cfg, &both, &err), 0);
        CHECK_STR_EQ(buf_cstr(&err), "");
        CHECK_INT_EQ(cfg.endpoint_is_local, 0);
        CHECK_INT_EQ(cfg.endpoint_is_plain_http, 1);
        CHECK_INT_EQ(cfg.allow_insecure_endpoint, 1);
        CHECK_INT_EQ(cfg.auto_create_table, 0);
        CHECK_STR_EQ(cfg.access_key_id, "AKIDTEST");
        CHECK_STR_EQ(cfg.secret_access_key, "secret/key+1");
        config_clean_up(&cfg);
        buf_clean_up(&err);
    }

    /* docker/docker-compose.yml: everything explicit. */
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env compose = {{{"AWS_ENDPOINT_URL_DYNAMODB", "http://dynamodb:8000"},
                                {"AWS_ACCESS_KEY_ID", "local"},
                                {"AWS_SECRET_ACCESS_KEY", "local"},
                                {"ALLOW_INSECURE_ENDPOINT", "true"},
                                {"AUTO_CREATE_TABLE", "true"}}};
    CHECK_INT_EQ(load(&cfg, &compose, &err), 0);
    CHECK_INT_EQ(cfg.endpoint_is_local, 0);
    CHECK_INT_EQ(cfg.auto_create_table, 1);
    CHECK_STR_EQ(cfg.endpoint_host, "dynamodb:8000");
    config_clean_up(&cfg);

    struct fake_env bad_bool = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "http://dynamodb:8000"},
                                 {"ALLOW_INSECURE_ENDPOINT", "sure"}}};
    CHECK_INT_EQ(load(&cfg, &bad_bool, &err), -1);
    CHECK(strstr(buf_cstr(&err), "ALLOW_INSECURE_ENDPOINT: 'sure'") != NULL);
    config_clean_up(&cfg);

    /* The opt-in changes nothing for https or loopback endpoints. */
    struct fake_env https_opt = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "https://ddb.example.com"},
                                  {"ALLOW_INSECURE_ENDPOINT", "true"}}};
    CHECK_INT_EQ(load(&cfg, &https_opt, &err), 0);
    CHECK_INT_EQ(cfg.endpoint_is_local, 0);
    CHECK_INT_EQ(cfg.auto_create_table, 0);
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

/* https to anything but loopback is not local: credentials required, no auto-creation by default. */
static void test_https_elsewhere(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env ip = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "https://10.0.0.5:8443"}}};
    CHECK_INT_EQ(load(&cfg, &ip, &err), 0);
    CHECK_INT_EQ(cfg.endpoint_is_local, 0);
    CHECK_INT_EQ(cfg.endpoint_is_plain_http, 0);
    CHECK_INT_EQ(cfg.auto_create_table, 0);
    config_clean_up(&cfg);
    struct fake_env ip_auto = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "https://10.0.0.5:8443"},
                                {"AUTO_CREATE_TABLE", "true"}}};
    CHECK_INT_EQ(load(&cfg, &ip_auto, &err), 0);
    CHECK_INT_EQ(cfg.auto_create_table, 1);
    config_clean_up(&cfg);
    struct fake_env no_creds = {{{"AWS_ENDPOINT_URL_DYNAMODB", "https://10.0.0.5:8443"}}};
    CHECK_INT_EQ(load(&cfg, &no_creds, &err), 0); /* the provider chain decides at start-up */
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

/* Loads env expecting failure: -1, one non-empty line naming `names`. */
static void expect_error(const struct fake_env *env, const char *names, int line)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    int rc = load(&cfg, env, &err);
    const char *msg = buf_cstr(&err);
    if (rc != -1 || strstr(msg, names) == NULL)
        fprintf(stderr, "  (line %d: rc %d, err [%s], should name %s)\n", line, rc, msg, names);
    CHECK_INT_EQ(rc, -1);
    CHECK(strlen(msg) > 0);
    CHECK(strchr(msg, '\n') == NULL);
    CHECK(strstr(msg, names) != NULL);
    config_clean_up(&cfg);
    buf_clean_up(&err);
}

static void test_errors(void)
{
    struct fake_env port_abc = {{CREDS, {"PORT", "abc"}}};
    expect_error(&port_abc, "PORT", __LINE__);
    struct fake_env port_big = {{CREDS, {"PORT", "70000"}}};
    expect_error(&port_big, "PORT", __LINE__);
    struct fake_env port_neg = {{CREDS, {"PORT", "-1"}}};
    expect_error(&port_neg, "PORT", __LINE__);
    struct fake_env port_junk = {{CREDS, {"PORT", "80x"}}};
    expect_error(&port_junk, "PORT", __LINE__);
    struct fake_env body = {{CREDS, {"MAX_BODY_BYTES", "-1"}}};
    expect_error(&body, "MAX_BODY_BYTES", __LINE__);
    struct fake_env body_word = {{CREDS, {"MAX_BODY_BYTES", "lots"}}};
    expect_error(&body_word, "MAX_BODY_BYTES", __LINE__);
    struct fake_env conn_small = {{CREDS, {"CONNECTION_MEMORY_BYTES", "1024"}}};
    expect_error(&conn_small, "CONNECTION_MEMORY_BYTES", __LINE__);
    struct fake_env conn_word = {{CREDS, {"CONNECTION_MEMORY_BYTES", "4k"}}};
    expect_error(&conn_word, "CONNECTION_MEMORY_BYTES", __LINE__);
    struct fake_env autoc = {{CREDS, {"AUTO_CREATE_TABLE", "maybe"}}};
    expect_error(&autoc, "AUTO_CREATE_TABLE", __LINE__);
    struct fake_env ftp = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "ftp://x"}}};
    expect_error(&ftp, "AWS_ENDPOINT_URL_DYNAMODB", __LINE__);
    struct fake_env path = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "http://x:1/foo"}}};
    expect_error(&path, "AWS_ENDPOINT_URL_DYNAMODB", __LINE__);
    struct fake_env query = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "http://x:1?a=b"}}};
    expect_error(&query, "AWS_ENDPOINT_URL_DYNAMODB", __LINE__);
    struct fake_env no_host = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "http://"}}};
    expect_error(&no_host, "AWS_ENDPOINT_URL_DYNAMODB", __LINE__);
    struct fake_env bad_port = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "http://x:99999"}}};
    expect_error(&bad_port, "AWS_ENDPOINT_URL_DYNAMODB", __LINE__);
    struct fake_env userinfo = {{CREDS, {"AWS_ENDPOINT_URL_DYNAMODB", "http://u:p@x:1"}}};
    expect_error(&userinfo, "AWS_ENDPOINT_URL_DYNAMODB", __LINE__);
    /* The message names the variable the bad value came from. */
    struct fake_env ftp_legacy = {{CREDS, {"DYNAMODB_ENDPOINT", "ftp://x"}}};
    expect_error(&ftp_legacy, "DYNAMODB_ENDPOINT", __LINE__);
    struct fake_env ftp_generic = {{CREDS, {"AWS_ENDPOINT_URL", "ftp://x"}}};
    expect_error(&ftp_generic, "AWS_ENDPOINT_URL:", __LINE__);

    struct fake_env only_id = {{{"AWS_ACCESS_KEY_ID", "AKID"}}};
    expect_error(&only_id, "AWS_SECRET_ACCESS_KEY", __LINE__);
    struct fake_env only_secret = {{{"AWS_SECRET_ACCESS_KEY", "s"}}};
    expect_error(&only_secret, "AWS_ACCESS_KEY_ID", __LINE__);
    struct fake_env only_id_local = {{{"AWS_ACCESS_KEY_ID", "AKID"},
                                      {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"}}};
    expect_error(&only_id_local, "AWS_SECRET_ACCESS_KEY", __LINE__);
    struct fake_env loud = {{CREDS, {"LOG_LEVEL", "loud"}}};
    expect_error(&loud, "LOG_LEVEL", __LINE__);
    struct fake_env yaml = {{CREDS, {"LOG_FORMAT", "yaml"}}};
    expect_error(&yaml, "LOG_FORMAT", __LINE__);
    struct fake_env table = {{CREDS, {"TABLE_NAME", "a b"}}};
    expect_error(&table, "TABLE_NAME", __LINE__);
    struct fake_env region = {{CREDS, {"AWS_REGION", "EU/West"}}};
    expect_error(&region, "AWS_REGION", __LINE__);
    /* Issue 9: what a new user tripped over. */
    struct fake_env empty_region = {{CREDS, {"AWS_REGION", ""}}};
    expect_error(&empty_region, "AWS_REGION: set but empty", __LINE__);
    struct fake_env host_name = {{CREDS, {"HOST", "not-an-ip"}}};
    expect_error(&host_name, "HOST: 'not-an-ip' is not an IPv4 or IPv6 address", __LINE__);
    struct fake_env host_cidr = {{CREDS, {"HOST", "127.0.0.1/8"}}};
    expect_error(&host_cidr, "HOST", __LINE__);

    /* A failed load leaves cfg safe to clean up, and clean-up twice is harmless. */
    struct config cfg;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(load(&cfg, &loud, &err), -1);
    config_clean_up(&cfg);
    config_clean_up(&cfg);
    CHECK(cfg.host == NULL && cfg.endpoint == NULL && cfg.access_key_id == NULL);
    buf_clean_up(&err);
}

/* A scratch file holding text; its path goes into path (caller unlinks it). */
static void write_file(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/usersvc-test-config.XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_INT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
        close(fd);
    }
}

/* The endpoint settings of the SDKs, each through config_load (awsendpoint and awsprofile do the
 * resolving; this checks config wires every one of them, and keeps its own URL rules after). */
static void test_sdk_endpoints(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    char conf[64];
    write_file(conf, "[default]\nregion = eu-north-1\nendpoint_url = https://profile.example.com\n"
                     "ca_bundle = /dev/null\nmax_attempts = 7\nretry_mode = adaptive\n"
                     "[profile dev]\nregion = ap-southeast-2\nservices = devsvc\n"
                     "[services devsvc]\ndynamodb =\n  endpoint_url = http://127.0.0.1:4566\n"
                     "sts =\n  endpoint_url = http://127.0.0.1:4567\n"
                     "[profile cn]\nregion = cn-north-1\n"
                     "[profile fips]\nregion = us-west-2\nuse_fips_endpoint = true\n"
                     "[profile ignore]\nendpoint_url = https://x.example.com\nignore_configured_endpoint_urls = true\n");

    /* The profile's region comes after AWS_REGION and AWS_DEFAULT_REGION; its endpoint_url after the variables. */
    struct fake_env profile = {{CREDS, {"AWS_CONFIG_FILE", conf}}};
    CHECK_INT_EQ(load(&cfg, &profile, &err), 0);
    CHECK_STR_EQ(buf_cstr(&err), "");
    CHECK_STR_EQ(cfg.profile, "default");
    CHECK_STR_EQ(cfg.region, "eu-north-1");
    CHECK_STR_EQ(cfg.region_from, "profile");
    CHECK_STR_EQ(cfg.endpoint, "https://profile.example.com");
    CHECK_STR_EQ(cfg.endpoint_from, "endpoint_url (profile default)");
    CHECK_STR_EQ(cfg.sts_endpoint, "https://profile.example.com");
    CHECK_STR_EQ(cfg.ca_bundle, "/dev/null");
    CHECK_INT_EQ(cfg.max_attempts, 7);
    CHECK_INT_EQ(cfg.retry_mode, RETRYQUOTA_MODE_ADAPTIVE_AS_STANDARD);
    config_clean_up(&cfg);

    struct fake_env over = {{CREDS, {"AWS_CONFIG_FILE", conf}, {"AWS_DEFAULT_REGION", "us-west-1"},
                             {"AWS_ENDPOINT_URL", "https://env.example.com/"}, {"AWS_MAX_ATTEMPTS", "2"},
                             {"AWS_RETRY_MODE", "legacy"}, {"AWS_CA_BUNDLE", "/dev/zero"}}};
    CHECK_INT_EQ(load(&cfg, &over, &err), 0);
    CHECK_STR_EQ(cfg.region, "us-west-1");
    CHECK_STR_EQ(cfg.region_from, "AWS_DEFAULT_REGION");
    CHECK_STR_EQ(cfg.endpoint, "https://env.example.com");
    CHECK_STR_EQ(cfg.endpoint_from, "AWS_ENDPOINT_URL");
    CHECK_STR_EQ(cfg.ca_bundle, "/dev/zero");
    CHECK_INT_EQ(cfg.max_attempts, 2);
    CHECK_INT_EQ(cfg.retry_mode, RETRYQUOTA_MODE_STANDARD);
    config_clean_up(&cfg);

    /* AWS_PROFILE picks the profile; its services section names per-service endpoints. */
    struct fake_env dev = {{{"AWS_CONFIG_FILE", conf}, {"AWS_PROFILE", "dev"}}};
    CHECK_INT_EQ(load(&cfg, &dev, &err), 0);
    CHECK_STR_EQ(cfg.profile, "dev");
    CHECK_STR_EQ(cfg.region, "ap-southeast-2");
    CHECK_STR_EQ(cfg.endpoint, "http://127.0.0.1:4566");
    CHECK_STR_EQ(cfg.endpoint_from, "services devsvc (profile dev)");
    CHECK_INT_EQ(cfg.endpoint_is_local, 1); /* loopback rules still apply: dummy keys, auto-create */
    CHECK_INT_EQ(cfg.auto_create_table, 1);
    CHECK_STR_EQ(cfg.sts_endpoint, "http://127.0.0.1:4567");
    CHECK(cfg.ca_bundle == NULL);
    CHECK_INT_EQ(cfg.max_attempts, RETRYQUOTA_DEFAULT_MAX_ATTEMPTS);
    config_clean_up(&cfg);
    /* AWS_ENDPOINT_URL_DYNAMODB beats the services section, AWS_ENDPOINT_URL does too. */
    struct fake_env dev_env = {{{"AWS_CONFIG_FILE", conf}, {"AWS_PROFILE", "dev"},
                                {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"}}};
    CHECK_INT_EQ(load(&cfg, &dev_env, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "http://127.0.0.1:9");
    CHECK_STR_EQ(cfg.endpoint_from, "AWS_ENDPOINT_URL_DYNAMODB");
    CHECK_STR_EQ(cfg.sts_endpoint, "http://127.0.0.1:4567");
    config_clean_up(&cfg);

    /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops every configured endpoint, variables included. */
    struct fake_env ignore = {{CREDS, {"AWS_CONFIG_FILE", conf}, {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"},
                               {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}}};
    CHECK_INT_EQ(load(&cfg, &ignore, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.eu-north-1.amazonaws.com");
    CHECK_STR_EQ(cfg.endpoint_from, "default");
    CHECK_INT_EQ(cfg.endpoint_is_local, 0);
    config_clean_up(&cfg);
    struct fake_env ignore_profile = {{CREDS, {"AWS_CONFIG_FILE", conf}, {"AWS_PROFILE", "ignore"}}};
    CHECK_INT_EQ(load(&cfg, &ignore_profile, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.us-east-1.amazonaws.com");
    config_clean_up(&cfg);

    /* Partitions, FIPS and dual-stack. */
    struct fake_env cn = {{CREDS, {"AWS_CONFIG_FILE", conf}, {"AWS_PROFILE", "cn"}}};
    CHECK_INT_EQ(load(&cfg, &cn, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.cn-north-1.amazonaws.com.cn");
    CHECK_STR_EQ(cfg.endpoint_host, "dynamodb.cn-north-1.amazonaws.com.cn");
    CHECK_STR_EQ(cfg.sts_endpoint, "https://sts.cn-north-1.amazonaws.com.cn");
    config_clean_up(&cfg);
    struct fake_env fips_profile = {{CREDS, {"AWS_CONFIG_FILE", conf}, {"AWS_PROFILE", "fips"}}};
    CHECK_INT_EQ(load(&cfg, &fips_profile, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb-fips.us-west-2.amazonaws.com");
    config_clean_up(&cfg);
    struct fake_env fips = {{CREDS, {"AWS_REGION", "eu-west-1"}, {"AWS_USE_FIPS_ENDPOINT", "TRUE"}}};
    CHECK_INT_EQ(load(&cfg, &fips, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb-fips.eu-west-1.amazonaws.com");
    config_clean_up(&cfg);
    struct fake_env dual = {{CREDS, {"AWS_REGION", "eu-west-1"}, {"AWS_USE_DUALSTACK_ENDPOINT", "true"}}};
    CHECK_INT_EQ(load(&cfg, &dual, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.eu-west-1.api.aws");
    CHECK_STR_EQ(cfg.endpoint_host, "dynamodb.eu-west-1.api.aws");
    config_clean_up(&cfg);
    struct fake_env both = {{CREDS, {"AWS_REGION", "us-east-2"}, {"AWS_USE_DUALSTACK_ENDPOINT", "true"},
                             {"AWS_USE_FIPS_ENDPOINT", "true"}}};
    CHECK_INT_EQ(load(&cfg, &both, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb-fips.us-east-2.api.aws");
    config_clean_up(&cfg);
    struct fake_env cn_dual = {{CREDS, {"AWS_REGION", "cn-northwest-1"}, {"AWS_USE_DUALSTACK_ENDPOINT", "true"}}};
    CHECK_INT_EQ(load(&cfg, &cn_dual, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://dynamodb.cn-northwest-1.api.amazonwebservices.com.cn");
    config_clean_up(&cfg);

    /* Errors: one line naming the setting, exit 2 in main. */
    struct fake_env fips_and_url = {{CREDS, {"AWS_USE_FIPS_ENDPOINT", "true"}, {"AWS_ENDPOINT_URL", "https://x.example.com"}}};
    expect_error(&fips_and_url, "AWS_ENDPOINT_URL", __LINE__);
    struct fake_env fips_bad = {{CREDS, {"AWS_USE_FIPS_ENDPOINT", "yes please"}}};
    expect_error(&fips_bad, "AWS_USE_FIPS_ENDPOINT", __LINE__);
    struct fake_env dual_iso = {{CREDS, {"AWS_REGION", "us-iso-east-1"}, {"AWS_USE_DUALSTACK_ENDPOINT", "true"}}};
    expect_error(&dual_iso, "AWS_USE_DUALSTACK_ENDPOINT", __LINE__);
    struct fake_env ignore_bad = {{CREDS, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "2"}}};
    expect_error(&ignore_bad, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", __LINE__);
    char bad_conf[64];
    write_file(bad_conf, "[default]\nregion = Mars/1\n[profile broken]\nendpoint_url = ftp://x\n");
    struct fake_env bad_region = {{CREDS, {"AWS_CONFIG_FILE", bad_conf}}};
    expect_error(&bad_region, "region (profile default)", __LINE__);
    struct fake_env bad_url = {{CREDS, {"AWS_CONFIG_FILE", bad_conf}, {"AWS_PROFILE", "broken"}, {"AWS_REGION", "us-east-1"}}};
    expect_error(&bad_url, "endpoint_url (profile broken)", __LINE__);
    char syntax[64];
    write_file(syntax, "[default\nregion = us-east-1\n");
    struct fake_env bad_file = {{CREDS, {"AWS_CONFIG_FILE", syntax}}};
    expect_error(&bad_file, "line 1", __LINE__);
    /* A profile file that does not exist is no profile at all, as in the SDKs. */
    struct fake_env missing = {{CREDS, {"AWS_CONFIG_FILE", "/nonexistent/usersvc/config"},
                                {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/usersvc/credentials"}}};
    CHECK_INT_EQ(load(&cfg, &missing, &err), 0);
    CHECK_STR_EQ(cfg.region, "us-east-1");
    config_clean_up(&cfg);
    /* The credentials file is read too (its settings win over the config file's). */
    char creds_file[64];
    write_file(creds_file, "[default]\nregion = sa-east-1\n");
    struct fake_env cred_region = {{CREDS, {"AWS_CONFIG_FILE", conf}, {"AWS_SHARED_CREDENTIALS_FILE", creds_file}}};
    CHECK_INT_EQ(load(&cfg, &cred_region, &err), 0);
    CHECK_STR_EQ(cfg.region, "sa-east-1");
    config_clean_up(&cfg);
    /* The legacy DYNAMODB_ENDPOINT comes after the profile's endpoint_url. */
    struct fake_env legacy = {{CREDS, {"AWS_CONFIG_FILE", conf}, {"DYNAMODB_ENDPOINT", "http://127.0.0.1:3"}}};
    CHECK_INT_EQ(load(&cfg, &legacy, &err), 0);
    CHECK_STR_EQ(cfg.endpoint, "https://profile.example.com");
    config_clean_up(&cfg);
    unlink(conf);
    unlink(bad_conf);
    unlink(syntax);
    unlink(creds_file);
    buf_clean_up(&err);
}

static void test_ca_bundle(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env none = {{CREDS}};
    CHECK_INT_EQ(load(&cfg, &none, &err), 0);
    CHECK(cfg.ca_bundle == NULL);
    config_clean_up(&cfg);
    char pem[64];
    write_file(pem, "-----BEGIN CERTIFICATE-----\n");
    struct fake_env set = {{CREDS, {"AWS_CA_BUNDLE", pem}}};
    CHECK_INT_EQ(load(&cfg, &set, &err), 0);
    CHECK_STR_EQ(cfg.ca_bundle, pem);
    config_clean_up(&cfg);
    unlink(pem);
    /* A bundle that cannot be read fails start-up, naming the variable and the file. */
    struct fake_env missing = {{CREDS, {"AWS_CA_BUNDLE", "/nonexistent/ca.pem"}}};
    expect_error(&missing, "AWS_CA_BUNDLE: cannot read '/nonexistent/ca.pem'", __LINE__);
    char conf[64];
    write_file(conf, "[default]\nca_bundle = /nonexistent/profile-ca.pem\n");
    struct fake_env profile = {{CREDS, {"AWS_CONFIG_FILE", conf}}};
    expect_error(&profile, "ca_bundle (profile)", __LINE__);
    unlink(conf);
    buf_clean_up(&err);
}

static void test_proxies(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env none = {{CREDS}};
    CHECK_INT_EQ(load(&cfg, &none, &err), 0);
    CHECK(cfg.https_proxy == NULL && cfg.http_proxy == NULL && cfg.no_proxy == NULL);
    CHECK(config_proxy_for(&cfg, cfg.endpoint) == NULL);
    config_clean_up(&cfg);

    /* Upper case alone works; lower case wins when both are set (curl's and botocore's order). */
    struct fake_env upper = {{CREDS, {"HTTPS_PROXY", "http://proxy:3128"}, {"HTTP_PROXY", "http://plain:8080"},
                              {"NO_PROXY", "localhost,.internal"}}};
    CHECK_INT_EQ(load(&cfg, &upper, &err), 0);
    CHECK_STR_EQ(cfg.https_proxy, "http://proxy:3128");
    CHECK_STR_EQ(cfg.http_proxy, "http://plain:8080");
    CHECK_STR_EQ(cfg.no_proxy, "localhost,.internal");
    CHECK_STR_EQ(config_proxy_for(&cfg, "https://dynamodb.us-east-1.amazonaws.com"), "http://proxy:3128");
    CHECK_STR_EQ(config_proxy_for(&cfg, "http://127.0.0.1:8000"), "http://plain:8080");
    CHECK(config_proxy_for(&cfg, "ftp://x") == NULL);
    config_clean_up(&cfg);
    struct fake_env both = {{CREDS, {"HTTPS_PROXY", "http://upper:1"}, {"https_proxy", "lower:2"},
                             {"HTTP_PROXY", "http://upper:3"}, {"http_proxy", "http://lower:4"},
                             {"NO_PROXY", "upper"}, {"no_proxy", "lower"}}};
    CHECK_INT_EQ(load(&cfg, &both, &err), 0);
    CHECK_STR_EQ(cfg.https_proxy, "lower:2"); /* no scheme: curl takes http:// */
    CHECK_STR_EQ(cfg.http_proxy, "http://lower:4");
    CHECK_STR_EQ(cfg.no_proxy, "lower");
    config_clean_up(&cfg);
    /* Empty counts as unset, as everywhere. */
    struct fake_env empty = {{CREDS, {"https_proxy", ""}, {"HTTPS_PROXY", "http://upper:1"}}};
    CHECK_INT_EQ(load(&cfg, &empty, &err), 0);
    CHECK_STR_EQ(cfg.https_proxy, "http://upper:1");
    config_clean_up(&cfg);
    /* Only HTTP_PROXY: an https endpoint goes direct. */
    struct fake_env http_only = {{CREDS, {"HTTP_PROXY", "http://plain:8080"}}};
    CHECK_INT_EQ(load(&cfg, &http_only, &err), 0);
    CHECK(config_proxy_for(&cfg, cfg.endpoint) == NULL);
    config_clean_up(&cfg);

    /* Bad values: one line naming the variable, never the value (it may hold a password). */
    static const char *const bad[][2] = {
        {"HTTPS_PROXY", "socks5://u:hunter2@proxy:1080"},
        {"https_proxy", "http://u:hunter2@proxy :3128"},
        {"HTTP_PROXY", "http://"},
        {"http_proxy", "http://u:hunter2@proxy\r\n:1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fake_env env = {{CREDS, {bad[i][0], bad[i][1]}}};
        expect_error(&env, bad[i][0], __LINE__);
        CHECK_INT_EQ(load(&cfg, &env, &err), -1);
        CHECK(strstr(buf_cstr(&err), "hunter2") == NULL);
        config_clean_up(&cfg);
    }
    buf_clean_up(&err);
}

static void test_retry_settings(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env none = {{CREDS}};
    CHECK_INT_EQ(load(&cfg, &none, &err), 0);
    CHECK_INT_EQ(cfg.max_attempts, 4);
    CHECK_INT_EQ(cfg.retry_mode, RETRYQUOTA_MODE_STANDARD);
    config_clean_up(&cfg);
    struct fake_env one = {{CREDS, {"AWS_MAX_ATTEMPTS", "1"}, {"AWS_RETRY_MODE", "Standard"}}};
    CHECK_INT_EQ(load(&cfg, &one, &err), 0);
    CHECK_INT_EQ(cfg.max_attempts, 1);
    config_clean_up(&cfg);
    struct fake_env zero = {{CREDS, {"AWS_MAX_ATTEMPTS", "0"}}};
    expect_error(&zero, "AWS_MAX_ATTEMPTS", __LINE__);
    struct fake_env word = {{CREDS, {"AWS_MAX_ATTEMPTS", "three"}}};
    expect_error(&word, "AWS_MAX_ATTEMPTS", __LINE__);
    struct fake_env mode = {{CREDS, {"AWS_RETRY_MODE", "aggressive"}}};
    expect_error(&mode, "AWS_RETRY_MODE", __LINE__);
    buf_clean_up(&err);
}

/* CORS: off by default, the new name, the old name read the same way, and the refusals that used to
 * start a service whose CORS silently broke. cors.c's own tests cover the origin rules. */
static void test_cors(void)
{
    struct config cfg;
    struct buf err = BUF_INIT;
    struct fake_env none = {{CREDS}};
    CHECK_INT_EQ(load(&cfg, &none, &err), 0);
    CHECK_INT_EQ(cfg.cors.mode, CORS_OFF);
    CHECK_INT_EQ(cfg.cors_old_name, 0);
    config_clean_up(&cfg);
    struct fake_env list = {{CREDS, {"CORS_ALLOW_ORIGINS", "https://App.example, http://127.0.0.2:8080"},
                             {"CORS_ALLOW_CREDENTIALS", "true"}}};
    CHECK_INT_EQ(load(&cfg, &list, &err), 0);
    CHECK_INT_EQ(cfg.cors.mode, CORS_LIST);
    CHECK_INT_EQ(cfg.cors.n_origins, 2);
    if (cfg.cors.n_origins == 2)
        CHECK_STR_EQ(cfg.cors.origins[0], "https://app.example");
    CHECK_INT_EQ(cfg.cors.credentials, 1);
    config_clean_up(&cfg);
    CHECK(cfg.cors.origins == NULL);
    struct fake_env any = {{CREDS, {"CORS_ALLOW_ORIGINS", "*"}, {"CORS_ALLOW_CREDENTIALS", "false"}}};
    CHECK_INT_EQ(load(&cfg, &any, &err), 0);
    CHECK_INT_EQ(cfg.cors.mode, CORS_ANY);
    config_clean_up(&cfg);
    struct fake_env old = {{CREDS, {"CORS_ALLOW_ORIGIN", "https://app.example"}}};
    CHECK_INT_EQ(load(&cfg, &old, &err), 0);
    CHECK_INT_EQ(cfg.cors.mode, CORS_LIST);
    CHECK_INT_EQ(cfg.cors_old_name, 1);
    config_clean_up(&cfg);
    struct fake_env old_any = {{CREDS, {"CORS_ALLOW_ORIGIN", "*"}}};
    CHECK_INT_EQ(load(&cfg, &old_any, &err), 0);
    CHECK_INT_EQ(cfg.cors.mode, CORS_ANY);
    config_clean_up(&cfg);

    struct fake_env both = {{CREDS, {"CORS_ALLOW_ORIGIN", "*"}, {"CORS_ALLOW_ORIGINS", "*"}}};
    expect_error(&both, "set only CORS_ALLOW_ORIGINS", __LINE__);
    struct fake_env crlf = {{CREDS, {"CORS_ALLOW_ORIGINS", "https://a.example\r\nX-Evil: 1"}}};
    expect_error(&crlf, "CORS_ALLOW_ORIGINS: entry 1 is not an origin", __LINE__);
    struct fake_env old_path = {{CREDS, {"CORS_ALLOW_ORIGIN", "https://a.example/"}}};
    expect_error(&old_path, "CORS_ALLOW_ORIGIN: entry 1 'https://a.example/'", __LINE__);
    struct fake_env cred_any = {{CREDS, {"CORS_ALLOW_ORIGINS", "*"}, {"CORS_ALLOW_CREDENTIALS", "true"}}};
    expect_error(&cred_any, "CORS_ALLOW_CREDENTIALS=true cannot go with CORS_ALLOW_ORIGINS=*", __LINE__);
    struct fake_env cred_none = {{CREDS, {"CORS_ALLOW_CREDENTIALS", "yes"}}};
    expect_error(&cred_none, "CORS_ALLOW_CREDENTIALS=true needs CORS_ALLOW_ORIGINS", __LINE__);
    struct fake_env cred_word = {{CREDS, {"CORS_ALLOW_ORIGINS", "https://a.example"},
                                  {"CORS_ALLOW_CREDENTIALS", "sometimes"}}};
    expect_error(&cred_word, "CORS_ALLOW_CREDENTIALS: 'sometimes' is not true or false", __LINE__);
    buf_clean_up(&err);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_settings);
    RUN(test_host_and_log_level);
    RUN(test_edge_limits);
    RUN(test_region_precedence);
    RUN(test_endpoint_precedence);
    RUN(test_local_endpoints);
    RUN(test_loopback_is_local);
    RUN(test_plain_http_elsewhere);
    RUN(test_plain_http_sts);
    RUN(test_https_elsewhere);
    RUN(test_errors);
    RUN(test_sdk_endpoints);
    RUN(test_ca_bundle);
    RUN(test_proxies);
    RUN(test_retry_settings);
    RUN(test_cors);
    return check_summary();
}
