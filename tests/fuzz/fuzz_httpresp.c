/* fuzz_httpresp: upstream HTTP/1.1 responses through the strict reader
 * (src/httpresp.c). The first byte picks the piece size the bytes arrive in
 * (low 4 bits; 0: all at once), whether the request was HEAD (bit 4) and a
 * small body limit (bit 5); bit 6 ends the connection after the bytes.
 * Invariants: the answer does not depend on how the bytes are split (state,
 * bytes used, status, body, keep-alive); a finished response has a status
 * from 200 to 599, a NUL-terminated body within the limit and wanted values
 * inside its head; once finished the reader takes no more bytes; an error
 * says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpresp.h"

static const char *const want[] = {"x-amz-crc32", "x-amz-retry-after", NULL};

struct result {
    enum httpresp_state state;
    size_t used;
};

static struct result run(struct httpresp *r, const char *data, size_t len, size_t step, int eof)
{
    struct result out = {HTTPRESP_MORE, 0};
    while (out.state == HTTPRESP_MORE && out.used < len) {
        size_t n = step == 0 || len - out.used < step ? len - out.used : step, used = 0;
        out.state = httpresp_feed(r, data + out.used, n, &used);
        if (used > n)
            abort();
        if (out.state == HTTPRESP_MORE && used != n)
            abort(); /* more is wanted but bytes were left */
        out.used += used;
    }
    if (out.state == HTTPRESP_MORE && eof)
        out.state = httpresp_eof(r);
    return out;
}

static void check_done(const struct httpresp *r)
{
    if (r->status < 200 || r->status > 599 || r->body.len > r->max_body)
        abort();
    if (r->body.data != NULL && r->body.data[r->body.len] != '\0')
        abort();
    for (size_t i = 0; i < HTTPRESP_MAX_WANTED; i++)
        if (r->wanted[i] != NULL && (r->wanted[i] < r->head.data || r->wanted[i] >= r->head.data + r->head.len))
            abort();
    size_t used = 1;
    if (httpresp_feed((struct httpresp *)r, "x", 1, &used) != HTTPRESP_DONE || used != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1, step = flags & 15, max_body = flags & 32 ? 64 : 0;
    int head = (flags & 16) != 0, eof = (flags & 64) != 0;

    struct httpresp whole, pieces;
    httpresp_init(&whole);
    httpresp_init(&pieces);
    httpresp_begin(&whole, want, head, 2048, max_body);
    httpresp_begin(&pieces, want, head, 2048, max_body);
    struct result a = run(&whole, text, len, 0, eof), b = run(&pieces, text, len, step, eof);
    if (a.state != b.state)
        abort();
    if (a.state == HTTPRESP_DONE) {
        if (a.used != b.used || whole.status != pieces.status || whole.keep_alive != pieces.keep_alive ||
            whole.body.len != pieces.body.len ||
            (whole.body.len > 0 && memcmp(whole.body.data, pieces.body.data, whole.body.len) != 0))
            abort();
        check_done(&whole);
        check_done(&pieces);
    } else if (a.state != HTTPRESP_MORE && (whole.error == NULL || pieces.error == NULL)) {
        abort();
    }
    httpresp_clean_up(&whole);
    httpresp_clean_up(&pieces);
    return 0;
}
