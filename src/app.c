#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "router.h"
#include "users.h"

static route_handler health, ready, metrics;

static const struct route routes[] = {
    {HTTP_GET, "/healthz", health},
    {HTTP_GET, "/readyz", ready},
    {HTTP_GET, "/metrics", metrics},
    {HTTP_GET, "/users", users_list},
    {HTTP_POST, "/users", users_create},
    {HTTP_GET, "/users/by-email/:email", users_by_email},
    {HTTP_GET, "/users/:id", users_get},
    {HTTP_PATCH, "/users/:id", users_patch},
    {HTTP_DELETE, "/users/:id", users_delete},
};

/* Each route's template id (its index in app_route_templates); test_app checks that the two agree. */
static const unsigned char route_ids[] = {1, 2, 3, 4, 4, 5, 6, 6, 6};
_Static_assert(sizeof route_ids == sizeof routes / sizeof routes[0], "one template id per route");

const char *const app_route_templates[] = {
    NULL, "/healthz", "/readyz", "/metrics", "/users", "/users/by-email/{email}", "/users/{id}",
};
const size_t app_route_count = sizeof app_route_templates / sizeof app_route_templates[0];
_Static_assert(sizeof app_route_templates / sizeof app_route_templates[0] <= METRICS_MAX_ROUTES,
               "route ids fit the metrics");

int app_routes_check(char *why, size_t size)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        /* ":name" segments are "{name}" in the template; everything else is the same */
        const char *p = routes[i].pattern, *t = app_route_templates[route_ids[i]];
        while (*p != '\0') {
            if (*p == ':') {
                size_t n = strcspn(p + 1, "/");
                if (*t != '{' || strncmp(t + 1, p + 1, n) != 0 || t[n + 1] != '}')
                    break;
                p += n + 1;
                t += n + 2;
            } else if (*p++ != *t++) {
                break;
            }
        }
        if (*p != '\0' || *t != '\0') {
            snprintf(why, size, "route %s has template %s", routes[i].pattern, app_route_templates[route_ids[i]]);
            return -1;
        }
    }
    return 0;
}

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
        http_respond_error(ex, 503, "throttled", "DynamoDB is throttling requests; retry shortly", NULL);
        ex->resp.retry_after = 1;
        return;
    case DDB_UNAVAILABLE:
    case DDB_SHUTDOWN:
        log_request(LOG_WARN, id, "backend unavailable: %s", detail);
        http_respond_error(ex, 503, "backend_unavailable", "the database is unavailable; retry shortly", NULL);
        ex->resp.retry_after = 1;
        return;
    case DDB_TIMEOUT:
        log_request(LOG_WARN, id, "backend timeout: %s", detail);
        http_respond_error(ex, 504, "backend_timeout", "the database did not answer in time", NULL);
        return;
    case DDB_BAD_RESPONSE:
        log_request(LOG_ERROR, id, "bad backend response: %s", detail);
        http_respond_error(ex, 502, "bad_gateway", "the database sent a response that could not be read", NULL);
        return;
    case DDB_OK:
    case DDB_ERROR:
        break;
    }
    if (strcmp(r->error_code, "ValidationException") == 0 && strstr(r->message, "Item size") != NULL) {
        http_respond_error(ex, 413, "item_too_large", "the user would exceed DynamoDB's 400 KB item size", NULL);
        return;
    }
    if (strcmp(r->error_code, "ResourceNotFoundException") == 0) {
        log_request(LOG_ERROR, id, "table missing: %s", detail);
        http_respond_error(ex, 503, "backend_unavailable", "the users table is not available", NULL);
        return;
    }
    if (r->error_code[0] == '\0') { /* not DynamoDB speaking: a proxy's 403 page, an empty 400 */
        log_request(LOG_ERROR, id, "bad backend response: %s", detail);
        http_respond_error(ex, 502, "bad_gateway", "the database sent a response that could not be read", NULL);
        return;
    }
    log_request(LOG_ERROR, id, "DynamoDB error: %s", detail);
    http_respond_error(ex, 500, "internal_error", "internal error", NULL);
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

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void respond_ready(struct http_exchange *ex, int ready, const char *why)
{
    if (ready)
        http_respond(ex, 200, strdup("{\"status\":\"ready\"}"));
    else
        http_respond_error(ex, 503, "not_ready", why, NULL);
}

struct ready_op {
    const struct app *app;
    struct http_exchange *ex;
};

static void ready_done(void *ctx, const struct ddb_result *r)
{
    struct ready_op *op = ctx;
    struct http_exchange *ex = op->ex;
    int ready = r->status == DDB_OK && app_table_active(r->body, op->app->table.email_index);
    char why[128] = "the database is not reachable";
    if (r->status == DDB_OK)
        snprintf(why, sizeof why, "the users table or its email index is not ACTIVE");
    else if (r->status == DDB_ERROR) /* UnrecognizedClientException: the credentials; ResourceNotFound ... */
        snprintf(why, sizeof why, "DynamoDB refused DescribeTable (%.60s)",
                 r->error_code[0] != '\0' ? r->error_code : "no error code");
    if (op->app->ready != NULL && r->status != DDB_SHUTDOWN)
        readycache_store(op->app->ready, monotonic_ms(), ready, why);
    respond_ready(ex, ready, why);
    free(op);
    http_exchange_finish(ex);
}

/* The answer is the process's, cached for a few seconds (readycache.h): a fleet of probes costs at
 * most one DescribeTable per window. Credentials are checked on every probe: that costs nothing. */
static void ready(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    if (app->creds != NULL && !creds_cache_valid(app->creds)) {
        http_respond_error(ex, 503, "not_ready", "no valid AWS credentials", NULL);
        return;
    }
    struct readycache_answer cached;
    if (app->ready != NULL && readycache_begin(app->ready, monotonic_ms(), &cached) == READYCACHE_ANSWER) {
        respond_ready(ex, cached.ready, cached.message);
        return;
    }
    struct ready_op *op = malloc(sizeof *op);
    if (op == NULL) {
        if (app->ready != NULL)
            readycache_store(app->ready, monotonic_ms(), 0, "out of memory");
        http_respond_error(ex, 503, "not_ready", "out of memory", NULL);
        return;
    }
    op->app = app;
    op->ex = ex;
    http_exchange_defer(ex);
    if (ddb_send(app->ddb, "DescribeTable", model_describe_table(&app->table), &ex->calls, ready_done, op) != 0) {
        free(op);
        if (app->ready != NULL)
            readycache_store(app->ready, monotonic_ms(), 0, "the service is shutting down");
        http_respond_error(ex, 503, "not_ready", "the service is shutting down", NULL);
        http_exchange_finish(ex);
    }
}

/* GET /metrics: every worker's counters, summed now (metrics.h). Open like /healthz: it names no
 * user, email or secret (README: Operating usersvc). */
static void metrics(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct buf out = BUF_INIT;
    if (app->metrics == NULL || metrics_render(app->metrics, &out) != 0) {
        buf_clean_up(&out);
        http_respond_error(ex, 500, "internal_error", "metrics are not available", NULL);
        return;
    }
    http_respond(ex, 200, buf_steal(&out));
    ex->resp.content_type = METRICS_CONTENT_TYPE;
}

void app_handle(const struct app *app, struct http_exchange *ex)
{
    struct route_match match;
    enum route_status status =
        router_match(routes, sizeof routes / sizeof routes[0], ex->req.method, ex->req.path, &match);
    if (status == ROUTE_NOT_FOUND) {
        http_respond_error(ex, 404, "not_found", "no such route", NULL);
    } else if (ex->req.method == HTTP_OPTIONS) {
        http_respond(ex, 204, NULL);
        ex->resp.allow = router_allow_header(match.allowed);
    } else if (status == ROUTE_METHOD_NOT_ALLOWED) {
        http_respond_error(ex, 405, "method_not_allowed", "method not allowed on this route", NULL);
        ex->resp.allow = router_allow_header(match.allowed);
    } else {
        ex->route_id = route_ids[match.route - routes];
        ex->route = app_route_templates[ex->route_id];
        match.route->handler(app, ex, &match.params);
    }
    route_match_clean_up(&match);
}
