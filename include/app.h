/* app: the route table and the entry point that routes one exchange, plus
 * the health and readiness probes. The application struct (struct app) the
 * handlers receive is defined in op.h, below both this and users.h. */
#ifndef USERSVC_APP_H
#define USERSVC_APP_H

#include <jansson.h>

#include "http.h"
#include "op.h"

/* Routes and handles one exchange: fills ex->resp, or defers it (see http.h). */
void app_handle(const struct app *app, struct http_exchange *ex);

/* 1 when a DescribeTable answer shows the table and its email index ACTIVE. */
int app_table_active(const json_t *describe_body, const char *index_name);

#endif
