/* credshttp: the credential providers that ask an HTTP endpoint, on the
 * credentials loop (credsio.h): web identity (STS AssumeRoleWithWebIdentity,
 * unsigned), assume role (STS AssumeRole, SigV4-signed with a source
 * provider's credentials), the container endpoint (ECS task roles, EKS Pod
 * Identity) and EC2 IMDSv2. Each get may come from any thread; the I/O runs
 * on the loop's thread and so does the callback. A provider serves one get at
 * a time (the cache never asks twice at once; a second get meanwhile fails).
 *
 * What each request looks like is built by the pure credshttp_*_plan
 * functions below, so it is unit-tested without sockets. */
#ifndef USERSVC_CREDSHTTP_H
#define USERSVC_CREDSHTTP_H

#include <stdint.h>

#include "buf.h"
#include "creds.h"
#include "credsio.h"
#include "credsparse.h"

#define CREDSHTTP_MAX_LINES 6

/* One request: the method, the URL and header lines "Name: value" (NUL-separated in lines). */
struct credshttp_plan {
    const char *method;
    struct buf url;
    struct buf lines;
    size_t n_lines;
    struct buf body;
};

void credshttp_plan_clean_up(struct credshttp_plan *plan);

/* Points ptrs (CREDSHTTP_MAX_LINES) at the plan's lines; returns how many. */
size_t credshttp_plan_lines(const struct credshttp_plan *plan, const char **ptrs);

/* POST <sts_url>/ with the form body, unsigned. token is the web identity token (sent in the body only). */
int credshttp_web_identity_plan(struct credshttp_plan *plan, const char *sts_url, const char *role_arn,
                                const char *session_name, const char *token);

/* POST <sts_url>/ Action=AssumeRole, signed (service "sts", region) with source at now_s. */
int credshttp_assume_role_plan(struct credshttp_plan *plan, const char *sts_url, const char *region,
                               const struct creds *source, const char *role_arn, const char *session_name,
                               const char *external_id, int64_t now_s);

/* GET url, with Authorization: authorization when it is not empty. */
int credshttp_container_plan(struct credshttp_plan *plan, const char *url, const char *authorization);

/* IMDSv2 step 0: PUT the token (TTL 21600); 1: GET the role name with token; 2: GET role's credentials. */
int credshttp_imds_plan(struct credshttp_plan *plan, const char *endpoint, int step, const char *token,
                        const char *role);

/* Providers. Strings are copied; io is borrowed and outlives the provider's gets. Return NULL when
 * memory runs out. The provider names ("web-identity", ...) are what the start-up line logs. */
struct creds_provider *credshttp_web_identity_new(struct credsio *io, const char *sts_url, const char *role_arn,
                                                  const char *session_name, const char *token_file,
                                                  const char *name);

/* source is owned by the provider from here on (even on failure). */
struct creds_provider *credshttp_assume_role_new(struct credsio *io, const char *sts_url, const char *region,
                                                 struct creds_provider *source, const char *role_arn,
                                                 const char *session_name, const char *external_id,
                                                 const char *name);

/* container is taken over (its strings moved; it is zeroed), even on failure. */
struct creds_provider *credshttp_container_new(struct credsio *io, struct credsparse_container *container);

struct creds_provider *credshttp_imds_new(struct credsio *io, const char *endpoint);

#endif
