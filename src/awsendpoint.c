#include "awsendpoint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef const char *(*lookup_fn)(const char *name, void *ctx);

static const char *env_get(lookup_fn lookup, void *ctx, const char *name)
{
    const char *v = lookup(name, ctx);
    return v != NULL && *v != '\0' ? v : NULL;
}

static const char *profile_get(const struct awsprofile_set *set, const char *profile, const char *key)
{
    const char *v = awsprofile_get(set, profile, key);
    return v != NULL && *v != '\0' ? v : NULL;
}

int awsendpoint_region_valid(const char *region)
{
    size_t len = strlen(region);
    return len >= 1 && len <= 63 && strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == len &&
           region[0] != '-' && region[len - 1] != '-';
}

struct partition {
    const char *prefix;
    const char *suffix;
    const char *dualstack_suffix; /* NULL: no dual-stack endpoints */
    int fips_is_plain;            /* aws-us-gov: the plain host name is the FIPS one */
};

/* The partitions of the SDKs' partitions.json, by region prefix; "aws" is the fallback. */
static const struct partition partitions[] = {
    {"cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn", 0},
    {"us-gov-", "amazonaws.com", "api.aws", 1},
    {"us-iso-", "c2s.ic.gov", NULL, 0},
    {"us-isob-", "sc2s.sgov.gov", NULL, 0},
    {"us-isof-", "csp.hci.ic.gov", NULL, 0},
    {"eu-isoe-", "cloud.adc-e.uk", NULL, 0},
    {"", "amazonaws.com", "api.aws", 0},
};

int awsendpoint_default_url(const char *service, const char *region, int fips, int dualstack, struct buf *out,
                            struct buf *err)
{
    if (strcmp(service, "dynamodb") == 0 && strcmp(region, "local") == 0) {
        if (fips || dualstack) {
            buf_append_str(err, "region local (DynamoDB Local) has no FIPS or dual-stack endpoint");
            return -1;
        }
        return buf_append_str(out, "http://localhost:8000");
    }
    const struct partition *p = partitions;
    while (strncmp(region, p->prefix, strlen(p->prefix)) != 0)
        p++;
    if (dualstack && p->dualstack_suffix == NULL) {
        buf_printf(err, "dual-stack endpoints do not exist in region %s", region);
        return -1;
    }
    const char *suffix = dualstack ? p->dualstack_suffix : p->suffix;
    const char *fips_part = fips && (dualstack || !p->fips_is_plain) ? "-fips" : "";
    return buf_concat(out, "https://", service, fips_part, ".", region, ".", suffix);
}

/* Reads a true/false setting: the variable, else the profile's key. Returns 0 or -1 with err. */
static int flag(lookup_fn lookup, void *ctx, const struct awsprofile_set *set, const char *profile,
                const char *variable, const char *key, int *out, const char **from, struct buf *err)
{
    const char *v = env_get(lookup, ctx, variable);
    *from = variable;
    if (v == NULL && (v = profile_get(set, profile, key)) != NULL)
        *from = key;
    *out = 0;
    if (v == NULL || strcasecmp(v, "false") == 0)
        return 0;
    if (strcasecmp(v, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (*from == variable)
        buf_printf(err, "%s: '%s' is not true or false", variable, v);
    else
        buf_printf(err, "%s (profile %s): '%s' is not true or false", key, profile, v);
    return -1;
}

/* The configured endpoint of service, or NULL; *from gets a new string naming its setting. */
static const char *configured(lookup_fn lookup, void *ctx, const struct awsprofile_set *set, const char *profile,
                              const char *service, const char *service_variable, const char *legacy,
                              struct buf *from)
{
    const char *v;
    if ((v = env_get(lookup, ctx, service_variable)) != NULL) {
        buf_append_str(from, service_variable);
        return v;
    }
    if ((v = env_get(lookup, ctx, "AWS_ENDPOINT_URL")) != NULL) {
        buf_append_str(from, "AWS_ENDPOINT_URL");
        return v;
    }
    v = awsprofile_service_get(set, profile, service, "endpoint_url");
    if (v != NULL && *v != '\0') {
        buf_printf(from, "services %s (profile %s)", awsprofile_get(set, profile, "services"), profile);
        return v;
    }
    if ((v = profile_get(set, profile, "endpoint_url")) != NULL) {
        buf_printf(from, "endpoint_url (profile %s)", profile);
        return v;
    }
    if (legacy != NULL && (v = env_get(lookup, ctx, legacy)) != NULL) {
        buf_append_str(from, legacy);
        return v;
    }
    return NULL;
}

struct settings {
    int ignore_configured;
    const char *fips_from, *dualstack_from;
};

/* Resolves one service's endpoint into *url and *from. Returns 0 or -1 with err. */
static int service_endpoint(struct awsendpoint *ep, const struct settings *st, lookup_fn lookup, void *ctx,
                            const struct awsprofile_set *set, const char *profile, const char *service,
                            const char *service_variable, const char *legacy, char **url, char **from,
                            struct buf *err)
{
    struct buf u = BUF_INIT, f = BUF_INIT;
    const char *v = st->ignore_configured
                        ? NULL
                        : configured(lookup, ctx, set, profile, service, service_variable, legacy, &f);
    int rc = -1;
    if (v != NULL) {
        if (ep->use_fips || ep->use_dualstack) {
            buf_printf(err, "%s: a configured endpoint cannot be combined with AWS_USE_FIPS_ENDPOINT or "
                            "AWS_USE_DUALSTACK_ENDPOINT (the SDKs refuse it too)", buf_cstr(&f));
            goto done;
        }
        buf_append_str(&u, v);
        if (u.len > 1 && u.data[u.len - 1] == '/')
            u.data[--u.len] = '\0';
    } else {
        struct buf why = BUF_INIT;
        buf_reset(&f);
        buf_append_str(&f, "default");
        if (awsendpoint_default_url(service, ep->region, ep->use_fips, ep->use_dualstack, &u, &why) != 0) {
            const char *name = strncmp(buf_cstr(&why), "region local", 12) == 0 ? ep->region_from
                                                                                 : st->dualstack_from;
            if (strcmp(name, "profile") == 0 || strcmp(name, "use_dualstack_endpoint") == 0)
                buf_printf(err, "%s (profile %s): %s", strcmp(name, "profile") == 0 ? "region" : name, profile,
                           buf_cstr(&why));
            else
                buf_printf(err, "%s: %s", name, buf_cstr(&why));
            buf_clean_up(&why);
            goto done;
        }
        buf_clean_up(&why);
    }
    *url = buf_steal(&u);
    *from = buf_steal(&f);
    rc = *url != NULL && *from != NULL ? 0 : -1;
    if (rc != 0)
        buf_append_str(err, "out of memory");
done:
    buf_clean_up(&u);
    buf_clean_up(&f);
    return rc;
}

int awsendpoint_resolve(struct awsendpoint *ep, lookup_fn lookup, void *ctx, const struct awsprofile_set *set,
                        const char *profile, struct buf *err)
{
    memset(ep, 0, sizeof *ep);
    /* Set but empty is a mistake (a template's unfilled variable), not "use the default region". */
    static const char *const region_names[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < sizeof region_names / sizeof region_names[0]; i++) {
        const char *set_to = lookup(region_names[i], ctx);
        if (set_to != NULL && *set_to == '\0') {
            buf_printf(err, "%s: set but empty; unset it or name a region (us-east-1)", region_names[i]);
            return -1;
        }
    }
    const char *region = env_get(lookup, ctx, "AWS_REGION");
    ep->region_from = "AWS_REGION";
    if (region == NULL && (region = env_get(lookup, ctx, "AWS_DEFAULT_REGION")) != NULL)
        ep->region_from = "AWS_DEFAULT_REGION";
    if (region == NULL && (region = profile_get(set, profile, "region")) != NULL)
        ep->region_from = "profile";
    if (region == NULL) {
        region = "us-east-1";
        ep->region_from = "default";
    }
    if (!awsendpoint_region_valid(region)) {
        if (strcmp(ep->region_from, "profile") == 0)
            buf_printf(err, "region (profile %s): '%s' is not a region name", profile, region);
        else
            buf_printf(err, "%s: '%s' is not a region name", ep->region_from, region);
        goto fail;
    }
    if ((ep->region = strdup(region)) == NULL) {
        buf_append_str(err, "out of memory");
        goto fail;
    }

    struct settings st = {0};
    const char *ignore_from;
    if (flag(lookup, ctx, set, profile, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint", &ep->use_fips, &st.fips_from,
             err) != 0 ||
        flag(lookup, ctx, set, profile, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint", &ep->use_dualstack,
             &st.dualstack_from, err) != 0 ||
        flag(lookup, ctx, set, profile, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls",
             &st.ignore_configured, &ignore_from, err) != 0)
        goto fail;
    if (service_endpoint(ep, &st, lookup, ctx, set, profile, "dynamodb", "AWS_ENDPOINT_URL_DYNAMODB",
                         "DYNAMODB_ENDPOINT", &ep->dynamodb_url, &ep->dynamodb_from, err) != 0 ||
        service_endpoint(ep, &st, lookup, ctx, set, profile, "sts", "AWS_ENDPOINT_URL_STS", NULL, &ep->sts_url,
                         &ep->sts_from, err) != 0)
        goto fail;
    return 0;
fail:
    awsendpoint_clean_up(ep);
    return -1;
}

void awsendpoint_clean_up(struct awsendpoint *ep)
{
    free(ep->region);
    free(ep->dynamodb_url);
    free(ep->dynamodb_from);
    free(ep->sts_url);
    free(ep->sts_from);
    memset(ep, 0, sizeof *ep);
}
