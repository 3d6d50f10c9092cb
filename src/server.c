#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define REQUEST_ID_MAX 128
#define IDLE_TIMEOUT_S 120

struct server {
    struct MHD_Daemon *daemon;
    const struct app *app;
    atomic_long deferred; /* exchanges waiting on DynamoDB */
    atomic_ullong requests; /* numbers generated request ids */
    char id_prefix[17];    /* random per process, so ids are unique across replicas */
    int port;
};

/* Per-connection state, from the URI callback until MHD says the request completed. */
struct conn {
    struct http_exchange ex;
    struct server *server;
    struct MHD_Connection *connection;
    char *path;  /* raw path, owned */
    char *query; /* raw query, points into path's allocation */
    struct buf body;
    int too_large;
    int started;
    int deferred; /* set on the server thread; from then on only the resumed call reads resp */
    char request_id[REQUEST_ID_MAX + 1];
    struct timespec start;
};

static const char *lookup_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->header_ctx, MHD_HEADER_KIND, name);
}

static void defer_exchange(struct http_exchange *ex)
{
    struct conn *c = ex->adapter;
    c->deferred = 1;
    atomic_fetch_add(&c->server->deferred, 1);
    MHD_suspend_connection(c->connection);
}

static void finish_exchange(struct http_exchange *ex)
{
    struct conn *c = ex->adapter;
    struct MHD_Connection *connection = c->connection;
    atomic_fetch_sub(&c->server->deferred, 1);
    MHD_resume_connection(connection); /* c may be gone once this returns */
}

/* MHD gives us the raw URI before parsing it: keep it, so paths and query
 * strings are decoded by our rules (an encoded '/' stays inside its segment). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    c->server = cls;
    c->connection = connection;
    c->path = strdup(uri);
    if (c->path == NULL) {
        free(c);
        return NULL;
    }
    char *q = strchr(c->path, '?');
    c->query = "";
    if (q != NULL) {
        *q = '\0';
        c->query = q + 1;
    }
    return c;
}

/* Keeps MHD from decoding anything; see on_uri. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

static void set_request_id(struct conn *c)
{
    const char *given = MHD_lookup_connection_value(c->connection, MHD_HEADER_KIND, "X-Request-Id");
    size_t len = given ? strlen(given) : 0;
    if (len > 0 && len <= REQUEST_ID_MAX &&
        strspn(given, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == len) {
        memcpy(c->request_id, given, len + 1);
        return;
    }
    /* "<process prefix>-<counter>": unique without a random draw per request. */
    unsigned long long n = atomic_fetch_add(&c->server->requests, 1) + 1;
    snprintf(c->request_id, sizeof c->request_id, "%s-%08llx", c->server->id_prefix, n);
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
    if (value != NULL)
        MHD_add_response_header(r, name, value);
}

static enum MHD_Result queue_response(struct conn *c)
{
    const struct config *cfg = c->server->app->cfg;
    struct http_response *resp = &c->ex.resp;
    struct MHD_Response *r;
    if (resp->body != NULL) {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (r != NULL)
            resp->body = NULL; /* MHD frees it now */
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL)
        return MHD_NO;
    if (resp->body_len > 0 || resp->status >= 400)
        add_header(r, "Content-Type", "application/json");
    add_header(r, "X-Request-Id", c->request_id);
    add_header(r, "Access-Control-Allow-Origin", cfg->cors_origin);
    add_header(r, "Access-Control-Expose-Headers", "ETag, Location, Link, X-Request-Id, Retry-After");
    if (strcmp(cfg->cors_origin, "*") != 0)
        add_header(r, "Vary", "Origin");
    add_header(r, "ETag", resp->etag);
    add_header(r, "Location", resp->location);
    add_header(r, "Link", resp->link);
    add_header(r, "Allow", resp->allow);
    if (c->ex.req.method == HTTP_OPTIONS && resp->status == 204) {
        add_header(r, "Access-Control-Allow-Methods", resp->allow);
        add_header(r, "Access-Control-Allow-Headers", "Content-Type, If-Match, If-None-Match, X-Request-Id");
        add_header(r, "Access-Control-Max-Age", "600");
    }
    if (resp->retry_after > 0) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", resp->retry_after);
        add_header(r, "Retry-After", seconds);
    }
    enum MHD_Result ret = MHD_queue_response(c->connection, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void respond_too_large(struct conn *c)
{
    char message[96];
    snprintf(message, sizeof message, "the body is over the %zu byte limit", c->server->app->cfg->max_body_bytes);
    http_respond_error(&c->ex, 413, "body_too_large", message, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct conn *c = *con_cls;
    if (c == NULL)
        return MHD_NO; /* out of memory in on_uri */
    size_t max = c->server->app->cfg->max_body_bytes;

    if (c->ex.req.path == NULL) { /* first call: headers are in */
        set_request_id(c);
        c->ex = (struct http_exchange){
            .req = {.method = http_method_parse(method), .path = c->path, .query = c->query,
                    .request_id = c->request_id, .header = lookup_header, .header_ctx = connection},
            .defer = defer_exchange,
            .finish = finish_exchange,
            .adapter = c,
        };
        const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length");
        if (length != NULL && strtoull(length, NULL, 10) > max) {
            respond_too_large(c); /* before reading it: MHD closes the connection after */
            return queue_response(c);
        }
        return MHD_YES;
    }

    if (*upload_data_size != 0) {
        if (!c->too_large && c->body.len + *upload_data_size > max) {
            c->too_large = 1; /* keep reading to answer cleanly, but stop storing */
            buf_clean_up(&c->body);
        }
        if (!c->too_large && buf_append(&c->body, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (!c->started) {
        c->started = 1;
        c->ex.req.body = c->body.data;
        c->ex.req.body_len = c->body.len;
        if (c->too_large) {
            respond_too_large(c);
            return queue_response(c);
        }
        app_handle(c->server->app, &c->ex);
        if (c->deferred)
            return MHD_YES; /* suspended; MHD calls again once finish_exchange resumes it */
    }
    if (c->ex.resp.status == 0) {
        http_respond_error(&c->ex, 500, "internal_error", "internal error", NULL);
        log_error("request_id=%s no response was produced", c->request_id);
    }
    return queue_response(c);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn *c = *con_cls;
    if (c == NULL)
        return;
    if (log_enabled(LOG_INFO) && c->ex.req.path != NULL) {
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        double ms = (double)(end.tv_sec - c->start.tv_sec) * 1e3 + (double)(end.tv_nsec - c->start.tv_nsec) / 1e6;
        log_info("request_id=%s method=%s path=%s status=%d ms=%.2f%s", c->request_id,
                 http_method_name(c->ex.req.method),
                 c->path, c->ex.resp.status, ms, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    }
    http_response_clean_up(&c->ex.resp);
    buf_clean_up(&c->body);
    free(c->path);
    free(c);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn("http: %s", line);
}

/* Raises the open-file limit to the hard limit; returns the soft limit now in force. */
static rlim_t raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

struct server *server_start(const struct app *app, struct buf *err)
{
    const struct config *cfg = app->cfg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *addr = NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", cfg->port);
    int gai = getaddrinfo(cfg->host, port, &hints, &addr);
    if (gai != 0) {
        buf_printf(err, "HOST: cannot listen on '%s': %s", cfg->host, gai_strerror(gai));
        return NULL;
    }
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        freeaddrinfo(addr);
        buf_append_str(err, "out of memory");
        return NULL;
    }
    s->app = app;
    uint64_t prefix;
    if (getrandom(&prefix, sizeof prefix, 0) != sizeof prefix)
        prefix = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    snprintf(s->id_prefix, sizeof s->id_prefix, "%016llx", (unsigned long long)prefix);
    rlim_t fds = raise_fd_limit();
    unsigned limit = fds > 256 ? (unsigned)(fds - 128) : 128;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (addr->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, addr->ai_addr},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)no_unescape, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)limit, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096, NULL},
        /* One thread serves without a pool; MHD warns about a pool of size 1. */
        {cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, cfg->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, options,
                                 MHD_OPTION_END);
    freeaddrinfo(addr);
    if (s->daemon == NULL) {
        buf_printf(err, "cannot listen on %s:%d (in use, or not an address of this machine)", cfg->host, cfg->port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    return s;
}

int server_port(const struct server *server)
{
    return server->port;
}

void server_quiesce(struct server *s, long wait_ms)
{
    MHD_socket listener = MHD_quiesce_daemon(s->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    for (long waited = 0; atomic_load(&s->deferred) > 0 && waited < wait_ms; waited += 10) {
        struct timespec ten_ms = {0, 10 * 1000 * 1000};
        nanosleep(&ten_ms, NULL);
    }
}

void server_stop(struct server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
