#include "healthcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *healthcheck_target(const char *host)
{
    if (strcmp(host, "0.0.0.0") == 0)
        return "127.0.0.1";
    if (strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0)
        return "::1";
    return host;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline. Returns 1 when ready, 0 on timeout, -1 on error. */
static int wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

int healthcheck_run(const char *host, int port, int timeout_ms, struct buf *why)
{
    const char *target = healthcheck_target(host);
    long long deadline = now_ms() + timeout_ms;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *addr = NULL;
    char service[8], request[160], answer[64] = "";
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(target, service, &hints, &addr);
    if (gai != 0) {
        buf_printf(why, "cannot resolve %s: %s", target, gai_strerror(gai));
        return -1;
    }
    int rc = -1;
    size_t got = 0;
    char text[96];
    int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        buf_printf(why, "cannot create a socket: %s", strerror_r(errno, text, sizeof text));
        goto out;
    }
    if (connect(fd, addr->ai_addr, addr->ai_addrlen) != 0 && errno != EINPROGRESS) {
        buf_printf(why, "cannot connect to %s port %d: %s", target, port, strerror_r(errno, text, sizeof text));
        goto out;
    }
    int soerr = 0;
    socklen_t soerr_len = sizeof soerr;
    if (wait_for(fd, POLLOUT, deadline) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) != 0 ||
        soerr != 0) {
        buf_printf(why, "cannot connect to %s port %d: %s", target, port,
                   soerr != 0 ? strerror_r(soerr, text, sizeof text) : "timed out");
        goto out;
    }
    int len = snprintf(request, sizeof request,
                       "GET /healthz HTTP/1.1\r\nHost: %s%s%s:%d\r\nConnection: close\r\n\r\n",
                       strchr(target, ':') ? "[" : "", target, strchr(target, ':') ? "]" : "", port);
    for (int sent = 0; sent < len;) {
        ssize_t n = send(fd, request + sent, (size_t)(len - sent), MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN && wait_for(fd, POLLOUT, deadline) == 1)
            continue;
        if (n <= 0) {
            buf_printf(why, "cannot send to %s port %d", target, port);
            goto out;
        }
        sent += (int)n;
    }
    /* The status line is all we need: "HTTP/1.1 200 OK\r\n". */
    while (got < sizeof answer - 1 && memchr(answer, '\n', got) == NULL) {
        ssize_t n = recv(fd, answer + got, sizeof answer - 1 - got, 0);
        if (n < 0 && errno == EAGAIN && wait_for(fd, POLLIN, deadline) == 1)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        answer[got] = '\0';
    }
    if (got == 0) {
        buf_printf(why, "no answer from %s port %d within %d ms", target, port, timeout_ms);
        goto out;
    }
    if (strncmp(answer, "HTTP/1.", 7) == 0 && strncmp(answer + 8, " 200 ", 5) == 0) {
        rc = 0;
        goto out;
    }
    answer[strcspn(answer, "\r\n")] = '\0';
    buf_printf(why, "GET /healthz on %s port %d answered '%.40s'", target, port, answer);
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(addr);
    return rc;
}
