#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "jsontext.h"

static const struct {
    const char *name;
    enum http_method method;
} methods[] = {
    {"GET", HTTP_GET},     {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},       {"PUT", HTTP_PUT},
    {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
};

const char *http_method_name(enum http_method method)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == method)
            return methods[i].name;
    return "OTHER";
}

enum http_method http_method_parse(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, methods[i].name) == 0)
            return methods[i].method;
    return HTTP_OTHER;
}

void http_response_clean_up(struct http_response *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    memset(resp, 0, sizeof *resp);
}

/* Takes ownership of value (even on failure). */
static int add_header_owned(struct http_response *resp, const char *name, char *value)
{
    struct http_header *grown =
        value != NULL ? realloc(resp->headers, (resp->n_headers + 1) * sizeof *grown) : NULL;
    if (grown != NULL)
        resp->headers = grown;
    struct http_header *h = grown != NULL ? &grown[resp->n_headers] : NULL;
    if (h == NULL || (h->name = strdup(name)) == NULL) {
        free(value);
        return -1;
    }
    h->value = value;
    resp->n_headers++;
    return 0;
}

int http_response_add_header(struct http_response *resp, const char *name, const char *value)
{
    return add_header_owned(resp, name, strdup(value));
}

int http_response_add_headerf(struct http_response *resp, const char *name, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *value = NULL;
    int n = vasprintf(&value, format, ap);
    va_end(ap);
    return add_header_owned(resp, name, n < 0 ? NULL : value);
}

const char *http_response_header(const struct http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

/* Percent-decodes; with form_plus, '+' means a space (query strings). */
static char *decode(const char *src, size_t len, int form_plus)
{
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_digit_value(src[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit_value(src[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '\0') {
            free(out);
            return NULL;
        } else if (c == '+' && form_plus) {
            c = ' ';
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return out;
}

char *http_percent_decode(const char *src, size_t len)
{
    return decode(src, len, 0);
}

char *http_query_param(const char *query, const char *name, int *malformed)
{
    *malformed = 0;
    if (query == NULL)
        return NULL;
    size_t name_len = strlen(name);
    const char *p = query;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t key_len = eq ? (size_t)(eq - p) : len;
        char *key = decode(p, key_len, 1);
        int match = key != NULL && strlen(key) == name_len && memcmp(key, name, name_len) == 0;
        free(key);
        if (match) {
            const char *value = eq ? eq + 1 : p + len;
            char *decoded = decode(value, (size_t)(p + len - value), 1);
            if (decoded == NULL)
                *malformed = 1;
            return decoded;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return NULL;
}

void http_respond(struct http_exchange *ex, int status, char *body)
{
    http_response_clean_up(&ex->resp);
    ex->resp.status = status;
    ex->resp.body = body;
    ex->resp.body_len = body ? strlen(body) : 0;
}

void http_respond_error(struct http_exchange *ex, int status, const char *code, const char *message,
                        json_t *errors)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "message", message, "code", code, "requestId",
                             ex->req.request_id ? ex->req.request_id : "");
    if (body != NULL && errors != NULL)
        json_object_set(body, "errors", errors);
    json_decref(errors);
    struct buf text = BUF_INIT;
    int written = body != NULL && json_write_value(&text, body) == 0;
    json_decref(body);
    /* Out of memory: still answer, with a body that needs no allocation to build. */
    char *stolen = written ? buf_steal(&text) : NULL;
    buf_clean_up(&text);
    http_respond(ex, stolen ? status : 500,
                 stolen ? stolen : strdup("{\"message\":\"out of memory\",\"code\":\"internal_error\"}"));
}

void http_framing_add(struct http_framing *f, const char *name, const char *value)
{
    if (strcasecmp(name, "Content-Length") == 0) {
        if (f->content_lengths++ == 0)
            f->first_length = value;
        else if (strcmp(f->first_length, value) != 0)
            f->differing_lengths = 1;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        f->only_chunked = (f->transfer_encodings++ == 0 || f->only_chunked) && strcasecmp(value, "chunked") == 0;
    } else if (strcasecmp(name, "Host") == 0) {
        f->hosts++;
    }
}

const char *http_framing_error(const struct http_framing *f, int http11)
{
    if (f->differing_lengths)
        return "conflicting Content-Length headers";
    if (f->content_lengths > 0 && f->transfer_encodings > 0)
        return "both Content-Length and Transfer-Encoding";
    if (!http11 && f->transfer_encodings > 0)
        return "Transfer-Encoding in an HTTP/1.0 request";
    if (f->transfer_encodings > 1 || (f->transfer_encodings == 1 && !f->only_chunked))
        return "unsupported Transfer-Encoding (only chunked is accepted)";
    if (f->hosts > 1)
        return "more than one Host header";
    if (http11 && f->hosts == 0)
        return "an HTTP/1.1 request needs a Host header";
    return NULL;
}

/* 1 when s starts with n lowercase hex digits, not all zero. */
static int lower_hex_nonzero(const char *s, size_t n)
{
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

int http_traceparent_trace_id(const char *v, char out[33])
{
    size_t len = strlen(v);
    if (len < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || (len > 55 && v[55] != '-'))
        return -1;
    if (!(lower_hex_nonzero(v, 2) || (v[0] == '0' && v[1] == '0')) || (v[0] == 'f' && v[1] == 'f') ||
        (v[0] == '0' && v[1] == '0' && len != 55))
        return -1;
    if (!lower_hex_nonzero(v + 3, 32) || !lower_hex_nonzero(v + 36, 16) ||
        !(lower_hex_nonzero(v + 53, 2) || (v[53] == '0' && v[54] == '0')))
        return -1;
    memcpy(out, v + 3, 32);
    out[32] = '\0';
    return 0;
}
