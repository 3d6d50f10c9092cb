/* usersvc: a REST service for a DynamoDB users table. main builds the
 * immutable application state, makes sure the table exists, serves until
 * SIGINT/SIGTERM, then drains in-flight requests and stops. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "config.h"
#include "creds.h"
#include "ddb.h"
#include "httpc.h"
#include "log.h"
#include "model.h"
#include "retryquota.h"
#include "server.h"

#define STARTUP_WAIT_MS 60000

static const char usage[] =
    "usage: usersvc [--help | --version]\n"
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
    "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (required unless loopback)\n"
    "  DYNAMODB_TIMEOUT_MS (5000)  DYNAMODB_CONNECT_TIMEOUT_MS (1000)  THREADS (usable CPUs)\n"
    "  CORS_ALLOW_ORIGIN (*)  CURSOR_SECRET (the table name)  LOG_LEVEL (info)\n"
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
    if (ddb_send(ddb, operation, request, sync_done, call) != 0) {
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

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits for the table (creating it when allowed). Returns 0 when it is
 * ACTIVE, or when it may be missing and the service should start anyway
 * (/readyz then answers 503); -1 with a line on stderr when start-up must fail. */
static int ensure_table(const struct app *app)
{
    const struct config *cfg = app->cfg;
    int created = 0;
    for (long waited = 0; waited < STARTUP_WAIT_MS; waited += 250) {
        struct sync_call call;
        call_sync(app->ddb, "DescribeTable", model_describe_table(&app->table), &call);
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
                call_sync(app->ddb, "CreateTable", model_create_table(&app->table), &call);
                json_decref(call.body);
                if (call.status != DDB_OK && strcmp(call.code, "ResourceInUseException") != 0) {
                    fprintf(stderr, "usersvc: cannot create table %s: %s\n", cfg->table, call.message);
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
            fprintf(stderr, "usersvc: DynamoDB refused DescribeTable: %s\n", call.message);
            return -1;
        } else if (waited == 0) {
            log_warn("waiting for DynamoDB at %s (%s)", cfg->endpoint, call.message);
        }
        sleep_ms(250);
    }
    fprintf(stderr, "usersvc: table %s at %s did not become ACTIVE within %d s\n", cfg->table, cfg->endpoint,
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

struct creds_wait {
    int done;
    struct creds *creds;
};

static void creds_ready(void *ctx, struct creds *creds, const char *error)
{
    struct creds_wait *wait = ctx;
    wait->creds = creds;
    wait->done = 1;
}

/* The process's credentials: today the static keys of the configuration (or the loopback dummies),
 * behind the cache every worker's DynamoDB client signs from. Returns NULL with a line on stderr. */
static struct creds_cache *start_credentials(const struct config *cfg)
{
    const char *name = getenv("AWS_ACCESS_KEY_ID") != NULL ? "environment" : "loopback-dummy";
    struct creds_provider *source =
        creds_static_new(cfg->access_key_id, cfg->secret_access_key, cfg->session_token, name);
    struct creds_cache *cache = source != NULL ? creds_cache_new(&(struct creds_cache_options){.source = source})
                                               : NULL;
    struct creds_wait wait = {0};
    /* The static provider answers at once; providers with I/O will prime the cache on a loop. */
    if (cache == NULL || creds_provider_get(creds_cache_provider(cache), creds_ready, &wait) != 0 || !wait.done ||
        wait.creds == NULL) {
        fprintf(stderr, "usersvc: cannot set up the credentials\n");
        creds_cache_free(cache);
        return NULL;
    }
    creds_unref(wait.creds);
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

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--version") == 0) {
            printf("usersvc %s\n", USERSVC_VERSION);
            return 0;
        }
        fputs(usage, strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? stdout : stderr);
        return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
    }

    struct config cfg;
    struct buf err = BUF_INIT;
    if (config_load(&cfg, lookup_env, NULL, &err) != 0) {
        fprintf(stderr, "usersvc: %s\n", buf_cstr(&err));
        buf_clean_up(&err);
        config_clean_up(&cfg);
        return 2;
    }
    log_set_level((enum log_level)cfg.log_level);

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
    struct app_counters *counters = NULL;
    struct server_worker *workers = NULL;
    size_t n = (size_t)cfg.threads;
    if (httpc_global_init() != 0) {
        fprintf(stderr, "usersvc: curl_global_init failed\n");
        config_clean_up(&cfg);
        return 1;
    }
    struct creds_cache *creds = start_credentials(&cfg); /* shared by every worker; freed after them */
    if (creds == NULL)
        goto out;
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
    /* Start-up paces its own DescribeTable loop: it does not ration its retries, so workers start with a full quota. */
    struct ddb_config startup_cfg = ddb_cfg;
    startup_cfg.quota = NULL;
    struct app startup = {.cfg = &cfg, .ddb = ddb_client_new(&startup_cfg), .table = {cfg.table, cfg.email_index}};
    int table_ok = startup.ddb != NULL && ensure_table(&startup) == 0;
    if (startup.ddb == NULL)
        fprintf(stderr, "usersvc: cannot start the DynamoDB client\n");
    ddb_client_free(startup.ddb);
    if (!table_ok)
        goto out;

    /* One app (and DynamoDB client) per worker: a worker never shares its client. */
    apps = calloc(n, sizeof *apps);
    counters = calloc(n, sizeof *counters);
    workers = calloc(n, sizeof *workers);
    if (apps == NULL || counters == NULL || workers == NULL) {
        fprintf(stderr, "usersvc: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        apps[i] = (struct app){.cfg = &cfg, .ddb = ddb_client_new(&ddb_cfg), .table = {cfg.table, cfg.email_index},
                               .counters = &counters[i]};
        if (apps[i].ddb == NULL) {
            fprintf(stderr, "usersvc: cannot start the DynamoDB client\n");
            for (size_t j = 0; j <= i; j++)
                ddb_client_free(apps[j].ddb);
            goto out;
        }
        workers[i] = (struct server_worker){
            .app = &apps[i],
            .sources = {{ddb_client_fd(apps[i].ddb), source_timeout_ms, source_run, source_close, apps[i].ddb}},
            .n_sources = 1,
        };
    }
    server = server_start(&cfg, workers, n, &err); /* owns the clients from here on */
    if (server == NULL) {
        fprintf(stderr, "usersvc: %s\n", buf_cstr(&err));
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
    log_flush_repeats(); /* the last window's "repeated N times" line, however recent */
    free(workers);
    free(counters);
    free(apps);
    creds_cache_free(creds);
    httpc_global_cleanup();
    config_clean_up(&cfg);
    buf_clean_up(&err);
    return status;
}
