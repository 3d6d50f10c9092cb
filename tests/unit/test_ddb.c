/* test_ddb: the pure pieces of the DynamoDB client: which failures are worth
 * a retry (and of which kind), the full-jitter backoff bounds, and the error
 * code taken from __type. */
#include "ddb.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "crc32.h"

static void test_classify(void)
{
    /* No response at all: transient, whatever else is passed. */
    CHECK_INT_EQ(ddb_classify(1, 0, ""), DDB_RETRY_TRANSIENT);
    CHECK_INT_EQ(ddb_classify(1, 0, "ValidationException"), DDB_RETRY_TRANSIENT);

    /* Throttling codes (DynamoDB answers them with 400). */
    CHECK_INT_EQ(ddb_classify(0, 400, "ProvisionedThroughputExceededException"), DDB_RETRY_THROTTLE);
    CHECK_INT_EQ(ddb_classify(0, 400, "ThrottlingException"), DDB_RETRY_THROTTLE);
    CHECK_INT_EQ(ddb_classify(0, 400, "RequestLimitExceeded"), DDB_RETRY_THROTTLE);

    /* Server side trouble. */
    CHECK_INT_EQ(ddb_classify(0, 500, "InternalServerError"), DDB_RETRY_TRANSIENT);
    CHECK_INT_EQ(ddb_classify(0, 500, ""), DDB_RETRY_TRANSIENT);
    CHECK_INT_EQ(ddb_classify(0, 503, ""), DDB_RETRY_TRANSIENT);
    CHECK_INT_EQ(ddb_classify(0, 502, ""), DDB_RETRY_TRANSIENT);
    CHECK_INT_EQ(ddb_classify(0, 504, ""), DDB_RETRY_TRANSIENT);

    /* Client errors are final. */
    CHECK_INT_EQ(ddb_classify(0, 400, "ConditionalCheckFailedException"), DDB_RETRY_NO);
    CHECK_INT_EQ(ddb_classify(0, 400, "ValidationException"), DDB_RETRY_NO);
    CHECK_INT_EQ(ddb_classify(0, 400, "TransactionCanceledException"), DDB_RETRY_NO);
    CHECK_INT_EQ(ddb_classify(0, 400, "ResourceNotFoundException"), DDB_RETRY_NO);
    CHECK_INT_EQ(ddb_classify(0, 400, "AccessDeniedException"), DDB_RETRY_NO);
    CHECK_INT_EQ(ddb_classify(0, 400, ""), DDB_RETRY_NO);
    CHECK_INT_EQ(ddb_classify(0, 404, ""), DDB_RETRY_NO);
    /* Codes match whole, case-sensitive. */
    CHECK_INT_EQ(ddb_classify(0, 400, "ThrottlingExceptionX"), DDB_RETRY_NO);
    CHECK_INT_EQ(ddb_classify(0, 400, "throttlingexception"), DDB_RETRY_NO);
}

/* min(cap, base * 2^(retry-1)) computed without shifting past 64 bits. */
static long ceiling_for(long base, int retry)
{
    long c = base;
    for (int i = 1; i < retry && c < DDB_BACKOFF_CAP_MS; i++)
        c *= 2;
    return c < DDB_BACKOFF_CAP_MS ? c : DDB_BACKOFF_CAP_MS;
}

/* xorshift64*: deterministic "random" values. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void test_backoff_bounds(void)
{
    /* Ceilings written out from the rule min(20000, base * 2^(retry-1)). */
    static const long transient[] = {0, 25, 50, 100, 200, 400, 800};
    static const long throttle[] = {0, 1000, 2000, 4000, 8000, 16000, 20000};
    for (int retry = 1; retry <= 6; retry++) {
        CHECK_INT_EQ(ceiling_for(DDB_BASE_TRANSIENT_MS, retry), transient[retry]);
        CHECK_INT_EQ(ceiling_for(DDB_BASE_THROTTLE_MS, retry), throttle[retry]);
        /* random 0 -> 0; random == ceiling -> the ceiling itself (inclusive);
         * random == ceiling + 1 -> 0 again (modulo ceiling + 1). */
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, retry, 0), 0);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, retry, 0), 0);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, retry, 1), 1);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, retry, 1), 1);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, retry, (uint64_t)transient[retry]), transient[retry]);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, retry, (uint64_t)throttle[retry]), throttle[retry]);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, retry, (uint64_t)transient[retry] + 1), 0);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, retry, (uint64_t)throttle[retry] + 1), 0);
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, retry, UINT64_MAX),
                     (long)(UINT64_MAX % (uint64_t)(transient[retry] + 1)));
        CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, retry, UINT64_MAX),
                     (long)(UINT64_MAX % (uint64_t)(throttle[retry] + 1)));
    }

    /* Many random values: always within [0, ceiling], and the exact formula. */
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (int retry = 1; retry <= 40; retry++) {
        int bad = 0;
        long t_ceiling = ceiling_for(DDB_BASE_TRANSIENT_MS, retry);
        long h_ceiling = ceiling_for(DDB_BASE_THROTTLE_MS, retry);
        long t_max = 0, h_max = 0;
        for (int i = 0; i < 20000; i++) {
            uint64_t r = next(&seed);
            long t = ddb_backoff_ms(DDB_RETRY_TRANSIENT, retry, r);
            long h = ddb_backoff_ms(DDB_RETRY_THROTTLE, retry, r);
            bad += t < 0 || t > t_ceiling || t != (long)(r % (uint64_t)(t_ceiling + 1));
            bad += h < 0 || h > h_ceiling || h != (long)(r % (uint64_t)(h_ceiling + 1));
            t_max = t > t_max ? t : t_max;
            h_max = h > h_max ? h : h_max;
        }
        if (bad)
            fprintf(stderr, "  retry %d: %d out of bounds\n", retry, bad);
        CHECK_INT_EQ(bad, 0);
        /* The whole range is used: the largest of 20000 draws is near the ceiling. */
        CHECK(t_max >= t_ceiling * 9 / 10);
        CHECK(h_max >= h_ceiling * 9 / 10);
    }

    /* The cap: reached from retry 6 for throttling, and for any large retry. */
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, 30, 20000), 20000);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, 30, 20001), 0);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 30, 20000), 20000);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 30, 20001), 0);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 11, 20000), 20000); /* 25 * 1024 > 20000 */
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 10, 12800), 12800); /* 25 * 512 */
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 10, 12801), 0);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, 64, UINT64_MAX), (long)(UINT64_MAX % 20001));
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 1000000, UINT64_MAX), (long)(UINT64_MAX % 20001));
    /* Retry numbers below 1 are treated as the first retry. */
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 0, 25), 25);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_TRANSIENT, 0, 26), 0);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, -5, 1000), 1000);
    CHECK_INT_EQ(ddb_backoff_ms(DDB_RETRY_THROTTLE, -5, 1001), 0);
}

static void test_error_code(void)
{
    CHECK_STR_EQ(ddb_error_code("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"),
                 "ConditionalCheckFailedException");
    CHECK_STR_EQ(ddb_error_code("com.amazon.coral.validate#ValidationException"), "ValidationException");
    CHECK_STR_EQ(ddb_error_code("ResourceNotFoundException"), "ResourceNotFoundException");
    CHECK_STR_EQ(ddb_error_code(""), "");
    CHECK_STR_EQ(ddb_error_code("a#b#ThrottlingException"), "ThrottlingException");
    CHECK_STR_EQ(ddb_error_code("trailing#"), "");
    const char *type = "x#Y";
    CHECK(ddb_error_code(type) == type + 2); /* points into the value */
    /* Classification of a full __type once reduced. */
    CHECK_INT_EQ(ddb_classify(0, 400,
                              ddb_error_code("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")),
                 DDB_RETRY_THROTTLE);
}

/* The log text of a result: status and code always, never a body that is not DynamoDB's. */
static void test_result_describe(void)
{
    char out[512];
    struct ddb_result forbidden = {.status = DDB_ERROR, .http_status = 403, .error_code = "",
                                   .message = "DynamoDB answered with an error", .content_type = "text/html"};
    CHECK_STR_EQ(ddb_result_describe(&forbidden, out, sizeof out), "no error code, HTTP 403, text/html");
    struct ddb_result empty = {.status = DDB_ERROR, .http_status = 403, .error_code = "",
                               .message = "DynamoDB answered with an error", .content_type = ""};
    CHECK_STR_EQ(ddb_result_describe(&empty, out, sizeof out), "no error code, HTTP 403, no content type");
    struct ddb_result unset = {.status = DDB_UNAVAILABLE, .http_status = 502, .error_code = "", .message = "m"};
    CHECK_STR_EQ(ddb_result_describe(&unset, out, sizeof out), "no error code, HTTP 502, no content type");
    struct ddb_result validation = {.status = DDB_ERROR, .http_status = 400, .error_code = "ValidationException",
                                    .message = "1 validation error detected",
                                    .content_type = "application/x-amz-json-1.0"};
    CHECK_STR_EQ(ddb_result_describe(&validation, out, sizeof out),
                 "HTTP 400 ValidationException: 1 validation error detected");
    struct ddb_result network = {.status = DDB_UNAVAILABLE, .http_status = 0, .error_code = "",
                                 .message = "Couldn't connect to server (Connection refused)", .content_type = ""};
    CHECK_STR_EQ(ddb_result_describe(&network, out, sizeof out), "Couldn't connect to server (Connection refused)");
    struct ddb_result garbage = {.status = DDB_BAD_RESPONSE, .http_status = 200, .error_code = "",
                                 .message = "DynamoDB answered with a body that is not JSON",
                                 .content_type = "text/plain"};
    CHECK_STR_EQ(ddb_result_describe(&garbage, out, sizeof out),
                 "DynamoDB answered with a body that is not JSON (HTTP 200, text/plain)");
    /* DynamoDB's message is cut; a short buffer truncates without overflow. */
    char long_message[1000];
    memset(long_message, 'm', sizeof long_message - 1);
    long_message[sizeof long_message - 1] = '\0';
    struct ddb_result chatty = {.status = DDB_ERROR, .http_status = 400, .error_code = "X", .message = long_message};
    CHECK_INT_EQ(strlen(ddb_result_describe(&chatty, out, sizeof out)), strlen("HTTP 400 X: ") + 300);
    char small[8];
    CHECK_STR_EQ(ddb_result_describe(&forbidden, small, sizeof small), "no erro");
}

/* x-amz-crc32: absent is fine, a match is fine, anything else is a corrupted answer. */
static void test_crc32_ok(void)
{
    const char body[] = "{\"Item\":{}}";
    char good[16];
    snprintf(good, sizeof good, "%u", (unsigned)crc32_compute(body, strlen(body)));
    CHECK_INT_EQ(ddb_crc32_ok(NULL, body, strlen(body)), 1);
    CHECK_INT_EQ(ddb_crc32_ok(good, body, strlen(body)), 1);
    CHECK_INT_EQ(ddb_crc32_ok("1", body, strlen(body)), 0);
    CHECK_INT_EQ(ddb_crc32_ok("", body, strlen(body)), 0);
    CHECK_INT_EQ(ddb_crc32_ok("0x1234", body, strlen(body)), 0);
    CHECK_INT_EQ(ddb_crc32_ok(good, body, strlen(body) - 1), 0); /* a truncated body */
    CHECK_INT_EQ(ddb_crc32_ok("0", "", 0), 1);                     /* CRC-32 of nothing */
    /* A body and its header as moto sends them (zlib.crc32). */
    CHECK_INT_EQ(ddb_crc32_ok("363771991", "{\"TableNames\": []}", 18), 1);
}

/* x-amz-retry-after may lengthen the backoff by up to 5 s, never shorten it. */
static void test_retry_delay(void)
{
    uint64_t r = 7; /* transient, retry 1: 7 % 26 = 7 ms */
    CHECK_INT_EQ(ddb_retry_delay_ms(DDB_RETRY_TRANSIENT, 1, r, NULL), 7);
    CHECK_INT_EQ(ddb_retry_delay_ms(DDB_RETRY_TRANSIENT, 1, r, "1500"), 1500);
    CHECK_INT_EQ(ddb_retry_delay_ms(DDB_RETRY_TRANSIENT, 1, r, "2"), 7);
    CHECK_INT_EQ(ddb_retry_delay_ms(DDB_RETRY_TRANSIENT, 1, r, "60000"), 5007);
    CHECK_INT_EQ(ddb_retry_delay_ms(DDB_RETRY_TRANSIENT, 1, r, "soon"), 7);
    CHECK_INT_EQ(ddb_retry_delay_ms(DDB_RETRY_TRANSIENT, 1, r, "-5"), 7);
    CHECK_INT_EQ(ddb_retry_delay_ms(DDB_RETRY_THROTTLE, 1, 999, "200"), 999);
}

static void test_retry_plan(void)
{
    struct retryquota q;
    retryquota_init(&q);
    int cost = -1;
    /* Not retryable, out of attempts, past the deadline: no retry and nothing taken. */
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_NO, 1, 4, 0, 5000, 7, NULL, &q, &cost), DDB_NO_RETRY);
    CHECK_INT_EQ(cost, 0);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 4, 4, 0, 5000, 7, NULL, &q, &cost), DDB_NO_RETRY);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 1, 0, 5000, 7, NULL, &q, &cost), DDB_NO_RETRY); /* AWS_MAX_ATTEMPTS=1 */
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 4, 5000, 5000, 7, NULL, &q, &cost), DDB_NO_RETRY);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 4, 0, 1000, 7, "1500", &q, &cost), DDB_NO_RETRY); /* retry-after past the deadline */
    CHECK_INT_EQ(retryquota_available(&q), 500);
    /* A transient retry costs 14, a throttling one 5. */
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 4, 0, 5000, 7, NULL, &q, &cost), 7);
    CHECK_INT_EQ(cost, 14);
    CHECK_INT_EQ(retryquota_available(&q), 486);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_THROTTLE, 2, 10, 0, 60000, 5, "1500", &q, &cost), 1500);
    CHECK_INT_EQ(cost, 5);
    CHECK_INT_EQ(retryquota_available(&q), 481);
    retryquota_on_success(&q, 5);
    CHECK_INT_EQ(retryquota_available(&q), 486);
    /* Drained: 486 / 14 = 34 more transient retries, then DDB_QUOTA_EMPTY; throttling ones (5) still fit the rest. */
    int n = 0;
    while (ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 4, 0, 5000, 7, NULL, &q, &cost) >= 0)
        n++;
    CHECK_INT_EQ(n, 34);
    CHECK_INT_EQ(retryquota_available(&q), 10);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 4, 0, 5000, 7, NULL, &q, &cost), DDB_QUOTA_EMPTY);
    CHECK_INT_EQ(cost, 0);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_THROTTLE, 1, 4, 0, 5000, 7, NULL, &q, &cost), 7);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_THROTTLE, 1, 4, 0, 5000, 7, NULL, &q, &cost), 7);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_THROTTLE, 1, 4, 0, 5000, 7, NULL, &q, &cost), DDB_QUOTA_EMPTY);
    /* First-try successes refill it one token each. */
    for (int i = 0; i < 14; i++)
        retryquota_on_success(&q, 0);
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 4, 0, 5000, 7, NULL, &q, &cost), 7);
    /* Without a quota nothing is rationed. */
    CHECK_INT_EQ(ddb_retry_plan(DDB_RETRY_TRANSIENT, 1, 4, 0, 5000, 7, NULL, NULL, &cost), 7);
    CHECK_INT_EQ(cost, 0);
}

int main(void)
{
    RUN(test_classify);
    RUN(test_backoff_bounds);
    RUN(test_error_code);
    RUN(test_result_describe);
    RUN(test_crc32_ok);
    RUN(test_retry_delay);
    RUN(test_retry_plan);
    return check_summary();
}
