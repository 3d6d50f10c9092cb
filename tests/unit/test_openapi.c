/* test_openapi: the document embedded in the binary is config/openapi.json byte for byte and
 * parses as OpenAPI 3.1 JSON; its ETag; GET /openapi.json's answers to If-None-Match (weak
 * comparison, lists, "*", near misses). Run from the repository root (make unit does). */
#include "openapi.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"

static const char *fake_header(const struct http_request *req, const char *name)
{
    return strcasecmp(name, "If-None-Match") == 0 ? req->header_ctx : NULL;
}

/* Serves GET /openapi.json with the given If-None-Match (NULL: none) into *resp (caller cleans up). */
static void serve(const char *if_none_match, struct http_response *resp)
{
    struct http_exchange ex = {
        .req = {.method = HTTP_GET, .path = "/openapi.json", .query = "", .request_id = "t-1",
                .header = fake_header, .header_ctx = (void *)if_none_match},
    };
    openapi_serve(NULL, &ex, NULL);
    *resp = ex.resp;
}

static void test_document(void)
{
    size_t len;
    const char *doc = openapi_document(&len);
    FILE *f = fopen("config/openapi.json", "rb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    char *file = malloc(len + 2);
    size_t n = fread(file, 1, len + 1, f); /* one more byte than embedded: the sizes must be equal */
    fclose(f);
    CHECK_INT_EQ(n, len);
    CHECK(n == len && memcmp(file, doc, len) == 0);
    free(file);

    json_error_t err;
    json_t *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &err);
    CHECK(root != NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(root, "openapi")), "3.1.0");
    CHECK(json_object_get(json_object_get(root, "paths"), "/openapi.json") != NULL);
    json_decref(root);

    const char *etag = openapi_etag();
    CHECK_INT_EQ(strlen(etag), 18);
    CHECK(etag[0] == '"' && etag[17] == '"' && strspn(etag + 1, "0123456789abcdef") == 16);
}

static void test_serve(void)
{
    size_t len;
    const char *doc = openapi_document(&len);
    const char *etag = openapi_etag();
    struct http_response r;

    serve(NULL, &r);
    CHECK_INT_EQ(r.status, 200);
    CHECK_INT_EQ(r.body_len, len);
    CHECK(r.body != NULL && memcmp(r.body, doc, len) == 0);
    CHECK_STR_EQ(http_response_header(&r, "ETag"), etag);
    http_response_clean_up(&r);

    char weak[32], list[64], longer[32], bare[32], junk[32];
    snprintf(weak, sizeof weak, "W/%s", etag);
    snprintf(list, sizeof list, "\"1\", \"2\" ,%s", etag);
    snprintf(longer, sizeof longer, "%.17s0\"", etag);
    snprintf(bare, sizeof bare, "%.16s", etag + 1);
    snprintf(junk, sizeof junk, "%sx", etag); /* not one entity tag: no match */
    const struct {
        const char *header;
        int status;
    } cases[] = {
        {etag, 304}, {weak, 304}, {list, 304}, {"*", 304}, {" *", 304},
        {"\"1\"", 200}, {longer, 200}, {bare, 200}, {junk, 200}, {"", 200}, {",,", 200}, {"W/", 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        serve(cases[i].header, &r);
        CHECK_INT_EQ(r.status, cases[i].status);
        if (r.status != cases[i].status)
            fprintf(stderr, "     If-None-Match: %s\n", cases[i].header);
        CHECK(cases[i].status == 304 ? r.body == NULL : r.body_len == len);
        CHECK_STR_EQ(http_response_header(&r, "ETag"), etag); /* both answers carry it */
        http_response_clean_up(&r);
    }
}

int main(void)
{
    RUN(test_document);
    RUN(test_serve);
    return check_summary();
}
