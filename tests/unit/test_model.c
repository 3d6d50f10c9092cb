/* test_model: the DynamoDB requests for the users table, to the byte (compact
 * JSON with sorted keys), plus structural checks on every request built:
 * expressions only use counter placeholders, the ExpressionAttributeNames and
 * ExpressionAttributeValues maps hold exactly the placeholders used, and no
 * request carries an empty map (DynamoDB rejects them). */
#include "model.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"

#include "check.h"
#include "check_json.h"

#define NOW "2024-05-01T12:00:00.000Z"

static const struct model_table T = {"Users", "email-index"};

/* --- structural checks -------------------------------------------------- */

#define MAX_TOKENS 64

struct tokens {
    size_t n;
    char items[MAX_TOKENS][32];
};

static void tokens_add(struct tokens *t, const char *s, size_t len)
{
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->items[i]) == len && memcmp(t->items[i], s, len) == 0)
            return;
    if (t->n < MAX_TOKENS && len < sizeof t->items[0]) {
        memcpy(t->items[t->n], s, len);
        t->items[t->n++][len] = '\0';
    }
}

static int tokens_has(const struct tokens *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->items[i], s) == 0)
            return 1;
    return 0;
}

/* Scans an expression: collects #name and :value placeholders, and checks
 * every other word is a keyword or function (never an attribute name).
 * Placeholders must be counter-made: "#n<digits>" / ":v<digits>". */
static void scan_expression(const char *expr, struct tokens *names, struct tokens *values)
{
    static const char *const words[] = {"SET", "REMOVE", "AND", "OR", "attribute_exists",
                                        "attribute_not_exists", NULL};
    const char *p = expr;
    while (*p != '\0') {
        if (strchr(" ,()=+<", *p) != NULL) {
            p++;
            continue;
        }
        size_t len = strcspn(p, " ,()=+<");
        if (p[0] == '#' || p[0] == ':') {
            int ok = len >= 3 && p[1] == (p[0] == '#' ? 'n' : 'v');
            for (size_t i = 2; i < len; i++)
                ok = ok && isdigit((unsigned char)p[i]);
            if (!ok)
                fprintf(stderr, "  placeholder not from a counter: %.*s in [%s]\n", (int)len, p, expr);
            CHECK(ok);
            tokens_add(p[0] == '#' ? names : values, p, len);
        } else {
            int known = 0;
            for (size_t i = 0; words[i] != NULL; i++)
                known |= strlen(words[i]) == len && strncmp(words[i], p, len) == 0;
            if (!known)
                fprintf(stderr, "  unexpected word %.*s in [%s]\n", (int)len, p, expr);
            CHECK(known);
        }
        p += len;
    }
}

/* Checks one operation object: its maps match the placeholders of its
 * expressions exactly, and neither map is present but empty. */
static void check_operation(const json_t *op)
{
    static const char *const exprs[] = {"UpdateExpression", "ConditionExpression", "KeyConditionExpression",
                                        "FilterExpression", "ProjectionExpression", NULL};
    struct tokens names = {0}, values = {0};
    for (size_t i = 0; exprs[i] != NULL; i++) {
        const json_t *e = json_object_get(op, exprs[i]);
        if (e == NULL)
            continue;
        CHECK(json_is_string(e) && json_string_length(e) > 0);
        if (json_is_string(e))
            scan_expression(json_string_value(e), &names, &values);
    }
    const json_t *ean = json_object_get(op, "ExpressionAttributeNames");
    const json_t *eav = json_object_get(op, "ExpressionAttributeValues");
    /* Present only when non-empty, and then exactly the placeholders used. */
    if (ean != NULL) {
        CHECK(json_is_object(ean) && json_object_size(ean) > 0);
    }
    if (eav != NULL) {
        CHECK(json_is_object(eav) && json_object_size(eav) > 0);
    }
    CHECK_INT_EQ(ean != NULL ? json_object_size(ean) : 0, names.n);
    CHECK_INT_EQ(eav != NULL ? json_object_size(eav) : 0, values.n);
    for (size_t i = 0; i < names.n; i++) {
        const json_t *n = json_object_get(ean, names.items[i]);
        if (n == NULL)
            fprintf(stderr, "  missing name %s\n", names.items[i]);
        CHECK(json_is_string(n));
    }
    for (size_t i = 0; i < values.n; i++) {
        const json_t *v = json_object_get(eav, values.items[i]);
        if (v == NULL)
            fprintf(stderr, "  missing value %s\n", values.items[i]);
        CHECK(json_is_object(v) && json_object_size(v) == 1);
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)(ean != NULL ? ean : json_null()), key, v) {
        if (!tokens_has(&names, key))
            fprintf(stderr, "  unused name %s\n", key);
        CHECK(tokens_has(&names, key));
    }
    json_object_foreach((json_t *)(eav != NULL ? eav : json_null()), key, v) {
        if (!tokens_has(&values, key))
            fprintf(stderr, "  unused value %s\n", key);
        CHECK(tokens_has(&values, key));
    }
    /* One placeholder per distinct name. */
    for (size_t i = 0; i < names.n; i++)
        for (size_t j = i + 1; j < names.n; j++)
            CHECK(strcmp(json_string_value(json_object_get(ean, names.items[i])),
                         json_string_value(json_object_get(ean, names.items[j]))) != 0);
}

/* Walks a whole request: the top level, and each TransactItems element. */
static void check_request(const json_t *req)
{
    CHECK(json_is_object(req));
    /* The text ddb_send writes is byte for byte jansson's own compact dump. */
    struct buf sent = BUF_INIT;
    char *oracle = json_dumps(req, JSON_COMPACT);
    CHECK_INT_EQ(json_write_value(&sent, req), 0);
    CHECK_STR_EQ(buf_cstr(&sent), oracle);
    free(oracle);
    buf_clean_up(&sent);
    check_operation(req);
    const json_t *items = json_object_get(req, "TransactItems");
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item) {
        CHECK_INT_EQ(json_object_size(item), 1);
        const char *kind;
        const json_t *op;
        json_object_foreach((json_t *)item, kind, op) {
            check_operation(op);
            CHECK_STR_EQ(json_string_value(json_object_get(op, "TableName")), "Users");
        }
    }
}

/* Checks req's text and structure, then decrefs it. */
static void expect_request(json_t *req, const char *want)
{
    CHECK_STR_EQ(dump(req), want);
    if (req != NULL)
        check_request(req);
    json_decref(req);
}

/* --- requests ------------------------------------------------------------ */

static void test_get_and_describe(void)
{
    /* GetItem is written as text, exactly what json_dumps writes for the same request. */
    struct buf text = BUF_INIT;
    CHECK_INT_EQ(model_get_user_text(&T, "u1", &text), 0);
    CHECK_STR_EQ(buf_cstr(&text), "{\"TableName\":\"Users\",\"Key\":{\"id\":{\"S\":\"u1\"}},\"ConsistentRead\":true}");
    json_t *req = json_loadb(text.data, text.len, JSON_REJECT_DUPLICATES, NULL);
    CHECK(req != NULL);
    if (req != NULL)
        check_request(req);
    json_decref(req);
    buf_clean_up(&text);
    const struct model_table odd = {"Us\"ers\\", "i"};
    CHECK_INT_EQ(model_get_user_text(&odd, "a\nb\x01", &text), 0);
    json_t *oracle = json_pack("{s:s, s:{s:{s:s}}, s:b}", "TableName", odd.table, "Key", "id", "S", "a\nb\x01",
                               "ConsistentRead", 1);
    char *dumped = json_dumps(oracle, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR_EQ(buf_cstr(&text), dumped);
    free(dumped);
    json_decref(oracle);
    buf_clean_up(&text);
    expect_request(model_describe_table(&T), "{\"TableName\":\"Users\"}");
    req = model_describe_table(&T);
    CHECK(json_object_get(req, "ExpressionAttributeNames") == NULL);
    CHECK(json_object_get(req, "ExpressionAttributeValues") == NULL);
    json_decref(req);
    expect_request(model_guard_key("a@x.io"), "{\"id\":{\"S\":\"email#a@x.io\"}}");
}

static void test_create_user(void)
{
    json_t *item = parse("{\"id\":{\"S\":\"u1\"},\"name\":{\"S\":\"Ann\"},\"email\":{\"S\":\"a@x.io\"},"
                         "\"version\":{\"N\":\"1\"}}");
    json_t *req = model_create_user(&T, item, "tok-1");
    expect_request(req,
                   "{\"ClientRequestToken\":\"tok-1\",\"TransactItems\":["
                   "{\"Put\":{\"ConditionExpression\":\"attribute_not_exists(#n0)\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"id\"},"
                   "\"Item\":{\"email\":{\"S\":\"a@x.io\"},\"id\":{\"S\":\"u1\"},\"name\":{\"S\":\"Ann\"},"
                   "\"version\":{\"N\":\"1\"}},\"TableName\":\"Users\"}},"
                   "{\"Put\":{\"ConditionExpression\":\"attribute_not_exists(#n0)\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"id\"},"
                   "\"Item\":{\"id\":{\"S\":\"email#a@x.io\"},\"userId\":{\"S\":\"u1\"}},\"TableName\":\"Users\"}}]}");
    /* item is borrowed and unchanged. */
    CHECK_STR_EQ(dump(item), "{\"email\":{\"S\":\"a@x.io\"},\"id\":{\"S\":\"u1\"},\"name\":{\"S\":\"Ann\"},"
                             "\"version\":{\"N\":\"1\"}}");
    CHECK_INT_EQ(item->refcount, 1);
    json_decref(item);

    /* Without id or email there is no request. */
    item = parse("{\"id\":{\"S\":\"u1\"}}");
    CHECK(model_create_user(&T, item, "tok-1") == NULL);
    json_decref(item);
}

static void test_update_user(void)
{
    /* Reserved words (name, status), a member with '-', a REMOVE, a version check. */
    json_t *patch = parse("{\"name\":\"Ann\",\"status\":\"active\",\"first-name\":\"A\",\"nickname\":null,"
                          "\"age\":31}");
    expect_request(model_update_user(&T, "u1", patch, NOW, 3),
                   "{\"ConditionExpression\":\"attribute_exists(#n7) AND #n6 = :v6\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"name\",\"#n1\":\"status\",\"#n2\":\"first-name\","
                   "\"#n3\":\"nickname\",\"#n4\":\"age\",\"#n5\":\"updatedAt\",\"#n6\":\"version\",\"#n7\":\"id\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"Ann\"},\":v1\":{\"S\":\"active\"},"
                   "\":v2\":{\"S\":\"A\"},\":v3\":{\"N\":\"31\"},\":v4\":{\"S\":\"" NOW "\"},\":v5\":{\"N\":\"1\"},"
                   "\":v6\":{\"N\":\"3\"}},"
                   "\"Key\":{\"id\":{\"S\":\"u1\"}},\"ReturnValues\":\"ALL_NEW\",\"TableName\":\"Users\","
                   "\"UpdateExpression\":\"SET #n0 = :v0, #n1 = :v1, #n2 = :v2, #n4 = :v3, #n5 = :v4, "
                   "#n6 = #n6 + :v5 REMOVE #n3\"}");
    /* Without a version check: DynamoDB adds the 1, so the condition keeps the
     * result within int64 (a user at INT64_MAX fails it and is read to tell why). */
    expect_request(model_update_user(&T, "u1", patch, NOW, -1),
                   "{\"ConditionExpression\":\"attribute_exists(#n7) AND #n6 < :v6\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"name\",\"#n1\":\"status\",\"#n2\":\"first-name\","
                   "\"#n3\":\"nickname\",\"#n4\":\"age\",\"#n5\":\"updatedAt\",\"#n6\":\"version\",\"#n7\":\"id\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"Ann\"},\":v1\":{\"S\":\"active\"},"
                   "\":v2\":{\"S\":\"A\"},\":v3\":{\"N\":\"31\"},\":v4\":{\"S\":\"" NOW "\"},\":v5\":{\"N\":\"1\"},"
                   "\":v6\":{\"N\":\"9223372036854775807\"}},"
                   "\"Key\":{\"id\":{\"S\":\"u1\"}},\"ReturnValues\":\"ALL_NEW\",\"TableName\":\"Users\","
                   "\"UpdateExpression\":\"SET #n0 = :v0, #n1 = :v1, #n2 = :v2, #n4 = :v3, #n5 = :v4, "
                   "#n6 = #n6 + :v5 REMOVE #n3\"}");
    /* Version 0 is a version to check. */
    json_t *req = model_update_user(&T, "u1", patch, NOW, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(req, "ConditionExpression")),
                 "attribute_exists(#n7) AND #n6 = :v6");
    CHECK_STR_EQ(dump(json_object_get(json_object_get(req, "ExpressionAttributeValues"), ":v6")),
                 "{\"N\":\"0\"}");
    json_decref(req);
    json_decref(patch);

    /* Nested values become AVs; several REMOVEs are comma separated. */
    patch = parse("{\"a\":null,\"prefs\":{\"dark\":true,\"n\":[1,null]},\"b\":null}");
    expect_request(model_update_user(&T, "u2", patch, NOW, 12),
                   "{\"ConditionExpression\":\"attribute_exists(#n5) AND #n4 = :v3\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"a\",\"#n1\":\"prefs\",\"#n2\":\"b\",\"#n3\":\"updatedAt\","
                   "\"#n4\":\"version\",\"#n5\":\"id\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"M\":{\"dark\":{\"BOOL\":true},"
                   "\"n\":{\"L\":[{\"N\":\"1\"},{\"NULL\":true}]}}},\":v1\":{\"S\":\"" NOW "\"},"
                   "\":v2\":{\"N\":\"1\"},\":v3\":{\"N\":\"12\"}},"
                   "\"Key\":{\"id\":{\"S\":\"u2\"}},\"ReturnValues\":\"ALL_NEW\",\"TableName\":\"Users\","
                   "\"UpdateExpression\":\"SET #n1 = :v0, #n3 = :v1, #n4 = #n4 + :v2 REMOVE #n0, #n2\"}");
    json_decref(patch);
}

static void test_update_remove_only_and_empty(void)
{
    json_t *patch = parse("{\"nickname\":null}");
    expect_request(model_update_user(&T, "u1", patch, NOW, 5),
                   "{\"ConditionExpression\":\"attribute_exists(#n3) AND #n2 = :v2\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"nickname\",\"#n1\":\"updatedAt\",\"#n2\":\"version\","
                   "\"#n3\":\"id\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"" NOW "\"},\":v1\":{\"N\":\"1\"},"
                   "\":v2\":{\"N\":\"5\"}},"
                   "\"Key\":{\"id\":{\"S\":\"u1\"}},\"ReturnValues\":\"ALL_NEW\",\"TableName\":\"Users\","
                   "\"UpdateExpression\":\"SET #n1 = :v0, #n2 = #n2 + :v1 REMOVE #n0\"}");
    json_decref(patch);

    patch = json_object();
    expect_request(model_update_user(&T, "u1", patch, NOW, -1),
                   "{\"ConditionExpression\":\"attribute_exists(#n2) AND #n1 < :v2\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"updatedAt\",\"#n1\":\"version\",\"#n2\":\"id\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"" NOW "\"},\":v1\":{\"N\":\"1\"},"
                   "\":v2\":{\"N\":\"9223372036854775807\"}},"
                   "\"Key\":{\"id\":{\"S\":\"u1\"}},\"ReturnValues\":\"ALL_NEW\",\"TableName\":\"Users\","
                   "\"UpdateExpression\":\"SET #n0 = :v0, #n1 = #n1 + :v1\"}");
    json_decref(patch);
}

static void test_update_email(void)
{
    json_t *patch = parse("{\"email\":\"new@x.io\",\"name\":\"Bo\"}");
    expect_request(
        model_update_user_email(&T, "u1", patch, NOW, 4, "old@x.io", "new@x.io", "tok-2"),
        "{\"ClientRequestToken\":\"tok-2\",\"TransactItems\":["
        "{\"Update\":{\"ConditionExpression\":\"attribute_exists(#n4) AND #n3 = :v4\","
        "\"ExpressionAttributeNames\":{\"#n0\":\"email\",\"#n1\":\"name\",\"#n2\":\"updatedAt\",\"#n3\":\"version\","
        "\"#n4\":\"id\"},"
        "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"new@x.io\"},\":v1\":{\"S\":\"Bo\"},\":v2\":{\"S\":\"" NOW
        "\"},\":v3\":{\"N\":\"1\"},\":v4\":{\"N\":\"4\"}},"
        "\"Key\":{\"id\":{\"S\":\"u1\"}},\"TableName\":\"Users\","
        "\"UpdateExpression\":\"SET #n0 = :v0, #n1 = :v1, #n2 = :v2, #n3 = #n3 + :v3\"}},"
        "{\"Delete\":{\"ConditionExpression\":\"attribute_not_exists(#n0) OR #n1 = :v0\","
        "\"ExpressionAttributeNames\":{\"#n0\":\"id\",\"#n1\":\"userId\"},"
        "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"u1\"}},"
        "\"Key\":{\"id\":{\"S\":\"email#old@x.io\"}},\"TableName\":\"Users\"}},"
        "{\"Put\":{\"ConditionExpression\":\"attribute_not_exists(#n0)\","
        "\"ExpressionAttributeNames\":{\"#n0\":\"id\"},"
        "\"Item\":{\"id\":{\"S\":\"email#new@x.io\"},\"userId\":{\"S\":\"u1\"}},\"TableName\":\"Users\"}}]}");
    json_decref(patch);
}

static void test_delete_user(void)
{
    expect_request(model_delete_user(&T, "u1", 3, "a@x.io", "tok-3"),
                   "{\"ClientRequestToken\":\"tok-3\",\"TransactItems\":["
                   "{\"Delete\":{\"ConditionExpression\":\"#n0 = :v0\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"version\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"N\":\"3\"}},"
                   "\"Key\":{\"id\":{\"S\":\"u1\"}},\"TableName\":\"Users\"}},"
                   "{\"Delete\":{\"ConditionExpression\":\"attribute_not_exists(#n0) OR #n1 = :v0\","
                   "\"ExpressionAttributeNames\":{\"#n0\":\"id\",\"#n1\":\"userId\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"u1\"}},"
                   "\"Key\":{\"id\":{\"S\":\"email#a@x.io\"}},\"TableName\":\"Users\"}}]}");
}

static void test_query_and_scan(void)
{
    expect_request(model_query_email(&T, "a+b@x.io"),
                   "{\"ExpressionAttributeNames\":{\"#n0\":\"email\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"a+b@x.io\"}},"
                   "\"IndexName\":\"email-index\",\"KeyConditionExpression\":\"#n0 = :v0\",\"TableName\":\"Users\"}");
    expect_request(model_scan_users(&T, 25, NULL),
                   "{\"ExpressionAttributeNames\":{\"#n0\":\"email\"},\"FilterExpression\":\"attribute_exists(#n0)\","
                   "\"Limit\":25,\"TableName\":\"Users\"}");
    expect_request(model_scan_users(&T, 1, "0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f"),
                   "{\"ExclusiveStartKey\":{\"id\":{\"S\":\"0b3c6d2e-1f4a-4e5b-9c8d-7a6b5c4d3e2f\"}},"
                   "\"ExpressionAttributeNames\":{\"#n0\":\"email\"},\"FilterExpression\":\"attribute_exists(#n0)\","
                   "\"Limit\":1,\"TableName\":\"Users\"}");
    json_t *req = model_scan_users(&T, 10, NULL);
    CHECK(json_object_get(req, "ExpressionAttributeValues") == NULL);
    json_decref(req);

    const struct model_table other = {"Other.Table-1", "by_email"};
    expect_request(model_query_email(&other, "q@x.io"),
                   "{\"ExpressionAttributeNames\":{\"#n0\":\"email\"},"
                   "\"ExpressionAttributeValues\":{\":v0\":{\"S\":\"q@x.io\"}},"
                   "\"IndexName\":\"by_email\",\"KeyConditionExpression\":\"#n0 = :v0\","
                   "\"TableName\":\"Other.Table-1\"}");
}

static void test_create_table(void)
{
    expect_request(model_create_table(&T),
                   "{\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"},"
                   "{\"AttributeName\":\"email\",\"AttributeType\":\"S\"}],"
                   "\"BillingMode\":\"PAY_PER_REQUEST\","
                   "\"GlobalSecondaryIndexes\":[{\"IndexName\":\"email-index\","
                   "\"KeySchema\":[{\"AttributeName\":\"email\",\"KeyType\":\"HASH\"}],"
                   "\"Projection\":{\"ProjectionType\":\"ALL\"}}],"
                   "\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}],"
                   "\"TableName\":\"Users\"}");
}

static void test_apply_patch(void)
{
    json_t *item = parse("{\"id\":{\"S\":\"u1\"},\"name\":{\"S\":\"Ann\"},\"email\":{\"S\":\"a@x.io\"},"
                         "\"nickname\":{\"S\":\"an\"},\"createdAt\":{\"S\":\"c\"},\"updatedAt\":{\"S\":\"u\"},"
                         "\"version\":{\"N\":\"3\"}}");
    json_t *patch = parse("{\"name\":\"Bo\",\"nickname\":null,\"age\":5,\"absent\":null,"
                          "\"prefs\":{\"x\":[true]}}");
    json_t *out = model_apply_patch(item, patch, NOW);
    CHECK_STR_EQ(dump(out), "{\"age\":{\"N\":\"5\"},\"createdAt\":{\"S\":\"c\"},\"email\":{\"S\":\"a@x.io\"},"
                            "\"id\":{\"S\":\"u1\"},\"name\":{\"S\":\"Bo\"},"
                            "\"prefs\":{\"M\":{\"x\":{\"L\":[{\"BOOL\":true}]}}},"
                            "\"updatedAt\":{\"S\":\"" NOW "\"},\"version\":{\"N\":\"4\"}}");
    /* The input item is untouched. */
    CHECK_STR_EQ(dump(item), "{\"createdAt\":{\"S\":\"c\"},\"email\":{\"S\":\"a@x.io\"},\"id\":{\"S\":\"u1\"},"
                             "\"name\":{\"S\":\"Ann\"},\"nickname\":{\"S\":\"an\"},\"updatedAt\":{\"S\":\"u\"},"
                             "\"version\":{\"N\":\"3\"}}");
    json_decref(out);
    json_decref(patch);

    patch = json_object();
    out = model_apply_patch(item, patch, "t2");
    CHECK_STR_EQ(dump(out), "{\"createdAt\":{\"S\":\"c\"},\"email\":{\"S\":\"a@x.io\"},\"id\":{\"S\":\"u1\"},"
                            "\"name\":{\"S\":\"Ann\"},\"nickname\":{\"S\":\"an\"},\"updatedAt\":{\"S\":\"t2\"},"
                            "\"version\":{\"N\":\"4\"}}");
    json_decref(out);
    json_decref(patch);
    json_decref(item);
}

static void test_expr_builder(void)
{
    struct expr e;
    expr_init(&e);
    const char *a = expr_name(&e, "name");
    const char *b = expr_name(&e, "first-name");
    const char *a2 = expr_name(&e, "name");
    CHECK_STR_EQ(a, "#n0");
    CHECK_STR_EQ(b, "#n1");
    CHECK_STR_EQ(a2, "#n0");
    CHECK_INT_EQ(json_object_size(e.names), 2);
    const char *v0 = expr_value(&e, json_pack("{s:s}", "S", "x"));
    const char *v1 = expr_value(&e, json_pack("{s:s}", "S", "x"));
    CHECK_STR_EQ(v0, ":v0");
    CHECK_STR_EQ(v1, ":v1");
    CHECK_STR_EQ(expr_name(&e, "status"), "#n2");
    /* Earlier placeholders stay valid after more are added. */
    for (int i = 0; i < 40; i++) {
        char n[16];
        snprintf(n, sizeof n, "m%d", i);
        expr_name(&e, n);
        expr_value(&e, json_integer(i));
    }
    CHECK_STR_EQ(a, "#n0");
    CHECK_STR_EQ(b, "#n1");
    CHECK_STR_EQ(v0, ":v0");
    CHECK_STR_EQ(expr_name(&e, "m39"), "#n42");
    json_t *req = json_object();
    CHECK_INT_EQ(expr_attach(&e, req), 0);
    CHECK_INT_EQ(json_object_size(json_object_get(req, "ExpressionAttributeNames")), 43);
    CHECK_INT_EQ(json_object_size(json_object_get(req, "ExpressionAttributeValues")), 42);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(req, "ExpressionAttributeNames"), "#n1")),
                 "first-name");
    expr_clean_up(&e);
    /* The request keeps its own references. */
    CHECK_INT_EQ(json_object_size(json_object_get(req, "ExpressionAttributeNames")), 43);
    json_decref(req);

    /* Nothing used: nothing attached. */
    expr_init(&e);
    req = json_object();
    CHECK_INT_EQ(expr_attach(&e, req), 0);
    CHECK_STR_EQ(dump(req), "{}");
    json_decref(req);
    expr_clean_up(&e);

    /* Names only: only the names map. */
    expr_init(&e);
    expr_name(&e, "id");
    req = json_object();
    CHECK_INT_EQ(expr_attach(&e, req), 0);
    CHECK_STR_EQ(dump(req), "{\"ExpressionAttributeNames\":{\"#n0\":\"id\"}}");
    json_decref(req);
    expr_clean_up(&e);
}

/* version + 1 must stay within int64: a version at INT64_MAX gets no request
 * and no patched item, never a wrapped (or undefined) version. */
static void test_version_limit(void)
{
    json_t *patch = parse("{\"a\":1}");
    json_t *req = model_update_user(&T, "u1", patch, NOW, 9223372036854775806LL);
    CHECK(req != NULL);
    CHECK_STR_EQ(dump(json_object_get(json_object_get(req, "ExpressionAttributeValues"), ":v3")),
                 "{\"N\":\"9223372036854775806\"}");
    json_decref(req);
    CHECK(model_update_user(&T, "u1", patch, NOW, INT64_MAX) == NULL);
    CHECK(model_update_user_email(&T, "u1", patch, NOW, INT64_MAX, "a@x.io", "b@x.io", "tok") == NULL);

    json_t *item = parse("{\"id\":{\"S\":\"u1\"},\"version\":{\"N\":\"9223372036854775806\"}}");
    json_t *out = model_apply_patch(item, patch, NOW);
    CHECK_STR_EQ(dump(json_object_get(out, "version")), "{\"N\":\"9223372036854775807\"}");
    json_decref(out);
    json_decref(item);
    static const char *const stuck[] = {"9223372036854775807", "9223372036854775808", "-1", "x", ""};
    for (size_t i = 0; i < sizeof stuck / sizeof stuck[0]; i++) {
        item = json_pack("{s:{s:s}, s:{s:s}}", "id", "S", "u1", "version", "N", stuck[i]);
        out = model_apply_patch(item, patch, NOW);
        CHECK(out == NULL);
        if (out != NULL)
            fprintf(stderr, "     version \"%s\" was patched\n", stuck[i]);
        json_decref(out);
        json_decref(item);
    }
    json_decref(patch);
}

int main(void)
{
    RUN(test_get_and_describe);
    RUN(test_create_user);
    RUN(test_update_user);
    RUN(test_update_remove_only_and_empty);
    RUN(test_update_email);
    RUN(test_delete_user);
    RUN(test_query_and_scan);
    RUN(test_create_table);
    RUN(test_apply_patch);
    RUN(test_version_limit);
    RUN(test_expr_builder);
    return check_summary();
}
