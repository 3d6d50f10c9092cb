#include "cors.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_scheme_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

static int is_host_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

static int default_port(const char *scheme, size_t len, unsigned long port)
{
    return (len == 4 && strncmp(scheme, "http", 4) == 0 && port == 80) ||
           (len == 5 && strncmp(scheme, "https", 5) == 0 && port == 443);
}

static void append_lower(struct buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf_append_char(out, (char)tolower((unsigned char)s[i]));
}

/* Validates a host name (not an IPv6 literal): labels of host characters, none empty. */
static int host_name_ok(const char *host, size_t len)
{
    if (len == 0 || host[0] == '.' || host[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_host_char(host[i]) || (host[i] == '.' && host[i + 1] == '.'))
            return 0;
    return 1;
}

/* The port in text[0..len): 1-65535 in decimal (leading zeros allowed, as URL parsers do). */
static int parse_port(const char *text, size_t len, unsigned long *port)
{
    unsigned long v = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        v = v * 10 + (unsigned long)(text[i] - '0');
        if (v > 65535)
            return -1;
    }
    if (v == 0)
        return -1;
    *port = v;
    return 0;
}

int cors_normalise_origin(const char *text, size_t len, struct buf *out, struct buf *why)
{
    const char *reason = NULL;
    if (len == 0) {
        reason = "is empty";
        goto refused;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] <= ' ' || text[i] == 0x7f) {
            reason = "has a space or a control character (CR, LF ...)";
            goto refused;
        }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] >= 0x80) {
            reason = "has a non-ASCII character (write the host in its xn-- form)";
            goto refused;
        }
    if (len == 4 && strncasecmp(text, "null", 4) == 0) {
        reason = "is 'null', which sandboxed frames and file:// pages of any site send";
        goto refused;
    }
    if (memchr(text, '*', len) != NULL) {
        reason = "has a wildcard: list each origin";
        goto refused;
    }
    const char *sep = NULL;
    for (size_t i = 0; i + 3 <= len; i++)
        if (memcmp(text + i, "://", 3) == 0) {
            sep = text + i;
            break;
        }
    size_t scheme_len = sep != NULL ? (size_t)(sep - text) : 0;
    if (scheme_len == 0) {
        reason = "has no scheme (scheme://host[:port])";
        goto refused;
    }
    if (!isalpha((unsigned char)text[0])) {
        reason = "has a malformed scheme";
        goto refused;
    }
    for (size_t i = 0; i < scheme_len; i++)
        if (!is_scheme_char(text[i])) {
            reason = "has a malformed scheme";
            goto refused;
        }
    const char *auth = sep + 3, *end = text + len;
    size_t auth_len = len - scheme_len - 3; /* end - auth, which the compiler cannot see is not negative */
    for (const char *p = auth; p < end; p++) {
        if (*p == '/') {
            reason = "has a path (an origin is scheme://host[:port], no trailing slash)";
            goto refused;
        }
        if (*p == '?') {
            reason = "has a query";
            goto refused;
        }
        if (*p == '#') {
            reason = "has a fragment";
            goto refused;
        }
    }
    if (memchr(auth, '@', auth_len) != NULL) {
        reason = "has user information";
        goto refused;
    }

    const char *host = auth, *host_end, *after;
    char ipv6[INET6_ADDRSTRLEN] = "";
    if (host < end && *host == '[') {
        host_end = memchr(host, ']', auth_len);
        struct in6_addr addr;
        char literal[INET6_ADDRSTRLEN];
        size_t literal_len = host_end != NULL ? (size_t)(host_end - host - 1) : 0;
        if (host_end == NULL || literal_len == 0 || literal_len >= sizeof literal) {
            reason = "has a malformed IPv6 address";
            goto refused;
        }
        memcpy(literal, host + 1, literal_len);
        literal[literal_len] = '\0';
        if (inet_pton(AF_INET6, literal, &addr) != 1 || inet_ntop(AF_INET6, &addr, ipv6, sizeof ipv6) == NULL) {
            reason = "has a malformed IPv6 address";
            goto refused;
        }
        after = host_end + 1;
    } else {
        host_end = memchr(host, ':', auth_len);
        if (host_end == NULL)
            host_end = end;
        after = host_end;
        if (host_end == host) {
            reason = "has no host";
            goto refused;
        }
        if (!host_name_ok(host, (size_t)(host_end - host))) {
            reason = "has a malformed host";
            goto refused;
        }
    }
    unsigned long port = 0;
    if (after < end && (*after != ':' || parse_port(after + 1, (size_t)(end - after - 1), &port) != 0)) {
        reason = "has a bad port (1-65535)";
        goto refused;
    }

    append_lower(out, text, scheme_len);
    buf_append_str(out, "://");
    if (ipv6[0] != '\0')
        buf_concat(out, "[", ipv6, "]");
    else
        append_lower(out, host, (size_t)(host_end - host));
    if (port != 0 && !default_port(text, scheme_len, port))
        buf_printf(out, ":%lu", port);
    return 0;

refused:
    buf_append_str(why, reason);
    return -1;
}

/* 1 when every byte of s[0..len) is printable ASCII: safe to quote in a log line. */
static int printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static size_t trimmed(const char **s, size_t len)
{
    while (len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        len--;
    }
    while (len > 0 && ((*s)[len - 1] == ' ' || (*s)[len - 1] == '\t'))
        len--;
    return len;
}

int cors_parse(struct cors *cors, const char *var, const char *origins, int credentials, struct buf *err)
{
    memset(cors, 0, sizeof *cors);
    if (origins == NULL || *origins == '\0') {
        if (credentials) {
            buf_printf(err, "CORS_ALLOW_CREDENTIALS=true needs %s (the origins allowed to send credentials)", var);
            return -1;
        }
        return 0;
    }
    const char *whole = origins;
    size_t whole_len = trimmed(&whole, strlen(origins));
    if (whole_len == 1 && *whole == '*') {
        if (credentials) {
            buf_printf(err, "CORS_ALLOW_CREDENTIALS=true cannot go with %s=* (browsers refuse credentials from a "
                            "wildcard): list the origins", var);
            return -1;
        }
        cors->mode = CORS_ANY;
        return 0;
    }

    size_t n = 1;
    for (const char *p = origins; *p != '\0'; p++)
        n += *p == ',';
    cors->origins = calloc(n, sizeof *cors->origins);
    if (cors->origins == NULL)
        goto no_memory;
    struct buf one = BUF_INIT, why = BUF_INIT;
    const char *item = origins;
    for (size_t i = 0; i < n; i++) {
        const char *comma = strchr(item, ',');
        size_t item_len = comma != NULL ? (size_t)(comma - item) : strlen(item);
        const char *next = comma != NULL ? comma + 1 : item + item_len;
        item_len = trimmed(&item, item_len);
        buf_reset(&one);
        buf_reset(&why);
        if (item_len == 0) {
            buf_printf(err, "%s: entry %zu is empty", var, i + 1);
        } else if (item_len == 1 && *item == '*') {
            buf_printf(err, "%s: '*' must be the only value", var);
        } else if (cors_normalise_origin(item, item_len, &one, &why) != 0) {
            if (printable(item, item_len) && item_len <= 200)
                buf_printf(err, "%s: entry %zu '%.*s' is not an origin: %s", var, i + 1, (int)item_len, item,
                           buf_cstr(&why));
            else
                buf_printf(err, "%s: entry %zu is not an origin: %s", var, i + 1, buf_cstr(&why));
        } else if ((cors->origins[i] = buf_steal(&one)) == NULL) {
            buf_append_str(err, "out of memory reading configuration");
        }
        if (cors->origins[i] == NULL) {
            buf_clean_up(&one);
            buf_clean_up(&why);
            cors_clean_up(cors);
            return -1;
        }
        cors->n_origins = i + 1;
        item = next;
    }
    buf_clean_up(&one);
    buf_clean_up(&why);
    cors->mode = CORS_LIST;
    cors->credentials = credentials != 0;
    return 0;

no_memory:
    buf_append_str(err, "out of memory reading configuration");
    cors_clean_up(cors);
    return -1;
}

void cors_clean_up(struct cors *cors)
{
    for (size_t i = 0; i < cors->n_origins; i++)
        free(cors->origins[i]);
    free(cors->origins);
    memset(cors, 0, sizeof *cors);
}

static int listed(const struct cors *cors, const char *origin)
{
    for (size_t i = 0; i < cors->n_origins; i++)
        if (strcmp(cors->origins[i], origin) == 0)
            return 1;
    return 0;
}

void cors_headers(const struct cors *cors, const char *origin, const char *preflight_methods,
                  cors_add_header_fn add, void *ctx)
{
    if (cors->mode == CORS_OFF)
        return;
    if (cors->mode == CORS_LIST) {
        add(ctx, "Vary", "Origin"); /* on every answer: it depends on Origin even when refused */
        if (origin == NULL || !listed(cors, origin))
            return;
        add(ctx, "Access-Control-Allow-Origin", origin);
        if (cors->credentials)
            add(ctx, "Access-Control-Allow-Credentials", "true");
    } else {
        add(ctx, "Access-Control-Allow-Origin", "*");
    }
    add(ctx, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
    if (preflight_methods != NULL) {
        add(ctx, "Access-Control-Allow-Methods", preflight_methods);
        add(ctx, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
        add(ctx, "Access-Control-Max-Age", CORS_MAX_AGE);
    }
}

void cors_describe(const struct cors *cors, struct buf *out)
{
    if (cors->mode == CORS_OFF) {
        buf_append_str(out, "off (CORS_ALLOW_ORIGINS unset): browsers refuse cross-origin pages");
        return;
    }
    if (cors->mode == CORS_ANY) {
        buf_append_str(out, "any origin (*), without credentials");
        return;
    }
    buf_printf(out, "%zu origin%s (", cors->n_origins, cors->n_origins == 1 ? "" : "s");
    for (size_t i = 0; i < cors->n_origins; i++)
        buf_concat(out, i > 0 ? ", " : "", cors->origins[i]);
    buf_concat(out, "), ", cors->credentials ? "with" : "without", " credentials");
}
