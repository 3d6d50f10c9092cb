#include "cursor.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmac.h"

#define CURSOR_VERSION 1
#define TAG_LEN 12

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* MAC over version and id. Integrity, not secrecy: a cursor only names a
 * position in a list the caller may read anyway. */
static int tag(const char *key, const unsigned char *msg, size_t len, unsigned char out[TAG_LEN])
{
    uint8_t mac[HMAC_SHA256_LEN];
    if (hmac_sha256(key, strlen(key), msg, len, mac) != 0)
        return -1;
    memcpy(out, mac, TAG_LEN);
    return 0;
}

char *cursor_encode(const char *key, const char *id)
{
    size_t id_len = strlen(id);
    if (id_len == 0 || id_len > CURSOR_MAX_ID)
        return NULL;
    size_t len = 1 + TAG_LEN + id_len;
    unsigned char *raw = malloc(len);
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (raw == NULL || out == NULL)
        goto fail;
    raw[0] = CURSOR_VERSION;
    memcpy(raw + 1 + TAG_LEN, id, id_len);
    unsigned char signed_part[1 + CURSOR_MAX_ID];
    signed_part[0] = CURSOR_VERSION;
    memcpy(signed_part + 1, id, id_len);
    if (tag(key, signed_part, 1 + id_len, raw + 1) != 0)
        goto fail;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)raw[i + 1] << 8;
        if (i + 2 < len)
            v |= raw[i + 2];
        out[n++] = alphabet[(v >> 18) & 63];
        out[n++] = alphabet[(v >> 12) & 63];
        if (i + 1 < len)
            out[n++] = alphabet[(v >> 6) & 63];
        if (i + 2 < len)
            out[n++] = alphabet[v & 63];
    }
    out[n] = '\0';
    free(raw);
    return out;
fail:
    free(raw);
    free(out);
    return NULL;
}

static int sextet(char c)
{
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

char *cursor_decode(const char *key, const char *cursor)
{
    size_t text_len = strlen(cursor);
    if (text_len % 4 == 1 || text_len > (1 + TAG_LEN + CURSOR_MAX_ID) * 4 / 3 + 4)
        return NULL;
    unsigned char raw[1 + TAG_LEN + CURSOR_MAX_ID + 3];
    size_t len = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < text_len; i++) {
        int v = sextet(cursor[i]);
        if (v < 0)
            return NULL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[len++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits: an edited cursor */
        return NULL;
    if (len < 1 + TAG_LEN + 1 || len > 1 + TAG_LEN + CURSOR_MAX_ID || raw[0] != CURSOR_VERSION)
        return NULL;
    size_t id_len = len - 1 - TAG_LEN;
    unsigned char signed_part[1 + CURSOR_MAX_ID], expected[TAG_LEN];
    signed_part[0] = CURSOR_VERSION;
    memcpy(signed_part + 1, raw + 1 + TAG_LEN, id_len);
    if (tag(key, signed_part, 1 + id_len, expected) != 0 || CRYPTO_memcmp(expected, raw + 1, TAG_LEN) != 0)
        return NULL;
    if (memchr(raw + 1 + TAG_LEN, '\0', id_len) != NULL)
        return NULL;
    return strndup((const char *)raw + 1 + TAG_LEN, id_len);
}
