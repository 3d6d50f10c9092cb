/* readycache: the process's /readyz answer, cached for READYCACHE_TTL_MS so
 * that a fleet of probes costs DynamoDB at most one DescribeTable per window
 * (DescribeTable is a control-plane call with low account limits). Shared by
 * every worker under a mutex (probes are rare; the request path never takes
 * it); at most one refresh is in flight for the whole process. Pure but for
 * the mutex: the clock is a parameter. */
#ifndef USERSVC_READYCACHE_H
#define USERSVC_READYCACHE_H

#include <pthread.h>
#include <stdint.h>

#define READYCACHE_TTL_MS 2000
#define READYCACHE_REFRESH_MAX_MS 30000 /* a refresh not stored by then no longer holds others back */

struct readycache_answer {
    int ready;          /* 1: 200 ready; 0: 503 not_ready with message */
    char message[128];
};

/* Caller storage; init before use, clean up after the last worker stopped. */
struct readycache {
    pthread_mutex_t lock;
    int known;               /* an answer was stored */
    int64_t stored_ms;       /* when */
    struct readycache_answer answer;
    int refreshing;          /* a refresh is in flight */
    int64_t refresh_ms;      /* since when */
};

void readycache_init(struct readycache *rc);
void readycache_clean_up(struct readycache *rc);

enum readycache_step {
    READYCACHE_ANSWER,  /* *out holds the answer to give */
    READYCACHE_REFRESH, /* the caller checks DynamoDB and must then call readycache_store */
};

/* What a probe at now_ms does: answer from a fresh answer; else refresh when no refresh is in
 * flight; else answer with the last answer (stale by less than the refresh takes) or, before the
 * first answer, 503 "readiness is being checked". */
enum readycache_step readycache_begin(struct readycache *rc, int64_t now_ms, struct readycache_answer *out);

/* Stores a refresh's answer (message: why not ready; ignored when ready) and ends the refresh. */
void readycache_store(struct readycache *rc, int64_t now_ms, int ready, const char *message);

#endif
