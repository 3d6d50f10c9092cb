/* log: one line per event on stderr. LOG_FORMAT=json (the default): one JSON
 * object per line, {"time","level","msg"[,"requestId"]}; text, for humans at a
 * terminal: "<time> <level> [request_id=<id> ]<message>". Level and format are
 * set once in main before any thread starts. Never log a secret, a body or an
 * email address.
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

enum log_format { LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

/* Parses "json", "text"; returns -1 for anything else. */
int log_format_parse(const char *name);
void log_set_format(enum log_format format);
int log_enabled(enum log_level level);
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes "request_id=<request_id> <message>"; repeats are recognised by the message alone. */
void log_request(enum log_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes the "repeated N times" lines still pending, ended windows or not: at exit. */
void log_flush_repeats(void);

struct buf;

/* Appends len bytes of s, cut to at most max bytes on a character boundary, as a JSON string
 * literal: '"', '\\' and control characters escaped, each byte that is not part of valid UTF-8
 * written as U+FFFD, so any input (a client's User-Agent) stays one valid line. Returns 0 or -1. */
int log_json_string(struct buf *out, const char *s, size_t len, size_t max);

/* The DynamoDB calls one request made, for its access line: filled by the ddb client. */
#define LOG_CALLS_MAX 4
#define LOG_CALL_ID_MAX 64
struct log_call {
    char operation[24];                   /* "GetItem" */
    char request_id[LOG_CALL_ID_MAX + 1]; /* DynamoDB's x-amzn-RequestId, "" when none came */
    const char *outcome;                  /* static: "ok", "conditional_check_failed", "timeout" ... */
    int retries;                          /* attempts after the first */
};
struct log_calls {
    unsigned n;    /* recorded in call[] */
    unsigned more; /* made beyond LOG_CALLS_MAX, counted only */
    struct log_call call[LOG_CALLS_MAX];
};

/* Records one finished call (request_id may be NULL; only [A-Za-z0-9-] of it is kept). Accepts NULL calls. */
void log_calls_add(struct log_calls *calls, const char *operation, const char *request_id, const char *outcome,
                   int retries);

/* One request's access line. Strings are borrowed; NULL ones are left out. */
struct log_access {
    const char *request_id;
    const char *method;
    const char *route;       /* the template, "/users/{id}"; NULL when no route matched */
    int status;
    int64_t duration_us;
    uint64_t bytes_out;      /* the response body's bytes */
    const char *remote_addr;
    const char *user_agent;  /* written at most LOG_USER_AGENT_MAX bytes long */
    size_t user_agent_len;
    const char *trace_id;    /* from a valid W3C traceparent: 32 lowercase hex digits */
    const char *principal;   /* who was authenticated (a JWT's sub, an API key's name); NULL when nobody.
                              * Never a token or key; written escaped, at most LOG_PRINCIPAL_MAX bytes */
    int aborted;             /* the connection ended before the answer was sent */
    const struct log_calls *calls; /* may be NULL */
};
#define LOG_USER_AGENT_MAX 256
#define LOG_PRINCIPAL_MAX 256

/* Appends req's access line (info level; nothing below it) to out instead of writing it, for a
 * thread that batches its lines (a worker's) and hands them to log_flush once per loop turn: one
 * write(2) for many requests, and no printf on the way. Returns 0, or -1 when memory runs out. */
int log_access_append(struct buf *out, const struct log_access *req);
/* Writes out's lines to stderr and empties it; also writes the "repeated N
 * times" lines of windows that have ended (one relaxed atomic load when none). */
void log_flush(struct buf *out);

/* Replaces in place each request path a library wrote into its message (libmicrohttpd's "... for
 * the request for `/users/by-email/a@b.c'. Error: ..." or "... in request for /x.") with "<path>",
 * as a path can hold an email address. Returns message. */
char *log_redact_paths(char *message);

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
