/* errors: the one table of API error codes. Each names the "code" member of
 * the JSON error body and the status it is sent with; the message is the
 * caller's. Handlers, the router and the server adapter answer errors only
 * through it, so a code means one status everywhere. */
#ifndef USERSVC_ERRORS_H
#define USERSVC_ERRORS_H

#include <jansson.h>

#include "http.h"

enum err_code {
    ERR_BAD_REQUEST,            /* 400 bad_request: framing the server refuses */
    ERR_INVALID_JSON,           /* 400 invalid_json */
    ERR_INVALID_QUERY,          /* 400 invalid_query */
    ERR_INVALID_CURSOR,         /* 400 invalid_cursor */
    ERR_VALIDATION_FAILED,      /* 400 validation_failed (with "errors") */
    ERR_INVALID_REQUEST,        /* 400 invalid_request: two credentials (RFC 6750 §3.1) */
    ERR_UNAUTHORIZED,           /* 401 unauthorized: no credentials */
    ERR_INVALID_TOKEN,          /* 401 invalid_token: a token or API key that is not valid */
    ERR_INSUFFICIENT_SCOPE,     /* 403 insufficient_scope */
    ERR_NOT_FOUND,              /* 404 not_found: no such route */
    ERR_USER_NOT_FOUND,         /* 404 user_not_found */
    ERR_METHOD_NOT_ALLOWED,     /* 405 method_not_allowed */
    ERR_CONCURRENT_UPDATE,      /* 409 concurrent_update */
    ERR_EMAIL_TAKEN,            /* 409 email_taken */
    ERR_VERSION_EXHAUSTED,      /* 409 version_exhausted */
    ERR_PRECONDITION_FAILED,    /* 412 precondition_failed */
    ERR_BODY_TOO_LARGE,         /* 413 body_too_large */
    ERR_ITEM_TOO_LARGE,         /* 413 item_too_large */
    ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 unsupported_media_type */
    ERR_RATE_LIMITED,           /* 429 rate_limited: the principal is over RATE_LIMIT */
    ERR_TOO_MANY_FROM_ADDRESS,  /* 429 too_many_connections: one address holds too many */
    ERR_INTERNAL,               /* 500 internal_error */
    ERR_BAD_GATEWAY,            /* 502 bad_gateway */
    ERR_BACKEND_UNAVAILABLE,    /* 503 backend_unavailable */
    ERR_THROTTLED,              /* 503 throttled */
    ERR_NOT_READY,              /* 503 not_ready */
    ERR_TOO_MANY_CONNECTIONS,   /* 503 too_many_connections: the service as a whole is full */
    ERR_BACKEND_TIMEOUT,        /* 504 backend_timeout */
    ERR_COUNT
};

/* The HTTP status of an error code. */
int errors_status(enum err_code code);

/* The "code" member of an error code ("user_not_found"), static. */
const char *errors_code(enum err_code code);

/* Answers ex with the error's status and {"message","code","requestId"[,"errors"]}
 * (http_respond_error). details (stolen, may be NULL) is a JSON array of {"field","message"}. */
void errors_respond(struct http_exchange *ex, enum err_code code, const char *message, json_t *details);

#endif
