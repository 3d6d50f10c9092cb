/* auth: who may call which route (issue 8). It runs before any handler and
 * decides from the request's Authorization and X-Api-Key headers alone,
 * without I/O: a refused request never reaches DynamoDB.
 *
 * AUTH is a comma list of "jwt" and "api-key", or "none". A bearer token with
 * two dots is a JWT (when jwt is on), anything else an API key (when api-key
 * is on); X-Api-Key always holds an API key. Reads need SCOPE_READ or
 * SCOPE_WRITE, writes SCOPE_WRITE. With RATE_LIMIT, each principal ("jwt:"
 * sub as sent, or "key:" name) has its own token bucket, per replica.
 *
 * The process shares one struct auth (immutable, its key store and rate limit
 * are thread-safe); each worker has a struct auth_worker, a small cache of the
 * JWTs it verified (a token seen again costs a hash and a compare instead of
 * a signature check, until its exp or the next key set). */
#ifndef USERSVC_AUTH_H
#define USERSVC_AUTH_H

#include <stdint.h>

#include "apikeys.h"
#include "buf.h"
#include "jwks.h"
#include "jwt.h"
#include "ratelimit.h"

enum { AUTH_JWT = 1, AUTH_API_KEY = 2 }; /* modes; 0 is none */

enum auth_need { AUTH_OPEN, AUTH_READ, AUTH_WRITE };

/* Parses AUTH. *modes gets AUTH_JWT | AUTH_API_KEY, or 0 for "none". Returns 0 or -1 with a line in err. */
int auth_modes_parse(const char *text, int *modes, struct buf *err);

struct auth_options {
    int modes;
    const char *scope_read;  /* "users:read" */
    const char *scope_write; /* "users:write" */
    struct jwt_policy policy;       /* strings copied */
    struct jwks_store *keys;        /* owned from auth_new on, even on failure; needed with AUTH_JWT */
    struct apikeys *apikeys;        /* owned likewise; needed with AUTH_API_KEY */
    struct ratelimit *limit;        /* owned likewise; NULL: no limit */
    int64_t (*now_s)(void);         /* wall clock for exp/nbf; NULL: CLOCK_REALTIME */
    int64_t (*mono_ms)(void);       /* for the rate limit; NULL: CLOCK_MONOTONIC */
};

struct auth;
struct auth *auth_new(const struct auth_options *options);
void auth_free(struct auth *auth);
int auth_modes(const struct auth *auth);
/* The JWT key store (borrowed), NULL without AUTH_JWT: main drives its first fetch. */
struct jwks_store *auth_keys(const struct auth *auth);

#define AUTH_CACHE_SLOTS 256

struct auth_worker;
/* One worker's state (only that worker's thread uses it). NULL when memory runs out. */
struct auth_worker *auth_worker_new(struct auth *auth);
void auth_worker_free(struct auth_worker *w);

enum auth_outcome {
    AUTH_ALLOW,           /* go on */
    AUTH_MISSING,         /* 401 unauthorized: no credentials */
    AUTH_INVALID,         /* 401 invalid_token */
    AUTH_TWO_CREDENTIALS, /* 400 invalid_request */
    AUTH_FORBIDDEN,       /* 403 insufficient_scope */
    AUTH_LIMITED,         /* 429 rate_limited */
};

struct auth_decision {
    enum auth_outcome outcome;
    const char *message;     /* the JSON error's message (static); NULL with AUTH_ALLOW */
    char www_authenticate[192]; /* the header's value, "" for none */
    int retry_after;         /* 429: seconds */
    char principal[272];     /* the key's name, or "sub" in printable ASCII ('_' for others), else "" */
};

/* Decides one request. authorization and api_key are the header values (NULL when absent). */
void auth_check(struct auth_worker *w, const char *authorization, const char *api_key, enum auth_need need,
                struct auth_decision *d);

#endif
