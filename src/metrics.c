#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

struct metrics {
    size_t n_workers;
    struct metrics_worker **workers; /* each its own aligned allocation */
    const char *const *route_names;
    size_t n_routes;
    const char *version;
    double start_time; /* Unix seconds */
};

/* The statuses the service answers; index METRICS_STATUSES - 1 counts any other. */
static const int statuses[METRICS_STATUSES - 1] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 406, 408,
                                                   409, 410, 412, 413, 415, 422, 429, 500, 502, 503, 504, 505};

/* Upper bounds of the latency buckets, in microseconds, and as Prometheus writes them (seconds). */
static const int64_t bounds_us[METRICS_BUCKETS] = {500,    1000,   2500,    5000,    10000,   25000,   50000,
                                                   100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const bounds_text[METRICS_BUCKETS] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                                         "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                                         "1",      "2.5",   "5",      "10"};

static const char *const op_names[METRICS_OPS] = {"GetItem", "PutItem",       "UpdateItem",  "DeleteItem", "Query",
                                                  "Scan",    "TransactWriteItems", "DescribeTable", "CreateTable",
                                                  "other"};
static const char *const outcome_names[METRICS_DDB_OUTCOMES] = {
    "ok", "conditional_check_failed", "transaction_canceled", "error", "throttled",
    "unavailable", "timeout", "bad_response", "shutdown"};
static const char *const conflict_names[METRICS_CONFLICTS] = {"email_taken", "precondition_failed",
                                                              "concurrent_update", "retried"};

/* Process start time in Unix seconds, from /proc (field 22 of /proc/self/stat and the boot time);
 * now when /proc cannot say. */
static double process_start_time(void)
{
    double now = (double)time(NULL);
    char stat[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f != NULL ? fread(stat, 1, sizeof stat - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    stat[n] = '\0';
    const char *p = strrchr(stat, ')'); /* the command name may hold spaces */
    unsigned long long start_ticks = 0;
    for (int field = 2; p != NULL && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL || sscanf(p + 1, "%llu", &start_ticks) != 1)
        return now;
    unsigned long long btime = 0;
    char line[256];
    f = fopen("/proc/stat", "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    if (f != NULL)
        fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return btime == 0 || hz <= 0 ? now : (double)btime + (double)start_ticks / (double)hz;
}

struct metrics *metrics_new(size_t n_workers, const char *const *route_names, size_t n_routes, const char *version)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (m == NULL || (m->workers = calloc(n_workers, sizeof *m->workers)) == NULL) {
        free(m);
        return NULL;
    }
    m->n_workers = n_workers;
    size_t size = (sizeof(struct metrics_worker) + 63) / 64 * 64;
    for (size_t i = 0; i < n_workers; i++) {
        m->workers[i] = aligned_alloc(64, size);
        if (m->workers[i] == NULL) {
            metrics_free(m);
            return NULL;
        }
        memset(m->workers[i], 0, size);
    }
    m->route_names = route_names;
    m->n_routes = n_routes < METRICS_MAX_ROUTES ? n_routes : METRICS_MAX_ROUTES;
    m->version = version;
    m->start_time = process_start_time();
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_workers; i++)
        free(m->workers[i]);
    free(m->workers);
    free(m);
}

struct metrics_worker *metrics_worker(struct metrics *m, size_t i)
{
    return m->workers[i];
}

enum metrics_ddb_op metrics_ddb_op(const char *operation)
{
    for (int i = 0; i < METRICS_OP_OTHER; i++)
        if (strcmp(operation, op_names[i]) == 0)
            return (enum metrics_ddb_op)i;
    return METRICS_OP_OTHER;
}

const char *metrics_ddb_outcome_name(enum metrics_ddb_outcome outcome)
{
    return outcome_names[outcome];
}

static unsigned status_index(int status)
{
    unsigned lo = 0, hi = METRICS_STATUSES - 1;
    while (lo < hi) { /* statuses is sorted */
        unsigned mid = (lo + hi) / 2;
        if (statuses[mid] < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < METRICS_STATUSES - 1 && statuses[lo] == status ? lo : METRICS_STATUSES - 1;
}

static void observe(struct metrics_histogram *h, int64_t us)
{
    if (us < 0)
        us = 0;
    unsigned b = 0;
    while (b < METRICS_BUCKETS && us > bounds_us[b])
        b++;
    metrics_add(&h->buckets[b], 1);
    metrics_add(&h->sum_us, (uint64_t)us);
}

void metrics_http_done(struct metrics_worker *w, unsigned route, enum http_method method, int status,
                       int64_t duration_us)
{
    if (route >= METRICS_MAX_ROUTES)
        route = 0;
    unsigned m = method != 0 ? (unsigned)__builtin_ctz((unsigned)method) : METRICS_METHODS - 1;
    if (m >= METRICS_METHODS)
        m = METRICS_METHODS - 1;
    metrics_add(&w->http_requests[route][m][status_index(status)], 1);
    observe(&w->http_duration[route], duration_us);
}

void metrics_ddb_done(struct metrics_worker *w, enum metrics_ddb_op op, enum metrics_ddb_outcome outcome,
                      int retries, int64_t duration_us)
{
    metrics_add(&w->ddb_requests[op][outcome], 1);
    if (retries > 0)
        metrics_add(&w->ddb_retries[op], (uint64_t)retries);
    observe(&w->ddb_duration[op], duration_us);
}

/* ---- rendering ---- */

/* Sums the counter at byte offset `at` of every worker's block. */
static uint64_t sum(const struct metrics *m, size_t at)
{
    uint64_t total = 0;
    for (size_t i = 0; i < m->n_workers; i++)
        total += __atomic_load_n((const metrics_counter *)((const char *)m->workers[i] + at), __ATOMIC_RELAXED);
    return total;
}

#define AT(field) offsetof(struct metrics_worker, field)

static int header(struct buf *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes a histogram's series for one label set ("route=\"/users\""); skipped when empty. */
static int histogram(struct buf *out, const struct metrics *m, const char *name, const char *labels, size_t at)
{
    uint64_t counts[METRICS_BUCKETS + 1], total = 0;
    for (unsigned b = 0; b <= METRICS_BUCKETS; b++) {
        counts[b] = sum(m, at + offsetof(struct metrics_histogram, buckets) + b * sizeof(metrics_counter));
        total += counts[b];
    }
    if (total == 0)
        return 0;
    uint64_t cumulative = 0;
    for (unsigned b = 0; b < METRICS_BUCKETS; b++) {
        cumulative += counts[b];
        if (buf_printf(out, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, bounds_text[b],
                       (unsigned long long)cumulative) != 0)
            return -1;
    }
    uint64_t sum_us = sum(m, at + offsetof(struct metrics_histogram, sum_us));
    return buf_printf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n%s_sum{%s} %llu.%06llu\n%s_count{%s} %llu\n", name, labels,
                      (unsigned long long)total, name, labels, (unsigned long long)(sum_us / 1000000),
                      (unsigned long long)(sum_us % 1000000), name, labels, (unsigned long long)total);
}

static const char *route_name(const struct metrics *m, unsigned route)
{
    return route > 0 && route < m->n_routes && m->route_names[route] != NULL ? m->route_names[route] : "none";
}

static int gauge(struct buf *out, const struct metrics *m, const char *name, const char *help, size_t up, size_t down)
{
    uint64_t u = sum(m, up), d = sum(m, down);
    return header(out, name, "gauge", help) != 0 ||
                   buf_printf(out, "%s %lld\n", name, (long long)(u >= d ? u - d : 0)) != 0
               ? -1
               : 0;
}

/* The process_* metrics every Prometheus client exports, from getrusage, /proc and getrlimit. */
static int render_process(const struct metrics *m, struct buf *out)
{
    int rc = 0;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                     ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
        rc |= header(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
        rc |= buf_printf(out, "process_cpu_seconds_total %.6f\n", cpu);
    }
    unsigned long long pages_virtual, pages_resident;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL && fscanf(f, "%llu %llu", &pages_virtual, &pages_resident) == 2) {
        unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
        rc |= header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        rc |= buf_printf(out, "process_resident_memory_bytes %llu\n", pages_resident * page);
        rc |= header(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        rc |= buf_printf(out, "process_virtual_memory_bytes %llu\n", pages_virtual * page);
    }
    if (f != NULL)
        fclose(f);
    DIR *dir = opendir("/proc/self/fd");
    if (dir != NULL) {
        long fds = -1; /* the directory's own descriptor is not counted */
        while (readdir(dir) != NULL)
            fds++;
        closedir(dir);
        rc |= header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
        rc |= buf_printf(out, "process_open_fds %ld\n", fds - 2); /* "." and ".." */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rc |= header(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        rc |= buf_printf(out, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    rc |= header(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    rc |= buf_printf(out, "process_start_time_seconds %.2f\n", m->start_time);
    return rc != 0 ? -1 : 0;
}

/* Appends s as a label value: backslash, double quote and newline escaped. */
static int label_value(struct buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        int rc = *s == '\\' ? buf_append(out, "\\\\", 2)
                 : *s == '"' ? buf_append(out, "\\\"", 2)
                 : *s == '\n' ? buf_append(out, "\\n", 2)
                              : buf_append_char(out, *s);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int metrics_render(const struct metrics *m, struct buf *out)
{
    int rc = 0;
    rc |= header(out, "usersvc_http_requests_total", "counter",
                 "HTTP requests answered, by route template, method and status.");
    for (unsigned r = 0; r < METRICS_MAX_ROUTES; r++)
        for (unsigned meth = 0; meth < METRICS_METHODS; meth++)
            for (unsigned s = 0; s < METRICS_STATUSES; s++) {
                uint64_t n = sum(m, AT(http_requests[r][meth][s]));
                if (n == 0)
                    continue;
                char status[8];
                if (s < METRICS_STATUSES - 1)
                    snprintf(status, sizeof status, "%d", statuses[s]);
                else
                    memcpy(status, "other", 6);
                rc |= buf_printf(out, "usersvc_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
                                 route_name(m, r), http_method_name((enum http_method)(1u << meth)), status,
                                 (unsigned long long)n);
            }
    rc |= header(out, "usersvc_http_request_duration_seconds", "histogram",
                 "Time from the request line until the answer was sent, by route template.");
    for (unsigned r = 0; r < METRICS_MAX_ROUTES; r++) {
        char labels[96];
        snprintf(labels, sizeof labels, "route=\"%s\"", route_name(m, r));
        rc |= histogram(out, m, "usersvc_http_request_duration_seconds", labels, AT(http_duration[r]));
    }
    rc |= gauge(out, m, "usersvc_http_requests_in_flight", "HTTP requests begun and not yet completed.",
                AT(in_flight_up), AT(in_flight_down));
    rc |= gauge(out, m, "usersvc_http_requests_waiting_dynamodb", "HTTP requests waiting on DynamoDB.",
                AT(waiting_up), AT(waiting_down));
    rc |= gauge(out, m, "usersvc_http_connections_open", "Open client connections.", AT(connections_up),
                AT(connections_down));

    rc |= header(out, "usersvc_dynamodb_requests_total", "counter",
                 "DynamoDB operations finished (after their retries), by operation and outcome.");
    for (unsigned op = 0; op < METRICS_OPS; op++)
        for (unsigned o = 0; o < METRICS_DDB_OUTCOMES; o++) {
            uint64_t n = sum(m, AT(ddb_requests[op][o]));
            if (n > 0)
                rc |= buf_printf(out, "usersvc_dynamodb_requests_total{operation=\"%s\",outcome=\"%s\"} %llu\n",
                                 op_names[op], outcome_names[o], (unsigned long long)n);
        }
    rc |= header(out, "usersvc_dynamodb_request_duration_seconds", "histogram",
                 "Time of a DynamoDB operation, retries included, by operation.");
    for (unsigned op = 0; op < METRICS_OPS; op++) {
        char labels[64];
        snprintf(labels, sizeof labels, "operation=\"%s\"", op_names[op]);
        rc |= histogram(out, m, "usersvc_dynamodb_request_duration_seconds", labels, AT(ddb_duration[op]));
    }
    rc |= header(out, "usersvc_dynamodb_retries_total", "counter", "DynamoDB attempts retried, by operation.");
    for (unsigned op = 0; op < METRICS_OPS; op++) {
        uint64_t n = sum(m, AT(ddb_retries[op]));
        if (n > 0)
            rc |= buf_printf(out, "usersvc_dynamodb_retries_total{operation=\"%s\"} %llu\n", op_names[op],
                             (unsigned long long)n);
    }
    rc |= header(out, "usersvc_dynamodb_throttles_total", "counter",
                 "DynamoDB attempts answered with throttling, by operation.");
    for (unsigned op = 0; op < METRICS_OPS; op++) {
        uint64_t n = sum(m, AT(ddb_throttles[op]));
        if (n > 0)
            rc |= buf_printf(out, "usersvc_dynamodb_throttles_total{operation=\"%s\"} %llu\n", op_names[op],
                             (unsigned long long)n);
    }
    rc |= header(out, "usersvc_write_conflicts_total", "counter",
                 "Conditional writes DynamoDB refused, by what they meant for the request.");
    for (unsigned c = 0; c < METRICS_CONFLICTS; c++)
        rc |= buf_printf(out, "usersvc_write_conflicts_total{outcome=\"%s\"} %llu\n", conflict_names[c],
                         (unsigned long long)sum(m, AT(conflicts[c])));
    rc |= header(out, "usersvc_unreadable_users_total", "counter",
                 "Stored users skipped on list pages or refused (500) because they cannot be rendered.");
    rc |= buf_printf(out, "usersvc_unreadable_users_total %llu\n", (unsigned long long)sum(m, AT(unreadable_users)));
    rc |= header(out, "usersvc_build_info", "gauge", "The running build: always 1.");
    rc |= buf_append_str(out, "usersvc_build_info{version=\"");
    rc |= label_value(out, m->version);
    rc |= buf_append_str(out, "\"} 1\n");
    rc |= render_process(m, out);
    return rc != 0 ? -1 : 0;
}
