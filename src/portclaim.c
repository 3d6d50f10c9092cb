#include "portclaim.h"

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int portclaim_probe(const char *host, int port, struct buf *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *addr = NULL;
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &addr);
    if (gai != 0) {
        buf_printf(err, "HOST: cannot listen on '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int rc = -1, one = 1;
    int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* SO_REUSEADDR as the workers set it: a previous run's TIME_WAIT connections do not count, a
     * listening socket (with or without SO_REUSEPORT) does. */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
        char text[96];
        buf_printf(err, "cannot create a socket: %s", strerror_r(errno, text, sizeof text));
    } else if (bind(fd, addr->ai_addr, addr->ai_addrlen) != 0) {
        char text[96];
        if (errno == EADDRINUSE)
            buf_printf(err, "PORT %d on %s is already in use by another process; not starting", port, host);
        else
            buf_printf(err, "cannot listen on %s:%d: %s", host, port, strerror_r(errno, text, sizeof text));
    } else {
        rc = 0;
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(addr);
    return rc;
}

int portclaim_take(const char *host, int port, struct buf *err)
{
    if (port == 0)
        return -2;
    struct sockaddr_un lock = {.sun_family = AF_UNIX};
    /* sun_path[0] stays '\0': an abstract name, gone with the process however it ends. */
    int name_len = snprintf(lock.sun_path + 1, sizeof lock.sun_path - 1, "usersvc/port/%s/%d", host, port);
    if (name_len < 0 || (size_t)name_len >= sizeof lock.sun_path - 1) {
        buf_printf(err, "HOST: '%s' is too long", host);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&lock,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)name_len)) != 0) {
        char text[96];
        if (fd >= 0 && errno == EADDRINUSE)
            buf_printf(err, "PORT %d on %s is being claimed by another usersvc; not starting", port, host);
        else
            buf_printf(err, "cannot take the start-up lock for %s:%d: %s", host, port,
                       strerror_r(errno, text, sizeof text));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (portclaim_probe(host, port, err) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
