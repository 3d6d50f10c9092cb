#include "openapi.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* The Makefile defines both from config/openapi.json: the file's path for .incbin, and a hash of
 * its bytes for the ETag (so the tag changes exactly when the document does). */
#if !defined(OPENAPI_FILE) || !defined(OPENAPI_ETAG)
#error "build with -DOPENAPI_FILE='\"config/openapi.json\"' -DOPENAPI_ETAG='\"<16 hex digits>\"' (see the Makefile)"
#endif

/* The file's bytes between two local symbols, read-only; the assembler includes the file. */
__asm__(".pushsection .rodata\n"
        ".balign 16\n"
        "usersvc_openapi_start:\n"
        ".incbin \"" OPENAPI_FILE "\"\n"
        "usersvc_openapi_end:\n"
        ".popsection\n");
extern const char usersvc_openapi_start[], usersvc_openapi_end[];

const char *openapi_document(size_t *len)
{
    *len = (size_t)(usersvc_openapi_end - usersvc_openapi_start);
    return usersvc_openapi_start;
}

const char *openapi_etag(void)
{
    return "\"" OPENAPI_ETAG "\"";
}

/* 1 when an If-None-Match list names the tag (weak comparison, RFC 9110 §13.1.2) or is "*". */
static int none_match(const char *header, const char *etag)
{
    size_t etag_len = strlen(etag);
    const char *p = header;
    for (;;) {
        p += strspn(p, " \t,");
        if (*p == '\0')
            return 0;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, etag_len) == 0 && (p[etag_len] == '\0' || strchr(" \t,", p[etag_len]) != NULL))
            return 1;
        p += strcspn(p, ",");
    }
}

void openapi_serve(const struct app *app, struct http_exchange *ex, const struct route_params *params)
{
    const char *inm = ex->req.header(&ex->req, "If-None-Match");
    if (inm != NULL && none_match(inm, openapi_etag())) {
        http_respond(ex, 304, NULL);
    } else {
        size_t len;
        const char *doc = openapi_document(&len);
        char *body = malloc(len + 1); /* http_respond measures it */
        if (body == NULL) {
            errors_respond(ex, ERR_INTERNAL, "out of memory", NULL);
            return;
        }
        memcpy(body, doc, len);
        body[len] = '\0';
        http_respond(ex, 200, body);
    }
    if (http_response_add_header(&ex->resp, "ETag", openapi_etag()) != 0)
        errors_respond(ex, ERR_INTERNAL, "out of memory", NULL);
}
