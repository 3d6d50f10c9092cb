/* authconfig: the authentication settings, read once from the environment at
 * start-up (like config.h: bad values fail with one clear line), and the
 * process's struct auth built from them once the credentials loop exists.
 *
 * Secure by default: AUTH unset with a DynamoDB endpoint that is not loopback
 * is a configuration error naming the choices; with a loopback endpoint (make
 * run, compose against a local DynamoDB, the tests) unset means none, and
 * authconfig_describe says so for the start-up log. */
#ifndef USERSVC_AUTHCONFIG_H
#define USERSVC_AUTHCONFIG_H

#include "auth.h"
#include "buf.h"
#include "credsio.h"
#include "jwk.h"

struct authconfig {
    int modes;
    int defaulted;         /* AUTH was unset (local endpoint): none */
    char *scope_read, *scope_write;
    char *issuer, *audience; /* NULL: not checked */
    long leeway_s;
    char *jwks_url;          /* NULL: none */
    long min_refresh_s;      /* USERSVC_JWKS_MIN_REFRESH_S, for tests */
    struct jwk_set *static_keys; /* JWT_JWKS_FILE + JWT_PUBLIC_KEY_FILE + JWT_SECRET; NULL: none */
    struct apikeys *apikeys;
    int rate_limited;
    double rate, burst;
};

/* Reads the settings through lookup (getenv-like). endpoint_is_local: the
 * DynamoDB endpoint is loopback (config.h). Returns 0, or -1 with one line in
 * err. ac is always safe to clean up afterwards. */
int authconfig_load(struct authconfig *ac, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                    int endpoint_is_local, struct buf *err);

/* One line for the start-up log: "authentication: jwt (keys from ...), api-key (3 keys); ..." */
void authconfig_describe(const struct authconfig *ac, struct buf *out);

/* The process's auth. Takes the API keys out of ac (describe it first); io runs the JWKS fetches (needed with a URL).
 * NULL when memory runs out. */
struct auth *authconfig_build(struct authconfig *ac, struct credsio *io);

void authconfig_clean_up(struct authconfig *ac);

#endif
