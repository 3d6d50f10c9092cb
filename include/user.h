/* user: what a user is. Validation of client bodies, email normalisation,
 * the stored item built from a create body, and the JSON written back.
 * Pure: no I/O, no clock (times are passed in). */
#ifndef USERSVC_USER_H
#define USERSVC_USER_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

#define USER_EMAIL_MAX 254
#define USER_NAME_MAX 256
#define USER_MEMBER_NAME_MAX 64
#define USER_MAX_FIELD_ERRORS 16
#define USER_ITEM_MAX_BYTES (400 * 1024) /* DynamoDB's item size limit */
#define USER_PATCH_MAX_MEMBERS 100 /* keeps an UpdateExpression well under DynamoDB's 4 KB */

struct field_error {
    char field[2 * USER_MEMBER_NAME_MAX]; /* a member name, or a path below one */
    char message[160];
};

/* Validation errors, first ones kept; the HTTP error body lists them. */
struct field_errors {
    size_t n;
    struct field_error items[USER_MAX_FIELD_ERRORS];
};

/* 1 when s is a canonical UUID text (8-4-4-4-12 hex digits, any case). */
int user_is_uuid(const char *s);

/* Trims and lowercases an email into out and checks it is a plausible
 * address of at most 254 bytes. Returns 0, or -1 when it is not. */
int user_normalize_email(const char *in, size_t len, char out[USER_EMAIL_MAX + 1]);

/* 1 for a valid member name: 1-64 letters, digits, '_' or '-', starting with a letter. */
int user_member_name_ok(const char *name, size_t len);

/* 1 for the members only the server writes: id, createdAt, updatedAt, version. */
int user_member_is_managed(const char *name);

/* Checks a create or patch body's JSON text (len bytes, already parsed) with
 * av_check_text, adding one error per refused place, named by its path
 * ("meta/x/0"). Returns 0, or -1 when it added errors. */
int user_check_text(const char *text, size_t len, struct field_errors *errs);

/* Builds the stored item (a map of name -> AttributeValue) for a create body:
 * name trimmed, email normalised, null members dropped, id/createdAt/
 * updatedAt/version set from the arguments. Returns a new reference, or NULL
 * with errs filled (at least one entry) when the body is invalid. */
json_t *user_item_from_create(const json_t *body, const char *id, const char *now,
                              struct field_errors *errs);

/* Validates a JSON merge patch and returns a new reference to a normalised
 * copy (name trimmed, email normalised; null members kept to mean REMOVE), or
 * NULL with errs filled. */
json_t *user_patch_normalize(const json_t *patch, struct field_errors *errs);

/* Appends the user's JSON (id, name, email, the client's members, createdAt,
 * updatedAt, version) from a stored item. Returns 0, or -1 for a malformed item. */
int user_write_json(struct buf *out, const json_t *item);

/* The item's version (N, an int64 of 0 or more), or -1 when it has none or it
 * is anything else (not an integer, beyond int64). */
long long user_item_version(const json_t *item);

/* The item's string attribute (S) or NULL. Borrowed from item. */
const char *user_item_string(const json_t *item, const char *name);

/* 1 for an item that is a user rather than an internal guard item. */
int user_item_is_user(const json_t *item);

#endif
