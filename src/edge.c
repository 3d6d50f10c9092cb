#include "edge.h"

#include <stdlib.h>
#include <string.h>

void edge_init(struct edge *e, const struct edge_limits *limits)
{
    memset(e, 0, sizeof *e);
    e->limits = *limits;
}

static long phase_timeout(const struct edge *e, enum edge_phase phase)
{
    switch (phase) {
    case EDGE_HEAD:
        return e->limits.head_ms;
    case EDGE_BODY:
        return e->limits.body_ms;
    case EDGE_IDLE:
        return e->limits.keepalive_ms;
    default:
        return -1;
    }
}

static void unlink_conn(struct edge *e, struct edge_conn *c)
{
    if (c->phase >= EDGE_TIMED_PHASES)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        e->lists[c->phase].first = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        e->lists[c->phase].last = c->prev;
    c->prev = c->next = NULL;
}

/* Appends at the tail: every deadline in a list is now + the same timeout,
 * and now never goes back, so the list stays ordered. */
static void link_conn(struct edge *e, struct edge_conn *c, enum edge_phase phase, int64_t now_ms)
{
    c->phase = phase;
    c->prev = c->next = NULL;
    if (phase >= EDGE_TIMED_PHASES) {
        c->deadline_ms = -1;
        return;
    }
    c->deadline_ms = now_ms + phase_timeout(e, phase);
    c->prev = e->lists[phase].last;
    if (c->prev != NULL)
        c->prev->next = c;
    else
        e->lists[phase].first = c;
    e->lists[phase].last = c;
}

void edge_add(struct edge *e, struct edge_conn *c, int64_t now_ms)
{
    e->count++;
    link_conn(e, c, EDGE_HEAD, now_ms);
}

void edge_set_phase(struct edge *e, struct edge_conn *c, enum edge_phase phase, int64_t now_ms)
{
    if (c->phase == EDGE_CLOSING)
        return; /* being closed: nothing revives it */
    unlink_conn(e, c);
    link_conn(e, c, phase, now_ms);
}

static struct edge_conn *take(struct edge *e, struct edge_conn *c)
{
    unlink_conn(e, c);
    c->phase = EDGE_CLOSING;
    c->deadline_ms = -1;
    e->closing++;
    return c;
}

struct edge_conn *edge_take_expired(struct edge *e, int64_t now_ms)
{
    struct edge_conn *oldest = NULL;
    for (int p = 0; p < EDGE_TIMED_PHASES; p++) {
        struct edge_conn *c = e->lists[p].first;
        if (c != NULL && c->deadline_ms <= now_ms && (oldest == NULL || c->deadline_ms < oldest->deadline_ms))
            oldest = c;
    }
    return oldest != NULL ? take(e, oldest) : NULL;
}

void edge_close(struct edge *e, struct edge_conn *c)
{
    if (c->phase != EDGE_CLOSING)
        take(e, c);
}

int edge_full(const struct edge *e)
{
    return e->limits.max_conns > 0 && e->count - e->closing >= e->limits.max_conns;
}

struct edge_conn *edge_take_evictable(struct edge *e)
{
    if (e->lists[EDGE_IDLE].first != NULL)
        return take(e, e->lists[EDGE_IDLE].first);
    if (e->lists[EDGE_HEAD].first != NULL)
        return take(e, e->lists[EDGE_HEAD].first);
    if (e->lists[EDGE_BODY].first != NULL) /* the body whose last piece came longest ago */
        return take(e, e->lists[EDGE_BODY].first);
    return NULL;
}

void edge_remove(struct edge *e, struct edge_conn *c)
{
    if (c->phase == EDGE_CLOSING)
        e->closing--;
    unlink_conn(e, c);
    c->phase = EDGE_CLOSING;
    e->count--;
}

int64_t edge_next_deadline(const struct edge *e)
{
    int64_t next = -1;
    for (int p = 0; p < EDGE_TIMED_PHASES; p++) {
        const struct edge_conn *c = e->lists[p].first;
        if (c != NULL && (next < 0 || c->deadline_ms < next))
            next = c->deadline_ms;
    }
    return next;
}

int edge_addrs_init(struct edge_addrs *t, unsigned limit)
{
    memset(t, 0, sizeof *t);
    t->limit = limit;
    return pthread_mutex_init(&t->lock, NULL) == 0 ? 0 : -1;
}

void edge_addrs_clean_up(struct edge_addrs *t)
{
    for (size_t i = 0; i < EDGE_ADDR_BUCKETS; i++) {
        while (t->buckets[i] != NULL) {
            struct edge_addr *next = t->buckets[i]->next;
            free(t->buckets[i]);
            t->buckets[i] = next;
        }
    }
    pthread_mutex_destroy(&t->lock);
}

/* FNV-1a: addresses are not secret and a flood from many addresses only
 * lengthens chains; the table is touched at connect and close, never per request. */
static size_t bucket_of(const unsigned char *bytes, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ bytes[i]) * 16777619u;
    return h & (EDGE_ADDR_BUCKETS - 1);
}

/* The entry for addr, and where the link to it is, or NULL (with *link where one would go). */
static struct edge_addr *find(struct edge_addrs *t, const unsigned char *bytes, size_t len, struct edge_addr ***link)
{
    struct edge_addr **at = &t->buckets[bucket_of(bytes, len)];
    for (; *at != NULL; at = &(*at)->next)
        if ((*at)->len == len && memcmp((*at)->bytes, bytes, len) == 0)
            break;
    *link = at;
    return *at;
}

int edge_addrs_acquire(struct edge_addrs *t, const void *addr, size_t len)
{
    if (len != 4 && len != 16)
        return 0; /* not an IP address (a Unix socket): not limited */
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    struct edge_addr **link;
    struct edge_addr *a = find(t, addr, len, &link);
    if (a == NULL) {
        a = calloc(1, sizeof *a);
        if (a == NULL) {
            rc = -1;
        } else {
            a->len = (unsigned char)len;
            memcpy(a->bytes, addr, len);
            *link = a;
        }
    }
    if (a != NULL) {
        if (t->limit > 0 && a->count >= t->limit)
            rc = -1;
        else
            a->count++;
    }
    if (a != NULL && a->count == 0) { /* refused its first connection: keep no entry */
        *link = a->next;
        free(a);
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void edge_addrs_release(struct edge_addrs *t, const void *addr, size_t len)
{
    if (len != 4 && len != 16)
        return;
    pthread_mutex_lock(&t->lock);
    struct edge_addr **link;
    struct edge_addr *a = find(t, addr, len, &link);
    if (a != NULL && --a->count == 0) {
        *link = a->next;
        free(a);
    }
    pthread_mutex_unlock(&t->lock);
}
