/* credschain: the default credential provider chain, in the AWS SDKs' order,
 * resolved once at start-up:
 *   1. environment   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2. profile       AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, AWS_PROFILE: static keys,
 *                    role_arn + web_identity_token_file, role_arn + source_profile (AssumeRole),
 *                    role_arn + credential_source, credential_process
 *   3. web-identity  AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME)
 *   4. container     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI (+ authorization token)
 *   5. ec2-imds      unless AWS_EC2_METADATA_DISABLED=true
 * Providers whose settings are absent are skipped; the first that yields
 * credentials wins and becomes the one provider the cache refreshes from.
 * Settings that are present but wrong (a container URI to a host not allowed,
 * an AWS_PROFILE that does not exist, a malformed profile file) fail start-up,
 * as in the SDKs; a provider that is set up but cannot answer (no IMDS here)
 * is noted and the next one is tried. */
#ifndef USERSVC_CREDSCHAIN_H
#define USERSVC_CREDSCHAIN_H

#include <stddef.h>

#include "buf.h"
#include "creds.h"
#include "credsio.h"

typedef const char *credschain_lookup(const char *name, void *ctx);

/* One candidate: a provider and what it is, for the "tried" line. */
struct credschain_candidate {
    struct creds_provider *provider; /* owned by the candidate list */
    char what[240];                  /* "profile dev (credential_process)"; no secret */
};

#define CREDSCHAIN_MAX 5

struct credschain_candidates {
    struct credschain_candidate list[CREDSCHAIN_MAX];
    size_t n;
    struct buf skipped; /* "; "-separated notes of providers that did not apply */
};

/* Builds the candidates the environment (through lookup, getenv-like, "" = unset) sets up, in
 * order; io is borrowed by the providers that do I/O. Returns 0, or -1 with one line in err
 * (a misconfiguration; no secret in it). c is caller storage, always safe to clean up. */
int credschain_build(struct credschain_candidates *c, struct credsio *io, credschain_lookup *lookup, void *ctx,
                     struct buf *err);

/* Frees every candidate still in the list. */
void credschain_clean_up(struct credschain_candidates *c);

/* Asks each candidate in order, driving io from the calling thread (start-up only), each get
 * bounded by timeout_ms. The first that yields is taken out of the list into *provider (the
 * caller owns it) with its credentials in *creds (a reference). Returns 0 then, or -1 with
 * tried holding "what: why; ..." for every candidate and skipped provider. */
int credschain_first(struct credschain_candidates *c, struct credsio *io, long timeout_ms,
                     struct creds_provider **provider, struct creds **creds, struct buf *tried);

/* The refresh window: USERSVC_CREDENTIALS_REFRESH_WINDOW_S (for tests: 1-3600 seconds), else
 * CREDSCHAIN_REFRESH_WINDOW_S. Returns 0, or -1 with one line in err. */
#define CREDSCHAIN_REFRESH_WINDOW_S 600
int credschain_refresh_window(credschain_lookup *lookup, void *ctx, long *window_s, struct buf *err);

#endif
