/* http: the project's own request, response and exchange types. Router,
 * handlers and model see only these, never libmicrohttpd, so they are tested
 * without sockets; src/server.c adapts libmicrohttpd to them. */
#ifndef USERSVC_HTTP_H
#define USERSVC_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "log.h"

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7,
};

enum http_method http_method_parse(const char *name);
/* "GET" ... ("OTHER" for HTTP_OTHER). */
const char *http_method_name(enum http_method method);

struct http_request {
    enum http_method method;
    const char *path;  /* raw as received (still percent-encoded) */
    const char *query; /* raw query string without '?', "" when none */
    const char *body;  /* not NUL-terminated; NULL when no body */
    size_t body_len;
    const char *request_id;
    /* Case-insensitive header lookup; returns a borrowed value or NULL. */
    const char *(*header)(const struct http_request *req, const char *name);
    void *header_ctx; /* for the header function */
};

/* One response header; name and value are owned by the response. */
struct http_header {
    char *name;
    char *value;
};

struct http_response {
    int status;
    char *body; /* owned; JSON text, or NULL for none (204). A 304 carries the 200's body, never sent:
                 * libmicrohttpd 0.9.75 always writes a Content-Length for a 304, and RFC 9110 §8.6 allows
                 * only the length the 200 would have had (not 0) */
    size_t body_len;
    struct http_header *headers; /* owned; sent in this order after the adapter's own (X-Request-Id, CORS ...) */
    size_t n_headers;
};

/* Frees body and headers and zeroes resp. */
void http_response_clean_up(struct http_response *resp);

/* Appends a header, copying name and value. Returns 0, or -1 when memory runs
 * out (resp unchanged). A value must hold no CR or LF. */
int http_response_add_header(struct http_response *resp, const char *name, const char *value);

/* As http_response_add_header, with the value formatted printf-style. */
int http_response_add_headerf(struct http_response *resp, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The value of the first header named name (case-insensitive), borrowed from resp, or NULL. */
const char *http_response_header(const struct http_response *resp, const char *name);

/* Percent-decodes src[0..len) into a new string (caller frees). '+' is kept
 * as is. Returns NULL on a malformed escape, an encoded NUL, or no memory. */
char *http_percent_decode(const char *src, size_t len);

/* Looks up a query parameter in a raw query string ("a=1&b=2") and returns
 * its decoded value ('+' is a space there, as in HTML forms and URLSearchParams) (caller frees), or NULL when absent. *malformed is set to
 * 1 when the parameter is present but cannot be decoded. The first occurrence wins. */
char *http_query_param(const char *query, const char *name, int *malformed);

/* The trace id of a W3C Trace Context traceparent header ("00-<32 hex>-<16 hex>-<2 hex>"), copied
 * into out (33 bytes) when the header is valid (lowercase hex, ids not all zero, version not ff,
 * version 00 exactly 55 characters); out is left as it is otherwise. Returns 0 or -1. */
int http_traceparent_trace_id(const char *value, char out[33]);

/* Request framing (RFC 9112 §6.3, §3.2): the adapter feeds every request
 * header to http_framing_add, then asks http_framing_error whether the
 * message may be read. Ambiguous framing is refused rather than guessed,
 * because a proxy in front may guess differently (request smuggling). */
struct http_framing {
    int content_lengths;     /* Content-Length headers seen */
    int differing_lengths;   /* a Content-Length differed from the first */
    const char *first_length; /* the first Content-Length value, borrowed while the headers are fed */
    int transfer_encodings;  /* Transfer-Encoding headers seen */
    int only_chunked;        /* every Transfer-Encoding was exactly "chunked" */
    int hosts;               /* Host headers seen */
};

void http_framing_add(struct http_framing *f, const char *name, const char *value);

/* NULL when the request may be read; else a static message saying why it must
 * be refused with 400 and the connection closed. http11: the request said
 * HTTP/1.1 (else HTTP/1.0, where Transfer-Encoding is refused: §6.1). */
const char *http_framing_error(const struct http_framing *f, int http11);

/* An exchange is one request/response in flight. A handler either fills
 * `resp` before returning, or calls http_exchange_defer() before starting
 * asynchronous work and later fills `resp` and calls http_exchange_finish()
 * exactly once, on the same worker thread (from a DynamoDB completion). */
struct http_exchange {
    struct http_request req;
    struct http_response resp;
    const char *route; /* the matched route's template ("/users/{id}"), static; NULL when none matched.
                        * The access log names it instead of the path, which can hold an email address. */
    char principal[256]; /* who was authenticated (a JWT's sub, an API key's name), "" when nobody: for the
                          * access log, never a token or key */
    unsigned route_id; /* the template's metrics id (app.h), 0 when none matched */
    struct log_calls calls; /* the DynamoDB calls made for it, for the access line */
    void (*defer)(struct http_exchange *ex);  /* set by the adapter */
    void (*finish)(struct http_exchange *ex); /* set by the adapter */
    void *adapter;                            /* the adapter's connection state */
};

static inline void http_exchange_defer(struct http_exchange *ex) { ex->defer(ex); }
static inline void http_exchange_finish(struct http_exchange *ex) { ex->finish(ex); }

/* Responses. Each replaces whatever resp held. */

/* Sets status and a JSON body (stolen; NULL for none). */
void http_respond(struct http_exchange *ex, int status, char *body);

/* Sets an error: {"message", "code", "requestId"[, "errors"]}. errors (stolen,
 * may be NULL) is a JSON array of {"field","message"}. */
void http_respond_error(struct http_exchange *ex, int status, const char *code, const char *message,
                        json_t *errors);

#endif
