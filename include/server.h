/* server: the libmicrohttpd adapter. It turns MHD's access-handler phases
 * into http_exchange values for app_handle, suspends connections whose
 * exchange is deferred and resumes them when it finishes, and adds the
 * headers every response carries (X-Request-Id, CORS, Content-Type).
 *
 * It runs one worker thread per server_worker: each has its own MHD daemon
 * on the shared port (SO_REUSEPORT) and drives its own event sources (the
 * DynamoDB client's HTTP client, the credentials waker, on worker 0 the credentials loop)
 * from the same epoll loop, so a request is read, sent, completed and answered
 * without leaving its thread. */
#ifndef USERSVC_SERVER_H
#define USERSVC_SERVER_H

#include <stddef.h>

#include "app.h"
#include "buf.h"
#include "config.h"

/* Work a worker drives beside HTTP. Its callbacks that finish exchanges run
 * on the worker's thread, from run or close. */
struct server_source {
    int fd;                                /* readable when run has socket work; -1: timers only */
    int (*timeout_ms)(void *ctx);          /* ms until run has timed work; -1 none */
    void (*run)(void *ctx, int fd_ready);  /* never blocks */
    void (*close)(void *ctx);              /* completes what is pending, frees ctx */
    void *ctx;
};

#define SERVER_MAX_SOURCES 4

struct server_worker {
    const struct app *app; /* borrowed for the server's lifetime */
    /* Run in this order every loop turn, closed in this order at the end. Owned by the worker from
     * server_start on, even on failure. */
    struct server_source sources[SERVER_MAX_SOURCES];
    size_t n_sources;      /* 1 to SERVER_MAX_SOURCES */
};

struct server;

/* Starts n_workers threads listening on cfg->host:cfg->port. Returns NULL
 * with one line in err on failure (every source is closed then too). */
struct server *server_start(const struct config *cfg, const struct server_worker *workers, size_t n_workers,
                            struct buf *err);

/* The port actually bound (useful with PORT=0). */
int server_port(const struct server *server);

/* Stops accepting and answers new requests on open connections with 503 and
 * Connection: close; lets requests in progress finish for up to wait_ms,
 * answers what still waits on a source with its shutdown result, then stops
 * and frees. Accepts NULL. */
void server_stop(struct server *server, long wait_ms);

#endif
