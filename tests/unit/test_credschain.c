/* test_credschain: the provider chain (order, fallbacks, what is skipped and tried), the request
 * plans of the HTTP providers, the credential_process provider with a tiny script, the refresh
 * window knob, and the classification of answers that force a refresh (ddb_credentials_rejected). */
#include "credschain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"
#include "credshttp.h"
#include "credsproc.h"
#include "ddb.h"
#include "httpc.h"
#include "log.h"

struct env {
    const char *kv[24][2];
};

static const char *lookup(const char *name, void *ctx)
{
    struct env *e = ctx;
    for (size_t i = 0; i < 24 && e->kv[i][0] != NULL; i++)
        if (strcmp(e->kv[i][0], name) == 0)
            return e->kv[i][1];
    return NULL;
}

#define NO_FILES {"AWS_CONFIG_FILE", "/nonexistent/config"}, {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/creds"}

static void test_build_order(void)
{
    struct credsio *io = credsio_new(&(struct httpc_config){0});
    struct buf err = BUF_INIT;
    /* Everything set: environment, web identity, container, IMDS, in that order. */
    struct env all = {{NO_FILES,
                       {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                       {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                       {"AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/tok"},
                       {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
                       {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"},
                       {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"}}};
    struct credschain_candidates c = {.n = 0};
    CHECK_INT_EQ(credschain_build(&c, io, lookup, &all, &err), 0);
    CHECK_INT_EQ(c.n, 4);
    if (c.n == 4) {
        CHECK_STR_EQ(c.list[0].provider->name, "environment");
        CHECK_STR_EQ(c.list[1].provider->name, "web-identity");
        CHECK_STR_EQ(c.list[2].provider->name, "container");
        CHECK_STR_EQ(c.list[3].provider->name, "ec2-imds");
        CHECK(strstr(c.list[1].what, "http://127.0.0.1") == NULL); /* STS default for us-east-1 */
        CHECK(strstr(c.list[1].what, "sts.us-east-1.amazonaws.com") != NULL);
    }
    CHECK(strstr(buf_cstr(&c.skipped), "profile default: no credentials") != NULL);
    credschain_clean_up(&c);

    /* Nothing set, IMDS disabled: no candidates, every provider noted. */
    struct env none = {{NO_FILES, {"AWS_EC2_METADATA_DISABLED", "true"}}};
    c = (struct credschain_candidates){.n = 0};
    CHECK_INT_EQ(credschain_build(&c, io, lookup, &none, &err), 0);
    CHECK_INT_EQ(c.n, 0);
    const char *s = buf_cstr(&c.skipped);
    CHECK(strstr(s, "environment") && strstr(s, "profile default") && strstr(s, "web-identity") &&
          strstr(s, "container") && strstr(s, "AWS_EC2_METADATA_DISABLED"));
    struct creds_provider *p = NULL;
    struct creds *got = NULL;
    struct buf tried = BUF_INIT;
    CHECK_INT_EQ(credschain_first(&c, io, 1000, &p, &got, &tried), -1);
    CHECK(strstr(buf_cstr(&tried), "ec2-imds: AWS_EC2_METADATA_DISABLED=true") != NULL);
    buf_clean_up(&tried);
    credschain_clean_up(&c);

    /* Misconfigurations fail the build with a line naming the setting. */
    struct env bad_host = {{NO_FILES, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds"}}};
    c = (struct credschain_candidates){.n = 0};
    buf_reset(&err);
    CHECK_INT_EQ(credschain_build(&c, io, lookup, &bad_host, &err), -1);
    CHECK(strstr(buf_cstr(&err), "container") != NULL);
    credschain_clean_up(&c);
    struct env crlf = {{NO_FILES,
                        {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/c"},
                        {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1"}}};
    c = (struct credschain_candidates){.n = 0};
    buf_reset(&err);
    CHECK_INT_EQ(credschain_build(&c, io, lookup, &crlf, &err), -1);
    CHECK(strstr(buf_cstr(&err), "X-Evil") == NULL);
    credschain_clean_up(&c);
    struct env no_profile = {{NO_FILES, {"AWS_PROFILE", "nosuch"}}};
    c = (struct credschain_candidates){.n = 0};
    buf_reset(&err);
    CHECK_INT_EQ(credschain_build(&c, io, lookup, &no_profile, &err), -1);
    CHECK(strstr(buf_cstr(&err), "AWS_PROFILE=nosuch") != NULL);
    credschain_clean_up(&c);
    struct env bad_session = {{NO_FILES,
                               {"AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/tok"},
                               {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
                               {"AWS_ROLE_SESSION_NAME", "has space"}}};
    c = (struct credschain_candidates){.n = 0};
    buf_reset(&err);
    CHECK_INT_EQ(credschain_build(&c, io, lookup, &bad_session, &err), -1);
    CHECK(strstr(buf_cstr(&err), "AWS_ROLE_SESSION_NAME") != NULL);
    credschain_clean_up(&c);
    buf_clean_up(&err);
    credsio_free(io);
}

/* Fake providers: one fails, one answers. */
struct fake {
    struct creds_provider base;
    const char *akid; /* NULL: fail */
    int gets;
    int destroyed;
};

static int fake_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct fake *f = (struct fake *)self;
    f->gets++;
    struct creds *c = f->akid ? creds_new(f->akid, "s", NULL, CREDS_NO_EXPIRY, f->base.name) : NULL;
    callback(ctx, c, c ? NULL : "connection refused");
    return 0;
}

static void fake_destroy(struct creds_provider *self)
{
    ((struct fake *)self)->destroyed++;
}

static void test_first_yields(void)
{
    struct credsio *io = credsio_new(&(struct httpc_config){0});
    struct fake a = {{"a", fake_get, fake_destroy}, NULL, 0, 0};
    struct fake b = {{"b", fake_get, fake_destroy}, "AKB", 0, 0};
    struct fake d = {{"d", fake_get, fake_destroy}, "AKD", 0, 0};
    struct credschain_candidates c = {.n = 3};
    c.list[0] = (struct credschain_candidate){&a.base, "a (first)"};
    c.list[1] = (struct credschain_candidate){&b.base, "b (second)"};
    c.list[2] = (struct credschain_candidate){&d.base, "d (third)"};
    buf_append_str(&c.skipped, "z: not set");
    struct creds_provider *p = NULL;
    struct creds *got = NULL;
    struct buf tried = BUF_INIT;
    CHECK_INT_EQ(credschain_first(&c, io, 1000, &p, &got, &tried), 0);
    CHECK(p == &b.base);
    CHECK_STR_EQ(got->access_key_id, "AKB");
    CHECK_INT_EQ(a.gets, 1);
    CHECK_INT_EQ(d.gets, 0); /* the first that yields wins: later ones are never asked */
    CHECK_INT_EQ(c.n, 2);    /* the winner left the list; the others are freed with it */
    creds_unref(got);
    credschain_clean_up(&c);
    CHECK_INT_EQ(a.destroyed, 1);
    CHECK_INT_EQ(b.destroyed, 0);
    CHECK_INT_EQ(d.destroyed, 1);

    /* All fail: tried names each with its reason, then what was skipped. */
    struct fake e = {{"e", fake_get, fake_destroy}, NULL, 0, 0};
    struct credschain_candidates c2 = {.n = 1};
    c2.list[0] = (struct credschain_candidate){&e.base, "e (only)"};
    buf_append_str(&c2.skipped, "z: not set");
    buf_reset(&tried);
    CHECK_INT_EQ(credschain_first(&c2, io, 1000, &p, &got, &tried), -1);
    CHECK_STR_EQ(buf_cstr(&tried), "e (only): connection refused; z: not set");
    CHECK(p == NULL && got == NULL);
    credschain_clean_up(&c2);
    buf_clean_up(&tried);
    credsio_free(io);
}

/* A provider that answers only when the test says, after credschain_first gave up on it. */
struct late {
    struct creds_provider base;
    creds_callback *callback;
    void *ctx;
};

static int late_get(struct creds_provider *self, creds_callback *callback, void *ctx)
{
    struct late *l = (struct late *)self;
    l->callback = callback;
    l->ctx = ctx;
    return 0;
}

static void late_destroy(struct creds_provider *self)
{
    (void)self;
}

/* Scribbles over the stack where credschain_first's frame was. */
static void __attribute__((noinline)) clobber_stack(void)
{
    volatile char junk[2048];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)0xa5;
}

static void test_first_late_answer(void)
{
    struct credsio *io = credsio_new(&(struct httpc_config){0});
    struct late l = {{"late", late_get, late_destroy}, NULL, NULL};
    struct credschain_candidates c = {.n = 1};
    c.list[0] = (struct credschain_candidate){&l.base, "late (slow)"};
    struct creds_provider *p = NULL;
    struct creds *got = NULL;
    struct buf tried = BUF_INIT;
    CHECK_INT_EQ(credschain_first(&c, io, 50, &p, &got, &tried), -1);
    CHECK(strstr(buf_cstr(&tried), "late (slow): no answer in time") != NULL);
    CHECK(l.callback != NULL);
    clobber_stack();
    /* The answer comes after the wait was abandoned: it is released, not stored in a dead frame. */
    struct creds *answer = creds_new("AKLATE", "s", NULL, CREDS_NO_EXPIRY, "late");
    creds_ref(answer); /* ours, to see what becomes of the callback's */
    if (l.callback != NULL)
        l.callback(l.ctx, answer, NULL);
    CHECK_INT_EQ(atomic_load(&answer->refs), 1);
    creds_unref(answer);
    credschain_clean_up(&c);
    buf_clean_up(&tried);
    credsio_free(io);
}

static void test_plans(void)
{
    struct credshttp_plan plan = {0};
    const char *lines[CREDSHTTP_MAX_LINES];
    CHECK_INT_EQ(credshttp_imds_plan(&plan, "http://169.254.169.254", 0, NULL, NULL), 0);
    CHECK_STR_EQ(plan.method, "PUT");
    CHECK_STR_EQ(buf_cstr(&plan.url), "http://169.254.169.254/latest/api/token");
    CHECK_INT_EQ(credshttp_plan_lines(&plan, lines), 1);
    CHECK_STR_EQ(lines[0], "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    CHECK_INT_EQ(credshttp_imds_plan(&plan, "http://[fd00:ec2::254]", 1, "TOK", NULL), 0);
    CHECK_STR_EQ(plan.method, "GET");
    CHECK_STR_EQ(buf_cstr(&plan.url), "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/");
    CHECK_INT_EQ(credshttp_plan_lines(&plan, lines), 1);
    CHECK_STR_EQ(lines[0], "X-aws-ec2-metadata-token: TOK");
    CHECK_INT_EQ(credshttp_imds_plan(&plan, "http://h", 2, "TOK", "role-1"), 0);
    CHECK_STR_EQ(buf_cstr(&plan.url), "http://h/latest/meta-data/iam/security-credentials/role-1");
    CHECK_INT_EQ(credshttp_imds_plan(&plan, "http://h", 1, "T\nX", NULL), -1); /* no header splitting */

    CHECK_INT_EQ(credshttp_container_plan(&plan, "http://169.254.170.2/v2/credentials/x", "Bearer abc"), 0);
    CHECK_STR_EQ(plan.method, "GET");
    CHECK_INT_EQ(credshttp_plan_lines(&plan, lines), 2);
    CHECK_STR_EQ(lines[0], "Accept: application/json");
    CHECK_STR_EQ(lines[1], "Authorization: Bearer abc");
    CHECK_INT_EQ(credshttp_container_plan(&plan, "http://127.0.0.1/c", ""), 0);
    CHECK_INT_EQ(plan.n_lines, 1); /* no token: no Authorization */
    CHECK_INT_EQ(credshttp_container_plan(&plan, "http://127.0.0.1/c", "a\rb"), -1);

    CHECK_INT_EQ(credshttp_web_identity_plan(&plan, "https://sts.eu-west-1.amazonaws.com", "arn:aws:iam::1:role/r",
                                             "s1", "tok.en/+"), 0);
    CHECK_STR_EQ(plan.method, "POST");
    CHECK_STR_EQ(buf_cstr(&plan.url), "https://sts.eu-west-1.amazonaws.com/");
    CHECK(strstr(buf_cstr(&plan.body), "Action=AssumeRoleWithWebIdentity") != NULL);
    CHECK(strstr(buf_cstr(&plan.body), "WebIdentityToken=tok.en%2F%2B") != NULL);
    credshttp_plan_lines(&plan, lines);
    CHECK(strncmp(lines[0], "Content-Type: application/x-www-form-urlencoded", 47) == 0);
    for (size_t i = 0; i < plan.n_lines; i++) /* unsigned */
        CHECK(strncmp(lines[i], "Authorization", 13) != 0);

    struct creds *src = creds_new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSION", CREDS_NO_EXPIRY, "t");
    CHECK_INT_EQ(credshttp_assume_role_plan(&plan, "http://127.0.0.1:4566", "us-east-1", src, "arn:aws:iam::1:role/r",
                                            "sess", NULL, 1440938160), 0);
    CHECK_STR_EQ(buf_cstr(&plan.url), "http://127.0.0.1:4566/");
    CHECK(strstr(buf_cstr(&plan.body), "Action=AssumeRole&") != NULL);
    size_t n = credshttp_plan_lines(&plan, lines);
    int auth = 0, token = 0, date = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(lines[i], "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
                              "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=", 150) == 0)
            auth = 1;
        token |= strcmp(lines[i], "X-Amz-Security-Token: SESSION") == 0;
        date |= strcmp(lines[i], "X-Amz-Date: 20150830T123600Z") == 0;
    }
    CHECK(auth && token && date);
    creds_unref(src);
    credshttp_plan_clean_up(&plan);
}

struct wait {
    atomic_int done;
    struct creds *creds;
    char error[300];
};

static void on_creds(void *ctx, struct creds *creds, const char *error)
{
    struct wait *w = ctx;
    w->creds = creds;
    snprintf(w->error, sizeof w->error, "%s", error ? error : "");
    atomic_store(&w->done, 1);
}

static void run_process_within(struct credsio *io, const char *command, long timeout_ms, struct wait *w)
{
    struct creds_provider *p = credsproc_new(io, command, "profile-process", timeout_ms);
    *w = (struct wait){.creds = NULL};
    atomic_init(&w->done, 0);
    CHECK_INT_EQ(creds_provider_get(p, on_creds, w), 0);
    CHECK_INT_EQ(credsio_wait(io, &w->done, 10000), 0);
    creds_provider_destroy(p);
}

static void run_process(struct credsio *io, const char *command, struct wait *w)
{
    run_process_within(io, command, 0, w);
}

/* 1 when pid is gone (or a zombie nobody reaped yet), read from /proc. */
static int process_gone(long pid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 1;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

/* A command that printed its answer but does not exit, or leaves a child
 * holding its stdout, is bounded by the timeout and killed with its group. */
static void test_process_lingers(void)
{
    struct credsio *io = credsio_new(&(struct httpc_config){0});
    struct wait w;
    int64_t t0 = httpc_now_ms();
    /* Closes stdout (EOF for us) and sleeps on. */
    run_process_within(io,
                       "printf '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}'; "
                       "exec >&-; sleep 20",
                       800, &w);
    int64_t took = httpc_now_ms() - t0;
    CHECK(atomic_load(&w.done) == 1);
    CHECK(w.creds == NULL && strstr(w.error, "did not exit within 800 ms") != NULL);
    CHECK(took < 5000);
    creds_unref(w.creds);

    /* Hands stdout to a child that runs on: the timeout kills the child too. */
    char pidfile[] = "/tmp/usersvc-credsproc-XXXXXX";
    int fd = mkstemp(pidfile);
    CHECK(fd >= 0);
    close(fd);
    char command[300];
    snprintf(command, sizeof command,
             "sh -c 'echo $$ > %s; exec sleep 20' & "
             "printf '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}'",
             pidfile);
    t0 = httpc_now_ms();
    run_process_within(io, command, 800, &w);
    took = httpc_now_ms() - t0;
    CHECK(w.creds == NULL && strstr(w.error, "did not finish within 800 ms") != NULL);
    CHECK(took < 5000);
    creds_unref(w.creds);
    long child = 0;
    FILE *f = fopen(pidfile, "r");
    CHECK(f != NULL && fscanf(f, "%ld", &child) == 1 && child > 0);
    if (f != NULL)
        fclose(f);
    unlink(pidfile);
    int gone = 0;
    for (int i = 0; i < 50 && child > 0 && !(gone = process_gone(child)); i++)
        usleep(20 * 1000);
    CHECK(gone);
    if (child > 0 && !gone)
        kill((pid_t)child, SIGKILL); /* do not leave it behind when the check fails */
    credsio_free(io);
}

static void test_process(void)
{
    struct credsio *io = credsio_new(&(struct httpc_config){0});
    struct wait w;
    run_process(io,
                "echo '{\"Version\": 1, \"AccessKeyId\": \"AKPROC\", \"SecretAccessKey\": \"ps\", "
                "\"SessionToken\": \"pt\", \"Expiration\": \"2030-01-02T03:04:05Z\"}'; echo noise >&2",
                &w);
    CHECK(w.creds != NULL);
    if (w.creds != NULL) {
        CHECK_STR_EQ(w.creds->access_key_id, "AKPROC");
        CHECK_STR_EQ(w.creds->session_token, "pt");
        CHECK_INT_EQ(w.creds->expiration, 1893553445);
        CHECK_STR_EQ(w.creds->provider, "profile-process");
    }
    creds_unref(w.creds);
    run_process(io, "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}'", &w);
    CHECK(w.creds != NULL && w.creds->expiration == CREDS_NO_EXPIRY);
    creds_unref(w.creds);
    run_process(io, "echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}'", &w);
    CHECK(w.creds == NULL && strstr(w.error, "Version") != NULL);
    run_process(io, "exit 3", &w);
    CHECK(w.creds == NULL && strstr(w.error, "exited with status 3") != NULL);
    run_process(io, "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"topsecret\"}'; exit 1", &w);
    CHECK(w.creds == NULL && strstr(w.error, "topsecret") == NULL);
    credsio_free(io);
}

static void test_window(void)
{
    long w;
    struct buf err = BUF_INIT;
    struct env none = {{{NULL, NULL}}};
    CHECK_INT_EQ(credschain_refresh_window(lookup, &none, &w, &err), 0);
    CHECK_INT_EQ(w, CREDSCHAIN_REFRESH_WINDOW_S);
    struct env short_w = {{{"USERSVC_CREDENTIALS_REFRESH_WINDOW_S", "8"}}};
    CHECK_INT_EQ(credschain_refresh_window(lookup, &short_w, &w, &err), 0);
    CHECK_INT_EQ(w, 8);
    struct env bad = {{{"USERSVC_CREDENTIALS_REFRESH_WINDOW_S", "0"}}};
    CHECK_INT_EQ(credschain_refresh_window(lookup, &bad, &w, &err), -1);
    CHECK(strstr(buf_cstr(&err), "USERSVC_CREDENTIALS_REFRESH_WINDOW_S") != NULL);
    buf_clean_up(&err);
}

static void test_rejected(void)
{
    CHECK_INT_EQ(ddb_credentials_rejected(400, "ExpiredTokenException", "", 0), 1);
    CHECK_INT_EQ(ddb_credentials_rejected(400, "UnrecognizedClientException", "", 0), 1);
    CHECK_INT_EQ(ddb_credentials_rejected(400, "InvalidSignatureException", "", 0), 1);
    CHECK_INT_EQ(ddb_credentials_rejected(400, "AccessDeniedException", "", 0), 0);
    CHECK_INT_EQ(ddb_credentials_rejected(400, "ValidationException", "", 0), 0);
    CHECK_INT_EQ(ddb_credentials_rejected(500, "ExpiredTokenException", "", 0), 0);
    const char *xml = "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>The security token included "
                      "in the request is invalid.</Message></Error></ErrorResponse>";
    CHECK_INT_EQ(ddb_credentials_rejected(403, "", xml, strlen(xml)), 1);
    const char *expired = "<ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>";
    CHECK_INT_EQ(ddb_credentials_rejected(400, "", expired, strlen(expired)), 1);
    const char *denied = "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>";
    CHECK_INT_EQ(ddb_credentials_rejected(403, "", denied, strlen(denied)), 0);
    const char *sig = "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>";
    CHECK_INT_EQ(ddb_credentials_rejected(403, "", sig, strlen(sig)), 0);
    CHECK_INT_EQ(ddb_credentials_rejected(403, "", NULL, 0), 0);
}

int main(void)
{
    log_set_level(LOG_WARN);
    httpc_global_init();
    RUN(test_build_order);
    RUN(test_first_yields);
    RUN(test_first_late_answer);
    RUN(test_plans);
    RUN(test_process);
    RUN(test_process_lingers);
    RUN(test_window);
    RUN(test_rejected);
    httpc_global_cleanup();
    return check_summary();
}
