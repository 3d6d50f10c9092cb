/* fake_app: see fake_app.h. */
#include "fake_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "config.h"
#include "jsontext.h"
#include "log.h"

#define MAX_PENDING 4  /* a handler has one DynamoDB call in flight */
#define MAX_CALLS 64   /* more calls for one request is a loop (users.c bounds its rounds) */

struct pending {
    char operation[32];
    json_t *request;
    ddb_callback *callback;
    void *ctx;
};

static struct pending pending[MAX_PENDING];
static size_t n_pending;

void fake_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

json_t *fake_check_json(const char *text, size_t len)
{
    json_error_t err;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &err);
    if (v == NULL && json_error_code(&err) == json_error_numeric_overflow)
        return NULL;
    if (v == NULL)
        fprintf(stderr, "not JSON (%s): %.*s\n", err.text, (int)(len > 500 ? 500 : len), text);
    FAKE_ASSERT(v != NULL);
    return v;
}

/* The fake app's send (app_send_fn): the text sent to DynamoDB (json_write_value, or a
 * model_*_text writer) must parse and be exactly json_dumps' compact text of what it parses to. */
static int fake_send(void *send_ctx, const char *operation, char *body, size_t body_len, struct log_calls *calls,
                     ddb_callback *callback, void *ctx)
{
    FAKE_ASSERT(body != NULL && strlen(body) == body_len && strlen(operation) < sizeof pending[0].operation);
    json_t *request = fake_check_json(body, body_len);
    FAKE_ASSERT(request != NULL);
    char *dumped = json_dumps(request, JSON_COMPACT | JSON_ENCODE_ANY);
    FAKE_ASSERT(dumped != NULL && strcmp(dumped, body) == 0);
    free(dumped);
    free(body);
    FAKE_ASSERT(n_pending < MAX_PENDING);
    struct pending *p = &pending[n_pending++];
    snprintf(p->operation, sizeof p->operation, "%s", operation);
    p->request = request;
    p->callback = callback;
    p->ctx = ctx;
    return 0;
}

/* Stands in for ddb.c's (which is not linked: it brings curl): the handlers only log the line. */
const char *ddb_result_describe(const struct ddb_result *result, char *out, size_t size)
{
    snprintf(out, size, "HTTP %ld %s: %s", result->http_status, result->error_code, result->message);
    return out;
}

struct fake_exchange {
    struct http_exchange ex;
    const struct fake_request *req;
    int deferred;
    int finished;
};

static const char *header(const struct http_request *r, const char *name)
{
    const struct fake_request *req = r->header_ctx;
    if (strcasecmp(name, "Content-Type") == 0)
        return req->content_type;
    if (strcasecmp(name, "If-Match") == 0)
        return req->if_match;
    if (strcasecmp(name, "If-None-Match") == 0)
        return req->if_none_match;
    return NULL;
}

static void defer(struct http_exchange *ex)
{
    struct fake_exchange *fx = (struct fake_exchange *)ex;
    FAKE_ASSERT(!fx->deferred && !fx->finished);
    fx->deferred = 1;
}

static void finish(struct http_exchange *ex)
{
    struct fake_exchange *fx = (struct fake_exchange *)ex;
    FAKE_ASSERT(fx->deferred && !fx->finished);
    fx->finished = 1;
}

void fake_app_handle(const struct fake_request *req, fake_answer *answer, void *ctx, struct http_response *resp)
{
    static struct config cfg = {.table = "users", .email_index = "email-index", .cursor_key = FAKE_CURSOR_KEY};
    static const struct app app = {.cfg = &cfg, .table = {"users", "email-index"}, .send = fake_send,
                                   .now_ms = op_clock_realtime, .new_id = op_uuid_random};
    log_set_level(LOG_OFF);

    struct fake_exchange fx = {.req = req};
    fx.ex.req = (struct http_request){req->method, req->path, req->query, req->body, req->body_len,
                                      "fuzz-request", header, (void *)req};
    fx.ex.defer = defer;
    fx.ex.finish = finish;
    app_handle(&app, &fx.ex);

    for (int calls = 0; n_pending > 0; calls++) {
        FAKE_ASSERT(calls < MAX_CALLS);
        struct pending p = pending[0];
        memmove(pending, pending + 1, --n_pending * sizeof pending[0]);
        struct ddb_result result = {.error_code = "", .message = "fake", .attempts = 1};
        json_t *body = answer(ctx, p.operation, p.request, &result);
        result.body = body;
        if (result.status == DDB_OK)
            result.http_status = 200;
        json_decref(p.request);
        p.callback(p.ctx, &result);
        json_decref(body);
    }
    FAKE_ASSERT(fx.deferred == fx.finished);

    struct http_response *r = &fx.ex.resp;
    FAKE_ASSERT(r->status >= 200 && r->status <= 599);
    FAKE_ASSERT((r->status == 204) == (r->body == NULL)); /* a 304 holds the 200's body, never sent */
    if (r->body != NULL) {
        FAKE_ASSERT(r->body_len == strlen(r->body));
        json_decref(fake_check_json(r->body, r->body_len));
    }
    if (r->status == 405 || req->method == HTTP_OPTIONS)
        FAKE_ASSERT(r->status == 404 || (http_response_header(r, "Allow") != NULL &&
                                              strstr(http_response_header(r, "Allow"), "OPTIONS") != NULL));
    *resp = *r;
}
