#include "model.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrval.h"
#include "buf.h"
#include "jsontext.h"

#define GUARD_PREFIX "email#"
#define GUARD_OWNER "userId"

void expr_init(struct expr *e)
{
    e->names = json_object();
    e->values = json_object();
    e->n_names = 0;
    e->n_values = 0;
}

void expr_clean_up(struct expr *e)
{
    json_decref(e->names);
    json_decref(e->values);
    e->names = e->values = NULL;
}

/* Writes prefix and n (>= 0) in decimal into out (at least 24 bytes), without printf. */
static void decimal_text(const char *prefix, long long n, char *out)
{
    char digits[24], *d = digits + sizeof digits;
    unsigned long long v = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    *--d = '\0';
    do
        *--d = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    if (n < 0)
        *--d = '-';
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    memcpy(out + p, d, (size_t)(digits + sizeof digits - d));
}

const char *expr_name(struct expr *e, const char *name)
{
    const char *key;
    json_t *value;
    json_object_foreach(e->names, key, value) {
        if (strcmp(json_string_value(value), name) == 0)
            return key;
    }
    char placeholder[32];
    decimal_text("#n", e->n_names++, placeholder);
    if (json_object_set_new(e->names, placeholder, json_string(name)) != 0)
        return "#invalid";
    /* The stored key lives as long as the object: return it, not the stack copy. */
    json_object_foreach(e->names, key, value) {
        if (strcmp(key, placeholder) == 0)
            return key;
    }
    return "#invalid";
}

const char *expr_value(struct expr *e, json_t *av)
{
    char placeholder[32];
    decimal_text(":v", e->n_values++, placeholder);
    if (av == NULL || json_object_set_new(e->values, placeholder, av) != 0)
        return ":invalid";
    const char *key;
    json_t *value;
    json_object_foreach(e->values, key, value) {
        if (strcmp(key, placeholder) == 0)
            return key;
    }
    return ":invalid";
}

int expr_attach(struct expr *e, json_t *request)
{
    if (json_object_size(e->names) > 0 && json_object_set(request, "ExpressionAttributeNames", e->names) != 0)
        return -1;
    if (json_object_size(e->values) > 0 &&
        json_object_set(request, "ExpressionAttributeValues", e->values) != 0)
        return -1;
    return 0;
}

static json_t *string_av(const char *s)
{
    return json_pack("{s:s}", "S", s);
}

static json_t *number_av(long long n)
{
    char text[32];
    decimal_text("", n, text);
    return json_pack("{s:s}", "N", text);
}

static json_t *user_key(const char *id)
{
    return json_pack("{s:o}", "id", string_av(id));
}

json_t *model_guard_key(const char *email)
{
    struct buf id = BUF_INIT;
    buf_printf(&id, GUARD_PREFIX "%s", email);
    json_t *key = user_key(buf_cstr(&id));
    buf_clean_up(&id);
    return key;
}

int model_get_user_text(const struct model_table *t, const char *id, struct buf *out)
{
    if (buf_append_str(out, "{\"TableName\":") != 0 || json_write_string(out, t->table, strlen(t->table)) != 0 ||
        buf_append_str(out, ",\"Key\":{\"id\":{\"S\":") != 0 || json_write_string(out, id, strlen(id)) != 0)
        return -1;
    return buf_append_str(out, "}},\"ConsistentRead\":true}");
}

/* Builds one TransactWriteItems element {kind: {TableName, Key|Item, Condition..., names, values}}. */
static json_t *transact_item(const struct model_table *t, const char *kind, const char *key_field, json_t *key,
                             struct buf *condition, struct expr *e)
{
    json_t *op = json_pack("{s:s, s:o}", "TableName", t->table, key_field, key);
    if (condition != NULL && condition->len > 0)
        json_object_set_new(op, "ConditionExpression", json_string(buf_cstr(condition)));
    if (e != NULL)
        expr_attach(e, op);
    return json_pack("{s:o}", kind, op);
}

static json_t *guard_item(const char *email, const char *owner_id)
{
    json_t *item = model_guard_key(email);
    json_object_set_new(item, GUARD_OWNER, string_av(owner_id));
    return item;
}

/* Put of the guard for email owned by id, only when no guard exists. */
static json_t *put_guard(const struct model_table *t, const char *email, const char *id)
{
    struct expr e;
    struct buf cond = BUF_INIT;
    expr_init(&e);
    buf_printf(&cond, "attribute_not_exists(%s)", expr_name(&e, "id"));
    json_t *op = transact_item(t, "Put", "Item", guard_item(email, id), &cond, &e);
    buf_clean_up(&cond);
    expr_clean_up(&e);
    return op;
}

/* Delete of the guard for email when id owns it or it is missing (a user
 * written before guards existed still deletes cleanly). */
static json_t *delete_guard(const struct model_table *t, const char *email, const char *id)
{
    struct expr e;
    struct buf cond = BUF_INIT;
    expr_init(&e);
    const char *id_name = expr_name(&e, "id");
    const char *owner = expr_name(&e, GUARD_OWNER);
    buf_printf(&cond, "attribute_not_exists(%s) OR %s = %s", id_name, owner, expr_value(&e, string_av(id)));
    json_t *op = transact_item(t, "Delete", "Key", model_guard_key(email), &cond, &e);
    buf_clean_up(&cond);
    expr_clean_up(&e);
    return op;
}

json_t *model_create_user(const struct model_table *t, const json_t *item, const char *token)
{
    const char *id = json_string_value(json_object_get(json_object_get(item, "id"), "S"));
    const char *email = json_string_value(json_object_get(json_object_get(item, "email"), "S"));
    if (id == NULL || email == NULL)
        return NULL;
    struct expr e;
    struct buf cond = BUF_INIT;
    expr_init(&e);
    buf_printf(&cond, "attribute_not_exists(%s)", expr_name(&e, "id"));
    /* Shared, not copied (a deep copy cost ~15k instructions a POST): the request only reads it. */
    json_t *put_user = transact_item(t, "Put", "Item", json_incref((json_t *)item), &cond, &e);
    buf_clean_up(&cond);
    expr_clean_up(&e);
    return json_pack("{s:[o,o], s:s}", "TransactItems", put_user, put_guard(t, email, id), "ClientRequestToken",
                     token);
}

/* Writes the update and condition expressions for a patch into e. */
static void build_update(struct expr *e, const json_t *patch, const char *now, long long expected_version,
                         struct buf *update, struct buf *condition)
{
    struct buf remove = BUF_INIT;
    const char *key;
    json_t *value;
    /* buf_concat, not buf_printf: a vsnprintf per piece was a sixth of a PATCH's instructions. */
    buf_append_str(update, "SET ");
    json_object_foreach((json_t *)patch, key, value) {
        if (json_is_null(value)) {
            buf_concat(&remove, remove.len ? ", " : "", expr_name(e, key));
            continue;
        }
        const char *why;
        const char *name = expr_name(e, key);
        buf_concat(update, name, " = ", expr_value(e, av_from_json(value, &why)), ", ");
    }
    const char *updated = expr_name(e, "updatedAt");
    buf_concat(update, updated, " = ", expr_value(e, string_av(now)), ", ");
    const char *version = expr_name(e, "version");
    buf_concat(update, version, " = ", version, " + ", expr_value(e, number_av(1)));
    if (remove.len > 0)
        buf_concat(update, " REMOVE ", buf_cstr(&remove));
    buf_clean_up(&remove);

    buf_concat(condition, "attribute_exists(", expr_name(e, "id"), ")");
    if (expected_version >= 0)
        buf_concat(condition, " AND ", version, " = ", expr_value(e, number_av(expected_version)));
    else /* DynamoDB adds the 1 itself: keep the result an int64 the service can read back */
        buf_concat(condition, " AND ", version, " < ", expr_value(e, number_av(INT64_MAX)));
}

json_t *model_update_user(const struct model_table *t, const char *id, const json_t *patch, const char *now,
                          long long expected_version)
{
    if (expected_version == INT64_MAX)
        return NULL; /* version + 1 would leave int64 */
    struct expr e;
    struct buf update = BUF_INIT, cond = BUF_INIT;
    expr_init(&e);
    build_update(&e, patch, now, expected_version, &update, &cond);
    json_t *req = json_pack("{s:s, s:o, s:s, s:s, s:s}", "TableName", t->table, "Key", user_key(id),
                            "UpdateExpression", buf_cstr(&update), "ConditionExpression", buf_cstr(&cond),
                            "ReturnValues", "ALL_NEW");
    if (req != NULL && expr_attach(&e, req) != 0) {
        json_decref(req);
        req = NULL;
    }
    buf_clean_up(&update);
    buf_clean_up(&cond);
    expr_clean_up(&e);
    return req;
}

json_t *model_update_user_email(const struct model_table *t, const char *id, const json_t *patch,
                                const char *now, long long read_version, const char *old_email,
                                const char *new_email, const char *token)
{
    if (read_version < 0 || read_version == INT64_MAX)
        return NULL; /* no version to condition on, or version + 1 would leave int64 */
    struct expr e;
    struct buf update = BUF_INIT, cond = BUF_INIT;
    expr_init(&e);
    build_update(&e, patch, now, read_version, &update, &cond);
    json_t *op = json_pack("{s:s, s:o, s:s, s:s}", "TableName", t->table, "Key", user_key(id),
                           "UpdateExpression", buf_cstr(&update), "ConditionExpression", buf_cstr(&cond));
    expr_attach(&e, op);
    buf_clean_up(&update);
    buf_clean_up(&cond);
    expr_clean_up(&e);
    return json_pack("{s:[{s:o},o,o], s:s}", "TransactItems", "Update", op, delete_guard(t, old_email, id),
                     put_guard(t, new_email, id), "ClientRequestToken", token);
}

json_t *model_delete_user(const struct model_table *t, const char *id, long long version, const char *email,
                          const char *token)
{
    struct expr e;
    struct buf cond = BUF_INIT;
    expr_init(&e);
    buf_printf(&cond, "%s = %s", expr_name(&e, "version"), expr_value(&e, number_av(version)));
    json_t *del_user = transact_item(t, "Delete", "Key", user_key(id), &cond, &e);
    buf_clean_up(&cond);
    expr_clean_up(&e);
    return json_pack("{s:[o,o], s:s}", "TransactItems", del_user, delete_guard(t, email, id), "ClientRequestToken",
                     token);
}

json_t *model_query_email(const struct model_table *t, const char *email)
{
    struct expr e;
    struct buf cond = BUF_INIT;
    expr_init(&e);
    buf_printf(&cond, "%s = %s", expr_name(&e, "email"), expr_value(&e, string_av(email)));
    json_t *req = json_pack("{s:s, s:s, s:s}", "TableName", t->table, "IndexName", t->email_index,
                            "KeyConditionExpression", buf_cstr(&cond));
    expr_attach(&e, req);
    buf_clean_up(&cond);
    expr_clean_up(&e);
    return req;
}

json_t *model_scan_users(const struct model_table *t, int limit, const char *start_id)
{
    struct expr e;
    struct buf filter = BUF_INIT;
    expr_init(&e);
    buf_printf(&filter, "attribute_exists(%s)", expr_name(&e, "email"));
    json_t *req = json_pack("{s:s, s:i, s:s}", "TableName", t->table, "Limit", limit, "FilterExpression",
                            buf_cstr(&filter));
    if (start_id != NULL)
        json_object_set_new(req, "ExclusiveStartKey", user_key(start_id));
    expr_attach(&e, req);
    buf_clean_up(&filter);
    expr_clean_up(&e);
    return req;
}

json_t *model_describe_table(const struct model_table *t)
{
    return json_pack("{s:s}", "TableName", t->table);
}

json_t *model_create_table(const struct model_table *t)
{
    return json_pack("{s:s, s:[{s:s,s:s},{s:s,s:s}], s:[{s:s,s:s}], s:s, s:[{s:s, s:[{s:s,s:s}], s:{s:s}}]}",
                     "TableName", t->table,
                     "AttributeDefinitions", "AttributeName", "id", "AttributeType", "S", "AttributeName", "email",
                     "AttributeType", "S",
                     "KeySchema", "AttributeName", "id", "KeyType", "HASH",
                     "BillingMode", "PAY_PER_REQUEST",
                     "GlobalSecondaryIndexes", "IndexName", t->email_index, "KeySchema", "AttributeName", "email",
                     "KeyType", "HASH", "Projection", "ProjectionType", "ALL");
}

json_t *model_apply_patch(const json_t *item, const json_t *patch, const char *now)
{
    const char *text = json_string_value(json_object_get(json_object_get(item, "version"), "N"));
    char *end;
    errno = 0;
    long long version = text != NULL && *text >= '0' && *text <= '9' ? strtoll(text, &end, 10) : -1;
    if (version < 0 || *end != '\0' || errno == ERANGE || version == INT64_MAX)
        return NULL; /* no int64 version, or version + 1 would leave int64 */
    json_t *out = json_deep_copy(item);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)patch, key, value) {
        const char *why;
        if (json_is_null(value))
            json_object_del(out, key);
        else
            json_object_set_new(out, key, av_from_json(value, &why));
    }
    json_object_set_new(out, "updatedAt", string_av(now));
    json_object_set_new(out, "version", number_av(version + 1));
    return out;
}
