/* jsonread: parses JSON text into a jansson tree, accepting and refusing
 * exactly what json_loadb does (RFC 8259, valid UTF-8, no \u0000, integers
 * that fit int64, reals that do not overflow, at most 2048 levels), at a
 * fraction of its cost: jansson reads its input one byte at a time through a
 * stream with a UTF-8 check and a buffer append per byte (~150 instructions a
 * byte, most of a GET by id's parse); this reads the text in place. */
#ifndef USERSVC_JSONREAD_H
#define USERSVC_JSONREAD_H

#include <jansson.h>
#include <stddef.h>

/* Parses len bytes of text (no NUL needed). flags: 0 or JSON_REJECT_DUPLICATES,
 * and JSON_DECODE_ANY to accept any value at the top (else an object or array).
 * Duplicate keys otherwise keep the last value at the first one's place, as
 * jansson does. Returns a new reference (caller decrefs), or NULL for text
 * json_loadb refuses with the same flags, or when memory runs out. One
 * difference, on the strict side: a NUL byte outside a string is refused
 * where jansson skips one that follows a number or literal ("[1\0]"). */
json_t *jsonread_parse(const char *text, size_t len, size_t flags);

#endif
