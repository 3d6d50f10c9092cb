/* metrics: Prometheus counters, gauges and histograms, counted per worker and
 * rendered in the text exposition format at scrape time (GET /metrics).
 *
 * Each worker owns one struct metrics_worker, allocated on its own cache lines:
 * only that worker's thread writes it, with plain (relaxed atomic load + store,
 * no lock prefix) increments, so the request path takes no lock and shares no
 * cache line. A scrape, on whichever worker serves it, sums every worker's
 * block with relaxed atomic loads: each counter is exact, the set of them is a
 * moment's approximation (as with any Prometheus client). */
#ifndef USERSVC_METRICS_H
#define USERSVC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct buf;

#define METRICS_MAX_ROUTES 8 /* route ids 0 (no route matched) to 7 */
#define METRICS_METHODS 8    /* the bits of enum http_method */
#define METRICS_STATUSES 24  /* the statuses the service answers, and one slot for any other */
#define METRICS_BUCKETS 14   /* latency buckets, +Inf apart */

enum metrics_ddb_op {
    METRICS_OP_GET_ITEM,
    METRICS_OP_PUT_ITEM,
    METRICS_OP_UPDATE_ITEM,
    METRICS_OP_DELETE_ITEM,
    METRICS_OP_QUERY,
    METRICS_OP_SCAN,
    METRICS_OP_TRANSACT_WRITE_ITEMS,
    METRICS_OP_DESCRIBE_TABLE,
    METRICS_OP_CREATE_TABLE,
    METRICS_OP_OTHER,
    METRICS_OPS
};

/* How a DynamoDB operation ended (after its retries). */
enum metrics_ddb_outcome {
    METRICS_DDB_OK,
    METRICS_DDB_CONDITIONAL_CHECK_FAILED,
    METRICS_DDB_TRANSACTION_CANCELED,
    METRICS_DDB_ERROR, /* any other DynamoDB error answer */
    METRICS_DDB_THROTTLED,
    METRICS_DDB_UNAVAILABLE,
    METRICS_DDB_TIMEOUT,
    METRICS_DDB_BAD_RESPONSE,
    METRICS_DDB_SHUTDOWN,
    METRICS_DDB_OUTCOMES
};

/* What a conditional write's refusal meant for the request. */
enum metrics_conflict {
    METRICS_CONFLICT_EMAIL_TAKEN,         /* 409 email_taken */
    METRICS_CONFLICT_PRECONDITION_FAILED, /* 412: If-Match did not match */
    METRICS_CONFLICT_CONCURRENT_UPDATE,   /* 409: the user kept changing */
    METRICS_CONFLICT_RETRIED,             /* a lost race re-read and tried again */
    METRICS_CONFLICTS
};

typedef uint64_t metrics_counter;

struct metrics_histogram {
    metrics_counter buckets[METRICS_BUCKETS + 1]; /* not cumulative; the last is above every bound */
    metrics_counter sum_us;
};

struct metrics_worker {
    _Alignas(64) metrics_counter http_requests[METRICS_MAX_ROUTES][METRICS_METHODS][METRICS_STATUSES];
    struct metrics_histogram http_duration[METRICS_MAX_ROUTES];
    metrics_counter ddb_requests[METRICS_OPS][METRICS_DDB_OUTCOMES];
    struct metrics_histogram ddb_duration[METRICS_OPS];
    metrics_counter ddb_retries[METRICS_OPS];
    metrics_counter ddb_throttles[METRICS_OPS]; /* attempts answered with throttling */
    metrics_counter conflicts[METRICS_CONFLICTS];
    metrics_counter unreadable_users; /* stored users skipped or refused as unrenderable */
    /* Gauges, as counts of what went up and what went down (each only ever grows). */
    metrics_counter in_flight_up, in_flight_down;         /* requests begun / completed */
    metrics_counter waiting_up, waiting_down;             /* requests waiting on DynamoDB */
    metrics_counter connections_up, connections_down;     /* connections opened / closed */
};

/* Adds n to a counter of the calling worker's own block. */
static inline void metrics_add(metrics_counter *c, uint64_t n)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

struct metrics;

/* A registry for n_workers workers, each block zeroed on cache lines of its own. route_names[i]
 * names route id i (i >= 1; borrowed, static); version goes into usersvc_build_info. Returns NULL
 * when memory runs out; free with metrics_free (accepts NULL). */
struct metrics *metrics_new(size_t n_workers, const char *const *route_names, size_t n_routes,
                            const char *version);
void metrics_free(struct metrics *m);

/* Worker i's block (borrowed for the registry's life). */
struct metrics_worker *metrics_worker(struct metrics *m, size_t i);

/* The index of an operation name ("GetItem"), METRICS_OP_OTHER for unknown ones. */
enum metrics_ddb_op metrics_ddb_op(const char *operation);

/* "ok", "conditional_check_failed" ...: the outcome's label value (static). */
const char *metrics_ddb_outcome_name(enum metrics_ddb_outcome outcome);

/* Counts one answered request. route is a route id (0: none matched). */
void metrics_http_done(struct metrics_worker *w, unsigned route, enum http_method method, int status,
                       int64_t duration_us);

/* Counts one finished DynamoDB operation, with the retries it made. */
void metrics_ddb_done(struct metrics_worker *w, enum metrics_ddb_op op, enum metrics_ddb_outcome outcome,
                      int retries, int64_t duration_us);

/* Appends every metric, summed over the workers, in the text exposition format 0.0.4, then the
 * process_* metrics read from /proc. Returns 0 or -1 when memory runs out. */
int metrics_render(const struct metrics *m, struct buf *out);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
