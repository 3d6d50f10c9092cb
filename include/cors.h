/* cors: the cross-origin policy (CORS_ALLOW_ORIGINS, CORS_ALLOW_CREDENTIALS) as pure functions: parse
 * and normalise the configured origins once at start-up, then, per answer, say which CORS headers it
 * carries for the request's Origin. No I/O, no allocation per answer; the server adapter adds the
 * headers (every answer goes through it: errors, 401/403/429 and preflights included).
 *
 * Three modes:
 *   off   (no origins configured, the default): no CORS header at all, so browsers refuse every
 *         cross-origin read; same-origin pages, curl and servers are unaffected.
 *   any   ("*"): Access-Control-Allow-Origin: * on every answer, never with credentials.
 *   list  (exact origins): a request whose Origin is listed gets it echoed; every answer carries
 *         Vary: Origin, so a shared cache never hands one origin's answer to another. */
#ifndef USERSVC_CORS_H
#define USERSVC_CORS_H

#include <stddef.h>

#include "buf.h"

enum cors_mode { CORS_OFF, CORS_ANY, CORS_LIST };

/* Caller storage: cors_parse fills it, cors_clean_up releases it. */
struct cors {
    enum cors_mode mode;
    char **origins; /* CORS_LIST: normalised origins ("https://app.example.com:8443"), owned */
    size_t n_origins;
    int credentials; /* Access-Control-Allow-Credentials: true (CORS_LIST only) */
};

/* The request headers a preflight allows, and the response headers a page may read. */
#define CORS_ALLOW_HEADERS \
    "Authorization, Content-Type, If-Match, If-None-Match, X-Api-Key, X-Request-Id, traceparent, tracestate"
#define CORS_EXPOSE_HEADERS "ETag, Location, Link, X-Request-Id, Retry-After, WWW-Authenticate"
#define CORS_MAX_AGE "600"

/* Reads a CORS_ALLOW_ORIGINS value: NULL or "" (off), "*", or a comma list of origins
 * (scheme://host[:port], spaces around commas allowed), which are normalised as browsers serialise
 * an Origin (scheme and host lower case, a default port dropped, IPv6 compressed). credentials is
 * CORS_ALLOW_CREDENTIALS, already read as a boolean; it needs listed origins. var names the
 * variable in messages. Returns 0, or -1 with one line in err ("VAR: ...") and cors left off;
 * cors_clean_up is safe either way. */
int cors_parse(struct cors *cors, const char *var, const char *origins, int credentials, struct buf *err);

void cors_clean_up(struct cors *cors);

/* Normalises one origin text[0..len) into out (appended). Returns 0, or -1 with the reason
 * (without the value) appended to why: a path, user information, a wildcard, a bad port ... */
int cors_normalise_origin(const char *text, size_t len, struct buf *out, struct buf *why);

/* Receives one response header; name and value are borrowed for the call. */
typedef void (*cors_add_header_fn)(void *ctx, const char *name, const char *value);

/* Adds the CORS headers of one answer. origin: the request's Origin header, NULL when none.
 * preflight_methods: for the answer to a preflight (an OPTIONS the router accepted), the route's
 * methods (Access-Control-Allow-Methods); NULL for any other answer. */
void cors_headers(const struct cors *cors, const char *origin, const char *preflight_methods,
                  cors_add_header_fn add, void *ctx);

/* One line for the start-up log: "off (...)", "any origin (*), without credentials", or
 * "2 origins (https://a.example, https://b.example), with credentials". Appended to out. */
void cors_describe(const struct cors *cors, struct buf *out);

#endif
