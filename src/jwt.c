/* jwt: compact JWS verification (see jwt.h). */
#include "jwt.h"

#include <jansson.h>
#include <math.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64url.h"
#include "buf.h"

#define MAX_CANDIDATES 4 /* keys tried for one token: a token without kid cannot make us try a whole set */

const char *jwt_status_text(enum jwt_status status)
{
    switch (status) {
    case JWT_OK:
        return "valid";
    case JWT_MALFORMED:
        return "malformed token";
    case JWT_UNSUPPORTED_ALG:
        return "unsupported token algorithm or type";
    case JWT_UNKNOWN_KID:
        return "unknown signing key";
    case JWT_NO_KEY:
        return "no key for the token's algorithm";
    case JWT_BAD_SIGNATURE:
        return "invalid signature";
    case JWT_EXPIRED:
        return "token expired or without exp";
    case JWT_NOT_YET_VALID:
        return "token not yet valid";
    case JWT_WRONG_ISSUER:
        return "wrong issuer";
    case JWT_WRONG_AUDIENCE:
        return "wrong audience";
    case JWT_BAD_CLAIMS:
        return "missing or malformed claims";
    }
    return "invalid token";
}

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* OpenSSL 3 fetches an algorithm by name on every EVP_sha256() use; fetch it once. */
static void fetch_sha256(void) { sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); }

enum alg { ALG_RS256, ALG_PS256, ALG_ES256, ALG_EDDSA, ALG_HS256, ALG_UNSUPPORTED };

static enum alg alg_parse(const char *name)
{
    static const char *const names[] = {"RS256", "PS256", "ES256", "EdDSA", "HS256"};
    for (int i = 0; i < 5; i++)
        if (name != NULL && strcmp(name, names[i]) == 0)
            return (enum alg)i;
    return ALG_UNSUPPORTED; /* "none" among them */
}

static int alg_key_type(enum alg alg, enum jwk_type type)
{
    switch (alg) {
    case ALG_RS256:
    case ALG_PS256:
        return type == JWK_RSA;
    case ALG_ES256:
        return type == JWK_EC_P256;
    case ALG_EDDSA:
        return type == JWK_ED25519;
    case ALG_HS256:
        return type == JWK_OCT;
    case ALG_UNSUPPORTED:
        break;
    }
    return 0;
}

/* JOSE's ES256 signature is r || s (32 bytes each); OpenSSL verifies DER. Returns the DER length or -1. */
static int es256_der(const unsigned char *sig, size_t len, unsigned char *der, size_t der_cap)
{
    if (len != 64)
        return -1;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    int n = -1;
    if (s != NULL && r != NULL && ss != NULL && ECDSA_SIG_set0(s, r, ss) == 1) {
        r = ss = NULL; /* owned by s */
        if ((size_t)i2d_ECDSA_SIG(s, NULL) <= der_cap) {
            unsigned char *p = der;
            n = i2d_ECDSA_SIG(s, &p);
        }
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return n;
}

/* 1 when sig is key's signature of data under alg. */
static int verify_with(enum alg alg, const struct jwk *key, const unsigned char *data, size_t data_len,
                       const unsigned char *sig, size_t sig_len)
{
    if (alg == ALG_HS256) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        if (sig_len != 32 || HMAC(sha256, key->secret, (int)key->secret_len, data, data_len, mac, &mac_len) == NULL)
            return 0;
        return mac_len == 32 && CRYPTO_memcmp(mac, sig, 32) == 0;
    }
    unsigned char der[80];
    if (alg == ALG_ES256) {
        int n = es256_der(sig, sig_len, der, sizeof der);
        if (n < 0)
            return 0;
        sig = der;
        sig_len = (size_t)n;
    }
    if (alg == ALG_EDDSA && sig_len != 64)
        return 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, &pctx, alg == ALG_EDDSA ? NULL : sha256, NULL, key->pkey) == 1;
    if (ok && alg == ALG_PS256)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, sha256) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1; /* RFC 7518 §3.5 */
    else if (ok && alg == ALG_RS256)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    ok = ok && EVP_DigestVerify(ctx, sig, sig_len, data, data_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Decodes one part into a JSON object (duplicates refused). NULL when malformed. */
static json_t *part_json(const char *text, size_t len, unsigned char *scratch)
{
    long n = b64url_decode(text, len, scratch);
    if (n <= 0)
        return NULL;
    json_t *v = json_loadb((const char *)scratch, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static int typ_ok(const json_t *typ)
{
    if (typ == NULL)
        return 1;
    const char *t = json_string_value(typ);
    if (t == NULL)
        return 0;
    if (strncasecmp(t, "application/", 12) == 0)
        t += 12;
    return strcasecmp(t, "JWT") == 0 || strcasecmp(t, "at+jwt") == 0;
}

/* Appends one scope name (no white space inside) to out. */
static int add_scope(struct buf *out, const char *name, size_t len)
{
    if (len == 0)
        return 0;
    if ((out->len > 0 && buf_append_char(out, ' ') != 0) || buf_append(out, name, len) != 0)
        return -1;
    return 0;
}

/* Scopes from "scope" (a space-separated string) and "scp" (a string or an array of strings). -1 when malformed. */
static int collect_scopes(const json_t *payload, struct buf *out)
{
    const json_t *sources[2] = {json_object_get(payload, "scope"), json_object_get(payload, "scp")};
    for (int i = 0; i < 2; i++) {
        const json_t *v = sources[i];
        if (v == NULL)
            continue;
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            while (*s != '\0') {
                size_t word = strcspn(s, " "), gap;
                if (add_scope(out, s, word) != 0)
                    return -1;
                s += word;
                gap = strspn(s, " ");
                s += gap;
            }
        } else if (i == 1 && json_is_array(v)) {
            size_t k;
            const json_t *e;
            json_array_foreach(v, k, e) {
                const char *s = json_string_value(e);
                if (s == NULL || strchr(s, ' ') != NULL || add_scope(out, s, strlen(s)) != 0)
                    return -1;
            }
        } else {
            return -1;
        }
    }
    for (size_t k = 0; k < out->len; k++) /* names end up in no log, but stay plain text */
        if ((unsigned char)out->data[k] < 0x20 || out->data[k] == 0x7f)
            return -1;
    return 0;
}

static int audience_ok(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    size_t i;
    const json_t *e;
    json_array_foreach(aud, i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), want) == 0)
            return 1;
    }
    return 0;
}

static enum jwt_status check_claims(const json_t *payload, const struct jwt_policy *policy, int64_t now_s,
                                    struct jwt_claims *claims)
{
    const json_t *exp = json_object_get(payload, "exp"), *nbf = json_object_get(payload, "nbf");
    int64_t leeway = policy->leeway_s;
    if (!json_is_number(exp) || !isfinite(json_number_value(exp)) || fabs(json_number_value(exp)) > 1e13)
        return JWT_EXPIRED;
    claims->exp = (int64_t)floor(json_number_value(exp));
    if (now_s > claims->exp + leeway)
        return JWT_EXPIRED;
    if (nbf != NULL) {
        if (!json_is_number(nbf) || !isfinite(json_number_value(nbf)) || fabs(json_number_value(nbf)) > 1e13)
            return JWT_BAD_CLAIMS;
        if ((double)(now_s + leeway) < json_number_value(nbf))
            return JWT_NOT_YET_VALID;
    }
    if (policy->issuer != NULL) {
        const char *iss = json_string_value(json_object_get(payload, "iss"));
        if (iss == NULL || strcmp(iss, policy->issuer) != 0)
            return JWT_WRONG_ISSUER;
    }
    if (policy->audience != NULL && !audience_ok(json_object_get(payload, "aud"), policy->audience))
        return JWT_WRONG_AUDIENCE;
    const json_t *sub = json_object_get(payload, "sub");
    size_t sub_len = json_string_length(sub);
    if (!json_is_string(sub) || sub_len == 0 || sub_len > JWT_MAX_SUB)
        return JWT_BAD_CLAIMS;
    for (size_t i = 0; i < sub_len; i++) /* it is logged: no control characters (NUL included) */
        if ((unsigned char)json_string_value(sub)[i] < 0x20 || json_string_value(sub)[i] == 0x7f)
            return JWT_BAD_CLAIMS;
    memcpy(claims->sub, json_string_value(sub), sub_len + 1);
    struct buf scopes = BUF_INIT;
    if (collect_scopes(payload, &scopes) != 0 || (claims->scopes = buf_steal(&scopes)) == NULL) {
        buf_clean_up(&scopes);
        return JWT_BAD_CLAIMS;
    }
    return JWT_OK;
}

enum jwt_status jwt_verify(const char *token, size_t len, const struct jwk_set *keys, const struct jwt_policy *policy,
                           int64_t now_s, struct jwt_claims *claims)
{
    memset(claims, 0, sizeof *claims);
    pthread_once(&sha256_once, fetch_sha256);
    if (len == 0 || len > JWT_MAX_BYTES || sha256 == NULL)
        return JWT_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return JWT_MALFORMED;
    size_t header_len = (size_t)(dot1 - token), payload_len = (size_t)(dot2 - dot1 - 1),
           sig_len = len - (size_t)(dot2 + 1 - token);
    if (header_len == 0 || payload_len == 0 || sig_len == 0)
        return JWT_MALFORMED; /* an unsigned token ("alg":"none" with an empty signature) included */
    unsigned char *scratch = malloc(b64url_decoded_max(len));
    json_t *header = NULL, *payload = NULL;
    enum jwt_status status = JWT_MALFORMED;
    if (scratch == NULL || (header = part_json(token, header_len, scratch)) == NULL)
        goto out;
    const json_t *kid = json_object_get(header, "kid");
    enum alg alg = alg_parse(json_string_value(json_object_get(header, "alg")));
    if (kid != NULL && (!json_is_string(kid) || json_string_length(kid) == 0 || json_string_length(kid) > JWT_MAX_KID))
        goto out;
    if (kid != NULL)
        memcpy(claims->kid, json_string_value(kid), json_string_length(kid) + 1);
    status = JWT_UNSUPPORTED_ALG;
    if (alg == ALG_UNSUPPORTED || json_object_get(header, "crit") != NULL || !typ_ok(json_object_get(header, "typ")))
        goto out;
    status = JWT_MALFORMED;
    long n = b64url_decode(dot2 + 1, sig_len, scratch);
    if (n <= 0)
        goto out;
    size_t tried = 0;
    int verified = 0;
    for (size_t i = 0; keys != NULL && i < keys->n && !verified && tried < MAX_CANDIDATES; i++) {
        const struct jwk *key = &keys->keys[i];
        if (!alg_key_type(alg, key->type) || (key->alg[0] != '\0' && alg_parse(key->alg) != alg) ||
            (kid != NULL && key->kid != NULL && strcmp(key->kid, claims->kid) != 0))
            continue;
        tried++;
        verified = verify_with(alg, key, (const unsigned char *)token, (size_t)(dot2 - token), scratch, (size_t)n);
    }
    if (!verified) {
        /* A kid no key has, and no key without kid to try: the set may be stale (the caller may refresh it). */
        status = tried > 0 ? JWT_BAD_SIGNATURE : kid != NULL && !jwk_set_has_kid(keys, claims->kid) ? JWT_UNKNOWN_KID
                                                                                                   : JWT_NO_KEY;
        goto out;
    }
    status = JWT_MALFORMED;
    if ((payload = part_json(dot1 + 1, payload_len, scratch)) == NULL)
        goto out;
    status = check_claims(payload, policy, now_s, claims);
out:
    if (status != JWT_OK) {
        free(claims->scopes);
        claims->scopes = NULL;
    }
    json_decref(header);
    json_decref(payload);
    free(scratch);
    return status;
}

void jwt_claims_clean_up(struct jwt_claims *claims)
{
    free(claims->scopes);
    claims->scopes = NULL;
}

int jwt_scopes_have(const char *scopes, const char *name)
{
    size_t len = strlen(name);
    if (scopes == NULL || len == 0)
        return 0;
    for (const char *s = scopes; *s != '\0';) {
        size_t word = strcspn(s, " ");
        if (word == len && memcmp(s, name, len) == 0)
            return 1;
        s += word;
        s += strspn(s, " ");
    }
    return 0;
}
