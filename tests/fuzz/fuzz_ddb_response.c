/* fuzz_ddb_response: DynamoDB response bodies. The first byte picks the
 * request (GET by id: GetItem; GET /users: Scan; the two email lookups:
 * Query; PATCH and DELETE: GetItem then a write) and whether DynamoDB
 * answers 200 or an error; the rest is the body DynamoDB sends for every
 * call. It is parsed as ddb.c parses it (json_loadb, __type and message for
 * errors) and goes through users.c's handling, attrval.c's unmarshalling and
 * user.c's writer.
 * Invariants: the response passes fake_app.c's checks (its body is JSON that
 * jansson parses back, status 200-599); a 200 for one user is an object, a
 * list is an array of objects; nothing loops (at most 64 DynamoDB calls). */
#include <stdlib.h>
#include <string.h>

#include "fake_app.h"

#define USER_ID "0b5f2f5e-4a57-4c55-9d1a-6f1f4b1a7d3e"

struct input {
    const char *body;
    size_t len;
    int error; /* answer as a DynamoDB error (400) instead of 200 */
};

static json_t *answer(void *ctx, const char *operation, const json_t *request, struct ddb_result *result)
{
    struct input *in = ctx;
    json_t *body = json_loadb(in->body, in->len, 0, NULL);
    if (!in->error) {
        result->status = body != NULL ? DDB_OK : DDB_BAD_RESPONSE;
        return body;
    }
    result->status = DDB_ERROR;
    result->http_status = 400;
    const char *type = json_string_value(json_object_get(body, "__type"));
    const char *message = json_string_value(json_object_get(body, "message"));
    if (message == NULL)
        message = json_string_value(json_object_get(body, "Message"));
    const char *hash = type ? strrchr(type, '#') : NULL;
    result->error_code = hash ? hash + 1 : type ? type : "";
    result->message = message ? message : "DynamoDB answered with an error";
    return body;
}

static const struct {
    enum http_method method;
    const char *path, *query, *body;
    int list;
} requests[] = {
    {HTTP_GET, "/users/" USER_ID, "", NULL, 0},
    {HTTP_GET, "/users", "limit=2", NULL, 1},
    {HTTP_GET, "/users", "email=ada@example.com", NULL, 1},
    {HTTP_GET, "/users/by-email/ada@example.com", "", NULL, 0},
    {HTTP_PATCH, "/users/" USER_ID, "", "{\"email\":\"grace@example.com\",\"age\":null}", 0},
    {HTTP_PATCH, "/users/" USER_ID, "", "{\"name\":\"Grace\"}", 0},
    {HTTP_DELETE, "/users/" USER_ID, "", NULL, 0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t which = (data[0] & 0x7f) % (sizeof requests / sizeof requests[0]);
    struct input in = {(const char *)data + 1, size - 1, data[0] >> 7};
    struct fake_request req = {
        .method = requests[which].method,
        .path = requests[which].path,
        .query = requests[which].query,
        .body = requests[which].body,
        .body_len = requests[which].body ? strlen(requests[which].body) : 0,
        .content_type = "application/json",
        .if_match = which == 6 ? "\"1\"" : NULL,
    };
    struct http_response resp;
    fake_app_handle(&req, answer, &in, &resp);
    if (resp.status == 200 && resp.body != NULL) {
        json_t *body = fake_check_json(resp.body, resp.body_len);
        if (body != NULL && requests[which].list) {
            size_t i;
            json_t *user;
            FAKE_ASSERT(json_is_array(body));
            json_array_foreach(body, i, user)
                FAKE_ASSERT(json_is_object(user));
        } else if (body != NULL) {
            FAKE_ASSERT(json_is_object(body));
        }
        json_decref(body);
    }
    http_response_clean_up(&resp);
    return 0;
}
