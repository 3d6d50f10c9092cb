/* hmac: HMAC-SHA256, the one implementation SigV4 signing (sigv4.c) and list cursors (cursor.c)
 * share: OpenSSL 3's EVP_MAC, fetched once per process with its digest already set, so no call pays
 * for an implicit algorithm fetch (which costs more than the hashing). Safe from any thread. */
#ifndef USERSVC_HMAC_H
#define USERSVC_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_LEN 32

/* HMAC-SHA256 of data[0..len) under key[0..key_len) into mac. Returns 0, or -1 (mac undefined) when
 * OpenSSL fails. */
int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t mac[HMAC_SHA256_LEN]);

#endif
