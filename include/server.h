/* server: the libmicrohttpd adapter. It turns MHD's access-handler phases
 * into http_exchange values for app_handle, suspends connections whose
 * exchange is deferred and resumes them when it finishes, and adds the
 * headers every response carries (X-Request-Id, CORS, Content-Type). */
#ifndef USERSVC_SERVER_H
#define USERSVC_SERVER_H

#include "app.h"
#include "buf.h"

struct server;

/* Starts listening on cfg->host:cfg->port with cfg->threads threads.
 * Returns NULL with one line in err on failure. app is borrowed for the
 * server's lifetime. */
struct server *server_start(const struct app *app, struct buf *err);

/* The port actually bound (useful with PORT=0). */
int server_port(const struct server *server);

/* Stops accepting, waits up to wait_ms for deferred exchanges to finish, then stops. */
void server_quiesce(struct server *server, long wait_ms);
void server_stop(struct server *server);

#endif
