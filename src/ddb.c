#include "ddb.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>

#include "buf.h"
#include "jsontext.h"
#include "log.h"
#include "sigv4.h"

#define MAX_RESPONSE_BYTES (16 * 1024 * 1024)
#define MAX_IN_FLIGHT 128     /* requests (and so connections) to DynamoDB per client; more wait in the queue */
#define MAX_IDLE_HANDLES 128  /* finished easy handles kept for reuse */
#define RECEIVE_BUFFER 8192   /* curl's per-handle read buffer (default 16 KiB) */
#define TARGET_PREFIX "DynamoDB_20120810."

struct job {
    struct job *next;          /* in the send queue or the retry list */
    char operation[40];
    char *body;                /* compact JSON; owned */
    size_t body_len;
    ddb_callback *callback;
    void *ctx;
    int64_t deadline_ms;       /* monotonic */
    int64_t retry_at_ms;       /* monotonic, while waiting to retry */
    int attempts;
    CURL *easy;                /* while an attempt is in flight */
    struct curl_slist *headers;
    struct buf response;
    char curl_error[CURL_ERROR_SIZE];
};

struct ddb_client {
    char *endpoint, *endpoint_host, *region, *access_key_id, *secret_access_key, *session_token, *url;
    long connect_timeout_ms, timeout_ms;

    struct job *queue;         /* sent, not yet started; oldest first */
    struct job **queue_tail;
    int stopping;

    CURLM *multi;
    int epoll_fd;
    int64_t curl_timer_ms;     /* monotonic time curl wants to be called back, -1 = none */
    struct job *retries;       /* sorted by retry_at_ms */
    struct job **in_flight;    /* open attempts, for shutdown */
    size_t n_in_flight, cap_in_flight;
    CURL **idle_easy;          /* finished handles kept for reuse: curl_easy_init is costly */
    size_t n_idle_easy, cap_idle_easy;
    char key_date[9];          /* signing key cache: one key per day */
    uint8_t signing_key[SIGV4_KEY_LEN];
    uint64_t rng;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    curl_slist_free_all(job->headers);
    buf_clean_up(&job->response);
    free(job);
}

static void complete(struct job *job, const struct ddb_result *result)
{
    job->callback(job->ctx, result);
    job_free(job);
}

static void complete_status(struct job *job, enum ddb_status status, const char *message)
{
    struct ddb_result result = {
        .status = status, .error_code = "", .message = message, .content_type = "", .attempts = job->attempts};
    complete(job, &result);
}

static size_t on_data(char *data, size_t size, size_t n, void *userdata)
{
    struct job *job = userdata;
    size_t len = size * n;
    if (job->response.len + len > MAX_RESPONSE_BYTES || buf_append(&job->response, data, len) != 0)
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    return len;
}

/* A handle with the options every request shares: from the idle pool, or new. */
static CURL *acquire_easy(struct ddb_client *c)
{
    if (c->n_idle_easy > 0)
        return c->idle_easy[--c->n_idle_easy];
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        return NULL;
    curl_easy_setopt(easy, CURLOPT_URL, c->url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* DynamoDB is reached directly: no proxy lookups */
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, (long)RECEIVE_BUFFER);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "usersvc/" USERSVC_VERSION);
    return easy;
}

/* Returns a handle (no longer in the multi) to the idle pool, or frees it when the pool is full. */
static void release_easy(struct ddb_client *c, CURL *easy)
{
    if (c->n_idle_easy == c->cap_idle_easy) {
        size_t cap = c->cap_idle_easy ? c->cap_idle_easy * 2 : 64;
        CURL **grown = cap <= MAX_IDLE_HANDLES ? realloc(c->idle_easy, cap * sizeof *grown) : NULL;
        if (grown == NULL) {
            curl_easy_cleanup(easy);
            return;
        }
        c->idle_easy = grown;
        c->cap_idle_easy = cap;
    }
    c->idle_easy[c->n_idle_easy++] = easy;
}

/* Signs and starts one attempt. Returns 0, or -1 (the job is untouched). */
static int start_attempt(struct ddb_client *c, struct job *job)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    char amz_date[17], date[9];
    if (sigv4_format_time(wall.tv_sec, amz_date, date) != 0)
        return -1;
    struct sigv4_scope scope = {date, c->region, "dynamodb"};
    if (strcmp(date, c->key_date) != 0) {
        if (sigv4_signing_key(c->secret_access_key, &scope, c->signing_key) != 0)
            return -1;
        memcpy(c->key_date, date, sizeof c->key_date);
    }

    char target[sizeof TARGET_PREFIX + sizeof job->operation];
    snprintf(target, sizeof target, TARGET_PREFIX "%s", job->operation);
    struct sigv4_header signed_headers[5] = {
        {"content-type", "application/x-amz-json-1.0"},
        {"host", c->endpoint_host},
        {"x-amz-date", amz_date},
        {"x-amz-target", target},
        {"x-amz-security-token", c->session_token},
    };
    struct sigv4_request req = {
        .method = "POST", .path = "/", .query = "", .headers = signed_headers,
        .n_headers = c->session_token ? 5 : 4, .body = job->body, .body_len = job->body_len,
        .normalize_path = 1,
    };
    struct buf authorization = BUF_INIT, line = BUF_INIT;
    struct curl_slist *headers = NULL;
    int rc = -1;
    if (sigv4_authorization(&req, c->access_key_id, amz_date, &scope, c->signing_key, &authorization) != 0)
        goto out;
    for (size_t i = 0; i < req.n_headers; i++) {
        buf_reset(&line);
        if (buf_concat(&line, signed_headers[i].name, ": ", signed_headers[i].value) != 0)
            goto out;
        struct curl_slist *h = curl_slist_append(headers, buf_cstr(&line));
        if (h == NULL)
            goto out;
        headers = h;
    }
    buf_reset(&line);
    if (buf_concat(&line, "Authorization: ", buf_cstr(&authorization)) != 0)
        goto out;
    const char *fixed[] = {buf_cstr(&line), "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        struct curl_slist *h = curl_slist_append(headers, fixed[i]);
        if (h == NULL)
            goto out;
        headers = h;
    }

    int64_t remaining = job->deadline_ms - now_ms();
    if (remaining < 1)
        remaining = 1;
    CURL *easy = acquire_easy(c);
    if (easy == NULL)
        goto out;
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, job->body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)job->body_len);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, job);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, job);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, job->curl_error);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)remaining);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(c->connect_timeout_ms < remaining ? c->connect_timeout_ms : remaining));
    job->curl_error[0] = '\0';
    buf_reset(&job->response);
    if (c->n_in_flight == c->cap_in_flight) {
        size_t cap = c->cap_in_flight ? c->cap_in_flight * 2 : 64;
        struct job **grown = realloc(c->in_flight, cap * sizeof *grown);
        if (grown == NULL) {
            release_easy(c, easy);
            goto out;
        }
        c->in_flight = grown;
        c->cap_in_flight = cap;
    }
    if (curl_multi_add_handle(c->multi, easy) != CURLM_OK) {
        release_easy(c, easy);
        goto out;
    }
    c->in_flight[c->n_in_flight++] = job;
    curl_slist_free_all(job->headers);
    job->headers = headers;
    headers = NULL;
    job->easy = easy;
    job->attempts++;
    rc = 0;
out:
    curl_slist_free_all(headers);
    buf_clean_up(&authorization);
    buf_clean_up(&line);
    return rc;
}

static void start_or_fail(struct ddb_client *c, struct job *job)
{
    if (start_attempt(c, job) != 0)
        complete_status(job, DDB_UNAVAILABLE, "could not start a DynamoDB request");
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

static void forget_in_flight(struct ddb_client *c, struct job *job)
{
    for (size_t i = 0; i < c->n_in_flight; i++) {
        if (c->in_flight[i] == job) {
            c->in_flight[i] = c->in_flight[--c->n_in_flight];
            return;
        }
    }
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
static void copy_content_type(CURL *easy, char out[64])
{
    const char *type = NULL;
    size_t n = 0;
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != NULL)
        for (; type[n] != '\0' && type[n] != ';' && n < 63; n++)
            out[n] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&^_.+-/", type[n]) != NULL
                         ? type[n]
                         : '?';
    out[n] = '\0';
}

/* An attempt ended: answer, retry, or give up. */
static void finish_attempt(struct ddb_client *c, struct job *job, CURLcode code)
{
    long http_status = 0, os_errno = 0;
    char content_type[64], network_message[160];
    curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &http_status);
    curl_easy_getinfo(job->easy, CURLINFO_OS_ERRNO, &os_errno);
    copy_content_type(job->easy, content_type);
    curl_multi_remove_handle(c->multi, job->easy);
    release_easy(c, job->easy);
    job->easy = NULL;
    forget_in_flight(c, job);

    int64_t now = now_ms();
    json_t *body = NULL;
    struct ddb_result result = {
        .http_status = http_status, .error_code = "", .content_type = content_type, .attempts = job->attempts};
    int network_error = code != CURLE_OK;
    if (network_error) {
        /* curl's error buffer has timings ("after 3 ms") that would make every request's log line
         * differ; its code and the errno are the same for every request that met the same failure. */
        char errno_text[64];
        if (os_errno != 0)
            snprintf(network_message, sizeof network_message, "%s (%s)", curl_easy_strerror(code),
                     strerror_r((int)os_errno, errno_text, sizeof errno_text)); /* GNU: returns the text */
        else
            snprintf(network_message, sizeof network_message, "%s", curl_easy_strerror(code));
        result.message = network_message;
        log_debug("ddb %s attempt %d: %s", job->operation, job->attempts, job->curl_error);
        if (code == CURLE_WRITE_ERROR) {
            complete_status(job, DDB_BAD_RESPONSE, "DynamoDB response is over the size limit");
            return;
        }
    } else {
        body = json_loadb(job->response.data ? job->response.data : "", job->response.len, 0, NULL);
        result.body = body;
        if (http_status >= 200 && http_status < 300) {
            result.status = body != NULL ? DDB_OK : DDB_BAD_RESPONSE;
            result.message = body != NULL ? "OK" : "DynamoDB answered with a body that is not JSON";
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
    }

    enum ddb_retry retry = ddb_classify(network_error, http_status, result.error_code);
    int out_of_time = now >= job->deadline_ms - 5; /* curl's timer may fire a hair early */
    if (retry != DDB_RETRY_NO && !out_of_time && job->attempts < DDB_MAX_ATTEMPTS) {
        int64_t at = now + ddb_backoff_ms(retry, job->attempts, next_random(c));
        if (at < job->deadline_ms) {
            log_debug("ddb %s attempt %d failed (%s), retrying", job->operation, job->attempts, result.message);
            json_decref(body);
            schedule_retry(c, job, at);
            return;
        }
    }
    if (network_error && (code == CURLE_OPERATION_TIMEDOUT || out_of_time))
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

/* curl asks to watch (or stop watching) one of its sockets. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct ddb_client *c = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(c->multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {
        .events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0),
        .data.fd = fd,
    };
    if (socketp == NULL) { /* first time: remember that it is registered */
        epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
        curl_multi_assign(c->multi, fd, c);
    } else {
        epoll_ctl(c->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

/* curl asks to be called back after timeout_ms (-1: no timer). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct ddb_client *c = userp;
    c->curl_timer_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

static void read_completions(struct ddb_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct job *done;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&done);
        finish_attempt(c, done, msg->data.result);
    }
}

int ddb_client_fd(const struct ddb_client *c)
{
    return c->epoll_fd;
}

int ddb_client_timeout_ms(const struct ddb_client *c)
{
    int has_slot = c->n_in_flight < MAX_IN_FLIGHT;
    if (c->queue != NULL && has_slot)
        return 0;
    /* The earliest of: curl's timer, a retry that could start, a queued job's deadline. */
    int64_t due = c->curl_timer_ms;
    if (c->retries != NULL && has_slot && (due < 0 || c->retries->retry_at_ms < due))
        due = c->retries->retry_at_ms;
    if (c->queue != NULL && (due < 0 || c->queue->deadline_ms < due))
        due = c->queue->deadline_ms;
    if (due < 0)
        return -1;
    int64_t wait = due - now_ms();
    return wait <= 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
}

/* Starts due retries, then queued sends, while fewer than MAX_IN_FLIGHT run.
 * Queued work whose deadline passed while it waited is answered DDB_TIMEOUT.
 * Enough connections hide DynamoDB's latency; a bound keeps memory flat under
 * thousands of waiting clients (a queued job is a few hundred bytes, a curl
 * transfer tens of kilobytes). */
static void start_waiting(struct ddb_client *c)
{
    int64_t now = now_ms();
    while (c->retries != NULL && c->retries->retry_at_ms <= now && c->n_in_flight < MAX_IN_FLIGHT) {
        struct job *job = c->retries;
        c->retries = job->next;
        job->next = NULL;
        start_or_fail(c, job);
    }
    while (c->queue != NULL && (c->n_in_flight < MAX_IN_FLIGHT || c->queue->deadline_ms <= now)) {
        struct job *job = c->queue;
        c->queue = job->next;
        if (c->queue == NULL)
            c->queue_tail = &c->queue;
        job->next = NULL;
        if (job->deadline_ms <= now)
            complete_status(job, DDB_TIMEOUT, "no connection to DynamoDB became free before the deadline");
        else
            start_or_fail(c, job);
    }
}

void ddb_client_run(struct ddb_client *c, int fd_ready)
{
    int running;
    start_waiting(c);
    int64_t now = now_ms();
    if (c->curl_timer_ms >= 0 && c->curl_timer_ms <= now) {
        c->curl_timer_ms = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    if (fd_ready) {
        struct epoll_event events[64];
        int n = epoll_wait(c->epoll_fd, events, 64, 0);
        for (int i = 0; i < n; i++) {
            int mask = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(c->multi, events[i].data.fd, mask, &running);
        }
    }
    read_completions(c);
    start_waiting(c); /* into the slots just freed */
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
    c->access_key_id = copy(cfg->access_key_id);
    c->secret_access_key = copy(cfg->secret_access_key);
    c->session_token = copy(cfg->session_token);
    c->connect_timeout_ms = cfg->connect_timeout_ms;
    c->timeout_ms = cfg->timeout_ms;
    struct buf url = BUF_INIT;
    buf_printf(&url, "%s/", cfg->endpoint);
    c->url = buf_steal(&url);
    if (getrandom(&c->rng, sizeof c->rng, 0) != sizeof c->rng || c->rng == 0)
        c->rng = (uint64_t)now_ms() | 1;
    c->multi = curl_multi_init();
    c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    c->curl_timer_ms = -1;
    c->queue_tail = &c->queue;
    if (c->epoll_fd < 0)
        goto fail;
    if (c->endpoint == NULL || c->endpoint_host == NULL || c->region == NULL || c->access_key_id == NULL ||
        c->secret_access_key == NULL || c->url == NULL || c->multi == NULL ||
        (cfg->session_token != NULL && c->session_token == NULL))
        goto fail;
    /* Keep every connection the in-flight limit can use alive between requests. */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)MAX_IN_FLIGHT);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
fail:
    if (c->epoll_fd >= 0)
        close(c->epoll_fd);
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    c->multi = NULL;
    free(c->endpoint);
    free(c->endpoint_host);
    free(c->region);
    free(c->access_key_id);
    free(c->secret_access_key);
    free(c->session_token);
    free(c->url);
    free(c);
    return NULL;
}

int ddb_send(struct ddb_client *c, const char *operation, json_t *request, ddb_callback *callback, void *ctx)
{
    struct job *job = calloc(1, sizeof *job);
    if (job == NULL || request == NULL || strlen(operation) >= sizeof job->operation)
        goto fail;
    struct buf body = BUF_INIT;
    if (json_write_value(&body, request) != 0) {
        buf_clean_up(&body);
        goto fail;
    }
    json_decref(request);
    request = NULL;
    job->body_len = body.len;
    job->body = buf_steal(&body);
    if (job->body == NULL)
        goto fail;
    memcpy(job->operation, operation, strlen(operation) + 1);
    job->callback = callback;
    job->ctx = ctx;
    job->deadline_ms = now_ms() + c->timeout_ms;

    if (c->stopping)
        goto fail;
    *c->queue_tail = job; /* started by the next ddb_client_run: the callback never runs inside ddb_send */
    c->queue_tail = &job->next;
    return 0;
fail:
    json_decref(request);
    job_free(job);
    return -1;
}

void ddb_client_free(struct ddb_client *c)
{
    if (c == NULL)
        return;
    c->stopping = 1;
    while (c->n_in_flight > 0) {
        struct job *job = c->in_flight[--c->n_in_flight];
        curl_multi_remove_handle(c->multi, job->easy);
        curl_easy_cleanup(job->easy);
        job->easy = NULL;
        complete_status(job, DDB_SHUTDOWN, "the service is shutting down");
    }
    while (c->retries != NULL) {
        struct job *job = c->retries;
        c->retries = job->next;
        complete_status(job, DDB_SHUTDOWN, "the service is shutting down");
    }
    struct job *job = c->queue;
    c->queue = NULL;
    while (job != NULL) {
        struct job *next = job->next;
        complete_status(job, DDB_SHUTDOWN, "the service is shutting down");
        job = next;
    }
    while (c->n_idle_easy > 0)
        curl_easy_cleanup(c->idle_easy[--c->n_idle_easy]);
    free(c->idle_easy);
    curl_multi_cleanup(c->multi);
    close(c->epoll_fd);
    free(c->in_flight);
    free(c->endpoint);
    free(c->endpoint_host);
    free(c->region);
    free(c->access_key_id);
    if (c->secret_access_key != NULL)
        explicit_bzero(c->secret_access_key, strlen(c->secret_access_key));
    free(c->secret_access_key);
    free(c->session_token);
    free(c->url);
    explicit_bzero(c->signing_key, sizeof c->signing_key);
    free(c);
}
