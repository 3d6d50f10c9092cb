/* retryquota: the AWS SDKs' standard retry mode, as pure pieces: the per-process retry quota (a token
 * bucket shared by every worker), AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, the backoff and x-amz-retry-after.
 *
 * The numbers are issue 7's contract, which is the SDKs' 2026 standard mode (AWS_NEW_RETRIES_2026):
 * 500 tokens, a retry costs 14, a throttling retry 5, a success gives back what its last retry cost
 * or 1 when it needed none. Older standard mode (botocore, JS v3, Ruby before 2026) charged 5 per
 * retry, 10 per timeout and nothing extra for throttling; we follow the issue. */
#ifndef USERSVC_RETRYQUOTA_H
#define USERSVC_RETRYQUOTA_H

#include <stdatomic.h>

#include "buf.h"

#define RETRYQUOTA_CAPACITY 500
#define RETRYQUOTA_RETRY_COST 14
#define RETRYQUOTA_THROTTLING_COST 5
#define RETRYQUOTA_NO_RETRY_INCREMENT 1
/* DynamoDB's defaults in the SDKs' 2026 standard mode (and what ddb.c does today). */
#define RETRYQUOTA_DEFAULT_MAX_ATTEMPTS 4
#define RETRYQUOTA_BASE_MS 25
#define RETRYQUOTA_THROTTLING_BASE_MS 1000
#define RETRYQUOTA_MAX_BACKOFF_MS 20000
/* x-amz-retry-after may lengthen a wait by at most this much over the computed backoff. */
#define RETRYQUOTA_RETRY_AFTER_EXTRA_MS 5000

/* One per process, shared by all workers (lock-free: a compare-and-swap loop on one atomic). */
struct retryquota {
    atomic_int tokens;
};

/* Fills the bucket (RETRYQUOTA_CAPACITY). The struct is caller storage; nothing to clean up. */
void retryquota_init(struct retryquota *q);

/* Takes the cost of one retry (RETRYQUOTA_THROTTLING_COST when the failure was throttling, else
 * RETRYQUOTA_RETRY_COST). Returns the cost taken, which the caller keeps with the request to hand to
 * retryquota_on_success; or 0 when the bucket holds less than that: do not retry. */
int retryquota_acquire(struct retryquota *q, int throttling);

/* A request succeeded. last_cost is what its last retry cost (retryquota_acquire's answer), or 0
 * when it succeeded at the first attempt, which adds RETRYQUOTA_NO_RETRY_INCREMENT. Never above
 * the capacity. A request that finally fails gives nothing back. */
void retryquota_on_success(struct retryquota *q, int last_cost);

/* The tokens in the bucket now (for tests and the debug log). */
int retryquota_available(struct retryquota *q);

enum retryquota_mode {
    RETRYQUOTA_MODE_STANDARD,
    /* adaptive was asked for: we run standard mode (no client-side rate limiter; the SDKs
     * recommend adaptive only for single-resource clients), and the caller logs that once. */
    RETRYQUOTA_MODE_ADAPTIVE_AS_STANDARD,
};

struct retryquota_config {
    int max_attempts;          /* first attempt included: 1 means no retry */
    enum retryquota_mode mode; /* legacy maps to standard */
};

/* Reads AWS_MAX_ATTEMPTS and AWS_RETRY_MODE through lookup (getenv-like; NULL or "" = unset), else
 * the profile's max_attempts and retry_mode (profile_max_attempts, profile_retry_mode: borrowed,
 * NULL when absent), else RETRYQUOTA_DEFAULT_MAX_ATTEMPTS and standard. Modes are standard, legacy
 * and adaptive, in any case; attempts a whole number 1-100. Returns 0, or -1 with one line in err
 * naming the setting. */
int retryquota_config_load(struct retryquota_config *out, const char *(*lookup)(const char *name, void *ctx),
                           void *ctx, const char *profile_max_attempts, const char *profile_retry_mode,
                           struct buf *err);

/* The wait before retry number retry (1 for the first retry): min(base * 2^(retry-1), 20 s) * jitter,
 * base 1 s for throttling and 25 ms otherwise, jitter a random number in [0, 1) the caller draws
 * (the cap applies before the jitter, as in the SDKs' 2026 standard mode). In milliseconds. */
long retryquota_backoff_ms(int retry, int throttling, double jitter);

/* Applies an x-amz-retry-after header (a whole number of milliseconds; NULL when absent) to a
 * computed backoff: the server's wish, clamped to [backoff_ms, backoff_ms + 5000]. An absent or
 * invalid header leaves backoff_ms. The caller still never waits past the request's deadline. */
long retryquota_retry_after_ms(const char *header_value, long backoff_ms);

#endif
