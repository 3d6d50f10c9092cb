#include "attrval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"

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
            *why = "number is out of range (DynamoDB holds magnitudes from 1e-130 to below 1e126)";
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
