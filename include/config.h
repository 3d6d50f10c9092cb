/* config: the service's settings, read once from the environment at start-up.
 * Bad values fail here with one clear line, never later. */
#ifndef USERSVC_CONFIG_H
#define USERSVC_CONFIG_H

#include <stddef.h>

#include "buf.h"
#include "cors.h"

struct config {
    char *host;   /* listen address */
    int port;
    char *table;
    char *email_index;
    char *region;
    char *endpoint;      /* "http://127.0.0.1:8000", no trailing slash */
    char *endpoint_host; /* the Host header value: "127.0.0.1:8000" */
    int endpoint_is_local;      /* a loopback host (127.0.0.0/8, localhost, [::1]), any scheme */
    int endpoint_is_plain_http; /* http:// */
    int allow_insecure_endpoint; /* ALLOW_INSECURE_ENDPOINT: credentials may go to a non-loopback http:// */
    int auto_create_table;
    size_t max_body_bytes;
    size_t connection_memory_bytes; /* per connection, for request and response headers */
    long header_timeout_ms;    /* request line and headers, from the first byte (absolute) */
    long body_timeout_ms;      /* longest gap between two pieces of a body */
    long keepalive_timeout_ms; /* a kept-alive connection waiting for its next request */
    long max_connections;      /* for the whole process */
    long max_connections_per_ip; /* 0 = no limit per client address; -1 = half of what the process may hold */
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when not set */
    long connect_timeout_ms; /* per attempt */
    long timeout_ms;         /* whole DynamoDB operation, retries included */
    int threads;             /* worker threads (HTTP and DynamoDB each) */
    struct cors cors;        /* CORS_ALLOW_ORIGINS (or its old name), CORS_ALLOW_CREDENTIALS */
    int cors_old_name;       /* read from CORS_ALLOW_ORIGIN: main says it is deprecated */
    char *cursor_key;        /* CURSOR_SECRET, or the table name */
    int log_level;
    int log_format; /* enum log_format */

    /* AWS transport (issue 7): read once here, handed to httpc; nothing is looked up per request. */
    char *profile;       /* AWS_PROFILE, else "default": the profile the settings below were read from */
    char *region_from;   /* "AWS_REGION", "AWS_DEFAULT_REGION", "profile" or "default" */
    char *endpoint_from; /* the setting that named the endpoint ("AWS_ENDPOINT_URL", ...) or "default" */
    char *sts_endpoint;  /* STS, resolved the same way (AWS_ENDPOINT_URL_STS, ...), no trailing slash */
    char *ca_bundle;     /* AWS_CA_BUNDLE, else the profile's ca_bundle: extra trust; NULL: the system's only */
    char *https_proxy;   /* https_proxy, else HTTPS_PROXY; NULL: none */
    char *http_proxy;    /* http_proxy, else HTTP_PROXY; NULL: none */
    char *no_proxy;      /* no_proxy, else NO_PROXY (curl's syntax); NULL: none */
    int max_attempts;    /* AWS_MAX_ATTEMPTS, else the profile's max_attempts; first attempt included */
    int retry_mode;      /* enum retryquota_mode: AWS_RETRY_MODE, else the profile's retry_mode */
};

/* Reads settings through lookup (getenv-like; NULL = unset) into cfg.
 * Returns 0, or -1 with one human-readable line in err. cfg is always safe to
 * pass to config_clean_up afterwards. */
int config_load(struct config *cfg, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                struct buf *err);

void config_clean_up(struct config *cfg);

/* The proxy for a request to url: cfg->https_proxy for https://, cfg->http_proxy for http://, else
 * NULL (no proxy). NO_PROXY is applied by httpc (cfg->no_proxy). Borrowed from cfg. */
const char *config_proxy_for(const struct config *cfg, const char *url);

/* 1 for a plain http:// URL whose host is not loopback (127.0.0.0/8, localhost, [::1]). */
int config_url_plain_http_elsewhere(const char *url);

#endif
