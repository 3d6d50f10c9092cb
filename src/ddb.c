#include "ddb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "crc32.h"
#include "httpc.h"
#include "jsonread.h"
#include "jsontext.h"
#include "log.h"
#include "sigv4.h"

#define MAX_IN_FLIGHT 128     /* requests (and so connections) to DynamoDB per client; more wait in httpc's queue */
#define MAX_RESPONSE_BYTES (16 * 1024 * 1024)
#define TARGET_PREFIX "DynamoDB_20120810."
#define MAX_LINES 7           /* content-type, host, x-amz-date, x-amz-target, token, Authorization, Expect */

struct job {
    struct httpc_request http; /* this attempt; its callback finds the job through ctx */
    struct ddb_client *client;
    struct job *next;          /* in the fresh list or the retry list */
    char operation[40];
    char *body;                /* compact JSON; owned */
    size_t body_len;
    ddb_callback *callback;
    void *ctx;
    int64_t deadline_ms;       /* monotonic */
    int64_t retry_at_ms;       /* monotonic, while waiting to retry */
    int attempts;
    int retry_cost;            /* what the last retry took from the quota: given back on success */
    int forced;                /* a refused-credentials answer already forced one refresh */
    uint64_t creds_ticket;     /* while waiting: creds_cache_refreshes must reach this (0: any credentials) */
    uint64_t signed_generation; /* the client's creds_generation the last attempt was signed with */
    struct buf lines;          /* this attempt's header lines, each NUL-terminated; storage kept for retries */
    struct log_calls *calls;   /* where the finished operation is recorded; NULL: nowhere */
    enum metrics_ddb_op op;
    int64_t start_us;          /* monotonic, for the latency histogram */
    const char *line_ptrs[MAX_LINES];
};

struct ddb_client {
    char *endpoint, *endpoint_host, *region, *url;
    long connect_timeout_ms, timeout_ms;
    int stopping;
    int max_attempts;
    struct retryquota *quota;  /* shared by every client; NULL: unlimited */
    struct metrics_worker *metrics; /* NULL: not counted */

    struct httpc_client *http;
    struct job *fresh;         /* sent, not yet signed; oldest first */
    struct job **fresh_tail;
    struct job *retries;       /* sorted by retry_at_ms */
    struct job *waiting;       /* no credentials yet, or waiting for a forced refresh; oldest first */
    struct job **waiting_tail;
    /* Parked jobs can start only once a refresh ended (the cache wakes the worker) or a deadline passed, so
     * submit re-tries them only then, not at every loop turn. */
    uint64_t waiting_refreshes;    /* creds_cache_refreshes read before the parked jobs were last tried */
    int waiting_dirty;             /* a job was parked without being tried against the current credentials */
    int64_t waiting_first_deadline; /* the earliest deadline_ms of the parked jobs; INT64_MAX: none */

    struct creds_cache *cache;
    struct creds *creds;       /* the snapshot signed with (a reference), NULL before the first */
    uint64_t creds_generation;
    /* Signing key cache: the key for (the snapshot of key_generation, key_date, region, "dynamodb"). Region and
     * service are fixed per client. Keyed on the generation, not the pointer: a snapshot can be replaced (and
     * the old value freed) without signing, and a later value may be allocated at the same address. */
    uint64_t key_generation;   /* 0: no key yet (a snapshot with credentials has generation >= 1) */
    char key_date[9];
    uint8_t signing_key[SIGV4_KEY_LEN];
    uint64_t rng;
};

static uint64_t next_random(struct ddb_client *c)
{
    /* xorshift64*: plenty for jitter. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ULL;
}

enum ddb_retry ddb_classify(int network_error, long http_status, const char *error_code)
{
    static const char *const throttling[] = {"ProvisionedThroughputExceededException", "ThrottlingException",
                                             "RequestLimitExceeded", "Throttling", "TooManyRequestsException"};
    if (network_error)
        return DDB_RETRY_TRANSIENT;
    for (size_t i = 0; i < sizeof throttling / sizeof throttling[0]; i++)
        if (strcmp(error_code, throttling[i]) == 0)
            return DDB_RETRY_THROTTLE;
    if (http_status == 429)
        return DDB_RETRY_THROTTLE;
    if (strcmp(error_code, "InternalServerError") == 0 || strcmp(error_code, "ServiceUnavailable") == 0 ||
        http_status >= 500)
        return DDB_RETRY_TRANSIENT;
    return DDB_RETRY_NO;
}

long ddb_backoff_ms(enum ddb_retry kind, int retry, uint64_t random)
{
    long base = kind == DDB_RETRY_THROTTLE ? DDB_BASE_THROTTLE_MS : DDB_BASE_TRANSIENT_MS;
    long ceiling = DDB_BACKOFF_CAP_MS;
    if (retry < 1)
        retry = 1;
    if (retry <= 20 && base << (retry - 1) < ceiling)
        ceiling = base << (retry - 1);
    return (long)(random % (uint64_t)(ceiling + 1));
}

int ddb_crc32_ok(const char *crc32_header, const void *body, size_t len)
{
    return crc32_header == NULL || crc32_matches(crc32_header, body, len) == 1;
}

long ddb_retry_delay_ms(enum ddb_retry kind, int retry, uint64_t random, const char *retry_after)
{
    return retryquota_retry_after_ms(retry_after, ddb_backoff_ms(kind, retry, random));
}

long ddb_retry_plan(enum ddb_retry kind, int attempts, int max_attempts, int64_t now_ms, int64_t deadline_ms,
                    uint64_t random, const char *retry_after, struct retryquota *quota, int *cost)
{
    *cost = 0;
    if (kind == DDB_RETRY_NO || attempts >= max_attempts || now_ms >= deadline_ms)
        return DDB_NO_RETRY;
    long delay = ddb_retry_delay_ms(kind, attempts, random, retry_after);
    if (now_ms + delay >= deadline_ms)
        return DDB_NO_RETRY;
    if (quota != NULL && (*cost = retryquota_acquire(quota, kind == DDB_RETRY_THROTTLE)) == 0)
        return DDB_QUOTA_EMPTY;
    return delay;
}

int ddb_credentials_rejected(long http_status, const char *error_code, const char *body, size_t body_len)
{
    static const char *const json_codes[] = {"ExpiredTokenException", "UnrecognizedClientException",
                                             "InvalidSignatureException"};
    /* STS-style XML, as moto (and some proxies in front of AWS) answer auth failures. */
    static const char *const xml_codes[] = {"<Code>InvalidClientTokenId</Code>", "<Code>ExpiredToken</Code>",
                                            "<Code>ExpiredTokenException</Code>"};
    if (http_status != 400 && http_status != 403)
        return 0;
    for (size_t i = 0; i < sizeof json_codes / sizeof json_codes[0]; i++)
        if (strcmp(error_code, json_codes[i]) == 0)
            return 1;
    if (error_code[0] != '\0' || body == NULL)
        return 0;
    for (size_t i = 0; i < sizeof xml_codes / sizeof xml_codes[0]; i++)
        if (memmem(body, body_len, xml_codes[i], strlen(xml_codes[i])) != NULL)
            return 1;
    return 0;
}

const char *ddb_error_code(const char *type)
{
    const char *hash = strrchr(type, '#');
    return hash ? hash + 1 : type;
}

static void job_free(struct job *job)
{
    if (job == NULL)
        return;
    free(job->body);
    buf_clean_up(&job->lines);
    free(job);
}

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static enum metrics_ddb_outcome outcome_of(const struct ddb_result *r)
{
    switch (r->status) {
    case DDB_OK: return METRICS_DDB_OK;
    case DDB_THROTTLED: return METRICS_DDB_THROTTLED;
    case DDB_UNAVAILABLE: return METRICS_DDB_UNAVAILABLE;
    case DDB_TIMEOUT: return METRICS_DDB_TIMEOUT;
    case DDB_BAD_RESPONSE: return METRICS_DDB_BAD_RESPONSE;
    case DDB_SHUTDOWN: return METRICS_DDB_SHUTDOWN;
    case DDB_ERROR: break;
    }
    if (strcmp(r->error_code, "ConditionalCheckFailedException") == 0)
        return METRICS_DDB_CONDITIONAL_CHECK_FAILED;
    if (strcmp(r->error_code, "TransactionCanceledException") == 0)
        return METRICS_DDB_TRANSACTION_CANCELED;
    return METRICS_DDB_ERROR;
}

/* Counts and records the operation, then hands its result over. */
static void complete(struct job *job, const struct ddb_result *result)
{
    enum metrics_ddb_outcome outcome = outcome_of(result);
    int retries = job->attempts > 1 ? job->attempts - 1 : 0;
    if (job->client->metrics != NULL)
        metrics_ddb_done(job->client->metrics, job->op, outcome, retries, monotonic_us() - job->start_us);
    log_calls_add(job->calls, job->operation, result->request_id, metrics_ddb_outcome_name(outcome), retries);
    job->callback(job->ctx, result);
    job_free(job);
}

static void complete_status(struct job *job, enum ddb_status status, const char *message)
{
    struct ddb_result result = {
        .status = status, .error_code = "", .message = message, .content_type = "", .attempts = job->attempts};
    complete(job, &result);
}

/* Appends one "name: value" line (NUL-terminated) to the attempt's lines. Returns 0 or -1. */
static int add_line(struct job *job, size_t *n, size_t at[MAX_LINES], const char *name, const char *sep,
                    const char *value)
{
    at[(*n)++] = job->lines.len;
    return buf_concat(&job->lines, name, sep, value) != 0 || buf_append(&job->lines, "", 1) != 0 ? -1 : 0;
}

static void on_http_done(struct httpc_request *req, const struct httpc_response *resp);

/* Response headers every attempt captures: [0] the body's CRC-32, [1] the server's wish for a retry delay,
 * [2] DynamoDB's id of the request (for the access line). */
static const char *const want_headers[] = {"x-amz-crc32", "x-amz-retry-after", "x-amzn-requestid", NULL};

/* Signs one attempt with the current credentials and hands it to httpc.
 * Returns 0, 1 when it must wait for credentials (nothing was sent), or -1 (nothing was sent; the job
 * is untouched but for its lines). */
static int start_attempt(struct ddb_client *c, struct job *job)
{
    c->creds = creds_cache_snapshot(c->cache, c->creds, &c->creds_generation);
    const struct creds *creds = c->creds;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    /* Expired credentials are no credentials: the request waits for the refresh under way. */
    if (creds == NULL || wall.tv_sec >= creds->expiration ||
        (job->creds_ticket != 0 && creds_cache_refreshes(c->cache) < job->creds_ticket))
        return 1;
    char amz_date[17], date[9];
    if (sigv4_format_time(wall.tv_sec, amz_date, date) != 0)
        return -1;
    struct sigv4_scope scope = {date, c->region, "dynamodb"};
    if (c->key_generation != c->creds_generation || strcmp(date, c->key_date) != 0) {
        c->key_generation = 0;
        if (sigv4_signing_key(creds->secret_access_key, &scope, c->signing_key) != 0)
            return -1;
        memcpy(c->key_date, date, sizeof c->key_date);
        c->key_generation = c->creds_generation;
    }

    char target[sizeof TARGET_PREFIX + sizeof job->operation];
    memcpy(target, TARGET_PREFIX, sizeof TARGET_PREFIX - 1);
    memcpy(target + sizeof TARGET_PREFIX - 1, job->operation, strlen(job->operation) + 1);
    struct sigv4_header signed_headers[5] = {
        {"content-type", "application/x-amz-json-1.0"},
        {"host", c->endpoint_host},
        {"x-amz-date", amz_date},
        {"x-amz-target", target},
        {"x-amz-security-token", creds->session_token},
    };
    struct sigv4_request sreq = {
        .method = "POST", .path = "/", .query = "", .headers = signed_headers,
        .n_headers = creds->session_token ? 5 : 4, .body = job->body, .body_len = job->body_len,
        .normalize_path = 1,
    };
    size_t n = 0, at[MAX_LINES];
    buf_reset(&job->lines);
    for (size_t i = 0; i < sreq.n_headers; i++)
        if (add_line(job, &n, at, signed_headers[i].name, ": ", signed_headers[i].value) != 0)
            return -1;
    at[n++] = job->lines.len;
    if (buf_append_str(&job->lines, "Authorization: ") != 0 ||
        sigv4_authorization(&sreq, creds->access_key_id, amz_date, &scope, c->signing_key, &job->lines) != 0 ||
        buf_append(&job->lines, "", 1) != 0)
        return -1;
    if (add_line(job, &n, at, "Expect", ":", "") != 0) /* no 100-continue round trip */
        return -1;
    for (size_t i = 0; i < n; i++) /* offsets until here: the buffer moved while it grew */
        job->line_ptrs[i] = job->lines.data + at[i];

    job->http = (struct httpc_request){
        .method = "POST", .url = c->url, .header_lines = job->line_ptrs, .n_header_lines = n,
        .body = job->body, .body_len = job->body_len, .want_headers = want_headers, .deadline_ms = job->deadline_ms,
        .connect_timeout_ms = c->connect_timeout_ms, .urgent = job->attempts > 0,
        .callback = on_http_done, .ctx = job,
    };
    if (httpc_send(c->http, &job->http) != 0)
        return -1;
    job->signed_generation = c->creds_generation;
    job->attempts++;
    return 0;
}

/* Holds a job until credentials come (creds_cache wakes the worker) or its deadline passes. */
static void park(struct ddb_client *c, struct job *job)
{
    job->next = NULL;
    *c->waiting_tail = job;
    c->waiting_tail = &job->next;
    if (job->deadline_ms < c->waiting_first_deadline)
        c->waiting_first_deadline = job->deadline_ms;
}

/* Starts job or parks it; returns 1 when parked needing a refresh that is due (the caller asks the cache). */
static int try_start(struct ddb_client *c, struct job *job)
{
    int rc = start_attempt(c, job);
    if (rc == 1) {
        park(c, job);
        return job->creds_ticket == 0;
    }
    if (rc != 0)
        complete_status(job, DDB_UNAVAILABLE, "could not start a DynamoDB request");
    return 0;
}

static void start_or_fail(struct ddb_client *c, struct job *job)
{
    if (try_start(c, job))
        creds_cache_refresh_if_due(c->cache);
}

static void schedule_retry(struct ddb_client *c, struct job *job, int64_t at)
{
    job->retry_at_ms = at;
    struct job **p = &c->retries;
    while (*p != NULL && (*p)->retry_at_ms <= at)
        p = &(*p)->next;
    job->next = *p;
    *p = job;
}

const char *ddb_result_describe(const struct ddb_result *r, char *out, size_t size)
{
    const char *type = r->content_type != NULL && r->content_type[0] != '\0' ? r->content_type : "no content type";
    if (r->http_status == 0)
        snprintf(out, size, "%.300s", r->message);
    else if (r->error_code[0] != '\0')
        snprintf(out, size, "HTTP %ld %.100s: %.300s", r->http_status, r->error_code, r->message);
    else if (r->http_status >= 200 && r->http_status < 300)
        snprintf(out, size, "%.300s (HTTP %ld, %s)", r->message, r->http_status, type);
    else
        snprintf(out, size, "no error code, HTTP %ld, %s", r->http_status, type);
    return out;
}

/* The media type of a response, for the log: up to ';', only token and '/' characters, at most 63. */
static void copy_content_type(const char *type, char out[64])
{
    size_t n = 0;
    if (type != NULL)
        for (; type[n] != '\0' && type[n] != ';' && n < 63; n++)
            out[n] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-/", type[n]) != NULL
                         ? type[n]
                         : '?';
    out[n] = '\0';
}

/* An attempt ended: answer, retry, or give up. */
static void on_http_done(struct httpc_request *req, const struct httpc_response *resp)
{
    struct job *job = req->ctx;
    struct ddb_client *c = job->client;
    switch (resp->outcome) {
    case HTTPC_SHUTDOWN:
        complete_status(job, DDB_SHUTDOWN, "the service is shutting down");
        return;
    case HTTPC_QUEUED_OUT:
        job->attempts--; /* it never left */
        complete_status(job, DDB_TIMEOUT, "no connection to DynamoDB became free before the deadline");
        return;
    case HTTPC_NOT_STARTED:
        job->attempts--;
        complete_status(job, DDB_UNAVAILABLE, "could not start a DynamoDB request");
        return;
    case HTTPC_TOO_LARGE:
        log_debug("ddb %s attempt %d: %s", job->operation, job->attempts, resp->error_detail);
        complete_status(job, DDB_BAD_RESPONSE, "DynamoDB response is over the size limit");
        return;
    default:
        break;
    }

    char content_type[64];
    copy_content_type(resp->content_type, content_type);
    int64_t now = httpc_now_ms();
    json_t *body = NULL;
    int network_error = resp->outcome != HTTPC_DONE;
    struct ddb_result result = {.http_status = resp->status, .error_code = "", .content_type = content_type,
                                .request_id = network_error ? NULL : resp->headers[2], .attempts = job->attempts};
    int corrupt = !network_error && !ddb_crc32_ok(resp->headers[0], resp->body, resp->body_len);
    if (network_error) {
        result.message = resp->error;
        log_debug("ddb %s attempt %d: %s", job->operation, job->attempts, resp->error_detail);
    } else if (corrupt) {
        result.message = "DynamoDB response failed its x-amz-crc32 check";
    } else {
        body = jsonread_parse(resp->body, resp->body_len, 0);
        result.body = body;
        if (resp->status >= 200 && resp->status < 300) {
            result.status = body != NULL ? DDB_OK : DDB_BAD_RESPONSE;
            result.message = body != NULL ? "OK" : "DynamoDB answered with a body that is not JSON";
            if (body != NULL && c->quota != NULL)
                retryquota_on_success(c->quota, job->retry_cost);
            complete(job, &result);
            json_decref(body);
            return;
        }
        const char *type = json_string_value(json_object_get(body, "__type"));
        const char *message = json_string_value(json_object_get(body, "message"));
        if (message == NULL)
            message = json_string_value(json_object_get(body, "Message"));
        result.error_code = type ? ddb_error_code(type) : "";
        result.message = message ? message : "DynamoDB answered with an error";
        if (!job->forced && !c->stopping && now < job->deadline_ms - 5 &&
            ddb_credentials_rejected(resp->status, result.error_code, resp->body, resp->body_len)) {
            /* Expired or rotated away: one refresh, then one retry signed with what it brings. */
            job->forced = 1;
            log_info("ddb %s: DynamoDB refused the credentials (HTTP %ld); refreshing them and retrying once",
                     job->operation, resp->status);
            /* Refused are the credentials this attempt was signed with: when the client has moved on
             * since (a rotation while it was in flight), retry with the new ones, refresh nothing. */
            if (job->signed_generation != c->creds_generation)
                job->creds_ticket = creds_cache_refreshes(c->cache);
            else
                job->creds_ticket = creds_cache_force_refresh(c->cache, c->creds);
            json_decref(body);
            park(c, job);
            c->waiting_dirty = 1; /* its ticket may be reached already */
            return;
        }
    }

    /* A corrupted answer is retried as a transient error, whatever it seemed to say (the SDKs do the same). */
    enum ddb_retry retry = corrupt ? DDB_RETRY_TRANSIENT : ddb_classify(network_error, resp->status, result.error_code);
    int out_of_time = now >= job->deadline_ms - 5; /* curl's timer may fire a hair early */
    if (retry == DDB_RETRY_THROTTLE && c->metrics != NULL)
        metrics_add(&c->metrics->ddb_throttles[job->op], 1);
    if (retry != DDB_RETRY_NO && !out_of_time && !c->stopping) {
        int cost;
        long delay = ddb_retry_plan(retry, job->attempts, c->max_attempts, now, job->deadline_ms, next_random(c),
                                    network_error ? NULL : resp->headers[1], c->quota, &cost);
        if (delay >= 0) {
            log_debug("ddb %s attempt %d failed (%s), retrying in %ld ms", job->operation, job->attempts,
                      result.message, delay);
            job->retry_cost = cost;
            json_decref(body);
            schedule_retry(c, job, now + delay);
            return;
        }
        if (delay == DDB_QUOTA_EMPTY)
            log_warn("ddb %s: not retrying (%s): the retry quota is empty after many failures", job->operation,
                     result.message);
    }
    if (corrupt)
        result.status = DDB_BAD_RESPONSE;
    else if (network_error)
        result.status = out_of_time ? DDB_TIMEOUT : DDB_UNAVAILABLE;
    else if (retry == DDB_RETRY_THROTTLE)
        result.status = DDB_THROTTLED;
    else if (retry == DDB_RETRY_TRANSIENT)
        result.status = DDB_UNAVAILABLE;
    else
        result.status = DDB_ERROR;
    complete(job, &result);
    json_decref(body);
}

int ddb_client_fd(const struct ddb_client *c)
{
    return httpc_client_fd(c->http);
}

int ddb_client_timeout_ms(const struct ddb_client *c)
{
    if (c->fresh != NULL)
        return 0;
    int wait = httpc_client_timeout_ms(c->http);
    if (c->waiting != NULL) { /* the cache's waker ends the wait early; this bounds deadlines and retries */
        if (c->waiting_dirty)
            return 0;
        int64_t until = c->waiting_first_deadline - 5 - httpc_now_ms();
        int w = until <= 0 ? 0 : until > 1000 ? 1000 : (int)until;
        if (wait < 0 || w < wait)
            wait = w;
    }
    if (c->retries != NULL) {
        int64_t until = c->retries->retry_at_ms - httpc_now_ms();
        int retry = until <= 0 ? 0 : until > 1000 ? 1000 : (int)until;
        if (wait < 0 || retry < wait)
            wait = retry;
    }
    return wait;
}

/* Signs and hands to httpc the retries that are due, then what was sent since. Returns how many. */
static int submit(struct ddb_client *c)
{
    int n = 0;
    int64_t now = httpc_now_ms();
    uint64_t refreshes = creds_cache_refreshes(c->cache);
    if (c->waiting != NULL &&
        (c->waiting_dirty || refreshes != c->waiting_refreshes || now >= c->waiting_first_deadline - 5)) {
        struct job *job = c->waiting;
        c->waiting = NULL;
        c->waiting_tail = &c->waiting;
        c->waiting_dirty = 0;
        c->waiting_refreshes = refreshes; /* read before the tries: a refresh ending meanwhile rescans */
        c->waiting_first_deadline = INT64_MAX;
        int due = 0;
        while (job != NULL) {
            struct job *next = job->next;
            job->next = NULL;
            if (now >= job->deadline_ms - 5)
                complete_status(job, DDB_UNAVAILABLE, "no valid AWS credentials came before the deadline");
            else
                due |= try_start(c, job); /* parks it again while it must still wait */
            job = next;
            n++;
        }
        if (due) /* once per scan, not once per job under the cache's mutex */
            creds_cache_refresh_if_due(c->cache);
    }
    if (c->retries != NULL) {
        now = httpc_now_ms();
        while (c->retries != NULL && c->retries->retry_at_ms <= now) {
            struct job *job = c->retries;
            c->retries = job->next;
            job->next = NULL;
            start_or_fail(c, job);
            n++;
        }
    }
    while (c->fresh != NULL) {
        struct job *job = c->fresh;
        c->fresh = job->next;
        if (c->fresh == NULL)
            c->fresh_tail = &c->fresh;
        job->next = NULL;
        start_or_fail(c, job);
        n++;
    }
    return n;
}

void ddb_client_run(struct ddb_client *c, int fd_ready)
{
    submit(c);
    httpc_client_run(c->http, fd_ready);
    if (submit(c) > 0) /* what the callbacks sent (the next step of an operation) starts in this turn */
        httpc_client_run(c->http, 0);
}

static char *copy(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

struct ddb_client *ddb_client_new(const struct ddb_config *cfg)
{
    struct ddb_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->endpoint = copy(cfg->endpoint);
    c->endpoint_host = copy(cfg->endpoint_host);
    c->region = copy(cfg->region);
    c->cache = cfg->creds;
    c->connect_timeout_ms = cfg->connect_timeout_ms;
    c->timeout_ms = cfg->timeout_ms;
    c->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : DDB_MAX_ATTEMPTS;
    c->quota = cfg->quota;
    c->metrics = cfg->metrics;
    c->fresh_tail = &c->fresh;
    c->waiting_tail = &c->waiting;
    c->waiting_first_deadline = INT64_MAX;
    struct buf url = BUF_INIT;
    if (cfg->endpoint != NULL)
        buf_concat(&url, cfg->endpoint, "/");
    c->url = buf_steal(&url);
    if (getrandom(&c->rng, sizeof c->rng, 0) != sizeof c->rng || c->rng == 0)
        c->rng = (uint64_t)httpc_now_ms() | 1;
    struct httpc_config http = {
        .max_in_flight = MAX_IN_FLIGHT, .max_response_bytes = MAX_RESPONSE_BYTES,
        .ca_bundle = cfg->ca_bundle, .proxy = cfg->proxy, .no_proxy = cfg->no_proxy,
    };
    c->http = httpc_client_new(&http);
    if (c->endpoint == NULL || c->endpoint_host == NULL || c->region == NULL || c->url == NULL || c->cache == NULL ||
        c->http == NULL) {
        ddb_client_free(c);
        return NULL;
    }
    return c;
}

int ddb_send(struct ddb_client *c, const char *operation, json_t *request, struct log_calls *calls,
             ddb_callback *callback, void *ctx)
{
    struct buf body = BUF_INIT;
    if (request == NULL || json_write_value(&body, request) != 0)
        buf_clean_up(&body);
    json_decref(request);
    size_t len = body.len;
    return ddb_send_text(c, operation, buf_steal(&body), len, calls, callback, ctx);
}

int ddb_send_text(struct ddb_client *c, const char *operation, char *body, size_t body_len,
                  struct log_calls *calls, ddb_callback *callback, void *ctx)
{
    struct job *job = calloc(1, sizeof *job);
    if (job == NULL || body == NULL || strlen(operation) >= sizeof job->operation)
        goto fail;
    job->body_len = body_len;
    job->body = body;
    body = NULL;
    memcpy(job->operation, operation, strlen(operation) + 1);
    job->client = c;
    job->callback = callback;
    job->ctx = ctx;
    job->calls = calls;
    job->op = metrics_ddb_op(operation);
    job->start_us = monotonic_us();
    job->deadline_ms = job->start_us / 1000 + c->timeout_ms;

    if (c->stopping)
        goto fail;
    *c->fresh_tail = job; /* signed and started by the next ddb_client_run: never a callback inside ddb_send */
    c->fresh_tail = &job->next;
    return 0;
fail:
    free(body);
    job_free(job);
    return -1;
}

void ddb_client_free(struct ddb_client *c)
{
    if (c == NULL)
        return;
    c->stopping = 1;
    httpc_client_free(c->http); /* completes what it holds: DDB_SHUTDOWN */
    while (c->retries != NULL) {
        struct job *job = c->retries;
        c->retries = job->next;
        complete_status(job, DDB_SHUTDOWN, "the service is shutting down");
    }
    while (c->waiting != NULL) {
        struct job *job = c->waiting;
        c->waiting = job->next;
        complete_status(job, DDB_SHUTDOWN, "the service is shutting down");
    }
    struct job *job = c->fresh;
    c->fresh = NULL;
    while (job != NULL) {
        struct job *next = job->next;
        complete_status(job, DDB_SHUTDOWN, "the service is shutting down");
        job = next;
    }
    free(c->endpoint);
    free(c->endpoint_host);
    free(c->region);
    free(c->url);
    creds_unref(c->creds);
    explicit_bzero(c->signing_key, sizeof c->signing_key);
    free(c);
}
