/* test_apikeys: the API-key file format (every refusal names its line, never
 * its text) and lookups by the key's SHA-256, computed here with OpenSSL. */
#include "apikeys.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static void hex_sha256(const char *key, char out[65])
{
    unsigned char d[32];
    EVP_Digest(key, strlen(key), d, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static struct apikeys *parse(const char *text, struct buf *err)
{
    buf_reset(err);
    return apikeys_parse(text, strlen(text), err);
}

static void test_parse_and_find(void)
{
    char a[65], b[65], text[1024];
    hex_sha256("key-a-0123456789", a);
    hex_sha256("key-b-9876543210", b);
    for (int i = 0; b[i]; i++) /* upper-case hex is read too */
        b[i] = (char)(b[i] >= 'a' ? b[i] - 32 : b[i]);
    snprintf(text, sizeof text,
             "# API keys\n\n  # indented comment\n%s users:read ci-reader\r\n\t%s  users:read,users:write\tdeploy@ci \n", a,
             b);
    struct buf err = BUF_INIT;
    struct apikeys *keys = parse(text, &err);
    CHECK(keys != NULL);
    if (keys == NULL) {
        fprintf(stderr, "     %s\n", buf_cstr(&err));
        return;
    }
    CHECK_INT_EQ(keys->n, 2);
    const struct apikey *k = apikeys_find(keys, "key-a-0123456789", 16);
    CHECK(k != NULL && strcmp(k->name, "ci-reader") == 0 && strcmp(k->scopes, "users:read") == 0);
    k = apikeys_find(keys, "key-b-9876543210", 16);
    CHECK(k != NULL && strcmp(k->name, "deploy@ci") == 0);
    CHECK_STR_EQ(k ? k->scopes : NULL, "users:read users:write");
    CHECK(apikeys_find(keys, "key-b-987654321", 15) == NULL);
    CHECK(apikeys_find(keys, "key-b-98765432100", 17) == NULL);
    CHECK(apikeys_find(keys, "", 0) == NULL);
    CHECK(apikeys_find(keys, a, 64) == NULL); /* the digest itself is not a key */
    CHECK(apikeys_find(keys, "key-a-012345678\n", 16) == NULL);
    CHECK(apikeys_find(NULL, "key-a-0123456789", 16) == NULL);
    char long_key[APIKEYS_MAX_KEY + 2];
    memset(long_key, 'k', sizeof long_key);
    CHECK(apikeys_find(keys, long_key, sizeof long_key) == NULL);
    apikeys_free(keys);

    keys = parse("", &err);
    CHECK(keys != NULL && keys->n == 0);
    apikeys_free(keys);
    keys = parse("# nothing\n", &err);
    CHECK(keys != NULL && keys->n == 0);
    apikeys_free(keys);
    buf_clean_up(&err);
}

static void expect_refused(const char *text, const char *why)
{
    struct buf err = BUF_INIT;
    struct apikeys *keys = parse(text, &err);
    CHECK(keys == NULL);
    if (strstr(buf_cstr(&err), why) == NULL) {
        CHECK(!"the reason");
        fprintf(stderr, "     got [%s], want [%s]\n", buf_cstr(&err), why);
    }
    apikeys_free(keys);
    buf_clean_up(&err);
}

static void test_refusals(void)
{
    char a[65], text[1024];
    hex_sha256("x", a);
    expect_refused("my-plain-key users:read name\n", "line 1: the first field must be the key's SHA-256");
    snprintf(text, sizeof text, "# c\n%s users:read\n", a);
    expect_refused(text, "line 2: want three fields");
    snprintf(text, sizeof text, "%s users:read n extra\n", a);
    expect_refused(text, "line 1: want three fields");
    snprintf(text, sizeof text, "%.63sg users:read n\n", a);
    expect_refused(text, "line 1: the SHA-256 is not hex");
    snprintf(text, sizeof text, "%s users:read,,users:write n\n", a);
    expect_refused(text, "line 1: an empty scope name");
    snprintf(text, sizeof text, "%s ,users:read n\n", a);
    expect_refused(text, "an empty scope name");
    snprintf(text, sizeof text, "%s users:read n/ame\n", a);
    expect_refused(text, "line 1: the name may hold only");
    snprintf(text, sizeof text, "%s users:read n\n%s users:write m\n", a, a);
    expect_refused(text, "line 2: the same key digest");
    char b[65];
    hex_sha256("y", b);
    snprintf(text, sizeof text, "%s users:read n\n\n%s users:write n\n", a, b);
    expect_refused(text, "line 3: the name n is used");
    snprintf(text, sizeof text, "%s users:read %065d\n", a, 0);
    expect_refused(text, "longer than 64");
    /* The error never quotes the line: a key pasted by mistake stays out of the log. */
    struct buf err = BUF_INIT;
    CHECK(parse("sk_live_SECRET users:read name\n", &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "SECRET") == NULL);
    buf_clean_up(&err);
}

static void test_load(void)
{
    char path[] = "/tmp/test_apikeys_XXXXXX", a[65];
    int fd = mkstemp(path);
    hex_sha256("file-key", a);
    dprintf(fd, "%s users:read reader\n", a);
    close(fd);
    struct buf err = BUF_INIT;
    struct apikeys *keys = apikeys_load(path, &err);
    CHECK(keys != NULL && apikeys_find(keys, "file-key", 8) != NULL);
    apikeys_free(keys);
    unlink(path);
    CHECK(apikeys_load(path, &err) == NULL);
    CHECK(strstr(buf_cstr(&err), path) != NULL);
    buf_clean_up(&err);
}

int main(void)
{
    RUN(test_parse_and_find);
    RUN(test_refusals);
    RUN(test_load);
    return check_summary();
}
