#include "jsonread.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH: every value counts, scalars too */

struct reader {
    const char *p, *end;
    size_t flags;
    int depth;
};

static void skip_space(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid: no overlong forms, no
 * surrogates, nothing past U+10FFFF (jansson's utf8_check_full). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t value;
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        len = 2, value = c & 0x1F;
    else if (c < 0xF0)
        len = 3, value = c & 0x0F;
    else if (c < 0xF5)
        len = 4, value = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        value = (value << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && value < 0x800) || (len == 4 && value < 0x10000) || (value >= 0xD800 && value <= 0xDFFF) ||
        value > 0x10FFFF)
        return 0;
    return len;
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escapes of a string's body [s, e) (already checked to have no raw control characters and
 * valid UTF-8) into out (at least e - s bytes: escapes never grow). Returns the length, or -1 for a bad
 * escape, a lone or unpaired surrogate, or \u0000. */
static long unescape(const char *s, const char *e, char *out)
{
    char *o = out;
    while (s < e) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++; /* the scan guaranteed a character after each backslash */
        char c = *s++;
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp, low;
            if (e - s < 4 || hex4(s, &cp) != 0)
                return -1;
            s += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &low) != 0 || low < 0xDC00 ||
                    low > 0xDFFF)
                    return -1;
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            if (cp == 0)
                return -1;
            o += put_utf8(o, cp);
            break;
        }
        default:
            return -1;
        }
    }
    return (long)(o - out);
}

/* Reads a string at r->p (on its opening quote). Sets *start and *len to its decoded bytes: in the text itself
 * when it has no escapes (*owned NULL), else in a new buffer (*owned, caller frees). Returns 0 or -1. */
static int read_string(struct reader *r, const char **start, size_t *len, char **owned)
{
    const char *s = ++r->p, *p = s;
    int escaped = 0;
    *owned = NULL;
    for (;;) {
        if (p >= r->end)
            return -1;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            escaped = 1;
            p += 2; /* the escaped character is checked by unescape; a quote after '\' does not end it */
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_len((const unsigned char *)p, (size_t)(r->end - p));
        if (n == 0)
            return -1;
        p += n;
    }
    r->p = p + 1;
    if (!escaped) {
        *start = s;
        *len = (size_t)(p - s);
        return 0;
    }
    char *out = malloc((size_t)(p - s) + 1);
    if (out == NULL)
        return -1;
    long n = unescape(s, p, out);
    if (n < 0) {
        free(out);
        return -1;
    }
    *owned = out;
    *start = out;
    *len = (size_t)n;
    return 0;
}

static int is_digit(const struct reader *r, const char *p)
{
    return p < r->end && *p >= '0' && *p <= '9';
}

/* A number at r->p, as jansson lexes one: an integer (no fraction, no exponent) must fit int64; a real
 * must not overflow a double (underflow is fine). */
static json_t *read_number(struct reader *r)
{
    const char *s = r->p, *p = s;
    if (*p == '-')
        p++;
    if (!is_digit(r, p))
        return NULL;
    if (*p == '0') {
        p++;
        if (is_digit(r, p))
            return NULL;
    } else {
        while (is_digit(r, p))
            p++;
    }
    int integer = 1;
    if (p < r->end && *p == '.') {
        integer = 0;
        p++;
        if (!is_digit(r, p))
            return NULL;
        while (is_digit(r, p))
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        integer = 0;
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(r, p))
            return NULL;
        while (is_digit(r, p))
            p++;
    }
    r->p = p;
    size_t len = (size_t)(p - s);
    if (integer && len <= 18) { /* 18 digits (17 with a sign) cannot overflow */
        const char *d = s + (*s == '-');
        int64_t v = 0;
        for (; d < p; d++)
            v = v * 10 + (*d - '0');
        return json_integer(*s == '-' ? -v : v);
    }
    char small[64], *copy = len < sizeof small ? small : malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    json_t *value = NULL;
    errno = 0;
    if (integer) {
        long long v = strtoll(copy, NULL, 10);
        if (errno != ERANGE)
            value = json_integer(v);
    } else {
        double v = strtod(copy, NULL);
        if (!((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE))
            value = json_real(v);
    }
    if (copy != small)
        free(copy);
    return value;
}

static int literal(struct reader *r, const char *word, size_t len)
{
    if ((size_t)(r->end - r->p) < len || memcmp(r->p, word, len) != 0)
        return 0;
    r->p += len;
    return 1;
}

static json_t *read_value(struct reader *r);

static json_t *read_object(struct reader *r)
{
    json_t *object = json_object();
    if (object == NULL)
        return NULL;
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return object;
    }
    for (;;) {
        if (r->p >= r->end || *r->p != '"')
            goto fail;
        const char *key;
        size_t key_len;
        char *owned;
        if (read_string(r, &key, &key_len, &owned) != 0)
            goto fail;
        skip_space(r);
        json_t *value = NULL;
        int bad = (r->flags & JSON_REJECT_DUPLICATES) && json_object_getn(object, key, key_len) != NULL;
        if (!bad && r->p < r->end && *r->p == ':') {
            r->p++;
            skip_space(r);
            value = read_value(r);
        }
        int rc = value != NULL ? json_object_setn_new_nocheck(object, key, key_len, value) : -1;
        free(owned);
        if (rc != 0)
            goto fail;
        skip_space(r);
        if (r->p >= r->end)
            goto fail;
        if (*r->p == '}') {
            r->p++;
            return object;
        }
        if (*r->p != ',')
            goto fail;
        r->p++;
        skip_space(r);
    }
fail:
    json_decref(object);
    return NULL;
}

static json_t *read_array(struct reader *r)
{
    json_t *array = json_array();
    if (array == NULL)
        return NULL;
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return array;
    }
    for (;;) {
        json_t *value = read_value(r);
        if (value == NULL || json_array_append_new(array, value) != 0)
            goto fail;
        skip_space(r);
        if (r->p >= r->end)
            goto fail;
        if (*r->p == ']') {
            r->p++;
            return array;
        }
        if (*r->p != ',')
            goto fail;
        r->p++;
        skip_space(r);
    }
fail:
    json_decref(array);
    return NULL;
}

/* A value at r->p (white space already skipped). */
static json_t *read_value(struct reader *r)
{
    if (r->p >= r->end || ++r->depth > MAX_DEPTH)
        return NULL;
    json_t *value = NULL;
    switch (*r->p) {
    case '{':
        value = read_object(r);
        break;
    case '[':
        value = read_array(r);
        break;
    case '"': {
        const char *s;
        size_t len;
        char *owned;
        if (read_string(r, &s, &len, &owned) == 0)
            value = json_stringn_nocheck(s, len);
        free(owned);
        break;
    }
    case 't':
        value = literal(r, "true", 4) ? json_true() : NULL;
        break;
    case 'f':
        value = literal(r, "false", 5) ? json_false() : NULL;
        break;
    case 'n':
        value = literal(r, "null", 4) ? json_null() : NULL;
        break;
    default:
        value = read_number(r);
        break;
    }
    r->depth--;
    return value;
}

json_t *jsonread_parse(const char *text, size_t len, size_t flags)
{
    struct reader r = {.p = text, .end = text + len, .flags = flags};
    skip_space(&r);
    if (!(flags & JSON_DECODE_ANY) && (r.p >= r.end || (*r.p != '{' && *r.p != '[')))
        return NULL;
    json_t *value = read_value(&r);
    skip_space(&r);
    if (value != NULL && r.p != r.end) {
        json_decref(value);
        return NULL;
    }
    return value;
}
