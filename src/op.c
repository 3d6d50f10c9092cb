#include "op.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <uuid/uuid.h>

#include "errors.h"
#include "jsonread.h"
#include "jsontext.h"
#include "log.h"
#include "recreate.h"
#include "user.h"

int64_t op_clock_realtime(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void op_uuid_random(void *id_ctx, char out[37])
{
    /* 16 bytes from getrandom, one system call: libuuid's uuid_generate_random spent ~9k instructions
     * per id (two per POST) around the same call. libuuid remains the fallback. */
    uint8_t u[16];
    if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u) {
        uuid_generate_random(u);
        uuid_unparse_lower(u, out);
        return;
    }
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80); /* variant RFC 4122 */
    char *p = out;
    for (size_t i = 0; i < sizeof u; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = "0123456789abcdef"[u[i] >> 4];
        *p++ = "0123456789abcdef"[u[i] & 15];
    }
    *p = '\0';
}

void op_format_rfc3339(int64_t ms, char out[25])
{
    time_t seconds = (time_t)(ms / 1000);
    int millis = (int)(ms % 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm);
    out[19] = '.';
    out[20] = (char)('0' + millis / 100);
    out[21] = (char)('0' + millis / 10 % 10);
    out[22] = (char)('0' + millis % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

void op_now_rfc3339(const struct app *app, char out[25])
{
    op_format_rfc3339(app->now_ms(), out);
}

void *op_new(size_t size, const struct app *app, struct http_exchange *ex, void (*clean_up)(struct op *op))
{
    struct op *op = calloc(1, size);
    if (op == NULL) {
        errors_respond(ex, ERR_BACKEND_UNAVAILABLE, "out of memory", NULL);
        return NULL;
    }
    op->app = app;
    op->ex = ex;
    op->clean_up = clean_up;
    return op;
}

void op_finish(struct op *op)
{
    struct http_exchange *ex = op->ex;
    int deferred = op->deferred;
    if (op->clean_up != NULL)
        op->clean_up(op);
    free(op);
    if (deferred)
        http_exchange_finish(ex);
}

void op_fail(struct op *op, const struct ddb_result *r)
{
    const struct app *app = op->app;
    op_respond_backend_error(op->ex, r);
    if (app->recreate != NULL && r->status == DDB_ERROR && strcmp(r->error_code, "ResourceNotFoundException") == 0)
        recreate_request(app->recreate, app->send, app->send_ctx, &app->table, app->now_ms());
    op_finish(op);
}

void op_send_text(struct op *op, const char *operation, struct buf *body, ddb_callback *then)
{
    if (body->data == NULL) {
        buf_clean_up(body);
        errors_respond(op->ex, ERR_INTERNAL, "internal error", NULL);
        op_finish(op);
        return;
    }
    if (!op->deferred) { /* suspend before handing the work over: its completion may come at once */
        http_exchange_defer(op->ex);
        op->deferred = 1;
    }
    size_t len = body->len;
    if (op->app->send(op->app->send_ctx, operation, buf_steal(body), len, &op->ex->calls, then, op) != 0) {
        errors_respond(op->ex, ERR_BACKEND_UNAVAILABLE, "the service is shutting down", NULL);
        op_finish(op);
    }
}

void op_send(struct op *op, const char *operation, json_t *request, ddb_callback *then)
{
    struct buf body = BUF_INIT;
    if (request == NULL || json_write_value(&body, request) != 0)
        buf_clean_up(&body); /* data NULL: answered 500 */
    json_decref(request);
    op_send_text(op, operation, &body, then);
}

/* ---- request parsing ---- */

static int media_type_is(const char *content_type, const char *want)
{
    size_t len = strcspn(content_type, ";");
    while (len > 0 && (content_type[len - 1] == ' ' || content_type[len - 1] == '\t'))
        len--;
    while (*content_type == ' ' && len > 0)
        content_type++, len--;
    return strlen(want) == len && strncasecmp(content_type, want, len) == 0;
}

json_t *op_json_body(struct http_exchange *ex, int allow_merge_patch)
{
    const char *type = ex->req.header(&ex->req, "Content-Type");
    if (type == NULL || !(media_type_is(type, "application/json") ||
                          (allow_merge_patch && media_type_is(type, "application/merge-patch+json")))) {
        errors_respond(ex, ERR_UNSUPPORTED_MEDIA_TYPE,
                       allow_merge_patch ? "send application/json or application/merge-patch+json"
                                         : "send application/json",
                       NULL);
        return NULL;
    }
    const char *text = ex->req.body ? ex->req.body : "";
    json_t *body = jsonread_parse(text, ex->req.body_len, JSON_REJECT_DUPLICATES);
    if (body == NULL) { /* jansson says where and why; it accepts only a NUL that jsonread refuses */
        json_error_t error;
        json_t *again = json_loadb(text, ex->req.body_len, JSON_REJECT_DUPLICATES, &error);
        char message[256];
        snprintf(message, sizeof message, "malformed JSON: %s", again != NULL ? "NUL byte" : error.text);
        json_decref(again);
        errors_respond(ex, ERR_INVALID_JSON, message, NULL);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        errors_respond(ex, ERR_INVALID_JSON, "the body must be a JSON object", NULL);
        return NULL;
    }
    return body;
}

void op_respond_validation(struct http_exchange *ex, const struct field_errors *errs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < errs->n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "field", errs->items[i].field, "message",
                                              errs->items[i].message));
    errors_respond(ex, ERR_VALIDATION_FAILED, "the request has invalid members", list);
}

/* ---- ETags: "<version>" ---- */

int op_etag_matches(const char *header, long long version, int weak)
{
    const char *p = header;
    for (;;) {
        p += strspn(p, " \t,");
        if (*p == '\0')
            return 0;
        if (*p == '*')
            return 1;
        int is_weak = strncmp(p, "W/", 2) == 0;
        if (is_weak)
            p += 2;
        if (*p != '"')
            return 0;
        const char *end = strchr(p + 1, '"');
        if (end == NULL)
            return 0;
        char *num_end;
        errno = 0;
        long long v = p[1] >= '0' && p[1] <= '9' ? strtoll(p + 1, &num_end, 10) : -1;
        if ((weak || !is_weak) && v >= 0 && errno != ERANGE && num_end == end && v == version)
            return 1;
        p = end + 1;
    }
}

/* ---- DynamoDB failures ---- */

void op_respond_backend_error(struct http_exchange *ex, const struct ddb_result *r)
{
    /* The detail is the same for every request that met the same failure, so an outage's
     * lines collapse into one plus a "repeated N times" line (log.h). */
    char detail[512];
    ddb_result_describe(r, detail, sizeof detail);
    const char *id = ex->req.request_id;
    switch (r->status) {
    case DDB_THROTTLED:
        errors_respond(ex, ERR_THROTTLED, "DynamoDB is throttling requests; retry shortly", NULL);
        return;
    case DDB_UNAVAILABLE:
    case DDB_SHUTDOWN:
        log_request(LOG_WARN, id, "backend unavailable: %s", detail);
        errors_respond(ex, ERR_BACKEND_UNAVAILABLE, "the database is unavailable; retry shortly", NULL);
        return;
    case DDB_TIMEOUT:
        log_request(LOG_WARN, id, "backend timeout: %s", detail);
        errors_respond(ex, ERR_BACKEND_TIMEOUT, "the database did not answer in time", NULL);
        return;
    case DDB_BAD_RESPONSE:
        log_request(LOG_ERROR, id, "bad backend response: %s", detail);
        errors_respond(ex, ERR_BAD_GATEWAY, "the database sent a response that could not be read", NULL);
        return;
    case DDB_OK:
    case DDB_ERROR:
        break;
    }
    if (strcmp(r->error_code, "ValidationException") == 0 && strstr(r->message, "Item size") != NULL) {
        errors_respond(ex, ERR_ITEM_TOO_LARGE, "the user would exceed DynamoDB's 400 KB item size", NULL);
        return;
    }
    if (strcmp(r->error_code, "ResourceNotFoundException") == 0) {
        log_request(LOG_ERROR, id, "table missing: %s", detail);
        errors_respond(ex, ERR_BACKEND_UNAVAILABLE, "the users table is not available", NULL);
        return;
    }
    if (r->error_code[0] == '\0') { /* not DynamoDB speaking: a proxy's 403 page, an empty 400 */
        log_request(LOG_ERROR, id, "bad backend response: %s", detail);
        errors_respond(ex, ERR_BAD_GATEWAY, "the database sent a response that could not be read", NULL);
        return;
    }
    log_request(LOG_ERROR, id, "DynamoDB error: %s", detail);
    errors_respond(ex, ERR_INTERNAL, "internal error", NULL);
}
