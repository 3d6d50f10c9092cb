# shellcheck shell=bash disable=SC2016,SC2034
# Fault injection: one service instance per fault, each pointed at
# tests/support/fake_ddb.py in that mode (AUTO_CREATE_TABLE=false), checked
# through HTTP: status, error code, JSON body, Retry-After, how many attempts
# reached the fake, timing, liveness during hung calls, log contents, a clean
# SIGTERM exit and a sanitizer-clean log.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAULTS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FAKE_DDB=$FAULTS_ROOT/tests/support/fake_ddb.py
FAULT_MODES=(throttle hang html500 forbidden403 validation garbage200 itemsize badcrc badcrc2)
FAULT_DIR=$(mktemp -d "$E2E_TMP/faults.XXXXXX")
TIMEOUT_MS=1500          # DYNAMODB_TIMEOUT_MS of every instance but throttle's
THROTTLE_TIMEOUT_MS=8000 # 1 s base, full jitter, 4 attempts: at most 1+2+4 s of backoff
SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:'
main_url=$BASE_URL

declare -A F_PID=() F_PORT=() S_PID=() S_PORT=() S_LOG=() S_UP=()
HANG_CURL_PIDS=()

# Kills whatever this file started and is still running (by pid only).
faults_cleanup() {
	local p
	for p in "${HANG_CURL_PIDS[@]}" "${S_PID[@]}" "${F_PID[@]}"; do
		[[ -n $p ]] && kill -KILL "$p" 2>/dev/null
	done
	for p in "${HANG_CURL_PIDS[@]}" "${S_PID[@]}" "${F_PID[@]}"; do
		[[ -n $p ]] && wait "$p" 2>/dev/null
	done
	# FAULT_DIR is under E2E_TMP: run.sh removes it (or keeps it with E2E_KEEP_TMP=1)
	return 0
}
trap 'faults_cleanup; _e2e_on_exit' EXIT

PDEATH=()
if command -v setpriv >/dev/null && setpriv --pdeathsig TERM -- true 2>/dev/null; then
	PDEATH=(setpriv --pdeathsig TERM --) # the fake dies with this shell even on SIGKILL
fi

# GetItem/PutItem/... requests the fake of MODE has received so far.
fake_count() { # MODE OPERATION
	jq -r --arg t "DynamoDB_20120810.$2" '.[$t] // 0' "$FAULT_DIR/$1.count" 2>/dev/null || echo "?"
}

# Is float A <= float B?
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

show_log() { # MODE
	echo "---- last 20 lines of the $1 instance log (${S_LOG[$1]}) ----"
	tail -n 20 "${S_LOG[$1]}" 2>/dev/null
	echo "----"
}

# ---- start one fake per mode ----------------------------------------------
for m in "${FAULT_MODES[@]}"; do
	"${PDEATH[@]}" python3 "$FAKE_DDB" --host 127.0.0.1 --port 0 --mode "$m" \
		--ready-file "$FAULT_DIR/$m.port" --count-file "$FAULT_DIR/$m.count" \
		>"$FAULT_DIR/$m.fake.log" 2>&1 </dev/null &
	F_PID[$m]=$!
done
for m in "${FAULT_MODES[@]}"; do
	for ((i = 0; i < 100; i++)); do
		[[ -s $FAULT_DIR/$m.port ]] && break
		kill -0 "${F_PID[$m]}" 2>/dev/null || break
		sleep 0.1
	done
	F_PORT[$m]=$(cat "$FAULT_DIR/$m.port" 2>/dev/null)
	REQ_DESC="start fake_ddb --mode $m" STATUS="" BODY="$(tail -n 5 "$FAULT_DIR/$m.fake.log" 2>/dev/null)"
	check "fake_ddb --mode $m listens within 10 s (port ${F_PORT[$m]:-none})" test -n "${F_PORT[$m]}"
done

# ---- start one service instance per fake (in parallel) ----------------------
for m in "${FAULT_MODES[@]}"; do
	[[ -n ${F_PORT[$m]} ]] || continue
	t=$TIMEOUT_MS
	[[ $m == throttle ]] && t=$THROTTLE_TIMEOUT_MS
	S_PORT[$m]=$(free_port)
	S_LOG[$m]=$FAULT_DIR/$m.usersvc.log
	start_service "${S_LOG[$m]}" \
		-u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
		-u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT -u MAX_BODY_BYTES -u DYNAMODB_CONNECT_TIMEOUT_MS \
		-u THREADS -u EMAIL_INDEX \
		HOST=127.0.0.1 PORT="${S_PORT[$m]}" LOG_LEVEL=info \
		AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${F_PORT[$m]}" AWS_REGION=us-east-1 \
		AWS_ACCESS_KEY_ID=AKIAEXAMPLEFAULT AWS_SECRET_ACCESS_KEY=fault/secret \
		TABLE_NAME="Users-fault-$m-$$" AUTO_CREATE_TABLE=false DYNAMODB_TIMEOUT_MS="$t"
	S_PID[$m]=$SVC_PID
done

# Start-up makes one DescribeTable, which meets the fault too (throttle: up to 7 s).
deadline=$((SECONDS + 20))
for m in "${FAULT_MODES[@]}"; do
	[[ -n ${S_PID[$m]:-} ]] || continue
	while ((SECONDS < deadline)); do
		kill -0 "${S_PID[$m]}" 2>/dev/null || break
		if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:${S_PORT[$m]}/healthz") == 200 ]]; then
			S_UP[$m]=1
			break
		fi
		sleep 0.1
	done
	REQ_DESC="start usersvc against fake_ddb --mode $m" STATUS="" BODY="$(tail -n 5 "${S_LOG[$m]}" 2>/dev/null)"
	if check "$m: service instance starts and answers /healthz" test -n "${S_UP[$m]:-}"; then :; else show_log "$m"; fi
done

use() { BASE_URL=http://127.0.0.1:${S_PORT[$1]}; }
up() { [[ -n ${S_UP[$1]:-} ]]; }

# ---- throttle: 4 attempts, then 503 throttled + Retry-After ----------------
if up throttle; then
	use throttle
	req GET "/users/$(rand_uuid)"
	expect_error 503 throttled "throttled GetItem"
	expect_header Retry-After '^1$' "throttled answers carry Retry-After: 1"
	n=$(fake_count throttle GetItem)
	check "throttle: the fake saw exactly 4 GetItem requests (1 + 3 retries), saw $n" test "$n" = 4
	check "throttle: answered within DYNAMODB_TIMEOUT_MS + 1 s (took ${ELAPSED}s)" le "$ELAPSED" "$(((THROTTLE_TIMEOUT_MS + 1000) / 1000))"
fi

# ---- hang: 504 backend_timeout in time; liveness unaffected -----------------
if up hang; then
	use hang
	limit=$(awk -v t="$TIMEOUT_MS" 'BEGIN { print t / 1000 + 1 }')
	n_hang=4
	HANG_CURL_PIDS=()
	for ((k = 0; k < n_hang; k++)); do
		curl -sS --max-time 10 -o "$FAULT_DIR/hang.body.$k" -D "$FAULT_DIR/hang.hdrs.$k" \
			-w '%{http_code} %{time_total}' "$BASE_URL/users/$(rand_uuid)" \
			>"$FAULT_DIR/hang.w.$k" 2>"$FAULT_DIR/hang.err.$k" </dev/null &
		HANG_CURL_PIDS+=($!)
	done
	sleep 0.4 # let them reach the fake and hang there
	n=$(fake_count hang GetItem)
	check "hang: all $n_hang GetItem calls are hanging at the fake (saw $n)" test "$n" = "$n_hang"
	for ((k = 0; k < 3; k++)); do
		req GET /healthz
		expect_status 200 "liveness while $n_hang requests wait on a hung DynamoDB"
		check "hang: GET /healthz answers within 0.5 s while requests hang (took ${ELAPSED}s)" le "$ELAPSED" 0.5
	done
	for p in "${HANG_CURL_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	HANG_CURL_PIDS=()
	for ((k = 0; k < n_hang; k++)); do
		w=$(cat "$FAULT_DIR/hang.w.$k" 2>/dev/null)
		STATUS=${w%% *} ELAPSED=${w#* }
		[[ -z $STATUS ]] && STATUS=000
		BODY=$(cat "$FAULT_DIR/hang.body.$k" 2>/dev/null)
		[[ $STATUS == 000 ]] && BODY="(no response: $(cat "$FAULT_DIR/hang.err.$k" 2>/dev/null))"
		HEADERS=$(tr -d '\r' <"$FAULT_DIR/hang.hdrs.$k" 2>/dev/null)
		REQ_DESC="GET /users/{uuid} #$k (hung backend)"
		expect_error 504 backend_timeout "hung GetItem"
		check "hang: request #$k answered within DYNAMODB_TIMEOUT_MS + 1 s = ${limit}s (took ${ELAPSED}s)" le "$ELAPSED" "$limit"
	done
	n=$(fake_count hang GetItem)
	check "hang: no attempt past the deadline: the fake saw $n_hang GetItem requests, saw $n" test "$n" = "$n_hang"
	req GET /healthz
	expect_status 200 "liveness after the hung calls"
fi

# ---- html500: retried, then 503 backend_unavailable, never HTML -------------
if up html500; then
	use html500
	req GET "/users/$(rand_uuid)"
	expect_error 503 backend_unavailable "DynamoDB answers 500 with HTML"
	expect_header Retry-After '^1$' "backend_unavailable carries Retry-After: 1"
	check "html500: the error body is not HTML (no '<html' or 'Internal error' leaked)" \
		bash -c '! grep -qiE "<html|Internal error" <<<"$1"' _ "$BODY"
	n=$(fake_count html500 GetItem)
	check "html500: the fake saw exactly 4 GetItem requests (1 + 3 retries), saw $n" test "$n" = 4
	rid=$(hdr X-Request-Id)
	sleep 0.1
	line=$(grep -F -- "\"requestId\":\"$rid\"" "${S_LOG[html500]}")
	check "html500: the log line of $rid says what came back: 'no error code, HTTP 500, text/html' (got '$line')" \
		grep -qF "backend unavailable: no error code, HTTP 500, text/html" <<<"$line"
	calls=$(log_lines "${S_LOG[html500]}" "select(.msg == \"request\" and .requestId == \"$rid\") | .ddb | tojson")
	check "html500: the access line of $rid names the GetItem, its outcome and its 3 retries (got '$calls')" \
		test "$calls" = '[{"op":"GetItem","outcome":"unavailable","retries":3,"requestId":"FAKE0000000000000000000000000000000000000000000000"}]'
fi

# ---- forbidden403: a proxy's HTML 403 without __type: 502, status in the log ----
if up forbidden403; then
	use forbidden403
	check "forbidden403: the start-up line names the 403 and its content type" \
		grep -qF "DescribeTable failed (no error code, HTTP 403, text/html)" "${S_LOG[forbidden403]}"
	req GET "/users/$(rand_uuid)"
	expect_error 502 bad_gateway "a 403 HTML page instead of a DynamoDB answer"
	check "forbidden403: the error body is not the proxy's page" \
		bash -c '! grep -qiE "<html|Forbidden|blocked" <<<"$1"' _ "$BODY"
	rid=$(hdr X-Request-Id)
	sleep 0.1
	line=$(grep -F -- "\"requestId\":\"$rid\"" "${S_LOG[forbidden403]}")
	check "forbidden403: the log line of $rid has 'no error code, HTTP 403, text/html' (got '$line')" \
		grep -qF "bad backend response: no error code, HTTP 403, text/html" <<<"$line"
	check "forbidden403: the log never echoes the proxy's page" \
		bash -c '! grep -qiE "<html|blocked by proxy" "$1"' _ "${S_LOG[forbidden403]}"
	n=$(fake_count forbidden403 GetItem)
	check "forbidden403: not retried: the fake saw exactly 1 GetItem request, saw $n" test "$n" = 1
fi

# ---- validation: 500 internal_error, details only in the log -----------------
if up validation; then
	use validation
	req GET "/users/$(rand_uuid)"
	expect_error 500 internal_error "DynamoDB ValidationException"
	check "validation: the response does not leak DynamoDB's message" \
		bash -c '! grep -qi "validation error detected" <<<"$1"' _ "$BODY"
	expect_jq '.message | test("validation|detected|ValidationException"; "i") | not' "generic message"
	rid=$(hdr X-Request-Id)
	sleep 0.1
	check "validation: the instance log has DynamoDB's message '1 validation error detected'" \
		grep -q "1 validation error detected" "${S_LOG[validation]}"
	check "validation: that log line names the request id $rid" \
		grep -qF -- "$rid" <(grep "1 validation error detected" "${S_LOG[validation]}")
	n=$(fake_count validation GetItem)
	check "validation: not retried: the fake saw exactly 1 GetItem request, saw $n" test "$n" = 1
fi

# ---- garbage200: 502 bad_gateway --------------------------------------------
if up garbage200; then
	use garbage200
	req GET "/users/$(rand_uuid)"
	expect_error 502 bad_gateway "DynamoDB answers 200 with a body that is not JSON"
	check "garbage200: the error body does not echo the backend's body" \
		bash -c '! grep -q "not json" <<<"$1"' _ "$BODY"
fi

# ---- badcrc2 / badcrc: an x-amz-crc32 mismatch is retried; a persistent one is a 502 ----
if up badcrc2; then
	use badcrc2
	req GET "/users/$(rand_uuid)"
	expect_error 404 user_not_found "two corrupted GetItem answers, then a good one"
	n=$(fake_count badcrc2 GetItem)
	check "badcrc2: retried past the CRC mismatches: the fake saw 3 GetItem requests, saw $n" test "$n" = 3
	req GET /readyz
	expect_status 200 "badcrc2: answers with a right x-amz-crc32 are used"
fi
if up badcrc; then
	use badcrc
	req GET "/users/$(rand_uuid)"
	expect_error 502 bad_gateway "every GetItem answer fails its x-amz-crc32 check"
	n=$(fake_count badcrc GetItem)
	check "badcrc: retried as a transient error: the fake saw 4 GetItem requests (1 + 3 retries), saw $n" test "$n" = 4
	rid=$(hdr X-Request-Id)
	sleep 0.1
	check "badcrc: the log line of $rid says the answer failed its x-amz-crc32 check" \
		grep -qF "bad backend response: DynamoDB response failed its x-amz-crc32 check (HTTP 200" \
		<(grep -F -- "\"requestId\":\"$rid\"" "${S_LOG[badcrc]}")
fi

# ---- itemsize: 413 item_too_large on writes ----------------------------------
if up itemsize; then
	use itemsize
	req GET /readyz
	expect_status 200 "the ok part of the fake: table and index ACTIVE"
	req POST /users "{\"name\":\"Big\",\"email\":\"$(uniq_email big)\"}"
	expect_error 413 item_too_large "DynamoDB refuses the item as too large"
	n=$(fake_count itemsize TransactWriteItems)
	check "itemsize: the create reached DynamoDB once (TransactWriteItems), saw $n" test "$n" = 1
	req PATCH "/users/$(rand_uuid)" '{"title":"bigger"}'
	expect_error 413 item_too_large "UpdateItem refused as too large"
	n=$(fake_count itemsize UpdateItem)
	check "itemsize: the patch reached DynamoDB once (UpdateItem), saw $n" test "$n" = 1
fi

# ---- graceful stop + sanitizer-clean logs -------------------------------------
for m in "${FAULT_MODES[@]}"; do
	[[ -n ${S_PID[$m]:-} ]] || continue
	t0=$SECONDS
	stop_pid "${S_PID[$m]}" 12
	st=$?
	S_PID[$m]=""
	REQ_DESC="stop the $m instance" STATUS="$st" BODY="$(tail -n 5 "${S_LOG[$m]}" 2>/dev/null)"
	check "$m: instance exits 0 on SIGTERM (status $st, $((SECONDS - t0))s)" test "$st" -eq 0
	if grep -qE "$SAN_RE" "${S_LOG[$m]}"; then
		fail "$m: sanitizer report in the instance log: $(grep -m1 -E "$SAN_RE" "${S_LOG[$m]}")"
	else
		pass "$m: no sanitizer report in the instance log"
	fi
	if [[ $st != 0 ]] || grep -qE "$SAN_RE" "${S_LOG[$m]}"; then
		show_log "$m"
	fi
done
for m in "${FAULT_MODES[@]}"; do
	[[ -n ${F_PID[$m]:-} ]] || continue
	kill -TERM "${F_PID[$m]}" 2>/dev/null
done
for m in "${FAULT_MODES[@]}"; do
	[[ -n ${F_PID[$m]:-} ]] || continue
	for ((i = 0; i < 30; i++)); do
		kill -0 "${F_PID[$m]}" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "${F_PID[$m]}" 2>/dev/null
	wait "${F_PID[$m]}" 2>/dev/null
	F_PID[$m]=""
done

BASE_URL=$main_url
