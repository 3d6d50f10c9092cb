/* httpc: the asynchronous HTTP client (see httpc.h). libcurl is the transport: its multi interface
 * (socket API, on our own epoll descriptor) resolves, connects, tunnels through proxies and does TLS
 * for CURLOPT_CONNECT_ONLY handles; the requests are written by us into one buffer and sent with
 * curl_easy_send, the answers read with curl_easy_recv by httpresp.c, readiness from our epoll on
 * the connected socket (CURLINFO_ACTIVESOCKET). curl's per-transfer machinery (request formatting,
 * URL parsing, header callbacks) stays off the hot path. */
#include "httpc.h"

#include <curl/curl.h>
#include <errno.h>
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
#include "httpresp.h"

#define DEFAULT_IN_FLIGHT 128
#define DEFAULT_RESPONSE_BYTES (16 * 1024 * 1024)
#define MAX_HEAD_BYTES (16 * 1024) /* an upstream response head */
#define KEEP_BUFFER_BYTES 65536    /* a connection's buffer larger than this is freed after use */
#define IDLE_MAX_MS 50000          /* an idle connection older than this is closed, not reused */
#define RECEIVE_CHUNK 16384        /* bytes asked of curl_easy_recv at a time */

enum conn_state {
    CONN_CONNECTING, /* curl's multi connects (TCP, proxy tunnel, TLS) */
    CONN_SENDING,    /* our request bytes go out with curl_easy_send */
    CONN_RECEIVING,  /* the answer comes in with curl_easy_recv */
    CONN_IDLE,       /* kept alive for the next request to the same origin */
};

/* One connection: a CURLOPT_CONNECT_ONLY easy handle, which stays in the multi while the connection
 * lives (removing it closes the connection), and the request it carries. */
struct conn {
    CURL *easy;
    struct httpc_client *client;
    char *origin;           /* "scheme://authority" of the URL, owned */
    size_t origin_len;
    int tls, proxied;       /* https://; through the proxy (plain http then uses absolute-form targets) */
    enum conn_state state;
    curl_socket_t fd;       /* once connected */
    uint32_t events;        /* registered in our epoll; 0: not registered */
    struct httpc_request *req;
    unsigned served;        /* responses read on it: a reused connection may have been closed meanwhile */
    int64_t idle_since;
    struct buf out;         /* the request, written by us */
    size_t sent;
    int send_waited;        /* curl_easy_send said CURLE_AGAIN for this request: bytes may have gone out */
    struct httpresp resp;
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
    int64_t curl_timer_ms;  /* monotonic time curl wants to be called back, -1 = none */
    struct conn **conns;    /* every connection */
    size_t n_conns, cap_conns;
    size_t n_busy;          /* connections carrying a request */
    struct conn **idle;     /* idle connections, oldest first */
    size_t n_idle;
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

/* The length of "scheme://authority" at the start of url; 0 when it is not http:// or https://. */
static size_t origin_length(const char *url)
{
    size_t skip = strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
    if (skip == 0)
        return 0;
    size_t n = skip + strcspn(url + skip, "/?#");
    return n > skip ? n : 0;
}

/* Whether no_proxy (curl's syntax: comma-separated names, a leading dot optional, "*" for every host)
 * names host or a domain above it. Host without brackets or port. */
int httpc_no_proxy_matches(const char *no_proxy, const char *host, size_t host_len)
{
    const char *p = no_proxy;
    while (p != NULL && *p != '\0') {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *name = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t)(p - name);
        if (len == 1 && name[0] == '*')
            return 1;
        if (len > 0 && name[0] == '.') {
            name++;
            len--;
        }
        if (len > 0 && len < host_len && strncasecmp(host + host_len - len, name, len) == 0 &&
            host[host_len - len - 1] == '.')
            return 1;
        if (len > 0 && len == host_len && strncasecmp(host, name, len) == 0)
            return 1;
    }
    return 0;
}

/* Whether a connection to the origin goes through the client's proxy. */
static int use_proxy(const struct httpc_client *c, const char *origin, size_t origin_len)
{
    if (c->proxy == NULL)
        return 0;
    const char *host = strstr(origin, "://") + 3, *end = origin + origin_len;
    const char *at = memchr(host, '@', (size_t)(end - host));
    if (at != NULL)
        host = at + 1;
    const char *host_end;
    if (*host == '[') {
        host++;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL)
            host_end = end;
    } else {
        host_end = memchr(host, ':', (size_t)(end - host));
        if (host_end == NULL)
            host_end = end;
    }
    return !httpc_no_proxy_matches(c->no_proxy, host, (size_t)(host_end - host));
}

/* Sets the events a connection's socket is watched for in our epoll (0: none). */
static void watch(struct conn *k, uint32_t events)
{
    if (events == k->events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = k};
    int op = k->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(k->client->epoll_fd, op, k->fd, &ev) != 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
        epoll_ctl(k->client->epoll_fd, EPOLL_CTL_MOD, k->fd, &ev);
    k->events = events;
}

static void remove_idle(struct httpc_client *c, struct conn *k)
{
    for (size_t i = 0; i < c->n_idle; i++) {
        if (c->idle[i] == k) {
            memmove(&c->idle[i], &c->idle[i + 1], (c->n_idle - i - 1) * sizeof *c->idle);
            c->n_idle--;
            return;
        }
    }
}

/* Closes a connection that carries no request any more, and frees it. */
static void conn_close(struct httpc_client *c, struct conn *k)
{
    if (k->state == CONN_IDLE)
        remove_idle(c, k);
    for (size_t i = 0; i < c->n_conns; i++) {
        if (c->conns[i] == k) {
            c->conns[i] = c->conns[--c->n_conns];
            break;
        }
    }
    watch(k, 0); /* before curl closes the socket */
    if (k->easy != NULL) {
        curl_multi_remove_handle(c->multi, k->easy); /* closes a CONNECT_ONLY connection at once */
        curl_easy_cleanup(k->easy);
    }
    free(k->origin);
    buf_clean_up(&k->out);
    httpresp_clean_up(&k->resp);
    free(k);
}

/* Calls a request's callback for an end without a response. */
static void complete_without_response(struct httpc_request *req, enum httpc_outcome outcome, const char *error,
                                      const char *detail)
{
    struct httpc_response resp = {.outcome = outcome, .body = "", .error = error, .error_detail = detail};
    req->callback(req, &resp);
}

/* The request on k ended without a response: tell its caller, close the connection. */
static void conn_fail(struct httpc_client *c, struct conn *k, enum httpc_outcome outcome, const char *error)
{
    struct httpc_request *req = k->req;
    k->req = NULL;
    c->n_busy--;
    req->internal.handle = NULL;
    complete_without_response(req, outcome, error, k->error_detail);
    conn_close(c, k);
}

/* The connection died before any byte of the answer and the request may be sent again: close it and
 * queue the request first, for a new connection (which is never retried like this: served is 0). */
static void conn_retry(struct httpc_client *c, struct conn *k)
{
    struct httpc_request *req = k->req;
    k->req = NULL;
    c->n_busy--;
    req->internal.handle = NULL;
    conn_close(c, k);
    req->internal.next = c->queue;
    c->queue = req;
    if (req->internal.next == NULL)
        c->queue_tail = &req->internal.next;
}

/* A description of a curl failure that is the same for every request that met it. */
static void describe(CURL *easy, CURLcode code, char *error, size_t size)
{
    long os_errno = 0;
    char errno_text[64];
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    /* curl checks the host name itself after OpenSSL's chain check and leaves the verify result at
     * X509_V_ERR_UNSPECIFIED (curl 7.88, OpenSSL 3) when only the name is wrong. */
    long verify = X509_V_ERR_UNSPECIFIED;
    if (code == CURLE_PEER_FAILED_VERIFICATION)
        curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify);
    if (code == CURLE_PEER_FAILED_VERIFICATION && verify != X509_V_OK && verify != X509_V_ERR_UNSPECIFIED &&
        verify != X509_V_ERR_HOSTNAME_MISMATCH && verify != X509_V_ERR_IP_ADDRESS_MISMATCH)
        snprintf(error, size, "TLS certificate verification failed: %s", X509_verify_cert_error_string(verify));
    else if (code == CURLE_PEER_FAILED_VERIFICATION)
        snprintf(error, size, "TLS certificate verification failed: the certificate does not name the host");
    else if (os_errno != 0)
        snprintf(error, size, "%s (%s)", curl_easy_strerror(code),
                 strerror_r((int)os_errno, errno_text, sizeof errno_text)); /* GNU: returns the text */
    else
        snprintf(error, size, "%s", curl_easy_strerror(code));
}

/* Whether line is the header name (lowercase, len bytes). The first letter decides most lines cheaply. */
static int header_named(const char *line, const char *name, size_t len)
{
    return (line[0] | 0x20) == name[0] && strncasecmp(line, name, len) == 0 && line[len] == ':';
}

/* Writes the request into k->out: request line, Host and User-Agent unless the caller gave them, the
 * caller's lines (a line with an empty value, curl's way of removing a header, is left out; so is a
 * Content-Length: ours is the true one), Content-Length, the body. Returns 0 or -1 (no memory). */
static int write_request(struct httpc_client *c, struct conn *k, const struct httpc_request *req)
{
    struct buf *out = &k->out;
    const char *path = req->url + k->origin_len;
    int host = 0, agent = 0;
    buf_reset(out);
    if (buf_reserve(out, 512 + req->body_len) != 0 || buf_append_str(out, req->method) != 0 ||
        buf_append_char(out, ' ') != 0)
        return -1;
    if (k->proxied && !k->tls && buf_append(out, k->origin, k->origin_len) != 0) /* absolute-form */
        return -1;
    if ((*path != '/' && buf_append_char(out, '/') != 0) || buf_append_str(out, path) != 0 ||
        buf_append(out, " HTTP/1.1\r\n", 11) != 0)
        return -1;
    for (size_t i = 0; i < req->n_header_lines; i++) {
        const char *line = req->header_lines[i], *colon = strchr(line, ':');
        if (colon == NULL || colon[1 + strspn(colon + 1, " \t")] == '\0' || header_named(line, "content-length", 14))
            continue;
        host |= header_named(line, "host", 4);
        agent |= header_named(line, "user-agent", 10);
        size_t len = (size_t)(colon - line) + 1 + strlen(colon + 1);
        if (buf_append(out, line, len) != 0 || buf_append(out, "\r\n", 2) != 0)
            return -1;
    }
    if (!host) {
        const char *authority = strstr(k->origin, "://") + 3;
        if (buf_append(out, "Host: ", 6) != 0 ||
            buf_append(out, authority, (size_t)(k->origin + k->origin_len - authority)) != 0 ||
            buf_append(out, "\r\n", 2) != 0)
            return -1;
    }
    if (!agent && buf_concat(out, "User-Agent: ", c->user_agent, "\r\n") != 0)
        return -1;
    if (req->body_len > 0 || strcmp(req->method, "GET") != 0) { /* by hand: printf costs more than the rest */
        char digits[24], *d = digits + sizeof digits;
        size_t n = req->body_len;
        do
            *--d = (char)('0' + n % 10);
        while ((n /= 10) > 0);
        if (buf_append(out, "Content-Length: ", 16) != 0 || buf_append(out, d, (size_t)(digits + sizeof digits - d)) != 0 ||
            buf_append(out, "\r\n", 2) != 0)
            return -1;
    }
    if (buf_append(out, "\r\n", 2) != 0 || (req->body_len > 0 && buf_append(out, req->body, req->body_len) != 0))
        return -1;
    return 0;
}

static void conn_send(struct httpc_client *c, struct conn *k);

/* Puts a request on a connected connection and starts sending it. */
static void conn_begin(struct httpc_client *c, struct conn *k)
{
    struct httpc_request *req = k->req;
    k->error_detail[0] = '\0';
    if (write_request(c, k, req) != 0) {
        conn_fail(c, k, HTTPC_NOT_STARTED, "could not start the request");
        return;
    }
    httpresp_begin(&k->resp, req->want_headers, strcmp(req->method, "HEAD") == 0, MAX_HEAD_BYTES,
                   c->max_response_bytes);
    k->sent = 0;
    k->send_waited = 0;
    k->state = CONN_SENDING;
    conn_send(c, k);
}

static void conn_send(struct httpc_client *c, struct conn *k)
{
    while (k->sent < k->out.len) {
        size_t n = 0;
        CURLcode code = curl_easy_send(k->easy, k->out.data + k->sent, k->out.len - k->sent, &n);
        if (code == CURLE_AGAIN) {
            k->send_waited = 1;
            watch(k, EPOLLIN | EPOLLOUT); /* TLS may need to read before it can write */
            return;
        }
        if (code != CURLE_OK) {
            /* A kept-alive connection the server had closed, when the first send failed outright. Not once
             * a send waited: with TLS, a CURLE_AGAIN that reports 0 bytes may follow whole records already
             * written (SSL_write without partial writes), so sent == 0 does not prove that nothing went out. */
            if (k->sent == 0 && !k->send_waited && k->served > 0) {
                conn_retry(c, k);
                return;
            }
            char error[160];
            describe(k->easy, code, error, sizeof error);
            conn_fail(c, k, HTTPC_NETWORK, error);
            return;
        }
        k->sent += n;
    }
    if (k->out.cap > KEEP_BUFFER_BYTES)
        buf_clean_up(&k->out);
    k->state = CONN_RECEIVING;
    watch(k, EPOLLIN);
}

/* A whole response arrived on k: tell its caller, then keep the connection or close it. */
static void conn_done(struct httpc_client *c, struct conn *k, int reusable)
{
    struct httpc_request *req = k->req;
    struct httpresp *r = &k->resp;
    struct httpc_response resp = {
        .outcome = HTTPC_DONE, .status = r->status, .body = buf_cstr(&r->body), .body_len = r->body.len,
        .content_type = r->content_type, .error = "", .error_detail = ""};
    for (size_t i = 0; i < HTTPC_MAX_WANTED && i < HTTPRESP_MAX_WANTED; i++)
        resp.headers[i] = r->wanted[i];
    k->req = NULL;
    k->served++;
    c->n_busy--;
    req->internal.handle = NULL;
    req->callback(req, &resp); /* may free req, or send it again (queued: this connection is not used yet) */
    if (!reusable || !r->keep_alive || c->stopping) {
        conn_close(c, k);
        return;
    }
    if (r->body.cap > KEEP_BUFFER_BYTES)
        buf_clean_up(&r->body);
    k->state = CONN_IDLE;
    k->idle_since = httpc_now_ms();
    c->idle[c->n_idle++] = k; /* room: idle has a slot for every connection */
}

static int idempotent(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "DELETE") == 0;
}

/* Reads what the socket has (with TLS, until curl_easy_recv says CURLE_AGAIN: decrypted bytes may wait
 * in OpenSSL while the socket is quiet). Also while the request is still going out: a server may answer
 * early and stop reading (RFC 9112 section 9.5); that answer is the request's, and the connection, with
 * part of the request unsent, is not kept. Returns 0 while the answer is incomplete, 1 when the request
 * ended (k may be freed). */
static int conn_receive(struct httpc_client *c, struct conn *k)
{
    char data[RECEIVE_CHUNK];
    for (;;) {
        size_t n = 0, used = 0;
        CURLcode code = curl_easy_recv(k->easy, data, sizeof data, &n);
        if (code == CURLE_AGAIN)
            return 0;
        enum httpresp_state state;
        if (code != CURLE_OK || n == 0) { /* an error, or the end of the connection */
            int started = httpresp_started(&k->resp);
            state = code == CURLE_OK ? httpresp_eof(&k->resp) : HTTPRESP_MALFORMED;
            if (state == HTTPRESP_DONE) {
                conn_done(c, k, 0);
                return 1;
            }
            if (!started && k->served > 0 && idempotent(k->req->method)) {
                conn_retry(c, k); /* the server closed the kept-alive connection as the request went out */
                return 1;
            }
            char error[160];
            if (code != CURLE_OK)
                describe(k->easy, code, error, sizeof error);
            else
                snprintf(error, sizeof error, "%s", k->resp.error);
            conn_fail(c, k, HTTPC_NETWORK, error);
            return 1;
        }
        state = httpresp_feed(&k->resp, data, n, &used);
        if (state == HTTPRESP_MORE)
            continue;
        if (state == HTTPRESP_DONE) {
            int leftover = used < n || k->state == CONN_SENDING;
            if (!leftover && k->tls) { /* bytes decrypted beyond the response would be read as the next one */
                size_t more = 0;
                leftover = curl_easy_recv(k->easy, data, 1, &more) != CURLE_AGAIN;
            }
            conn_done(c, k, !leftover);
            return 1;
        }
        snprintf(k->error_detail, sizeof k->error_detail, "%s", k->resp.error);
        if (state == HTTPRESP_TOO_LARGE) {
            conn_fail(c, k, HTTPC_TOO_LARGE, "the response is over the size limit");
            return 1;
        }
        char error[160];
        snprintf(error, sizeof error, "malformed response: %s", k->resp.error);
        conn_fail(c, k, HTTPC_NETWORK, error);
        return 1;
    }
}

/* A new connection for req, connected by curl's multi. Returns 0, or -1 (nothing started). */
static int conn_open(struct httpc_client *c, struct httpc_request *req, size_t origin_len, int64_t now)
{
    struct conn *k = calloc(1, sizeof *k);
    if (k == NULL)
        return -1;
    k->client = c;
    k->fd = CURL_SOCKET_BAD;
    k->origin = malloc(origin_len + 2);
    k->origin_len = origin_len;
    k->easy = curl_easy_init();
    httpresp_init(&k->resp);
    if (k->origin == NULL || k->easy == NULL) {
        conn_close(c, k);
        return -1;
    }
    k->tls = strncasecmp(req->url, "https://", 8) == 0;
    CURL *easy = k->easy;
    memcpy(k->origin, req->url, origin_len);
    memcpy(k->origin + origin_len, "/", 2); /* "scheme://authority/" for curl, which copies it */
    curl_easy_setopt(easy, CURLOPT_URL, k->origin);
    k->origin[origin_len] = '\0';
    int64_t remaining = req->deadline_ms - now;
    if (remaining < 1)
        remaining = 1;
    long connect = req->connect_timeout_ms > 0 && req->connect_timeout_ms < remaining ? req->connect_timeout_ms
                                                                                       : (long)remaining;
    k->proxied = use_proxy(c, k->origin, origin_len);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, k);
    curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, k->error_detail);
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
    /* We decide about the proxy (no_proxy included), so a plain-http request knows to use the absolute
     * form; "" keeps curl from reading proxy variables. https:// goes through a CONNECT tunnel. */
    curl_easy_setopt(easy, CURLOPT_PROXY, k->proxied ? c->proxy : "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)remaining);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect);
    if (c->n_conns == c->cap_conns) {
        size_t cap = c->cap_conns ? c->cap_conns * 2 : 16;
        struct conn **conns = realloc(c->conns, cap * sizeof *conns);
        struct conn **idle = conns != NULL ? realloc(c->idle, cap * sizeof *idle) : NULL;
        if (conns != NULL)
            c->conns = conns;
        if (idle == NULL) {
            conn_close(c, k);
            return -1;
        }
        c->idle = idle;
        c->cap_conns = cap;
    }
    c->conns[c->n_conns++] = k;
    if (curl_multi_add_handle(c->multi, easy) != CURLM_OK) {
        conn_close(c, k);
        return -1;
    }
    k->state = CONN_CONNECTING;
    k->req = req;
    req->internal.handle = k;
    c->n_busy++;
    return 0;
}

/* Starts one request: on an idle connection to its origin, else on a new one (closing the oldest idle
 * connection when the client holds as many as it may). Returns 0, or -1 (nothing was started). */
static int start(struct httpc_client *c, struct httpc_request *req, int64_t now)
{
    size_t origin_len = origin_length(req->url);
    if (origin_len == 0)
        return -1;
    for (size_t i = c->n_idle; i-- > 0;) { /* the most recently used first */
        struct conn *k = c->idle[i];
        if (k->origin_len != origin_len || strncasecmp(k->origin, req->url, origin_len) != 0)
            continue;
        if (now - k->idle_since > IDLE_MAX_MS) {
            conn_close(c, k);
            continue;
        }
        remove_idle(c, k);
        k->req = req;
        req->internal.handle = k;
        c->n_busy++;
        conn_begin(c, k);
        return 0;
    }
    if (c->n_conns >= c->max_in_flight && c->n_idle > 0)
        conn_close(c, c->idle[0]);
    return conn_open(c, req, origin_len, now);
}

/* Starts queued requests while fewer than max_in_flight run. Requests whose
 * deadline passed while they waited end with HTTPC_QUEUED_OUT. Enough
 * connections hide a backend's latency; a bound keeps memory flat under
 * thousands of waiting requests (a queued request is its caller's few hundred
 * bytes, a connection some kilobytes). */
static void start_queued(struct httpc_client *c)
{
    if (c->queue == NULL)
        return;
    int64_t now = httpc_now_ms();
    while (c->queue != NULL && (c->n_busy < c->max_in_flight || c->queue->deadline_ms <= now)) {
        struct httpc_request *req = c->queue;
        c->queue = req->internal.next;
        if (c->queue == NULL)
            c->queue_tail = &c->queue;
        req->internal.next = NULL;
        if (req->deadline_ms <= now)
            complete_without_response(req, HTTPC_QUEUED_OUT, "no connection became free before the deadline", "");
        else if (start(c, req, now) != 0)
            complete_without_response(req, HTTPC_NOT_STARTED, "could not start the request", "");
    }
}

/* curl finished connecting one of ours (or failed to). */
static void connected(struct httpc_client *c, struct conn *k, CURLcode code)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (code == CURLE_OK && (curl_easy_getinfo(k->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
                             fd == CURL_SOCKET_BAD))
        code = CURLE_COULDNT_CONNECT;
    if (code != CURLE_OK) {
        char error[160];
        describe(k->easy, code, error, sizeof error);
        conn_fail(c, k, code == CURLE_OPERATION_TIMEDOUT ? HTTPC_TIMEOUT : HTTPC_NETWORK, error);
        return;
    }
    k->fd = fd;
    conn_begin(c, k);
}

/* The request deadlines curl no longer enforces once connected: sending and receiving. */
static void expire(struct httpc_client *c, int64_t now)
{
    for (size_t i = c->n_conns; i-- > 0;) {
        if (i >= c->n_conns)
            continue; /* a failure closed more than one */
        struct conn *k = c->conns[i];
        if ((k->state == CONN_SENDING || k->state == CONN_RECEIVING) && k->req->deadline_ms <= now)
            conn_fail(c, k, HTTPC_TIMEOUT, "Timeout was reached");
    }
}

/* curl asks to watch (or stop watching) one of its sockets: in our epoll with an odd tag (fd * 2 + 1),
 * which no connection pointer has. */
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
        .data.u64 = (uint64_t)fd * 2 + 1,
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
        struct conn *k;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&k);
        if (k->state == CONN_CONNECTING)
            connected(c, k, msg->data.result);
    }
}

/* An event on one of our connections. */
static void conn_event(struct httpc_client *c, struct conn *k, uint32_t events)
{
    switch (k->state) {
    case CONN_IDLE: /* the server closed it, or sent what nobody asked for */
        conn_close(c, k);
        break;
    case CONN_SENDING: /* readable: an early answer (else its bytes would wake us at every turn), or TLS */
        if ((events & EPOLLIN) && conn_receive(c, k) != 0)
            break;
        conn_send(c, k);
        break;
    case CONN_RECEIVING:
        conn_receive(c, k);
        break;
    case CONN_CONNECTING:
        break;
    }
}

int httpc_client_fd(const struct httpc_client *c)
{
    return c->epoll_fd;
}

int httpc_client_timeout_ms(const struct httpc_client *c)
{
    if (c->queue != NULL && c->n_busy < c->max_in_flight)
        return 0;
    /* The earliest of: curl's timer, a queued request's deadline, a sent request's deadline. */
    int64_t due = c->curl_timer_ms;
    if (c->queue != NULL && (due < 0 || c->queue->deadline_ms < due))
        due = c->queue->deadline_ms;
    for (size_t i = 0; i < c->n_conns; i++) {
        const struct conn *k = c->conns[i];
        if ((k->state == CONN_SENDING || k->state == CONN_RECEIVING) && (due < 0 || k->req->deadline_ms < due))
            due = k->req->deadline_ms;
    }
    if (due < 0)
        return -1;
    int64_t wait = due - httpc_now_ms();
    return wait <= 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
}

/* Serves what our epoll reports: our connections' events and curl's sockets. */
static void serve_events(struct httpc_client *c)
{
    int running;
    struct epoll_event events[64];
    int n = epoll_wait(c->epoll_fd, events, 64, 0);
    for (int i = 0; i < n; i++) {
        uint64_t tag = events[i].data.u64;
        if ((tag & 1) == 0) { /* one of our connections */
            conn_event(c, events[i].data.ptr, events[i].events);
            continue;
        }
        int mask = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                   (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(c->multi, (curl_socket_t)(tag >> 1), mask, &running);
    }
}

void httpc_client_run(struct httpc_client *c, int fd_ready)
{
    int running;
    if (fd_ready) /* first: an idle connection the server closed meanwhile is closed, not given a request */
        serve_events(c);
    start_queued(c);
    int64_t now = httpc_now_ms();
    if (c->curl_timer_ms >= 0 && c->curl_timer_ms <= now) {
        c->curl_timer_ms = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    read_completions(c);
    expire(c, now);
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
    while (c->n_conns > 0) {
        struct conn *k = c->conns[c->n_conns - 1];
        if (k->req != NULL)
            conn_fail(c, k, HTTPC_SHUTDOWN, "the client is shutting down");
        else
            conn_close(c, k);
    }
    struct httpc_request *req = c->queue;
    c->queue = NULL;
    c->queue_tail = &c->queue;
    while (req != NULL) {
        struct httpc_request *next = req->internal.next;
        complete_without_response(req, HTTPC_SHUTDOWN, "the client is shutting down", "");
        req = next;
    }
    free(c->conns);
    free(c->idle);
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
