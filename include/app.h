/* app: the immutable application state built in main and passed to every
 * handler, and the entry point that routes one exchange. */
#ifndef USERSVC_APP_H
#define USERSVC_APP_H

#include "config.h"
#include "ddb.h"
#include "http.h"
#include "model.h"

/* One worker's counters, written only by that worker's thread (no atomics,
 * no sharing); /metrics can read them later. */
struct app_counters {
    unsigned long long unreadable_users; /* stored users skipped or refused as unrenderable */
};

struct app {
    const struct config *cfg;
    struct ddb_client *ddb;
    struct model_table table;
    struct app_counters *counters; /* this worker's own; NULL before the workers start */
    struct creds_cache *creds;     /* the process's credentials (borrowed): /readyz is 503 without valid ones */
};

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
