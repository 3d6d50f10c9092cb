/* credshttp: web identity, assume role, container and IMDSv2 providers (see credshttp.h). */
#include "credshttp.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

#define STS_TIMEOUT_MS 10000
#define STS_CONNECT_MS 2000
#define CONTAINER_TIMEOUT_MS 5000
#define CONTAINER_CONNECT_MS 2000
#define IMDS_TIMEOUT_MS 1000 /* each of the three calls, as the SDKs */
#define TOKEN_MAX_BYTES 16384

static void wipe(struct buf *b)
{
    if (b->data != NULL)
        explicit_bzero(b->data, b->cap);
    buf_reset(b);
}

void credshttp_plan_clean_up(struct credshttp_plan *plan)
{
    wipe(&plan->lines);
    wipe(&plan->body);
    buf_clean_up(&plan->url);
    buf_clean_up(&plan->lines);
    buf_clean_up(&plan->body);
    plan->n_lines = 0;
    plan->method = NULL;
}

size_t credshttp_plan_lines(const struct credshttp_plan *plan, const char **ptrs)
{
    const char *p = plan->lines.data;
    for (size_t i = 0; i < plan->n_lines; i++) {
        ptrs[i] = p;
        p += strlen(p) + 1;
    }
    return plan->n_lines;
}

static void plan_reset(struct credshttp_plan *plan, const char *method)
{
    wipe(&plan->lines);
    wipe(&plan->body);
    buf_reset(&plan->url);
    plan->n_lines = 0;
    plan->method = method;
}

static int add_line(struct credshttp_plan *plan, const char *name, const char *value)
{
    if (plan->n_lines == CREDSHTTP_MAX_LINES || buf_concat(&plan->lines, name, ": ", value) != 0 ||
        buf_append(&plan->lines, "", 1) != 0)
        return -1;
    plan->n_lines++;
    return 0;
}

int credshttp_web_identity_plan(struct credshttp_plan *plan, const char *sts_url, const char *role_arn,
                                const char *session_name, const char *token)
{
    plan_reset(plan, "POST");
    return buf_concat(&plan->url, sts_url, "/") != 0 ||
                   add_line(plan, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8") != 0 ||
                   add_line(plan, "Expect", "") != 0 ||
                   credsparse_sts_web_identity_form(&plan->body, role_arn, session_name, token) != 0
               ? -1
               : 0;
}

/* "host[:port]" of an absolute URL, into out. */
static int url_host(const char *url, struct buf *out)
{
    const char *start = strstr(url, "://");
    if (start == NULL)
        return -1;
    start += 3;
    size_t n = strcspn(start, "/?#");
    const char *at = memchr(start, '@', n);
    if (at != NULL) {
        n -= (size_t)(at + 1 - start);
        start = at + 1;
    }
    return n == 0 ? -1 : buf_append(out, start, n);
}

int credshttp_assume_role_plan(struct credshttp_plan *plan, const char *sts_url, const char *region,
                               const struct creds *source, const char *role_arn, const char *session_name,
                               const char *external_id, int64_t now_s)
{
    plan_reset(plan, "POST");
    struct buf host = BUF_INIT, auth = BUF_INIT;
    char amz_date[17], date[9];
    uint8_t key[SIGV4_KEY_LEN];
    int rc = -1;
    if (buf_concat(&plan->url, sts_url, "/") != 0 || url_host(sts_url, &host) != 0 ||
        credsparse_sts_assume_role_form(&plan->body, role_arn, session_name, external_id) != 0 ||
        sigv4_format_time(now_s, amz_date, date) != 0)
        goto out;
    const char *type = "application/x-www-form-urlencoded; charset=utf-8";
    struct sigv4_header headers[4] = {
        {"content-type", type}, {"host", buf_cstr(&host)}, {"x-amz-date", amz_date},
        {"x-amz-security-token", source->session_token},
    };
    struct sigv4_request sreq = {
        .method = "POST", .path = "/", .query = "", .headers = headers,
        .n_headers = source->session_token != NULL ? 4 : 3, .body = plan->body.data, .body_len = plan->body.len,
        .normalize_path = 1,
    };
    struct sigv4_scope scope = {date, region, "sts"};
    if (sigv4_signing_key(source->secret_access_key, &scope, key) != 0 ||
        sigv4_authorization(&sreq, source->access_key_id, amz_date, &scope, key, &auth) != 0)
        goto out;
    if (add_line(plan, "Content-Type", type) != 0 || add_line(plan, "X-Amz-Date", amz_date) != 0 ||
        (source->session_token != NULL && add_line(plan, "X-Amz-Security-Token", source->session_token) != 0) ||
        add_line(plan, "Authorization", buf_cstr(&auth)) != 0 || add_line(plan, "Expect", "") != 0)
        goto out;
    rc = 0; /* curl sends Host from the URL, the same host[:port] that was signed */
out:
    explicit_bzero(key, sizeof key);
    buf_clean_up(&host);
    buf_clean_up(&auth);
    return rc;
}

int credshttp_container_plan(struct credshttp_plan *plan, const char *url, const char *authorization)
{
    plan_reset(plan, "GET");
    if (buf_append_str(&plan->url, url) != 0 || add_line(plan, "Accept", "application/json") != 0)
        return -1;
    if (authorization != NULL && authorization[0] != '\0') {
        if (!credsparse_header_value_ok(authorization, strlen(authorization)))
            return -1;
        return add_line(plan, "Authorization", authorization);
    }
    return 0;
}

int credshttp_imds_plan(struct credshttp_plan *plan, const char *endpoint, int step, const char *token,
                        const char *role)
{
    plan_reset(plan, step == 0 ? "PUT" : "GET");
    switch (step) {
    case 0:
        return buf_concat(&plan->url, endpoint, CREDSPARSE_IMDS_TOKEN_PATH) != 0 ||
                       add_line(plan, CREDSPARSE_IMDS_TTL_HEADER, CREDSPARSE_IMDS_TTL_SECONDS) != 0
                   ? -1
                   : 0;
    case 1:
    case 2:
        if (token == NULL || !credsparse_header_value_ok(token, strlen(token)) || (step == 2 && role == NULL))
            return -1;
        return buf_concat(&plan->url, endpoint, CREDSPARSE_IMDS_ROLE_PATH, step == 2 ? role : "") != 0 ||
                       add_line(plan, CREDSPARSE_IMDS_TOKEN_HEADER, token) != 0
                   ? -1
                   : 0;
    default:
        return -1;
    }
}

/* ---- the providers ---- */

enum kind { WEB_IDENTITY, ASSUME_ROLE, CONTAINER, IMDS };

struct provider {
    struct creds_provider base;
    enum kind kind;
    struct credsio *io;
    char *name;
    /* settings */
    char *url; /* STS endpoint, or the IMDS endpoint */
    char *region, *role_arn, *session_name, *external_id, *token_file;
    struct credsparse_container container;
    struct creds_provider *source;
    /* the get in progress */
    creds_callback *callback;
    void *ctx;
    int step;
    struct credshttp_plan plan;
    const char *line_ptrs[CREDSHTTP_MAX_LINES];
    struct httpc_request req;
    struct buf scratch; /* a token, the IMDS token, then the role name */
    struct buf role;
    struct buf err;
};

static int64_t wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* Ends the get: exactly one callback. error (may be NULL with creds) is prefixed with the provider's name. */
static void finish(struct provider *p, struct credsparse_creds *got, const char *error)
{
    struct creds *creds = NULL;
    if (got != NULL) {
        creds = creds_new(got->access_key_id, got->secret_access_key, got->session_token,
                          got->expiration != 0 ? got->expiration : CREDS_NO_EXPIRY, p->name);
        credsparse_creds_clean_up(got);
        if (creds == NULL)
            error = "out of memory or empty keys";
    }
    struct buf msg = BUF_INIT;
    if (creds == NULL)
        buf_concat(&msg, p->name, ": ", error != NULL ? error : "failed");
    wipe(&p->scratch);
    wipe(&p->plan.body);
    wipe(&p->plan.lines);
    creds_callback *cb = p->callback;
    void *ctx = p->ctx;
    p->callback = NULL;
    cb(ctx, creds, creds != NULL ? NULL : buf_cstr(&msg));
    buf_clean_up(&msg);
}

static void on_http(struct httpc_request *req, const struct httpc_response *resp);

static void send_plan(struct provider *p, long timeout_ms, long connect_ms)
{
    struct httpc_client *http = credsio_http(p->io);
    size_t n = credshttp_plan_lines(&p->plan, p->line_ptrs);
    p->req = (struct httpc_request){
        .method = p->plan.method, .url = buf_cstr(&p->plan.url), .header_lines = p->line_ptrs, .n_header_lines = n,
        .body = p->plan.body.len > 0 ? p->plan.body.data : NULL, .body_len = p->plan.body.len,
        .deadline_ms = httpc_now_ms() + timeout_ms, .connect_timeout_ms = connect_ms, .callback = on_http, .ctx = p,
    };
    if (http == NULL || httpc_send(http, &p->req) != 0)
        finish(p, NULL, "the service is stopping");
}

/* The token of a token file, trimmed of surrounding white space. */
static int read_token(const char *path, struct buf *out, struct buf *err)
{
    if (credsparse_read_token_file(path, TOKEN_MAX_BYTES, out, err) != 0)
        return -1;
    size_t start = 0, end = out->len;
    while (end > 0 && strchr(" \t\r\n", out->data[end - 1]) != NULL)
        end--;
    while (start < end && strchr(" \t\r\n", out->data[start]) != NULL)
        start++;
    memmove(out->data, out->data + start, end - start);
    buf_truncate(out, end - start);
    if (out->len == 0) {
        buf_printf(err, "%s is empty", path);
        return -1;
    }
    return 0;
}

static int session_name(struct provider *p, struct buf *out)
{
    buf_reset(out);
    return p->session_name != NULL ? buf_append_str(out, p->session_name) : credsparse_session_name(out, wall_s());
}

static void on_source(void *ctx, struct creds *source, const char *error)
{
    struct provider *p = ctx;
    struct buf name = BUF_INIT;
    if (source == NULL) {
        buf_reset(&p->err);
        buf_concat(&p->err, "source credentials: ", error != NULL ? error : "none");
        finish(p, NULL, buf_cstr(&p->err));
    } else if (session_name(p, &name) != 0 ||
               credshttp_assume_role_plan(&p->plan, p->url, p->region, source, p->role_arn, buf_cstr(&name),
                                          p->external_id, wall_s()) != 0) {
        finish(p, NULL, "could not build the AssumeRole request");
    } else {
        send_plan(p, STS_TIMEOUT_MS, STS_CONNECT_MS);
    }
    creds_unref(source);
    buf_clean_up(&name);
}

/* Runs on the loop's thread: the first request of a get. */
static void begin(void *ctx, int stopping)
{
    struct provider *p = ctx;
    if (stopping) {
        finish(p, NULL, "the service is stopping");
        return;
    }
    buf_reset(&p->err);
    p->step = 0;
    struct buf name = BUF_INIT;
    switch (p->kind) {
    case WEB_IDENTITY:
        if (read_token(p->token_file, &p->scratch, &p->err) != 0)
            finish(p, NULL, buf_cstr(&p->err));
        else if (session_name(p, &name) != 0 ||
                 credshttp_web_identity_plan(&p->plan, p->url, p->role_arn, buf_cstr(&name),
                                             buf_cstr(&p->scratch)) != 0)
            finish(p, NULL, "could not build the AssumeRoleWithWebIdentity request");
        else
            send_plan(p, STS_TIMEOUT_MS, STS_CONNECT_MS);
        break;
    case ASSUME_ROLE:
        if (creds_provider_get(p->source, on_source, p) != 0)
            finish(p, NULL, "the source credentials provider could not start");
        break;
    case CONTAINER:
        if (credsparse_container_token(&p->container, &p->scratch, &p->err) != 0)
            finish(p, NULL, buf_cstr(&p->err));
        else if (credshttp_container_plan(&p->plan, p->container.url, buf_cstr(&p->scratch)) != 0)
            finish(p, NULL, "could not build the request");
        else
            send_plan(p, CONTAINER_TIMEOUT_MS, CONTAINER_CONNECT_MS);
        break;
    case IMDS:
        if (credshttp_imds_plan(&p->plan, p->url, 0, NULL, NULL) != 0)
            finish(p, NULL, "could not build the request");
        else
            send_plan(p, IMDS_TIMEOUT_MS, IMDS_TIMEOUT_MS);
        break;
    }
    buf_clean_up(&name);
}

static void on_http(struct httpc_request *req, const struct httpc_response *resp)
{
    struct provider *p = req->ctx;
    static const char *const imds_steps[] = {"PUT " CREDSPARSE_IMDS_TOKEN_PATH, "GET the role name",
                                             "GET the role's credentials"};
    buf_reset(&p->err);
    if (p->kind == IMDS)
        buf_concat(&p->err, imds_steps[p->step], ": ");
    if (resp->outcome != HTTPC_DONE) {
        buf_append_str(&p->err, resp->outcome == HTTPC_TIMEOUT ? "timed out" : resp->error);
        finish(p, NULL, buf_cstr(&p->err));
        return;
    }
    struct credsparse_creds got = {0};
    int rc = -1;
    if (p->kind == WEB_IDENTITY || p->kind == ASSUME_ROLE) {
        const char *action = p->kind == WEB_IDENTITY ? "AssumeRoleWithWebIdentity" : "AssumeRole";
        if (resp->status == 200 || strstr(resp->body, "<ErrorResponse") != NULL)
            rc = credsparse_sts_xml(resp->body, resp->body_len, action, &got, &p->err);
        else
            buf_printf(&p->err, "%s: HTTP %ld from STS", action, resp->status);
        if (rc == 0 && resp->status != 200) { /* an answer with keys but an error status */
            credsparse_creds_clean_up(&got);
            buf_printf(&p->err, "%s: HTTP %ld from STS", action, resp->status);
            rc = -1;
        }
    } else if (resp->status != 200) {
        buf_printf(&p->err, "HTTP %ld", resp->status);
    } else if (p->kind == CONTAINER) {
        rc = credsparse_container_json(resp->body, resp->body_len, &got, &p->err);
    } else if (p->step == 0 || p->step == 1) {
        if (p->step == 0) {
            wipe(&p->scratch);
            rc = resp->body_len > 0 && credsparse_header_value_ok(resp->body, resp->body_len) &&
                         buf_append(&p->scratch, resp->body, resp->body_len) == 0
                     ? 0
                     : -1;
            if (rc != 0)
                buf_append_str(&p->err, "no usable token");
        } else {
            rc = credsparse_imds_role(resp->body, resp->body_len, &p->role, &p->err);
        }
        if (rc == 0 && (p->step++,
                        credshttp_imds_plan(&p->plan, p->url, p->step, buf_cstr(&p->scratch), buf_cstr(&p->role))) != 0)
            rc = -1;
        if (rc == 0) {
            send_plan(p, IMDS_TIMEOUT_MS, IMDS_TIMEOUT_MS);
            return;
        }
        finish(p, NULL, buf_cstr(&p->err));
        return;
    } else {
        rc = credsparse_imds_json(resp->body, resp->body_len, &got, &p->err);
    }
    finish(p, rc == 0 ? &got : NULL, buf_cstr(&p->err));
}

static int provider_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct provider *p = (struct provider *)self;
    if (p->callback != NULL)
        return -1; /* one get at a time: the cache never asks twice */
    p->callback = callback;
    p->ctx = ctx;
    if (credsio_post(p->io, begin, p) != 0) {
        p->callback = NULL;
        return -1;
    }
    return 0;
}

static void provider_destroy(struct creds_provider *self)
{
    struct provider *p = (struct provider *)self;
    if (p == NULL)
        return;
    credshttp_plan_clean_up(&p->plan);
    wipe(&p->scratch);
    buf_clean_up(&p->scratch);
    buf_clean_up(&p->role);
    buf_clean_up(&p->err);
    credsparse_container_clean_up(&p->container);
    creds_provider_destroy(p->source);
    free(p->name);
    free(p->url);
    free(p->region);
    free(p->role_arn);
    free(p->session_name);
    free(p->external_id);
    free(p->token_file);
    free(p);
}

static char *copy(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static struct provider *provider_new(struct credsio *io, enum kind kind, const char *name)
{
    struct provider *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->kind = kind;
    p->io = io;
    p->name = copy(name);
    p->base = (struct creds_provider){.name = p->name, .get = provider_get, .destroy = provider_destroy};
    if (p->name == NULL) {
        provider_destroy(&p->base);
        return NULL;
    }
    return p;
}

struct creds_provider *credshttp_web_identity_new(struct credsio *io, const char *sts_url, const char *role_arn,
                                                  const char *session_name, const char *token_file,
                                                  const char *name)
{
    struct provider *p = provider_new(io, WEB_IDENTITY, name);
    if (p == NULL)
        return NULL;
    p->url = copy(sts_url);
    p->role_arn = copy(role_arn);
    p->session_name = copy(session_name);
    p->token_file = copy(token_file);
    if (p->url == NULL || p->role_arn == NULL || p->token_file == NULL || (session_name && !p->session_name)) {
        provider_destroy(&p->base);
        return NULL;
    }
    return &p->base;
}

struct creds_provider *credshttp_assume_role_new(struct credsio *io, const char *sts_url, const char *region,
                                                 struct creds_provider *source, const char *role_arn,
                                                 const char *session_name, const char *external_id,
                                                 const char *name)
{
    struct provider *p = provider_new(io, ASSUME_ROLE, name);
    if (p == NULL) {
        creds_provider_destroy(source);
        return NULL;
    }
    p->source = source;
    p->url = copy(sts_url);
    p->region = copy(region);
    p->role_arn = copy(role_arn);
    p->session_name = copy(session_name);
    p->external_id = copy(external_id);
    if (source == NULL || p->url == NULL || p->region == NULL || p->role_arn == NULL ||
        (session_name && !p->session_name) || (external_id && !p->external_id)) {
        provider_destroy(&p->base);
        return NULL;
    }
    return &p->base;
}

struct creds_provider *credshttp_container_new(struct credsio *io, struct credsparse_container *container)
{
    struct provider *p = provider_new(io, CONTAINER, "container");
    if (p == NULL) {
        credsparse_container_clean_up(container);
        return NULL;
    }
    p->container = *container;
    memset(container, 0, sizeof *container);
    return &p->base;
}

struct creds_provider *credshttp_imds_new(struct credsio *io, const char *endpoint)
{
    struct provider *p = provider_new(io, IMDS, "ec2-imds");
    if (p == NULL)
        return NULL;
    p->url = copy(endpoint);
    if (p->url == NULL) {
        provider_destroy(&p->base);
        return NULL;
    }
    return &p->base;
}
