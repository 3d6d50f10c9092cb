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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cors.h"
#include "edge.h"
#include "errors.h"
#include "log.h"
#include "metrics.h"

#define REQUEST_ID_MAX 128
#define FD_RESERVE 128    /* descriptors kept for the process: listeners, logs, epoll and event fds */
#define FD_PER_WORKER 144 /* and per worker: its DynamoDB connections (128 in flight) and curl's own */
#define LIMIT_SLACK 64    /* MHD's own limit is this far above ours, so a connection can replace an evicted one */

/* One worker thread: its own libmicrohttpd daemon (sharing the port through
 * SO_REUSEPORT) and its own event sources (the DynamoDB client first), driven
 * by one epoll loop. An exchange is deferred, sent, completed and answered on the
 * same thread; only two atomic counters in struct server are shared. */
struct worker {
    struct server *server;
    const struct app *app;
    struct server_source sources[SERVER_MAX_SOURCES];
    size_t n_sources;
    struct MHD_Daemon *daemon;
    pthread_t thread;
    int started;
    int epoll_fd;
    int stop_fd;   /* eventfd: server_stop asks the worker to drain and stop */
    long wait_ms;  /* how long draining may take, set before stop_fd is written */
    long deferred; /* exchanges of this worker waiting on a source */
    int draining;  /* stopping: new requests get 503 and Connection: close */
    int resumed;   /* a connection was resumed since the last MHD_run */
    int64_t now_ms; /* monotonic, read once per loop turn */
    struct edge edge; /* deadlines and the connection limit of this worker's connections */
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
    struct edge_addrs addrs; /* connections per client address, all workers */
    int addrs_ready;
};

/* Per-connection state, from MHD's "connection started" to "closed". It
 * outlives every request on the connection, so what a request left behind
 * when libmicrohttpd dropped it without completing it is released here. */
struct peer {
    struct edge_conn edge; /* first: edge hands back this pointer */
    struct worker *worker;
    struct conn *current;  /* the request being read or run; NULL between requests */
    int fd;
    int refused;           /* 429 or 503: answer the first request with it, then close */
    int counted;           /* counted in the server's address table */
    unsigned char addr[16];
    size_t addr_len;
    char addr_text[INET6_ADDRSTRLEN]; /* for the access log; "" when unknown */
};

/* Per-connection state, from the URI callback until MHD says the request completed. */
struct conn {
    struct http_exchange ex;
    struct worker *worker;
    struct peer *peer; /* NULL only when MHD gave no socket context */
    struct MHD_Connection *connection;
    char *path;  /* raw path, owned */
    char *query; /* raw query, points into path's allocation */
    struct buf body;
    int too_large;
    int started;
    int close; /* answer with Connection: close */
    int deferred; /* set when the handler deferred; from then on only the resumed call reads resp */
    char request_id[REQUEST_ID_MAX + 1];
    struct timespec start;
    const char *user_agent; /* borrowed from MHD's connection pool until the request completes; NULL: none */
    size_t user_agent_len;
    char trace_id[33];      /* from a valid traceparent; "" when none */
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
    metrics_add(&c->worker->app->metrics_worker->waiting_up, 1);
    MHD_suspend_connection(c->connection);
}

/* Runs on the worker's own thread (its sources call back from their run). */
static void finish_exchange(struct http_exchange *ex)
{
    struct conn *c = ex->adapter;
    c->worker->deferred--;
    metrics_add(&c->worker->app->metrics_worker->waiting_down, 1);
    c->worker->resumed = 1;
    MHD_resume_connection(c->connection); /* answered by the worker's next MHD_run */
}

static struct peer *peer_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

/* Frees a request's state and takes it off the drain count: from
 * on_completed, or for a request libmicrohttpd dropped without completing it. */
static void release_request(struct conn *c)
{
    if (c->peer != NULL && c->peer->current == c)
        c->peer->current = NULL;
    http_response_clean_up(&c->ex.resp);
    buf_clean_up(&c->body);
    atomic_fetch_sub_explicit(&c->worker->server->open, 1, memory_order_relaxed);
    metrics_add(&c->worker->app->metrics_worker->in_flight_down, 1);
    free(c->path);
    free(c);
}

/* MHD gives us the raw URI before parsing it: keep it, so paths and query
 * strings are decoded by our rules (an encoded '/' stays inside its segment). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct worker *w = cls;
    struct peer *peer = peer_of(connection);
    if (uri == NULL)
        uri = "";
    if (peer != NULL) {
        if (peer->current != NULL) /* an earlier request MHD refused and never completed */
            release_request(peer->current);
        if (peer->edge.phase == EDGE_IDLE) /* the next request on a kept-alive connection: its head is timed */
            edge_set_phase(&w->edge, &peer->edge, EDGE_HEAD, w->now_ms);
    }
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->path = strdup(uri);
    if (c->path == NULL) {
        free(c);
        return NULL;
    }
    /* We parse the query ourselves (http_query_param on the copy). Left in place, MHD would split it
     * into a record per parameter in the connection's small memory pool, and a few dozen parameters
     * overflow the pool half-way through the request line: libmicrohttpd 0.9.75 then sends nothing and
     * never completes the request. The URI is MHD's own writable read buffer (it writes the '\0' that
     * ends the path there itself); ending it after the '?' leaves MHD no parameter to parse. */
    char *mhd_query = strchr((char *)uri, '?');
    if (mhd_query != NULL)
        mhd_query[1] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    c->worker = w;
    c->peer = peer;
    c->connection = connection;
    if (peer != NULL)
        peer->current = c;
    atomic_fetch_add_explicit(&w->server->open, 1, memory_order_relaxed);
    metrics_add(&w->app->metrics_worker->in_flight_up, 1);
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

/* "<process prefix>-<counter>" (the counter in at least 8 lowercase hex digits): unique without a
 * random draw per request, and formatted by hand (snprintf cost ~1.2k instructions a request). */
static void new_request_id(struct server *s, char id[REQUEST_ID_MAX + 1])
{
    unsigned long long n = atomic_fetch_add(&s->requests, 1) + 1;
    char hex[16];
    size_t digits = 0;
    for (; n > 0 || digits < 8; n >>= 4)
        hex[digits++] = "0123456789abcdef"[n & 15];
    size_t at = strlen(s->id_prefix);
    memcpy(id, s->id_prefix, at);
    id[at++] = '-';
    while (digits > 0)
        id[at++] = hex[--digits];
    id[at] = '\0';
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
    new_request_id(c->worker->server, c->request_id);
}

static void add_header(struct MHD_Response *r, const char *name, const char *value)
{
    if (value != NULL)
        MHD_add_response_header(r, name, value);
}

static void add_cors_header(void *response, const char *name, const char *value)
{
    MHD_add_response_header(response, name, value);
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
    if (((resp->body_len > 0 && resp->status != 304) || resp->status >= 400) && /* a 304 has no content */
        http_response_header(resp, "Content-Type") == NULL)
        add_header(r, "Content-Type", "application/json"); /* the body is JSON unless the handler said otherwise */
    add_header(r, "X-Request-Id", c->request_id);
    /* On every answer, errors and refusals included; a preflight is an OPTIONS the router accepted. */
    cors_headers(&cfg->cors, MHD_lookup_connection_value(c->connection, MHD_HEADER_KIND, "Origin"),
                 c->ex.req.method == HTTP_OPTIONS && resp->status == 204 ? http_response_header(resp, "Allow") : NULL,
                 add_cors_header, r);
    for (size_t i = 0; i < resp->n_headers; i++)
        add_header(r, resp->headers[i].name, resp->headers[i].value);
    if (c->worker->draining || c->close)
        add_header(r, "Connection", "close"); /* draining: send keep-alive clients to another replica */
    enum MHD_Result ret = MHD_queue_response(c->connection, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void respond_too_large(struct conn *c)
{
    char message[96];
    snprintf(message, sizeof message, "the body is over the %zu byte limit", c->worker->server->cfg->max_body_bytes);
    errors_respond(&c->ex, ERR_BODY_TOO_LARGE, message, NULL);
}

/* One pass over the request headers: framing, and what the access line wants. */
struct head_scan {
    struct http_framing framing;
    struct conn *c;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *name, const char *value)
{
    struct head_scan *scan = cls;
    if (value == NULL)
        value = "";
    http_framing_add(&scan->framing, name, value);
    if ((name[0] | 0x20) == 'u' && strcasecmp(name, "User-Agent") == 0) {
        scan->c->user_agent = value;
        scan->c->user_agent_len = strlen(value);
    } else if ((name[0] | 0x20) == 't' && strcasecmp(name, "traceparent") == 0) {
        http_traceparent_trace_id(value, scan->c->trace_id);
    }
    return MHD_YES;
}

/* Answers the first call of a request that must not be read: an error, then the connection closes. */
static enum MHD_Result refuse(struct conn *c, enum err_code code, const char *message)
{
    errors_respond(&c->ex, code, message, NULL);
    if (errors_status(code) == 429) /* a 503 has it from errors_respond */
        http_response_add_header(&c->ex.resp, "Retry-After", "1");
    c->close = 1;
    return queue_response(c);
}

static void set_phase(struct conn *c, enum edge_phase phase)
{
    if (c->peer != NULL)
        edge_set_phase(&c->worker->edge, &c->peer->edge, phase, c->worker->now_ms);
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
        set_phase(c, EDGE_BODY);
        if (c->peer != NULL && c->peer->refused == 429)
            return refuse(c, ERR_TOO_MANY_FROM_ADDRESS, "too many connections from this address; retry later");
        if (c->peer != NULL && c->peer->refused != 0)
            return refuse(c, ERR_TOO_MANY_CONNECTIONS, "the service has too many connections; retry");
        struct head_scan scan = {.c = c};
        MHD_get_connection_values(connection, MHD_HEADER_KIND, scan_header, &scan);
        const char *bad_framing = http_framing_error(&scan.framing, strcmp(version, MHD_HTTP_VERSION_1_1) == 0);
        if (bad_framing != NULL)
            return refuse(c, ERR_BAD_REQUEST, bad_framing);
        const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length");
        if (length != NULL && strtoull(length, NULL, 10) > max) {
            respond_too_large(c); /* before reading it */
            c->close = 1;
            return queue_response(c);
        }
        return MHD_YES;
    }

    if (*upload_data_size != 0) {
        set_phase(c, EDGE_BODY); /* the gap allowed between two pieces starts again */
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
        set_phase(c, EDGE_BUSY);
        c->ex.req.body = c->body.data;
        c->ex.req.body_len = c->body.len;
        if (c->too_large) {
            respond_too_large(c);
            return queue_response(c);
        }
        if (c->worker->draining) { /* its source is closing: nothing new may reach DynamoDB */
            errors_respond(&c->ex, ERR_BACKEND_UNAVAILABLE, "the service is shutting down; retry", NULL);
            return queue_response(c);
        }
        app_handle(c->worker->app, &c->ex);
        if (c->deferred)
            return MHD_YES; /* suspended; MHD calls again once finish_exchange resumes it */
    }
    if (c->ex.resp.status == 0) {
        errors_respond(&c->ex, ERR_INTERNAL, "internal error", NULL);
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
    if (c->ex.req.path != NULL) {
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        int64_t us = (int64_t)(end.tv_sec - c->start.tv_sec) * 1000000 + (end.tv_nsec - c->start.tv_nsec) / 1000;
        metrics_http_done(c->worker->app->metrics_worker, c->ex.route_id, c->ex.req.method, c->ex.resp.status, us);
        struct log_access line = {
            .request_id = c->request_id, .method = http_method_name(c->ex.req.method), .route = c->ex.route,
            .status = c->ex.resp.status, .duration_us = us, .bytes_out = c->ex.resp.body_len,
            .remote_addr = c->peer != NULL && c->peer->addr_text[0] != '\0' ? c->peer->addr_text : NULL,
            .user_agent = c->user_agent, .user_agent_len = c->user_agent_len,
            .trace_id = c->trace_id[0] != '\0' ? c->trace_id : NULL,
            .principal = c->ex.principal[0] != '\0' ? c->ex.principal : NULL,
            .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK, .calls = &c->ex.calls,
        };
        log_access_append(&c->worker->access_log, &line);
    }
    struct peer *peer = c->peer;
    release_request(c);
    *con_cls = NULL;
    if (peer != NULL && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        edge_set_phase(&peer->worker->edge, &peer->edge, EDGE_IDLE, peer->worker->now_ms);
}

/* Closes a connection from outside libmicrohttpd's callbacks: MHD sees the
 * socket end on its next run and closes it the usual way (both callbacks). */
static void close_peer(struct peer *peer)
{
    if (peer->fd >= 0)
        shutdown(peer->fd, SHUT_RDWR);
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct worker *w = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct peer *peer = *socket_context;
        if (peer == NULL)
            return;
        if (peer->current != NULL) /* a request MHD dropped without completing it */
            release_request(peer->current);
        edge_remove(&w->edge, &peer->edge);
        metrics_add(&w->app->metrics_worker->connections_down, 1);
        if (peer->counted)
            edge_addrs_release(&w->server->addrs, peer->addr, peer->addr_len);
        free(peer);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct peer *peer = calloc(1, sizeof *peer);
    if (peer == NULL) {
        if (fd != NULL)
            shutdown(fd->connect_fd, SHUT_RDWR); /* unwatched, it could hold its slot forever */
        return;
    }
    peer->worker = w;
    peer->fd = fd != NULL ? fd->connect_fd : -1;
    const union MHD_ConnectionInfo *client = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = client != NULL ? client->client_addr : NULL;
    if (sa != NULL && sa->sa_family == AF_INET) {
        peer->addr_len = 4;
        memcpy(peer->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        peer->addr_len = 16;
        memcpy(peer->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
    if (peer->addr_len > 0) /* once per connection, not per request */
        inet_ntop(peer->addr_len == 4 ? AF_INET : AF_INET6, peer->addr, peer->addr_text, sizeof peer->addr_text);
    metrics_add(&w->app->metrics_worker->connections_up, 1);
    /* The address's share first: a client over it must not push another client's connection out. */
    if (edge_addrs_acquire(&w->server->addrs, peer->addr, peer->addr_len) == 0)
        peer->counted = 1;
    else
        peer->refused = 429;
    int full = edge_full(&w->edge);
    if (full && !peer->refused) { /* make room: the longest idle connection, else the slowest head or body */
        struct edge_conn *victim = edge_take_evictable(&w->edge);
        if (victim != NULL)
            close_peer((struct peer *)victim);
        else
            peer->refused = 503;
    }
    edge_add(&w->edge, &peer->edge, w->now_ms);
    *socket_context = peer;
    if (full && peer->refused == 429) { /* no slot to spare for its answer */
        edge_close(&w->edge, &peer->edge);
        close_peer(peer);
    }
}

/* What libmicrohttpd says about a client's own doing (a malformed or oversized request, a closed or reset
 * socket, which is also how our deadlines close connections) is debug: at warn level a flood would write a
 * line per connection. Anything else about the server itself stays a warning. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    static const char *const client_caused[] = {
        "Error processing request", "Connection socket is closed", "Socket has been disconnected",
        "Failed to receive data", "Failed to send", "Connection reset", "Received HTTP/1.1 request without",
        "Received malformed", "Too large value of", "Failed to parse", "Server reached connection limit",
        "Connection was closed", "Not enough memory in pool"};
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_redact_paths(line); /* "Failed to send ... for the request for `/users/by-email/<email>'" */
    for (size_t i = 0; i < sizeof client_caused / sizeof client_caused[0]; i++) {
        if (strncmp(line, client_caused[i], strlen(client_caused[i])) == 0) {
            log_debug("http: %s", line);
            return;
        }
    }
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

enum { TAG_DAEMON, TAG_STOP, TAG_SOURCE /* + the source's index */ };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Closes every source of a worker, in order. */
static void close_sources(const struct server_source *sources, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sources[i].close != NULL)
            sources[i].close(sources[i].ctx);
}

/* Milliseconds the worker may sleep: the nearest of MHD's and the sources' timers. */
static int worker_timeout(struct worker *w, int64_t drain_until)
{
    int timeout = -1;
    for (size_t i = 0; i < w->n_sources; i++) {
        int t = w->sources[i].timeout_ms(w->sources[i].ctx);
        if (t >= 0 && (timeout < 0 || t < timeout))
            timeout = t;
    }
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    if (MHD_get_timeout(w->daemon, &mhd_ms) == MHD_YES && (timeout < 0 || mhd_ms < (MHD_UNSIGNED_LONG_LONG)timeout))
        timeout = mhd_ms > 1000 ? 1000 : (int)mhd_ms;
    int64_t deadline = edge_next_deadline(&w->edge);
    if (deadline >= 0) {
        int64_t until = deadline > w->now_ms ? deadline - w->now_ms : 0;
        if (timeout < 0 || until < timeout)
            timeout = (int)until;
    }
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
        w->now_ms = now_ms();
        unsigned source_ready = 0; /* bit i: source i's fd is readable */
        for (int i = 0; i < n; i++) {
            if (events[i].data.u32 >= TAG_SOURCE)
                source_ready |= 1u << (events[i].data.u32 - TAG_SOURCE);
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
        for (struct edge_conn *late; (late = edge_take_expired(&w->edge, w->now_ms)) != NULL;)
            close_peer((struct peer *)late); /* a head, body gap or idle time over its deadline */
        for (size_t i = 0; i < w->n_sources; i++) /* starts sends; completions resume */
            w->sources[i].run(w->sources[i].ctx, (source_ready >> i) & 1);
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
    /* Whatever still waits is completed (with 503) by closing the sources; answer it, then stop. */
    close_sources(w->sources, w->n_sources);
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
    const struct config *cfg = w->server->cfg;
    long longest_ms = cfg->header_timeout_ms;
    if (cfg->body_timeout_ms > longest_ms)
        longest_ms = cfg->body_timeout_ms;
    if (cfg->keepalive_timeout_ms > longest_ms)
        longest_ms = cfg->keepalive_timeout_ms;
    edge_init(&w->edge, &(struct edge_limits){.head_ms = cfg->header_timeout_ms, .body_ms = cfg->body_timeout_ms,
                                              .keepalive_ms = cfg->keepalive_timeout_ms, .max_conns = conn_limit});
    w->now_ms = now_ms();
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, (void *)addr},
        {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL}, /* SO_REUSEPORT: the kernel spreads connections */
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, w},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)no_unescape, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, w},
        /* Ours is enforced in on_connection by making room; MHD's, a little above, is the hard stop. */
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)(conn_limit + LIMIT_SLACK), NULL},
        /* Inactivity, for what our deadlines do not time: an answer the client does not read. */
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)(longest_ms / 1000 + 1), NULL},
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
        add_to_epoll(w->epoll_fd, w->stop_fd, TAG_STOP) != 0)
        return -1;
    for (size_t i = 0; i < w->n_sources; i++)
        if (w->sources[i].fd >= 0 && add_to_epoll(w->epoll_fd, w->sources[i].fd, TAG_SOURCE + (uint32_t)i) != 0)
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
            close_sources(setup[i].sources, setup[i].n_sources);
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
    rlim_t kept = FD_RESERVE + (rlim_t)n_workers * (FD_PER_WORKER + LIMIT_SLACK);
    rlim_t usable = fds > kept + 16 * n_workers ? fds - kept : 16 * n_workers;
    rlim_t total = (rlim_t)cfg->max_connections;
    if (total > usable) {
        log_warn("MAX_CONNECTIONS %ld is more than the open-file limit allows; using %llu", cfg->max_connections,
                 (unsigned long long)usable);
        total = usable;
    }
    unsigned limit = (unsigned)(total / n_workers > 0 ? total / n_workers : 1);
    /* By default one address may hold half the connections: a flood from one client cannot take them all,
     * and a load balancer (at least two nodes, each its own address) still reaches every one. */
    unsigned per_address = cfg->max_connections_per_ip >= 0 ? (unsigned)cfg->max_connections_per_ip
                                                            : (unsigned)(total / 2 > 0 ? total / 2 : 1);
    if (edge_addrs_init(&s->addrs, per_address) != 0) {
        buf_append_str(err, "out of memory");
        free(workers);
        free(s);
        freeaddrinfo(addr);
        for (size_t i = 0; i < n_workers; i++)
            close_sources(setup[i].sources, setup[i].n_sources);
        return NULL;
    }
    s->addrs_ready = 1;
    int ipv6 = addr->ai_family == AF_INET6;

    for (size_t i = 0; i < n_workers; i++) {
        workers[i].server = s;
        workers[i].app = setup[i].app;
        workers[i].n_sources = setup[i].n_sources < SERVER_MAX_SOURCES ? setup[i].n_sources : SERVER_MAX_SOURCES;
        memcpy(workers[i].sources, setup[i].sources, sizeof workers[i].sources);
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
        else
            close_sources(w->sources, w->n_sources); /* never ran: its sources are still ours to close */
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
    if (s->addrs_ready)
        edge_addrs_clean_up(&s->addrs);
    free(s);
}
