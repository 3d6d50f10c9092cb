/* portclaim: refuses to start on a port another process already serves. The workers listen with
 * SO_REUSEPORT, which would otherwise let a second instance (same user) bind the same port silently
 * and take part of the traffic. A probe socket bound without SO_REUSEPORT fails while any socket
 * listens on the address; a lock (an abstract Unix socket named by host and port, so scoped like
 * the port to the network namespace) keeps two instances starting at once from both passing the
 * probe before either listens. */
#ifndef USERSVC_PORTCLAIM_H
#define USERSVC_PORTCLAIM_H

#include "buf.h"

/* Takes the start-up lock for host:port and probes the port. Returns the lock's descriptor (keep it
 * open until the workers listen; closing it releases the lock), -2 for port 0 (the kernel picks a
 * free port: nothing to claim), or -1 with one line in err. */
int portclaim_take(const char *host, int port, struct buf *err);

/* The probe alone: 0 when nothing listens on host:port, else -1 with one line in err. */
int portclaim_probe(const char *host, int port, struct buf *err);

#endif
