/* test_jsonread: jsonread_parse, which reads DynamoDB's answers. jansson's
 * json_loadb is the oracle (fuzz_jsonread compares them on random text);
 * here each rule is pinned with an exact case, accepted and refused alike. */
#include "jsonread.h"

#include <string.h>

#include "check.h"
#include "check_json.h"

/* The compact dump of what jsonread_parse makes of text (insertion order kept), or "(refused)". */
static const char *read_as(const char *text, size_t len, size_t flags)
{
    static char out[4096];
    json_t *v = jsonread_parse(text, len, flags);
    char *s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(out, sizeof out, "%s", v == NULL ? "(refused)" : s != NULL ? s : "(no dump)");
    free(s);
    json_decref(v);
    return out;
}

#define READ(text) read_as(text, strlen(text), JSON_DECODE_ANY)

/* jsonread and json_loadb agree on text (len bytes) with flags: both refuse, or both give equal trees. */
static void same_as_jansson(const char *text, size_t len, size_t flags)
{
    json_t *ours = jsonread_parse(text, len, flags), *theirs = json_loadb(text, len, flags, NULL);
    CHECK((ours == NULL) == (theirs == NULL));
    if (ours != NULL && theirs != NULL)
        CHECK(json_equal(ours, theirs));
    if ((ours == NULL) != (theirs == NULL))
        fprintf(stderr, "  differs on: %.*s\n", (int)len, text);
    json_decref(ours);
    json_decref(theirs);
}

static void test_getitem_answer(void)
{
    const char *text = "{\"Item\":{\"id\":{\"S\":\"0b7e\"},\"name\":{\"S\":\"Ada\"},\"version\":{\"N\":\"1\"}}}";
    CHECK_STR_EQ(read_as(text, strlen(text), 0),
                 "{\"Item\":{\"id\":{\"S\":\"0b7e\"},\"name\":{\"S\":\"Ada\"},\"version\":{\"N\":\"1\"}}}");
    /* Not NUL-terminated: only len bytes are read. */
    CHECK_STR_EQ(read_as("{\"a\":1}xyz", 7, 0), "{\"a\":1}");
    CHECK_STR_EQ(read_as(" \t\r\n{ \"a\" : [ 1 , 2 ] } \n", 24, 0), "{\"a\":[1,2]}");
}

static void test_top_level(void)
{
    CHECK_STR_EQ(read_as("\"x\"", 3, 0), "(refused)"); /* an object or array, without JSON_DECODE_ANY */
    CHECK_STR_EQ(read_as("1", 1, 0), "(refused)");
    CHECK_STR_EQ(READ("\"x\""), "\"x\"");
    CHECK_STR_EQ(READ(""), "(refused)");
    CHECK_STR_EQ(READ("   "), "(refused)");
    CHECK_STR_EQ(READ("{} {}"), "(refused)");
    CHECK_STR_EQ(READ("[1]]"), "(refused)");
    CHECK_STR_EQ(read_as("[1]\0", 4, 0), "(refused)");
    CHECK_STR_EQ(read_as("[1\0]", 4, 0), "(refused)"); /* jansson skips this NUL; RFC 8259 does not */
}

static void test_numbers(void)
{
    CHECK_STR_EQ(READ("[0,-0,7,-12,1.5,-2.5e3,1E2,1e-2]"), "[0,0,7,-12,1.5,-2500.0,100.0,0.01]");
    CHECK_STR_EQ(READ("9223372036854775807"), "9223372036854775807");
    CHECK_STR_EQ(READ("-9223372036854775808"), "-9223372036854775808");
    CHECK_STR_EQ(READ("999999999999999999"), "999999999999999999");
    CHECK_STR_EQ(READ("9223372036854775808"), "(refused)"); /* beyond int64, as jansson */
    CHECK_STR_EQ(READ("-9223372036854775809"), "(refused)");
    CHECK_STR_EQ(READ("1e309"), "(refused)");              /* overflows a double */
    CHECK_STR_EQ(READ("1e-400"), "0.0");                   /* underflow is not an error for jansson */
    const char *bad[] = {"01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "1.e5", "--1", "NaN", "Infinity"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[32];
        snprintf(text, sizeof text, "[%s]", bad[i]);
        CHECK_STR_EQ(read_as(text, strlen(text), 0), "(refused)");
        same_as_jansson(text, strlen(text), 0);
    }
}

static void test_strings(void)
{
    CHECK_STR_EQ(READ("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""), "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\"");
    CHECK_STR_EQ(READ("\"\\u00e9\\u20AC\""), "\"\xc3\xa9\xe2\x82\xac\"");
    CHECK_STR_EQ(READ("\"\\ud83d\\ude00\""), "\"\xf0\x9f\x98\x80\""); /* a surrogate pair */
    CHECK_STR_EQ(READ("\"\xc3\xa9\xf0\x9f\x98\x80\""), "\"\xc3\xa9\xf0\x9f\x98\x80\"");
    const char *bad[] = {
        "\"\\ud83d\"",        /* a high surrogate alone */
        "\"\\ud83dx\"",
        "\"\\ud83d\\u0041\"", /* followed by no low one */
        "\"\\ude00\"",        /* a low surrogate alone */
        "\"\\u0000\"",        /* NUL, refused without JSON_ALLOW_NUL */
        "\"\\u12\"", "\"\\x41\"", "\"\\'\"", "\"abc", "\"\\\"",
        "\"\t\"",             /* a raw control character */
        "\"\xc3\"", "\"\xc0\x80\"", "\"\xe0\x80\x80\"", /* truncated and overlong UTF-8 */
        "\"\xed\xa0\x80\"",   /* a surrogate in UTF-8 */
        "\"\xf4\x90\x80\x80\"", /* past U+10FFFF */
        "\"\xff\"", "\"\x80\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STR_EQ(READ(bad[i]), "(refused)");
        same_as_jansson(bad[i], strlen(bad[i]), JSON_DECODE_ANY);
    }
}

static void test_literals_and_containers(void)
{
    CHECK_STR_EQ(READ("[true,false,null,[],{},[[]],{\"\":{}}]"), "[true,false,null,[],{},[[]],{\"\":{}}]");
    const char *bad[] = {"tru", "truex", "nul", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",
                         "{\"a\" 1}", "[1 2]", "{\"a\":1 \"b\":2}", "['a']", "[", "{", "]", "\xef\xbb\xbf[]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STR_EQ(READ(bad[i]), "(refused)");
        same_as_jansson(bad[i], strlen(bad[i]), JSON_DECODE_ANY);
    }
}

static void test_duplicate_keys(void)
{
    /* As jansson: the last value, at the first one's place; refused with JSON_REJECT_DUPLICATES. */
    const char *text = "{\"a\":1,\"b\":2,\"a\":3}";
    CHECK_STR_EQ(read_as(text, strlen(text), 0), "{\"a\":3,\"b\":2}");
    CHECK_STR_EQ(read_as(text, strlen(text), JSON_REJECT_DUPLICATES), "(refused)");
    const char *escaped = "{\"a\":1,\"\\u0061\":2}"; /* the same key, written another way */
    CHECK_STR_EQ(read_as(escaped, strlen(escaped), JSON_REJECT_DUPLICATES), "(refused)");
    CHECK_STR_EQ(read_as(escaped, strlen(escaped), 0), "{\"a\":2}");
}

/* jansson's limit: 2048 levels, scalars counting as one. */
static void test_depth(void)
{
    static char text[2 * 2050 + 2];
    for (int depth = 2047; depth <= 2049; depth++) {
        for (int scalar = 0; scalar <= 1; scalar++) {
            size_t n = 0;
            for (int i = 0; i < depth; i++)
                text[n++] = '[';
            if (scalar)
                text[n++] = '1';
            for (int i = 0; i < depth; i++)
                text[n++] = ']';
            json_t *v = jsonread_parse(text, n, 0);
            CHECK((v != NULL) == (depth + scalar <= 2048));
            json_decref(v);
            same_as_jansson(text, n, 0);
        }
    }
}

int main(void)
{
    RUN(test_getitem_answer);
    RUN(test_top_level);
    RUN(test_numbers);
    RUN(test_strings);
    RUN(test_literals_and_containers);
    RUN(test_duplicate_keys);
    RUN(test_depth);
    return check_summary();
}
