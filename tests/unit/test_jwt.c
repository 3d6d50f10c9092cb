/* test_jwt: JWT verification for every algorithm against keys generated here
 * (tokens signed by tests/unit/jwt_sign.h, an oracle apart from jwt.c), and the
 * attacks: alg none, HS256 signed with an RSA public key as the secret, keys of
 * the wrong type, expired and not-yet-valid tokens, wrong iss/aud, bad
 * base64url, truncated and oversized tokens, a kid absent from the key set. */
#include "jwt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "check.h"
#include "jwk.h"
#include "jwt_sign.h"

#define NOW 1800000000LL
static const unsigned char SECRET[] = "0123456789abcdef0123456789abcdef-hs256";
static EVP_PKEY *rsa, *rsa2, *ec, *ed;
static struct jwk_set *jwks; /* rsa "r1", ec "e1", ed "d1" */
static const struct jwt_policy policy = {.issuer = "https://idp.example", .audience = "usersvc", .leeway_s = 60};

static const char PAYLOAD[] = "{\"iss\":\"https://idp.example\",\"aud\":\"usersvc\",\"sub\":\"alice\","
                              "\"exp\":1800000100,\"scope\":\"users:read  openid\"}";

static struct jwk_set *parse_jwks(const char *doc)
{
    struct buf err = BUF_INIT;
    struct jwk_set *set = jwk_set_from_jwks(doc, strlen(doc), NULL, &err);
    if (set == NULL)
        fprintf(stderr, "     jwks: %s\n", buf_cstr(&err));
    buf_clean_up(&err);
    return set;
}

static enum jwt_status verify(const char *token, const struct jwk_set *keys, struct jwt_claims *c)
{
    return jwt_verify(token, strlen(token), keys, &policy, NOW, c);
}

static enum jwt_status verify_once(const char *token, const struct jwk_set *keys)
{
    struct jwt_claims c;
    enum jwt_status s = verify(token, keys, &c);
    jwt_claims_clean_up(&c);
    return s;
}

static void setup(void)
{
    rsa = ts_rsa(2048);
    rsa2 = ts_rsa(2048);
    ec = ts_ec("P-256");
    ed = ts_ed25519();
    char *r = ts_jwk(rsa, "r1", ",\"use\":\"sig\""), *e = ts_jwk(ec, "e1", ",\"alg\":\"ES256\""), *d = ts_jwk(ed, "d1", "");
    char doc[16384];
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s,%s]}", r, e, d);
    jwks = parse_jwks(doc);
    free(r);
    free(e);
    free(d);
}

static void test_b64url(void)
{
    unsigned char out[16];
    CHECK_INT_EQ(b64url_decode("", 0, out), 0);
    CHECK_INT_EQ(b64url_decode("YQ", 2, out), 1);
    CHECK(out[0] == 'a');
    CHECK_INT_EQ(b64url_decode("YWI", 3, out), 2);
    CHECK_INT_EQ(b64url_decode("YWJj", 4, out), 3);
    CHECK_INT_EQ(b64url_decode("_-8", 3, out), 2);
    CHECK(out[0] == 0xff && out[1] == 0xef);
    CHECK_INT_EQ(b64url_decode("YQ==", 4, out), -1); /* padding */
    CHECK_INT_EQ(b64url_decode("YR", 2, out), -1);   /* non-zero trailing bits: a second spelling of "a" */
    CHECK_INT_EQ(b64url_decode("Y", 1, out), -1);    /* length 1 mod 4 */
    CHECK_INT_EQ(b64url_decode("Y+8", 3, out), -1);  /* base64, not base64url */
    CHECK_INT_EQ(b64url_decode("Y Q", 3, out), -1);
    char text[8];
    CHECK_INT_EQ(b64url_encode((const unsigned char *)"\xff\xef", 2, text), 3);
    CHECK_STR_EQ(text, "_-8");
}

static void expect_ok(const char *alg, EVP_PKEY *key, const char *kid, const struct jwk_set *keys)
{
    char header[128];
    snprintf(header, sizeof header, kid ? "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}" : "{\"alg\":\"%s\"}", alg,
             kid);
    char *t = ts_token(header, PAYLOAD, alg, key, SECRET, sizeof SECRET - 1, NULL);
    struct jwt_claims c;
    enum jwt_status s = verify(t, keys, &c);
    CHECK_INT_EQ(s, JWT_OK);
    CHECK_STR_EQ(c.sub, "alice");
    CHECK_STR_EQ(c.scopes, "users:read openid");
    CHECK_INT_EQ(c.exp, 1800000100);
    if (s != JWT_OK)
        fprintf(stderr, "     %s: %s\n", alg, jwt_status_text(s));
    jwt_claims_clean_up(&c);
    /* Any change to the signed part fails. */
    char *dot = strchr(t, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(verify_once(t, keys), JWT_BAD_SIGNATURE);
    free(t);
}

static void test_every_algorithm(void)
{
    expect_ok("RS256", rsa, "r1", jwks);
    expect_ok("PS256", rsa, "r1", jwks);
    expect_ok("ES256", ec, "e1", jwks);
    expect_ok("EdDSA", ed, "d1", jwks);
    expect_ok("RS256", rsa, NULL, jwks); /* no kid: the keys of the algorithm's type are tried */
    struct buf err = BUF_INIT;
    struct jwk_set *secret = jwk_set_from_secret(SECRET, sizeof SECRET - 1, &err);
    expect_ok("HS256", NULL, NULL, secret);
    char *pem = ts_pem(ec);
    struct jwk_set *pem_set = jwk_set_from_pem(pem, strlen(pem), &err);
    expect_ok("ES256", ec, "any-kid", pem_set); /* a PEM key has no kid: it serves every kid */
    free(pem);
    jwk_set_unref(pem_set);
    jwk_set_unref(secret);
    buf_clean_up(&err);
}

static void test_alg_none_and_unsupported(void)
{
    char *t = ts_token("{\"alg\":\"none\"}", PAYLOAD, "x", NULL, NULL, 0, "");
    CHECK_INT_EQ(verify_once(t, jwks), JWT_MALFORMED); /* no signature part */
    free(t);
    t = ts_token("{\"alg\":\"none\",\"kid\":\"r1\"}", PAYLOAD, "x", NULL, NULL, 0, "AAAA");
    CHECK_INT_EQ(verify_once(t, jwks), JWT_UNSUPPORTED_ALG);
    free(t);
    static const char *const headers[] = {"{\"alg\":\"None\"}", "{\"alg\":\"RS512\",\"kid\":\"r1\"}", "{\"kid\":\"r1\"}",
                                          "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"exp\"]}",
                                          "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JOSE+JSON\"}"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        t = ts_token(headers[i], PAYLOAD, "RS256", rsa, NULL, 0, NULL);
        CHECK_INT_EQ(verify_once(t, jwks), JWT_UNSUPPORTED_ALG);
        free(t);
    }
    t = ts_token("{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}", PAYLOAD, "RS256", rsa, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_OK);
    free(t);
}

static void test_key_confusion(void)
{
    /* HS256 with the RSA public key (PEM, and the JWK's n) as the HMAC secret: RSA keys never verify HS256. */
    char *pem = ts_pem(rsa);
    struct buf err = BUF_INIT;
    struct jwk_set *pem_set = jwk_set_from_pem(pem, strlen(pem), &err);
    CHECK(pem_set != NULL);
    char *t = ts_token("{\"alg\":\"HS256\"}", PAYLOAD, "HS256", NULL, (unsigned char *)pem, strlen(pem), NULL);
    CHECK_INT_EQ(verify_once(t, pem_set), JWT_NO_KEY);
    free(t);
    t = ts_token("{\"alg\":\"HS256\",\"kid\":\"r1\"}", PAYLOAD, "HS256", NULL, (unsigned char *)pem, strlen(pem), NULL);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_NO_KEY);
    free(t);
    /* ES256 naming the RSA key's kid; RS256 naming the EC key's kid; EdDSA against RSA. */
    t = ts_token("{\"alg\":\"ES256\",\"kid\":\"r1\"}", PAYLOAD, "ES256", ec, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_NO_KEY);
    free(t);
    t = ts_token("{\"alg\":\"RS256\",\"kid\":\"e1\"}", PAYLOAD, "RS256", rsa, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_NO_KEY);
    free(t);
    t = ts_token("{\"alg\":\"EdDSA\"}", PAYLOAD, "EdDSA", ed, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, pem_set), JWT_NO_KEY);
    free(t);
    /* A key whose JWK says RS256 does not verify PS256; a PSS signature is not PKCS#1 v1.5. */
    char *r = ts_jwk(rsa, "r1", ",\"alg\":\"RS256\""), doc[8192];
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", r);
    struct jwk_set *rs_only = parse_jwks(doc);
    t = ts_token("{\"alg\":\"PS256\",\"kid\":\"r1\"}", PAYLOAD, "PS256", rsa, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, rs_only), JWT_NO_KEY);
    free(t);
    t = ts_token("{\"alg\":\"RS256\",\"kid\":\"r1\"}", PAYLOAD, "PS256", rsa, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_BAD_SIGNATURE);
    free(t);
    /* Signed by another RSA key under the same kid. */
    t = ts_token("{\"alg\":\"RS256\",\"kid\":\"r1\"}", PAYLOAD, "RS256", rsa2, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_BAD_SIGNATURE);
    free(t);
    /* No keys at all. */
    t = ts_token("{\"alg\":\"RS256\"}", PAYLOAD, "RS256", rsa, NULL, 0, NULL);
    CHECK_INT_EQ(verify_once(t, NULL), JWT_NO_KEY);
    free(t);
    free(r);
    free(pem);
    jwk_set_unref(rs_only);
    jwk_set_unref(pem_set);
    buf_clean_up(&err);
}

/* header.payload signed by key as OpenSSL gives it (ES256: DER, not r || s), PSS with salt_len. */
static char *token_raw_sig(const char *header, EVP_PKEY *key, const EVP_MD *md, int pss_salt_len, size_t cut)
{
    char *unsigned_token = ts_token(header, PAYLOAD, "x", NULL, NULL, 0, "");
    size_t in_len = strlen(unsigned_token) - 1; /* without the last '.' */
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    EVP_DigestSignInit(ctx, &pctx, md, NULL, key);
    if (pss_salt_len != 0) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss_salt_len);
    }
    CHECK(EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)unsigned_token, in_len) == 1);
    EVP_MD_CTX_free(ctx);
    char *b = ts_b64(sig, sig_len - cut);
    char *t = malloc(in_len + 2 + strlen(b));
    sprintf(t, "%.*s.%s", (int)in_len, unsigned_token, b);
    free(b);
    free(unsigned_token);
    return t;
}

/* Signature encodings other libraries produce by mistake: each is refused, not converted. */
static void test_signature_formats(void)
{
    char *t = token_raw_sig("{\"alg\":\"ES256\",\"kid\":\"e1\"}", ec, EVP_sha256(), 0, 0); /* DER */
    CHECK_INT_EQ(verify_once(t, jwks), JWT_BAD_SIGNATURE);
    free(t);
    /* PS256 is salt length = 32 (RFC 7518 §3.5); OpenSSL's own default for signing is the maximum. */
    t = token_raw_sig("{\"alg\":\"PS256\",\"kid\":\"r1\"}", rsa, EVP_sha256(), RSA_PSS_SALTLEN_DIGEST, 0);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_OK); /* the helper signs right */
    free(t);
    t = token_raw_sig("{\"alg\":\"PS256\",\"kid\":\"r1\"}", rsa, EVP_sha256(), RSA_PSS_SALTLEN_MAX, 0);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_BAD_SIGNATURE);
    free(t);
    t = token_raw_sig("{\"alg\":\"PS256\",\"kid\":\"r1\"}", rsa, EVP_sha256(), 20, 0);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_BAD_SIGNATURE);
    free(t);
    /* RS256 over SHA-512 under an RS256 header; EdDSA one byte short. */
    t = token_raw_sig("{\"alg\":\"RS256\",\"kid\":\"r1\"}", rsa, EVP_sha512(), 0, 0);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_BAD_SIGNATURE);
    free(t);
    t = token_raw_sig("{\"alg\":\"EdDSA\",\"kid\":\"d1\"}", ed, NULL, 0, 0);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_OK);
    free(t);
    t = token_raw_sig("{\"alg\":\"EdDSA\",\"kid\":\"d1\"}", ed, NULL, 0, 1);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_BAD_SIGNATURE);
    free(t);
}

static enum jwt_status with_payload(const char *payload)
{
    char *t = ts_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", payload, "ES256", ec, NULL, 0, NULL);
    enum jwt_status s = verify_once(t, jwks);
    free(t);
    return s;
}

#define CLAIMS(extra) "{\"iss\":\"https://idp.example\",\"aud\":\"usersvc\",\"sub\":\"s\"" extra "}"

static void test_claims(void)
{
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1800000000")), JWT_OK);
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1799999940")), JWT_OK); /* within the leeway */
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1799999939")), JWT_EXPIRED);
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1799999939.5")), JWT_EXPIRED);
    CHECK_INT_EQ(with_payload(CLAIMS("")), JWT_EXPIRED); /* exp is required */
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":\"1800000100\"")), JWT_EXPIRED);
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1800000100,\"nbf\":1800000060")), JWT_OK);
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1800000100,\"nbf\":1800000061")), JWT_NOT_YET_VALID);
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1800000100,\"nbf\":\"x\"")), JWT_BAD_CLAIMS);
    CHECK_INT_EQ(with_payload("{\"iss\":\"https://evil.example\",\"aud\":\"usersvc\",\"sub\":\"s\",\"exp\":1800000100}"),
                 JWT_WRONG_ISSUER);
    CHECK_INT_EQ(with_payload("{\"aud\":\"usersvc\",\"sub\":\"s\",\"exp\":1800000100}"), JWT_WRONG_ISSUER);
    CHECK_INT_EQ(with_payload("{\"iss\":\"https://idp.example\",\"aud\":\"other\",\"sub\":\"s\",\"exp\":1800000100}"),
                 JWT_WRONG_AUDIENCE);
    CHECK_INT_EQ(with_payload("{\"iss\":\"https://idp.example\",\"sub\":\"s\",\"exp\":1800000100}"), JWT_WRONG_AUDIENCE);
    CHECK_INT_EQ(with_payload("{\"iss\":\"https://idp.example\",\"aud\":[\"a\",\"usersvc\"],\"sub\":\"s\",\"exp\":1800000100}"),
                 JWT_OK);
    CHECK_INT_EQ(with_payload("{\"iss\":\"https://idp.example\",\"aud\":[\"a\",\"b\"],\"sub\":\"s\",\"exp\":1800000100}"),
                 JWT_WRONG_AUDIENCE);
    CHECK_INT_EQ(with_payload("{\"iss\":\"https://idp.example\",\"aud\":\"usersvc\",\"exp\":1800000100}"), JWT_BAD_CLAIMS);
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1800000100,\"scp\":7")), JWT_BAD_CLAIMS);
    CHECK_INT_EQ(with_payload(CLAIMS(",\"exp\":1800000100,\"exp\":1900000000")), JWT_MALFORMED); /* duplicate */
    CHECK_INT_EQ(with_payload("{\"iss\":\"https://idp.example\",\"aud\":\"usersvc\",\"sub\":\"a\\nb\",\"exp\":1800000100}"),
                 JWT_BAD_CLAIMS);
    CHECK_INT_EQ(with_payload("[1]"), JWT_MALFORMED);

    /* Scopes: "scope" (space separated) and "scp" (an array, or a string as Azure AD sends it). */
    struct jwt_claims c;
    char *t = ts_token("{\"alg\":\"ES256\"}", CLAIMS(",\"exp\":1800000100,\"scp\":[\"users:write\",\"x\"]"), "ES256", ec,
                       NULL, 0, NULL);
    CHECK_INT_EQ(verify(t, jwks, &c), JWT_OK);
    CHECK_STR_EQ(c.scopes, "users:write x");
    CHECK(jwt_scopes_have(c.scopes, "users:write"));
    CHECK(jwt_scopes_have(c.scopes, "x"));
    CHECK(!jwt_scopes_have(c.scopes, "users:read"));
    CHECK(!jwt_scopes_have(c.scopes, "users"));
    CHECK(!jwt_scopes_have("users:writex users:rea", "users:write")); /* whole names, never a prefix or part */
    CHECK(!jwt_scopes_have("users:writex users:rea", "users:read"));
    CHECK(!jwt_scopes_have("xusers:write", "users:write"));
    CHECK(!jwt_scopes_have(c.scopes, ""));
    jwt_claims_clean_up(&c);
    free(t);
    t = ts_token("{\"alg\":\"ES256\"}", CLAIMS(",\"exp\":1800000100,\"scp\":\"a  b\",\"scope\":\"c\""), "ES256", ec,
                 NULL, 0, NULL);
    CHECK_INT_EQ(verify(t, jwks, &c), JWT_OK);
    CHECK_STR_EQ(c.scopes, "c a b");
    jwt_claims_clean_up(&c);
    free(t);
    t = ts_token("{\"alg\":\"ES256\"}", CLAIMS(",\"exp\":1800000100"), "ES256", ec, NULL, 0, NULL);
    CHECK_INT_EQ(verify(t, jwks, &c), JWT_OK);
    CHECK_STR_EQ(c.scopes, "");
    jwt_claims_clean_up(&c);
    free(t);

    /* Policy without iss/aud: neither is checked. */
    struct jwt_policy open = {.leeway_s = 0};
    t = ts_token("{\"alg\":\"ES256\"}", "{\"sub\":\"s\",\"exp\":1800000000}", "ES256", ec, NULL, 0, NULL);
    CHECK_INT_EQ(jwt_verify(t, strlen(t), jwks, &open, NOW, &c), JWT_OK);
    jwt_claims_clean_up(&c);
    CHECK_INT_EQ(jwt_verify(t, strlen(t), jwks, &open, NOW + 1, &c), JWT_EXPIRED);
    jwt_claims_clean_up(&c);
    free(t);
}

static void test_malformed(void)
{
    char *t = ts_token("{\"alg\":\"RS256\",\"kid\":\"r1\"}", PAYLOAD, "RS256", rsa, NULL, 0, NULL);
    size_t len = strlen(t);
    CHECK_INT_EQ(verify_once(t, jwks), JWT_OK);
    /* Truncated anywhere: a bad signature, or no longer three parts of base64url. */
    int refused = 0;
    for (size_t cut = 0; cut < len; cut += 7) {
        struct jwt_claims c;
        refused += jwt_verify(t, cut, jwks, &policy, NOW, &c) != JWT_OK;
        jwt_claims_clean_up(&c);
    }
    CHECK_INT_EQ(refused, (len + 6) / 7);
    struct jwt_claims c;
    CHECK_INT_EQ(jwt_verify(t, len - 1, jwks, &policy, NOW, &c), JWT_MALFORMED); /* 342 characters less one: 1 mod 4 */
    jwt_claims_clean_up(&c);
    CHECK_INT_EQ(jwt_verify(t, len - 2, jwks, &policy, NOW, &c), JWT_BAD_SIGNATURE); /* 255 bytes of signature */
    jwt_claims_clean_up(&c);

    /* Bad base64url in each part: padding, '+', '/', white space, a fourth part. */
    char *bad = malloc(len + 8);
    const char *dot2 = strrchr(t, '.');
    snprintf(bad, len + 8, "%s=", t);
    CHECK_INT_EQ(verify_once(bad, jwks), JWT_MALFORMED);
    snprintf(bad, len + 8, "%.*s+%s", (int)(dot2 - t), t, dot2 + 1);
    CHECK_INT_EQ(verify_once(bad, jwks), JWT_MALFORMED);
    snprintf(bad, len + 8, "%s", t);
    bad[2] = '/';
    CHECK_INT_EQ(verify_once(bad, jwks), JWT_MALFORMED);
    snprintf(bad, len + 8, " %s", t);
    CHECK_INT_EQ(verify_once(bad, jwks), JWT_MALFORMED);
    snprintf(bad, len + 8, "%s.", t);
    CHECK_INT_EQ(verify_once(bad, jwks), JWT_MALFORMED);
    CHECK_INT_EQ(verify_once("..", jwks), JWT_MALFORMED);
    CHECK_INT_EQ(verify_once("", jwks), JWT_MALFORMED);
    CHECK_INT_EQ(verify_once("not-a-jwt", jwks), JWT_MALFORMED);
    free(bad);

    /* 16 KB: refused before any decoding, even with a valid signature. */
    char payload[16384];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"https://idp.example\",\"aud\":\"usersvc\",\"sub\":\"s\",\"exp\":1800000100,\"pad\":\"%0*d\"}",
             12000, 0);
    char *big = ts_token("{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, "RS256", rsa, NULL, 0, NULL);
    CHECK(strlen(big) > 16000);
    CHECK_INT_EQ(verify_once(big, jwks), JWT_MALFORMED);
    free(big);
    free(t);
}

static void test_unknown_kid(void)
{
    char *t = ts_token("{\"alg\":\"RS256\",\"kid\":\"r2\"}", PAYLOAD, "RS256", rsa2, NULL, 0, NULL);
    struct jwt_claims c;
    CHECK_INT_EQ(verify(t, jwks, &c), JWT_UNKNOWN_KID);
    CHECK_STR_EQ(c.kid, "r2");
    jwt_claims_clean_up(&c);
    /* Once the set has it (a refreshed JWKS), the same token passes. */
    char *r = ts_jwk(rsa, "r1", ""), *r2 = ts_jwk(rsa2, "r2", ""), doc[16384];
    snprintf(doc, sizeof doc, "{\"keys\":[%s,%s]}", r, r2);
    struct jwk_set *rotated = parse_jwks(doc);
    CHECK_INT_EQ(verify_once(t, rotated), JWT_OK);
    free(t);
    free(r);
    free(r2);
    jwk_set_unref(rotated);
}

static void test_jwks_parsing(void)
{
    struct buf err = BUF_INIT;
    size_t skipped = 0;
    char *r = ts_jwk(rsa, "r1", ""), *enc = ts_jwk(rsa2, "enc1", ",\"use\":\"enc\""),
         *oaep = ts_jwk(rsa2, "o1", ",\"alg\":\"RSA-OAEP\"");
    EVP_PKEY *p384 = ts_ec("P-384");
    char doc[32768];
    snprintf(doc, sizeof doc,
             "{\"keys\":[%s,%s,%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
             "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"}]}",
             r, enc, oaep);
    struct jwk_set *set = jwk_set_from_jwks(doc, strlen(doc), &skipped, &err);
    CHECK(set != NULL);
    CHECK_INT_EQ(set ? set->n : 0, 1);
    CHECK_INT_EQ(skipped, 5);
    CHECK(jwk_set_has_kid(set, "r1"));
    CHECK(!jwk_set_has_kid(set, "enc1"));
    jwk_set_unref(set);

    static const char *const bad[] = {
        "", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[{}]}", "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQ==\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}", /* not on the curve */
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":7}]}",
        "{\"keys\":[],\"keys\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_reset(&err);
        set = jwk_set_from_jwks(bad[i], strlen(bad[i]), NULL, &err);
        CHECK(set == NULL);
        CHECK(err.len > 0);
        jwk_set_unref(set);
    }
    /* RSA under 2048 bits is refused, as a JWK and as PEM. */
    EVP_PKEY *small = ts_rsa(1024);
    char *s = ts_jwk(small, "s", "");
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", s);
    buf_reset(&err);
    CHECK(jwk_set_from_jwks(doc, strlen(doc), NULL, &err) == NULL);
    char *pem = ts_pem(small);
    CHECK(jwk_set_from_pem(pem, strlen(pem), &err) == NULL);
    free(pem);
    pem = ts_pem(p384);
    buf_reset(&err);
    CHECK(jwk_set_from_pem(pem, strlen(pem), &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "P-256") != NULL);
    CHECK(jwk_set_from_pem("junk", 4, &err) == NULL);
    CHECK(jwk_set_from_secret((const unsigned char *)"short", 5, &err) == NULL);
    /* An empty set is valid; more than JWK_MAX_KEYS is not. */
    set = parse_jwks("{\"keys\":[]}");
    CHECK(set != NULL && set->n == 0);
    jwk_set_unref(set);
    struct buf many = BUF_INIT;
    buf_append_str(&many, "{\"keys\":[");
    for (int i = 0; i <= JWK_MAX_KEYS; i++)
        buf_printf(&many, "%s{\"kty\":\"oct\"}", i ? "," : "");
    buf_append_str(&many, "]}");
    CHECK(jwk_set_from_jwks(many.data, many.len, NULL, &err) == NULL);
    buf_clean_up(&many);

    /* Merging keeps both halves usable after the originals are gone. */
    struct jwk_set *secret = jwk_set_from_secret(SECRET, sizeof SECRET - 1, &err);
    struct jwk_set *merged = jwk_set_merge(jwks, secret);
    jwk_set_unref(secret);
    CHECK(merged != NULL && merged->n == jwks->n + 1);
    expect_ok("HS256", NULL, NULL, merged);
    expect_ok("EdDSA", ed, "d1", merged);
    jwk_set_unref(merged);

    EVP_PKEY_free(small);
    EVP_PKEY_free(p384);
    free(s);
    free(pem);
    free(r);
    free(enc);
    free(oaep);
    buf_clean_up(&err);
}

int main(void)
{
    setup();
    CHECK(jwks != NULL && jwks->n == 3);
    RUN(test_b64url);
    RUN(test_every_algorithm);
    RUN(test_alg_none_and_unsupported);
    RUN(test_key_confusion);
    RUN(test_signature_formats);
    RUN(test_claims);
    RUN(test_malformed);
    RUN(test_unknown_kid);
    RUN(test_jwks_parsing);
    jwk_set_unref(jwks);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    return check_summary();
}
