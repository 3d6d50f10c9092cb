#include "user.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrval.h"
#include "jsontext.h"

static void add_error(struct field_errors *errs, const char *field, size_t field_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_error(struct field_errors *errs, const char *field, size_t field_len, const char *fmt, ...)
{
    if (errs->n == USER_MAX_FIELD_ERRORS)
        return;
    struct field_error *e = &errs->items[errs->n++];
    if (field_len >= sizeof e->field)
        field_len = sizeof e->field - 4;
    snprintf(e->field, sizeof e->field, "%.*s%s", (int)field_len, field,
             field_len < strlen(field) ? "..." : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

int user_is_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return s[36] == '\0';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims ASCII white space: sets *start and returns the trimmed length. */
static size_t trim(const char *s, size_t len, const char **start)
{
    while (len > 0 && is_space(*s))
        s++, len--;
    while (len > 0 && is_space(s[len - 1]))
        len--;
    *start = s;
    return len;
}

static int domain_ok(const char *d, size_t len)
{
    size_t labels = 0, label_len = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? d[i] : '.';
        if (c == '.') {
            if (label_len == 0 || label_len > 63 || d[i - 1] == '-' || d[i - label_len] == '-')
                return 0;
            labels++;
            label_len = 0;
        } else if (isalnum((unsigned char)c) || c == '-') {
            label_len++;
        } else {
            return 0;
        }
    }
    return labels >= 2;
}

int user_normalize_email(const char *in, size_t len, char out[USER_EMAIL_MAX + 1])
{
    const char *s;
    len = trim(in, len, &s);
    if (len < 3 || len > USER_EMAIL_MAX)
        return -1;
    size_t at = len;
    for (size_t i = 0; i < len; i++) {
        char c = (char)tolower((unsigned char)s[i]);
        if (c == '@') {
            if (at != len)
                return -1;
            at = i;
        } else if (!isalnum((unsigned char)c) && (c == '\0' || strchr("!#$%&'*+/=?^_`{|}~.-", c) == NULL)) {
            return -1;
        }
        out[i] = c;
    }
    out[len] = '\0';
    if (at == len || at == 0 || at > 64 || out[0] == '.' || out[at - 1] == '.' || strstr(out, "..") != NULL)
        return -1;
    return domain_ok(out + at + 1, len - at - 1) ? 0 : -1;
}

int user_member_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > USER_MEMBER_NAME_MAX || !isalpha((unsigned char)name[0]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return 0;
    return 1;
}

int user_member_is_managed(const char *name)
{
    return strcmp(name, "id") == 0 || strcmp(name, "createdAt") == 0 || strcmp(name, "updatedAt") == 0 ||
           strcmp(name, "version") == 0;
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Checks one member of a create body or patch and returns its normalised
 * value as a new reference (a JSON value, not yet an AttributeValue), or NULL
 * with an error added. A null value is returned as json_null(). */
static json_t *normalize_member(const char *key, size_t key_len, const json_t *value, int is_patch,
                                struct field_errors *errs)
{
    if (strlen(key) != key_len || !user_member_name_ok(key, key_len)) {
        add_error(errs, key, key_len, "member names are 1-64 letters, digits, '_' or '-', starting with a letter");
        return NULL;
    }
    if (user_member_is_managed(key)) {
        add_error(errs, key, key_len, "is set by the server and cannot be written");
        return NULL;
    }
    int is_name = strcmp(key, "name") == 0, is_email = strcmp(key, "email") == 0;
    if ((is_name || is_email) && json_is_null(value) && is_patch) {
        add_error(errs, key, key_len, "cannot be removed");
        return NULL;
    }
    if (is_name) {
        const char *s;
        size_t len;
        if (!json_is_string(value) || (len = trim(json_string_value(value), json_string_length(value), &s)) == 0 ||
            utf8_chars(s, len) > USER_NAME_MAX) {
            add_error(errs, key, key_len, "must be a string of 1-256 characters");
            return NULL;
        }
        return json_stringn(s, len);
    }
    if (is_email) {
        char email[USER_EMAIL_MAX + 1];
        if (!json_is_string(value) ||
            user_normalize_email(json_string_value(value), json_string_length(value), email) != 0) {
            add_error(errs, key, key_len, "must be a valid email address of at most 254 characters");
            return NULL;
        }
        return json_string(email);
    }
    const char *why;
    json_t *av = av_from_json(value, &why); /* checks numbers and depth */
    if (av == NULL) {
        add_error(errs, key, key_len, "%s", why);
        return NULL;
    }
    json_decref(av);
    return json_incref((json_t *)value);
}

static void text_error(void *ctx, const char *path, const char *why)
{
    add_error(ctx, path, strlen(path), "%s", why);
}

int user_check_text(const char *text, size_t len, struct field_errors *errs)
{
    return av_check_text(text, len, text_error, errs) > 0 ? -1 : 0;
}

json_t *user_patch_normalize(const json_t *patch, struct field_errors *errs)
{
    if (json_object_size(patch) > USER_PATCH_MAX_MEMBERS) {
        add_error(errs, "(body)", 6, "a patch may change at most %d members", USER_PATCH_MAX_MEMBERS);
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach((json_t *)patch, key, key_len, value) {
        json_t *normal = normalize_member(key, key_len, value, 1, errs);
        if (normal != NULL)
            json_object_setn_new(out, key, key_len, normal);
    }
    if (errs->n > 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *user_item_from_create(const json_t *body, const char *id, const char *now, struct field_errors *errs)
{
    json_t *item = json_object();
    json_object_set_new(item, "id", json_pack("{s:s}", "S", id));
    if (json_object_get(body, "name") == NULL || json_is_null(json_object_get(body, "name")))
        add_error(errs, "name", 4, "is required");
    if (json_object_get(body, "email") == NULL || json_is_null(json_object_get(body, "email")))
        add_error(errs, "email", 5, "is required");
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach((json_t *)body, key, key_len, value) {
        if (json_is_null(value) && strlen(key) == key_len && !user_member_is_managed(key))
            continue; /* null members are dropped on create */
        json_t *normal = normalize_member(key, key_len, value, 0, errs);
        if (normal == NULL)
            continue;
        const char *why;
        json_t *av = av_from_json(normal, &why);
        json_decref(normal);
        if (av != NULL)
            json_object_setn_new(item, key, key_len, av);
    }
    json_object_set_new(item, "createdAt", json_pack("{s:s}", "S", now));
    json_object_set_new(item, "updatedAt", json_pack("{s:s}", "S", now));
    json_object_set_new(item, "version", json_pack("{s:s}", "N", "1"));
    if (errs->n > 0) {
        json_decref(item);
        return NULL;
    }
    return item;
}

static int write_member(struct buf *out, const char *key, size_t key_len, const json_t *av, int *first)
{
    if ((!*first && buf_append_char(out, ',') != 0) || json_write_string(out, key, key_len) != 0 ||
        buf_append_char(out, ':') != 0 || av_write_json(out, av) != 0)
        return -1;
    *first = 0;
    return 0;
}

/* The members written in a fixed place: id, name, email first, createdAt, updatedAt, version last. */
static const char *const placed[] = {"id", "name", "email", "createdAt", "updatedAt", "version"};

/* placed's index of a key, or -1 for a client's member. Keys never hold a NUL (jsonread refuses \u0000 and
 * client names are checked), so a key is one of these exactly when its length and bytes are. */
static int placed_index(const char *key, size_t len)
{
    switch (len) {
    case 2: return memcmp(key, "id", 2) == 0 ? 0 : -1;
    case 4: return memcmp(key, "name", 4) == 0 ? 1 : -1;
    case 5: return memcmp(key, "email", 5) == 0 ? 2 : -1;
    case 7: return memcmp(key, "version", 7) == 0 ? 5 : -1;
    case 9: return memcmp(key, "createdAt", 9) == 0 ? 3 : memcmp(key, "updatedAt", 9) == 0 ? 4 : -1;
    default: return -1;
    }
}

int user_write_json(struct buf *out, const json_t *item)
{
    /* Two walks over the members rather than six lookups by name and a string comparison chain per member:
     * a fifth of the writer's cost on a list page. */
    const json_t *at[6] = {NULL};
    int first = 1;
    const char *key;
    size_t key_len;
    json_t *av;
    if (!json_is_object(item) || buf_append_char(out, '{') != 0)
        return -1;
    json_object_keylen_foreach((json_t *)item, key, key_len, av) {
        int i = placed_index(key, key_len);
        if (i >= 0)
            at[i] = av;
    }
    for (size_t i = 0; i < 3; i++)
        if (at[i] != NULL && write_member(out, placed[i], strlen(placed[i]), at[i], &first) != 0)
            return -1;
    json_object_keylen_foreach((json_t *)item, key, key_len, av) {
        if (placed_index(key, key_len) < 0 && write_member(out, key, key_len, av, &first) != 0)
            return -1;
    }
    for (size_t i = 3; i < 6; i++)
        if (at[i] != NULL && write_member(out, placed[i], strlen(placed[i]), at[i], &first) != 0)
            return -1;
    return buf_append_char(out, '}');
}

long long user_item_version(const json_t *item)
{
    const char *text = json_string_value(json_object_get(json_object_get(item, "version"), "N"));
    if (text == NULL)
        return -1;
    if (*text < '0' || *text > '9') /* strtoll would take "", " 5" and "+5" */
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    return *end == '\0' && errno != ERANGE ? v : -1; /* never the clamped INT64_MAX */
}

const char *user_item_string(const json_t *item, const char *name)
{
    return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

int user_item_is_user(const json_t *item)
{
    const char *id = user_item_string(item, "id");
    return id != NULL && user_item_string(item, "email") != NULL && strncmp(id, "email#", 6) != 0;
}
