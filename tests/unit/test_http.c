/* test_http: request framing rules (RFC 9112 §6.3, §3.2): what may be read and
 * what is refused because a proxy in front could frame it differently; the W3C
 * traceparent reader. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Feeds name/value pairs (NULL-terminated) and returns the verdict. */
static const char *verdict(int http11, const char *const *headers)
{
    struct http_framing f = {0};
    for (; headers[0] != NULL; headers += 2)
        http_framing_add(&f, headers[0], headers[1]);
    return http_framing_error(&f, http11);
}

#define HEADERS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_accepted(void)
{
    CHECK(verdict(1, HEADERS("Host", "a")) == NULL);
    CHECK(verdict(1, HEADERS("Host", "a", "Content-Length", "43")) == NULL);
    CHECK(verdict(1, HEADERS("host", "a", "transfer-encoding", "Chunked")) == NULL);
    CHECK(verdict(1, HEADERS("Host", "a", "Content-Length", "2", "content-length", "2")) == NULL); /* same value */
    CHECK(verdict(0, HEADERS("Accept", "*/*")) == NULL); /* HTTP/1.0 may omit Host */
    CHECK(verdict(1, HEADERS("Host", "a", "Content-Length", "000000000000000000000000000005", "Content-Length",
                             "000000000000000000000000000005")) == NULL);
}

static void test_refused(void)
{
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Content-Length", "2", "Content-Length", "43")),
                 "conflicting Content-Length headers");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Content-Length", "2", "X", "y", "CONTENT-LENGTH", "2 ")),
                 "conflicting Content-Length headers");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Content-Length", "5", "Transfer-Encoding", "chunked")),
                 "both Content-Length and Transfer-Encoding");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Transfer-Encoding", "chunked", "Content-Length", "5")),
                 "both Content-Length and Transfer-Encoding");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Transfer-Encoding", "gzip, chunked")),
                 "unsupported Transfer-Encoding (only chunked is accepted)");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Transfer-Encoding", "identity")),
                 "unsupported Transfer-Encoding (only chunked is accepted)");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked")),
                 "unsupported Transfer-Encoding (only chunked is accepted)");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Transfer-Encoding", "x", "Transfer-Encoding", "chunked")),
                 "unsupported Transfer-Encoding (only chunked is accepted)");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Content-Length", "000000000000000000000000000001",
                                    "Content-Length", "000000000000000000000000000005")),
                 "conflicting Content-Length headers"); /* the whole values are compared */
    CHECK_STR_EQ(verdict(0, HEADERS("Transfer-Encoding", "chunked")), "Transfer-Encoding in an HTTP/1.0 request");
    CHECK_STR_EQ(verdict(1, HEADERS("Accept", "*/*")), "an HTTP/1.1 request needs a Host header");
    CHECK_STR_EQ(verdict(1, HEADERS("Host", "a", "Host", "b")), "more than one Host header");
    CHECK_STR_EQ(verdict(0, HEADERS("Host", "a", "Host", "b")), "more than one Host header");
}

/* The trace id of a traceparent, or "-" when it is refused. */
static const char *trace_id(const char *value)
{
    static char out[33];
    strcpy(out, "-");
    http_traceparent_trace_id(value, out);
    return out;
}

static void test_traceparent(void)
{
    /* the W3C spec's own example */
    CHECK_STR_EQ(trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                 "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK_STR_EQ(trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
                 "4bf92f3577b34da6a3ce929d0e0e4736");
    /* a later version may append fields after a dash */
    CHECK_STR_EQ(trace_id("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later"),
                 "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK_STR_EQ(trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"), "-"); /* not in 00 */
    CHECK_STR_EQ(trace_id("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), "-");
    CHECK_STR_EQ(trace_id("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "-");
    CHECK_STR_EQ(trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"), "-");
    CHECK_STR_EQ(trace_id("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), "-"); /* uppercase */
    CHECK_STR_EQ(trace_id("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"), "-");  /* short */
    CHECK_STR_EQ(trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"), "-");
    CHECK_STR_EQ(trace_id("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"), "-");
    CHECK_STR_EQ(trace_id("\"><script>"), "-");
    CHECK_STR_EQ(trace_id(""), "-");
}

/* Response headers are an owned list: kept in order, looked up by any case, freed by clean-up. */
static void test_response_headers(void)
{
    struct http_response resp = {0};
    CHECK_INT_EQ(http_response_add_header(&resp, "ETag", "\"3\""), 0);
    CHECK_INT_EQ(http_response_add_headerf(&resp, "Location", "/users/%s", "abc"), 0);
    CHECK_INT_EQ(http_response_add_header(&resp, "Vary", "Origin"), 0);
    CHECK_INT_EQ(resp.n_headers, 3);
    CHECK_STR_EQ(resp.headers[0].name, "ETag");
    CHECK_STR_EQ(resp.headers[1].value, "/users/abc");
    CHECK_STR_EQ(resp.headers[2].name, "Vary");
    CHECK_STR_EQ(http_response_header(&resp, "location"), "/users/abc");
    CHECK(http_response_header(&resp, "Link") == NULL);
    http_response_clean_up(&resp);
    CHECK_INT_EQ(resp.n_headers, 0);
    CHECK(resp.headers == NULL);

    /* A new answer replaces the old one's headers too. */
    struct http_exchange ex = {0};
    http_response_add_header(&ex.resp, "ETag", "\"1\"");
    http_respond(&ex, 204, NULL);
    CHECK_INT_EQ(ex.resp.n_headers, 0);
    http_response_clean_up(&ex.resp);
}

int main(void)
{
    RUN(test_accepted);
    RUN(test_refused);
    RUN(test_traceparent);
    RUN(test_response_headers);
    return check_summary();
}
