/* test_credsparse: STS XML answers (success, entities, namespaces, comments, errors, every way of
 * being malformed), container / IMDS / credential_process JSON (required fields, Code, Version, a 200
 * without keys), RFC 3339 timestamps against timegm's answers, expiry arithmetic at its boundaries,
 * the container URI and host rules and the CR/LF token rule, IMDS settings and role name, the STS
 * form bodies, and session names. */
#include "credsparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fake_env.h"


static const char *const WEB_IDENTITY_OK =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <SubjectFromWebIdentityToken>system:serviceaccount:ns:app</SubjectFromWebIdentityToken>\n"
    "    <Audience>sts.amazonaws.com</Audience>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/app/s</Arn>\n"
    "      <AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAEXAMPLEKEY</AccessKeyId>\n"
    "      <SecretAccessKey>wJalr/K7MDENG+bPxRfiCY&amp;KEY</SecretAccessKey>\n"
    "      <!-- a comment -->\n"
    "      <SessionToken>IQoJb3&lt;&gt;&quot;&apos;&#65;&#x42;</SessionToken>\n"
    "      <Expiration>2026-11-28T21:00:00Z</Expiration>\n"
    "    </Credentials>\n"
    "    <Provider>arn:aws:iam::123456789012:oidc-provider/x</Provider>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

static int sts(const char *xml, const char *action, struct credsparse_creds *c, struct buf *err)
{
    buf_reset(err);
    return credsparse_sts_xml(xml, strlen(xml), action, c, err);
}

static void test_sts_ok(void)
{
    struct credsparse_creds c;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(sts(WEB_IDENTITY_OK, "AssumeRoleWithWebIdentity", &c, &err), 0);
    CHECK_STR_EQ(buf_cstr(&err), "");
    CHECK_STR_EQ(c.access_key_id, "ASIAEXAMPLEKEY");
    CHECK_STR_EQ(c.secret_access_key, "wJalr/K7MDENG+bPxRfiCY&KEY");
    CHECK_STR_EQ(c.session_token, "IQoJb3<>\"'AB");
    CHECK_INT_EQ(c.expiration, 1795899600);
    credsparse_creds_clean_up(&c);
    CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
    credsparse_creds_clean_up(&c);

    /* AssumeRole: another root, fractional seconds, no XML declaration, attributes and prefixes. */
    const char *ar = "<AssumeRoleResponse xmlns='https://sts.amazonaws.com/doc/2011-06-15/'>"
                     "<AssumeRoleResult><Credentials a=\"x>y\">"
                     "<AccessKeyId>AKID</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
                     "<SessionToken>T</SessionToken><Expiration>2011-07-15T23:28:33.359Z</Expiration>"
                     "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
    CHECK_INT_EQ(sts(ar, "AssumeRole", &c, &err), 0);
    CHECK_STR_EQ(c.access_key_id, "AKID");
    CHECK_INT_EQ(c.expiration, 1310772513);
    credsparse_creds_clean_up(&c);
    /* The same answer for the other action is not accepted. */
    CHECK_INT_EQ(sts(ar, "AssumeRoleWithWebIdentity", &c, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "STS: the answer is not an AssumeRoleWithWebIdentityResponse");
    CHECK(c.access_key_id == NULL);
    buf_clean_up(&err);
}

/* A key or token goes into a header line: an encoded CR or LF (or a space) in one is refused, whichever
 * endpoint answered, so a metadata stand-in or STS cannot add headers to DynamoDB requests. */
static void test_keys_are_header_safe(void)
{
    struct credsparse_creds c;
    struct buf err = BUF_INIT;
    const char *xml = "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
                      "<AccessKeyId>AKID</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
                      "<SessionToken>T&#13;&#10;X-Injected: 1</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
                      "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
    CHECK_INT_EQ(sts(xml, "AssumeRole", &c, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "STS: a key or token holds a space or a control character");
    CHECK(c.access_key_id == NULL);
    const char *json = "{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"S\",\"Token\":\"T\\r\\nX: 1\","
                       "\"Expiration\":\"2030-01-01T00:00:00Z\"}";
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_container_json(json, strlen(json), &c, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "container credentials: a key or token holds a space or a control character");
    const char *spaced = "{\"Version\":1,\"AccessKeyId\":\"AK ID\",\"SecretAccessKey\":\"S\"}";
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_process_json(spaced, strlen(spaced), &c, &err), -1);
    CHECK(strstr(buf_cstr(&err), "a key or token holds a space or a control character") != NULL);
    buf_clean_up(&err);
}

static void test_sts_error(void)
{
    struct credsparse_creds c;
    struct buf err = BUF_INIT;
    const char *e = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
                    "  <Error>\n"
                    "    <Type>Sender</Type>\n"
                    "    <Code>InvalidIdentityToken</Code>\n"
                    "    <Message>Couldn&apos;t retrieve\nverification key</Message>\n"
                    "  </Error>\n"
                    "  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
                    "</ErrorResponse>\n";
    CHECK_INT_EQ(sts(e, "AssumeRoleWithWebIdentity", &c, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "STS InvalidIdentityToken: Couldn't retrieve verification key");
    const char *no_message = "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>";
    CHECK_INT_EQ(sts(no_message, "AssumeRole", &c, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "STS AccessDenied");
    struct buf longmsg = BUF_INIT;
    buf_append_str(&longmsg, "<ErrorResponse><Error><Code>X</Code><Message>");
    for (int i = 0; i < 100; i++)
        buf_append_str(&longmsg, "0123456789");
    buf_append_str(&longmsg, "</Message></Error></ErrorResponse>");
    CHECK_INT_EQ(sts(buf_cstr(&longmsg), "AssumeRole", &c, &err), -1);
    CHECK_INT_EQ(err.len, strlen("STS X: ") + 200 + 3);
    CHECK(strcmp(buf_cstr(&err) + err.len - 3, "...") == 0);
    buf_clean_up(&longmsg);
    buf_clean_up(&err);
}

static void test_sts_malformed(void)
{
    static const struct {
        const char *xml, *error;
    } cases[] = {
        {"", "STS: the answer is not XML"},
        {"not xml", "STS: the answer is not XML"},
        {"{\"json\":true}", "STS: the answer is not XML"},
        {"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>",
         "STS: malformed XML"},
        {"<AssumeRoleResponse></AssumeRoleResult>", "STS: malformed XML"},
        {"<AssumeRoleResponse><x>&bogus;</x></AssumeRoleResponse>", "STS: malformed XML"},
        {"<AssumeRoleResponse><x>a & b</x></AssumeRoleResponse>", "STS: malformed XML"},
        {"<AssumeRoleResponse><x>&#0;</x></AssumeRoleResponse>", "STS: malformed XML"},
        {"<AssumeRoleResponse><x>&#x110000;</x></AssumeRoleResponse>", "STS: malformed XML"},
        {"<!DOCTYPE x [<!ENTITY e \"boom\">]><AssumeRoleResponse/>", "STS: malformed XML"},
        {"<AssumeRoleResponse><x><![CDATA[x]]></x></AssumeRoleResponse>", "STS: malformed XML"},
        {"<AssumeRoleResponse><!-- unterminated </AssumeRoleResponse>", "STS: malformed XML"},
        {"<AssumeRoleResponse a=\"unterminated></AssumeRoleResponse>", "STS: malformed XML"},
        {"<AssumeRoleResponse></AssumeRoleResponse><Second/>", "STS: malformed XML"},
        {"<AssumeRoleResponse></AssumeRoleResponse>trailing", "STS: malformed XML"},
        {"<AssumeRoleResponse/>", "STS: the answer has no Credentials"},
        {"<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>", "STS: the answer has no Credentials"},
        {"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
         "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken></Credentials>"
         "</AssumeRoleResult></AssumeRoleResponse>",
         "STS: Credentials has no Expiration"},
        {"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId></AccessKeyId>"
         "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2026-01-01T00:00:00Z"
         "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
         "STS: Credentials has no AccessKeyId"},
        {"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><AccessKeyId>B"
         "</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>"
         "2026-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
         "STS: Credentials has AccessKeyId twice"},
        {"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
         "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>tomorrow"
         "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
         "STS: Expiration is not an RFC 3339 time"},
        /* 0 is "does not expire": an Expiration at (or before) the epoch must not read as one. */
        {"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
         "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>1970-01-01T01:00:00+01:00"
         "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
         "STS: Expiration is not after 1970-01-01T00:00:00Z"},
        /* Credentials anywhere but under the Result do not count. */
        {"<AssumeRoleResponse><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
         "<SessionToken>T</SessionToken><Expiration>2026-01-01T00:00:00Z</Expiration></Credentials>"
         "</AssumeRoleResponse>",
         "STS: the answer has no Credentials"},
        {"<ErrorResponse><Error><Message>no code</Message></Error></ErrorResponse>", "STS: an error without a Code"},
    };
    struct buf err = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct credsparse_creds c;
        CHECK_INT_EQ(sts(cases[i].xml, "AssumeRole", &c, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), cases[i].error);
        CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
    }
    /* Deep nesting is refused, not recursed into. */
    struct buf deep = BUF_INIT;
    for (int i = 0; i < 100; i++)
        buf_append_str(&deep, "<a>");
    struct credsparse_creds c;
    CHECK_INT_EQ(sts(buf_cstr(&deep), "AssumeRole", &c, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "STS: malformed XML");
    /* A body that is not NUL-terminated: only len bytes are read. */
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_sts_xml(WEB_IDENTITY_OK, strlen(WEB_IDENTITY_OK) - 40, "AssumeRoleWithWebIdentity", &c,
                                    &err),
                 -1);
    CHECK_STR_EQ(buf_cstr(&err), "STS: malformed XML");
    /* A raw NUL byte (XML allows none) is refused, wherever it is: in a value it would cut the string
     * the caller gets, down to an empty AccessKeyId or a truncated token (fuzz_credsparse found it). */
    static const char *const nul_at[] = {"<AccessKeyId>", "<SessionToken>IQoJb3", "<Credentials>"};
    for (size_t i = 0; i < sizeof nul_at / sizeof nul_at[0]; i++) {
        struct buf body = BUF_INIT;
        const char *at = strstr(WEB_IDENTITY_OK, nul_at[i]) + strlen(nul_at[i]);
        buf_append(&body, WEB_IDENTITY_OK, (size_t)(at - WEB_IDENTITY_OK));
        buf_append_char(&body, '\0');
        buf_append_str(&body, at);
        buf_reset(&err);
        CHECK_INT_EQ(credsparse_sts_xml(body.data, body.len, "AssumeRoleWithWebIdentity", &c, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), "STS: malformed XML");
        CHECK(c.access_key_id == NULL && c.session_token == NULL);
        credsparse_creds_clean_up(&c);
        buf_clean_up(&body);
    }
    buf_clean_up(&deep);
    buf_clean_up(&err);
}

static int json(int (*parse)(const char *, size_t, struct credsparse_creds *, struct buf *), const char *body,
                struct credsparse_creds *c, struct buf *err)
{
    buf_reset(err);
    return parse(body, strlen(body), c, err);
}

static void test_container_imds_json(void)
{
    struct credsparse_creds c;
    struct buf err = BUF_INIT;
    const char *ecs = "{\"RoleArn\":\"arn:aws:iam::1:role/task\",\"AccessKeyId\":\"ASIAECS\","
                      "\"SecretAccessKey\":\"secret\",\"Token\":\"tok\",\"Expiration\":\"2019-05-29T00:21:43Z\"}";
    CHECK_INT_EQ(json(credsparse_container_json, ecs, &c, &err), 0);
    CHECK_STR_EQ(c.access_key_id, "ASIAECS");
    CHECK_STR_EQ(c.secret_access_key, "secret");
    CHECK_STR_EQ(c.session_token, "tok");
    CHECK_INT_EQ(c.expiration, 1559089303);
    credsparse_creds_clean_up(&c);

    const char *imds = "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2019-05-28T18:03:09Z\",\n"
                       "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAIMDS\",\n"
                       "  \"SecretAccessKey\" : \"s\",\n  \"Token\" : \"t\",\n"
                       "  \"Expiration\" : \"2019-05-29T00:21:43Z\"\n}";
    CHECK_INT_EQ(json(credsparse_imds_json, imds, &c, &err), 0);
    CHECK_STR_EQ(c.access_key_id, "ASIAIMDS");
    CHECK_INT_EQ(c.expiration, 1559089303);
    credsparse_creds_clean_up(&c);
    CHECK_INT_EQ(json(credsparse_container_json, imds, &c, &err), 0); /* Code Success is fine there too */
    credsparse_creds_clean_up(&c);

    static const struct {
        int imds;
        const char *body, *error;
    } bad[] = {
        {1, "{\"Code\":\"Success\"}", "IMDS credentials: AccessKeyId missing or not a string"},
        {1, "{}", "IMDS credentials: Code is not Success"},
        {1, "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"x\"}", "IMDS credentials: Code is not Success"},
        {1, "{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":"
            "\"2019-05-29T00:21:43Z\"}", "IMDS credentials: Token missing or not a string"},
        {0, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\"}",
         "container credentials: Expiration missing or not a string"},
        {0, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"soon\"}",
         "container credentials: Expiration is not an RFC 3339 time"},
        {0, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"1970-01-01T00:00:00Z\"}",
         "container credentials: Expiration is not after 1970-01-01T00:00:00Z"},
        {1, "{\"Code\":\"Success\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
            "\"1969-12-31T23:59:59Z\"}", "IMDS credentials: Expiration is not after 1970-01-01T00:00:00Z"},
        {0, "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"2019-05-29T00:21:43Z\"}",
         "container credentials: AccessKeyId missing or not a string"},
        {0, "{\"AccessKeyId\":7,\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"2019-05-29T00:21:43Z\"}",
         "container credentials: AccessKeyId missing or not a string"},
        {0, "{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
            "\"2019-05-29T00:21:43Z\"}", "container credentials: Code is not Success"},
        {0, "{\"AccessKeyId\":\"A\",\"AccessKeyId\":\"B\"}", "container credentials: not a JSON object"},
        {0, "[]", "container credentials: not a JSON object"},
        {0, "", "container credentials: not a JSON object"},
        {0, "<html>", "container credentials: not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(json(bad[i].imds ? credsparse_imds_json : credsparse_container_json, bad[i].body, &c, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), bad[i].error);
        CHECK(c.access_key_id == NULL && c.secret_access_key == NULL);
    }
    buf_clean_up(&err);
}

static void test_process_json(void)
{
    struct credsparse_creds c;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(json(credsparse_process_json,
                      "{\"Version\": 1, \"AccessKeyId\": \"AKIDP\", \"SecretAccessKey\": \"SP\", "
                      "\"SessionToken\": \"TP\", \"Expiration\": \"2026-11-28T22:00:00+01:00\"}",
                      &c, &err),
                 0);
    CHECK_STR_EQ(c.access_key_id, "AKIDP");
    CHECK_STR_EQ(c.session_token, "TP");
    CHECK_INT_EQ(c.expiration, 1795899600);
    credsparse_creds_clean_up(&c);
    CHECK_INT_EQ(json(credsparse_process_json, "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", &c,
                      &err),
                 0);
    CHECK(c.session_token == NULL);
    CHECK_INT_EQ(c.expiration, 0);
    credsparse_creds_clean_up(&c);
    static const struct {
        const char *body, *error;
    } bad[] = {
        {"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", "credential_process: Version is not 1"},
        {"{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", "credential_process: Version is not 1"},
        {"{\"Version\":\"1\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", "credential_process: Version is not 1"},
        {"{\"Version\":1,\"SecretAccessKey\":\"S\"}", "credential_process: AccessKeyId missing or not a string"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\"}", "credential_process: SecretAccessKey missing or not a string"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"SessionToken\":5}",
         "credential_process: SessionToken is not a string"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"2026-13-01T00:00:00Z\"}",
         "credential_process: Expiration is not an RFC 3339 time"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"1970-01-01T00:00:00.5Z\"}",
         "credential_process: Expiration is not after 1970-01-01T00:00:00Z"},
        {"Enter MFA code:", "credential_process: not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(json(credsparse_process_json, bad[i].body, &c, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), bad[i].error);
    }
    buf_clean_up(&err);
}

static int64_t ts(const char *s)
{
    int64_t v = -12345;
    return credsparse_timestamp(s, strlen(s), &v) == 0 ? v : -12345;
}

static void test_timestamps(void)
{
    CHECK_INT_EQ(credsparse_days_from_civil(1970, 1, 1), 0);
    CHECK_INT_EQ(credsparse_days_from_civil(1969, 12, 31), -1);
    CHECK_INT_EQ(credsparse_days_from_civil(2000, 3, 1), 11017);
    CHECK_INT_EQ(credsparse_days_from_civil(0, 3, 1), -719468);

    CHECK_INT_EQ(ts("2026-11-28T21:00:00Z"), 1795899600);
    CHECK_INT_EQ(ts("1970-01-01T00:00:00Z"), 0);
    CHECK_INT_EQ(ts("1969-12-31T23:59:59Z"), -1);
    CHECK_INT_EQ(ts("2000-02-29T12:34:56Z"), 951827696);
    CHECK_INT_EQ(ts("2024-02-29T00:00:00Z"), 1709164800);
    CHECK_INT_EQ(ts("2100-03-01T00:00:00Z"), 4107542400LL);
    CHECK_INT_EQ(ts("9999-12-31T23:59:59Z"), 253402300799LL);
    CHECK_INT_EQ(ts("2026-11-28T21:00:00.999999999Z"), 1795899600); /* fractions are dropped */
    CHECK_INT_EQ(ts("2026-11-28T21:00:00.5Z"), 1795899600);
    CHECK_INT_EQ(ts("2026-11-28t21:00:00z"), 1795899600);
    CHECK_INT_EQ(ts("2026-11-28T21:00:00+00:00"), 1795899600);
    CHECK_INT_EQ(ts("2026-11-28T21:00:00-00:00"), 1795899600);
    CHECK_INT_EQ(ts("2026-11-28T23:30:00+02:30"), 1795899600);
    CHECK_INT_EQ(ts("2026-11-28T16:00:00-05:00"), 1795899600);
    CHECK_INT_EQ(ts("2026-11-28T20:59:60Z"), 1795899600); /* a leap second */

    static const char *const bad[] = {
        "", "2026-11-28", "2026-11-28T21:00:00", "2026-11-28 21:00:00Z", "2026-11-28T21:00Z",
        "2026-11-28T21:00:00.Z", "2026-11-28T21:00:00ZZ", "2026-11-28T21:00:00+0000", "2026-11-28T21:00:00+24:00",
        "2026-11-28T21:00:00+01:60", "2026-13-28T21:00:00Z", "2026-00-28T21:00:00Z", "2026-11-31T21:00:00Z",
        "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-11-00T21:00:00Z", "2026-11-28T24:00:00Z",
        "2026-11-28T21:60:00Z", "2026-11-28T21:00:61Z", "26-11-28T21:00:00Z", "+2026-11-28T21:00:00Z",
        "2026-1-28T21:00:00Z", "2026-11-28T21:00:0aZ", "1795899600",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 77;
        CHECK_INT_EQ(credsparse_timestamp(bad[i], strlen(bad[i]), &v), -1);
        CHECK_INT_EQ(v, 77);
        if (credsparse_timestamp(bad[i], strlen(bad[i]), &v) != -1)
            fprintf(stderr, "     accepted [%s]\n", bad[i]);
    }
    /* Only len bytes count. */
    int64_t v = 0;
    CHECK_INT_EQ(credsparse_timestamp("2026-11-28T21:00:00Zjunk", 20, &v), 0);
    CHECK_INT_EQ(v, 1795899600);
}

static void test_expiry(void)
{
    const int64_t exp = 1795899600;
    CHECK_INT_EQ(credsparse_should_refresh(0, exp, 300), 0); /* never expires */
    CHECK_INT_EQ(credsparse_should_refresh(exp, exp - 301, 300), 0);
    CHECK_INT_EQ(credsparse_should_refresh(exp, exp - 300, 300), 1);
    CHECK_INT_EQ(credsparse_should_refresh(exp, exp, 300), 1);
    CHECK_INT_EQ(credsparse_should_refresh(exp, exp + 3600, 300), 1);
    CHECK_INT_EQ(credsparse_should_refresh(exp, exp - 1, 0), 0);
    CHECK_INT_EQ(credsparse_should_refresh(exp, exp, 0), 1);
    /* No overflow at the ends of the range: 2^63 + exp seconds away is beyond a 2^63 - 1 window. */
    CHECK_INT_EQ(credsparse_should_refresh(exp, INT64_MIN, INT64_MAX), 0);
    CHECK_INT_EQ(credsparse_should_refresh(INT64_MAX, INT64_MAX - 5, 5), 1);
    CHECK_INT_EQ(credsparse_should_refresh(INT64_MAX, INT64_MAX - 6, 5), 0);
    CHECK_INT_EQ(credsparse_should_refresh(INT64_MAX, INT64_MIN, 300), 0);
    CHECK_INT_EQ(credsparse_valid_at(0, exp), 1);
    CHECK_INT_EQ(credsparse_valid_at(exp, exp - 1), 1);
    CHECK_INT_EQ(credsparse_valid_at(exp, exp), 0);
    CHECK_INT_EQ(credsparse_valid_at(exp, exp + 1), 0);
}

static void test_container_config(void)
{
    struct credsparse_container c;
    struct buf err = BUF_INIT;
    struct fake_env none = {{{NULL, NULL}}};
    CHECK_INT_EQ(credsparse_container_config(&c, fake_env_lookup, &none, &err), 1);
    credsparse_container_clean_up(&c);

    struct fake_env rel = {{{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc?x=1"},
                            {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/ignored"},
                            {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"}}};
    CHECK_INT_EQ(credsparse_container_config(&c, fake_env_lookup, &rel, &err), 0);
    CHECK_STR_EQ(c.url, "http://169.254.170.2/v2/credentials/abc?x=1");
    CHECK_STR_EQ(c.token, "tok");
    CHECK(c.token_file == NULL);
    credsparse_container_clean_up(&c);
    CHECK(c.url == NULL);

    struct fake_env full = {{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/token"},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"}}};
    CHECK_INT_EQ(credsparse_container_config(&c, fake_env_lookup, &full, &err), 0);
    CHECK_STR_EQ(c.url, "http://169.254.170.23/v1/credentials");
    CHECK_STR_EQ(c.token_file, "/var/run/token");
    credsparse_container_clean_up(&c);

    static const struct {
        const char *name, *value, *error;
    } bad[] = {
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/creds",
         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: 'v2/creds' does not start with '/'"},
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.5/creds",
         "AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://10.0.0.5/creds' is not https and not a loopback, ECS or "
         "EKS Pod Identity address"},
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "/creds",
         "AWS_CONTAINER_CREDENTIALS_FULL_URI: '/creds' is not https and not a loopback, ECS or EKS Pod Identity "
         "address"},
        {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Injected: 1",
         "AWS_CONTAINER_AUTHORIZATION_TOKEN: the token has a CR or LF"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fake_env e = {{{bad[i].name, bad[i].value},
                              {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example/x"}}};
        buf_reset(&err);
        CHECK_INT_EQ(credsparse_container_config(&c, fake_env_lookup, &e, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), bad[i].error);
        credsparse_container_clean_up(&c);
    }
    buf_clean_up(&err);
}

static void test_container_hosts(void)
{
    static const struct {
        const char *url;
        int ok;
    } cases[] = {
        {"https://anything.example/creds", 1},
        {"https://10.0.0.5:8443/creds", 1},
        {"http://127.0.0.1/creds", 1},
        {"http://127.0.0.1:8080/creds", 1},
        {"http://127.255.255.254:1/creds", 1},
        {"http://localhost:8080/creds", 1},
        {"http://LOCALHOST/creds", 1},
        {"http://[::1]:8080/creds", 1},
        {"http://[::1]/creds", 1},
        {"http://169.254.170.2/v2/credentials", 1},
        {"http://169.254.170.23/v1/credentials", 1},
        {"http://[fd00:ec2::23]/v1/credentials", 1},
        {"http://[fd00:ec2:0::23]:80/v1/credentials", 1},
        {"http://169.254.170.3/creds", 0},
        {"http://169.254.169.254/creds", 0},
        {"http://10.0.0.5/creds", 0},
        {"http://128.0.0.1/creds", 0},
        {"http://localhost.evil.example/creds", 0},
        {"http://127.0.0.1.nip.io/creds", 0},
        {"http://[fd00:ec2::24]/creds", 0},
        {"http://[::2]/creds", 0},
        {"http://user@127.0.0.1/creds", 0},
        {"http://127.0.0.1@evil.example/creds", 0},
        {"ftp://127.0.0.1/creds", 0},
        {"HTTPS://x/creds", 0},
        {"http:///creds", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT_EQ(credsparse_container_url_allowed(cases[i].url), cases[i].ok);
        if (credsparse_container_url_allowed(cases[i].url) != cases[i].ok)
            fprintf(stderr, "     url [%s]\n", cases[i].url);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_container_token(void)
{
    char path[] = "/tmp/test_credsparse_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    struct credsparse_container c = {NULL, path, "from-env"};
    struct buf tok = BUF_INIT, err = BUF_INIT;
    write_file(path, "eyJhbGciOi.first");
    CHECK_INT_EQ(credsparse_container_token(&c, &tok, &err), 0);
    CHECK_STR_EQ(buf_cstr(&tok), "eyJhbGciOi.first");
    write_file(path, "eyJhbGciOi.rotated"); /* read again on every fetch */
    CHECK_INT_EQ(credsparse_container_token(&c, &tok, &err), 0);
    CHECK_STR_EQ(buf_cstr(&tok), "eyJhbGciOi.rotated");
    write_file(path, "eyJhbGciOi.rotated\n");
    CHECK_INT_EQ(credsparse_container_token(&c, &tok, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: the token has a CR or LF");
    write_file(path, "a\rb");
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_container_token(&c, &tok, &err), -1);
    unlink(path);
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_container_token(&c, &tok, &err), -1);
    CHECK(strstr(buf_cstr(&err), path) != NULL);

    struct credsparse_container env = {NULL, NULL, "from-env"};
    CHECK_INT_EQ(credsparse_container_token(&env, &tok, &err), 0);
    CHECK_STR_EQ(buf_cstr(&tok), "from-env");
    struct credsparse_container none = {NULL, NULL, NULL};
    CHECK_INT_EQ(credsparse_container_token(&none, &tok, &err), 0);
    CHECK_STR_EQ(buf_cstr(&tok), "");

    CHECK_INT_EQ(credsparse_header_value_ok("abc", 3), 1);
    CHECK_INT_EQ(credsparse_header_value_ok("a\nc", 3), 0);
    CHECK_INT_EQ(credsparse_header_value_ok("a\0c", 3), 0);

    /* The size bound of credsparse_read_token_file. */
    char big[] = "/tmp/test_credsparse_XXXXXX";
    fd = mkstemp(big);
    close(fd);
    write_file(big, "0123456789");
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_read_token_file(big, 10, &tok, &err), 0);
    CHECK_STR_EQ(buf_cstr(&tok), "0123456789");
    CHECK_INT_EQ(credsparse_read_token_file(big, 9, &tok, &err), -1);
    unlink(big);
    buf_clean_up(&tok);
    buf_clean_up(&err);
}

static void test_imds(void)
{
    struct credsparse_imds c;
    struct buf err = BUF_INIT;
    struct fake_env none = {{{NULL, NULL}}};
    CHECK_INT_EQ(credsparse_imds_config(&c, fake_env_lookup, &none, &err), 0);
    CHECK_INT_EQ(c.disabled, 0);
    CHECK_STR_EQ(c.endpoint, "http://169.254.169.254");
    credsparse_imds_clean_up(&c);

    struct fake_env v6 = {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv6"}, {"AWS_EC2_METADATA_DISABLED", "TRUE"}}};
    CHECK_INT_EQ(credsparse_imds_config(&c, fake_env_lookup, &v6, &err), 0);
    CHECK_INT_EQ(c.disabled, 1);
    CHECK_STR_EQ(c.endpoint, "http://[fd00:ec2::254]");
    credsparse_imds_clean_up(&c);

    struct fake_env ep = {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/"},
                           {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"},
                           {"AWS_EC2_METADATA_DISABLED", "false"}}};
    CHECK_INT_EQ(credsparse_imds_config(&c, fake_env_lookup, &ep, &err), 0);
    CHECK_INT_EQ(c.disabled, 0);
    CHECK_STR_EQ(c.endpoint, "http://127.0.0.1:1338"); /* the endpoint beats the mode */
    credsparse_imds_clean_up(&c);

    struct fake_env bad_mode = {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5"}}};
    CHECK_INT_EQ(credsparse_imds_config(&c, fake_env_lookup, &bad_mode, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv5' is not IPv4 or IPv6");
    credsparse_imds_clean_up(&c);
    buf_reset(&err);
    struct fake_env bad_ep = {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254"}}};
    CHECK_INT_EQ(credsparse_imds_config(&c, fake_env_lookup, &bad_ep, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "AWS_EC2_METADATA_SERVICE_ENDPOINT: '169.254.169.254' is not an http:// or "
                                 "https:// URL");
    credsparse_imds_clean_up(&c);

    struct buf role = BUF_INIT;
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_imds_role("my-role_1+=,.@\n", 15, &role, &err), 0);
    CHECK_STR_EQ(buf_cstr(&role), "my-role_1+=,.@");
    CHECK_INT_EQ(credsparse_imds_role("first\r\nsecond\n", 14, &role, &err), 0);
    CHECK_STR_EQ(buf_cstr(&role), "first");
    CHECK_INT_EQ(credsparse_imds_role("  padded  ", 10, &role, &err), 0);
    CHECK_STR_EQ(buf_cstr(&role), "padded");
    CHECK_INT_EQ(credsparse_imds_role("", 0, &role, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "IMDS: the instance has no IAM role");
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_imds_role("\n", 1, &role, &err), -1);
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_imds_role("../../latest/user-data", 22, &role, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "IMDS: the role name is not an IAM role name");
    /* A NUL byte is no role character (strchr finds the terminator): the name would be cut short in the
     * credentials path (fuzz_credsparse found it). */
    buf_reset(&err);
    CHECK_INT_EQ(credsparse_imds_role("us\0ersvc-role\n", 14, &role, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "IMDS: the role name is not an IAM role name");
    buf_clean_up(&role);
    buf_clean_up(&err);
}

static void test_forms(void)
{
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(credsparse_form_encode(&out, "AZaz09-_.~ /+=:&?%\xc3\xa9"), 0);
    CHECK_STR_EQ(buf_cstr(&out), "AZaz09-_.~%20%2F%2B%3D%3A%26%3F%25%C3%A9");
    buf_reset(&out);
    CHECK_INT_EQ(credsparse_sts_web_identity_form(&out, "arn:aws:iam::123456789012:role/app", "usersvc-1795899600",
                                                  "eyJ.a+b/c="),
                 0);
    CHECK_STR_EQ(buf_cstr(&out), "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                                 "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fapp"
                                 "&RoleSessionName=usersvc-1795899600&WebIdentityToken=eyJ.a%2Bb%2Fc%3D");
    buf_reset(&out);
    CHECK_INT_EQ(credsparse_sts_assume_role_form(&out, "arn:aws:iam::1:role/r", "s@x", NULL), 0);
    CHECK_STR_EQ(buf_cstr(&out),
                 "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s%40x");
    buf_reset(&out);
    CHECK_INT_EQ(credsparse_sts_assume_role_form(&out, "arn:aws:iam::1:role/r", "s", "ext id"), 0);
    CHECK_STR_EQ(buf_cstr(&out), "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
                                 "&RoleSessionName=s&ExternalId=ext%20id");
    buf_reset(&out);
    CHECK_INT_EQ(credsparse_session_name(&out, 1795899600), 0);
    CHECK_STR_EQ(buf_cstr(&out), "usersvc-1795899600");
    CHECK_INT_EQ(credsparse_session_name_valid(buf_cstr(&out)), 1);
    CHECK_INT_EQ(credsparse_session_name_valid("ab"), 1);
    CHECK_INT_EQ(credsparse_session_name_valid("a"), 0);
    CHECK_INT_EQ(credsparse_session_name_valid("has space"), 0);
    CHECK_INT_EQ(credsparse_session_name_valid("a/b"), 0);
    CHECK_INT_EQ(credsparse_session_name_valid("1234567890123456789012345678901234567890123456789012345678901234"), 1);
    CHECK_INT_EQ(credsparse_session_name_valid("12345678901234567890123456789012345678901234567890123456789012345"), 0);
    buf_clean_up(&out);
}

int main(void)
{
    RUN(test_sts_ok);
    RUN(test_keys_are_header_safe);
    RUN(test_sts_error);
    RUN(test_sts_malformed);
    RUN(test_container_imds_json);
    RUN(test_process_json);
    RUN(test_timestamps);
    RUN(test_expiry);
    RUN(test_container_config);
    RUN(test_container_hosts);
    RUN(test_container_token);
    RUN(test_imds);
    RUN(test_forms);
    return check_summary();
}
