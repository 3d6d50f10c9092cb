# shellcheck shell=bash
# Graceful shutdown: SIGTERM while requests wait on a slow (2 s) backend. The requests in progress get
# their real answers, a new request on an open keep-alive connection gets 503 + Connection: close, the
# workers do not spin while they drain, and the process exits 0 with a sanitizer-clean log.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SD_DIR=$(mktemp -d "$E2E_TMP/shutdown.XXXXXX")
SD_FAKE_PID=""
SD_PID=""
SD_CURLS=()
sd_cleanup() {
	local p
	for p in "${SD_CURLS[@]}" "$SD_PID" "$SD_FAKE_PID"; do
		[[ -n $p ]] && kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	return 0
}
trap 'sd_cleanup; _e2e_on_exit' EXIT

python3 "$SD_ROOT/tests/support/fake_ddb.py" --mode ok --delay-ms 2000 --port 0 \
	--ready-file "$SD_DIR/fake.port" --count-file "$SD_DIR/fake.count" >"$SD_DIR/fake.log" 2>&1 &
SD_FAKE_PID=$!
echo "$SD_FAKE_PID" >>"$E2E_TMP/pids"
for ((i = 0; i < 100; i++)); do [[ -s $SD_DIR/fake.port ]] && break; sleep 0.1; done

port=$(free_port)
log=$SD_DIR/usersvc.log
start_service "$log" -u AWS_SESSION_TOKEN -u MAX_BODY_BYTES \
	HOST=127.0.0.1 PORT="$port" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$(cat "$SD_DIR/fake.port")" \
	AWS_ACCESS_KEY_ID=AKIAEXAMPLESLOW AWS_SECRET_ACCESS_KEY=slow/secret AUTO_CREATE_TABLE=false \
	DYNAMODB_TIMEOUT_MS=5000 THREADS=4 TABLE_NAME="Users-shutdown-$$"
SD_PID=$SVC_PID
url=http://127.0.0.1:$port
up=""
wait_ok "$SD_PID" "$url/healthz" && up=1 # start-up waits one slow DescribeTable
REQ_DESC="start a service on a 2 s backend" STATUS="" BODY="$(tail -n 5 "$log" 2>/dev/null)"
check "service on a slow backend starts and answers /healthz" test -n "$up"

# gets_to FILE PATTERN: waits up to 10 s for PATTERN in FILE. Returns 0 when it is there.
gets_to() {
	local i
	for ((i = 0; i < 200; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}

if [[ -n $up ]]; then
	# The order is driven by events, not sleeps, so a slow machine cannot reorder it: an idle
	# keep-alive connection answers once; then three GETs reach the 2 s backend; then SIGTERM;
	# then the keep-alive connection asks again, during the drain.
	python3 - "$port" "$SD_DIR/go" >"$SD_DIR/keepalive.out" 2>&1 <<'PY' &
import http.client, os, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
conn.request("GET", "/healthz"); r = conn.getresponse(); r.read()
print("before", r.status, flush=True)
for _ in range(1000):  # until the test has sent SIGTERM
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.01)
conn.request("GET", "/healthz"); r = conn.getresponse(); body = r.read().decode()
print("during", r.status, (r.getheader("Connection") or "").lower(), body, flush=True)
PY
	SD_CURLS+=($!)
	gets_to "$SD_DIR/keepalive.out" '^before' || fail "the keep-alive client got no first answer in 10 s"
	for n in 1 2 3; do
		curl -s -o "$SD_DIR/inflight.$n" -w '%{http_code}' --max-time 10 "$url/users/$(rand_uuid)" \
			>"$SD_DIR/inflight.$n.status" &
		SD_CURLS+=($!)
	done
	gets_to "$SD_DIR/fake.count" '"DynamoDB_20120810.GetItem": 3[,}]' ||
		fail "the three GETs did not reach the backend in 10 s"
	ticks_before=$(awk '{print $14 + $15}' "/proc/$SD_PID/stat")
	kill -TERM "$SD_PID"
	# Draining has begun once new connections are refused: every worker closes its listener
	# in the same step that makes it answer 503. Then the keep-alive client asks.
	refused=""
	for ((i = 0; i < 100; i++)); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/healthz") == 000 ]] && refused=1 && break
		sleep 0.02
	done
	[[ -n $refused ]] || fail "new connections were still accepted 2 s after SIGTERM"
	: >"$SD_DIR/go"
	sleep 0.5
	ticks_during=$(awk '{print $14 + $15}' "/proc/$SD_PID/stat" 2>/dev/null || echo "$ticks_before")
	spent=$((ticks_during - ticks_before))
	check "draining workers do not spin (CPU ticks in 0.5 s of drain: $spent)" test "$spent" -le 20
	start=$SECONDS
	stop_pid "$SD_PID" 10
	st=$?
	REQ_DESC="SIGTERM with requests in progress" STATUS="$st" BODY="$(tail -n 5 "$log" 2>/dev/null)"
	check "exits 0 after draining (status $st, $((SECONDS - start))s)" test "$st" -eq 0
	for p in "${SD_CURLS[@]}"; do wait "$p" 2>/dev/null; done
	for n in 1 2 3; do
		code=$(cat "$SD_DIR/inflight.$n.status")
		REQ_DESC="GET in progress during SIGTERM" STATUS="$code" BODY="$(cat "$SD_DIR/inflight.$n")"
		# The fake's GetItem finds nothing: the real answer is 404, not a reset (000) or a 503.
		check "request $n in progress at SIGTERM gets its real answer (404 user_not_found), got $code" \
			test "$code" = 404
	done
	ka=$(cat "$SD_DIR/keepalive.out")
	REQ_DESC="keep-alive request during the drain" STATUS="" BODY="$ka"
	check "an open keep-alive connection worked before the signal" grep -q '^before 200' "$SD_DIR/keepalive.out"
	check "a request on it during the drain gets 503 + Connection: close" \
		grep -q '^during 503 close .*"code":"backend_unavailable"' "$SD_DIR/keepalive.out"
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$log"; then
		fail "shutdown instance: sanitizer report in its log"
	else
		pass "shutdown instance: no sanitizer report in its log"
	fi
	SD_PID=""
fi
