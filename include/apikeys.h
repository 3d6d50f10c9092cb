/* apikeys: API keys for services and CI scripts (API_KEYS_FILE). The file
 * holds no key, only each key's SHA-256, so reading it (or a backup of it)
 * gives nothing to authenticate with. One key per line, fields separated by
 * spaces or tabs:
 *
 *     # comment (also blank lines)
 *     <SHA-256 of the key, 64 hex digits> <scopes, comma separated> <name>
 *
 * e.g. `3f1c…9a0b users:read,users:write ci-deploy`. The name (1-64 of
 * A-Z a-z 0-9 . _ @ : -) is the principal the access log and rate limit use;
 * digests and names are unique in a file. A presented key is hashed and
 * compared with every digest with CRYPTO_memcmp, so neither the match nor its
 * position shows in the time taken. Immutable once loaded: any thread reads. */
#ifndef USERSVC_APIKEYS_H
#define USERSVC_APIKEYS_H

#include <stddef.h>

#include "buf.h"

#define APIKEYS_MAX_KEY 256  /* longest key accepted when presented */
#define APIKEYS_MAX_NAME 64

struct apikey {
    unsigned char digest[32];
    char name[APIKEYS_MAX_NAME + 1];
    char *scopes; /* space separated */
};

struct apikeys {
    struct apikey *keys;
    size_t n;
};

/* Parses a file's text. Returns a new set (free with apikeys_free) or NULL
 * with "line N: why" in err (never the line's text). */
struct apikeys *apikeys_parse(const char *text, size_t len, struct buf *err);

/* Reads and parses path (at most 1 MiB). NULL with one line in err. */
struct apikeys *apikeys_load(const char *path, struct buf *err);

/* The entry whose digest is the SHA-256 of key[0..len), or NULL (also for an
 * empty, over-long or non-printable key). Borrowed from keys. */
const struct apikey *apikeys_find(const struct apikeys *keys, const char *key, size_t len);

void apikeys_free(struct apikeys *keys);

#endif
