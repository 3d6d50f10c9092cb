/* test_hmac: HMAC-SHA256 against RFC 4231's test cases, including keys longer than a block (not
 * cached), the empty key, the cached key alternating with others, and several threads at once. */
#include "hmac.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void hex(const uint8_t *mac, char out[2 * HMAC_SHA256_LEN + 1])
{
    for (size_t i = 0; i < HMAC_SHA256_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

static const char *mac_hex(const void *key, size_t key_len, const void *data, size_t len)
{
    static char out[2 * HMAC_SHA256_LEN + 1];
    uint8_t mac[HMAC_SHA256_LEN];
    if (hmac_sha256(key, key_len, data, len, mac) != 0)
        return "failed";
    hex(mac, out);
    return out;
}

#define CASE1 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
#define CASE2 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
#define CASE6 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
#define EMPTY "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"

static uint8_t key1[20], key6[131];

static void test_rfc4231(void)
{
    memset(key1, 0x0b, sizeof key1);
    memset(key6, 0xaa, sizeof key6);
    CHECK_STR_EQ(mac_hex(key1, sizeof key1, "Hi There", 8), CASE1);
    CHECK_STR_EQ(mac_hex("Jefe", 4, "what do ya want for nothing?", 28), CASE2);
    CHECK_STR_EQ(mac_hex(key6, sizeof key6, "Test Using Larger Than Block-Size Key - Hash Key First", 54), CASE6);
    CHECK_STR_EQ(mac_hex("", 0, "", 0), EMPTY);
}

/* The same key twice (reused state), then others, then back: every answer as computed fresh. */
static void test_key_reuse(void)
{
    for (int round = 0; round < 3; round++) {
        CHECK_STR_EQ(mac_hex(key1, sizeof key1, "Hi There", 8), CASE1);
        CHECK_STR_EQ(mac_hex(key1, sizeof key1, "Hi There", 8), CASE1);
        CHECK_STR_EQ(mac_hex("Jefe", 4, "what do ya want for nothing?", 28), CASE2);
        CHECK_STR_EQ(mac_hex(key6, sizeof key6, "Test Using Larger Than Block-Size Key - Hash Key First", 54), CASE6);
        CHECK_STR_EQ(mac_hex("", 0, "", 0), EMPTY);
        /* A key that differs from the cached one only in its last byte. */
        uint8_t other[20];
        memset(other, 0x0b, sizeof other);
        other[19] = 0x0c;
        CHECK(strcmp(mac_hex(other, sizeof other, "Hi There", 8), CASE1) != 0);
        CHECK_STR_EQ(mac_hex(key1, sizeof key1, "Hi There", 8), CASE1);
    }
}

static void *worker(void *arg)
{
    int *wrong = arg;
    uint8_t mac[HMAC_SHA256_LEN];
    char out[2 * HMAC_SHA256_LEN + 1];
    for (int i = 0; i < 2000; i++) {
        int jefe = i % 3 == 0;
        if ((jefe ? hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac)
                  : hmac_sha256(key1, sizeof key1, "Hi There", 8, mac)) != 0) {
            (*wrong)++;
            continue;
        }
        hex(mac, out);
        *wrong += strcmp(out, jefe ? CASE2 : CASE1) != 0;
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t threads[4];
    int wrong[4] = {0};
    for (int i = 0; i < 4; i++)
        CHECK_INT_EQ(pthread_create(&threads[i], NULL, worker, &wrong[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT_EQ(wrong[i], 0);
    }
}

int main(void)
{
    RUN(test_rfc4231);
    RUN(test_key_reuse);
    RUN(test_threads);
    return check_summary();
}
