#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "buf.h"
#include "creds.h"
#include "errors.h"
#include "log.h"
#include "openapi.h"
#include "readycache.h"
#include "router.h"
#include "users.h"

static route_handler health, ready, metrics;

static const struct route routes[] = {
    {HTTP_GET, "/healthz", health},
    {HTTP_GET, "/readyz", ready},
    {HTTP_GET, "/metrics", metrics},
    {HTTP_GET, "/openapi.json", openapi_serve},
    {HTTP_GET, "/users", users_list},
    {HTTP_POST, "/users", users_create},
    {HTTP_GET, "/users/by-email/:email", users_by_email},
    {HTTP_GET, "/users/:id", users_get},
    {HTTP_PATCH, "/users/:id", users_patch},
    {HTTP_DELETE, "/users/:id", users_delete},
};

/* Each route's template id (its index in app_route_templates); test_app checks that the two agree. */
static const unsigned char route_ids[] = {1, 2, 3, 7, 4, 4, 5, 6, 6, 6};
_Static_assert(sizeof route_ids == sizeof routes / sizeof routes[0], "one template id per route");

const char *const app_route_templates[] = {
    NULL, "/healthz", "/readyz", "/metrics", "/users", "/users/by-email/{email}", "/users/{id}", "/openapi.json",
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

/* Readiness timing runs on the monotonic clock: a wall-clock step must not freeze or expire the cache. */
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
        errors_respond(ex, ERR_NOT_READY, why, NULL);
}

struct ready_op {
    struct op op;
    int stored; /* the refresh's answer is in the cache */
};

/* When the DescribeTable could not be sent (shutting down, out of memory), the refresh ends all the same. */
static void ready_clean_up(struct op *op)
{
    if (!((struct ready_op *)op)->stored && op->app->ready != NULL)
        readycache_store(op->app->ready, monotonic_ms(), 0, "the readiness check could not be sent");
}

static void ready_done(void *ctx, const struct ddb_result *r)
{
    struct ready_op *rop = ctx;
    struct op *op = &rop->op;
    int ready = r->status == DDB_OK && app_table_active(r->body, op->app->table.email_index);
    char why[128] = "the database is not reachable";
    if (r->status == DDB_OK)
        snprintf(why, sizeof why, "the users table or its email index is not ACTIVE");
    else if (r->status == DDB_ERROR) /* UnrecognizedClientException: the credentials; ResourceNotFound ... */
        snprintf(why, sizeof why, "DynamoDB refused DescribeTable (%.60s)",
                 r->error_code[0] != '\0' ? r->error_code : "no error code");
    if (op->app->ready != NULL)
        readycache_store(op->app->ready, monotonic_ms(), ready, why);
    rop->stored = 1;
    respond_ready(op->ex, ready, why);
    op_finish(op);
}

/* The answer is the process's, cached for a few seconds (readycache.h): a fleet of probes costs at
 * most one DescribeTable per window. Credentials are checked on every probe: that costs nothing. */
static void ready(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    if (app->creds != NULL && !creds_cache_valid(app->creds)) {
        errors_respond(ex, ERR_NOT_READY, "no valid AWS credentials", NULL);
        return;
    }
    struct readycache_answer cached;
    if (app->ready != NULL && readycache_begin(app->ready, monotonic_ms(), &cached) == READYCACHE_ANSWER) {
        respond_ready(ex, cached.ready, cached.message);
        return;
    }
    struct ready_op *op = op_new(sizeof *op, app, ex, ready_clean_up);
    if (op == NULL) {
        if (app->ready != NULL)
            readycache_store(app->ready, monotonic_ms(), 0, "out of memory");
        return; /* answered 503 */
    }
    op_send(&op->op, "DescribeTable", model_describe_table(&app->table), ready_done);
}

/* GET /metrics: every worker's counters, summed now (metrics.h). Open like /healthz: it names no
 * user, email or secret (README: Operating usersvc). */
static void metrics(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct buf out = BUF_INIT;
    if (app->metrics == NULL || metrics_render(app->metrics, &out) != 0) {
        buf_clean_up(&out);
        errors_respond(ex, ERR_INTERNAL, "metrics are not available", NULL);
        return;
    }
    http_respond(ex, 200, buf_steal(&out));
    http_response_add_header(&ex->resp, "Content-Type", METRICS_CONTENT_TYPE);
}

/* Authentication and scopes before the handler (auth.h): the probes, /metrics and /openapi.json are
 * open, reads need the read scope, writes the write scope. Returns 1 when the handler may run, else 0 with ex answered, before any
 * DynamoDB call. */
static int authorized(const struct app *app, struct http_exchange *ex, const struct route *route)
{
    if (app->auth == NULL || route->handler == health || route->handler == ready || route->handler == metrics ||
        route->handler == openapi_serve)
        return 1;
    enum auth_need need = (ex->req.method & (HTTP_GET | HTTP_HEAD)) ? AUTH_READ : AUTH_WRITE;
    struct auth_decision d;
    auth_check(app->auth, ex->req.header(&ex->req, "Authorization"), ex->req.header(&ex->req, "X-Api-Key"), need, &d);
    memcpy(ex->principal, d.principal, sizeof ex->principal - 1);
    ex->principal[sizeof ex->principal - 1] = '\0';
    static const enum err_code codes[] = {
        [AUTH_MISSING] = ERR_UNAUTHORIZED, [AUTH_INVALID] = ERR_INVALID_TOKEN,
        [AUTH_TWO_CREDENTIALS] = ERR_INVALID_REQUEST, [AUTH_FORBIDDEN] = ERR_INSUFFICIENT_SCOPE,
        [AUTH_LIMITED] = ERR_RATE_LIMITED,
    };
    if (d.outcome == AUTH_ALLOW)
        return 1;
    errors_respond(ex, codes[d.outcome], d.message, NULL);
    if (d.www_authenticate[0] != '\0')
        http_response_add_header(&ex->resp, "WWW-Authenticate", d.www_authenticate);
    if (d.retry_after > 0)
        http_response_add_headerf(&ex->resp, "Retry-After", "%d", d.retry_after);
    return 0;
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
        ex->route_id = route_ids[match.route - routes];
        ex->route = app_route_templates[ex->route_id];
        if (authorized(app, ex, match.route))
            match.route->handler(app, ex, &match.params);
    }
    route_match_clean_up(&match);
}
