/* test_cors: origin normalisation (what browsers send as Origin), the refusals that must stop the
 * start (paths, user information, wildcards, CR/LF, bad ports, '*' with credentials), and the exact
 * headers of each mode for matching, other and missing origins, preflights included. */
#include "cors.h"

#include <string.h>

#include "check.h"

/* Normalises s; returns the result, or "ERR: <why>" (static storage, valid until the next call). */
static const char *norm(const char *s)
{
    static char result[512];
    struct buf out = BUF_INIT, why = BUF_INIT;
    if (cors_normalise_origin(s, strlen(s), &out, &why) == 0)
        snprintf(result, sizeof result, "%s", buf_cstr(&out));
    else
        snprintf(result, sizeof result, "ERR: %s", buf_cstr(&why));
    buf_clean_up(&out);
    buf_clean_up(&why);
    return result;
}

static int refused(const char *s)
{
    return strncmp(norm(s), "ERR: ", 5) == 0;
}

static void test_normalise(void)
{
    CHECK_STR_EQ(norm("https://app.example.com"), "https://app.example.com");
    CHECK_STR_EQ(norm("HTTPS://App.Example.COM"), "https://app.example.com");
    CHECK_STR_EQ(norm("http://localhost:5173"), "http://localhost:5173");
    CHECK_STR_EQ(norm("http://127.0.0.2:8080"), "http://127.0.0.2:8080");
    /* Browsers leave the default port out of Origin. */
    CHECK_STR_EQ(norm("https://a.example:443"), "https://a.example");
    CHECK_STR_EQ(norm("http://a.example:80"), "http://a.example");
    CHECK_STR_EQ(norm("https://a.example:80"), "https://a.example:80");
    CHECK_STR_EQ(norm("http://a.example:0080"), "http://a.example");
    CHECK_STR_EQ(norm("http://a.example:08080"), "http://a.example:8080");
    CHECK_STR_EQ(norm("http://a.example:65535"), "http://a.example:65535");
    /* IPv6 as the URL standard serialises it: lower case, longest zero run compressed. */
    CHECK_STR_EQ(norm("http://[::1]:3000"), "http://[::1]:3000");
    CHECK_STR_EQ(norm("http://[2001:DB8:0:0:0:0:0:1]"), "http://[2001:db8::1]");
    /* Other schemes (mobile shells) are origins too. */
    CHECK_STR_EQ(norm("capacitor://localhost"), "capacitor://localhost");
    CHECK_STR_EQ(norm("app+x.y-z://h"), "app+x.y-z://h");
    CHECK_STR_EQ(norm("https://my_host.example"), "https://my_host.example");
}

static void test_normalise_refusals(void)
{
    CHECK_STR_EQ(norm("https://a.example/"), "ERR: has a path (an origin is scheme://host[:port], no trailing slash)");
    CHECK_STR_EQ(norm("https://a.example/app"), "ERR: has a path (an origin is scheme://host[:port], no trailing slash)");
    CHECK_STR_EQ(norm("https://a.example?x=1"), "ERR: has a query");
    CHECK_STR_EQ(norm("https://a.example#top"), "ERR: has a fragment");
    CHECK_STR_EQ(norm("https://user:pw@a.example"), "ERR: has user information");
    CHECK_STR_EQ(norm("https://*.example.com"), "ERR: has a wildcard: list each origin");
    CHECK_STR_EQ(norm("*"), "ERR: has a wildcard: list each origin");
    CHECK_STR_EQ(norm("a.example"), "ERR: has no scheme (scheme://host[:port])");
    CHECK_STR_EQ(norm("://a.example"), "ERR: has no scheme (scheme://host[:port])");
    CHECK_STR_EQ(norm("1http://a.example"), "ERR: has a malformed scheme");
    CHECK_STR_EQ(norm("ht_tp://a.example"), "ERR: has a malformed scheme");
    CHECK_STR_EQ(norm("https://"), "ERR: has no host");
    CHECK_STR_EQ(norm("https://:443"), "ERR: has no host");
    CHECK_STR_EQ(norm("https://a.example:"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("https://a.example:0"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("https://a.example:65536"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("https://a.example:99999999999999999999"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("https://a.example:8a"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("https://a.example:-1"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("https://a.example:1:2"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("https://a..example"), "ERR: has a malformed host");
    CHECK_STR_EQ(norm("https://.a.example"), "ERR: has a malformed host");
    CHECK_STR_EQ(norm("https://a.example."), "ERR: has a malformed host");
    CHECK_STR_EQ(norm("https://a%2eexample"), "ERR: has a malformed host");
    CHECK_STR_EQ(norm("https://a\\b"), "ERR: has a malformed host");
    CHECK_STR_EQ(norm("http://[::1"), "ERR: has a malformed IPv6 address");
    CHECK_STR_EQ(norm("http://[::g]"), "ERR: has a malformed IPv6 address");
    CHECK_STR_EQ(norm("http://[::1]x"), "ERR: has a bad port (1-65535)");
    CHECK_STR_EQ(norm("null"), "ERR: is 'null', which sandboxed frames and file:// pages of any site send");
    CHECK_STR_EQ(norm("NULL"), "ERR: is 'null', which sandboxed frames and file:// pages of any site send");
    CHECK_STR_EQ(norm("https://a example"), "ERR: has a space or a control character (CR, LF ...)");
    CHECK_STR_EQ(norm("https://a.example\r\nSet-Cookie: x=1"),
                 "ERR: has a space or a control character (CR, LF ...)");
    CHECK_STR_EQ(norm("https://a.example\n"), "ERR: has a space or a control character (CR, LF ...)");
    CHECK_STR_EQ(norm("https://a.ex\tample"), "ERR: has a space or a control character (CR, LF ...)");
    CHECK_STR_EQ(norm("https://b\xc3\xbc" "cher.example"), "ERR: has a non-ASCII character (write the host in its xn-- form)");
    CHECK_STR_EQ(norm(""), "ERR: is empty");
    /* An embedded NUL ends nothing early: the length is what counts. */
    struct buf out = BUF_INIT, why = BUF_INIT;
    CHECK_INT_EQ(cors_normalise_origin("https://a.example\0.evil", 23, &out, &why), -1);
    CHECK_STR_EQ(buf_cstr(&why), "has a space or a control character (CR, LF ...)");
    buf_clean_up(&out);
    buf_clean_up(&why);
    CHECK(refused("https://a.example:8080/"));
    CHECK(refused("https://[::1]/"));
}

/* Parses value; returns cors_parse's result and leaves the error line in err. */
static int parse(struct cors *cors, const char *value, int credentials, struct buf *err)
{
    buf_reset(err);
    return cors_parse(cors, "CORS_ALLOW_ORIGINS", value, credentials, err);
}

static void test_parse(void)
{
    struct cors cors;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(parse(&cors, NULL, 0, &err), 0);
    CHECK_INT_EQ(cors.mode, CORS_OFF);
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, "", 0, &err), 0);
    CHECK_INT_EQ(cors.mode, CORS_OFF);
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, "*", 0, &err), 0);
    CHECK_INT_EQ(cors.mode, CORS_ANY);
    CHECK_INT_EQ(cors.credentials, 0);
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, " * ", 0, &err), 0);
    CHECK_INT_EQ(cors.mode, CORS_ANY);
    cors_clean_up(&cors);

    CHECK_INT_EQ(parse(&cors, "https://App.example.com, http://localhost:5173 ,https://b.example:443", 1, &err), 0);
    CHECK_STR_EQ(buf_cstr(&err), "");
    CHECK_INT_EQ(cors.mode, CORS_LIST);
    CHECK_INT_EQ(cors.credentials, 1);
    CHECK_INT_EQ(cors.n_origins, 3);
    if (cors.n_origins == 3) {
        CHECK_STR_EQ(cors.origins[0], "https://app.example.com");
        CHECK_STR_EQ(cors.origins[1], "http://localhost:5173");
        CHECK_STR_EQ(cors.origins[2], "https://b.example");
    }
    cors_clean_up(&cors);
    CHECK(cors.origins == NULL && cors.n_origins == 0);
    cors_clean_up(&cors); /* twice is harmless */
    buf_clean_up(&err);
}

static void test_parse_refusals(void)
{
    struct cors cors;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(parse(&cors, "*", 1, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_CREDENTIALS=true cannot go with CORS_ALLOW_ORIGINS=* (browsers refuse "
                                 "credentials from a wildcard): list the origins");
    CHECK_INT_EQ(cors.mode, CORS_OFF);
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, NULL, 1, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_CREDENTIALS=true needs CORS_ALLOW_ORIGINS (the origins allowed to send "
                                 "credentials)");
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, "https://a.example,*", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGINS: '*' must be the only value");
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, "https://a.example,,https://b.example", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGINS: entry 2 is empty");
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, "https://a.example,", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGINS: entry 2 is empty");
    cors_clean_up(&cors);
    /* The bad entry is named by its position and quoted once it is printable. */
    CHECK_INT_EQ(parse(&cors, "https://a.example, https://b.example/app", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGINS: entry 2 'https://b.example/app' is not an origin: has a path "
                                 "(an origin is scheme://host[:port], no trailing slash)");
    CHECK_INT_EQ(cors.mode, CORS_OFF);
    CHECK(cors.origins == NULL);
    cors_clean_up(&cors);
    /* A CR/LF value is never echoed into the log (it would forge a log line). */
    CHECK_INT_EQ(parse(&cors, "https://a.example\r\nX: y", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGINS: entry 1 is not an origin: has a space or a control character "
                                 "(CR, LF ...)");
    CHECK(strchr(buf_cstr(&err), '\n') == NULL);
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, "https://a.example https://b.example", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGINS: entry 1 is not an origin: has a space or a control character "
                                 "(CR, LF ...)");
    cors_clean_up(&cors);
    CHECK_INT_EQ(parse(&cors, "https://*.example.com", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGINS: entry 1 'https://*.example.com' is not an origin: has a "
                                 "wildcard: list each origin");
    cors_clean_up(&cors);
    /* The variable named is the one given (the old name CORS_ALLOW_ORIGIN is read the same way). */
    buf_reset(&err);
    CHECK_INT_EQ(cors_parse(&cors, "CORS_ALLOW_ORIGIN", "null", 0, &err), -1);
    CHECK_STR_EQ(buf_cstr(&err), "CORS_ALLOW_ORIGIN: entry 1 'null' is not an origin: is 'null', which sandboxed "
                                 "frames and file:// pages of any site send");
    cors_clean_up(&cors);
    buf_clean_up(&err);
}

/* Collects "Name: value\n" lines. */
static void collect(void *ctx, const char *name, const char *value)
{
    buf_concat(ctx, name, ": ", value, "\n");
}

/* The headers of one answer as "Name: value\n" lines (static storage, valid until the next call). */
static const char *headers(const struct cors *cors, const char *origin, const char *preflight_methods)
{
    static char result[2048];
    struct buf out = BUF_INIT;
    cors_headers(cors, origin, preflight_methods, collect, &out);
    snprintf(result, sizeof result, "%s", buf_cstr(&out));
    buf_clean_up(&out);
    return result;
}

#define EXPOSE "Access-Control-Expose-Headers: " CORS_EXPOSE_HEADERS "\n"
#define PREFLIGHT(methods)                                                                                 \
    "Access-Control-Allow-Methods: " methods "\nAccess-Control-Allow-Headers: " CORS_ALLOW_HEADERS "\n"    \
    "Access-Control-Max-Age: 600\n"

static void test_headers_off(void)
{
    struct cors cors;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(parse(&cors, NULL, 0, &err), 0);
    CHECK_STR_EQ(headers(&cors, "https://a.example", NULL), "");
    CHECK_STR_EQ(headers(&cors, "https://a.example", "GET, POST"), "");
    CHECK_STR_EQ(headers(&cors, NULL, NULL), "");
    cors_clean_up(&cors);
    buf_clean_up(&err);
}

static void test_headers_any(void)
{
    struct cors cors;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(parse(&cors, "*", 0, &err), 0);
    CHECK_STR_EQ(headers(&cors, "https://a.example", NULL), "Access-Control-Allow-Origin: *\n" EXPOSE);
    /* The same for every origin and none: nothing varies, so no Vary. */
    CHECK_STR_EQ(headers(&cors, NULL, NULL), "Access-Control-Allow-Origin: *\n" EXPOSE);
    CHECK_STR_EQ(headers(&cors, "https://a.example", "GET, HEAD, POST, OPTIONS"),
                 "Access-Control-Allow-Origin: *\n" EXPOSE PREFLIGHT("GET, HEAD, POST, OPTIONS"));
    cors_clean_up(&cors);
    buf_clean_up(&err);
}

static void test_headers_list(void)
{
    struct cors cors;
    struct buf err = BUF_INIT;
    CHECK_INT_EQ(parse(&cors, "https://app.example.com,http://127.0.0.2:8080", 0, &err), 0);
    CHECK_STR_EQ(headers(&cors, "https://app.example.com", NULL),
                 "Vary: Origin\nAccess-Control-Allow-Origin: https://app.example.com\n" EXPOSE);
    CHECK_STR_EQ(headers(&cors, "http://127.0.0.2:8080", "GET, PATCH"),
                 "Vary: Origin\nAccess-Control-Allow-Origin: http://127.0.0.2:8080\n" EXPOSE PREFLIGHT("GET, PATCH"));
    /* Anything but an exact match gets no Allow-Origin, and still Vary: Origin. */
    const char *others[] = {"https://evil.example", "https://app.example.com.evil.example",
                            "https://app.example.co", "https://app.example.comx", "http://app.example.com",
                            "https://APP.example.com", "https://app.example.com:443", "https://app.example.com/",
                            "null", "", "*", "http://127.0.0.2:808", "http://127.0.0.2:80800"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        CHECK_STR_EQ(headers(&cors, others[i], NULL), "Vary: Origin\n");
        CHECK_STR_EQ(headers(&cors, others[i], "GET"), "Vary: Origin\n");
    }
    CHECK_STR_EQ(headers(&cors, NULL, NULL), "Vary: Origin\n");
    cors_clean_up(&cors);

    CHECK_INT_EQ(parse(&cors, "https://app.example.com", 1, &err), 0);
    CHECK_STR_EQ(headers(&cors, "https://app.example.com", NULL),
                 "Vary: Origin\nAccess-Control-Allow-Origin: https://app.example.com\n"
                 "Access-Control-Allow-Credentials: true\n" EXPOSE);
    CHECK_STR_EQ(headers(&cors, "https://app.example.com", "DELETE"),
                 "Vary: Origin\nAccess-Control-Allow-Origin: https://app.example.com\n"
                 "Access-Control-Allow-Credentials: true\n" EXPOSE PREFLIGHT("DELETE"));
    CHECK_STR_EQ(headers(&cors, "https://evil.example", NULL), "Vary: Origin\n");
    cors_clean_up(&cors);
    buf_clean_up(&err);
}

static void test_describe(void)
{
    struct cors cors;
    struct buf err = BUF_INIT, out = BUF_INIT;
    CHECK_INT_EQ(parse(&cors, NULL, 0, &err), 0);
    cors_describe(&cors, &out);
    CHECK_STR_EQ(buf_cstr(&out), "off (CORS_ALLOW_ORIGINS unset): browsers refuse cross-origin pages");
    cors_clean_up(&cors);
    buf_reset(&out);
    CHECK_INT_EQ(parse(&cors, "*", 0, &err), 0);
    cors_describe(&cors, &out);
    CHECK_STR_EQ(buf_cstr(&out), "any origin (*), without credentials");
    cors_clean_up(&cors);
    buf_reset(&out);
    CHECK_INT_EQ(parse(&cors, "https://a.example,https://b.example", 1, &err), 0);
    cors_describe(&cors, &out);
    CHECK_STR_EQ(buf_cstr(&out), "2 origins (https://a.example, https://b.example), with credentials");
    cors_clean_up(&cors);
    buf_reset(&out);
    CHECK_INT_EQ(parse(&cors, "https://a.example", 0, &err), 0);
    cors_describe(&cors, &out);
    CHECK_STR_EQ(buf_cstr(&out), "1 origin (https://a.example), without credentials");
    cors_clean_up(&cors);
    buf_clean_up(&out);
    buf_clean_up(&err);
}

int main(void)
{
    RUN(test_normalise);
    RUN(test_normalise_refusals);
    RUN(test_parse);
    RUN(test_parse_refusals);
    RUN(test_headers_off);
    RUN(test_headers_any);
    RUN(test_headers_list);
    RUN(test_describe);
    return check_summary();
}
