#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "awsendpoint.h"
#include "awsprofile.h"
#include "log.h"
#include "retryquota.h"

struct env {
    const char *(*lookup)(const char *name, void *ctx);
    void *ctx;
};

/* The first of the names that is set and non-empty, or NULL; *which names it. */
static const char *env_first(const struct env *env, const char *const *names, const char **which)
{
    for (; *names != NULL; names++) {
        const char *v = env->lookup(*names, env->ctx);
        if (v != NULL && *v != '\0') {
            if (which != NULL)
                *which = *names;
            return v;
        }
    }
    return NULL;
}

static const char *env_get(const struct env *env, const char *name)
{
    const char *names[] = {name, NULL};
    return env_first(env, names, NULL);
}

static int set_string(char **field, const char *value)
{
    *field = strdup(value);
    return *field == NULL ? -1 : 0;
}

/* Parses a whole decimal integer in [min, max]. Returns 0 or -1. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0)
        *out = 1;
    else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "no") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* 1 for a host that is this machine by definition: 127.0.0.0/8, localhost, ::1 (bracketed, as in
 * a URL; IPv4-mapped 127/8 too). Any other name could resolve anywhere, so it is not loopback. */
static int is_loopback_host(const char *host, size_t len)
{
    char name[64];
    struct in_addr ipv4;
    struct in6_addr ipv6;
    if (len >= sizeof name)
        return 0;
    memcpy(name, host, len);
    name[len] = '\0';
    if (inet_pton(AF_INET, name, &ipv4) == 1)
        return (ntohl(ipv4.s_addr) >> 24) == 127;
    if (len > 2 && name[0] == '[' && name[len - 1] == ']') {
        name[len - 1] = '\0';
        if (inet_pton(AF_INET6, name + 1, &ipv6) != 1)
            return 0;
        return IN6_IS_ADDR_LOOPBACK(&ipv6) || (IN6_IS_ADDR_V4MAPPED(&ipv6) && ipv6.s6_addr[12] == 127);
    }
    return strcasecmp(name, "localhost") == 0;
}

/* 1 for a plain http:// URL whose host is not loopback: signed requests (and the web identity token)
 * would cross the network in clear text. */
static int plain_http_elsewhere(const char *url)
{
    if (url == NULL || strncasecmp(url, "http://", 7) != 0)
        return 0;
    const char *host = url + 7;
    size_t len = strcspn(host, "/?#"), host_only = len;
    if (memchr(host, '@', len) != NULL)
        return 1; /* user info: "http://localhost:80@elsewhere/" goes to elsewhere */
    const char *end = host[0] == '[' ? memchr(host, ']', len) : memchr(host, ':', len);
    if (end != NULL)
        host_only = (size_t)(end - host) + (host[0] == '[' ? 1 : 0);
    return !is_loopback_host(host, host_only);
}

/* Splits "scheme://host[:port][/]" into cfg->endpoint (no trailing slash),
 * cfg->endpoint_host, cfg->endpoint_is_local (a loopback host, whatever the
 * scheme) and cfg->endpoint_is_plain_http. Returns 0 or -1. */
static int parse_endpoint(struct config *cfg, const char *variable, const char *url, struct buf *err)
{
    int is_http = strncmp(url, "http://", 7) == 0;
    if (!is_http && strncmp(url, "https://", 8) != 0) {
        buf_printf(err, "%s: '%s' is not an http:// or https:// URL", variable, url);
        return -1;
    }
    const char *host = url + (is_http ? 7 : 8);
    size_t len = strcspn(host, "/?#");
    if (len == 0 || (host[len] == '/' && host[len + 1] != '\0') || host[len] == '?' || host[len] == '#' ||
        memchr(host, '@', len) != NULL) {
        buf_printf(err, "%s: '%s' must be scheme://host[:port] with no path", variable, url);
        return -1;
    }
    const char *colon = host[0] == '[' ? strstr(host, "]:") : memchr(host, ':', len);
    size_t host_only = len;
    if (colon != NULL && colon < host + len) {
        const char *port = colon + (host[0] == '[' ? 2 : 1);
        char digits[8] = {0};
        size_t plen = (size_t)(host + len - port);
        long p;
        if (plen == 0 || plen >= sizeof digits || (memcpy(digits, port, plen), parse_long(digits, 1, 65535, &p)) != 0) {
            buf_printf(err, "%s: '%s' has a bad port", variable, url);
            return -1;
        }
        host_only = (size_t)(colon - host) + (host[0] == '[' ? 1 : 0);
    }
    cfg->endpoint = strndup(url, (size_t)(host - url) + len);
    cfg->endpoint_host = strndup(host, len);
    cfg->endpoint_is_local = is_loopback_host(host, host_only);
    cfg->endpoint_is_plain_http = is_http;
    return cfg->endpoint && cfg->endpoint_host ? 0 : -1;
}

/* A proxy setting: "[http://|https://]host[:port]" with no space or control character. The value is
 * never echoed: it may hold a user name and password. Returns 0, or -1 with one line in err. */
static int check_proxy(const char *variable, const char *value, struct buf *err)
{
    const char *rest = strstr(value, "://");
    if (rest != NULL && strncasecmp(value, "http://", 7) != 0 && strncasecmp(value, "https://", 8) != 0) {
        buf_printf(err, "%s: only http:// and https:// proxies are supported", variable);
        return -1;
    }
    rest = rest != NULL ? rest + 3 : value;
    for (const char *p = value; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            buf_printf(err, "%s: a proxy URL has no spaces or control characters", variable);
            return -1;
        }
    }
    if (*rest == '\0' || *rest == '/' || *rest == ':') {
        buf_printf(err, "%s: no proxy host (expected http://host:port)", variable);
        return -1;
    }
    return 0;
}

/* The first of the lower-case then the upper-case name that is set (curl's and botocore's order). */
static int load_proxy(const struct env *env, const char *lower, const char *upper, int check, char **field,
                      struct buf *err)
{
    const char *names[] = {lower, upper, NULL};
    const char *which = lower;
    const char *v = env_first(env, names, &which);
    if (v == NULL)
        return 0;
    if (check && check_proxy(which, v, err) != 0)
        return -1;
    if (set_string(field, v) != 0) {
        buf_append_str(err, "out of memory reading configuration");
        return -1;
    }
    return 0;
}

/* Everything the AWS SDKs read from the environment and the shared profile files: the profile,
 * region, endpoints, CA bundle, retry settings and egress proxies. Returns 0 or -1 with one line. */
static int load_aws(struct config *cfg, const struct env *env, struct buf *err)
{
    struct awsprofile_files files;
    struct awsendpoint ep;
    struct retryquota_config retry;
    const char *v;
    int rc = -1;
    memset(&ep, 0, sizeof ep);
    if (awsprofile_files_load(&files, env->lookup, env->ctx, err) != 0)
        goto done;
    if (awsendpoint_resolve(&ep, env->lookup, env->ctx, files.set, files.profile, err) != 0)
        goto done;
    if (set_string(&cfg->profile, files.profile) != 0 || set_string(&cfg->region, ep.region) != 0 ||
        set_string(&cfg->region_from, ep.region_from) != 0 || set_string(&cfg->endpoint_from, ep.dynamodb_from) != 0 ||
        set_string(&cfg->sts_endpoint, ep.sts_url) != 0)
        goto no_memory;
    if (parse_endpoint(cfg, ep.dynamodb_from, ep.dynamodb_url, err) != 0) {
        if (err->len == 0)
            goto no_memory;
        goto done;
    }

    /* Extra trust for https endpoints: checked now, so a typo fails start-up rather than every request. */
    const char *ca_from = "AWS_CA_BUNDLE";
    if ((v = env_get(env, "AWS_CA_BUNDLE")) == NULL) {
        v = awsprofile_get(files.set, files.profile, "ca_bundle");
        ca_from = "ca_bundle (profile)";
        if (v != NULL && *v == '\0')
            v = NULL;
    }
    if (v != NULL) {
        if (access(v, R_OK) != 0) {
            char text[96];
            buf_printf(err, "%s: cannot read '%s': %s", ca_from, v, strerror_r(errno, text, sizeof text));
            goto done;
        }
        if (set_string(&cfg->ca_bundle, v) != 0)
            goto no_memory;
    }

    if (retryquota_config_load(&retry, env->lookup, env->ctx, awsprofile_get(files.set, files.profile, "max_attempts"),
                               awsprofile_get(files.set, files.profile, "retry_mode"), err) != 0)
        goto done;
    cfg->max_attempts = retry.max_attempts;
    cfg->retry_mode = (int)retry.mode;

    if (load_proxy(env, "https_proxy", "HTTPS_PROXY", 1, &cfg->https_proxy, err) != 0 ||
        load_proxy(env, "http_proxy", "HTTP_PROXY", 1, &cfg->http_proxy, err) != 0 ||
        load_proxy(env, "no_proxy", "NO_PROXY", 0, &cfg->no_proxy, err) != 0)
        goto done;
    rc = 0;
    goto done;
no_memory:
    buf_append_str(err, "out of memory reading configuration");
done:
    awsendpoint_clean_up(&ep);
    awsprofile_files_clean_up(&files);
    return rc;
}

const char *config_proxy_for(const struct config *cfg, const char *url)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return cfg->https_proxy;
    if (strncasecmp(url, "http://", 7) == 0)
        return cfg->http_proxy;
    return NULL;
}

int config_load(struct config *cfg, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                struct buf *err)
{
    const struct env env = {lookup, ctx};
    memset(cfg, 0, sizeof *cfg);
    const char *v;
    long n;

    if (set_string(&cfg->host, (v = env_get(&env, "HOST")) ? v : "127.0.0.1") != 0)
        goto no_memory;
    /* An address of this machine, not a name a resolver could move: checked here so a typo is a
     * configuration error (exit 2) like every other. */
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, cfg->host, addr) != 1 && inet_pton(AF_INET6, cfg->host, addr) != 1 &&
        strcasecmp(cfg->host, "localhost") != 0) {
        buf_printf(err, "HOST: '%s' is not an IPv4 or IPv6 address (127.0.0.1, 0.0.0.0, ::) or localhost", cfg->host);
        return -1;
    }
    cfg->port = 3000;
    if ((v = env_get(&env, "PORT")) != NULL) {
        if (parse_long(v, 0, 65535, &n) != 0) {
            buf_printf(err, "PORT: '%s' is not a port number (0-65535)", v);
            return -1;
        }
        cfg->port = (int)n;
    }
    if (set_string(&cfg->table, (v = env_get(&env, "TABLE_NAME")) ? v : "Users") != 0 ||
        set_string(&cfg->email_index, (v = env_get(&env, "EMAIL_INDEX")) ? v : "email-index") != 0)
        goto no_memory;
    if (strlen(cfg->table) < 3 || strlen(cfg->table) > 255 || strspn(cfg->table,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(cfg->table)) {
        buf_printf(err, "TABLE_NAME: '%s' is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)", cfg->table);
        return -1;
    }
    if (strlen(cfg->email_index) < 3 || strlen(cfg->email_index) > 255 ||
        strspn(cfg->email_index, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            strlen(cfg->email_index)) {
        buf_printf(err, "EMAIL_INDEX: '%s' is not a DynamoDB index name", cfg->email_index);
        return -1;
    }

    if (load_aws(cfg, &env, err) != 0)
        return -1;

    cfg->auto_create_table = cfg->endpoint_is_local;
    if ((v = env_get(&env, "AUTO_CREATE_TABLE")) != NULL && parse_bool(v, &cfg->auto_create_table) != 0) {
        buf_printf(err, "AUTO_CREATE_TABLE: '%s' is not true or false", v);
        return -1;
    }

    cfg->max_body_bytes = 65536;
    if ((v = env_get(&env, "MAX_BODY_BYTES")) != NULL) {
        if (parse_long(v, 2, 16L * 1024 * 1024, &n) != 0) {
            buf_printf(err, "MAX_BODY_BYTES: '%s' is not a size in bytes (2-16777216)", v);
            return -1;
        }
        cfg->max_body_bytes = (size_t)n;
    }

    cfg->connection_memory_bytes = 4096;
    if ((v = env_get(&env, "CONNECTION_MEMORY_BYTES")) != NULL) {
        if (parse_long(v, 2048, 1024L * 1024, &n) != 0) {
            buf_printf(err, "CONNECTION_MEMORY_BYTES: '%s' is not a size in bytes (2048-1048576)", v);
            return -1;
        }
        cfg->connection_memory_bytes = (size_t)n;
    }

    static const struct {
        const char *name;
        long min, max, fallback;
        size_t offset;
    } limits[] = {
        {"HEADER_TIMEOUT_MS", 100, 600000, 10000, offsetof(struct config, header_timeout_ms)},
        {"BODY_TIMEOUT_MS", 100, 600000, 10000, offsetof(struct config, body_timeout_ms)},
        {"KEEPALIVE_TIMEOUT_MS", 100, 3600000, 60000, offsetof(struct config, keepalive_timeout_ms)},
        {"MAX_CONNECTIONS", 16, 1000000, 16384, offsetof(struct config, max_connections)},
        {"MAX_CONNECTIONS_PER_IP", 0, 1000000, -1, offsetof(struct config, max_connections_per_ip)},
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        long *field = (long *)((char *)cfg + limits[i].offset);
        *field = limits[i].fallback;
        if ((v = env_get(&env, limits[i].name)) != NULL && parse_long(v, limits[i].min, limits[i].max, field) != 0) {
            buf_printf(err, "%s: '%s' is not %ld-%ld", limits[i].name, v, limits[i].min, limits[i].max);
            return -1;
        }
    }
    const char *akid = env_get(&env, "AWS_ACCESS_KEY_ID");
    const char *secret = env_get(&env, "AWS_SECRET_ACCESS_KEY");
    if ((akid == NULL) != (secret == NULL)) {
        buf_append_str(err, "credentials: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither");
        return -1;
    }
    /* Without them, main asks the rest of the credential provider chain (credschain.h) at start-up. */
    /* Signed requests carry the key id (and a session token) in clear text: over plain http they go
     * to another host only when the operator says so (DynamoDB Local in a compose network). */
    if ((v = env_get(&env, "ALLOW_INSECURE_ENDPOINT")) != NULL &&
        parse_bool(v, &cfg->allow_insecure_endpoint) != 0) {
        buf_printf(err, "ALLOW_INSECURE_ENDPOINT: '%s' is not true or false", v);
        return -1;
    }
    if (cfg->endpoint_is_plain_http && !cfg->endpoint_is_local && !cfg->allow_insecure_endpoint) {
        buf_printf(err, "ALLOW_INSECURE_ENDPOINT: %s is plain http:// to a host that is not loopback; "
                        "set ALLOW_INSECURE_ENDPOINT=true to send credentials to it unencrypted, or use https://",
                   cfg->endpoint);
        return -1;
    }
    /* STS gets the web identity token and AssumeRole calls signed with the source profile's keys. */
    if (plain_http_elsewhere(cfg->sts_endpoint) && !cfg->allow_insecure_endpoint) {
        buf_printf(err, "ALLOW_INSECURE_ENDPOINT: the STS endpoint %s is plain http:// to a host that is not loopback; "
                        "set ALLOW_INSECURE_ENDPOINT=true to send tokens to it unencrypted, or use https://",
                   cfg->sts_endpoint);
        return -1;
    }
    /* A loopback DynamoDB (moto, DynamoDB Local) accepts any key; these make `make run` work with none set. */
    if (set_string(&cfg->access_key_id, akid ? akid : "local") != 0 ||
        set_string(&cfg->secret_access_key, secret ? secret : "local") != 0)
        goto no_memory;
    if ((v = env_get(&env, "AWS_SESSION_TOKEN")) != NULL && set_string(&cfg->session_token, v) != 0)
        goto no_memory;

    cfg->connect_timeout_ms = 1000;
    if ((v = env_get(&env, "DYNAMODB_CONNECT_TIMEOUT_MS")) != NULL &&
        parse_long(v, 1, 60000, &cfg->connect_timeout_ms) != 0) {
        buf_printf(err, "DYNAMODB_CONNECT_TIMEOUT_MS: '%s' is not 1-60000", v);
        return -1;
    }
    cfg->timeout_ms = 5000;
    if ((v = env_get(&env, "DYNAMODB_TIMEOUT_MS")) != NULL && parse_long(v, 10, 600000, &cfg->timeout_ms) != 0) {
        buf_printf(err, "DYNAMODB_TIMEOUT_MS: '%s' is not 10-600000", v);
        return -1;
    }

    /* The CPUs this process may run on (taskset, cgroup cpusets), not all the machine has:
     * more workers than CPUs only adds context switches. */
    cpu_set_t allowed;
    long cpus = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed)
                                                                   : sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cpus > 0 ? (int)(cpus < 64 ? cpus : 64) : 1;
    if ((v = env_get(&env, "THREADS")) != NULL) {
        if (parse_long(v, 1, 256, &n) != 0) {
            buf_printf(err, "THREADS: '%s' is not 1-256", v);
            return -1;
        }
        cfg->threads = (int)n;
    }

    /* CORS_ALLOW_ORIGIN (one origin or *) was the old name: read the same way, deprecated. */
    const char *origins = env_get(&env, "CORS_ALLOW_ORIGINS"), *old_origin = env_get(&env, "CORS_ALLOW_ORIGIN");
    if (origins != NULL && old_origin != NULL) {
        buf_append_str(err, "CORS_ALLOW_ORIGIN is the old name of CORS_ALLOW_ORIGINS: set only CORS_ALLOW_ORIGINS");
        return -1;
    }
    int credentials = 0;
    if ((v = env_get(&env, "CORS_ALLOW_CREDENTIALS")) != NULL && parse_bool(v, &credentials) != 0) {
        buf_printf(err, "CORS_ALLOW_CREDENTIALS: '%s' is not true or false", v);
        return -1;
    }
    cfg->cors_old_name = old_origin != NULL;
    if (cors_parse(&cfg->cors, old_origin != NULL ? "CORS_ALLOW_ORIGIN" : "CORS_ALLOW_ORIGINS",
                   old_origin != NULL ? old_origin : origins, credentials, err) != 0)
        return -1;
    if (set_string(&cfg->cursor_key, (v = env_get(&env, "CURSOR_SECRET")) ? v : cfg->table) != 0)
        goto no_memory;
    cfg->log_format = LOG_FORMAT_JSON;
    if ((v = env_get(&env, "LOG_FORMAT")) != NULL) {
        int format = log_format_parse(v);
        if (format < 0) {
            buf_printf(err, "LOG_FORMAT: '%s' is not json or text", v);
            return -1;
        }
        cfg->log_format = format;
    }
    cfg->log_level = LOG_INFO;
    if ((v = env_get(&env, "LOG_LEVEL")) != NULL) {
        int level = log_level_parse(v);
        if (level < 0) {
            buf_printf(err, "LOG_LEVEL: '%s' is not debug, info, warn, error or off (any case)", v);
            return -1;
        }
        cfg->log_level = level;
    }
    return 0;

no_memory:
    buf_append_str(err, "out of memory reading configuration");
    return -1;
}

void config_clean_up(struct config *cfg)
{
    free(cfg->host);
    free(cfg->table);
    free(cfg->email_index);
    free(cfg->region);
    free(cfg->endpoint);
    free(cfg->endpoint_host);
    free(cfg->access_key_id);
    if (cfg->secret_access_key != NULL)
        explicit_bzero(cfg->secret_access_key, strlen(cfg->secret_access_key));
    free(cfg->secret_access_key);
    free(cfg->session_token);
    cors_clean_up(&cfg->cors);
    if (cfg->cursor_key != NULL)
        explicit_bzero(cfg->cursor_key, strlen(cfg->cursor_key));
    free(cfg->cursor_key);
    free(cfg->profile);
    free(cfg->region_from);
    free(cfg->endpoint_from);
    free(cfg->sts_endpoint);
    free(cfg->ca_bundle);
    free(cfg->https_proxy);
    free(cfg->http_proxy);
    free(cfg->no_proxy);
    memset(cfg, 0, sizeof *cfg);
}

int config_url_plain_http_elsewhere(const char *url) { return plain_http_elsewhere(url); }
