-- Shared by the wrk scripts: loaded with dofile() from the script's own folder, in the main
-- Lua state and in every thread's state.
--   * numbers each wrk thread (global `tid`, 1..n) for unique POST bodies
--   * done() prints one machine-readable line that tests/bench/bench.mjs parses:
--       WRK_RESULT {"requests":..,"duration_us":..,"non2xx3xx":..,"connect_errors":..,...,"p50_us":..}
--     "non2xx3xx" is wrk's own count of responses whose status was not 2xx or 3xx.
local M = {}

M.user_id = "0b7e4b2c-7a40-4d7e-9a3a-4f4a0b8f7c11"
M.email = "ada%40example.com"
-- Set by the harness from what usersvc accepts (JSON merge patch or plain JSON).
M.patch_content_type = os.getenv("BENCH_PATCH_CONTENT_TYPE") or "application/merge-patch+json"
-- Differs between runs so POSTed emails never repeat across runs either.
M.run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

-- Headers for a formatted request: wrk's Host header plus `extra`.
function M.headers(extra)
  local h = { ["Host"] = wrk.headers["Host"] }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local post_n = 0
function M.post_request()
  post_n = post_n + 1
  local body = string.format('{"name":"Bench User %d","email":"bench-%s-t%d-%d@example.com"}',
                              post_n, M.run_id, tid or 0, post_n)
  return wrk.format("POST", "/users", M.headers({ ["Content-Type"] = "application/json" }), body)
end

function M.patch_request()
  return wrk.format("PATCH", "/users/" .. M.user_id,
                    M.headers({ ["Content-Type"] = M.patch_content_type }), '{"name":"Ada King"}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx3xx":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"lat_mean_us":%.1f,"lat_max_us":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end

return M
