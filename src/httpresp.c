/* httpresp: the strict HTTP/1.1 response reader (see httpresp.h). */
#include "httpresp.h"

#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_HEAD (16 * 1024)
#define DEFAULT_MAX_BODY (16 * 1024 * 1024)
#define MAX_CHUNK_LINE 256 /* a chunk-size line with its extensions */

enum phase {
    PH_HEAD,        /* status line and headers, into head */
    PH_LENGTH,      /* remaining bytes of a Content-Length body */
    PH_CHUNK_SIZE,  /* a chunk-size line: remaining is the size read so far */
    PH_CHUNK_EXT,   /* after the size: extensions until CR */
    PH_CHUNK_SIZE_LF,
    PH_CHUNK_DATA,  /* remaining bytes of the chunk */
    PH_CHUNK_CR,    /* the CRLF after a chunk's data */
    PH_CHUNK_LF,
    PH_TRAILER,     /* trailer lines after the last chunk, until an empty one; remaining: bytes so far */
    PH_UNTIL_CLOSE, /* the body runs to the end of the connection */
    PH_END,         /* the state in `status_state` is final */
};

void httpresp_init(struct httpresp *r)
{
    memset(r, 0, sizeof *r); /* empty buffers */
}

void httpresp_begin(struct httpresp *r, const char *const *want, int no_body, size_t max_head, size_t max_body)
{
    r->max_head = max_head > 0 ? max_head : DEFAULT_MAX_HEAD;
    r->max_body = max_body > 0 ? max_body : DEFAULT_MAX_BODY;
    r->want = want;
    r->no_body = no_body;
    r->status = 0;
    r->keep_alive = 0;
    r->content_type = NULL;
    for (size_t i = 0; i < HTTPRESP_MAX_WANTED; i++)
        r->wanted[i] = NULL;
    buf_reset(&r->body);
    buf_reset(&r->head);
    r->error = NULL;
    r->phase = PH_HEAD;
    r->chunked = r->until_close = r->have_length = 0;
    r->remaining = 0;
    r->started = 0;
    r->line_len = r->trailer_bytes = 0;
    r->last = '\0';
}

int httpresp_started(const struct httpresp *r)
{
    return r->started;
}

void httpresp_clean_up(struct httpresp *r)
{
    buf_clean_up(&r->body);
    buf_clean_up(&r->head);
}

static enum httpresp_state fail(struct httpresp *r, enum httpresp_state state, const char *error)
{
    r->phase = PH_END;
    r->error = error;
    r->final = state;
    return state;
}

static enum httpresp_state done(struct httpresp *r)
{
    r->phase = PH_END;
    r->final = HTTPRESP_DONE;
    if (r->body.data != NULL) /* appends terminate it; a reserved but empty body needs it here */
        r->body.data[r->body.len] = '\0';
    return HTTPRESP_DONE;
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A field value or reason phrase byte: HTAB, SP, visible ASCII, obs-text; no other control. */
static int is_text(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Whether a comma-separated token list holds token (case-insensitive). */
static int has_token(const char *list, const char *token)
{
    size_t n = strlen(token);
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - start) == n && strncasecmp(start, token, n) == 0)
            return 1;
        while (*p != '\0' && *p != ',')
            p++;
    }
    return 0;
}

/* Parses the head in r->head (ending with CRLF CRLF) in place: values are NUL-terminated where they end.
 * Returns HTTPRESP_MORE when the body (or the next head, after an interim 1xx) follows, DONE when the
 * response has no body, or an error. */
static enum httpresp_state parse_head(struct httpresp *r)
{
    char *p = r->head.data, *end = r->head.data + r->head.len;
    if (r->head.len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return fail(r, HTTPRESP_MALFORMED, "the status line is not HTTP/1.0 or HTTP/1.1");
    int http11 = p[7] == '1';
    if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return fail(r, HTTPRESP_MALFORMED, "the status code is not three digits from 100 to 599");
    int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    p += 12;
    if (*p == ' ') {
        for (p++; p < end && *p != '\r'; p++)
            if (!is_text((unsigned char)*p))
                return fail(r, HTTPRESP_MALFORMED, "a control character in the reason phrase");
    }
    if (p + 1 >= end || p[0] != '\r' || p[1] != '\n')
        return fail(r, HTTPRESP_MALFORMED, "the status line does not end with CRLF");
    p += 2;

    int close = !http11, te = 0;
    uint64_t length = 0;
    r->have_length = 0;
    r->content_type = NULL;
    for (size_t i = 0; i < HTTPRESP_MAX_WANTED; i++)
        r->wanted[i] = NULL;
    while (!(p[0] == '\r' && p[1] == '\n')) { /* the head ends with CRLF CRLF: p[1] is in bounds */
        char *name = p;
        while (p < end && is_tchar((unsigned char)*p))
            p++;
        if (p == name || p >= end || *p != ':')
            return fail(r, HTTPRESP_MALFORMED, "a header line without a valid name and colon");
        size_t name_len = (size_t)(p - name);
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        char *value = p, *value_end = p;
        for (; p < end && *p != '\r'; p++) {
            if (!is_text((unsigned char)*p))
                return fail(r, HTTPRESP_MALFORMED, "a control character in a header value");
            if (*p != ' ' && *p != '\t')
                value_end = p + 1;
        }
        if (p + 1 >= end || p[1] != '\n')
            return fail(r, HTTPRESP_MALFORMED, "a header line does not end with CRLF");
        p += 2;
        *value_end = '\0';
        if (name_len == 14 && strncasecmp(name, "content-length", 14) == 0) {
            uint64_t v = 0;
            size_t digits = 0;
            for (const char *d = value; *d != '\0'; d++, digits++) {
                if (*d < '0' || *d > '9' || digits >= 18)
                    return fail(r, HTTPRESP_MALFORMED, "Content-Length is not a decimal number");
                v = v * 10 + (uint64_t)(*d - '0');
            }
            if (digits == 0 || (r->have_length && v != length))
                return fail(r, HTTPRESP_MALFORMED, "Content-Length is empty or given twice with different values");
            length = v;
            r->have_length = 1;
        } else if (name_len == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
            if (te || strcasecmp(value, "chunked") != 0)
                return fail(r, HTTPRESP_MALFORMED, "a Transfer-Encoding other than one chunked");
            te = 1;
        } else if (name_len == 10 && strncasecmp(name, "connection", 10) == 0) {
            if (has_token(value, "close"))
                close = 1;
        } else if (name_len == 12 && strncasecmp(name, "content-type", 12) == 0) {
            r->content_type = value;
        }
        if (r->want != NULL)
            for (size_t i = 0; i < HTTPRESP_MAX_WANTED && r->want[i] != NULL; i++)
                if (strlen(r->want[i]) == name_len && strncasecmp(r->want[i], name, name_len) == 0)
                    r->wanted[i] = value;
    }

    if (status == 101)
        return fail(r, HTTPRESP_MALFORMED, "a 101 Switching Protocols nothing asked for");
    if (status < 200) { /* interim: the real response follows */
        buf_reset(&r->head);
        r->content_type = NULL;
        for (size_t i = 0; i < HTTPRESP_MAX_WANTED; i++)
            r->wanted[i] = NULL;
        return HTTPRESP_MORE;
    }
    if (te && r->have_length)
        return fail(r, HTTPRESP_MALFORMED, "both Content-Length and Transfer-Encoding");
    if (te && !http11) /* HTTP/1.0 has no chunked coding: faulty framing (RFC 9112 section 6.1) */
        return fail(r, HTTPRESP_MALFORMED, "Transfer-Encoding in an HTTP/1.0 response");
    r->status = status;
    r->keep_alive = !close;
    if (r->no_body || status == 204 || status == 304)
        return done(r);
    if (te) {
        r->chunked = 1;
        r->phase = PH_CHUNK_SIZE;
        r->remaining = 0;
        r->line_len = 0;
        return HTTPRESP_MORE;
    }
    if (r->have_length) {
        if (length > r->max_body)
            return fail(r, HTTPRESP_TOO_LARGE, "the response body is over the size limit");
        if (buf_reserve(&r->body, (size_t)length) != 0)
            return fail(r, HTTPRESP_TOO_LARGE, "out of memory for the response body");
        if (length == 0)
            return done(r);
        r->remaining = length;
        r->phase = PH_LENGTH;
        return HTTPRESP_MORE;
    }
    r->until_close = 1;
    r->keep_alive = 0;
    r->phase = PH_UNTIL_CLOSE;
    return HTTPRESP_MORE;
}

/* Takes head bytes until CRLF CRLF. Returns the bytes used; sets *state when the head ended or failed. */
static size_t feed_head(struct httpresp *r, const char *data, size_t len, enum httpresp_state *state)
{
    size_t old = r->head.len;
    size_t room = r->max_head > old ? r->max_head - old : 0;
    size_t take = len < room ? len : room;
    if (buf_append(&r->head, data, take) != 0) {
        *state = fail(r, HTTPRESP_TOO_LARGE, "out of memory for the response head");
        return 0;
    }
    size_t from = old > 3 ? old - 3 : 0;
    const char *blank = r->head.len > from ? memmem(r->head.data + from, r->head.len - from, "\r\n\r\n", 4) : NULL;
    size_t end = blank != NULL ? (size_t)(blank - r->head.data) + 4 : r->head.len; /* > old with a blank */
    /* Every LF of the head ends a CRLF: a head of bare-LF lines would wait for a CRLF CRLF that never
     * comes, until the deadline, on a connection the server keeps open. */
    const char *lf = r->head.data + old, *stop = r->head.data + end;
    while ((lf = memchr(lf, '\n', (size_t)(stop - lf))) != NULL) {
        if (lf == r->head.data || lf[-1] != '\r') {
            *state = fail(r, HTTPRESP_MALFORMED, "a line of the response head does not end with CRLF");
            return take;
        }
        lf++;
    }
    if (blank != NULL) {
        buf_truncate(&r->head, end);
        *state = parse_head(r);
        return end - old;
    }
    if (r->head.len >= r->max_head)
        *state = fail(r, HTTPRESP_TOO_LARGE, "the response head is over the size limit");
    else
        *state = HTTPRESP_MORE;
    return take;
}

static enum httpresp_state body_bytes(struct httpresp *r, const char *data, size_t n)
{
    if (r->body.len + n > r->max_body)
        return fail(r, HTTPRESP_TOO_LARGE, "the response body is over the size limit");
    if (buf_append(&r->body, data, n) != 0)
        return fail(r, HTTPRESP_TOO_LARGE, "out of memory for the response body");
    return HTTPRESP_MORE;
}

/* One byte of the chunked framing outside chunk data. */
static enum httpresp_state chunk_byte(struct httpresp *r, char c)
{
    switch (r->phase) {
    case PH_CHUNK_SIZE: {
        int v = hex_digit_value(c);
        if (v >= 0) {
            if (++r->line_len > 15)
                return fail(r, HTTPRESP_MALFORMED, "a chunk size with too many digits");
            r->remaining = r->remaining * 16 + (uint64_t)v;
            return HTTPRESP_MORE;
        }
        if (r->line_len == 0)
            return fail(r, HTTPRESP_MALFORMED, "a chunk without a hexadecimal size");
        if (c != '\r' && c != ';' && c != ' ' && c != '\t')
            return fail(r, HTTPRESP_MALFORMED, "a chunk size followed by something other than an extension");
        r->phase = PH_CHUNK_EXT;
    }
        __attribute__((fallthrough)); /* the byte after the digits */
    case PH_CHUNK_EXT:
        if (++r->line_len > MAX_CHUNK_LINE)
            return fail(r, HTTPRESP_MALFORMED, "a chunk-size line that is too long");
        if (c == '\r') {
            r->phase = PH_CHUNK_SIZE_LF;
            return HTTPRESP_MORE;
        }
        if (!is_text((unsigned char)c))
            return fail(r, HTTPRESP_MALFORMED, "a control character in a chunk extension");
        return HTTPRESP_MORE;
    case PH_CHUNK_SIZE_LF:
        if (c != '\n')
            return fail(r, HTTPRESP_MALFORMED, "a chunk-size line does not end with CRLF");
        r->line_len = 0;
        if (r->remaining == 0) {
            r->phase = PH_TRAILER;
            r->last = '\0';
            return HTTPRESP_MORE;
        }
        if (r->remaining > r->max_body - r->body.len)
            return fail(r, HTTPRESP_TOO_LARGE, "the response body is over the size limit");
        r->phase = PH_CHUNK_DATA;
        return HTTPRESP_MORE;
    case PH_CHUNK_CR:
        if (c != '\r')
            return fail(r, HTTPRESP_MALFORMED, "chunk data longer than its size");
        r->phase = PH_CHUNK_LF;
        return HTTPRESP_MORE;
    case PH_CHUNK_LF:
        if (c != '\n')
            return fail(r, HTTPRESP_MALFORMED, "chunk data not followed by CRLF");
        r->phase = PH_CHUNK_SIZE;
        r->remaining = 0;
        r->line_len = 0;
        return HTTPRESP_MORE;
    case PH_TRAILER: /* line_len: bytes of this line; trailer_bytes: of all trailer lines */
        if (++r->trailer_bytes > r->max_head)
            return fail(r, HTTPRESP_TOO_LARGE, "the response trailers are over the size limit");
        if (c == '\n') {
            if (r->line_len == 0 || r->last != '\r')
                return fail(r, HTTPRESP_MALFORMED, "a trailer line does not end with CRLF");
            if (r->line_len == 1) /* only the CR: the empty line that ends the message */
                return done(r);
            r->line_len = 0;
            r->last = c;
            return HTTPRESP_MORE;
        }
        if (r->last == '\r' && r->line_len > 0)
            return fail(r, HTTPRESP_MALFORMED, "a bare CR in a trailer");
        if (c != '\r' && !is_text((unsigned char)c))
            return fail(r, HTTPRESP_MALFORMED, "a control character in a trailer");
        r->line_len++;
        r->last = c;
        return HTTPRESP_MORE;
    default:
        return fail(r, HTTPRESP_MALFORMED, "internal: unexpected phase");
    }
}

enum httpresp_state httpresp_feed(struct httpresp *r, const char *data, size_t len, size_t *used)
{
    size_t at = 0;
    enum httpresp_state state = HTTPRESP_MORE;
    if (len > 0 && r->phase != PH_END)
        r->started = 1;
    while (r->phase != PH_END && at < len) {
        size_t n;
        switch (r->phase) {
        case PH_HEAD:
            at += feed_head(r, data + at, len - at, &state);
            continue;
        case PH_LENGTH:
        case PH_CHUNK_DATA:
            n = len - at < r->remaining ? len - at : (size_t)r->remaining;
            state = body_bytes(r, data + at, n);
            at += n;
            r->remaining -= n;
            if (state == HTTPRESP_MORE && r->remaining == 0) {
                if (r->phase == PH_LENGTH)
                    state = done(r);
                else
                    r->phase = PH_CHUNK_CR;
            }
            continue;
        case PH_UNTIL_CLOSE:
            state = body_bytes(r, data + at, len - at);
            at = len;
            continue;
        default:
            state = chunk_byte(r, data[at++]);
            continue;
        }
    }
    *used = at;
    return r->phase == PH_END ? r->final : state;
}

enum httpresp_state httpresp_eof(struct httpresp *r)
{
    if (r->phase == PH_END)
        return r->final;
    if (r->phase == PH_UNTIL_CLOSE)
        return done(r);
    return fail(r, HTTPRESP_MALFORMED, r->started ? "the connection closed before the response ended"
                                                  : "the connection closed without a response");
}
