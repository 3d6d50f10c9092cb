/* app: the route table and the entry point that routes one exchange, plus
 * the health and readiness probes. The application struct (struct app) the
 * handlers receive is defined in op.h, below both this and users.h. */
#ifndef USERSVC_APP_H
#define USERSVC_APP_H

#include <jansson.h>

#include "http.h"
#include "op.h"

/* The route templates as OpenAPI writes them ("/users/{id}"), indexed by route id
 * (http_exchange.route_id; [0] is NULL: no route matched): the access log's
 * route and the metrics' route label. */
extern const char *const app_route_templates[];
extern const size_t app_route_count; /* entries of app_route_templates, [0] included */

/* 0 when every route's pattern ("/users/:id") is its template ("/users/{id}") with ":name" written
 * "{name}"; else -1 with the first mismatch in why. For tests. */
int app_routes_check(char *why, size_t size);

/* Routes and handles one exchange: fills ex->resp, or defers it (see http.h). */
void app_handle(const struct app *app, struct http_exchange *ex);

/* 1 when a DescribeTable answer shows the table and its email index ACTIVE. */
int app_table_active(const json_t *describe_body, const char *index_name);

#endif
