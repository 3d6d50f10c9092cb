#include "retryquota.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>

void retryquota_init(struct retryquota *q)
{
    atomic_init(&q->tokens, RETRYQUOTA_CAPACITY);
}

int retryquota_acquire(struct retryquota *q, int throttling)
{
    int cost = throttling ? RETRYQUOTA_THROTTLING_COST : RETRYQUOTA_RETRY_COST;
    int have = atomic_load_explicit(&q->tokens, memory_order_relaxed);
    do {
        if (have < cost)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&q->tokens, &have, have - cost, memory_order_relaxed,
                                                    memory_order_relaxed));
    return cost;
}

void retryquota_on_success(struct retryquota *q, int last_cost)
{
    int add = last_cost > 0 ? last_cost : RETRYQUOTA_NO_RETRY_INCREMENT;
    int have = atomic_load_explicit(&q->tokens, memory_order_relaxed);
    int want;
    do {
        if (have >= RETRYQUOTA_CAPACITY)
            return;
        want = have + add > RETRYQUOTA_CAPACITY ? RETRYQUOTA_CAPACITY : have + add;
    } while (!atomic_compare_exchange_weak_explicit(&q->tokens, &have, want, memory_order_relaxed,
                                                    memory_order_relaxed));
}

int retryquota_available(struct retryquota *q)
{
    return atomic_load_explicit(&q->tokens, memory_order_relaxed);
}

/* The first value set and non-empty: the environment's, else the profile's. *from names it. */
static const char *pick(const char *(*lookup)(const char *, void *), void *ctx, const char *variable,
                        const char *profile_value, const char *profile_key, const char **from)
{
    const char *v = lookup(variable, ctx);
    if (v != NULL && *v != '\0') {
        *from = variable;
        return v;
    }
    *from = profile_key;
    return profile_value != NULL && *profile_value != '\0' ? profile_value : NULL;
}

int retryquota_config_load(struct retryquota_config *out, const char *(*lookup)(const char *name, void *ctx),
                           void *ctx, const char *profile_max_attempts, const char *profile_retry_mode,
                           struct buf *err)
{
    out->max_attempts = RETRYQUOTA_DEFAULT_MAX_ATTEMPTS;
    out->mode = RETRYQUOTA_MODE_STANDARD;
    const char *from;
    const char *v = pick(lookup, ctx, "AWS_MAX_ATTEMPTS", profile_max_attempts, "max_attempts (profile)", &from);
    if (v != NULL) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || v[0] < '0' || v[0] > '9' || n < 1 || n > 100) {
            buf_printf(err, "%s: '%s' is not a whole number 1-100", from, v);
            return -1;
        }
        out->max_attempts = (int)n;
    }
    v = pick(lookup, ctx, "AWS_RETRY_MODE", profile_retry_mode, "retry_mode (profile)", &from);
    if (v != NULL) {
        if (strcasecmp(v, "standard") == 0 || strcasecmp(v, "legacy") == 0) {
            out->mode = RETRYQUOTA_MODE_STANDARD;
        } else if (strcasecmp(v, "adaptive") == 0) {
            out->mode = RETRYQUOTA_MODE_ADAPTIVE_AS_STANDARD;
        } else {
            buf_printf(err, "%s: '%s' is not standard, legacy or adaptive", from, v);
            return -1;
        }
    }
    return 0;
}

long retryquota_backoff_ms(int retry, int throttling, double jitter)
{
    long ceiling = throttling ? RETRYQUOTA_THROTTLING_BASE_MS : RETRYQUOTA_BASE_MS;
    for (int i = 1; i < retry && ceiling < RETRYQUOTA_MAX_BACKOFF_MS; i++)
        ceiling *= 2;
    if (ceiling > RETRYQUOTA_MAX_BACKOFF_MS)
        ceiling = RETRYQUOTA_MAX_BACKOFF_MS;
    if (!(jitter >= 0.0)) /* also NaN */
        jitter = 0.0;
    if (jitter >= 1.0)
        jitter = 1.0;
    long ms = (long)((double)ceiling * jitter);
    return ms < ceiling ? ms : ceiling;
}

long retryquota_retry_after_ms(const char *header_value, long backoff_ms)
{
    if (header_value == NULL)
        return backoff_ms;
    const char *p = header_value;
    while (*p == ' ' || *p == '\t')
        p++;
    long long ms = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (ms < 1000000000LL) /* past a billion the clamp below decides anyway */
            ms = ms * 10 + (*p - '0');
    while (*p == ' ' || *p == '\t')
        p++;
    if (digits == 0 || *p != '\0')
        return backoff_ms;
    if (ms < backoff_ms)
        return backoff_ms;
    if (ms > (long long)backoff_ms + RETRYQUOTA_RETRY_AFTER_EXTRA_MS)
        return backoff_ms + RETRYQUOTA_RETRY_AFTER_EXTRA_MS;
    return (long)ms;
}
