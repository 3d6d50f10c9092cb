/* fuzz_sigv4: SigV4 canonicalisation (sigv4.c). The input is lines: method,
 * path, query, then "name:value" headers up to an empty line (at most 16),
 * then the body; the first byte of the method line set to '!' turns path
 * normalisation off. The request goes through sigv4_canonical_request and
 * sigv4_authorization.
 * Invariants, when the request is accepted: the canonical request is
 * "method\npath\nquery\n" + one "name:value\n" line per distinct header +
 * "\nsigned-headers\nhex(sha256(body))"; path and query hold only unreserved
 * bytes, '/', '=', '&' and upper-case %XX escapes; a normalised path has no
 * empty, "." or ".." segment; the signed headers are the lowercase names,
 * sorted, unique and ';'-joined; the canonical query is a fixed point (it
 * canonicalises to itself); the Authorization value is well formed. */
#include <stdlib.h>
#include <string.h>

#include "fake_app.h"
#include "sigv4.h"

#define MAX_HEADERS 16

static int is_unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static int is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* 1 when s[0..len) holds only unreserved bytes, the bytes in extra and %XX (upper-case hex). */
static int encoded_ok(const char *s, size_t len, const char *extra)
{
    for (size_t i = 0; i < len; i++) {
        if (is_unreserved(s[i]) || (s[i] != '\0' && strchr(extra, s[i]) != NULL))
            continue;
        if (s[i] != '%' || i + 2 >= len || !is_upper_hex(s[i + 1]) || !is_upper_hex(s[i + 2]))
            return 0;
        i += 2;
    }
    return 1;
}

/* The next line of text (split at '\n', NUL-terminated in place), or NULL at the end. */
static char *next_line(char **cursor, char *end)
{
    char *line = *cursor;
    if (line >= end)
        return NULL;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl == NULL)
        nl = end;
    *nl = '\0';
    *cursor = nl + 1;
    return line;
}

static void check(const struct sigv4_request *req, const char *creq, size_t creq_len, const char *names)
{
    /* method, path and query lines */
    const char *line[3];
    const char *p = creq;
    for (int i = 0; i < 3; i++) {
        line[i] = p;
        p = strchr(p, '\n');
        FAKE_ASSERT(p != NULL);
        p++;
    }
    size_t method_len = strlen(req->method);
    FAKE_ASSERT(strncmp(line[0], req->method, method_len) == 0 && line[0][method_len] == '\n');
    size_t path_len = (size_t)(line[2] - line[1] - 1), query_len = (size_t)(p - line[2] - 1);
    FAKE_ASSERT(path_len > 0 && line[1][0] == '/' && encoded_ok(line[1], path_len, "/"));
    FAKE_ASSERT(encoded_ok(line[2], query_len, "=&"));
    if (req->normalize_path) {
        char *path = strndup(line[1], path_len);
        FAKE_ASSERT(path != NULL);
        FAKE_ASSERT(strstr(path, "//") == NULL && strstr(path, "/./") == NULL && strstr(path, "/../") == NULL);
        FAKE_ASSERT(strcmp(path, "/.") != 0 && strcmp(path, "/..") != 0);
        size_t n = strlen(path);
        FAKE_ASSERT(!(n >= 2 && strcmp(path + n - 2, "/.") == 0) && !(n >= 3 && strcmp(path + n - 3, "/..") == 0));
        free(path);
    }

    /* the signed header names: sorted, unique, lowercase */
    for (const char *n = names; *n != '\0'; n++)
        FAKE_ASSERT(!(*n >= 'A' && *n <= 'Z'));
    const char *prev = NULL;
    size_t prev_len = 0, distinct = 0;
    for (const char *n = names; req->n_headers > 0;) {
        size_t len = strcspn(n, ";");
        FAKE_ASSERT(len > 0);
        if (prev != NULL) {
            int c = strncmp(prev, n, prev_len < len ? prev_len : len);
            FAKE_ASSERT(c < 0 || (c == 0 && prev_len < len));
        }
        prev = n, prev_len = len, distinct++;
        if (n[len] == '\0')
            break;
        n += len + 1;
    }

    /* one line per distinct header, then "\n" names "\n" hash */
    const char *h = p;
    for (size_t i = 0; i < distinct; i++) {
        h = strchr(h, '\n');
        FAKE_ASSERT(h != NULL);
        h++;
    }
    char hash[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex(req->body, req->body_len, hash);
    size_t names_len = strlen(names);
    FAKE_ASSERT(h[0] == '\n' && strncmp(h + 1, names, names_len) == 0 && h[1 + names_len] == '\n');
    FAKE_ASSERT(strcmp(h + 2 + names_len, hash) == 0 && (size_t)(h + 2 + names_len - creq) + SIGV4_HEX_LEN == creq_len);

    /* the canonical query canonicalises to itself */
    char *query = strndup(line[2], query_len);
    FAKE_ASSERT(query != NULL);
    struct sigv4_request again = *req;
    again.query = query;
    struct buf creq2 = BUF_INIT;
    FAKE_ASSERT(sigv4_canonical_request(&again, &creq2, NULL) == 0);
    FAKE_ASSERT(creq2.len == creq_len && memcmp(creq2.data, creq, creq_len) == 0);
    buf_clean_up(&creq2);
    free(query);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FAKE_ASSERT(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    char *cursor = text, *end = text + size;
    char *method = next_line(&cursor, end);
    char *path = next_line(&cursor, end);
    char *query = next_line(&cursor, end);
    struct sigv4_header headers[MAX_HEADERS];
    size_t n = 0;
    char *line;
    while (n < MAX_HEADERS && (line = next_line(&cursor, end)) != NULL && *line != '\0') {
        char *colon = strchr(line, ':');
        if (colon != NULL)
            *colon = '\0';
        headers[n++] = (struct sigv4_header){line, colon ? colon + 1 : ""};
    }
    if (method == NULL || path == NULL) {
        free(text);
        return 0;
    }
    int normalize = 1;
    if (method[0] == '!')
        method++, normalize = 0;
    const char *body = cursor < end ? cursor : "";
    struct sigv4_request req = {method, path, query, headers, n, body, (size_t)(end - (cursor < end ? cursor : end)),
                                normalize};

    struct buf creq = BUF_INIT, names = BUF_INIT, authorization = BUF_INIT;
    if (sigv4_canonical_request(&req, &creq, &names) == 0) {
        check(&req, buf_cstr(&creq), creq.len, buf_cstr(&names));
        static const uint8_t key[SIGV4_KEY_LEN] = {1, 2, 3};
        const struct sigv4_scope scope = {"20150830", "us-east-1", "dynamodb"};
        FAKE_ASSERT(sigv4_authorization(&req, "AKIDEXAMPLE", "20150830T123600Z", &scope, key, &authorization) == 0);
        const char *a = buf_cstr(&authorization);
        const char *prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
                             "SignedHeaders=";
        FAKE_ASSERT(strncmp(a, prefix, strlen(prefix)) == 0);
        FAKE_ASSERT(strncmp(a + strlen(prefix), buf_cstr(&names), names.len) == 0);
        const char *sig = a + strlen(prefix) + names.len;
        FAKE_ASSERT(strncmp(sig, ", Signature=", 12) == 0 && strlen(sig + 12) == SIGV4_HEX_LEN);
    } else {
        FAKE_ASSERT(creq.len == 0 && names.len == 0);
    }
    buf_clean_up(&creq);
    buf_clean_up(&names);
    buf_clean_up(&authorization);
    free(text);
    return 0;
}
