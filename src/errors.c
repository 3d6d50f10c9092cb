#include "errors.h"

static const struct {
    int status;
    const char *code;
} table[ERR_COUNT] = {
    [ERR_BAD_REQUEST] = {400, "bad_request"},
    [ERR_INVALID_JSON] = {400, "invalid_json"},
    [ERR_INVALID_QUERY] = {400, "invalid_query"},
    [ERR_INVALID_CURSOR] = {400, "invalid_cursor"},
    [ERR_VALIDATION_FAILED] = {400, "validation_failed"},
    [ERR_INVALID_REQUEST] = {400, "invalid_request"},
    [ERR_UNAUTHORIZED] = {401, "unauthorized"},
    [ERR_INVALID_TOKEN] = {401, "invalid_token"},
    [ERR_INSUFFICIENT_SCOPE] = {403, "insufficient_scope"},
    [ERR_NOT_FOUND] = {404, "not_found"},
    [ERR_USER_NOT_FOUND] = {404, "user_not_found"},
    [ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
    [ERR_CONCURRENT_UPDATE] = {409, "concurrent_update"},
    [ERR_EMAIL_TAKEN] = {409, "email_taken"},
    [ERR_VERSION_EXHAUSTED] = {409, "version_exhausted"},
    [ERR_PRECONDITION_FAILED] = {412, "precondition_failed"},
    [ERR_BODY_TOO_LARGE] = {413, "body_too_large"},
    [ERR_ITEM_TOO_LARGE] = {413, "item_too_large"},
    [ERR_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type"},
    [ERR_RATE_LIMITED] = {429, "rate_limited"},
    [ERR_TOO_MANY_FROM_ADDRESS] = {429, "too_many_connections"},
    [ERR_INTERNAL] = {500, "internal_error"},
    [ERR_BAD_GATEWAY] = {502, "bad_gateway"},
    [ERR_BACKEND_UNAVAILABLE] = {503, "backend_unavailable"},
    [ERR_THROTTLED] = {503, "throttled"},
    [ERR_NOT_READY] = {503, "not_ready"},
    [ERR_TOO_MANY_CONNECTIONS] = {503, "too_many_connections"},
    [ERR_BACKEND_TIMEOUT] = {504, "backend_timeout"},
};

int errors_status(enum err_code code)
{
    return code >= 0 && code < ERR_COUNT ? table[code].status : 500;
}

const char *errors_code(enum err_code code)
{
    return code >= 0 && code < ERR_COUNT ? table[code].code : "internal_error";
}

void errors_respond(struct http_exchange *ex, enum err_code code, const char *message, json_t *details)
{
    http_respond_error(ex, errors_status(code), errors_code(code), message, details);
}
