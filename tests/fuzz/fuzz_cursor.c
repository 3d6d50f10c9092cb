/* fuzz_cursor: the pagination cursor (cursor.c). With the first byte even,
 * the rest is a cursor from a client: cursor_decode must refuse it or return
 * an id of 1-1024 bytes that encodes back to exactly the same text (one text
 * per id, so no edited cursor decodes). With it odd, the rest is an id from a
 * Scan: a cursor made from it decodes back to it, and changing any one of its
 * characters makes it undecodable. */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "fake_app.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = strndup((const char *)data + 1, size - 1); /* the service sees C strings */
    FAKE_ASSERT(text != NULL);
    size_t len = strlen(text);
    if ((data[0] & 1) == 0) {
        char *id = cursor_decode(FAKE_CURSOR_KEY, text);
        if (id != NULL) {
            FAKE_ASSERT(strlen(id) >= 1 && strlen(id) <= CURSOR_MAX_ID);
            char *again = cursor_encode(FAKE_CURSOR_KEY, id);
            FAKE_ASSERT(again != NULL && strcmp(again, text) == 0);
            free(again);
        }
        free(id);
        free(text);
        return 0;
    }
    char *cursor = cursor_encode(FAKE_CURSOR_KEY, text);
    FAKE_ASSERT((cursor != NULL) == (len >= 1 && len <= CURSOR_MAX_ID));
    if (cursor != NULL) {
        FAKE_ASSERT(strspn(cursor, alphabet) == strlen(cursor));
        char *id = cursor_decode(FAKE_CURSOR_KEY, cursor);
        FAKE_ASSERT(id != NULL && strcmp(id, text) == 0);
        free(id);
        FAKE_ASSERT(cursor_decode("another-key", cursor) == NULL);
        size_t at = (data[0] >> 1) % strlen(cursor);
        cursor[at] = cursor[at] == 'A' ? 'B' : 'A';
        FAKE_ASSERT(cursor_decode(FAKE_CURSOR_KEY, cursor) == NULL);
    }
    free(cursor);
    free(text);
    return 0;
}
