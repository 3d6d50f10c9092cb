/* test_jwks: the shared key store against a loopback JWKS endpoint (a thread
 * here), fetched on a credentials loop this test drives: the first fetch, an
 * unknown kid fetching at most once per min_refresh_s, a failed or unusable
 * answer keeping the keys there were, and snapshots re-read only after a change. */
#include "jwks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "jwt_sign.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char answer[16384];
static atomic_int requests;
static int listener;

static void set_answer(int status, const char *body)
{
    pthread_mutex_lock(&lock);
    snprintf(answer, sizeof answer,
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nCache-Control: max-age=600\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             status, strlen(body), body);
    pthread_mutex_unlock(&lock);
}

static void *serve(void *arg)
{
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        char buf[4096];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL)
                break;
        }
        atomic_fetch_add(&requests, 1);
        pthread_mutex_lock(&lock);
        ssize_t w = write(fd, answer, strlen(answer));
        pthread_mutex_unlock(&lock);
        (void)w;
        close(fd);
    }
}

/* Drives the loop for up to ms, or until the request count passes `until`. */
static void drive(struct credsio *io, long ms, int until)
{
    int64_t end = httpc_now_ms() + ms;
    while (httpc_now_ms() < end && atomic_load(&requests) <= until) {
        struct pollfd p = {.fd = credsio_fd(io), .events = POLLIN};
        int t = credsio_timeout_ms(io);
        poll(&p, 1, t < 0 || t > 20 ? 20 : t);
        credsio_run(io, p.revents != 0);
    }
    for (int i = 0; i < 10; i++) { /* the answer's callback after the request */
        struct pollfd p = {.fd = credsio_fd(io), .events = POLLIN};
        poll(&p, 1, 20);
        credsio_run(io, p.revents != 0);
    }
}

/* A worker: snapshots, reads the keys, asks for fetches, until told to stop (for ThreadSanitizer's eyes). */
struct reader {
    struct jwks_store *store;
    atomic_int *stop;
    long snapshots, changes;
};

static void *read_keys(void *arg)
{
    struct reader *r = arg;
    uint64_t gen = 0;
    struct jwk_set *held = NULL;
    while (!atomic_load(r->stop)) {
        uint64_t before = gen;
        held = jwks_store_snapshot(r->store, held, &gen);
        r->changes += gen != before;
        r->snapshots += held != NULL && (jwk_set_has_kid(held, "k1") || jwk_set_has_kid(held, "k2"));
        jwks_store_poll(r->store);
        jwks_store_kid_missing(r->store);
    }
    jwk_set_unref(held);
    return NULL;
}

static void test_store(void)
{
    EVP_PKEY *k1 = ts_rsa(2048), *k2 = ts_ec("P-256");
    char *j1 = ts_jwk(k1, "k1", ""), *j2 = ts_jwk(k2, "k2", ""), doc[16384];
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", j1);
    set_answer(200, doc);

    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(bind(listener, (struct sockaddr *)&a, sizeof a) == 0 && listen(listener, 16) == 0 &&
          getsockname(listener, (struct sockaddr *)&a, &alen) == 0);
    pthread_t t;
    pthread_create(&t, NULL, serve, NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/jwks.json?tenant=x", ntohs(a.sin_port));

    struct credsio *io = credsio_new(&(struct httpc_config){.max_in_flight = 2});
    struct buf err = BUF_INIT;
    struct jwk_set *secret = jwk_set_from_secret((const unsigned char *)"0123456789abcdef0123456789abcdef", 32, &err);
    struct jwks_store *store = jwks_store_new(&(struct jwks_store_options){.static_keys = secret, .url = url, .io = io,
                                                                          .min_refresh_s = 1});
    jwk_set_unref(secret);
    CHECK(store != NULL);
    uint64_t gen = 0;
    struct jwk_set *held = jwks_store_snapshot(store, NULL, &gen);
    CHECK(held != NULL && held->n == 1); /* the static secret alone, before any fetch */

    CHECK_INT_EQ(jwks_store_initial_fetch(store, 5000), 0);
    CHECK_INT_EQ(atomic_load(&requests), 1);
    uint64_t before = gen;
    held = jwks_store_snapshot(store, held, &gen);
    CHECK(gen != before);
    CHECK(held->n == 2 && jwk_set_has_kid(held, "k1")); /* static + fetched */
    struct jwk_set *same = jwks_store_snapshot(store, held, &gen);
    CHECK(same == held); /* nothing changed: the same reference back */

    /* An unknown kid right after a fetch: no new fetch within min_refresh_s. */
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s]}", j1, j2);
    set_answer(200, doc);
    jwks_store_kid_missing(store);
    drive(io, 300, 1);
    CHECK_INT_EQ(atomic_load(&requests), 1);
    usleep(1100 * 1000);
    jwks_store_kid_missing(store);
    jwks_store_kid_missing(store); /* one fetch in flight, however many ask */
    drive(io, 3000, 1);
    CHECK_INT_EQ(atomic_load(&requests), 2);
    held = jwks_store_snapshot(store, held, &gen);
    CHECK(held->n == 3 && jwk_set_has_kid(held, "k2"));

    /* A failed fetch and an unusable document keep the keys. */
    set_answer(500, "{}");
    usleep(1100 * 1000);
    jwks_store_kid_missing(store);
    drive(io, 3000, 2);
    CHECK_INT_EQ(atomic_load(&requests), 3);
    set_answer(200, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
    usleep(1100 * 1000);
    jwks_store_kid_missing(store);
    drive(io, 3000, 3);
    CHECK_INT_EQ(atomic_load(&requests), 4);
    before = gen;
    held = jwks_store_snapshot(store, held, &gen);
    CHECK(gen == before && held->n == 3);

    /* The key set rotates: k1 goes. */
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", j2);
    set_answer(200, doc);
    usleep(1100 * 1000);
    jwks_store_kid_missing(store);
    drive(io, 3000, 4);
    held = jwks_store_snapshot(store, held, &gen);
    CHECK(held->n == 2 && !jwk_set_has_kid(held, "k1") && jwk_set_has_kid(held, "k2"));


    /* Workers read and ask while the loop publishes new sets (1 s apart: min_refresh_s). */
    atomic_int stop = 0;
    struct reader readers[2] = {{.store = store, .stop = &stop}, {.store = store, .stop = &stop}};
    pthread_t rt[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&rt[i], NULL, read_keys, &readers[i]);
    int fetched = atomic_load(&requests);
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s]}", j1, j2);
    set_answer(200, doc);
    drive(io, 3000, fetched);
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", j1);
    set_answer(200, doc);
    drive(io, 3000, fetched + 1);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(rt[i], NULL);
        CHECK(readers[i].snapshots > 0 && readers[i].changes >= 1);
    }
    CHECK_INT_EQ(atomic_load(&requests), fetched + 2);
    held = jwks_store_snapshot(store, held, &gen);
    CHECK(held->n == 2 && jwk_set_has_kid(held, "k1") && !jwk_set_has_kid(held, "k2"));

    jwk_set_unref(held);
    credsio_stop(io);
    jwks_store_free(store);
    credsio_free(io);
    shutdown(listener, SHUT_RDWR);
    close(listener);
    pthread_join(t, NULL);
    free(j1);
    free(j2);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    buf_clean_up(&err);
}

int main(void)
{
    httpc_global_init();
    RUN(test_store);
    httpc_global_cleanup();
    return check_summary();
}
