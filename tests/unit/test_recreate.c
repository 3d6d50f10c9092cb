/* test_recreate: one CreateTable per interval for the whole process, however many requests (and
 * workers) find the table missing at once. */
#include "recreate.h"

#include <pthread.h>

#include "check.h"

static void test_claim_interval(void)
{
    struct recreate r;
    recreate_init(&r);
    CHECK_INT_EQ(recreate_claim(&r, 1000), 1);
    CHECK_INT_EQ(recreate_claim(&r, 1000), 0); /* the storm that follows */
    CHECK_INT_EQ(recreate_claim(&r, 1000 + RECREATE_INTERVAL_MS - 1), 0);
    CHECK_INT_EQ(recreate_claim(&r, 1000 + RECREATE_INTERVAL_MS), 1);
    CHECK_INT_EQ(recreate_claim(&r, 1000 + RECREATE_INTERVAL_MS), 0);
}

struct racer {
    struct recreate *r;
    int granted;
};

static void *race(void *arg)
{
    struct racer *me = arg;
    for (int i = 0; i < 10000; i++)
        me->granted += recreate_claim(me->r, 50000);
    return NULL;
}

static void test_claim_across_threads(void)
{
    struct recreate r;
    recreate_init(&r);
    struct racer racers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        racers[i] = (struct racer){&r, 0};
        CHECK_INT_EQ(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    }
    int granted = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        granted += racers[i].granted;
    }
    CHECK_INT_EQ(granted, 1);
}

int main(void)
{
    RUN(test_claim_interval);
    RUN(test_claim_across_threads);
    return check_summary();
}
