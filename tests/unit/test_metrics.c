/* test_metrics: exact counts in the rendered exposition text, the status and
 * bucket mapping, the per-worker blocks' alignment, and workers counting while
 * a scrape sums (run under TSan by the sanitizer pass). */
#include "metrics.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"

static const char *const routes[] = {NULL, "/healthz", "/users/{id}"};

/* 1 when text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

#define CHECK_LINE(text, line)                                                                        \
    do {                                                                                              \
        int ok_ = has_line((text), (line));                                                           \
        check_report(ok_, __FILE__, __LINE__, "has line: " line);                                     \
    } while (0)

static void test_render_counts(void)
{
    struct metrics *m = metrics_new(2, routes, 3, "1.2.3-\"x\"");
    CHECK(m != NULL);
    struct metrics_worker *a = metrics_worker(m, 0), *b = metrics_worker(m, 1);
    metrics_http_done(a, 2, HTTP_GET, 200, 400);      /* 0.4 ms */
    metrics_http_done(b, 2, HTTP_GET, 200, 1000);     /* exactly on a bound: in it */
    metrics_http_done(b, 2, HTTP_GET, 404, 3000000);  /* 3 s */
    metrics_http_done(a, 2, HTTP_DELETE, 412, 20000000); /* above every bound */
    metrics_http_done(a, 0, HTTP_POST, 418, 10);      /* no route; a status the service never answers */
    metrics_http_done(a, 1, HTTP_HEAD, 200, 10);
    metrics_ddb_done(a, metrics_ddb_op("GetItem"), METRICS_DDB_OK, 0, 2000);
    metrics_ddb_done(b, metrics_ddb_op("GetItem"), METRICS_DDB_OK, 2, 2000);
    metrics_ddb_done(b, metrics_ddb_op("TransactWriteItems"), METRICS_DDB_TRANSACTION_CANCELED, 0, 9000);
    metrics_ddb_done(b, metrics_ddb_op("NoSuchOperation"), METRICS_DDB_TIMEOUT, 3, 5000000);
    metrics_add(&a->ddb_throttles[METRICS_OP_GET_ITEM], 2);
    metrics_add(&a->conflicts[METRICS_CONFLICT_EMAIL_TAKEN], 1);
    metrics_add(&b->conflicts[METRICS_CONFLICT_EMAIL_TAKEN], 1);
    metrics_add(&a->in_flight_up, 5);
    metrics_add(&b->in_flight_down, 3); /* a request may end on another worker's count: the sum is what counts */
    metrics_add(&a->connections_up, 4);
    metrics_add(&a->connections_down, 1);

    struct buf out = BUF_INIT;
    CHECK_INT_EQ(metrics_render(m, &out), 0);
    const char *t = buf_cstr(&out);
    CHECK_LINE(t, "# TYPE usersvc_http_requests_total counter");
    CHECK_LINE(t, "usersvc_http_requests_total{route=\"/users/{id}\",method=\"GET\",status=\"200\"} 2");
    CHECK_LINE(t, "usersvc_http_requests_total{route=\"/users/{id}\",method=\"GET\",status=\"404\"} 1");
    CHECK_LINE(t, "usersvc_http_requests_total{route=\"/users/{id}\",method=\"DELETE\",status=\"412\"} 1");
    CHECK_LINE(t, "usersvc_http_requests_total{route=\"none\",method=\"POST\",status=\"other\"} 1");
    CHECK_LINE(t, "usersvc_http_requests_total{route=\"/healthz\",method=\"HEAD\",status=\"200\"} 1");
    CHECK(strstr(t, "status=\"201\"") == NULL); /* nothing counted, no series */
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_bucket{route=\"/users/{id}\",le=\"0.0005\"} 1");
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_bucket{route=\"/users/{id}\",le=\"0.001\"} 2");
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_bucket{route=\"/users/{id}\",le=\"2.5\"} 2");
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_bucket{route=\"/users/{id}\",le=\"5\"} 3");
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_bucket{route=\"/users/{id}\",le=\"10\"} 3");
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_bucket{route=\"/users/{id}\",le=\"+Inf\"} 4");
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_sum{route=\"/users/{id}\"} 23.001400");
    CHECK_LINE(t, "usersvc_http_request_duration_seconds_count{route=\"/users/{id}\"} 4");
    CHECK_LINE(t, "usersvc_dynamodb_requests_total{operation=\"GetItem\",outcome=\"ok\"} 2");
    CHECK_LINE(t, "usersvc_dynamodb_requests_total{operation=\"TransactWriteItems\",outcome=\"transaction_canceled\"} 1");
    CHECK_LINE(t, "usersvc_dynamodb_requests_total{operation=\"other\",outcome=\"timeout\"} 1");
    CHECK_LINE(t, "usersvc_dynamodb_retries_total{operation=\"GetItem\"} 2");
    CHECK_LINE(t, "usersvc_dynamodb_retries_total{operation=\"other\"} 3");
    CHECK_LINE(t, "usersvc_dynamodb_throttles_total{operation=\"GetItem\"} 2");
    CHECK_LINE(t, "usersvc_dynamodb_request_duration_seconds_count{operation=\"GetItem\"} 2");
    CHECK_LINE(t, "usersvc_write_conflicts_total{outcome=\"email_taken\"} 2");
    CHECK_LINE(t, "usersvc_write_conflicts_total{outcome=\"precondition_failed\"} 0");
    CHECK_LINE(t, "usersvc_http_requests_in_flight 2");
    CHECK_LINE(t, "usersvc_http_connections_open 3");
    CHECK_LINE(t, "usersvc_http_requests_waiting_dynamodb 0");
    CHECK_LINE(t, "usersvc_build_info{version=\"1.2.3-\\\"x\\\"\"} 1"); /* the label value escaped */
    CHECK(strstr(t, "\nprocess_cpu_seconds_total ") != NULL);
    CHECK(strstr(t, "\nprocess_resident_memory_bytes ") != NULL);
    CHECK(strstr(t, "\nprocess_open_fds ") != NULL);
    CHECK(strstr(t, "\nprocess_max_fds ") != NULL);
    CHECK(strstr(t, "\nprocess_start_time_seconds ") != NULL);
    /* every sample's family has its TYPE before it */
    CHECK(strstr(t, "# TYPE usersvc_dynamodb_request_duration_seconds histogram\n") <
          strstr(t, "usersvc_dynamodb_request_duration_seconds_bucket"));
    buf_clean_up(&out);
    metrics_free(m);
    metrics_free(NULL);
}

static void test_blocks_aligned(void)
{
    struct metrics *m = metrics_new(3, routes, 3, "v");
    CHECK(m != NULL);
    for (size_t i = 0; i < 3; i++)
        CHECK_INT_EQ((uintptr_t)metrics_worker(m, i) % 64, 0);
    CHECK_INT_EQ(_Alignof(struct metrics_worker), 64);
    metrics_free(m);
}

static void test_ops(void)
{
    CHECK_INT_EQ(metrics_ddb_op("GetItem"), METRICS_OP_GET_ITEM);
    CHECK_INT_EQ(metrics_ddb_op("DescribeTable"), METRICS_OP_DESCRIBE_TABLE);
    CHECK_INT_EQ(metrics_ddb_op("getitem"), METRICS_OP_OTHER);
    CHECK_STR_EQ(metrics_ddb_outcome_name(METRICS_DDB_CONDITIONAL_CHECK_FAILED), "conditional_check_failed");
}

#define ROUNDS 20000

static void *count(void *arg)
{
    struct metrics_worker *w = arg;
    for (int i = 0; i < ROUNDS; i++)
        metrics_http_done(w, 1, HTTP_GET, 200, i);
    return NULL;
}

/* Two workers count while this thread scrapes: no lock, and the totals are exact at the end. */
static void test_concurrent_scrape(void)
{
    struct metrics *m = metrics_new(2, routes, 3, "v");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, count, metrics_worker(m, (size_t)i));
    struct buf out = BUF_INIT;
    for (int i = 0; i < 20; i++) {
        buf_reset(&out);
        metrics_render(m, &out);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    buf_reset(&out);
    metrics_render(m, &out);
    CHECK_LINE(buf_cstr(&out), "usersvc_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 40000");
    buf_clean_up(&out);
    metrics_free(m);
}

int main(void)
{
    RUN(test_render_counts);
    RUN(test_blocks_aligned);
    RUN(test_ops);
    RUN(test_concurrent_scrape);
    return check_summary();
}
