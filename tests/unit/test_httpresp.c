/* test_httpresp: every framing case of the upstream response reader, each fed
 * whole and then one byte at a time (the answer must not depend on how the
 * bytes arrive): Content-Length, chunked (extensions, trailers), body to the
 * end of the connection, interim 1xx, no-body statuses and HEAD, keep-alive
 * and Connection: close, leftover bytes, wanted headers, limits, and each
 * malformed input refused. */
#include "httpresp.h"

#include <string.h>

#include "check.h"

static const char *const want[] = {"x-amz-crc32", "x-amzn-requestid", NULL};

struct outcome {
    enum httpresp_state state;
    size_t used; /* bytes of the input this response took */
    int status, keep_alive;
    char body[256], type[64], crc[64];
    int crc_absent, id_absent;
    const char *error;
};

static void record(const struct httpresp *r, enum httpresp_state state, size_t used, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->state = state;
    o->used = used;
    o->error = r->error;
    if (state != HTTPRESP_DONE)
        return;
    o->status = r->status;
    o->keep_alive = r->keep_alive;
    snprintf(o->body, sizeof o->body, "%s", buf_cstr(&r->body));
    snprintf(o->type, sizeof o->type, "%s", r->content_type ? r->content_type : "(none)");
    snprintf(o->crc, sizeof o->crc, "%s", r->wanted[0] ? r->wanted[0] : "");
    o->crc_absent = r->wanted[0] == NULL;
    o->id_absent = r->wanted[1] == NULL;
}

/* Feeds text (whole when step is 0, else step bytes at a time), then the end of the connection when eof. */
static void read_response(const char *text, size_t step, int eof, int head, size_t max_body, struct outcome *o)
{
    struct httpresp r;
    httpresp_init(&r);
    httpresp_begin(&r, want, head, 256, max_body);
    size_t len = strlen(text), at = 0, used = 0;
    enum httpresp_state state = HTTPRESP_MORE;
    while (state == HTTPRESP_MORE && at < len) {
        size_t n = step == 0 || len - at < step ? len - at : step;
        state = httpresp_feed(&r, text + at, n, &used);
        CHECK(used <= n);
        at += used;
    }
    if (state == HTTPRESP_MORE && eof)
        state = httpresp_eof(&r);
    record(&r, state, at, o);
    httpresp_clean_up(&r);
}

/* The same answer whole and byte by byte. */
static void read_both(const char *text, int eof, int head, size_t max_body, struct outcome *o)
{
    struct outcome one;
    read_response(text, 1, eof, head, max_body, &one);
    read_response(text, 0, eof, head, max_body, o);
    CHECK_INT_EQ(one.state, o->state);
    if (o->state == HTTPRESP_DONE)
        CHECK_INT_EQ(one.used, o->used);
    CHECK_INT_EQ(one.status, o->status);
    CHECK_STR_EQ(one.body, o->body);
    CHECK_STR_EQ(one.crc, o->crc);
}

static void test_content_length(void)
{
    struct outcome o;
    read_both("HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amz-crc32:  42 \r\n"
              "Content-Length: 7\r\n\r\n{\"a\":1}",
              0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_INT_EQ(o.status, 200);
    CHECK_INT_EQ(o.keep_alive, 1);
    CHECK_STR_EQ(o.body, "{\"a\":1}");
    CHECK_STR_EQ(o.type, "application/x-amz-json-1.0");
    CHECK_STR_EQ(o.crc, "42"); /* trimmed */
    CHECK_INT_EQ(o.id_absent, 1);

    /* Zero length, no reason phrase, a repeated equal length, a repeated wanted header (the last wins). */
    read_both("HTTP/1.1 404\r\nContent-Length: 0\r\nContent-Length: 0\r\nX-Amz-Crc32: 1\r\nX-AMZ-CRC32: 2\r\n\r\n",
              0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_INT_EQ(o.status, 404);
    CHECK_STR_EQ(o.body, "");
    CHECK_STR_EQ(o.crc, "2");
    CHECK_STR_EQ(o.type, "(none)");
}

static void test_leftover(void)
{
    /* What follows the response is not part of it: used stops at its end. */
    const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
    struct outcome o;
    read_both(two, 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_INT_EQ(o.used, strlen(two) - strlen("HTTP/1.1 200 OK\r\n"));
    CHECK_STR_EQ(o.body, "ok");

    /* A reader is reused for the next response on the connection. */
    struct httpresp r;
    httpresp_init(&r);
    size_t used;
    for (int i = 0; i < 2; i++) {
        httpresp_begin(&r, NULL, 0, 0, 0);
        CHECK_INT_EQ(httpresp_started(&r), 0);
        CHECK_INT_EQ(httpresp_feed(&r, two, strlen(two), &used), HTTPRESP_DONE);
        CHECK_INT_EQ(httpresp_started(&r), 1);
        CHECK_STR_EQ(buf_cstr(&r.body), "ok");
        /* Once done, more bytes are not taken. */
        CHECK_INT_EQ(httpresp_feed(&r, "x", 1, &used), HTTPRESP_DONE);
        CHECK_INT_EQ(used, 0);
    }
    httpresp_clean_up(&r);
}

static void test_chunked(void)
{
    struct outcome o;
    read_both("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nx-amz-crc32: 7\r\n\r\n"
              "4;name=value\r\n{\"a\"\r\n3 \r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n",
              0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_STR_EQ(o.body, "{\"a\":1}");
    CHECK_INT_EQ(o.keep_alive, 1);
    CHECK_STR_EQ(o.crc, "7");

    read_both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_STR_EQ(o.body, "");

    const char *bad[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n",               /* no size */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\n",              /* junk after the size */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", /* 16 digits */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",        /* longer than its size */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n",           /* bare LF */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\r\n",     /* trailer bare LF */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \r1\r\n\r\n", /* trailer bare CR */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        read_both(bad[i], 0, 0, 0, &o);
        CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
        CHECK(o.error != NULL);
    }
    /* Cut short: the end of the connection inside a chunk. */
    read_both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 1, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
    CHECK_STR_EQ(o.error, "the connection closed before the response ended");
    /* Chunks adding up to over the body limit. */
    read_both("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n", 0, 0, 6, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_TOO_LARGE);
}

static void test_until_close(void)
{
    struct outcome o;
    /* HTTP/1.0 without a length: the body ends with the connection, which is then not kept. */
    read_both("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello", 1, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_STR_EQ(o.body, "hello");
    CHECK_INT_EQ(o.keep_alive, 0);
    /* Not yet closed: more may come. */
    read_both("HTTP/1.1 200 OK\r\n\r\nhello", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_MORE);
    read_both("HTTP/1.1 200 OK\r\n\r\nhello world", 1, 0, 8, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_TOO_LARGE);
}

static void test_keep_alive(void)
{
    struct outcome o;
    read_both("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\nx", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_INT_EQ(o.keep_alive, 0);
    read_both("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_INT_EQ(o.keep_alive, 0); /* HTTP/1.0: closed after the answer */
    read_both("HTTP/1.1 200 OK\r\nConnection: closed-not\r\nContent-Length: 1\r\n\r\nx", 0, 0, 0, &o);
    CHECK_INT_EQ(o.keep_alive, 1); /* a token, not a prefix */
}

static void test_interim_and_no_body(void)
{
    struct outcome o;
    read_both("HTTP/1.1 100 Continue\r\nX-Amz-Crc32: 1\r\nX-Amzn-RequestId: interim\r\n\r\n"
              "HTTP/1.1 102 Processing\r\n\r\n"
              "HTTP/1.1 201 Created\r\nx-amz-crc32: 9\r\nContent-Length: 2\r\n\r\n{}",
              0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_INT_EQ(o.status, 201);
    CHECK_STR_EQ(o.crc, "9");
    CHECK_INT_EQ(o.id_absent, 1); /* only the interim response had it */

    const char *no_body = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
    read_both(no_body, 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_STR_EQ(o.body, "");
    CHECK_INT_EQ(o.used, strlen(no_body));
    read_both("HTTP/1.1 304 Not Modified\r\n\r\n", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    read_both("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 0, 1, 0, &o); /* the answer to HEAD */
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_INT_EQ(o.keep_alive, 1);

    read_both("HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
}

static void test_malformed_heads(void)
{
    const char *bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 600 Odd\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx",              /* space before the colon */
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 1\r\n\r\nx", /* obs-fold */
        "HTTP/1.1 200 OK\r\nX: a\nY: b\r\nContent-Length: 1\r\n\r\nx",    /* bare LF */
        "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 1\r\n\r\nx",       /* bare CR */
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    };
    struct outcome o;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        read_both(bad[i], 1, 0, 0, &o);
        CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
        CHECK(o.error != NULL && o.error[0] != '\0');
    }
    /* HTTP/1.0 has no chunked coding: its framing is faulty (RFC 9112 section 6.1). */
    read_both("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
    /* A head of bare-LF lines is refused as it arrives, not left waiting for a CRLF CRLF that never
     * comes (the connection stays open: the request would end only at its deadline). */
    read_both("HTTP/1.1 200 OK\nContent-Length: 0\n\n", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
    CHECK_STR_EQ(o.error, "a line of the response head does not end with CRLF");
    /* A bare LF in the body is data. */
    read_both("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\nb", 0, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_STR_EQ(o.body, "a\nb");
    read_both("", 1, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
    CHECK_STR_EQ(o.error, "the connection closed without a response");
    read_both("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 1, 0, 0, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_MALFORMED);
    CHECK_STR_EQ(o.error, "the connection closed before the response ended");
}

static void test_limits(void)
{
    struct outcome o;
    char head[400];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nX-Long: %0300d\r\n\r\n", 0);
    read_both(head, 0, 0, 0, &o); /* the head limit is 256 in these tests */
    CHECK_INT_EQ(o.state, HTTPRESP_TOO_LARGE);
    read_both("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n123456789", 0, 0, 8, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_TOO_LARGE);
    read_both("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n12345678", 0, 0, 8, &o);
    CHECK_INT_EQ(o.state, HTTPRESP_DONE);
    CHECK_STR_EQ(o.body, "12345678");
}

int main(void)
{
    RUN(test_content_length);
    RUN(test_leftover);
    RUN(test_chunked);
    RUN(test_until_close);
    RUN(test_keep_alive);
    RUN(test_interim_and_no_body);
    RUN(test_malformed_heads);
    RUN(test_limits);
    return check_summary();
}
