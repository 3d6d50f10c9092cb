/* test_config: config_load through a fake environment: defaults, precedence
 * of the region and endpoint variables, local endpoints, and one clear line
 * naming the variable for each bad value. config_clean_up runs after every
 * load, successful or not (ASan checks nothing leaks). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "log.h"

/* A fake environment: NULL-terminated name/value pairs. */
struct fake_env {
    const char *pairs[32][2];
};

static const char *lookup(const char *name, void *ctx)
{
    const struct fake_env *env = ctx;
    for (size_t i = 0; i < 32 && env->pairs[i][0] != NULL; i++)
        if (strcmp(env->pairs[i][0], name) == 0)
            return env->pairs[i][1];
    return NULL;
}

#define CREDS {"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", "secret/key+1"}

/* Loads env into cfg; returns config_load's result. err is reset first. */
static int load(struct config *cfg, const struct fake_env *env, struct buf *err)
{
    buf_reset(err);
    return config_load(cfg, lookup, (void *)env, err);
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
    CHECK_INT_EQ(cfg.auto_create_table, 1);
    config_clean_up(&cfg);

    /* Empty values count as unset. */
    struct fake_env empty = {{CREDS, {"PORT", ""}, {"TABLE_NAME", ""}, {"AWS_REGION", ""}}};
    CHECK_INT_EQ(load(&cfg, &empty, &err), 0);
    CHECK_INT_EQ(cfg.port, 3000);
    CHECK_STR_EQ(cfg.table, "Users");
    CHECK_STR_EQ(cfg.region, "us-east-1");
    config_clean_up(&cfg);
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
    struct fake_env table = {{CREDS, {"TABLE_NAME", "a b"}}};
    expect_error(&table, "TABLE_NAME", __LINE__);
    struct fake_env region = {{CREDS, {"AWS_REGION", "EU/West"}}};
    expect_error(&region, "AWS_REGION", __LINE__);

    /* A failed load leaves cfg safe to clean up, and clean-up twice is harmless. */
    struct config cfg;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(load(&cfg, &loud, &err), -1);
    config_clean_up(&cfg);
    config_clean_up(&cfg);
    CHECK(cfg.host == NULL && cfg.endpoint == NULL && cfg.access_key_id == NULL);
    buf_clean_up(&err);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_settings);
    RUN(test_edge_limits);
    RUN(test_region_precedence);
    RUN(test_endpoint_precedence);
    RUN(test_local_endpoints);
    RUN(test_loopback_is_local);
    RUN(test_plain_http_elsewhere);
    RUN(test_https_elsewhere);
    RUN(test_errors);
    return check_summary();
}
