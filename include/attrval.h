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

/* Converts a client JSON value into a new AttributeValue ({"S":..}, {"N":..},
 * {"BOOL":..}, {"NULL":true}, {"L":[..]}, {"M":{..}}). Returns a new
 * reference (caller decrefs), or NULL with a short reason in why (a static
 * string) for a number out of range or nesting deeper than AV_MAX_DEPTH. */
json_t *av_from_json(const json_t *value, const char **why);

/* Appends the plain JSON form of an AttributeValue read from DynamoDB: sets
 * become arrays, B/BS stay base64 strings, N is written verbatim when it is a
 * valid JSON number. Returns 0, or -1 for a malformed AttributeValue or no memory. */
int av_write_json(struct buf *out, const json_t *av);

/* DynamoDB's size of an item (a map of name -> AttributeValue) in bytes, as
 * its documentation computes it, for the 400 KB limit. */
size_t av_item_size(const json_t *item);

#endif
