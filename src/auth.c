/* auth: authentication and authorization before the handlers (see auth.h). */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { CAN_READ = 1, CAN_WRITE = 2 };

struct auth {
    int modes;
    char *scope_read, *scope_write;
    struct jwt_policy policy;
    struct jwks_store *keys;
    struct apikeys *apikeys;
    struct ratelimit *limit;
    int64_t (*now_s)(void);
    int64_t (*mono_ms)(void);
};

struct cached_token {
    uint64_t hash;
    size_t len;
    char *token;        /* NULL: empty slot */
    int64_t exp;
    uint64_t generation; /* of the key set it was verified with */
    int can;
    char sub[JWT_MAX_SUB + 1]; /* as the token has it */
};

struct auth_worker {
    struct auth *auth;
    struct jwk_set *keys; /* this worker's reference to the store's current set */
    uint64_t generation;
    struct cached_token cache[AUTH_CACHE_SLOTS];
};

static int64_t realtime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int auth_modes_parse(const char *text, int *modes, struct buf *err)
{
    int m = 0, none = 0;
    for (const char *p = text;;) {
        size_t len = strcspn(p, ",");
        while (len > 0 && (*p == ' ')) {
            p++;
            len--;
        }
        size_t word = len;
        while (word > 0 && p[word - 1] == ' ')
            word--;
        if (word == 3 && strncasecmp(p, "jwt", 3) == 0)
            m |= AUTH_JWT;
        else if (word == 7 && strncasecmp(p, "api-key", 7) == 0)
            m |= AUTH_API_KEY;
        else if (word == 4 && strncasecmp(p, "none", 4) == 0)
            none = 1;
        else {
            buf_printf(err, "AUTH: '%.*s' is not jwt, api-key or none (a comma list: AUTH=jwt,api-key)", (int)word,
                       p);
            return -1;
        }
        p += len;
        if (*p == '\0')
            break;
        p++;
    }
    if (none && m != 0) {
        buf_printf(err, "AUTH: none cannot be combined with jwt or api-key");
        return -1;
    }
    *modes = m;
    return 0;
}

void auth_free(struct auth *a)
{
    if (a == NULL)
        return;
    free(a->scope_read);
    free(a->scope_write);
    free((char *)a->policy.issuer);
    free((char *)a->policy.audience);
    jwks_store_free(a->keys);
    apikeys_free(a->apikeys);
    ratelimit_free(a->limit);
    free(a);
}

static int copy_opt(const char **dst, const char *src)
{
    *dst = NULL;
    return src != NULL && (*dst = strdup(src)) == NULL ? -1 : 0;
}

struct auth *auth_new(const struct auth_options *o)
{
    struct auth *a = calloc(1, sizeof *a);
    if (a == NULL) {
        jwks_store_free(o->keys);
        apikeys_free(o->apikeys);
        ratelimit_free(o->limit);
        return NULL;
    }
    a->modes = o->modes;
    a->keys = o->keys;
    a->apikeys = o->apikeys;
    a->limit = o->limit;
    a->policy.leeway_s = o->policy.leeway_s;
    a->now_s = o->now_s != NULL ? o->now_s : realtime_s;
    a->mono_ms = o->mono_ms != NULL ? o->mono_ms : monotonic_ms;
    a->scope_read = strdup(o->scope_read != NULL ? o->scope_read : "users:read");
    a->scope_write = strdup(o->scope_write != NULL ? o->scope_write : "users:write");
    if (a->scope_read == NULL || a->scope_write == NULL || copy_opt(&a->policy.issuer, o->policy.issuer) != 0 ||
        copy_opt(&a->policy.audience, o->policy.audience) != 0 || ((a->modes & AUTH_JWT) && a->keys == NULL) ||
        ((a->modes & AUTH_API_KEY) && a->apikeys == NULL)) {
        auth_free(a);
        return NULL;
    }
    return a;
}

int auth_modes(const struct auth *a) { return a->modes; }

struct jwks_store *auth_keys(const struct auth *a) { return a->keys; }

struct auth_worker *auth_worker_new(struct auth *auth)
{
    struct auth_worker *w = calloc(1, sizeof *w);
    if (w != NULL)
        w->auth = auth;
    return w;
}

void auth_worker_free(struct auth_worker *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
        free(w->cache[i].token);
    jwk_set_unref(w->keys);
    free(w);
}

/* Eight bytes at a time: a cached token costs this and one memcmp. Only verified tokens enter the cache,
 * so a collision can only evict, never admit. */
static uint64_t hash_token(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static int scopes_can(const struct auth *a, const char *scopes)
{
    int can = 0;
    if (jwt_scopes_have(scopes, a->scope_write))
        can |= CAN_READ | CAN_WRITE;
    if (jwt_scopes_have(scopes, a->scope_read))
        can |= CAN_READ;
    return can;
}

static void refuse(struct auth_decision *d, enum auth_outcome outcome, const char *message)
{
    d->outcome = outcome;
    d->message = message;
}

/* 401 for a credential that was sent but is not good (RFC 6750 §3.1 invalid_token). */
static void invalid_token(struct auth_decision *d, const char *why)
{
    refuse(d, AUTH_INVALID, "the access token or API key is not valid");
    snprintf(d->www_authenticate, sizeof d->www_authenticate,
             "Bearer realm=\"usersvc\", error=\"invalid_token\", error_description=\"%s\"", why);
    d->principal[0] = '\0';
}

/* A sub as the access log's principal field: printable ASCII only, so neither a C1 control (U+0085 ends a line
 * for some readers), a bidi override, a space nor a quote reaches the log; anything else is written as '_'. */
static void principal_for_log(char *out, const char *sub)
{
    size_t i = 0;
    for (; sub[i] != '\0'; i++) {
        unsigned char c = (unsigned char)sub[i];
        out[i] = c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '_' : (char)c;
    }
    out[i] = '\0';
}

/* The JWT path: sub gets the token's sub as it is (JWT_MAX_SUB + 1 bytes). Returns the scopes mask, or -1 after
 * refusing. */
static int check_jwt(struct auth_worker *w, const char *token, size_t len, char *sub, struct auth_decision *d)
{
    struct auth *a = w->auth;
    jwks_store_poll(a->keys);
    w->keys = jwks_store_snapshot(a->keys, w->keys, &w->generation);
    int64_t now = a->now_s();
    uint64_t h = hash_token(token, len);
    struct cached_token *slot = &w->cache[h % AUTH_CACHE_SLOTS];
    if (slot->token != NULL && slot->hash == h && slot->len == len && slot->generation == w->generation &&
        memcmp(slot->token, token, len) == 0) {
        if (now <= slot->exp + a->policy.leeway_s) {
            memcpy(sub, slot->sub, sizeof slot->sub);
            principal_for_log(d->principal, sub);
            return slot->can;
        }
        invalid_token(d, jwt_status_text(JWT_EXPIRED));
        return -1;
    }
    struct jwt_claims claims;
    enum jwt_status status = jwt_verify(token, len, w->keys, &a->policy, now, &claims);
    if (status != JWT_OK) {
        if (status == JWT_UNKNOWN_KID)
            jwks_store_kid_missing(a->keys);
        jwt_claims_clean_up(&claims);
        invalid_token(d, jwt_status_text(status));
        return -1;
    }
    int can = scopes_can(a, claims.scopes);
    memcpy(sub, claims.sub, sizeof claims.sub);
    principal_for_log(d->principal, sub);
    char *copy = malloc(len);
    if (copy != NULL) {
        free(slot->token);
        memcpy(copy, token, len);
        *slot = (struct cached_token){.hash = h, .len = len, .token = copy, .exp = claims.exp,
                                      .generation = w->generation, .can = can};
        memcpy(slot->sub, sub, sizeof slot->sub);
    }
    jwt_claims_clean_up(&claims);
    return can;
}

static int check_api_key(struct auth_worker *w, const char *key, size_t len, struct auth_decision *d)
{
    const struct apikey *k = apikeys_find(w->auth->apikeys, key, len);
    if (k == NULL) {
        invalid_token(d, "unknown API key");
        return -1;
    }
    snprintf(d->principal, sizeof d->principal, "%s", k->name);
    return scopes_can(w->auth, k->scopes);
}

void auth_check(struct auth_worker *w, const char *authorization, const char *api_key, enum auth_need need,
                struct auth_decision *d)
{
    struct auth *a = w->auth;
    d->outcome = AUTH_ALLOW;
    d->message = NULL;
    d->www_authenticate[0] = d->principal[0] = '\0';
    d->retry_after = 0;
    if (need == AUTH_OPEN || a->modes == 0)
        return;
    const char *bearer = NULL;
    if (authorization != NULL && strncasecmp(authorization, "Bearer ", 7) == 0) {
        bearer = authorization + 7;
        bearer += strspn(bearer, " ");
        if (*bearer == '\0' || strchr(bearer, ' ') != NULL) {
            invalid_token(d, "malformed Authorization header");
            return;
        }
    }
    if (bearer != NULL && api_key != NULL) { /* RFC 6750 §3.1: more than one method is invalid_request */
        refuse(d, AUTH_TWO_CREDENTIALS, "send one credential: Authorization or X-Api-Key, not both");
        snprintf(d->www_authenticate, sizeof d->www_authenticate, "Bearer realm=\"usersvc\", error=\"invalid_request\"");
        return;
    }
    int can;
    char sub[JWT_MAX_SUB + 1] = "";
    const char *kind = "key";
    if (api_key != NULL) {
        if (!(a->modes & AUTH_API_KEY)) {
            invalid_token(d, "API keys are not accepted");
            return;
        }
        can = check_api_key(w, api_key, strlen(api_key), d);
    } else if (bearer != NULL) {
        size_t len = strlen(bearer);
        const char *dot = memchr(bearer, '.', len);
        int looks_jwt = dot != NULL && memchr(dot + 1, '.', len - (size_t)(dot + 1 - bearer)) != NULL;
        if ((a->modes & AUTH_JWT) && (looks_jwt || !(a->modes & AUTH_API_KEY))) {
            kind = "jwt";
            can = check_jwt(w, bearer, len, sub, d);
        }
        else if (a->modes & AUTH_API_KEY)
            can = check_api_key(w, bearer, len, d);
        else {
            invalid_token(d, "bearer tokens are not accepted");
            can = -1;
        }
    } else {
        refuse(d, AUTH_MISSING, "authentication required: send Authorization: Bearer <token>");
        snprintf(d->www_authenticate, sizeof d->www_authenticate, "Bearer realm=\"usersvc\"");
        return;
    }
    if (can < 0)
        return;
    if (a->limit != NULL) {
        char key[sizeof d->principal + 8]; /* by the sub as sent, not as logged: "a b" and "a_b" are two buckets */
        snprintf(key, sizeof key, "%s:%s", kind, kind[0] == 'j' ? sub : d->principal); /* never a key's bucket */
        int wait = ratelimit_take(a->limit, key, a->mono_ms());
        if (wait > 0) {
            refuse(d, AUTH_LIMITED, "too many requests from this principal; retry later");
            d->retry_after = wait;
            return;
        }
    }
    int want = need == AUTH_WRITE ? CAN_WRITE : CAN_READ;
    if (!(can & want)) {
        refuse(d, AUTH_FORBIDDEN, "the credentials do not grant the scope this route needs");
        snprintf(d->www_authenticate, sizeof d->www_authenticate,
                 "Bearer realm=\"usersvc\", error=\"insufficient_scope\", scope=\"%s\"",
                 need == AUTH_WRITE ? a->scope_write : a->scope_read);
    }
}
