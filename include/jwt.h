/* jwt: verification of compact JWS tokens (RFC 7515, 7519; OpenSSL 3). Pure:
 * the keys, the policy and the clock are parameters.
 *
 * A token is accepted when it is at most JWT_MAX_BYTES of strict base64url in
 * three parts, its header names an algorithm of RS256, PS256, ES256, EdDSA or
 * HS256 (never "none"), a key of that algorithm's own type verifies its
 * signature (an RSA public key is never an HS256 secret), it has no "crit"
 * header, a "typ", when present, of JWT or at+jwt, a numeric "exp" that has
 * not passed, an "nbf" (when present) that has, the configured "iss" and
 * "aud", and a "sub". Times allow leeway_s either way. */
#ifndef USERSVC_JWT_H
#define USERSVC_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "jwk.h"

#define JWT_MAX_BYTES 8192
#define JWT_MAX_SUB 255
#define JWT_MAX_KID 256

enum jwt_status {
    JWT_OK,
    JWT_MALFORMED,         /* not three parts of strict base64url JSON objects, too long, duplicate members */
    JWT_UNSUPPORTED_ALG,   /* alg none, missing, or not one of the five; crit; a typ we do not take */
    JWT_UNKNOWN_KID,       /* no key of the set has the token's kid (the key set may be stale) */
    JWT_NO_KEY,            /* no key of the algorithm's type (an HS256 token against RSA keys) */
    JWT_BAD_SIGNATURE,
    JWT_EXPIRED,           /* exp missing, not a number, or passed */
    JWT_NOT_YET_VALID,     /* nbf in the future */
    JWT_WRONG_ISSUER,
    JWT_WRONG_AUDIENCE,
    JWT_BAD_CLAIMS,        /* no sub, or sub/scope/scp of the wrong shape */
};

/* A short fixed description ("token expired"), fit for error_description and logs. */
const char *jwt_status_text(enum jwt_status status);

struct jwt_policy {
    const char *issuer;   /* required "iss"; NULL: not checked */
    const char *audience; /* required in "aud" (a string or an array of strings); NULL: not checked */
    int64_t leeway_s;     /* clock skew allowed on exp and nbf */
};

struct jwt_claims {
    char sub[JWT_MAX_SUB + 1];
    char kid[JWT_MAX_KID + 1]; /* the header's kid, "" when none: after JWT_UNKNOWN_KID, the one to look for */
    int64_t exp;
    char *scopes; /* owned: the scope names, space separated ("" when none); JWT_OK only */
};

/* Verifies token[0..len) against keys at now_s (UNIX seconds). Fills claims
 * (always safe to clean up afterwards) and returns JWT_OK, or why not. */
enum jwt_status jwt_verify(const char *token, size_t len, const struct jwk_set *keys, const struct jwt_policy *policy,
                           int64_t now_s, struct jwt_claims *claims);

void jwt_claims_clean_up(struct jwt_claims *claims);

/* 1 when scopes (space separated) holds name. */
int jwt_scopes_have(const char *scopes, const char *name);

#endif
