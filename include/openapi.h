/* openapi: GET /openapi.json, the API's OpenAPI 3.1 document (config/openapi.json), embedded in
 * the binary at build time, so the document served is always the one the binary was built with. */
#ifndef USERSVC_OPENAPI_H
#define USERSVC_OPENAPI_H

#include <stddef.h>

#include "router.h"

/* The document's bytes (borrowed, static; not NUL-terminated) and their length. */
const char *openapi_document(size_t *len);

/* Its strong entity tag ("\"<16 hex digits>\""), computed from the bytes by the Makefile. Static. */
const char *openapi_etag(void);

/* The route handler: 200 with the document and its ETag, or 304 when If-None-Match matches it. */
route_handler openapi_serve;

#endif
