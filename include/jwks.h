/* jwks: the process's JWT key set, shared by every worker. It holds the
 * static keys (JWT_JWKS_FILE, JWT_PUBLIC_KEY_FILE, JWT_SECRET) and, with
 * JWT_JWKS_URL, the keys fetched from there, merged into one immutable
 * jwk_set that is replaced, never edited (the creds.c pattern: a mutex around
 * the swap, an atomic generation so a worker re-reads only after a change).
 *
 * Fetches run on the credentials loop (credsio.h: worker 0's background I/O
 * loop, through httpc), never on a request's thread and never blocking one.
 * A fetch starts when the document's Cache-Control max-age has passed (checked
 * by jwks_store_poll, one atomic load per request), when a token names a kid
 * the set does not hold (at most once per min_refresh_s), and after a failure
 * (1, 2, 4 ... 30 s later). A failed fetch keeps the keys there were. A token
 * whose kid is unknown is refused with 401 at once (its request does not wait
 * for the fetch it triggers); a client retrying after the fetch is served. */
#ifndef USERSVC_JWKS_H
#define USERSVC_JWKS_H

#include <stdint.h>

#include "buf.h"
#include "credsio.h"
#include "jwk.h"

#define JWKS_DEFAULT_MAX_AGE_S 3600 /* without Cache-Control max-age */
#define JWKS_MIN_MAX_AGE_S 60       /* a shorter max-age is read as this */
#define JWKS_MAX_MAX_AGE_S 86400
#define JWKS_MAX_BYTES 262144

struct jwks_store_options {
    struct jwk_set *static_keys; /* may be NULL; the store takes a new reference */
    const char *url;             /* JWT_JWKS_URL; NULL: only the static keys */
    struct credsio *io;          /* the loop fetches run on (borrowed, outlives the store's fetches); needed with url */
    long min_refresh_s;          /* unknown-kid fetches at most this often; 0: 30 */
};

struct jwks_store;

struct jwks_store *jwks_store_new(const struct jwks_store_options *options);

/* held is the caller's reference (or NULL), *generation the generation it was
 * taken at (0 at first). Returns held when nothing changed (one atomic load),
 * else drops held and returns a new reference to the current set. Any thread. */
struct jwk_set *jwks_store_snapshot(struct jwks_store *store, struct jwk_set *held, uint64_t *generation);

/* Starts a fetch when the max-age has passed or a failed fetch's back-off has ended. Any thread; cheap. */
void jwks_store_poll(struct jwks_store *store);

/* A token named a kid that no key has: fetches now unless a fetch is in
 * flight or one started less than min_refresh_s ago. Any thread. */
void jwks_store_kid_missing(struct jwks_store *store);

/* Start-up, before the workers run: fetches once, driving the loop from the
 * calling thread for at most timeout_ms. Returns 0 when keys were fetched. */
int jwks_store_initial_fetch(struct jwks_store *store, long timeout_ms);

/* The max-age of a Cache-Control value, clamped to [JWKS_MIN_MAX_AGE_S,
 * JWKS_MAX_MAX_AGE_S]; JWKS_DEFAULT_MAX_AGE_S when value is NULL or has none;
 * JWKS_MIN_MAX_AGE_S for no-cache and no-store. Pure. */
long jwks_max_age(const char *cache_control);

/* A new copy of url fit for a log: scheme://host[:port]/path, without user info, query or fragment (any of which
 * may hold a credential). NULL when memory runs out. Pure. */
char *jwks_url_for_logs(const char *url);

/* Frees the store; no fetch may be in flight (the loop stopped first). Accepts NULL. */
void jwks_store_free(struct jwks_store *store);

#endif
