/* httpc: an asynchronous HTTP client driven by one thread's event loop. It
 * knows nothing of DynamoDB or AWS: the DynamoDB client (ddb.c) and the
 * credential providers (STS, container, IMDS endpoints) sit on top of it.
 *
 * A client belongs to one thread, which waits for httpc_client_fd to be
 * readable or httpc_client_timeout_ms to pass, then calls httpc_client_run,
 * which never blocks. It owns a curl multi handle driven through the socket
 * API and its own epoll descriptor; connections are kept alive between
 * requests (one cache per client), finished easy handles are reused, at most
 * max_in_flight requests run at once and the rest wait in a FIFO queue.
 *
 * Requests live in caller storage (struct httpc_request, usually a member of
 * the caller's own job): sending allocates nothing per request beyond what
 * curl itself does. Every accepted request gets exactly one callback, from
 * httpc_client_run or httpc_client_free, never from inside httpc_send.
 * Only this module includes <curl/curl.h>. */
#ifndef USERSVC_HTTPC_H
#define USERSVC_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#define HTTPC_MAX_HEADER_LINES 12 /* request header lines per request */
#define HTTPC_MAX_WANTED 6        /* response headers one request may ask for */

struct httpc_config {
    size_t max_in_flight;      /* requests (and so connections) at once; more wait in the queue. 0: 128 */
    size_t max_response_bytes; /* a longer body ends the request with HTTPC_TOO_LARGE. 0: 16 MiB */
    const char *ca_bundle;     /* a PEM file of extra trust (CURLOPT_CAINFO; the system's CA directory
                                * stays trusted through CURLOPT_CAPATH); NULL: the system's only */
    const char *proxy;         /* "http://proxy:3128"; NULL: no proxy, and no per-request proxy lookups */
    const char *no_proxy;      /* hosts that bypass proxy (curl's NO_PROXY syntax); NULL: none */
    const char *user_agent;    /* NULL: "usersvc/<version>" */
};

/* Why a request ended. Only HTTPC_DONE carries an HTTP response. */
enum httpc_outcome {
    HTTPC_DONE,        /* a response arrived (any status) */
    HTTPC_NETWORK,     /* no response: resolve, connect, TLS, send or receive failed */
    HTTPC_TIMEOUT,     /* the deadline (or the connect timeout) passed during the transfer */
    HTTPC_TOO_LARGE,   /* the body was over max_response_bytes (or memory ran out storing it) */
    HTTPC_QUEUED_OUT,  /* the deadline passed while the request waited for a free slot: nothing was sent */
    HTTPC_NOT_STARTED, /* curl refused the request or memory ran out: nothing was sent */
    HTTPC_SHUTDOWN,    /* the client is being freed */
};

struct httpc_response {
    enum httpc_outcome outcome;
    long status;              /* HTTP status; 0 without a response */
    const char *body;         /* NUL-terminated, body_len bytes before the NUL; "" when none */
    size_t body_len;
    const char *content_type; /* raw Content-Type value; NULL when none */
    /* Values of the request's want_headers, same order; NULL when absent. A repeated header keeps its last value. */
    const char *headers[HTTPC_MAX_WANTED];
    /* Without a response: a description that is the same for every request that met the same failure
     * ("Couldn't connect to server (Connection refused)", "TLS certificate verification failed:
     * self-signed certificate in certificate chain"), fit for logs. "" with a response. */
    const char *error;
    /* curl's own detail (may hold timings and addresses): debug logs only. "" when none. */
    const char *error_detail;
};

struct httpc_request;

/* Called exactly once per accepted httpc_send. resp and everything it points
 * to are borrowed for the call. The callback may free the request's storage,
 * and may call httpc_send (never httpc_client_free). */
typedef void httpc_callback(struct httpc_request *req, const struct httpc_response *resp);

/* Caller storage for one request. The caller sets the fields above `internal`;
 * they (and every string and array they point to) are borrowed until the
 * callback, and must not change meanwhile. The same storage may be sent again
 * from or after its callback (a retry). */
struct httpc_request {
    const char *method;                /* "GET", "POST", "PUT" */
    const char *url;                   /* absolute http:// or https:// URL */
    const char *const *header_lines;   /* "Name: value", without CR/LF; n_header_lines of them */
    size_t n_header_lines;             /* at most HTTPC_MAX_HEADER_LINES */
    const void *body;                  /* sent as is; NULL with body_len 0 for none */
    size_t body_len;
    const char *const *want_headers;   /* lowercase names to capture, NULL-terminated; NULL: none */
    int64_t deadline_ms;               /* monotonic (httpc_now_ms); the request never outlives it */
    long connect_timeout_ms;           /* per connection attempt, within the deadline; 0: the deadline only */
    int urgent;                        /* queued ahead of the others (a retry of older work) */
    httpc_callback *callback;
    void *ctx;                         /* for the callback */
    struct {                           /* httpc's own: do not touch */
        struct httpc_request *next;
        void *handle;
    } internal;
};

struct httpc_client;

/* A new client; the config's strings are copied. Returns NULL on failure.
 * curl_global_init must have run first (httpc_global_init). */
struct httpc_client *httpc_client_new(const struct httpc_config *cfg);

/* Queues req (started by the next httpc_client_run). Returns 0 when accepted
 * (the callback will come), -1 when the request is malformed (too many header
 * lines or wanted headers, no method, URL or callback) or the client is being
 * freed: then no callback comes. */
int httpc_send(struct httpc_client *client, struct httpc_request *req);

/* An epoll descriptor that is readable when the client's sockets have events. */
int httpc_client_fd(const struct httpc_client *client);

/* Milliseconds until httpc_client_run has timed work (0: now), or -1 for none. */
int httpc_client_timeout_ms(const struct httpc_client *client);

/* Serves ready sockets (fd_ready: httpc_client_fd was readable; first, so an
 * idle connection the server closed is not reused), starts queued requests,
 * serves due timers, calls the callbacks of finished requests, then starts
 * what those callbacks sent. Never blocks. */
void httpc_client_run(struct httpc_client *client, int fd_ready);

/* Completes every queued and running request with HTTPC_SHUTDOWN, then frees
 * everything. Accepts NULL. */
void httpc_client_free(struct httpc_client *client);

/* Monotonic milliseconds, the clock of deadline_ms. */
int64_t httpc_now_ms(void);

/* Whether a NO_PROXY list (curl's syntax: comma-separated host names or addresses, a leading dot
 * optional, "*" for every host) names host (host_len bytes, no brackets, no port) or a domain above
 * it. httpc decides about the proxy itself: a plain-http request through it uses the absolute form. */
int httpc_no_proxy_matches(const char *no_proxy, const char *host, size_t host_len);

/* curl_global_init, before any thread starts. Returns 0 or -1. */
int httpc_global_init(void);

/* curl_global_cleanup, after every client is freed. */
void httpc_global_cleanup(void);

#endif
