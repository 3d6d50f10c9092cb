/* test_jsontext: json_write_value, which writes every DynamoDB request and
 * error body. jansson is the oracle: the text equals json_dumps(JSON_COMPACT)
 * byte for byte, members keep their insertion order, and the text parses back
 * to an equal tree. */
#include "jsontext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_json.h"

/* json_write_value of v (stolen) in a static buffer; "(failed)" when it returns -1. */
static const char *written(json_t *v)
{
    static char text[4096];
    struct buf out = BUF_INIT;
    int rc = json_write_value(&out, v);
    snprintf(text, sizeof text, "%s", rc == 0 ? buf_cstr(&out) : "(failed)");
    buf_clean_up(&out);
    json_decref(v);
    return text;
}

/* Checks that the writer's text for the JSON in source is jansson's compact
 * dump of it, and that it parses back to an equal value. */
static void same_as_jansson(const char *source)
{
    json_t *v = parse(source);
    if (v == NULL)
        return;
    struct buf out = BUF_INIT;
    char *oracle = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK_INT_EQ(json_write_value(&out, v), 0);
    CHECK_STR_EQ(buf_cstr(&out), oracle);
    json_t *back = json_loadb(out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    CHECK(back != NULL && json_equal(back, v));
    json_decref(back);
    free(oracle);
    buf_clean_up(&out);
    json_decref(v);
}

static void test_scalars(void)
{
    CHECK_STR_EQ(written(json_string("plain")), "\"plain\"");
    CHECK_STR_EQ(written(json_integer(0)), "0");
    CHECK_STR_EQ(written(json_integer(-42)), "-42");
    CHECK_STR_EQ(written(json_integer(INT64_MAX)), "9223372036854775807");
    CHECK_STR_EQ(written(json_integer(INT64_MIN)), "-9223372036854775808");
    CHECK_STR_EQ(written(json_true()), "true");
    CHECK_STR_EQ(written(json_false()), "false");
    CHECK_STR_EQ(written(json_null()), "null");
}

static void test_reals_as_jansson_writes_them(void)
{
    CHECK_STR_EQ(written(json_real(0.1)), "0.10000000000000001");
    CHECK_STR_EQ(written(json_real(-2.5)), "-2.5");
    CHECK_STR_EQ(written(json_real(1.0)), "1.0");
    CHECK_STR_EQ(written(json_real(100.0)), "100.0");
    CHECK_STR_EQ(written(json_real(1e300)), "1.0000000000000001e300");
    CHECK_STR_EQ(written(json_real(-1e-7)), "-9.9999999999999995e-8");
    CHECK_STR_EQ(written(json_real(123456789012.0)), "123456789012.0");
    same_as_jansson("[0.5,-1e-7,1e22,3.0,1.7976931348623157e308,5e-324,1e-300,-0.0]");
    /* Each reads back as the same double, and as a real. */
    const double values[] = {0.1, 1.0 / 3, 2.5e-308, 1.7976931348623157e308, -0.0, 100.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        json_t *back = json_loads(written(json_real(values[i])), JSON_DECODE_ANY, NULL);
        CHECK(json_is_real(back) && json_real_value(back) == values[i]);
        json_decref(back);
    }
}

static void test_containers_keep_insertion_order(void)
{
    json_t *o = json_object();
    json_object_set_new(o, "z", json_integer(1));
    json_object_set_new(o, "a", json_array());
    json_object_set_new(o, "m", json_object());
    CHECK_STR_EQ(written(o), "{\"z\":1,\"a\":[],\"m\":{}}");
    CHECK_STR_EQ(written(json_pack("[i,[s,[b]],{s:n}]", 1, "x", 1, "k")), "[1,[\"x\",[true]],{\"k\":null}]");
}

static void test_strings_and_keys_escaped(void)
{
    json_t *o = json_object();
    json_object_setn_new(o, "k\0\"ey", 5, json_stringn("v\0\n\x01\x1f/\xE2\x82\xAC", 9));
    CHECK_STR_EQ(written(o), "{\"k\\u0000\\\"ey\":\"v\\u0000\\n\\u0001\\u001F/\xE2\x82\xAC\"}");
}

static void test_same_text_as_jansson(void)
{
    same_as_jansson("{\"TableName\":\"Users\",\"Key\":{\"id\":{\"S\":\"0b7e4b2c\"}},\"ConsistentRead\":true}");
    same_as_jansson("{\"TransactItems\":[{\"Put\":{\"Item\":{\"n\":{\"N\":\"1\"},\"l\":{\"L\":[{\"NULL\":true}]}}}}],"
                    "\"ClientRequestToken\":\"t\"}");
    same_as_jansson("{\"s\":\"tab\\tquote\\\"back\\\\slash\\u0007bell \\u00e9 \\ud83d\\ude00\",\"e\":\"\"}");
    same_as_jansson("[[],{},[[[]]],-0,9007199254740993,\"\\u001f\"]");
}

static void test_appends(void)
{
    struct buf out = BUF_INIT;
    buf_append_str(&out, "body=");
    json_t *v = json_pack("{s:i}", "Limit", 7);
    CHECK_INT_EQ(json_write_value(&out, v), 0);
    CHECK_STR_EQ(buf_cstr(&out), "body={\"Limit\":7}");
    json_decref(v);
    buf_clean_up(&out);
}

int main(void)
{
    RUN(test_scalars);
    RUN(test_reals_as_jansson_writes_them);
    RUN(test_containers_keep_insertion_order);
    RUN(test_strings_and_keys_escaped);
    RUN(test_same_text_as_jansson);
    RUN(test_appends);
    return check_summary();
}
