/* fuzz_jwt: the parsers of untrusted authentication input. The first byte picks:
 *   0: a bearer token through jwt_verify against an HS256 secret and an EC key:
 *      accepted only with a subject and unexpired, else no scopes; never a crash.
 *   1: a JWKS document (a fetched JWT_JWKS_URL): NULL with a reason, or a set of at
 *      most JWK_MAX_KEYS keys, each with a non-empty kid or none.
 *   2: an API_KEYS_FILE: NULL with a reason, or keys with valid names and scopes.
 *   3: base64url: whatever decodes encodes back to exactly the same text. */
#include <stdlib.h>
#include <string.h>

#include "apikeys.h"
#include "b64url.h"
#include "fake_app.h"
#include "jwk.h"
#include "jwt.h"

static const char JWKS[] =
    "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e1\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
static const unsigned char SECRET[] = "fuzz-secret-0123456789abcdef-0123456789";

static struct jwk_set *keys(void)
{
    static struct jwk_set *set;
    if (set == NULL) {
        struct buf err = BUF_INIT;
        struct jwk_set *ec = jwk_set_from_jwks(JWKS, strlen(JWKS), NULL, &err);
        struct jwk_set *hs = jwk_set_from_secret(SECRET, sizeof SECRET - 1, &err);
        FAKE_ASSERT(ec != NULL && hs != NULL);
        set = jwk_set_merge(ec, hs);
        jwk_set_unref(ec);
        jwk_set_unref(hs);
        buf_clean_up(&err);
    }
    return set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct buf err = BUF_INIT;
    switch (data[0] % 4) {
    case 0: {
        struct jwt_policy policy = {.issuer = "idp", .audience = "usersvc", .leeway_s = 60};
        struct jwt_claims claims;
        enum jwt_status s = jwt_verify(text, len, keys(), &policy, 1800000000, &claims);
        /* Only the corpus's HS256 token (or a mutation that keeps its signed part) passes. */
        if (s == JWT_OK)
            FAKE_ASSERT(claims.scopes != NULL && claims.sub[0] != '\0' && claims.exp + 60 >= 1800000000);
        else
            FAKE_ASSERT(claims.scopes == NULL);
        FAKE_ASSERT(strlen(claims.kid) <= JWT_MAX_KID);
        jwt_claims_clean_up(&claims);
        break;
    }
    case 1: {
        size_t skipped = 0;
        struct jwk_set *set = jwk_set_from_jwks(text, len, &skipped, &err);
        FAKE_ASSERT((set == NULL) == (err.len > 0));
        if (set != NULL) {
            FAKE_ASSERT(set->n + skipped <= JWK_MAX_KEYS);
            for (size_t i = 0; i < set->n; i++)
                FAKE_ASSERT(set->keys[i].kid == NULL || set->keys[i].kid[0] != '\0');
        }
        jwk_set_unref(set);
        break;
    }
    case 2: {
        struct apikeys *k = apikeys_parse(text, len, &err);
        FAKE_ASSERT((k == NULL) == (err.len > 0));
        for (size_t i = 0; k != NULL && i < k->n; i++) {
            FAKE_ASSERT(k->keys[i].name[0] != '\0' && k->keys[i].scopes[0] != '\0');
            FAKE_ASSERT(strchr(k->keys[i].scopes, ',') == NULL);
        }
        apikeys_free(k);
        break;
    }
    default: {
        unsigned char *out = malloc(b64url_decoded_max(len) + 1);
        FAKE_ASSERT(out != NULL);
        long n = b64url_decode(text, len, out);
        if (n >= 0) {
            char *again = malloc(len + 4);
            FAKE_ASSERT(again != NULL);
            FAKE_ASSERT(b64url_encode(out, (size_t)n, again) == len && memcmp(again, text, len) == 0);
            free(again);
        }
        free(out);
        break;
    }
    }
    buf_clean_up(&err);
    return 0;
}
