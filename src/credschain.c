/* credschain: the default credential provider chain (see credschain.h). */
#include "credschain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsendpoint.h"
#include "awsprofile.h"
#include "credshttp.h"
#include "credsparse.h"
#include "credsproc.h"

static const char *get(credschain_lookup *lookup, void *ctx, const char *name)
{
    const char *v = lookup(name, ctx);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void note(struct buf *b, const char *text)
{
    if (b->len > 0)
        buf_append_str(b, "; ");
    buf_append_str(b, text);
}

static int add(struct credschain_candidates *c, struct creds_provider *p, const char *what, struct buf *err)
{
    if (p == NULL) {
        buf_printf(err, "credentials: out of memory setting up %s", what);
        return -1;
    }
    struct credschain_candidate *slot = &c->list[c->n++];
    slot->provider = p;
    snprintf(slot->what, sizeof slot->what, "%s", what);
    return 0;
}

/* The provider of one credential_source value. */
static struct creds_provider *credential_source(const char *source, struct credsio *io, credschain_lookup *lookup,
                                                void *ctx, struct buf *err)
{
    if (strcmp(source, "Environment") == 0) {
        const char *akid = get(lookup, ctx, "AWS_ACCESS_KEY_ID"), *secret = get(lookup, ctx, "AWS_SECRET_ACCESS_KEY");
        if (akid == NULL || secret == NULL) {
            buf_append_str(err, "credential_source Environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
            return NULL;
        }
        return creds_static_new(akid, secret, get(lookup, ctx, "AWS_SESSION_TOKEN"), "environment");
    }
    if (strcmp(source, "EcsContainer") == 0) {
        struct credsparse_container cc = {0};
        int rc = credsparse_container_config(&cc, lookup, ctx, err);
        if (rc != 0) {
            if (rc == 1)
                buf_append_str(err, "credential_source EcsContainer: no AWS_CONTAINER_CREDENTIALS_* URI is set");
            credsparse_container_clean_up(&cc);
            return NULL;
        }
        return credshttp_container_new(io, &cc);
    }
    /* Ec2InstanceMetadata (awsprofile refuses other values) */
    struct credsparse_imds imds = {0};
    struct creds_provider *p = NULL;
    if (credsparse_imds_config(&imds, lookup, ctx, err) == 0)
        p = credshttp_imds_new(io, imds.endpoint);
    credsparse_imds_clean_up(&imds);
    return p;
}

/* The profile's credentials as one provider (static, web identity, process or credential_source, then
 * each role assumed in turn). Returns 0 with *out (NULL when the profile names no credentials), or -1. */
static int profile_provider(struct credsio *io, credschain_lookup *lookup, void *ctx, struct creds_provider **out,
                            char *what, size_t what_size, struct buf *skipped, struct buf *err)
{
    struct awsprofile_files files = {0};
    struct awsendpoint ep = {0};
    struct awsprofile_chain chain = {0};
    struct buf why = BUF_INIT;
    int rc = -1;
    *out = NULL;
    if (awsprofile_files_load(&files, lookup, ctx, &why) != 0) {
        buf_printf(err, "credentials: profile files: %s", buf_cstr(&why));
        goto done;
    }
    if (files.profile_from_env && !awsprofile_exists(files.set, AWSPROFILE_SECTION_PROFILE, files.profile)) {
        buf_printf(err, "credentials: AWS_PROFILE=%s: no such profile in %s or %s", files.profile,
                   files.config_path ? files.config_path : "~/.aws/config",
                   files.credentials_path ? files.credentials_path : "~/.aws/credentials");
        goto done;
    }
    if (awsprofile_resolve_credentials(files.set, files.profile, &chain, &why) != 0) {
        buf_printf(err, "credentials: profile %s: %s", files.profile, buf_cstr(&why));
        goto done;
    }
    if (chain.len == 0) {
        char line[300];
        snprintf(line, sizeof line, "profile %s: no credentials in %s or %s", files.profile,
                 files.credentials_path ? files.credentials_path : "~/.aws/credentials",
                 files.config_path ? files.config_path : "~/.aws/config");
        note(skipped, line);
        rc = 0;
        goto done;
    }
    if (awsendpoint_resolve(&ep, lookup, ctx, files.set, files.profile, &why) != 0) {
        buf_printf(err, "credentials: %s", buf_cstr(&why));
        goto done;
    }
    const struct awsprofile_step *s = &chain.steps[0];
    struct creds_provider *p = NULL;
    const char *kind = "static keys";
    switch (s->kind) {
    case AWSPROFILE_STATIC:
        p = creds_static_new(s->access_key_id, s->secret_access_key, s->session_token, "profile");
        break;
    case AWSPROFILE_WEB_IDENTITY:
        kind = "web_identity_token_file";
        p = credshttp_web_identity_new(io, ep.sts_url, s->role_arn, s->role_session_name, s->web_identity_token_file,
                                       "profile-web-identity");
        break;
    case AWSPROFILE_PROCESS:
        kind = "credential_process";
        p = credsproc_new(io, s->credential_process, "profile-process", 0);
        break;
    case AWSPROFILE_CREDENTIAL_SOURCE:
        kind = "credential_source";
        p = credential_source(s->credential_source, io, lookup, ctx, &why);
        if (p == NULL && why.len > 0) {
            buf_printf(err, "credentials: profile %s: %s", s->profile, buf_cstr(&why));
            goto done;
        }
        break;
    case AWSPROFILE_ASSUME_ROLE:
        break;
    }
    for (size_t i = 1; i < chain.len && p != NULL; i++) {
        kind = "role_arn + source_profile, STS AssumeRole";
        p = credshttp_assume_role_new(io, ep.sts_url, ep.region, p, chain.steps[i].role_arn,
                                      chain.steps[i].role_session_name, chain.steps[i].external_id,
                                      "profile-assume-role");
    }
    if (p == NULL) {
        buf_printf(err, "credentials: out of memory setting up profile %s", files.profile);
        goto done;
    }
    snprintf(what, what_size, "profile %s (%s)", files.profile, kind);
    *out = p;
    rc = 0;
done:
    awsendpoint_clean_up(&ep);
    awsprofile_files_clean_up(&files);
    buf_clean_up(&why);
    return rc;
}

int credschain_build(struct credschain_candidates *c, struct credsio *io, credschain_lookup *lookup, void *ctx,
                     struct buf *err)
{
    struct buf why = BUF_INIT;
    int rc = -1;

    /* 1. environment */
    const char *akid = get(lookup, ctx, "AWS_ACCESS_KEY_ID"), *secret = get(lookup, ctx, "AWS_SECRET_ACCESS_KEY");
    if (akid != NULL && secret != NULL) {
        if (add(c, creds_static_new(akid, secret, get(lookup, ctx, "AWS_SESSION_TOKEN"), "environment"),
                "environment (AWS_ACCESS_KEY_ID)", err) != 0)
            goto out;
    } else {
        note(&c->skipped, "environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set");
    }

    /* 2. the shared config and credentials files */
    struct creds_provider *profile = NULL;
    char what[160];
    if (profile_provider(io, lookup, ctx, &profile, what, sizeof what, &c->skipped, err) != 0)
        goto out;
    if (profile != NULL && add(c, profile, what, err) != 0)
        goto out;

    /* 3. web identity */
    const char *token_file = get(lookup, ctx, "AWS_WEB_IDENTITY_TOKEN_FILE"), *role = get(lookup, ctx, "AWS_ROLE_ARN");
    const char *session = get(lookup, ctx, "AWS_ROLE_SESSION_NAME");
    if (token_file != NULL && role != NULL) {
        if (session != NULL && !credsparse_session_name_valid(session)) {
            buf_append_str(err, "AWS_ROLE_SESSION_NAME: not a role session name ([A-Za-z0-9+=,.@_-], 2-64)");
            goto out;
        }
        struct awsprofile_files files = {0};
        struct awsendpoint ep = {0};
        int ok = awsprofile_files_load(&files, lookup, ctx, &why) == 0 &&
                 awsendpoint_resolve(&ep, lookup, ctx, files.set, files.profile, &why) == 0;
        struct creds_provider *p =
            ok ? credshttp_web_identity_new(io, ep.sts_url, role, session, token_file, "web-identity") : NULL;
        char line[200];
        snprintf(line, sizeof line, "web-identity (AWS_WEB_IDENTITY_TOKEN_FILE, STS %.100s)", ok ? ep.sts_url : "");
        awsendpoint_clean_up(&ep);
        awsprofile_files_clean_up(&files);
        if (!ok) {
            buf_printf(err, "credentials: web identity: %s", buf_cstr(&why));
            goto out;
        }
        if (add(c, p, line, err) != 0)
            goto out;
    } else if (token_file != NULL || role != NULL) {
        note(&c->skipped, token_file != NULL ? "web-identity: AWS_ROLE_ARN not set"
                                             : "web-identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
    } else {
        note(&c->skipped, "web-identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
    }

    /* 4. container */
    struct credsparse_container cc = {0};
    int crc = credsparse_container_config(&cc, lookup, ctx, &why);
    if (crc < 0) {
        buf_printf(err, "credentials: container: %s", buf_cstr(&why));
        credsparse_container_clean_up(&cc);
        goto out;
    }
    if (crc == 1) {
        credsparse_container_clean_up(&cc);
        note(&c->skipped, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
    } else {
        char line[200];
        snprintf(line, sizeof line, "container (%.150s)", cc.url);
        if (add(c, credshttp_container_new(io, &cc), line, err) != 0)
            goto out;
    }

    /* 5. EC2 instance metadata */
    struct credsparse_imds imds = {0};
    if (credsparse_imds_config(&imds, lookup, ctx, &why) != 0) {
        buf_printf(err, "credentials: EC2 instance metadata: %s", buf_cstr(&why));
        credsparse_imds_clean_up(&imds);
        goto out;
    }
    if (imds.disabled) {
        note(&c->skipped, "ec2-imds: AWS_EC2_METADATA_DISABLED=true");
    } else {
        char line[200];
        snprintf(line, sizeof line, "ec2-imds (%.150s)", imds.endpoint);
        if (add(c, credshttp_imds_new(io, imds.endpoint), line, err) != 0) {
            credsparse_imds_clean_up(&imds);
            goto out;
        }
    }
    credsparse_imds_clean_up(&imds);
    rc = 0;
out:
    buf_clean_up(&why);
    return rc;
}

void credschain_clean_up(struct credschain_candidates *c)
{
    for (size_t i = 0; i < c->n; i++)
        creds_provider_destroy(c->list[i].provider);
    c->n = 0;
    buf_clean_up(&c->skipped);
}

/* One get of credschain_first. On the heap with two references (the waiter's
 * and the callback's): a waiter that gives up leaves, and an answer that comes
 * later (a provider's own timeout, or credsio_free completing its requests)
 * lands here and frees it rather than writing into a stack frame long gone. */
struct sync_get {
    atomic_int done;
    atomic_int refs;
    struct creds *creds; /* the answer's reference until the waiter takes it */
    char error[300];
};

static void sync_release(struct sync_get *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    creds_unref(s->creds);
    free(s);
}

static void sync_done(void *ctx, struct creds *creds, const char *error)
{
    struct sync_get *s = ctx;
    s->creds = creds;
    snprintf(s->error, sizeof s->error, "%s", error != NULL ? error : "");
    atomic_store(&s->done, 1);
    sync_release(s);
}

int credschain_first(struct credschain_candidates *c, struct credsio *io, long timeout_ms,
                     struct creds_provider **provider, struct creds **creds, struct buf *tried)
{
    *provider = NULL;
    *creds = NULL;
    for (size_t i = 0; i < c->n; i++) {
        struct sync_get *s = calloc(1, sizeof *s);
        if (s == NULL) {
            note(tried, c->list[i].what);
            buf_append_str(tried, ": out of memory");
            break;
        }
        atomic_init(&s->done, 0);
        atomic_init(&s->refs, 2);
        struct creds_provider *p = c->list[i].provider;
        if (creds_provider_get(p, sync_done, s) != 0) {
            free(s); /* no callback will come */
            note(tried, c->list[i].what);
            buf_append_str(tried, ": could not start");
            continue;
        }
        if (credsio_wait(io, &s->done, timeout_ms) != 0) {
            /* Still pending: the provider cannot be freed or asked again. Give up on the chain;
             * a late answer frees s (and its credentials). */
            sync_release(s);
            note(tried, c->list[i].what);
            buf_append_str(tried, ": no answer in time");
            c->list[i].provider = NULL;
            break;
        }
        struct creds *got = s->creds;
        s->creds = NULL;
        char error[sizeof s->error];
        memcpy(error, s->error, sizeof error);
        sync_release(s);
        if (got != NULL) {
            *provider = p;
            *creds = got;
            memmove(&c->list[i], &c->list[i + 1], (c->n - i - 1) * sizeof c->list[0]);
            c->n--;
            return 0;
        }
        note(tried, c->list[i].what);
        buf_append_str(tried, ": ");
        buf_append_str(tried, error);
    }
    note(tried, buf_cstr(&c->skipped));
    return -1;
}

int credschain_refresh_window(credschain_lookup *lookup, void *ctx, long *window_s, struct buf *err)
{
    *window_s = CREDSCHAIN_REFRESH_WINDOW_S;
    const char *v = get(lookup, ctx, "USERSVC_CREDENTIALS_REFRESH_WINDOW_S");
    if (v == NULL)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || end == v || n < 1 || n > 3600) {
        buf_printf(err, "USERSVC_CREDENTIALS_REFRESH_WINDOW_S: '%.40s' is not 1-3600 (seconds; for tests)", v);
        return -1;
    }
    *window_s = n;
    return 0;
}
