/* fuzz_credsparse: what the credential providers read from the network or a
 * child process (credsparse.c), and the x-amz-crc32 header (crc32.c). The
 * first byte picks the parser (modulo 9), the rest is its text, unterminated:
 *   0, 1  STS XML for AssumeRole, AssumeRoleWithWebIdentity (or ErrorResponse)
 *   2, 3, 4  container, IMDS and credential_process JSON
 *   5  an RFC 3339 timestamp
 *   6  container settings: FULL_URI (RELATIVE_URI when it starts with '/'),
 *      a newline, then AWS_CONTAINER_AUTHORIZATION_TOKEN
 *   7  an IMDS security-credentials listing (the role name)
 *   8  an x-amz-crc32 value, a newline, then the body it covers
 * Invariants: a successful parse yields a non-empty access key id and secret
 * and no string that hides a NUL (an STS answer holding a NUL byte never
 * parses; JSON strings are the members exactly as jansson reads them); an
 * Expiration the answer carries never reads as "does not
 * expire" (0); every expiration or timestamp that sigv4_format_time can write
 * reads back to the same second; a failure leaves the creds zeroed and one
 * line in err; container settings yield an allowed URL and a token fit for a
 * header; a role name is 1-64 IAM characters; crc32_matches agrees with a
 * plain reading of the header. No crash, leak or UB (ASan, UBSan). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crc32.h"
#include "credsparse.h"
#include "fake_app.h"
#include "sigv4.h"

enum { STS_ASSUME_ROLE, STS_WEB_IDENTITY, CONTAINER, IMDS, PROCESS, TIMESTAMP, CONTAINER_CONFIG, IMDS_ROLE, CRC32,
       MODES };

/* Unix seconds writable as an RFC 3339 time with a 4-digit year read back exactly. */
static void check_time(int64_t t)
{
    char amz[17], date[9], rfc[21];
    if (sigv4_format_time(t, amz, date) != 0) {
        /* Only outside years 0000-9999, which a -23:59 or +23:59 offset can reach by a day. */
        FAKE_ASSERT(t < credsparse_days_from_civil(0, 1, 1) * 86400 || t >= credsparse_days_from_civil(10000, 1, 1) * 86400);
        FAKE_ASSERT(t >= credsparse_days_from_civil(0, 1, 1) * 86400 - 86400 &&
                    t < credsparse_days_from_civil(10000, 1, 1) * 86400 + 86400);
        return;
    }
    memcpy(rfc, amz, 4);
    rfc[4] = '-';
    memcpy(rfc + 5, amz + 4, 2);
    rfc[7] = '-';
    memcpy(rfc + 8, amz + 6, 2);
    rfc[10] = 'T';
    memcpy(rfc + 11, amz + 9, 2);
    rfc[13] = ':';
    memcpy(rfc + 14, amz + 11, 2);
    rfc[16] = ':';
    memcpy(rfc + 17, amz + 13, 2);
    rfc[19] = 'Z';
    rfc[20] = '\0';
    int64_t back = 0;
    FAKE_ASSERT(credsparse_timestamp(rfc, 20, &back) == 0 && back == t);
}

static void check_one_line(const struct buf *err)
{
    FAKE_ASSERT(err->len > 0 && err->len < 1024);
    for (size_t i = 0; i < err->len; i++)
        FAKE_ASSERT(err->data[i] != '\n' && err->data[i] != '\r' && err->data[i] != '\0');
}

/* 1 when s is the string member key of a JSON object doc, as jansson reads it, with no NUL inside. */
static int member_is(json_t *doc, const char *key, const char *s)
{
    json_t *v = json_object_get(doc, key);
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0 && json_string_length(v) == strlen(s);
}

/* expiration_given: 1 when the text carries an Expiration (required, or present for a process).
 * token_key: the JSON member of the session token, or NULL for XML. */
static void check_creds(int rc, const struct credsparse_creds *c, const struct buf *err, const char *text,
                        size_t len, int expiration_given, const char *token_key)
{
    if (rc != 0) {
        FAKE_ASSERT(rc == -1);
        check_one_line(err);
        FAKE_ASSERT(c->access_key_id == NULL && c->secret_access_key == NULL && c->session_token == NULL &&
                    c->expiration == 0);
        return;
    }
    if (token_key == NULL) {
        FAKE_ASSERT(memchr(text, '\0', len) == NULL); /* XML has none: no value hides one */
    } else {
        /* jansson skips a NUL after some tokens (2.14), but its strings never hold one. */
        json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        FAKE_ASSERT(member_is(doc, "AccessKeyId", c->access_key_id) &&
                    member_is(doc, "SecretAccessKey", c->secret_access_key));
        FAKE_ASSERT(c->session_token == NULL ? !json_is_string(json_object_get(doc, token_key)) ||
                                                   json_string_length(json_object_get(doc, token_key)) == 0
                                             : member_is(doc, token_key, c->session_token));
        json_decref(doc);
    }
    FAKE_ASSERT(c->access_key_id != NULL && c->access_key_id[0] != '\0');
    FAKE_ASSERT(c->secret_access_key != NULL && c->secret_access_key[0] != '\0');
    FAKE_ASSERT(c->session_token == NULL || c->session_token[0] != '\0');
    FAKE_ASSERT(!expiration_given || c->expiration != 0);
    if (c->expiration != 0)
        check_time(c->expiration);
}

/* 1 when a credential_process text is a JSON object with a string Expiration. */
static int process_has_expiration(const char *text, size_t len)
{
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    int has = json_is_string(json_object_get(doc, "Expiration"));
    json_decref(doc);
    return has;
}

struct env {
    const char *relative, *full, *token;
};

static const char *lookup(const char *name, void *ctx)
{
    const struct env *e = ctx;
    if (strcmp(name, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == 0)
        return e->relative;
    if (strcmp(name, "AWS_CONTAINER_CREDENTIALS_FULL_URI") == 0)
        return e->full;
    if (strcmp(name, "AWS_CONTAINER_AUTHORIZATION_TOKEN") == 0)
        return e->token;
    return NULL;
}

static void container_config(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    char *uri = strndup(text, nl ? (size_t)(nl - text) : len); /* environment values are C strings */
    char *token = nl ? strndup(nl + 1, len - (size_t)(nl + 1 - text)) : NULL;
    FAKE_ASSERT(uri != NULL && (nl == NULL || token != NULL));
    struct env e = {uri[0] == '/' ? uri : NULL, uri[0] == '/' ? NULL : uri, token};
    struct credsparse_container c;
    struct buf err = BUF_INIT, auth = BUF_INIT;
    int rc = credsparse_container_config(&c, lookup, &e, &err);
    int allowed = credsparse_container_url_allowed(uri);
    FAKE_ASSERT(allowed == 0 || allowed == 1);
    if (allowed)
        FAKE_ASSERT(strncmp(uri, "https://", 8) == 0 || strncmp(uri, "http://", 7) == 0);
    if (rc == 1) {
        FAKE_ASSERT(uri[0] == '\0' && c.url == NULL);
    } else if (rc == 0) {
        FAKE_ASSERT(c.url != NULL);
        if (e.relative != NULL) {
            FAKE_ASSERT(strncmp(c.url, "http://169.254.170.2/", 21) == 0 && strcmp(c.url + 20, uri) == 0);
        } else {
            FAKE_ASSERT(allowed && strcmp(c.url, uri) == 0);
        }
        FAKE_ASSERT(c.token_file == NULL);
        if (c.token != NULL)
            FAKE_ASSERT(credsparse_header_value_ok(c.token, strlen(c.token)) && strchr(c.token, '\n') == NULL &&
                        strchr(c.token, '\r') == NULL);
        FAKE_ASSERT(credsparse_container_token(&c, &auth, &err) == 0);
        FAKE_ASSERT(auth.len == (c.token ? strlen(c.token) : 0));
    } else {
        FAKE_ASSERT(rc == -1 && err.len > 0);
        FAKE_ASSERT((e.full != NULL && !allowed) || (token != NULL && strpbrk(token, "\r\n") != NULL));
    }
    credsparse_container_clean_up(&c);
    buf_clean_up(&auth);
    buf_clean_up(&err);
    free(uri);
    free(token);
}

static int role_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("+=,.@_-", ch) != NULL);
}

/* A plain reading of an x-amz-crc32 value: blanks, decimal digits, blanks; at most UINT32_MAX. */
static int reference_crc(const char *s, uint32_t *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    const char *start = s;
    while (*s == '0' && s[1] >= '0' && s[1] <= '9')
        s++; /* leading zeros do not count toward the length */
    const char *digits = s;
    while (*s >= '0' && *s <= '9')
        s++;
    size_t n = (size_t)(s - digits);
    if (s == start || n > 10)
        return -1;
    uint64_t v = 0;
    for (const char *d = digits; d < s; d++)
        v = v * 10 + (uint64_t)(*d - '0');
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static void crc32_header(const char *text, size_t len, unsigned split)
{
    const char *nl = memchr(text, '\n', len);
    char *header = strndup(text, nl ? (size_t)(nl - text) : len);
    FAKE_ASSERT(header != NULL);
    const char *body = nl ? nl + 1 : text + len;
    size_t body_len = (size_t)(text + len - body);
    uint32_t crc = crc32_compute(body, body_len), want = 0;
    size_t cut = body_len ? split % (body_len + 1) : 0;
    FAKE_ASSERT(crc32_update(crc32_update(0, body, cut), body + cut, body_len - cut) == crc);
    int matches = crc32_matches(header, body, body_len);
    if (reference_crc(header, &want) != 0)
        FAKE_ASSERT(matches == -1);
    else
        FAKE_ASSERT(matches == (want == crc));
    free(header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct credsparse_creds c;
    struct buf err = BUF_INIT, role = BUF_INIT;
    int rc;
    int64_t t = 0;
    switch (data[0] % MODES) {
    case STS_ASSUME_ROLE:
    case STS_WEB_IDENTITY:
        rc = credsparse_sts_xml(text, len, data[0] % MODES == STS_ASSUME_ROLE ? "AssumeRole" : "AssumeRoleWithWebIdentity",
                                &c, &err);
        check_creds(rc, &c, &err, text, len, 1, NULL);
        if (rc == 0)
            FAKE_ASSERT(c.session_token != NULL);
        credsparse_creds_clean_up(&c);
        break;
    case CONTAINER:
    case IMDS:
        rc = (data[0] % MODES == CONTAINER ? credsparse_container_json : credsparse_imds_json)(text, len, &c, &err);
        check_creds(rc, &c, &err, text, len, 1, "Token");
        if (rc == 0)
            FAKE_ASSERT(c.session_token != NULL);
        credsparse_creds_clean_up(&c);
        break;
    case PROCESS:
        rc = credsparse_process_json(text, len, &c, &err);
        check_creds(rc, &c, &err, text, len, rc == 0 && process_has_expiration(text, len), "SessionToken");
        credsparse_creds_clean_up(&c);
        break;
    case TIMESTAMP:
        if (credsparse_timestamp(text, len, &t) == 0) {
            FAKE_ASSERT(len >= 20);
            check_time(t);
        }
        break;
    case CONTAINER_CONFIG:
        container_config(text, len);
        break;
    case IMDS_ROLE:
        if (credsparse_imds_role(text, len, &role, &err) == 0) {
            FAKE_ASSERT(role.len >= 1 && role.len <= 64);
            for (size_t i = 0; i < role.len; i++)
                FAKE_ASSERT(role_char(role.data[i]));
        } else {
            check_one_line(&err);
        }
        break;
    case CRC32:
        crc32_header(text, len, data[0] / MODES);
        break;
    }
    buf_clean_up(&role);
    buf_clean_up(&err);
    return 0;
}
