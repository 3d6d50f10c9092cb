/* test_awsprofile: the shared config and credentials files as the SDKs read them: sections of each
 * file kind, comments (full-line, inline after whitespace, none on continuations), whitespace and
 * CRLF, continuations and sub-properties ([services]), duplicates, key case, fatal and recoverable
 * errors, missing files, the credentials-over-config merge, the environment's file and profile
 * names, and the credential source a profile resolves to (static, web identity, source_profile
 * chains with loop detection, credential_source, credential_process). */
#include "awsprofile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fake_env.h"

static struct awsprofile_set *parse(const char *text, enum awsprofile_file kind, struct buf *err)
{
    buf_reset(err);
    return awsprofile_parse(text, strlen(text), kind, err);
}

/* The value, or "(null)" so CHECK_STR_EQ can tell absent from empty. */
static const char *get(const struct awsprofile_set *set, const char *profile, const char *key)
{
    const char *v = awsprofile_get(set, profile, key);
    return v ? v : "(null)";
}

static void test_sections_config(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse("[default]\n"
                                     "region = us-west-2\n"
                                     "[profile dev]\n"
                                     "region=eu-west-1\n"
                                     "[dev]\n" /* no prefix in the config file: ignored */
                                     "region = ap-south-1\n"
                                     "[profile  spaced ]\n"
                                     "output = json\n"
                                     "[ profile tabbed\t]\n"
                                     "output = text\n"
                                     "[profilex]\n" /* not the prefix: a name, so ignored here */
                                     "output = yaml\n"
                                     "[sso-session corp]\n"
                                     "sso_region = us-east-1\n",
                                     AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(buf_cstr(&err), "");
    CHECK_STR_EQ(get(s, "default", "region"), "us-west-2");
    CHECK_STR_EQ(get(s, "dev", "region"), "eu-west-1");
    CHECK_STR_EQ(get(s, "spaced", "output"), "json");
    CHECK_STR_EQ(get(s, "tabbed", "output"), "text");
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_PROFILE, "profilex"), 0);
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_PROFILE, "corp"), 0);
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_SSO_SESSION, "corp"), 1);
    CHECK_STR_EQ(get(s, "nope", "region"), "(null)");
    CHECK_STR_EQ(get(s, "dev", "nope"), "(null)");
    CHECK_STR_EQ(get(NULL, "dev", "region"), "(null)");
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_sections_credentials(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse("[default]\n"
                                     "aws_access_key_id = AKIDDEFAULT\n"
                                     "[dev]\n"
                                     "aws_access_key_id = AKIDDEV\n"
                                     "[profile prod]\n" /* prefixes are not allowed here: ignored */
                                     "aws_access_key_id = AKIDPROD\n"
                                     "[services x]\n"
                                     "dynamodb =\n"
                                     "  endpoint_url = http://x\n",
                                     AWSPROFILE_CREDENTIALS, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(get(s, "default", "aws_access_key_id"), "AKIDDEFAULT");
    CHECK_STR_EQ(get(s, "dev", "aws_access_key_id"), "AKIDDEV");
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_PROFILE, "prod"), 0);
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_PROFILE, "profile prod"), 0);
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_SERVICES, "x"), 0);
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_comments(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse("# a comment before anything\n"
                                     "; another\n"
                                     "[default] # comment after a section\n"
                                     "a = 1 ; inline after a space\n"
                                     "b = 2\t# inline after a tab\n"
                                     "c = x#y\n"   /* no whitespace before '#': part of the value */
                                     "d = x;y\n"
                                     "e = https://h/#frag\n"
                                     "f = ;\n"     /* the whole value: ' ;' starts a comment */
                                     "#g = 7\n"
                                     ";h = 8\n"
                                     "[profile x];comment without a space\n"
                                     "k = v\n",
                                     AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(get(s, "default", "a"), "1");
    CHECK_STR_EQ(get(s, "default", "b"), "2");
    CHECK_STR_EQ(get(s, "default", "c"), "x#y");
    CHECK_STR_EQ(get(s, "default", "d"), "x;y");
    CHECK_STR_EQ(get(s, "default", "e"), "https://h/#frag");
    CHECK_STR_EQ(get(s, "default", "f"), "");
    CHECK_STR_EQ(get(s, "default", "g"), "(null)");
    CHECK_STR_EQ(get(s, "default", "#g"), "(null)");
    CHECK_STR_EQ(get(s, "default", "h"), "(null)");
    CHECK_STR_EQ(get(s, "x", "k"), "v");
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_whitespace(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse("\n   \n\t\n"
                                     "[default]   \r\n"
                                     "region   =   us-east-2   \r\n"
                                     "output=json\r\n"
                                     "\r\n"
                                     "empty =\r\n"
                                     "spaces in value = a b  c\n" /* key with spaces: skipped */
                                     "tail = last line without a newline",
                                     AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(get(s, "default", "region"), "us-east-2");
    CHECK_STR_EQ(get(s, "default", "output"), "json");
    CHECK_STR_EQ(get(s, "default", "empty"), "");
    CHECK_STR_EQ(get(s, "default", "spaces in value"), "(null)");
    CHECK_STR_EQ(get(s, "default", "tail"), "last line without a newline");
    awsprofile_set_free(s);

    /* Empty text, and text that is only comments and blanks, are empty sets. */
    s = parse("", AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL && !awsprofile_exists(s, AWSPROFILE_SECTION_PROFILE, "default"));
    awsprofile_set_free(s);
    s = parse("# nothing\n\n  \n", AWSPROFILE_CREDENTIALS, &err);
    CHECK(s != NULL);
    awsprofile_set_free(s);

    /* The buffer need not end in NUL: only len bytes are read. */
    const char *text = "[default]\nregion = eu-north-1XXXX";
    buf_reset(&err);
    s = awsprofile_parse(text, strlen(text) - 4, AWSPROFILE_CONFIG, &err);
    CHECK_STR_EQ(get(s, "default", "region"), "eu-north-1");
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_continuations(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse("[default]\n"
                                     "long = first\n"
                                     "  second\n"
                                     "\tthird ; not a comment here\n"
                                     "  # nor this\n"
                                     "s3 =\n"
                                     "  max_concurrent_requests = 20\n"
                                     "  addressing_style=path  \n"
                                     "  max_concurrent_requests = 30\n"
                                     "services = local\n"
                                     "[services local]\n"
                                     "dynamodb =\n"
                                     "  endpoint_url = http://127.0.0.1:8000 ; kept as written\n"
                                     "sts =\n"
                                     "\tendpoint_url = http://127.0.0.1:5000\n"
                                     "[services other]\n"
                                     "dynamodb =\n"
                                     "  endpoint_url = https://other\n",
                                     AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(buf_cstr(&err), "");
    CHECK_STR_EQ(get(s, "default", "long"), "first\nsecond\nthird ; not a comment here\n# nor this");
    CHECK_STR_EQ(awsprofile_get_sub(s, AWSPROFILE_SECTION_PROFILE, "default", "s3", "max_concurrent_requests"),
                 "30");
    CHECK_STR_EQ(awsprofile_get_sub(s, AWSPROFILE_SECTION_PROFILE, "default", "s3", "addressing_style"), "path");
    CHECK(awsprofile_get_sub(s, AWSPROFILE_SECTION_PROFILE, "default", "s3", "nope") == NULL);
    CHECK(awsprofile_get_sub(s, AWSPROFILE_SECTION_PROFILE, "default", "long", "first") == NULL);
    /* Sub-property values keep comments: continuation lines have none. */
    CHECK_STR_EQ(awsprofile_service_get(s, "default", "dynamodb", "endpoint_url"),
                 "http://127.0.0.1:8000 ; kept as written");
    CHECK_STR_EQ(awsprofile_service_get(s, "default", "sts", "endpoint_url"), "http://127.0.0.1:5000");
    CHECK(awsprofile_service_get(s, "default", "s3", "endpoint_url") == NULL);
    CHECK(awsprofile_service_get(s, "nope", "dynamodb", "endpoint_url") == NULL);
    CHECK_STR_EQ(awsprofile_get_sub(s, AWSPROFILE_SECTION_SERVICES, "other", "dynamodb", "endpoint_url"),
                 "https://other");
    awsprofile_set_free(s);

    /* A profile naming a services section that does not exist finds nothing. */
    s = parse("[default]\nservices = missing\n", AWSPROFILE_CONFIG, &err);
    CHECK(awsprofile_service_get(s, "default", "dynamodb", "endpoint_url") == NULL);
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_duplicates_and_case(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse("[profile a]\n"
                                     "region = one\n"
                                     "Region = two\n" /* same key, any case: the last wins */
                                     "x = 1\n"
                                     "[profile b]\n"
                                     "region = b\n"
                                     "[profile a]\n" /* the same section again: merged */
                                     "y = 2\n"
                                     "[profile A]\n" /* names are case-sensitive */
                                     "region = upper\n"
                                     "[profile c]\n"
                                     "s3 =\n"
                                     "  k = 1\n"
                                     "s3 = plain\n", /* a redefinition drops the old sub-properties */
                                     AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(get(s, "a", "region"), "two");
    CHECK_STR_EQ(get(s, "a", "REGION"), "two");
    CHECK_STR_EQ(get(s, "a", "x"), "1");
    CHECK_STR_EQ(get(s, "a", "y"), "2");
    CHECK_STR_EQ(get(s, "A", "region"), "upper");
    CHECK_STR_EQ(get(s, "b", "region"), "b");
    CHECK_STR_EQ(get(s, "c", "s3"), "plain");
    CHECK(awsprofile_get_sub(s, AWSPROFILE_SECTION_PROFILE, "c", "s3", "k") == NULL);
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_default_precedence(void)
{
    struct buf err = BUF_INIT;
    /* In the config file [profile default] beats [default], before or after it. */
    struct awsprofile_set *s = parse("[default]\nregion = plain\nonly_plain = 1\n"
                                     "[profile default]\nregion = prefixed\n"
                                     "[default]\nregion = plain again\n",
                                     AWSPROFILE_CONFIG, &err);
    CHECK_STR_EQ(get(s, "default", "region"), "prefixed");
    CHECK_STR_EQ(get(s, "default", "only_plain"), "(null)");
    awsprofile_set_free(s);
    s = parse("[profile default]\nregion = prefixed\n[default]\nregion = plain\nextra = 1\n", AWSPROFILE_CONFIG,
              &err);
    CHECK_STR_EQ(get(s, "default", "region"), "prefixed");
    CHECK_STR_EQ(get(s, "default", "extra"), "(null)");
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_recoverable(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse("[profile bad name]\n"  /* invalid: skipped with its lines */
                                     "region = nope\n"
                                     "nested =\n"
                                     "  k = v\n"             /* under a skipped section: skipped */
                                     "[profile ok]\n"
                                     "region = yes\n"
                                     "b@d key! = v\n"       /* not an identifier: skipped */
                                     "  continuation of a skipped key\n"
                                     "good = 1\n"
                                     "[profile ]\n"          /* no name */
                                     "region = nameless\n"
                                     "[profile x] junk after the bracket\n"
                                     "region = x\n",
                                     AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(buf_cstr(&err), "");
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_PROFILE, "bad"), 0);
    CHECK_INT_EQ(awsprofile_exists(s, AWSPROFILE_SECTION_PROFILE, "bad name"), 0);
    CHECK_STR_EQ(get(s, "ok", "region"), "yes");
    CHECK_STR_EQ(get(s, "ok", "good"), "1");
    CHECK_STR_EQ(get(s, "x", "region"), "x");
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_fatal(void)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        {"[default\nregion = x\n", "line 1: a section line without ']'"},
        {"region = x\n[default]\n", "line 1: a property before any section"},
        {"[default]\nregion x\n", "line 2: not a section, a comment or 'key = value'"},
        {"[default]\n  indented = first\n", "line 2: an indented line with no property above it"},
        {"  indented\n", "line 1: an indented line with no property above it"},
        {"[default]\ns3 =\n  no equals sign\n", "line 3: a sub-property without '='"},
        {"[default]\nok = 1\n\n\n[profile x\n", "line 5: a section line without ']'"},
    };
    struct buf err = BUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct awsprofile_set *s = parse(cases[i].text, AWSPROFILE_CONFIG, &err);
        CHECK(s == NULL);
        CHECK_STR_EQ(buf_cstr(&err), cases[i].error);
        awsprofile_set_free(s);
    }
    /* The error never quotes the line: it may hold a secret. */
    struct awsprofile_set *s = parse("[default]\naws_secret_access_key wJalrXUtnFEMI\n", AWSPROFILE_CREDENTIALS, &err);
    CHECK(s == NULL);
    CHECK(strstr(buf_cstr(&err), "wJalr") == NULL);
    buf_clean_up(&err);
}

static void test_merge(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *config = parse("[default]\n"
                                          "region = us-west-2\n"
                                          "aws_access_key_id = FROMCONFIG\n"
                                          "s3 =\n"
                                          "  a = config\n"
                                          "  b = config\n"
                                          "[profile only-config]\n"
                                          "region = eu-west-3\n",
                                          AWSPROFILE_CONFIG, &err);
    struct awsprofile_set *creds = parse("[default]\n"
                                         "aws_access_key_id = FROMCREDS\n"
                                         "aws_secret_access_key = secret\n"
                                         "s3 =\n"
                                         "  b = creds\n"
                                         "[only-creds]\n"
                                         "aws_access_key_id = X\n",
                                         AWSPROFILE_CREDENTIALS, &err);
    struct awsprofile_set *m = awsprofile_merge(config, creds);
    CHECK(m != NULL);
    CHECK_STR_EQ(get(m, "default", "aws_access_key_id"), "FROMCREDS");
    CHECK_STR_EQ(get(m, "default", "aws_secret_access_key"), "secret");
    CHECK_STR_EQ(get(m, "default", "region"), "us-west-2");
    CHECK_STR_EQ(awsprofile_get_sub(m, AWSPROFILE_SECTION_PROFILE, "default", "s3", "a"), "config");
    CHECK_STR_EQ(awsprofile_get_sub(m, AWSPROFILE_SECTION_PROFILE, "default", "s3", "b"), "creds");
    CHECK_STR_EQ(get(m, "only-config", "region"), "eu-west-3");
    CHECK_STR_EQ(get(m, "only-creds", "aws_access_key_id"), "X");
    /* The inputs are untouched and still the caller's. */
    CHECK_STR_EQ(get(config, "default", "aws_access_key_id"), "FROMCONFIG");
    awsprofile_set_free(m);
    m = awsprofile_merge(NULL, creds);
    CHECK_STR_EQ(get(m, "only-creds", "aws_access_key_id"), "X");
    awsprofile_set_free(m);
    m = awsprofile_merge(config, NULL);
    CHECK_STR_EQ(get(m, "default", "aws_access_key_id"), "FROMCONFIG");
    awsprofile_set_free(m);
    m = awsprofile_merge(NULL, NULL);
    CHECK(m != NULL && !awsprofile_exists(m, AWSPROFILE_SECTION_PROFILE, "default"));
    awsprofile_set_free(m);
    awsprofile_set_free(config);
    awsprofile_set_free(creds);
    awsprofile_set_free(NULL);
    buf_clean_up(&err);
}

/* Writes text to a new temporary file; returns its path in path (caller unlinks). */
static void write_temp(char *path, size_t size, const char *text)
{
    snprintf(path, size, "/tmp/test_awsprofile_XXXXXX");
    int fd = mkstemp(path);
    if (fd >= 0) {
        if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
            path[0] = '\0';
        close(fd);
    }
}

static void test_files(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = awsprofile_load_file("/nonexistent/dir/config", AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL); /* missing is empty, not an error */
    CHECK_STR_EQ(buf_cstr(&err), "");
    awsprofile_set_free(s);

    char path[64];
    write_temp(path, sizeof path, "[default]\nregion = sa-east-1\n");
    s = awsprofile_load_file(path, AWSPROFILE_CONFIG, &err);
    CHECK_STR_EQ(get(s, "default", "region"), "sa-east-1");
    awsprofile_set_free(s);
    unlink(path);

    write_temp(path, sizeof path, "[default\n");
    s = awsprofile_load_file(path, AWSPROFILE_CONFIG, &err);
    CHECK(s == NULL);
    struct buf want = BUF_INIT;
    buf_printf(&want, "%s: line 1: a section line without ']'", path);
    CHECK_STR_EQ(buf_cstr(&err), buf_cstr(&want));
    unlink(path);

    buf_reset(&err);
    s = awsprofile_load_file("/tmp", AWSPROFILE_CONFIG, &err); /* a directory cannot be read */
    CHECK(s == NULL);
    CHECK(strncmp(buf_cstr(&err), "/tmp: ", 6) == 0);
    buf_clean_up(&want);
    buf_clean_up(&err);
}

static void test_expand_home(void)
{
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(awsprofile_expand_home("~/.aws/config", "/home/u", &out), 0);
    CHECK_STR_EQ(buf_cstr(&out), "/home/u/.aws/config");
    buf_reset(&out);
    CHECK_INT_EQ(awsprofile_expand_home("~", "/home/u", &out), 0);
    CHECK_STR_EQ(buf_cstr(&out), "/home/u");
    buf_reset(&out);
    CHECK_INT_EQ(awsprofile_expand_home("/etc/aws/config", NULL, &out), 0);
    CHECK_STR_EQ(buf_cstr(&out), "/etc/aws/config");
    buf_reset(&out);
    CHECK_INT_EQ(awsprofile_expand_home("~other/x", "/home/u", &out), 0); /* only ~ and ~/ expand */
    CHECK_STR_EQ(buf_cstr(&out), "~other/x");
    buf_reset(&out);
    CHECK_INT_EQ(awsprofile_expand_home("~/x", NULL, &out), -1);
    CHECK_INT_EQ(awsprofile_expand_home("~/x", "", &out), -1);
    CHECK_STR_EQ(buf_cstr(&out), "");
    buf_clean_up(&out);
}


static void test_files_load(void)
{
    struct buf err = BUF_INIT;
    char config[64], creds[64];
    write_temp(config, sizeof config, "[profile app]\nregion = us-east-2\naws_access_key_id = CONFIGKEY\n");
    write_temp(creds, sizeof creds, "[app]\naws_access_key_id = CREDSKEY\naws_secret_access_key = s\n");
    struct fake_env env = {{{"AWS_PROFILE", "app"}, {"AWS_CONFIG_FILE", config},
                            {"AWS_SHARED_CREDENTIALS_FILE", creds}, {"HOME", "/nonexistent-home"}}};
    struct awsprofile_files f;
    CHECK_INT_EQ(awsprofile_files_load(&f, fake_env_lookup, &env, &err), 0);
    CHECK_STR_EQ(f.profile, "app");
    CHECK_INT_EQ(f.profile_from_env, 1);
    CHECK_STR_EQ(f.config_path, config);
    CHECK_STR_EQ(f.credentials_path, creds);
    CHECK_STR_EQ(get(f.set, "app", "region"), "us-east-2");
    CHECK_STR_EQ(get(f.set, "app", "aws_access_key_id"), "CREDSKEY");
    awsprofile_files_clean_up(&f);
    CHECK(f.set == NULL && f.profile == NULL);
    awsprofile_files_clean_up(&f); /* twice is harmless */

    /* Defaults: profile "default", files under HOME (missing there: empty). */
    struct fake_env home = {{{"HOME", "/nonexistent-home"}, {"AWS_PROFILE", ""}}};
    CHECK_INT_EQ(awsprofile_files_load(&f, fake_env_lookup, &home, &err), 0);
    CHECK_STR_EQ(f.profile, "default");
    CHECK_INT_EQ(f.profile_from_env, 0);
    CHECK_STR_EQ(f.config_path, "/nonexistent-home/.aws/config");
    CHECK_STR_EQ(f.credentials_path, "/nonexistent-home/.aws/credentials");
    CHECK(f.set != NULL);
    awsprofile_files_clean_up(&f);

    /* No HOME: the default files cannot be named, so there are none. */
    struct fake_env none = {{{NULL, NULL}}};
    CHECK_INT_EQ(awsprofile_files_load(&f, fake_env_lookup, &none, &err), 0);
    CHECK(f.config_path == NULL && f.credentials_path == NULL && f.set != NULL);
    awsprofile_files_clean_up(&f);

    /* A fatal error names the file. */
    char bad[64];
    write_temp(bad, sizeof bad, "[oops\n");
    struct fake_env broken = {{{"AWS_SHARED_CREDENTIALS_FILE", bad}, {"HOME", "/nonexistent-home"}}};
    buf_reset(&err);
    CHECK_INT_EQ(awsprofile_files_load(&f, fake_env_lookup, &broken, &err), -1);
    CHECK(strstr(buf_cstr(&err), bad) != NULL && strstr(buf_cstr(&err), "line 1") != NULL);
    awsprofile_files_clean_up(&f);
    unlink(bad);
    unlink(config);
    unlink(creds);
    buf_clean_up(&err);
}

static const char *const CHAINS = "[profile static]\n"
                                  "aws_access_key_id = AKIDSTATIC\n"
                                  "aws_secret_access_key = SECRETSTATIC\n"
                                  "[profile session]\n"
                                  "aws_access_key_id = AKIDSESSION\n"
                                  "aws_secret_access_key = SECRETSESSION\n"
                                  "aws_session_token = TOKEN\n"
                                  "[profile empty-token]\n"
                                  "aws_access_key_id = AKID\n"
                                  "aws_secret_access_key = SECRET\n"
                                  "aws_session_token =\n"
                                  "[profile no-secret]\n"
                                  "aws_access_key_id = AKIDONLY\n"
                                  "[profile web]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/web\n"
                                  "web_identity_token_file = /var/run/token\n"
                                  "role_session_name = websession\n"
                                  "[profile process]\n"
                                  "credential_process = /usr/bin/get-creds --json\n"
                                  "[profile keys-and-process]\n"
                                  "credential_process = /usr/bin/never\n"
                                  "aws_access_key_id = AKIDKP\n"
                                  "aws_secret_access_key = SECRETKP\n"
                                  "[profile role]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/one\n"
                                  "source_profile = static\n"
                                  "external_id = ext-1\n"
                                  "aws_access_key_id = IGNORED\n"
                                  "aws_secret_access_key = IGNORED\n"
                                  "[profile role2]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/two\n"
                                  "source_profile = role\n"
                                  "[profile role-web]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/three\n"
                                  "source_profile = web\n"
                                  "[profile self]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/self\n"
                                  "source_profile = self\n"
                                  "aws_access_key_id = AKIDSELF\n"
                                  "aws_secret_access_key = SECRETSELF\n"
                                  "[profile self-nokeys]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/self\n"
                                  "source_profile = self-nokeys\n"
                                  "[profile loop-a]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/a\n"
                                  "source_profile = loop-b\n"
                                  "[profile loop-b]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/b\n"
                                  "source_profile = loop-a\n"
                                  "[profile dangling]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/d\n"
                                  "source_profile = nowhere\n"
                                  "[profile to-nothing]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/n\n"
                                  "source_profile = region-only\n"
                                  "[profile ecs]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/ecs\n"
                                  "credential_source = EcsContainer\n"
                                  "[profile bad-source]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/x\n"
                                  "credential_source = Laptop\n"
                                  "[profile both]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/x\n"
                                  "credential_source = Environment\n"
                                  "source_profile = static\n"
                                  "[profile bare-role]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/x\n"
                                  "[profile sso]\n"
                                  "sso_session = corp\n"
                                  "sso_account_id = 123456789012\n"
                                  "[profile region-only]\n"
                                  "region = us-east-1\n";

static void test_resolve(void)
{
    struct buf err = BUF_INIT;
    struct awsprofile_set *s = parse(CHAINS, AWSPROFILE_CONFIG, &err);
    CHECK(s != NULL);
    CHECK_STR_EQ(buf_cstr(&err), "");
    struct awsprofile_chain c;

    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "static", &c, &err), 0);
    CHECK_INT_EQ(c.len, 1);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_STATIC);
    CHECK_STR_EQ(c.steps[0].profile, "static");
    CHECK_STR_EQ(c.steps[0].access_key_id, "AKIDSTATIC");
    CHECK_STR_EQ(c.steps[0].secret_access_key, "SECRETSTATIC");
    CHECK(c.steps[0].session_token == NULL);

    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "session", &c, &err), 0);
    CHECK_STR_EQ(c.steps[0].session_token, "TOKEN");
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "empty-token", &c, &err), 0);
    CHECK(c.steps[0].session_token == NULL);

    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "web", &c, &err), 0);
    CHECK_INT_EQ(c.len, 1);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_WEB_IDENTITY);
    CHECK_STR_EQ(c.steps[0].role_arn, "arn:aws:iam::123456789012:role/web");
    CHECK_STR_EQ(c.steps[0].web_identity_token_file, "/var/run/token");
    CHECK_STR_EQ(c.steps[0].role_session_name, "websession");

    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "process", &c, &err), 0);
    CHECK_INT_EQ(c.len, 1);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_PROCESS);
    CHECK_STR_EQ(c.steps[0].credential_process, "/usr/bin/get-creds --json");

    /* Static keys beat credential_process. */
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "keys-and-process", &c, &err), 0);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_STATIC);
    CHECK_STR_EQ(c.steps[0].access_key_id, "AKIDKP");

    /* role_arn beats the profile's own keys; the source's keys are the base. */
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "role", &c, &err), 0);
    CHECK_INT_EQ(c.len, 2);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_STATIC);
    CHECK_STR_EQ(c.steps[0].access_key_id, "AKIDSTATIC");
    CHECK_INT_EQ(c.steps[1].kind, AWSPROFILE_ASSUME_ROLE);
    CHECK_STR_EQ(c.steps[1].profile, "role");
    CHECK_STR_EQ(c.steps[1].role_arn, "arn:aws:iam::123456789012:role/one");
    CHECK_STR_EQ(c.steps[1].external_id, "ext-1");
    CHECK(c.steps[1].role_session_name == NULL);

    /* A chain of two roles: innermost first. */
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "role2", &c, &err), 0);
    CHECK_INT_EQ(c.len, 3);
    CHECK_STR_EQ(c.steps[0].access_key_id, "AKIDSTATIC");
    CHECK_STR_EQ(c.steps[1].role_arn, "arn:aws:iam::123456789012:role/one");
    CHECK_STR_EQ(c.steps[2].role_arn, "arn:aws:iam::123456789012:role/two");
    CHECK(c.steps[2].external_id == NULL);

    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "role-web", &c, &err), 0);
    CHECK_INT_EQ(c.len, 2);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_WEB_IDENTITY);
    CHECK_STR_EQ(c.steps[1].role_arn, "arn:aws:iam::123456789012:role/three");

    /* source_profile naming itself: its own keys assume its own role. */
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "self", &c, &err), 0);
    CHECK_INT_EQ(c.len, 2);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_STATIC);
    CHECK_STR_EQ(c.steps[0].access_key_id, "AKIDSELF");
    CHECK_STR_EQ(c.steps[1].role_arn, "arn:aws:iam::123456789012:role/self");

    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "ecs", &c, &err), 0);
    CHECK_INT_EQ(c.len, 2);
    CHECK_INT_EQ(c.steps[0].kind, AWSPROFILE_CREDENTIAL_SOURCE);
    CHECK_STR_EQ(c.steps[0].credential_source, "EcsContainer");
    CHECK_STR_EQ(c.steps[1].role_arn, "arn:aws:iam::123456789012:role/ecs");

    /* Nothing to resolve is not an error. */
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "region-only", &c, &err), 0);
    CHECK_INT_EQ(c.len, 0);
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "absent", &c, &err), 0);
    CHECK_INT_EQ(c.len, 0);
    CHECK_INT_EQ(awsprofile_resolve_credentials(NULL, "default", &c, &err), 0);
    CHECK_INT_EQ(c.len, 0);
    CHECK_STR_EQ(buf_cstr(&err), "");

    static const struct {
        const char *profile;
        const char *error;
    } bad[] = {
        {"no-secret", "profile no-secret: aws_access_key_id without aws_secret_access_key"},
        {"self-nokeys", "profile self-nokeys: source_profile names itself but it has no static keys"},
        {"loop-a", "profile loop-a: source_profile loop: loop-a -> loop-b -> loop-a"},
        {"dangling", "profile dangling: source_profile 'nowhere' does not exist"},
        {"to-nothing", "profile to-nothing: source_profile 'region-only' has no credentials"},
        {"bad-source", "profile bad-source: credential_source 'Laptop' is not Environment, Ec2InstanceMetadata "
                       "or EcsContainer"},
        {"both", "profile both: source_profile and credential_source are both set"},
        {"bare-role", "profile bare-role: role_arn needs source_profile, credential_source or "
                      "web_identity_token_file"},
        {"sso", "profile sso: SSO (IAM Identity Center) profiles are not supported; use "
                "`aws configure export-credentials` or another source"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_reset(&err);
        CHECK_INT_EQ(awsprofile_resolve_credentials(s, bad[i].profile, &c, &err), -1);
        CHECK_STR_EQ(buf_cstr(&err), bad[i].error);
    }
    awsprofile_set_free(s);
    buf_clean_up(&err);
}

static void test_resolve_long_chain(void)
{
    struct buf text = BUF_INIT, err = BUF_INIT;
    buf_append_str(&text, "[profile p0]\naws_access_key_id = A\naws_secret_access_key = S\n");
    for (int i = 1; i <= 8; i++)
        buf_printf(&text, "[profile p%d]\nrole_arn = arn:aws:iam::1:role/r%d\nsource_profile = p%d\n", i, i, i - 1);
    struct awsprofile_set *s = parse(buf_cstr(&text), AWSPROFILE_CONFIG, &err);
    struct awsprofile_chain c;
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "p7", &c, &err), 0); /* 1 base + 7 roles: the limit */
    CHECK_INT_EQ(c.len, 8);
    CHECK_STR_EQ(c.steps[7].role_arn, "arn:aws:iam::1:role/r7");
    CHECK_INT_EQ(awsprofile_resolve_credentials(s, "p8", &c, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "profile p8: source_profile chain longer than 8 profiles");
    awsprofile_set_free(s);
    buf_clean_up(&text);
    buf_clean_up(&err);
}

int main(void)
{
    RUN(test_sections_config);
    RUN(test_sections_credentials);
    RUN(test_comments);
    RUN(test_whitespace);
    RUN(test_continuations);
    RUN(test_duplicates_and_case);
    RUN(test_default_precedence);
    RUN(test_recoverable);
    RUN(test_fatal);
    RUN(test_merge);
    RUN(test_files);
    RUN(test_expand_home);
    RUN(test_files_load);
    RUN(test_resolve);
    RUN(test_resolve_long_chain);
    return check_summary();
}
