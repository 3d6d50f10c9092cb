/* fuzz_body: client request bodies. The first byte picks POST /users or
 * PATCH /users/{id} (with or without If-Match, either media type); the rest
 * is the body, handed over unterminated as libmicrohttpd does. It goes through
 * parse_body and user.c's validation, model.c's DynamoDB requests and
 * jsontext.c's writer, against a fake DynamoDB holding one user.
 * Invariants: every DynamoDB request's text is json_dumps' text and parses
 * back to the same tree (fake_app.c); the response body is JSON; a 201 or 200
 * answers a user whose id, name and email are strings and whose email is
 * lowercase; a 4xx carries a code. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fake_app.h"

#define USER_ID "0b5f2f5e-4a57-4c55-9d1a-6f1f4b1a7d3e"

/* The user the fake table holds, as GetItem returns it. */
static json_t *stored_user(void)
{
    return json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:[{s:s},{s:b}]}, s:{s:s}, s:{s:s}, s:{s:s}}",
                     "id", "S", USER_ID, "name", "S", "Ada", "email", "S", "ada@example.com",
                     "tags", "L", "S", "x", "BOOL", 1, "createdAt", "S", "2024-01-01T00:00:00.000Z",
                     "updatedAt", "S", "2024-01-01T00:00:00.000Z", "version", "N", "3");
}

static json_t *answer(void *ctx, const char *operation, const json_t *request, struct ddb_result *result)
{
    result->status = DDB_OK;
    if (strcmp(operation, "GetItem") == 0)
        return json_pack("{s:o}", "Item", stored_user());
    if (strcmp(operation, "UpdateItem") == 0)
        return json_pack("{s:o}", "Attributes", stored_user());
    return json_object(); /* TransactWriteItems */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    int is_post = (mode & 1) == 0;
    struct fake_request req = {
        .method = is_post ? HTTP_POST : HTTP_PATCH,
        .path = is_post ? "/users" : "/users/" USER_ID,
        .query = "",
        .body = (const char *)data + 1,
        .body_len = size - 1,
        .content_type = mode & 2 ? "application/merge-patch+json" : "application/json; charset=utf-8",
        .if_match = mode & 4 ? "\"3\"" : NULL,
    };
    struct http_response resp;
    fake_app_handle(&req, answer, NULL, &resp);

    json_t *body = resp.body ? fake_check_json(resp.body, resp.body_len) : NULL;
    if (resp.status == 200 || resp.status == 201) {
        FAKE_ASSERT(resp.status == (is_post ? 201 : 200));
        FAKE_ASSERT(!is_post || http_response_header(&resp, "Location") != NULL);
        const char *email = json_string_value(json_object_get(body, "email"));
        FAKE_ASSERT(json_is_string(json_object_get(body, "id")) && json_is_string(json_object_get(body, "name")));
        FAKE_ASSERT(email != NULL);
        for (const char *c = email; *c != '\0'; c++)
            FAKE_ASSERT(!isupper((unsigned char)*c));
    } else if (resp.status >= 400 && resp.status < 500) {
        FAKE_ASSERT(json_is_string(json_object_get(body, "code")));
    }
    json_decref(body);
    http_response_clean_up(&resp);
    return 0;
}
