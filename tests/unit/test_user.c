/* test_user: UUIDs, email normalisation, member names, the stored item built
 * from a create body (compared whole), merge-patch normalisation, the JSON
 * written back (member order, exact text), versions and guard items. */
#include "user.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_json.h"

#define ID "0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f"
#define NOW "2024-05-01T12:00:00.000Z"

static void test_is_uuid(void)
{
    CHECK_INT_EQ(user_is_uuid(ID), 1);
    CHECK_INT_EQ(user_is_uuid("0B3C6D2E-1F4A-4E5B-9C8D-7A6B5C4D3E2F"), 1);
    CHECK_INT_EQ(user_is_uuid("00000000-0000-0000-0000-000000000000"), 1);
    CHECK_INT_EQ(user_is_uuid(""), 0);
    CHECK_INT_EQ(user_is_uuid("abc"), 0);
    CHECK_INT_EQ(user_is_uuid("0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2"), 0);   /* 35 chars */
    CHECK_INT_EQ(user_is_uuid("0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f0"), 0); /* 37 chars */
    CHECK_INT_EQ(user_is_uuid("0b3c6d2e1f4a-4e5b-9c8d-7a6b5c4d3e2f0"), 0);  /* dash moved */
    CHECK_INT_EQ(user_is_uuid("0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2g"), 0);  /* not hex */
    CHECK_INT_EQ(user_is_uuid("0b3c6d2e-1f4a-4e5b-9c8d_7a6b5c4d3e2f"), 0);
    CHECK_INT_EQ(user_is_uuid("{b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f"), 0);
    CHECK_INT_EQ(user_is_uuid(" 0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f"), 0);
    CHECK_INT_EQ(user_is_uuid("0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f "), 0);
    CHECK_INT_EQ(user_is_uuid("email#a@x.io"), 0);
}

/* Normalises a C string; returns the result (static) or "(invalid)". */
static const char *norm(const char *in)
{
    static char out[USER_EMAIL_MAX + 1];
    return user_normalize_email(in, strlen(in), out) == 0 ? out : "(invalid)";
}

/* A string of n copies of c (static, n < 300). */
static const char *rep(char c, size_t n)
{
    static char s[4][300];
    static int which;
    char *p = s[which++ % 4];
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

static void test_normalize_email(void)
{
    char buf[600];
    CHECK_STR_EQ(norm("a@x.io"), "a@x.io");
    CHECK_STR_EQ(norm("  Ann.Lee@Example.COM \t\n"), "ann.lee@example.com");
    CHECK_STR_EQ(norm("a+b@x.io"), "a+b@x.io");
    CHECK_STR_EQ(norm("A+Tag@X.IO"), "a+tag@x.io");
    CHECK_STR_EQ(norm("first_last-1@sub.domain-x.co.uk"), "first_last-1@sub.domain-x.co.uk");
    CHECK_STR_EQ(norm("o'neil!#$%&*/=?^`{|}~@x.io"), "o'neil!#$%&*/=?^`{|}~@x.io");

    /* Invalid. */
    CHECK_STR_EQ(norm(""), "(invalid)");
    CHECK_STR_EQ(norm("   "), "(invalid)");
    CHECK_STR_EQ(norm("ax.io"), "(invalid)");
    CHECK_STR_EQ(norm("a@b@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("a@"), "(invalid)");
    CHECK_STR_EQ(norm("a..b@x.io"), "(invalid)");
    CHECK_STR_EQ(norm(".a@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("a.@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("a@localhost"), "(invalid)");
    CHECK_STR_EQ(norm("a@-x.io"), "(invalid)");
    CHECK_STR_EQ(norm("a@x-.io"), "(invalid)");
    CHECK_STR_EQ(norm("a@x.-io"), "(invalid)");
    CHECK_STR_EQ(norm("a@x..io"), "(invalid)");
    CHECK_STR_EQ(norm("a@.x.io"), "(invalid)");
    CHECK_STR_EQ(norm("a@x.io."), "(invalid)");
    CHECK_STR_EQ(norm("a@x_y.io"), "(invalid)");
    CHECK_STR_EQ(norm("a b@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("ab@x .io"), "(invalid)");
    CHECK_STR_EQ(norm("a\tb@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("\"a\"@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("a(b)@x.io"), "(invalid)");
    CHECK_STR_EQ(norm("caf\xC3\xA9@x.io"), "(invalid)");

    /* Local part: 64 is the limit. */
    snprintf(buf, sizeof buf, "%s@x.io", rep('a', 64));
    CHECK_STR_EQ(norm(buf), buf);
    snprintf(buf, sizeof buf, "%s@x.io", rep('a', 65));
    CHECK_STR_EQ(norm(buf), "(invalid)");
    /* Domain labels: 63 is the limit. */
    snprintf(buf, sizeof buf, "a@%s.io", rep('d', 63));
    CHECK_STR_EQ(norm(buf), buf);
    snprintf(buf, sizeof buf, "a@%s.io", rep('d', 64));
    CHECK_STR_EQ(norm(buf), "(invalid)");
    /* Whole address: 254 bytes is the limit (64 + 1 + 63.63.61 = 254). */
    snprintf(buf, sizeof buf, "%s@%s.%s.%s", rep('a', 64), rep('b', 63), rep('c', 63), rep('d', 61));
    CHECK_INT_EQ(strlen(buf), 254);
    CHECK_STR_EQ(norm(buf), buf);
    snprintf(buf, sizeof buf, "%s@%s.%s.%s", rep('a', 64), rep('b', 63), rep('c', 63), rep('d', 62));
    CHECK_INT_EQ(strlen(buf), 255);
    CHECK_STR_EQ(norm(buf), "(invalid)");
    /* Trimming comes first: 254 bytes with spaces around is fine. */
    char padded[600];
    snprintf(buf, sizeof buf, "%s@%s.%s.%s", rep('A', 64), rep('b', 63), rep('c', 63), rep('d', 61));
    snprintf(padded, sizeof padded, "   %s  ", buf);
    char want[600];
    snprintf(want, sizeof want, "%s@%s.%s.%s", rep('a', 64), rep('b', 63), rep('c', 63), rep('d', 61));
    CHECK_STR_EQ(norm(padded), want);

    /* len bounds the input, and an embedded NUL is not an email character. */
    char out[USER_EMAIL_MAX + 1];
    CHECK_INT_EQ(user_normalize_email("a@x.io trailing", 6, out), 0);
    CHECK_STR_EQ(out, "a@x.io");
    CHECK_INT_EQ(user_normalize_email("a\0b@x.io", 8, out), -1);
    CHECK_INT_EQ(user_normalize_email("ab@x.io\0", 8, out), -1);
}

static void test_member_name(void)
{
    CHECK_INT_EQ(user_member_name_ok("first-name", 10), 1);
    CHECK_INT_EQ(user_member_name_ok("a_b", 3), 1);
    CHECK_INT_EQ(user_member_name_ok("a", 1), 1);
    CHECK_INT_EQ(user_member_name_ok("Zz9", 3), 1);
    CHECK_INT_EQ(user_member_name_ok("1a", 2), 0);
    CHECK_INT_EQ(user_member_name_ok("-a", 2), 0);
    CHECK_INT_EQ(user_member_name_ok("_a", 2), 0);
    CHECK_INT_EQ(user_member_name_ok("a.b", 3), 0);
    CHECK_INT_EQ(user_member_name_ok("a b", 3), 0);
    CHECK_INT_EQ(user_member_name_ok("a#b", 3), 0);
    CHECK_INT_EQ(user_member_name_ok("", 0), 0);
    CHECK_INT_EQ(user_member_name_ok(rep('a', 64), 64), 1);
    CHECK_INT_EQ(user_member_name_ok(rep('a', 65), 65), 0);
    CHECK_INT_EQ(user_member_name_ok("caf\xC3\xA9", 5), 0);
    CHECK_INT_EQ(user_member_name_ok("ab.c", 2), 1); /* len bounds the name */

    CHECK_INT_EQ(user_member_is_managed("id"), 1);
    CHECK_INT_EQ(user_member_is_managed("createdAt"), 1);
    CHECK_INT_EQ(user_member_is_managed("updatedAt"), 1);
    CHECK_INT_EQ(user_member_is_managed("version"), 1);
    CHECK_INT_EQ(user_member_is_managed("name"), 0);
    CHECK_INT_EQ(user_member_is_managed("email"), 0);
    CHECK_INT_EQ(user_member_is_managed("Id"), 0);
}

static void test_item_from_create(void)
{
    struct field_errors errs;
    memset(&errs, 0, sizeof errs);
    json_t *body = parse("{\"name\":\"  Ann Lee \",\"email\":\"  Ann.Lee+Tag@Example.COM \",\"nickname\":null,"
                         "\"age\":30,\"score\":0.5,\"tags\":[\"a\",null],\"first-name\":\"Ann\","
                         "\"prefs\":{\"dark\":true,\"x\":null},\"active\":false}");
    json_t *item = user_item_from_create(body, ID, NOW, &errs);
    CHECK(item != NULL);
    CHECK_INT_EQ(errs.n, 0);
    CHECK_STR_EQ(dump(item),
                 "{\"active\":{\"BOOL\":false},\"age\":{\"N\":\"30\"},\"createdAt\":{\"S\":\"" NOW "\"},"
                 "\"email\":{\"S\":\"ann.lee+tag@example.com\"},\"first-name\":{\"S\":\"Ann\"},"
                 "\"id\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ann Lee\"},"
                 "\"prefs\":{\"M\":{\"dark\":{\"BOOL\":true},\"x\":{\"NULL\":true}}},"
                 "\"score\":{\"N\":\"0.5\"},\"tags\":{\"L\":[{\"S\":\"a\"},{\"NULL\":true}]},"
                 "\"updatedAt\":{\"S\":\"" NOW "\"},\"version\":{\"N\":\"1\"}}");
    json_decref(item);
    json_decref(body);

    /* The minimal body. */
    memset(&errs, 0, sizeof errs);
    body = parse("{\"name\":\"B\",\"email\":\"b@x.io\"}");
    item = user_item_from_create(body, "u-1", "t0", &errs);
    CHECK_STR_EQ(dump(item), "{\"createdAt\":{\"S\":\"t0\"},\"email\":{\"S\":\"b@x.io\"},\"id\":{\"S\":\"u-1\"},"
                             "\"name\":{\"S\":\"B\"},\"updatedAt\":{\"S\":\"t0\"},\"version\":{\"N\":\"1\"}}");
    json_decref(item);
    json_decref(body);

    /* A 256-character name (multi-byte characters count once) is fine. */
    memset(&errs, 0, sizeof errs);
    char name[2 * 256 + 8];
    for (int i = 0; i < 256; i++)
        memcpy(name + 2 * i, "\xC3\xA9", 2);
    name[512] = '\0';
    body = json_pack("{s:s, s:s}", "name", name, "email", "e@x.io");
    item = user_item_from_create(body, ID, NOW, &errs);
    CHECK(item != NULL);
    CHECK_INT_EQ(errs.n, 0);
    CHECK_STR_EQ(user_item_string(item, "name"), name);
    json_decref(item);
    json_decref(body);
}

/* Runs user_item_from_create on text and checks it fails with exactly the
 * error fields listed (in order, "" terminated list up to 8). */
static void expect_create_errors(const char *text, const char *const *fields, int line)
{
    struct field_errors errs;
    memset(&errs, 0, sizeof errs);
    json_t *body = parse(text);
    json_t *item = body ? user_item_from_create(body, ID, NOW, &errs) : NULL;
    size_t n = 0;
    while (fields[n] != NULL)
        n++;
    if (item != NULL || errs.n != n)
        fprintf(stderr, "  (line %d: %s)\n", line, text);
    CHECK(item == NULL);
    CHECK_INT_EQ(errs.n, n);
    for (size_t i = 0; i < n && i < errs.n; i++) {
        CHECK_STR_EQ(errs.items[i].field, fields[i]);
        CHECK(errs.items[i].message[0] != '\0');
    }
    json_decref(item);
    json_decref(body);
}

#define FIELDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_create_errors(void)
{
    expect_create_errors("{}", FIELDS("name", "email"), __LINE__);
    expect_create_errors("{\"email\":\"a@x.io\"}", FIELDS("name"), __LINE__);
    expect_create_errors("{\"name\":\"A\"}", FIELDS("email"), __LINE__);
    expect_create_errors("{\"name\":null,\"email\":null}", FIELDS("name", "email"), __LINE__);
    expect_create_errors("{\"name\":42,\"email\":\"a@x.io\"}", FIELDS("name"), __LINE__);
    expect_create_errors("{\"name\":[\"A\"],\"email\":\"a@x.io\"}", FIELDS("name"), __LINE__);
    expect_create_errors("{\"name\":\"   \",\"email\":\"a@x.io\"}", FIELDS("name"), __LINE__);
    expect_create_errors("{\"name\":\"\",\"email\":\"a@x.io\"}", FIELDS("name"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"not-an-email\"}", FIELDS("email"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":7}", FIELDS("email"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"id\":\"x\"}", FIELDS("id"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"id\":null}", FIELDS("id"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"id\":\"x\",\"createdAt\":\"t\","
                         "\"updatedAt\":\"t\",\"version\":3}",
                         FIELDS("id", "createdAt", "updatedAt", "version"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"1a\":1,\"a.b\":2,\"ok\":3,\"-x\":4}",
                         FIELDS("1a", "a.b", "-x"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"\":1}", FIELDS(""), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"score\":1e126}", FIELDS("score"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"tiny\":1e-131}", FIELDS("tiny"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"deep\":{\"a\":[1e200]}}", FIELDS("deep"),
                         __LINE__);
    expect_create_errors("{\"name\":\"  \",\"email\":\"bad\",\"id\":\"x\"}", FIELDS("name", "email", "id"),
                         __LINE__);

    /* A name of 257 characters after trimming. */
    char text[600];
    snprintf(text, sizeof text, "{\"name\":\"  %s \",\"email\":\"a@x.io\"}", rep('n', 257));
    expect_create_errors(text, FIELDS("name"), __LINE__);
    snprintf(text, sizeof text, "{\"name\":\"  %s \",\"email\":\"a@x.io\"}", rep('n', 256));
    struct field_errors errs;
    memset(&errs, 0, sizeof errs);
    json_t *body = parse(text);
    json_t *item = user_item_from_create(body, ID, NOW, &errs);
    CHECK(item != NULL);
    CHECK_STR_EQ(user_item_string(item, "name"), rep('n', 256));
    json_decref(item);
    json_decref(body);

    /* An email with an embedded NUL is not an email (it would be stored cut at the NUL). */
    memset(&errs, 0, sizeof errs);
    body = json_pack("{s:s, s:s%}", "name", "A", "email", "a\0b@x.io", (size_t)8);
    item = user_item_from_create(body, ID, NOW, &errs);
    CHECK(item == NULL);
    CHECK_INT_EQ(errs.n, 1);
    CHECK_STR_EQ(errs.n > 0 ? errs.items[0].field : NULL, "email");
    json_decref(item);
    json_decref(body);

    /* A member name of 65 characters is refused (and named). */
    snprintf(text, sizeof text, "{\"name\":\"A\",\"email\":\"a@x.io\",\"%s\":1}", rep('m', 65));
    expect_create_errors(text, FIELDS(rep('m', 65)), __LINE__);

    /* Nesting: 32 levels (the member value is level 1) fit, 33 do not. */
    char deep[400] = "{\"name\":\"A\",\"email\":\"a@x.io\",\"deep\":";
    for (int i = 0; i < 31; i++)
        strcat(deep, "[");
    strcat(deep, "1");
    for (int i = 0; i < 31; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    memset(&errs, 0, sizeof errs);
    body = parse(deep);
    item = user_item_from_create(body, ID, NOW, &errs);
    CHECK(item != NULL);
    CHECK_INT_EQ(errs.n, 0);
    json_decref(item);
    json_decref(body);
    char deeper[400] = "{\"name\":\"A\",\"email\":\"a@x.io\",\"deep\":[";
    strcat(deeper, deep + strlen("{\"name\":\"A\",\"email\":\"a@x.io\",\"deep\":"));
    deeper[strlen(deeper) - 1] = '\0';
    strcat(deeper, "]}");
    expect_create_errors(deeper, FIELDS("deep"), __LINE__);
}

static void test_patch_normalize(void)
{
    struct field_errors errs;
    memset(&errs, 0, sizeof errs);
    json_t *patch = parse("{\"name\":\"  Bo \",\"email\":\" BO@X.IO\",\"nickname\":null,\"age\":31,"
                          "\"prefs\":{\"a\":null}}");
    json_t *out = user_patch_normalize(patch, &errs);
    CHECK(out != NULL);
    CHECK_INT_EQ(errs.n, 0);
    CHECK_STR_EQ(dump(out), "{\"age\":31,\"email\":\"bo@x.io\",\"name\":\"Bo\",\"nickname\":null,"
                            "\"prefs\":{\"a\":null}}");
    json_decref(out);
    json_decref(patch);

    /* At most USER_PATCH_MAX_MEMBERS members: 100 pass, 101 are refused as a whole. */
    patch = json_object();
    for (int i = 0; i < USER_PATCH_MAX_MEMBERS; i++) {
        char key[16];
        snprintf(key, sizeof key, "m%d", i);
        json_object_set_new(patch, key, json_integer(i));
    }
    out = user_patch_normalize(patch, &errs);
    CHECK(out != NULL);
    CHECK_INT_EQ(errs.n, 0);
    json_decref(out);
    json_object_set_new(patch, "one_more", json_true());
    out = user_patch_normalize(patch, &errs);
    CHECK(out == NULL);
    CHECK_INT_EQ(errs.n, 1);
    CHECK_STR_EQ(errs.items[0].field, "(body)");
    json_decref(patch);
    memset(&errs, 0, sizeof errs);

    memset(&errs, 0, sizeof errs);
    patch = json_object();
    out = user_patch_normalize(patch, &errs);
    CHECK_STR_EQ(dump(out), "{}");
    json_decref(out);
    json_decref(patch);

    static const struct {
        const char *patch;
        const char *fields[5];
    } bad[] = {
        {"{\"name\":null}", {"name"}},
        {"{\"email\":null}", {"email"}},
        {"{\"name\":null,\"email\":null}", {"name", "email"}},
        {"{\"name\":\" \"}", {"name"}},
        {"{\"email\":\"x\"}", {"email"}},
        {"{\"id\":\"x\"}", {"id"}},
        {"{\"version\":2}", {"version"}},
        {"{\"createdAt\":null}", {"createdAt"}},
        {"{\"updatedAt\":\"t\",\"ok\":1}", {"updatedAt"}},
        {"{\"a.b\":1,\"n\":1e300}", {"a.b", "n"}},
        {"{\"n\":1e-200}", {"n"}},
        {"{\"nickname\":null,\"9\":null}", {"9"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&errs, 0, sizeof errs);
        patch = parse(bad[i].patch);
        out = user_patch_normalize(patch, &errs);
        size_t n = 0;
        while (n < 5 && bad[i].fields[n] != NULL)
            n++;
        if (out != NULL || errs.n != n)
            fprintf(stderr, "  (patch %s)\n", bad[i].patch);
        CHECK(out == NULL);
        CHECK_INT_EQ(errs.n, n);
        for (size_t j = 0; j < n && j < errs.n; j++)
            CHECK_STR_EQ(errs.items[j].field, bad[i].fields[j]);
        json_decref(out);
        json_decref(patch);
    }
}

/* user_write_json of an item given as AV JSON text; "(error)" when it fails. */
static const char *write_user(const char *item_text)
{
    static char text[4096];
    json_t *item = parse(item_text);
    struct buf out = BUF_INIT;
    int rc = item ? user_write_json(&out, item) : -1;
    snprintf(text, sizeof text, "%s", rc == 0 ? buf_cstr(&out) : "(error)");
    buf_clean_up(&out);
    json_decref(item);
    return text;
}

static void test_write_json(void)
{
    /* Stored members in a scrambled order come out as id, name, email, the
     * client's members (in item order), createdAt, updatedAt, version. */
    CHECK_STR_EQ(write_user("{\"version\":{\"N\":\"3\"},\"zeta\":{\"S\":\"z\"},\"createdAt\":{\"S\":\"c\"},"
                            "\"email\":{\"S\":\"a@x.io\"},\"age\":{\"N\":\"30\"},\"id\":{\"S\":\"u1\"},"
                            "\"updatedAt\":{\"S\":\"u\"},\"tags\":{\"SS\":[\"p\",\"q\"]},\"name\":{\"S\":\"Ann\"},"
                            "\"prefs\":{\"M\":{\"dark\":{\"BOOL\":true}}},\"gone\":{\"NULL\":true}}"),
                 "{\"id\":\"u1\",\"name\":\"Ann\",\"email\":\"a@x.io\",\"zeta\":\"z\",\"age\":30,"
                 "\"tags\":[\"p\",\"q\"],\"prefs\":{\"dark\":true},\"gone\":null,"
                 "\"createdAt\":\"c\",\"updatedAt\":\"u\",\"version\":3}");
    CHECK_STR_EQ(write_user("{\"id\":{\"S\":\"u1\"},\"name\":{\"S\":\"A \\\"q\\\"\"},\"email\":{\"S\":\"a@x.io\"},"
                            "\"createdAt\":{\"S\":\"c\"},\"updatedAt\":{\"S\":\"u\"},\"version\":{\"N\":\"1\"}}"),
                 "{\"id\":\"u1\",\"name\":\"A \\\"q\\\"\",\"email\":\"a@x.io\",\"createdAt\":\"c\","
                 "\"updatedAt\":\"u\",\"version\":1}");
    /* Absent members are skipped, commas stay right. */
    CHECK_STR_EQ(write_user("{\"email\":{\"S\":\"a@x.io\"},\"x\":{\"N\":\"1\"}}"), "{\"email\":\"a@x.io\",\"x\":1}");
    CHECK_STR_EQ(write_user("{\"version\":{\"N\":\"2\"}}"), "{\"version\":2}");
    CHECK_STR_EQ(write_user("{}"), "{}");
    /* The item is a map of AVs: a malformed one fails. */
    CHECK_STR_EQ(write_user("{\"id\":{\"S\":\"u1\"},\"name\":\"plain\"}"), "(error)");
    CHECK_STR_EQ(write_user("{\"id\":{\"S\":\"u1\"},\"x\":{\"Q\":1}}"), "(error)");
    CHECK_STR_EQ(write_user("{\"id\":{\"S\":\"u1\"},\"version\":{\"N\":1}}"), "(error)");

    /* The create item written back. */
    struct field_errors errs;
    memset(&errs, 0, sizeof errs);
    json_t *body = parse("{\"email\":\"A@X.IO\",\"age\":5,\"name\":\" Ann \",\"n\":null}");
    json_t *item = user_item_from_create(body, "u1", NOW, &errs);
    struct buf out = BUF_INIT;
    CHECK_INT_EQ(item ? user_write_json(&out, item) : -1, 0);
    CHECK_STR_EQ(buf_cstr(&out), "{\"id\":\"u1\",\"name\":\"Ann\",\"email\":\"a@x.io\",\"age\":5,"
                                 "\"createdAt\":\"" NOW "\",\"updatedAt\":\"" NOW "\",\"version\":1}");
    buf_clean_up(&out);
    json_decref(item);
    json_decref(body);
}

static void test_version_and_guards(void)
{
    json_t *item = parse("{\"id\":{\"S\":\"u1\"},\"email\":{\"S\":\"a@x.io\"},\"version\":{\"N\":\"7\"}}");
    CHECK_INT_EQ(user_item_version(item), 7);
    CHECK_STR_EQ(user_item_string(item, "id"), "u1");
    CHECK_STR_EQ(user_item_string(item, "email"), "a@x.io");
    CHECK(user_item_string(item, "version") == NULL);
    CHECK(user_item_string(item, "missing") == NULL);
    CHECK_INT_EQ(user_item_is_user(item), 1);
    json_decref(item);

    item = parse("{\"version\":{\"N\":\"123456789012\"}}");
    CHECK_INT_EQ(user_item_version(item), 123456789012LL);
    json_decref(item);
    item = parse("{\"id\":{\"S\":\"u1\"}}");
    CHECK_INT_EQ(user_item_version(item), -1);
    json_decref(item);
    item = parse("{\"version\":{\"S\":\"3\"}}");
    CHECK_INT_EQ(user_item_version(item), -1);
    json_decref(item);
    item = parse("{\"version\":{\"N\":\"1.5\"}}");
    CHECK_INT_EQ(user_item_version(item), -1);
    json_decref(item);
    item = parse("{\"version\":{\"N\":\"-2\"}}");
    CHECK_INT_EQ(user_item_version(item), -1);
    json_decref(item);
    item = parse("{\"version\":{\"N\":\"abc\"}}");
    CHECK_INT_EQ(user_item_version(item), -1);
    json_decref(item);

    /* Guard items are not users. */
    item = parse("{\"id\":{\"S\":\"email#a@x.io\"},\"userId\":{\"S\":\"u1\"}}");
    CHECK_INT_EQ(user_item_is_user(item), 0);
    json_decref(item);
    item = parse("{\"id\":{\"S\":\"email#a@x.io\"},\"email\":{\"S\":\"a@x.io\"}}");
    CHECK_INT_EQ(user_item_is_user(item), 0);
    json_decref(item);
    item = parse("{\"id\":{\"S\":\"u1\"}}");
    CHECK_INT_EQ(user_item_is_user(item), 0);
    json_decref(item);
    item = parse("{\"email\":{\"S\":\"a@x.io\"}}");
    CHECK_INT_EQ(user_item_is_user(item), 0);
    json_decref(item);
    item = parse("{\"id\":{\"N\":\"1\"},\"email\":{\"S\":\"a@x.io\"}}");
    CHECK_INT_EQ(user_item_is_user(item), 0);
    json_decref(item);
}

/* user_check_text: field errors for what the tree cannot show (numbers as
 * sent) or DynamoDB cannot hold (empty keys), named by path. */
static void test_check_text(void)
{
    struct field_errors errs;
    static const struct {
        const char *text;
        const char *fields[4];
    } cases[] = {
        {"{\"name\":\"A\",\"email\":\"a@x.io\",\"n\":1e-400}", {"n"}},
        {"{\"name\":\"A\",\"email\":\"a@x.io\",\"n\":-2.4e-324,\"m\":0.000}", {"n"}},
        {"{\"name\":\"A\",\"email\":\"a@x.io\",\"deep\":{\"a\":[0,1e-131]}}", {"deep/a/1"}},
        {"{\"meta\":{\"\":1}}", {"meta"}},
        {"{\"meta\":{\"x\":[{\"\":\"y\"}]},\"big\":1.23456789012345678901234567890123456789}", {"meta/x/0", "big"}},
        {"{\"f\":0.12345678901234567890123}", {"f"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&errs, 0, sizeof errs);
        int rc = user_check_text(cases[i].text, strlen(cases[i].text), &errs);
        size_t n = 0;
        while (n < 4 && cases[i].fields[n] != NULL)
            n++;
        if (rc != -1 || errs.n != n)
            fprintf(stderr, "  (text %s)\n", cases[i].text);
        CHECK_INT_EQ(rc, -1);
        CHECK_INT_EQ(errs.n, n);
        for (size_t j = 0; j < n && j < errs.n; j++) {
            CHECK_STR_EQ(errs.items[j].field, cases[i].fields[j]);
            CHECK(errs.items[j].message[0] != '\0');
        }
    }
    static const char *const fine[] = {
        "{\"name\":\"A\",\"email\":\"a@x.io\",\"z\":-0,\"y\":0.0,\"x\":0e5,\"w\":1e-130,\"v\":\"1e-400\"}",
        "{}",
        "{\"\":1}", /* the member-name rule refuses it, with its own message */
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        memset(&errs, 0, sizeof errs);
        CHECK_INT_EQ(user_check_text(fine[i], strlen(fine[i]), &errs), 0);
        CHECK_INT_EQ(errs.n, 0);
    }
    /* A long path is cut, not overflowed. */
    char text[1200] = "{\"m\":";
    for (int i = 0; i < 30; i++)
        strcat(text, "{\"abcdefghijklmnopqrstuvwxyz\":");
    strcat(text, "1e-400");
    for (int i = 0; i < 31; i++)
        strcat(text, "}");
    memset(&errs, 0, sizeof errs);
    CHECK_INT_EQ(user_check_text(text, strlen(text), &errs), -1);
    CHECK_INT_EQ(errs.n, 1);
    CHECK(strncmp(errs.items[0].field, "m/abcdefghijklmnopqrstuvwxyz/", 29) == 0);
    CHECK(strlen(errs.items[0].field) < sizeof errs.items[0].field);
}

/* Empty keys inside a member are refused on create and patch (the tree check
 * behind user_check_text). */
static void test_empty_nested_keys(void)
{
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"meta\":{\"\":1}}", FIELDS("meta"), __LINE__);
    expect_create_errors("{\"name\":\"A\",\"email\":\"a@x.io\",\"meta\":[{\"x\":{\"\":null}}]}", FIELDS("meta"),
                         __LINE__);
    struct field_errors errs;
    memset(&errs, 0, sizeof errs);
    json_t *patch = parse("{\"meta\":{\"a\":{\"\":true}}}");
    json_t *out = user_patch_normalize(patch, &errs);
    CHECK(out == NULL);
    CHECK_INT_EQ(errs.n, 1);
    CHECK_STR_EQ(errs.n ? errs.items[0].field : NULL, "meta");
    json_decref(out);
    json_decref(patch);
}

/* Versions are int64 from 0 up: anything else (beyond int64 included) is no version. */
static void test_version_bounds(void)
{
    static const struct {
        const char *n;
        long long want;
    } cases[] = {
        {"9223372036854775807", 9223372036854775807LL}, {"9223372036854775806", 9223372036854775806LL},
        {"0", 0}, {"9223372036854775808", -1}, {"99999999999999999999999", -1}, {"", -1}, {" 5", -1},
        {"+5", -1}, {"5 ", -1}, {"1e3", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *item = json_pack("{s:{s:s}}", "version", "N", cases[i].n);
        long long v = user_item_version(item);
        if (v != cases[i].want)
            fprintf(stderr, "  (version \"%s\")\n", cases[i].n);
        CHECK_INT_EQ(v, cases[i].want);
        json_decref(item);
    }
}

int main(void)
{
    RUN(test_is_uuid);
    RUN(test_normalize_email);
    RUN(test_member_name);
    RUN(test_item_from_create);
    RUN(test_create_errors);
    RUN(test_patch_normalize);
    RUN(test_write_json);
    RUN(test_version_and_guards);
    RUN(test_check_text);
    RUN(test_empty_nested_keys);
    RUN(test_version_bounds);
    return check_summary();
}
