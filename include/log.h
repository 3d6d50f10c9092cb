/* log: one line per event on stderr, "<time> <level> <message>". The level is
 * set once in main before any thread starts. Never log a secret.
 *
 * Warnings and errors go through one repeat collapser (behind a mutex: they are
 * off the hot path): a line identical to one written less than
 * LOG_REPEAT_WINDOW_MS ago (same level and message; the request id of
 * log_request is not part of it) is counted instead of written, and once that
 * window has ended one line reports "repeated N times in the last S s: <message>".
 * The access log (log_append) is never collapsed. */
#ifndef USERSVC_LOG_H
#define USERSVC_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

/* Parses "debug", "info", "warn", "error", "off"; returns -1 for anything else. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes "request_id=<request_id> <message>"; repeats are recognised by the message alone. */
void log_request(enum log_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes the "repeated N times" lines still pending, ended windows or not: at exit. */
void log_flush_repeats(void);

struct buf;
/* Appends one log line to out instead of writing it, for a thread that batches
 * its lines (a worker's access log) and hands them to log_flush once per loop
 * turn: one write(2) for many requests. Returns 0, or -1 when memory runs out. */
int log_append(struct buf *out, enum log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes out's lines to stderr and empties it; also writes the "repeated N
 * times" lines of windows that have ended (one relaxed atomic load when none). */
void log_flush(struct buf *out);

#define log_debug(...) (log_enabled(LOG_DEBUG) ? log_write(LOG_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...) (log_enabled(LOG_INFO) ? log_write(LOG_INFO, __VA_ARGS__) : (void)0)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/* --- the repeat collapser: pure (the clock is a parameter), exposed for tests --- */

#define LOG_REPEAT_WINDOW_MS 10000
#define LOG_REPEAT_SLOTS 8       /* distinct messages tracked at once; the oldest makes room */
#define LOG_MESSAGE_MAX 1024     /* longer messages are compared (and written) truncated */

/* Receives each line to write: request_id is NULL for summaries and plain lines. */
typedef void log_emit_fn(void *ctx, enum log_level level, const char *request_id, const char *message);

struct log_repeat_slot {
    int used;
    enum log_level level;
    int64_t since_ms;  /* when the written occurrence was offered */
    long repeats;      /* occurrences counted, not written, since then */
    char message[LOG_MESSAGE_MAX];
};

/* Caller storage: zero it (or call log_repeat_init) before use. */
struct log_repeat {
    int64_t window_ms;
    struct log_repeat_slot slots[LOG_REPEAT_SLOTS];
};

void log_repeat_init(struct log_repeat *r, int64_t window_ms);

/* Offers one line at now_ms (any monotonic clock). First emits the summaries
 * of windows that ended by now_ms; then emits the line unless it repeats one
 * written less than window_ms ago. Returns 1 when the line was emitted, 0 when
 * it was counted. */
int log_repeat_offer(struct log_repeat *r, enum log_level level, const char *request_id, const char *message,
                     int64_t now_ms, log_emit_fn *emit, void *ctx);

/* Emits the summaries of windows that ended by now_ms (of every window when
 * all is 1) and forgets those messages. */
void log_repeat_expire(struct log_repeat *r, int64_t now_ms, int all, log_emit_fn *emit, void *ctx);

/* When the next window that has repeats ends (same clock), or 0 when none has. */
int64_t log_repeat_due(const struct log_repeat *r);

#endif
