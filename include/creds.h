/* creds: AWS credentials, where they come from and how signers read them.
 *
 * Design, in the spirit of aws-c-auth:
 *
 * - A `struct creds` is an immutable, reference-counted value: access key id,
 *   secret, optional session token, optional expiration (wall-clock seconds)
 *   and the name of the provider that supplied it. Once built it never
 *   changes, so any thread may read it while it holds a reference; the last
 *   creds_unref wipes the secret and frees it. Rotation replaces the value, it
 *   never edits it.
 *
 * - A provider is one small interface: get (asynchronous: the callback gets a
 *   new reference or an error) and destroy. Each source of credentials
 *   (static keys, profile files, web identity, container, IMDS, credential_process:
 *   credschain.h) is a provider. A provider whose answer
 *   needs no I/O may call back from inside get; one that does I/O calls back
 *   from the thread that drives its I/O (a worker's loop), which may not be the
 *   caller's thread.
 *
 * - The cache (struct creds_cache) is a provider too, over one source
 *   provider. It is shared by every worker of the process: it holds the last
 *   credentials behind a mutex and publishes each new value with an atomic
 *   generation number. At most one refresh of its source is in flight,
 *   however many threads ask: asks that arrive meanwhile wait for that one.
 *   Credentials within refresh_ahead_s of their expiration are still handed
 *   out while a background refresh runs; when that refresh fails and they are
 *   still valid, they keep being handed out.
 *
 * - Signers never call get on the request path: each DynamoDB client keeps a
 *   reference to the credentials it signs with and calls creds_cache_snapshot
 *   before signing, which costs one atomic load when nothing changed and a
 *   mutex round only after a rotation. The derived SigV4 key is cached by the
 *   signer against that generation (so a rotated secret never reuses a stale
 *   key, even when the new value reuses the old one's address) plus date,
 *   region and service. */
#ifndef USERSVC_CREDS_H
#define USERSVC_CREDS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CREDS_NO_EXPIRY INT64_MAX

struct creds {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL when none */
    int64_t expiration;        /* wall-clock UNIX seconds; CREDS_NO_EXPIRY for keys that do not expire */
    const char *provider;      /* "static", "environment", ...: for logs */
    atomic_long refs;          /* private */
};

/* A new value holding copies of the strings (token may be NULL), with one
 * reference for the caller. Returns NULL when memory runs out or a required
 * string is missing or empty. */
struct creds *creds_new(const char *access_key_id, const char *secret_access_key, const char *session_token,
                        int64_t expiration, const char *provider);

/* Another reference to creds (may be NULL); returns creds. Any thread. */
struct creds *creds_ref(struct creds *creds);

/* Drops a reference; the last one wipes the secret and token and frees. Accepts NULL. Any thread. */
void creds_unref(struct creds *creds);

/* 1 when creds expire within ahead_s seconds of now_s (both wall-clock seconds), else 0. Pure. */
int creds_expiring(const struct creds *creds, int64_t now_s, int64_t ahead_s);

/* The answer to a get: creds is a new reference the callee owns (unref it),
 * or NULL with a one-line error that names what was tried (never a secret).
 * Both are valid only for the call. */
typedef void creds_callback(void *ctx, struct creds *creds, const char *error);

struct creds_provider {
    const char *name;
    /* Returns 0 when the callback will come (possibly from inside get), -1 when it will not. */
    int (*get)(struct creds_provider *self, creds_callback *callback, void *ctx);
    /* Frees the provider; no get may be pending. */
    void (*destroy)(struct creds_provider *self);
};

static inline int creds_provider_get(struct creds_provider *p, creds_callback *callback, void *ctx)
{
    return p->get(p, callback, ctx);
}

static inline void creds_provider_destroy(struct creds_provider *p)
{
    if (p != NULL)
        p->destroy(p);
}

/* A provider that always answers the same keys, at once, from inside get.
 * The strings are copied; name is the provider name logged ("environment").
 * Returns NULL on failure. Destroy with creds_provider_destroy. */
struct creds_provider *creds_static_new(const char *access_key_id, const char *secret_access_key,
                                        const char *session_token, const char *name);

struct creds_cache_options {
    struct creds_provider *source; /* owned by the cache from creds_cache_new on, even on failure */
    int64_t refresh_ahead_s;       /* refresh this long before expiration; 0: 300 */
    int64_t (*now_s)(void *ctx);   /* wall clock in seconds (expirations); NULL: CLOCK_REALTIME */
    int64_t (*mono_s)(void *ctx);  /* monotonic seconds (back-off, forced-refresh limit); NULL: CLOCK_MONOTONIC */
    void *clock_ctx;               /* for both clocks */
    struct creds *initial;         /* credentials already fetched (start-up); the cache takes a new reference */
};

#define CREDS_CACHE_MAX_WAKERS 256
#define CREDS_CACHE_RETRY_MAX_S 30 /* failed background refreshes back off 1, 2, 4 ... up to this */
#define CREDS_CACHE_FORCE_MIN_S 5  /* at most one forced refresh this often */

struct creds_cache;

/* A new cache over options->source. Returns NULL on failure. */
struct creds_cache *creds_cache_new(const struct creds_cache_options *options);

/* The cache as a provider (borrowed; destroying it frees the cache). Its get
 * answers at once with valid cached credentials (starting a background
 * refresh when they are within refresh_ahead_s of expiring), else waits for
 * the one refresh in flight, starting it if needed. Callbacks of waiters run
 * on the thread that completes the refresh. Any thread. */
struct creds_provider *creds_cache_provider(struct creds_cache *cache);

/* Starts a background refresh when the cached credentials are missing or
 * within refresh_ahead_s of expiring, none is in flight and the last failed
 * (or still expiring) refresh is old enough (1 s, doubling to
 * CREDS_CACHE_RETRY_MAX_S while they fail). Any thread. */
void creds_cache_refresh_if_due(struct creds_cache *cache);

/* A signer was told its credentials (held, may be NULL) are expired or not
 * recognised: starts a refresh now unless one is in flight, the current
 * credentials are already others than held, or a forced refresh started less
 * than CREDS_CACHE_FORCE_MIN_S ago (then the ticket is already reached: retry
 * with what is there, so refused requests cannot chain refreshes). Returns the ticket to wait for:
 * once creds_cache_refreshes reaches it, the credentials to retry with are
 * there (or the refresh failed). Any thread. */
uint64_t creds_cache_force_refresh(struct creds_cache *cache, const struct creds *held);

/* How many refreshes have ended (success or failure). One atomic load. Any thread. */
uint64_t creds_cache_refreshes(const struct creds_cache *cache);

/* 1 when the cache holds credentials valid now (not expired), else 0. Any thread. */
int creds_cache_valid(struct creds_cache *cache);

/* A new eventfd the cache writes to each time a refresh ends, so a worker
 * waiting for credentials wakes up. The cache owns it (closed by
 * creds_cache_free). Returns -1 on failure. Before the workers start. */
int creds_cache_add_waker(struct creds_cache *cache);

/* For signers: held is the caller's reference (or NULL), *generation the
 * generation it was taken at (0 at first). Returns held when nothing changed
 * (one atomic load), else drops held and returns a new reference to the
 * current credentials (NULL while there are none), updating *generation. */
struct creds *creds_cache_snapshot(struct creds_cache *cache, struct creds *held, uint64_t *generation);

/* Frees the cache and its source; no get may be pending. Accepts NULL. */
void creds_cache_free(struct creds_cache *cache);

#endif
