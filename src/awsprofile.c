#include "awsprofile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILE_BYTES (4L * 1024 * 1024)

struct sub {
    char *key;
    char *value;
};

struct prop {
    char *key; /* lower case */
    char *value;
    int empty_valued; /* `key =`: continuations are sub-properties */
    struct sub *subs;
    size_t nsubs;
};

struct section {
    enum awsprofile_section type;
    char *name;
    int has_prefix; /* [profile default] rather than [default] */
    struct prop **props;
    size_t nprops;
};

struct awsprofile_set {
    struct section **sections;
    size_t nsections;
};

static void prop_free(struct prop *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nsubs; i++) {
        free(p->subs[i].key);
        if (p->subs[i].value != NULL)
            explicit_bzero(p->subs[i].value, strlen(p->subs[i].value));
        free(p->subs[i].value);
    }
    free(p->subs);
    free(p->key);
    if (p->value != NULL) /* secrets live here */
        explicit_bzero(p->value, strlen(p->value));
    free(p->value);
    free(p);
}

static void section_clear(struct section *s)
{
    for (size_t i = 0; i < s->nprops; i++)
        prop_free(s->props[i]);
    free(s->props);
    s->props = NULL;
    s->nprops = 0;
}

void awsprofile_set_free(struct awsprofile_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nsections; i++) {
        if (set->sections[i] == NULL)
            continue;
        section_clear(set->sections[i]);
        free(set->sections[i]->name);
        free(set->sections[i]);
    }
    free(set->sections);
    free(set);
}

static struct section *find_section(const struct awsprofile_set *set, enum awsprofile_section type, const char *name,
                                    size_t len)
{
    if (set == NULL)
        return NULL;
    for (size_t i = 0; i < set->nsections; i++) {
        struct section *s = set->sections[i];
        if (s->type == type && strlen(s->name) == len && memcmp(s->name, name, len) == 0)
            return s;
    }
    return NULL;
}

static struct prop *find_prop(const struct section *s, const char *key, size_t len)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->nprops; i++)
        if (strlen(s->props[i]->key) == len && strncasecmp(s->props[i]->key, key, len) == 0)
            return s->props[i];
    return NULL;
}

/* The section (type, name), created when absent. NULL when memory runs out. */
static struct section *add_section(struct awsprofile_set *set, enum awsprofile_section type, const char *name,
                                   size_t len)
{
    struct section *s = find_section(set, type, name, len);
    if (s != NULL)
        return s;
    struct section **grown = realloc(set->sections, (set->nsections + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    set->sections = grown;
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->name = strndup(name, len)) == NULL) {
        free(s);
        return NULL;
    }
    s->type = type;
    set->sections[set->nsections++] = s;
    return s;
}

/* Sets key (lower-cased) to value in s, replacing any earlier one with its sub-properties.
 * Returns the property, or NULL when memory runs out. */
static struct prop *set_prop(struct section *s, const char *key, size_t klen, const char *value, size_t vlen)
{
    struct prop *p = calloc(1, sizeof *p);
    if (p == NULL || (p->key = strndup(key, klen)) == NULL || (p->value = strndup(value, vlen)) == NULL) {
        prop_free(p);
        return NULL;
    }
    for (char *c = p->key; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    p->empty_valued = vlen == 0;
    for (size_t i = 0; i < s->nprops; i++) {
        if (strcmp(s->props[i]->key, p->key) == 0) {
            prop_free(s->props[i]);
            s->props[i] = p;
            return p;
        }
    }
    struct prop **grown = realloc(s->props, (s->nprops + 1) * sizeof *grown);
    if (grown == NULL) {
        prop_free(p);
        return NULL;
    }
    s->props = grown;
    s->props[s->nprops++] = p;
    return p;
}

static int set_sub(struct prop *p, const char *key, size_t klen, const char *value, size_t vlen)
{
    char *k = strndup(key, klen), *v = strndup(value, vlen);
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return -1;
    }
    for (char *c = k; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    for (size_t i = 0; i < p->nsubs; i++) {
        if (strcmp(p->subs[i].key, k) == 0) {
            free(k);
            explicit_bzero(p->subs[i].value, strlen(p->subs[i].value));
            free(p->subs[i].value);
            p->subs[i].value = v;
            return 0;
        }
    }
    struct sub *grown = realloc(p->subs, (p->nsubs + 1) * sizeof *grown);
    if (grown == NULL) {
        free(k);
        free(v);
        return -1;
    }
    p->subs = grown;
    p->subs[p->nsubs++] = (struct sub){k, v};
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_ident(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\\' || c == '_' ||
           c == '-' || c == '/' || c == '.' || c == '%' || c == '@' || c == ':' || c == '+';
}

static int all_ident(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_ident(s[i]))
            return 0;
    return 1;
}

static size_t rtrim(const char *s, size_t len)
{
    while (len > 0 && is_ws(s[len - 1]))
        len--;
    return len;
}

struct parse_ctx {
    struct awsprofile_set *set;
    enum awsprofile_file kind;
    struct section *section; /* NULL before any section or in a skipped one */
    struct prop *prop;       /* the property continuations extend */
    int seen_section;
    int skipping; /* the section or the last property was skipped: so are its continuations */
};

enum { LINE_OK = 0, LINE_FATAL = -1, LINE_NOMEM = -2 };

/* "[" ws? (prefix ws+)? name ws? "]" ... */
static int parse_section_line(struct parse_ctx *cx, const char *line, size_t len, const char **fatal)
{
    size_t end = 0;
    while (end < len && line[end] != '#' && line[end] != ';')
        end++;
    end = rtrim(line, end);
    size_t i = 1;
    cx->seen_section = 1;
    cx->section = NULL;
    cx->prop = NULL;
    cx->skipping = 1;
    while (i < end && is_ws(line[i]))
        i++;
    static const struct {
        const char *word;
        enum awsprofile_section type;
    } prefixes[] = {
        {"profile", AWSPROFILE_SECTION_PROFILE},
        {"services", AWSPROFILE_SECTION_SERVICES},
        {"sso-session", AWSPROFILE_SECTION_SSO_SESSION},
    };
    enum awsprofile_section type = AWSPROFILE_SECTION_PROFILE;
    int has_prefix = 0;
    for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
        size_t wl = strlen(prefixes[p].word);
        if (end - i > wl && memcmp(line + i, prefixes[p].word, wl) == 0 && (line[i + wl] == ' ' || line[i + wl] == '\t')) {
            type = prefixes[p].type;
            has_prefix = 1;
            i += wl;
            while (i < end && is_ws(line[i]))
                i++;
            break;
        }
    }
    if (has_prefix && cx->kind == AWSPROFILE_CREDENTIALS)
        return LINE_OK; /* `[profile x]` in the credentials file: skipped */
    size_t name = i;
    while (i < end && is_ident(line[i]))
        i++;
    size_t name_len = i - name;
    if (name_len == 0)
        return LINE_OK;
    int is_default = name_len == 7 && memcmp(line + name, "default", 7) == 0;
    if (cx->kind == AWSPROFILE_CONFIG && !has_prefix && !is_default)
        return LINE_OK;
    while (i < end && is_ws(line[i]))
        i++;
    size_t close = i;
    while (close < end && line[close] != ']')
        close++;
    if (close == end) {
        *fatal = "a section line without ']'";
        return LINE_FATAL;
    }
    if (close != i)
        return LINE_OK; /* more than one word, or other characters: an invalid name */

    struct section *existing = find_section(cx->set, type, line + name, name_len);
    if (type == AWSPROFILE_SECTION_PROFILE && cx->kind == AWSPROFILE_CONFIG && is_default && existing != NULL) {
        if (!has_prefix && existing->has_prefix)
            return LINE_OK; /* [profile default] seen before: this [default] is ignored */
        if (has_prefix && !existing->has_prefix)
            section_clear(existing); /* [profile default] replaces an earlier [default] */
    }
    struct section *s = add_section(cx->set, type, line + name, name_len);
    if (s == NULL)
        return LINE_NOMEM;
    if (has_prefix && type == AWSPROFILE_SECTION_PROFILE)
        s->has_prefix = 1;
    cx->section = s;
    cx->skipping = 0;
    return LINE_OK;
}

static int parse_continuation(struct parse_ctx *cx, const char *line, size_t len, const char **fatal)
{
    len = rtrim(line, len);
    size_t i = 0;
    while (i < len && is_ws(line[i]))
        i++;
    if (cx->skipping && cx->seen_section)
        return LINE_OK;
    if (cx->prop == NULL) {
        *fatal = "an indented line with no property above it";
        return LINE_FATAL;
    }
    struct prop *p = cx->prop;
    size_t old = strlen(p->value);
    char *joined = malloc(old + 1 + (len - i) + 1);
    if (joined == NULL)
        return LINE_NOMEM;
    memcpy(joined, p->value, old);
    joined[old] = '\n';
    memcpy(joined + old + 1, line + i, len - i);
    joined[old + 1 + len - i] = '\0';
    explicit_bzero(p->value, old);
    free(p->value);
    p->value = joined;
    if (!p->empty_valued)
        return LINE_OK;
    const char *eq = memchr(line + i, '=', len - i);
    if (eq == NULL) {
        *fatal = "a sub-property without '='";
        return LINE_FATAL;
    }
    size_t key_len = rtrim(line + i, (size_t)(eq - (line + i)));
    if (!all_ident(line + i, key_len))
        return LINE_OK;
    const char *v = eq + 1;
    while (v < line + len && is_ws(*v))
        v++;
    return set_sub(p, line + i, key_len, v, (size_t)(line + len - v)) == 0 ? LINE_OK : LINE_NOMEM;
}

static int parse_property(struct parse_ctx *cx, const char *line, size_t len, const char **fatal)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if ((line[i] == ' ' || line[i] == '\t') && (line[i + 1] == '#' || line[i + 1] == ';')) {
            len = i;
            break;
        }
    }
    len = rtrim(line, len);
    cx->prop = NULL;
    const char *eq = memchr(line, '=', len);
    if (eq == NULL) {
        *fatal = "not a section, a comment or 'key = value'";
        return LINE_FATAL;
    }
    if (!cx->seen_section) {
        *fatal = "a property before any section";
        return LINE_FATAL;
    }
    size_t key_len = rtrim(line, (size_t)(eq - line));
    if (cx->section == NULL || !all_ident(line, key_len)) {
        cx->skipping = 1;
        return LINE_OK;
    }
    const char *v = eq + 1;
    while (v < line + len && is_ws(*v))
        v++;
    cx->prop = set_prop(cx->section, line, key_len, v, (size_t)(line + len - v));
    cx->skipping = 0;
    return cx->prop != NULL ? LINE_OK : LINE_NOMEM;
}

struct awsprofile_set *awsprofile_parse(const char *text, size_t len, enum awsprofile_file kind, struct buf *err)
{
    struct parse_ctx cx = {.kind = kind};
    cx.set = calloc(1, sizeof *cx.set);
    if (cx.set == NULL) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    size_t pos = 0;
    int number = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        number++;
        while (n > 0 && line[n - 1] == '\r')
            n--;
        size_t first = 0;
        while (first < n && is_ws(line[first]))
            first++;
        if (first == n || line[0] == '#' || line[0] == ';')
            continue;
        const char *fatal = NULL;
        int rc;
        if (line[0] == '[')
            rc = parse_section_line(&cx, line, n, &fatal);
        else if (line[0] == ' ' || line[0] == '\t')
            rc = parse_continuation(&cx, line, n, &fatal);
        else
            rc = parse_property(&cx, line, n, &fatal);
        if (rc != LINE_OK) {
            if (rc == LINE_FATAL)
                buf_printf(err, "line %d: %s", number, fatal);
            else
                buf_append_str(err, "out of memory");
            awsprofile_set_free(cx.set);
            return NULL;
        }
    }
    return cx.set;
}

struct awsprofile_set *awsprofile_load_file(const char *path, enum awsprofile_file kind, struct buf *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return awsprofile_parse("", 0, kind, err);
        buf_printf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct buf text = BUF_INIT;
    char chunk[4096];
    size_t n;
    int failed = 0;
    while (!failed && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (text.len + n > (size_t)MAX_FILE_BYTES) {
            buf_printf(err, "%s: larger than %ld bytes", path, MAX_FILE_BYTES);
            failed = 1;
        } else if (buf_append(&text, chunk, n) != 0) {
            buf_printf(err, "%s: out of memory", path);
            failed = 1;
        }
    }
    if (!failed && ferror(f)) {
        buf_printf(err, "%s: %s", path, strerror(errno ? errno : EIO));
        failed = 1;
    }
    fclose(f);
    struct awsprofile_set *set = NULL;
    if (!failed) {
        struct buf perr = BUF_INIT;
        set = awsprofile_parse(text.data ? text.data : "", text.len, kind, &perr);
        if (set == NULL)
            buf_printf(err, "%s: %s", path, buf_cstr(&perr));
        buf_clean_up(&perr);
    }
    if (text.data != NULL)
        explicit_bzero(text.data, text.len);
    buf_clean_up(&text);
    return set;
}

/* Lays src's sections over dest's. Returns 0 or -1 (out of memory). */
static int merge_into(struct awsprofile_set *dest, const struct awsprofile_set *src)
{
    if (src == NULL)
        return 0;
    for (size_t i = 0; i < src->nsections; i++) {
        const struct section *from = src->sections[i];
        struct section *to = add_section(dest, from->type, from->name, strlen(from->name));
        if (to == NULL)
            return -1;
        to->has_prefix = to->has_prefix || from->has_prefix;
        for (size_t j = 0; j < from->nprops; j++) {
            const struct prop *fp = from->props[j];
            struct prop *tp = find_prop(to, fp->key, strlen(fp->key));
            if (tp != NULL) {
                char *v = strdup(fp->value);
                if (v == NULL)
                    return -1;
                explicit_bzero(tp->value, strlen(tp->value));
                free(tp->value);
                tp->value = v;
                tp->empty_valued = fp->empty_valued;
            } else if ((tp = set_prop(to, fp->key, strlen(fp->key), fp->value, strlen(fp->value))) == NULL) {
                return -1;
            }
            for (size_t k = 0; k < fp->nsubs; k++)
                if (set_sub(tp, fp->subs[k].key, strlen(fp->subs[k].key), fp->subs[k].value,
                            strlen(fp->subs[k].value)) != 0)
                    return -1;
        }
    }
    return 0;
}

struct awsprofile_set *awsprofile_merge(const struct awsprofile_set *config, const struct awsprofile_set *credentials)
{
    struct awsprofile_set *set = calloc(1, sizeof *set);
    if (set == NULL || merge_into(set, config) != 0 || merge_into(set, credentials) != 0) {
        awsprofile_set_free(set);
        return NULL;
    }
    return set;
}

int awsprofile_exists(const struct awsprofile_set *set, enum awsprofile_section type, const char *name)
{
    return name != NULL && find_section(set, type, name, strlen(name)) != NULL;
}

const char *awsprofile_get(const struct awsprofile_set *set, const char *profile, const char *key)
{
    if (profile == NULL || key == NULL)
        return NULL;
    const struct prop *p =
        find_prop(find_section(set, AWSPROFILE_SECTION_PROFILE, profile, strlen(profile)), key, strlen(key));
    return p ? p->value : NULL;
}

const char *awsprofile_get_sub(const struct awsprofile_set *set, enum awsprofile_section type, const char *name,
                               const char *key, const char *subkey)
{
    if (name == NULL || key == NULL || subkey == NULL)
        return NULL;
    const struct prop *p = find_prop(find_section(set, type, name, strlen(name)), key, strlen(key));
    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < p->nsubs; i++)
        if (strcasecmp(p->subs[i].key, subkey) == 0)
            return p->subs[i].value;
    return NULL;
}

const char *awsprofile_service_get(const struct awsprofile_set *set, const char *profile, const char *service,
                                   const char *key)
{
    const char *services = awsprofile_get(set, profile, "services");
    if (services == NULL || *services == '\0')
        return NULL;
    return awsprofile_get_sub(set, AWSPROFILE_SECTION_SERVICES, services, service, key);
}

int awsprofile_expand_home(const char *path, const char *home, struct buf *out)
{
    if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
        if (home == NULL || *home == '\0')
            return -1;
        return buf_concat(out, home, path + 1);
    }
    return buf_append_str(out, path);
}

static const char *env_get(const char *(*lookup)(const char *, void *), void *ctx, const char *name)
{
    const char *v = lookup(name, ctx);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* The expanded path of variable's file (or fallback's), or NULL when it needs a HOME there is not.
 * Returns 0 or -1 (out of memory). */
static int file_path(const char *(*lookup)(const char *, void *), void *ctx, const char *variable,
                     const char *fallback, char **out)
{
    const char *v = env_get(lookup, ctx, variable);
    struct buf path = BUF_INIT;
    *out = NULL;
    if (awsprofile_expand_home(v ? v : fallback, env_get(lookup, ctx, "HOME"), &path) != 0) {
        buf_clean_up(&path);
        return 0;
    }
    *out = buf_steal(&path);
    return *out != NULL ? 0 : -1;
}

int awsprofile_files_load(struct awsprofile_files *files, const char *(*lookup)(const char *name, void *ctx),
                          void *ctx, struct buf *err)
{
    memset(files, 0, sizeof *files);
    const char *profile = env_get(lookup, ctx, "AWS_PROFILE");
    files->profile_from_env = profile != NULL;
    files->profile = strdup(profile ? profile : "default");
    if (files->profile == NULL ||
        file_path(lookup, ctx, "AWS_CONFIG_FILE", "~/.aws/config", &files->config_path) != 0 ||
        file_path(lookup, ctx, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", &files->credentials_path) != 0) {
        buf_append_str(err, "out of memory reading the AWS profile files");
        return -1;
    }
    struct awsprofile_set *config = NULL, *credentials = NULL;
    int rc = -1;
    if (files->config_path != NULL &&
        (config = awsprofile_load_file(files->config_path, AWSPROFILE_CONFIG, err)) == NULL)
        goto done;
    if (files->credentials_path != NULL &&
        (credentials = awsprofile_load_file(files->credentials_path, AWSPROFILE_CREDENTIALS, err)) == NULL)
        goto done;
    if ((files->set = awsprofile_merge(config, credentials)) == NULL) {
        buf_append_str(err, "out of memory reading the AWS profile files");
        goto done;
    }
    rc = 0;
done:
    awsprofile_set_free(config);
    awsprofile_set_free(credentials);
    return rc;
}

void awsprofile_files_clean_up(struct awsprofile_files *files)
{
    free(files->profile);
    free(files->config_path);
    free(files->credentials_path);
    awsprofile_set_free(files->set);
    memset(files, 0, sizeof *files);
}

/* The value of key in profile when set and non-empty, else NULL. */
static const char *setting(const struct awsprofile_set *set, const char *profile, const char *key)
{
    const char *v = awsprofile_get(set, profile, key);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* Fills step with profile's static keys. Returns 1 when it has them, 0 when it has none, -1 for
 * a key id without its secret (err names the profile, never a value). */
static int static_keys(const struct awsprofile_set *set, const char *profile, struct awsprofile_step *step,
                       const char *top, struct buf *err)
{
    const char *akid = setting(set, profile, "aws_access_key_id");
    if (akid == NULL)
        return 0;
    const char *secret = setting(set, profile, "aws_secret_access_key");
    if (secret == NULL) {
        if (strcmp(top, profile) == 0)
            buf_printf(err, "profile %s: aws_access_key_id without aws_secret_access_key", top);
        else
            buf_printf(err, "profile %s: its source_profile %s has aws_access_key_id without aws_secret_access_key",
                       top, profile);
        return -1;
    }
    *step = (struct awsprofile_step){.kind = AWSPROFILE_STATIC,
                                     .profile = profile,
                                     .access_key_id = akid,
                                     .secret_access_key = secret,
                                     .session_token = setting(set, profile, "aws_session_token")};
    return 1;
}

int awsprofile_resolve_credentials(const struct awsprofile_set *set, const char *top,
                                   struct awsprofile_chain *chain, struct buf *err)
{
    memset(chain, 0, sizeof *chain);
    struct awsprofile_step roles[AWSPROFILE_MAX_CHAIN];
    const char *visited[AWSPROFILE_MAX_CHAIN + 1];
    size_t nroles = 0, nvisited = 0;
    struct awsprofile_step base;
    const char *name = top;
    for (;;) {
        for (size_t i = 0; i < nvisited; i++) {
            if (strcmp(visited[i], name) == 0) {
                buf_printf(err, "profile %s: source_profile loop: ", top);
                for (size_t j = 0; j < nvisited; j++)
                    buf_concat(err, visited[j], " -> ");
                buf_append_str(err, name);
                return -1;
            }
        }
        visited[nvisited++] = name;
        const struct section *section = find_section(set, AWSPROFILE_SECTION_PROFILE, name, strlen(name));
        if (section == NULL) {
            if (name == top)
                return 0;
            buf_printf(err, "profile %s: source_profile '%s' does not exist", top, name);
            return -1;
        }
        const char *role_arn = setting(set, name, "role_arn");
        if (role_arn != NULL) {
            const char *source = setting(set, name, "source_profile");
            const char *cred_source = setting(set, name, "credential_source");
            const char *token_file = setting(set, name, "web_identity_token_file");
            if (source != NULL && cred_source != NULL) {
                buf_printf(err, "profile %s: source_profile and credential_source are both set", top);
                return -1;
            }
            if (source == NULL && cred_source == NULL) {
                if (token_file == NULL) {
                    buf_printf(err, "profile %s: role_arn needs source_profile, credential_source or "
                                    "web_identity_token_file", top);
                    return -1;
                }
                base = (struct awsprofile_step){.kind = AWSPROFILE_WEB_IDENTITY,
                                                .profile = name,
                                                .role_arn = role_arn,
                                                .role_session_name = setting(set, name, "role_session_name"),
                                                .web_identity_token_file = token_file};
                break;
            }
            if (nroles == AWSPROFILE_MAX_CHAIN - 1) {
                buf_printf(err, "profile %s: source_profile chain longer than %d profiles", top, AWSPROFILE_MAX_CHAIN);
                return -1;
            }
            roles[nroles++] = (struct awsprofile_step){.kind = AWSPROFILE_ASSUME_ROLE,
                                                       .profile = name,
                                                       .role_arn = role_arn,
                                                       .role_session_name = setting(set, name, "role_session_name"),
                                                       .external_id = setting(set, name, "external_id")};
            if (cred_source != NULL) {
                if (strcmp(cred_source, "Environment") != 0 && strcmp(cred_source, "Ec2InstanceMetadata") != 0 &&
                    strcmp(cred_source, "EcsContainer") != 0) {
                    buf_printf(err, "profile %s: credential_source '%s' is not Environment, Ec2InstanceMetadata "
                                    "or EcsContainer", top, cred_source);
                    return -1;
                }
                base = (struct awsprofile_step){
                    .kind = AWSPROFILE_CREDENTIAL_SOURCE, .profile = name, .credential_source = cred_source};
                break;
            }
            if (strcmp(source, name) == 0) {
                /* The SDKs' one allowed self-reference: this profile's keys assume this profile's role. */
                int rc = static_keys(set, name, &base, top, err);
                if (rc < 0)
                    return -1;
                if (rc == 0) {
                    buf_printf(err, "profile %s: source_profile names itself but it has no static keys", top);
                    return -1;
                }
                break;
            }
            name = source;
            continue;
        }
        int rc = static_keys(set, name, &base, top, err);
        if (rc < 0)
            return -1;
        if (rc > 0)
            break;
        const char *process = setting(set, name, "credential_process");
        if (process != NULL) {
            base = (struct awsprofile_step){
                .kind = AWSPROFILE_PROCESS, .profile = name, .credential_process = process};
            break;
        }
        if (setting(set, name, "sso_session") != NULL || setting(set, name, "sso_start_url") != NULL) {
            buf_printf(err, "profile %s: SSO (IAM Identity Center) profiles are not supported; use "
                            "`aws configure export-credentials` or another source", top);
            return -1;
        }
        if (name == top)
            return 0;
        buf_printf(err, "profile %s: source_profile '%s' has no credentials", top, name);
        return -1;
    }
    chain->steps[chain->len++] = base;
    while (nroles > 0)
        chain->steps[chain->len++] = roles[--nroles];
    return 0;
}
