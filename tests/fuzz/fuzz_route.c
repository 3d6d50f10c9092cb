/* fuzz_route: request targets. The first byte picks the method; the rest, up
 * to a NUL, is the target "path?query" as libmicrohttpd hands it over. It goes
 * through http.c's percent-decoding and query parameters, router.c's matching
 * and app.c's handlers (email lookups, limits and cursors), with a fake
 * DynamoDB that finds nothing.
 * Invariants: a decoded path or parameter never holds a NUL (its length is
 * what its escapes predict) and is never longer than its text; the response
 * passes fake_app.c's checks (JSON body, status, Allow on 405 and OPTIONS);
 * a route that takes no parameter never answers 404 for an unknown user. */
#include <stdlib.h>
#include <string.h>

#include "fake_app.h"
#include "http.h"

static const enum http_method methods[] = {HTTP_GET,   HTTP_HEAD,   HTTP_POST,    HTTP_PUT,
                                           HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER};

static json_t *answer(void *ctx, const char *operation, const json_t *request, struct ddb_result *result)
{
    result->status = DDB_OK;
    if (strcmp(operation, "Scan") == 0 || strcmp(operation, "Query") == 0)
        return json_pack("{s:[], s:i}", "Items", "Count", 0);
    return json_object(); /* GetItem: no Item */
}

/* Decodes text[0..len) and checks the result against its escapes. */
static void check_decode(const char *text, size_t len)
{
    size_t escapes = 0;
    for (size_t i = 0; i < len; i++)
        escapes += text[i] == '%';
    char *decoded = http_percent_decode(text, len);
    if (decoded != NULL)
        FAKE_ASSERT(strlen(decoded) == len - 2 * escapes);
    free(decoded);
}

static void check_param(const char *query, const char *name)
{
    int malformed = -1;
    char *value = http_query_param(query, name, &malformed);
    FAKE_ASSERT(malformed == 0 || malformed == 1);
    FAKE_ASSERT(!(malformed && value != NULL));
    if (value != NULL)
        FAKE_ASSERT(strlen(value) <= strlen(query));
    free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *target = strndup((const char *)data + 1, size - 1);
    FAKE_ASSERT(target != NULL);
    char *question = strchr(target, '?');
    const char *query = "";
    if (question != NULL) {
        *question = '\0';
        query = question + 1;
    }
    check_decode(target, strlen(target));
    check_decode((const char *)data + 1, size - 1); /* raw bytes, NULs included: refused */
    check_param(query, "email");
    check_param(query, "limit");
    check_param(query, "cursor");

    struct fake_request req = {
        .method = methods[data[0] % (sizeof methods / sizeof methods[0])],
        .path = target,
        .query = query,
    };
    struct http_response resp;
    fake_app_handle(&req, answer, NULL, &resp);
    if (strcmp(target, "/users") == 0 || strcmp(target, "/users/") == 0)
        FAKE_ASSERT(resp.status != 404);
    http_response_clean_up(&resp);
    free(target);
    return 0;
}
