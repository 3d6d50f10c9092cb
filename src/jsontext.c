#include "jsontext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_TEXT 40 /* any int64, or a double in %.17g */

int json_write_string(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF"; /* as jansson writes them */
    if (buf_reserve(out, len + 2) != 0 || buf_append_char(out, '"') != 0)
        return -1;
    size_t run = 0; /* bytes copied as is since the last escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (buf_append(out, s + run, i - run) != 0)
            return -1;
        run = i + 1;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (buf_append(out, esc, n) != 0)
            return -1;
    }
    if (buf_append(out, s + run, len - run) != 0)
        return -1;
    return buf_append_char(out, '"');
}

int json_write_array(struct buf *out, const json_t *array, json_writer *write_item)
{
    if (!json_is_array(array) || buf_append_char(out, '[') != 0)
        return -1;
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) {
        if ((i > 0 && buf_append_char(out, ',') != 0) || write_item(out, item) != 0)
            return -1;
    }
    return buf_append_char(out, ']');
}

int json_write_object(struct buf *out, const json_t *object, json_writer *write_member)
{
    if (!json_is_object(object) || buf_append_char(out, '{') != 0)
        return -1;
    const char *key;
    size_t key_len;
    json_t *member;
    int first = 1;
    json_object_keylen_foreach((json_t *)object, key, key_len, member) {
        if ((!first && buf_append_char(out, ',') != 0) || json_write_string(out, key, key_len) != 0 ||
            buf_append_char(out, ':') != 0 || write_member(out, member) != 0)
            return -1;
        first = 0;
    }
    return buf_append_char(out, '}');
}

int json_write_value(struct buf *out, const json_t *v)
{
    char text[NUMBER_TEXT];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_write_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf_append_str(out, text);
    case JSON_REAL:
        /* As jansson writes reals (it holds only finite ones): 17 digits, "1.0" stays a real,
         * and the exponent loses its '+' and leading zeros ("1e+07" is "1e7"). */
        snprintf(text, sizeof text, "%.17g", json_real_value(v));
        char *e = strchr(text, 'e');
        if (e == NULL && strchr(text, '.') == NULL)
            strcat(text, ".0");
        if (e != NULL) {
            char *digits = e + 1 + (e[1] == '-');
            char *from = e[1] == '+' ? e + 2 : digits;
            while (*from == '0' && from[1] != '\0')
                from++;
            memmove(digits, from, strlen(from) + 1);
        }
        return buf_append_str(out, text);
    case JSON_TRUE:
        return buf_append_str(out, "true");
    case JSON_FALSE:
        return buf_append_str(out, "false");
    case JSON_NULL:
        return buf_append_str(out, "null");
    case JSON_ARRAY:
        return json_write_array(out, v, json_write_value);
    case JSON_OBJECT:
        return json_write_object(out, v, json_write_value);
    }
    return -1;
}
