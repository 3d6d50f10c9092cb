# shellcheck shell=bash
# Slow clients and connection floods (README: Security): a request head must arrive within
# HEADER_TIMEOUT_MS however slowly it trickles, a body may not pause longer than BODY_TIMEOUT_MS,
# an idle kept-alive connection closes after KEEPALIVE_TIMEOUT_MS; at MAX_CONNECTIONS the idle and
# the slowest connections make room, so a new client is answered at once; MAX_CONNECTIONS_PER_IP
# caps one address. Two instances of their own, with short timeouts and small limits.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
edge() { python3 "$ES_ROOT/tests/support/edge_client.py" "$@"; }
ES_PIDS=()
jqe() { jq -e "$1" <<<"$2" >/dev/null; } # FILTER JSON: true when FILTER holds
trap 'for p in "${ES_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; _e2e_on_exit' EXIT

start_edge_instance() { # NAME VAR=VALUE...  -> sets ES_URL, ES_TARGET, ES_PID, ES_LOG
	local name=$1 port
	shift
	port=$(free_port)
	ES_LOG=$E2E_TMP/usersvc-$name.log
	start_service "$ES_LOG" -u AWS_SESSION_TOKEN -u MAX_BODY_BYTES \
		HOST=127.0.0.1 PORT="$port" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" \
		AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
		TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=false THREADS=2 "$@"
	ES_PID=$SVC_PID ES_PIDS+=("$SVC_PID") ES_URL=http://127.0.0.1:$port ES_TARGET=127.0.0.1:$port
	wait_ok "$ES_PID" "$ES_URL/healthz"
}

stop_edge_instance() { # NAME
	local st
	stop_pid "$ES_PID" 15
	st=$?
	REQ_DESC="SIGTERM $1" STATUS=$st BODY="$(tail -n 3 "$ES_LOG")"
	check "$1 exits 0 after SIGTERM" test "$st" = 0
	check "$1 log has no sanitizer report" \
		bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' '$ES_LOG'"
}

# ---- deadlines ------------------------------------------------------------------------
if start_edge_instance edge-timeouts HEADER_TIMEOUT_MS=3000 BODY_TIMEOUT_MS=2000 KEEPALIVE_TIMEOUT_MS=3000; then
	edge trickle "$ES_TARGET" 200 9 >"$E2E_TMP/trickle.json" &
	trickler=$!
	sleep 0.5
	slowest=0 served=0
	for _ in $(seq 10); do # while 200 connections trickle, others are served at once
		r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$ES_URL/healthz")
		[[ ${r%% *} == 200 ]] && served=$((served + 1))
		slowest=$(awk -v a="$slowest" -v b="${r#* }" 'BEGIN { print (b > a ? b : a) }')
		sleep 0.2
	done
	wait "$trickler"
	r=$(cat "$E2E_TMP/trickle.json")
	REQ_DESC="200 connections trickling one header byte per 0.5 s" STATUS="" BODY=$r
	check "while 200 connections trickle, 10 of 10 other requests answer 200 (slowest ${slowest}s)" \
		test "$served" = 10 -a "$(awk -v t="$slowest" 'BEGIN { print (t < 1) }')" = 1
	check "all 200 trickling connections are closed by the 3 s head deadline" test "$(jq .closed <<<"$r")" = 200
	check "closed at the deadline, not before and not much after (first $(jq .first <<<"$r") s, last $(jq .last <<<"$r") s)" \
		jqe '.first >= 2.5 and .last <= 6' "$r"

	r=$(edge raw "$ES_TARGET" "POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"na")
	REQ_DESC="a body that stops after 4 of 40 bytes" STATUS="" BODY=$r
	check "a body that pauses longer than BODY_TIMEOUT_MS: the connection is closed" test "$(jq .closed <<<"$r")" = true

	r=$(python3 - "$ES_TARGET" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
s.recv(4096)
t0 = time.time()
while s.recv(4096):
    pass
print(round(time.time() - t0, 2))
PY
)
	REQ_DESC="an idle kept-alive connection" STATUS="" BODY="closed after ${r}s"
	check "an idle kept-alive connection closes at KEEPALIVE_TIMEOUT_MS (after ${r} s of 3)" \
		awk -v t="$r" 'BEGIN { exit !(t >= 2.5 && t <= 6) }'
	req GET /healthz
	stop_edge_instance "the timeouts instance"
else
	fail "the timeouts instance did not start: $(tail -n 3 "$ES_LOG")"
fi

# ---- limits ---------------------------------------------------------------------------
sources=()
for i in $(seq 1 20); do sources+=("127.0.1.$i"); done
if start_edge_instance edge-limits MAX_CONNECTIONS=200 MAX_CONNECTIONS_PER_IP=20 THREADS=1; then # one worker: the limit is exact
	r=$(edge hold "$ES_TARGET" 200 idle "${sources[@]}")
	REQ_DESC="200 idle keep-alive connections from 20 addresses, then a new client" STATUS="" BODY=$r
	check "MAX_CONNECTIONS (200) idle connections: a new client gets 200 within 1 s ($(jq .new_client_s <<<"$r") s)" \
		jqe '.new_client_status == 200 and .new_client_s < 1 and .refused == {}' "$r"
	check "idle connections were closed to make room ($(jq .closed_to_make_room <<<"$r"))" \
		jqe '.closed_to_make_room >= 1' "$r"
	r=$(edge hold "$ES_TARGET" 200 silent "${sources[@]}")
	REQ_DESC="200 silent connections (connected, nothing sent), then a new client" STATUS="" BODY=$r
	check "200 silent connections: a new client gets 200 within 1 s ($(jq .new_client_s <<<"$r") s)" \
		jqe '.new_client_status == 200 and .new_client_s < 1' "$r"
	r=$(edge hold "$ES_TARGET" 200 body "${sources[@]}")
	REQ_DESC="200 connections trickling a POST body, then a new client" STATUS="" BODY=$r
	check "200 connections holding a body open: a new client gets 200 within 1 s ($(jq .new_client_s <<<"$r") s)" \
		jqe '.new_client_status == 200 and .new_client_s < 1' "$r"
	r=$(edge overshare "$ES_TARGET" 180 127.0.0.5 20 10) # every slot taken, then 10 over 127.0.0.5's share
	REQ_DESC="an address over its share while every slot is taken" STATUS="" BODY=$r
	check "an address over its share pushes no other client's connection out" jqe '.others_closed == 0' "$r"
	r=$(edge hold "$ES_TARGET" 25 idle 127.0.0.2)
	REQ_DESC="25 connections from 127.0.0.2 with MAX_CONNECTIONS_PER_IP=20" STATUS="" BODY=$r
	check "one address gets 20 connections; the other 5 are answered 429" jqe '.refused == {"429": 5}' "$r"
	check "another address is still served while 127.0.0.2 is at its limit" jqe '.new_client_status == 200' "$r"
	REQ_DESC="the 21st connection from 127.0.0.4" STATUS="" BODY=""
	python3 - "$ES_TARGET" >"$E2E_TMP/429.txt" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
held = []
for _ in range(20):
    s = socket.socket(); s.bind(("127.0.0.4", 0)); s.connect((host, int(port))); held.append(s)
s = socket.socket(); s.bind(("127.0.0.4", 0)); s.connect((host, int(port))); s.settimeout(5)
s.sendall(b"GET /users HTTP/1.1\r\nHost: t\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().replace("\r", ""))
PY
	STATUS=$(head -n 1 "$E2E_TMP/429.txt" | awk '{print $2}') BODY=$(tail -n 1 "$E2E_TMP/429.txt")
	check "the 21st connection from one address: 429" test "$STATUS" = 429
	expect_json .code too_many_connections "429 is a JSON error"
	check "429 carries Retry-After and Connection: close" \
		bash -c "grep -qi '^Retry-After: 1' '$E2E_TMP/429.txt' && grep -qi '^Connection: close' '$E2E_TMP/429.txt'"
	stop_edge_instance "the limits instance"
else
	fail "the limits instance did not start: $(tail -n 3 "$ES_LOG")"
fi
