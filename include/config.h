/* config: the service's settings, read once from the environment at start-up.
 * Bad values fail here with one clear line, never later. */
#ifndef USERSVC_CONFIG_H
#define USERSVC_CONFIG_H

#include <stddef.h>

#include "buf.h"

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
    char *cors_origin;
    char *cursor_key;        /* CURSOR_SECRET, or the table name */
    int log_level;
};

/* Reads settings through lookup (getenv-like; NULL = unset) into cfg.
 * Returns 0, or -1 with one human-readable line in err. cfg is always safe to
 * pass to config_clean_up afterwards. */
int config_load(struct config *cfg, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                struct buf *err);

void config_clean_up(struct config *cfg);

#endif
