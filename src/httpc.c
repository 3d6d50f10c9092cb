/* httpc: the asynchronous HTTP client (see httpc.h): curl multi with the
 * socket API on our own epoll descriptor. */
#include "httpc.h"

#include <curl/curl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define DEFAULT_IN_FLIGHT 128
#define DEFAULT_RESPONSE_BYTES (16 * 1024 * 1024)
#define MAX_IDLE_HANDLES 128   /* finished handles kept for reuse */
#define RECEIVE_BUFFER 8192    /* curl's per-handle read buffer (default 16 KiB) */
#define KEEP_BODY_BYTES 65536  /* a handle's body buffer larger than this is freed after use */
#define MAX_CAPTURED_BYTES 4096 /* wanted header values per response; the rest are dropped */

/* One easy handle with what a transfer needs beside it. Kept for reuse:
 * curl_easy_init allocates and clears kilobytes, and the buffers keep their storage. */
struct handle {
    CURL *easy;
    struct httpc_client *client;
    struct httpc_request *req; /* while in flight */
    char *url;                 /* the URL set on easy, owned: unchanged URLs are not set again */
    int capturing;             /* CURLOPT_HEADERFUNCTION is set */
    struct curl_slist lines[HTTPC_MAX_HEADER_LINES]; /* point into the request's lines: no copies */
    struct buf body;
    struct buf captured;       /* wanted header values, each NUL-terminated */
    size_t captured_at[HTTPC_MAX_WANTED]; /* offsets in captured; SIZE_MAX when absent */
    char error_detail[CURL_ERROR_SIZE];
};

struct httpc_client {
    size_t max_in_flight, max_response_bytes;
    char *ca_bundle, *ca_path, *proxy, *no_proxy, *user_agent;

    struct httpc_request *queue; /* accepted, not started; urgent ones first, then oldest first */
    struct httpc_request **queue_tail;
    int stopping;

    CURLM *multi;
    int epoll_fd;
    int64_t curl_timer_ms;       /* monotonic time curl wants to be called back, -1 = none */
    struct handle **in_flight;   /* running transfers, for shutdown */
    size_t n_in_flight, cap_in_flight;
    struct handle **idle;        /* finished handles kept for reuse */
    size_t n_idle, cap_idle;
};

int64_t httpc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int httpc_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void httpc_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t on_data(char *data, size_t size, size_t n, void *userdata)
{
    struct handle *h = userdata;
    size_t len = size * n;
    if (h->body.len + len > h->client->max_response_bytes || buf_append(&h->body, data, len) != 0)
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    return len;
}

/* Keeps the values of the headers the request asked for. A status line starts
 * a new response (an interim 1xx): what was captured before is dropped. */
static size_t on_header(char *line, size_t size, size_t n, void *userdata)
{
    struct handle *h = userdata;
    size_t len = size * n;
    const char *const *want = h->req->want_headers;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        buf_reset(&h->captured);
        for (size_t i = 0; i < HTTPC_MAX_WANTED; i++)
            h->captured_at[i] = SIZE_MAX;
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (colon == NULL)
        return len;
    size_t name_len = (size_t)(colon - line);
    for (size_t i = 0; want[i] != NULL; i++) {
        if (strlen(want[i]) != name_len || strncasecmp(want[i], line, name_len) != 0)
            continue;
        const char *v = colon + 1, *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t at = h->captured.len;
        if (at + (size_t)(end - v) + 1 > MAX_CAPTURED_BYTES || buf_append(&h->captured, v, (size_t)(end - v)) != 0 ||
            buf_append(&h->captured, "", 1) != 0) {
            buf_truncate(&h->captured, at);
            break;
        }
        h->captured_at[i] = at;
        break;
    }
    return len;
}

static void handle_free(struct handle *h)
{
    if (h == NULL)
        return;
    if (h->easy != NULL)
        curl_easy_cleanup(h->easy);
    free(h->url);
    buf_clean_up(&h->body);
    buf_clean_up(&h->captured);
    free(h);
}

/* A handle with the options every request shares: from the idle pool, or new. */
static struct handle *acquire_handle(struct httpc_client *c)
{
    if (c->n_idle > 0)
        return c->idle[--c->n_idle];
    struct handle *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->client = c;
    h->easy = curl_easy_init();
    if (h->easy == NULL) {
        free(h);
        return NULL;
    }
    CURL *easy = h->easy;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, h);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, h->error_detail);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    /* CURLOPT_CAINFO replaces the default bundle file; the system's hashed directory stays trusted
     * through CURLOPT_CAPATH (OpenSSL looks in both), so the bundle is extra trust, not the only trust. */
    if (c->ca_bundle != NULL) { /* the same trust for an https:// proxy (a TLS-inspecting one has a private CA) */
        curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_bundle);
        curl_easy_setopt(easy, CURLOPT_PROXY_CAINFO, c->ca_bundle);
        if (c->ca_path != NULL) {
            curl_easy_setopt(easy, CURLOPT_CAPATH, c->ca_path);
            curl_easy_setopt(easy, CURLOPT_PROXY_CAPATH, c->ca_path);
        }
    }
    /* A proxy is configured once; without one, "" keeps curl from looking up proxy variables per request,
     * and an explicit no-proxy list ("" for none) keeps it from reading no_proxy per request. */
    curl_easy_setopt(easy, CURLOPT_PROXY, c->proxy != NULL ? c->proxy : "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, c->no_proxy != NULL ? c->no_proxy : "");
    curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L); /* a proxy's CONNECT answer is not the response */
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, (long)RECEIVE_BUFFER);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, c->user_agent);
    return h;
}

/* Returns a handle (no longer in the multi) to the idle pool, or frees it when the pool is full. */
static void release_handle(struct httpc_client *c, struct handle *h)
{
    h->req = NULL;
    if (h->body.cap > KEEP_BODY_BYTES)
        buf_clean_up(&h->body);
    if (c->n_idle == c->cap_idle) {
        size_t cap = c->cap_idle ? c->cap_idle * 2 : 64;
        struct handle **grown = cap <= MAX_IDLE_HANDLES ? realloc(c->idle, cap * sizeof *grown) : NULL;
        if (grown == NULL) {
            handle_free(h);
            return;
        }
        c->idle = grown;
        c->cap_idle = cap;
    }
    c->idle[c->n_idle++] = h;
}

/* Sets a request's options on a handle. Returns 0, or -1 when memory runs out. */
static int prepare(struct handle *h, struct httpc_request *req, int64_t now)
{
    CURL *easy = h->easy;
    if (h->url == NULL || strcmp(h->url, req->url) != 0) {
        char *url = strdup(req->url);
        if (url == NULL || curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK) {
            free(url);
            return -1;
        }
        free(h->url);
        h->url = url;
    }
    struct curl_slist *lines = NULL;
    for (size_t i = req->n_header_lines; i-- > 0;) {
        h->lines[i].data = (char *)req->header_lines[i]; /* curl only reads the list */
        h->lines[i].next = lines;
        lines = &h->lines[i];
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, lines);
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, strcmp(req->method, "POST") == 0 ? NULL : req->method);
    }
    int capture = req->want_headers != NULL && req->want_headers[0] != NULL;
    if (capture != h->capturing) {
        /* Both or neither: HEADERDATA without HEADERFUNCTION sends the headers to the write function. */
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, capture ? on_header : NULL);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, capture ? h : NULL);
        h->capturing = capture;
    }
    buf_reset(&h->captured);
    for (size_t i = 0; i < HTTPC_MAX_WANTED; i++)
        h->captured_at[i] = SIZE_MAX;
    int64_t remaining = req->deadline_ms - now;
    if (remaining < 1)
        remaining = 1;
    long connect = req->connect_timeout_ms > 0 && req->connect_timeout_ms < remaining ? req->connect_timeout_ms
                                                                                       : (long)remaining;
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)remaining);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect);
    h->error_detail[0] = '\0';
    buf_reset(&h->body);
    return 0;
}

/* Calls a request's callback for an end without a response. */
static void complete_without_response(struct httpc_request *req, enum httpc_outcome outcome, const char *error)
{
    struct httpc_response resp = {.outcome = outcome, .body = "", .error = error, .error_detail = ""};
    req->callback(req, &resp);
}

/* Starts one request. Returns 0, or -1 (nothing was started; the request is untouched). */
static int start(struct httpc_client *c, struct httpc_request *req, int64_t now)
{
    if (c->n_in_flight == c->cap_in_flight) {
        size_t cap = c->cap_in_flight ? c->cap_in_flight * 2 : 64;
        struct handle **grown = realloc(c->in_flight, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        c->in_flight = grown;
        c->cap_in_flight = cap;
    }
    struct handle *h = acquire_handle(c);
    if (h == NULL)
        return -1;
    h->req = req;
    if (prepare(h, req, now) != 0 || curl_multi_add_handle(c->multi, h->easy) != CURLM_OK) {
        release_handle(c, h);
        return -1;
    }
    req->internal.handle = h;
    c->in_flight[c->n_in_flight++] = h;
    return 0;
}

/* Starts queued requests while fewer than max_in_flight run. Requests whose
 * deadline passed while they waited end with HTTPC_QUEUED_OUT. Enough
 * connections hide a backend's latency; a bound keeps memory flat under
 * thousands of waiting requests (a queued request is its caller's few hundred
 * bytes, a curl transfer tens of kilobytes). */
static void start_queued(struct httpc_client *c)
{
    if (c->queue == NULL)
        return;
    int64_t now = httpc_now_ms();
    while (c->queue != NULL && (c->n_in_flight < c->max_in_flight || c->queue->deadline_ms <= now)) {
        struct httpc_request *req = c->queue;
        c->queue = req->internal.next;
        if (c->queue == NULL)
            c->queue_tail = &c->queue;
        req->internal.next = NULL;
        if (req->deadline_ms <= now)
            complete_without_response(req, HTTPC_QUEUED_OUT, "no connection became free before the deadline");
        else if (start(c, req, now) != 0)
            complete_without_response(req, HTTPC_NOT_STARTED, "could not start the request");
    }
}

static void forget_in_flight(struct httpc_client *c, struct handle *h)
{
    for (size_t i = 0; i < c->n_in_flight; i++) {
        if (c->in_flight[i] == h) {
            c->in_flight[i] = c->in_flight[--c->n_in_flight];
            return;
        }
    }
}

/* A transfer ended: tell its caller, then keep the handle for the next one. */
static void finish(struct httpc_client *c, struct handle *h, CURLcode code)
{
    struct httpc_request *req = h->req;
    long os_errno = 0;
    char error[160] = "";
    struct httpc_response resp = {.outcome = HTTPC_DONE, .error = error, .error_detail = h->error_detail};
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &resp.content_type);
    forget_in_flight(c, h);
    req->internal.handle = NULL;
    if (code != CURLE_OK) {
        /* curl's error buffer has timings ("after 3 ms") that would make every request's log line
         * differ; its code and the errno are the same for every request that met the same failure. */
        curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &os_errno);
        char errno_text[64];
        /* curl checks the host name itself after OpenSSL's chain check and leaves the verify result at
         * X509_V_ERR_UNSPECIFIED (curl 7.88, OpenSSL 3) when only the name is wrong. */
        long verify = X509_V_ERR_UNSPECIFIED;
        if (code == CURLE_PEER_FAILED_VERIFICATION)
            curl_easy_getinfo(h->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
        if (code == CURLE_PEER_FAILED_VERIFICATION && verify != X509_V_OK && verify != X509_V_ERR_UNSPECIFIED &&
            verify != X509_V_ERR_HOSTNAME_MISMATCH && verify != X509_V_ERR_IP_ADDRESS_MISMATCH)
            snprintf(error, sizeof error, "TLS certificate verification failed: %s",
                     X509_verify_cert_error_string(verify));
        else if (code == CURLE_PEER_FAILED_VERIFICATION)
            snprintf(error, sizeof error, "TLS certificate verification failed: the certificate does not name the host");
        else if (os_errno != 0)
            snprintf(error, sizeof error, "%s (%s)", curl_easy_strerror(code),
                     strerror_r((int)os_errno, errno_text, sizeof errno_text)); /* GNU: returns the text */
        else
            snprintf(error, sizeof error, "%s", curl_easy_strerror(code));
        resp.outcome = code == CURLE_WRITE_ERROR         ? HTTPC_TOO_LARGE
                       : code == CURLE_OPERATION_TIMEDOUT ? HTTPC_TIMEOUT
                                                          : HTTPC_NETWORK;
        resp.status = 0;
        resp.content_type = NULL;
        resp.body = "";
    } else {
        resp.body = buf_cstr(&h->body);
        resp.body_len = h->body.len;
        if (req->want_headers != NULL)
            for (size_t i = 0; i < HTTPC_MAX_WANTED && req->want_headers[i] != NULL; i++)
                resp.headers[i] = h->captured_at[i] != SIZE_MAX ? h->captured.data + h->captured_at[i] : NULL;
    }
    req->callback(req, &resp); /* may free req, or send it again (queued: this handle is not reused yet) */
    curl_multi_remove_handle(c->multi, h->easy); /* after: the content type points into the handle */
    release_handle(c, h);
}

/* curl asks to watch (or stop watching) one of its sockets. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct httpc_client *c = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(c->multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {
        .events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0),
        .data.fd = fd,
    };
    if (socketp == NULL) { /* first time: remember that it is registered */
        epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
        curl_multi_assign(c->multi, fd, c);
    } else {
        epoll_ctl(c->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

/* curl asks to be called back after timeout_ms (-1: no timer). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct httpc_client *c = userp;
    c->curl_timer_ms = timeout_ms < 0 ? -1 : httpc_now_ms() + timeout_ms;
    return 0;
}

static void read_completions(struct httpc_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct handle *h;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
        finish(c, h, msg->data.result);
    }
}

int httpc_client_fd(const struct httpc_client *c)
{
    return c->epoll_fd;
}

int httpc_client_timeout_ms(const struct httpc_client *c)
{
    if (c->queue != NULL && c->n_in_flight < c->max_in_flight)
        return 0;
    /* The earliest of: curl's timer, a queued request's deadline. */
    int64_t due = c->curl_timer_ms;
    if (c->queue != NULL && (due < 0 || c->queue->deadline_ms < due))
        due = c->queue->deadline_ms;
    if (due < 0)
        return -1;
    int64_t wait = due - httpc_now_ms();
    return wait <= 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
}

void httpc_client_run(struct httpc_client *c, int fd_ready)
{
    int running;
    start_queued(c);
    if (c->curl_timer_ms >= 0 && c->curl_timer_ms <= httpc_now_ms()) {
        c->curl_timer_ms = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    if (fd_ready) {
        struct epoll_event events[64];
        int n = epoll_wait(c->epoll_fd, events, 64, 0);
        for (int i = 0; i < n; i++) {
            int mask = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(c->multi, events[i].data.fd, mask, &running);
        }
    }
    read_completions(c);
    start_queued(c); /* into the slots just freed, what the callbacks sent */
}

int httpc_send(struct httpc_client *c, struct httpc_request *req)
{
    size_t n_want = 0;
    if (req->want_headers != NULL)
        while (req->want_headers[n_want] != NULL)
            n_want++;
    if (c->stopping || req->method == NULL || req->url == NULL || req->callback == NULL ||
        req->n_header_lines > HTTPC_MAX_HEADER_LINES || n_want > HTTPC_MAX_WANTED)
        return -1;
    req->internal.handle = NULL;
    if (req->urgent) { /* after the urgent ones already queued, before the rest */
        struct httpc_request **p = &c->queue;
        while (*p != NULL && (*p)->urgent)
            p = &(*p)->internal.next;
        req->internal.next = *p;
        *p = req;
        if (req->internal.next == NULL)
            c->queue_tail = &req->internal.next;
    } else {
        req->internal.next = NULL;
        *c->queue_tail = req; /* started by the next run: the callback never comes from inside send */
        c->queue_tail = &req->internal.next;
    }
    return 0;
}

static char *copy(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* The system's hashed CA directory: libcurl's built-in one (Debian: /etc/ssl/certs), else
 * /etc/ssl/certs when it exists. NULL when there is none. */
static const char *system_ca_path(void)
{
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    struct stat st;
    if (info != NULL && info->capath != NULL)
        return info->capath;
    return stat("/etc/ssl/certs", &st) == 0 && S_ISDIR(st.st_mode) ? "/etc/ssl/certs" : NULL;
}

struct httpc_client *httpc_client_new(const struct httpc_config *cfg)
{
    struct httpc_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->max_in_flight = cfg->max_in_flight > 0 ? cfg->max_in_flight : DEFAULT_IN_FLIGHT;
    c->max_response_bytes = cfg->max_response_bytes > 0 ? cfg->max_response_bytes : DEFAULT_RESPONSE_BYTES;
    c->ca_bundle = copy(cfg->ca_bundle);
    c->ca_path = copy(cfg->ca_bundle != NULL ? system_ca_path() : NULL);
    c->proxy = copy(cfg->proxy);
    c->no_proxy = copy(cfg->no_proxy);
    c->user_agent = copy(cfg->user_agent != NULL ? cfg->user_agent : "usersvc/" USERSVC_VERSION);
    c->multi = curl_multi_init();
    c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    c->curl_timer_ms = -1;
    c->queue_tail = &c->queue;
    if (c->epoll_fd < 0 || c->multi == NULL || c->user_agent == NULL || (cfg->ca_bundle && !c->ca_bundle) ||
        (cfg->proxy && !c->proxy) || (cfg->no_proxy && !c->no_proxy)) {
        httpc_client_free(c);
        return NULL;
    }
    /* Keep every connection the in-flight limit can use alive between requests. */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->max_in_flight);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

void httpc_client_free(struct httpc_client *c)
{
    if (c == NULL)
        return;
    c->stopping = 1;
    while (c->n_in_flight > 0) {
        struct handle *h = c->in_flight[--c->n_in_flight];
        struct httpc_request *req = h->req;
        curl_multi_remove_handle(c->multi, h->easy);
        handle_free(h);
        req->internal.handle = NULL;
        complete_without_response(req, HTTPC_SHUTDOWN, "the client is shutting down");
    }
    struct httpc_request *req = c->queue;
    c->queue = NULL;
    c->queue_tail = &c->queue;
    while (req != NULL) {
        struct httpc_request *next = req->internal.next;
        complete_without_response(req, HTTPC_SHUTDOWN, "the client is shutting down");
        req = next;
    }
    while (c->n_idle > 0)
        handle_free(c->idle[--c->n_idle]);
    free(c->idle);
    free(c->in_flight);
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    if (c->epoll_fd >= 0)
        close(c->epoll_fd);
    free(c->ca_bundle);
    free(c->ca_path);
    free(c->proxy);
    free(c->no_proxy);
    free(c->user_agent);
    free(c);
}
