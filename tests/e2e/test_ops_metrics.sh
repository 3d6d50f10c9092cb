# shellcheck shell=bash disable=SC2034,SC2317
# Operating usersvc (README): an instance of its own (two workers, its own table, so
# its counters start at zero and hold exactly this file's workload) runs a known
# workload; then GET /metrics passes `promtool check metrics` and holds exactly the
# expected numbers, summed over both workers; every log line is one JSON object and
# the access lines carry the documented fields and no email; a burst of /readyz
# probes costs at most one DescribeTable per cache window.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer'
main_url=$BASE_URL
dir=$(mktemp -d "$E2E_TMP/opsmetrics.XXXXXX")
log=$dir/usersvc-opsmetrics.log
table=Users-opsmetrics-$$

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_AWS_ACCESS_KEY_ID:-} ]]; then
	REQ_DESC="test_ops_metrics setup" STATUS="" BODY="E2E_MOTO_URL/E2E_AWS_* unset"
	fail "test_ops_metrics needs run.sh's moto (E2E_MOTO_URL, E2E_AWS_*); run it through tests/e2e/run.sh"
	return 0 2>/dev/null || exit 0
fi

# A LOG_FORMAT the service does not know stops the start (exit 2, one line).
bad_log=$dir/usersvc-badformat.log
start_service "$bad_log" HOST=127.0.0.1 PORT="$(free_port)" LOG_FORMAT=yaml TABLE_NAME="$table"
wait "$SVC_PID"
st=$?
REQ_DESC="start with LOG_FORMAT=yaml" STATUS=$st BODY="$(cat "$bad_log")"
check "LOG_FORMAT=yaml: exit 2 with one JSON line naming the variable (status $st)" \
	bash -c '[[ $1 == 2 && $(wc -l <"$2") == 1 ]] && jq -e ".level == \"error\" and (.msg | startswith(\"LOG_FORMAT: \"))" "$2" >/dev/null' \
	_ "$st" "$bad_log"

port=$(free_port)
start_service "$log" \
	-u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u LOG_FORMAT \
	-u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT -u DYNAMODB_TIMEOUT_MS -u EMAIL_INDEX -u MAX_BODY_BYTES \
	HOST=127.0.0.1 PORT="$port" THREADS=2 \
	AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
	TABLE_NAME="$table" AUTO_CREATE_TABLE=true
pid=$SVC_PID
trap 'kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null; _e2e_on_exit' EXIT
BASE_URL=http://127.0.0.1:$port

up=""
wait_ok "$pid" "$BASE_URL/healthz" 300 && up=1 # healthz never answers but 200: exactly one is counted
REQ_DESC="start an instance on table $table" STATUS="" BODY="$(tail -n 5 "$log" 2>/dev/null)"
check "instance on its own table answers /healthz within 30 s" test -n "$up"

# jqe FILTER: reads JSON on stdin; succeeds when FILTER is true (prints nothing).
jqe() { jq -e "$1" >/dev/null; }

# metric NAME_WITH_LABELS: its value in the last scrape (SCRAPE), or 0 when the series is absent.
metric() {
	awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' <<<"$SCRAPE"
}
# expect_metric NAME_WITH_LABELS VALUE
expect_metric() {
	local got
	got=$(metric "$1")
	REQ_DESC="GET /metrics" STATUS="" BODY="$(grep -F -- "${1%%\{*}" <<<"$SCRAPE" | head -n 20)"
	check "metrics: $1 = $2 (got $got)" test "$got" = "$2"
}

if [[ -n $up ]]; then
	email=$(uniq_email ops) email2=$(uniq_email ops2)
	# ---- the workload: each request's count is asserted below
	create_user "Ops One" "$email" && id=$CREATED_ID                  # POST 201: TransactWriteItems ok
	create_user "Ops Two" "$email2"                                     # POST 201: TransactWriteItems ok
	req POST /users "$(jq -nc --arg e "$email" '{name:"Dup",email:$e}')" # 409: TransactWriteItems canceled
	expect_error 409 email_taken "a second user with the same email"
	req GET "/users/$id" "" -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
		-H $'User-Agent: ops-test "quoted" \xc3\xa9 \xff'             # 200: GetItem
	expect_status 200 "GET by id"
	get_rid=$(hdr X-Request-Id)
	req GET "/users/$id" "" -H 'If-None-Match: "1"'                     # 304: GetItem
	expect_status 304 "GET by id with a matching If-None-Match"
	req GET "/users/$(rand_uuid)"                                       # 404: GetItem
	expect_error 404 user_not_found "GET of an absent user"
	req GET "/users/by-email/$email"                                    # 200: Query
	expect_status 200 "GET by email"
	email_rid=$(hdr X-Request-Id)
	req PATCH "/users/$id" '{"title":"x"}' -H 'If-Match: "9"'           # 412: GetItem
	expect_error 412 precondition_failed "PATCH with a stale If-Match"
	req DELETE "/users/$id"                                             # 200: GetItem + TransactWriteItems
	expect_status 200 "DELETE"
	req GET /no/such/route                                              # 404, no route
	expect_error 404 not_found "an unknown route"
	req PUT /users '{}'                                                 # 405, no route
	expect_status 405 "PUT /users"

	# ---- /readyz: one probe, then a burst from 8 clients at once
	req GET /readyz
	expect_status 200 "the first /readyz"
	n_probes=60
	t0=$(date +%s%N)
	codes=$(seq "$n_probes" | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "$BASE_URL/readyz")
	t1=$(date +%s%N)
	n_200=$(grep -c '^200$' <<<"$codes")
	REQ_DESC="$n_probes parallel GET /readyz" STATUS="" BODY="$(sort <<<"$codes" | uniq -c)"
	check "readyz burst: all $n_probes probes answered 200 (got $n_200)" test "$n_200" = "$n_probes"

	req GET /metrics
	expect_status 200 "GET /metrics"
	expect_header Content-Type '^text/plain; version=0\.0\.4; charset=utf-8$' "the exposition format's content type"
	SCRAPE=$BODY
	printf '%s\n' "$SCRAPE" >"$dir/metrics.txt"
	check "promtool check metrics accepts the scrape" bash -c 'promtool check metrics <"$1" >"$1.promtool" 2>&1' _ "$dir/metrics.txt"
	[[ -s $dir/metrics.txt.promtool ]] && cat "$dir/metrics.txt.promtool"

	# DescribeTable: the start-up check is the start-up client's and not counted; the first probe
	# made one; the burst at most one per 2 s window it spans (plus the window it started in).
	describe=$(metric 'usersvc_dynamodb_requests_total{operation="DescribeTable",outcome="ok"}')
	windows=$(((t1 - t0) / 2000000000 + 2))
	check "readyz: 1 + $n_probes probes cost $describe DescribeTable calls, at most 1 + $windows" \
		test "$describe" -ge 1 -a "$describe" -le $((1 + windows))

	h='usersvc_http_requests_total'
	expect_metric "$h{route=\"/healthz\",method=\"GET\",status=\"200\"}" 1
	expect_metric "$h{route=\"/users\",method=\"POST\",status=\"201\"}" 2
	expect_metric "$h{route=\"/users\",method=\"POST\",status=\"409\"}" 1
	expect_metric "$h{route=\"/users/{id}\",method=\"GET\",status=\"200\"}" 1
	expect_metric "$h{route=\"/users/{id}\",method=\"GET\",status=\"304\"}" 1
	expect_metric "$h{route=\"/users/{id}\",method=\"GET\",status=\"404\"}" 1
	expect_metric "$h{route=\"/users/by-email/{email}\",method=\"GET\",status=\"200\"}" 1
	expect_metric "$h{route=\"/users/{id}\",method=\"PATCH\",status=\"412\"}" 1
	expect_metric "$h{route=\"/users/{id}\",method=\"DELETE\",status=\"200\"}" 1
	expect_metric "$h{route=\"none\",method=\"GET\",status=\"404\"}" 1
	expect_metric "$h{route=\"none\",method=\"PUT\",status=\"405\"}" 1
	expect_metric "$h{route=\"/readyz\",method=\"GET\",status=\"200\"}" $((n_probes + 1))
	expect_metric "$h{route=\"/metrics\",method=\"GET\",status=\"200\"}" 0 # counted once answered
	expect_metric 'usersvc_http_request_duration_seconds_count{route="/users/{id}"}' 5
	expect_metric 'usersvc_http_request_duration_seconds_bucket{route="/users/{id}",le="+Inf"}' 5
	d='usersvc_dynamodb_requests_total'
	expect_metric "$d{operation=\"TransactWriteItems\",outcome=\"ok\"}" 3
	expect_metric "$d{operation=\"TransactWriteItems\",outcome=\"transaction_canceled\"}" 1
	expect_metric "$d{operation=\"GetItem\",outcome=\"ok\"}" 5
	expect_metric "$d{operation=\"Query\",outcome=\"ok\"}" 1
	expect_metric 'usersvc_dynamodb_request_duration_seconds_count{operation="GetItem"}' 5
	expect_metric 'usersvc_dynamodb_retries_total{operation="GetItem"}' 0
	expect_metric 'usersvc_write_conflicts_total{outcome="email_taken"}' 1
	expect_metric 'usersvc_write_conflicts_total{outcome="precondition_failed"}' 1
	expect_metric 'usersvc_write_conflicts_total{outcome="concurrent_update"}' 0
	expect_metric usersvc_http_requests_in_flight 1 # the scrape itself
	expect_metric usersvc_http_requests_waiting_dynamodb 0
	conns=$(metric usersvc_http_connections_open)
	check "metrics: usersvc_http_connections_open counts the scrape's connection ($conns)" test "$conns" -ge 1
	check "metrics: usersvc_build_info names the version" grep -qE '^usersvc_build_info\{version="[^"]+"\} 1$' <<<"$SCRAPE"
	for p in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_max_fds \
		process_start_time_seconds; do
		v=$(metric "$p")
		check "metrics: $p is a positive number ($v)" awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }'
	done

	# ---- the log
	sleep 0.3 # access lines are written once per loop turn
	n_lines=$(grep -c . "$log")
	n_json=$(log_lines "$log" '1' | grep -c .)
	check "log: every one of its $n_lines lines is a JSON object ($n_json are)" test "$n_lines" = "$n_json" -a "$n_lines" -gt 0
	check "log: every line has time, level and msg" \
		test "$(log_lines "$log" 'select(has("time") and has("level") and has("msg")) | 1' | grep -c .)" = "$n_lines"
	line=$(log_lines "$log" "select(.msg == \"request\" and .requestId == \"$get_rid\") | tojson")
	REQ_DESC="the access line of $get_rid" STATUS="" BODY="$line"
	check "access line: method, route template, status, durationMs, bytesOut, remoteAddr" \
		jqe '.level == "info" and .method == "GET" and .route == "/users/{id}" and .status == 200 and
			(.durationMs | type) == "number" and .bytesOut > 0 and .remoteAddr == "127.0.0.1"' <<<"$line"
	check "access line: the traceparent's trace id" jqe '.traceId == "4bf92f3577b34da6a3ce929d0e0e4736"' <<<"$line"
	check "access line: the User-Agent escaped, an invalid byte as U+FFFD" \
		jqe '.userAgent == "ops-test \"quoted\" é \ufffd"' <<<"$line"
	check "access line: the GetItem with DynamoDB's request id and no retry" \
		jqe '.ddb | length == 1 and .[0].op == "GetItem" and .[0].outcome == "ok" and .[0].retries == 0 and
			(.[0].requestId | test("^[A-Za-z0-9-]{20,64}$"))' <<<"$line"
	line=$(log_lines "$log" "select(.msg == \"request\" and .requestId == \"$email_rid\") | tojson")
	REQ_DESC="the access line of $email_rid" STATUS="" BODY="$line"
	check "access line of GET by-email: the route template, not the path with the email" \
		jqe '.route == "/users/by-email/{email}" and (tostring | test("@") | not)' <<<"$line"
	check "log: no email address of this workload" bash -c '! grep -qF -e "$1" -e "$2" "$3"' _ "$email" "$email2" "$log"
fi

stop_pid "$pid" 10
st=$?
REQ_DESC="stop the ops-metrics instance" STATUS="$st" BODY="$(tail -n 5 "$log" 2>/dev/null)"
check "ops-metrics instance exits 0 on SIGTERM" test "$st" -eq 0
if grep -qE "$SAN_RE" "$log"; then
	fail "ops-metrics instance: sanitizer report in its log: $(grep -m1 -E "$SAN_RE" "$log")"
else
	pass "ops-metrics instance: no sanitizer report in its log"
fi
if [[ $st != 0 || -z $up ]] || grep -qE "$SAN_RE" "$log"; then
	echo "---- last 30 lines of the ops-metrics instance log ----"
	tail -n 30 "$log"
	echo "----"
fi
trap _e2e_on_exit EXIT
BASE_URL=$main_url
