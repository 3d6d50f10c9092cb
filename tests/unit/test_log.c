/* test_log: the repeat collapser with an injected clock, against the exact
 * lines it emits; the real log_write/log_request path on stderr in both
 * formats; the JSON string escaper and the access line's exact shape. */
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Collects emitted lines as "<level> [request_id=<id> ]<message>\n". */
static void capture(void *ctx, enum log_level level, const char *request_id, const char *message)
{
    struct buf *out = ctx;
    buf_append_str(out, level_names[level]);
    buf_append_char(out, ' ');
    if (request_id != NULL)
        buf_printf(out, "request_id=%s ", request_id);
    buf_append_str(out, message);
    buf_append_char(out, '\n');
}

static void test_first_written_repeats_counted(void)
{
    struct log_repeat r;
    struct buf out = BUF_INIT;
    log_repeat_init(&r, 10000);
    CHECK_INT_EQ(log_repeat_offer(&r, LOG_WARN, "r1", "backend unavailable: x", 1000, capture, &out), 1);
    for (int i = 2; i <= 50; i++) {
        char id[8];
        snprintf(id, sizeof id, "r%d", i);
        CHECK_INT_EQ(log_repeat_offer(&r, LOG_WARN, id, "backend unavailable: x", 1000 + i * 100, capture, &out), 0);
    }
    CHECK_STR_EQ(buf_cstr(&out), "warn request_id=r1 backend unavailable: x\n");
    CHECK_INT_EQ(log_repeat_due(&r), 11000);

    /* Nothing ends before the window does. */
    log_repeat_expire(&r, 10999, 0, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "warn request_id=r1 backend unavailable: x\n");
    /* The window ends: one summary, and the message is forgotten. */
    log_repeat_expire(&r, 11000, 0, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "warn request_id=r1 backend unavailable: x\n"
                                 "warn repeated 49 times in the last 10 s: backend unavailable: x\n");
    CHECK_INT_EQ(log_repeat_due(&r), 0);
    buf_reset(&out);
    log_repeat_expire(&r, 50000, 1, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "");
    buf_clean_up(&out);
}

static void test_next_occurrence_ends_window(void)
{
    struct log_repeat r;
    struct buf out = BUF_INIT;
    log_repeat_init(&r, 10000);
    log_repeat_offer(&r, LOG_ERROR, "a", "m", 0, capture, &out);
    log_repeat_offer(&r, LOG_ERROR, "b", "m", 9999, capture, &out);
    log_repeat_offer(&r, LOG_ERROR, "c", "m", 10000, capture, &out); /* a new window, summary first */
    log_repeat_offer(&r, LOG_ERROR, "d", "m", 14000, capture, &out);
    log_repeat_offer(&r, LOG_ERROR, "e", "m", 14500, capture, &out);
    /* A late summary says how long it really covers. */
    log_repeat_offer(&r, LOG_ERROR, "f", "m", 35000, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "error request_id=a m\n"
                                 "error repeated 1 times in the last 10 s: m\n"
                                 "error request_id=c m\n"
                                 "error repeated 2 times in the last 25 s: m\n"
                                 "error request_id=f m\n");
    buf_clean_up(&out);
}

static void test_distinct_messages_and_levels(void)
{
    struct log_repeat r;
    struct buf out = BUF_INIT;
    log_repeat_init(&r, 10000);
    log_repeat_offer(&r, LOG_WARN, "1", "a", 0, capture, &out);
    log_repeat_offer(&r, LOG_WARN, "2", "b", 1, capture, &out);
    log_repeat_offer(&r, LOG_WARN, "3", "a", 2, capture, &out);
    log_repeat_offer(&r, LOG_ERROR, "4", "a", 3, capture, &out); /* another level: another line */
    log_repeat_offer(&r, LOG_WARN, "5", "b", 4, capture, &out);
    log_repeat_offer(&r, LOG_WARN, "6", "ab", 5, capture, &out); /* a prefix match is not a repeat */
    log_repeat_offer(&r, LOG_WARN, NULL, "b", 6, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "warn request_id=1 a\n"
                                 "warn request_id=2 b\n"
                                 "error request_id=4 a\n"
                                 "warn request_id=6 ab\n");
    CHECK_INT_EQ(log_repeat_due(&r), 10000);
    buf_reset(&out);
    /* A flush ends every window, in slot order; a window without repeats says nothing. */
    log_repeat_expire(&r, 2500, 1, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "warn repeated 1 times in the last 3 s: a\n"
                                 "warn repeated 2 times in the last 3 s: b\n");
    buf_reset(&out);
    log_repeat_offer(&r, LOG_WARN, "7", "a", 2600, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "warn request_id=7 a\n");
    buf_reset(&out);
    log_repeat_expire(&r, 2600, 1, capture, &out); /* at least 1 s, even right away */
    CHECK_STR_EQ(buf_cstr(&out), "");
    log_repeat_offer(&r, LOG_WARN, "8", "a", 2600, capture, &out);
    log_repeat_offer(&r, LOG_WARN, "9", "a", 2600, capture, &out);
    log_repeat_expire(&r, 2600, 1, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "warn request_id=8 a\nwarn repeated 1 times in the last 1 s: a\n");
    buf_clean_up(&out);
}

static void test_full_table_evicts_oldest(void)
{
    struct log_repeat r;
    struct buf out = BUF_INIT;
    log_repeat_init(&r, 10000);
    char msg[16];
    for (int i = 0; i < LOG_REPEAT_SLOTS; i++) {
        snprintf(msg, sizeof msg, "m%d", i);
        log_repeat_offer(&r, LOG_WARN, NULL, msg, 100 + i, capture, &out);
        log_repeat_offer(&r, LOG_WARN, NULL, msg, 200 + i, capture, &out);
    }
    buf_reset(&out);
    log_repeat_offer(&r, LOG_WARN, NULL, "new", 1500, capture, &out);
    CHECK_STR_EQ(buf_cstr(&out), "warn repeated 1 times in the last 2 s: m0\nwarn new\n");
    buf_reset(&out);
    log_repeat_offer(&r, LOG_WARN, NULL, "m1", 1600, capture, &out); /* still tracked */
    CHECK_STR_EQ(buf_cstr(&out), "");
    buf_clean_up(&out);
}

static void test_long_messages(void)
{
    struct log_repeat r;
    struct buf out = BUF_INIT;
    log_repeat_init(&r, 10000);
    char *a = malloc(3000), *b = malloc(3000);
    memset(a, 'x', 2999);
    a[2999] = '\0';
    memcpy(b, a, 3000);
    b[2000] = 'y'; /* differs past what is kept: the same line once truncated */
    CHECK_INT_EQ(log_repeat_offer(&r, LOG_WARN, NULL, a, 0, capture, &out), 1);
    CHECK_INT_EQ(log_repeat_offer(&r, LOG_WARN, NULL, b, 1, capture, &out), 0);
    buf_reset(&out);
    log_repeat_expire(&r, 1, 1, capture, &out);
    CHECK(out.len > 0 && out.len < LOG_MESSAGE_MAX + 96);
    CHECK(strncmp(buf_cstr(&out), "warn repeated 1 times in the last 1 s: xxx", 42) == 0);
    free(a);
    free(b);
    buf_clean_up(&out);
}

/* The real path: stderr into a pipe, timestamps cut off. */
static void test_log_write_path(void)
{
    int fds[2];
    CHECK_INT_EQ(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    log_set_level(LOG_INFO);
    log_set_format(LOG_FORMAT_TEXT);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "id%d", i);
        log_request(LOG_WARN, id, "backend unavailable: %s", "Couldn't connect\nto server");
    }
    log_info("an info line %d", 1);
    log_info("an info line %d", 1); /* info is never collapsed */
    log_error("other");
    log_flush_repeats();
    log_flush_repeats(); /* nothing pending any more */
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    char raw[4096];
    ssize_t n = read(fds[0], raw, sizeof raw - 1);
    close(fds[0]);
    raw[n > 0 ? n : 0] = '\0';
    struct buf got = BUF_INIT;
    for (char *line = raw, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        char *space = strchr(line, ' '); /* after "<time>" */
        CHECK(space != NULL && space - line == 24);
        if (space != NULL && space < nl)
            buf_append(&got, space + 1, (size_t)(nl - space));
    }
    CHECK_STR_EQ(buf_cstr(&got), "warn request_id=id0 backend unavailable: Couldn't connect?to server\n"
                                 "info an info line 1\n"
                                 "info an info line 1\n"
                                 "error other\n"
                                 "warn repeated 4 times in the last 1 s: backend unavailable: Couldn't connect?to server\n");
    buf_clean_up(&got);
}

/* Runs write(): what it writes to stderr, in raw (size bytes). */
static void capture_stderr(void (*write)(void), char *raw, size_t size)
{
    int fds[2];
    CHECK_INT_EQ(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    write();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], raw, size - 1);
    close(fds[0]);
    raw[n > 0 ? n : 0] = '\0';
}

static void write_json_lines(void)
{
    log_set_level(LOG_INFO);
    log_set_format(LOG_FORMAT_JSON);
    log_request(LOG_WARN, "rid-1", "backend \"down\": %s", "Couldn't connect\nto server");
    log_request(LOG_WARN, "rid-2", "backend \"down\": %s", "Couldn't connect\nto server");
    log_info("listening on %d", 3000);
    log_flush_repeats();
}

/* Every line is one JSON object: time (RFC 3339, ms, Z), level, msg and requestId when given. */
static void test_log_write_json(void)
{
    char raw[4096];
    capture_stderr(write_json_lines, raw, sizeof raw);
    const char *want[][3] = {
        {"warn", "backend \"down\": Couldn't connect?to server", "rid-1"},
        {"info", "listening on 3000", NULL},
        {"warn", "repeated 1 times in the last 1 s: backend \"down\": Couldn't connect?to server", NULL},
    };
    size_t i = 0;
    for (char *line = raw, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, i++) {
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)(nl - line), JSON_REJECT_DUPLICATES, &err);
        CHECK(o != NULL && json_is_object(o));
        if (o == NULL || i >= 3) {
            json_decref(o);
            continue;
        }
        const char *time = json_string_value(json_object_get(o, "time"));
        CHECK(time != NULL && strlen(time) == 24 && time[10] == 'T' && time[19] == '.' && time[23] == 'Z');
        CHECK_STR_EQ(json_string_value(json_object_get(o, "level")), want[i][0]);
        CHECK_STR_EQ(json_string_value(json_object_get(o, "msg")), want[i][1]);
        if (want[i][2] != NULL)
            CHECK_STR_EQ(json_string_value(json_object_get(o, "requestId")), want[i][2]);
        CHECK_INT_EQ(json_object_size(o), want[i][2] != NULL ? 4 : 3);
        json_decref(o);
    }
    CHECK_INT_EQ(i, 3);
    /* the key order is fixed: time first, so a line sorts and greps by time */
    CHECK(strncmp(raw, "{\"time\":\"", 9) == 0);
}

static const char *escaped(const char *s, size_t len, size_t max)
{
    static struct buf out = BUF_INIT;
    buf_reset(&out);
    CHECK_INT_EQ(log_json_string(&out, s, len, max), 0);
    return buf_cstr(&out);
}

static void test_json_string(void)
{
    CHECK_STR_EQ(escaped("curl/8.0", 8, 256), "\"curl/8.0\"");
    CHECK_STR_EQ(escaped("", 0, 256), "\"\"");
    CHECK_STR_EQ(escaped("a\"b\\c", 5, 256), "\"a\\\"b\\\\c\"");
    CHECK_STR_EQ(escaped("l1\nl2\r\t", 7, 256), "\"l1\\nl2\\r\\t\"");
    CHECK_STR_EQ(escaped("\x01\x1f\x7f", 3, 256), "\"\\u0001\\u001f\\u007f\"");
    CHECK_STR_EQ(escaped("x\0y", 3, 256), "\"x\\u0000y\""); /* a NUL inside the length is data */
    /* valid UTF-8 passes as it is: 2, 3 and 4 byte sequences */
    CHECK_STR_EQ(escaped("t\xc3\xa9st \xe2\x82\xac \xf0\x9f\x98\x80", 14, 256),
                 "\"t\xc3\xa9st \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* anything else is U+FFFD per byte: a stray continuation, a bad lead, an overlong form, a
     * surrogate, a code point past U+10FFFF, a sequence cut short */
    CHECK_STR_EQ(escaped("\x80", 1, 256), "\"\\ufffd\"");
    CHECK_STR_EQ(escaped("\xff", 1, 256), "\"\\ufffd\"");
    CHECK_STR_EQ(escaped("\xc0\xaf", 2, 256), "\"\\ufffd\\ufffd\"");
    CHECK_STR_EQ(escaped("\xe0\x80\xaf", 3, 256), "\"\\ufffd\\ufffd\\ufffd\"");
    CHECK_STR_EQ(escaped("\xed\xa0\x80", 3, 256), "\"\\ufffd\\ufffd\\ufffd\"");
    CHECK_STR_EQ(escaped("\xf4\x90\x80\x80", 4, 256), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    CHECK_STR_EQ(escaped("a\xc3", 2, 256), "\"a\\ufffd\"");
    /* bounded: cut at max bytes, and a character the cut splits is not half written */
    CHECK_STR_EQ(escaped("abcdef", 6, 3), "\"abc\"");
    CHECK_STR_EQ(escaped("ab\xc3\xa9", 4, 3), "\"ab\\ufffd\"");
}

/* Whatever the bytes, the escaper's output is a JSON string that reads back. */
static void test_json_string_any_bytes(void)
{
    uint64_t x = 88172645463325252ULL;
    int all_ok = 1;
    for (int round = 0; round < 2000; round++) {
        char in[64];
        size_t len = (size_t)(round % 64);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[i] = (char)(round % 3 == 0 ? 0x80 | (x & 0x7f) : x); /* many high bytes */
        }
        struct buf out = BUF_INIT;
        log_json_string(&out, in, len, 48);
        buf_append_char(&out, '\0');
        json_t *v = json_loadb(out.data, out.len - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!json_is_string(v))
            all_ok = 0;
        json_decref(v);
        buf_clean_up(&out);
    }
    CHECK(all_ok);
}

static void test_calls(void)
{
    struct log_calls calls = {0};
    log_calls_add(&calls, "GetItem", "ABCdef-123\"<x>", "ok", 0);
    log_calls_add(&calls, "TransactWriteItems", NULL, "conditional_check_failed", 2);
    for (int i = 0; i < 4; i++)
        log_calls_add(&calls, "Scan", "S", "ok", 0);
    log_calls_add(NULL, "Scan", "S", "ok", 0); /* no record wanted */
    CHECK_INT_EQ(calls.n, LOG_CALLS_MAX);
    CHECK_INT_EQ(calls.more, 2);
    CHECK_STR_EQ(calls.call[0].request_id, "ABCdef-123--x-"); /* only what an id is made of */
    CHECK_STR_EQ(calls.call[1].request_id, "");
    CHECK_STR_EQ(calls.call[1].outcome, "conditional_check_failed");
    CHECK_INT_EQ(calls.call[1].retries, 2);
}

/* The access line without its time, which the test cannot know. */
static const char *access_line(const struct log_access *a, const char *time_prefix_end)
{
    static struct buf out = BUF_INIT;
    buf_reset(&out);
    CHECK_INT_EQ(log_access_append(&out, a), 0);
    const char *line = buf_cstr(&out);
    const char *rest = strstr(line, time_prefix_end);
    CHECK(rest != NULL && line[out.len - 1] == '\n');
    return rest != NULL ? rest : line;
}

static void test_access_line(void)
{
    log_set_level(LOG_INFO);
    log_set_format(LOG_FORMAT_JSON);
    struct log_calls calls = {0};
    log_calls_add(&calls, "GetItem", "RID1", "ok", 0);
    log_calls_add(&calls, "TransactWriteItems", "RID2", "transaction_canceled", 1);
    struct log_access a = {
        .request_id = "abc-1", .method = "PATCH", .route = "/users/{id}", .status = 409, .duration_us = 12345678,
        .bytes_out = 97, .remote_addr = "::1", .user_agent = "ua \"q\"\n", .user_agent_len = 7,
        .trace_id = "4bf92f3577b34da6a3ce929d0e0e4736", .calls = &calls,
    };
    CHECK_STR_EQ(access_line(&a, "Z\","),
                 "Z\",\"level\":\"info\",\"msg\":\"request\",\"requestId\":\"abc-1\",\"method\":\"PATCH\","
                 "\"route\":\"/users/{id}\",\"status\":409,\"durationMs\":12345.678,\"bytesOut\":97,"
                 "\"remoteAddr\":\"::1\",\"userAgent\":\"ua \\\"q\\\"\\n\","
                 "\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
                 "\"ddb\":[{\"op\":\"GetItem\",\"outcome\":\"ok\",\"retries\":0,\"requestId\":\"RID1\"},"
                 "{\"op\":\"TransactWriteItems\",\"outcome\":\"transaction_canceled\",\"retries\":1,"
                 "\"requestId\":\"RID2\"}]}\n");
    /* the fewest fields: no route matched, no user agent, no calls, an aborted request */
    struct log_access b = {.request_id = "x", .method = "GET", .status = 404, .duration_us = 7, .aborted = 1};
    CHECK_STR_EQ(access_line(&b, "Z\","),
                 "Z\",\"level\":\"info\",\"msg\":\"request\",\"requestId\":\"x\",\"method\":\"GET\","
                 "\"route\":null,\"status\":404,\"durationMs\":0.007,\"bytesOut\":0,\"aborted\":true}\n");
    /* a user agent is bounded */
    char long_ua[1000];
    memset(long_ua, 'u', sizeof long_ua);
    b.user_agent = long_ua;
    b.user_agent_len = sizeof long_ua;
    b.aborted = 0;
    const char *line = access_line(&b, "Z\",");
    const char *ua = strstr(line, "\"userAgent\":\"");
    CHECK(ua != NULL && strspn(ua + 13, "u") == LOG_USER_AGENT_MAX && ua[13 + LOG_USER_AGENT_MAX] == '"');
    /* the principal, escaped: a JWT's sub is the identity provider's text */
    struct log_access c = {.request_id = "p", .method = "GET", .status = 200, .principal = "ada\"\n"};
    CHECK_STR_EQ(access_line(&c, "Z\","),
                 "Z\",\"level\":\"info\",\"msg\":\"request\",\"requestId\":\"p\",\"method\":\"GET\","
                 "\"route\":null,\"status\":200,\"durationMs\":0.000,\"bytesOut\":0,\"principal\":\"ada\\\"\\n\"}\n");
    /* the text format, for a terminal */
    log_set_format(LOG_FORMAT_TEXT);
    CHECK_STR_EQ(access_line(&c, "Z "), "Z info request_id=p method=GET route=- status=200 ms=0.000 bytes=0 "
                                        "principal=\"ada\\\"\\n\"\n");
    CHECK_STR_EQ(access_line(&a, "Z "), "Z info request_id=abc-1 method=PATCH route=/users/{id} status=409 "
                                        "ms=12345.678 bytes=97 remote=::1 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 "
                                        "ddb=GetItem:ok:0:RID1,TransactWriteItems:transaction_canceled:1:RID2\n");
    /* below info, nothing */
    log_set_level(LOG_WARN);
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(log_access_append(&out, &a), 0);
    CHECK_INT_EQ(out.len, 0);
    buf_clean_up(&out);
    log_set_level(LOG_INFO);
    log_set_format(LOG_FORMAT_JSON);
}

static void test_redact_paths(void)
{
    char a[] = "Failed to send the response headers for the request for `/users/by-email/ada@example.com'. Error: "
               "Broken pipe";
    CHECK_STR_EQ(log_redact_paths(a), "Failed to send the response headers for the request for `<path>'. Error: "
                                      "Broken pipe");
    char b[] = "Failed to send data in request for /users/by-email/ada%40example.com.";
    CHECK_STR_EQ(log_redact_paths(b), "Failed to send data in request for <path>.");
    char c[] = "Error processing request (HTTP response code is 400 ('Bad Request')). Closing connection.";
    CHECK_STR_EQ(log_redact_paths(c), "Error processing request (HTTP response code is 400 ('Bad Request')). Closing "
                                      "connection.");
    char d[] = "Failed to send the response body for the request for `/users/x@y.z?a=b c'. Error: x; "
               "for /second/path@q and for `/unterminated@p";
    CHECK_STR_EQ(log_redact_paths(d), "Failed to send the response body for the request for `<path>'. Error: x; "
                                      "for <path> and for `<path>");
}

static void test_format_parse(void)
{
    CHECK_INT_EQ(log_format_parse("json"), LOG_FORMAT_JSON);
    CHECK_INT_EQ(log_format_parse("text"), LOG_FORMAT_TEXT);
    CHECK_INT_EQ(log_format_parse("JSON"), -1);
    CHECK_INT_EQ(log_format_parse(""), -1);
}

int main(void)
{
    RUN(test_first_written_repeats_counted);
    RUN(test_next_occurrence_ends_window);
    RUN(test_distinct_messages_and_levels);
    RUN(test_full_table_evicts_oldest);
    RUN(test_long_messages);
    RUN(test_log_write_path);
    RUN(test_log_write_json);
    RUN(test_json_string);
    RUN(test_json_string_any_bytes);
    RUN(test_calls);
    RUN(test_access_line);
    RUN(test_format_parse);
    RUN(test_redact_paths);
    return check_summary();
}
