/* credsio: the loop the credential providers do their I/O on. It owns an httpc
 * client (STS, container and IMDS calls) and a queue of tasks other threads
 * post to it (an eventfd wakes the loop). It is driven by one thread at a time:
 * the main thread at start-up (credsio_wait), then one worker as an event
 * source (credsio_fd, credsio_timeout_ms, credsio_run), so a refresh asked for
 * by any worker runs on that worker's loop and never blocks anyone.
 *
 * Providers that do I/O (credshttp.c, credsproc.c) call credsio_post from
 * their get, whatever thread that is, and continue on the loop's thread. */
#ifndef USERSVC_CREDSIO_H
#define USERSVC_CREDSIO_H

#include <stdatomic.h>
#include <stdint.h>

#include "creds.h"
#include "httpc.h"

struct credsio;

typedef void credsio_task(void *ctx, int stopping);

/* A new loop; cache (may be NULL, borrowed, outlives the loop's use) is ticked
 * for background refreshes once a second. Returns NULL on failure. */
struct credsio *credsio_new(const struct httpc_config *http);

/* Sets the cache whose due refreshes the loop starts (borrowed). Before the loop is shared. */
void credsio_set_cache(struct credsio *io, struct creds_cache *cache);

/* Runs task(ctx, 0) on the loop's thread at its next turn; any thread. When
 * the loop has stopped, runs task(ctx, 1) at once in the caller's thread
 * instead. Returns 0, or -1 when memory runs out (nothing runs). */
int credsio_post(struct credsio *io, credsio_task *task, void *ctx);

/* The loop's HTTP client: only from the loop's thread (inside a task or an httpc callback). */
struct httpc_client *credsio_http(struct credsio *io);

/* An epoll descriptor readable when the loop has work. */
int credsio_fd(const struct credsio *io);

/* Milliseconds until credsio_run has timed work, or -1. */
int credsio_timeout_ms(const struct credsio *io);

/* Runs posted tasks, the HTTP client and the refresh tick. Never blocks. */
void credsio_run(struct credsio *io, int fd_ready);

/* Start-up only: drives the loop from the calling thread until *done is
 * nonzero (set by a callback the loop runs) or timeout_ms pass. Returns 0 when
 * done, -1 on timeout. */
int credsio_wait(struct credsio *io, const atomic_int *done, long timeout_ms);

/* Stops the loop on its current thread: completes pending HTTP requests with
 * HTTPC_SHUTDOWN and later posts run at once as stopping. The memory stays
 * until credsio_free (other threads may still post). */
void credsio_stop(struct credsio *io);

/* Stops (if needed) and frees. Accepts NULL. No thread may post any more. */
void credsio_free(struct credsio *io);

#endif
