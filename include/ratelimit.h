/* ratelimit: a token bucket per principal (RATE_LIMIT="rate,burst": rate
 * requests per second on average, bursts of up to burst), per replica. The
 * table is shared by every worker: RATELIMIT_SHARDS shards, each behind its
 * own mutex and holding at most RATELIMIT_PER_SHARD principals; a new
 * principal in a full shard takes the place of the one seen longest ago (which
 * starts again with a full bucket when it returns). Only authenticated
 * principals are counted, so the table cannot be filled with made-up names. */
#ifndef USERSVC_RATELIMIT_H
#define USERSVC_RATELIMIT_H

#include <stdint.h>

#include "buf.h"

#define RATELIMIT_SHARDS 16
#define RATELIMIT_PER_SHARD 256
#define RATELIMIT_MAX_WAIT_S 86400 /* the longest Retry-After given, however slow the rate */

/* Parses "rate,burst" (or "rate": burst = rate); rate > 0 up to 1e6, burst >= 1. Returns 0 or -1 with a line in err. */
int ratelimit_parse(const char *text, double *rate, double *burst, struct buf *err);

struct ratelimit;

struct ratelimit *ratelimit_new(double rate, double burst);

/* Takes one token from key's bucket at now_ms (monotonic). Returns 0 when
 * allowed, else the whole seconds (at least 1, at most RATELIMIT_MAX_WAIT_S)
 * until a token is there: the Retry-After value. Any thread. */
int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms);

void ratelimit_free(struct ratelimit *rl);

#endif
