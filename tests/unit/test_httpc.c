/* test_httpc: the HTTP client against a canned loopback server: status, body
 * and wanted headers (an interim 100 dropped), one callback per request and
 * never from inside send, a request whose deadline passed in the queue, a
 * refused connection, and shutdown completing what is pending. */
#include "httpc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
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

int main(void)
{
    if (httpc_global_init() != 0)
        return 1;
    RUN(test_exchange);
    RUN(test_refused);
    httpc_global_cleanup();
    return check_summary();
}
