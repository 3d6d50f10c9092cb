/* jwks: the shared JWT key store and its fetches (see jwks.h). */
#include "jwks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpc.h"
#include "log.h"

#define FETCH_TIMEOUT_MS 5000
#define FETCH_CONNECT_MS 2000
#define RETRY_MAX_S 30

struct jwks_store {
    struct jwk_set *static_keys;
    char *url;
    char *url_for_logs; /* without query or fragment */
    struct credsio *io;
    int64_t min_refresh_ms;

    pthread_mutex_t lock;     /* guards what follows */
    struct jwk_set *current;  /* static + fetched */
    int fetching;
    int have_fetched;         /* a fetch succeeded once */
    int64_t last_start_ms;    /* when the last fetch started; INT64_MIN: never */
    int failures;
    atomic_int_least64_t due_ms;      /* the next fetch by max-age or back-off; read without the lock */
    atomic_uint_least64_t generation; /* bumped after current changes */
    atomic_int done;                  /* start-up: the first fetch ended */

    struct httpc_request req; /* the one fetch in flight, on the loop's thread */
    const char *want[2];
};

long jwks_max_age(const char *cc)
{
    if (cc == NULL)
        return JWKS_DEFAULT_MAX_AGE_S;
    long age = -1;
    for (const char *p = cc; *p != '\0';) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        if (strncasecmp(p, "no-cache", 8) == 0 || strncasecmp(p, "no-store", 8) == 0)
            return JWKS_MIN_MAX_AGE_S;
        if (strncasecmp(p, "max-age=", 8) == 0) {
            char *end;
            long v = strtol(p + 8, &end, 10);
            if (end != p + 8 && v >= 0)
                age = v;
        }
        p += len;
    }
    if (age < 0)
        return JWKS_DEFAULT_MAX_AGE_S;
    return age < JWKS_MIN_MAX_AGE_S ? JWKS_MIN_MAX_AGE_S : age > JWKS_MAX_MAX_AGE_S ? JWKS_MAX_MAX_AGE_S : age;
}

char *jwks_url_for_logs(const char *url)
{
    const char *scheme_end = strstr(url, "://");
    const char *authority = scheme_end != NULL ? scheme_end + 3 : url;
    size_t authority_len = strcspn(authority, "/?#");
    const char *host = authority;
    for (const char *p = authority; p < authority + authority_len; p++)
        if (*p == '@')
            host = p + 1; /* the last '@' ends the user info */
    size_t scheme_len = (size_t)(authority - url), rest = strcspn(host, "?#");
    char *out = malloc(scheme_len + rest + 1);
    if (out != NULL) {
        memcpy(out, url, scheme_len);
        memcpy(out + scheme_len, host, rest);
        out[scheme_len + rest] = '\0';
    }
    return out;
}

struct jwks_store *jwks_store_new(const struct jwks_store_options *o)
{
    struct jwks_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->static_keys = jwk_set_ref(o->static_keys);
    s->io = o->io;
    s->min_refresh_ms = (o->min_refresh_s > 0 ? o->min_refresh_s : 30) * 1000;
    s->last_start_ms = INT64_MIN;
    atomic_init(&s->due_ms, INT64_MAX);
    atomic_init(&s->generation, 1);
    atomic_init(&s->done, 0);
    s->current = s->static_keys != NULL ? jwk_set_ref(s->static_keys) : jwk_set_merge(NULL, NULL);
    if (o->url != NULL) {
        s->url = strdup(o->url);
        s->url_for_logs = s->url != NULL ? jwks_url_for_logs(s->url) : NULL;
    }
    if (s->current == NULL || (o->url != NULL && (s->url_for_logs == NULL || o->io == NULL))) {
        jwks_store_free(s);
        return NULL;
    }
    return s;
}

void jwks_store_free(struct jwks_store *s)
{
    if (s == NULL)
        return;
    jwk_set_unref(s->current);
    jwk_set_unref(s->static_keys);
    free(s->url);
    free(s->url_for_logs);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

struct jwk_set *jwks_store_snapshot(struct jwks_store *s, struct jwk_set *held, uint64_t *generation)
{
    uint64_t now = atomic_load_explicit(&s->generation, memory_order_acquire);
    if (held != NULL && now == *generation)
        return held;
    pthread_mutex_lock(&s->lock);
    struct jwk_set *fresh = jwk_set_ref(s->current);
    *generation = atomic_load_explicit(&s->generation, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    jwk_set_unref(held);
    return fresh;
}

/* Ends a fetch (under no lock): publishes keys (may be NULL: failed) and schedules the next. */
static void fetch_ended(struct jwks_store *s, struct jwk_set *fetched, long max_age_s, const char *why)
{
    int64_t now = httpc_now_ms();
    struct jwk_set *merged = fetched != NULL ? jwk_set_merge(s->static_keys, fetched) : NULL;
    size_t fetched_n = fetched != NULL ? fetched->n : 0, kept = 0;
    pthread_mutex_lock(&s->lock);
    struct jwk_set *old = NULL;
    if (merged != NULL) {
        old = s->current;
        s->current = merged;
        s->have_fetched = 1;
        s->failures = 0;
        atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
        atomic_store_explicit(&s->due_ms, now + (int64_t)max_age_s * 1000, memory_order_relaxed);
    } else {
        int64_t delay = (int64_t)1 << (s->failures < 5 ? s->failures : 5);
        s->failures++;
        atomic_store_explicit(&s->due_ms, now + (delay < RETRY_MAX_S ? delay : RETRY_MAX_S) * 1000,
                              memory_order_relaxed);
        kept = s->current->n;
    }
    s->fetching = 0;
    pthread_mutex_unlock(&s->lock);
    jwk_set_unref(old);
    if (merged != NULL)
        log_info("jwks: %zu keys from %s, next fetch in %ld s", fetched_n, s->url_for_logs, max_age_s);
    else
        log_warn("jwks: fetching %s failed (%s); keeping %zu keys", s->url_for_logs, why, kept);
    atomic_store_explicit(&s->done, 1, memory_order_release);
}

static void on_response(struct httpc_request *req, const struct httpc_response *resp)
{
    struct jwks_store *s = req->ctx;
    struct buf err = BUF_INIT;
    struct jwk_set *fetched = NULL;
    size_t skipped = 0;
    char why[160] = "";
    if (resp->outcome != HTTPC_DONE)
        snprintf(why, sizeof why, "%s", resp->error[0] ? resp->error : "no response");
    else if (resp->status != 200)
        snprintf(why, sizeof why, "HTTP %ld", resp->status);
    else if ((fetched = jwk_set_from_jwks(resp->body, resp->body_len, &skipped, &err)) == NULL)
        snprintf(why, sizeof why, "not a usable JWKS: %s", buf_cstr(&err));
    fetch_ended(s, fetched, jwks_max_age(resp->headers[0]), why);
    jwk_set_unref(fetched);
    buf_clean_up(&err);
}

/* On the loop's thread. */
static void fetch_task(void *ctx, int stopping)
{
    struct jwks_store *s = ctx;
    s->want[0] = "cache-control";
    s->want[1] = NULL;
    s->req = (struct httpc_request){.method = "GET", .url = s->url, .want_headers = s->want,
                                    .deadline_ms = httpc_now_ms() + FETCH_TIMEOUT_MS,
                                    .connect_timeout_ms = FETCH_CONNECT_MS, .callback = on_response, .ctx = s};
    if (stopping || httpc_send(credsio_http(s->io), &s->req) != 0)
        fetch_ended(s, NULL, 0, stopping ? "shutting down" : "could not start");
}

/* Starts a fetch when allowed by the caller's rule (checked under the lock). */
static void maybe_fetch(struct jwks_store *s, int kid_missing)
{
    if (s->url == NULL)
        return;
    int64_t now = httpc_now_ms();
    pthread_mutex_lock(&s->lock);
    int go = !s->fetching &&
             (kid_missing ? s->last_start_ms == INT64_MIN || now - s->last_start_ms >= s->min_refresh_ms
                          : now >= atomic_load_explicit(&s->due_ms, memory_order_relaxed));
    if (go) {
        s->fetching = 1;
        s->last_start_ms = now;
        /* fetch_ended sets the next; until then jwks_store_poll stays one atomic load, not this lock per request */
        atomic_store_explicit(&s->due_ms, INT64_MAX, memory_order_relaxed);
    }
    pthread_mutex_unlock(&s->lock);
    if (go && credsio_post(s->io, fetch_task, s) != 0)
        fetch_ended(s, NULL, 0, "out of memory");
}

void jwks_store_poll(struct jwks_store *s)
{
    if (s->url != NULL && httpc_now_ms() >= atomic_load_explicit(&s->due_ms, memory_order_relaxed))
        maybe_fetch(s, 0);
}

void jwks_store_kid_missing(struct jwks_store *s) { maybe_fetch(s, 1); }

int jwks_store_initial_fetch(struct jwks_store *s, long timeout_ms)
{
    if (s->url == NULL)
        return 0;
    atomic_store(&s->done, 0);
    atomic_store_explicit(&s->due_ms, 0, memory_order_relaxed);
    maybe_fetch(s, 0);
    if (credsio_wait(s->io, &s->done, timeout_ms) != 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    int ok = s->have_fetched;
    pthread_mutex_unlock(&s->lock);
    return ok ? 0 : -1;
}
