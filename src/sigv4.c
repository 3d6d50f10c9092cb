/* sigv4: AWS Signature Version 4 (see sigv4.h). Pure functions: no I/O, no
 * clock, no globals. Every public function that writes into a struct buf
 * appends to it, and leaves it as it was when it fails. */
#include "sigv4.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hmac.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* A name/value pair being canonicalised (a header or a query parameter). Both
 * are NUL-terminated in one scratch buffer: the offsets are recorded while it
 * grows, the pointers set once it is complete. order is the position as sent,
 * so sorting can keep repeats in order. */
struct kv {
    size_t key_at, value_at;
    const char *key, *value;
    size_t order;
};

#define KV_ON_STACK 8 /* a DynamoDB request signs 4 or 5 headers: the pair array needs no allocation */

/* Returns 1 for the bytes SigV4 never encodes (A-Z a-z 0-9 - . _ ~), else 0. */
static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Returns 1 for the whitespace that header canonicalisation collapses, else 0. */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Returns 1 when s is a non-empty HTTP token (RFC 9110 tchar: letters, digits
 * and !#$%&'*+-.^_`|~), a usable method or header name, else 0. Separators
 * are refused: a ';' would split one name in two in SignedHeaders. */
static int is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!is_unreserved((unsigned char)*s) && strchr("!#$%&'*+^`|", *s) == NULL)
            return 0;
    return 1;
}

/* Returns 1 when every scope part is present, non-empty and free of '/', else 0. */
static int scope_ok(const struct sigv4_scope *scope)
{
    const char *parts[3];
    if (scope == NULL)
        return 0;
    parts[0] = scope->date;
    parts[1] = scope->region;
    parts[2] = scope->service;
    for (size_t i = 0; i < 3; i++)
        if (parts[i] == NULL || *parts[i] == '\0' || strchr(parts[i], '/') != NULL)
            return 0;
    return 1;
}

/* Writes n bytes as 2n lowercase hex digits plus a NUL into hex. Returns nothing. */
static void to_hex(const uint8_t *bytes, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 15];
    }
    hex[2 * n] = '\0';
}

/* Appends s[0..len) URI-encoded: unreserved bytes (and '/' when keep_slash)
 * as is, every other byte as upper-case %XX. Returns 0 or -1. */
static int uri_encode(struct buf *out, const char *s, size_t len, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
        int rc = is_unreserved(c) || (keep_slash && c == '/') ? buf_append_char(out, (char)c)
                                                             : buf_append(out, esc, 3);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Appends s[0..len) with any %XX escapes decoded, then URI-encoded once, so
 * raw and already-encoded query text come out the same. Returns 0 or -1. */
static int query_encode(struct buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < len && hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0) {
            c = (char)(hex_digit_value(s[i + 1]) * 16 + hex_digit_value(s[i + 2]));
            i += 2;
        }
        if (uri_encode(out, &c, 1, 0) != 0)
            return -1;
    }
    return 0;
}

/* Appends the canonical URI of the absolute path: each segment encoded once
 * with '/' kept; with normalize, empty and "." segments dropped and ".." undone
 * (RFC 3986), keeping a trailing slash. Returns 0 or -1. */
static int canonical_path(struct buf *out, const char *path, int normalize)
{
    if (!normalize)
        return uri_encode(out, path, strlen(path), 1);
    size_t start = out->len;
    int trailing = 0;
    for (const char *seg = path + 1;; ) {
        size_t n = strcspn(seg, "/");
        int dot = n == 1 && seg[0] == '.';
        int dotdot = n == 2 && seg[0] == '.' && seg[1] == '.';
        trailing = n == 0 || dot || dotdot;
        if (dotdot) {
            size_t len = out->len;
            while (len > start && out->data[len - 1] != '/')
                len--;
            buf_truncate(out, len > start ? len - 1 : start);
        } else if (!trailing) {
            if (buf_append_char(out, '/') != 0 || uri_encode(out, seg, n, 0) != 0)
                return -1;
        }
        if (seg[n] == '\0')
            break;
        seg += n + 1;
    }
    return out->len == start || trailing ? buf_append_char(out, '/') : 0;
}

/* Points each pair's key and value into scratch, which no longer grows. Returns nothing. */
static void kvs_resolve(struct kv *kvs, size_t n, const struct buf *scratch)
{
    for (size_t i = 0; i < n; i++) {
        kvs[i].key = scratch->data + kvs[i].key_at;
        kvs[i].value = scratch->data + kvs[i].value_at;
    }
}

/* Ends the key or value just written to scratch. Returns 0 or -1. */
static int end_part(struct buf *scratch)
{
    return buf_append(scratch, "", 1);
}

/* qsort order for query parameters: encoded key, then encoded value, in byte
 * order. Returns <0, 0 or >0. */
static int cmp_query(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : strcmp(x->value, y->value);
}

/* qsort order for headers: lowercase name, then the order sent. Returns <0, 0 or >0. */
static int cmp_header(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : (x->order > y->order) - (x->order < y->order);
}

/* Appends the canonical query string of the raw query ("a=1&b", no '?'):
 * pairs encoded and sorted, a key without '=' given an empty value, empty
 * pieces ("&&") dropped. Returns 0 or -1. */
static int canonical_query(struct buf *out, const char *query)
{
    size_t n = 1, used = 0;
    int rc = -1;
    if (*query == '\0')
        return 0; /* DynamoDB's requests have none */
    for (const char *p = query; *p != '\0'; p++)
        n += *p == '&';
    struct kv *kvs = calloc(n, sizeof *kvs);
    struct buf scratch = BUF_INIT;
    if (kvs == NULL)
        return -1;
    for (const char *p = query;; ) {
        size_t len = strcspn(p, "&"), key_len = strcspn(p, "=&");
        if (len > 0) {
            struct kv *e = &kvs[used++];
            e->key_at = scratch.len;
            if (query_encode(&scratch, p, key_len) != 0 || end_part(&scratch) != 0)
                goto done;
            e->value_at = scratch.len;
            if ((key_len < len && query_encode(&scratch, p + key_len + 1, len - key_len - 1) != 0) ||
                end_part(&scratch) != 0)
                goto done;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    kvs_resolve(kvs, used, &scratch);
    qsort(kvs, used, sizeof *kvs, cmp_query);
    for (size_t i = 0; i < used; i++)
        if (buf_concat(out, i > 0 ? "&" : "", kvs[i].key, "=", kvs[i].value) != 0)
            goto done;
    rc = 0;
done:
    buf_clean_up(&scratch);
    free(kvs);
    return rc;
}

/* Appends value trimmed, with every inner run of whitespace (folded line
 * breaks included) replaced by one space. Returns 0 or -1. */
static int append_collapsed(struct buf *out, const char *value)
{
    size_t start = out->len;
    int gap = 0;
    for (; *value != '\0'; value++) {
        if (is_space(*value)) {
            gap = out->len > start;
            continue;
        }
        if ((gap && buf_append_char(out, ' ') != 0) || buf_append_char(out, *value) != 0)
            return -1;
        gap = 0;
    }
    return 0;
}

/* Appends the canonical header lines ("name:v1,v2\n", sorted by lowercase
 * name, repeats joined in the order sent) to out and the ';'-joined names to
 * names. Returns 0, or -1 when memory runs out or a header is malformed. */
static int canonical_headers(const struct sigv4_request *req, struct buf *out, struct buf *names)
{
    size_t n = req->n_headers;
    int rc = -1;
    struct kv on_stack[KV_ON_STACK];
    struct kv *kvs = n <= KV_ON_STACK ? on_stack : calloc(n, sizeof *kvs);
    struct buf scratch = BUF_INIT;
    if (kvs == NULL || buf_reserve(&scratch, 256) != 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const struct sigv4_header *h = &req->headers[i];
        if (!is_token(h->name) || h->value == NULL)
            goto done;
        kvs[i].key_at = scratch.len;
        for (const char *c = h->name; *c != '\0'; c++) {
            char lower = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
            if (buf_append_char(&scratch, lower) != 0)
                goto done;
        }
        if (end_part(&scratch) != 0)
            goto done;
        kvs[i].value_at = scratch.len;
        if (append_collapsed(&scratch, h->value) != 0 || end_part(&scratch) != 0)
            goto done;
        kvs[i].order = i;
    }
    kvs_resolve(kvs, n, &scratch);
    qsort(kvs, n, sizeof *kvs, cmp_header);
    for (size_t i = 0; i < n; i++) {
        const char *name = kvs[i].key;
        int first = i == 0 || strcmp(name, kvs[i - 1].key) != 0;
        int last = i + 1 == n || strcmp(name, kvs[i + 1].key) != 0;
        if (!first && buf_append_char(out, ',') != 0)
            goto done;
        if (first && (buf_concat(out, name, ":") != 0 ||
                      buf_concat(names, i > 0 ? ";" : "", name) != 0))
            goto done;
        if (buf_concat(out, kvs[i].value, last ? "\n" : "") != 0)
            goto done;
    }
    rc = 0;
done:
    buf_clean_up(&scratch);
    if (kvs != on_stack)
        free(kvs);
    return rc;
}

int sigv4_canonical_request(const struct sigv4_request *req, struct buf *out,
                            struct buf *signed_headers)
{
    struct buf creq = BUF_INIT, names = BUF_INIT;
    char body_hash[SIGV4_HEX_LEN + 1];
    size_t out_start = out != NULL ? out->len : 0;
    int rc = -1;

    if (req == NULL || !is_token(req->method) || req->path == NULL || req->path[0] != '/' ||
        (req->n_headers > 0 && req->headers == NULL) || (req->body == NULL && req->body_len > 0))
        goto done;
    sigv4_sha256_hex(req->body != NULL ? req->body : "", req->body_len, body_hash);
    if (body_hash[0] == '\0' || buf_concat(&creq, req->method, "\n") != 0 ||
        canonical_path(&creq, req->path, req->normalize_path) != 0 ||
        buf_append_char(&creq, '\n') != 0 ||
        (req->query != NULL && canonical_query(&creq, req->query) != 0) ||
        buf_append_char(&creq, '\n') != 0 || canonical_headers(req, &creq, &names) != 0 ||
        buf_concat(&creq, "\n", buf_cstr(&names), "\n", body_hash) != 0)
        goto done;
    if (out != NULL && buf_append(out, creq.data, creq.len) != 0)
        goto done;
    if (signed_headers != NULL && buf_append(signed_headers, names.data, names.len) != 0) {
        if (out != NULL)
            buf_truncate(out, out_start);
        goto done;
    }
    rc = 0;
done:
    buf_clean_up(&creq);
    buf_clean_up(&names);
    return rc;
}

int sigv4_string_to_sign(const char *amz_date, const struct sigv4_scope *scope,
                         const char *canonical_request, size_t creq_len, struct buf *out)
{
    char hash[SIGV4_HEX_LEN + 1];
    /* amz_date must look like YYYYMMDDTHHMMSSZ and lie on the scope's date. */
    if (amz_date == NULL || strlen(amz_date) != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z' ||
        strspn(amz_date, "0123456789") != 8 || strspn(amz_date + 9, "0123456789") != 6 ||
        !scope_ok(scope) || strncmp(amz_date, scope->date, 8) != 0 || scope->date[8] != '\0' ||
        (canonical_request == NULL && creq_len > 0) || out == NULL)
        return -1;
    sigv4_sha256_hex(canonical_request != NULL ? canonical_request : "", creq_len, hash);
    if (hash[0] == '\0')
        return -1;
    return buf_concat(out, SIGV4_ALGORITHM "\n", amz_date, "\n", scope->date, "/", scope->region, "/",
                      scope->service, "/aws4_request\n", hash);
}

/* SHA-256, fetched once: OpenSSL 3's implicit fetch in EVP_sha256() costs more than the hashing
 * itself on every call. Immutable once set. (HMAC-SHA256 is hmac.c's, shared with cursor.c.) */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 of data into md (32 bytes) on ctx. Returns 0 or -1. */
static int sha256(EVP_MD_CTX *ctx, const void *data, size_t len, uint8_t *md)
{
    unsigned int md_len = 0;
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256_md == NULL || EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
        return -1;
    return md_len == SIGV4_KEY_LEN ? 0 : -1;
}

int sigv4_signing_key(const char *secret_access_key, const struct sigv4_scope *scope,
                      uint8_t key[SIGV4_KEY_LEN])
{
    if (secret_access_key == NULL || key == NULL || !scope_ok(scope))
        return -1;
    const char *steps[] = {scope->region, scope->service, "aws4_request"};
    struct buf secret = BUF_INIT;
    uint8_t k[2][SIGV4_KEY_LEN];
    int rc = -1;

    /* Reserve first so the secret is never left behind in a realloc'd block. */
    if (buf_reserve(&secret, 4 + strlen(secret_access_key)) != 0 ||
        buf_append_str(&secret, "AWS4") != 0 || buf_append_str(&secret, secret_access_key) != 0 ||
        hmac_sha256(secret.data, secret.len, scope->date, strlen(scope->date), k[0]) != 0)
        goto done;
    for (size_t i = 0; i < 3; i++)
        if (hmac_sha256(k[i % 2], SIGV4_KEY_LEN, steps[i], strlen(steps[i]), k[(i + 1) % 2]) != 0)
            goto done;
    memcpy(key, k[1], SIGV4_KEY_LEN);
    rc = 0;
done:
    OPENSSL_cleanse(k, sizeof k);
    if (secret.data != NULL)
        OPENSSL_cleanse(secret.data, secret.cap);
    buf_clean_up(&secret);
    return rc;
}

int sigv4_signature(const uint8_t key[SIGV4_KEY_LEN], const char *string_to_sign, size_t len,
                    char hex[SIGV4_HEX_LEN + 1])
{
    uint8_t mac[SIGV4_KEY_LEN];
    if (hex == NULL)
        return -1;
    hex[0] = '\0';
    if (key == NULL || (string_to_sign == NULL && len > 0))
        return -1;
    if (string_to_sign == NULL)
        string_to_sign = "";
    if (hmac_sha256(key, SIGV4_KEY_LEN, string_to_sign, len, mac) != 0)
        return -1;
    to_hex(mac, sizeof mac, hex);
    return 0;
}

int sigv4_authorization(const struct sigv4_request *req, const char *access_key_id,
                        const char *amz_date, const struct sigv4_scope *scope,
                        const uint8_t key[SIGV4_KEY_LEN], struct buf *authorization)
{
    struct buf creq = BUF_INIT, names = BUF_INIT, sts = BUF_INIT;
    char signature[SIGV4_HEX_LEN + 1];
    int rc = -1;

    if (!is_token(access_key_id) || strchr(access_key_id, '/') != NULL || authorization == NULL ||
        sigv4_canonical_request(req, &creq, &names) != 0 ||
        sigv4_string_to_sign(amz_date, scope, creq.data, creq.len, &sts) != 0 ||
        sigv4_signature(key, sts.data, sts.len, signature) != 0)
        goto done;
    rc = buf_concat(authorization, SIGV4_ALGORITHM " Credential=", access_key_id, "/", scope->date, "/",
                    scope->region, "/", scope->service, "/aws4_request, SignedHeaders=", buf_cstr(&names),
                    ", Signature=", signature);
done:
    buf_clean_up(&creq);
    buf_clean_up(&names);
    buf_clean_up(&sts);
    return rc;
}

void sigv4_sha256_hex(const void *data, size_t len, char hex[SIGV4_HEX_LEN + 1])
{
    uint8_t md[SIGV4_KEY_LEN];
    hex[0] = '\0';
    if (data == NULL && len > 0)
        return;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx != NULL ? sha256(ctx, data != NULL ? data : "", len, md) : -1;
    EVP_MD_CTX_free(ctx);
    if (rc == 0)
        to_hex(md, sizeof md, hex);
}

int sigv4_format_time(int64_t unix_seconds, char amz_date[17], char date[9])
{
    struct tm tm;
    time_t t = (time_t)unix_seconds;

    if (amz_date == NULL || date == NULL)
        return -1;
    amz_date[0] = date[0] = '\0';
    if ((int64_t)t != unix_seconds || gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
        tm.tm_year > 9999 - 1900)
        return -1;
    /* By hand, not snprintf: this runs for every request and printf costs more than the rest. */
    const int fields[6] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    char *p = amz_date;
    for (int i = 0; i < 6; i++) {
        int v = fields[i];
        if (i == 0) {
            *p++ = (char)('0' + v / 1000);
            *p++ = (char)('0' + v / 100 % 10);
        }
        if (i == 3)
            *p++ = 'T';
        *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
    }
    *p++ = 'Z';
    *p = '\0';
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    return 0;
}
