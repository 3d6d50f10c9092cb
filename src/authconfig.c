/* authconfig: authentication settings from the environment (see authconfig.h). */
#include "authconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *get(const char *(*lookup)(const char *, void *), void *ctx, const char *name)
{
    const char *v = lookup(name, ctx);
    return v != NULL && *v != '\0' ? v : NULL;
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    return src != NULL && (*dst = strdup(src)) == NULL ? -1 : 0;
}

/* A scope name goes into a WWW-Authenticate quoted string: printable, no space, quote, backslash or comma. */
static int scope_name_ok(const char *s)
{
    if (strlen(s) > 64)
        return 0;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("\"\\,", *s) != NULL)
            return 0;
    return 1;
}

static int add_keys(struct authconfig *ac, struct jwk_set *more)
{
    struct jwk_set *merged = jwk_set_merge(ac->static_keys, more);
    jwk_set_unref(more);
    if (merged == NULL)
        return -1;
    jwk_set_unref(ac->static_keys);
    ac->static_keys = merged;
    return 0;
}

static int load_jwt(struct authconfig *ac, const char *(*lookup)(const char *, void *), void *ctx, struct buf *err)
{
    const char *v;
    struct buf why = BUF_INIT;
    size_t len = 0;
    int rc = -1;
    if ((v = get(lookup, ctx, "JWT_JWKS_FILE")) != NULL) {
        size_t skipped;
        char *text = jwk_read_file(v, JWKS_MAX_BYTES, &len, &why);
        struct jwk_set *set = text != NULL ? jwk_set_from_jwks(text, len, &skipped, &why) : NULL;
        free(text);
        if (set == NULL || add_keys(ac, set) != 0) {
            buf_printf(err, "JWT_JWKS_FILE: %s: %s", v, buf_cstr(&why));
            goto out;
        }
    }
    if ((v = get(lookup, ctx, "JWT_PUBLIC_KEY_FILE")) != NULL) {
        char *text = jwk_read_file(v, 65536, &len, &why);
        struct jwk_set *set = text != NULL ? jwk_set_from_pem(text, len, &why) : NULL;
        free(text);
        if (set == NULL || add_keys(ac, set) != 0) {
            buf_printf(err, "JWT_PUBLIC_KEY_FILE: %s: %s", v, buf_cstr(&why));
            goto out;
        }
    }
    if ((v = get(lookup, ctx, "JWT_SECRET")) != NULL) {
        struct jwk_set *set = jwk_set_from_secret((const unsigned char *)v, strlen(v), &why);
        if (set == NULL || add_keys(ac, set) != 0) {
            buf_printf(err, "JWT_SECRET: %s", buf_cstr(&why)); /* never the secret */
            goto out;
        }
    }
    if ((v = get(lookup, ctx, "JWT_JWKS_URL")) != NULL) {
        if ((strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) || config_url_plain_http_elsewhere(v)) {
            buf_printf(err, "JWT_JWKS_URL: want an https:// URL (plain http:// only to loopback): whoever can alter "
                            "the key set can sign tokens");
            goto out;
        }
        for (const unsigned char *c = (const unsigned char *)v; *c != '\0'; c++) {
            if (*c <= ' ' || *c == 0x7f) { /* it goes into a request line as it is */
                buf_printf(err, "JWT_JWKS_URL: a space or control character at offset %d; percent-encode it",
                           (int)(c - (const unsigned char *)v));
                goto out;
            }
        }
        if (dup_opt(&ac->jwks_url, v) != 0)
            goto oom;
    }
    if (ac->static_keys == NULL && ac->jwks_url == NULL) {
        buf_printf(err, "AUTH=jwt needs keys: set JWT_JWKS_URL, JWT_JWKS_FILE, JWT_PUBLIC_KEY_FILE or JWT_SECRET");
        goto out;
    }
    if (dup_opt(&ac->issuer, get(lookup, ctx, "JWT_ISSUER")) != 0 ||
        dup_opt(&ac->audience, get(lookup, ctx, "JWT_AUDIENCE")) != 0)
        goto oom;
    if ((v = get(lookup, ctx, "JWT_LEEWAY_S")) != NULL) {
        char *end;
        errno = 0;
        long s = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || s < 0 || s > 600) {
            buf_printf(err, "JWT_LEEWAY_S: '%.40s' is not 0-600 (seconds)", v);
            goto out;
        }
        ac->leeway_s = s;
    }
    if ((v = get(lookup, ctx, "USERSVC_JWKS_MIN_REFRESH_S")) != NULL) {
        char *end;
        errno = 0;
        long s = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || s < 1 || s > 3600) {
            buf_printf(err, "USERSVC_JWKS_MIN_REFRESH_S: '%.40s' is not 1-3600 (seconds; for tests)", v);
            goto out;
        }
        ac->min_refresh_s = s;
    }
    rc = 0;
    goto out;
oom:
    buf_printf(err, "out of memory");
out:
    buf_clean_up(&why);
    return rc;
}

int authconfig_load(struct authconfig *ac, const char *(*lookup)(const char *name, void *ctx), void *ctx,
                    int endpoint_is_local, struct buf *err)
{
    memset(ac, 0, sizeof *ac);
    ac->leeway_s = 60;
    ac->min_refresh_s = 30;
    const char *v = get(lookup, ctx, "AUTH");
    if (v == NULL) {
        if (!endpoint_is_local) {
            buf_printf(err, "AUTH is not set and DynamoDB is not local: choose AUTH=jwt, AUTH=api-key (or both: "
                            "AUTH=jwt,api-key), or AUTH=none when a gateway in front authenticates every request");
            return -1;
        }
        ac->defaulted = 1;
    } else if (auth_modes_parse(v, &ac->modes, err) != 0) {
        return -1;
    }
    const char *read = get(lookup, ctx, "SCOPE_READ"), *write = get(lookup, ctx, "SCOPE_WRITE");
    if ((read != NULL && !scope_name_ok(read)) || (write != NULL && !scope_name_ok(write))) {
        buf_printf(err, "%s: a scope name is 1-64 printable characters without space, quote, backslash or comma",
                   read != NULL && !scope_name_ok(read) ? "SCOPE_READ" : "SCOPE_WRITE");
        return -1;
    }
    if (dup_opt(&ac->scope_read, read != NULL ? read : "users:read") != 0 ||
        dup_opt(&ac->scope_write, write != NULL ? write : "users:write") != 0) {
        buf_printf(err, "out of memory");
        return -1;
    }
    if ((ac->modes & AUTH_JWT) && load_jwt(ac, lookup, ctx, err) != 0)
        return -1;
    if (ac->modes & AUTH_API_KEY) {
        struct buf why = BUF_INIT;
        v = get(lookup, ctx, "API_KEYS_FILE");
        if (v == NULL)
            buf_printf(err, "AUTH=api-key needs API_KEYS_FILE (lines of: <sha256 hex of the key> <scopes> <name>)");
        else if ((ac->apikeys = apikeys_load(v, &why)) == NULL)
            buf_printf(err, "API_KEYS_FILE: %s", buf_cstr(&why));
        buf_clean_up(&why);
        if (ac->apikeys == NULL)
            return -1;
    }
    if ((v = get(lookup, ctx, "RATE_LIMIT")) != NULL) {
        if (ac->modes == 0) {
            buf_printf(err, "RATE_LIMIT counts per authenticated principal: it needs AUTH=jwt or AUTH=api-key");
            return -1;
        }
        if (ratelimit_parse(v, &ac->rate, &ac->burst, err) != 0)
            return -1;
        ac->rate_limited = 1;
    }
    return 0;
}

void authconfig_describe(const struct authconfig *ac, struct buf *out)
{
    if (ac->modes == 0) {
        buf_printf(out, ac->defaulted ? "authentication: none (AUTH unset and DynamoDB is local; anyone who reaches "
                                        "the port may call every route; set AUTH to choose)"
                                      : "authentication: none (AUTH=none: a gateway in front must authenticate)");
        return;
    }
    buf_printf(out, "authentication:");
    if (ac->modes & AUTH_JWT) {
        char *url = ac->jwks_url != NULL ? jwks_url_for_logs(ac->jwks_url) : NULL; /* no credential it may hold */
        buf_printf(out, " jwt (%zu static keys%s%s, iss %s, aud %s, leeway %ld s)",
                   ac->static_keys != NULL ? ac->static_keys->n : 0, url != NULL ? ", JWKS from " : "",
                   url != NULL ? url : "", ac->issuer != NULL ? ac->issuer : "not checked",
                   ac->audience != NULL ? ac->audience : "not checked", ac->leeway_s);
        free(url);
    }
    if (ac->modes & AUTH_API_KEY)
        buf_printf(out, "%s api-key (%zu keys)", ac->modes & AUTH_JWT ? "," : "", ac->apikeys->n);
    buf_printf(out, "; reads need %s or %s, writes %s", ac->scope_read, ac->scope_write, ac->scope_write);
    if (ac->rate_limited)
        buf_printf(out, "; rate limit %g/s, burst %g per principal on this replica", ac->rate, ac->burst);
}

struct auth *authconfig_build(struct authconfig *ac, struct credsio *io)
{
    struct jwks_store *keys = NULL;
    if (ac->modes & AUTH_JWT) {
        keys = jwks_store_new(&(struct jwks_store_options){
            .static_keys = ac->static_keys, .url = ac->jwks_url, .io = io, .min_refresh_s = ac->min_refresh_s});
        if (keys == NULL)
            return NULL;
    }
    struct apikeys *apikeys = ac->apikeys;
    ac->apikeys = NULL;
    struct ratelimit *limit = ac->rate_limited ? ratelimit_new(ac->rate, ac->burst) : NULL;
    if (ac->rate_limited && limit == NULL) { /* out of memory: never serve without the configured limit */
        jwks_store_free(keys);
        apikeys_free(apikeys);
        return NULL;
    }
    return auth_new(&(struct auth_options){
        .modes = ac->modes, .scope_read = ac->scope_read, .scope_write = ac->scope_write,
        .policy = {.issuer = ac->issuer, .audience = ac->audience, .leeway_s = ac->leeway_s},
        .keys = keys, .apikeys = apikeys, .limit = limit});
}

void authconfig_clean_up(struct authconfig *ac)
{
    free(ac->scope_read);
    free(ac->scope_write);
    free(ac->issuer);
    free(ac->audience);
    free(ac->jwks_url);
    jwk_set_unref(ac->static_keys);
    apikeys_free(ac->apikeys);
    memset(ac, 0, sizeof *ac);
}
