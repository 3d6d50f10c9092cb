/* test_sigv4: runs every case of the AWS SigV4 test suite, read at run time
 * from $SIGV4_SUITE or ../shared/testdata/sigv4 (see its SOURCE.md), through
 * sigv4.c, plus direct tests of each stage and of a DynamoDB-style request. */
#include "sigv4.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "check.h"

#define SUITE_DEFAULT "../shared/testdata/sigv4"
#define SUITE_CASES 34
#define MAX_HEADERS 16

static const char *const AKID = "AKIDEXAMPLE";
static const char *const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char *const AMZ_DATE = "20150830T123600Z";
static const struct sigv4_scope SUITE_SCOPE = {"20150830", "us-east-1", "service"};

/* Reads the whole file at path into b (NUL-terminated). Returns 0 or -1. */
static int read_file(const char *path, struct buf *b)
{
    char chunk[4096];
    size_t n;
    int rc = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(b, chunk, n) != 0)
            rc = -1;
    if (ferror(f) || buf_append(b, "", 0) != 0)
        rc = -1;
    fclose(f);
    return rc;
}

/* Returns 1 when path names a directory, else 0. */
static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Returns 1 when path names a regular file, else 0. */
static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A growable list of case directories (malloc'd strings). */
struct cases {
    char **dirs;
    size_t n, cap;
};

/* Adds a copy of dir to the list. Returns 0 or -1. */
static int cases_add(struct cases *c, const char *dir)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        char **dirs = realloc(c->dirs, cap * sizeof *dirs);
        if (dirs == NULL)
            return -1;
        c->dirs = dirs;
        c->cap = cap;
    }
    c->dirs[c->n] = strdup(dir);
    return c->dirs[c->n] != NULL ? (c->n++, 0) : -1;
}

/* Collects under dir every directory <d>/<name> holding <name>.req, walking
 * into the others (the normalize-path and post-sts-token groups). Returns 0 or -1. */
static int find_cases(const char *dir, struct cases *out)
{
    int rc = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
        struct buf sub = BUF_INIT, req = BUF_INIT;
        if (e->d_name[0] == '.')
            continue;
        if (buf_printf(&sub, "%s/%s", dir, e->d_name) != 0 ||
            buf_printf(&req, "%s/%s.req", buf_cstr(&sub), e->d_name) != 0)
            rc = -1;
        else if (is_dir(buf_cstr(&sub)))
            rc = is_file(buf_cstr(&req)) ? cases_add(out, buf_cstr(&sub))
                                         : find_cases(buf_cstr(&sub), out);
        buf_clean_up(&sub);
        buf_clean_up(&req);
    }
    closedir(d);
    return rc;
}

/* qsort order for case directories. Returns <0, 0 or >0. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A .req file parsed in place: text is the file, and every pointer below
 * points into it (or into token). */
struct parsed {
    struct buf text;
    struct buf path;
    struct buf token;
    struct sigv4_header headers[MAX_HEADERS];
    struct sigv4_request req;
};

/* Parses the request in p->text: "METHOD <target> HTTP/1.1", header lines
 * "Name:value" (lines starting with whitespace continue the value, kept raw
 * for sigv4 to collapse), then an optional blank line and body. The method is
 * taken from the left and " HTTP/1.1" from the right, since the target may
 * hold a space. Returns 0 or -1. */
static int parse_req(struct parsed *p)
{
    static const char suffix[] = " HTTP/1.1";
    char *s = p->text.data, *end, *sep;
    if (s == NULL)
        return -1;
    p->req.normalize_path = 1;
    sep = strstr(s, "\n\n");
    if (sep != NULL) {
        *sep = '\0';
        p->req.body = sep + 2;
        p->req.body_len = p->text.len - (size_t)(sep + 2 - s);
    }
    end = strchr(s, '\n');
    if (end != NULL)
        *end = '\0';
    size_t line_len = strlen(s);
    char *space = strchr(s, ' ');
    if (space == NULL || line_len < sizeof suffix ||
        strcmp(s + line_len - (sizeof suffix - 1), suffix) != 0)
        return -1;
    *space = '\0';
    s[line_len - (sizeof suffix - 1)] = '\0';
    p->req.method = s;
    char *query = strchr(space + 1, '?');
    if (query != NULL) {
        *query = '\0';
        p->req.query = query + 1;
    }
    if (buf_append_str(&p->path, space + 1) != 0)
        return -1;
    p->req.path = buf_cstr(&p->path);
    p->req.headers = p->headers;
    for (s = end != NULL ? end + 1 : NULL; s != NULL && *s != '\0';) {
        char *colon = strchr(s, ':');
        if (colon == NULL || p->req.n_headers == MAX_HEADERS)
            return -1;
        for (end = strchr(s, '\n'); end != NULL && (end[1] == ' ' || end[1] == '\t');)
            end = strchr(end + 1, '\n');
        *colon = '\0';
        p->headers[p->req.n_headers].name = s;
        p->headers[p->req.n_headers++].value = colon + 1;
        if (end == NULL)
            break;
        *end = '\0';
        s = end + 1;
    }
    return 0;
}

/* Returns 1 when req already carries a header named name (any case), else 0. */
static int has_header(const struct sigv4_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return 1;
    return 0;
}

/* get-vanilla-with-session-token signs a token its .req does not carry: like
 * botocore, take it from the .creq's x-amz-security-token line. Returns 0 or -1. */
static int add_token_from_creq(struct parsed *p, const char *creq)
{
    static const char key[] = "\nx-amz-security-token:";
    const char *line = strstr(creq, key);
    if (line == NULL || has_header(&p->req, "X-Amz-Security-Token"))
        return 0;
    line += sizeof key - 1;
    if (p->req.n_headers == MAX_HEADERS || buf_append(&p->token, line, strcspn(line, "\n")) != 0)
        return -1;
    p->headers[p->req.n_headers].name = "X-Amz-Security-Token";
    p->headers[p->req.n_headers++].value = buf_cstr(&p->token);
    return 0;
}

/* Runs one suite case: canonical request, string to sign and Authorization
 * against .creq, .sts and .authz. Returns nothing; failures are counted. */
static void run_case(const char *dir, const uint8_t key[SIGV4_KEY_LEN])
{
    const char *name = strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir;
    static const char *const ext[] = {"req", "creq", "sts", "authz"};
    struct buf file[4] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
    struct buf creq = BUF_INIT, sts = BUF_INIT, authz = BUF_INIT;
    struct parsed p;
    memset(&p, 0, sizeof p);

    for (size_t i = 0; i < 4; i++) {
        struct buf path = BUF_INIT;
        int ok = buf_printf(&path, "%s/%s.%s", dir, name, ext[i]) == 0 &&
                 read_file(buf_cstr(&path), &file[i]) == 0;
        if (!ok)
            fprintf(stderr, "cannot read %s\n", buf_cstr(&path));
        buf_clean_up(&path);
        if (!ok) {
            CHECK(!"suite case file readable");
            goto done;
        }
    }
    p.text = file[0];
    file[0] = (struct buf)BUF_INIT;
    if (parse_req(&p) != 0 || add_token_from_creq(&p, buf_cstr(&file[1])) != 0) {
        fprintf(stderr, "cannot parse %s/%s.req\n", dir, name);
        CHECK(!"suite .req parses");
        goto done;
    }
    int rc_creq = sigv4_canonical_request(&p.req, &creq, NULL);
    int rc_sts = sigv4_string_to_sign(AMZ_DATE, &SUITE_SCOPE, creq.data, creq.len, &sts);
    int rc_authz = sigv4_authorization(&p.req, AKID, AMZ_DATE, &SUITE_SCOPE, key, &authz);
    if (rc_creq != 0 || rc_sts != 0 || rc_authz != 0 ||
        strcmp(buf_cstr(&creq), buf_cstr(&file[1])) != 0 ||
        strcmp(buf_cstr(&sts), buf_cstr(&file[2])) != 0 ||
        strcmp(buf_cstr(&authz), buf_cstr(&file[3])) != 0)
        fprintf(stderr, "case %s:\n", dir);
    CHECK_STR_EQ(rc_creq == 0 ? buf_cstr(&creq) : "(error)", buf_cstr(&file[1]));
    CHECK_STR_EQ(rc_sts == 0 ? buf_cstr(&sts) : "(error)", buf_cstr(&file[2]));
    CHECK_STR_EQ(rc_authz == 0 ? buf_cstr(&authz) : "(error)", buf_cstr(&file[3]));
done:
    for (size_t i = 0; i < 4; i++)
        buf_clean_up(&file[i]);
    buf_clean_up(&p.text);
    buf_clean_up(&p.path);
    buf_clean_up(&p.token);
    buf_clean_up(&creq);
    buf_clean_up(&sts);
    buf_clean_up(&authz);
}

static void test_suite(void)
{
    const char *dir = getenv("SIGV4_SUITE");
    struct cases cases = {NULL, 0, 0};
    uint8_t key[SIGV4_KEY_LEN];

    if (dir == NULL || *dir == '\0')
        dir = SUITE_DEFAULT;
    if (!is_dir(dir)) {
        fprintf(stderr,
                "SigV4 test suite not found at '%s' (set SIGV4_SUITE, or run from the repo "
                "root so that ../shared/testdata/sigv4 exists)\n",
                dir);
        CHECK(!"SigV4 suite directory present");
        return;
    }
    CHECK_INT_EQ(find_cases(dir, &cases), 0);
    CHECK_INT_EQ(cases.n, SUITE_CASES);
    CHECK_INT_EQ(sigv4_signing_key(SECRET, &SUITE_SCOPE, key), 0);
    if (cases.n > 0)
        qsort(cases.dirs, cases.n, sizeof *cases.dirs, cmp_str);
    for (size_t i = 0; i < cases.n; i++) {
        run_case(cases.dirs[i], key);
        free(cases.dirs[i]);
    }
    free(cases.dirs);
}

static void test_format_time(void)
{
    char amz[17], date[9];
    CHECK_INT_EQ(sigv4_format_time(1440938160, amz, date), 0);
    CHECK_STR_EQ(amz, "20150830T123600Z");
    CHECK_STR_EQ(date, "20150830");
    CHECK_INT_EQ(sigv4_format_time(0, amz, date), 0);
    CHECK_STR_EQ(amz, "19700101T000000Z");
    CHECK_INT_EQ(sigv4_format_time(951868799, amz, date), 0); /* leap day, last second */
    CHECK_STR_EQ(amz, "20000229T235959Z");
    CHECK_INT_EQ(sigv4_format_time(INT64_MAX, amz, date), -1);
    CHECK_STR_EQ(amz, "");
    CHECK_INT_EQ(sigv4_format_time(253402300800, amz, date), -1); /* year 10000 */
}

static void test_sha256_hex(void)
{
    char hex[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex("", 0, hex);
    CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sigv4_sha256_hex(NULL, 0, hex);
    CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sigv4_sha256_hex("abc", 3, hex);
    CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Writes key as lowercase hex into hex. Returns nothing. */
static void key_hex(const uint8_t key[SIGV4_KEY_LEN], char hex[SIGV4_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < SIGV4_KEY_LEN; i++) {
        hex[2 * i] = digits[key[i] >> 4];
        hex[2 * i + 1] = digits[key[i] & 15];
    }
    hex[SIGV4_HEX_LEN] = '\0';
}

/* Known values: the signing key for the suite's scope, and get-vanilla's
 * string to sign and signature, both taken from the suite. */
static void test_key_and_signature(void)
{
    static const char sts[] = "AWS4-HMAC-SHA256\n20150830T123600Z\n"
                              "20150830/us-east-1/service/aws4_request\n"
                              "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
    uint8_t key[SIGV4_KEY_LEN];
    char hex[SIGV4_HEX_LEN + 1];
    struct buf out = BUF_INIT;

    CHECK_INT_EQ(sigv4_signing_key(SECRET, &SUITE_SCOPE, key), 0);
    CHECK_INT_EQ(sigv4_signature(key, sts, sizeof sts - 1, hex), 0);
    CHECK_STR_EQ(hex, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");

    /* The key itself (computed independently with Python's hmac), and the
     * key AWS's documentation derives for the same secret and date with "iam". */
    key_hex(key, hex);
    CHECK_STR_EQ(hex, "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");
    const struct sigv4_scope iam = {"20150830", "us-east-1", "iam"};
    CHECK_INT_EQ(sigv4_signing_key(SECRET, &iam, key), 0);
    key_hex(key, hex);
    CHECK_STR_EQ(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");

    /* The string to sign for get-vanilla's canonical request. */
    static const char creq[] = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                               "\nhost;x-amz-date\n"
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    CHECK_INT_EQ(sigv4_string_to_sign(AMZ_DATE, &SUITE_SCOPE, creq, sizeof creq - 1, &out), 0);
    CHECK_STR_EQ(buf_cstr(&out), sts);
    /* A date that does not match the scope is refused, leaving out alone. */
    size_t creq_len = sizeof creq - 1;
    CHECK_INT_EQ(sigv4_string_to_sign("20150831T000000Z", &SUITE_SCOPE, creq, creq_len, &out), -1);
    CHECK_INT_EQ(sigv4_string_to_sign("2015-08-30", &SUITE_SCOPE, creq, creq_len, &out), -1);
    CHECK_STR_EQ(buf_cstr(&out), sts);
    buf_clean_up(&out);
}

/* Signs a DynamoDB GetItem (with or without a session token header), appending
 * its SignedHeaders to names and its Authorization to authz. Returns nothing. */
static void dynamodb_signed_headers(int with_token, struct buf *names, struct buf *authz)
{
    static const char body[] = "{\"TableName\":\"users\",\"Key\":{\"id\":{\"S\":\"42\"}}}";
    const struct sigv4_header headers[] = {
        {"Host", "dynamodb.us-east-1.amazonaws.com"},
        {"X-Amz-Date", "20150830T123600Z"},
        {"X-Amz-Target", "DynamoDB_20120810.GetItem"},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN=="},
    };
    const struct sigv4_scope scope = {"20150830", "us-east-1", "dynamodb"};
    struct sigv4_request req = {"POST", "/", NULL, headers, with_token ? 5 : 4,
                                body, sizeof body - 1, 1};
    uint8_t key[SIGV4_KEY_LEN];
    CHECK_INT_EQ(sigv4_signing_key(SECRET, &scope, key), 0);
    CHECK_INT_EQ(sigv4_canonical_request(&req, NULL, names), 0);
    CHECK_INT_EQ(sigv4_authorization(&req, AKID, AMZ_DATE, &scope, key, authz), 0);
}

static void test_dynamodb_request(void)
{
    struct buf names = BUF_INIT, authz = BUF_INIT;
    static const char prefix[] =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=";

    dynamodb_signed_headers(0, &names, &authz);
    CHECK_STR_EQ(buf_cstr(&names), "content-type;host;x-amz-date;x-amz-target");
    CHECK(strncmp(buf_cstr(&authz), prefix, sizeof prefix - 1) == 0);
    CHECK(strstr(buf_cstr(&authz),
                 "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=") != NULL);
    CHECK_INT_EQ(authz.len, sizeof prefix - 1 + strlen(buf_cstr(&names)) + 12 + SIGV4_HEX_LEN);
    buf_reset(&names);
    buf_reset(&authz);

    dynamodb_signed_headers(1, &names, &authz);
    CHECK_STR_EQ(buf_cstr(&names),
                 "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
    CHECK(strstr(buf_cstr(&authz), "SignedHeaders=content-type;host;x-amz-date;"
                                   "x-amz-security-token;x-amz-target, Signature=") != NULL);
    buf_clean_up(&names);
    buf_clean_up(&authz);
}

/* Canonical request of a GET with one Host header; returns it in out. */
static int creq_of(const char *path, const char *query, int normalize, struct buf *out)
{
    const struct sigv4_header host = {"Host", "h"};
    struct sigv4_request req = {"GET", path, query, &host, 1, NULL, 0, normalize};
    buf_reset(out);
    return sigv4_canonical_request(&req, out, NULL);
}

static void test_path_and_query(void)
{
    struct buf out = BUF_INIT;
    static const char tail[] =
        "\nhost:h\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    char want[512];

    /* S3 mode keeps the path as sent, only encoded. */
    CHECK_INT_EQ(creq_of("/my-object//example//photo.user", NULL, 0, &out), 0);
    snprintf(want, sizeof want, "GET\n/my-object//example//photo.user\n%s", tail);
    CHECK_STR_EQ(buf_cstr(&out), want);
    CHECK_INT_EQ(creq_of("/a/./b/../c d", NULL, 0, &out), 0);
    snprintf(want, sizeof want, "GET\n/a/./b/../c%%20d\n%s", tail);
    CHECK_STR_EQ(buf_cstr(&out), want);

    /* Normalised: dot segments, slashes, trailing slash, '..' above the root. */
    CHECK_INT_EQ(creq_of("/a/b/../../../c/./", NULL, 1, &out), 0);
    snprintf(want, sizeof want, "GET\n/c/\n%s", tail);
    CHECK_STR_EQ(buf_cstr(&out), want);
    CHECK_INT_EQ(creq_of("/a/b/..", NULL, 1, &out), 0);
    snprintf(want, sizeof want, "GET\n/a/\n%s", tail);
    CHECK_STR_EQ(buf_cstr(&out), want);

    /* Query: key without '=', pre-encoded and lowercase escapes, '+', sorting. */
    CHECK_INT_EQ(creq_of("/", "b&a=2&a=1&c=%e1%88%b4+x&&%zz=", 1, &out), 0);
    snprintf(want, sizeof want, "GET\n/\n%%25zz=&a=1&a=2&b=&c=%%E1%%88%%B4%%2Bx%s", tail);
    CHECK_STR_EQ(buf_cstr(&out), want);

    /* Malformed requests fail and leave out as it was. */
    buf_reset(&out);
    CHECK_INT_EQ(buf_append_str(&out, "keep"), 0);
    const struct sigv4_header bad = {"Bad Name", "v"};
    struct sigv4_request rel = {"GET", "relative", NULL, NULL, 0, NULL, 0, 1};
    struct sigv4_request nomethod = {NULL, "/", NULL, NULL, 0, NULL, 0, 1};
    struct sigv4_request badheader = {"GET", "/", NULL, &bad, 1, NULL, 0, 1};
    CHECK_INT_EQ(sigv4_canonical_request(&rel, &out, NULL), -1);
    CHECK_INT_EQ(sigv4_canonical_request(&nomethod, &out, NULL), -1);
    CHECK_INT_EQ(sigv4_canonical_request(&badheader, &out, NULL), -1);
    /* Names must be HTTP tokens: a ';' would split one name into two in
     * SignedHeaders, and '(' ',' '"' are separators (found by fuzz_sigv4). */
    static const char *const separators[] = {"a;b", "x(y)", "a,b", "q\"", "m/n", "k=v", "\x80"};
    for (size_t i = 0; i < sizeof separators / sizeof separators[0]; i++) {
        const struct sigv4_header sep = {separators[i], "v"};
        struct sigv4_request sepheader = {"GET", "/", NULL, &sep, 1, NULL, 0, 1};
        struct sigv4_request sepmethod = {separators[i], "/", NULL, NULL, 0, NULL, 0, 1};
        CHECK_INT_EQ(sigv4_canonical_request(&sepheader, &out, NULL), -1);
        CHECK_INT_EQ(sigv4_canonical_request(&sepmethod, &out, NULL), -1);
    }
    const struct sigv4_header odd = {"X-Amz-!#$%&'*+.^_`|~9", "v"};
    struct sigv4_request oddheader = {"GET", "/", NULL, &odd, 1, NULL, 0, 1};
    CHECK_STR_EQ(buf_cstr(&out), "keep");
    CHECK_INT_EQ(sigv4_canonical_request(&oddheader, &out, NULL), 0);
    buf_clean_up(&out);
}

int main(void)
{
    RUN(test_suite);
    RUN(test_format_time);
    RUN(test_sha256_hex);
    RUN(test_key_and_signature);
    RUN(test_dynamodb_request);
    RUN(test_path_and_query);
    return check_summary();
}
