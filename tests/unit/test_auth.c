/* test_auth: the decision in front of the handlers: modes, 401 with the
 * RFC 6750 challenge, 403 insufficient_scope, API keys in either header, the
 * per-worker cache of verified tokens (bounded by exp, on an injected clock),
 * the per-principal rate limit (on an injected monotonic clock) and the
 * JWKS Cache-Control rule. */
#include "auth.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "authconfig.h"
#include "check.h"
#include "fake_env.h"
#include "jwt_sign.h"

static int64_t now_s = 1800000000, mono_ms = 1000;
static int64_t fake_now(void) { return now_s; }
static int64_t fake_mono(void) { return mono_ms; }

static EVP_PKEY *rsa;

static char *token_with(const char *scope, const char *sub, long exp, const char *kid)
{
    char header[96], payload[512];
    snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    snprintf(payload, sizeof payload, "{\"sub\":\"%s\",\"exp\":%ld,\"scope\":\"%s\",\"iss\":\"idp\"}", sub, exp, scope);
    return ts_token(header, payload, "RS256", rsa, NULL, 0, NULL);
}

static char *bearer(const char *token)
{
    char *h = malloc(strlen(token) + 8);
    sprintf(h, "Bearer %s", token);
    return h;
}

static struct auth *make_auth(int modes, const char *rate)
{
    struct buf err = BUF_INIT;
    char *jwk = ts_jwk(rsa, "k1", ""), doc[8192];
    snprintf(doc, sizeof doc, "{\"keys\":[%s]}", jwk);
    struct jwk_set *set = jwk_set_from_jwks(doc, strlen(doc), NULL, &err);
    struct jwks_store *store = jwks_store_new(&(struct jwks_store_options){.static_keys = set});
    jwk_set_unref(set);
    free(jwk);
    unsigned char d[32];
    char text[512], hex[65];
    EVP_Digest("ro-key-1234567890", 17, d, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
    int n = snprintf(text, sizeof text, "%s users:read reader\n", hex);
    EVP_Digest("rw-key-1234567890", 17, d, NULL, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
    snprintf(text + n, sizeof text - (size_t)n, "%s users:write writer\n", hex);
    struct apikeys *keys = apikeys_parse(text, strlen(text), &err);
    struct ratelimit *limit = NULL;
    if (rate != NULL) {
        double r, b;
        CHECK(ratelimit_parse(rate, &r, &b, &err) == 0);
        limit = ratelimit_new(r, b);
    }
    buf_clean_up(&err);
    return auth_new(&(struct auth_options){.modes = modes, .policy = {.issuer = "idp", .leeway_s = 0},
                                           .keys = store, .apikeys = keys, .limit = limit, .now_s = fake_now,
                                           .mono_ms = fake_mono});
}

static void test_modes(void)
{
    struct buf err = BUF_INIT;
    int m = -1;
    CHECK(auth_modes_parse("jwt", &m, &err) == 0 && m == AUTH_JWT);
    CHECK(auth_modes_parse("api-key, JWT", &m, &err) == 0 && m == (AUTH_JWT | AUTH_API_KEY));
    CHECK(auth_modes_parse("none", &m, &err) == 0 && m == 0);
    CHECK(auth_modes_parse("none,jwt", &m, &err) == -1);
    CHECK(auth_modes_parse("oauth", &m, &err) == -1);
    CHECK(strstr(buf_cstr(&err), "'oauth'") != NULL);
    CHECK(auth_modes_parse("jwt,", &m, &err) == -1);
    CHECK(auth_modes_parse("", &m, &err) == -1);
    buf_clean_up(&err);
}

static void expect(struct auth_worker *w, const char *authz, const char *key, enum auth_need need,
                   enum auth_outcome outcome, const char *principal, const char *challenge_part)
{
    struct auth_decision d;
    auth_check(w, authz, key, need, &d);
    CHECK_INT_EQ(d.outcome, outcome);
    CHECK((d.message == NULL) == (outcome == AUTH_ALLOW));
    if (principal != NULL)
        CHECK_STR_EQ(d.principal, principal);
    if (challenge_part != NULL && strstr(d.www_authenticate, challenge_part) == NULL) {
        CHECK(!"challenge");
        fprintf(stderr, "     got [%s], want it to hold [%s]\n", d.www_authenticate, challenge_part);
    }
    if (challenge_part == NULL)
        CHECK_STR_EQ(d.www_authenticate, "");
}

static void test_jwt_decisions(void)
{
    struct auth *a = make_auth(AUTH_JWT, NULL);
    struct auth_worker *w = auth_worker_new(a);
    char *read = token_with("users:read", "alice", 1800000100, "k1"), *write = token_with("openid users:write", "bob", 1800000100, "k1"),
         *none = token_with("openid", "carol", 1800000100, "k1"), *expired = token_with("users:read", "d", 1799999999, "k1"),
         *unknown = token_with("users:read", "e", 1800000100, "k9");
    char *br = bearer(read), *bw = bearer(write), *bn = bearer(none), *be = bearer(expired), *bu = bearer(unknown);

    expect(w, NULL, NULL, AUTH_OPEN, AUTH_ALLOW, "", NULL); /* /healthz */
    expect(w, NULL, NULL, AUTH_READ, AUTH_MISSING, "", "Bearer realm=\"usersvc\"");
    struct auth_decision d;
    auth_check(w, NULL, NULL, AUTH_READ, &d);
    CHECK(strstr(d.www_authenticate, "error=") == NULL); /* RFC 6750 §3.1: no error code without credentials */
    expect(w, "Basic dXNlcjpwYXNz", NULL, AUTH_READ, AUTH_MISSING, "", "Bearer");
    expect(w, br, NULL, AUTH_READ, AUTH_ALLOW, "alice", NULL);
    expect(w, br, NULL, AUTH_READ, AUTH_ALLOW, "alice", NULL); /* cached */
    expect(w, br, NULL, AUTH_WRITE, AUTH_FORBIDDEN, "alice",
           "error=\"insufficient_scope\", scope=\"users:write\"");
    expect(w, bw, NULL, AUTH_READ, AUTH_ALLOW, "bob", NULL); /* write implies read */
    expect(w, bw, NULL, AUTH_WRITE, AUTH_ALLOW, "bob", NULL);
    expect(w, bn, NULL, AUTH_READ, AUTH_FORBIDDEN, "carol", "scope=\"users:read\"");
    expect(w, be, NULL, AUTH_READ, AUTH_INVALID, "", "error=\"invalid_token\", error_description=\"token expired");
    expect(w, bu, NULL, AUTH_READ, AUTH_INVALID, "", "unknown signing key");
    expect(w, "Bearer not.a.jwt", NULL, AUTH_READ, AUTH_INVALID, "", "malformed token");
    expect(w, "Bearer ", NULL, AUTH_READ, AUTH_INVALID, "", "malformed Authorization");
    expect(w, "bearer  x y", NULL, AUTH_READ, AUTH_INVALID, "", "malformed Authorization");
    expect(w, NULL, "ro-key-1234567890", AUTH_READ, AUTH_INVALID, "", "API keys are not accepted");
    expect(w, "Bearer ro-key-1234567890", NULL, AUTH_READ, AUTH_INVALID, "", "malformed token");
    expect(w, br, "ro-key-1234567890", AUTH_READ, AUTH_TWO_CREDENTIALS, "", "error=\"invalid_request\"");

    /* The cache honours exp: the read token, cached above, fails once its time has passed. */
    now_s = 1800000101;
    expect(w, br, NULL, AUTH_READ, AUTH_INVALID, "", "token expired");
    now_s = 1800000000;
    /* A tampered token with the cached one's length is verified, not taken from the cache. */
    char *tampered = strdup(br);
    tampered[strlen(tampered) - 3] = tampered[strlen(tampered) - 3] == 'A' ? 'B' : 'A';
    expect(w, tampered, NULL, AUTH_READ, AUTH_INVALID, "", "invalid signature");
    expect(w, br, NULL, AUTH_READ, AUTH_ALLOW, "alice", NULL);

    free(tampered);
    free(read), free(write), free(none), free(expired), free(unknown);
    free(br), free(bw), free(bn), free(be), free(bu);
    auth_worker_free(w);
    auth_free(a);
}

static void test_api_keys(void)
{
    struct auth *a = make_auth(AUTH_API_KEY | AUTH_JWT, NULL);
    struct auth_worker *w = auth_worker_new(a);
    expect(w, NULL, "ro-key-1234567890", AUTH_READ, AUTH_ALLOW, "reader", NULL);
    expect(w, NULL, "ro-key-1234567890", AUTH_WRITE, AUTH_FORBIDDEN, "reader", "scope=\"users:write\"");
    expect(w, "Bearer rw-key-1234567890", NULL, AUTH_WRITE, AUTH_ALLOW, "writer", NULL);
    expect(w, NULL, "rw-key-123456789", AUTH_READ, AUTH_INVALID, "", "unknown API key");
    expect(w, NULL, "", AUTH_READ, AUTH_INVALID, "", "unknown API key");
    char *t = token_with("users:read", "alice", 1800000100, "k1"), *b = bearer(t);
    expect(w, b, NULL, AUTH_READ, AUTH_ALLOW, "alice", NULL); /* two dots: a JWT */
    free(t);
    free(b);
    auth_worker_free(w);
    auth_free(a);

    a = make_auth(AUTH_API_KEY, NULL);
    w = auth_worker_new(a);
    expect(w, "Bearer a.b.c", NULL, AUTH_READ, AUTH_INVALID, "", "unknown API key");
    auth_worker_free(w);
    auth_free(a);

    a = make_auth(0, NULL); /* AUTH=none */
    w = auth_worker_new(a);
    expect(w, NULL, NULL, AUTH_WRITE, AUTH_ALLOW, "", NULL);
    auth_worker_free(w);
    auth_free(a);
}

/* The principal goes into the access log as one key=value field: a sub is the identity provider's text (any
 * Unicode but control characters), so the log gets it as printable ASCII only: no C1 control (U+0085 is a line
 * break to some readers), no bidi override, no space or quote. The rate limit still tells every sub apart. */
static void test_principal(void)
{
    struct auth *a = make_auth(AUTH_JWT, "1,1");
    struct auth_worker *w = auth_worker_new(a);
    char *t = token_with("users:read", "al\\u0085ice\\u202e\\\\ \\\"x\\u00e9", 1800000100, "k1");
    char *h = bearer(t);
    struct auth_decision d;
    auth_check(w, h, NULL, AUTH_READ, &d);
    CHECK_INT_EQ(d.outcome, AUTH_ALLOW);
    CHECK(d.principal[0] != '\0');
    for (const char *p = d.principal; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\\') {
            CHECK(!"a printable ASCII principal");
            fprintf(stderr, "     got [%s]\n", d.principal);
            break;
        }
    auth_check(w, h, NULL, AUTH_READ, &d); /* the cached path writes the same */
    CHECK_INT_EQ(d.outcome, AUTH_LIMITED);
    free(t);
    free(h);
    /* "a b" and "a_b" are two principals, each with its own bucket, though the log writes both as a_b. */
    char *t1 = token_with("users:read", "a b", 1800000100, "k1"), *t2 = token_with("users:read", "a_b", 1800000100, "k1");
    char *h1 = bearer(t1), *h2 = bearer(t2);
    expect(w, h1, NULL, AUTH_READ, AUTH_ALLOW, "a_b", NULL);
    expect(w, h2, NULL, AUTH_READ, AUTH_ALLOW, "a_b", NULL);
    expect(w, h1, NULL, AUTH_READ, AUTH_LIMITED, "a_b", NULL);
    free(t1);
    free(t2);
    free(h1);
    free(h2);
    auth_worker_free(w);
    auth_free(a);
}

static void test_rate_limit(void)
{
    struct buf err = BUF_INIT;
    double r, b;
    CHECK(ratelimit_parse("10,20", &r, &b, &err) == 0 && r == 10 && b == 20);
    CHECK(ratelimit_parse("5", &r, &b, &err) == 0 && r == 5 && b == 5);
    CHECK(ratelimit_parse("0.5", &r, &b, &err) == 0 && r == 0.5 && b == 1);
    CHECK(ratelimit_parse("0,5", &r, &b, &err) == -1);
    CHECK(ratelimit_parse("10,0", &r, &b, &err) == -1);
    CHECK(ratelimit_parse("10,x", &r, &b, &err) == -1);
    CHECK(ratelimit_parse("ten", &r, &b, &err) == -1);
    CHECK(ratelimit_parse("10,20,30", &r, &b, &err) == -1);
    buf_clean_up(&err);

    struct auth *a = make_auth(AUTH_API_KEY, "1,3");
    struct auth_worker *w = auth_worker_new(a);
    mono_ms = 5000;
    for (int i = 0; i < 3; i++)
        expect(w, NULL, "ro-key-1234567890", AUTH_READ, AUTH_ALLOW, "reader", NULL);
    struct auth_decision d;
    auth_check(w, NULL, "ro-key-1234567890", AUTH_READ, &d);
    CHECK_INT_EQ(d.outcome, AUTH_LIMITED);
    CHECK_INT_EQ(d.retry_after, 1);
    expect(w, NULL, "rw-key-1234567890", AUTH_READ, AUTH_ALLOW, "writer", NULL); /* another principal, its own bucket */
    expect(w, NULL, "nope-1234567890", AUTH_READ, AUTH_INVALID, NULL, "unknown API key"); /* not counted */
    mono_ms += 999;
    expect(w, NULL, "ro-key-1234567890", AUTH_READ, AUTH_LIMITED, NULL, NULL);
    mono_ms += 1;
    expect(w, NULL, "ro-key-1234567890", AUTH_READ, AUTH_ALLOW, "reader", NULL);
    auth_worker_free(w);
    auth_free(a);

    /* Retry-After is whole seconds up; the table stays bounded with evictions. */
    struct ratelimit *rl = ratelimit_new(0.25, 1);
    CHECK_INT_EQ(ratelimit_take(rl, "p", 0), 0);
    CHECK_INT_EQ(ratelimit_take(rl, "p", 0), 4);
    CHECK_INT_EQ(ratelimit_take(rl, "p", 2000), 2);
    char key[32];
    for (int i = 0; i < RATELIMIT_SHARDS * RATELIMIT_PER_SHARD * 2; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ratelimit_take(rl, key, 3000 + i);
    }
    CHECK_INT_EQ(ratelimit_take(rl, "p", 2000 + 100000), 0); /* evicted: a full bucket again */
    ratelimit_free(rl);

    /* RATE_LIMIT=1e-12 parses; its wait (1e12 s) does not fit an int: the second request must still wait. */
    CHECK(ratelimit_parse("1e-12", &r, &b, &err) == 0);
    rl = ratelimit_new(r, b);
    CHECK_INT_EQ(ratelimit_take(rl, "p", 0), 0);
    CHECK_INT_EQ(ratelimit_take(rl, "p", 0), RATELIMIT_MAX_WAIT_S);
    ratelimit_free(rl);
    buf_clean_up(&err);
}

static void test_max_age(void)
{
    CHECK_INT_EQ(jwks_max_age(NULL), JWKS_DEFAULT_MAX_AGE_S);
    CHECK_INT_EQ(jwks_max_age("public, max-age=600"), 600);
    CHECK_INT_EQ(jwks_max_age("max-age=5"), JWKS_MIN_MAX_AGE_S);
    CHECK_INT_EQ(jwks_max_age("max-age=99999999"), JWKS_MAX_MAX_AGE_S);
    CHECK_INT_EQ(jwks_max_age("no-store"), JWKS_MIN_MAX_AGE_S);
    CHECK_INT_EQ(jwks_max_age("public"), JWKS_DEFAULT_MAX_AGE_S);
    CHECK_INT_EQ(jwks_max_age("max-age=x"), JWKS_DEFAULT_MAX_AGE_S);
}

static int load(struct fake_env *env, int local, struct authconfig *ac, struct buf *err)
{
    buf_reset(err);
    return authconfig_load(ac, fake_env_lookup, env, local, err);
}

static void expect_config_error(struct fake_env env, int local, const char *want)
{
    struct authconfig ac;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(load(&env, local, &ac, &err), -1);
    if (strstr(buf_cstr(&err), want) == NULL) {
        CHECK(!"the configuration error");
        fprintf(stderr, "     got [%s], want [%s]\n", buf_cstr(&err), want);
    }
    CHECK(strchr(buf_cstr(&err), '\n') == NULL); /* one line */
    authconfig_clean_up(&ac);
    buf_clean_up(&err);
}

static void test_config(void)
{
    /* Secure by default: unset with a remote endpoint stops the start, naming the choices. */
    expect_config_error((struct fake_env){{{NULL}}}, 0, "AUTH is not set and DynamoDB is not local: choose AUTH=jwt");
    expect_config_error((struct fake_env){{{"AUTH", ""}}}, 0, "AUTH=none when a gateway");
    struct authconfig ac;
    struct buf err = BUF_INIT, line = BUF_INIT;
    struct fake_env env = {{{NULL}}};
    CHECK_INT_EQ(load(&env, 1, &ac, &err), 0);
    CHECK(ac.modes == 0 && ac.defaulted);
    authconfig_describe(&ac, &line);
    CHECK(strstr(buf_cstr(&line), "authentication: none (AUTH unset and DynamoDB is local") != NULL);
    authconfig_clean_up(&ac);
    env = (struct fake_env){{{"AUTH", "none"}}};
    CHECK_INT_EQ(load(&env, 0, &ac, &err), 0);
    CHECK(ac.modes == 0 && !ac.defaulted);
    authconfig_clean_up(&ac);

    expect_config_error((struct fake_env){{{"AUTH", "jwt"}}}, 1, "AUTH=jwt needs keys");
    expect_config_error((struct fake_env){{{"AUTH", "api-key"}}}, 1, "AUTH=api-key needs API_KEYS_FILE");
    expect_config_error((struct fake_env){{{"AUTH", "api-key"}, {"API_KEYS_FILE", "/nonexistent/keys"}}}, 1,
                        "API_KEYS_FILE: /nonexistent/keys");
    expect_config_error((struct fake_env){{{"AUTH", "basic"}}}, 1, "AUTH: 'basic'");
    expect_config_error((struct fake_env){{{"AUTH", "jwt"}, {"JWT_SECRET", "too-short"}}}, 1,
                        "JWT_SECRET: an HS256 secret needs at least 32 bytes");
    expect_config_error((struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_URL", "http://idp.example/jwks"}}}, 1,
                        "JWT_JWKS_URL: want an https:// URL");
    /* "localhost:80" is a user name and password there: the host is idp.example, in clear text. */
    expect_config_error((struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_URL", "http://localhost:80@idp.example/jwks"}}},
                        1, "JWT_JWKS_URL: want an https:// URL");
    /* the URL goes into the request line as it is: no header can be smuggled through it */
    expect_config_error((struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_URL", "https://idp.example/jwks\r\nX-A: b"}}},
                        1, "JWT_JWKS_URL: a space or control character at offset 24");
    expect_config_error((struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_URL", "https://idp.example/a b"}}}, 1,
                        "JWT_JWKS_URL: a space or control character at offset 21");
    expect_config_error((struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_FILE", "/nonexistent/jwks"}}}, 1,
                        "JWT_JWKS_FILE: /nonexistent/jwks");
    expect_config_error((struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_URL", "https://idp/jwks"}, {"JWT_LEEWAY_S", "-1"}}},
                        1, "JWT_LEEWAY_S");
    expect_config_error((struct fake_env){{{"AUTH", "none"}, {"SCOPE_READ", "a\"b"}}}, 1, "SCOPE_READ");
    expect_config_error((struct fake_env){{{"AUTH", "none"}, {"RATE_LIMIT", "10,20"}}}, 1, "RATE_LIMIT counts");

    env = (struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_URL", "http://127.0.0.1:9/jwks"},
                             {"JWT_SECRET", "0123456789abcdef0123456789abcdef"}, {"JWT_ISSUER", "idp"},
                             {"RATE_LIMIT", "5,10"}, {"SCOPE_WRITE", "admin"}}};
    CHECK_INT_EQ(load(&env, 0, &ac, &err), 0);
    CHECK(ac.modes == AUTH_JWT && ac.static_keys != NULL && ac.static_keys->n == 1 && ac.rate_limited);
    buf_reset(&line);
    authconfig_describe(&ac, &line);
    CHECK(strstr(buf_cstr(&line), "0123456789abcdef") == NULL); /* never the secret */
    CHECK(strstr(buf_cstr(&line), "JWKS from http://127.0.0.1:9/jwks, iss idp, aud not checked") != NULL);
    CHECK(strstr(buf_cstr(&line), "writes admin; rate limit 5/s, burst 10") != NULL);
    authconfig_clean_up(&ac);

    /* The URL may carry credentials (user info, a query): the start-up line names the host and path only. */
    env = (struct fake_env){{{"AUTH", "jwt"}, {"JWT_JWKS_URL", "https://ops:pw-s3cret@idp.example/jwks?key=t0ken#f"}}};
    CHECK_INT_EQ(load(&env, 0, &ac, &err), 0);
    buf_reset(&line);
    authconfig_describe(&ac, &line);
    CHECK(strstr(buf_cstr(&line), "JWKS from https://idp.example/jwks,") != NULL);
    CHECK(strstr(buf_cstr(&line), "s3cret") == NULL && strstr(buf_cstr(&line), "t0ken") == NULL);
    authconfig_clean_up(&ac);
    char *u = jwks_url_for_logs("https://a@b@idp:8443/k/jwks?x#y");
    CHECK_STR_EQ(u, "https://idp:8443/k/jwks");
    free(u);
    u = jwks_url_for_logs("http://127.0.0.1:9/jwks");
    CHECK_STR_EQ(u, "http://127.0.0.1:9/jwks");
    free(u);
    authconfig_clean_up(&ac);
    buf_clean_up(&line);
    buf_clean_up(&err);
}

int main(void)
{
    rsa = ts_rsa(2048);
    RUN(test_modes);
    RUN(test_jwt_decisions);
    RUN(test_api_keys);
    RUN(test_principal);
    RUN(test_rate_limit);
    RUN(test_max_age);
    RUN(test_config);
    EVP_PKEY_free(rsa);
    return check_summary();
}
