/* healthcheck: `usersvc --healthcheck`, the container's probe without curl. It asks GET /healthz of
 * the service configured by the same HOST and PORT (a wildcard HOST is asked on loopback) over a
 * plain socket, within a deadline. */
#ifndef USERSVC_HEALTHCHECK_H
#define USERSVC_HEALTHCHECK_H

#include "buf.h"

/* The address to ask for a service listening on host: 0.0.0.0 -> 127.0.0.1, :: -> ::1, else host.
 * Borrowed from host or static. */
const char *healthcheck_target(const char *host);

/* 0 when the status line of the answer is "HTTP/1.x 200", else -1 with one line in why (refused,
 * timed out, another status). Blocks for at most timeout_ms. */
int healthcheck_run(const char *host, int port, int timeout_ms, struct buf *why);

#endif
