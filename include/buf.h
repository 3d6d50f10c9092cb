/* buf: a growable byte buffer, always NUL-terminated, for building request and
 * response text without a fixed size. */
#ifndef USERSVC_BUF_H
#define USERSVC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated when len > 0 or after any append; may be NULL */
    size_t len;
    size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

/* The value of the hex digit c (either case), or -1 when c is not one. */
int hex_digit_value(char c);

/* Every append returns 0, or -1 when memory runs out (the buffer keeps what it
 * had). The buffer owns its storage; release it with buf_clean_up. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
/* Inline: signing and JSON writing append byte by byte on every request. */
static inline int buf_append_char(struct buf *b, char c)
{
    if (b->len + 2 > b->cap)
        return buf_append(b, &c, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends each string in turn: buf_concat(b, "a", s, "\n"). What the hot path
 * uses instead of buf_printf, which costs a vsnprintf per call. A NULL argument
 * ends the list early (unlike printf's "(null)"), and no argument may point into
 * b itself (a growing b moves). */
#define buf_concat(b, ...) buf_concat_list((b), __VA_ARGS__, (const char *)NULL)
int buf_concat_list(struct buf *b, ...) __attribute__((sentinel));
int buf_reserve(struct buf *b, size_t extra);
/* Empties the buffer but keeps its storage for reuse. */
void buf_reset(struct buf *b);
/* Cuts the contents back to their first len bytes (len <= b->len), e.g. to
 * drop a half-written value. */
void buf_truncate(struct buf *b, size_t len);
/* Hands the storage to the caller (free with free(3)) and leaves the buffer empty.
 * Returns an empty string, never NULL, unless memory runs out. */
char *buf_steal(struct buf *b);
/* The contents as a C string; "" when nothing was appended. Borrowed. */
const char *buf_cstr(const struct buf *b);
void buf_clean_up(struct buf *b);

#endif
