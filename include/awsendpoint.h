/* awsendpoint: the region and the DynamoDB and STS endpoints, resolved as the AWS SDKs resolve them
 * (the SDKs' "service-specific endpoints" settings and DynamoDB's and STS's endpoint rule sets). Pure:
 * the environment comes through a getenv-like lookup, the profile as a parsed awsprofile_set.
 *
 * Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1 (what config.c has
 * always done; the SDKs would fail instead). Empty variables count as unset, as everywhere in
 * config.c, so AWS_REGION='' falls through rather than failing.
 *
 * Endpoint, first set wins (empty = unset):
 *   AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's [services] `<service> = endpoint_url`,
 *   the profile's endpoint_url, and for DynamoDB this service's older DYNAMODB_ENDPOINT;
 * all of them ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (else the profile's
 * ignore_configured_endpoint_urls) is true. Otherwise the default, by partition:
 *   https://dynamodb.<region>.amazonaws.com          (cn-*: amazonaws.com.cn)
 *   FIPS:       https://dynamodb-fips.<region>.amazonaws.com   (us-gov-*: dynamodb.<region>.amazonaws.com,
 *               which is FIPS there)
 *   dual-stack: https://dynamodb.<region>.api.aws    (cn-*: api.amazonwebservices.com.cn)
 *   both:       https://dynamodb-fips.<region>.api.aws
 * and the same shapes for sts. ISO partitions (us-iso-*, us-isob-*, us-isof-*, eu-isoe-*) have their
 * own suffixes and no dual-stack. Region "local" is DynamoDB Local, http://localhost:8000. As in the
 * rule sets, FIPS or dual-stack with a configured endpoint is an error, not silently dropped.
 * AWS_USE_FIPS_ENDPOINT / use_fips_endpoint and AWS_USE_DUALSTACK_ENDPOINT / use_dualstack_endpoint
 * take true or false (any case). */
#ifndef USERSVC_AWSENDPOINT_H
#define USERSVC_AWSENDPOINT_H

#include "awsprofile.h"
#include "buf.h"

struct awsendpoint {
    char *region;
    const char *region_from; /* "AWS_REGION", "AWS_DEFAULT_REGION", "profile", "default" (static) */
    char *dynamodb_url;      /* scheme://host[:port][/path], no trailing slash */
    char *dynamodb_from;     /* the variable or setting that named it ("AWS_ENDPOINT_URL", "endpoint_url
                              * (profile dev)", ...), or "default" */
    char *sts_url;
    char *sts_from;
    int use_fips;
    int use_dualstack;
};

/* Resolves everything above. set may be NULL (no profile files); profile names the profile to read
 * (awsprofile_files.profile). Returns 0, or -1 with one line in err naming the setting at fault.
 * ep is caller storage, always safe to pass to awsendpoint_clean_up. Strings are ep's own. */
int awsendpoint_resolve(struct awsendpoint *ep, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                        const struct awsprofile_set *set, const char *profile, struct buf *err);

void awsendpoint_clean_up(struct awsendpoint *ep);

/* The default endpoint of service ("dynamodb", "sts", ...) in region, appended to out. Returns 0,
 * or -1 with one line in err (dual-stack in a partition without it, FIPS or dual-stack with the
 * "local" region). */
int awsendpoint_default_url(const char *service, const char *region, int fips, int dualstack, struct buf *out,
                            struct buf *err);

/* 1 when region can be a region name in a host name: 1-63 of a-z 0-9 '-', not starting or ending
 * with '-'. */
int awsendpoint_region_valid(const char *region);

#endif
