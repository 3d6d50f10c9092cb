/* test_users: every /users handler flow (and /readyz) driven through
 * app_handle with a fake backend on the struct app seam: canned DynamoDB
 * answers in order, every request recorded, a fixed clock and counted ids.
 * Covers transaction-cancellation mapping, the PATCH and DELETE re-read loop,
 * guard-aware paging, If-Match / If-None-Match, 404/409/412, by-email, and a
 * failed If-Match copy (the request must fail, not run unconditioned). */
#include "app.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "check.h"
#include "cursor.h"
#include "errors.h"
#include "log.h"
#include "op.h"
#include "recreate.h"
#include "user.h"

/* ---- allocation failure injection: a strdup of this exact text fails ---- */

static const char *strdup_refuses;

char *strdup(const char *s)
{
    if (strdup_refuses != NULL && strcmp(s, strdup_refuses) == 0)
        return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

/* ---- the fake backend ---- */

#define MAX_CALLS 32
#define MAX_PENDING 4
#define NOW_MS 1795000000123LL
#define NOW_TEXT "2026-11-18T11:06:40.123Z"
#define ID(n) "00000000-0000-4000-8000-00000000000" #n
#define USER_ID "0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f"

struct answer {
    enum ddb_status status;
    const char *error_code; /* DDB_ERROR only */
    const char *message;
    const char *body; /* JSON text, or NULL */
};

static struct {
    char operation[32];
    json_t *request;
} calls[MAX_CALLS];
static size_t n_calls;

static struct {
    ddb_callback *callback;
    void *ctx;
} pending[MAX_PENDING];
static size_t n_pending;

static int refuse_sends;

struct fake_exchange {
    struct http_exchange ex;
    const char *const *headers; /* name, value, ..., NULL */
    int deferred;
    int finished;
};

static struct fake_exchange *current;

static int fake_send(void *send_ctx, const char *operation, char *body, size_t body_len,
                     struct log_calls *record, ddb_callback *callback, void *ctx)
{
    CHECK(current != NULL && current->deferred && !current->finished); /* suspended before the hand-over */
    json_t *request = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, NULL);
    CHECK(request != NULL && strlen(body) == body_len);
    free(body);
    if (refuse_sends || n_calls == MAX_CALLS || n_pending == MAX_PENDING) {
        json_decref(request);
        return -1;
    }
    snprintf(calls[n_calls].operation, sizeof calls[n_calls].operation, "%s", operation);
    calls[n_calls++].request = request;
    pending[n_pending].callback = callback;
    pending[n_pending++].ctx = ctx;
    return 0;
}

static int64_t fake_now(void) { return NOW_MS; }

static void fake_id(void *id_ctx, char out[37])
{
    int *n = id_ctx;
    snprintf(out, 37, "00000000-0000-4000-8000-%012d", ++*n);
}

static int ids;
static struct metrics_worker counters; /* the worker's metrics */
static const struct config cfg = {.table = "users", .email_index = "email-index", .cursor_key = "unit-cursor-key"};
static const struct app app = {
    .cfg = &cfg, .table = {"users", "email-index"}, .send = fake_send, .send_ctx = NULL, .now_ms = fake_now,
    .new_id = fake_id, .id_ctx = &ids, .metrics_worker = &counters,
};

static const struct app *run_app = &app; /* auth and table re-creation tests swap it */
static char last_principal[256];

static const char *header(const struct http_request *req, const char *name)
{
    const struct fake_exchange *fx = req->header_ctx;
    for (const char *const *h = fx->headers; h != NULL && h[0] != NULL; h += 2)
        if (strcasecmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

static void defer(struct http_exchange *ex)
{
    struct fake_exchange *fx = (struct fake_exchange *)ex;
    CHECK(!fx->deferred && !fx->finished);
    fx->deferred = 1;
}

static void finish(struct http_exchange *ex)
{
    struct fake_exchange *fx = (struct fake_exchange *)ex;
    CHECK(fx->deferred && !fx->finished);
    fx->finished = 1;
}

static void reset_calls(void)
{
    for (size_t i = 0; i < n_calls; i++)
        json_decref(calls[i].request);
    n_calls = 0;
    ids = 0;
}

#define HEADERS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ANSWERS(...) ((const struct answer[]){__VA_ARGS__}), sizeof((const struct answer[]){__VA_ARGS__}) / sizeof(struct answer)
#define NO_ANSWERS NULL, 0
#define OK(body) {DDB_OK, NULL, NULL, body}
#define FAILED(code, message, body) {DDB_ERROR, code, message, body}

/* Runs one request through app_handle, answering each DynamoDB call with the
 * next answer; every answer must be used. The response is moved into *resp
 * (release with http_response_clean_up); calls[] holds the requests sent. */
static void run(enum http_method method, const char *path, const char *query, const char *body,
                const char *const *headers, const struct answer *answers, size_t n_answers,
                struct http_response *resp)
{
    reset_calls();
    struct fake_exchange fx = {.headers = headers};
    fx.ex.req = (struct http_request){method, path, query ? query : "", body, body ? strlen(body) : 0, "req-1",
                                      header, &fx};
    fx.ex.defer = defer;
    fx.ex.finish = finish;
    current = &fx;
    app_handle(run_app, &fx.ex);
    size_t used = 0;
    while (n_pending > 0) {
        ddb_callback *callback = pending[0].callback;
        void *ctx = pending[0].ctx;
        memmove(pending, pending + 1, --n_pending * sizeof pending[0]);
        struct answer a = used < n_answers ? answers[used] : (struct answer){DDB_SHUTDOWN, NULL, "script ended", NULL};
        CHECK(used < n_answers);
        used++;
        json_t *parsed = a.body != NULL ? json_loads(a.body, 0, NULL) : NULL;
        CHECK(a.body == NULL || parsed != NULL);
        struct ddb_result r = {a.status, a.status == DDB_OK ? 200 : 400, parsed, a.error_code ? a.error_code : "",
                               a.message ? a.message : "", "application/x-amz-json-1.0", NULL, 1};
        callback(ctx, &r);
        json_decref(parsed);
    }
    CHECK_INT_EQ(used, n_answers);
    CHECK_INT_EQ(fx.finished, fx.deferred);
    memcpy(last_principal, fx.ex.principal, sizeof last_principal);
    current = NULL;
    *resp = fx.ex.resp;
}

/* The "code" of an error body ("" when none), copied into a static buffer. */
static const char *code_of(const struct http_response *resp)
{
    static char code[64];
    json_t *body = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const char *text = json_string_value(json_object_get(body, "code"));
    snprintf(code, sizeof code, "%s", text != NULL ? text : "");
    json_decref(body);
    return code;
}

/* A string member of the JSON body ("" when absent). */
static const char *member_of(const struct http_response *resp, const char *name)
{
    static char value[128];
    json_t *body = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const char *text = json_string_value(json_object_get(body, name));
    snprintf(value, sizeof value, "%s", text != NULL ? text : "");
    json_decref(body);
    return value;
}

/* A string found at a path of object keys inside the i-th recorded request (NULL when absent). */
static const char *request_string(size_t i, const char *k1, const char *k2, const char *k3)
{
    const json_t *v = i < n_calls ? json_object_get(calls[i].request, k1) : NULL;
    if (k2 != NULL)
        v = json_object_get(v, k2);
    if (k3 != NULL)
        v = json_object_get(v, k3);
    return json_string_value(v);
}

#define USER_ITEM(id, email, version)                                                                          \
    "{\"id\":{\"S\":\"" id "\"},\"name\":{\"S\":\"Ann\"},\"email\":{\"S\":\"" email "\"},"                     \
    "\"createdAt\":{\"S\":\"2026-01-01T00:00:00.000Z\"},\"updatedAt\":{\"S\":\"2026-01-01T00:00:00.000Z\"},"   \
    "\"version\":{\"N\":\"" version "\"}}"
#define GUARD_ITEM(email) "{\"id\":{\"S\":\"email#" email "\"},\"userId\":{\"S\":\"x\"}}"
#define FOUND(version) "{\"Item\":" USER_ITEM(USER_ID, "ann@x.io", version) "}"
#define CANCELLED(reasons) "{\"CancellationReasons\":[" reasons "]}"
#define R(code) "{\"Code\":\"" code "\"}"
#define CANCEL_CODE "TransactionCanceledException"
#define CONDITION_CODE "ConditionalCheckFailedException"
#define ONE_PATH "/users/" USER_ID

/* ---- GET /users/{id} ---- */

static void test_get(void)
{
    struct http_response resp;
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS(OK(FOUND("3"))), &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(http_response_header(&resp, "ETag"), "\"3\"");
    CHECK_STR_EQ(member_of(&resp, "id"), USER_ID);
    CHECK_INT_EQ(n_calls, 1);
    CHECK_STR_EQ(calls[0].operation, "GetItem");
    CHECK_STR_EQ(request_string(0, "Key", "id", "S"), USER_ID);
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users/0B3C6D2E-1F4A-4E5B-9C8D-7A6B5C4D3E2F", NULL, NULL, NULL, ANSWERS(OK("{}")), &resp);
    CHECK_INT_EQ(resp.status, 404);
    CHECK_STR_EQ(code_of(&resp), "user_not_found");
    CHECK_STR_EQ(request_string(0, "Key", "id", "S"), USER_ID); /* ids are lowercased */
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users/not-a-uuid", NULL, NULL, NULL, NO_ANSWERS, &resp); /* no DynamoDB call */
    CHECK_INT_EQ(resp.status, 404);
    CHECK_INT_EQ(n_calls, 0);
    http_response_clean_up(&resp);

    /* A guard item read by id is not a user. */
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS(OK("{\"Item\":" GUARD_ITEM("a@x.io") "}")), &resp);
    CHECK_INT_EQ(resp.status, 404);
    http_response_clean_up(&resp);
}

static void test_get_if_none_match(void)
{
    struct http_response resp;
    struct http_response full;
    run(HTTP_GET, ONE_PATH, NULL, NULL, HEADERS("If-None-Match", "\"2\""), ANSWERS(OK(FOUND("3"))), &full);
    CHECK_INT_EQ(full.status, 200);
    run(HTTP_GET, ONE_PATH, NULL, NULL, HEADERS("If-None-Match", "\"2\", W/\"3\""), ANSWERS(OK(FOUND("3"))), &resp);
    CHECK_INT_EQ(resp.status, 304);
    /* The 200's body, never sent: libmicrohttpd sends its length as the 304's Content-Length (http.h). */
    CHECK(resp.body != NULL && full.body != NULL && resp.body_len == full.body_len);
    CHECK_STR_EQ(resp.body != NULL ? resp.body : "", full.body != NULL ? full.body : "-");
    CHECK_STR_EQ(http_response_header(&resp, "ETag"), "\"3\"");
    http_response_clean_up(&resp);
    http_response_clean_up(&full);
}

/* AUTO_CREATE_TABLE: a request that finds the table missing answers 503 and sends one CreateTable
 * for the process; the next within the interval sends none; without app->recreate, never. */
static void test_missing_table_recreated(void)
{
    struct recreate recreate;
    recreate_init(&recreate);
    struct app recreating = app;
    recreating.recreate = &recreate;
    run_app = &recreating;
    struct http_response resp;
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL,
        ANSWERS(FAILED("ResourceNotFoundException", "no table", NULL), OK("{\"TableDescription\":{}}")), &resp);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_INT_EQ(n_calls, 2);
    CHECK_STR_EQ(calls[1].operation, "CreateTable");
    CHECK_STR_EQ(request_string(1, "TableName", NULL, NULL), "users");
    http_response_clean_up(&resp);
    /* The same clock: within the interval, the storm that follows sends nothing more. */
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS(FAILED("ResourceNotFoundException", "no table", NULL)), &resp);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_INT_EQ(n_calls, 1);
    http_response_clean_up(&resp);
    /* Other failures never create anything. */
    recreate_init(&recreate);
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS(FAILED("AccessDeniedException", "no", NULL)), &resp);
    CHECK_INT_EQ(n_calls, 1);
    http_response_clean_up(&resp);
    run_app = &app;
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS(FAILED("ResourceNotFoundException", "no table", NULL)), &resp);
    CHECK_INT_EQ(n_calls, 1);
    http_response_clean_up(&resp);
}

static void test_backend_errors(void)
{
    struct http_response resp;
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS({DDB_TIMEOUT, NULL, "deadline", NULL}), &resp);
    CHECK_INT_EQ(resp.status, 504);
    CHECK_STR_EQ(code_of(&resp), "backend_timeout");
    CHECK(http_response_header(&resp, "Retry-After") == NULL);
    http_response_clean_up(&resp);

    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS({DDB_THROTTLED, NULL, "slow down", NULL}), &resp);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_STR_EQ(code_of(&resp), "throttled");
    CHECK_STR_EQ(http_response_header(&resp, "Retry-After"), "1");
    http_response_clean_up(&resp);

    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS(FAILED("ResourceNotFoundException", "no table", NULL)), &resp);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_STR_EQ(code_of(&resp), "backend_unavailable");
    http_response_clean_up(&resp);

    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, ANSWERS(FAILED("", "a proxy's page", NULL)), &resp);
    CHECK_INT_EQ(resp.status, 502);
    http_response_clean_up(&resp);

    refuse_sends = 1; /* the client is shutting down: answered at once, the exchange still finished */
    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, NO_ANSWERS, &resp);
    refuse_sends = 0;
    CHECK_INT_EQ(resp.status, 503);
    CHECK_STR_EQ(code_of(&resp), "backend_unavailable");
    CHECK_STR_EQ(http_response_header(&resp, "Retry-After"), "1");
    http_response_clean_up(&resp);
}

/* ---- POST /users ---- */

#define NEW_USER "{\"name\":\"Ann\",\"email\":\"Ann@X.io\"}"
#define JSON_TYPE HEADERS("Content-Type", "application/json")

static void test_create(void)
{
    struct http_response resp;
    run(HTTP_POST, "/users", NULL, NEW_USER, JSON_TYPE, ANSWERS(OK("{}")), &resp);
    CHECK_INT_EQ(resp.status, 201);
    CHECK_STR_EQ(http_response_header(&resp, "Location"), "/users/" ID(1));
    CHECK_STR_EQ(http_response_header(&resp, "ETag"), "\"1\"");
    CHECK_STR_EQ(member_of(&resp, "id"), ID(1));
    CHECK_STR_EQ(member_of(&resp, "email"), "ann@x.io");
    CHECK_STR_EQ(member_of(&resp, "createdAt"), NOW_TEXT); /* the app's clock */
    CHECK_INT_EQ(n_calls, 1);
    CHECK_STR_EQ(calls[0].operation, "TransactWriteItems");
    CHECK_STR_EQ(request_string(0, "ClientRequestToken", NULL, NULL), ID(2));
    http_response_clean_up(&resp);

    run(HTTP_POST, "/users", NULL, NEW_USER, HEADERS("Content-Type", "text/plain"), NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 415);
    CHECK_STR_EQ(code_of(&resp), "unsupported_media_type");
    http_response_clean_up(&resp);

    run(HTTP_POST, "/users", NULL, "{\"name\":\"Ann\"", JSON_TYPE, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 400);
    CHECK_STR_EQ(code_of(&resp), "invalid_json");
    CHECK_STR_EQ(member_of(&resp, "message"), "malformed JSON: '}' expected near end of file"); /* jansson's words */
    http_response_clean_up(&resp);

    run(HTTP_POST, "/users", NULL, "{\"name\":\"Ann\"}", JSON_TYPE, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 400);
    CHECK_STR_EQ(code_of(&resp), "validation_failed");
    CHECK_INT_EQ(n_calls, 0);
    http_response_clean_up(&resp);
}

static void test_create_cancellations(void)
{
    struct http_response resp;
    /* The guard's condition failed: the email is taken (and counted so in the worker's metrics). */
    uint64_t taken = counters.conflicts[METRICS_CONFLICT_EMAIL_TAKEN];
    run(HTTP_POST, "/users", NULL, NEW_USER, JSON_TYPE,
        ANSWERS(FAILED(CANCEL_CODE, "cancelled", CANCELLED(R("None") "," R("ConditionalCheckFailed")))), &resp);
    CHECK_INT_EQ(resp.status, 409);
    CHECK_STR_EQ(code_of(&resp), "email_taken");
    CHECK_INT_EQ(counters.conflicts[METRICS_CONFLICT_EMAIL_TAKEN], taken + 1);
    http_response_clean_up(&resp);

    /* The same, read from the message when the reasons list is absent. */
    run(HTTP_POST, "/users", NULL, NEW_USER, JSON_TYPE,
        ANSWERS(FAILED(CANCEL_CODE,
                       "Transaction cancelled, please refer cancellation reasons for specific reasons "
                       "[None, ConditionalCheckFailed]",
                       NULL)),
        &resp);
    CHECK_INT_EQ(resp.status, 409);
    CHECK_STR_EQ(code_of(&resp), "email_taken");
    http_response_clean_up(&resp);

    /* A conflicting transaction: another round, with a fresh token, succeeds. */
    run(HTTP_POST, "/users", NULL, NEW_USER, JSON_TYPE,
        ANSWERS(FAILED(CANCEL_CODE, "cancelled", CANCELLED(R("TransactionConflict") "," R("None"))), OK("{}")),
        &resp);
    CHECK_INT_EQ(resp.status, 201);
    CHECK_INT_EQ(n_calls, 2);
    CHECK_STR_EQ(request_string(0, "ClientRequestToken", NULL, NULL), ID(2));
    CHECK_STR_EQ(request_string(1, "ClientRequestToken", NULL, NULL), ID(3));
    http_response_clean_up(&resp);

    run(HTTP_POST, "/users", NULL, NEW_USER, JSON_TYPE,
        ANSWERS(FAILED(CANCEL_CODE, "Item size has exceeded the maximum allowed size",
                       CANCELLED(R("ValidationError") "," R("None")))),
        &resp);
    CHECK_INT_EQ(resp.status, 413);
    CHECK_STR_EQ(code_of(&resp), "item_too_large");
    http_response_clean_up(&resp);

    run(HTTP_POST, "/users", NULL, NEW_USER, JSON_TYPE,
        ANSWERS(FAILED(CANCEL_CODE, "cancelled", CANCELLED(R("ThrottlingError") "," R("None")))), &resp);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_STR_EQ(code_of(&resp), "throttled");
    CHECK_STR_EQ(http_response_header(&resp, "Retry-After"), "1");
    http_response_clean_up(&resp);

    run(HTTP_POST, "/users", NULL, NEW_USER, JSON_TYPE,
        ANSWERS(FAILED(CANCEL_CODE, "cancelled", CANCELLED(R("Mystery") "," R("None")))), &resp);
    CHECK_INT_EQ(resp.status, 500);
    http_response_clean_up(&resp);
}

/* ---- PATCH /users/{id} ---- */

#define MERGE_PATCH() HEADERS("Content-Type", "application/merge-patch+json")
#define MERGE_PATCH_IF(etag) HEADERS("Content-Type", "application/merge-patch+json", "If-Match", etag)
#define RENAME "{\"name\":\"Bo\"}"
#define UPDATED(version) "{\"Attributes\":" USER_ITEM(USER_ID, "ann@x.io", version) "}"

static void test_patch(void)
{
    struct http_response resp;
    /* No precondition, no email: one conditional UpdateItem. */
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH(), ANSWERS(OK(UPDATED("4"))), &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(http_response_header(&resp, "ETag"), "\"4\"");
    CHECK_INT_EQ(n_calls, 1);
    CHECK_STR_EQ(calls[0].operation, "UpdateItem");
    http_response_clean_up(&resp);

    /* If-Match that holds: read, then the write conditioned on the version read. */
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH_IF("\"3\""), ANSWERS(OK(FOUND("3")), OK(UPDATED("4"))),
        &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_INT_EQ(n_calls, 2);
    CHECK_STR_EQ(calls[0].operation, "GetItem");
    CHECK_STR_EQ(calls[1].operation, "UpdateItem");
    http_response_clean_up(&resp);

    uint64_t stale = counters.conflicts[METRICS_CONFLICT_PRECONDITION_FAILED];
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH_IF("\"2\""), ANSWERS(OK(FOUND("3"))), &resp);
    CHECK_INT_EQ(resp.status, 412);
    CHECK_INT_EQ(counters.conflicts[METRICS_CONFLICT_PRECONDITION_FAILED], stale + 1);
    CHECK_STR_EQ(code_of(&resp), "precondition_failed");
    CHECK_INT_EQ(n_calls, 1);
    http_response_clean_up(&resp);

    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH_IF("\"3\""), ANSWERS(OK("{}")), &resp);
    CHECK_INT_EQ(resp.status, 404);
    http_response_clean_up(&resp);
}

static void test_patch_reread_loop(void)
{
    struct http_response resp;
    /* The unconditioned UpdateItem lost: read, then write conditioned on what was read. */
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH(),
        ANSWERS(FAILED(CONDITION_CODE, "changed", NULL), OK(FOUND("5")), OK(UPDATED("6"))), &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(http_response_header(&resp, "ETag"), "\"6\"");
    CHECK_INT_EQ(n_calls, 3);
    CHECK_STR_EQ(calls[1].operation, "GetItem");
    CHECK_STR_EQ(calls[2].operation, "UpdateItem");
    http_response_clean_up(&resp);

    /* A user that keeps changing: three reads (two of them again after a lost race), then 409 concurrent_update. */
    uint64_t gave_up = counters.conflicts[METRICS_CONFLICT_CONCURRENT_UPDATE];
    uint64_t retried = counters.conflicts[METRICS_CONFLICT_RETRIED];
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH(),
        ANSWERS(FAILED(CONDITION_CODE, "changed", NULL), OK(FOUND("5")), FAILED(CONDITION_CODE, "changed", NULL),
                OK(FOUND("6")), FAILED(CONDITION_CODE, "changed", NULL), OK(FOUND("7")),
                FAILED(CONDITION_CODE, "changed", NULL)),
        &resp);
    CHECK_INT_EQ(resp.status, 409);
    CHECK_STR_EQ(code_of(&resp), "concurrent_update");
    CHECK_INT_EQ(n_calls, 7);
    CHECK_INT_EQ(counters.conflicts[METRICS_CONFLICT_CONCURRENT_UPDATE], gave_up + 1);
    CHECK_INT_EQ(counters.conflicts[METRICS_CONFLICT_RETRIED], retried + 2);
    http_response_clean_up(&resp);

    /* Gone between the write and the read: 404. */
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH(), ANSWERS(FAILED(CONDITION_CODE, "missing", NULL), OK("{}")),
        &resp);
    CHECK_INT_EQ(resp.status, 404);
    http_response_clean_up(&resp);

    /* At the largest version: read, then 409 version_exhausted without a write. */
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH(),
        ANSWERS(FAILED(CONDITION_CODE, "at max", NULL), OK(FOUND("9223372036854775807"))), &resp);
    CHECK_INT_EQ(resp.status, 409);
    CHECK_STR_EQ(code_of(&resp), "version_exhausted");
    CHECK_INT_EQ(n_calls, 2);
    http_response_clean_up(&resp);
}

static void test_patch_email(void)
{
    struct http_response resp;
    const char *body = "{\"email\":\"bo@x.io\"}";
    /* The new email's guard (index 2) failed: taken. */
    run(HTTP_PATCH, ONE_PATH, NULL, body, MERGE_PATCH(),
        ANSWERS(OK(FOUND("3")),
                FAILED(CANCEL_CODE, "cancelled", CANCELLED(R("None") "," R("None") "," R("ConditionalCheckFailed")))),
        &resp);
    CHECK_INT_EQ(resp.status, 409);
    CHECK_STR_EQ(code_of(&resp), "email_taken");
    CHECK_STR_EQ(calls[1].operation, "TransactWriteItems");
    CHECK_STR_EQ(request_string(1, "ClientRequestToken", NULL, NULL), ID(1));
    http_response_clean_up(&resp);

    /* The user changed (index 0): read again, new token, then success. */
    run(HTTP_PATCH, ONE_PATH, NULL, body, MERGE_PATCH(),
        ANSWERS(OK(FOUND("3")),
                FAILED(CANCEL_CODE, "cancelled", CANCELLED(R("ConditionalCheckFailed") "," R("None") "," R("None"))),
                OK(FOUND("4")), OK("{}")),
        &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(member_of(&resp, "email"), "bo@x.io");
    CHECK_STR_EQ(member_of(&resp, "updatedAt"), NOW_TEXT);
    CHECK_STR_EQ(http_response_header(&resp, "ETag"), "\"5\"");
    CHECK_INT_EQ(n_calls, 4);
    CHECK_STR_EQ(request_string(3, "ClientRequestToken", NULL, NULL), ID(2));
    http_response_clean_up(&resp);
}

/* ---- DELETE /users/{id} ---- */

static void test_delete(void)
{
    struct http_response resp;
    run(HTTP_DELETE, ONE_PATH, NULL, NULL, NULL, ANSWERS(OK(FOUND("3")), OK("{}")), &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(member_of(&resp, "message"), "User deleted");
    CHECK_INT_EQ(n_calls, 2);
    CHECK_STR_EQ(calls[1].operation, "TransactWriteItems");
    http_response_clean_up(&resp);

    run(HTTP_DELETE, ONE_PATH, NULL, NULL, HEADERS("If-Match", "\"2\""), ANSWERS(OK(FOUND("3"))), &resp);
    CHECK_INT_EQ(resp.status, 412);
    http_response_clean_up(&resp);

    run(HTTP_DELETE, ONE_PATH, NULL, NULL, HEADERS("If-Match", "*"), ANSWERS(OK("{}")), &resp);
    CHECK_INT_EQ(resp.status, 404);
    http_response_clean_up(&resp);

    /* Changed between the read and the delete: read again. */
    run(HTTP_DELETE, ONE_PATH, NULL, NULL, HEADERS("If-Match", "\"3\""),
        ANSWERS(OK(FOUND("3")), FAILED(CANCEL_CODE, "cancelled", CANCELLED(R("ConditionalCheckFailed") "," R("None"))),
                OK(FOUND("4"))),
        &resp);
    CHECK_INT_EQ(resp.status, 412);
    CHECK_INT_EQ(n_calls, 3);
    http_response_clean_up(&resp);
}

/* A failed If-Match copy fails the request; it never runs without its precondition. */
static void test_if_match_copy_fails(void)
{
    struct http_response resp;
    strdup_refuses = "\"3\"";
    run(HTTP_PATCH, ONE_PATH, NULL, RENAME, MERGE_PATCH_IF("\"3\""), NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 500);
    CHECK_STR_EQ(code_of(&resp), "internal_error");
    CHECK_INT_EQ(n_calls, 0);
    http_response_clean_up(&resp);

    run(HTTP_DELETE, ONE_PATH, NULL, NULL, HEADERS("If-Match", "\"3\""), NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 500);
    CHECK_INT_EQ(n_calls, 0);
    http_response_clean_up(&resp);
    strdup_refuses = NULL;
}

/* ---- GET /users ---- */

#define USER_A USER_ITEM("0b3c6d2e-1f4a-4e5b-9c8d-00000000000a", "a@x.io", "1")
#define USER_B USER_ITEM("0b3c6d2e-1f4a-4e5b-9c8d-00000000000b", "b@x.io", "1")
#define USER_C USER_ITEM("0b3c6d2e-1f4a-4e5b-9c8d-00000000000c", "c@x.io", "1")
#define LAST_KEY(id) ",\"LastEvaluatedKey\":{\"id\":{\"S\":\"" id "\"}}"

static void test_list_paging(void)
{
    struct http_response resp;
    /* One Scan holds more users than fit: the cursor names the last one kept. */
    run(HTTP_GET, "/users", "limit=2", NULL, NULL,
        ANSWERS(OK("{\"Items\":[" USER_A "," GUARD_ITEM("a@x.io") "," USER_B "," GUARD_ITEM("b@x.io") "," USER_C "]"
                   LAST_KEY("0b3c6d2e-1f4a-4e5b-9c8d-00000000000c") "}")),
        &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_INT_EQ(n_calls, 1);
    CHECK_STR_EQ(calls[0].operation, "Scan");
    CHECK_INT_EQ(json_integer_value(json_object_get(calls[0].request, "Limit")), 5); /* guards double the want */
    json_t *page = json_loadb(resp.body, resp.body_len, 0, NULL);
    CHECK_INT_EQ(json_array_size(page), 2);
    json_decref(page);
    const char *link = http_response_header(&resp, "Link");
    CHECK(link != NULL && strncmp(link, "</users?limit=2&cursor=", 23) == 0);
    if (link != NULL && strlen(link) > 23) {
        char cursor[256];
        snprintf(cursor, sizeof cursor, "%.*s", (int)strcspn(link + 23, ">"), link + 23);
        char *id = cursor_decode(cfg.cursor_key, cursor);
        CHECK_STR_EQ(id, "0b3c6d2e-1f4a-4e5b-9c8d-00000000000b");
        free(id);
    }
    http_response_clean_up(&resp);

    /* A short Scan: scan on from LastEvaluatedKey for what is missing; the table ends, no Link. */
    run(HTTP_GET, "/users", "limit=2", NULL, NULL,
        ANSWERS(OK("{\"Items\":[" GUARD_ITEM("a@x.io") "," USER_A "]" LAST_KEY("0b3c6d2e-1f4a-4e5b-9c8d-00000000000a")
                   "}"),
                OK("{\"Items\":[" USER_B "]}")),
        &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_INT_EQ(n_calls, 2);
    CHECK_INT_EQ(json_integer_value(json_object_get(calls[1].request, "Limit")), 3);
    CHECK_STR_EQ(request_string(1, "ExclusiveStartKey", "id", "S"), "0b3c6d2e-1f4a-4e5b-9c8d-00000000000a");
    CHECK(http_response_header(&resp, "Link") == NULL);
    page = json_loadb(resp.body, resp.body_len, 0, NULL);
    CHECK_INT_EQ(json_array_size(page), 2);
    json_decref(page);
    http_response_clean_up(&resp);

    /* An unreadable stored user is skipped and counted, not a failed page. */
    unsigned long long before = counters.unreadable_users;
    run(HTTP_GET, "/users", NULL, NULL, NULL,
        ANSWERS(OK("{\"Items\":[" USER_ITEM("0b3c6d2e-1f4a-4e5b-9c8d-00000000000d", "d@x.io", "x") "," USER_A "]}")),
        &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_INT_EQ(counters.unreadable_users, before + 1);
    page = json_loadb(resp.body, resp.body_len, 0, NULL);
    CHECK_INT_EQ(json_array_size(page), 1);
    json_decref(page);
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users", "limit=0", NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 400);
    CHECK_STR_EQ(code_of(&resp), "invalid_query");
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users", "cursor=forged", NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 400);
    CHECK_STR_EQ(code_of(&resp), "invalid_cursor");
    http_response_clean_up(&resp);
}

/* ---- lookups by email ---- */

static void test_by_email(void)
{
    struct http_response resp;
    run(HTTP_GET, "/users/by-email/Ann%40X.io", NULL, NULL, NULL,
        ANSWERS(OK("{\"Items\":[" GUARD_ITEM("ann@x.io") "," USER_ITEM(USER_ID, "ann@x.io", "2") "]}")), &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(member_of(&resp, "id"), USER_ID);
    CHECK_STR_EQ(http_response_header(&resp, "ETag"), "\"2\"");
    CHECK_STR_EQ(calls[0].operation, "Query");
    CHECK_STR_EQ(request_string(0, "IndexName", NULL, NULL), "email-index");
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users/by-email/ann%40x.io", NULL, NULL, NULL, ANSWERS(OK("{\"Items\":[]}")), &resp);
    CHECK_INT_EQ(resp.status, 404);
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users/by-email/not-an-email", NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 404);
    CHECK_INT_EQ(n_calls, 0);
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users", "email=ann%40x.io", NULL, NULL, ANSWERS(OK("{\"Items\":[]}")), &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(resp.body, "[]");
    http_response_clean_up(&resp);

    run(HTTP_GET, "/users", "email=nope", NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 400);
    http_response_clean_up(&resp);
}

/* ---- the router's own answers and /readyz ---- */

static void test_router_and_probes(void)
{
    struct http_response resp;
    run(HTTP_OPTIONS, "/users", NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 204);
    CHECK_STR_EQ(http_response_header(&resp, "Allow"), "GET, HEAD, POST, OPTIONS");
    http_response_clean_up(&resp);

    run(HTTP_PUT, ONE_PATH, NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 405);
    CHECK_STR_EQ(code_of(&resp), "method_not_allowed");
    CHECK_STR_EQ(http_response_header(&resp, "allow"), "GET, HEAD, PATCH, DELETE, OPTIONS");
    http_response_clean_up(&resp);

    run(HTTP_GET, "/nowhere", NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 404);
    CHECK_STR_EQ(code_of(&resp), "not_found");
    http_response_clean_up(&resp);

    const char *active = "{\"Table\":{\"TableStatus\":\"ACTIVE\",\"GlobalSecondaryIndexes\":"
                         "[{\"IndexName\":\"email-index\",\"IndexStatus\":\"ACTIVE\"}]}}";
    run(HTTP_GET, "/readyz", NULL, NULL, NULL, ANSWERS(OK(active)), &resp);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ(calls[0].operation, "DescribeTable");
    http_response_clean_up(&resp);

    run(HTTP_GET, "/readyz", NULL, NULL, NULL, ANSWERS({DDB_UNAVAILABLE, NULL, "down", NULL}), &resp);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_STR_EQ(code_of(&resp), "not_ready");
    CHECK_STR_EQ(http_response_header(&resp, "Retry-After"), "1"); /* like every 503 */
    http_response_clean_up(&resp);
}

/* ---- the pieces of the seam ---- */

static void test_errors_table(void)
{
    for (int i = 0; i < ERR_COUNT; i++) {
        CHECK(errors_status((enum err_code)i) >= 400 && errors_status((enum err_code)i) <= 599);
        CHECK(errors_code((enum err_code)i) != NULL);
    }
    CHECK_INT_EQ(errors_status(ERR_PRECONDITION_FAILED), 412);
    CHECK_STR_EQ(errors_code(ERR_PRECONDITION_FAILED), "precondition_failed");
    CHECK_INT_EQ(errors_status(ERR_TOO_MANY_FROM_ADDRESS), 429);
}

static void test_rfc3339(void)
{
    char out[25];
    op_format_rfc3339(NOW_MS, out);
    CHECK_STR_EQ(out, NOW_TEXT);
    op_format_rfc3339(7, out);
    CHECK_STR_EQ(out, "1970-01-01T00:00:00.007Z");
}

/* The real id source: random UUIDs, version 4, variant RFC 4122, lowercase, each new. */
static void test_uuid_random(void)
{
    char seen[64][37];
    for (int i = 0; i < 64; i++) {
        op_uuid_random(NULL, seen[i]);
        CHECK(user_is_uuid(seen[i]));
        CHECK(seen[i][14] == '4');
        CHECK(strchr("89ab", seen[i][19]) != NULL);
        CHECK(strspn(seen[i], "0123456789abcdef-") == 36);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(seen[i], seen[j]) != 0);
    }
}

static void test_etag_matches(void)
{
    CHECK_INT_EQ(op_etag_matches("\"3\"", 3, 0), 1);
    CHECK_INT_EQ(op_etag_matches("W/\"3\"", 3, 0), 0); /* strong comparison for If-Match */
    CHECK_INT_EQ(op_etag_matches("W/\"3\"", 3, 1), 1);
    CHECK_INT_EQ(op_etag_matches("\"1\", \"3\"", 3, 0), 1);
    CHECK_INT_EQ(op_etag_matches("*", 3, 0), 1);
    CHECK_INT_EQ(op_etag_matches("\"03x\"", 3, 0), 0);
    CHECK_INT_EQ(op_etag_matches("3", 3, 0), 0);
}

/* ---- authentication in front of the handlers (auth.h): refused requests make no DynamoDB call ---- */

static void test_auth_gate(void)
{
    char text[512], hex[2][65];
    const char *keys[2] = {"reader-key-0123456789", "writer-key-0123456789"};
    for (int k = 0; k < 2; k++) {
        unsigned char d[32];
        EVP_Digest(keys[k], strlen(keys[k]), d, NULL, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
            snprintf(hex[k] + 2 * i, 3, "%02x", d[i]);
    }
    snprintf(text, sizeof text, "%s users:read reader\n%s users:write writer\n", hex[0], hex[1]);
    struct buf err = BUF_INIT;
    struct auth *auth = auth_new(&(struct auth_options){.modes = AUTH_API_KEY, .apikeys = apikeys_parse(text, strlen(text), &err),
                                                       .limit = ratelimit_new(1, 3)});
    struct auth_worker *w = auth_worker_new(auth);
    struct app authed = app;
    authed.auth = w;
    run_app = &authed;
    struct http_response resp;

    run(HTTP_GET, ONE_PATH, NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 401);
    CHECK_STR_EQ(code_of(&resp), "unauthorized");
    CHECK_STR_EQ(http_response_header(&resp, "WWW-Authenticate"), "Bearer realm=\"usersvc\"");
    CHECK_INT_EQ(n_calls, 0);
    CHECK_STR_EQ(last_principal, "");
    http_response_clean_up(&resp);

    run(HTTP_POST, "/users", NULL, "{\"name\":\"A\",\"email\":\"a@x.io\"}",
        HEADERS("Content-Type", "application/json", "X-Api-Key", "reader-key-0123456789"), NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 403);
    CHECK_STR_EQ(code_of(&resp), "insufficient_scope");
    CHECK_STR_EQ(http_response_header(&resp, "WWW-Authenticate"),
                 "Bearer realm=\"usersvc\", error=\"insufficient_scope\", scope=\"users:write\"");
    CHECK_INT_EQ(n_calls, 0);
    CHECK_STR_EQ(last_principal, "reader");
    http_response_clean_up(&resp);

    run(HTTP_DELETE, ONE_PATH, NULL, NULL, HEADERS("Authorization", "Bearer wrong-key"), NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 401);
    CHECK_STR_EQ(code_of(&resp), "invalid_token");
    const char *challenge = http_response_header(&resp, "WWW-Authenticate");
    CHECK(challenge != NULL && strstr(challenge, "error=\"invalid_token\"") != NULL);
    CHECK_INT_EQ(n_calls, 0);
    http_response_clean_up(&resp);

    run(HTTP_HEAD, ONE_PATH, NULL, NULL, HEADERS("X-Api-Key", "reader-key-0123456789"), ANSWERS(OK(FOUND("3"))), &resp);
    CHECK_INT_EQ(resp.status, 200); /* HEAD is a read */
    CHECK_INT_EQ(n_calls, 1);
    CHECK_STR_EQ(last_principal, "reader");
    http_response_clean_up(&resp);

    /* Probes, preflights and unknown routes need nothing. */
    run(HTTP_GET, "/healthz", NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 200);
    http_response_clean_up(&resp);
    run(HTTP_OPTIONS, "/users", NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 204);
    http_response_clean_up(&resp);
    run(HTTP_GET, "/nope", NULL, NULL, NULL, NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 404);
    http_response_clean_up(&resp);

    /* The limit (1/s, burst 3) counts the reader's requests, refused ones too: the POST and HEAD above, one
     * more, then 429. */
    run(HTTP_DELETE, ONE_PATH, NULL, NULL, HEADERS("X-Api-Key", "reader-key-0123456789"), NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 403);
    http_response_clean_up(&resp);
    run(HTTP_GET, ONE_PATH, NULL, NULL, HEADERS("X-Api-Key", "reader-key-0123456789"), NO_ANSWERS, &resp);
    CHECK_INT_EQ(resp.status, 429);
    CHECK_STR_EQ(code_of(&resp), "rate_limited");
    CHECK_STR_EQ(http_response_header(&resp, "Retry-After"), "1");
    CHECK_INT_EQ(n_calls, 0);
    http_response_clean_up(&resp);

    run_app = &app;
    auth_worker_free(w);
    auth_free(auth);
    buf_clean_up(&err);
}

int main(void)
{
    log_set_level(LOG_OFF); /* the flows log on purpose (backend failures, unreadable users) */
    RUN(test_get);
    RUN(test_get_if_none_match);
    RUN(test_backend_errors);
    RUN(test_missing_table_recreated);
    RUN(test_create);
    RUN(test_create_cancellations);
    RUN(test_patch);
    RUN(test_patch_reread_loop);
    RUN(test_patch_email);
    RUN(test_delete);
    RUN(test_if_match_copy_fails);
    RUN(test_list_paging);
    RUN(test_by_email);
    RUN(test_router_and_probes);
    RUN(test_errors_table);
    RUN(test_rfc3339);
    RUN(test_uuid_random);
    RUN(test_etag_matches);
    RUN(test_auth_gate);
    reset_calls();
    return check_summary();
}
