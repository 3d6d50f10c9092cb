/* test_router: path matching against a route table shaped like the app's
 * (parameters, decoding, 404 vs 405, the Allow list, HEAD and trailing
 * slashes), plus the http.h helpers the router and handlers rely on:
 * http_percent_decode and http_query_param. */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "check.h"

static void h_health(const struct app *app, struct http_exchange *ex, const struct route_params *params) {}
static void h_list(const struct app *app, struct http_exchange *ex, const struct route_params *params) {}
static void h_create(const struct app *app, struct http_exchange *ex, const struct route_params *params) {}
static void h_by_email(const struct app *app, struct http_exchange *ex, const struct route_params *params) {}
static void h_get(const struct app *app, struct http_exchange *ex, const struct route_params *params) {}
static void h_patch(const struct app *app, struct http_exchange *ex, const struct route_params *params) {}
static void h_delete(const struct app *app, struct http_exchange *ex, const struct route_params *params) {}

static const struct route ROUTES[] = {
    {HTTP_GET, "/healthz", h_health},
    {HTTP_GET, "/users", h_list},
    {HTTP_POST, "/users", h_create},
    {HTTP_GET, "/users/by-email/:email", h_by_email},
    {HTTP_GET, "/users/:id", h_get},
    {HTTP_PATCH, "/users/:id", h_patch},
    {HTTP_DELETE, "/users/:id", h_delete},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

#define ALLOW_COLLECTION (HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_OPTIONS)
#define ALLOW_ONE (HTTP_GET | HTTP_HEAD | HTTP_PATCH | HTTP_DELETE | HTTP_OPTIONS)

/* Matches method/path and returns the matched handler (NULL when none); the
 * status goes to *status, the allowed mask to *allowed, and the value of
 * parameter `param` (or NULL) is copied into value (size 64, "" when none). */
static route_handler *match(enum http_method method, const char *path, enum route_status *status,
                            unsigned *allowed, const char *param, char value[64], size_t *n_params)
{
    struct route_match m;
    *status = router_match(ROUTES, N_ROUTES, method, path, &m);
    CHECK_INT_EQ(m.status, *status);
    *allowed = m.allowed;
    value[0] = '\0';
    if (param != NULL && route_param(&m.params, param) != NULL)
        snprintf(value, 64, "%s", route_param(&m.params, param));
    if (n_params != NULL)
        *n_params = m.params.n;
    route_handler *h = m.route != NULL ? m.route->handler : NULL;
    route_match_clean_up(&m);
    return h;
}

/* Checks that method/path is found, handled by want, with param = value. */
static void expect_found(enum http_method method, const char *path, route_handler *want, const char *param,
                         const char *want_value, int line)
{
    enum route_status st;
    unsigned allowed;
    char value[64];
    size_t n;
    route_handler *h = match(method, path, &st, &allowed, param, value, &n);
    if (st != ROUTE_FOUND || h != want)
        fprintf(stderr, "  (line %d: %s %s)\n", line, http_method_name(method), path);
    CHECK_INT_EQ(st, ROUTE_FOUND);
    CHECK(h == want);
    if (param != NULL) {
        CHECK_INT_EQ(n, 1);
        CHECK_STR_EQ(value, want_value);
    } else {
        CHECK_INT_EQ(n, 0);
    }
}

static void expect_not_found(enum http_method method, const char *path, int line)
{
    enum route_status st;
    unsigned allowed;
    char value[64];
    size_t n;
    route_handler *h = match(method, path, &st, &allowed, NULL, value, &n);
    if (st != ROUTE_NOT_FOUND)
        fprintf(stderr, "  (line %d: %s '%s' should be 404)\n", line, http_method_name(method), path);
    CHECK_INT_EQ(st, ROUTE_NOT_FOUND);
    CHECK(h == NULL);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(allowed, 0);
}

static void expect_405(enum http_method method, const char *path, unsigned want_allowed, int line)
{
    enum route_status st;
    unsigned allowed;
    char value[64];
    size_t n;
    route_handler *h = match(method, path, &st, &allowed, NULL, value, &n);
    if (st != ROUTE_METHOD_NOT_ALLOWED)
        fprintf(stderr, "  (line %d: %s '%s' should be 405)\n", line, http_method_name(method), path);
    CHECK_INT_EQ(st, ROUTE_METHOD_NOT_ALLOWED);
    CHECK(h == NULL);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(allowed, want_allowed);
}

static void test_found_and_params(void)
{
    expect_found(HTTP_GET, "/healthz", h_health, NULL, NULL, __LINE__);
    expect_found(HTTP_GET, "/users", h_list, NULL, NULL, __LINE__);
    expect_found(HTTP_POST, "/users", h_create, NULL, NULL, __LINE__);
    expect_found(HTTP_GET, "/users/abc", h_get, "id", "abc", __LINE__);
    expect_found(HTTP_PATCH, "/users/abc", h_patch, "id", "abc", __LINE__);
    expect_found(HTTP_DELETE, "/users/abc", h_delete, "id", "abc", __LINE__);
    expect_found(HTTP_GET, "/users/0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f", h_get, "id",
                 "0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f", __LINE__);
    /* Decoding: %40, an encoded '/' stays inside the parameter, '+' stays '+'. */
    expect_found(HTTP_GET, "/users/by-email/a%40b.com", h_by_email, "email", "a@b.com", __LINE__);
    expect_found(HTTP_GET, "/users/by-email/a+tag@b.com", h_by_email, "email", "a+tag@b.com", __LINE__);
    expect_found(HTTP_GET, "/users/a%2Fb", h_get, "id", "a/b", __LINE__);
    expect_found(HTTP_GET, "/users/a%2fb", h_get, "id", "a/b", __LINE__);
    expect_found(HTTP_GET, "/users/%E2%82%AC", h_get, "id", "\xE2\x82\xAC", __LINE__);
    /* "/users/by-email" alone is an id, not the by-email route. */
    expect_found(HTTP_GET, "/users/by-email", h_get, "id", "by-email", __LINE__);
    /* A single trailing slash is ignored. */
    expect_found(HTTP_GET, "/users/", h_list, NULL, NULL, __LINE__);
    expect_found(HTTP_POST, "/users/", h_create, NULL, NULL, __LINE__);
    expect_found(HTTP_GET, "/users/abc/", h_get, "id", "abc", __LINE__);
    expect_found(HTTP_GET, "/healthz/", h_health, NULL, NULL, __LINE__);
    /* HEAD is served by GET routes. */
    expect_found(HTTP_HEAD, "/users", h_list, NULL, NULL, __LINE__);
    expect_found(HTTP_HEAD, "/users/abc", h_get, "id", "abc", __LINE__);
    expect_found(HTTP_HEAD, "/healthz", h_health, NULL, NULL, __LINE__);
}

static void test_not_found(void)
{
    expect_not_found(HTTP_GET, "/nope", __LINE__);
    expect_not_found(HTTP_GET, "/users/x/y", __LINE__);
    expect_not_found(HTTP_DELETE, "/users/x/y", __LINE__);
    expect_not_found(HTTP_GET, "/", __LINE__);
    expect_not_found(HTTP_GET, "", __LINE__);
    expect_not_found(HTTP_GET, "//", __LINE__);
    expect_not_found(HTTP_GET, "/users//", __LINE__);
    expect_not_found(HTTP_GET, "/users//abc", __LINE__);
    expect_not_found(HTTP_GET, "users", __LINE__);
    expect_not_found(HTTP_GET, "/Users", __LINE__);
    expect_not_found(HTTP_GET, "/userss", __LINE__);
}

static void test_bad_escapes(void)
{
    expect_not_found(HTTP_GET, "/users/%zz", __LINE__);
    expect_not_found(HTTP_GET, "/users/%4", __LINE__);
    expect_not_found(HTTP_GET, "/users/%", __LINE__);
    expect_not_found(HTTP_GET, "/users/a%", __LINE__);
    expect_not_found(HTTP_GET, "/users/%00", __LINE__);
    expect_not_found(HTTP_GET, "/users/a%00b", __LINE__);
    expect_not_found(HTTP_PATCH, "/users/%g1", __LINE__);
    expect_not_found(HTTP_GET, "/users/by-email/a%zzb.com", __LINE__);
    /* A bad escape is 404 even for a method the path would not allow. */
    expect_not_found(HTTP_POST, "/users/%zz", __LINE__);
}

static void test_method_not_allowed(void)
{
    expect_405(HTTP_PUT, "/users", ALLOW_COLLECTION, __LINE__);
    expect_405(HTTP_DELETE, "/users", ALLOW_COLLECTION, __LINE__);
    expect_405(HTTP_PATCH, "/users/", ALLOW_COLLECTION, __LINE__);
    expect_405(HTTP_POST, "/users/x", ALLOW_ONE, __LINE__);
    expect_405(HTTP_PUT, "/users/x", ALLOW_ONE, __LINE__);
    expect_405(HTTP_OTHER, "/users/x", ALLOW_ONE, __LINE__);
    expect_405(HTTP_POST, "/healthz", HTTP_GET | HTTP_HEAD | HTTP_OPTIONS, __LINE__);
    /* /users/by-email/x: only GET (both the by-email route and nothing else). */
    expect_405(HTTP_DELETE, "/users/by-email/a%40b.com", HTTP_GET | HTTP_HEAD | HTTP_OPTIONS, __LINE__);
}

static void test_found_allowed_mask(void)
{
    struct route_match m;
    CHECK_INT_EQ(router_match(ROUTES, N_ROUTES, HTTP_GET, "/users", &m), ROUTE_FOUND);
    CHECK_INT_EQ(m.allowed, ALLOW_COLLECTION);
    CHECK(m.route == &ROUTES[1]);
    route_match_clean_up(&m);
    CHECK_INT_EQ(router_match(ROUTES, N_ROUTES, HTTP_DELETE, "/users/u1", &m), ROUTE_FOUND);
    CHECK_INT_EQ(m.allowed, ALLOW_ONE);
    CHECK(m.route == &ROUTES[6]);
    CHECK_STR_EQ(route_param(&m.params, "id"), "u1");
    route_match_clean_up(&m);
    CHECK_INT_EQ(m.params.n, 0);
    CHECK(m.route == NULL);
}

static void test_route_param(void)
{
    struct route_match m;
    CHECK_INT_EQ(router_match(ROUTES, N_ROUTES, HTTP_GET, "/users/by-email/x%40y.z", &m), ROUTE_FOUND);
    CHECK_STR_EQ(route_param(&m.params, "email"), "x@y.z");
    CHECK(route_param(&m.params, "id") == NULL);
    CHECK(route_param(&m.params, "e") == NULL);
    CHECK(route_param(&m.params, "emai") == NULL);
    CHECK(route_param(&m.params, "emails") == NULL);
    CHECK(route_param(&m.params, "") == NULL);
    route_match_clean_up(&m);

    /* Two parameters in one pattern; names end at '/'. */
    static const struct route two[] = {{HTTP_GET, "/a/:x/b/:y", h_get}};
    CHECK_INT_EQ(router_match(two, 1, HTTP_GET, "/a/1/b/%32", &m), ROUTE_FOUND);
    CHECK_INT_EQ(m.params.n, 2);
    CHECK_STR_EQ(route_param(&m.params, "x"), "1");
    CHECK_STR_EQ(route_param(&m.params, "y"), "2");
    CHECK(route_param(&m.params, "z") == NULL);
    route_match_clean_up(&m);
}

static void test_allow_header(void)
{
    char *s = router_allow_header(ALLOW_COLLECTION);
    CHECK_STR_EQ(s, "GET, HEAD, POST, OPTIONS");
    free(s);
    s = router_allow_header(ALLOW_ONE);
    CHECK_STR_EQ(s, "GET, HEAD, PATCH, DELETE, OPTIONS");
    free(s);
    /* Order is fixed whatever the mask's construction order. */
    s = router_allow_header(HTTP_OPTIONS | HTTP_DELETE | HTTP_PUT | HTTP_GET);
    CHECK_STR_EQ(s, "GET, PUT, DELETE, OPTIONS");
    free(s);
    s = router_allow_header(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE | HTTP_OPTIONS);
    CHECK_STR_EQ(s, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    free(s);
    s = router_allow_header(HTTP_POST);
    CHECK_STR_EQ(s, "POST");
    free(s);
    s = router_allow_header(0);
    CHECK_STR_EQ(s, "");
    free(s);

    /* The Allow text of a real 405. */
    struct route_match m;
    CHECK_INT_EQ(router_match(ROUTES, N_ROUTES, HTTP_PUT, "/users", &m), ROUTE_METHOD_NOT_ALLOWED);
    s = router_allow_header(m.allowed);
    CHECK_STR_EQ(s, "GET, HEAD, POST, OPTIONS");
    free(s);
    route_match_clean_up(&m);
}

/* Decodes a C string with http_percent_decode; returns a new string or NULL. */
static char *decode(const char *s)
{
    return http_percent_decode(s, strlen(s));
}

static void expect_decode(const char *in, const char *want)
{
    char *got = decode(in);
    if (want == NULL) {
        if (got != NULL)
            fprintf(stderr, "  decode('%s') gave [%s], want NULL\n", in, got);
        CHECK(got == NULL);
    } else {
        CHECK_STR_EQ(got, want);
    }
    free(got);
}

static void test_percent_decode(void)
{
    expect_decode("", "");
    expect_decode("abc", "abc");
    expect_decode("%41", "A");
    expect_decode("%61%62c", "abc");
    expect_decode("a+b", "a+b");
    expect_decode("%2B", "+");
    expect_decode("%20", " ");
    expect_decode("%2f%2F", "//");
    expect_decode("%e2%82%ac", "\xE2\x82\xAC");
    expect_decode("%25", "%");
    expect_decode("%2541", "%41"); /* decoded once only */
    expect_decode("%zz", NULL);
    expect_decode("%4", NULL);
    expect_decode("%", NULL);
    expect_decode("ab%", NULL);
    expect_decode("ab%4", NULL);
    expect_decode("%g0", NULL);
    expect_decode("%0g", NULL);
    expect_decode("%00", NULL);
    expect_decode("a%00", NULL);
    /* len bounds the input: an escape cut by len is malformed. */
    char *s = http_percent_decode("%41%42", 3);
    CHECK_STR_EQ(s, "A");
    free(s);
    s = http_percent_decode("%41%42", 5);
    CHECK(s == NULL);
    free(s);
    /* A raw NUL inside len is refused. */
    s = http_percent_decode("a\0b", 3);
    CHECK(s == NULL);
    free(s);
}

static void expect_query(const char *query, const char *name, const char *want, int want_malformed)
{
    int malformed = -1;
    char *got = http_query_param(query, name, &malformed);
    if (want == NULL) {
        if (got != NULL)
            fprintf(stderr, "  query('%s', '%s') gave [%s], want NULL\n", query ? query : "(null)", name, got);
        CHECK(got == NULL);
    } else {
        CHECK_STR_EQ(got, want);
    }
    CHECK_INT_EQ(malformed, want_malformed);
    free(got);
}

static void test_query_param(void)
{
    expect_query("limit=10", "limit", "10", 0);
    expect_query("a=1&limit=10&b=2", "limit", "10", 0);
    expect_query("limit=10&limit=20", "limit", "10", 0); /* first occurrence wins */
    expect_query("a=1&b=2", "limit", NULL, 0);
    expect_query("", "limit", NULL, 0);
    expect_query(NULL, "limit", NULL, 0);
    expect_query("limit=", "limit", "", 0);
    expect_query("limit", "limit", "", 0);
    expect_query("limits=5&limit=6", "limit", "6", 0);
    expect_query("xlimit=5&limit=6", "limit", "6", 0);
    expect_query("lim=5", "limit", NULL, 0);
    expect_query("email=a%40b.com", "email", "a@b.com", 0);
    /* In a query string '+' is a space (HTML forms, URLSearchParams); %2B is a '+'. */
    expect_query("email=a+b%40x.io", "email", "a b@x.io", 0);
    expect_query("email=a%2Bb%40x.io", "email", "a+b@x.io", 0);
    expect_query("q=+", "q", " ", 0);
    expect_query("my+key=1", "my key", "1", 0);
    expect_query("my%20key=2", "my key", "2", 0);
    expect_query("email=%zz", "email", NULL, 1);
    expect_query("email=%00", "email", NULL, 1);
    expect_query("email=%zz&email=ok", "email", NULL, 1); /* the first occurrence decides */
    expect_query("other=%zz&email=ok", "email", "ok", 0);
    expect_query("e%6Dail=x%40y", "email", "x@y", 0); /* keys are decoded */
    expect_query("%zz=1&email=2", "email", "2", 0);
    expect_query("a=1&&email=2", "email", "2", 0);
    expect_query("cursor=abc=def", "cursor", "abc=def", 0);
}

/* The app's own table: each pattern's template ("/users/{id}") is what the log and the metrics name. */
static void test_app_route_templates(void)
{
    char why[160] = "";
    CHECK_INT_EQ(app_routes_check(why, sizeof why), 0);
    CHECK_STR_EQ(why, "");
    CHECK(app_route_templates[0] == NULL);
    CHECK(app_route_count <= METRICS_MAX_ROUTES);
}

int main(void)
{
    RUN(test_found_and_params);
    RUN(test_not_found);
    RUN(test_bad_escapes);
    RUN(test_method_not_allowed);
    RUN(test_found_allowed_mask);
    RUN(test_route_param);
    RUN(test_allow_header);
    RUN(test_percent_decode);
    RUN(test_query_param);
    RUN(test_app_route_templates);
    return check_summary();
}
