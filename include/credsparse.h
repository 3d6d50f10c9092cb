/* credsparse: the exact parts of the credential providers, pure so the provider integration only
 * moves bytes: the answers of STS (XML), the container endpoint, IMDS and credential_process (JSON),
 * RFC 3339 timestamps, expiry arithmetic, the container and IMDS settings and requests, and the STS
 * form body. No clock reads (now is a parameter); the only I/O is reading a token file by path
 * (credsparse_read_token_file). Errors name the field or setting at fault and never quote a key,
 * secret or token. */
#ifndef USERSVC_CREDSPARSE_H
#define USERSVC_CREDSPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Credentials as a provider yields them. */
struct credsparse_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    int64_t expiration;  /* Unix seconds; 0 = does not expire (so an Expiration must be after 1970: the
                          * parsers refuse one at or before the epoch rather than read it as 0) */
};

/* Frees the strings (wiping the secret and the token first) and zeroes c. Accepts a zeroed c. */
void credsparse_creds_clean_up(struct credsparse_creds *c);

/* An STS answer to action ("AssumeRoleWithWebIdentity" or "AssumeRole"): <actionResponse><actionResult>
 * <Credentials> with AccessKeyId, SecretAccessKey, SessionToken and Expiration, all required. XML
 * entities (&amp; &lt; &gt; &quot; &apos; and numeric ones) are decoded; comments and the <?xml?>
 * declaration are skipped; DOCTYPE, CDATA and NUL bytes are refused. An <ErrorResponse> gives -1 with
 * "STS <Code>: <Message>" in err (the message cut at 200 bytes, control characters made spaces). Returns 0 with
 * out filled (out is caller storage, clean it up with credsparse_creds_clean_up), or -1 with one line
 * in err and out zeroed. body (len bytes) is borrowed. */
int credsparse_sts_xml(const char *body, size_t len, const char *action, struct credsparse_creds *out,
                       struct buf *err);

/* The container endpoint's JSON (ECS task roles, EKS Pod Identity): AccessKeyId, SecretAccessKey,
 * Token and Expiration, all required; a Code, when present, must be "Success". Same contract as
 * credsparse_sts_xml. */
int credsparse_container_json(const char *body, size_t len, struct credsparse_creds *out, struct buf *err);

/* IMDS's security-credentials JSON: Code must be "Success"; AccessKeyId, SecretAccessKey, Token and
 * Expiration required (a 200 without keys is a failure). */
int credsparse_imds_json(const char *body, size_t len, struct credsparse_creds *out, struct buf *err);

/* A credential_process's output: Version must be the number 1; AccessKeyId and SecretAccessKey
 * required; SessionToken and Expiration optional (no Expiration: never expires). */
int credsparse_process_json(const char *body, size_t len, struct credsparse_creds *out, struct buf *err);

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1-12, d 1-31), negative before it.
 * Howard Hinnant's days_from_civil: exact for any year, no timegm and no TZ. */
int64_t credsparse_days_from_civil(int64_t y, unsigned m, unsigned d);

/* An RFC 3339 timestamp of len bytes: YYYY-MM-DDTHH:MM:SS, optional fraction (dropped), then Z or
 * +HH:MM / -HH:MM ('T' and 'Z' in either case). Fields are range-checked (the day against its month
 * and leap years; second 60 allowed). Returns 0 with Unix seconds in *out, or -1. */
int credsparse_timestamp(const char *s, size_t len, int64_t *out);

/* 1 when credentials expiring at expiration should be refreshed at now: within window seconds of
 * expiring, or expired. 0 for credentials that never expire (expiration 0). */
int credsparse_should_refresh(int64_t expiration, int64_t now, int64_t window);

/* 1 when credentials expiring at expiration can still sign at now (0 = never expires), else 0. */
int credsparse_valid_at(int64_t expiration, int64_t now);

/* 1 when len bytes can be an HTTP header value we send: no CR, LF or NUL. */
int credsparse_header_value_ok(const char *s, size_t len);

/* The container provider's settings, from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (appended to
 * http://169.254.170.2; it must start with '/'), else AWS_CONTAINER_CREDENTIALS_FULL_URI (allowed
 * only for https, or http to a loopback host or the ECS/EKS addresses: credsparse_container_url_allowed),
 * and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else AWS_CONTAINER_AUTHORIZATION_TOKEN. */
struct credsparse_container {
    char *url;
    char *token_file; /* read on every fetch (credsparse_container_token); NULL when unset */
    char *token;      /* used when there is no token_file; NULL when unset */
};

/* Returns 1 when neither URI variable is set (the provider does not apply), 0 with c filled, or -1
 * with one line in err (a bad URI, a host not allowed, a token with CR or LF). lookup is getenv-like;
 * "" is unset. c is caller storage, always safe to pass to credsparse_container_clean_up. */
int credsparse_container_config(struct credsparse_container *c, const char *(*lookup)(const char *name, void *ctx),
                                void *ctx, struct buf *err);

void credsparse_container_clean_up(struct credsparse_container *c);

/* 1 when the container provider may fetch from url: any https:// URL, or http:// to 127.0.0.0/8,
 * localhost, [::1], 169.254.170.2 (ECS), 169.254.170.23 or [fd00:ec2::23] (EKS Pod Identity).
 * Names other than localhost are not resolved: pure, and no DNS answer can widen the rule. */
int credsparse_container_url_allowed(const char *url);

/* The Authorization value for this fetch, into out (reset first): the token file read now (it is
 * rotated), else c->token; out stays empty when there is none. Returns 0, or -1 with err when the
 * file cannot be read or the token has CR or LF (the SDKs refuse it rather than send a split header). */
int credsparse_container_token(const struct credsparse_container *c, struct buf *out, struct buf *err);

/* Reads the whole file at path into out (reset first), at most max_bytes. Returns 0, or -1 with one
 * line in err naming path. What to re-read on every refresh: web identity and container tokens. */
int credsparse_read_token_file(const char *path, size_t max_bytes, struct buf *out, struct buf *err);

/* IMDSv2 (EC2 instance roles). */
#define CREDSPARSE_IMDS_TOKEN_PATH "/latest/api/token" /* PUT */
#define CREDSPARSE_IMDS_TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds"
#define CREDSPARSE_IMDS_TTL_SECONDS "21600"
#define CREDSPARSE_IMDS_TOKEN_HEADER "X-aws-ec2-metadata-token"
#define CREDSPARSE_IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/" /* GET: the role name */

struct credsparse_imds {
    int disabled;   /* AWS_EC2_METADATA_DISABLED=true (any case) */
    char *endpoint; /* AWS_EC2_METADATA_SERVICE_ENDPOINT, else by AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE:
                     * IPv4 http://169.254.169.254, IPv6 http://[fd00:ec2::254]; no trailing slash */
};

/* Returns 0 with c filled, or -1 with one line in err (an unknown mode, an endpoint that is not an
 * http(s) URL). c is caller storage, always safe to pass to credsparse_imds_clean_up. */
int credsparse_imds_config(struct credsparse_imds *c, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                           struct buf *err);

void credsparse_imds_clean_up(struct credsparse_imds *c);

/* The role name from the security-credentials listing (its first line, trimmed) into out (reset
 * first). Returns 0, or -1 with err when there is none or it is not an IAM role name
 * ([A-Za-z0-9+=,.@_-], 1-64). */
int credsparse_imds_role(const char *body, size_t len, struct buf *out, struct buf *err);

/* Appends s to out percent-encoded as RFC 3986 requires (all but A-Z a-z 0-9 - _ . ~, as %XX in
 * upper case): for x-www-form-urlencoded bodies to STS. Returns 0 or -1 (out of memory). */
int credsparse_form_encode(struct buf *out, const char *s);

/* The AssumeRoleWithWebIdentity request body (POST, Content-Type application/x-www-form-urlencoded;
 * the request is not signed). Appends to out; returns 0 or -1. */
int credsparse_sts_web_identity_form(struct buf *out, const char *role_arn, const char *session_name,
                                     const char *token);

/* The AssumeRole request body (signed with the source credentials); external_id may be NULL. */
int credsparse_sts_assume_role_form(struct buf *out, const char *role_arn, const char *session_name,
                                    const char *external_id);

/* A role session name for when none is configured: "usersvc-<now>" (Unix seconds), which STS
 * accepts and CloudTrail shows. Appends to out; returns 0 or -1. */
int credsparse_session_name(struct buf *out, int64_t now);

/* 1 when s is a valid RoleSessionName ([A-Za-z0-9+=,.@_-], 2-64), e.g. AWS_ROLE_SESSION_NAME. */
int credsparse_session_name_valid(const char *s);

#endif
