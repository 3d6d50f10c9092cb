/* test_retryquota: the standard-mode retry quota's arithmetic (costs, refunds, the cap, the empty
 * bucket), the bucket under concurrent workers, AWS_MAX_ATTEMPTS / AWS_RETRY_MODE precedence and
 * refusals, the backoff formula and x-amz-retry-after clamping. */
#include "retryquota.h"

#include <pthread.h>
#include <string.h>

#include "check.h"
#include "fake_env.h"


static void test_bucket_costs(void)
{
    struct retryquota q;
    retryquota_init(&q);
    CHECK_INT_EQ(retryquota_available(&q), 500);
    CHECK_INT_EQ(retryquota_acquire(&q, 0), 14);
    CHECK_INT_EQ(retryquota_available(&q), 486);
    CHECK_INT_EQ(retryquota_acquire(&q, 1), 5);
    CHECK_INT_EQ(retryquota_available(&q), 481);
    /* The retry that succeeded gives back what it cost. */
    retryquota_on_success(&q, 5);
    CHECK_INT_EQ(retryquota_available(&q), 486);
    retryquota_on_success(&q, 14);
    CHECK_INT_EQ(retryquota_available(&q), 500);
    /* Never above the capacity, whatever succeeds. */
    retryquota_on_success(&q, 0);
    CHECK_INT_EQ(retryquota_available(&q), 500);
    retryquota_on_success(&q, 14);
    CHECK_INT_EQ(retryquota_available(&q), 500);
}

static void test_bucket_empties(void)
{
    struct retryquota q;
    retryquota_init(&q);
    int retries = 0;
    while (retryquota_acquire(&q, 0) != 0)
        retries++;
    CHECK_INT_EQ(retries, 35); /* 35 * 14 = 490 */
    CHECK_INT_EQ(retryquota_available(&q), 10);
    /* 10 left: a throttling retry (5) still fits, twice, then nothing does. */
    CHECK_INT_EQ(retryquota_acquire(&q, 1), 5);
    CHECK_INT_EQ(retryquota_acquire(&q, 1), 5);
    CHECK_INT_EQ(retryquota_available(&q), 0);
    CHECK_INT_EQ(retryquota_acquire(&q, 1), 0);
    CHECK_INT_EQ(retryquota_acquire(&q, 0), 0);
    CHECK_INT_EQ(retryquota_available(&q), 0); /* a refused retry takes nothing */
    /* First-try successes refill one token each: 5 of them allow a throttling retry again. */
    for (int i = 0; i < 4; i++)
        retryquota_on_success(&q, 0);
    CHECK_INT_EQ(retryquota_acquire(&q, 1), 0);
    retryquota_on_success(&q, 0);
    CHECK_INT_EQ(retryquota_acquire(&q, 1), 5);
    /* Exactly the cost left is enough. */
    retryquota_init(&q);
    atomic_store(&q.tokens, 14);
    CHECK_INT_EQ(retryquota_acquire(&q, 0), 14);
    atomic_store(&q.tokens, 13);
    CHECK_INT_EQ(retryquota_acquire(&q, 0), 0);
    CHECK_INT_EQ(retryquota_available(&q), 13);
}

#define WORKERS 4
#define ROUNDS 20000

static void *worker(void *arg)
{
    struct retryquota *q = arg;
    for (int i = 0; i < ROUNDS; i++) {
        int cost = retryquota_acquire(q, i & 1);
        if (cost != 0)
            retryquota_on_success(q, cost);
        retryquota_on_success(q, 0);
    }
    return NULL;
}

struct drain {
    struct retryquota *q;
    int taken;
};

static void *drainer(void *arg)
{
    struct drain *d = arg;
    for (int i = 0; i < 100; i++)
        d->taken += retryquota_acquire(d->q, 0) != 0;
    return NULL;
}

/* Every acquire is paired with a refund of the same cost: whatever the interleaving, no token is
 * lost or made up (a plain load-then-store would lose some), and the bucket never goes negative. */
static void test_bucket_threads(void)
{
    struct retryquota q;
    retryquota_init(&q);
    atomic_store(&q.tokens, 100);
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, &q);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    CHECK_INT_EQ(retryquota_available(&q), 500);

    /* Drain concurrently: exactly floor(500 / 14) acquisitions succeed in total. */
    retryquota_init(&q);
    struct drain d[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        d[i] = (struct drain){&q, 0};
        pthread_create(&t[i], NULL, drainer, &d[i]);
    }
    int taken = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(t[i], NULL);
        taken += d[i].taken;
    }
    CHECK_INT_EQ(taken, 35);
    CHECK_INT_EQ(retryquota_available(&q), 10);
}

static void test_config(void)
{
    struct retryquota_config c;
    struct buf err = BUF_INIT;
    struct fake_env none = {{{NULL, NULL}}};
    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &none, NULL, NULL, &err), 0);
    CHECK_INT_EQ(c.max_attempts, 4);
    CHECK_INT_EQ(c.mode, RETRYQUOTA_MODE_STANDARD);

    struct fake_env env = {{{"AWS_MAX_ATTEMPTS", "7"}, {"AWS_RETRY_MODE", "Standard"}}};
    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &env, "2", "adaptive", &err), 0);
    CHECK_INT_EQ(c.max_attempts, 7); /* environment beats the profile */
    CHECK_INT_EQ(c.mode, RETRYQUOTA_MODE_STANDARD);

    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &none, "2", "adaptive", &err), 0);
    CHECK_INT_EQ(c.max_attempts, 2);
    CHECK_INT_EQ(c.mode, RETRYQUOTA_MODE_ADAPTIVE_AS_STANDARD);

    struct fake_env legacy = {{{"AWS_RETRY_MODE", "legacy"}, {"AWS_MAX_ATTEMPTS", "1"}}};
    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &legacy, NULL, NULL, &err), 0);
    CHECK_INT_EQ(c.mode, RETRYQUOTA_MODE_STANDARD);
    CHECK_INT_EQ(c.max_attempts, 1);

    struct fake_env empty = {{{"AWS_RETRY_MODE", ""}, {"AWS_MAX_ATTEMPTS", ""}}};
    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &empty, "3", NULL, &err), 0);
    CHECK_INT_EQ(c.max_attempts, 3); /* empty = unset, as config.c reads every variable */
    CHECK_STR_EQ(buf_cstr(&err), "");

    static const char *const bad_attempts[] = {"0", "-1", "101", "3.5", "three", " 3", "3 ", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_attempts / sizeof bad_attempts[0]; i++) {
        struct fake_env e = {{{"AWS_MAX_ATTEMPTS", bad_attempts[i]}}};
        buf_reset(&err);
        CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &e, NULL, NULL, &err), -1);
        CHECK(strstr(buf_cstr(&err), "AWS_MAX_ATTEMPTS") != NULL);
    }
    struct fake_env bad_mode = {{{"AWS_RETRY_MODE", "fast"}}};
    buf_reset(&err);
    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &bad_mode, NULL, NULL, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_RETRY_MODE: 'fast' is not standard, legacy or adaptive");
    buf_reset(&err);
    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &none, "0", NULL, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "max_attempts (profile): '0' is not a whole number 1-100");
    buf_reset(&err);
    CHECK_INT_EQ(retryquota_config_load(&c, fake_env_lookup, &none, NULL, "nope", &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "retry_mode (profile): 'nope' is not standard, legacy or adaptive");
    buf_clean_up(&err);
}

static void test_backoff(void)
{
    CHECK_INT_EQ(retryquota_backoff_ms(1, 0, 0.999999), 24);
    CHECK_INT_EQ(retryquota_backoff_ms(1, 0, 0.5), 12);
    CHECK_INT_EQ(retryquota_backoff_ms(2, 0, 0.5), 25);
    CHECK_INT_EQ(retryquota_backoff_ms(3, 0, 0.5), 50);
    CHECK_INT_EQ(retryquota_backoff_ms(1, 1, 0.5), 500);
    CHECK_INT_EQ(retryquota_backoff_ms(5, 1, 0.5), 8000);
    CHECK_INT_EQ(retryquota_backoff_ms(6, 1, 0.5), 10000); /* 32 s capped to 20 s, then jitter */
    CHECK_INT_EQ(retryquota_backoff_ms(6, 1, 0.0), 0);
    CHECK_INT_EQ(retryquota_backoff_ms(1000, 0, 0.5), 10000); /* no overflow on absurd counts */
    CHECK_INT_EQ(retryquota_backoff_ms(0, 0, 0.5), 12);       /* below 1 reads as the first retry */
    CHECK_INT_EQ(retryquota_backoff_ms(2, 0, 1.5), 50);       /* jitter outside [0, 1) is clamped */
    CHECK_INT_EQ(retryquota_backoff_ms(2, 0, -1.0), 0);
}

static void test_retry_after(void)
{
    CHECK_INT_EQ(retryquota_retry_after_ms(NULL, 100), 100);
    CHECK_INT_EQ(retryquota_retry_after_ms("1500", 100), 1500);
    CHECK_INT_EQ(retryquota_retry_after_ms("5100", 100), 5100);
    CHECK_INT_EQ(retryquota_retry_after_ms("5101", 100), 5100); /* at most 5 s over the backoff */
    CHECK_INT_EQ(retryquota_retry_after_ms("999999999999", 100), 5100);
    CHECK_INT_EQ(retryquota_retry_after_ms("50", 100), 100); /* never shorter than the backoff */
    CHECK_INT_EQ(retryquota_retry_after_ms("0", 100), 100);
    CHECK_INT_EQ(retryquota_retry_after_ms(" 300 ", 100), 300);
    CHECK_INT_EQ(retryquota_retry_after_ms("", 100), 100);
    CHECK_INT_EQ(retryquota_retry_after_ms("-5", 100), 100);
    CHECK_INT_EQ(retryquota_retry_after_ms("1.5", 100), 100);
    CHECK_INT_EQ(retryquota_retry_after_ms("soon", 100), 100);
    CHECK_INT_EQ(retryquota_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 100), 100);
    CHECK_INT_EQ(retryquota_retry_after_ms("2000", 0), 2000);
    CHECK_INT_EQ(retryquota_retry_after_ms("7000", 0), 5000);
}

int main(void)
{
    RUN(test_bucket_costs);
    RUN(test_bucket_empties);
    RUN(test_bucket_threads);
    RUN(test_config);
    RUN(test_backoff);
    RUN(test_retry_after);
    return check_summary();
}
