/* test_buf: the growable buffer every module builds text in: appends keep it
 * NUL-terminated across growth, buf_concat joins its strings, buf_printf
 * formats past its 256-byte stack buffer, reset keeps storage, steal hands it over. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_empty(void)
{
    struct buf b = BUF_INIT;
    CHECK_STR_EQ(buf_cstr(&b), "");
    CHECK_INT_EQ(b.len, 0);
    buf_clean_up(&b);
    CHECK(b.data == NULL);
}

static void test_append_grows_and_terminates(void)
{
    struct buf b = BUF_INIT;
    char expected[1001];
    int failures = 0;
    for (int i = 0; i < 1000; i++) {
        failures += buf_append_char(&b, (char)('a' + i % 26)) != 0;
        expected[i] = (char)('a' + i % 26);
    }
    CHECK_INT_EQ(failures, 0);
    expected[1000] = '\0';
    CHECK_INT_EQ(b.len, 1000);
    CHECK_STR_EQ(buf_cstr(&b), expected);
    CHECK_INT_EQ(buf_append(&b, "x\0y", 3), 0); /* bytes, not a string: the NUL is kept */
    CHECK_INT_EQ(b.len, 1003);
    CHECK(memcmp(b.data + 1000, "x\0y", 4) == 0);
    buf_clean_up(&b);
}

static void test_concat(void)
{
    struct buf b = BUF_INIT;
    CHECK_INT_EQ(buf_append_str(&b, "start:"), 0);
    CHECK_INT_EQ(buf_concat(&b, "a", "", "bc", "\n"), 0);
    CHECK_STR_EQ(buf_cstr(&b), "start:abc\n");
    char long_part[700];
    memset(long_part, 'z', sizeof long_part - 1);
    long_part[sizeof long_part - 1] = '\0';
    CHECK_INT_EQ(buf_concat(&b, long_part, "|", long_part), 0);
    CHECK_INT_EQ(b.len, 10 + 699 + 1 + 699);
    CHECK(b.data[10 + 699] == '|' && b.data[b.len] == '\0');
    buf_clean_up(&b);
}

static void test_printf_past_its_stack_buffer(void)
{
    struct buf b = BUF_INIT;
    CHECK_INT_EQ(buf_printf(&b, "%d-%s", 42, "x"), 0);
    CHECK_STR_EQ(buf_cstr(&b), "42-x");
    char long_part[600];
    memset(long_part, 'q', sizeof long_part - 1);
    long_part[sizeof long_part - 1] = '\0';
    CHECK_INT_EQ(buf_printf(&b, "[%s]", long_part), 0);
    CHECK_INT_EQ(b.len, 4 + 1 + 599 + 1);
    CHECK(b.data[4] == '[' && b.data[b.len - 1] == ']' && b.data[b.len] == '\0');
    buf_clean_up(&b);
}

static void test_reset_and_steal(void)
{
    struct buf b = BUF_INIT;
    buf_append_str(&b, "hello");
    char *storage = b.data;
    buf_reset(&b);
    CHECK_STR_EQ(buf_cstr(&b), "");
    CHECK(b.data == storage); /* kept for reuse */
    buf_append_str(&b, "again");
    char *s = buf_steal(&b);
    CHECK_STR_EQ(s, "again");
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    free(s);
    s = buf_steal(&b); /* nothing appended: an empty string, not NULL */
    CHECK_STR_EQ(s, "");
    free(s);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_append_grows_and_terminates);
    RUN(test_concat);
    RUN(test_printf_past_its_stack_buffer);
    RUN(test_reset_and_steal);
    return check_summary();
}
