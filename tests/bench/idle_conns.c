/* idle_conns: holds COUNT idle keep-alive HTTP connections open against a server on 127.0.0.1 and
 * checks it keeps serving.
 *
 *   idle_conns PORT COUNT PID [HOLD_MS] [PATH]
 *
 * 1. opens COUNT connections (non-blocking, 500 at a time) and sends one `GET PATH` (default /healthz,
 *    HTTP/1.1 keep-alive) on each, reading each answer; every one must be 2xx;
 * 2. keeps all of them open for HOLD_MS (default 2000);
 * 3. then checks: no held connection was closed by the server; 5 new connections each get a 2xx;
 *    100 of the held connections, spread over the set, each get a 2xx for a second request;
 * 4. reads VmHWM and VmRSS of PID (the server) from /proc.
 * Prints one line `IDLE_RESULT {json}`; exit 0 when every check passed, 1 otherwise, 2 on bad usage.
 * Bounded in time: every phase has a deadline (60 s for the opening, 10 s for each check).
 * Raises its own RLIMIT_NOFILE to the hard limit; run it from a shell with `ulimit -n` above COUNT.
 *
 * Build: cc -O2 -o idle_conns idle_conns.c (tests/bench/run.sh builds it into build/bench/)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 500
#define RBUF 4096

struct c {
    int fd;
    int connected, sent, done, ok;
    size_t rlen;
    char rbuf[RBUF];
};

static struct sockaddr_in target;
static char request[512];
static size_t request_len;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 1 when rbuf holds a whole response (head + Content-Length body), 0 when not yet, -1 when bad. */
static int response_complete(struct c *x) {
    char *end = memmem(x->rbuf, x->rlen, "\r\n\r\n", 4);
    if (!end) return x->rlen >= RBUF ? -1 : 0;
    size_t head = (size_t)(end - x->rbuf) + 4;
    size_t clen = 0;
    for (char *p = x->rbuf; p < end; p++) {
        if (*p == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
            clen = strtoul(p + 16, NULL, 10);
            break;
        }
    }
    if (head + clen > RBUF) return -1;
    if (x->rlen < head + clen) return 0;
    x->ok = x->rlen >= 12 && memcmp(x->rbuf, "HTTP/1.", 7) == 0 && x->rbuf[9] == '2';
    x->rlen -= head + clen;
    memmove(x->rbuf, x->rbuf + head + clen, x->rlen);
    return 1;
}

static int open_conn(struct c *x) {
    memset(x, 0, sizeof *x);
    x->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (x->fd < 0) return -1;
    if (connect(x->fd, (struct sockaddr *)&target, sizeof target) == 0)
        x->connected = 1;
    else if (errno != EINPROGRESS) {
        close(x->fd);
        x->fd = -1;
        return -1;
    }
    return 0;
}

/* Drives the given connections through send + read of one request each, until all are done or the
 * deadline passes. Returns how many got a 2xx. */
static int exchange(struct c **set, int n, double deadline_ms) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int pending = 0;
    for (int i = 0; i < n; i++) {
        struct c *x = set[i];
        x->done = x->ok = 0;
        x->sent = 0;
        if (x->fd < 0) {
            x->done = 1;
            continue;
        }
        struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = x};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &e) < 0) {
            x->done = 1;
            continue;
        }
        pending++;
    }
    struct epoll_event evs[CHUNK];
    while (pending > 0) {
        int wait = (int)(deadline_ms - now_ms());
        if (wait <= 0) break;
        int k = epoll_wait(ep, evs, CHUNK, wait);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        for (int i = 0; i < k; i++) {
            struct c *x = evs[i].data.ptr;
            if (x->done) continue;
            if (!x->sent && (evs[i].events & EPOLLOUT)) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err || send(x->fd, request, request_len, MSG_NOSIGNAL) != (ssize_t)request_len) {
                    x->done = 1;
                    pending--;
                    continue;
                }
                x->connected = x->sent = 1;
                struct epoll_event e = {.events = EPOLLIN, .data.ptr = x};
                epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &e);
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = recv(x->fd, x->rbuf + x->rlen, RBUF - x->rlen, 0);
                int st = r > 0 ? (x->rlen += (size_t)r, response_complete(x)) : -1;
                if (st != 0) {
                    x->done = 1;
                    pending--;
                    epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                }
            }
        }
    }
    close(ep);
    int ok = 0;
    for (int i = 0; i < n; i++) ok += set[i]->done && set[i]->ok;
    return ok;
}

static long status_kib(int pid, const char *key) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') v = strtol(line + kl + 1, NULL, 10);
    fclose(f);
    return v;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: idle_conns PORT COUNT PID [HOLD_MS] [PATH]\n");
        return 2;
    }
    int port = atoi(argv[1]), count = atoi(argv[2]), pid = atoi(argv[3]);
    int hold_ms = argc > 4 ? atoi(argv[4]) : 2000;
    const char *path = argc > 5 ? argv[5] : "/healthz";
    if (port <= 0 || count <= 0 || pid <= 0) {
        fprintf(stderr, "idle_conns: bad arguments\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)count + 64)
            fprintf(stderr, "idle_conns: open-file limit %llu is below %d connections\n",
                    (unsigned long long)rl.rlim_cur, count);
    }
    target.sin_family = AF_INET;
    target.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: keep-alive\r\n\r\n", path,
                                   port);

    struct c *conns = calloc((size_t)count, sizeof *conns);
    struct c **set = calloc((size_t)count, sizeof *set);
    if (!conns || !set) return 1;
    double t0 = now_ms(), deadline = t0 + 60000;
    int opened = 0, first_ok = 0, socket_errors = 0;
    for (int base = 0; base < count && now_ms() < deadline; base += CHUNK) {
        int n = count - base < CHUNK ? count - base : CHUNK;
        for (int i = 0; i < n; i++) {
            if (open_conn(&conns[base + i]) != 0) {
                socket_errors++;
                conns[base + i].fd = -1;
            }
            set[i] = &conns[base + i];
        }
        first_ok += exchange(set, n, deadline);
        for (int i = 0; i < n; i++) opened += set[i]->connected;
    }
    double open_ms = now_ms() - t0;
    long hwm_open = status_kib(pid, "VmHWM");

    /* hold */
    struct timespec hold = {hold_ms / 1000, (long)(hold_ms % 1000) * 1000000L};
    nanosleep(&hold, NULL);

    /* closed by the server while idle? (readable now means EOF or unexpected bytes) */
    int closed = 0;
    struct pollfd *pf = calloc((size_t)count, sizeof *pf);
    for (int i = 0; i < count; i++) {
        pf[i].fd = conns[i].fd;
        pf[i].events = POLLIN | POLLRDHUP;
    }
    if (poll(pf, (nfds_t)count, 0) > 0)
        for (int i = 0; i < count; i++)
            if (pf[i].fd >= 0 && pf[i].revents) closed++;
    free(pf);

    /* new connections still served */
    struct c fresh[5];
    struct c *fset[5];
    for (int i = 0; i < 5; i++) {
        if (open_conn(&fresh[i]) != 0) fresh[i].fd = -1;
        fset[i] = &fresh[i];
    }
    int fresh_ok = exchange(fset, 5, now_ms() + 10000);
    for (int i = 0; i < 5; i++)
        if (fresh[i].fd >= 0) close(fresh[i].fd);

    /* held connections still served */
    int nre = count < 100 ? count : 100, re_n = 0;
    for (int i = 0; i < nre; i++) {
        struct c *x = &conns[(long)i * count / nre];
        if (x->fd >= 0) set[re_n++] = x;
    }
    int reused_ok = exchange(set, re_n, now_ms() + 10000);

    long hwm = status_kib(pid, "VmHWM"), rss = status_kib(pid, "VmRSS");
    for (int i = 0; i < count; i++)
        if (conns[i].fd >= 0) close(conns[i].fd);

    int pass = first_ok == count && closed == 0 && fresh_ok == 5 && reused_ok == nre && hwm >= 0;
    printf("IDLE_RESULT {\"count\":%d,\"opened\":%d,\"first_ok\":%d,\"socket_errors\":%d,"
           "\"closed_by_server\":%d,\"fresh_ok\":%d,\"fresh_tried\":5,\"reused_ok\":%d,\"reused_tried\":%d,"
           "\"open_ms\":%.1f,\"hold_ms\":%d,\"vmhwm_after_open_kib\":%ld,\"vmhwm_kib\":%ld,\"vmrss_kib\":%ld,"
           "\"pass\":%s}\n",
           count, opened, first_ok, socket_errors, closed, fresh_ok, reused_ok, nre, open_ms, hold_ms, hwm_open,
           hwm, rss, pass ? "true" : "false");
    return pass ? 0 : 1;
}
