/* test_awsendpoint: region precedence; every endpoint setting in its order of precedence, for
 * DynamoDB and STS; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (environment and profile); FIPS, dual-stack
 * and both, in the aws, aws-cn, aws-us-gov and ISO partitions; the DynamoDB Local region; and the
 * refusals (bad region, bad boolean, FIPS with a configured endpoint). */
#include "awsendpoint.h"

#include <string.h>

#include "check.h"
#include "fake_env.h"


static const char *const PROFILE = "[default]\n"
                                   "region = eu-central-1\n"
                                   "[profile full]\n"
                                   "region = ap-southeast-2\n"
                                   "endpoint_url = https://profile.example\n"
                                   "services = svc\n"
                                   "[profile global-only]\n"
                                   "endpoint_url = https://global.example/\n"
                                   "[profile ignoring]\n"
                                   "endpoint_url = https://global.example\n"
                                   "ignore_configured_endpoint_urls = true\n"
                                   "[profile fips]\n"
                                   "region = us-west-2\n"
                                   "use_fips_endpoint = true\n"
                                   "use_dualstack_endpoint = TRUE\n"
                                   "[profile bad-bool]\n"
                                   "use_fips_endpoint = yes please\n"
                                   "[profile bad-region]\n"
                                   "region = Not_A_Region\n"
                                   "[services svc]\n"
                                   "dynamodb =\n"
                                   "  endpoint_url = https://ddb.services.example/\n"
                                   "sts =\n"
                                   "  endpoint_url = https://sts.services.example\n";

/* Resolves env against PROFILE's profile; returns awsendpoint_resolve's answer. */
static int resolve(struct awsendpoint *ep, struct fake_env *env, const char *profile, struct buf *err)
{
    struct buf perr = BUF_INIT;
    struct awsprofile_set *set = awsprofile_parse(PROFILE, strlen(PROFILE), AWSPROFILE_CONFIG, &perr);
    buf_reset(err);
    int rc = awsendpoint_resolve(ep, fake_env_lookup, env, set, profile, err);
    awsprofile_set_free(set);
    buf_clean_up(&perr);
    return rc;
}

static void test_region(void)
{
    struct awsendpoint ep;
    struct buf err = BUF_INIT;
    struct fake_env both = {{{"AWS_REGION", "us-west-1"}, {"AWS_DEFAULT_REGION", "us-east-2"}}};
    CHECK_INT_EQ(resolve(&ep, &both, "default", &err), 0);
    CHECK_STR_EQ(ep.region, "us-west-1");
    CHECK_STR_EQ(ep.region_from, "AWS_REGION");
    awsendpoint_clean_up(&ep);

    struct fake_env legacy = {{{"AWS_DEFAULT_REGION", "us-east-2"}}};
    CHECK_INT_EQ(resolve(&ep, &legacy, "default", &err), 0);
    CHECK_STR_EQ(ep.region, "us-east-2");
    CHECK_STR_EQ(ep.region_from, "AWS_DEFAULT_REGION");
    awsendpoint_clean_up(&ep);

    /* Set but empty is an error, not the next source or the default (issue 9). */
    struct fake_env empty = {{{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "us-east-2"}}};
    buf_reset(&err);
    CHECK_INT_EQ(resolve(&ep, &empty, "default", &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_REGION: set but empty; unset it or name a region (us-east-1)");
    awsendpoint_clean_up(&ep);
    struct fake_env empty_default = {{{"AWS_DEFAULT_REGION", ""}}};
    buf_reset(&err);
    CHECK_INT_EQ(resolve(&ep, &empty_default, "default", &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_DEFAULT_REGION: set but empty; unset it or name a region (us-east-1)");
    awsendpoint_clean_up(&ep);

    struct fake_env none = {{{NULL, NULL}}};
    CHECK_INT_EQ(resolve(&ep, &none, "default", &err), 0);
    CHECK_STR_EQ(ep.region, "eu-central-1");
    CHECK_STR_EQ(ep.region_from, "profile");
    awsendpoint_clean_up(&ep);

    CHECK_INT_EQ(resolve(&ep, &none, "global-only", &err), 0);
    CHECK_STR_EQ(ep.region, "us-east-1");
    CHECK_STR_EQ(ep.region_from, "default");
    awsendpoint_clean_up(&ep);

    CHECK_INT_EQ(awsendpoint_resolve(&ep, fake_env_lookup, &none, NULL, "default", &err), 0); /* no files at all */
    CHECK_STR_EQ(ep.region, "us-east-1");
    CHECK_STR_EQ(ep.dynamodb_url, "https://dynamodb.us-east-1.amazonaws.com");
    awsendpoint_clean_up(&ep);

    CHECK_INT_EQ(resolve(&ep, &none, "bad-region", &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "region (profile bad-region): 'Not_A_Region' is not a region name");
    awsendpoint_clean_up(&ep);
    struct fake_env bad = {{{"AWS_REGION", "us-east-1/../x"}}};
    CHECK_INT_EQ(resolve(&ep, &bad, "default", &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_REGION: 'us-east-1/../x' is not a region name");
    awsendpoint_clean_up(&ep);

    CHECK_INT_EQ(awsendpoint_region_valid("us-east-1"), 1);
    CHECK_INT_EQ(awsendpoint_region_valid("local"), 1);
    CHECK_INT_EQ(awsendpoint_region_valid(""), 0);
    CHECK_INT_EQ(awsendpoint_region_valid("-us"), 0);
    CHECK_INT_EQ(awsendpoint_region_valid("us-"), 0);
    CHECK_INT_EQ(awsendpoint_region_valid("US-EAST-1"), 0);
    CHECK_INT_EQ(awsendpoint_region_valid("us.east"), 0);
    CHECK_INT_EQ(awsendpoint_region_valid("a234567890123456789012345678901234567890123456789012345678901234"), 0);
    CHECK_INT_EQ(awsendpoint_region_valid("a23456789012345678901234567890123456789012345678901234567890123"), 1);
    buf_clean_up(&err);
}

static void test_configured_precedence(void)
{
    struct awsendpoint ep;
    struct buf err = BUF_INIT;
    struct fake_env all = {{{"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000/"},
                            {"AWS_ENDPOINT_URL", "http://127.0.0.1:5000"},
                            {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5001"},
                            {"DYNAMODB_ENDPOINT", "http://127.0.0.1:9999"}}};
    CHECK_INT_EQ(resolve(&ep, &all, "full", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "http://127.0.0.1:8000");
    CHECK_STR_EQ(ep.dynamodb_from, "AWS_ENDPOINT_URL_DYNAMODB");
    CHECK_STR_EQ(ep.sts_url, "http://127.0.0.1:5001");
    CHECK_STR_EQ(ep.sts_from, "AWS_ENDPOINT_URL_STS");
    awsendpoint_clean_up(&ep);

    struct fake_env global = {{{"AWS_ENDPOINT_URL_DYNAMODB", ""}, {"AWS_ENDPOINT_URL", "http://127.0.0.1:5000"},
                               {"DYNAMODB_ENDPOINT", "http://127.0.0.1:9999"}}};
    CHECK_INT_EQ(resolve(&ep, &global, "full", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "http://127.0.0.1:5000");
    CHECK_STR_EQ(ep.dynamodb_from, "AWS_ENDPOINT_URL");
    CHECK_STR_EQ(ep.sts_url, "http://127.0.0.1:5000");
    CHECK_STR_EQ(ep.sts_from, "AWS_ENDPOINT_URL");
    awsendpoint_clean_up(&ep);

    struct fake_env legacy = {{{"DYNAMODB_ENDPOINT", "http://127.0.0.1:9999"}}};
    CHECK_INT_EQ(resolve(&ep, &legacy, "full", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "https://ddb.services.example");
    CHECK_STR_EQ(ep.dynamodb_from, "services svc (profile full)");
    CHECK_STR_EQ(ep.sts_url, "https://sts.services.example");
    CHECK_STR_EQ(ep.sts_from, "services svc (profile full)");
    awsendpoint_clean_up(&ep);

    CHECK_INT_EQ(resolve(&ep, &legacy, "global-only", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "https://global.example");
    CHECK_STR_EQ(ep.dynamodb_from, "endpoint_url (profile global-only)");
    CHECK_STR_EQ(ep.sts_url, "https://global.example");
    awsendpoint_clean_up(&ep);

    CHECK_INT_EQ(resolve(&ep, &legacy, "default", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "http://127.0.0.1:9999");
    CHECK_STR_EQ(ep.dynamodb_from, "DYNAMODB_ENDPOINT");
    CHECK_STR_EQ(ep.sts_url, "https://sts.eu-central-1.amazonaws.com"); /* the legacy name is DynamoDB's only */
    CHECK_STR_EQ(ep.sts_from, "default");
    awsendpoint_clean_up(&ep);
    buf_clean_up(&err);
}

static void test_ignore_configured(void)
{
    struct awsendpoint ep;
    struct buf err = BUF_INIT;
    struct fake_env env = {{{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"},
                            {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"},
                            {"AWS_ENDPOINT_URL", "http://127.0.0.1:5000"},
                            {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5001"},
                            {"DYNAMODB_ENDPOINT", "http://127.0.0.1:9999"}}};
    CHECK_INT_EQ(resolve(&ep, &env, "full", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "https://dynamodb.ap-southeast-2.amazonaws.com");
    CHECK_STR_EQ(ep.dynamodb_from, "default");
    CHECK_STR_EQ(ep.sts_url, "https://sts.ap-southeast-2.amazonaws.com");
    awsendpoint_clean_up(&ep);

    /* The profile's own switch, and the environment overriding it both ways. */
    struct fake_env none = {{{NULL, NULL}}};
    CHECK_INT_EQ(resolve(&ep, &none, "ignoring", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "https://dynamodb.us-east-1.amazonaws.com");
    awsendpoint_clean_up(&ep);
    struct fake_env no = {{{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "FALSE"}}};
    CHECK_INT_EQ(resolve(&ep, &no, "ignoring", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "https://global.example");
    awsendpoint_clean_up(&ep);

    struct fake_env bad = {{{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "1"}}};
    CHECK_INT_EQ(resolve(&ep, &bad, "default", &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: '1' is not true or false");
    awsendpoint_clean_up(&ep);
    buf_clean_up(&err);
}

static void test_variants(void)
{
    static const struct {
        const char *region, *fips, *dualstack, *dynamodb, *sts;
    } cases[] = {
        {"us-east-1", NULL, NULL, "https://dynamodb.us-east-1.amazonaws.com", "https://sts.us-east-1.amazonaws.com"},
        {"eu-west-1", "true", NULL, "https://dynamodb-fips.eu-west-1.amazonaws.com",
         "https://sts-fips.eu-west-1.amazonaws.com"},
        {"eu-west-1", "false", "true", "https://dynamodb.eu-west-1.api.aws", "https://sts.eu-west-1.api.aws"},
        {"us-west-2", "True", "TRUE", "https://dynamodb-fips.us-west-2.api.aws", "https://sts-fips.us-west-2.api.aws"},
        {"cn-north-1", NULL, NULL, "https://dynamodb.cn-north-1.amazonaws.com.cn",
         "https://sts.cn-north-1.amazonaws.com.cn"},
        {"cn-northwest-1", "true", NULL, "https://dynamodb-fips.cn-northwest-1.amazonaws.com.cn",
         "https://sts-fips.cn-northwest-1.amazonaws.com.cn"},
        {"cn-north-1", NULL, "true", "https://dynamodb.cn-north-1.api.amazonwebservices.com.cn",
         "https://sts.cn-north-1.api.amazonwebservices.com.cn"},
        {"us-gov-west-1", NULL, NULL, "https://dynamodb.us-gov-west-1.amazonaws.com",
         "https://sts.us-gov-west-1.amazonaws.com"},
        {"us-gov-west-1", "true", NULL, "https://dynamodb.us-gov-west-1.amazonaws.com",
         "https://sts.us-gov-west-1.amazonaws.com"},
        {"us-gov-east-1", "true", "true", "https://dynamodb-fips.us-gov-east-1.api.aws",
         "https://sts-fips.us-gov-east-1.api.aws"},
        {"us-iso-east-1", NULL, NULL, "https://dynamodb.us-iso-east-1.c2s.ic.gov", "https://sts.us-iso-east-1.c2s.ic.gov"},
        {"us-isob-east-1", "true", NULL, "https://dynamodb-fips.us-isob-east-1.sc2s.sgov.gov",
         "https://sts-fips.us-isob-east-1.sc2s.sgov.gov"},
        {"eu-isoe-west-1", NULL, NULL, "https://dynamodb.eu-isoe-west-1.cloud.adc-e.uk",
         "https://sts.eu-isoe-west-1.cloud.adc-e.uk"},
        {"us-isof-south-1", NULL, NULL, "https://dynamodb.us-isof-south-1.csp.hci.ic.gov",
         "https://sts.us-isof-south-1.csp.hci.ic.gov"},
        {"local", NULL, NULL, "http://localhost:8000", "https://sts.local.amazonaws.com"},
    };
    struct buf err = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_env env = {{{"AWS_REGION", cases[i].region},
                                {"AWS_USE_FIPS_ENDPOINT", cases[i].fips},
                                {"AWS_USE_DUALSTACK_ENDPOINT", cases[i].dualstack}}};
        struct awsendpoint ep;
        CHECK_INT_EQ(resolve(&ep, &env, "default", &err), 0);
        CHECK_STR_EQ(buf_cstr(&err), "");
        CHECK_STR_EQ(ep.dynamodb_url, cases[i].dynamodb);
        CHECK_STR_EQ(ep.sts_url, cases[i].sts);
        CHECK_STR_EQ(ep.dynamodb_from, "default");
        awsendpoint_clean_up(&ep);
    }
    /* The profile's switches, when the environment says nothing. */
    struct fake_env none = {{{NULL, NULL}}};
    struct awsendpoint ep;
    CHECK_INT_EQ(resolve(&ep, &none, "fips", &err), 0);
    CHECK_INT_EQ(ep.use_fips, 1);
    CHECK_INT_EQ(ep.use_dualstack, 1);
    CHECK_STR_EQ(ep.dynamodb_url, "https://dynamodb-fips.us-west-2.api.aws");
    awsendpoint_clean_up(&ep);
    struct fake_env off = {{{"AWS_USE_FIPS_ENDPOINT", "false"}, {"AWS_USE_DUALSTACK_ENDPOINT", "false"}}};
    CHECK_INT_EQ(resolve(&ep, &off, "fips", &err), 0);
    CHECK_STR_EQ(ep.dynamodb_url, "https://dynamodb.us-west-2.amazonaws.com");
    awsendpoint_clean_up(&ep);
    buf_clean_up(&err);
}

static void test_refusals(void)
{
    static const struct {
        const char *pairs[3][2];
        const char *profile;
        const char *error;
    } cases[] = {
        {{{"AWS_USE_FIPS_ENDPOINT", "yes"}}, "default", "AWS_USE_FIPS_ENDPOINT: 'yes' is not true or false"},
        {{{"AWS_USE_DUALSTACK_ENDPOINT", "1"}}, "default", "AWS_USE_DUALSTACK_ENDPOINT: '1' is not true or false"},
        {{{NULL, NULL}}, "bad-bool", "use_fips_endpoint (profile bad-bool): 'yes please' is not true or false"},
        {{{"AWS_USE_FIPS_ENDPOINT", "true"}, {"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"}}, "default",
         "AWS_ENDPOINT_URL_DYNAMODB: a configured endpoint cannot be combined with AWS_USE_FIPS_ENDPOINT or "
         "AWS_USE_DUALSTACK_ENDPOINT (the SDKs refuse it too)"},
        {{{"AWS_USE_DUALSTACK_ENDPOINT", "true"}}, "global-only",
         "endpoint_url (profile global-only): a configured endpoint cannot be combined with AWS_USE_FIPS_ENDPOINT "
         "or AWS_USE_DUALSTACK_ENDPOINT (the SDKs refuse it too)"},
        {{{"AWS_USE_DUALSTACK_ENDPOINT", "true"}, {"AWS_REGION", "us-iso-east-1"}}, "default",
         "AWS_USE_DUALSTACK_ENDPOINT: dual-stack endpoints do not exist in region us-iso-east-1"},
        {{{"AWS_USE_FIPS_ENDPOINT", "true"}, {"AWS_REGION", "local"}}, "default",
         "AWS_REGION: region local (DynamoDB Local) has no FIPS or dual-stack endpoint"},
    };
    struct buf err = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake_env env = {{{cases[i].pairs[0][0], cases[i].pairs[0][1]},
                                {cases[i].pairs[1][0], cases[i].pairs[1][1]}}};
        struct awsendpoint ep;
        CHECK_INT_EQ(resolve(&ep, &env, cases[i].profile, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), cases[i].error);
        awsendpoint_clean_up(&ep);
        CHECK(ep.region == NULL && ep.dynamodb_url == NULL);
    }
    struct buf out = BUF_INIT;
    buf_reset(&err);
    CHECK_INT_EQ(awsendpoint_default_url("sts", "us-isob-east-1", 1, 1, &out, &err), -1);
    CHECK_STR_EQ(buf_cstr(&out), "");
    CHECK_INT_EQ(awsendpoint_default_url("s3", "eu-south-2", 0, 0, &out, &err), 0);
    CHECK_STR_EQ(buf_cstr(&out), "https://s3.eu-south-2.amazonaws.com");
    buf_clean_up(&out);
    buf_clean_up(&err);
}

int main(void)
{
    RUN(test_region);
    RUN(test_configured_precedence);
    RUN(test_ignore_configured);
    RUN(test_variants);
    RUN(test_refusals);
    return check_summary();
}
