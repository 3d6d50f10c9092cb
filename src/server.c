#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define REQUEST_ID_MAX 128
#define IDLE_TIMEOUT_S 120

/* One worker thread: its own libmicrohttpd daemon (sharing the port through
 * SO_REUSEPORT) and its own event source (the DynamoDB client), driven by one
 * epoll loop. An exchange is deferred, sent, completed and answered on the
 * same thread; only two atomic counters in struct server are shared. */
struct worker {
    struct server *server;
    const struct app *app;
    struct server_source source;
    struct MHD_Daemon *daemon;
    pthread_t thread;
    int started;
    int epoll_fd;
    int stop_fd;   /* eventfd: server_stop asks the worker to drain and stop */
    long wait_ms;  /* how long draining may take, set before stop_fd is written */
    long deferred; /* exchanges of this worker waiting on the source */
    int draining;  /* stopping: new requests get 503 and Connection: close */
    int resumed;   /* a connection was resumed since the last MHD_run */
    struct buf access_log; /* this turn's access-log lines, written once per loop turn */
};

struct server {
    const struct config *cfg;
    struct worker *workers;
    size_t n_workers;
    atomic_ullong requests; /* numbers generated request ids */
    atomic_long open;       /* requests begun and not completed, on every worker: the drain waits for all */
    char id_prefix[17];     /* random per process, so ids are unique across replicas */
    int port;
};

/* Per-connection state, from the URI callback until MHD says the request completed. */
struct conn {
    struct http_exchange ex;
    struct worker *worker;
    struct MHD_Connection *connection;
    char *path;  /* raw path, owned */
    char *query; /* raw query, points into path's allocation */
    struct buf body;
    int too_large;
    int started;
    int deferred; /* set when the handler deferred; from then on only the resumed call reads resp */
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
    c->worker->deferred++;
    MHD_suspend_connection(c->connection);
}

/* Runs on the worker's own thread (its source calls back from source.run). */
static void finish_exchange(struct http_exchange *ex)
{
    struct conn *c = ex->adapter;
    c->worker->deferred--;
    c->worker->resumed = 1;
    MHD_resume_connection(c->connection); /* answered by the worker's next MHD_run */
}

/* MHD gives us the raw URI before parsing it: keep it, so paths and query
 * strings are decoded by our rules (an encoded '/' stays inside its segment). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    c->worker = cls;
    c->connection = connection;
    c->path = strdup(uri);
    if (c->path == NULL) {
        free(c);
        return NULL;
    }
    atomic_fetch_add_explicit(&c->worker->server->open, 1, memory_order_relaxed);
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
    struct server *s = c->worker->server;
    unsigned long long n = atomic_fetch_add(&s->requests, 1) + 1;
    snprintf(c->request_id, sizeof c->request_id, "%s-%08llx", s->id_prefix, n);
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
    if (value != NULL)
        MHD_add_response_header(r, name, value);
}

static enum MHD_Result queue_response(struct conn *c)
{
    const struct config *cfg = c->worker->server->cfg;
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
    if (c->worker->draining)
        add_header(r, "Connection", "close"); /* send keep-alive clients to another replica */
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
    snprintf(message, sizeof message, "the body is over the %zu byte limit", c->worker->server->cfg->max_body_bytes);
    http_respond_error(&c->ex, 413, "body_too_large", message, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct conn *c = *con_cls;
    if (c == NULL)
        return MHD_NO; /* out of memory in on_uri */
    size_t max = c->worker->server->cfg->max_body_bytes;

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
        if (c->worker->draining) { /* its source is closing: nothing new may reach DynamoDB */
            http_respond_error(&c->ex, 503, "backend_unavailable", "the service is shutting down; retry", NULL);
            c->ex.resp.retry_after = 1;
            return queue_response(c);
        }
        app_handle(c->worker->app, &c->ex);
        if (c->deferred)
            return MHD_YES; /* suspended; MHD calls again once finish_exchange resumes it */
    }
    if (c->ex.resp.status == 0) {
        http_respond_error(&c->ex, 500, "internal_error", "internal error", NULL);
        log_request(LOG_ERROR, c->request_id, "no response was produced");
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
        log_append(&c->worker->access_log, LOG_INFO, "request_id=%s method=%s path=%s status=%d ms=%.2f%s",
                   c->request_id, http_method_name(c->ex.req.method), c->path, c->ex.resp.status, ms,
                   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    }
    http_response_clean_up(&c->ex.resp);
    buf_clean_up(&c->body);
    atomic_fetch_sub_explicit(&c->worker->server->open, 1, memory_order_relaxed);
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

enum { TAG_DAEMON, TAG_SOURCE, TAG_STOP };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds the worker may sleep: the nearest of MHD's and the source's timers. */
static int worker_timeout(struct worker *w, int64_t drain_until)
{
    int timeout = w->source.timeout_ms(w->source.ctx);
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    if (MHD_get_timeout(w->daemon, &mhd_ms) == MHD_YES && (timeout < 0 || mhd_ms < (MHD_UNSIGNED_LONG_LONG)timeout))
        timeout = mhd_ms > 1000 ? 1000 : (int)mhd_ms;
    if (drain_until >= 0 && (timeout < 0 || timeout > 10))
        timeout = 10;
    return timeout;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int64_t drain_until = -1;
    struct epoll_event events[8];
    for (;;) {
        int n = epoll_wait(w->epoll_fd, events, 8, worker_timeout(w, drain_until));
        int source_ready = 0;
        for (int i = 0; i < n; i++) {
            if (events[i].data.u32 == TAG_SOURCE)
                source_ready = 1;
            if (events[i].data.u32 == TAG_STOP) {
                uint64_t count;
                if (read(w->stop_fd, &count, sizeof count) < 0)
                    log_debug("stop eventfd: %s", strerror(errno));
                if (drain_until < 0) {
                    /* Stop accepting; requests in flight may finish until the deadline. */
                    MHD_socket listener = MHD_quiesce_daemon(w->daemon);
                    if (listener != MHD_INVALID_SOCKET)
                        close(listener);
                    w->draining = 1;
                    drain_until = now_ms() + w->wait_ms;
                }
            }
        }
        MHD_run(w->daemon); /* reads requests; handlers defer and send */
        w->source.run(w->source.ctx, source_ready); /* starts sends; completions resume */
        if (w->resumed) {
            w->resumed = 0;
            MHD_run(w->daemon); /* answers the resumed connections now */
        }
        log_flush(&w->access_log);
        /* Every worker drains until the whole process is idle, so that a keep-alive request on a worker
         * with nothing in flight still gets its 503 + Connection: close rather than a closed socket. */
        if (drain_until >= 0 &&
            (atomic_load_explicit(&w->server->open, memory_order_relaxed) == 0 || now_ms() >= drain_until))
            break;
    }
    /* Whatever still waits is completed (with 503) by closing the source; answer it, then stop. */
    w->source.close(w->source.ctx);
    for (int i = 0; i < 3 && w->resumed; i++) {
        w->resumed = 0;
        MHD_run(w->daemon);
    }
    log_flush(&w->access_log);
    return NULL;
}

static int add_to_epoll(int epoll_fd, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

/* Starts worker w's daemon on addr (port already set). Returns 0 or -1. */
static int worker_start_daemon(struct worker *w, const struct sockaddr *addr, int ipv6, unsigned conn_limit)
{
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)addr},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL}, /* SO_REUSEPORT: the kernel spreads connections */
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, w},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)no_unescape, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)conn_limit, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096, NULL},
        /* MHD zeroes this whole buffer after every request, so it is what an idle connection costs. */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)w->server->cfg->connection_memory_bytes, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    w->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (w->daemon == NULL)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (info == NULL || w->epoll_fd < 0 || w->stop_fd < 0 || add_to_epoll(w->epoll_fd, info->epoll_fd, TAG_DAEMON) != 0 ||
        add_to_epoll(w->epoll_fd, w->source.fd, TAG_SOURCE) != 0 || add_to_epoll(w->epoll_fd, w->stop_fd, TAG_STOP) != 0)
        return -1;
    return 0;
}

struct server *server_start(const struct config *cfg, const struct server_worker *setup, size_t n_workers,
                            struct buf *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *addr = NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", cfg->port);
    int gai = getaddrinfo(cfg->host, port, &hints, &addr);
    struct server *s = gai == 0 ? calloc(1, sizeof *s) : NULL;
    struct worker *workers = s != NULL ? calloc(n_workers, sizeof *workers) : NULL;
    if (workers == NULL) {
        if (gai != 0)
            buf_printf(err, "HOST: cannot listen on '%s': %s", cfg->host, gai_strerror(gai));
        else
            buf_append_str(err, "out of memory");
        for (size_t i = 0; i < n_workers; i++) /* the sources are ours even when we fail */
            setup[i].source.close(setup[i].source.ctx);
        free(s);
        if (addr != NULL)
            freeaddrinfo(addr);
        return NULL;
    }
    s->cfg = cfg;
    s->workers = workers;
    s->n_workers = n_workers;
    uint64_t prefix;
    if (getrandom(&prefix, sizeof prefix, 0) != sizeof prefix)
        prefix = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    snprintf(s->id_prefix, sizeof s->id_prefix, "%016llx", (unsigned long long)prefix);
    rlim_t fds = raise_fd_limit();
    unsigned limit = fds > 256 ? (unsigned)((fds - 128) / n_workers) : 128;
    int ipv6 = addr->ai_family == AF_INET6;

    for (size_t i = 0; i < n_workers; i++) {
        workers[i].server = s;
        workers[i].app = setup[i].app;
        workers[i].source = setup[i].source;
        workers[i].epoll_fd = workers[i].stop_fd = -1;
    }
    for (size_t i = 0; i < n_workers; i++) {
        struct worker *w = &workers[i];
        if (worker_start_daemon(w, addr->ai_addr, ipv6, limit) != 0) {
            buf_printf(err, "cannot listen on %s:%d (in use, or not an address of this machine)", cfg->host,
                       cfg->port);
            goto fail;
        }
        if (i == 0) { /* with PORT=0 the first daemon picks the port; the others share it */
            const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
            s->port = info ? info->port : cfg->port;
            if (ipv6)
                ((struct sockaddr_in6 *)addr->ai_addr)->sin6_port = htons((uint16_t)s->port);
            else
                ((struct sockaddr_in *)addr->ai_addr)->sin_port = htons((uint16_t)s->port);
        }
    }
    freeaddrinfo(addr);
    addr = NULL;
    for (size_t i = 0; i < n_workers; i++) {
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
            buf_append_str(err, "cannot start a worker thread");
            server_stop(s, 0);
            return NULL;
        }
        workers[i].started = 1;
    }
    return s;
fail:
    if (addr != NULL)
        freeaddrinfo(addr);
    server_stop(s, 0);
    return NULL;
}

int server_port(const struct server *server)
{
    return server->port;
}

void server_stop(struct server *s, long wait_ms)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];
        if (!w->started)
            continue;
        w->wait_ms = wait_ms;
        uint64_t one = 1;
        if (write(w->stop_fd, &one, sizeof one) != sizeof one)
            log_error("cannot signal worker %zu to stop", i);
    }
    for (size_t i = 0; i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        else if (w->source.close != NULL)
            w->source.close(w->source.ctx); /* never ran: its source is still ours to close */
        if (w->daemon != NULL)
            MHD_stop_daemon(w->daemon);
        log_flush(&w->access_log); /* lines of connections MHD_stop_daemon closed */
        buf_clean_up(&w->access_log);
        if (w->epoll_fd >= 0)
            close(w->epoll_fd);
        if (w->stop_fd >= 0)
            close(w->stop_fd);
    }
    free(s->workers);
    free(s);
}
