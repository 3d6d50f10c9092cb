/* fuzz_awsprofile: the shared config and credentials files (awsprofile.c).
 * The whole input is parsed as a config file and as a credentials file, the
 * two are merged as awsprofile_files_load merges them, and a few profile names
 * are looked up and resolved in each set: "default", "a", "b", and up to 8
 * names the text itself mentions after '[', '[profile ' or 'source_profile ='.
 * Invariants: a parse gives a set, or NULL and one "line N: ..." in err;
 * resolution terminates (libFuzzer's -timeout) and gives 0 with a chain of at
 * most AWSPROFILE_MAX_CHAIN steps (the first a source of credentials, the rest
 * AssumeRole steps with a role_arn, the last from the profile asked for,
 * static keys non-empty), or -1 with err; the merged set answers each key as
 * the credentials file does when it has the key, else as the config file
 * does. No crash, leak or UB (ASan, UBSan). */
#include <stdlib.h>
#include <string.h>

#include "awsprofile.h"
#include "buf.h"
#include "fake_app.h"

#define MAX_NAMES 11

static const char *const keys[] = {
    "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "role_arn", "source_profile",
    "credential_source", "credential_process", "web_identity_token_file", "region", "services",
};

static int ident(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("\\_-/.%@:+", c) != NULL);
}

/* Adds the identifier at text[i..len) to names, once. */
static void add_name(char **names, size_t *n, const char *text, size_t len, size_t i)
{
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    size_t start = i;
    while (i < len && ident(text[i]))
        i++;
    if (i == start || *n == MAX_NAMES)
        return;
    for (size_t k = 0; k < *n; k++)
        if (strlen(names[k]) == i - start && memcmp(names[k], text + start, i - start) == 0)
            return;
    names[*n] = strndup(text + start, i - start);
    FAKE_ASSERT(names[*n] != NULL);
    (*n)++;
}

static size_t find_names(char **names, const char *text, size_t len)
{
    size_t n = 0;
    add_name(names, &n, "default", 7, 0);
    add_name(names, &n, "a", 1, 0);
    add_name(names, &n, "b", 1, 0);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '[') {
            size_t j = i + 1;
            while (j < len && (text[j] == ' ' || text[j] == '\t'))
                j++;
            if (len - j > 8 && memcmp(text + j, "profile ", 8) == 0)
                j += 8;
            add_name(names, &n, text, len, j);
        } else if (len - i > 14 && memcmp(text + i, "source_profile", 14) == 0) {
            size_t j = i + 14;
            while (j < len && (text[j] == ' ' || text[j] == '\t'))
                j++;
            if (j < len && text[j] == '=')
                add_name(names, &n, text, len, j + 1);
        }
    }
    return n;
}

static void check_parse(const struct awsprofile_set *set, const struct buf *err)
{
    if (set != NULL)
        return;
    FAKE_ASSERT(err->len > 5);
    FAKE_ASSERT(strncmp(err->data, "line ", 5) == 0 || strcmp(err->data, "out of memory") == 0);
    FAKE_ASSERT(strchr(err->data, '\n') == NULL);
}

static void check_resolve(const struct awsprofile_set *set, const char *name)
{
    struct awsprofile_chain chain;
    struct buf err = BUF_INIT;
    int rc = awsprofile_resolve_credentials(set, name, &chain, &err);
    if (rc != 0) {
        FAKE_ASSERT(rc == -1 && err.len > 0);
        buf_clean_up(&err);
        return;
    }
    FAKE_ASSERT(chain.len <= AWSPROFILE_MAX_CHAIN);
    FAKE_ASSERT(chain.len == 0 || awsprofile_exists(set, AWSPROFILE_SECTION_PROFILE, name));
    for (size_t i = 0; i < chain.len; i++) {
        const struct awsprofile_step *s = &chain.steps[i];
        FAKE_ASSERT(s->profile != NULL && awsprofile_exists(set, AWSPROFILE_SECTION_PROFILE, s->profile));
        FAKE_ASSERT((i == 0) == (s->kind != AWSPROFILE_ASSUME_ROLE));
        switch (s->kind) {
        case AWSPROFILE_STATIC:
            FAKE_ASSERT(s->access_key_id && *s->access_key_id && s->secret_access_key && *s->secret_access_key);
            FAKE_ASSERT(s->session_token == NULL || *s->session_token);
            break;
        case AWSPROFILE_WEB_IDENTITY:
            FAKE_ASSERT(s->role_arn && *s->role_arn && s->web_identity_token_file && *s->web_identity_token_file);
            break;
        case AWSPROFILE_PROCESS:
            FAKE_ASSERT(s->credential_process && *s->credential_process);
            break;
        case AWSPROFILE_CREDENTIAL_SOURCE:
            FAKE_ASSERT(s->credential_source && *s->credential_source);
            break;
        case AWSPROFILE_ASSUME_ROLE:
            FAKE_ASSERT(s->role_arn && *s->role_arn);
            break;
        }
    }
    if (chain.len > 0)
        FAKE_ASSERT(strcmp(chain.steps[chain.len - 1].profile, name) == 0);
    buf_clean_up(&err);
}

static int same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct buf err_config = BUF_INIT, err_credentials = BUF_INIT;
    struct awsprofile_set *config = awsprofile_parse(text, size, AWSPROFILE_CONFIG, &err_config);
    struct awsprofile_set *credentials = awsprofile_parse(text, size, AWSPROFILE_CREDENTIALS, &err_credentials);
    check_parse(config, &err_config);
    check_parse(credentials, &err_credentials);
    struct awsprofile_set *merged = awsprofile_merge(config, credentials);
    FAKE_ASSERT(merged != NULL);

    char *names[MAX_NAMES];
    size_t n = find_names(names, text, size);
    const struct awsprofile_set *sets[] = {config, credentials, merged};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const char *from_credentials = awsprofile_get(credentials, names[i], keys[k]);
            const char *want = from_credentials ? from_credentials : awsprofile_get(config, names[i], keys[k]);
            FAKE_ASSERT(same(awsprofile_get(merged, names[i], keys[k]), want));
        }
        awsprofile_service_get(merged, names[i], "dynamodb", "endpoint_url");
        awsprofile_get_sub(merged, AWSPROFILE_SECTION_SERVICES, names[i], "dynamodb", "endpoint_url");
        for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++)
            if (sets[s] != NULL)
                check_resolve(sets[s], names[i]);
        free(names[i]);
    }
    awsprofile_set_free(merged);
    awsprofile_set_free(config);
    awsprofile_set_free(credentials);
    buf_clean_up(&err_config);
    buf_clean_up(&err_credentials);
    return 0;
}
