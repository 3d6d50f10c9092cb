/* edge: what keeps slow, idle and greedy clients from holding a worker's
 * connections. Pure bookkeeping, no sockets and no clock reads: the server
 * adapter passes the time in and closes what it is told to.
 *
 * Each connection has a phase and one absolute deadline:
 *   HEAD  from accept (or from the request line of a kept-alive connection)
 *         until the headers are in: head_ms, however the bytes trickle;
 *   BODY  while the body is read: body_ms from the last chunk (gaps);
 *   BUSY  the request runs or its answer is written: no deadline here (the
 *         DynamoDB deadline and libmicrohttpd's inactivity timeout apply);
 *   IDLE  a kept-alive connection between requests: keepalive_ms.
 * A phase's timeout is fixed, so each timed phase keeps its connections in a
 * list ordered by deadline: expiry and eviction only look at list heads.
 *
 * The address table counts connections per client address for the whole
 * process (workers share it, under a mutex taken only at connect and close). */
#ifndef USERSVC_EDGE_H
#define USERSVC_EDGE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum edge_phase { EDGE_HEAD, EDGE_BODY, EDGE_IDLE, EDGE_TIMED_PHASES = EDGE_IDLE + 1, EDGE_BUSY = EDGE_TIMED_PHASES,
                  EDGE_CLOSING };

struct edge_conn {
    struct edge_conn *prev, *next; /* in its phase's list; unlinked when BUSY or CLOSING */
    enum edge_phase phase;
    int64_t deadline_ms;
};

struct edge_limits {
    long head_ms;
    long body_ms;
    long keepalive_ms;
    unsigned max_conns; /* of this worker */
};

struct edge {
    struct edge_limits limits;
    struct {
        struct edge_conn *first, *last;
    } lists[EDGE_TIMED_PHASES];
    unsigned count;   /* connections added and not removed, CLOSING ones included */
    unsigned closing; /* of those, the ones taken to be closed */
};

void edge_init(struct edge *e, const struct edge_limits *limits);

/* A new connection (caller storage, borrowed until edge_remove): phase HEAD. */
void edge_add(struct edge *e, struct edge_conn *c, int64_t now_ms);

/* Moves c to phase (any but CLOSING) with that phase's deadline from now_ms. */
void edge_set_phase(struct edge *e, struct edge_conn *c, enum edge_phase phase, int64_t now_ms);

/* The oldest connection whose deadline has passed, marked CLOSING, or NULL.
 * The caller closes it; it stays counted until edge_remove. */
struct edge_conn *edge_take_expired(struct edge *e, int64_t now_ms);

/* At the limit, the connection to close for a new one, marked CLOSING: the
 * longest idle kept-alive connection, else the oldest one still sending its
 * head, else the body that has paused longest (a body trickled just under the
 * gap timeout would otherwise hold its slot for as long as it likes). NULL
 * when every connection has a request running. */
struct edge_conn *edge_take_evictable(struct edge *e);

/* Marks c CLOSING (the caller closes it); it stays counted until edge_remove. Idempotent. */
void edge_close(struct edge *e, struct edge_conn *c);

/* 1 when the worker holds max_conns connections that are not CLOSING. */
int edge_full(const struct edge *e);

void edge_remove(struct edge *e, struct edge_conn *c);

/* The nearest deadline, or -1 when no connection has one. */
int64_t edge_next_deadline(const struct edge *e);

/* Connections per client address, for the whole process: a chained hash
 * table whose entries live while their address has connections. */
#define EDGE_ADDR_BUCKETS 1024
struct edge_addr {
    struct edge_addr *next;
    unsigned count;
    unsigned char len; /* 4 (IPv4) or 16 (IPv6) */
    unsigned char bytes[16];
};
struct edge_addrs {
    pthread_mutex_t lock;
    unsigned limit; /* per address; 0 = none */
    struct edge_addr *buckets[EDGE_ADDR_BUCKETS];
};

/* Returns 0, or -1 when out of memory. */
int edge_addrs_init(struct edge_addrs *t, unsigned limit);
void edge_addrs_clean_up(struct edge_addrs *t);

/* Counts one more connection from addr (len 4 or 16 bytes). Returns 0, or -1
 * when the address is at its limit (or memory ran out): nothing is counted. */
int edge_addrs_acquire(struct edge_addrs *t, const void *addr, size_t len);

/* Forgets one connection from addr, counted by edge_addrs_acquire. */
void edge_addrs_release(struct edge_addrs *t, const void *addr, size_t len);

#endif
