/* jwt_sign.h: test-only token and key making with OpenSSL, an oracle independent of jwt.c: keys are
 * generated at test time, tokens signed here, JWKS documents written from the keys' own parameters. */
#ifndef USERSVC_JWT_SIGN_H
#define USERSVC_JWT_SIGN_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"

static inline EVP_PKEY *ts_rsa(int bits) { return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits); }
static inline EVP_PKEY *ts_ec(const char *curve) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve); }
static inline EVP_PKEY *ts_ed25519(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); }

static inline char *ts_b64(const void *data, size_t len)
{
    char *out = malloc(len / 3 * 4 + 8);
    b64url_encode(data, len, out);
    return out;
}

/* header.payload.signature; alg chooses how: "RS256", "PS256", "ES256", "EdDSA", "HS256" (with secret), or
 * anything else for a given raw signature text (sig_text). Caller frees. */
static inline char *ts_token(const char *header, const char *payload, const char *alg, EVP_PKEY *key,
                             const unsigned char *secret, size_t secret_len, const char *sig_text)
{
    char *h = ts_b64(header, strlen(header)), *p = ts_b64(payload, strlen(payload));
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *input = malloc(in_len + 1);
    snprintf(input, in_len + 1, "%s.%s", h, p);
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    char *sig_b64 = NULL;
    if (strcmp(alg, "HS256") == 0) {
        unsigned int n = 0;
        HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)input, in_len, sig, &n);
        sig_len = n;
    } else if (strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0 || strcmp(alg, "ES256") == 0 ||
               strcmp(alg, "EdDSA") == 0) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        EVP_DigestSignInit(ctx, &pctx, strcmp(alg, "EdDSA") == 0 ? NULL : EVP_sha256(), NULL, key);
        if (strcmp(alg, "PS256") == 0) {
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
        }
        EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)input, in_len);
        EVP_MD_CTX_free(ctx);
        if (strcmp(alg, "ES256") == 0) { /* DER to r || s */
            const unsigned char *q = sig;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sig_len);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
            ECDSA_SIG_free(es);
            sig_len = 64;
        }
    } else {
        sig_b64 = strdup(sig_text);
    }
    if (sig_b64 == NULL)
        sig_b64 = ts_b64(sig, sig_len);
    size_t total = in_len + 1 + strlen(sig_b64) + 1;
    char *token = malloc(total);
    snprintf(token, total, "%s.%s", input, sig_b64);
    free(h);
    free(p);
    free(input);
    free(sig_b64);
    return token;
}

static inline char *ts_bn_b64(EVP_PKEY *key, const char *param)
{
    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(key, param, &bn);
    unsigned char bytes[1024];
    int n = BN_bn2bin(bn, bytes);
    BN_free(bn);
    return ts_b64(bytes, (size_t)n);
}

/* One JWK object's text for key (RSA, EC P-256 or Ed25519) with kid (may be NULL) and extra members
 * (",\"alg\":\"RS256\"" or ""). Caller frees. */
static inline char *ts_jwk(EVP_PKEY *key, const char *kid, const char *extra)
{
    char *out = malloc(4096), kidm[300] = "";
    if (kid != NULL)
        snprintf(kidm, sizeof kidm, ",\"kid\":\"%s\"", kid);
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        char *n = ts_bn_b64(key, OSSL_PKEY_PARAM_RSA_N), *e = ts_bn_b64(key, OSSL_PKEY_PARAM_RSA_E);
        snprintf(out, 4096, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s%s}", n, e, kidm, extra);
        free(n);
        free(e);
    } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        BIGNUM *x = NULL, *y = NULL;
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
        unsigned char xb[32], yb[32];
        BN_bn2binpad(x, xb, 32);
        BN_bn2binpad(y, yb, 32);
        char *xs = ts_b64(xb, 32), *ys = ts_b64(yb, 32);
        snprintf(out, 4096, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"%s%s}", xs, ys, kidm, extra);
        free(xs);
        free(ys);
        BN_free(x);
        BN_free(y);
    } else {
        unsigned char raw[32];
        size_t len = sizeof raw;
        EVP_PKEY_get_raw_public_key(key, raw, &len);
        char *xs = ts_b64(raw, len);
        snprintf(out, 4096, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s%s}", xs, kidm, extra);
        free(xs);
    }
    return out;
}

/* The PEM SubjectPublicKeyInfo of key. Caller frees. */
static inline char *ts_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    return out;
}

#endif
