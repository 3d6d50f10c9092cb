#include "credsparse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void credsparse_creds_clean_up(struct credsparse_creds *c)
{
    free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    memset(c, 0, sizeof *c);
}

/* ---- time ---- */

int64_t credsparse_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at s[*i]. Returns the number, or -1. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    return v;
}

static int expect(const char *s, size_t len, size_t *i, char a, char b)
{
    if (*i >= len || (s[*i] != a && s[*i] != b))
        return -1;
    (*i)++;
    return 0;
}

int credsparse_timestamp(const char *s, size_t len, int64_t *out)
{
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t i = 0;
    int y, mo, d, h, mi, sec;
    if ((y = digits(s, len, &i, 4)) < 0 || expect(s, len, &i, '-', '-') || (mo = digits(s, len, &i, 2)) < 0 ||
        expect(s, len, &i, '-', '-') || (d = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, 'T', 't') ||
        (h = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, ':', ':') || (mi = digits(s, len, &i, 2)) < 0 ||
        expect(s, len, &i, ':', ':') || (sec = digits(s, len, &i, 2)) < 0)
        return -1;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return -1;
    }
    int offset = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1;
        int oh, om;
        if ((oh = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, ':', ':') || (om = digits(s, len, &i, 2)) < 0 ||
            oh > 23 || om > 59)
            return -1;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (i != len || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > month_days[mo - 1] + (mo == 2 && leap))
        return -1;
    *out = credsparse_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return 0;
}

int credsparse_should_refresh(int64_t expiration, int64_t now, int64_t window)
{
    if (expiration == 0)
        return 0;
    if (now >= expiration)
        return 1;
    /* now < expiration: the difference is positive; compare without overflowing. */
    uint64_t left = (uint64_t)expiration - (uint64_t)now;
    return window >= 0 && left <= (uint64_t)window;
}

int credsparse_valid_at(int64_t expiration, int64_t now)
{
    return expiration == 0 || now < expiration;
}

/* ---- STS XML ---- */

#define XML_MAX_DEPTH 16
#define STS_MESSAGE_MAX 200

enum sts_field { F_AKID, F_SECRET, F_TOKEN, F_EXPIRATION, F_CODE, F_MESSAGE, F_COUNT };
static const char *const field_names[F_COUNT] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                                 "Expiration", "Code", "Message"};

struct xml {
    const char *s;
    size_t len, pos;
    const char *stack[XML_MAX_DEPTH]; /* local names, pointing into s */
    size_t stack_len[XML_MAX_DEPTH];
    int depth;
    int field;         /* the field whose text is being read, or -1 */
    int in_credentials; /* the path so far is Response/Result/Credentials */
    int root_is_error;
    int found_credentials;
    struct buf value[F_COUNT];
    int seen[F_COUNT];
};

static int name_is(const struct xml *x, int level, const char *name)
{
    return x->stack_len[level] == strlen(name) && memcmp(x->stack[level], name, x->stack_len[level]) == 0;
}

static int is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
}

/* Appends the UTF-8 of code point cp. Returns 0, or -1 for no character XML allows. */
static int put_utf8(struct buf *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(b, u, n);
}

/* Text up to the next '<', entities decoded into out (NULL: checked, not kept). Returns 0 or -1. */
static int xml_text(struct xml *x, struct buf *out)
{
    while (x->pos < x->len && x->s[x->pos] != '<') {
        char c = x->s[x->pos];
        if (x->depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return -1; /* only whitespace outside the root element */
        if (c != '&') {
            if (out != NULL && buf_append_char(out, c) != 0)
                return -1;
            x->pos++;
            continue;
        }
        const char *semi = memchr(x->s + x->pos, ';', x->len - x->pos);
        if (semi == NULL || semi - (x->s + x->pos) > 12)
            return -1;
        const char *e = x->s + x->pos + 1;
        size_t n = (size_t)(semi - e);
        static const struct {
            const char *name;
            char c;
        } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
        unsigned long cp = 0;
        int known = 0;
        for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
            if (strlen(named[k].name) == n && memcmp(e, named[k].name, n) == 0) {
                cp = (unsigned char)named[k].c;
                known = 1;
            }
        }
        if (!known && n >= 2 && e[0] == '#') {
            int hex = e[1] == 'x';
            size_t k = hex ? 2 : 1;
            if (k == n)
                return -1;
            for (; k < n; k++) {
                char h = e[k];
                int dv = h >= '0' && h <= '9' ? h - '0'
                         : hex && h >= 'a' && h <= 'f' ? h - 'a' + 10
                         : hex && h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                       : -1;
                if (dv < 0)
                    return -1;
                cp = cp * (hex ? 16 : 10) + (unsigned long)dv;
            }
            known = 1;
        }
        if (!known)
            return -1;
        if (out != NULL) {
            if (put_utf8(out, cp) != 0)
                return -1;
        } else if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return -1;
        }
        x->pos = (size_t)(semi - x->s) + 1;
    }
    return 0;
}

/* Skips past the first occurrence of end. Returns 0 or -1. */
static int skip_past(struct xml *x, const char *end)
{
    size_t n = strlen(end);
    for (size_t i = x->pos; i + n <= x->len; i++) {
        if (memcmp(x->s + i, end, n) == 0) {
            x->pos = i + n;
            return 0;
        }
    }
    return -1;
}

/* The field an element opened at the current depth captures, or -1. */
static int field_at(const struct xml *x, const char *action)
{
    if (x->root_is_error && x->depth == 3 && name_is(x, 1, "Error")) {
        for (int f = F_CODE; f <= F_MESSAGE; f++)
            if (name_is(x, 2, field_names[f]))
                return f;
        return -1;
    }
    if (!x->root_is_error && x->depth == 4 && x->in_credentials) {
        for (int f = F_AKID; f <= F_EXPIRATION; f++)
            if (name_is(x, 3, field_names[f]))
                return f;
    }
    (void)action;
    return -1;
}

/* An element ended (its end tag, or it closed itself): leave it. Returns 1 when that was the root. */
static int leave_element(struct xml *x)
{
    x->depth--;
    x->field = -1;
    if (x->depth == 2)
        x->in_credentials = 0;
    return x->depth == 0;
}

/* Walks the whole document. Returns 0, -1 (malformed) or -2 (out of memory, reported as malformed). */
static int xml_walk(struct xml *x, const char *action)
{
    int root_done = 0;
    char result_name[64];
    snprintf(result_name, sizeof result_name, "%sResult", action);
    for (;;) {
        int field = x->field;
        if (xml_text(x, field >= 0 ? &x->value[field] : NULL) != 0)
            return -1;
        if (x->pos >= x->len)
            break;
        const char *p = x->s + x->pos;
        size_t left = x->len - x->pos;
        if (left >= 2 && p[1] == '?') {
            if (skip_past(x, "?>") != 0)
                return -1;
            continue;
        }
        if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            if (skip_past(x, "-->") != 0)
                return -1;
            continue;
        }
        if (left >= 2 && p[1] == '!')
            return -1; /* DOCTYPE, CDATA: STS sends neither */
        int closing = left >= 2 && p[1] == '/';
        x->pos += closing ? 2 : 1;
        size_t start = x->pos;
        while (x->pos < x->len && is_name_char(x->s[x->pos]))
            x->pos++;
        if (x->pos == start)
            return -1;
        const char *name = x->s + start;
        size_t name_len = x->pos - start;
        const char *colon = memchr(name, ':', name_len);
        if (colon != NULL) {
            name_len -= (size_t)(colon + 1 - name);
            name = colon + 1;
        }
        if (closing) {
            while (x->pos < x->len && (x->s[x->pos] == ' ' || x->s[x->pos] == '\t' || x->s[x->pos] == '\r' ||
                                       x->s[x->pos] == '\n'))
                x->pos++;
            if (x->pos >= x->len || x->s[x->pos] != '>' || x->depth == 0 ||
                x->stack_len[x->depth - 1] != name_len || memcmp(x->stack[x->depth - 1], name, name_len) != 0)
                return -1;
            x->pos++;
            root_done |= leave_element(x);
            continue;
        }
        /* Attributes, up to '>' or '/>', quotes honoured. */
        int self_closing = 0;
        for (;;) {
            if (x->pos >= x->len)
                return -1;
            char c = x->s[x->pos];
            if (c == '"' || c == '\'') {
                const char *q = memchr(x->s + x->pos + 1, c, x->len - x->pos - 1);
                if (q == NULL)
                    return -1;
                x->pos = (size_t)(q - x->s) + 1;
                continue;
            }
            if (c == '<')
                return -1;
            x->pos++;
            if (c == '>')
                break;
            if (c == '/' && x->pos < x->len && x->s[x->pos] == '>') {
                x->pos++;
                self_closing = 1;
                break;
            }
        }
        if (root_done || x->depth == XML_MAX_DEPTH || x->field >= 0)
            return -1; /* a second root, too deep, or markup inside a value */
        x->stack[x->depth] = name;
        x->stack_len[x->depth] = name_len;
        x->depth++;
        if (x->depth == 1)
            x->root_is_error = name_is(x, 0, "ErrorResponse");
        if (!x->root_is_error && x->depth == 3 && name_is(x, 1, result_name) && name_is(x, 2, "Credentials")) {
            x->in_credentials = 1;
            x->found_credentials = 1;
        }
        int f = field_at(x, action);
        if (f >= 0) {
            if (x->seen[f]++)
                return -3 - f; /* a field twice */
            x->field = f;
        }
        if (self_closing)
            root_done |= leave_element(x);
    }
    return root_done ? 0 : -1;
}

/* Appends the STS message, cut and with control characters made spaces; runs of them collapse. */
static void append_message(struct buf *err, const struct buf *msg)
{
    size_t n = 0;
    int space = 0;
    for (size_t i = 0; i < msg->len && n < STS_MESSAGE_MAX; i++) {
        unsigned char c = (unsigned char)msg->data[i];
        if (c < 0x20 || c == 0x7F) {
            space = 1;
            continue;
        }
        if (space && n > 0) {
            buf_append_char(err, ' ');
            n++;
        }
        space = 0;
        buf_append_char(err, (char)c);
        n++;
    }
    if (n >= STS_MESSAGE_MAX)
        buf_append_str(err, "...");
}

/* 1 when every byte of s is a visible ASCII character: keys and tokens go into header lines (the
 * session token as x-amz-security-token), where a CR or LF would start a header of the sender's choice. */
static int visible(const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

int credsparse_sts_xml(const char *body, size_t len, const char *action, struct credsparse_creds *out,
                       struct buf *err)
{
    memset(out, 0, sizeof *out);
    struct xml x = {.s = body, .len = len, .field = -1};
    int rc = -1;
    size_t first = 0;
    while (first < len && (body[first] == ' ' || body[first] == '\t' || body[first] == '\r' || body[first] == '\n'))
        first++;
    if (first == len || body[first] != '<') {
        buf_append_str(err, "STS: the answer is not XML");
        goto done;
    }
    if (memchr(body, '\0', len) != NULL) {
        /* XML allows no NUL, and one in a value would cut the C string the caller gets. */
        buf_append_str(err, "STS: malformed XML");
        goto done;
    }
    x.pos = first;
    int walked = xml_walk(&x, action);
    if (walked <= -3) {
        int f = -3 - walked;
        buf_printf(err, "STS: %s has %s twice", f >= F_CODE ? "Error" : "Credentials", field_names[f]);
        goto done;
    }
    if (walked != 0) {
        buf_append_str(err, "STS: malformed XML");
        goto done;
    }
    if (x.root_is_error) {
        if (x.value[F_CODE].len == 0) {
            buf_append_str(err, "STS: an error without a Code");
            goto done;
        }
        buf_append_str(err, "STS ");
        append_message(err, &x.value[F_CODE]);
        if (x.value[F_MESSAGE].len > 0) {
            buf_append_str(err, ": ");
            append_message(err, &x.value[F_MESSAGE]);
        }
        goto done;
    }
    struct buf root = BUF_INIT;
    buf_concat(&root, action, "Response");
    int root_ok = x.stack_len[0] == root.len && memcmp(x.stack[0], root.data, root.len) == 0;
    if (!root_ok) {
        buf_printf(err, "STS: the answer is not an %s", buf_cstr(&root));
        buf_clean_up(&root);
        goto done;
    }
    buf_clean_up(&root);
    if (!x.found_credentials) {
        buf_append_str(err, "STS: the answer has no Credentials");
        goto done;
    }
    for (int f = F_AKID; f <= F_EXPIRATION; f++) {
        if (x.value[f].len == 0) {
            buf_printf(err, "STS: Credentials has no %s", field_names[f]);
            goto done;
        }
    }
    if (!visible(x.value[F_AKID].data) || !visible(x.value[F_SECRET].data) || !visible(x.value[F_TOKEN].data)) {
        buf_append_str(err, "STS: a key or token holds a space or a control character");
        goto done;
    }
    int64_t expiration;
    if (credsparse_timestamp(x.value[F_EXPIRATION].data, x.value[F_EXPIRATION].len, &expiration) != 0) {
        buf_append_str(err, "STS: Expiration is not an RFC 3339 time");
        goto done;
    }
    if (expiration <= 0) {
        buf_append_str(err, "STS: Expiration is not after 1970-01-01T00:00:00Z");
        goto done;
    }
    out->access_key_id = buf_steal(&x.value[F_AKID]);
    out->secret_access_key = buf_steal(&x.value[F_SECRET]);
    out->session_token = buf_steal(&x.value[F_TOKEN]);
    out->expiration = expiration;
    if (out->access_key_id == NULL || out->secret_access_key == NULL || out->session_token == NULL) {
        credsparse_creds_clean_up(out);
        buf_append_str(err, "STS: out of memory");
        goto done;
    }
    rc = 0;
done:
    for (int f = 0; f < F_COUNT; f++) {
        if (x.value[f].data != NULL)
            explicit_bzero(x.value[f].data, x.value[f].len);
        buf_clean_up(&x.value[f]);
    }
    return rc;
}

/* ---- JSON answers ---- */

/* A non-empty string member, or NULL. */
static const char *json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    return s != NULL && *s != '\0' ? s : NULL;
}

enum { NEED_CODE = 1, CODE_IF_PRESENT = 2, NEED_TOKEN = 4, NEED_EXPIRATION = 8, PROCESS = 16 };

static int parse_json_creds(const char *what, const char *body, size_t len, int rules, struct credsparse_creds *out,
                            struct buf *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -1;
    if (!json_is_object(doc)) {
        buf_printf(err, "%s: not a JSON object", what);
        goto done;
    }
    if (rules & PROCESS) {
        json_t *version = json_object_get(doc, "Version");
        if (!json_is_integer(version) || json_integer_value(version) != 1) {
            buf_printf(err, "%s: Version is not 1", what);
            goto done;
        }
    }
    json_t *code = json_object_get(doc, "Code");
    if (((rules & NEED_CODE) || ((rules & CODE_IF_PRESENT) && code != NULL)) &&
        (!json_is_string(code) || strcmp(json_string_value(code), "Success") != 0)) {
        buf_printf(err, "%s: Code is not Success", what);
        goto done;
    }
    const char *token_key = rules & PROCESS ? "SessionToken" : "Token";
    const char *akid = json_str(doc, "AccessKeyId"), *secret = json_str(doc, "SecretAccessKey");
    const char *token = json_str(doc, token_key), *expiration = json_str(doc, "Expiration");
    if (akid == NULL || secret == NULL) {
        buf_printf(err, "%s: %s missing or not a string", what, akid == NULL ? "AccessKeyId" : "SecretAccessKey");
        goto done;
    }
    if (token == NULL && (rules & NEED_TOKEN)) {
        buf_printf(err, "%s: %s missing or not a string", what, token_key);
        goto done;
    }
    json_t *token_value = json_object_get(doc, token_key);
    if (token_value != NULL && !json_is_string(token_value) && !json_is_null(token_value)) {
        buf_printf(err, "%s: %s is not a string", what, token_key);
        goto done;
    }
    json_t *exp_value = json_object_get(doc, "Expiration");
    if (expiration == NULL && ((rules & NEED_EXPIRATION) || (exp_value != NULL && !json_is_null(exp_value)))) {
        buf_printf(err, "%s: Expiration missing or not a string", what);
        goto done;
    }
    if (!visible(akid) || !visible(secret) || !visible(token)) {
        buf_printf(err, "%s: a key or token holds a space or a control character", what);
        goto done;
    }
    int64_t when = 0;
    if (expiration != NULL && credsparse_timestamp(expiration, strlen(expiration), &when) != 0) {
        buf_printf(err, "%s: Expiration is not an RFC 3339 time", what);
        goto done;
    }
    if (expiration != NULL && when <= 0) {
        buf_printf(err, "%s: Expiration is not after 1970-01-01T00:00:00Z", what);
        goto done;
    }
    out->access_key_id = strdup(akid);
    out->secret_access_key = strdup(secret);
    out->session_token = token ? strdup(token) : NULL;
    out->expiration = when;
    if (out->access_key_id == NULL || out->secret_access_key == NULL || (token != NULL && out->session_token == NULL)) {
        credsparse_creds_clean_up(out);
        buf_printf(err, "%s: out of memory", what);
        goto done;
    }
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

int credsparse_container_json(const char *body, size_t len, struct credsparse_creds *out, struct buf *err)
{
    return parse_json_creds("container credentials", body, len, CODE_IF_PRESENT | NEED_TOKEN | NEED_EXPIRATION, out,
                            err);
}

int credsparse_imds_json(const char *body, size_t len, struct credsparse_creds *out, struct buf *err)
{
    return parse_json_creds("IMDS credentials", body, len, NEED_CODE | NEED_TOKEN | NEED_EXPIRATION, out, err);
}

int credsparse_process_json(const char *body, size_t len, struct credsparse_creds *out, struct buf *err)
{
    return parse_json_creds("credential_process", body, len, PROCESS, out, err);
}

/* ---- container provider ---- */

int credsparse_header_value_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return 0;
    return 1;
}

static const char *env_get(const char *(*lookup)(const char *, void *), void *ctx, const char *name)
{
    const char *v = lookup(name, ctx);
    return v != NULL && *v != '\0' ? v : NULL;
}

int credsparse_container_url_allowed(const char *url)
{
    int https = strncmp(url, "https://", 8) == 0;
    if (!https && strncmp(url, "http://", 7) != 0)
        return 0;
    const char *auth = url + (https ? 8 : 7);
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || memchr(auth, '@', alen) != NULL)
        return 0;
    if (https)
        return 1;
    char host[64];
    const char *port;
    size_t hlen;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (close == NULL)
            return 0;
        hlen = (size_t)(close - auth - 1);
        port = close + 1;
        if (hlen >= sizeof host)
            return 0;
        memcpy(host, auth + 1, hlen);
        host[hlen] = '\0';
        struct in6_addr a6, ekspod;
        inet_pton(AF_INET6, "fd00:ec2::23", &ekspod);
        if (inet_pton(AF_INET6, host, &a6) != 1 || !(IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, &ekspod, 16) == 0))
            return 0;
    } else {
        const char *colon = memchr(auth, ':', alen);
        hlen = colon ? (size_t)(colon - auth) : alen;
        port = auth + hlen;
        if (hlen == 0 || hlen >= sizeof host)
            return 0;
        memcpy(host, auth, hlen);
        host[hlen] = '\0';
        struct in_addr a4;
        if (inet_pton(AF_INET, host, &a4) == 1) {
            uint32_t ip = ntohl(a4.s_addr);
            if ((ip >> 24) != 127 && ip != 0xA9FEAA02U /* 169.254.170.2 */ && ip != 0xA9FEAA17U /* .23 */)
                return 0;
        } else if (strcasecmp(host, "localhost") != 0) {
            return 0;
        }
    }
    /* What follows the host: nothing, or ':' and a port. */
    const char *end = auth + alen;
    if (port == end)
        return 1;
    if (*port != ':' || port + 1 == end || end - port > 6)
        return 0;
    for (const char *c = port + 1; c < end; c++)
        if (*c < '0' || *c > '9')
            return 0;
    return 1;
}

void credsparse_container_clean_up(struct credsparse_container *c)
{
    free(c->url);
    free(c->token_file);
    wipe_free(c->token);
    memset(c, 0, sizeof *c);
}

int credsparse_container_config(struct credsparse_container *c, const char *(*lookup)(const char *name, void *ctx),
                                void *ctx, struct buf *err)
{
    memset(c, 0, sizeof *c);
    const char *rel = env_get(lookup, ctx, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env_get(lookup, ctx, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    struct buf url = BUF_INIT;
    if (rel != NULL) {
        if (rel[0] != '/') {
            buf_printf(err, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '%s' does not start with '/'", rel);
            return -1;
        }
        buf_concat(&url, "http://169.254.170.2", rel);
    } else if (full != NULL) {
        if (!credsparse_container_url_allowed(full)) {
            buf_printf(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI: '%s' is not https and not a loopback, ECS or EKS "
                            "Pod Identity address", full);
            return -1;
        }
        buf_append_str(&url, full);
    } else {
        return 1;
    }
    c->url = buf_steal(&url);
    const char *file = env_get(lookup, ctx, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token = file ? NULL : env_get(lookup, ctx, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (token != NULL && !credsparse_header_value_ok(token, strlen(token))) {
        buf_append_str(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN: the token has a CR or LF");
        return -1;
    }
    if (c->url == NULL || (file != NULL && (c->token_file = strdup(file)) == NULL) ||
        (token != NULL && (c->token = strdup(token)) == NULL)) {
        buf_append_str(err, "out of memory");
        return -1;
    }
    return 0;
}

int credsparse_read_token_file(const char *path, size_t max_bytes, struct buf *out, struct buf *err)
{
    if (out->data != NULL)
        explicit_bzero(out->data, out->len);
    buf_reset(out);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        buf_printf(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > max_bytes) {
            buf_printf(err, "%s: larger than %zu bytes", path, max_bytes);
            rc = -1;
        } else if (buf_append(out, chunk, n) != 0) {
            buf_printf(err, "%s: out of memory", path);
            rc = -1;
        }
    }
    if (rc == 0 && ferror(f)) {
        buf_printf(err, "%s: %s", path, strerror(errno ? errno : EIO));
        rc = -1;
    }
    fclose(f);
    explicit_bzero(chunk, sizeof chunk);
    if (rc != 0) {
        if (out->data != NULL)
            explicit_bzero(out->data, out->len);
        buf_reset(out);
    }
    return rc;
}

int credsparse_container_token(const struct credsparse_container *c, struct buf *out, struct buf *err)
{
    if (c->token_file != NULL) {
        if (credsparse_read_token_file(c->token_file, 16384, out, err) != 0)
            return -1;
        if (!credsparse_header_value_ok(out->data ? out->data : "", out->len)) {
            explicit_bzero(out->data, out->len);
            buf_reset(out);
            buf_append_str(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: the token has a CR or LF");
            return -1;
        }
        return 0;
    }
    if (out->data != NULL)
        explicit_bzero(out->data, out->len);
    buf_reset(out);
    if (c->token != NULL && buf_append_str(out, c->token) != 0) {
        buf_append_str(err, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- IMDS ---- */

void credsparse_imds_clean_up(struct credsparse_imds *c)
{
    free(c->endpoint);
    memset(c, 0, sizeof *c);
}

int credsparse_imds_config(struct credsparse_imds *c, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                           struct buf *err)
{
    memset(c, 0, sizeof *c);
    const char *v = env_get(lookup, ctx, "AWS_EC2_METADATA_DISABLED");
    c->disabled = v != NULL && strcasecmp(v, "true") == 0;
    const char *endpoint = env_get(lookup, ctx, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = env_get(lookup, ctx, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (mode != NULL && strcasecmp(mode, "IPv4") != 0 && strcasecmp(mode, "IPv6") != 0) {
        buf_printf(err, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: '%s' is not IPv4 or IPv6", mode);
        return -1;
    }
    if (endpoint != NULL && strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) {
        buf_printf(err, "AWS_EC2_METADATA_SERVICE_ENDPOINT: '%s' is not an http:// or https:// URL", endpoint);
        return -1;
    }
    if (endpoint == NULL)
        endpoint = mode != NULL && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
    size_t len = strlen(endpoint);
    while (len > 0 && endpoint[len - 1] == '/')
        len--;
    if ((c->endpoint = strndup(endpoint, len)) == NULL) {
        buf_append_str(err, "out of memory");
        return -1;
    }
    return 0;
}

static int role_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("+=,.@_-", c) != NULL); /* strchr finds the terminator too */
}

int credsparse_imds_role(const char *body, size_t len, struct buf *out, struct buf *err)
{
    buf_reset(out);
    const char *nl = memchr(body, '\n', len);
    size_t end = nl ? (size_t)(nl - body) : len, start = 0;
    while (start < end && (body[start] == ' ' || body[start] == '\t' || body[start] == '\r'))
        start++;
    while (end > start && (body[end - 1] == ' ' || body[end - 1] == '\t' || body[end - 1] == '\r'))
        end--;
    if (end == start) {
        buf_append_str(err, "IMDS: the instance has no IAM role");
        return -1;
    }
    for (size_t i = start; i < end; i++) {
        if (end - start > 64 || !role_char(body[i])) {
            buf_append_str(err, "IMDS: the role name is not an IAM role name");
            return -1;
        }
    }
    return buf_append(out, body + start, end - start);
}

/* ---- STS requests ---- */

int credsparse_form_encode(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == '~';
        if (plain ? buf_append_char(out, (char)c) != 0
                  : (buf_append_char(out, '%') != 0 || buf_append_char(out, hex[c >> 4]) != 0 ||
                     buf_append_char(out, hex[c & 15]) != 0))
            return -1;
    }
    return 0;
}

int credsparse_sts_web_identity_form(struct buf *out, const char *role_arn, const char *session_name,
                                     const char *token)
{
    return buf_append_str(out, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=") != 0 ||
                   credsparse_form_encode(out, role_arn) != 0 || buf_append_str(out, "&RoleSessionName=") != 0 ||
                   credsparse_form_encode(out, session_name) != 0 ||
                   buf_append_str(out, "&WebIdentityToken=") != 0 || credsparse_form_encode(out, token) != 0
               ? -1
               : 0;
}

int credsparse_sts_assume_role_form(struct buf *out, const char *role_arn, const char *session_name,
                                    const char *external_id)
{
    if (buf_append_str(out, "Action=AssumeRole&Version=2011-06-15&RoleArn=") != 0 ||
        credsparse_form_encode(out, role_arn) != 0 || buf_append_str(out, "&RoleSessionName=") != 0 ||
        credsparse_form_encode(out, session_name) != 0)
        return -1;
    if (external_id != NULL &&
        (buf_append_str(out, "&ExternalId=") != 0 || credsparse_form_encode(out, external_id) != 0))
        return -1;
    return 0;
}

int credsparse_session_name(struct buf *out, int64_t now)
{
    return buf_printf(out, "usersvc-%lld", (long long)now);
}

int credsparse_session_name_valid(const char *s)
{
    size_t len = strlen(s);
    if (len < 2 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!role_char(s[i]))
            return 0;
    return 1;
}
