/* ddb: an asynchronous DynamoDB JSON-protocol client on top of httpc. A
 * client belongs to one thread, which drives it from its event loop: it waits
 * for ddb_client_fd to be readable or ddb_client_timeout_ms to pass, then
 * calls ddb_client_run, which never blocks. The client owns an httpc client
 * (curl multi, keep-alive connections reused across requests, at most 128
 * requests in flight, the rest queued). Every attempt is signed with SigV4
 * using the credentials cache's current snapshot (re-signed on each retry),
 * retried with full-jitter backoff when DynamoDB says it is worth it, and
 * bounded by a deadline: the callback always comes. An operation that finds
 * no valid credentials waits (within its deadline) for the cache's refresh;
 * one whose credentials DynamoDB refuses (ddb_credentials_rejected) forces one
 * refresh and is retried once with what it brings. */
#ifndef USERSVC_DDB_H
#define USERSVC_DDB_H

#include <jansson.h>
#include <stdint.h>

#include "creds.h"
#include "log.h"
#include "metrics.h"
#include "retryquota.h"

struct ddb_config {
    const char *endpoint;      /* "https://dynamodb.us-east-1.amazonaws.com" */
    const char *endpoint_host; /* Host header value */
    const char *region;
    struct creds_cache *creds; /* borrowed, shared by every client; outlives them */
    long connect_timeout_ms;   /* per attempt */
    long timeout_ms;           /* per operation, retries included */
    const char *ca_bundle;     /* extra trust for https (PEM file); NULL: the system's */
    const char *proxy;         /* NULL: reach DynamoDB directly */
    const char *no_proxy;      /* NULL: none */
    struct retryquota *quota;  /* the process's retry quota, shared by every client (borrowed, outlives
                                * them); NULL: retries are not rationed */
    int max_attempts;          /* per operation, the first included; 0: DDB_MAX_ATTEMPTS */
    struct metrics_worker *metrics; /* the worker's own (borrowed, outlives the client); NULL: not counted */
};

enum ddb_status {
    DDB_OK,           /* 2xx with a JSON body */
    DDB_ERROR,        /* DynamoDB answered an error that is not worth retrying */
    DDB_THROTTLED,    /* still throttled after the retries */
    DDB_UNAVAILABLE,  /* network errors or 5xx after the retries */
    DDB_TIMEOUT,      /* the operation's deadline passed */
    DDB_BAD_RESPONSE, /* a 2xx body that is not JSON, or a body over the limit */
    DDB_SHUTDOWN,     /* the client is stopping */
};

struct ddb_result {
    enum ddb_status status;
    long http_status;       /* 0 when no response arrived */
    json_t *body;           /* the parsed body (success or error); borrowed, may be NULL */
    const char *error_code; /* text after '#' in __type ("ConditionalCheckFailedException"), or "" */
    const char *message;    /* DynamoDB's message/Message, or a description; never NULL */
    const char *content_type; /* of the response, cut at ';' and sanitized; "" when none or no response */
    const char *request_id;   /* DynamoDB's x-amzn-RequestId, NULL when none came */
    int attempts;
};

/* Called exactly once per accepted ddb_send, from ddb_client_run or
 * ddb_client_free (never from inside ddb_send). It may call ddb_send. */
typedef void ddb_callback(void *ctx, const struct ddb_result *result);

struct ddb_client;

/* A new client; the config's strings are copied. Returns NULL on failure.
 * httpc_global_init must have run first. */
struct ddb_client *ddb_client_new(const struct ddb_config *cfg);

/* Queues operation ("GetItem") with request (stolen, even on failure); the
 * next ddb_client_run starts it. When it ends, it is recorded in calls (for the
 * request's access line; NULL: not recorded, else borrowed until the callback)
 * just before the callback. Returns 0 when accepted (the callback will come),
 * -1 when the client is being freed or memory runs out. */
int ddb_send(struct ddb_client *client, const char *operation, json_t *request, struct log_calls *calls,
             ddb_callback *callback, void *ctx);

/* ddb_send for a request already written as JSON text: body (body_len bytes, malloc'd) is stolen,
 * even on failure. */
int ddb_send_text(struct ddb_client *client, const char *operation, char *body, size_t body_len,
                  struct log_calls *calls, ddb_callback *callback, void *ctx);

/* An epoll descriptor that is readable when the client's sockets have events. */
int ddb_client_fd(const struct ddb_client *client);

/* Milliseconds until ddb_client_run has timed work (0: now), or -1 for none. */
int ddb_client_timeout_ms(const struct ddb_client *client);

/* Starts queued operations, serves ready sockets (fd_ready: ddb_client_fd was
 * readable) and due timers, and calls the callbacks of finished operations.
 * Never blocks. */
void ddb_client_run(struct ddb_client *client, int fd_ready);

/* Completes every pending operation with DDB_SHUTDOWN, then frees
 * everything. Accepts NULL. */
void ddb_client_free(struct ddb_client *client);

/* --- pure pieces, exposed for tests --- */

enum ddb_retry { DDB_RETRY_NO, DDB_RETRY_TRANSIENT, DDB_RETRY_THROTTLE };

#define DDB_MAX_ATTEMPTS 4
#define DDB_BASE_TRANSIENT_MS 25
#define DDB_BASE_THROTTLE_MS 1000
#define DDB_BACKOFF_CAP_MS 20000

/* Whether an attempt is worth retrying: network_error is 1 when no HTTP
 * response arrived; error_code is the DynamoDB code ("" when none). */
enum ddb_retry ddb_classify(int network_error, long http_status, const char *error_code);

/* Full-jitter backoff before retry number `retry` (1 for the first retry):
 * random % (min(cap, base * 2^(retry-1)) + 1) milliseconds. */
long ddb_backoff_ms(enum ddb_retry kind, int retry, uint64_t random);

/* 1 when a response may be used: no x-amz-crc32 header (crc32_header NULL), or one naming the CRC-32
 * of the len body bytes. 0 for a corrupted answer, which the SDKs retry as a transient error. */
int ddb_crc32_ok(const char *crc32_header, const void *body, size_t len);

/* The wait before retry number `retry`: ddb_backoff_ms, lengthened by an x-amz-retry-after header
 * (milliseconds; NULL when absent) to at most 5 s more than that, as in the SDKs' standard mode. */
long ddb_retry_delay_ms(enum ddb_retry kind, int retry, uint64_t random, const char *retry_after);

#define DDB_NO_RETRY (-1)     /* not retryable, out of attempts, or the retry would end past the deadline */
#define DDB_QUOTA_EMPTY (-2)  /* worth retrying, but the process's retry quota is empty */

/* Decides whether an attempt that failed with `kind` is retried: attempts made so far (1 after the
 * first), max_attempts, the clock and deadline (monotonic ms), the jitter source and an
 * x-amz-retry-after value (NULL: none). The quota is consulted last, only for a retry that will
 * happen, and *cost gets what it took (0 without a quota): hand it to retryquota_on_success when the
 * operation finally succeeds. Returns the delay in ms (>= 0), DDB_NO_RETRY or DDB_QUOTA_EMPTY. */
long ddb_retry_plan(enum ddb_retry kind, int attempts, int max_attempts, int64_t now_ms, int64_t deadline_ms,
                    uint64_t random, const char *retry_after, struct retryquota *quota, int *cost);

/* 1 when an error answer says the credentials were refused in a way a refresh can cure: DynamoDB's
 * ExpiredTokenException, UnrecognizedClientException, InvalidSignatureException (error_code), or,
 * without a JSON code, an STS-style XML body with Code InvalidClientTokenId or ExpiredToken. */
int ddb_credentials_rejected(long http_status, const char *error_code, const char *body, size_t body_len);

/* Points at the text after the last '#' of a __type value (or the whole value). */
const char *ddb_error_code(const char *type);

/* One line for the log about a result, the same for every request that met the
 * same failure (no request data, no timings): the message alone when no
 * response came; "HTTP 400 ValidationException: <message>" with a DynamoDB
 * error code; "no error code, HTTP 403, text/html" for a body without one (a
 * proxy's page is never echoed); "<message> (HTTP 200, text/plain)" for an
 * unreadable 2xx. DynamoDB's message is cut to 300 bytes. Returns out. */
const char *ddb_result_describe(const struct ddb_result *result, char *out, size_t size);

#endif
