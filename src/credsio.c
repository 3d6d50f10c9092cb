/* credsio: the credential providers' loop (see credsio.h). */
#include "credsio.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

#define TICK_MS 1000 /* how often the loop asks the cache whether a background refresh is due */

struct task {
    struct task *next;
    credsio_task *fn;
    void *ctx;
};

struct credsio {
    struct httpc_client *http; /* NULL once stopped */
    struct creds_cache *cache;
    int epoll_fd, wake_fd;
    int64_t next_tick_ms;

    pthread_mutex_t lock; /* guards what follows */
    struct task *tasks, **tasks_tail;
    int stopped;
};

struct credsio *credsio_new(const struct httpc_config *http)
{
    struct credsio *io = calloc(1, sizeof *io);
    if (io == NULL)
        return NULL;
    io->epoll_fd = io->wake_fd = -1;
    io->tasks_tail = &io->tasks;
    if (pthread_mutex_init(&io->lock, NULL) != 0) {
        free(io);
        return NULL;
    }
    io->http = httpc_client_new(http);
    io->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    io->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (io->http == NULL || io->epoll_fd < 0 || io->wake_fd < 0)
        goto fail;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    if (epoll_ctl(io->epoll_fd, EPOLL_CTL_ADD, io->wake_fd, &ev) != 0)
        goto fail;
    ev.data.u32 = 1;
    if (epoll_ctl(io->epoll_fd, EPOLL_CTL_ADD, httpc_client_fd(io->http), &ev) != 0)
        goto fail;
    return io;
fail:
    credsio_free(io);
    return NULL;
}

void credsio_set_cache(struct credsio *io, struct creds_cache *cache)
{
    io->cache = cache;
    io->next_tick_ms = httpc_now_ms() + TICK_MS;
}

int credsio_post(struct credsio *io, credsio_task *fn, void *ctx)
{
    struct task *t = malloc(sizeof *t);
    if (t == NULL)
        return -1;
    *t = (struct task){NULL, fn, ctx};
    pthread_mutex_lock(&io->lock);
    int stopped = io->stopped;
    if (!stopped) {
        *io->tasks_tail = t;
        io->tasks_tail = &t->next;
    }
    pthread_mutex_unlock(&io->lock);
    if (stopped) {
        free(t);
        fn(ctx, 1);
        return 0;
    }
    uint64_t one = 1;
    if (write(io->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_debug("credentials loop eventfd: %s", strerror(errno));
    /* t is in the queue now: the loop runs and frees it (cppcheck does not follow tasks_tail). */
    // cppcheck-suppress memleak
    return 0;
}

struct httpc_client *credsio_http(struct credsio *io)
{
    return io->http;
}

int credsio_fd(const struct credsio *io)
{
    return io->epoll_fd;
}

int credsio_timeout_ms(const struct credsio *io)
{
    if (io->http == NULL)
        return -1;
    int wait = httpc_client_timeout_ms(io->http);
    if (io->cache != NULL) {
        int64_t until = io->next_tick_ms - httpc_now_ms();
        int tick = until <= 0 ? 0 : until > TICK_MS ? TICK_MS : (int)until;
        if (wait < 0 || tick < wait)
            wait = tick;
    }
    return wait;
}

/* Runs what other threads posted (the list is taken whole, so a task that posts runs next turn). */
static void run_tasks(struct credsio *io, int stopping)
{
    pthread_mutex_lock(&io->lock);
    struct task *t = io->tasks;
    io->tasks = NULL;
    io->tasks_tail = &io->tasks;
    pthread_mutex_unlock(&io->lock);
    while (t != NULL) {
        struct task *next = t->next;
        t->fn(t->ctx, stopping);
        free(t);
        t = next;
    }
}

void credsio_run(struct credsio *io, int fd_ready)
{
    if (io->http == NULL)
        return;
    if (fd_ready) {
        uint64_t count;
        if (read(io->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
            log_debug("credentials loop eventfd: %s", strerror(errno));
    }
    run_tasks(io, 0);
    if (io->cache != NULL && httpc_now_ms() >= io->next_tick_ms) {
        io->next_tick_ms = httpc_now_ms() + TICK_MS;
        creds_cache_refresh_if_due(io->cache); /* may post a task: it runs below or next turn */
        run_tasks(io, 0);
    }
    httpc_client_run(io->http, fd_ready);
}

int credsio_wait(struct credsio *io, const atomic_int *done, long timeout_ms)
{
    int64_t until = httpc_now_ms() + timeout_ms;
    while (!atomic_load(done)) {
        int64_t left = until - httpc_now_ms();
        if (left <= 0)
            return -1;
        int wait = credsio_timeout_ms(io);
        if (wait < 0 || wait > left)
            wait = (int)left;
        struct pollfd pfd = {.fd = io->epoll_fd, .events = POLLIN};
        int ready = poll(&pfd, 1, wait) > 0;
        credsio_run(io, ready);
    }
    return 0;
}

void credsio_stop(struct credsio *io)
{
    if (io == NULL || io->http == NULL)
        return;
    pthread_mutex_lock(&io->lock);
    io->stopped = 1;
    pthread_mutex_unlock(&io->lock);
    run_tasks(io, 1);
    struct httpc_client *http = io->http;
    io->http = NULL;
    httpc_client_free(http); /* callbacks see HTTPC_SHUTDOWN; what they post runs at once */
}

void credsio_free(struct credsio *io)
{
    if (io == NULL)
        return;
    credsio_stop(io);
    if (io->epoll_fd >= 0)
        close(io->epoll_fd);
    if (io->wake_fd >= 0)
        close(io->wake_fd);
    pthread_mutex_destroy(&io->lock);
    free(io);
}
