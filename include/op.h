/* op: the runtime every handler runs on, below the router (app.c) and the
 * handlers (users.c, /readyz):
 *
 * - struct app, the immutable application state built in main: what a handler
 *   may reach (configuration, table names, DynamoDB, the clock, ids) goes
 *   through it, so handlers run in unit tests against a fake backend;
 * - struct op, the base of one request's asynchronous work: its first op_send
 *   defers the exchange before handing the request over (a resume that comes
 *   before the suspend is lost), and op_finish frees it and finishes the
 *   exchange, in one place;
 * - the helpers handlers share: JSON bodies, ETag lists, validation answers,
 *   DynamoDB failures mapped to statuses. */
#ifndef USERSVC_OP_H
#define USERSVC_OP_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "ddb.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "model.h"

/* Sends one DynamoDB operation, ddb_send_text's contract: body (the request's JSON text, body_len
 * bytes, NUL-terminated, malloc'd) is stolen, even on failure; the call is recorded in calls
 * (the exchange's, for its access line; NULL: not recorded) just before the callback; on 0,
 * callback(ctx, result) runs exactly once, later, on this worker's thread
 * (never inside the call); -1 when the client is shutting down (callback never runs). */
typedef int app_send_fn(void *send_ctx, const char *operation, char *body, size_t body_len,
                        struct log_calls *calls, ddb_callback *callback, void *ctx);

/* The wall clock: milliseconds since the Unix epoch. */
typedef int64_t app_clock_fn(void);

/* Writes a new random id, a lowercase UUID ("0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f"), into out. */
typedef void app_id_fn(void *id_ctx, char out[37]);

struct creds_cache;
struct auth_worker;
struct readycache;
struct recreate;

/* One per worker, built in main (tests build their own); handlers borrow it. */
struct app {
    const struct config *cfg;
    struct model_table table;
    app_send_fn *send;             /* DynamoDB: ddb_send on this worker's client in main */
    void *send_ctx;                /* send's first argument (main: the worker's struct ddb_client) */
    app_clock_fn *now_ms;          /* main: op_clock_realtime */
    app_id_fn *new_id;             /* user ids and transaction tokens; main: op_uuid_random */
    void *id_ctx;                  /* new_id's first argument */
    struct metrics_worker *metrics_worker; /* this worker's own counters; NULL: not counted */
    struct metrics *metrics;       /* every worker's, for GET /metrics (borrowed); NULL: 500 */
    struct readycache *ready;      /* the process's /readyz answer (borrowed); NULL: every probe asks DynamoDB */
    struct creds_cache *creds;     /* the process's credentials (borrowed): /readyz is 503 without valid ones;
                                    * NULL: not checked */
    struct auth_worker *auth;      /* this worker's authentication (auth.h), run before every handler but the
                                    * probes; NULL: none (AUTH=none answers the same way) */
    struct recreate *recreate;     /* the process's (borrowed) with AUTO_CREATE_TABLE: a table found missing is
                                    * created again (recreate.h); NULL: never */
};

/* Counts one conditional write's refusal in the worker's metrics (when it has them). */
static inline void op_count_conflict(const struct app *app, enum metrics_conflict conflict)
{
    if (app->metrics_worker != NULL)
        metrics_add(&app->metrics_worker->conflicts[conflict], 1);
}

/* The real clock and id source main wires into struct app. */
int64_t op_clock_realtime(void);
void op_uuid_random(void *id_ctx, char out[37]);

/* The base of one request's DynamoDB work; a handler's own op struct starts
 * with it. Owned by its continuation chain until op_finish. */
struct op {
    const struct app *app;
    struct http_exchange *ex;
    void (*clean_up)(struct op *op); /* releases what the derived struct holds (not op itself); may be NULL */
    int deferred;                    /* the exchange is deferred: op_finish finishes it */
};

/* Allocates a zeroed op of size bytes (a struct that starts with struct op)
 * for ex. Returns it (freed by op_finish), or NULL after answering 503. */
void *op_new(size_t size, const struct app *app, struct http_exchange *ex, void (*clean_up)(struct op *op));

/* Sends request (stolen; NULL answers 500) through app->send and continues
 * in then(op, result): then's ctx is op (cast it to the derived struct), and
 * then must end in another op_send, op_fail or op_finish. The first send
 * defers the exchange first. When the request cannot be sent, answers 503 with
 * Retry-After and finishes op: op must not be touched after op_send returns. */
void op_send(struct op *op, const char *operation, json_t *request, ddb_callback *then);

/* op_send for a request already written as JSON text (model_get_user_text): body is stolen, and
 * cleaned up; a body whose writing failed (body->data NULL) answers 500. */
void op_send_text(struct op *op, const char *operation, struct buf *body, ddb_callback *then);

/* Frees op (clean_up, then op) and, when the exchange was deferred, hands it
 * back answered. Neither op nor, once deferred, its exchange may be touched after. */
void op_finish(struct op *op);

/* Answers a failed DynamoDB operation (op_respond_backend_error), then op_finish. A missing table is
 * created again when app->recreate is set. */
void op_fail(struct op *op, const struct ddb_result *result);

/* The current UTC time as RFC 3339 with milliseconds ("2026-11-22T10:15:22.123Z") from app's clock. */
void op_now_rfc3339(const struct app *app, char out[25]);

/* Writes ms since the epoch as RFC 3339 with milliseconds into out (25 bytes). */
void op_format_rfc3339(int64_t ms, char out[25]);

/* Parses the request body as a JSON object, answering 415 or 400 itself.
 * allow_merge_patch: application/merge-patch+json is accepted beside
 * application/json. Returns a new reference, or NULL once answered. */
json_t *op_json_body(struct http_exchange *ex, int allow_merge_patch);

struct field_errors;
/* Answers 400 validation_failed listing errs. */
void op_respond_validation(struct http_exchange *ex, const struct field_errors *errs);

/* 1 when a list of entity tags ("1", W/"2", *) holds version (tags are
 * "<version>"). Weak tags match only with weak comparison (If-None-Match). */
int op_etag_matches(const char *header, long long version, int weak);

/* Answers a failed DynamoDB operation with the right status and a generic
 * message (details go to the log only). */
void op_respond_backend_error(struct http_exchange *ex, const struct ddb_result *result);

#endif
