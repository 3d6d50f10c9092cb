#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"

/* Written once by main before threads start, read-only afterwards. */
static enum log_level current_level = LOG_INFO;

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

void log_write(enum log_level level, const char *fmt, ...)
{
    if (level < current_level || level >= LOG_OFF)
        return;
    char line[2048];
    int n = format_prefix(line, sizeof line, level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    fwrite(line, 1, len, stderr); /* one write per line keeps threads' lines whole */
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
}
