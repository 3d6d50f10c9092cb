/* usersvc: a REST service for a DynamoDB users table. main builds the
 * immutable application state, makes sure the table exists, serves until
 * SIGINT/SIGTERM, then drains in-flight requests and stops. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "creds.h"
#include "credschain.h"
#include "authconfig.h"
#include "credsio.h"
#include "ddb.h"
#include "healthcheck.h"
#include "httpc.h"
#include "log.h"
#include "metrics.h"
#include "readycache.h"
#include "model.h"
#include "portclaim.h"
#include "recreate.h"
#include "retryquota.h"
#include "server.h"

#define STARTUP_WAIT_MS 60000

static const char usage[] =
    "usage: usersvc [--help | --version | --healthcheck]\n"
    "  --healthcheck  GET /healthz of the instance on HOST and PORT; exit 0 when it answers 200, else 1\n"
    "\n"
    "A REST API for a DynamoDB users table. Configured by environment variables:\n"
    "  PORT (3000)  HOST (127.0.0.1)  TABLE_NAME (Users)  EMAIL_INDEX (email-index)\n"
    "  AWS_PROFILE (default), AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE\n"
    "  AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region (us-east-1)\n"
    "  AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL, the profile's services/endpoint_url, DYNAMODB_ENDPOINT\n"
    "      (https://dynamodb.<region>.amazonaws.com)  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS\n"
    "  AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT (false)  AWS_CA_BUNDLE (extra trust)\n"
    "  HTTPS_PROXY, HTTP_PROXY, NO_PROXY (either case)  AWS_MAX_ATTEMPTS (4)  AWS_RETRY_MODE (standard)\n"
    "  AUTO_CREATE_TABLE (true for a loopback endpoint: 127.0.0.0/8, localhost, [::1])\n"
    "  ALLOW_INSECURE_ENDPOINT (false: send credentials to a non-loopback http:// endpoint)\n"
    "  MAX_BODY_BYTES (65536)\n"
    "  CONNECTION_MEMORY_BYTES (4096: request headers up to about 3 KB)\n"
    "  HEADER_TIMEOUT_MS (10000)  BODY_TIMEOUT_MS (10000)  KEEPALIVE_TIMEOUT_MS (60000)\n"
    "  MAX_CONNECTIONS (16384)  MAX_CONNECTIONS_PER_IP (half of MAX_CONNECTIONS; 0 = no limit)\n"
    "  Credentials, the AWS SDKs' chain: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);\n"
    "      AWS_PROFILE (default) in AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE; AWS_WEB_IDENTITY_TOKEN_FILE\n"
    "      + AWS_ROLE_ARN; AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI; EC2 IMDSv2\n"
    "      (AWS_EC2_METADATA_DISABLED). None yields: local/local for a loopback endpoint, else start-up fails\n"
    "  DYNAMODB_TIMEOUT_MS (5000)  DYNAMODB_CONNECT_TIMEOUT_MS (1000)  THREADS (usable CPUs)\n"
    "  CORS_ALLOW_ORIGINS (unset: no cross-origin access; * or a comma list of scheme://host[:port])\n"
    "      CORS_ALLOW_CREDENTIALS (false)  CURSOR_SECRET (the table name)  LOG_LEVEL (info)\n"
    "  AUTH (jwt, api-key, both comma separated, or none; unset: none for a loopback endpoint, else start-up fails)\n"
    "      JWT_JWKS_URL, JWT_JWKS_FILE, JWT_PUBLIC_KEY_FILE, JWT_SECRET (HS256)  JWT_ISSUER  JWT_AUDIENCE\n"
    "      JWT_LEEWAY_S (60)  API_KEYS_FILE  SCOPE_READ (users:read)  SCOPE_WRITE (users:write)\n"
    "      RATE_LIMIT (rate,burst per principal and replica; none)\n"
    "  LOG_FORMAT (json; or text)\n"
    "See README.md for the API.\n";

/* A blocking call for start-up only, before the server takes requests. */
struct sync_call {
    int done;
    enum ddb_status status;
    char code[96];
    char message[512]; /* ddb_result_describe: status, code, DynamoDB's message */
    json_t *body;
};

static void sync_done(void *ctx, const struct ddb_result *r)
{
    struct sync_call *call = ctx;
    call->status = r->status;
    snprintf(call->code, sizeof call->code, "%s", r->error_code);
    ddb_result_describe(r, call->message, sizeof call->message);
    call->body = json_incref(r->body);
    call->done = 1;
}

/* Drives the client until the call completes: start-up only, before any request is served. */
static void call_sync(struct ddb_client *ddb, const char *operation, json_t *request, struct sync_call *call)
{
    memset(call, 0, sizeof *call);
    if (ddb_send(ddb, operation, request, NULL, sync_done, call) != 0) {
        call->status = DDB_SHUTDOWN;
        snprintf(call->message, sizeof call->message, "could not send %s", operation);
        return;
    }
    while (!call->done) {
        struct pollfd pfd = {.fd = ddb_client_fd(ddb), .events = POLLIN};
        int ready = poll(&pfd, 1, ddb_client_timeout_ms(ddb)) > 0;
        ddb_client_run(ddb, ready);
    }
}

/* app_send_fn over a worker's DynamoDB client. */
static int send_ddb(void *ddb, const char *operation, char *body, size_t body_len, struct log_calls *calls,
                    ddb_callback *callback, void *ctx)
{
    return ddb_send_text(ddb, operation, body, body_len, calls, callback, ctx);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits for the table (creating it when allowed). Returns 0 when it is
 * ACTIVE, or when it may be missing and the service should start anyway
 * (/readyz then answers 503); -1 with a line on stderr when start-up must fail. */
static int ensure_table(const struct config *cfg, struct ddb_client *ddb)
{
    const struct model_table table = {cfg->table, cfg->email_index};
    int created = 0;
    for (long waited = 0; waited < STARTUP_WAIT_MS; waited += 250) {
        struct sync_call call;
        call_sync(ddb, "DescribeTable", model_describe_table(&table), &call);
        int active = call.status == DDB_OK && app_table_active(call.body, cfg->email_index);
        json_decref(call.body);
        if (active) {
            if (created)
                log_info("table %s created", cfg->table);
            return 0;
        }
        if (call.status == DDB_ERROR && strcmp(call.code, "ResourceNotFoundException") == 0) {
            if (!cfg->auto_create_table) {
                log_warn("table %s does not exist and AUTO_CREATE_TABLE is false; /readyz answers 503", cfg->table);
                return 0;
            }
            if (!created) {
                log_info("creating table %s with index %s", cfg->table, cfg->email_index);
                call_sync(ddb, "CreateTable", model_create_table(&table), &call);
                json_decref(call.body);
                if (call.status != DDB_OK && strcmp(call.code, "ResourceInUseException") != 0) {
                    log_error("cannot create table %s: %s", cfg->table, call.message);
                    return -1;
                }
                created = 1;
            }
        } else if (call.status == DDB_OK) {
            if (!created && !cfg->auto_create_table) {
                log_warn("table %s or its index %s is not ACTIVE; /readyz answers 503 until it is", cfg->table,
                         cfg->email_index);
                return 0;
            }
        } else if (!cfg->auto_create_table) {
            log_warn("DynamoDB at %s: DescribeTable failed (%s); starting anyway, /readyz answers 503",
                     cfg->endpoint, call.message);
            return 0;
        } else if (call.status == DDB_ERROR) {
            log_error("DynamoDB refused DescribeTable: %s", call.message);
            return -1;
        } else if (waited == 0) {
            log_warn("waiting for DynamoDB at %s (%s)", cfg->endpoint, call.message);
        }
        sleep_ms(250);
    }
    log_error("table %s at %s did not become ACTIVE within %d s", cfg->table, cfg->endpoint,
            STARTUP_WAIT_MS / 1000);
    return -1;
}

/* The DynamoDB client as a worker's event source. */
static int source_timeout_ms(void *ctx)
{
    return ddb_client_timeout_ms(ctx);
}

static void source_run(void *ctx, int fd_ready)
{
    ddb_client_run(ctx, fd_ready);
}

static void source_close(void *ctx)
{
    ddb_client_free(ctx);
}

static const char *lookup_env(const char *name, void *ctx)
{
    return getenv(name);
}

/* The waker of a worker's loop: the cache writes to it when a refresh ends, so requests waiting for
 * credentials go on at once. The cache owns the descriptor. */
static int waker_timeout_ms(void *ctx)
{
    return -1;
}

static void waker_run(void *ctx, int fd_ready)
{
    uint64_t count;
    if (fd_ready && read((int)(intptr_t)ctx, &count, sizeof count) < 0)
        log_debug("credentials waker: nothing to read");
}

static void waker_close(void *ctx)
{
}

/* The credentials loop as worker 0's event source. */
static int credsio_source_timeout_ms(void *ctx)
{
    return credsio_timeout_ms(ctx);
}

static void credsio_source_run(void *ctx, int fd_ready)
{
    credsio_run(ctx, fd_ready);
}

static void credsio_source_close(void *ctx)
{
    credsio_stop(ctx); /* other workers may still post until they stop: main frees it after them */
}

#define CHAIN_GET_TIMEOUT_MS 90000 /* bounds each provider at start-up; their own timeouts are shorter */

/* Resolves the provider chain once, driving io from this thread, and puts the winner behind the cache
 * every worker signs from. Returns NULL with one line on stderr and *exit_status set. */
static struct creds_cache *start_credentials(const struct config *cfg, struct credsio *io, int *exit_status)
{
    struct buf err = BUF_INIT, tried = BUF_INIT;
    struct credschain_candidates candidates = {.n = 0};
    struct creds_provider *provider = NULL;
    struct creds *creds = NULL;
    struct creds_cache *cache = NULL;
    long window_s;
    *exit_status = 2;
    if (credschain_refresh_window(lookup_env, NULL, &window_s, &err) != 0 ||
        credschain_build(&candidates, io, lookup_env, NULL, &err) != 0) {
        log_error("%s", buf_cstr(&err));
        goto out;
    }
    if (credschain_first(&candidates, io, CHAIN_GET_TIMEOUT_MS, &provider, &creds, &tried) != 0) {
        if (!cfg->endpoint_is_local) {
            log_error("no AWS credentials for %s; tried: %s", cfg->endpoint, buf_cstr(&tried));
            goto out;
        }
        /* A loopback DynamoDB (moto, DynamoDB Local) accepts any key: `make run` works with none set. */
        log_info("credentials: none from the chain (tried: %s); dummy keys for the loopback endpoint",
                 buf_cstr(&tried));
        provider = creds_static_new("local", "local", NULL, "local-dummy");
        creds = creds_new("local", "local", NULL, CREDS_NO_EXPIRY, "local-dummy");
    }
    *exit_status = 1;
    if (provider == NULL || creds == NULL) {
        creds_provider_destroy(provider);
        log_error("cannot set up the credentials: out of memory");
        goto out;
    }
    cache = creds_cache_new(&(struct creds_cache_options){
        .source = provider, .refresh_ahead_s = window_s, .initial = creds});
    if (cache == NULL) {
        log_error("cannot set up the credentials: out of memory");
        goto out;
    }
    credsio_set_cache(io, cache);
    char expiry[64] = "do not expire";
    if (creds->expiration != CREDS_NO_EXPIRY)
        snprintf(expiry, sizeof expiry, "expire in %lld s, refreshed %ld s ahead",
                 (long long)(creds->expiration - time(NULL)), window_s);
    log_info("credentials from %s: access key id %s (%s)", creds->provider, creds->access_key_id, expiry);
out:
    creds_unref(creds);
    credschain_clean_up(&candidates);
    buf_clean_up(&err);
    buf_clean_up(&tried);
    return cache;
}

/* Where DynamoDB is and how it is reached, once at start-up. A proxy URL's user and password are not logged. */
static void log_transport(const struct config *cfg, const char *proxy)
{
    char shown[256] = "";
    if (proxy != NULL) {
        const char *at = strrchr(proxy, '@');
        const char *scheme = strstr(proxy, "://");
        int scheme_len = scheme != NULL && (at == NULL || scheme < at) ? (int)(scheme - proxy) + 3 : 0;
        snprintf(shown, sizeof shown, ", through proxy %.*s%s%.200s", scheme_len, proxy, at != NULL ? "***@" : "",
                 at != NULL ? at + 1 : proxy + scheme_len);
    }
    log_info("DynamoDB endpoint %s (from %s), region %s (from %s), profile %s%s%s%s", cfg->endpoint,
             cfg->endpoint_from, cfg->region, cfg->region_from, cfg->profile,
             cfg->ca_bundle != NULL ? ", extra CA bundle " : "", cfg->ca_bundle != NULL ? cfg->ca_bundle : "", shown);
}

#define HEALTHCHECK_TIMEOUT_MS 2000

/* `usersvc --healthcheck`: the container's probe. Exit 0 or 1, one line on stderr when unhealthy. */
static int healthcheck(void)
{
    struct config cfg;
    struct buf why = BUF_INIT;
    int rc = config_load(&cfg, lookup_env, NULL, &why) == 0 &&
             healthcheck_run(cfg.host, cfg.port, HEALTHCHECK_TIMEOUT_MS, &why) == 0;
    if (!rc)
        fprintf(stderr, "usersvc: unhealthy: %s\n", buf_cstr(&why));
    config_clean_up(&cfg);
    buf_clean_up(&why);
    return rc ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        const char *arg = argv[1];
        if (argc == 2 && strcmp(arg, "--version") == 0) {
            printf("usersvc %s\n", USERSVC_VERSION);
            return 0;
        }
        if (argc == 2 && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            fputs(usage, stdout);
            return 0;
        }
        if (argc == 2 && strcmp(arg, "--healthcheck") == 0)
            return healthcheck();
        int known = strcmp(arg, "--version") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 ||
                    strcmp(arg, "--healthcheck") == 0;
        fprintf(stderr, "usersvc: %s '%s'\n\n", known ? "unexpected argument" : "unknown option",
                known ? argv[2] : arg);
        fputs(usage, stderr);
        return 2;
    }

    struct config cfg;
    struct buf err = BUF_INIT;
    /* The format first, so that even a configuration error is a line of the chosen format. */
    const char *format = getenv("LOG_FORMAT");
    if (format != NULL && log_format_parse(format) >= 0)
        log_set_format((enum log_format)log_format_parse(format));
    if (config_load(&cfg, lookup_env, NULL, &err) != 0) {
        log_error("%s", buf_cstr(&err));
        buf_clean_up(&err);
        config_clean_up(&cfg);
        return 2;
    }
    log_set_level((enum log_level)cfg.log_level);
    log_set_format((enum log_format)cfg.log_format);
    struct authconfig authcfg;
    if (authconfig_load(&authcfg, lookup_env, NULL, cfg.endpoint_is_local, &err) != 0) {
        log_error("%s", buf_cstr(&err));
        buf_clean_up(&err);
        authconfig_clean_up(&authcfg);
        config_clean_up(&cfg);
        return 2;
    }
    /* Before any slow start-up work: a second instance on a served port stops here. */
    int port_lock = portclaim_take(cfg.host, cfg.port, &err);
    if (port_lock == -1) {
        log_error("%s", buf_cstr(&err));
        buf_clean_up(&err);
        authconfig_clean_up(&authcfg);
        config_clean_up(&cfg);
        return 1;
    }

    /* Every thread started from here on inherits this mask; main takes the signals with sigwait. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    struct server *server = NULL;
    struct app *apps = NULL;
    struct metrics *metrics = NULL;
    struct readycache ready;
    readycache_init(&ready); /* shared by the workers; cleaned up after them */
    struct server_worker *workers = NULL;
    size_t n = (size_t)cfg.threads;
    if (httpc_global_init() != 0) {
        log_error("curl_global_init failed");
        authconfig_clean_up(&authcfg);
        config_clean_up(&cfg);
        return 1;
    }
    /* The credential providers' loop: driven by this thread until the workers start, then by worker 0. */
    /* STS goes through the egress proxy like DynamoDB; the metadata addresses (IMDS, the container agent) are
     * link-local and never proxied, as the SDKs' docs ask operators to arrange with NO_PROXY. */
    struct buf no_proxy = BUF_INIT;
    buf_concat(&no_proxy, "169.254.169.254,169.254.170.2,169.254.170.23,fd00:ec2::254,fd00:ec2::23",
               cfg.no_proxy ? "," : "", cfg.no_proxy ? cfg.no_proxy : "");
    struct credsio *credsio = credsio_new(&(struct httpc_config){
        .max_in_flight = 8, .max_response_bytes = 65536, .ca_bundle = cfg.ca_bundle,
        .proxy = cfg.sts_endpoint ? config_proxy_for(&cfg, cfg.sts_endpoint) : NULL, .no_proxy = buf_cstr(&no_proxy)});
    buf_clean_up(&no_proxy);
    struct creds_cache *creds = NULL;
    struct auth *auth = NULL;
    if (credsio == NULL) {
        log_error("cannot start the credentials loop");
        goto out;
    }
    creds = start_credentials(&cfg, credsio, &status); /* shared by every worker; freed after them */
    if (creds == NULL)
        goto out;
    status = 1;
    struct buf line = BUF_INIT;
    authconfig_describe(&authcfg, &line);
    log_info("%s", buf_cstr(&line));
    buf_clean_up(&line);
    if ((auth = authconfig_build(&authcfg, credsio)) == NULL) { /* shared by every worker; freed after them */
        log_error("out of memory");
        goto out;
    }
    /* The JWKS is fetched before serving, like the credentials; a failure is not fatal (the identity provider
     * may come up later): tokens are refused until a fetch succeeds, retried after 1, 2, 4 ... 30 s. */
    if (authcfg.jwks_url != NULL && jwks_store_initial_fetch(auth_keys(auth), 5000) != 0)
        log_warn("jwks: no keys from JWT_JWKS_URL yet; bearer tokens are refused until a fetch succeeds");
    struct retryquota quota; /* one per process: every worker's retries draw on it (SDK standard mode) */
    retryquota_init(&quota);
    if (cfg.retry_mode == RETRYQUOTA_MODE_ADAPTIVE_AS_STANDARD)
        log_info("AWS_RETRY_MODE adaptive: running standard mode (retry quota, no client-side rate limiter)");
    struct ddb_config ddb_cfg = {
        .endpoint = cfg.endpoint, .endpoint_host = cfg.endpoint_host, .region = cfg.region, .creds = creds,
        .connect_timeout_ms = cfg.connect_timeout_ms, .timeout_ms = cfg.timeout_ms,
        .ca_bundle = cfg.ca_bundle, .proxy = config_proxy_for(&cfg, cfg.endpoint), .no_proxy = cfg.no_proxy,
        .quota = &quota, .max_attempts = cfg.max_attempts,
    };
    log_transport(&cfg, ddb_cfg.proxy);
    struct buf cors = BUF_INIT;
    cors_describe(&cfg.cors, &cors);
    log_info("CORS: %s", buf_cstr(&cors));
    buf_clean_up(&cors);
    if (cfg.cors_old_name)
        log_warn("CORS_ALLOW_ORIGIN is the old name of CORS_ALLOW_ORIGINS, read the same way; rename it");
    /* Start-up paces its own DescribeTable loop: it does not ration its retries, so workers start with a full quota. */
    struct ddb_config startup_cfg = ddb_cfg;
    startup_cfg.quota = NULL;
    struct ddb_client *startup = ddb_client_new(&startup_cfg);
    int table_ok = startup != NULL && ensure_table(&cfg, startup) == 0;
    if (startup == NULL)
        log_error("cannot start the DynamoDB client");
    ddb_client_free(startup);
    if (!table_ok)
        goto out;
    /* Again after the table wait, which can be long; the lock keeps other instances out meanwhile. */
    if (port_lock >= 0 && portclaim_probe(cfg.host, cfg.port, &err) != 0) {
        log_error("%s", buf_cstr(&err));
        goto out;
    }

    struct recreate recreate; /* one per process: a missing table is created again at most every few seconds */
    recreate_init(&recreate);
    /* One app (and DynamoDB client) per worker: a worker never shares its client. */
    apps = calloc(n, sizeof *apps);
    metrics = metrics_new(n, app_route_templates, app_route_count, USERSVC_VERSION);
    workers = calloc(n, sizeof *workers);
    if (apps == NULL || metrics == NULL || workers == NULL) {
        log_error("out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct ddb_config worker_cfg = ddb_cfg;
        worker_cfg.metrics = metrics_worker(metrics, i);
        struct ddb_client *ddb = ddb_client_new(&worker_cfg);
        apps[i] = (struct app){.cfg = &cfg, .table = {cfg.table, cfg.email_index}, .send = send_ddb, .send_ctx = ddb,
                               .now_ms = op_clock_realtime, .new_id = op_uuid_random,
                               .metrics_worker = metrics_worker(metrics, i), .metrics = metrics, .ready = &ready,
                               .creds = creds, .auth = auth_worker_new(auth),
                               .recreate = cfg.auto_create_table ? &recreate : NULL};
        int waker = creds_cache_add_waker(creds);
        if (ddb == NULL || waker < 0 || apps[i].auth == NULL) {
            log_error("cannot start the DynamoDB client");
            for (size_t j = 0; j <= i; j++)
                ddb_client_free(apps[j].send_ctx);
            goto out;
        }
        workers[i] = (struct server_worker){
            .app = &apps[i],
            .sources = {{ddb_client_fd(ddb), source_timeout_ms, source_run, source_close, ddb},
                        {waker, waker_timeout_ms, waker_run, waker_close, (void *)(intptr_t)waker}},
            .n_sources = 2,
        };
        if (i == 0) /* the credentials loop: refreshes and provider I/O for the whole process */
            workers[i].sources[workers[i].n_sources++] =
                (struct server_source){credsio_fd(credsio), credsio_source_timeout_ms, credsio_source_run,
                                       credsio_source_close, credsio};
    }
    server = server_start(&cfg, workers, n, &err); /* owns the clients from here on */
    if (port_lock >= 0) { /* the workers listen: from now on the probe itself refuses other instances */
        close(port_lock);
        port_lock = -1;
    }
    if (server == NULL) {
        log_error("%s", buf_cstr(&err));
        goto out;
    }
    log_info("usersvc %s listening on http://%s:%d with %zu threads (table %s at %s, region %s)", USERSVC_VERSION,
             cfg.host, server_port(server), n, cfg.table, cfg.endpoint, cfg.region);

    int sig = 0;
    sigwait(&signals, &sig);
    log_info("signal %d: draining in-flight requests", sig);
    server_stop(server, cfg.timeout_ms + 1000);
    status = 0;
out:
    if (port_lock >= 0)
        close(port_lock);
    log_flush_repeats(); /* the last window's "repeated N times" line, however recent */
    free(workers);
    for (size_t i = 0; apps != NULL && i < n; i++)
        auth_worker_free(apps[i].auth); /* the workers have stopped */
    metrics_free(metrics);
    readycache_clean_up(&ready);
    free(apps);
    credsio_stop(credsio); /* before the cache: completes what a provider still waits for */
    auth_free(auth);       /* after the loop: no JWKS fetch is in flight */
    authconfig_clean_up(&authcfg);
    creds_cache_free(creds);
    credsio_free(credsio);
    httpc_global_cleanup();
    config_clean_up(&cfg);
    buf_clean_up(&err);
    return status;
}
