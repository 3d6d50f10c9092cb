#include "hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* HMAC is fetched once per process. Each thread keeps one context with SHA-256 set, and the key it
 * was last given: the same key again (a SigV4 signing key is the same all day, a cursor key for
 * ever) reuses the keyed state instead of hashing the pads again. That makes a signature cheaper
 * than the hand-rolled RFC 2104 this replaced; a fresh or copied context per call costs 10-30 %
 * more (measured with callgrind, README: Performance). Freed, cleansed, when the thread ends. */
struct hmac_thread {
    EVP_MAC_CTX *ctx;
    size_t key_len;                 /* of key; 0 = nothing cached (no key yet, or one over 64 bytes) */
    unsigned char key[64];          /* SHA-256's block: longer keys are not cached */
};

static EVP_MAC *hmac_algorithm;
static pthread_key_t hmac_thread_key;
static int hmac_ready;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void thread_free(void *p)
{
    struct hmac_thread *t = p;
    EVP_MAC_CTX_free(t->ctx); /* cleanses the keyed state */
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

static void fetch(void)
{
    hmac_algorithm = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hmac_ready = hmac_algorithm != NULL && pthread_key_create(&hmac_thread_key, thread_free) == 0;
}

/* This thread's state, made on first use. NULL when OpenSSL or memory fails. */
static struct hmac_thread *thread_state(void)
{
    pthread_once(&hmac_once, fetch);
    if (!hmac_ready)
        return NULL;
    struct hmac_thread *t = pthread_getspecific(hmac_thread_key);
    if (t != NULL)
        return t;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    t = calloc(1, sizeof *t);
    if (t == NULL || (t->ctx = EVP_MAC_CTX_new(hmac_algorithm)) == NULL || EVP_MAC_CTX_set_params(t->ctx, params) != 1 ||
        pthread_setspecific(hmac_thread_key, t) != 0) {
        if (t != NULL)
            thread_free(t);
        return NULL;
    }
    return t;
}

int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t mac[HMAC_SHA256_LEN])
{
    static const unsigned char empty[1];
    size_t out_len = 0;
    struct hmac_thread *t = thread_state();
    if (t == NULL)
        return -1;
    int ok;
    if (key_len > 0 && key_len == t->key_len && CRYPTO_memcmp(key, t->key, key_len) == 0) {
        ok = EVP_MAC_init(t->ctx, NULL, 0, NULL) == 1; /* the same key: restart from its keyed state */
    } else {
        /* EVP_MAC_init refuses a NULL key even when empty, and an empty key is valid HMAC. */
        ok = EVP_MAC_init(t->ctx, key_len > 0 ? key : empty, key_len, NULL) == 1;
        t->key_len = ok && key_len <= sizeof t->key ? key_len : 0;
        if (t->key_len > 0)
            memcpy(t->key, key, key_len);
    }
    ok = ok && EVP_MAC_update(t->ctx, data, len) == 1 && EVP_MAC_final(t->ctx, mac, &out_len, HMAC_SHA256_LEN) == 1 &&
         out_len == HMAC_SHA256_LEN;
    if (!ok)
        t->key_len = 0; /* a failed call leaves no state to trust */
    return ok ? 0 : -1;
}
