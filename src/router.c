#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Next path segment starting after a '/'; sets *len; NULL at the end. */
static const char *next_segment(const char *p, size_t *len)
{
    if (*p != '/')
        return NULL;
    p++;
    const char *end = strchr(p, '/');
    *len = end ? (size_t)(end - p) : strlen(p);
    return p;
}

/* Matches one pattern; on success fills params (owned values). Returns 1 on a
 * match, 0 on none. */
static int match_pattern(const char *pattern, const char *path, struct route_params *params)
{
    const char *pp = pattern, *sp = path;
    memset(params, 0, sizeof *params);
    for (;;) {
        size_t plen = 0, slen = 0;
        const char *pseg = next_segment(pp, &plen);
        const char *sseg = next_segment(sp, &slen);
        if (pseg == NULL || sseg == NULL) {
            if (pseg == NULL && sseg == NULL)
                return 1;
            goto no_match;
        }
        if (pseg[0] == ':') {
            if (slen == 0 || params->n == ROUTER_MAX_PARAMS)
                goto no_match;
            char *value = http_percent_decode(sseg, slen);
            if (value == NULL)
                goto no_match;
            params->names[params->n] = pseg + 1;
            params->values[params->n] = value;
            params->n++;
        } else if (plen != slen || memcmp(pseg, sseg, slen) != 0) {
            goto no_match;
        }
        pp = pseg + plen;
        sp = sseg + slen;
    }
no_match:
    for (size_t i = 0; i < params->n; i++)
        free(params->values[i]);
    memset(params, 0, sizeof *params);
    return 0;
}

enum route_status router_match(const struct route *table, size_t n_routes,
                               enum http_method method, const char *path,
                               struct route_match *match)
{
    memset(match, 0, sizeof *match);
    match->status = ROUTE_NOT_FOUND;

    /* Drop one trailing slash (but keep "/" itself). */
    char *trimmed = NULL;
    size_t len = strlen(path);
    if (len > 1 && path[len - 1] == '/') {
        trimmed = strndup(path, len - 1);
        if (trimmed == NULL)
            return match->status;
        path = trimmed;
    }

    enum http_method effective = method == HTTP_HEAD ? HTTP_GET : method;
    /* A pattern repeated on consecutive routes (one per method) is matched, and its params decoded, once. */
    struct route_params params = {0};
    int matched = 0;
    for (size_t i = 0; i < n_routes; i++) {
        if (i == 0 || strcmp(table[i].pattern, table[i - 1].pattern) != 0) {
            for (size_t j = 0; j < params.n; j++) /* not taken by a route */
                free(params.values[j]);
            matched = match_pattern(table[i].pattern, path, &params);
        }
        if (!matched)
            continue;
        match->allowed |= table[i].methods;
        if (match->route == NULL && (table[i].methods & (unsigned)effective)) {
            match->route = &table[i];
            match->params = params; /* taken: the same pattern's later routes need none */
            memset(&params, 0, sizeof params);
        }
    }
    for (size_t j = 0; j < params.n; j++)
        free(params.values[j]);
    free(trimmed);

    if (match->allowed == 0)
        return match->status;
    if (match->allowed & HTTP_GET)
        match->allowed |= HTTP_HEAD;
    match->allowed |= HTTP_OPTIONS;
    match->status = match->route ? ROUTE_FOUND : ROUTE_METHOD_NOT_ALLOWED;
    return match->status;
}

void route_match_clean_up(struct route_match *match)
{
    for (size_t i = 0; i < match->params.n; i++)
        free(match->params.values[i]);
    memset(match, 0, sizeof *match);
}

const char *route_param(const struct route_params *params, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < params->n; i++) {
        const char *n = params->names[i]; /* runs to the end of its pattern segment */
        if (strncmp(n, name, len) == 0 && (n[len] == '\0' || n[len] == '/'))
            return params->values[i];
    }
    return NULL;
}

char *router_allow_header(unsigned methods)
{
    static const struct {
        enum http_method method;
        const char *name;
    } order[] = {
        {HTTP_GET, "GET"},     {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},      {HTTP_PUT, "PUT"},
        {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"}, {HTTP_OPTIONS, "OPTIONS"},
    };
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(methods & (unsigned)order[i].method))
            continue;
        if ((out.len > 0 && buf_append_str(&out, ", ") != 0) ||
            buf_append_str(&out, order[i].name) != 0) {
            buf_clean_up(&out);
            return NULL;
        }
    }
    return buf_steal(&out);
}
