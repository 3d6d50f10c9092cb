/* attrval: JSON <-> DynamoDB AttributeValue. Pure functions over jansson
 * values. Numbers keep their exact value: integers as written, doubles in their
 * shortest round-trip form, and numbers read back are written out verbatim. */
#ifndef USERSVC_ATTRVAL_H
#define USERSVC_ATTRVAL_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

#define AV_MAX_DEPTH 32     /* DynamoDB's nesting limit for documents */
#define AV_NUMBER_TEXT 40   /* enough for any int64 or shortest double text */

/* Writes the DynamoDB N text of a JSON number into out. Returns 0, or -1 when
 * it is outside DynamoDB's range (magnitude 1e-130 to below 1e126) or not a number. */
int av_number_text(const json_t *number, char out[AV_NUMBER_TEXT]);

/* Checks the text of one JSON number (len bytes) as a client sent it: 0 when
 * DynamoDB holds it (zero, or at most 38 significant digits with a magnitude
 * from 1e-130 to below 1e126) and the service keeps it exactly (an int64, or a
 * real whose double reads back as the same decimal); -1 with a short reason in
 * why (a static string) otherwise, e.g. 1e-400, which a double reads as 0. */
int av_number_check(const char *text, size_t len, const char **why);

/* Called for each place av_check_text refuses: path is a JSON Pointer without
 * its leading '/' ("meta/x/0"; keys as written in the text), borrowed for the call. */
typedef void av_text_error(void *ctx, const char *path, const char *why);

/* Walks a client's JSON text (len bytes, already parsed by jansson, so valid)
 * for what the parsed tree hides or DynamoDB cannot store as sent: each
 * number that fails av_number_check, and each object below the top level that
 * has an empty key (reported at the object's path). Returns how many places
 * were reported through bad(ctx, ...). */
size_t av_check_text(const char *text, size_t len, av_text_error *bad, void *ctx);

/* Converts a client JSON value into a new AttributeValue ({"S":..}, {"N":..},
 * {"BOOL":..}, {"NULL":true}, {"L":[..]}, {"M":{..}}). Returns a new
 * reference (caller decrefs), or NULL with a short reason in why (a static
 * string) for a number out of range, an object with an empty key (DynamoDB
 * stores no empty map keys; moto mangles them) or nesting deeper than AV_MAX_DEPTH. */
json_t *av_from_json(const json_t *value, const char **why);

/* Appends the plain JSON form of an AttributeValue read from DynamoDB: sets
 * become arrays, B/BS stay base64 strings, N is written verbatim when it is a
 * valid JSON number. Returns 0, or -1 for a malformed AttributeValue or no memory. */
int av_write_json(struct buf *out, const json_t *av);

/* DynamoDB's size of an item (a map of name -> AttributeValue) in bytes, as
 * its documentation computes it, for the 400 KB limit. */
size_t av_item_size(const json_t *item);

#endif
