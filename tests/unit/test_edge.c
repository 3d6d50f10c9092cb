/* test_edge: the slow-client and connection-limit bookkeeping: deadlines per
 * phase, expiry in deadline order, which connection makes room at the limit,
 * and the per-address counts every worker shares. */
#include "edge.h"

#include <pthread.h>

#include "check.h"

static const struct edge_limits limits = {.head_ms = 10000, .body_ms = 5000, .keepalive_ms = 60000, .max_conns = 3};

static void test_head_deadline_is_absolute(void)
{
    struct edge e;
    struct edge_conn a;
    edge_init(&e, &limits);
    edge_add(&e, &a, 1000);
    CHECK_INT_EQ(a.phase, EDGE_HEAD);
    CHECK_INT_EQ(edge_next_deadline(&e), 11000);
    CHECK(edge_take_expired(&e, 10999) == NULL);
    CHECK(edge_take_expired(&e, 11000) == &a); /* bytes trickling in change nothing: no call resets it */
    CHECK_INT_EQ(a.phase, EDGE_CLOSING);
    CHECK(edge_take_expired(&e, 99999) == NULL); /* taken once */
    CHECK_INT_EQ(edge_next_deadline(&e), -1);
    CHECK_INT_EQ(e.count, 1); /* counted until the adapter saw it close */
    edge_remove(&e, &a);
    CHECK_INT_EQ(e.count, 0);
    CHECK_INT_EQ(e.closing, 0);
}

static void test_phases_move_deadlines(void)
{
    struct edge e;
    struct edge_conn a;
    edge_init(&e, &limits);
    edge_add(&e, &a, 0);
    edge_set_phase(&e, &a, EDGE_BODY, 2000);
    CHECK_INT_EQ(a.deadline_ms, 7000);
    edge_set_phase(&e, &a, EDGE_BODY, 6000); /* a chunk arrived: the gap starts again */
    CHECK_INT_EQ(edge_next_deadline(&e), 11000);
    CHECK(edge_take_expired(&e, 10999) == NULL);
    edge_set_phase(&e, &a, EDGE_BUSY, 7000); /* the request runs: no deadline of ours */
    CHECK_INT_EQ(edge_next_deadline(&e), -1);
    CHECK(edge_take_expired(&e, 1000000) == NULL);
    edge_set_phase(&e, &a, EDGE_IDLE, 8000);
    CHECK_INT_EQ(edge_next_deadline(&e), 68000);
    CHECK(edge_take_expired(&e, 68000) == &a);
    edge_set_phase(&e, &a, EDGE_HEAD, 68001); /* a closing connection is not revived */
    CHECK_INT_EQ(a.phase, EDGE_CLOSING);
    edge_remove(&e, &a);
}

static void test_expiry_order_across_phases(void)
{
    struct edge e;
    struct edge_conn head, body, idle;
    edge_init(&e, &limits);
    edge_add(&e, &idle, 0);
    edge_set_phase(&e, &idle, EDGE_IDLE, 0); /* 60000 */
    edge_add(&e, &head, 1000);               /* 11000 */
    edge_add(&e, &body, 500);
    edge_set_phase(&e, &body, EDGE_BODY, 500); /* 5500 */
    CHECK_INT_EQ(edge_next_deadline(&e), 5500);
    CHECK(edge_take_expired(&e, 100000) == &body);
    CHECK(edge_take_expired(&e, 100000) == &head);
    CHECK(edge_take_expired(&e, 100000) == &idle);
    CHECK(edge_take_expired(&e, 100000) == NULL);
    edge_remove(&e, &body);
    edge_remove(&e, &head);
    edge_remove(&e, &idle);
    CHECK_INT_EQ(e.count, 0);
}

static void test_many_in_one_list_stay_ordered(void)
{
    struct edge e;
    struct edge_conn c[100];
    edge_init(&e, &limits);
    for (int i = 0; i < 100; i++)
        edge_add(&e, &c[i], i * 10);
    edge_set_phase(&e, &c[0], EDGE_HEAD, 5000); /* the request line of a kept-alive connection: to the tail */
    int in_order = 1;
    for (int i = 1; i < 100; i++)
        in_order &= edge_take_expired(&e, 10000 + i * 10) == &c[i];
    CHECK(in_order);
    CHECK(edge_take_expired(&e, 14999) == NULL);
    CHECK(edge_take_expired(&e, 15000) == &c[0]);
    for (int i = 0; i < 100; i++)
        edge_remove(&e, &c[i]);
    CHECK_INT_EQ(e.count, 0);
}

static void test_eviction_prefers_idle_then_oldest_head(void)
{
    struct edge e;
    struct edge_conn busy, head1, head2, idle1, idle2, extra;
    edge_init(&e, &(struct edge_limits){.head_ms = 10000, .body_ms = 5000, .keepalive_ms = 60000, .max_conns = 5});
    edge_add(&e, &busy, 0);
    edge_set_phase(&e, &busy, EDGE_BUSY, 0);
    edge_add(&e, &head1, 10);
    edge_add(&e, &idle1, 20);
    edge_set_phase(&e, &idle1, EDGE_IDLE, 30);
    edge_add(&e, &head2, 40);
    CHECK(!edge_full(&e));
    edge_add(&e, &idle2, 50);
    edge_set_phase(&e, &idle2, EDGE_IDLE, 60);
    CHECK(edge_full(&e));
    CHECK(edge_take_evictable(&e) == &idle1); /* the longest idle first */
    CHECK(!edge_full(&e));                     /* room is made as soon as one is being closed */
    edge_add(&e, &extra, 70);
    CHECK(edge_full(&e));
    CHECK(edge_take_evictable(&e) == &idle2);
    CHECK(edge_take_evictable(&e) == &head1); /* then the head that has trickled longest */
    CHECK(edge_take_evictable(&e) == &head2);
    CHECK(edge_take_evictable(&e) == &extra);
    CHECK(edge_take_evictable(&e) == NULL); /* never one with a request running */
    struct edge_conn slow_body, slower_body;
    edge_add(&e, &slower_body, 80);
    edge_set_phase(&e, &slower_body, EDGE_BODY, 90);
    edge_add(&e, &slow_body, 95);
    edge_set_phase(&e, &slow_body, EDGE_BODY, 100);
    edge_set_phase(&e, &slower_body, EDGE_BODY, 4000); /* a piece arrived: now the other paused longest */
    CHECK(edge_take_evictable(&e) == &slow_body); /* a trickled body cannot hold its slot for ever */
    CHECK(edge_take_evictable(&e) == &slower_body);
    edge_remove(&e, &slow_body);
    edge_remove(&e, &slower_body);
    CHECK_INT_EQ(busy.phase, EDGE_BUSY);
    edge_remove(&e, &idle1);
    CHECK_INT_EQ(e.count, 5);
    CHECK_INT_EQ(e.closing, 4);
    edge_remove(&e, &busy);
    edge_remove(&e, &head1);
    edge_remove(&e, &head2);
    edge_remove(&e, &idle2);
    edge_remove(&e, &extra);
    CHECK_INT_EQ(e.count, 0);
    CHECK_INT_EQ(e.closing, 0);
}

static void test_close_is_idempotent(void)
{
    struct edge e;
    struct edge_conn a, b;
    edge_init(&e, &(struct edge_limits){.head_ms = 10, .body_ms = 10, .keepalive_ms = 10, .max_conns = 2});
    edge_add(&e, &a, 0);
    edge_add(&e, &b, 0);
    CHECK(edge_full(&e));
    edge_close(&e, &a);
    edge_close(&e, &a);
    CHECK_INT_EQ(e.closing, 1);
    CHECK(!edge_full(&e));
    CHECK(edge_take_expired(&e, 100) == &b); /* a closing one neither expires nor is evicted again */
    CHECK(edge_take_expired(&e, 100) == NULL);
    edge_remove(&e, &a);
    edge_remove(&e, &b);
    CHECK_INT_EQ(e.count, 0);
    CHECK_INT_EQ(e.closing, 0);
}

static void test_no_limit(void)
{
    struct edge e;
    struct edge_conn a;
    edge_init(&e, &(struct edge_limits){.head_ms = 1, .body_ms = 1, .keepalive_ms = 1, .max_conns = 0});
    edge_add(&e, &a, 0);
    CHECK(!edge_full(&e));
    edge_remove(&e, &a);
}

static void test_addrs_limit_per_address(void)
{
    struct edge_addrs t;
    const unsigned char a[4] = {127, 0, 0, 2}, b[4] = {127, 0, 0, 3};
    const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    CHECK_INT_EQ(edge_addrs_init(&t, 2), 0);
    CHECK_INT_EQ(edge_addrs_acquire(&t, a, 4), 0);
    CHECK_INT_EQ(edge_addrs_acquire(&t, a, 4), 0);
    CHECK_INT_EQ(edge_addrs_acquire(&t, a, 4), -1);
    CHECK_INT_EQ(edge_addrs_acquire(&t, b, 4), 0); /* another address has its own count */
    CHECK_INT_EQ(edge_addrs_acquire(&t, v6, 16), 0);
    CHECK_INT_EQ(edge_addrs_acquire(&t, v6, 16), 0);
    CHECK_INT_EQ(edge_addrs_acquire(&t, v6, 16), -1);
    edge_addrs_release(&t, a, 4);
    CHECK_INT_EQ(edge_addrs_acquire(&t, a, 4), 0); /* a closed connection frees its place */
    CHECK_INT_EQ(edge_addrs_acquire(&t, a, 4), -1);
    edge_addrs_release(&t, a, 4);
    edge_addrs_release(&t, a, 4);
    edge_addrs_release(&t, b, 4);
    edge_addrs_release(&t, v6, 16);
    edge_addrs_release(&t, v6, 16);
    int empty = 1;
    for (size_t i = 0; i < EDGE_ADDR_BUCKETS; i++)
        empty &= t.buckets[i] == NULL;
    CHECK(empty); /* entries live only while their address has connections */
    CHECK_INT_EQ(edge_addrs_acquire(&t, "unix", 2), 0); /* not an IP address: not limited */
    edge_addrs_clean_up(&t);
}

static void test_addrs_unlimited(void)
{
    struct edge_addrs t;
    const unsigned char a[4] = {10, 1, 2, 3};
    CHECK_INT_EQ(edge_addrs_init(&t, 0), 0);
    int refused = 0;
    for (int i = 0; i < 5000; i++)
        refused += edge_addrs_acquire(&t, a, 4) != 0;
    CHECK_INT_EQ(refused, 0);
    edge_addrs_clean_up(&t); /* frees entries still counted */
}

struct worker_arg {
    struct edge_addrs *t;
    unsigned char addr[4];
    int refused;
};

static void *acquire_release(void *p)
{
    struct worker_arg *w = p;
    for (int i = 0; i < 20000; i++) {
        if (edge_addrs_acquire(w->t, w->addr, 4) != 0)
            w->refused++;
        else
            edge_addrs_release(w->t, w->addr, 4);
    }
    return NULL;
}

static void test_addrs_shared_by_threads(void)
{
    struct edge_addrs t;
    CHECK_INT_EQ(edge_addrs_init(&t, 4), 0);
    pthread_t threads[4];
    struct worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct worker_arg){.t = &t, .addr = {192, 0, 2, (unsigned char)(i % 2)}};
        pthread_create(&threads[i], NULL, acquire_release, &args[i]);
    }
    int refused = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        refused += args[i].refused;
    }
    CHECK_INT_EQ(refused, 0); /* two threads per address never hold more than 2 of its 4 places */
    int empty = 1;
    for (size_t i = 0; i < EDGE_ADDR_BUCKETS; i++)
        empty &= t.buckets[i] == NULL;
    CHECK(empty);
    edge_addrs_clean_up(&t);
}

int main(void)
{
    RUN(test_head_deadline_is_absolute);
    RUN(test_phases_move_deadlines);
    RUN(test_expiry_order_across_phases);
    RUN(test_many_in_one_list_stay_ordered);
    RUN(test_eviction_prefers_idle_then_oldest_head);
    RUN(test_close_is_idempotent);
    RUN(test_no_limit);
    RUN(test_addrs_limit_per_address);
    RUN(test_addrs_unlimited);
    RUN(test_addrs_shared_by_threads);
    return check_summary();
}
