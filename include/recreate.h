/* recreate: with AUTO_CREATE_TABLE, a table that disappears while the service runs (an in-memory
 * DynamoDB Local restarted) is created again. A request that meets ResourceNotFoundException asks;
 * one CreateTable per RECREATE_INTERVAL_MS goes out for the whole process, sent asynchronously on
 * the asking worker's own DynamoDB client, so a storm of failing requests costs one call. The
 * requests themselves still answer 503 until the table is ACTIVE again. */
#ifndef USERSVC_RECREATE_H
#define USERSVC_RECREATE_H

#include <stdatomic.h>

#include "ddb.h"
#include "model.h"

#define RECREATE_INTERVAL_MS 5000

/* Shared by every worker of the process; lives as long as they do. */
struct recreate {
    _Atomic long long next_ms; /* ms (the app's clock) before which no other CreateTable is sent */
};

void recreate_init(struct recreate *r);

/* 1 when the caller should send the CreateTable now (and no one else may until now_ms +
 * RECREATE_INTERVAL_MS), else 0. Safe from any thread. */
int recreate_claim(struct recreate *r, long long now_ms);

/* Sends one DynamoDB operation: struct app's send (op.h, app_send_fn): body is JSON text, always taken over. */
typedef int recreate_send_fn(void *send_ctx, const char *operation, char *body, size_t body_len,
                             struct log_calls *calls, ddb_callback *callback, void *ctx);

/* Claims at now_ms and, when granted, sends CreateTable for table through send (the caller's own
 * worker client); the outcome is logged. Returns 1 when sent. table is copied. */
int recreate_request(struct recreate *r, recreate_send_fn *send, void *send_ctx, const struct model_table *table,
                     long long now_ms);

#endif
