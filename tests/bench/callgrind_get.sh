#!/usr/bin/env bash
# CPU per GET /users/{id}, counted in instructions (Ir) by callgrind: THREADS=1 usersvc under
# `valgrind --tool=callgrind --toggle-collect=worker_main` against build/bench/slowddb (0 ms delay),
# N GETs on one keep-alive connection (curl). Prints (Ir(1200) - Ir(200)) / 1000: the per-request cost
# with start-up and the first requests' warm-up taken out. Not part of `make test` (valgrind is slow).
#   tests/bench/callgrind_get.sh [USERSVC_BIN]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/usersvc}
out=$root/build/bench
mkdir -p "$out"
[ -x "$out/slowddb" ] && [ "$out/slowddb" -nt "$root/tests/bench/slowddb.c" ] ||
  cc -O2 -Wall -Wextra -o "$out/slowddb" "$root/tests/bench/slowddb.c"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dport=$(free_port)
"$out/slowddb" "$dport" 0 >/dev/null 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null || true' EXIT
id=0b7e4b2c-7a40-4d7e-9a3a-4f4a0b8f7c11
measure() { # $1 = GETs; prints the Ir total
  local n=$1 port pid f=$out/callgrind.$1.out
  port=$(free_port)
  rm -f "$f" "$out/callgrind.$n.log"
  THREADS=1 HOST=127.0.0.1 PORT=$port AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$dport AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AUTO_CREATE_TABLE=false ${CALLGRIND_ENV:-} \
    valgrind --tool=callgrind --toggle-collect=worker_main --callgrind-out-file="$f" "$bin" 2>"$out/callgrind.$n.log" &
  pid=$!
  # wait for the start-up line, not with a probe: any request would be counted
  for _ in $(seq 300); do grep -q 'listening on' "$out/callgrind.$n.log" 2>/dev/null && break; sleep 0.1; done
  local urls=()
  for _ in $(seq "$n"); do urls+=("http://127.0.0.1:$port/users/$id"); done
  curl -s -o /dev/null "${urls[@]}" >/dev/null
  kill -TERM $pid
  wait $pid || true
  awk '/^summary:|^totals:/ {print $2; exit}' "$f"
}
a=$(measure 200)
b=$(measure 1200)
echo "Ir(200)=$a Ir(1200)=$b per GET=$(( (b - a) / 1000 ))"
