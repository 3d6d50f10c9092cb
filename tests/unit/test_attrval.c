/* test_attrval: JSON <-> DynamoDB AttributeValue. Client JSON to AVs for every
 * type (numbers exact and in DynamoDB's range, nesting limit), AVs read back
 * written as plain JSON (N verbatim, sets, binary, escaping, malformed AVs),
 * round trips, and DynamoDB's item size rules. */
#include "attrval.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"

#include "check.h"
#include "check_json.h"

/* av_from_json of v (stolen) as compact sorted text, or "(null)" with *why set. */
static const char *av_text(json_t *v, const char **why)
{
    *why = NULL;
    json_t *av = av_from_json(v, why);
    const char *text = dump(av);
    json_decref(av);
    json_decref(v);
    return text;
}

/* av_write_json of the AV in text; returns the JSON written, or "(error)" when it fails. */
static const char *write_text(const char *av_json)
{
    static char out_text[4096];
    json_error_t error;
    json_t *av = json_loads(av_json, JSON_DECODE_ANY, &error);
    if (av == NULL) {
        fprintf(stderr, "bad test AV %s: %s\n", av_json, error.text);
        return "(bad test input)";
    }
    struct buf out = BUF_INIT;
    int rc = av_write_json(&out, av);
    snprintf(out_text, sizeof out_text, "%s", rc == 0 ? buf_cstr(&out) : "(error)");
    buf_clean_up(&out);
    json_decref(av);
    return out_text;
}

/* The significant digits of a decimal number text (no sign, no leading or
 * trailing zeros, no point, no exponent) into digits. */
static void significant_digits(const char *text, char *digits, size_t size)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0' && *p != 'e' && *p != 'E'; p++)
        if (*p >= '0' && *p <= '9' && n + 1 < size && !(n == 0 && *p == '0'))
            digits[n++] = *p;
    while (n > 0 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
}

/* 1 when text is a JSON number (and so a valid DynamoDB N text). */
static int json_number_text(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    int ok = v != NULL && json_is_number(v);
    json_decref(v);
    return ok;
}

/* Checks the N text of a double: reads back as exactly v, is a plain number,
 * and carries exactly the shortest digits want_digits (the exponent may be
 * written "e-7" or "e-07"). */
static void check_double_text(double v, const char *want_digits)
{
    char text[AV_NUMBER_TEXT], digits[64];
    json_t *real = json_real(v);
    memset(text, 0, sizeof text);
    CHECK_INT_EQ(av_number_text(real, text), 0);
    json_decref(real);
    CHECK(strtod(text, NULL) == v);
    CHECK(json_number_text(text));
    significant_digits(text, digits, sizeof digits);
    CHECK_STR_EQ(digits, want_digits);
}

static void test_scalars(void)
{
    const char *why;
    CHECK_STR_EQ(av_text(json_string("hello"), &why), "{\"S\":\"hello\"}");
    CHECK_STR_EQ(av_text(json_string(""), &why), "{\"S\":\"\"}");
    CHECK_STR_EQ(av_text(json_string("caf\xC3\xA9"), &why), "{\"S\":\"caf\xC3\xA9\"}");
    CHECK_STR_EQ(av_text(json_integer(0), &why), "{\"N\":\"0\"}");
    CHECK_STR_EQ(av_text(json_integer(42), &why), "{\"N\":\"42\"}");
    CHECK_STR_EQ(av_text(json_integer(-7), &why), "{\"N\":\"-7\"}");
    CHECK_STR_EQ(av_text(json_integer(INT64_MAX), &why), "{\"N\":\"9223372036854775807\"}");
    CHECK_STR_EQ(av_text(json_integer(INT64_MIN), &why), "{\"N\":\"-9223372036854775808\"}");
    CHECK_STR_EQ(av_text(json_true(), &why), "{\"BOOL\":true}");
    CHECK_STR_EQ(av_text(json_false(), &why), "{\"BOOL\":false}");
    CHECK_STR_EQ(av_text(json_null(), &why), "{\"NULL\":true}");
}

/* A string with an embedded NUL keeps all its bytes. */
static void test_embedded_nul(void)
{
    const char *why;
    json_t *v = json_stringn("x\0y", 3);
    json_t *av = av_from_json(v, &why);
    json_t *str = json_object_get(av, "S");
    CHECK(json_is_string(str));
    CHECK_INT_EQ(json_string_length(str), 3);
    CHECK(json_string_length(str) == 3 && memcmp(json_string_value(str), "x\0y", 3) == 0);
    CHECK_STR_EQ(dump(av), "{\"S\":\"x\\u0000y\"}");
    json_decref(av);
    json_decref(v);
}

static void test_reals(void)
{
    const char *why;
    CHECK_STR_EQ(av_text(json_real(0.1), &why), "{\"N\":\"0.1\"}");
    CHECK_STR_EQ(av_text(json_real(-2.5), &why), "{\"N\":\"-2.5\"}");
    CHECK_STR_EQ(av_text(json_real(123456789.125), &why), "{\"N\":\"123456789.125\"}");
    CHECK_STR_EQ(av_text(json_real(1.0), &why), "{\"N\":\"1\"}");
    CHECK_STR_EQ(av_text(json_real(0.0), &why), "{\"N\":\"0\"}");
    CHECK_STR_EQ(av_text(json_real(-0.0), &why), "{\"N\":\"0\"}");
    /* Shortest round-trip digits. */
    check_double_text(0.1, "1");
    check_double_text(1.5e-7, "15");
    check_double_text(1e125, "1");
    check_double_text(-9.5e125, "95");
    check_double_text(1e-130, "1");
    check_double_text(0.1 + 0.2, "30000000000000004");
    check_double_text(123456789.125, "123456789125");
    /* Range: magnitudes from 1e-130 to below 1e126. */
    CHECK(strcmp(av_text(json_real(1e125), &why), "(null)") != 0);
    CHECK_STR_EQ(av_text(json_real(1e126), &why), "(null)");
    CHECK(why != NULL && strstr(why, "range") != NULL);
    CHECK_STR_EQ(av_text(json_real(-1e126), &why), "(null)");
    CHECK_STR_EQ(av_text(json_real(1e300), &why), "(null)");
    CHECK_STR_EQ(av_text(json_real(1e-131), &why), "(null)");
    CHECK(why != NULL && strstr(why, "range") != NULL);
    CHECK_STR_EQ(av_text(json_real(-1e-131), &why), "(null)");
    CHECK_STR_EQ(av_text(json_real(5e-324), &why), "(null)");

    char text[AV_NUMBER_TEXT];
    json_t *str = json_string("1");
    CHECK_INT_EQ(av_number_text(str, text), -1);
    json_decref(str);
    json_t *i = json_integer(-12);
    CHECK_INT_EQ(av_number_text(i, text), 0);
    CHECK_STR_EQ(text, "-12");
    json_decref(i);
}

static void test_containers(void)
{
    const char *why;
    CHECK_STR_EQ(av_text(json_array(), &why), "{\"L\":[]}");
    CHECK_STR_EQ(av_text(json_object(), &why), "{\"M\":{}}");
    CHECK_STR_EQ(av_text(json_pack("[i,s,b,n,f]", 1, "x", 1, 0.5), &why),
                 "{\"L\":[{\"N\":\"1\"},{\"S\":\"x\"},{\"BOOL\":true},{\"NULL\":true},{\"N\":\"0.5\"}]}");
    CHECK_STR_EQ(av_text(json_pack("{s:{s:[i,{s:s}]}, s:b}", "a", "b", 2, "c", "d", "e", 0), &why),
                 "{\"M\":{\"a\":{\"M\":{\"b\":{\"L\":[{\"N\":\"2\"},{\"M\":{\"c\":{\"S\":\"d\"}}}]}}},"
                 "\"e\":{\"BOOL\":false}}}");
    /* An out-of-range number deep inside fails the whole value. */
    CHECK_STR_EQ(av_text(json_pack("{s:[i,{s:f}]}", "a", 1, "b", 1e200), &why), "(null)");
    CHECK(why != NULL && strstr(why, "range") != NULL);
}

/* depth levels counted as DynamoDB does: the value itself is level 1, each
 * enclosing list or map one more. Builds levels-1 arrays around a leaf. */
static json_t *nested(int levels, json_t *leaf)
{
    json_t *v = leaf;
    for (int i = 1; i < levels; i++)
        v = json_pack("[o]", v);
    return v;
}

static json_t *nested_maps(int levels, json_t *leaf)
{
    json_t *v = leaf;
    for (int i = 1; i < levels; i++)
        v = json_pack("{s:o}", "k", v);
    return v;
}

static void test_depth(void)
{
    const char *why;
    CHECK(strcmp(av_text(nested(32, json_integer(1)), &why), "(null)") != 0);
    CHECK_STR_EQ(av_text(nested(33, json_integer(1)), &why), "(null)");
    CHECK(why != NULL && strstr(why, "32") != NULL);
    CHECK(strcmp(av_text(nested_maps(32, json_string("x")), &why), "(null)") != 0);
    CHECK_STR_EQ(av_text(nested_maps(33, json_string("x")), &why), "(null)");
    /* Empty containers: 32 levels of lists is fine, 33 is not. */
    CHECK(strcmp(av_text(nested(32, json_array()), &why), "(null)") != 0);
    CHECK_STR_EQ(av_text(nested(33, json_array()), &why), "(null)");
    CHECK_STR_EQ(av_text(nested(200, json_null()), &why), "(null)");
}

static void test_write_scalars(void)
{
    CHECK_STR_EQ(write_text("{\"S\":\"hi\"}"), "\"hi\"");
    CHECK_STR_EQ(write_text("{\"S\":\"\"}"), "\"\"");
    CHECK_STR_EQ(write_text("{\"N\":\"42\"}"), "42");
    CHECK_STR_EQ(write_text("{\"N\":\"-0.5\"}"), "-0.5");
    CHECK_STR_EQ(write_text("{\"N\":\"12345678901234567890123456789012345678\"}"),
                 "12345678901234567890123456789012345678");
    CHECK_STR_EQ(write_text("{\"N\":\"1E+2\"}"), "1E+2");
    CHECK_STR_EQ(write_text("{\"N\":\"1.5e-07\"}"), "1.5e-07");
    CHECK_STR_EQ(write_text("{\"N\":\"9.9999999999999999999999999999999999999E+125\"}"),
                 "9.9999999999999999999999999999999999999E+125");
    /* N texts that are not JSON numbers are written as strings, never as bad JSON. */
    CHECK_STR_EQ(write_text("{\"N\":\"+5\"}"), "\"+5\"");
    CHECK_STR_EQ(write_text("{\"N\":\".5\"}"), "\".5\"");
    CHECK_STR_EQ(write_text("{\"N\":\"5.\"}"), "\"5.\"");
    CHECK_STR_EQ(write_text("{\"N\":\"007\"}"), "\"007\"");
    CHECK_STR_EQ(write_text("{\"N\":\"-\"}"), "\"-\"");
    CHECK_STR_EQ(write_text("{\"N\":\"1e\"}"), "\"1e\"");
    CHECK_STR_EQ(write_text("{\"N\":\"\"}"), "\"\"");
    CHECK_STR_EQ(write_text("{\"N\":\"NaN\"}"), "\"NaN\"");
    CHECK_STR_EQ(write_text("{\"BOOL\":true}"), "true");
    CHECK_STR_EQ(write_text("{\"BOOL\":false}"), "false");
    CHECK_STR_EQ(write_text("{\"NULL\":true}"), "null");
    CHECK_STR_EQ(write_text("{\"B\":\"AQID\"}"), "\"AQID\"");
}

static void test_write_containers(void)
{
    CHECK_STR_EQ(write_text("{\"L\":[]}"), "[]");
    CHECK_STR_EQ(write_text("{\"M\":{}}"), "{}");
    CHECK_STR_EQ(write_text("{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"},{\"NULL\":true},{\"L\":[{\"BOOL\":false}]}]}"),
                 "[\"a\",1,null,[false]]");
    CHECK_STR_EQ(write_text("{\"M\":{\"b\":{\"N\":\"2\"},\"a\":{\"M\":{\"c\":{\"L\":[]}}}}}"),
                 "{\"b\":2,\"a\":{\"c\":[]}}");
    CHECK_STR_EQ(write_text("{\"M\":{\"q\\\"k\":{\"S\":\"v\"}}}"), "{\"q\\\"k\":\"v\"}");
    CHECK_STR_EQ(write_text("{\"SS\":[\"x\",\"y\\\"z\"]}"), "[\"x\",\"y\\\"z\"]");
    CHECK_STR_EQ(write_text("{\"SS\":[]}"), "[]");
    CHECK_STR_EQ(write_text("{\"NS\":[\"1\",\"2.5\",\"-3E+4\"]}"), "[1,2.5,-3E+4]");
    CHECK_STR_EQ(write_text("{\"NS\":[\"1\",\"+2\"]}"), "[1,\"+2\"]");
    CHECK_STR_EQ(write_text("{\"BS\":[\"AQ==\",\"Ag==\"]}"), "[\"AQ==\",\"Ag==\"]");
}

static void test_write_escaping(void)
{
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(json_write_string(&out, "a\"b\\c", 5), 0);
    CHECK_STR_EQ(buf_cstr(&out), "\"a\\\"b\\\\c\"");
    buf_reset(&out);
    CHECK_INT_EQ(json_write_string(&out, "\n\r\t\b\f", 5), 0);
    CHECK_STR_EQ(buf_cstr(&out), "\"\\n\\r\\t\\b\\f\"");
    buf_reset(&out);
    CHECK_INT_EQ(json_write_string(&out, "\x01x\x10\x19", 4), 0);
    CHECK_STR_EQ(buf_cstr(&out), "\"\\u0001x\\u0010\\u0019\"");
    buf_reset(&out);
    CHECK_INT_EQ(json_write_string(&out, "\x1f", 1), 0);
    CHECK_STR_EQ(buf_cstr(&out), "\"\\u001F\""); /* upper case, as jansson writes it */
    buf_reset(&out);
    CHECK_INT_EQ(json_write_string(&out, "a\0b", 3), 0);
    CHECK_STR_EQ(buf_cstr(&out), "\"a\\u0000b\"");
    buf_reset(&out);
    CHECK_INT_EQ(json_write_string(&out, "\xE2\x82\xAC \xF0\x9F\x98\x80 /\x7f", 11), 0);
    CHECK_STR_EQ(buf_cstr(&out), "\"\xE2\x82\xAC \xF0\x9F\x98\x80 /\x7f\"");
    buf_reset(&out);
    /* Appends after what the buffer holds. */
    CHECK_INT_EQ(buf_append_str(&out, "x="), 0);
    CHECK_INT_EQ(json_write_string(&out, "", 0), 0);
    CHECK_STR_EQ(buf_cstr(&out), "x=\"\"");
    buf_clean_up(&out);

    /* Through av_write_json, the S of an item read back. */
    json_t *av = json_pack("{s:s%}", "S", "q\"\\\n\x01\0z", (size_t)7);
    CHECK_INT_EQ(av_write_json(&out, av), 0);
    CHECK_STR_EQ(buf_cstr(&out), "\"q\\\"\\\\\\n\\u0001\\u0000z\"");
    json_decref(av);
    buf_clean_up(&out);

    /* Map keys with an embedded NUL are escaped too. */
    json_t *m = json_object();
    json_object_setn_new(m, "k\0", 2, json_pack("{s:s}", "S", "v"));
    av = json_pack("{s:o}", "M", m);
    CHECK_INT_EQ(av_write_json(&out, av), 0);
    CHECK_STR_EQ(buf_cstr(&out), "{\"k\\u0000\":\"v\"}");
    json_decref(av);
    buf_clean_up(&out);
}

static void test_write_malformed(void)
{
    CHECK_STR_EQ(write_text("{\"S\":\"a\",\"N\":\"1\"}"), "(error)");
    CHECK_STR_EQ(write_text("{}"), "(error)");
    CHECK_STR_EQ(write_text("{\"X\":\"a\"}"), "(error)");
    CHECK_STR_EQ(write_text("{\"s\":\"a\"}"), "(error)");
    CHECK_STR_EQ(write_text("\"S\""), "(error)");
    CHECK_STR_EQ(write_text("[{\"S\":\"a\"}]"), "(error)");
    CHECK_STR_EQ(write_text("null"), "(error)");
    CHECK_STR_EQ(write_text("{\"S\":1}"), "(error)");
    CHECK_STR_EQ(write_text("{\"N\":1}"), "(error)");
    CHECK_STR_EQ(write_text("{\"B\":true}"), "(error)");
    CHECK_STR_EQ(write_text("{\"BOOL\":\"true\"}"), "(error)");
    CHECK_STR_EQ(write_text("{\"L\":{}}"), "(error)");
    CHECK_STR_EQ(write_text("{\"M\":[]}"), "(error)");
    CHECK_STR_EQ(write_text("{\"SS\":\"a\"}"), "(error)");
    CHECK_STR_EQ(write_text("{\"SS\":[1]}"), "(error)");
    CHECK_STR_EQ(write_text("{\"NS\":[1]}"), "(error)");
    CHECK_STR_EQ(write_text("{\"BS\":[null]}"), "(error)");
    /* Malformed members deep inside. */
    CHECK_STR_EQ(write_text("{\"L\":[{\"S\":\"a\"},{\"Q\":1}]}"), "(error)");
    CHECK_STR_EQ(write_text("{\"M\":{\"a\":{\"S\":\"x\",\"N\":\"1\"}}}"), "(error)");
    CHECK_STR_EQ(write_text("{\"M\":{\"a\":\"plain\"}}"), "(error)");
}

/* Parses client JSON, converts it to an AV and writes it back. */
static void expect_round_trip(const char *client)
{
    const char *why;
    json_t *v = json_loads(client, JSON_DECODE_ANY, NULL);
    CHECK(v != NULL);
    json_t *av = v != NULL ? av_from_json(v, &why) : NULL;
    CHECK(av != NULL);
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(av != NULL ? av_write_json(&out, av) : -1, 0);
    CHECK_STR_EQ(buf_cstr(&out), client);
    buf_clean_up(&out);
    json_decref(av);
    json_decref(v);
}

static void test_round_trip(void)
{
    expect_round_trip("\"plain\"");
    expect_round_trip("42");
    expect_round_trip("-9223372036854775808");
    expect_round_trip("0.1");
    expect_round_trip("123456789.125");
    expect_round_trip("true");
    expect_round_trip("null");
    expect_round_trip("[]");
    expect_round_trip("{}");
    expect_round_trip("{\"name\":\"Ann \\\"A\\\" Lee\",\"age\":30,\"score\":-2.75,\"ok\":false,\"none\":null,"
                      "\"tags\":[\"a\",1,[true,{}]],\"addr\":{\"city\":\"Z\xC3\xBCrich\",\"zip\":\"8000\","
                      "\"geo\":{\"lat\":47.5,\"lon\":8.25}}}");
    expect_round_trip("[\"caf\xC3\xA9\",\"tab\\there\",\"nl\\n\",\"\\u0001\"]");
}

static json_t *item_from(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    CHECK(v != NULL);
    return v;
}

static void test_item_size(void)
{
    /* Attribute name bytes + value bytes:
     *   id   "abc"                    2 + 3                       = 5
     *   age  N "42"  (2 digits)       3 + (1 + 1)                 = 5
     *   ok   BOOL                     2 + 1                       = 3
     *   nil  NULL                     3 + 1                       = 4
     *   tags L [S "x", N "7"]         4 + 3 + (1+1) + (1+(1+1))   = 12
     *   m    M {"k": NULL}            1 + 3 + (1 + (1+1))         = 7
     *   nm   S "é" (2 UTF-8 bytes)    2 + 2                       = 4
     * total 40 */
    json_t *item = item_from("{\"id\":{\"S\":\"abc\"},\"age\":{\"N\":\"42\"},\"ok\":{\"BOOL\":true},"
                             "\"nil\":{\"NULL\":true},\"tags\":{\"L\":[{\"S\":\"x\"},{\"N\":\"7\"}]},"
                             "\"m\":{\"M\":{\"k\":{\"NULL\":true}}},\"nm\":{\"S\":\"\\u00e9\"}}");
    CHECK_INT_EQ(av_item_size(item), 40);
    json_decref(item);

    json_t *empty = json_object();
    CHECK_INT_EQ(av_item_size(empty), 0);
    json_decref(empty);

    /* Empty list and map: 3 bytes each. */
    item = item_from("{\"l\":{\"L\":[]},\"mm\":{\"M\":{}}}");
    CHECK_INT_EQ(av_item_size(item), 1 + 3 + 2 + 3);
    json_decref(item);

    /* Numbers: 1 byte per two significant digits (rounded up) + 1; leading
     * and trailing zeros are not significant. */
    item = item_from("{\"n\":{\"N\":\"3.14\"}}"); /* 3 digits: 2 + 1 */
    CHECK_INT_EQ(av_item_size(item), 1 + 3);
    json_decref(item);
    item = item_from("{\"n\":{\"N\":\"-0.005\"}}"); /* 1 digit: 1 + 1 */
    CHECK_INT_EQ(av_item_size(item), 1 + 2);
    json_decref(item);
    item = item_from("{\"n\":{\"N\":\"12345678901234567890123456789012345678\"}}"); /* 38: 19 + 1 */
    CHECK_INT_EQ(av_item_size(item), 1 + 20);
    json_decref(item);
    item = item_from("{\"n\":{\"N\":\"1000000\"}}"); /* 1 significant digit: 1 + 1 */
    CHECK_INT_EQ(av_item_size(item), 1 + 2);
    json_decref(item);
    item = item_from("{\"n\":{\"N\":\"2.500\"}}"); /* "25": 1 + 1 */
    CHECK_INT_EQ(av_item_size(item), 1 + 2);
    json_decref(item);

    /* Binary: the raw byte length, not the base64 length. */
    item = item_from("{\"b\":{\"B\":\"AQID\"}}"); /* 3 raw bytes */
    CHECK_INT_EQ(av_item_size(item), 1 + 3);
    json_decref(item);
    item = item_from("{\"b\":{\"B\":\"AQ==\"}}"); /* 1 raw byte */
    CHECK_INT_EQ(av_item_size(item), 1 + 1);
    json_decref(item);
    item = item_from("{\"b\":{\"B\":\"AQI=\"}}"); /* 2 raw bytes */
    CHECK_INT_EQ(av_item_size(item), 1 + 2);
    json_decref(item);

    /* A 400 KB string makes the item exceed the 400 KB limit. */
    size_t big = 400 * 1024;
    char *s = malloc(big);
    CHECK(s != NULL);
    if (s != NULL) {
        memset(s, 'x', big);
        item = json_pack("{s:{s:s%}, s:{s:s}}", "bio", "S", s, big, "id", "S", "u1");
        CHECK_INT_EQ(av_item_size(item), 3 + big + 2 + 2);
        CHECK(av_item_size(item) > 400 * 1024);
        json_decref(item);
        /* Just under: fits. */
        item = json_pack("{s:{s:s%}}", "b", "S", s, big - 10);
        CHECK(av_item_size(item) <= 400 * 1024);
        json_decref(item);
        free(s);
    }

    /* The size of a converted client value. */
    const char *why;
    json_t *client = item_from("{\"name\":\"Ann\",\"n\":[1,2]}");
    json_t *av = av_from_json(client, &why);
    /* M's inner map as an item: name 4+3=7, n 1+3+(1+2)+(1+2)=10 */
    CHECK_INT_EQ(av_item_size(json_object_get(av, "M")), 17);
    json_decref(av);
    json_decref(client);
}

/* An object key DynamoDB cannot store as sent (moto folds an empty map key into
 * its parent, which then reads back as a malformed AV) is refused, however deep. */
static void test_empty_keys(void)
{
    const char *why;
    CHECK_STR_EQ(av_text(json_pack("{s:i}", "", 1), &why), "(null)");
    CHECK(why != NULL && strstr(why, "empty") != NULL);
    CHECK_STR_EQ(av_text(json_pack("{s:{s:s}}", "a", "", "x"), &why), "(null)");
    CHECK(why != NULL && strstr(why, "empty") != NULL);
    CHECK_STR_EQ(av_text(json_pack("[{s:n}]", ""), &why), "(null)");
    /* A key of one space, or one that is only an escape, is not empty. */
    CHECK_STR_EQ(av_text(json_pack("{s:i}", " ", 1), &why), "{\"M\":{\" \":{\"N\":\"1\"}}}");
}

/* av_number_check: the exact rules for a client's number text. */
static int number_ok(const char *text, const char **why)
{
    *why = NULL;
    return av_number_check(text, strlen(text), why) == 0;
}

static void test_number_check(void)
{
    const char *why;
    /* Zero in every spelling is zero, whatever its exponent. */
    static const char *const zeros[] = {"0", "-0", "0.0", "-0.0", "0e5", "0E-400", "0.000e+999999999999", "-0e-0"};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
        CHECK(number_ok(zeros[i], &why));
        if (!number_ok(zeros[i], &why))
            fprintf(stderr, "     zero %s\n", zeros[i]);
    }
    /* Within DynamoDB's range and kept exactly by a double. */
    static const char *const good[] = {
        "1", "-12", "9223372036854775807", "-9223372036854775808", "0.1", "2.5", "1e125", "-9.5e125",
        "1e-130", "1.5E-130", "0.00000000000000000000000000000000000000000000000000000000000000000001",
        "123456789.125", "9007199254740992.0", "0.30000000000000004", "100000000000000000000000000000.0",
        "1.000000000000000000000", "1e0", "12.5e-3",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int ok = number_ok(good[i], &why);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "     good %s refused: %s\n", good[i], why ? why : "?");
    }
    /* Underflow: non-zero, yet a double would read it as 0 (or below 1e-130). */
    static const char *const tiny[] = {"1e-400", "-1e-400", "2.4e-324", "1e-131", "9.99e-131", "0.1e-130",
                                       "1e-99999999999999999999"};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        int ok = number_ok(tiny[i], &why);
        CHECK(!ok);
        CHECK(why != NULL && strstr(why, "range") != NULL);
        if (ok)
            fprintf(stderr, "     tiny %s accepted\n", tiny[i]);
    }
    /* Too large for DynamoDB. */
    CHECK(!number_ok("1e126", &why));
    CHECK(why != NULL && strstr(why, "range") != NULL);
    CHECK(!number_ok("-10e125", &why));
    CHECK(!number_ok("1e400", &why));
    /* More than 38 significant digits: moto keeps them, DynamoDB refuses them. */
    CHECK(!number_ok("1.23456789012345678901234567890123456789", &why));
    CHECK(why != NULL && strstr(why, "38") != NULL);
    CHECK(!number_ok("123456789012345678901234567890123456789", &why));
    CHECK(why != NULL && strstr(why, "38") != NULL);
    /* Fits DynamoDB, but a double would change it: refused rather than rounded. */
    static const char *const lossy[] = {"0.12345678901234567890123", "9007199254740993.0", "0.1000000000000000001",
                                        "1.0000000000000000000000000000000000001" /* 38 digits */};
    for (size_t i = 0; i < sizeof lossy / sizeof lossy[0]; i++) {
        int ok = number_ok(lossy[i], &why);
        CHECK(!ok);
        CHECK(why != NULL && strstr(why, "exactly") != NULL);
        if (ok)
            fprintf(stderr, "     lossy %s accepted\n", lossy[i]);
    }
    /* Integers beyond int64 (jansson refuses them first; the rule agrees). */
    CHECK(!number_ok("9223372036854775808", &why));
    CHECK(!number_ok("-9223372036854775809", &why));
    /* Not a number at all. */
    CHECK(!number_ok("", &why));
    CHECK(!number_ok("-", &why));
    CHECK(!number_ok("1e", &why));
    CHECK(!number_ok("01", &why));
    CHECK(!number_ok(".5", &why));
}

/* av_check_text: where in a client's JSON text DynamoDB could not hold what was sent. */
static char found[8][96];
static size_t n_found;

static void collect(void *ctx, const char *path, const char *why)
{
    (void)ctx;
    if (n_found < 8)
        snprintf(found[n_found++], sizeof found[0], "%s: %s", path, strstr(why, "empty") ? "empty" : "number");
}

static size_t check_text(const char *text)
{
    n_found = 0;
    return av_check_text(text, strlen(text), collect, NULL);
}

static void test_check_text(void)
{
    CHECK_INT_EQ(check_text("{\"name\":\"A\",\"n\":1,\"f\":0.5,\"z\":0e5,\"o\":{\"k\":[1,-0.0]}}"), 0);
    CHECK_INT_EQ(check_text("{\"n\":1e-400}"), 1);
    CHECK_STR_EQ(found[0], "n: number");
    /* Paths: member, then keys and indexes below it; strings are not numbers. */
    CHECK_INT_EQ(check_text(" { \"s\" : \"1e-400 \\\" {[\" , \"a\" : { \"b\" : [ 1 , 2 , 1e-400 ] } ,"
                            "\"c\":[[0],[3,{\"d\":9007199254740993.0}]]} "),
                 2);
    CHECK_STR_EQ(found[0], "a/b/2: number");
    CHECK_STR_EQ(found[1], "c/1/1/d: number");
    /* An empty key below the top level names the object that holds it; a
     * top-level empty name is left to the member-name rule. */
    CHECK_INT_EQ(check_text("{\"\":1,\"meta\":{\"\":1,\"x\":[{\"\":{\"\":2}}]}}"), 3);
    CHECK_STR_EQ(found[0], "meta: empty");
    CHECK_STR_EQ(found[1], "meta/x/0: empty");
    CHECK_STR_EQ(found[2], "meta/x/0/: empty");
    /* An empty string as a value is fine. */
    CHECK_INT_EQ(check_text("{\"a\":{\"b\":\"\"},\"c\":[\"\"]}"), 0);
}

int main(void)
{
    RUN(test_scalars);
    RUN(test_embedded_nul);
    RUN(test_reals);
    RUN(test_containers);
    RUN(test_depth);
    RUN(test_write_scalars);
    RUN(test_write_containers);
    RUN(test_write_escaping);
    RUN(test_write_malformed);
    RUN(test_round_trip);
    RUN(test_item_size);
    RUN(test_empty_keys);
    RUN(test_number_check);
    RUN(test_check_text);
    return check_summary();
}
