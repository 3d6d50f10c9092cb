/* test_creds: credential values, the static provider, and the cache: answers
 * at once while valid, one refresh in flight however many ask, refresh ahead
 * of expiration, keeping valid credentials when a refresh fails, and the
 * snapshot signers read (same reference until a new value is published). */
#include "creds.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static void test_value(void)
{
    struct creds *c = creds_new("AKID", "SECRET", NULL, CREDS_NO_EXPIRY, "static");
    CHECK(c != NULL);
    CHECK_STR_EQ(c->access_key_id, "AKID");
    CHECK_STR_EQ(c->secret_access_key, "SECRET");
    CHECK(c->session_token == NULL);
    CHECK_STR_EQ(c->provider, "static");
    CHECK(creds_ref(c) == c);
    creds_unref(c);
    creds_unref(c);
    creds_unref(NULL);
    CHECK(creds_new("", "SECRET", NULL, 0, "x") == NULL);
    CHECK(creds_new("AKID", "", NULL, 0, "x") == NULL);
    CHECK(creds_new(NULL, "SECRET", NULL, 0, "x") == NULL);
    struct creds *t = creds_new("A", "S", "TOKEN", 1000, "sts");
    CHECK_STR_EQ(t->session_token, "TOKEN");
    /* Expiry arithmetic: expiring within ahead seconds, or past. */
    CHECK_INT_EQ(creds_expiring(t, 0, 0), 0);
    CHECK_INT_EQ(creds_expiring(t, 999, 0), 0);
    CHECK_INT_EQ(creds_expiring(t, 1000, 0), 1);
    CHECK_INT_EQ(creds_expiring(t, 2000, 0), 1);
    CHECK_INT_EQ(creds_expiring(t, 699, 300), 0);
    CHECK_INT_EQ(creds_expiring(t, 700, 300), 1);
    creds_unref(t);
    struct creds *never = creds_new("A", "S", NULL, CREDS_NO_EXPIRY, "static");
    CHECK_INT_EQ(creds_expiring(never, INT64_MAX - 1, 1000000), 0);
    creds_unref(never);
}

/* A provider under test control: records gets, answers when told. */
struct fake {
    struct creds_provider base;
    int gets;
    creds_callback *callback;
    void *ctx;
    int destroyed;
};

static int fake_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct fake *f = (struct fake *)self;
    f->gets++;
    f->callback = callback;
    f->ctx = ctx;
    return 0;
}

static void fake_destroy(struct creds_provider *self)
{
    ((struct fake *)self)->destroyed = 1;
}

static void fake_answer(struct fake *f, struct creds *creds, const char *error)
{
    creds_callback *cb = f->callback;
    f->callback = NULL;
    cb(f->ctx, creds, error);
}

struct answer {
    int calls;
    struct creds *creds;
    char error[128];
};

static void on_answer(void *ctx, struct creds *creds, const char *error)
{
    struct answer *a = ctx;
    a->calls++;
    creds_unref(a->creds);
    a->creds = creds;
    snprintf(a->error, sizeof a->error, "%s", error ? error : "");
}

static int64_t fake_now;

static int64_t clock_fake(void *ctx)
{
    return fake_now;
}

static void test_cache(void)
{
    struct fake f = {.base = {.name = "fake", .get = fake_get, .destroy = fake_destroy}};
    struct creds_cache *cache =
        creds_cache_new(&(struct creds_cache_options){.source = &f.base, .refresh_ahead_s = 300, .now_s = clock_fake, .mono_s = clock_fake});
    struct creds_provider *p = creds_cache_provider(cache);
    fake_now = 10000;

    /* Nothing yet: snapshots are NULL, gets wait on one refresh. */
    uint64_t gen = 0;
    CHECK(creds_cache_snapshot(cache, NULL, &gen) == NULL);
    struct answer a1 = {0}, a2 = {0}, a3 = {0};
    CHECK_INT_EQ(creds_provider_get(p, on_answer, &a1), 0);
    CHECK_INT_EQ(creds_provider_get(p, on_answer, &a2), 0);
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 1); /* one refresh in flight, however many ask */
    CHECK_INT_EQ(a1.calls + a2.calls, 0);
    struct creds *first = creds_new("AK1", "S1", "T1", 11000, "fake");
    fake_answer(&f, first, NULL);
    CHECK_INT_EQ(a1.calls, 1);
    CHECK_INT_EQ(a2.calls, 1);
    CHECK(a1.creds == first && a2.creds == first);

    /* The snapshot follows the generation; unchanged, it is the same reference. */
    struct creds *held = creds_cache_snapshot(cache, NULL, &gen);
    CHECK(held == first);
    CHECK(gen != 0);
    CHECK(creds_cache_snapshot(cache, held, &gen) == held);

    /* Valid and not near expiry: answered at once, no refresh. */
    CHECK_INT_EQ(creds_provider_get(p, on_answer, &a3), 0);
    CHECK_INT_EQ(a3.calls, 1);
    CHECK(a3.creds == first);
    CHECK_INT_EQ(f.gets, 1);

    /* Within the refresh window: still answered at once, and one background refresh starts. */
    fake_now = 10800; /* 200 s before expiry */
    CHECK_INT_EQ(creds_provider_get(p, on_answer, &a3), 0);
    CHECK_INT_EQ(a3.calls, 2);
    CHECK(a3.creds == first);
    CHECK_INT_EQ(f.gets, 2);
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 2);

    /* That refresh fails: the old credentials, still valid, keep being served. */
    fake_answer(&f, NULL, "sts: 403");
    CHECK(creds_cache_snapshot(cache, held, &gen) == held);
    CHECK_INT_EQ(creds_provider_get(p, on_answer, &a3), 0);
    CHECK_INT_EQ(a3.calls, 3);
    CHECK(a3.creds == first);
    CHECK_INT_EQ(f.gets, 3); /* still due: another try */

    /* It succeeds: a new generation, and the snapshot moves (dropping the old reference). */
    struct creds *second = creds_new("AK2", "S2", NULL, 20000, "fake");
    fake_answer(&f, second, NULL);
    held = creds_cache_snapshot(cache, held, &gen);
    CHECK(held == second);
    CHECK_STR_EQ(held->access_key_id, "AK2");

    /* Expired with a failing refresh: waiters get the error, not stale keys. */
    fake_now = 30000;
    struct answer a4 = {0};
    CHECK_INT_EQ(creds_provider_get(p, on_answer, &a4), 0);
    CHECK_INT_EQ(a4.calls, 0);
    fake_answer(&f, NULL, "imds: no role");
    CHECK_INT_EQ(a4.calls, 1);
    CHECK(a4.creds == NULL);
    CHECK_STR_EQ(a4.error, "imds: no role");

    creds_unref(held);
    creds_unref(a1.creds);
    creds_unref(a2.creds);
    creds_unref(a3.creds);
    creds_cache_free(cache);
    CHECK_INT_EQ(f.destroyed, 1);
}

/* Start-up's value, back-off of background refreshes, forced refreshes with tickets, wakers. */
static void test_cache_refresh_rules(void)
{
    struct fake f = {.base = {.name = "fake", .get = fake_get, .destroy = fake_destroy}};
    struct creds *initial = creds_new("AK0", "S0", NULL, 1000, "fake");
    struct creds_cache *cache = creds_cache_new(&(struct creds_cache_options){
        .source = &f.base, .refresh_ahead_s = 100, .now_s = clock_fake, .mono_s = clock_fake, .initial = initial});
    int waker = creds_cache_add_waker(cache);
    CHECK(waker >= 0);
    fake_now = 500;
    uint64_t gen = 0;
    struct creds *held = creds_cache_snapshot(cache, NULL, &gen);
    CHECK(held == initial); /* the start-up value is there at once */
    CHECK_INT_EQ(creds_cache_valid(cache), 1);
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 0); /* not due yet */

    /* Due: a background refresh; it fails, and the next waits 1 s, then 2 s. */
    fake_now = 950;
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 1);
    fake_answer(&f, NULL, "down");
    uint64_t count = 0;
    CHECK_INT_EQ(read(waker, &count, sizeof count), (long)sizeof count); /* the worker is woken */
    CHECK_INT_EQ(count, 1);
    CHECK_INT_EQ(creds_cache_refreshes(cache), 1);
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 1);
    fake_now = 951;
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 2);
    fake_answer(&f, NULL, "down");
    fake_now = 952;
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 2);
    fake_now = 953;
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 3);

    /* A forced refresh joins the one in flight: the ticket is its end. */
    uint64_t ticket = creds_cache_force_refresh(cache, held);
    CHECK_INT_EQ(f.gets, 3);
    CHECK_INT_EQ(ticket, creds_cache_refreshes(cache) + 1);
    struct creds *next = creds_new("AK1", "S1", NULL, 5000, "fake");
    fake_answer(&f, next, NULL);
    CHECK(creds_cache_refreshes(cache) >= ticket);
    /* Forcing with credentials already replaced: nothing starts, the ticket is already reached. */
    ticket = creds_cache_force_refresh(cache, held);
    CHECK_INT_EQ(f.gets, 3);
    CHECK(creds_cache_refreshes(cache) >= ticket);
    held = creds_cache_snapshot(cache, held, &gen);
    CHECK(held == next);
    /* Forcing with the current ones starts a refresh even though they are not due. */
    ticket = creds_cache_force_refresh(cache, held);
    CHECK_INT_EQ(f.gets, 4);
    CHECK(creds_cache_refreshes(cache) < ticket);
    fake_answer(&f, NULL, "down");
    CHECK(creds_cache_refreshes(cache) >= ticket);
    CHECK(creds_cache_snapshot(cache, held, &gen) == held); /* failed: the valid ones stay */

    /* Forced again within CREDS_CACHE_FORCE_MIN_S (every signature refused, say for clock skew):
     * nothing starts and the ticket is already reached; once that time passed, one more starts. */
    fake_now = 953 + CREDS_CACHE_FORCE_MIN_S - 1;
    ticket = creds_cache_force_refresh(cache, held);
    CHECK_INT_EQ(f.gets, 4);
    CHECK(creds_cache_refreshes(cache) >= ticket);
    fake_now = 953 + CREDS_CACHE_FORCE_MIN_S;
    ticket = creds_cache_force_refresh(cache, held);
    CHECK_INT_EQ(f.gets, 5);
    CHECK(creds_cache_refreshes(cache) < ticket);
    fake_answer(&f, NULL, "down");

    /* Expired: not valid (for /readyz), however they were obtained. */
    fake_now = 5000;
    CHECK_INT_EQ(creds_cache_valid(cache), 0);
    creds_unref(held);
    creds_unref(initial);
    creds_cache_free(cache);
}

static int64_t fake_mono;

static int64_t clock_fake_mono(void *ctx)
{
    return fake_mono;
}

/* The back-off runs on the monotonic clock: a wall clock stepping back does not hold refreshes off. */
static void test_cache_wall_clock_steps(void)
{
    struct fake f = {.base = {.name = "fake", .get = fake_get, .destroy = fake_destroy}};
    struct creds_cache *cache = creds_cache_new(&(struct creds_cache_options){
        .source = &f.base, .refresh_ahead_s = 100, .now_s = clock_fake, .mono_s = clock_fake_mono});
    fake_now = 1000000;
    fake_mono = 50;
    creds_cache_refresh_if_due(cache); /* nothing cached: due */
    CHECK_INT_EQ(f.gets, 1);
    fake_answer(&f, NULL, "down"); /* back off 1 s */
    fake_now -= 3600;                /* the wall clock steps back an hour */
    fake_mono += 1;                  /* while one second passes */
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 2);
    fake_answer(&f, NULL, "down"); /* back off 2 s */
    fake_now += 7200;              /* and forward: no earlier try */
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 2);
    fake_mono += 2;
    creds_cache_refresh_if_due(cache);
    CHECK_INT_EQ(f.gets, 3);
    fake_answer(&f, NULL, "down");
    creds_cache_free(cache);
}

static void test_static(void)
{
    struct creds_provider *p = creds_static_new("AKID", "SECRET", "TOKEN", "environment");
    CHECK(p != NULL);
    CHECK_STR_EQ(p->name, "environment");
    struct creds_cache *cache = creds_cache_new(&(struct creds_cache_options){.source = p});
    struct answer a = {0};
    CHECK_INT_EQ(creds_provider_get(creds_cache_provider(cache), on_answer, &a), 0);
    CHECK_INT_EQ(a.calls, 1); /* no I/O: answered from inside get */
    CHECK(a.creds != NULL);
    CHECK_STR_EQ(a.creds->secret_access_key, "SECRET");
    CHECK_STR_EQ(a.creds->session_token, "TOKEN");
    CHECK_STR_EQ(a.creds->provider, "environment");
    CHECK(a.creds->expiration == CREDS_NO_EXPIRY);
    creds_unref(a.creds);
    CHECK(creds_static_new("", "SECRET", NULL, "x") == NULL);
    creds_cache_free(cache);
}

/* Many threads taking snapshots while the value rotates: each sees a whole value (TSan/ASan find races). */
struct reader {
    struct creds_cache *cache;
    int bad;
};

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    struct creds *held = NULL;
    uint64_t gen = 0;
    for (int i = 0; i < 20000; i++) {
        held = creds_cache_snapshot(r->cache, held, &gen);
        if (held != NULL && strncmp(held->access_key_id, "AK", 2) != 0)
            r->bad++;
    }
    creds_unref(held);
    return NULL;
}

struct rotating {
    struct creds_provider base;
    int n;
};

static int rotating_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct rotating *p = (struct rotating *)self;
    char akid[32];
    snprintf(akid, sizeof akid, "AK%d", p->n++);
    callback(ctx, creds_new(akid, "S", NULL, 1, "rotating"), NULL); /* always expired: every ask refreshes */
    return 0;
}

static void rotating_destroy(struct creds_provider *self)
{
}

/* Each read moves 100 s on: past any back-off, so every refresh_if_due refreshes. */
static int64_t racing_clock(void *ctx)
{
    int64_t *t = ctx;
    return *t += 100;
}

static void test_threads(void)
{
    struct rotating src = {.base = {.name = "rotating", .get = rotating_get, .destroy = rotating_destroy}};
    int64_t t = 0;
    log_set_level(LOG_WARN); /* a line per refresh otherwise */
    struct creds_cache *cache = creds_cache_new(
        &(struct creds_cache_options){.source = &src.base, .now_s = racing_clock, .mono_s = racing_clock, .clock_ctx = &t});
    struct reader readers[3];
    pthread_t threads[3];
    for (int i = 0; i < 3; i++) {
        readers[i] = (struct reader){cache, 0};
        pthread_create(&threads[i], NULL, read_loop, &readers[i]);
    }
    for (int i = 0; i < 2000; i++)
        creds_cache_refresh_if_due(cache);
    for (int i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT_EQ(readers[i].bad, 0);
    }
    CHECK(src.n >= 2000);
    creds_cache_free(cache);
}

int main(void)
{
    RUN(test_value);
    RUN(test_cache);
    RUN(test_cache_refresh_rules);
    RUN(test_cache_wall_clock_steps);
    RUN(test_static);
    RUN(test_threads);
    return check_summary();
}
