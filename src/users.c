#include "users.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrval.h"
#include "cursor.h"
#include "errors.h"
#include "log.h"
#include "model.h"
#include "op.h"
#include "user.h"

#define MAX_RESTARTS 3      /* read-modify-write rounds lost to concurrent writers */
#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_LIMIT 100
#define LIST_MAX_SCANS 16   /* DynamoDB calls per page before answering a short page */

/* One request's DynamoDB work in flight: the op base (op.h) and what the
 * /users handlers keep between steps. Freed by op_finish. */
struct users_op {
    struct op base;
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

static void users_op_clean_up(struct op *base)
{
    struct users_op *op = (struct users_op *)base;
    json_decref(op->item);
    json_decref(op->patch);
    free(op->if_match);
    buf_clean_up(&op->page);
}

static struct users_op *users_op_new(const struct app *app, struct http_exchange *ex)
{
    return op_new(sizeof(struct users_op), app, ex, users_op_clean_up);
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
static void note_unreadable(struct users_op *op, const json_t *item, const char *what)
{
    unsigned long long n = 0;
    if (op->base.app->metrics_worker != NULL) {
        metrics_add(&op->base.app->metrics_worker->unreadable_users, 1);
        n = op->base.app->metrics_worker->unreadable_users;
    }
    const char *id = user_item_string(item, "id");
    log_request(LOG_ERROR, op->base.ex->req.request_id, "%s unreadable user %s (%llu on this worker)", what,
                id != NULL && user_is_uuid(id) ? id : "(id is not a UUID)", n);
}

/* The answer for a single stored user that cannot be rendered. */
static void respond_unreadable(struct users_op *op, const json_t *item)
{
    note_unreadable(op, item, "refused");
    errors_respond(op->base.ex, ERR_INTERNAL, "the stored user cannot be read", NULL);
}

/* Adds ETag: "<version>" (version >= 0), formatted by hand: printf costs more than the rest of it. */
static void add_etag(struct users_op *op, long long version)
{
    char tag[24], *p = tag + sizeof tag;
    unsigned long long v = (unsigned long long)version;
    *--p = '\0';
    *--p = '"';
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    *--p = '"';
    http_response_add_header(&op->base.ex->resp, "ETag", p);
}

static void respond_user(struct users_op *op, int status, const json_t *item)
{
    struct buf body = BUF_INIT;
    long long version = user_item_version(item);
    if (version < 0 || user_write_json(&body, item) != 0) { /* write_user's test, the version read once */
        buf_clean_up(&body);
        respond_unreadable(op, item);
        return;
    }
    http_respond(op->base.ex, status, buf_steal(&body));
    add_etag(op, version);
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
static void respond_cancelled(struct users_op *op, const struct ddb_result *r, enum cancel_kind kind)
{
    if (kind == CANCEL_EMAIL_TAKEN) {
        op_count_conflict(op->base.app, METRICS_CONFLICT_EMAIL_TAKEN);
        errors_respond(op->base.ex, ERR_EMAIL_TAKEN, "a user with this email already exists", NULL);
    } else if (kind == CANCEL_TOO_LARGE) {
        errors_respond(op->base.ex, ERR_ITEM_TOO_LARGE, "the user would exceed DynamoDB's 400 KB item size", NULL);
    } else if (kind == CANCEL_THROTTLED) {
        errors_respond(op->base.ex, ERR_THROTTLED, "DynamoDB is throttling requests; retry shortly", NULL);
    } else {
        log_request(LOG_ERROR, op->base.ex->req.request_id, "transaction cancelled: %s", r->message);
        errors_respond(op->base.ex, ERR_INTERNAL, "internal error", NULL);
    }
    op_finish(&op->base);
}

/* A fresh ClientRequestToken for the next deliberate transaction attempt. */
static void new_token(struct users_op *op)
{
    op->base.app->new_id(op->base.app->id_ctx, op->token);
}

static int is_condition_failed(const struct ddb_result *r)
{
    return r->status == DDB_ERROR && strcmp(r->error_code, "ConditionalCheckFailedException") == 0;
}

static void respond_not_found(struct users_op *op)
{
    errors_respond(op->base.ex, ERR_USER_NOT_FOUND, "user not found", NULL);
}

/* A valid id param copied into op->id, or 404 without calling DynamoDB. */
static int take_id(struct users_op *op, const struct route_params *params)
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

/* Copies the precondition header name (If-Match, or If-None-Match for GET)
 * into op->if_match; an If-Match of "*" is no condition (the user must exist
 * anyway). -1 after answering 500 when the copy fails: a write must never
 * run without the precondition its client sent. */
static int take_precondition(struct users_op *op, const char *name)
{
    const char *value = op->base.ex->req.header(&op->base.ex->req, name);
    if (value == NULL || (strcmp(name, "If-Match") == 0 && strcmp(value, "*") == 0))
        return 0;
    op->if_match = strdup(value);
    if (op->if_match == NULL) {
        errors_respond(op->base.ex, ERR_INTERNAL, "out of memory", NULL);
        return -1;
    }
    return 0;
}

/* ---- GET /users/{id} ---- */

static void get_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return;
    }
    const json_t *item = json_object_get(r->body, "Item");
    if (item == NULL || !user_item_is_user(item)) {
        respond_not_found(op);
        op_finish(&op->base);
        return;
    }
    long long version = user_item_version(item);
    if (version < 0) {
        respond_unreadable(op, item);
        op_finish(&op->base);
        return;
    }
    const char *inm = op->if_match; /* holds If-None-Match for GET */
    if (inm != NULL && op_etag_matches(inm, version, 1)) {
        respond_user(op, 304, item); /* the 200's body: its length is the 304's Content-Length (http.h) */
        op_finish(&op->base);
        return;
    }
    respond_user(op, 200, item);
    op_finish(&op->base);
}

void users_get(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct users_op *op = users_op_new(app, ex);
    if (op == NULL)
        return;
    if (take_id(op, params) != 0) {
        op_finish(&op->base);
        return;
    }
    if (take_precondition(op, "If-None-Match") != 0) {
        op_finish(&op->base);
        return;
    }
    struct buf request = BUF_INIT;
    if (model_get_user_text(&app->table, op->id, &request) != 0)
        buf_clean_up(&request);
    op_send_text(&op->base, "GetItem", &request, get_done);
}

/* ---- POST /users ---- */

static void create_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    if (is_cancelled(r)) {
        enum cancel_kind kind = cancel_kind(r, 1);
        if (kind != CANCEL_RACE || op->restarts++ >= MAX_RESTARTS) {
            respond_cancelled(op, r, kind);
            return;
        }
        op_count_conflict(op->base.app, METRICS_CONFLICT_RETRIED);
        new_token(op);
        op_send(&op->base, "TransactWriteItems", model_create_user(&op->base.app->table, op->item, op->token),
                create_done);
        return;
    }
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return;
    }
    respond_user(op, 201, op->item);
    http_response_add_headerf(&op->base.ex->resp, "Location", "/users/%s", op->id);
    op_finish(&op->base);
}

void users_create(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    json_t *body = op_json_body(ex, 0);
    if (body == NULL)
        return;
    struct users_op *op = users_op_new(app, ex);
    if (op == NULL) {
        json_decref(body);
        return;
    }
    app->new_id(app->id_ctx, op->id);
    char now[25];
    op_now_rfc3339(app, now);
    struct field_errors errs = {0};
    if (user_check_text(ex->req.body, ex->req.body_len, &errs) == 0) /* what the tree hides, e.g. 1e-400 as 0 */
        op->item = user_item_from_create(body, op->id, now, &errs);
    json_decref(body);
    if (op->item == NULL) {
        op_respond_validation(ex, &errs);
        op_finish(&op->base);
        return;
    }
    if (av_item_size(op->item) > USER_ITEM_MAX_BYTES) {
        errors_respond(ex, ERR_ITEM_TOO_LARGE, "the user would exceed DynamoDB's 400 KB item size", NULL);
        op_finish(&op->base);
        return;
    }
    new_token(op);
    op_send(&op->base, "TransactWriteItems", model_create_user(&app->table, op->item, op->token), create_done);
}

/* ---- the read of PATCH and DELETE's read-modify-write ---- */

/* Reads the user (strongly consistent) and continues in then; a request that
 * keeps losing races to other writers gives up after MAX_RESTARTS reads. */
static void read_current(struct users_op *op, ddb_callback *then)
{
    if (op->restarts++ >= MAX_RESTARTS) {
        op_count_conflict(op->base.app, METRICS_CONFLICT_CONCURRENT_UPDATE);
        errors_respond(op->base.ex, ERR_CONCURRENT_UPDATE, "the user kept changing during the request; retry",
                       NULL);
        op_finish(&op->base);
        return;
    }
    if (op->restarts > 1) /* a write lost a race: this is another round */
        op_count_conflict(op->base.app, METRICS_CONFLICT_RETRIED);
    new_token(op); /* for the transaction this round may send */
    struct buf request = BUF_INIT;
    if (model_get_user_text(&op->base.app->table, op->id, &request) != 0)
        buf_clean_up(&request);
    op_send_text(&op->base, "GetItem", &request, then);
}

/* The user read_current found, when it exists and matches If-Match; otherwise
 * answers (backend error, 404 or 412), finishes op and returns NULL. The item
 * is borrowed from r. */
static const json_t *current_user(struct users_op *op, const struct ddb_result *r)
{
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return NULL;
    }
    const json_t *item = json_object_get(r->body, "Item");
    if (item == NULL || !user_item_is_user(item)) {
        respond_not_found(op);
        op_finish(&op->base);
        return NULL;
    }
    if (user_item_version(item) < 0) { /* nothing to condition the write on */
        respond_unreadable(op, item);
        op_finish(&op->base);
        return NULL;
    }
    if (op->if_match != NULL && !op_etag_matches(op->if_match, user_item_version(item), 0)) {
        op_count_conflict(op->base.app, METRICS_CONFLICT_PRECONDITION_FAILED);
        errors_respond(op->base.ex, ERR_PRECONDITION_FAILED, "the user has changed (ETag does not match)", NULL);
        op_finish(&op->base);
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
    struct users_op *op = ctx;
    if (is_condition_failed(r)) { /* missing, at INT64_MAX, or moved under us: the read tells which */
        read_current(op, patch_read_done);
        return;
    }
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return;
    }
    respond_user(op, 200, json_object_get(r->body, "Attributes"));
    op_finish(&op->base);
}

static void patch_email_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    if (is_cancelled(r)) {
        enum cancel_kind kind = cancel_kind(r, 2);
        if (kind != CANCEL_RACE) {
            respond_cancelled(op, r, kind);
            return;
        }
        read_current(op, patch_read_done); /* the user changed or a conflicting transaction ran */
        return;
    }
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return;
    }
    json_t *updated = model_apply_patch(op->item, op->patch, op->now);
    if (updated == NULL)
        errors_respond(op->base.ex, ERR_INTERNAL, "internal error", NULL);
    else
        respond_user(op, 200, updated);
    json_decref(updated);
    op_finish(&op->base);
}

static void patch_read_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    const json_t *item = current_user(op, r);
    if (item == NULL)
        return;
    long long version = user_item_version(item);
    json_decref(op->item);
    op->item = json_incref((json_t *)item);
    if (json_object_size(op->patch) == 0) {
        respond_user(op, 200, item);
        op_finish(&op->base);
        return;
    }
    if (version == INT64_MAX) {
        errors_respond(op->base.ex, ERR_VERSION_EXHAUSTED,
                       "the user's version is at its maximum and cannot change; it can still be read and deleted",
                       NULL);
        op_finish(&op->base);
        return;
    }
    op_now_rfc3339(op->base.app, op->now);
    json_t *after = model_apply_patch(item, op->patch, op->now);
    size_t size = av_item_size(after);
    json_decref(after);
    if (size > USER_ITEM_MAX_BYTES) {
        errors_respond(op->base.ex, ERR_ITEM_TOO_LARGE, "the user would exceed DynamoDB's 400 KB item size", NULL);
        op_finish(&op->base);
        return;
    }
    const char *new_email = json_string_value(json_object_get(op->patch, "email"));
    const char *old_email = user_item_string(item, "email");
    if (new_email != NULL && strcmp(new_email, old_email) != 0) {
        op_send(&op->base, "TransactWriteItems",
                model_update_user_email(&op->base.app->table, op->id, op->patch, op->now, version, old_email,
                                        new_email, op->token),
                patch_email_done);
        return;
    }
    op_send(&op->base, "UpdateItem", model_update_user(&op->base.app->table, op->id, op->patch, op->now, version),
            patch_update_done);
}

void users_patch(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct users_op *op = users_op_new(app, ex);
    if (op == NULL)
        return;
    if (take_id(op, params) != 0) {
        op_finish(&op->base);
        return;
    }
    json_t *body = op_json_body(ex, 1);
    if (body == NULL) {
        op_finish(&op->base);
        return;
    }
    struct field_errors errs = {0};
    if (user_check_text(ex->req.body, ex->req.body_len, &errs) == 0)
        op->patch = user_patch_normalize(body, &errs);
    json_decref(body);
    if (op->patch == NULL) {
        op_respond_validation(ex, &errs);
        op_finish(&op->base);
        return;
    }
    if (take_precondition(op, "If-Match") != 0) {
        op_finish(&op->base);
        return;
    }
    int read_first = op->if_match != NULL || json_object_size(op->patch) == 0 ||
                     json_object_get(op->patch, "email") != NULL;
    if (read_first) {
        read_current(op, patch_read_done);
        return;
    }
    char now[25];
    op_now_rfc3339(app, now);
    op_send(&op->base, "UpdateItem", model_update_user(&app->table, op->id, op->patch, now, -1), patch_update_done);
}

/* ---- DELETE /users/{id} ---- */

static void delete_read_done(void *ctx, const struct ddb_result *r);

static void delete_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    if (is_cancelled(r)) {
        enum cancel_kind kind = cancel_kind(r, -1);
        if (kind != CANCEL_RACE) {
            respond_cancelled(op, r, kind);
            return;
        }
        read_current(op, delete_read_done); /* changed since read: look again */
        return;
    }
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return;
    }
    http_respond(op->base.ex, 200, strdup("{\"message\":\"User deleted\"}"));
    op_finish(&op->base);
}

static void delete_read_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    const json_t *item = current_user(op, r);
    if (item == NULL)
        return;
    op_send(&op->base, "TransactWriteItems",
            model_delete_user(&op->base.app->table, op->id, user_item_version(item), user_item_string(item, "email"),
                              op->token),
            delete_done);
}

void users_delete(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    struct users_op *op = users_op_new(app, ex);
    if (op == NULL)
        return;
    if (take_id(op, params) != 0) {
        op_finish(&op->base);
        return;
    }
    if (take_precondition(op, "If-Match") != 0) {
        op_finish(&op->base);
        return;
    }
    read_current(op, delete_read_done);
}

/* ---- lookups by email: GET /users?email=E and GET /users/by-email/{email} ---- */

static void by_email_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return;
    }
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
        op_finish(&op->base);
        return;
    }
    struct buf body = BUF_INIT;
    buf_append_char(&body, '[');
    if (found != NULL && write_user(&body, found) != 0)
        note_unreadable(op, found, "skipped");
    buf_append_char(&body, ']');
    http_respond(op->base.ex, 200, buf_steal(&body));
    op_finish(&op->base);
}

static void start_email_lookup(const struct app *app, struct http_exchange *ex, const char *email, int single)
{
    char normal[USER_EMAIL_MAX + 1];
    if (user_normalize_email(email, strlen(email), normal) != 0) {
        if (single)
            errors_respond(ex, ERR_USER_NOT_FOUND, "user not found", NULL);
        else
            errors_respond(ex, ERR_INVALID_QUERY, "email is not a valid address", NULL);
        return;
    }
    struct users_op *op = users_op_new(app, ex);
    if (op == NULL)
        return;
    op->single = single;
    op_send(&op->base, "Query", model_query_email(&app->table, normal), by_email_done);
}

void users_by_email(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    start_email_lookup(app, ex, route_param(params, "email"), 1);
}

/* ---- GET /users?limit=N&cursor=C ----
 * Scans until the page is full or the table ends. Scan's Limit counts items
 * before the filter drops guard items, so a page can take several calls;
 * when a call returns more users than fit, the cursor names the last one kept. */

static void list_scan(struct users_op *op, const char *start_id);

static void list_respond(struct users_op *op, const char *next_id)
{
    buf_append_char(&op->page, ']');
    http_respond(op->base.ex, 200, buf_steal(&op->page));
    if (next_id != NULL) {
        char *cursor = cursor_encode(op->base.app->cfg->cursor_key, next_id);
        if (cursor != NULL)
            http_response_add_headerf(&op->base.ex->resp, "Link", "</users?limit=%d&cursor=%s>; rel=\"next\"",
                                      op->limit, cursor);
        free(cursor);
    }
    op_finish(&op->base);
}

static void list_done(void *ctx, const struct ddb_result *r)
{
    struct users_op *op = ctx;
    if (r->status != DDB_OK) {
        op_fail(&op->base, r);
        return;
    }
    op->scans++;
    const char *last_kept = NULL;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(r->body, "Items"), i, item) {
        if (!user_item_is_user(item))
            continue;
        if (op->count == op->limit) { /* full, with more in this response: continue after the last kept */
            list_respond(op, last_kept);
            return;
        }
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
    if (next == NULL) {
        list_respond(op, NULL);
        return;
    }
    if (op->count == op->limit || op->scans >= LIST_MAX_SCANS) {
        list_respond(op, next);
        return;
    }
    list_scan(op, next);
}

static void list_scan(struct users_op *op, const char *start_id)
{
    /* Each user has a guard item beside it, so ask for twice what is missing. */
    int want = 2 * (op->limit - op->count) + 1;
    op_send(&op->base, "Scan", model_scan_users(&op->base.app->table, want, start_id), list_done);
}

void users_list(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    int malformed = 0;
    char *email = http_query_param(ex->req.query, "email", &malformed);
    if (email != NULL || malformed) {
        if (malformed)
            errors_respond(ex, ERR_INVALID_QUERY, "email is not validly percent-encoded", NULL);
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
            errors_respond(ex, ERR_INVALID_QUERY, "limit must be an integer from 1 to 100", NULL);
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
            errors_respond(ex, ERR_INVALID_CURSOR, "cursor is malformed or was altered", NULL);
            return;
        }
    }
    struct users_op *op = users_op_new(app, ex);
    if (op == NULL) {
        free(start_id);
        return;
    }
    op->limit = limit;
    buf_append_char(&op->page, '[');
    list_scan(op, start_id);
    free(start_id);
}
