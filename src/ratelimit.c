/* ratelimit: sharded token buckets (see ratelimit.h). */
#include "ratelimit.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 264

struct bucket {
    uint64_t hash; /* 0: free */
    double tokens;
    int64_t last_ms;
    char key[KEY_MAX];
};

struct shard {
    pthread_mutex_t lock;
    uint64_t hashes[RATELIMIT_PER_SHARD]; /* scanned first: 2 KiB, no string compare until a hash matches */
    struct bucket buckets[RATELIMIT_PER_SHARD];
};

struct ratelimit {
    double rate, burst;
    struct shard shards[RATELIMIT_SHARDS];
};

int ratelimit_parse(const char *text, double *rate, double *burst, struct buf *err)
{
    char *end;
    errno = 0;
    double r = strtod(text, &end), b;
    if (errno != 0 || end == text || !(r > 0) || r > 1e6)
        goto bad;
    if (*end == ',') {
        const char *p = end + 1;
        b = strtod(p, &end);
        if (errno != 0 || end == p || !(b >= 1) || b > 1e9)
            goto bad;
    } else {
        b = r < 1 ? 1 : r;
    }
    if (*end != '\0')
        goto bad;
    *rate = r;
    *burst = b;
    return 0;
bad:
    buf_printf(err, "RATE_LIMIT: want \"rate,burst\" (requests per second and burst size, e.g. \"10,20\")");
    return -1;
}

struct ratelimit *ratelimit_new(double rate, double burst)
{
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (rl == NULL)
        return NULL;
    rl->rate = rate;
    rl->burst = burst;
    for (int i = 0; i < RATELIMIT_SHARDS; i++)
        pthread_mutex_init(&rl->shards[i].lock, NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    for (int i = 0; i < RATELIMIT_SHARDS; i++)
        pthread_mutex_destroy(&rl->shards[i].lock);
    free(rl);
}

/* FNV-1a, never 0 (0 marks a free slot). */
static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (; *key != '\0'; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return h != 0 ? h : 1;
}

int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms)
{
    if (strlen(key) >= KEY_MAX)
        return 0; /* callers pass bounded principals; never refuse on our own limit */
    uint64_t h = hash_key(key);
    struct shard *s = &rl->shards[(h >> 32) % RATELIMIT_SHARDS];
    pthread_mutex_lock(&s->lock);
    struct bucket *b = NULL;
    size_t oldest = 0;
    for (size_t i = 0; i < RATELIMIT_PER_SHARD; i++) {
        if (s->hashes[i] == h && strcmp(s->buckets[i].key, key) == 0) {
            b = &s->buckets[i];
            break;
        }
        if (s->hashes[i] == 0 || (s->hashes[oldest] != 0 && s->buckets[i].last_ms < s->buckets[oldest].last_ms))
            oldest = i;
    }
    if (b == NULL) { /* a free slot, else the principal seen longest ago */
        b = &s->buckets[oldest];
        s->hashes[oldest] = h;
        b->hash = h;
        b->tokens = rl->burst;
        b->last_ms = now_ms;
        strcpy(b->key, key);
    }
    if (now_ms > b->last_ms) {
        b->tokens = fmin(rl->burst, b->tokens + (double)(now_ms - b->last_ms) * rl->rate / 1000.0);
        b->last_ms = now_ms;
    }
    int wait = 0;
    if (b->tokens >= 1.0)
        b->tokens -= 1.0;
    else /* in double first: (int) of a wait past INT_MAX is undefined (x86 gives INT_MIN, read as "allowed") */
        wait = (int)fmin(ceil((1.0 - b->tokens) / rl->rate), RATELIMIT_MAX_WAIT_S);
    pthread_mutex_unlock(&s->lock);
    return wait;
}
