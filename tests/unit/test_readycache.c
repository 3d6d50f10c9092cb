/* test_readycache: the /readyz cache's decisions on an injected clock. */
#include "readycache.h"

#include "check.h"

static void test_window(void)
{
    struct readycache rc;
    readycache_init(&rc);
    struct readycache_answer a = {0};
    /* the first probe checks; one arriving meanwhile does not check again and cannot know yet */
    CHECK_INT_EQ(readycache_begin(&rc, 1000, &a), READYCACHE_REFRESH);
    CHECK_INT_EQ(readycache_begin(&rc, 1010, &a), READYCACHE_ANSWER);
    CHECK_INT_EQ(a.ready, 0);
    CHECK_STR_EQ(a.message, "readiness is being checked; retry shortly");
    readycache_store(&rc, 1020, 1, "ignored");
    /* fresh for READYCACHE_TTL_MS after it was stored */
    CHECK_INT_EQ(readycache_begin(&rc, 1030, &a), READYCACHE_ANSWER);
    CHECK_INT_EQ(a.ready, 1);
    CHECK_INT_EQ(readycache_begin(&rc, 1020 + READYCACHE_TTL_MS - 1, &a), READYCACHE_ANSWER);
    CHECK_INT_EQ(a.ready, 1);
    /* stale: one probe refreshes, the others get the last answer meanwhile */
    CHECK_INT_EQ(readycache_begin(&rc, 1020 + READYCACHE_TTL_MS, &a), READYCACHE_REFRESH);
    a.ready = -1;
    CHECK_INT_EQ(readycache_begin(&rc, 1020 + READYCACHE_TTL_MS + 5, &a), READYCACHE_ANSWER);
    CHECK_INT_EQ(a.ready, 1);
    readycache_store(&rc, 4000, 0, "the database is not reachable");
    CHECK_INT_EQ(readycache_begin(&rc, 4001, &a), READYCACHE_ANSWER);
    CHECK_INT_EQ(a.ready, 0);
    CHECK_STR_EQ(a.message, "the database is not reachable");
    /* a refresh that never stores holds the others back for READYCACHE_REFRESH_MAX_MS only */
    CHECK_INT_EQ(readycache_begin(&rc, 7000, &a), READYCACHE_REFRESH);
    CHECK_INT_EQ(readycache_begin(&rc, 7000 + READYCACHE_REFRESH_MAX_MS - 1, &a), READYCACHE_ANSWER);
    CHECK_INT_EQ(readycache_begin(&rc, 7000 + READYCACHE_REFRESH_MAX_MS, &a), READYCACHE_REFRESH);
    readycache_clean_up(&rc);
}

/* N probes spread over 10 s: one refresh per window, however many probes. */
static void test_many_probes(void)
{
    struct readycache rc;
    readycache_init(&rc);
    struct readycache_answer a;
    int refreshes = 0;
    for (int64_t t = 0; t < 10000; t += 7) {
        if (readycache_begin(&rc, t, &a) == READYCACHE_REFRESH) {
            refreshes++;
            readycache_store(&rc, t + 20, 1, ""); /* the DescribeTable takes 20 ms */
        }
    }
    CHECK(refreshes >= 4 && refreshes <= 10000 / READYCACHE_TTL_MS + 1);
    readycache_clean_up(&rc);
}

int main(void)
{
    RUN(test_window);
    RUN(test_many_probes);
    return check_summary();
}
