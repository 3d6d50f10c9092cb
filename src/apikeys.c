/* apikeys: hashed API keys (see apikeys.h). */
#include "apikeys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jwk.h"

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void) { sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); }

void apikeys_free(struct apikeys *keys)
{
    if (keys == NULL)
        return;
    for (size_t i = 0; i < keys->n; i++)
        free(keys->keys[i].scopes);
    free(keys->keys);
    free(keys);
}

static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("._@:-", c) != NULL;
}

/* The next field of line[0..len) from *pos, split by spaces and tabs. */
static const char *next_field(const char *line, size_t len, size_t *pos, size_t *field_len)
{
    while (*pos < len && (line[*pos] == ' ' || line[*pos] == '\t'))
        (*pos)++;
    size_t start = *pos;
    while (*pos < len && line[*pos] != ' ' && line[*pos] != '\t')
        (*pos)++;
    *field_len = *pos - start;
    return *field_len > 0 ? line + start : NULL;
}

/* Reads one key line into k. Returns 0, or -1 with the reason in err. */
static int parse_line(const char *line, size_t len, struct apikey *k, struct buf *err, size_t lineno)
{
    size_t pos = 0, dlen, slen, nlen, extra;
    const char *digest = next_field(line, len, &pos, &dlen);
    const char *scopes = next_field(line, len, &pos, &slen);
    const char *name = next_field(line, len, &pos, &nlen);
    if (digest == NULL || scopes == NULL || name == NULL || next_field(line, len, &pos, &extra) != NULL) {
        buf_printf(err, "line %zu: want three fields: <sha256 hex> <scopes,comma,separated> <name>", lineno);
        return -1;
    }
    if (dlen != 64) {
        buf_printf(err, "line %zu: the first field must be the key's SHA-256 in 64 hex digits (never the key)", lineno);
        return -1;
    }
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_digit_value(digest[2 * i]), lo = hex_digit_value(digest[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            buf_printf(err, "line %zu: the SHA-256 is not hex", lineno);
            return -1;
        }
        k->digest[i] = (unsigned char)(hi << 4 | lo);
    }
    if (nlen > APIKEYS_MAX_NAME) {
        buf_printf(err, "line %zu: the name is longer than %d characters", lineno, APIKEYS_MAX_NAME);
        return -1;
    }
    for (size_t i = 0; i < nlen; i++)
        if (!name_char(name[i])) {
            buf_printf(err, "line %zu: the name may hold only A-Z a-z 0-9 . _ @ : -", lineno);
            return -1;
        }
    memcpy(k->name, name, nlen);
    k->name[nlen] = '\0';
    if ((k->scopes = malloc(slen + 1)) == NULL) {
        buf_printf(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < slen; i++) {
        char c = scopes[i];
        if (c == ',' && (i == 0 || i + 1 == slen || scopes[i + 1] == ',')) {
            buf_printf(err, "line %zu: an empty scope name", lineno);
            return -1;
        }
        if ((unsigned char)c <= 0x20 || c == 0x7f) {
            buf_printf(err, "line %zu: scope names are printable characters", lineno);
            return -1;
        }
        k->scopes[i] = c == ',' ? ' ' : c;
    }
    k->scopes[slen] = '\0';
    return 0;
}

struct apikeys *apikeys_parse(const char *text, size_t len, struct buf *err)
{
    struct apikeys *keys = calloc(1, sizeof *keys);
    size_t cap = 0, lineno = 0;
    if (keys == NULL) {
        buf_printf(err, "out of memory");
        return NULL;
    }
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += line_len + (nl != NULL);
        lineno++;
        if (line_len > 0 && line[line_len - 1] == '\r')
            line_len--;
        if (memchr(line, '\0', line_len) != NULL) {
            buf_printf(err, "line %zu: a NUL byte", lineno);
            goto fail;
        }
        size_t lead = 0;
        while (lead < line_len && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (lead == line_len || line[lead] == '#')
            continue;
        if (keys->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct apikey *grown = realloc(keys->keys, ncap * sizeof *grown);
            if (grown == NULL) {
                buf_printf(err, "out of memory");
                goto fail;
            }
            keys->keys = grown;
            cap = ncap;
        }
        struct apikey *k = &keys->keys[keys->n];
        memset(k, 0, sizeof *k);
        keys->n++; /* freed with the set even when half read */
        if (parse_line(line, line_len, k, err, lineno) != 0)
            goto fail;
        for (size_t i = 0; i + 1 < keys->n; i++) {
            if (memcmp(keys->keys[i].digest, k->digest, 32) == 0) {
                buf_printf(err, "line %zu: the same key digest as an earlier line", lineno);
                goto fail;
            }
            if (strcmp(keys->keys[i].name, k->name) == 0) {
                buf_printf(err, "line %zu: the name %s is used by an earlier line", lineno, k->name);
                goto fail;
            }
        }
    }
    return keys;
fail:
    apikeys_free(keys);
    return NULL;
}

struct apikeys *apikeys_load(const char *path, struct buf *err)
{
    size_t len = 0;
    struct buf why = BUF_INIT;
    char *text = jwk_read_file(path, 1 << 20, &len, err);
    if (text == NULL)
        return NULL;
    struct apikeys *keys = apikeys_parse(text, len, &why);
    if (keys == NULL)
        buf_printf(err, "%s: %s", path, buf_cstr(&why));
    OPENSSL_cleanse(text, len);
    free(text);
    buf_clean_up(&why);
    return keys;
}

const struct apikey *apikeys_find(const struct apikeys *keys, const char *key, size_t len)
{
    pthread_once(&sha256_once, fetch_sha256);
    if (keys == NULL || len == 0 || len > APIKEYS_MAX_KEY || sha256 == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
            return NULL;
    unsigned char digest[32];
    unsigned int dlen = 0;
    if (EVP_Digest(key, len, digest, &dlen, sha256, NULL) != 1 || dlen != 32)
        return NULL;
    const struct apikey *found = NULL;
    for (size_t i = 0; i < keys->n; i++) { /* every entry, whatever matched */
        int same = CRYPTO_memcmp(keys->keys[i].digest, digest, 32) == 0;
        found = same ? &keys->keys[i] : found;
    }
    return found;
}
