/* creds: credential values, the static provider and the shared cache (see creds.h). */
#include "creds.h"

#include <stdio.h>

#include <pthread.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define DEFAULT_REFRESH_AHEAD_S 300

struct creds *creds_new(const char *access_key_id, const char *secret_access_key, const char *session_token,
                        int64_t expiration, const char *provider)
{
    if (access_key_id == NULL || secret_access_key == NULL || provider == NULL || *access_key_id == '\0' ||
        *secret_access_key == '\0')
        return NULL;
    size_t akid = strlen(access_key_id) + 1, secret = strlen(secret_access_key) + 1,
           token = session_token != NULL ? strlen(session_token) + 1 : 0, name = strlen(provider) + 1;
    /* One allocation: the strings follow the struct. */
    struct creds *c = malloc(sizeof *c + akid + secret + token + name);
    if (c == NULL)
        return NULL;
    char *p = (char *)(c + 1);
    c->access_key_id = memcpy(p, access_key_id, akid);
    p += akid;
    c->secret_access_key = memcpy(p, secret_access_key, secret);
    p += secret;
    c->session_token = session_token != NULL ? memcpy(p, session_token, token) : NULL;
    p += token;
    c->provider = memcpy(p, provider, name);
    c->expiration = expiration;
    atomic_init(&c->refs, 1);
    return c;
}

struct creds *creds_ref(struct creds *c)
{
    if (c != NULL)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void creds_unref(struct creds *c)
{
    if (c == NULL || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    explicit_bzero((char *)c->secret_access_key, strlen(c->secret_access_key));
    if (c->session_token != NULL)
        explicit_bzero((char *)c->session_token, strlen(c->session_token));
    free(c);
}

int creds_expiring(const struct creds *c, int64_t now_s, int64_t ahead_s)
{
    if (c->expiration == CREDS_NO_EXPIRY)
        return 0;
    return now_s >= c->expiration || c->expiration - now_s <= ahead_s;
}

/* --- the static provider --- */

struct static_provider {
    struct creds_provider base;
    struct creds *creds;
};

static int static_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct static_provider *p = (struct static_provider *)self;
    callback(ctx, creds_ref(p->creds), NULL);
    return 0;
}

static void static_destroy(struct creds_provider *self)
{
    struct static_provider *p = (struct static_provider *)self;
    creds_unref(p->creds);
    free(p);
}

struct creds_provider *creds_static_new(const char *access_key_id, const char *secret_access_key,
                                        const char *session_token, const char *name)
{
    struct static_provider *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->creds = creds_new(access_key_id, secret_access_key, session_token, CREDS_NO_EXPIRY, name);
    if (p->creds == NULL) {
        free(p);
        return NULL;
    }
    p->base = (struct creds_provider){.name = p->creds->provider, .get = static_get, .destroy = static_destroy};
    return &p->base;
}

/* --- the cache --- */

struct waiter {
    struct waiter *next;
    creds_callback *callback;
    void *ctx;
};

struct creds_cache {
    struct creds_provider base; /* first: the cache is a provider */
    struct creds_provider *source;
    int64_t refresh_ahead_s;
    int64_t (*now_s)(void *ctx);  /* wall clock: expirations */
    int64_t (*mono_s)(void *ctx); /* monotonic: back-off and rate limits, immune to the wall clock stepping */
    void *clock_ctx;

    pthread_mutex_t lock;        /* guards what follows */
    struct creds *current;       /* NULL until the first refresh succeeds */
    int refreshing;              /* one refresh of source in flight */
    struct waiter *waiters;      /* gets waiting for that refresh */
    int64_t next_try_s;          /* background refreshes wait until then (mono_s) after a failure */
    int failures;                /* failed refreshes in a row */
    int64_t last_forced_s;       /* when (mono_s) the last forced refresh started; INT64_MIN: never */
    atomic_uint_least64_t generation; /* bumped (release) after current changes; written under lock */
    atomic_uint_least64_t refreshes;  /* refreshes ended; written under lock */
    int wakers[CREDS_CACHE_MAX_WAKERS]; /* eventfds written after each refresh; set before threads start */
    size_t n_wakers;
};

static int64_t realtime_s(void *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t monotonic_s(void *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* The source answered: publish, then answer everyone who waited. */
static void on_refreshed(void *ctx, struct creds *fresh, const char *error)
{
    struct creds_cache *cache = ctx;
    int64_t now = cache->now_s(cache->clock_ctx), mono = cache->mono_s(cache->clock_ctx);
    pthread_mutex_lock(&cache->lock);
    struct creds *old = NULL;
    if (fresh != NULL) {
        old = cache->current;
        cache->current = fresh; /* the source's reference becomes the cache's */
        atomic_fetch_add_explicit(&cache->generation, 1, memory_order_release);
    }
    /* A failed refresh keeps serving credentials that are still valid. */
    struct creds *answer = cache->current != NULL && !creds_expiring(cache->current, now, 0) ? cache->current : NULL;
    struct waiter *waiters = cache->waiters;
    cache->waiters = NULL;
    cache->refreshing = 0;
    if (fresh != NULL && !creds_expiring(fresh, now, cache->refresh_ahead_s)) {
        cache->failures = 0;
        cache->next_try_s = 0;
    } else {
        /* Failed, or answered credentials that are already due: back off rather than ask every tick. */
        int64_t delay = (int64_t)1 << (cache->failures < 5 ? cache->failures : 5);
        cache->failures++;
        cache->next_try_s = mono + (delay < CREDS_CACHE_RETRY_MAX_S ? delay : CREDS_CACHE_RETRY_MAX_S);
    }
    atomic_fetch_add_explicit(&cache->refreshes, 1, memory_order_release);
    for (struct waiter *w = waiters; w != NULL; w = w->next)
        creds_ref(answer); /* one reference per waiter, taken while current cannot change */
    /* Copied under the lock: once it is released another refresh may replace fresh and free it. */
    char still[128] = "", from[64] = "";
    if (fresh == NULL && answer != NULL)
        snprintf(still, sizeof still, "%s", answer->access_key_id);
    if (fresh != NULL) {
        snprintf(still, sizeof still, "%s", fresh->access_key_id);
        snprintf(from, sizeof from, "%s", fresh->provider);
    }
    pthread_mutex_unlock(&cache->lock);
    creds_unref(old);
    /* The same failure gives the same line, so log.c collapses an outage into one line and a count. */
    if (fresh != NULL)
        log_info("credentials refreshed from %s: access key id %s", from, still);
    else if (still[0] != '\0')
        log_warn("credentials: refresh failed (%s); still signing with access key id %s until it expires",
                 error != NULL ? error : "no credentials", still);
    else
        log_warn("credentials: refresh failed (%s); no valid credentials: requests wait, /readyz answers 503",
                 error != NULL ? error : "no credentials");
    uint64_t one = 1;
    for (size_t i = 0; i < cache->n_wakers; i++)
        if (write(cache->wakers[i], &one, sizeof one) < 0 && errno != EAGAIN)
            break; /* a full counter already wakes the worker */
    while (waiters != NULL) {
        struct waiter *w = waiters;
        waiters = w->next;
        w->callback(w->ctx, answer, answer != NULL ? NULL : error != NULL ? error : "no credentials");
        free(w);
    }
}

/* Starts the refresh the caller just marked in flight (lock not held). */
static void start_refresh(struct creds_cache *cache)
{
    if (creds_provider_get(cache->source, on_refreshed, cache) != 0)
        on_refreshed(cache, NULL, "the credentials provider could not start");
}

static int cache_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct creds_cache *cache = (struct creds_cache *)self;
    int64_t now = cache->now_s(cache->clock_ctx);
    struct waiter *w = NULL;
    pthread_mutex_lock(&cache->lock);
    struct creds *valid = cache->current != NULL && !creds_expiring(cache->current, now, 0) ? cache->current : NULL;
    int start = 0;
    if (valid == NULL || creds_expiring(valid, now, cache->refresh_ahead_s))
        start = !cache->refreshing;
    if (valid == NULL) {
        w = malloc(sizeof *w);
        if (w == NULL) {
            pthread_mutex_unlock(&cache->lock);
            return -1;
        }
        *w = (struct waiter){cache->waiters, callback, ctx};
        cache->waiters = w;
    }
    if (start)
        cache->refreshing = 1;
    creds_ref(valid);
    pthread_mutex_unlock(&cache->lock);
    if (valid != NULL)
        callback(ctx, valid, NULL);
    if (start)
        start_refresh(cache);
    return 0;
}

static void cache_destroy(struct creds_provider *self)
{
    creds_cache_free((struct creds_cache *)self);
}

struct creds_cache *creds_cache_new(const struct creds_cache_options *options)
{
    struct creds_cache *cache = calloc(1, sizeof *cache);
    if (cache == NULL || pthread_mutex_init(&cache->lock, NULL) != 0) {
        free(cache);
        creds_provider_destroy(options->source);
        return NULL;
    }
    cache->base = (struct creds_provider){.name = "cache", .get = cache_get, .destroy = cache_destroy};
    cache->source = options->source;
    cache->refresh_ahead_s = options->refresh_ahead_s > 0 ? options->refresh_ahead_s : DEFAULT_REFRESH_AHEAD_S;
    cache->now_s = options->now_s != NULL ? options->now_s : realtime_s;
    cache->mono_s = options->mono_s != NULL ? options->mono_s : monotonic_s;
    cache->clock_ctx = options->clock_ctx;
    atomic_init(&cache->generation, 0);
    atomic_init(&cache->refreshes, 0);
    cache->last_forced_s = INT64_MIN;
    if (options->initial != NULL) {
        cache->current = creds_ref(options->initial);
        atomic_init(&cache->generation, 1);
    }
    return cache;
}

struct creds_provider *creds_cache_provider(struct creds_cache *cache)
{
    return &cache->base;
}

void creds_cache_refresh_if_due(struct creds_cache *cache)
{
    int64_t now = cache->now_s(cache->clock_ctx), mono = cache->mono_s(cache->clock_ctx);
    pthread_mutex_lock(&cache->lock);
    int start = !cache->refreshing && mono >= cache->next_try_s &&
                (cache->current == NULL || creds_expiring(cache->current, now, cache->refresh_ahead_s));
    if (start)
        cache->refreshing = 1;
    pthread_mutex_unlock(&cache->lock);
    if (start)
        start_refresh(cache);
}

uint64_t creds_cache_force_refresh(struct creds_cache *cache, const struct creds *held)
{
    int64_t mono = cache->mono_s(cache->clock_ctx);
    pthread_mutex_lock(&cache->lock);
    uint64_t done = atomic_load_explicit(&cache->refreshes, memory_order_relaxed);
    int start = 0;
    uint64_t ticket = done + 1;
    if (cache->current != held && cache->current != NULL)
        ticket = done; /* already replaced: retry with what is there */
    else if (cache->refreshing)
        ; /* wait for the one in flight */
    else if (cache->last_forced_s != INT64_MIN && mono - cache->last_forced_s < CREDS_CACHE_FORCE_MIN_S)
        ticket = done; /* refreshed moments ago (clock skew refuses every signature): retry with what is there */
    else {
        start = cache->refreshing = 1;
        cache->last_forced_s = mono;
    }
    pthread_mutex_unlock(&cache->lock);
    if (start)
        start_refresh(cache);
    return ticket;
}

uint64_t creds_cache_refreshes(const struct creds_cache *cache)
{
    return atomic_load_explicit(&cache->refreshes, memory_order_acquire);
}

int creds_cache_valid(struct creds_cache *cache)
{
    int64_t now = cache->now_s(cache->clock_ctx);
    pthread_mutex_lock(&cache->lock);
    int valid = cache->current != NULL && !creds_expiring(cache->current, now, 0);
    pthread_mutex_unlock(&cache->lock);
    return valid;
}

int creds_cache_add_waker(struct creds_cache *cache)
{
    if (cache->n_wakers == CREDS_CACHE_MAX_WAKERS)
        return -1;
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd >= 0)
        cache->wakers[cache->n_wakers++] = fd;
    return fd;
}

struct creds *creds_cache_snapshot(struct creds_cache *cache, struct creds *held, uint64_t *generation)
{
    if (atomic_load_explicit(&cache->generation, memory_order_acquire) == *generation)
        return held;
    pthread_mutex_lock(&cache->lock);
    struct creds *current = creds_ref(cache->current);
    *generation = atomic_load_explicit(&cache->generation, memory_order_relaxed);
    pthread_mutex_unlock(&cache->lock);
    creds_unref(held);
    return current;
}

void creds_cache_free(struct creds_cache *cache)
{
    if (cache == NULL)
        return;
    creds_provider_destroy(cache->source);
    creds_unref(cache->current);
    for (size_t i = 0; i < cache->n_wakers; i++)
        close(cache->wakers[i]);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}
