#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "creds.h"
#include "errors.h"
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

static void ready_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (r->status == DDB_OK && app_table_active(r->body, op->app->table.email_index))
        http_respond(op->ex, 200, strdup("{\"status\":\"ready\"}"));
    else
        errors_respond(op->ex, ERR_NOT_READY,
                       r->status == DDB_OK ? "the users table or its email index is not ACTIVE"
                                           : "the database is not reachable",
                       NULL);
    op_finish(op);
}

static void ready(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    if (app->creds != NULL && !creds_cache_valid(app->creds)) {
        errors_respond(ex, ERR_NOT_READY, "no valid AWS credentials", NULL);
        return;
    }
    struct op *op = op_new(sizeof *op, app, ex, NULL);
    if (op == NULL) {
        errors_respond(ex, ERR_NOT_READY, "out of memory", NULL);
        return;
    }
    op_send(op, "DescribeTable", model_describe_table(&app->table), ready_done);
}

/* Authentication and scopes before the handler (auth.h): the probes are open, reads need the read scope,
 * writes the write scope. Returns 1 when the handler may run, else 0 with ex answered, before any
 * DynamoDB call. */
static int authorized(const struct app *app, struct http_exchange *ex, const struct route *route)
{
    if (app->auth == NULL || route->handler == health || route->handler == ready)
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
        ex->route = match.route->pattern;
        if (authorized(app, ex, match.route))
            match.route->handler(app, ex, &match.params);
    }
    route_match_clean_up(&match);
}
