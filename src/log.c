#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>
#include <time.h>

#include "buf.h"

/* Written once by main before threads start, read-only afterwards. */
static enum log_level current_level = LOG_INFO;
static enum log_format current_format = LOG_FORMAT_JSON;

/* Every thread's warnings and errors share one collapser, so a repeat is
 * recognised whichever worker logs it. */
static pthread_mutex_t repeat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_repeat repeats = {.window_ms = LOG_REPEAT_WINDOW_MS}; /* under repeat_lock */
static _Atomic int64_t repeat_due; /* log_repeat_due(&repeats), read without the lock by log_flush */

int log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcasecmp(name, names[i]) == 0) /* LOG_LEVEL=INFO as well as info */
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

int log_format_parse(const char *name)
{
    return strcmp(name, "json") == 0 ? LOG_FORMAT_JSON : strcmp(name, "text") == 0 ? LOG_FORMAT_TEXT : -1;
}

void log_set_format(enum log_format format)
{
    current_format = format;
}

static const char *const labels[] = {"debug", "info", "warn", "error"};

/* Writes the current UTC time, "2026-11-22T10:15:22.123Z", into out (25 bytes with the NUL). The
 * calendar part is formatted once a second per thread: gmtime_r costs more than the rest of a line. */
static void format_time(char out[25])
{
    static __thread time_t cached_sec = -1;
    static __thread char cached[20]; /* "2026-11-22T10:15:22" */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = now.tv_sec;
    }
    memcpy(out, cached, 19);
    int ms = (int)(now.tv_nsec / 1000000);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

/* Writes n in decimal into out (at least 21 bytes), NUL-terminated; returns its length. */
static size_t u64_text(char *out, uint64_t n)
{
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    memcpy(out, digits + i, sizeof digits - i);
    out[sizeof digits - i] = '\0';
    return sizeof digits - i;
}

/* Appends n in decimal. */
static int append_u64(struct buf *out, uint64_t n)
{
    char text[21];
    return buf_append(out, text, u64_text(text, n));
}

/* Bytes of the valid UTF-8 sequence at s (at most len long), or 0 when the bytes there are not one. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    size_t n;
    uint32_t cp;
    if (s[0] < 0xc2)
        return 0; /* a continuation byte, or an overlong two-byte lead */
    if (s[0] < 0xe0)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] < 0xf0)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] < 0xf5)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

int log_json_string(struct buf *out, const char *s, size_t len, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    if (len > max)
        len = max;
    if (buf_reserve(out, len + 2) != 0 || buf_append_char(out, '"') != 0)
        return -1;
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0; /* start of the bytes copied as they are */
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            continue;
        }
        size_t seq = c >= 0x80 ? utf8_sequence(u + i, len - i) : 0;
        if (seq > 0) {
            i += seq;
            continue;
        }
        if (buf_append(out, s + run, i - run) != 0)
            return -1;
        char esc[7] = {'\\', (char)c, 0};
        size_t n = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\t')
            esc[1] = 't';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c < 0x20 || c == 0x7f) {
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        } else if (c >= 0x80) {
            memcpy(esc + 1, "ufffd", 5);
            n = 6;
        }
        if (buf_append(out, esc, n) != 0)
            return -1;
        run = ++i;
    }
    if (buf_append(out, s + run, len - run) != 0)
        return -1;
    return buf_append_char(out, '"');
}

/* Appends a JSON member: ,"name": then the string value. */
static int append_member(struct buf *out, const char *name, const char *value, size_t len, size_t max)
{
    return buf_append_str(out, name) != 0 || log_json_string(out, value, len, max) != 0 ? -1 : 0;
}

/* Appends a line's start: {"time":"...","level":"..." (json) or "<time> <level> " (text). */
static int append_start(struct buf *out, enum log_level level)
{
    char time_text[25];
    format_time(time_text);
    if (current_format == LOG_FORMAT_TEXT)
        return buf_concat(out, time_text, " ", labels[level], " ") != 0 ? -1 : 0;
    return buf_concat(out, "{\"time\":\"", time_text, "\",\"level\":\"", labels[level], "\"") != 0 ? -1 : 0;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends one whole line for log_write and log_request. Returns 0 or -1. */
static int append_line(struct buf *out, enum log_level level, const char *request_id, const char *message)
{
    size_t len = strlen(message);
    if (append_start(out, level) != 0)
        return -1;
    if (current_format == LOG_FORMAT_TEXT)
        return (request_id != NULL && buf_concat(out, "request_id=", request_id, " ") != 0) ||
                       buf_append(out, message, len) != 0 || buf_append_char(out, '\n') != 0
                   ? -1
                   : 0;
    return append_member(out, ",\"msg\":", message, len, len) != 0 ||
                   (request_id != NULL && append_member(out, ",\"requestId\":", request_id, strlen(request_id),
                                                        LOG_MESSAGE_MAX) != 0) ||
                   buf_append(out, "}\n", 2) != 0
               ? -1
               : 0;
}

/* One whole line in one fwrite, so threads' lines never interleave. */
static void write_line(void *ctx, enum log_level level, const char *request_id, const char *message)
{
    struct buf line = BUF_INIT;
    if (append_line(&line, level, request_id, message) == 0)
        fwrite(line.data, 1, line.len, stderr);
    buf_clean_up(&line);
}

/* Formats a message, with control characters (a newline in DynamoDB's message)
 * made '?' so that one event stays one line in text too. */
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

char *log_redact_paths(char *message)
{
    static const char *const markers[] = {"for `", "for "};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        size_t n = strlen(markers[i]);
        for (char *p = message; (p = strstr(p, markers[i])) != NULL;) {
            char *path = p + n;
            p = path;
            if (*path != '/')
                continue;
            /* the path ends at the closing quote, or (unquoted) at whitespace or a sentence's end */
            size_t len = i == 0 ? strcspn(path, "'") : strcspn(path, " \t");
            if (i == 1 && len > 0 && path[len - 1] == '.')
                len--;
            static const char redacted[] = "<path>";
            if (len < sizeof redacted - 1) /* "/" alone and the like: shorter than the mark, nothing to hide */
                continue;
            memcpy(path, redacted, sizeof redacted - 1);
            memmove(path + sizeof redacted - 1, path + len, strlen(path + len) + 1);
            p = path + sizeof redacted - 1;
        }
    }
    return message;
}

void log_calls_add(struct log_calls *calls, const char *operation, const char *request_id, const char *outcome,
                   int retries)
{
    if (calls == NULL)
        return;
    if (calls->n == LOG_CALLS_MAX) {
        calls->more++;
        return;
    }
    struct log_call *call = &calls->call[calls->n++];
    size_t n = strnlen(operation, sizeof call->operation - 1);
    memcpy(call->operation, operation, n);
    call->operation[n] = '\0';
    n = 0;
    for (; request_id != NULL && request_id[n] != '\0' && n < LOG_CALL_ID_MAX; n++) {
        char ch = request_id[n];
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
        call->request_id[n] = ok ? ch : '-';
    }
    call->request_id[n] = '\0';
    call->outcome = outcome;
    call->retries = retries;
}

/* The text form's access line: "request_id=... method=... route=... status=... ms=... ...". */
static int append_access_text(struct buf *out, const struct log_access *a, const char *ms)
{
    if (buf_concat(out, "request_id=", a->request_id, " method=", a->method, " route=",
                   a->route != NULL ? a->route : "-", " status=") != 0 ||
        append_u64(out, (uint64_t)a->status) != 0 || buf_concat(out, " ms=", ms, " bytes=") != 0 ||
        append_u64(out, a->bytes_out) != 0 ||
        (a->remote_addr != NULL && buf_concat(out, " remote=", a->remote_addr) != 0) ||
        (a->trace_id != NULL && buf_concat(out, " trace_id=", a->trace_id) != 0) ||
        (a->principal != NULL &&
         append_member(out, " principal=", a->principal, strlen(a->principal), LOG_PRINCIPAL_MAX) != 0))
        return -1;
    for (unsigned i = 0; a->calls != NULL && i < a->calls->n; i++) {
        const struct log_call *c = &a->calls->call[i];
        if (buf_concat(out, i == 0 ? " ddb=" : ",", c->operation, ":", c->outcome, ":") != 0 ||
            append_u64(out, (uint64_t)c->retries) != 0 ||
            (c->request_id[0] != '\0' && buf_concat(out, ":", c->request_id) != 0))
            return -1;
    }
    return buf_concat(out, a->aborted ? " aborted=1" : "", "\n");
}

int log_access_append(struct buf *out, const struct log_access *a)
{
    if (LOG_INFO < current_level)
        return 0;
    int64_t us = a->duration_us < 0 ? 0 : a->duration_us;
    char ms[32]; /* "12.345" */
    size_t n = u64_text(ms, (uint64_t)(us / 1000));
    ms[n] = '.';
    ms[n + 1] = (char)('0' + us / 100 % 10);
    ms[n + 2] = (char)('0' + us / 10 % 10);
    ms[n + 3] = (char)('0' + us % 10);
    ms[n + 4] = '\0';
    size_t start = out->len;
    if (append_start(out, LOG_INFO) != 0)
        goto fail;
    if (current_format == LOG_FORMAT_TEXT) {
        if (append_access_text(out, a, ms) != 0)
            goto fail;
        return 0;
    }
    if (buf_concat(out, ",\"msg\":\"request\",\"requestId\":\"", a->request_id, "\",\"method\":\"", a->method,
                   "\",\"route\":") != 0 ||
        (a->route != NULL ? buf_concat(out, "\"", a->route, "\"") : buf_append_str(out, "null")) != 0 ||
        buf_append_str(out, ",\"status\":") != 0 || append_u64(out, (uint64_t)a->status) != 0 ||
        buf_concat(out, ",\"durationMs\":", ms, ",\"bytesOut\":") != 0 || append_u64(out, a->bytes_out) != 0 ||
        (a->remote_addr != NULL && buf_concat(out, ",\"remoteAddr\":\"", a->remote_addr, "\"") != 0) ||
        (a->user_agent != NULL &&
         append_member(out, ",\"userAgent\":", a->user_agent, a->user_agent_len, LOG_USER_AGENT_MAX) != 0) ||
        (a->trace_id != NULL && buf_concat(out, ",\"traceId\":\"", a->trace_id, "\"") != 0) ||
        (a->principal != NULL &&
         append_member(out, ",\"principal\":", a->principal, strlen(a->principal), LOG_PRINCIPAL_MAX) != 0))
        goto fail;
    if (a->calls != NULL && a->calls->n > 0) {
        if (buf_append_str(out, ",\"ddb\":[") != 0)
            goto fail;
        for (unsigned i = 0; i < a->calls->n; i++) {
            const struct log_call *c = &a->calls->call[i];
            if (buf_concat(out, i == 0 ? "" : ",", "{\"op\":\"", c->operation, "\",\"outcome\":\"", c->outcome,
                           "\",\"retries\":") != 0 ||
                append_u64(out, (uint64_t)c->retries) != 0 ||
                (c->request_id[0] != '\0' && buf_concat(out, ",\"requestId\":\"", c->request_id, "\"") != 0) ||
                buf_append_char(out, '}') != 0)
                goto fail;
        }
        if (buf_append_char(out, ']') != 0 ||
            (a->calls->more > 0 &&
             (buf_append_str(out, ",\"ddbMore\":") != 0 || append_u64(out, a->calls->more) != 0)))
            goto fail;
    }
    if (buf_concat(out, a->aborted ? ",\"aborted\":true" : "", "}\n") != 0)
        goto fail;
    return 0;
fail:
    buf_truncate(out, start); /* never half a line */
    return -1;
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
