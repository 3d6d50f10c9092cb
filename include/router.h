/* router: Express-style matching of a raw request path against a static
 * route table ("/users/:id"), with decoded path parameters, 404 vs 405 and
 * the Allow list, and HEAD served by GET routes. Pure: no I/O. */
#ifndef USERSVC_ROUTER_H
#define USERSVC_ROUTER_H

#include "http.h"

#define ROUTER_MAX_PARAMS 4

struct route_params {
    size_t n;
    const char *names[ROUTER_MAX_PARAMS]; /* borrowed from the pattern; end at '/' or NUL */
    char *values[ROUTER_MAX_PARAMS];      /* owned, percent-decoded */
};

struct app;
typedef void route_handler(const struct app *app, struct http_exchange *ex,
                           const struct route_params *params);

struct route {
    unsigned methods;    /* a mask of enum http_method */
    const char *pattern; /* "/users/:id"; literal segments match exactly */
    route_handler *handler;
};

enum route_status { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_METHOD_NOT_ALLOWED };

struct route_match {
    enum route_status status;
    const struct route *route; /* ROUTE_FOUND only */
    struct route_params params;
    unsigned allowed; /* methods the path accepts (with HEAD and OPTIONS added) */
};

/* Matches method and raw path. A single trailing slash is ignored ("/users/"
 * is "/users"); a path whose parameter does not decode is not found. Fills
 * *match (release with route_match_clean_up) and returns its status. */
enum route_status router_match(const struct route *table, size_t n_routes,
                               enum http_method method, const char *path,
                               struct route_match *match);

void route_match_clean_up(struct route_match *match);

/* Returns the parameter's decoded value or NULL. Borrowed from params. */
const char *route_param(const struct route_params *params, const char *name);

/* Writes "GET, HEAD, POST, OPTIONS" for a method mask into a new string
 * (caller frees), or NULL when memory runs out. */
char *router_allow_header(unsigned methods);

#endif
