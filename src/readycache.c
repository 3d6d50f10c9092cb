#include "readycache.h"

#include <stdio.h>
#include <string.h>

void readycache_init(struct readycache *rc)
{
    memset(rc, 0, sizeof *rc);
    pthread_mutex_init(&rc->lock, NULL);
}

void readycache_clean_up(struct readycache *rc)
{
    pthread_mutex_destroy(&rc->lock);
}

enum readycache_step readycache_begin(struct readycache *rc, int64_t now_ms, struct readycache_answer *out)
{
    enum readycache_step step = READYCACHE_ANSWER;
    pthread_mutex_lock(&rc->lock);
    if (rc->known && now_ms - rc->stored_ms < READYCACHE_TTL_MS) {
        *out = rc->answer;
    } else if (!rc->refreshing || now_ms - rc->refresh_ms >= READYCACHE_REFRESH_MAX_MS) {
        rc->refreshing = 1;
        rc->refresh_ms = now_ms;
        step = READYCACHE_REFRESH;
    } else if (rc->known) {
        *out = rc->answer;
    } else {
        out->ready = 0;
        snprintf(out->message, sizeof out->message, "readiness is being checked; retry shortly");
    }
    pthread_mutex_unlock(&rc->lock);
    return step;
}

void readycache_store(struct readycache *rc, int64_t now_ms, int ready, const char *message)
{
    pthread_mutex_lock(&rc->lock);
    rc->known = 1;
    rc->stored_ms = now_ms;
    rc->answer.ready = ready;
    snprintf(rc->answer.message, sizeof rc->answer.message, "%s", ready ? "" : message);
    rc->refreshing = 0;
    pthread_mutex_unlock(&rc->lock);
}
