/* fuzz_jsonread: jsonread_parse against jansson's json_loadb, which it stands in for on DynamoDB's
 * answers and client bodies. The first byte picks the flags (JSON_REJECT_DUPLICATES, JSON_DECODE_ANY);
 * the rest is the text. Both must accept or both refuse (but for jansson's NUL quirk below), and
 * what is accepted must be an equal tree whose objects list their keys in the same order
 * (json_equal ignores order; the user's JSON is written in the stored item's order). */
#include <stdlib.h>
#include <string.h>

#include "fake_app.h"
#include "jsonread.h"

/* 1 when a and b (json_equal already) also list every object's keys in the same order. */
static int same_order(const json_t *a, const json_t *b)
{
    if (json_is_array(a)) {
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_order(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (!json_is_object(a))
        return 1;
    void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
    for (; ia != NULL && ib != NULL; ia = json_object_iter_next((json_t *)a, ia),
                                     ib = json_object_iter_next((json_t *)b, ib)) {
        size_t la = json_object_iter_key_len(ia), lb = json_object_iter_key_len(ib);
        if (la != lb || memcmp(json_object_iter_key(ia), json_object_iter_key(ib), la) != 0 ||
            !same_order(json_object_iter_value(ia), json_object_iter_value(ib)))
            return 0;
    }
    return ia == NULL && ib == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t flags = ((data[0] & 1) ? JSON_REJECT_DUPLICATES : 0) | ((data[0] & 2) ? JSON_DECODE_ANY : 0);
    /* A copy of exactly the text, so reading past it is caught. */
    char *text = malloc(size - 1 > 0 ? size - 1 : 1);
    FAKE_ASSERT(text != NULL);
    memcpy(text, data + 1, size - 1);
    json_t *ours = jsonread_parse(text, size - 1, flags);
    json_t *theirs = json_loadb(text, size - 1, flags, NULL);
    /* The one difference allowed: jansson drops a NUL byte that follows a number or a literal
     * ("[1\0]" reads as [1]); jsonread refuses every NUL outside a string, as RFC 8259 does. */
    FAKE_ASSERT((ours == NULL) == (theirs == NULL) || (ours == NULL && memchr(text, '\0', size - 1) != NULL));
    if (theirs != NULL && ours == NULL) {
        json_decref(theirs);
        theirs = NULL;
    }
    if (ours != NULL) {
        FAKE_ASSERT(json_equal(ours, theirs));
        FAKE_ASSERT(same_order(ours, theirs));
    }
    json_decref(ours);
    json_decref(theirs);
    free(text);
    return 0;
}
