/* jwk: key sets for JWT verification (see jwk.h). */
#include "jwk.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

static struct jwk_set *set_new(size_t cap)
{
    struct jwk_set *set = calloc(1, sizeof *set);
    if (set == NULL)
        return NULL;
    set->keys = calloc(cap > 0 ? cap : 1, sizeof *set->keys);
    if (set->keys == NULL) {
        free(set);
        return NULL;
    }
    atomic_init(&set->refs, 1);
    return set;
}

static void key_clean_up(struct jwk *k)
{
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    if (k->secret != NULL) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }
    memset(k, 0, sizeof *k);
}

struct jwk_set *jwk_set_ref(struct jwk_set *set)
{
    if (set != NULL)
        atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    return set;
}

void jwk_set_unref(struct jwk_set *set)
{
    if (set == NULL || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < set->n; i++)
        key_clean_up(&set->keys[i]);
    free(set->keys);
    free(set);
}

int jwk_set_has_kid(const struct jwk_set *set, const char *kid)
{
    for (size_t i = 0; set != NULL && kid != NULL && i < set->n; i++)
        if (set->keys[i].kid != NULL && strcmp(set->keys[i].kid, kid) == 0)
            return 1;
    return 0;
}

/* Decodes the base64url member name of jwk into a new buffer; NULL when absent or malformed. */
static unsigned char *member_bytes(const json_t *jwk, const char *name, size_t *len)
{
    const json_t *v = json_object_get(jwk, name);
    const char *text = json_string_value(v);
    if (text == NULL || json_string_length(v) == 0 || json_string_length(v) > 2048)
        return NULL;
    unsigned char *out = malloc(b64url_decoded_max(json_string_length(v)));
    long n = out != NULL ? b64url_decode(text, json_string_length(v), out) : -1;
    if (n <= 0) {
        free(out);
        return NULL;
    }
    *len = (size_t)n;
    return out;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (pkey != NULL) { /* a point off the curve, an even modulus ... */
        EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        int ok = check != NULL && EVP_PKEY_public_check(check) == 1;
        EVP_PKEY_CTX_free(check);
        if (!ok) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    return pkey;
}

static EVP_PKEY *rsa_key(const json_t *jwk)
{
    size_t n_len = 0, e_len = 0;
    unsigned char *n = member_bytes(jwk, "n", &n_len), *e = member_bytes(jwk, "e", &e_len);
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn_n = n != NULL ? BN_bin2bn(n, (int)n_len, NULL) : NULL;
    BIGNUM *bn_e = e != NULL && e_len <= 8 ? BN_bin2bn(e, (int)e_len, NULL) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bn_n != NULL && bn_e != NULL && bld != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        pkey = pkey_from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return pkey;
}

static EVP_PKEY *ec_key(const json_t *jwk)
{
    size_t x_len = 0, y_len = 0;
    unsigned char *x = member_bytes(jwk, "x", &x_len), *y = member_bytes(jwk, "y", &y_len);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (x != NULL && y != NULL && x_len == 32 && y_len == 32 && bld != NULL) {
        unsigned char point[65];
        point[0] = 0x04; /* uncompressed */
        memcpy(point + 1, x, 32);
        memcpy(point + 33, y, 32);
        if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
            pkey = pkey_from_params("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pkey;
}

static EVP_PKEY *ed25519_key(const json_t *jwk)
{
    size_t x_len = 0;
    unsigned char *x = member_bytes(jwk, "x", &x_len);
    EVP_PKEY *pkey = x != NULL && x_len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32) : NULL;
    free(x);
    return pkey;
}

/* The algorithms a key type verifies. */
static int alg_fits(enum jwk_type type, const char *alg)
{
    switch (type) {
    case JWK_RSA:
        return strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0;
    case JWK_EC_P256:
        return strcmp(alg, "ES256") == 0;
    case JWK_ED25519:
        return strcmp(alg, "EdDSA") == 0;
    case JWK_OCT:
        return strcmp(alg, "HS256") == 0;
    }
    return 0;
}

/* Reads one JWK into *out. Returns 1 when read, 0 when skipped as unsupported, -1 when malformed. */
static int read_jwk(const json_t *jwk, struct jwk *out, struct buf *err, size_t index)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const json_t *kid = json_object_get(jwk, "kid");
    const json_t *alg = json_object_get(jwk, "alg");
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (!json_is_object(jwk) || kty == NULL) {
        buf_printf(err, "key %zu has no \"kty\"", index);
        return -1;
    }
    if ((kid != NULL && (!json_is_string(kid) || json_string_length(kid) == 0 || json_string_length(kid) > 256)) ||
        (alg != NULL && !json_is_string(alg)) || (json_object_get(jwk, "use") != NULL && use == NULL)) {
        buf_printf(err, "key %zu: \"kid\", \"alg\" and \"use\" must be non-empty strings", index);
        return -1;
    }
    if (use != NULL && strcmp(use, "sig") != 0)
        return 0;
    enum jwk_type type;
    if (strcmp(kty, "RSA") == 0)
        type = JWK_RSA;
    else if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0)
        type = JWK_EC_P256;
    else if (strcmp(kty, "OKP") == 0 && crv != NULL && strcmp(crv, "Ed25519") == 0)
        type = JWK_ED25519;
    else
        return 0; /* oct, other curves, other types */
    if (alg != NULL && !alg_fits(type, json_string_value(alg)))
        return 0; /* e.g. an RSA key for RSA-OAEP, or RS512 which we do not verify */
    void *pkey = type == JWK_RSA ? rsa_key(jwk) : type == JWK_EC_P256 ? ec_key(jwk) : ed25519_key(jwk);
    if (pkey == NULL) {
        buf_printf(err, "key %zu (kty %s) is malformed", index, kty);
        return -1;
    }
    if (type == JWK_RSA && EVP_PKEY_get_bits(pkey) < JWK_MIN_RSA_BITS) {
        EVP_PKEY_free(pkey);
        buf_printf(err, "key %zu: RSA keys need at least %d bits", index, JWK_MIN_RSA_BITS);
        return -1;
    }
    *out = (struct jwk){.type = type, .pkey = pkey};
    if (alg != NULL)
        snprintf(out->alg, sizeof out->alg, "%s", json_string_value(alg));
    if (kid != NULL && (out->kid = strdup(json_string_value(kid))) == NULL) {
        key_clean_up(out);
        buf_printf(err, "out of memory");
        return -1;
    }
    return 1;
}

struct jwk_set *jwk_set_from_jwks(const char *json, size_t len, size_t *skipped, struct buf *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *keys = json_object_get(doc, "keys");
    struct jwk_set *set = NULL;
    if (skipped != NULL)
        *skipped = 0;
    if (!json_is_array(keys)) {
        buf_printf(err, doc == NULL ? "not JSON" : "no \"keys\" array");
        goto out;
    }
    if (json_array_size(keys) > JWK_MAX_KEYS) {
        buf_printf(err, "more than %d keys", JWK_MAX_KEYS);
        goto out;
    }
    set = set_new(json_array_size(keys));
    if (set == NULL) {
        buf_printf(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        int r = read_jwk(json_array_get(keys, i), &set->keys[set->n], err, i);
        if (r < 0) {
            jwk_set_unref(set);
            set = NULL;
            goto out;
        }
        if (r == 0 && skipped != NULL)
            (*skipped)++;
        set->n += (size_t)r;
    }
out:
    json_decref(doc);
    return set;
}

struct jwk_set *jwk_set_from_pem(const char *pem, size_t len, struct buf *err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (pkey == NULL) {
        buf_printf(err, "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
        return NULL;
    }
    enum jwk_type type;
    char group[32] = "";
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        type = JWK_RSA;
        break;
    case EVP_PKEY_EC:
        type = JWK_EC_P256;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) != 1 ||
            strcmp(group, "prime256v1") != 0) {
            EVP_PKEY_free(pkey);
            buf_printf(err, "an EC key must be on P-256");
            return NULL;
        }
        break;
    case EVP_PKEY_ED25519:
        type = JWK_ED25519;
        break;
    default:
        EVP_PKEY_free(pkey);
        buf_printf(err, "not an RSA, EC P-256 or Ed25519 public key");
        return NULL;
    }
    if (type == JWK_RSA && EVP_PKEY_get_bits(pkey) < JWK_MIN_RSA_BITS) {
        EVP_PKEY_free(pkey);
        buf_printf(err, "RSA keys need at least %d bits", JWK_MIN_RSA_BITS);
        return NULL;
    }
    struct jwk_set *set = set_new(1);
    if (set == NULL) {
        EVP_PKEY_free(pkey);
        buf_printf(err, "out of memory");
        return NULL;
    }
    set->keys[0] = (struct jwk){.type = type, .pkey = pkey};
    set->n = 1;
    return set;
}

struct jwk_set *jwk_set_from_secret(const unsigned char *secret, size_t len, struct buf *err)
{
    if (len < JWK_MIN_SECRET_BYTES) {
        buf_printf(err, "an HS256 secret needs at least %d bytes", JWK_MIN_SECRET_BYTES);
        return NULL;
    }
    struct jwk_set *set = set_new(1);
    unsigned char *copy = malloc(len);
    if (set == NULL || copy == NULL) {
        free(copy);
        jwk_set_unref(set);
        buf_printf(err, "out of memory");
        return NULL;
    }
    memcpy(copy, secret, len);
    set->keys[0] = (struct jwk){.type = JWK_OCT, .secret = copy, .secret_len = len};
    set->n = 1;
    return set;
}

static int key_copy(struct jwk *dst, const struct jwk *src)
{
    *dst = *src;
    dst->kid = NULL;
    dst->secret = NULL;
    dst->pkey = NULL;
    if (src->kid != NULL && (dst->kid = strdup(src->kid)) == NULL)
        return -1;
    if (src->secret != NULL) {
        if ((dst->secret = malloc(src->secret_len)) == NULL)
            return -1;
        memcpy(dst->secret, src->secret, src->secret_len);
    }
    if (src->pkey != NULL) {
        if (EVP_PKEY_up_ref(src->pkey) != 1)
            return -1;
        dst->pkey = src->pkey;
    }
    return 0;
}

struct jwk_set *jwk_set_merge(const struct jwk_set *a, const struct jwk_set *b)
{
    size_t na = a != NULL ? a->n : 0, nb = b != NULL ? b->n : 0;
    struct jwk_set *set = set_new(na + nb);
    if (set == NULL)
        return NULL;
    for (size_t i = 0; i < na + nb; i++) {
        const struct jwk *src = i < na ? &a->keys[i] : &b->keys[i - na];
        int r = key_copy(&set->keys[set->n], src);
        set->n++; /* cleaned up with the set even when half copied */
        if (r != 0) {
            jwk_set_unref(set);
            return NULL;
        }
    }
    return set;
}

char *jwk_read_file(const char *path, size_t max, size_t *len, struct buf *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        buf_printf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *data = malloc(max + 1);
    size_t n = data != NULL ? fread(data, 1, max + 1, f) : 0;
    int failed = data == NULL || ferror(f);
    fclose(f);
    if (failed || n > max) {
        free(data);
        buf_printf(err, failed ? "%s: cannot be read" : "%s: larger than %zu bytes", path, max);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}
