/* httpresp: a strict, bounded HTTP/1.1 response reader. Pure: it is fed the
 * bytes a connection received, in pieces of any size, and says when one whole
 * response has arrived. httpc.c reads upstream answers with it.
 *
 * It accepts "HTTP/1.0" and "HTTP/1.1" status lines, header lines ending in
 * CRLF (no obs-fold, no space before the colon), skips interim 1xx responses
 * (101 is an error: nothing asks to switch protocols), and frames the body by
 * Transfer-Encoding: chunked, Content-Length (one, decimal), or, with neither,
 * the end of the connection. Ambiguous framing (Content-Length with
 * Transfer-Encoding, two different lengths, a coding other than chunked) is an
 * error, as at the edge. The head and the body have size limits. */
#ifndef USERSVC_HTTPRESP_H
#define USERSVC_HTTPRESP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HTTPRESP_MAX_WANTED 6 /* headers one response may capture */

enum httpresp_state {
    HTTPRESP_MORE,      /* more bytes are needed */
    HTTPRESP_DONE,      /* one whole response arrived */
    HTTPRESP_MALFORMED, /* the bytes are not a response we accept: the connection is unusable */
    HTTPRESP_TOO_LARGE, /* the head or the body is over its limit */
};

struct httpresp {
    /* set by httpresp_begin, read-only for callers */
    size_t max_head, max_body;
    const char *const *want; /* lowercase header names, NULL-terminated; borrowed; NULL: none */
    int no_body;             /* the request was HEAD */
    /* results, valid once HTTPRESP_DONE */
    int status;
    int keep_alive;           /* the connection may carry another request */
    const char *content_type; /* points into head; NULL when absent */
    const char *wanted[HTTPRESP_MAX_WANTED]; /* values of want, same order; NULL when absent; last one wins */
    struct buf body;          /* the body, NUL-terminated (buf_cstr) */
    const char *error;        /* with MALFORMED or TOO_LARGE: what was wrong (fixed text, no bytes of the input) */
    /* internal */
    struct buf head;
    int phase, chunked, until_close, have_length, started;
    enum httpresp_state final; /* once the phase is the end */
    uint64_t remaining;        /* bytes left of the Content-Length body or of the current chunk */
    size_t line_len, trailer_bytes;
    char last;                 /* the previous trailer byte */
};

/* Storage for a reader; owns nothing yet. */
void httpresp_init(struct httpresp *r);

/* Prepares the reader for the response to one request, keeping its buffers' storage. want is borrowed
 * until the response is read. max_head 0: 16 KiB; max_body 0: 16 MiB. */
void httpresp_begin(struct httpresp *r, const char *const *want, int no_body, size_t max_head, size_t max_body);

/* Reads len bytes. *used is set to how many belong to this response (all of them unless the answer is
 * DONE: what follows a finished response is not part of it). Once DONE, MALFORMED or TOO_LARGE, further
 * calls return the same state and use nothing. */
enum httpresp_state httpresp_feed(struct httpresp *r, const char *data, size_t len, size_t *used);

/* The peer closed the connection: DONE when the body ran to the end of the connection, MALFORMED when
 * the response was cut short (also with no byte of it), otherwise the state unchanged. */
enum httpresp_state httpresp_eof(struct httpresp *r);

/* Whether any byte of a response has been fed since httpresp_begin. */
int httpresp_started(const struct httpresp *r);

/* Frees the buffers. Accepts a reader that was only initialised. */
void httpresp_clean_up(struct httpresp *r);

#endif
