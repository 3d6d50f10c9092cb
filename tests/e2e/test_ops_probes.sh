# shellcheck shell=bash
# Issue 9, probes and start-up: a second instance on a served port (even one a foreign process holds
# with SO_REUSEPORT) is refused with one line and a non-zero exit while the first keeps every request;
# two instances started at once on a fresh port leave exactly one serving; `usersvc --healthcheck`
# exits 0/1; with AUTO_CREATE_TABLE a table deleted mid-run is created again, once for a storm of
# requests; a 304 carries no Content-Length but the 200's (raw bytes); --bogus and HOST=not-an-ip exit 2.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SUPPORT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../support" && pwd)
# The service itself, not run.sh's recording proxy in front of it (BASE_URL): its port is what a second
# instance must not take, and its raw bytes are what the 304 check reads.
SVC_URL=${SERVICE_URL:-$BASE_URL}
SVC_PORT=${SVC_URL##*:}

# The environment of the suite's own service, for the extra instances below.
svc_env=(-u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL HOST=127.0.0.1
	AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID"
	AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" TABLE_NAME="${E2E_TABLE:-Users}" AUTO_CREATE_TABLE=true
	THREADS=2)

# wait_exit PID SECONDS: sets EXIT_STATUS to PID's exit status, or "running" (then kills it).
wait_exit() {
	local pid=$1 i
	EXIT_STATUS=running
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		stop_pid "$pid" 2 >/dev/null
	else
		wait "$pid" 2>/dev/null
		EXIT_STATUS=$?
	fi
}

# ---- what a new user tripped over ---------------------------------------------
out=$("$E2E_BIN" --bogus 2>&1 >/dev/null)
status=$?
REQ_DESC="usersvc --bogus" STATUS=$status BODY=$out
check "usersvc --bogus: exit 2, the first line names the option (got $status)" \
	bash -c '[[ $1 == 2 && $(head -1 <<<"$2") == "usersvc: unknown option '"'--bogus'"'" ]]' _ "$status" "$out"
out=$(env "${svc_env[@]}" HOST=not-an-ip PORT=0 timeout 10 "$E2E_BIN" 2>&1)
status=$?
REQ_DESC="HOST=not-an-ip usersvc" STATUS=$status BODY=$out
check "HOST=not-an-ip: exit 2 like every configuration error, one line naming HOST (got $status)" \
	bash -c '[[ $1 == 2 && $(wc -l <<<"$2") == 1 && $2 == *"HOST: '"'not-an-ip'"'"* ]]' _ "$status" "$out"

# ---- a second instance on the suite's port -----------------------------------
log=$E2E_TMP/ops-second.log
start_service "$log" "${svc_env[@]}" PORT="$SVC_PORT"
wait_exit "$SVC_PID" 20
REQ_DESC="second usersvc on port $SVC_PORT" STATUS=$EXIT_STATUS BODY=$(cat "$log")
check "a second instance on a served port exits non-zero (got $EXIT_STATUS)" \
	bash -c '[[ $1 != running && $1 != 0 ]]' _ "$EXIT_STATUS"
check "its output is one line naming the port as in use" \
	bash -c '[[ $(wc -l <"$1") == 1 ]] && grep -q "PORT $2 on 127.0.0.1 is already in use" "$1"' _ "$log" "$SVC_PORT"
# Every request still reaches the first instance: one request-id prefix (per process) across 30.
req GET /healthz
first_prefix=$(hdr X-Request-Id)
first_prefix=${first_prefix%-*}
prefixes=$(for _ in $(seq 30); do
	curl -s -o /dev/null -D - --max-time 5 "$SVC_URL/healthz" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: \(.*\)-.*/\1/p'
done | sort | uniq -c)
check "30 requests after the refusal: all answered by the first instance ($prefixes)" \
	bash -c '[[ $(wc -l <<<"$1") == 1 && $1 == *" 30 $2" ]]' _ "$prefixes" "$first_prefix"

# ---- a port a foreign process serves with SO_REUSEPORT -----------------------
holder_port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
time.sleep(60)' "$holder_port" &
holder=$!
echo "$holder" >>"$E2E_TMP/pids"
for _ in $(seq 50); do
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$holder_port" 2>/dev/null && break
	sleep 0.1
done
log=$E2E_TMP/ops-reuseport.log
start_service "$log" "${svc_env[@]}" PORT="$holder_port"
wait_exit "$SVC_PID" 20
REQ_DESC="usersvc on a port held with SO_REUSEPORT" STATUS=$EXIT_STATUS BODY=$(cat "$log")
check "a port another process holds with SO_REUSEPORT: refused, one line, exit $EXIT_STATUS" \
	bash -c '[[ $1 != running && $1 != 0 && $(wc -l <"$2") == 1 ]] && grep -q "already in use" "$2"' _ "$EXIT_STATUS" "$log"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# ---- two instances started at once on a fresh port ----------------------------
race_port=$(free_port)
start_service "$E2E_TMP/ops-race-a.log" "${svc_env[@]}" PORT="$race_port"
race_a=$SVC_PID
start_service "$E2E_TMP/ops-race-b.log" "${svc_env[@]}" PORT="$race_port"
race_b=$SVC_PID
wait_ok "$race_a" "http://127.0.0.1:$race_port/healthz" 200 || wait_ok "$race_b" "http://127.0.0.1:$race_port/healthz" 200
sleep 1
alive=0
for p in "$race_a" "$race_b"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
REQ_DESC="two instances at once on port $race_port" STATUS=$alive BODY=$(cat "$E2E_TMP"/ops-race-*.log)
check "two instances started at once on one port: exactly one still runs ($alive)" test "$alive" = 1
for p in "$race_a" "$race_b"; do stop_pid "$p" 5 >/dev/null; done

# ---- usersvc --healthcheck ----------------------------------------------------
hc() { # VAR=VALUE... -> HC_STATUS, HC_OUT
	HC_OUT=$(env "${svc_env[@]}" "$@" timeout 10 "$E2E_BIN" --healthcheck 2>&1)
	HC_STATUS=$?
	REQ_DESC="usersvc --healthcheck $*" STATUS=$HC_STATUS BODY=$HC_OUT
}
hc PORT="$SVC_PORT"
check "--healthcheck against the running instance: exit 0, silent (got $HC_STATUS)" \
	bash -c '[[ $1 == 0 && -z $2 ]]' _ "$HC_STATUS" "$HC_OUT"
hc HOST=0.0.0.0 PORT="$SVC_PORT"
check "--healthcheck with HOST=0.0.0.0 asks loopback: exit 0 (got $HC_STATUS)" test "$HC_STATUS" = 0
hc PORT="$(free_port)"
check "--healthcheck with nothing listening: exit 1 and one line (got $HC_STATUS: $HC_OUT)" \
	bash -c '[[ $1 == 1 && $(wc -l <<<"$2") == 1 && $2 == *unhealthy* ]]' _ "$HC_STATUS" "$HC_OUT"
# A listener that answers 503, and one that never answers (the deadline, not the test's timeout, ends it).
python3 -c '
import socket, sys, threading
for mode in ("503", "mute"):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
    print(s.getsockname()[1], flush=True)
    def serve(s=s, mode=mode):
        while True:
            c, _ = s.accept()
            c.recv(4096)
            if mode == "503":
                c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                c.close()
            else:
                threading.Timer(30, c.close).start()
    threading.Thread(target=serve, daemon=True).start()
sys.stdin.read()' >"$E2E_TMP/ops-hc-ports" < <(sleep 40) &
fakes=$!
echo "$fakes" >>"$E2E_TMP/pids"
for _ in $(seq 50); do [[ $(wc -l <"$E2E_TMP/ops-hc-ports") == 2 ]] && break; sleep 0.1; done
hc PORT="$(sed -n 1p "$E2E_TMP/ops-hc-ports")"
check "--healthcheck against a 503: exit 1 naming the status (got $HC_STATUS: $HC_OUT)" \
	bash -c '[[ $1 == 1 && $2 == *503* ]]' _ "$HC_STATUS" "$HC_OUT"
start=$SECONDS
hc PORT="$(sed -n 2p "$E2E_TMP/ops-hc-ports")"
check "--healthcheck against a server that never answers: exit 1 by its own deadline (got $HC_STATUS: $HC_OUT)" \
	bash -c '[[ $1 == 1 && $2 == *"no answer"* ]]' _ "$HC_STATUS" "$HC_OUT"
kill "$fakes" 2>/dev/null
wait "$fakes" 2>/dev/null

# ---- a 304 has no Content-Length ------------------------------------------------
create_user "Ops Etag" "$(uniq_email ops304)"
req GET "/users/$CREATED_ID"
etag=$(hdr ETag)
raw=$(python3 - "$SVC_URL" "/users/$CREATED_ID" "$etag" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((u.hostname, u.port), timeout=5)
s.sendall(f"GET {sys.argv[2]} HTTP/1.1\r\nHost: {u.netloc}\r\nIf-None-Match: {sys.argv[3]}\r\nConnection: close\r\n\r\n".encode())
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
head, _, after = data.partition(b"\r\n\r\n")
sys.stdout.write(head.decode("latin-1").replace("\r\n", "\n") + f"\n(bytes after the head: {len(after)})")
PY
)
full_length=$(curl -s --max-time 5 "$SVC_URL/users/$CREATED_ID" | wc -c)
length=$(sed -n 's/^[Cc]ontent-[Ll]ength: *//p' <<<"$raw")
REQ_DESC="GET /users/$CREATED_ID If-None-Match (raw)" STATUS=$(head -1 <<<"$raw") BODY=$raw
check "a 304 in raw bytes: status 304, ETag, no Content-Type, nothing after the head" \
	bash -c '[[ $(head -1 <<<"$1") == "HTTP/1.1 304 "* ]] && grep -qi "^etag: " <<<"$1" &&
		! grep -qi "^content-type:" <<<"$1" && [[ $1 == *"(bytes after the head: 0)" ]]' _ "$raw"
# RFC 9110 §8.6: none, or the length the 200 would have had (libmicrohttpd 0.9.75 always sends one).
check "the 304's Content-Length is absent or the 200 body's $full_length bytes (got '${length}')" \
	bash -c '[[ -z $1 || $1 == "$2" ]] && [[ $1 != 0 ]]' _ "$length" "$full_length"

# ---- a table deleted mid-run is created again ------------------------------------
table=Users-recreate-$$
log=$E2E_TMP/ops-recreate.log
port=$(free_port)
start_service "$log" "${svc_env[@]}" PORT="$port" TABLE_NAME="$table"
recreate_pid=$SVC_PID
if wait_ok "$recreate_pid" "http://127.0.0.1:$port/readyz" 300; then
	B=http://127.0.0.1:$port
	status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
		--data '{"name":"Before","email":"'"$(uniq_email recreate)"'"}' "$B/users")
	check "a user created before the table goes ($status)" test "$status" = 201
	# The service's key may not delete tables (config/iam-policy.json): the admin key makes one that may.
	( . "$E2E_MOTO_ADMIN_CREDS"; python3 - "$E2E_MOTO_URL" "$table" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" <<'PY'
import json, sys, time, boto3
url, table, admin_id, admin_secret = sys.argv[1:]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id=admin_id,
                   aws_secret_access_key=admin_secret)
user = f"ops-table-dropper-{time.time_ns()}"
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName="drop", PolicyDocument=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["dynamodb:DeleteTable"], "Resource": "*"}]}))
key = iam.create_access_key(UserName=user)["AccessKey"]
boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
             aws_secret_access_key=key["SecretAccessKey"]).delete_table(TableName=table)
PY
	) || fail "DeleteTable $table through moto"
	# A storm of requests meets the missing table; one CreateTable is sent for all of them.
	codes=$(seq 40 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "$B/users?limit=1" |
		sort | uniq -c | tr '\n' ' ')
	check "the storm right after DeleteTable met the missing table: 503s ($codes)" \
		bash -c '[[ $1 == *" 503"* ]]' _ "$codes"
	ok=""
	for _ in $(seq 100); do
		status=$(curl -s -o "$E2E_TMP/ops-recreate.body" -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
			--data '{"name":"After","email":"'"$(uniq_email recreate)"'"}' "$B/users")
		[[ $status == 201 ]] && { ok=1; break; }
		sleep 0.1
	done
	REQ_DESC="POST $B/users after DeleteTable" STATUS=$status BODY=$(cat "$E2E_TMP/ops-recreate.body")
	check "after DeleteTable the service creates the table again and a POST succeeds" test -n "$ok"
	sends=$(grep -c "creating it again" "$log")
	check "40 requests that met the missing table sent one CreateTable ($sends)" test "$sends" = 1
	status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$B/readyz")
	check "/readyz answers 200 again ($status)" test "$status" = 200
else
	fail "the instance for the table re-creation test did not become ready: $(tail -3 "$log")"
fi
stop_pid "$recreate_pid" 10 >/dev/null
check "that instance stops cleanly after the re-creation" test $? = 0
