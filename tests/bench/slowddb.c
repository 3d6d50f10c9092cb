/* slowddb: a DynamoDB-protocol responder for benchmarks, answering every request with a canned,
 * valid DynamoDB JSON body chosen by the X-Amz-Target header, after a fixed delay.
 *
 *   slowddb PORT DELAY_MS [ADDR]   serve on ADDR (default 127.0.0.1):PORT; DELAY_MS may be 0 or fractional
 *   slowddb --nginx-map            print the same bodies as nginx `map` blocks (the zero-cost nginx backend
 *                                  includes them, so both backends answer byte-for-byte the same JSON)
 *
 * One thread, epoll, HTTP/1.1 keep-alive (and pipelining), request head + Content-Length body, answers
 * `Expect: 100-continue`. Signatures and bodies are ignored. Holds any number of connections up to the fd
 * limit (raised to the hard limit at start).
 *
 * The delay is the same for every request, so deadlines are reached in arrival order: a FIFO queue is
 * already sorted by deadline. One timerfd armed (absolute CLOCK_MONOTONIC, ns) for the head of the queue
 * wakes epoll_wait; each wake-up answers every request whose deadline has passed.
 *
 * Build: cc -O2 -o slowddb slowddb.c (tests/bench/run.sh builds it into build/bench/)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define USER1                                                                                           \
    "{\"id\":{\"S\":\"0b7e4b2c-7a40-4d7e-9a3a-4f4a0b8f7c11\"},\"name\":{\"S\":\"Ada Lovelace\"},"        \
    "\"email\":{\"S\":\"ada@example.com\"},\"createdAt\":{\"S\":\"2026-01-01T00:00:00.000Z\"},"          \
    "\"updatedAt\":{\"S\":\"2026-01-01T00:00:00.000Z\"},\"version\":{\"N\":\"1\"}}"
#define USER2                                                                                           \
    "{\"id\":{\"S\":\"5c1d2e3f-4a5b-4c6d-8e7f-901234567890\"},\"name\":{\"S\":\"Grace Hopper\"},"        \
    "\"email\":{\"S\":\"grace@example.com\"},\"createdAt\":{\"S\":\"2026-01-02T00:00:00.000Z\"},"        \
    "\"updatedAt\":{\"S\":\"2026-01-02T00:00:00.000Z\"},\"version\":{\"N\":\"3\"}}"
#define USER3                                                                                           \
    "{\"id\":{\"S\":\"9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a\"},\"name\":{\"S\":\"Katherine Johnson\"},"   \
    "\"email\":{\"S\":\"katherine@example.com\"},\"createdAt\":{\"S\":\"2026-01-03T00:00:00.000Z\"},"    \
    "\"updatedAt\":{\"S\":\"2026-01-03T00:00:00.000Z\"},\"version\":{\"N\":\"2\"}}"
#define TABLE                                                                                           \
    "{\"TableName\":\"users\",\"TableStatus\":\"ACTIVE\","                                              \
    "\"TableArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/users\","                             \
    "\"TableId\":\"3f1c2b4a-0000-4000-8000-000000000001\",\"CreationDateTime\":1767225600,"             \
    "\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],"                                  \
    "\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},"                     \
    "{\"AttributeName\":\"email\",\"AttributeType\":\"S\"}],"                                           \
    "\"BillingModeSummary\":{\"BillingMode\":\"PAY_PER_REQUEST\"},"                                     \
    "\"ProvisionedThroughput\":{\"NumberOfDecreasesToday\":0,\"ReadCapacityUnits\":0,"                  \
    "\"WriteCapacityUnits\":0},\"ItemCount\":3,\"TableSizeBytes\":612,"                                 \
    "\"GlobalSecondaryIndexes\":[{\"IndexName\":\"email-index\","                                       \
    "\"KeySchema\":[{\"AttributeName\":\"email\",\"KeyType\":\"HASH\"}],"                               \
    "\"Projection\":{\"ProjectionType\":\"ALL\"},\"IndexStatus\":\"ACTIVE\","                           \
    "\"ProvisionedThroughput\":{\"NumberOfDecreasesToday\":0,\"ReadCapacityUnits\":0,"                  \
    "\"WriteCapacityUnits\":0},\"IndexSizeBytes\":612,\"ItemCount\":3,"                                 \
    "\"IndexArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/users/index/email-index\"}]}"

struct canned {
    const char *target; /* X-Amz-Target; NULL for the unknown-operation answer */
    int status;
    const char *body;
    char *wire; /* full response, built at start */
    size_t wire_len;
    uint32_t crc;
};

static struct canned canned[] = {
    {"DynamoDB_20120810.GetItem", 200, "{\"Item\":" USER1 "}", NULL, 0, 0},
    {"DynamoDB_20120810.Query", 200, "{\"Items\":[" USER1 "],\"Count\":1,\"ScannedCount\":1}", NULL, 0, 0},
    {"DynamoDB_20120810.Scan", 200,
     "{\"Items\":[" USER1 "," USER2 "," USER3 "],\"Count\":3,\"ScannedCount\":3}", NULL, 0, 0},
    {"DynamoDB_20120810.UpdateItem", 200, "{\"Attributes\":" USER1 "}", NULL, 0, 0},
    {"DynamoDB_20120810.PutItem", 200, "{}", NULL, 0, 0},
    {"DynamoDB_20120810.DeleteItem", 200, "{}", NULL, 0, 0},
    {"DynamoDB_20120810.TransactWriteItems", 200, "{}", NULL, 0, 0},
    {"DynamoDB_20120810.DescribeTable", 200, "{\"Table\":" TABLE "}", NULL, 0, 0},
    {"DynamoDB_20120810.CreateTable", 200, "{\"TableDescription\":" TABLE "}", NULL, 0, 0},
    {NULL, 400,
     "{\"__type\":\"com.amazon.coral.service#UnknownOperationException\","
     "\"message\":\"slowddb: unknown or missing X-Amz-Target\"}",
     NULL, 0, 0},
};
#define NCANNED (sizeof canned / sizeof canned[0])
#define UNKNOWN (&canned[NCANNED - 1])

static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";
static const char TOO_LARGE[] =
    "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char BAD_REQUEST[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

#define MAX_REQUEST (4u << 20) /* head + body */
#define MAX_HEAD (64u << 10)

static uint32_t crc32_of(const char *s, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)s[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* SLOWDDB_SCAN_ITEMS=N: Scan answers with N users (the three above in turn) instead of three, for a
 * full list page (tests/bench/callgrind.sh measures GET /users?limit=50). */
static void scan_items_from_env(void) {
    const char *env = getenv("SLOWDDB_SCAN_ITEMS");
    long n = env != NULL ? strtol(env, NULL, 10) : 0;
    if (n <= 0 || n > 1000) return;
    static const char *const users[] = {USER1, USER2, USER3};
    size_t cap = 64 + (size_t)n * (strlen(USER1) + strlen(USER2) + strlen(USER3));
    char *body = malloc(cap);
    if (body == NULL) exit(1);
    size_t at = (size_t)snprintf(body, cap, "{\"Items\":[");
    for (long i = 0; i < n; i++)
        at += (size_t)snprintf(body + at, cap - at, "%s%s", i ? "," : "", users[i % 3]);
    snprintf(body + at, cap - at, "],\"Count\":%ld,\"ScannedCount\":%ld}", n, n);
    for (size_t i = 0; i < NCANNED; i++)
        if (canned[i].target != NULL && strcmp(canned[i].target, "DynamoDB_20120810.Scan") == 0)
            canned[i].body = body;
}

static void build_canned(void) {
    scan_items_from_env();
    for (size_t i = 0; i < NCANNED; i++) {
        struct canned *c = &canned[i];
        size_t blen = strlen(c->body);
        c->crc = crc32_of(c->body, blen);
        char head[512];
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                          "Content-Length: %zu\r\nx-amz-crc32: %u\r\nx-amzn-RequestId: slowddb\r\n\r\n",
                          c->status, c->status == 200 ? "OK" : "Bad Request", blen, c->crc);
        c->wire = malloc((size_t)hl + blen);
        if (!c->wire) abort();
        memcpy(c->wire, head, (size_t)hl);
        memcpy(c->wire + hl, c->body, blen);
        c->wire_len = (size_t)hl + blen;
    }
}

/* nginx single-quoted strings may hold any character but ' and \ ; the bodies have neither.
 * $ddb_known is 0 for an unknown target, whose $ddb_body is the 400 answer's. */
static void print_nginx_map(void) {
    printf("# generated by slowddb --nginx-map: the canned DynamoDB answers by X-Amz-Target\n");
    printf("map $http_x_amz_target $ddb_known {\n    default 0;\n");
    for (size_t i = 0; i + 1 < NCANNED; i++) printf("    %s 1;\n", canned[i].target);
    printf("}\nmap $http_x_amz_target $ddb_body {\n    default '%s';\n", UNKNOWN->body);
    for (size_t i = 0; i + 1 < NCANNED; i++) printf("    %s '%s';\n", canned[i].target, canned[i].body);
    printf("}\nmap $http_x_amz_target $ddb_crc32 {\n    default '%u';\n", UNKNOWN->crc);
    for (size_t i = 0; i + 1 < NCANNED; i++) printf("    %s '%u';\n", canned[i].target, canned[i].crc);
    printf("}\n");
}

enum state { READING, WAITING, WRITING, CLOSED };

struct conn {
    int fd; /* -1 once closed while queued */
    enum state st;
    int close_after; /* Connection: close, HTTP/1.0, or an error answer */
    int sent_continue;
    char *rbuf;
    size_t rlen, rcap, scanned;
    const char *out; /* static response being written */
    size_t out_len, out_off;
    uint64_t deadline;
    struct conn *next; /* FIFO of WAITING connections, or the list of closed ones */
    int queued;
};

static int ep, lfd, tfd;
static uint64_t delay_ns;
static struct conn *qhead, *qtail;
static struct conn *graveyard; /* closed this epoll batch; freed after it, as later events may name them */
static char listen_tag, timer_tag;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void arm_timer(void) {
    struct itimerspec its = {0};
    if (qhead) {
        uint64_t d = qhead->deadline;
        if (d == 0) d = 1;
        its.it_value.tv_sec = (time_t)(d / 1000000000u);
        its.it_value.tv_nsec = (long)(d % 1000000000u);
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void set_events(struct conn *c, uint32_t ev) {
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Closes the socket now. The memory goes to the graveyard (freed after the current epoll batch), or,
 * for a connection still in the deadline queue, when the queue reaches it. */
static void conn_close(struct conn *c) {
    if (c->st == CLOSED) return;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->st = CLOSED;
    if (!c->queued) {
        c->next = graveyard;
        graveyard = c;
    }
}

static void bury_dead(void) {
    while (graveyard) {
        struct conn *c = graveyard;
        graveyard = c->next;
        free(c->rbuf);
        free(c);
    }
}

static int header_is(const char *line, size_t len, const char *name, const char **val, size_t *vlen) {
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0) return 0;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
    *val = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static void start_write(struct conn *c, const char *out, size_t len);
static void process_input(struct conn *c);

/* Parses one complete request from the buffer, if there is one, and answers or queues it.
 * Returns 1 when a request was taken, 0 when more bytes are needed, -1 when the connection was closed. */
static int take_request(struct conn *c) {
    size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
    char *hend = NULL;
    for (size_t i = from; i + 3 < c->rlen; i++)
        if (c->rbuf[i] == '\r' && c->rbuf[i + 1] == '\n' && c->rbuf[i + 2] == '\r' && c->rbuf[i + 3] == '\n') {
            hend = c->rbuf + i;
            break;
        }
    if (!hend) {
        c->scanned = c->rlen;
        if (c->rlen > MAX_HEAD) {
            c->close_after = 1;
            start_write(c, TOO_LARGE, sizeof TOO_LARGE - 1);
            return -1;
        }
        return 0;
    }
    size_t head_len = (size_t)(hend - c->rbuf) + 4;
    const char *p = c->rbuf, *end = hend;
    const char *eol = memchr(p, '\n', (size_t)(end - p) + 1);
    if (!eol) eol = end;
    /* request line: METHOD SP target SP HTTP/x.y */
    int http10 = (eol - p >= 9 && memcmp(eol - 9, "HTTP/1.0", 8) == 0);
    int keepalive10 = 0, close_hdr = 0, expect = 0, chunked = 0;
    size_t clen = 0;
    const struct canned *ans = UNKNOWN;
    p = eol + 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        size_t len = (size_t)(nl - p);
        if (len && p[len - 1] == '\r') len--;
        const char *v;
        size_t vl;
        if (header_is(p, len, "content-length", &v, &vl)) {
            clen = 0;
            for (size_t i = 0; i < vl && v[i] >= '0' && v[i] <= '9'; i++) clen = clen * 10 + (size_t)(v[i] - '0');
        } else if (header_is(p, len, "x-amz-target", &v, &vl)) {
            for (size_t i = 0; i + 1 < NCANNED; i++)
                if (strlen(canned[i].target) == vl && memcmp(canned[i].target, v, vl) == 0) ans = &canned[i];
        } else if (header_is(p, len, "connection", &v, &vl)) {
            if (vl == 5 && strncasecmp(v, "close", 5) == 0) close_hdr = 1;
            if (vl == 10 && strncasecmp(v, "keep-alive", 10) == 0) keepalive10 = 1;
        } else if (header_is(p, len, "expect", &v, &vl)) {
            if (vl == 12 && strncasecmp(v, "100-continue", 12) == 0) expect = 1;
        } else if (header_is(p, len, "transfer-encoding", &v, &vl)) {
            chunked = 1;
        }
        p = nl + 1;
    }
    if (chunked || clen > MAX_REQUEST - head_len) {
        c->close_after = 1;
        if (chunked)
            start_write(c, BAD_REQUEST, sizeof BAD_REQUEST - 1);
        else
            start_write(c, TOO_LARGE, sizeof TOO_LARGE - 1);
        return -1;
    }
    size_t total = head_len + clen;
    if (c->rlen < total) {
        if (expect && !c->sent_continue) {
            c->sent_continue = 1;
            (void)!send(c->fd, CONTINUE, sizeof CONTINUE - 1, MSG_NOSIGNAL); /* 25 bytes: fits */
        }
        if (c->rcap < total) {
            char *nb = realloc(c->rbuf, total);
            if (!nb) {
                conn_close(c);
                return -1;
            }
            c->rbuf = nb;
            c->rcap = total;
        }
        c->scanned = head_len - 1; /* the next scan starts at the head's final CRLFCRLF */
        return 0;
    }
    /* consumed: keep any pipelined bytes */
    memmove(c->rbuf, c->rbuf + total, c->rlen - total);
    c->rlen -= total;
    c->scanned = 0;
    c->sent_continue = 0;
    c->close_after = close_hdr || (http10 && !keepalive10);
    c->out = ans->wire;
    c->out_len = ans->wire_len;
    if (delay_ns == 0) {
        start_write(c, c->out, c->out_len);
        return 1;
    }
    c->st = WAITING;
    c->deadline = now_ns() + delay_ns;
    c->next = NULL;
    c->queued = 1;
    set_events(c, 0); /* only HUP/ERR until the answer is due */
    if (qtail)
        qtail->next = c;
    else
        qhead = c;
    qtail = c;
    if (qhead == c) arm_timer();
    return 1;
}

/* Writes what it can; on completion goes back to reading (and to any pipelined request). */
static void start_write(struct conn *c, const char *out, size_t len) {
    c->st = WRITING;
    c->out = out;
    c->out_len = len;
    c->out_off = 0;
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(c, EPOLLOUT);
            return;
        }
        conn_close(c);
        return;
    }
    if (c->close_after) {
        conn_close(c);
        return;
    }
    c->st = READING;
    if (c->rlen) {
        process_input(c);
        return;
    }
    set_events(c, EPOLLIN | EPOLLRDHUP);
}

static void process_input(struct conn *c) {
    /* one request at a time: the next is taken once this one's answer is written */
    int r = take_request(c);
    if (r == 0) set_events(c, EPOLLIN | EPOLLRDHUP);
}

static void on_readable(struct conn *c) {
    for (;;) {
        if (c->rlen == c->rcap) {
            size_t ncap = c->rcap ? c->rcap * 2 : 4096;
            char *nb = realloc(c->rbuf, ncap);
            if (!nb) {
                conn_close(c);
                return;
            }
            c->rbuf = nb;
            c->rcap = ncap;
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n > 0) {
            c->rlen += (size_t)n;
            if (c->rlen < c->rcap) break; /* drained */
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        conn_close(c); /* EOF or error */
        return;
    }
    int r = take_request(c);
    (void)r;
}

static void on_timer(void) {
    uint64_t ticks;
    (void)!read(tfd, &ticks, sizeof ticks);
    uint64_t now = now_ns();
    while (qhead && qhead->deadline <= now) {
        struct conn *c = qhead;
        qhead = c->next;
        if (!qhead) qtail = NULL;
        c->next = NULL;
        c->queued = 0;
        if (c->st == CLOSED) {
            c->next = graveyard;
            graveyard = c;
            continue;
        }
        start_write(c, c->out, c->out_len);
    }
    arm_timer();
}

static void on_accept(void) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) perror("slowddb: accept");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->st = READING;
        struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
            close(fd);
            free(c);
        }
    }
}

int main(int argc, char **argv) {
    build_canned();
    if (argc == 2 && strcmp(argv[1], "--nginx-map") == 0) {
        print_nginx_map();
        return 0;
    }
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: slowddb PORT DELAY_MS [ADDR]\n       slowddb --nginx-map\n");
        return 2;
    }
    int port = atoi(argv[1]);
    double delay_ms = strtod(argv[2], NULL);
    const char *addr = argc == 4 ? argv[3] : "127.0.0.1";
    if (port <= 0 || port > 65535 || delay_ms < 0) {
        fprintf(stderr, "slowddb: bad port or delay\n");
        return 2;
    }
    delay_ns = (uint64_t)(delay_ms * 1e6 + 0.5);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "slowddb: bad address %s\n", addr);
        return 2;
    }
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 65535) < 0) {
        perror("slowddb: bind/listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &listen_tag};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
    e.data.ptr = &timer_tag;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e);
    fprintf(stderr, "slowddb: listening on %s:%d, delay %.3f ms\n", addr, port, delay_ms);

    struct epoll_event evs[1024];
    for (;;) {
        int n = epoll_wait(ep, evs, 1024, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("slowddb: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &listen_tag) {
                on_accept();
                continue;
            }
            if (tag == &timer_tag) {
                on_timer();
                continue;
            }
            struct conn *c = tag;
            uint32_t ev = evs[i].events;
            if (c->st == CLOSED) continue;
            if (c->st == WAITING) {
                /* peer hung up while its answer was pending */
                if (ev & (EPOLLHUP | EPOLLERR)) conn_close(c);
                continue;
            }
            if (c->st == WRITING) {
                if (ev & (EPOLLHUP | EPOLLERR)) {
                    conn_close(c);
                    continue;
                }
                if (ev & EPOLLOUT) start_write(c, c->out + c->out_off, c->out_len - c->out_off);
                continue;
            }
            if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) on_readable(c);
        }
        bury_dead();
    }
}
