#!/usr/bin/env bash
# Instructions per GET by id with AUTH=none and with AUTH=jwt (RS256, cached key), by callgrind: a
# repeatable proxy for the CPU cost of authentication that a shared, noisy machine does not blur.
#   tests/bench/callgrind_auth.sh build/usersvc
# usersvc runs under valgrind --tool=callgrind with one worker against tests/bench/slowddb.c (no delay);
# a keep-alive client sends N1 and then, in a second run, N2 GETs; (Ir(N2) - Ir(N1)) / (N2 - N1) is the
# cost of one request with start-up and shutdown cancelled out. Prints one line per mode and the ratio.
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N1=${CG_N1:-200} N2=${CG_N2:-2200}
work=$(mktemp -d -t usersvc-cg.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

mkdir -p "$root/build/bench"
[ -x "$root/build/bench/slowddb" ] || cc -O2 -o "$root/build/bench/slowddb" "$here/slowddb.c"
ddb_port=$(free_port)
"$root/build/bench/slowddb" "$ddb_port" 0 >"$work/slowddb.log" 2>&1 &
pids+=($!)

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/key.pem" 2>/dev/null
python3 "$root/tests/support/jwtmint.py" jwks "$work/key.pem:bench" >"$work/jwks.json"
token=$(python3 "$root/tests/support/jwtmint.py" sign "$work/key.pem" RS256 bench \
	"{\"sub\":\"bench\",\"scope\":\"users:read\",\"exp\":$(($(date +%s) + 86400))}")

# run MODE N: Ir of the whole process for N requests
run() {
	local mode=$1 n=$2 port out
	port=$(free_port)
	out=$work/cg.$mode.$n
	local -a auth=(AUTH=none)
	[ "$mode" = jwt ] && auth=(AUTH=jwt "JWT_JWKS_FILE=$work/jwks.json")
	# none+token: AUTH=none sent the very same request bytes (the token ignored), which separates what
	# checking the token costs from what libmicrohttpd spends reading a longer request (~7 instructions a byte)
	env HOST=127.0.0.1 PORT="$port" THREADS=1 AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port" AWS_REGION=us-east-1 \
		AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AUTO_CREATE_TABLE=false LOG_LEVEL=warn "${auth[@]}" \
		valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" >"$work/usersvc.$mode.$n.log" 2>&1 &
	local pid=$!
	python3 - "$port" "$n" "$token" "$mode" <<'PY'
import http.client, sys, time
port, n, token, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/healthz"); c.getresponse().read()
        break
    except OSError:
        time.sleep(0.1)
h = {"Authorization": "Bearer " + token} if mode != "none" else {}
for _ in range(n):
    c.request("GET", "/users/0b7e4b2c-7a40-4d7e-9a3a-4f4a0b8f7c11", headers=h)
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
	kill -TERM "$pid"
	wait "$pid" || true
	sed -n 's/^summary: *//p;s/^totals: *//p' "$out" | head -n 1
}

declare -A per
for mode in none none+token jwt; do
	a=$(run "$mode" "$N1")
	b=$(run "$mode" "$N2")
	per[$mode]=$(((b - a) / (N2 - N1)))
	echo "callgrind: AUTH=$mode: ${per[$mode]} instructions per GET by id (($b - $a) / ($N2 - $N1))"
done
awk -v j="${per[jwt]}" -v n="${per[none]}" -v t="${per[none+token]}" -v len="${#token}" 'BEGIN {
	printf "callgrind: AUTH=jwt / AUTH=none = %.3f (AUTH=none without the %d-byte token header)\n", j / n, len
	printf "callgrind: AUTH=jwt / AUTH=none+token = %.3f (the same request bytes: what checking the token costs)\n", j / t
}'
