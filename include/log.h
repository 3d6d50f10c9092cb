/* log: one line per event on stderr, "<time> <level> <message>". The level is
 * set once in main before any thread starts. Never log a secret. */
#ifndef USERSVC_LOG_H
#define USERSVC_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

/* Parses "debug", "info", "warn", "error", "off"; returns -1 for anything else. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct buf;
/* Appends one log line to out instead of writing it, for a thread that batches
 * its lines (a worker's access log) and hands them to log_flush once per loop
 * turn: one write(2) for many requests. Returns 0, or -1 when memory runs out. */
int log_append(struct buf *out, enum log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes out's lines to stderr and empties it. */
void log_flush(struct buf *out);

#define log_debug(...) (log_enabled(LOG_DEBUG) ? log_write(LOG_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...) (log_enabled(LOG_INFO) ? log_write(LOG_INFO, __VA_ARGS__) : (void)0)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
