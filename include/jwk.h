/* jwk: the keys JWTs are verified with (RFC 7517), as immutable, reference-
 * counted sets any thread may read while it holds a reference.
 *
 * A set comes from a JWKS document (JWT_JWKS_FILE, JWT_JWKS_URL), a PEM public
 * key (JWT_PUBLIC_KEY_FILE) or an HS256 secret (JWT_SECRET); jwk_set_merge
 * joins them. Supported: RSA (2048 bits or more), EC P-256, OKP Ed25519, and
 * oct only from JWT_SECRET (a JWKS "oct" key is skipped: a shared secret does
 * not belong in a document served to anyone). Keys for encryption ("use":
 * "enc") and of other types or curves are skipped, not refused, so an
 * identity provider's document with keys we do not use still loads; a key of
 * a supported type that is malformed refuses the whole document (a half-read
 * key set would fail tokens at random). Only jwk.c and jwt.c include OpenSSL. */
#ifndef USERSVC_JWK_H
#define USERSVC_JWK_H

#include <stdatomic.h>
#include <stddef.h>

#include "buf.h"

enum jwk_type { JWK_RSA, JWK_EC_P256, JWK_ED25519, JWK_OCT };

#define JWK_MAX_KEYS 64
#define JWK_MIN_RSA_BITS 2048
#define JWK_MIN_SECRET_BYTES 32 /* RFC 7518 §3.2: an HS256 key is at least the hash's size */

struct jwk {
    char *kid;               /* NULL when the key has none (PEM, secret): it matches any token's kid */
    enum jwk_type type;
    char alg[8];             /* the JWK's "alg", "" when absent; when set, only tokens of that alg use the key */
    void *pkey;              /* EVP_PKEY * for RSA, EC, Ed25519 */
    unsigned char *secret;   /* JWK_OCT */
    size_t secret_len;
};

struct jwk_set {
    struct jwk *keys;
    size_t n;
    atomic_long refs; /* private */
};

/* Parses a JWKS document ({"keys": [...]}). Returns a new set (one reference)
 * or NULL with one line in err (never key material). *skipped (may be NULL)
 * counts the keys skipped as unsupported. An empty "keys" array is a valid,
 * empty set. */
struct jwk_set *jwk_set_from_jwks(const char *json, size_t len, size_t *skipped, struct buf *err);

/* One public key in PEM (SubjectPublicKeyInfo: RSA, EC P-256 or Ed25519), without kid. */
struct jwk_set *jwk_set_from_pem(const char *pem, size_t len, struct buf *err);

/* An HS256 secret (its bytes as given, at least JWK_MIN_SECRET_BYTES), without kid. */
struct jwk_set *jwk_set_from_secret(const unsigned char *secret, size_t len, struct buf *err);

/* A new set holding the keys of a then b (either may be NULL). NULL when memory runs out. */
struct jwk_set *jwk_set_merge(const struct jwk_set *a, const struct jwk_set *b);

/* 1 when some key has this kid (kid not NULL). */
int jwk_set_has_kid(const struct jwk_set *set, const char *kid);

struct jwk_set *jwk_set_ref(struct jwk_set *set);
/* Drops a reference; the last frees the keys (secrets wiped). Accepts NULL. Any thread. */
void jwk_set_unref(struct jwk_set *set);

/* Reads a whole file (at most max bytes) into a new NUL-terminated buffer; NULL with a line in err. */
char *jwk_read_file(const char *path, size_t max, size_t *len, struct buf *err);

#endif
