/* startup_time: how long a server takes from exec to its first 200 on a readiness path.
 *
 *   startup_time PORT TIMEOUT_MS PATH -- PROGRAM [ARGS...]
 *
 * Takes the clock, forks and execs PROGRAM (with this process's environment, so PORT etc. are set by
 * the caller), then polls 127.0.0.1:PORT: connect (refused: retry after 200 us), send
 * `GET PATH HTTP/1.1` with Connection: close, read the status line; anything but 200 is retried after
 * 200 us. Stops at the first 200 or at TIMEOUT_MS, then ends the server (SIGTERM, SIGKILL after 2 s)
 * and reaps it. Prints `STARTUP_RESULT {"ready_us":N,"attempts":N,"last_status":N,"ok":true|false}`.
 * Exit 0 when ready within the timeout.
 *
 * Build: cc -O2 -o startup_time startup_time.c (tests/bench/run.sh builds it into build/bench/)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void pause_us(long us) {
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

/* The status code of one GET, 0 when the connection was refused or broke. */
static int probe(const struct sockaddr_in *sa, const char *req, size_t req_len, double deadline) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int status = 0;
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0 &&
        send(fd, req, req_len, MSG_NOSIGNAL) == (ssize_t)req_len) {
        char buf[64];
        size_t got = 0;
        while (got < 12) {
            struct pollfd p = {fd, POLLIN, 0};
            int wait = (int)((deadline - now_us()) / 1000);
            if (wait <= 0 || poll(&p, 1, wait) <= 0) break;
            ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got >= 12 && memcmp(buf, "HTTP/1.", 7) == 0) status = atoi(buf + 9);
    }
    close(fd);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: startup_time PORT TIMEOUT_MS PATH -- PROGRAM [ARGS...]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long timeout_ms = atol(argv[2]);
    const char *path = argv[3];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    char req[512];
    size_t req_len = (size_t)snprintf(req, sizeof req,
                                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path, port);

    double t0 = now_us(), deadline = t0 + (double)timeout_ms * 1000;
    pid_t pid = fork();
    if (pid < 0) {
        perror("startup_time: fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[5], argv + 5);
        perror("startup_time: exec");
        _exit(127);
    }
    int attempts = 0, status = 0, exited = 0;
    double ready = -1;
    while (now_us() < deadline) {
        attempts++;
        status = probe(&sa, req, req_len, deadline);
        if (status == 200) {
            ready = now_us() - t0;
            break;
        }
        int ws;
        if (waitpid(pid, &ws, WNOHANG) == pid) {
            exited = 1;
            fprintf(stderr, "startup_time: %s exited before it was ready (status %d)\n", argv[5], ws);
            break;
        }
        pause_us(200);
    }
    if (!exited) {
        kill(pid, SIGTERM);
        double kill_deadline = now_us() + 2e6;
        int ws;
        while (waitpid(pid, &ws, WNOHANG) == 0) {
            if (now_us() > kill_deadline) {
                kill(pid, SIGKILL);
                waitpid(pid, &ws, 0);
                break;
            }
            pause_us(1000);
        }
    }
    printf("STARTUP_RESULT {\"ready_us\":%.0f,\"attempts\":%d,\"last_status\":%d,\"ok\":%s}\n", ready, attempts,
           status, ready >= 0 ? "true" : "false");
    return ready >= 0 ? 0 : 1;
}
