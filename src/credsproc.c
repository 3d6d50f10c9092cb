/* credsproc: the credential_process provider (see credsproc.h). */
#include "credsproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "credsparse.h"
#include "httpc.h"

extern char **environ;

struct proc {
    struct creds_provider base;
    struct credsio *io;
    char *command, *name;
    long timeout_ms;     /* the whole run, output and exit */
    creds_callback *callback;
    void *ctx;
    pthread_t thread;
    int thread_running;  /* joinable; touched by the loop's thread and destroy only */
    atomic_int cancel;   /* destroy: the thread must not deliver */
    atomic_int child;    /* the running command's pid, 0 when none */
    /* the thread's result, read after it posted */
    struct credsparse_creds got;
    struct buf err;
    int ok;
};

/* Runs command with stdout to a pipe; fills out with what it printed. Returns 0 when it exited 0. */
static int run_command(struct proc *p, struct buf *out, struct buf *err)
{
    int pipefd[2] = {-1, -1};
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        buf_printf(err, "pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none); /* the service's threads block SIGINT/SIGTERM */
    posix_spawnattr_setsigdefault(&attr, &defaults);
    /* A group of its own, so a timeout kills whatever the command started too. */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    char *argv[] = {"sh", "-c", p->command, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        buf_printf(err, "cannot run /bin/sh: %s", strerror(rc));
        return -1;
    }
    atomic_store(&p->child, pid);
    int64_t deadline = httpc_now_ms() + p->timeout_ms;
    int failed = 0;
    char chunk[4096];
    for (;;) {
        int64_t left = deadline - httpc_now_ms();
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        if (left <= 0 || atomic_load(&p->cancel)) {
            buf_printf(err, "did not finish within %ld ms", p->timeout_ms);
            failed = 1;
            break;
        }
        int n = poll(&pfd, 1, left > 200 ? 200 : (int)left);
        if (n < 0 && errno != EINTR) {
            failed = 1;
            break;
        }
        if (n <= 0)
            continue;
        ssize_t got = read(pipefd[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (out->len + (size_t)got > CREDSPROC_MAX_OUTPUT) {
            buf_printf(err, "printed more than %d bytes", CREDSPROC_MAX_OUTPUT);
            failed = 1;
            break;
        }
        buf_append(out, chunk, (size_t)got);
    }
    explicit_bzero(chunk, sizeof chunk);
    close(pipefd[0]);
    /* EOF is not exit: a command that closed its stdout may run on. Wait for
     * it within the same deadline, never unbounded (the cache's one refresh
     * would stay in flight for good). */
    int status = 0, reaped = 0;
    while (!failed) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = 1;
            break;
        }
        if (w < 0 && errno != EINTR) {
            failed = 1;
            break;
        }
        if (httpc_now_ms() >= deadline || atomic_load(&p->cancel)) {
            buf_printf(err, "did not exit within %ld ms", p->timeout_ms);
            failed = 1;
            break;
        }
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (failed) {
        kill(-pid, SIGKILL); /* the command and anything it started */
        kill(pid, SIGKILL);
    }
    while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    atomic_store(&p->child, 0);
    if (failed)
        return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            buf_printf(err, "exited with status %d", WEXITSTATUS(status));
        else
            buf_printf(err, "killed by signal %d", WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* Hands the thread's result to the waiter. */
static void deliver_result(struct proc *p)
{
    struct creds *creds = NULL;
    if (p->ok)
        creds = creds_new(p->got.access_key_id, p->got.secret_access_key, p->got.session_token,
                          p->got.expiration != 0 ? p->got.expiration : CREDS_NO_EXPIRY, p->name);
    credsparse_creds_clean_up(&p->got);
    struct buf msg = BUF_INIT;
    if (creds == NULL)
        buf_concat(&msg, p->name, ": credential_process ", p->ok ? "answered empty keys" : buf_cstr(&p->err));
    creds_callback *cb = p->callback;
    void *cb_ctx = p->ctx;
    p->callback = NULL;
    cb(cb_ctx, creds, creds != NULL ? NULL : buf_cstr(&msg));
    buf_clean_up(&msg);
}

/* On the loop's thread: join the command's thread, then deliver. */
static void deliver(void *ctx, int stopping)
{
    struct proc *p = ctx;
    if (!pthread_equal(pthread_self(), p->thread)) { /* else the loop had stopped: destroy joins */
        pthread_join(p->thread, NULL);
        p->thread_running = 0;
    }
    deliver_result(p);
}

static void *thread_main(void *arg)
{
    struct proc *p = arg;
    struct buf out = BUF_INIT;
    buf_reset(&p->err);
    p->ok = run_command(p, &out, &p->err) == 0 &&
            credsparse_process_json(out.data != NULL ? out.data : "", out.len, &p->got, &p->err) == 0;
    if (out.data != NULL)
        explicit_bzero(out.data, out.cap);
    buf_clean_up(&out);
    if (!atomic_load(&p->cancel) && credsio_post(p->io, deliver, p) != 0) {
        /* Out of memory: deliver here rather than never (the cache's callback
         * takes any thread); the join is left to the next begin or destroy. */
        p->ok = 0;
        buf_reset(&p->err);
        buf_append_str(&p->err, "out of memory");
        deliver_result(p);
    }
    return NULL;
}

/* On the loop's thread: start the command's thread. */
static void begin(void *ctx, int stopping)
{
    struct proc *p = ctx;
    if (p->thread_running) { /* the last run delivered from its own thread (out of memory): it has ended */
        pthread_join(p->thread, NULL);
        p->thread_running = 0;
    }
    int rc = stopping ? -1 : pthread_create(&p->thread, NULL, thread_main, p);
    if (rc == 0) {
        p->thread_running = 1;
        return;
    }
    creds_callback *cb = p->callback;
    p->callback = NULL;
    cb(p->ctx, NULL, stopping ? "credential_process: the service is stopping" : "credential_process: no thread");
}

static int proc_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct proc *p = (struct proc *)self;
    if (p->callback != NULL)
        return -1;
    p->callback = callback;
    p->ctx = ctx;
    if (credsio_post(p->io, begin, p) != 0) {
        p->callback = NULL;
        return -1;
    }
    return 0;
}

static void proc_destroy(struct creds_provider *self)
{
    struct proc *p = (struct proc *)self;
    if (p->thread_running) {
        atomic_store(&p->cancel, 1);
        pid_t child = atomic_load(&p->child);
        if (child > 0) {
            kill(-child, SIGKILL);
            kill(child, SIGKILL);
        }
        pthread_join(p->thread, NULL);
    }
    credsparse_creds_clean_up(&p->got);
    buf_clean_up(&p->err);
    free(p->command);
    free(p->name);
    free(p);
}

struct creds_provider *credsproc_new(struct credsio *io, const char *command, const char *name, long timeout_ms)
{
    struct proc *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->io = io;
    p->timeout_ms = timeout_ms > 0 ? timeout_ms : CREDSPROC_TIMEOUT_MS;
    p->command = strdup(command);
    p->name = strdup(name);
    atomic_init(&p->cancel, 0);
    atomic_init(&p->child, 0);
    p->base = (struct creds_provider){.name = p->name, .get = proc_get, .destroy = proc_destroy};
    if (p->command == NULL || p->name == NULL) {
        proc_destroy(&p->base);
        return NULL;
    }
    return &p->base;
}
