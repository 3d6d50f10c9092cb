/* crc32: CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320, the zlib one), which DynamoDB sends as
 * the x-amz-crc32 response header (decimal, unsigned) over the response body as sent. Pure. */
#ifndef USERSVC_CRC32_H
#define USERSVC_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of len bytes at data (NULL allowed when len is 0). Borrows data for the call. */
uint32_t crc32_compute(const void *data, size_t len);

/* Continues a CRC over a body that arrives in pieces: start with crc = 0, then
 * crc = crc32_update(crc, piece, n) for each piece; the result equals crc32_compute of the whole. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

/* Reads an x-amz-crc32 header value: decimal digits, optionally surrounded by spaces or tabs, at most
 * 4294967295. Returns 0 and *out, or -1 for anything else (empty, sign, hex, overflow, junk). */
int crc32_parse_header(const char *value, uint32_t *out);

/* 1 when header_value (a NUL-terminated x-amz-crc32 value) names the CRC-32 of the len body bytes,
 * 0 when it names another value, -1 when it is not a valid value at all. The SDKs treat both 0 and
 * -1 as a corrupted answer and retry it as a transient error. Borrows everything for the call. */
int crc32_matches(const char *header_value, const void *body, size_t len);

#endif
