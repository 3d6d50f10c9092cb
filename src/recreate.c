#include "recreate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsontext.h"
#include "log.h"

void recreate_init(struct recreate *r)
{
    atomic_init(&r->next_ms, 0);
}

int recreate_claim(struct recreate *r, long long now_ms)
{
    long long next = atomic_load_explicit(&r->next_ms, memory_order_relaxed);
    /* Of the workers that see the interval over at once, the one whose exchange lands sends. */
    return now_ms >= next && atomic_compare_exchange_strong(&r->next_ms, &next, now_ms + RECREATE_INTERVAL_MS);
}

struct recreate_call {
    char table[256];
};

static void recreate_done(void *ctx, const struct ddb_result *result)
{
    struct recreate_call *call = ctx;
    if (result->status == DDB_OK) {
        log_info("table %s: CreateTable accepted (AUTO_CREATE_TABLE); requests answer again once it is ACTIVE",
                 call->table);
    } else if (result->status == DDB_ERROR && strcmp(result->error_code, "ResourceInUseException") == 0) {
        log_info("table %s: CreateTable found it exists again (being created or just created)", call->table);
    } else {
        char detail[512];
        ddb_result_describe(result, detail, sizeof detail);
        log_warn("table %s: CreateTable failed (%s); tried again in %d s if requests still find it missing",
                 call->table, detail, RECREATE_INTERVAL_MS / 1000);
    }
    free(call);
}

int recreate_request(struct recreate *r, recreate_send_fn *send, void *send_ctx, const struct model_table *table,
                     long long now_ms)
{
    if (!recreate_claim(r, now_ms))
        return 0;
    struct recreate_call *call = malloc(sizeof *call);
    if (call == NULL)
        return 0;
    snprintf(call->table, sizeof call->table, "%s", table->table);
    log_warn("table %s is missing; creating it again with index %s (AUTO_CREATE_TABLE)", table->table,
             table->email_index);
    struct buf body = BUF_INIT;
    json_t *request = model_create_table(table);
    int written = request != NULL && json_write_value(&body, request) == 0;
    json_decref(request);
    if (!written) {
        buf_clean_up(&body);
        free(call);
        return 0;
    }
    size_t len = body.len;
    /* Not recorded in the request's access line: the call outlives the request that asked for it. */
    if (send(send_ctx, "CreateTable", buf_steal(&body), len, NULL, recreate_done, call) != 0) {
        free(call); /* shutting down */
        return 0;
    }
    return 1;
}
