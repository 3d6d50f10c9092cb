/* test_log: the repeat collapser with an injected clock, against the exact
 * lines it emits; then the real log_write/log_request path on stderr. */
#include "log.h"

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

int main(void)
{
    RUN(test_first_written_repeats_counted);
    RUN(test_next_occurrence_ends_window);
    RUN(test_distinct_messages_and_levels);
    RUN(test_full_table_evicts_oldest);
    RUN(test_long_messages);
    RUN(test_log_write_path);
    return check_summary();
}
