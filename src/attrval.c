#include "attrval.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"

#define RANGE_WHY "number is out of range (DynamoDB holds magnitudes from 1e-130 to below 1e126)"
#define DIGITS_WHY "number has more than 38 significant digits (DynamoDB's limit)"
#define EXACT_WHY "number cannot be kept exactly (more precision than a 64-bit double holds)"
#define INT64_WHY "integer is beyond int64"
#define EXPONENT_CAP 100000 /* far past DynamoDB's range either way */

int av_number_text(const json_t *number, char out[AV_NUMBER_TEXT])
{
    if (json_is_integer(number)) {
        snprintf(out, AV_NUMBER_TEXT, "%" JSON_INTEGER_FORMAT, json_integer_value(number));
        return 0;
    }
    if (!json_is_real(number))
        return -1;
    double v = json_real_value(number);
    if (!isfinite(v))
        return -1;
    if (v == 0) {
        strcpy(out, "0"); /* also for -0: DynamoDB has no negative zero */
        return 0;
    }
    double mag = fabs(v);
    if (mag < 1e-130 || mag >= 1e126)
        return -1;
    /* The shortest text that reads back as the same double. */
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, AV_NUMBER_TEXT, "%.*g", precision, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return 0;
}

static json_t *from_json(const json_t *value, int depth, const char **why)
{
    if (depth > AV_MAX_DEPTH) {
        *why = "nesting is deeper than 32 levels";
        return NULL;
    }
    char text[AV_NUMBER_TEXT];
    switch (json_typeof(value)) {
    case JSON_STRING:
        return json_pack("{s:s%}", "S", json_string_value(value), json_string_length(value));
    case JSON_INTEGER:
    case JSON_REAL:
        if (av_number_text(value, text) != 0) {
            *why = RANGE_WHY;
            return NULL;
        }
        return json_pack("{s:s}", "N", text);
    case JSON_TRUE:
    case JSON_FALSE:
        return json_pack("{s:b}", "BOOL", json_is_true(value));
    case JSON_NULL:
        return json_pack("{s:b}", "NULL", 1);
    case JSON_ARRAY: {
        json_t *list = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) {
            json_t *av = from_json(item, depth + 1, why);
            if (av == NULL || json_array_append_new(list, av) != 0) {
                json_decref(list);
                return NULL;
            }
        }
        return json_pack("{s:o}", "L", list);
    }
    case JSON_OBJECT: {
        json_t *map = json_object();
        const char *key;
        size_t key_len;
        json_t *member;
        json_object_keylen_foreach((json_t *)value, key, key_len, member) {
            if (key_len == 0) {
                *why = "an object has an empty key (DynamoDB cannot store one)";
                json_decref(map);
                return NULL;
            }
            json_t *av = from_json(member, depth + 1, why);
            if (av == NULL || json_object_setn_new(map, key, key_len, av) != 0) {
                json_decref(map);
                return NULL;
            }
        }
        return json_pack("{s:o}", "M", map);
    }
    }
    return NULL;
}

json_t *av_from_json(const json_t *value, const char **why)
{
    *why = "out of memory";
    return from_json(value, 1, why);
}

/* A number text as a decimal: value = 0.digits x 10^point10, digits without
 * leading or trailing zeros (n == 0 for zero; only the first 39 are kept). */
struct decimal {
    char digits[40];
    size_t n;
    long point10;
    int is_integer; /* no fraction and no exponent: jansson reads it as an int64 */
};

/* Parses a JSON number; returns 0, or -1 when text is not one. */
static int decimal_parse(const char *text, size_t len, struct decimal *d)
{
    const char *p = text, *end = text + len;
    if (p < end && *p == '-')
        p++;
    const char *int_start = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    long int_len = (long)(p - int_start);
    if (int_len == 0 || (int_len > 1 && *int_start == '0'))
        return -1;
    const char *frac_start = p, *frac_end = p;
    d->is_integer = 1;
    if (p < end && *p == '.') {
        frac_start = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        frac_end = p;
        if (frac_end == frac_start)
            return -1;
        d->is_integer = 0;
    }
    long exponent = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        d->is_integer = 0;
        p++;
        int negative = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return -1;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (exponent < EXPONENT_CAP)
                exponent = exponent * 10 + (*p - '0');
        if (negative)
            exponent = -exponent;
    }
    if (p != end)
        return -1;
    long total = int_len + (long)(frac_end - frac_start), first = -1, zeros = 0;
    d->n = 0;
    for (long i = 0; i < total; i++) {
        char c = i < int_len ? int_start[i] : frac_start[i - int_len];
        if (first < 0 && c == '0')
            continue;
        if (first < 0)
            first = i;
        if (c == '0') {
            zeros++; /* kept only when a non-zero digit follows */
            continue;
        }
        for (; zeros > 0; zeros--, d->n++)
            if (d->n < sizeof d->digits - 1)
                d->digits[d->n] = '0';
        if (d->n < sizeof d->digits - 1)
            d->digits[d->n] = c;
        d->n++;
    }
    d->digits[d->n < sizeof d->digits - 1 ? d->n : sizeof d->digits - 1] = '\0';
    d->point10 = first < 0 ? 0 : int_len - first + exponent;
    return 0;
}

int av_number_check(const char *text, size_t len, const char **why)
{
    struct decimal d;
    if (decimal_parse(text, len, &d) != 0) {
        *why = "is not a JSON number";
        return -1;
    }
    if (d.n == 0)
        return 0; /* zero, however written */
    if (d.n > 38) {
        *why = DIGITS_WHY;
        return -1;
    }
    /* |value| = 0.digits x 10^point10 lies in [10^(point10-1), 10^point10). */
    if (d.point10 - 1 < -130 || d.point10 - 1 > 125) {
        *why = RANGE_WHY;
        return -1;
    }
    if (d.is_integer) {
        char copy[24];
        errno = 0;
        if (len < sizeof copy) {
            memcpy(copy, text, len);
            copy[len] = '\0';
            (void)strtoll(copy, NULL, 10);
        }
        if (len >= sizeof copy || errno == ERANGE) {
            *why = INT64_WHY;
            return -1;
        }
        return 0;
    }
    /* A real is exact when its shortest double text is the same decimal: up
     * to 15 significant digits always are, more than 17 never are. */
    if (d.n <= 15)
        return 0;
    if (d.n > 17) {
        *why = EXACT_WHY;
        return -1;
    }
    char normal[64], shortest[AV_NUMBER_TEXT];
    snprintf(normal, sizeof normal, "%s0.%se%ld", text[0] == '-' ? "-" : "", d.digits, d.point10);
    json_t *real = json_real(strtod(normal, NULL));
    struct decimal back;
    int same = real != NULL && av_number_text(real, shortest) == 0 &&
               decimal_parse(shortest, strlen(shortest), &back) == 0 && back.n == d.n &&
               back.point10 == d.point10 && strcmp(back.digits, d.digits) == 0;
    json_decref(real);
    if (!same) {
        *why = EXACT_WHY;
        return -1;
    }
    return 0;
}

#define TEXT_MAX_DEPTH 64 /* deeper places are still checked; their path is cut there */

struct text_frame {
    int is_object;
    size_t index;    /* arrays: the current element */
    const char *key; /* objects: the current member's key as written */
    size_t key_len;
};

/* Reports one place: the path through frames[1..depth), ending with the
 * innermost frame's current member or element when at_value (else at that
 * frame's own place). Frame 0 is the body itself. */
static void report(const struct text_frame *frames, int depth, int at_value, const char *why, av_text_error *bad,
                   void *ctx)
{
    struct buf path = BUF_INIT;
    int end = depth < TEXT_MAX_DEPTH ? depth : TEXT_MAX_DEPTH;
    if (!at_value && end == depth)
        end--;
    for (int i = 0; i < end; i++) {
        if (i > 0)
            buf_append_char(&path, '/');
        if (frames[i].is_object)
            buf_append(&path, frames[i].key, frames[i].key_len);
        else
            buf_printf(&path, "%zu", frames[i].index);
    }
    bad(ctx, buf_cstr(&path), why);
    buf_clean_up(&path);
}

size_t av_check_text(const char *text, size_t len, av_text_error *bad, void *ctx)
{
    struct text_frame frames[TEXT_MAX_DEPTH];
    int depth = 0;    /* open containers */
    int want_key = 0; /* the next string in the innermost object is a key */
    size_t reported = 0;
    const char *why;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        struct text_frame *top = depth > 0 && depth <= TEXT_MAX_DEPTH ? &frames[depth - 1] : NULL;
        if (c == '{' || c == '[') {
            if (depth < TEXT_MAX_DEPTH)
                frames[depth] = (struct text_frame){.is_object = c == '{'};
            depth++;
            want_key = c == '{';
            i++;
        } else if (c == '}' || c == ']') {
            depth--;
            want_key = 0;
            i++;
        } else if (c == ',') {
            if (top != NULL && !top->is_object)
                top->index++;
            want_key = top != NULL && top->is_object;
            i++;
        } else if (c == '"') {
            size_t j = i + 1;
            while (j < len && text[j] != '"')
                j += text[j] == '\\' ? 2 : 1;
            if (want_key && top != NULL) {
                top->key = text + i + 1;
                top->key_len = j - i - 1;
                if (top->key_len == 0 && depth > 1) {
                    report(frames, depth, 0, "has an empty key (DynamoDB cannot store one)", bad, ctx);
                    reported++;
                }
            }
            want_key = 0;
            i = j + 1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i + 1;
            while (j < len && strchr("0123456789.eE+-", text[j]) != NULL)
                j++;
            if (av_number_check(text + i, j - i, &why) != 0) {
                report(frames, depth, 1, why, bad, ctx);
                reported++;
            }
            i = j;
        } else {
            i++; /* white space, ':', and the letters of true, false and null */
        }
    }
    return reported;
}

/* 1 when s is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int write_number(struct buf *out, const json_t *n)
{
    const char *text = json_string_value(n);
    if (text == NULL)
        return -1;
    if (is_json_number(text))
        return buf_append_str(out, text);
    return json_write_string(out, text, strlen(text)); /* never emit invalid JSON */
}

static int write_string(struct buf *out, const json_t *s)
{
    if (!json_is_string(s))
        return -1;
    return json_write_string(out, json_string_value(s), json_string_length(s));
}

int av_write_json(struct buf *out, const json_t *av)
{
    const char *type;
    json_t *v;
    if (!json_is_object(av) || json_object_size(av) != 1)
        return -1;
    json_object_foreach((json_t *)av, type, v) {
        if (strcmp(type, "S") == 0 || strcmp(type, "B") == 0)
            return write_string(out, v);
        if (strcmp(type, "N") == 0)
            return write_number(out, v);
        if (strcmp(type, "BOOL") == 0)
            return json_is_boolean(v) ? buf_append_str(out, json_is_true(v) ? "true" : "false") : -1;
        if (strcmp(type, "NULL") == 0)
            return buf_append_str(out, "null");
        if (strcmp(type, "SS") == 0 || strcmp(type, "BS") == 0)
            return json_write_array(out, v, write_string);
        if (strcmp(type, "NS") == 0)
            return json_write_array(out, v, write_number);
        if (strcmp(type, "L") == 0)
            return json_write_array(out, v, av_write_json);
        if (strcmp(type, "M") == 0)
            return json_write_object(out, v, av_write_json);
    }
    return -1;
}

/* Bytes of a number as DynamoDB counts them: one per two significant digits
 * (leading and trailing zeros trimmed), plus one. */
static size_t number_size(const char *text)
{
    size_t first = 0, last = 0, position = 0; /* positions among the digits, 1-based */
    for (const char *p = text; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
        if (*p < '0' || *p > '9')
            continue;
        position++;
        if (*p != '0') {
            if (first == 0)
                first = position;
            last = position;
        }
    }
    size_t digits = first ? last - first + 1 : 1;
    return (digits + 1) / 2 + 1;
}

/* Bytes a base64 text decodes to. */
static size_t base64_size(const char *text, size_t len)
{
    size_t padding = 0;
    while (len > 0 && padding < 2 && text[len - 1] == '=')
        len--, padding++;
    return len * 3 / 4;
}

static size_t value_size(const json_t *av)
{
    const char *type;
    json_t *v;
    size_t size = 0, i;
    json_t *member;
    json_object_foreach((json_t *)av, type, v) {
        if (strcmp(type, "S") == 0)
            size = json_string_length(v);
        else if (strcmp(type, "B") == 0)
            size = base64_size(json_string_value(v) ? json_string_value(v) : "", json_string_length(v));
        else if (strcmp(type, "N") == 0)
            size = number_size(json_string_value(v) ? json_string_value(v) : "");
        else if (strcmp(type, "BOOL") == 0 || strcmp(type, "NULL") == 0)
            size = 1;
        else if (strcmp(type, "L") == 0 || strcmp(type, "SS") == 0 || strcmp(type, "NS") == 0 ||
                 strcmp(type, "BS") == 0) {
            size = 3;
            json_array_foreach(v, i, member)
                size += 1 + (json_is_object(member) ? value_size(member) : json_string_length(member));
        } else if (strcmp(type, "M") == 0) {
            size = 3 + av_item_size(v);
            size += json_object_size(v);
        }
    }
    return size;
}

size_t av_item_size(const json_t *item)
{
    size_t size = 0;
    const char *key;
    size_t key_len;
    json_t *av;
    json_object_keylen_foreach((json_t *)item, key, key_len, av)
        size += key_len + value_size(av);
    return size;
}
