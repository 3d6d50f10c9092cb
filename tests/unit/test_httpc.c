/* test_httpc: the HTTP client against canned loopback servers: status, body
 * and wanted headers (an interim 100 dropped), one callback per request and
 * never from inside send, a request whose deadline passed in the queue, a
 * refused connection, shutdown completing what is pending, framing, stale and
 * closed kept-alive connections, an early answer, deadlines. */
#include "httpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static const char canned[] = "HTTP/1.1 100 Continue\r\nX-Amz-Crc32: 1\r\nX-Amzn-RequestId: interim\r\n\r\n"
                             "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                             "x-amz-crc32:   12345  \r\nX-Other: no\r\nContent-Length: 7\r\n\r\n{\"a\":1}";

/* Answers each request on one connection with the canned response, until the client closes. */
static void *serve(void *arg)
{
    int listener = *(int *)arg;
    int fd = accept(listener, NULL, NULL);
    char buf[4096];
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf - 1)) > 0) {
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL && write(fd, canned, sizeof canned - 1) < 0)
            break;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

struct seen {
    int calls;
    enum httpc_outcome outcome;
    long status;
    char body[64], crc[32], type[64], error[160];
    int crc_absent, id_absent;
};

static void on_done(struct httpc_request *req, const struct httpc_response *resp)
{
    struct seen *s = req->ctx;
    s->calls++;
    s->outcome = resp->outcome;
    s->status = resp->status;
    snprintf(s->body, sizeof s->body, "%s", resp->body);
    snprintf(s->error, sizeof s->error, "%s", resp->error);
    snprintf(s->type, sizeof s->type, "%s", resp->content_type ? resp->content_type : "");
    s->crc_absent = resp->headers[0] == NULL;
    s->id_absent = resp->headers[1] == NULL;
    snprintf(s->crc, sizeof s->crc, "%s", resp->headers[0] ? resp->headers[0] : "");
}

/* Drives the client until *calls is set or about 5 s pass. */
static void drive(struct httpc_client *c, const int *calls)
{
    for (int i = 0; i < 500 && *calls == 0; i++) {
        int t = httpc_client_timeout_ms(c);
        struct pollfd p = {.fd = httpc_client_fd(c), .events = POLLIN};
        int ready = poll(&p, 1, t < 0 || t > 10 ? 10 : t) > 0;
        httpc_client_run(c, ready);
    }
}

static const char *const wanted[] = {"x-amz-crc32", "x-amzn-requestid", NULL};

static void test_exchange(void)
{
    int port, listener = listen_loopback(&port);
    CHECK(listener >= 0);
    pthread_t thread;
    pthread_create(&thread, NULL, serve, &listener);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    struct httpc_client *c = httpc_client_new(&(struct httpc_config){0});
    CHECK(c != NULL);

    const char *lines[] = {"Content-Type: application/json", "X-Test: 1"};
    struct seen s = {0};
    struct httpc_request req = {.method = "POST", .url = url, .header_lines = lines, .n_header_lines = 2,
                                .body = "{}", .body_len = 2, .want_headers = wanted,
                                .deadline_ms = httpc_now_ms() + 5000, .connect_timeout_ms = 1000,
                                .callback = on_done, .ctx = &s};
    CHECK_INT_EQ(httpc_send(c, &req), 0);
    CHECK_INT_EQ(s.calls, 0); /* never from inside send */
    drive(c, &s.calls);
    CHECK_INT_EQ(s.calls, 1);
    CHECK_INT_EQ(s.outcome, HTTPC_DONE);
    CHECK_INT_EQ(s.status, 201);
    CHECK_STR_EQ(s.body, "{\"a\":1}");
    CHECK_STR_EQ(s.type, "application/json");
    CHECK_STR_EQ(s.crc, "12345"); /* the final response's, trimmed */
    CHECK_INT_EQ(s.id_absent, 1);  /* only the interim 100 had it: dropped */
    CHECK_STR_EQ(s.error, "");

    /* The same storage again, now as a GET without wanted headers, on the kept-alive connection. */
    struct seen s2 = {0};
    req.method = "GET";
    req.want_headers = NULL;
    req.ctx = &s2;
    CHECK_INT_EQ(httpc_send(c, &req), 0);
    drive(c, &s2.calls);
    CHECK_INT_EQ(s2.calls, 1);
    CHECK_INT_EQ(s2.status, 201);
    CHECK_STR_EQ(s2.body, "{\"a\":1}");
    CHECK_INT_EQ(s2.crc_absent, 1);

    /* A deadline already past: ends in the queue, nothing sent. */
    struct seen s3 = {0};
    req.deadline_ms = httpc_now_ms() - 1;
    req.ctx = &s3;
    CHECK_INT_EQ(httpc_send(c, &req), 0);
    httpc_client_run(c, 0);
    CHECK_INT_EQ(s3.calls, 1);
    CHECK_INT_EQ(s3.outcome, HTTPC_QUEUED_OUT);

    /* Malformed: refused at once, no callback. */
    struct seen s4 = {0};
    req.n_header_lines = HTTPC_MAX_HEADER_LINES + 1;
    req.ctx = &s4;
    CHECK_INT_EQ(httpc_send(c, &req), -1);

    /* Pending at shutdown: completed by free. */
    struct seen s5 = {0};
    req.n_header_lines = 0;
    req.deadline_ms = httpc_now_ms() + 5000;
    req.ctx = &s5;
    CHECK_INT_EQ(httpc_send(c, &req), 0);
    httpc_client_free(c);
    CHECK_INT_EQ(s4.calls, 0);
    CHECK_INT_EQ(s5.calls, 1);
    CHECK_INT_EQ(s5.outcome, HTTPC_SHUTDOWN);
    pthread_join(thread, NULL);
    close(listener);
}

static void test_refused(void)
{
    int port, listener = listen_loopback(&port);
    close(listener); /* nobody listens there now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    struct httpc_client *c = httpc_client_new(&(struct httpc_config){0});
    struct seen s = {0};
    struct httpc_request req = {.method = "GET", .url = url, .deadline_ms = httpc_now_ms() + 5000,
                                .callback = on_done, .ctx = &s};
    CHECK_INT_EQ(httpc_send(c, &req), 0);
    drive(c, &s.calls);
    CHECK_INT_EQ(s.calls, 1);
    CHECK_INT_EQ(s.outcome, HTTPC_NETWORK);
    CHECK_INT_EQ(s.status, 0);
    CHECK_STR_EQ(s.error, "Couldn't connect to server (Connection refused)");
    httpc_client_free(c);
}

/* A scripted server: accepts connections one after another; request i (a head, then Content-Length
 * bytes of body) gets answers[i]; NULL closes the connection without answering. It stops after n
 * requests. The first request's bytes are kept. */
struct script {
    int listener;
    int n;
    const char *answers[6];
    unsigned close_after; /* bit i: close the connection after answering request i */
    int connections;  /* accepted */
    char first[1024]; /* the first request as received */
};

/* Reads one whole request into buf (have bytes held); returns its length, or 0 when the peer closed. */
static size_t read_request(int fd, char *buf, size_t size, size_t *have)
{
    char *end;
    while ((end = strstr(buf, "\r\n\r\n")) == NULL) {
        ssize_t n = read(fd, buf + *have, size - 1 - *have);
        if (n <= 0)
            return 0;
        *have += (size_t)n;
        buf[*have] = '\0';
    }
    const char *cl = strstr(buf, "Content-Length: ");
    size_t need = (size_t)(end - buf) + 4 + (cl != NULL && cl < end ? (size_t)atoi(cl + 16) : 0);
    while (*have < need) {
        ssize_t n = read(fd, buf + *have, size - 1 - *have);
        if (n <= 0)
            return 0;
        *have += (size_t)n;
        buf[*have] = '\0';
    }
    return need;
}

static void *serve_script(void *arg)
{
    struct script *sc = arg;
    int next = 0;
    while (next < sc->n) {
        int fd = accept(sc->listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        sc->connections++;
        char buf[4096] = "";
        size_t have = 0, len;
        while (next < sc->n && (len = read_request(fd, buf, sizeof buf, &have)) > 0) {
            if (next == 0)
                snprintf(sc->first, sizeof sc->first, "%.*s", (int)len, buf);
            memmove(buf, buf + len, have - len + 1);
            have -= len;
            const char *answer = sc->answers[next++];
            if (answer == NULL || write(fd, answer, strlen(answer)) < 0 || (sc->close_after >> (next - 1) & 1))
                break;
        }
        close(fd);
    }
    return NULL;
}

static const char ok_answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* Runs one request against a script; returns what the callback saw. */
static void exchange(struct httpc_client *c, const char *method, const char *url, int64_t timeout_ms,
                     struct seen *s)
{
    const char *lines[] = {"Content-Type: application/json", "Expect:", "host: 127.0.0.1:1"};
    memset(s, 0, sizeof *s);
    struct httpc_request req = {.method = method, .url = url, .header_lines = lines, .n_header_lines = 3,
                                .body = "{}", .body_len = strcmp(method, "GET") == 0 ? 0 : 2,
                                .deadline_ms = httpc_now_ms() + timeout_ms, .callback = on_done, .ctx = s};
    CHECK_INT_EQ(httpc_send(c, &req), 0);
    drive(c, &s->calls);
    CHECK_INT_EQ(s->calls, 1);
}

static void test_framing(void)
{
    int port;
    struct script sc = {.listener = listen_loopback(&port), .n = 4,
                        .answers = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                                    ok_answer,
                                    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
                                    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"}};
    pthread_t thread;
    pthread_create(&thread, NULL, serve_script, &sc);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/path?q=1", port);
    struct httpc_client *c = httpc_client_new(&(struct httpc_config){.max_response_bytes = 8});
    struct seen s;
    exchange(c, "POST", url, 5000, &s);
    CHECK_INT_EQ(s.outcome, HTTPC_DONE);
    CHECK_STR_EQ(s.body, "abcde");
    /* What went out: our request line, the caller's lines (its Host kept, an empty Expect left out). */
    CHECK(strncmp(sc.first, "POST /path?q=1 HTTP/1.1\r\n", 25) == 0);
    CHECK(strstr(sc.first, "\r\nhost: 127.0.0.1:1\r\n") != NULL);
    CHECK(strstr(sc.first, "Host: 127.0.0.1:") == NULL);
    CHECK(strstr(sc.first, "Expect") == NULL);
    CHECK(strstr(sc.first, "\r\nContent-Length: 2\r\n\r\n{}") != NULL);
    CHECK(strstr(sc.first, "\r\nUser-Agent: usersvc/") != NULL);

    exchange(c, "GET", url, 5000, &s); /* Connection: close was honoured: a new connection */
    CHECK_INT_EQ(s.outcome, HTTPC_DONE);
    CHECK_STR_EQ(s.body, "ok");
    CHECK_INT_EQ(sc.connections, 2);

    exchange(c, "GET", url, 5000, &s);
    CHECK_INT_EQ(s.outcome, HTTPC_NETWORK);
    CHECK_STR_EQ(s.error, "malformed response: Content-Length is empty or given twice with different values");

    exchange(c, "GET", url, 5000, &s);
    CHECK_INT_EQ(s.outcome, HTTPC_TOO_LARGE);
    httpc_client_free(c);
    pthread_join(thread, NULL);
    close(sc.listener);
}

/* A kept-alive connection the server closes as the next request arrives: a GET is sent again on a new
 * connection, a POST ends with HTTPC_NETWORK (it may have been acted on; its caller decides). */
static void test_stale_connection(void)
{
    for (int post = 0; post < 2; post++) {
        int port;
        struct script sc = {.listener = listen_loopback(&port), .n = 3, .answers = {ok_answer, NULL, ok_answer}};
        pthread_t thread;
        pthread_create(&thread, NULL, serve_script, &sc);
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
        struct httpc_client *c = httpc_client_new(&(struct httpc_config){0});
        struct seen s;
        exchange(c, "GET", url, 5000, &s);
        CHECK_INT_EQ(s.outcome, HTTPC_DONE);
        exchange(c, post ? "POST" : "GET", url, 5000, &s);
        if (post) {
            CHECK_INT_EQ(s.outcome, HTTPC_NETWORK);
            CHECK_STR_EQ(s.error, "the connection closed without a response");
            exchange(c, "GET", url, 5000, &s); /* the script's last answer, on a new connection */
        }
        CHECK_INT_EQ(s.outcome, HTTPC_DONE);
        CHECK_STR_EQ(s.body, "ok");
        CHECK_INT_EQ(sc.connections, 2);
        httpc_client_free(c);
        pthread_join(thread, NULL);
        close(sc.listener);
    }
}

/* The server closes a kept-alive connection while it is idle; a POST queued afterwards, in the same turn
 * as the close is seen, goes out on a new connection: the close is read before idle connections are
 * reused, so the POST neither fails nor is sent on a connection known to be dead. */
static void test_closed_while_idle(void)
{
    int port;
    struct script sc = {.listener = listen_loopback(&port), .n = 2, .answers = {ok_answer, ok_answer},
                        .close_after = 1};
    pthread_t thread;
    pthread_create(&thread, NULL, serve_script, &sc);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    struct httpc_client *c = httpc_client_new(&(struct httpc_config){0});
    struct seen s;
    exchange(c, "GET", url, 5000, &s);
    CHECK_INT_EQ(s.outcome, HTTPC_DONE);
    struct pollfd p = {.fd = httpc_client_fd(c), .events = POLLIN};
    CHECK_INT_EQ(poll(&p, 1, 5000), 1); /* the close reached the idle connection */
    exchange(c, "POST", url, 5000, &s);
    CHECK_INT_EQ(s.outcome, HTTPC_DONE);
    CHECK_STR_EQ(s.body, "ok");
    CHECK_INT_EQ(sc.connections, 2);
    httpc_client_free(c);
    shutdown(sc.listener, SHUT_RDWR); /* ends a script still waiting in accept */
    pthread_join(thread, NULL);
    close(sc.listener);
}

/* A server that answers before it has read the whole request body and then reads no more. */
struct early {
    int listener, stop[2];
};

static void *serve_early(void *arg)
{
    struct early *e = arg;
    int fd = accept(e->listener, NULL, NULL);
    char buf[4096] = "";
    size_t have = 0;
    while (fd >= 0 && strstr(buf, "\r\n\r\n") == NULL && have < sizeof buf - 1) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
    }
    static const char answer[] = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!";
    if (fd >= 0 && write(fd, answer, sizeof answer - 1) > 0) {
        char c;
        if (read(e->stop[0], &c, 1) < 0) /* until the test is done; the body is never read */
            perror("read");
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* While the request body is still going out, the server answers and stops reading: the answer is the
 * request's (RFC 9112 section 9.5: a client watches for an early response while it sends), and the
 * connection is not kept (the rest of the body was never sent). Before, the client only tried to send,
 * woken by the unread answer at every turn, until the deadline. */
static void test_early_response(void)
{
    int port;
    struct early e = {.listener = -1};
    int small = 4096;
    e.listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(setsockopt(e.listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    CHECK(bind(e.listener, (struct sockaddr *)&a, sizeof a) == 0 && listen(e.listener, 4) == 0 &&
          getsockname(e.listener, (struct sockaddr *)&a, &len) == 0);
    port = ntohs(a.sin_port);
    CHECK(pipe(e.stop) == 0);
    pthread_t thread;
    pthread_create(&thread, NULL, serve_early, &e);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    size_t body_len = 16 * 1024 * 1024; /* more than the kernel buffers between the two ends hold */
    char *body = malloc(body_len);
    CHECK(body != NULL);
    memset(body, 'x', body_len);
    struct httpc_client *c = httpc_client_new(&(struct httpc_config){0});
    struct seen s = {0};
    struct httpc_request req = {.method = "POST", .url = url, .body = body, .body_len = body_len,
                                .deadline_ms = httpc_now_ms() + 3000, .callback = on_done, .ctx = &s};
    CHECK_INT_EQ(httpc_send(c, &req), 0);
    drive(c, &s.calls);
    CHECK_INT_EQ(s.calls, 1);
    CHECK_INT_EQ(s.outcome, HTTPC_DONE);
    CHECK_INT_EQ(s.status, 413);
    CHECK_STR_EQ(s.body, "big!");
    CHECK(write(e.stop[1], "x", 1) == 1);
    httpc_client_free(c);
    pthread_join(thread, NULL);
    close(e.listener);
    close(e.stop[0]);
    close(e.stop[1]);
    free(body);
}

/* No answer: the request's deadline ends it (curl no longer watches it once connected). */
static void test_deadline(void)
{
    int port, listener = listen_loopback(&port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    struct httpc_client *c = httpc_client_new(&(struct httpc_config){0});
    struct seen s;
    int64_t start = httpc_now_ms();
    exchange(c, "GET", url, 200, &s); /* the kernel accepts the connection; nobody reads */
    CHECK_INT_EQ(s.outcome, HTTPC_TIMEOUT);
    CHECK(httpc_now_ms() - start >= 200);
    httpc_client_free(c);
    close(listener);
}

static void test_no_proxy(void)
{
    const char *list = "localhost, .example.com,10.0.0.1,fd00:ec2::254";
#define NP(l, h) httpc_no_proxy_matches((l), (h), strlen(h))
    CHECK_INT_EQ(NP(list, "localhost"), 1);
    CHECK_INT_EQ(NP(list, "LOCALHOST"), 1);
    CHECK_INT_EQ(NP(list, "example.com"), 1);
    CHECK_INT_EQ(NP(list, "db.example.com"), 1);
    CHECK_INT_EQ(NP(list, "badexample.com"), 0);
    CHECK_INT_EQ(NP(list, "10.0.0.1"), 1);
    CHECK_INT_EQ(NP(list, "10.0.0.10"), 0);
    CHECK_INT_EQ(NP(list, "fd00:ec2::254"), 1);
    CHECK_INT_EQ(NP(list, "127.0.0.1"), 0); /* no implicit loopback bypass, as curl 7.88 */
    CHECK_INT_EQ(NP("*", "anything"), 1);
    CHECK_INT_EQ(NP("", "localhost"), 0);
    CHECK_INT_EQ(NP(NULL, "localhost"), 0);
#undef NP
}

int main(void)
{
    if (httpc_global_init() != 0)
        return 1;
    RUN(test_exchange);
    RUN(test_refused);
    RUN(test_framing);
    RUN(test_stale_connection);
    RUN(test_closed_while_idle);
    RUN(test_early_response);
    RUN(test_deadline);
    RUN(test_no_proxy);
    httpc_global_cleanup();
    return check_summary();
}
