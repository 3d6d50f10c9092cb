/* fake_app: drives app_handle (router, handlers, model, writers) the way the
 * server does, with no sockets and no DynamoDB: its struct app sends through
 * fake_send, so the harnesses link every library object but ddb.o, server.o and main.o.
 * Each DynamoDB request a handler sends is checked (its JSON text is what
 * json_dumps writes and parses back to the same tree) and answered by the
 * harness. Single-threaded, like a libFuzzer run. */
#ifndef USERSVC_FAKE_APP_H
#define USERSVC_FAKE_APP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ddb.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One request as the server adapter would build it. NULL headers are absent. */
struct fake_request {
    enum http_method method;
    const char *path;
    const char *query; /* "" when none */
    const char *body;  /* not NUL-terminated; NULL for none */
    size_t body_len;
    const char *content_type;
    const char *if_match;
    const char *if_none_match;
};

/* Answers one DynamoDB operation: fills result->status (and error_code and
 * message for DDB_ERROR) and returns the body (a new reference the fake
 * releases after the callback, or NULL). */
typedef json_t *fake_answer(void *ctx, const char *operation, const json_t *request, struct ddb_result *result);

/* Routes and handles req, answering DynamoDB calls with answer until the
 * exchange is finished, then checks the response: a status from 200 to 599,
 * JSON text for any body, an Allow header on 405 and OPTIONS, no body on 204
 * and 304. Aborts on a broken invariant. The response is moved into *resp
 * (release with http_response_clean_up). */
void fake_app_handle(const struct fake_request *req, fake_answer *answer, void *ctx, struct http_response *resp);

/* Aborts unless text[0..len) is JSON that jansson parses back (a number too
 * large for a double is JSON jansson declines: accepted). Returns the parsed
 * value (caller decrefs), or NULL for that one accepted case. */
json_t *fake_check_json(const char *text, size_t len);

/* The cursor key of the fake app's configuration. */
#define FAKE_CURSOR_KEY "fuzz-cursor-key"

/* Aborts with a message naming the broken invariant. */
#define FAKE_ASSERT(cond)                                                                                \
    ((cond) ? (void)0 : fake_fail(__FILE__, __LINE__, #cond))
void fake_fail(const char *file, int line, const char *what) __attribute__((noreturn));

#endif
