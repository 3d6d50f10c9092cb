/* sigv4: AWS Signature Version 4 as pure functions. The clock, the credentials
 * and the request are all parameters: nothing here reads the time, the
 * environment or the network, so every stage is tested against the AWS suite. */
#ifndef USERSVC_SIGV4_H
#define USERSVC_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SIGV4_KEY_LEN 32
#define SIGV4_HEX_LEN 64

struct sigv4_header {
    const char *name;  /* any case; lowercased in the canonical request */
    const char *value; /* raw; trimmed, inner runs of spaces and folded lines collapsed */
};

struct sigv4_request {
    const char *method;       /* "GET", "POST" ... */
    const char *path;         /* raw path, not percent-encoded: "/", "/ሴ", "/example space/" */
    const char *query;        /* raw query without '?', or NULL/"" for none */
    const struct sigv4_header *headers; /* every header to sign, in the order sent */
    size_t n_headers;
    const void *body;
    size_t body_len;
    int normalize_path;       /* 1 for every service but S3: remove dot segments, merge slashes */
};

struct sigv4_scope {
    const char *date;    /* "20150830" */
    const char *region;  /* "us-east-1" */
    const char *service; /* "dynamodb" */
};

/* Writes the canonical request into out and the ';'-joined lowercase signed
 * header names into signed_headers (either may be NULL). Returns 0, or -1 when
 * memory runs out or the request is malformed (no method, path not absolute,
 * a method or header name that is not an HTTP token). */
int sigv4_canonical_request(const struct sigv4_request *req, struct buf *out,
                            struct buf *signed_headers);

/* Writes "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of creq>".
 * amz_date is "YYYYMMDDTHHMMSSZ". Returns 0 or -1. */
int sigv4_string_to_sign(const char *amz_date, const struct sigv4_scope *scope,
                         const char *canonical_request, size_t creq_len, struct buf *out);

/* Derives the signing key HMAC chain ("AWS4"+secret, date, region, service,
 * "aws4_request") into key. Returns 0 or -1. Callers cache it per scope. */
int sigv4_signing_key(const char *secret_access_key, const struct sigv4_scope *scope,
                      uint8_t key[SIGV4_KEY_LEN]);

/* hex(HMAC-SHA256(key, string_to_sign)) into hex (SIGV4_HEX_LEN + 1 bytes). */
int sigv4_signature(const uint8_t key[SIGV4_KEY_LEN], const char *string_to_sign, size_t len,
                    char hex[SIGV4_HEX_LEN + 1]);

/* Whole pipeline: writes the Authorization header value
 * "AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=..., Signature=..."
 * into authorization. key is the derived signing key for scope. Returns 0 or -1. */
int sigv4_authorization(const struct sigv4_request *req, const char *access_key_id,
                        const char *amz_date, const struct sigv4_scope *scope,
                        const uint8_t key[SIGV4_KEY_LEN], struct buf *authorization);

/* hex(SHA-256(data)) into hex (SIGV4_HEX_LEN + 1 bytes). */
void sigv4_sha256_hex(const void *data, size_t len, char hex[SIGV4_HEX_LEN + 1]);

/* Formats a UNIX time (seconds) as "YYYYMMDDTHHMMSSZ" (amz_date, 17 bytes) and
 * "YYYYMMDD" (date, 9 bytes), UTC. Returns 0 or -1. */
int sigv4_format_time(int64_t unix_seconds, char amz_date[17], char date[9]);

#endif
