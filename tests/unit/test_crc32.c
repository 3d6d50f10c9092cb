/* test_crc32: the CRC-32 behind DynamoDB's x-amz-crc32 header: the check value of the standard
 * ("123456789" -> 0xCBF43926), a real DynamoDB answer ("{}" with x-amz-crc32: 2745614147), streaming
 * in pieces, and the header parser's refusals (sign, hex, overflow, junk). */
#include "crc32.h"

#include <stdint.h>
#include <string.h>

#include "check.h"

static void test_vectors(void)
{
    CHECK_INT_EQ(crc32_compute("123456789", 9), 0xCBF43926U);
    CHECK_INT_EQ(crc32_compute("123456789", 9), 3421780262U);
    CHECK_INT_EQ(crc32_compute("", 0), 0);
    CHECK_INT_EQ(crc32_compute(NULL, 0), 0);
    CHECK_INT_EQ(crc32_compute("a", 1), 3904355907U);
    /* What DynamoDB answers to a PutItem without ReturnValues: the body "{}" and this header. */
    CHECK_INT_EQ(crc32_compute("{}", 2), 2745614147U);
    const char *item = "{\"Item\":{\"id\":{\"S\":\"u1\"}}}";
    CHECK_INT_EQ(crc32_compute(item, strlen(item)), 268268257U);
    /* Every byte value goes through the table, including NUL and 0xFF. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    CHECK_INT_EQ(crc32_compute(all, sizeof all), 0x29058C73U);
}

static void test_streaming(void)
{
    const char *s = "123456789";
    for (size_t cut = 0; cut <= 9; cut++) {
        uint32_t crc = crc32_update(0, s, cut);
        crc = crc32_update(crc, s + cut, 9 - cut);
        CHECK_INT_EQ(crc, 3421780262U);
    }
    uint32_t crc = 0;
    for (size_t i = 0; i < 9; i++)
        crc = crc32_update(crc, s + i, 1);
    CHECK_INT_EQ(crc, 3421780262U);
    CHECK_INT_EQ(crc32_update(12345, NULL, 0), 12345);
}

static void test_parse_header(void)
{
    uint32_t v = 1;
    CHECK_INT_EQ(crc32_parse_header("2745614147", &v), 0);
    CHECK_INT_EQ(v, 2745614147U);
    CHECK_INT_EQ(crc32_parse_header("0", &v), 0);
    CHECK_INT_EQ(v, 0);
    CHECK_INT_EQ(crc32_parse_header("4294967295", &v), 0);
    CHECK_INT_EQ(v, 4294967295U);
    CHECK_INT_EQ(crc32_parse_header(" \t42 ", &v), 0);
    CHECK_INT_EQ(v, 42);
    CHECK_INT_EQ(crc32_parse_header("00000000042", &v), 0); /* leading zeros are still decimal */
    CHECK_INT_EQ(v, 42);
    v = 7;
    CHECK_INT_EQ(crc32_parse_header("4294967296", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("99999999999999999999999", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("   ", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("-1", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("+1", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("0xA3A7E543", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("12 34", &v), -1);
    CHECK_INT_EQ(crc32_parse_header("12a", &v), -1);
    CHECK_INT_EQ(crc32_parse_header(NULL, &v), -1);
    CHECK_INT_EQ(v, 7); /* untouched on failure */
}

static void test_matches(void)
{
    CHECK_INT_EQ(crc32_matches("2745614147", "{}", 2), 1);
    CHECK_INT_EQ(crc32_matches("2745614148", "{}", 2), 0);
    CHECK_INT_EQ(crc32_matches("2745614147", "{ }", 3), 0);
    CHECK_INT_EQ(crc32_matches("2745614147", "{}", 1), 0); /* a truncated body */
    CHECK_INT_EQ(crc32_matches("0", "", 0), 1);
    CHECK_INT_EQ(crc32_matches("3421780262", "123456789", 9), 1);
    CHECK_INT_EQ(crc32_matches("junk", "{}", 2), -1);
    CHECK_INT_EQ(crc32_matches("", "{}", 2), -1);
    CHECK_INT_EQ(crc32_matches(NULL, "{}", 2), -1);
}

int main(void)
{
    RUN(test_vectors);
    RUN(test_streaming);
    RUN(test_parse_header);
    RUN(test_matches);
    return check_summary();
}
