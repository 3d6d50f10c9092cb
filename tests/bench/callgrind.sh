#!/usr/bin/env bash
# Instructions per request in the worker thread, under callgrind: repeatable on a busy host, where
# wall-clock figures are not. One worker (THREADS=1) against slowddb (the canned DynamoDB backend,
# 0 ms delay, answering Scan with 50 users), one keep-alive client connection; collection only inside
# worker_main. Each route runs twice, with 200 and 1200 requests; the difference over 1000 removes
# start-up and shutdown:
#   instructions per request = (Ir(1200 requests) - Ir(200 requests)) / 1000
#
#   tests/bench/callgrind.sh [USERSVC_BIN] [ROUTE...]     routes: get list post patch (default: all)
# Prints one line per route: "callgrind: get 123456 instructions/request". Needs valgrind.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/usersvc}
shift || true
routes=("$@")
[ ${#routes[@]} -gt 0 ] || routes=(get list post patch)
out=$root/build/bench/callgrind
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 2; }
[ -x "$bin" ] || { echo "callgrind.sh: no usersvc binary at $bin" >&2; exit 2; }
cc -O2 -o "$out/slowddb" "$root/tests/bench/slowddb.c"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

ddb_port=$(free_port)
SLOWDDB_SCAN_ITEMS=50 "$out/slowddb" "$ddb_port" 0 >"$out/slowddb.log" 2>&1 &
pids+=($!)

# run ROUTE N: Ir of the worker for N requests of ROUTE.
run() {
  local route=$1 n=$2 port pid file
  port=$(free_port)
  file=$out/callgrind.$route.$n
  rm -f "$file"
  env -i PATH="$PATH" HOST=127.0.0.1 PORT="$port" THREADS=1 LOG_LEVEL=warn \
    AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port" AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench/secret TABLE_NAME=Users AUTO_CREATE_TABLE=false \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    valgrind --tool=callgrind --toggle-collect=worker_main --callgrind-out-file="$file" "$bin" \
    >"$out/usersvc.$route.$n.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  python3 - "$port" "$route" "$n" <<'PY'
import http.client, json, sys, time
port, route, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
uid = "0b7e4b2c-7a40-4d7e-9a3a-4f4a0b8f7c11"
deadline = time.time() + 120
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        if time.time() > deadline: sys.exit("usersvc did not start")
        time.sleep(0.2)
want = {"get": 200, "list": 200, "post": 201, "patch": 200}[route]
for i in range(n):
    if route == "get":
        c.request("GET", "/users/" + uid)
    elif route == "list":
        c.request("GET", "/users?limit=50")
    elif route == "post":
        c.request("POST", "/users", json.dumps({"name": "Bench", "email": "bench%d@example.com" % i}),
                  {"Content-Type": "application/json"})
    else:
        c.request("PATCH", "/users/" + uid, json.dumps({"name": "Bench %d" % i}), {"Content-Type": "application/json"})
    r = c.getresponse(); body = r.read()
    if r.status != want: sys.exit("%s: HTTP %d %s" % (route, r.status, body[:200]))
    if route == "list" and len(json.loads(body)) != 50: sys.exit("list: not 50 users")
PY
  kill -TERM "$pid"
  wait "$pid" || true
  sed -n 's/^summary: *//p' "$file"
}

for route in "${routes[@]}"; do
  small=$(run "$route" 200)
  large=$(run "$route" 1200)
  echo "callgrind: $route $(( (large - small) / 1000 )) instructions/request"
done
