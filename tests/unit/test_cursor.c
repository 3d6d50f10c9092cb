/* test_cursor: the pagination cursor round-trips, is base64url only, is bound
 * to its table, and refuses any edit, truncation or garbage. Cursors built
 * here by hand (with the MAC computed independently) probe the decoder's
 * limits; those run in a child process so a memory error fails one check. */
#include "cursor.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define TABLE "Users"
#define UUID "0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int only_base64url(const char *s)
{
    return s != NULL && strspn(s, B64URL) == strlen(s);
}

static void expect_round_trip(const char *table, const char *id)
{
    char *c = cursor_encode(table, id);
    CHECK(c != NULL);
    CHECK(only_base64url(c));
    CHECK(c != NULL && strlen(c) > 0);
    char *back = c ? cursor_decode(table, c) : NULL;
    CHECK_STR_EQ(back, id);
    CHECK(back != id && back != c); /* a fresh string */
    free(back);
    free(c);
}

static void test_round_trip(void)
{
    expect_round_trip(TABLE, UUID);
    expect_round_trip(TABLE, "email#x@y.z");
    expect_round_trip(TABLE, "a");
    expect_round_trip(TABLE, "ab");
    expect_round_trip(TABLE, "abc");
    expect_round_trip("Other.Table-1", UUID);
    expect_round_trip(TABLE, "caf\xC3\xA9 / + = ?");

    /* The longest id, and one too long. */
    char *id = malloc(CURSOR_MAX_ID + 2);
    CHECK(id != NULL);
    if (id != NULL) {
        memset(id, 'x', CURSOR_MAX_ID);
        id[CURSOR_MAX_ID] = '\0';
        expect_round_trip(TABLE, id);
        id[CURSOR_MAX_ID] = 'x';
        id[CURSOR_MAX_ID + 1] = '\0';
        char *c = cursor_encode(TABLE, id);
        CHECK(c == NULL);
        free(c);
        free(id);
    }
    char *c = cursor_encode(TABLE, "");
    CHECK(c == NULL);
    free(c);

    /* Same input, same cursor (any replica can read any other's). */
    char *a = cursor_encode(TABLE, UUID), *b = cursor_encode(TABLE, UUID);
    CHECK_STR_EQ(a, b);
    free(b);
    /* Fresh result each decode. */
    char *d1 = cursor_decode(TABLE, a), *d2 = cursor_decode(TABLE, a);
    CHECK(d1 != NULL && d2 != NULL && d1 != d2);
    CHECK_STR_EQ(d1, UUID);
    free(d1);
    free(d2);
    free(a);
}

static void test_other_table(void)
{
    char *c = cursor_encode(TABLE, UUID);
    char *d = cursor_decode("users", c);
    CHECK(d == NULL);
    free(d);
    d = cursor_decode("Users2", c);
    CHECK(d == NULL);
    free(d);
    d = cursor_decode("", c);
    CHECK(d == NULL);
    free(d);
    free(c);
    /* Different tables give different cursors for the same id. */
    char *a = cursor_encode("A-table", "id1"), *b = cursor_encode("B-table", "id1");
    CHECK(a != NULL && b != NULL && strcmp(a, b) != 0);
    free(a);
    free(b);
}

/* Every single-character change of a valid cursor is refused. */
static void expect_no_edit_accepted(const char *id)
{
    char *c = cursor_encode(TABLE, id);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    size_t len = strlen(c);
    for (size_t i = 0; i < len; i++) {
        char orig = c[i];
        int accepted = 0;
        for (const char *p = B64URL; *p != '\0'; p++) {
            if (*p == orig)
                continue;
            c[i] = *p;
            char *d = cursor_decode(TABLE, c);
            if (d != NULL) {
                if (accepted == 0)
                    fprintf(stderr, "  cursor for '%s' edited at %zu ('%c'->'%c') decoded to '%s'\n", id, i, orig,
                            *p, d);
                accepted++;
            }
            free(d);
        }
        c[i] = orig;
        CHECK_INT_EQ(accepted, 0);
    }
    /* Truncation by any amount, and an extra character, are refused too. */
    for (size_t cut = 1; cut < len; cut++) {
        char *t = strndup(c, len - cut);
        char *d = cursor_decode(TABLE, t);
        if (d != NULL)
            fprintf(stderr, "  cursor for '%s' cut by %zu decoded to '%s'\n", id, cut, d);
        CHECK(d == NULL);
        free(d);
        free(t);
    }
    for (size_t k = 0; k < sizeof B64URL - 1; k += 7) {
        char *t = malloc(len + 2);
        memcpy(t, c, len);
        t[len] = B64URL[k];
        t[len + 1] = '\0';
        char *d = cursor_decode(TABLE, t);
        CHECK(d == NULL);
        free(d);
        free(t);
    }
    char *d = cursor_decode(TABLE, c); /* still fine after all that */
    CHECK_STR_EQ(d, id);
    free(d);
    free(c);
}

static void test_edits(void)
{
    expect_no_edit_accepted(UUID);
    expect_no_edit_accepted("email#x@y.z");
    expect_no_edit_accepted("ab");
}

static void expect_garbage(const char *cursor)
{
    char *d = cursor_decode(TABLE, cursor);
    if (d != NULL)
        fprintf(stderr, "  garbage cursor '%.40s' decoded to '%s'\n", cursor, d);
    CHECK(d == NULL);
    free(d);
}

static void test_garbage(void)
{
    expect_garbage("!!!");
    expect_garbage("");
    expect_garbage("a");
    expect_garbage("AQ");
    expect_garbage("AAAA");
    expect_garbage("AQAAAAAAAAAAAAAAAAAAAAB4");
    expect_garbage("====");
    expect_garbage("abc+def/");
    expect_garbage("abc def");

    /* A valid cursor with base64 padding, '+' or '/' is not base64url. */
    char *c = cursor_encode(TABLE, UUID);
    char buf[256];
    snprintf(buf, sizeof buf, "%s==", c);
    expect_garbage(buf);
    snprintf(buf, sizeof buf, " %s", c);
    expect_garbage(buf);
    free(c);

    /* Very long: far beyond any id, and just beyond the longest cursor. */
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, 'A', n);
    big[n] = '\0';
    expect_garbage(big);
    big[0] = 'A';
    big[1] = 'Q';
    big[5000] = '\0';
    expect_garbage(big);
    free(big);
}

/* --- hand-made cursors -------------------------------------------------- */

/* base64url without padding of raw[0..len) into a new string. */
static char *b64url(const unsigned char *raw, size_t len)
{
    char *out = malloc(len * 4 / 3 + 4);
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)raw[i + 1] << 8;
        if (i + 2 < len)
            v |= raw[i + 2];
        out[n++] = B64URL[(v >> 18) & 63];
        out[n++] = B64URL[(v >> 12) & 63];
        if (i + 1 < len)
            out[n++] = B64URL[(v >> 6) & 63];
        if (i + 2 < len)
            out[n++] = B64URL[v & 63];
    }
    out[n] = '\0';
    return out;
}

/* A cursor for id (id_len bytes) built independently: version 1, the first
 * 12 bytes of HMAC-SHA256(key = table, version || id), then the id. */
static char *forge(const char *table, const char *id, size_t id_len)
{
    unsigned char *msg = malloc(1 + id_len), *raw = malloc(13 + id_len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    msg[0] = 1;
    memcpy(msg + 1, id, id_len);
    HMAC(EVP_sha256(), table, (int)strlen(table), msg, 1 + id_len, mac, &mac_len);
    raw[0] = 1;
    memcpy(raw + 1, mac, 12);
    memcpy(raw + 13, id, id_len);
    char *c = b64url(raw, 13 + id_len);
    free(msg);
    free(raw);
    return c;
}

/* Runs cursor_decode(TABLE, cursor) in a child. Returns 1 when it returned
 * NULL, 0 when it returned an id, -1 when the child died (a memory error
 * caught by a sanitizer, or a crash). */
static int decode_refused_in_child(const char *cursor)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *d = cursor_decode(TABLE, cursor);
        _exit(d == NULL ? 0 : 3);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status) == 0 ? 1 : WEXITSTATUS(status) == 3 ? 0 : -1;
}

static void test_forged(void)
{
    /* The independent construction matches cursor_encode: the format is as documented. */
    char *mine = forge(TABLE, UUID, strlen(UUID));
    char *theirs = cursor_encode(TABLE, UUID);
    CHECK_STR_EQ(mine, theirs);
    free(mine);
    free(theirs);

    /* An id with a NUL inside, properly signed, is refused. */
    char *c = forge(TABLE, "a\0b", 3);
    char *d = cursor_decode(TABLE, c);
    CHECK(d == NULL);
    free(d);
    free(c);

    /* A properly signed cursor whose id is longer than any cursor_encode
     * makes (CURSOR_MAX_ID + 1 and + 2 bytes) must be refused, safely. */
    for (size_t extra = 1; extra <= 2; extra++) {
        size_t id_len = CURSOR_MAX_ID + extra;
        char *id = malloc(id_len);
        memset(id, 'z', id_len);
        c = forge(TABLE, id, id_len);
        int r = decode_refused_in_child(c);
        if (r != 1)
            fprintf(stderr, "  signed cursor with a %zu-byte id: %s\n", id_len,
                    r == 0 ? "accepted" : "decoder crashed or hit a memory error");
        CHECK_INT_EQ(r, 1);
        free(c);
        free(id);
    }

    /* Unsigned garbage of the same lengths (valid characters, version byte 1). */
    for (size_t text_len = 1383; text_len <= 1386; text_len++) {
        char *g = malloc(text_len + 1);
        memset(g, 'A', text_len);
        g[1] = 'Q';
        g[text_len] = '\0';
        int r = decode_refused_in_child(g);
        if (r != 1)
            fprintf(stderr, "  garbage cursor of %zu characters: %s\n", text_len,
                    r == 0 ? "accepted" : "decoder crashed or hit a memory error");
        CHECK_INT_EQ(r, 1);
        free(g);
    }
}

int main(void)
{
    RUN(test_round_trip);
    RUN(test_other_table);
    RUN(test_edits);
    RUN(test_garbage);
    RUN(test_forged);
    return check_summary();
}
