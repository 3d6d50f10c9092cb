#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"

/* Written once by main before threads start, read-only afterwards. */
static enum log_level current_level = LOG_INFO;

/* Every thread's warnings and errors share one collapser, so a repeat is
 * recognised whichever worker logs it. */
static pthread_mutex_t repeat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_repeat repeats = {.window_ms = LOG_REPEAT_WINDOW_MS}; /* under repeat_lock */
static _Atomic int64_t repeat_due; /* log_repeat_due(&repeats), read without the lock by log_flush */

int log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void log_set_level(enum log_level level)
{
    current_level = level;
}

int log_enabled(enum log_level level)
{
    return level >= current_level;
}

static const char *const labels[] = {"debug", "info", "warn", "error"};

/* "<time> <level> " into prefix (at least 40 bytes); returns its length. */
static int format_prefix(char *prefix, size_t size, enum log_level level)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    return snprintf(prefix, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000, labels[level]);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One whole line in one fwrite, so threads' lines never interleave. */
static void write_line(void *ctx, enum log_level level, const char *request_id, const char *message)
{
    char line[2048];
    int n = format_prefix(line, sizeof line, level);
    int m = request_id != NULL ? snprintf(line + n, sizeof line - (size_t)n - 1, "request_id=%s %s", request_id, message)
                               : snprintf(line + n, sizeof line - (size_t)n - 1, "%s", message);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

/* Formats a message, with control characters (a newline in DynamoDB's message)
 * made '?' so that one event stays one line. */
static void format_message(char message[LOG_MESSAGE_MAX], const char *fmt, va_list ap)
{
    if (vsnprintf(message, LOG_MESSAGE_MAX, fmt, ap) < 0)
        message[0] = '\0';
    for (char *p = message; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static void log_vwrite(enum log_level level, const char *request_id, const char *fmt, va_list ap)
{
    if (level < current_level || level >= LOG_OFF)
        return;
    char message[LOG_MESSAGE_MAX];
    format_message(message, fmt, ap);
    if (level < LOG_WARN) {
        write_line(NULL, level, request_id, message);
        return;
    }
    pthread_mutex_lock(&repeat_lock);
    log_repeat_offer(&repeats, level, request_id, message, monotonic_ms(), write_line, NULL);
    atomic_store_explicit(&repeat_due, log_repeat_due(&repeats), memory_order_relaxed);
    pthread_mutex_unlock(&repeat_lock);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, NULL, fmt, ap);
    va_end(ap);
}

void log_request(enum log_level level, const char *request_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, request_id, fmt, ap);
    va_end(ap);
}

/* Writes pending summaries: those whose window ended, or all of them. */
static void expire_repeats(int all)
{
    pthread_mutex_lock(&repeat_lock);
    log_repeat_expire(&repeats, monotonic_ms(), all, write_line, NULL);
    atomic_store_explicit(&repeat_due, log_repeat_due(&repeats), memory_order_relaxed);
    pthread_mutex_unlock(&repeat_lock);
}

void log_flush_repeats(void)
{
    expire_repeats(1);
}

int log_append(struct buf *out, enum log_level level, const char *fmt, ...)
{
    if (level < current_level || level >= LOG_OFF)
        return 0;
    char prefix[64];
    format_prefix(prefix, sizeof prefix, level);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (m < 0)
        return -1;
    return buf_append_str(out, prefix) != 0 || buf_append(out, line, strnlen(line, sizeof line - 1)) != 0 ||
                   buf_append_char(out, '\n') != 0
               ? -1
               : 0;
}

void log_flush(struct buf *out)
{
    if (out->len > 0)
        fwrite(out->data, 1, out->len, stderr); /* whole lines, in one write for a few KB */
    buf_reset(out);
    int64_t due = atomic_load_explicit(&repeat_due, memory_order_relaxed);
    if (due != 0 && monotonic_ms() >= due)
        expire_repeats(0);
}

/* ---- the repeat collapser ---- */

void log_repeat_init(struct log_repeat *r, int64_t window_ms)
{
    memset(r, 0, sizeof *r);
    r->window_ms = window_ms;
}

/* Emits slot's summary when it counted repeats, then frees it. */
static void close_window(struct log_repeat_slot *slot, int64_t now_ms, log_emit_fn *emit, void *ctx)
{
    if (slot->repeats > 0) {
        /* The span since the written line, rounded up: true however late the summary comes. */
        int64_t seconds = (now_ms - slot->since_ms + 999) / 1000;
        char summary[LOG_MESSAGE_MAX + 96];
        snprintf(summary, sizeof summary, "repeated %ld times in the last %lld s: %s", slot->repeats,
                 (long long)(seconds < 1 ? 1 : seconds), slot->message);
        emit(ctx, slot->level, NULL, summary);
    }
    slot->used = 0;
    slot->repeats = 0;
}

void log_repeat_expire(struct log_repeat *r, int64_t now_ms, int all, log_emit_fn *emit, void *ctx)
{
    for (size_t i = 0; i < LOG_REPEAT_SLOTS; i++) {
        struct log_repeat_slot *slot = &r->slots[i];
        if (slot->used && (all || now_ms - slot->since_ms >= r->window_ms))
            close_window(slot, now_ms, emit, ctx);
    }
}

int64_t log_repeat_due(const struct log_repeat *r)
{
    int64_t due = 0;
    for (size_t i = 0; i < LOG_REPEAT_SLOTS; i++) {
        const struct log_repeat_slot *slot = &r->slots[i];
        if (slot->used && slot->repeats > 0 && (due == 0 || slot->since_ms + r->window_ms < due))
            due = slot->since_ms + r->window_ms;
    }
    return due;
}

int log_repeat_offer(struct log_repeat *r, enum log_level level, const char *request_id, const char *message,
                     int64_t now_ms, log_emit_fn *emit, void *ctx)
{
    log_repeat_expire(r, now_ms, 0, emit, ctx);
    size_t len = strnlen(message, LOG_MESSAGE_MAX - 1);
    struct log_repeat_slot *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < LOG_REPEAT_SLOTS; i++) {
        struct log_repeat_slot *slot = &r->slots[i];
        if (!slot->used) {
            if (free_slot == NULL)
                free_slot = slot;
            continue;
        }
        if (slot->level == level && strncmp(slot->message, message, len) == 0 && slot->message[len] == '\0') {
            slot->repeats++;
            return 0;
        }
        if (oldest == NULL || slot->since_ms < oldest->since_ms)
            oldest = slot;
    }
    if (free_slot == NULL) { /* every slot busy: the oldest window ends early */
        close_window(oldest, now_ms, emit, ctx);
        free_slot = oldest;
    }
    free_slot->used = 1;
    free_slot->level = level;
    free_slot->since_ms = now_ms;
    free_slot->repeats = 0;
    memcpy(free_slot->message, message, len);
    free_slot->message[len] = '\0';
    emit(ctx, level, request_id, message);
    return 1;
}
