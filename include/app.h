/* app: the immutable application state built in main and passed to every
 * handler, and the entry point that routes one exchange. */
#ifndef USERSVC_APP_H
#define USERSVC_APP_H

#include "config.h"
#include "ddb.h"
#include "http.h"
#include "metrics.h"
#include "model.h"
#include "readycache.h"

struct app {
    const struct config *cfg;
    struct ddb_client *ddb;
    struct model_table table;
    struct metrics_worker *metrics_worker; /* this worker's own counters; NULL before the workers start */
    struct metrics *metrics;       /* every worker's, for GET /metrics (borrowed); NULL: 404 */
    struct readycache *ready;      /* the process's /readyz answer (borrowed); NULL: every probe asks DynamoDB */
    struct creds_cache *creds;     /* the process's credentials (borrowed): /readyz is 503 without valid ones */
};

/* The route templates as OpenAPI writes them ("/users/{id}"), indexed by route id
 * (http_exchange.route_id; [0] is NULL: no route matched): the access log's
 * route and the metrics' route label. */
extern const char *const app_route_templates[];
extern const size_t app_route_count; /* entries of app_route_templates, [0] included */

/* 0 when every route's pattern ("/users/:id") is its template ("/users/{id}") with ":name" written
 * "{name}"; else -1 with the first mismatch in why. For tests. */
int app_routes_check(char *why, size_t size);

/* Counts one conditional write's refusal in the worker's metrics (none before the workers start). */
static inline void app_count_conflict(const struct app *app, enum metrics_conflict conflict)
{
    if (app->metrics_worker != NULL)
        metrics_add(&app->metrics_worker->conflicts[conflict], 1);
}

/* Routes and handles one exchange: fills ex->resp, or defers it (see http.h). */
void app_handle(const struct app *app, struct http_exchange *ex);

/* Answers a failed DynamoDB operation with the right status and a generic
 * message (details go to the log only). */
void app_respond_backend_error(struct http_exchange *ex, const struct ddb_result *result);

/* 1 when a DescribeTable answer shows the table and its email index ACTIVE. */
int app_table_active(const json_t *describe_body, const char *index_name);

/* Writes the current UTC time as RFC 3339 with milliseconds
 * ("2026-11-22T10:15:22.123Z") into out (25 bytes). */
void app_now_rfc3339(char out[25]);

#endif
