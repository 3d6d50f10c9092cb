/* jsontext: writes JSON text straight into a struct buf. jansson builds and
 * parses trees; DynamoDB requests and error bodies are written by
 * json_write_value, and user bodies (user.c, attrval.c) with the string, array
 * and object writers below. */
#ifndef USERSVC_JSONTEXT_H
#define USERSVC_JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

/* Appends s (len bytes) as a JSON string literal with escapes. Returns 0 or -1. */
int json_write_string(struct buf *out, const char *s, size_t len);
/* Writes one JSON value into out. Returns 0 or -1. */
typedef int json_writer(struct buf *out, const json_t *v);

/* Appends array as "[a,b]" / object as {"k":v} (keys escaped, insertion
 * order), each item or member value written by the given writer: how
 * json_write_value and av_write_json (L, M and the sets) share one loop.
 * Returns 0, or -1 when memory runs out, the value is not an array / object,
 * or the writer fails. */
int json_write_array(struct buf *out, const json_t *array, json_writer *write_item);
int json_write_object(struct buf *out, const json_t *object, json_writer *write_member);

/* Appends v as compact JSON, byte for byte what json_dumps(JSON_COMPACT)
 * writes for the same tree (members in insertion order, reals as "%.17g"), at
 * a tenth of its cost: json_dumps formats a pointer per container to detect
 * cycles, and the service builds no cyclic trees. Returns 0, or -1 when memory
 * runs out, leaving part of the text in out (callers discard it). */
int json_write_value(struct buf *out, const json_t *v);

#endif
