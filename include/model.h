/* model: builds the DynamoDB JSON requests for the users table. Pure
 * functions: every input (ids, times, versions) is a parameter and each
 * result is a new json_t the caller sends and decrefs. */
#ifndef USERSVC_MODEL_H
#define USERSVC_MODEL_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

struct model_table {
    const char *table;
    const char *email_index;
};

/* Expression builder: placeholders come from counters (#n0, :v0 ...), never
 * from attribute names, so reserved words and '-' in names are safe; the same
 * name reuses its placeholder. */
struct expr {
    json_t *names;  /* "#n0" -> "name"; owned */
    json_t *values; /* ":v0" -> AttributeValue; owned */
    int n_names;
    int n_values;
};

void expr_init(struct expr *e);
void expr_clean_up(struct expr *e);
/* Returns the placeholder for name ("#n3"), valid until expr_clean_up. */
const char *expr_name(struct expr *e, const char *name);
/* Stores av (stolen, even on failure) and returns its placeholder (":v2"),
 * valid until expr_clean_up. */
const char *expr_value(struct expr *e, json_t *av);
/* Adds ExpressionAttributeNames/Values to request, only when non-empty
 * (DynamoDB rejects empty maps). Returns 0 or -1. */
int expr_attach(struct expr *e, json_t *request);

/* The key of the guard item that reserves an email: {"id":{"S":"email#<email>"}}. */
json_t *model_guard_key(const char *email);

/* GetItem, strongly consistent, written straight as JSON text into out (what json_write_value
 * writes for the same request, without building it): {"TableName":..,"Key":{"id":{"S":id}},
 * "ConsistentRead":true}. Returns 0, or -1 when memory runs out. */
int model_get_user_text(const struct model_table *t, const char *id, struct buf *out);

/* Every TransactWriteItems carries token as its ClientRequestToken, so a
 * transport retry of the same request is idempotent in DynamoDB (a first
 * attempt that succeeded but whose answer was lost is not applied twice).
 * Callers use a new token for each deliberate new attempt. */

/* TransactWriteItems: put the user if its id is absent, put the email guard if absent.
 * item is borrowed; the request holds a reference to it (not a copy), so item must not change
 * while the request lives. */
json_t *model_create_user(const struct model_table *t, const json_t *item, const char *token);

/* UpdateItem for a normalised merge patch (members with values SET, nulls
 * REMOVEd), with updatedAt = now, version + 1, condition attribute_exists(id)
 * AND version = expected_version when expected_version >= 0, else AND version
 * < INT64_MAX (so the new version stays an int64), ReturnValues ALL_NEW.
 * NULL when expected_version is INT64_MAX: no version can follow it. */
json_t *model_update_user(const struct model_table *t, const char *id, const json_t *patch, const char *now,
                          long long expected_version);

/* TransactWriteItems for a patch that changes the email: the update above
 * (conditioned on read_version), delete the old guard when this user owns it
 * (or it is missing), put the new guard if absent. NULL when read_version is
 * negative or INT64_MAX. */
json_t *model_update_user_email(const struct model_table *t, const char *id, const json_t *patch,
                                const char *now, long long read_version, const char *old_email,
                                const char *new_email, const char *token);

/* TransactWriteItems: delete the user at version, delete its guard when owned or missing. */
json_t *model_delete_user(const struct model_table *t, const char *id, long long version, const char *email,
                          const char *token);

/* Query on the email index for one normalised email. */
json_t *model_query_email(const struct model_table *t, const char *email);

/* Scan for users (guard items filtered out), Limit items evaluated, starting
 * after start_id when not NULL. */
json_t *model_scan_users(const struct model_table *t, int limit, const char *start_id);

json_t *model_describe_table(const struct model_table *t);
/* CreateTable: id (S) key, PAY_PER_REQUEST, GSI on email (S) projecting ALL. */
json_t *model_create_table(const struct model_table *t);

/* Applies a normalised patch to a stored item the way model_update_user does,
 * for answering after a transaction (which returns no item). Returns a new
 * item, or NULL when the item's version is not an int64 below INT64_MAX. */
json_t *model_apply_patch(const json_t *item, const json_t *patch, const char *now);

#endif
