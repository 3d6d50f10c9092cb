#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "log.h"
#include "router.h"
#include "users.h"

static route_handler health, ready;

static const struct route routes[] = {
    {HTTP_GET, "/healthz", health},
    {HTTP_GET, "/readyz", ready},
    {HTTP_GET, "/users", users_list},
    {HTTP_POST, "/users", users_create},
    {HTTP_GET, "/users/by-email/:email", users_by_email},
    {HTTP_GET, "/users/:id", users_get},
    {HTTP_PATCH, "/users/:id", users_patch},
    {HTTP_DELETE, "/users/:id", users_delete},
};

void app_now_rfc3339(char out[25])
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)(now.tv_nsec / 1000000) % 1000;
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

void app_respond_backend_error(struct http_exchange *ex, const struct ddb_result *r)
{
    /* The detail is the same for every request that met the same failure, so an outage's
     * lines collapse into one plus a "repeated N times" line (log.h). */
    char detail[512];
    ddb_result_describe(r, detail, sizeof detail);
    const char *id = ex->req.request_id;
    switch (r->status) {
    case DDB_THROTTLED:
        errors_respond(ex, ERR_THROTTLED, "DynamoDB is throttling requests; retry shortly", NULL);
        http_response_add_header(&ex->resp, "Retry-After", "1");
        return;
    case DDB_UNAVAILABLE:
    case DDB_SHUTDOWN:
        log_request(LOG_WARN, id, "backend unavailable: %s", detail);
        errors_respond(ex, ERR_BACKEND_UNAVAILABLE, "the database is unavailable; retry shortly", NULL);
        http_response_add_header(&ex->resp, "Retry-After", "1");
        return;
    case DDB_TIMEOUT:
        log_request(LOG_WARN, id, "backend timeout: %s", detail);
        errors_respond(ex, ERR_BACKEND_TIMEOUT, "the database did not answer in time", NULL);
        return;
    case DDB_BAD_RESPONSE:
        log_request(LOG_ERROR, id, "bad backend response: %s", detail);
        errors_respond(ex, ERR_BAD_GATEWAY, "the database sent a response that could not be read", NULL);
        return;
    case DDB_OK:
    case DDB_ERROR:
        break;
    }
    if (strcmp(r->error_code, "ValidationException") == 0 && strstr(r->message, "Item size") != NULL) {
        errors_respond(ex, ERR_ITEM_TOO_LARGE, "the user would exceed DynamoDB's 400 KB item size", NULL);
        return;
    }
    if (strcmp(r->error_code, "ResourceNotFoundException") == 0) {
        log_request(LOG_ERROR, id, "table missing: %s", detail);
        errors_respond(ex, ERR_BACKEND_UNAVAILABLE, "the users table is not available", NULL);
        return;
    }
    if (r->error_code[0] == '\0') { /* not DynamoDB speaking: a proxy's 403 page, an empty 400 */
        log_request(LOG_ERROR, id, "bad backend response: %s", detail);
        errors_respond(ex, ERR_BAD_GATEWAY, "the database sent a response that could not be read", NULL);
        return;
    }
    log_request(LOG_ERROR, id, "DynamoDB error: %s", detail);
    errors_respond(ex, ERR_INTERNAL, "internal error", NULL);
}

static void health(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    http_respond(ex, 200, strdup("{\"status\":\"ok\"}"));
}

int app_table_active(const json_t *body, const char *index_name)
{
    const json_t *table = json_object_get(body, "Table");
    const char *status = json_string_value(json_object_get(table, "TableStatus"));
    if (status == NULL || strcmp(status, "ACTIVE") != 0)
        return 0;
    size_t i;
    json_t *gsi;
    json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, gsi) {
        const char *name = json_string_value(json_object_get(gsi, "IndexName"));
        const char *index_status = json_string_value(json_object_get(gsi, "IndexStatus"));
        if (name != NULL && strcmp(name, index_name) == 0)
            return index_status != NULL && strcmp(index_status, "ACTIVE") == 0;
    }
    return 0;
}

struct ready_op {
    const struct app *app;
    struct http_exchange *ex;
};

static void ready_done(void *ctx, const struct ddb_result *r)
{
    struct ready_op *op = ctx;
    struct http_exchange *ex = op->ex;
    if (r->status == DDB_OK && app_table_active(r->body, op->app->table.email_index))
        http_respond(ex, 200, strdup("{\"status\":\"ready\"}"));
    else
        errors_respond(ex, ERR_NOT_READY,
                       r->status == DDB_OK ? "the users table or its email index is not ACTIVE"
                                           : "the database is not reachable",
                       NULL);
    free(op);
    http_exchange_finish(ex);
}

static void ready(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    if (app->creds != NULL && !creds_cache_valid(app->creds)) {
        errors_respond(ex, ERR_NOT_READY, "no valid AWS credentials", NULL);
        return;
    }
    struct ready_op *op = malloc(sizeof *op);
    if (op == NULL) {
        errors_respond(ex, ERR_NOT_READY, "out of memory", NULL);
        return;
    }
    op->app = app;
    op->ex = ex;
    http_exchange_defer(ex);
    if (ddb_send(app->ddb, "DescribeTable", model_describe_table(&app->table), ready_done, op) != 0) {
        free(op);
        errors_respond(ex, ERR_NOT_READY, "the service is shutting down", NULL);
        http_exchange_finish(ex);
    }
}

void app_handle(const struct app *app, struct http_exchange *ex)
{
    struct route_match match;
    enum route_status status =
        router_match(routes, sizeof routes / sizeof routes[0], ex->req.method, ex->req.path, &match);
    if (status == ROUTE_NOT_FOUND) {
        errors_respond(ex, ERR_NOT_FOUND, "no such route", NULL);
    } else if (ex->req.method == HTTP_OPTIONS || status == ROUTE_METHOD_NOT_ALLOWED) {
        if (ex->req.method == HTTP_OPTIONS)
            http_respond(ex, 204, NULL);
        else
            errors_respond(ex, ERR_METHOD_NOT_ALLOWED, "method not allowed on this route", NULL);
        char *allow = router_allow_header(match.allowed);
        if (allow != NULL)
            http_response_add_header(&ex->resp, "Allow", allow);
        free(allow);
    } else {
        ex->route = match.route->pattern;
        match.route->handler(app, ex, &match.params);
    }
    route_match_clean_up(&match);
}
