#include "users.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "app.h"
#include "attrval.h"
#include "cursor.h"
#include "log.h"
#include "model.h"
#include "user.h"

#define MAX_RESTARTS 3      /* read-modify-write rounds lost to concurrent writers */
#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_LIMIT 100
#define LIST_MAX_SCANS 16   /* DynamoDB calls per page before answering a short page */

/* One request's DynamoDB work in flight. Owned by the continuation chain;
 * freed by op_finish, which hands the exchange back to the server. */
struct op {
    const struct app *app;
    struct http_exchange *ex;
    char id[64];
    json_t *item;    /* create: the new item; patch/delete: the item as read */
    json_t *patch;   /* normalised merge patch */
    char *if_match;  /* the If-Match (If-None-Match for GET) header, or NULL */
    char now[25];    /* the updatedAt this write sets */
    char token[37];  /* ClientRequestToken of this round's transaction */
    int restarts;
    /* listing */
    int limit;
    int count;
    int scans;
    int single;      /* by-email route: one user or 404, not an array */
    struct buf page;
};

static struct op *op_new(const struct app *app, struct http_exchange *ex)
{
    struct op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        http_respond_error(ex, 503, "backend_unavailable", "out of memory", NULL);
        return NULL;
    }
    op->app = app;
    op->ex = ex;
    return op;
}

static void op_free(struct op *op)
{
    json_decref(op->item);
    json_decref(op->patch);
    free(op->if_match);
    buf_clean_up(&op->page);
    free(op);
}

/* Frees op and hands the answered exchange back; op and its exchange must not be touched after. */
static void op_finish(struct op *op)
{
    struct http_exchange *ex = op->ex;
    op_free(op);
    http_exchange_finish(ex);
}

static void op_fail(struct op *op, const struct ddb_result *r)
{
    app_respond_backend_error(op->ex, r);
    op_finish(op);
}

/* Sends request (stolen) and continues in then(op, result). */
static void op_send(struct op *op, const char *operation, json_t *request, ddb_callback *then)
{
    if (request == NULL) {
        json_decref(request);
        http_respond_error(op->ex, 500, "internal_error", "internal error", NULL);
        op_finish(op);
        return;
    }
    if (ddb_send(op->app->ddb, operation, request, &op->ex->calls, then, op) != 0) {
        http_respond_error(op->ex, 503, "backend_unavailable", "the service is shutting down", NULL);
        op->ex->resp.retry_after = 1;
        op_finish(op);
    }
}

/* Starts the first DynamoDB step from a handler: defer, then send. */
static void op_start(struct op *op, const char *operation, json_t *request, ddb_callback *then)
{
    http_exchange_defer(op->ex);
    op_send(op, operation, request, then);
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

/* Parses a JSON object body, answering 415/400 itself. Returns a new reference or NULL. */
static json_t *parse_body(struct http_exchange *ex, int allow_merge_patch)
{
    const char *type = ex->req.header(&ex->req, "Content-Type");
    if (type == NULL || !(media_type_is(type, "application/json") ||
                          (allow_merge_patch && media_type_is(type, "application/merge-patch+json")))) {
        http_respond_error(ex, 415, "unsupported_media_type",
                           allow_merge_patch ? "send application/json or application/merge-patch+json"
                                             : "send application/json",
                           NULL);
        return NULL;
    }
    json_error_t error;
    json_t *body = json_loadb(ex->req.body ? ex->req.body : "", ex->req.body_len, JSON_REJECT_DUPLICATES, &error);
    if (body == NULL) {
        char message[256];
        snprintf(message, sizeof message, "malformed JSON: %s", error.text);
        http_respond_error(ex, 400, "invalid_json", message, NULL);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        http_respond_error(ex, 400, "invalid_json", "the body must be a JSON object", NULL);
        return NULL;
    }
    return body;
}

static void respond_validation(struct http_exchange *ex, const struct field_errors *errs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < errs->n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "field", errs->items[i].field, "message",
                                              errs->items[i].message));
    http_respond_error(ex, 400, "validation_failed", "the request has invalid members", list);
}

/* ---- ETags: "<version>" ---- */

/* 1 when a list of entity tags ("1", W/"2", *) holds this version. Weak tags
 * match only with weak comparison (If-None-Match). */
static int etag_matches(const char *header, long long version, int weak)
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

/* Appends the user's JSON; -1 when the stored item cannot be rendered (a
 * malformed AttributeValue, e.g. what moto makes of an empty map key, or a
 * version that is not an int64), leaving out as it was. */
static int write_user(struct buf *out, const json_t *item)
{
    size_t mark = out->len;
    if (user_item_version(item) >= 0 && user_write_json(out, item) == 0)
        return 0;
    buf_truncate(out, mark);
    return -1;
}

/* Counts and logs a stored user the service cannot render: its id only
 * (never its contents), and the worker's running count. */
static void note_unreadable(struct op *op, const json_t *item, const char *what)
{
    unsigned long long n = 0;
    if (op->app->metrics_worker != NULL) {
        metrics_add(&op->app->metrics_worker->unreadable_users, 1);
        n = op->app->metrics_worker->unreadable_users;
    }
    const char *id = user_item_string(item, "id");
    log_request(LOG_ERROR, op->ex->req.request_id, "%s unreadable user %s (%llu on this worker)", what,
                id != NULL && user_is_uuid(id) ? id : "(id is not a UUID)", n);
}

/* The answer for a single stored user that cannot be rendered. */
static void respond_unreadable(struct op *op, const json_t *item)
{
    note_unreadable(op, item, "refused");
    http_respond_error(op->ex, 500, "internal_error", "the stored user cannot be read", NULL);
}

static void respond_user(struct op *op, int status, const json_t *item)
{
    struct buf body = BUF_INIT;
    long long version = user_item_version(item);
    if (write_user(&body, item) != 0) {
        buf_clean_up(&body);
        respond_unreadable(op, item);
        return;
    }
    http_respond(op->ex, status, buf_steal(&body));
    if (version >= 0) {
        struct buf etag = BUF_INIT;
        buf_printf(&etag, "\"%lld\"", version);
        op->ex->resp.etag = buf_steal(&etag);
    }
}

/* 1 when the i-th cancellation reason of a cancelled transaction is code
 * ("None", "ConditionalCheckFailed", "TransactionConflict", "ValidationError" ...).
 * Reads CancellationReasons, or else the list DynamoDB puts in the message:
 * "... reasons [None, ConditionalCheckFailed]". */
static int cancelled_by(const struct ddb_result *r, size_t index, const char *code)
{
    const json_t *reasons = json_object_get(r->body, "CancellationReasons");
    if (json_is_array(reasons)) {
        const char *c = json_string_value(json_object_get(json_array_get(reasons, index), "Code"));
        return c != NULL && strcmp(c, code) == 0;
    }
    const char *list = strrchr(r->message, '[');
    for (size_t i = 0; list != NULL && i < index; i++)
        list = strchr(list + 1, ',');
    if (list == NULL)
        return 0;
    list += strspn(list + 1, " ") + 1;
    return strncmp(list, code, strlen(code)) == 0;
}

static int cancelled_anywhere_by(const struct ddb_result *r, const char *code)
{
    for (size_t i = 0; i < 4; i++) /* our transactions have at most 3 items */
        if (cancelled_by(r, i, code))
            return 1;
    return 0;
}

static int is_cancelled(const struct ddb_result *r)
{
    return r->status == DDB_ERROR && strcmp(r->error_code, "TransactionCanceledException") == 0;
}

/* What a cancelled transaction means. guard is the index of the item that
 * puts a new email guard (its failed condition means the email is taken), or
 * -1 when there is none. */
enum cancel_kind { CANCEL_EMAIL_TAKEN, CANCEL_RACE, CANCEL_TOO_LARGE, CANCEL_THROTTLED, CANCEL_OTHER };

static enum cancel_kind cancel_kind(const struct ddb_result *r, int guard)
{
    if (guard >= 0 && cancelled_by(r, (size_t)guard, "ConditionalCheckFailed"))
        return CANCEL_EMAIL_TAKEN;
    if (cancelled_anywhere_by(r, "ValidationError"))
        return strstr(r->message, "size") != NULL ? CANCEL_TOO_LARGE : CANCEL_OTHER;
    if (cancelled_anywhere_by(r, "ThrottlingError") || cancelled_anywhere_by(r, "ProvisionedThroughputExceeded"))
        return CANCEL_THROTTLED;
    if (cancelled_anywhere_by(r, "ConditionalCheckFailed") || cancelled_anywhere_by(r, "TransactionConflict"))
        return CANCEL_RACE; /* the user changed, or another transaction held an item: worth another round */
    return CANCEL_OTHER;
}

/* Answers a cancelled transaction that another round cannot fix. */
static void respond_cancelled(struct op *op, const struct ddb_result *r, enum cancel_kind kind)
{
    if (kind == CANCEL_EMAIL_TAKEN) {
        app_count_conflict(op->app, METRICS_CONFLICT_EMAIL_TAKEN);
        http_respond_error(op->ex, 409, "email_taken", "a user with this email already exists", NULL);
    } else if (kind == CANCEL_TOO_LARGE) {
        http_respond_error(op->ex, 413, "item_too_large", "the user would exceed DynamoDB's 400 KB item size", NULL);
    } else if (kind == CANCEL_THROTTLED) {
        http_respond_error(op->ex, 503, "throttled", "DynamoDB is throttling requests; retry shortly", NULL);
        op->ex->resp.retry_after = 1;
    } else {
        log_request(LOG_ERROR, op->ex->req.request_id, "transaction cancelled: %s", r->message);
        http_respond_error(op->ex, 500, "internal_error", "internal error", NULL);
    }
    op_finish(op);
}

/* A fresh ClientRequestToken for the next deliberate transaction attempt. */
static void new_token(struct op *op)
{
    uuid_t uuid;
    uuid_generate_random(uuid);
    uuid_unparse_lower(uuid, op->token);
}

static int is_condition_failed(const struct ddb_result *r)
{
    return r->status == DDB_ERROR && strcmp(r->error_code, "ConditionalCheckFailedException") == 0;
}

static void respond_not_found(struct op *op)
{
    http_respond_error(op->ex, 404, "user_not_found", "user not found", NULL);
}

/* A valid id param copied into op->id, or 404 without calling DynamoDB. */
static int take_id(struct op *op, const struct route_params *params)
{
    const char *id = route_param(params, "id");
    if (id == NULL || !user_is_uuid(id)) {
        respond_not_found(op);
        return -1;
    }
    for (size_t i = 0; id[i] != '\0'; i++)
        op->id[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
    return 0;
}

/* ---- GET /users/{id} ---- */

static void get_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (r->status != DDB_OK)
        return op_fail(op, r);
    const json_t *item = json_object_get(r->body, "Item");
    if (item == NULL || !user_item_is_user(item)) {
        respond_not_found(op);
        return op_finish(op);
    }
    if (user_item_version(item) < 0) {
        respond_unreadable(op, item);
        return op_finish(op);
    }
    const char *inm = op->if_match; /* holds If-None-Match for GET */
    if (inm != NULL && etag_matches(inm, user_item_version(item), 1)) {
        http_respond(op->ex, 304, NULL);
        struct buf etag = BUF_INIT;
        buf_printf(&etag, "\"%lld\"", user_item_version(item));
        op->ex->resp.etag = buf_steal(&etag);
        return op_finish(op);
    }
    respond_user(op, 200, item);
    op_finish(op);
}

void users_get(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct op *op = op_new(app, ex);
    if (op == NULL)
        return;
    if (take_id(op, params) != 0)
        return op_free(op);
    const char *inm = ex->req.header(&ex->req, "If-None-Match");
    op->if_match = inm ? strdup(inm) : NULL;
    op_start(op, "GetItem", model_get_user(&app->table, op->id), get_done);
}

/* ---- POST /users ---- */

static void create_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (is_cancelled(r)) {
        enum cancel_kind kind = cancel_kind(r, 1);
        if (kind != CANCEL_RACE || op->restarts++ >= MAX_RESTARTS)
            return respond_cancelled(op, r, kind);
        app_count_conflict(op->app, METRICS_CONFLICT_RETRIED);
        new_token(op);
        return op_send(op, "TransactWriteItems", model_create_user(&op->app->table, op->item, op->token),
                       create_done);
    }
    if (r->status != DDB_OK)
        return op_fail(op, r);
    respond_user(op, 201, op->item);
    struct buf location = BUF_INIT;
    buf_printf(&location, "/users/%s", op->id);
    op->ex->resp.location = buf_steal(&location);
    op_finish(op);
}

void users_create(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    json_t *body = parse_body(ex, 0);
    if (body == NULL)
        return;
    struct op *op = op_new(app, ex);
    if (op == NULL) {
        json_decref(body);
        return;
    }
    uuid_t uuid;
    uuid_generate_random(uuid);
    uuid_unparse_lower(uuid, op->id);
    char now[25];
    app_now_rfc3339(now);
    struct field_errors errs = {0};
    if (user_check_text(ex->req.body, ex->req.body_len, &errs) == 0) /* what the tree hides, e.g. 1e-400 as 0 */
        op->item = user_item_from_create(body, op->id, now, &errs);
    json_decref(body);
    if (op->item == NULL) {
        respond_validation(ex, &errs);
        return op_free(op);
    }
    if (av_item_size(op->item) > USER_ITEM_MAX_BYTES) {
        http_respond_error(ex, 413, "item_too_large", "the user would exceed DynamoDB's 400 KB item size", NULL);
        return op_free(op);
    }
    new_token(op);
    op_start(op, "TransactWriteItems", model_create_user(&app->table, op->item, op->token), create_done);
}

/* ---- the read of PATCH and DELETE's read-modify-write ---- */

/* Reads the user (strongly consistent) and continues in then; a request that
 * keeps losing races to other writers gives up after MAX_RESTARTS reads. */
static void read_current(struct op *op, ddb_callback *then)
{
    if (op->restarts++ >= MAX_RESTARTS) {
        app_count_conflict(op->app, METRICS_CONFLICT_CONCURRENT_UPDATE);
        http_respond_error(op->ex, 409, "concurrent_update", "the user kept changing during the request; retry",
                           NULL);
        return op_finish(op);
    }
    if (op->restarts > 1) /* a write lost a race: this is another round */
        app_count_conflict(op->app, METRICS_CONFLICT_RETRIED);
    new_token(op); /* for the transaction this round may send */
    op_send(op, "GetItem", model_get_user(&op->app->table, op->id), then);
}

/* The user read_current found, when it exists and matches If-Match; otherwise
 * answers (backend error, 404 or 412), finishes op and returns NULL. The item
 * is borrowed from r. */
static const json_t *current_user(struct op *op, const struct ddb_result *r)
{
    if (r->status != DDB_OK) {
        op_fail(op, r);
        return NULL;
    }
    const json_t *item = json_object_get(r->body, "Item");
    if (item == NULL || !user_item_is_user(item)) {
        respond_not_found(op);
        op_finish(op);
        return NULL;
    }
    if (user_item_version(item) < 0) { /* nothing to condition the write on */
        respond_unreadable(op, item);
        op_finish(op);
        return NULL;
    }
    if (op->if_match != NULL && !etag_matches(op->if_match, user_item_version(item), 0)) {
        app_count_conflict(op->app, METRICS_CONFLICT_PRECONDITION_FAILED);
        http_respond_error(op->ex, 412, "precondition_failed", "the user has changed (ETag does not match)", NULL);
        op_finish(op);
        return NULL;
    }
    return item;
}

/* ---- PATCH /users/{id} ----
 * Without an email change or a version precondition, one conditional
 * UpdateItem. Otherwise read, check If-Match, and write conditioned on the
 * version read (a transaction when the email guard moves); a lost race reads again. */

static void patch_read_done(void *ctx, const struct ddb_result *r);

static void patch_update_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (is_condition_failed(r)) /* missing, at INT64_MAX, or moved under us: the read tells which */
        return read_current(op, patch_read_done);
    if (r->status != DDB_OK)
        return op_fail(op, r);
    respond_user(op, 200, json_object_get(r->body, "Attributes"));
    op_finish(op);
}

static void patch_email_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (is_cancelled(r)) {
        enum cancel_kind kind = cancel_kind(r, 2);
        if (kind != CANCEL_RACE)
            return respond_cancelled(op, r, kind);
        return read_current(op, patch_read_done); /* the user changed or a conflicting transaction ran */
    }
    if (r->status != DDB_OK)
        return op_fail(op, r);
    json_t *updated = model_apply_patch(op->item, op->patch, op->now);
    if (updated == NULL)
        http_respond_error(op->ex, 500, "internal_error", "internal error", NULL);
    else
        respond_user(op, 200, updated);
    json_decref(updated);
    op_finish(op);
}

static void patch_read_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    const json_t *item = current_user(op, r);
    if (item == NULL)
        return;
    long long version = user_item_version(item);
    json_decref(op->item);
    op->item = json_incref((json_t *)item);
    if (json_object_size(op->patch) == 0) {
        respond_user(op, 200, item);
        return op_finish(op);
    }
    if (version == INT64_MAX) {
        http_respond_error(op->ex, 409, "version_exhausted",
                           "the user's version is at its maximum and cannot change; it can still be read and deleted",
                           NULL);
        return op_finish(op);
    }
    app_now_rfc3339(op->now);
    json_t *after = model_apply_patch(item, op->patch, op->now);
    size_t size = av_item_size(after);
    json_decref(after);
    if (size > USER_ITEM_MAX_BYTES) {
        http_respond_error(op->ex, 413, "item_too_large", "the user would exceed DynamoDB's 400 KB item size", NULL);
        return op_finish(op);
    }
    const char *new_email = json_string_value(json_object_get(op->patch, "email"));
    const char *old_email = user_item_string(item, "email");
    if (new_email != NULL && strcmp(new_email, old_email) != 0)
        return op_send(op, "TransactWriteItems",
                       model_update_user_email(&op->app->table, op->id, op->patch, op->now, version, old_email,
                                               new_email, op->token),
                       patch_email_done);
    op_send(op, "UpdateItem", model_update_user(&op->app->table, op->id, op->patch, op->now, version),
            patch_update_done);
}

void users_patch(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct op *op = op_new(app, ex);
    if (op == NULL)
        return;
    if (take_id(op, params) != 0)
        return op_free(op);
    json_t *body = parse_body(ex, 1);
    if (body == NULL)
        return op_free(op);
    struct field_errors errs = {0};
    if (user_check_text(ex->req.body, ex->req.body_len, &errs) == 0)
        op->patch = user_patch_normalize(body, &errs);
    json_decref(body);
    if (op->patch == NULL) {
        respond_validation(ex, &errs);
        return op_free(op);
    }
    const char *if_match = ex->req.header(&ex->req, "If-Match");
    if (if_match != NULL && strcmp(if_match, "*") != 0)
        op->if_match = strdup(if_match);
    int read_first = op->if_match != NULL || json_object_size(op->patch) == 0 ||
                     json_object_get(op->patch, "email") != NULL;
    http_exchange_defer(ex);
    if (read_first)
        return read_current(op, patch_read_done);
    char now[25];
    app_now_rfc3339(now);
    op_send(op, "UpdateItem", model_update_user(&app->table, op->id, op->patch, now, -1), patch_update_done);
}

/* ---- DELETE /users/{id} ---- */

static void delete_read_done(void *ctx, const struct ddb_result *r);

static void delete_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (is_cancelled(r)) {
        enum cancel_kind kind = cancel_kind(r, -1);
        if (kind != CANCEL_RACE)
            return respond_cancelled(op, r, kind);
        return read_current(op, delete_read_done); /* changed since read: look again */
    }
    if (r->status != DDB_OK)
        return op_fail(op, r);
    http_respond(op->ex, 200, strdup("{\"message\":\"User deleted\"}"));
    op_finish(op);
}

static void delete_read_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    const json_t *item = current_user(op, r);
    if (item == NULL)
        return;
    op_send(op, "TransactWriteItems",
            model_delete_user(&op->app->table, op->id, user_item_version(item), user_item_string(item, "email"),
                              op->token),
            delete_done);
}

void users_delete(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct op *op = op_new(app, ex);
    if (op == NULL)
        return;
    if (take_id(op, params) != 0)
        return op_free(op);
    const char *if_match = ex->req.header(&ex->req, "If-Match");
    if (if_match != NULL && strcmp(if_match, "*") != 0)
        op->if_match = strdup(if_match);
    http_exchange_defer(ex);
    read_current(op, delete_read_done);
}

/* ---- lookups by email: GET /users?email=E and GET /users/by-email/{email} ---- */

static void by_email_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (r->status != DDB_OK)
        return op_fail(op, r);
    const json_t *found = NULL;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(r->body, "Items"), i, item) {
        if (user_item_is_user(item)) {
            found = item;
            break;
        }
    }
    if (op->single) {
        if (found == NULL)
            respond_not_found(op);
        else
            respond_user(op, 200, found);
        return op_finish(op);
    }
    struct buf body = BUF_INIT;
    buf_append_char(&body, '[');
    if (found != NULL && write_user(&body, found) != 0)
        note_unreadable(op, found, "skipped");
    buf_append_char(&body, ']');
    http_respond(op->ex, 200, buf_steal(&body));
    op_finish(op);
}

static void start_email_lookup(const struct app *app, struct http_exchange *ex, const char *email, int single)
{
    char normal[USER_EMAIL_MAX + 1];
    if (user_normalize_email(email, strlen(email), normal) != 0) {
        if (single)
            http_respond_error(ex, 404, "user_not_found", "user not found", NULL);
        else
            http_respond_error(ex, 400, "invalid_query", "email is not a valid address", NULL);
        return;
    }
    struct op *op = op_new(app, ex);
    if (op == NULL)
        return;
    op->single = single;
    op_start(op, "Query", model_query_email(&app->table, normal), by_email_done);
}

void users_by_email(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    start_email_lookup(app, ex, route_param(params, "email"), 1);
}

/* ---- GET /users?limit=N&cursor=C ----
 * Scans until the page is full or the table ends. Scan's Limit counts items
 * before the filter drops guard items, so a page can take several calls;
 * when a call returns more users than fit, the cursor names the last one kept. */

static void list_scan(struct op *op, const char *start_id);

static void list_respond(struct op *op, const char *next_id)
{
    buf_append_char(&op->page, ']');
    http_respond(op->ex, 200, buf_steal(&op->page));
    if (next_id != NULL) {
        char *cursor = cursor_encode(op->app->cfg->cursor_key, next_id);
        struct buf link = BUF_INIT;
        if (cursor != NULL && buf_printf(&link, "</users?limit=%d&cursor=%s>; rel=\"next\"", op->limit, cursor) == 0)
            op->ex->resp.link = buf_steal(&link);
        buf_clean_up(&link);
        free(cursor);
    }
    op_finish(op);
}

static void list_done(void *ctx, const struct ddb_result *r)
{
    struct op *op = ctx;
    if (r->status != DDB_OK)
        return op_fail(op, r);
    op->scans++;
    const char *last_kept = NULL;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(r->body, "Items"), i, item) {
        if (!user_item_is_user(item))
            continue;
        if (op->count == op->limit) /* full, with more in this response: continue after the last kept */
            return list_respond(op, last_kept);
        size_t mark = op->page.len;
        if ((op->count > 0 && buf_append_char(&op->page, ',') != 0) || write_user(&op->page, item) != 0) {
            buf_truncate(&op->page, mark);
            note_unreadable(op, item, "skipped"); /* one bad item must not hide every other user */
            continue;
        }
        op->count++;
        last_kept = user_item_string(item, "id");
    }
    const char *next = user_item_string(json_object_get(r->body, "LastEvaluatedKey"), "id");
    if (next == NULL)
        return list_respond(op, NULL);
    if (op->count == op->limit || op->scans >= LIST_MAX_SCANS)
        return list_respond(op, next);
    list_scan(op, next);
}

static void list_scan(struct op *op, const char *start_id)
{
    /* Each user has a guard item beside it, so ask for twice what is missing. */
    int want = 2 * (op->limit - op->count) + 1;
    op_send(op, "Scan", model_scan_users(&op->app->table, want, start_id), list_done);
}

void users_list(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    int malformed = 0;
    char *email = http_query_param(ex->req.query, "email", &malformed);
    if (email != NULL || malformed) {
        if (malformed)
            http_respond_error(ex, 400, "invalid_query", "email is not validly percent-encoded", NULL);
        else
            start_email_lookup(app, ex, email, 0);
        free(email);
        return;
    }
    int limit = LIST_DEFAULT_LIMIT;
    char *limit_text = http_query_param(ex->req.query, "limit", &malformed);
    if (limit_text != NULL || malformed) {
        char *end = NULL;
        long v = limit_text ? strtol(limit_text, &end, 10) : 0;
        int ok = limit_text != NULL && end != limit_text && *end == '\0' && v >= 1 && v <= LIST_MAX_LIMIT;
        free(limit_text);
        if (!ok) {
            http_respond_error(ex, 400, "invalid_query", "limit must be an integer from 1 to 100", NULL);
            return;
        }
        limit = (int)v;
    }
    char *start_id = NULL;
    char *cursor = http_query_param(ex->req.query, "cursor", &malformed);
    if (cursor != NULL || malformed) {
        start_id = cursor ? cursor_decode(app->cfg->cursor_key, cursor) : NULL;
        free(cursor);
        if (start_id == NULL) {
            http_respond_error(ex, 400, "invalid_cursor", "cursor is malformed or was altered", NULL);
            return;
        }
    }
    struct op *op = op_new(app, ex);
    if (op == NULL) {
        free(start_id);
        return;
    }
    op->limit = limit;
    buf_append_char(&op->page, '[');
    http_exchange_defer(ex);
    list_scan(op, start_id);
    free(start_id);
}
