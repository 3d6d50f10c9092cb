# shellcheck shell=bash
# A second instance whose DynamoDB endpoint is a closed loopback port.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main_url=$BASE_URL
dead_port=$(free_port) # bound then closed: nothing listens there
port=$(free_port)
log=$E2E_TMP/usersvc-dead.log
start_service "$log" \
	-u AWS_SESSION_TOKEN -u AWS_PROFILE -u MAX_BODY_BYTES \
	HOST=127.0.0.1 PORT="$port" \
	AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dead_port" AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=AKIAEXAMPLEDEAD AWS_SECRET_ACCESS_KEY=dead/secret \
	TABLE_NAME="Users-dead-$$" AUTO_CREATE_TABLE=false
dead_pid=$SVC_PID
trap 'kill -KILL $dead_pid 2>/dev/null; _e2e_on_exit' EXIT
BASE_URL=http://127.0.0.1:$port

up=""
wait_ok "$dead_pid" "$BASE_URL/healthz" && up=1
REQ_DESC="start with a dead backend" STATUS="" BODY="$(tail -n 5 "$log" 2>/dev/null)"
check "service starts and answers /healthz within 10 s though DynamoDB is unreachable" test -n "$up"

n_unavailable=0 # answers 503 backend_unavailable: each logs "backend unavailable: ..." once, or counts as a repeat
count_unavailable() { [[ $STATUS == 503 && $(jqr .code) == backend_unavailable ]] && ((n_unavailable++)); return 0; }
if [[ -n $up ]]; then
	req GET "/users/$(rand_uuid)"
	count_unavailable
	expect_error '503|504' 'backend_unavailable|backend_timeout' "GET user with DynamoDB down"
	check "GET /users/{id} with DynamoDB down answers within 3 s (took ${ELAPSED}s)" \
		awk -v t="$ELAPSED" 'BEGIN { exit !(t < 3) }'
	req POST /users "{\"name\":\"Down\",\"email\":\"$(uniq_email down)\"}"
	count_unavailable
	expect_error '503|504' 'backend_unavailable|backend_timeout' "POST with DynamoDB down"
	check "POST /users with DynamoDB down answers within 3 s (took ${ELAPSED}s)" \
		awk -v t="$ELAPSED" 'BEGIN { exit !(t < 3) }'
	req GET /healthz
	expect_status 200 "liveness does not depend on DynamoDB"
	expect_json .status ok
	req GET /readyz
	expect_status 503 "readiness reports the dead backend"
	expect_header Content-Type '^application/json' "readyz 503 is JSON"
	check "GET /readyz with DynamoDB down answers within 3 s (took ${ELAPSED}s)" \
		awk -v t="$ELAPSED" 'BEGIN { exit !(t < 3) }'

	# An outage: 50 more requests, 10 at a time, all failing the same way.
	seq 50 | xargs -P 10 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
		"$BASE_URL/users/$(rand_uuid)" >"$E2E_TMP/dead-burst.codes"
	n_burst=$(grep -c '^503$' "$E2E_TMP/dead-burst.codes")
	REQ_DESC="50 x GET /users/{id} with DynamoDB down" STATUS="$(sort "$E2E_TMP/dead-burst.codes" | uniq -c | tr '\n' ' ')" BODY=""
	check "outage: all 50 requests answered 503 (got $n_burst)" test "$n_burst" = 50
	n_unavailable=$((n_unavailable + n_burst))
fi

# Graceful stop, sanitizer-clean log.
kill_start=$SECONDS
stop_pid "$dead_pid" 10
st=$?
REQ_DESC="stop the dead-backend instance" STATUS="$st" BODY="$(tail -n 5 "$log" 2>/dev/null)"
check "dead-backend instance exits 0 on SIGTERM (status $st, $((SECONDS - kill_start))s)" test "$st" -eq 0
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$log"; then
	fail "dead-backend instance: sanitizer report in its log: $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$log")"
else
	pass "dead-backend instance: no sanitizer report in its log"
fi

# The outage's log: the first line of each 10 s window is written (the request
# id apart, all identical), the rest counted; "repeated N times" lines, the last
# one written at exit (no line would count the last window otherwise), account
# for every request exactly.
if [[ -n $up ]]; then
	outage_lines=$(log_lines "$log" 'select(.requestId != null and (.msg | startswith("backend unavailable: "))) | .msg')
	written=$(grep -c . <<<"$outage_lines")
	messages=$(sort -u <<<"$outage_lines")
	repeated=$(grep -oE 'repeated [0-9]+ times in the last [0-9]+ s: backend unavailable: ' "$log" |
		awk '{ n += $2 } END { print n + 0 }')
	REQ_DESC="the dead-backend instance log" STATUS="" BODY="$(grep -E 'backend unavailable' "$log" | head -n 5)"
	check "outage: $n_unavailable failed requests wrote $written 'backend unavailable' lines, far fewer (at most 3)" \
		test "$written" -ge 1 -a "$written" -le 3
	check "outage: those lines are identical but for the request id ($(wc -l <<<"$messages") distinct): $messages" \
		test "$(wc -l <<<"$messages")" = 1
	check "outage: the message has curl's stable reason, no timing ('$messages')" \
		bash -c '[[ $1 == "backend unavailable: Couldn'"'"'t connect to server (Connection refused)" ]]' _ "$messages"
	check "outage: 'repeated N times' lines count the rest: $written written + $repeated repeated = $n_unavailable" \
		test "$((written + repeated))" = "$n_unavailable"
	check "outage: the log has a 'repeated N times' line" \
		grep -qE 'repeated [0-9]+ times in the last [0-9]+ s: backend unavailable: ' "$log"
fi
if [[ $st != 0 ]] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$log" || [[ -z $up ]]; then
	echo "---- last 30 lines of the dead-backend instance log ----"
	tail -n 30 "$log"
	echo "----"
fi
trap _e2e_on_exit EXIT
BASE_URL=$main_url
