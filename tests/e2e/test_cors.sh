# shellcheck shell=bash disable=SC2034,SC2317
# CORS as browsers see it, through instances on the suite's moto: off by default (the main
# instance), a list of origins with credentials (the listed origin echoed with Vary: Origin, others
# refused; preflights allow Authorization, X-Api-Key and the trace headers; errors and early
# refusals such as 413 and 429 carry the headers too), '*' through the old name CORS_ALLOW_ORIGIN
# (read the same way, with a warning), and the values that must stop the start (exit 2, one line).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_AWS_ACCESS_KEY_ID:-} || -z ${E2E_TABLE:-} ]]; then
	REQ_DESC="test_cors setup" STATUS="" BODY="E2E_MOTO_URL/E2E_AWS_ACCESS_KEY_ID/E2E_TABLE unset"
	fail "test_cors needs run.sh's moto (E2E_MOTO_URL, E2E_AWS_*, E2E_TABLE); run it through tests/e2e/run.sh"
	return 0 2>/dev/null || exit 0
fi

main_url=$BASE_URL
app=http://app.example:8080
missing=$(rand_uuid)

# ---- the default: no cross-origin access ------------------------------------------
req GET "/users/$missing" "" -H "Origin: $app"
expect_status 404
expect_no_header Access-Control-Allow-Origin "CORS is off by default: no Allow-Origin"
expect_no_header Vary "off: nothing varies by Origin"
req OPTIONS /users "" -H "Origin: $app" -H 'Access-Control-Request-Method: POST'
expect_status 204 "a preflight is still answered when CORS is off"
expect_no_header Access-Control-Allow-Origin "off: the preflight allows no origin"
expect_no_header Access-Control-Allow-Headers "off: no Allow-Headers"

# ---- instances: a list with credentials, '*' by the old name, and one address limit ----
# start_cors NAME VAR=VALUE...: an instance on the suite's moto; sets CORS_PID and CORS_URL.
pids=() names=() urls=()
start_cors() {
	local name=$1 port
	shift
	port=$(free_port)
	start_service "$E2E_TMP/usersvc-cors-$name.log" \
		-u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
		-u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT -u MAX_BODY_BYTES -u CORS_ALLOW_ORIGIN -u CORS_ALLOW_ORIGINS \
		-u CORS_ALLOW_CREDENTIALS \
		HOST=127.0.0.1 PORT="$port" AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 \
		AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
		TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=false THREADS=1 "$@"
	CORS_PID=$SVC_PID CORS_URL=http://127.0.0.1:$port
	pids+=("$SVC_PID") names+=("$name") urls+=("$CORS_URL")
}
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; _e2e_on_exit' EXIT

start_cors list "CORS_ALLOW_ORIGINS=https://Other.example:443, $app" CORS_ALLOW_CREDENTIALS=true MAX_BODY_BYTES=1000
list_pid=$CORS_PID list_url=$CORS_URL
start_cors any CORS_ALLOW_ORIGIN='*'
any_pid=$CORS_PID any_url=$CORS_URL
start_cors limit CORS_ALLOW_ORIGINS="$app" MAX_CONNECTIONS_PER_IP=1
limit_pid=$CORS_PID limit_url=$CORS_URL
up=1
for i in "${!pids[@]}"; do
	if ! wait_ok "${pids[$i]}" "${urls[$i]}/healthz" 150; then
		up=""
		REQ_DESC="start the ${names[$i]} instance" STATUS="" BODY=$(tail -n 5 "$E2E_TMP/usersvc-cors-${names[$i]}.log")
		fail "the CORS instance '${names[$i]}' did not answer /healthz within 15 s"
	fi
done
[[ -n $up ]] || return 0 2>/dev/null || exit 0

# ---- a list: the listed origin is echoed, with credentials -------------------------
BASE_URL=$list_url
req OPTIONS /users "" -H "Origin: $app" -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: authorization,content-type,traceparent'
expect_status 204 "preflight from a listed origin"
expect_header Access-Control-Allow-Origin "^${app//./\\.}\$" "the listed origin is echoed"
expect_header Access-Control-Allow-Credentials '^true$' "credentials allowed"
expect_header Vary '^Origin$' "Vary: Origin on the preflight"
expect_header Access-Control-Allow-Methods '(^|[ ,])POST([ ,]|$)' "preflight lists POST"
for h in Authorization Content-Type If-Match If-None-Match X-Api-Key X-Request-Id traceparent tracestate; do
	expect_header Access-Control-Allow-Headers "(^|[ ,])$h([ ,]|\$)" "preflight allows $h"
done
expect_header Access-Control-Max-Age '^600$' "preflight may be cached 10 minutes"

req OPTIONS /users/by-email/a@example.com "" -H 'Origin: https://other.example' -H 'Access-Control-Request-Method: GET'
expect_header Access-Control-Allow-Origin '^https://other\.example$' "https://Other.example:443 was normalised to what browsers send"
expect_header Access-Control-Allow-Methods '(^|[ ,])GET([ ,]|$)'

req GET "/users/$missing" "" -H "Origin: $app"
expect_error 404 user_not_found
expect_header Access-Control-Allow-Origin "^${app//./\\.}\$" "an error carries Allow-Origin"
expect_header Access-Control-Expose-Headers '(^|[ ,])WWW-Authenticate([ ,]|$)' "WWW-Authenticate is readable by the page"
expect_header Access-Control-Expose-Headers '(^|[ ,])ETag([ ,]|$)' "ETag is readable by the page"
expect_header Vary '^Origin$'
expect_no_header Access-Control-Allow-Methods "Allow-Methods only on preflights"
req POST /users '{"name":' -H "Origin: $app"
expect_error 400 invalid_json
expect_header Access-Control-Allow-Origin "^${app//./\\.}\$" "a 400 carries Allow-Origin"
req DELETE /users "" -H "Origin: $app"
expect_error 405 method_not_allowed
expect_header Access-Control-Allow-Origin "^${app//./\\.}\$" "a 405 carries Allow-Origin"
req GET /nowhere "" -H "Origin: $app"
expect_error 404 not_found
expect_header Access-Control-Allow-Origin "^${app//./\\.}\$" "an unknown route carries Allow-Origin"
python3 -c 'import json; print(json.dumps({"name": "n", "email": "e@example.com", "bio": "x" * 2000}))' >"$E2E_TMP/cors-big.json"
req_file POST /users "$E2E_TMP/cors-big.json" -H "Origin: $app"
expect_error 413 body_too_large
expect_header Access-Control-Allow-Origin "^${app//./\\.}\$" "a 413 refused before the body carries Allow-Origin"

for other in https://evil.example http://app.example:8081 https://app.example:8080 http://app.example null; do
	req GET "/users/$missing" "" -H "Origin: $other"
	expect_no_header Access-Control-Allow-Origin "origin $other is not allowed"
	expect_no_header Access-Control-Allow-Credentials "no credentials for $other"
	expect_header Vary '^Origin$' "Vary: Origin for $other too"
done
req OPTIONS /users "" -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
expect_no_header Access-Control-Allow-Origin "a preflight from another origin allows nothing"
req GET "/users/$missing"
expect_no_header Access-Control-Allow-Origin "no Origin: no Allow-Origin"
expect_header Vary '^Origin$' "no Origin: still Vary: Origin (a cache must not reuse it for an origin)"

# ---- '*' through the old name -------------------------------------------------------
BASE_URL=$any_url
req GET "/users/$missing" "" -H "Origin: $app"
expect_header Access-Control-Allow-Origin '^\*$' "CORS_ALLOW_ORIGIN=* (the old name): any origin"
expect_no_header Access-Control-Allow-Credentials "'*' never allows credentials"
expect_no_header Vary "'*': nothing varies by Origin"
req OPTIONS "/users/$missing" "" -H 'Origin: https://anywhere.example' -H 'Access-Control-Request-Method: PATCH' \
	-H 'Access-Control-Request-Headers: authorization,if-match'
expect_status 204
expect_header Access-Control-Allow-Origin '^\*$'
expect_header Access-Control-Allow-Methods '(^|[ ,])PATCH([ ,]|$)' "preflight on /users/{id} lists PATCH"
expect_header Access-Control-Allow-Headers '(^|[ ,])Authorization([ ,]|$)'
check "the old name is read with a warning in the log" \
	grep -q 'CORS_ALLOW_ORIGIN is the old name of CORS_ALLOW_ORIGINS' "$E2E_TMP/usersvc-cors-any.log"
check "the start-up log describes the policy" grep -q 'CORS: any origin (\*), without credentials' \
	"$E2E_TMP/usersvc-cors-any.log"
check "the list instance's start-up log names its origins" \
	grep -q "CORS: 2 origins (https://other.example, $app), with credentials" "$E2E_TMP/usersvc-cors-list.log"

# ---- a 429 refusal carries the headers too -------------------------------------------
BASE_URL=$limit_url
port=${limit_url##*:}
if exec {held}<>"/dev/tcp/127.0.0.1/$port"; then
	sleep 0.3 # the held connection is counted when accepted
	req GET /healthz "" -H "Origin: $app"
	expect_error 429 too_many_connections "a second connection from this address"
	expect_header Access-Control-Allow-Origin "^${app//./\\.}\$" "a 429 carries Allow-Origin"
	exec {held}>&-
else
	fail "could not open a connection to the limited instance"
fi

for p in "${pids[@]}"; do
	stop_pid "$p" 10
	st=$?
	REQ_DESC="stop instance $p" STATUS=$st BODY=""
	check "a CORS instance stops cleanly (status $st)" test "$st" = 0
done
pids=()

# ---- values that must stop the start ----------------------------------------------------
# refused NAME VAR=VALUE...: the instance must exit 2 within 5 s with one line; sets REFUSED_LOG.
refused() {
	local name=$1 log=$E2E_TMP/usersvc-cors-refused-$1.log i st=running
	shift
	start_service "$log" -u CORS_ALLOW_ORIGIN -u CORS_ALLOW_ORIGINS -u CORS_ALLOW_CREDENTIALS \
		HOST=127.0.0.1 PORT="$(free_port)" AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 \
		TABLE_NAME="Users-cors-refused-$$" AUTO_CREATE_TABLE=false "$@"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SVC_PID" 2>/dev/null; then
		kill -KILL "$SVC_PID" 2>/dev/null
		wait "$SVC_PID" 2>/dev/null
	else
		wait "$SVC_PID" 2>/dev/null
		st=$?
	fi
	REFUSED_LOG=$(cat "$log")
	REQ_DESC="start usersvc ($name)" STATUS=$st BODY=$REFUSED_LOG
	check "$name: exit status 2 (got $st)" test "$st" = 2
	check "$name: one line" test "$(wc -l <"$log")" = 1
}
refused crlf CORS_ALLOW_ORIGINS=$'https://a.example\r\nX-Injected: 1'
check "the CR/LF value is not echoed" bash -c '[[ $1 != *X-Injected* && $1 == *"CORS_ALLOW_ORIGINS: entry 1 is not an origin"* ]]' _ "$REFUSED_LOG"
refused path CORS_ALLOW_ORIGINS='https://a.example/app'
check "a path is named" bash -c '[[ $1 == *"has a path"* ]]' _ "$REFUSED_LOG"
refused wildcard CORS_ALLOW_ORIGINS='https://*.example.com'
check "a wildcard inside is named" bash -c '[[ $1 == *"has a wildcard"* ]]' _ "$REFUSED_LOG"
refused credentials-any CORS_ALLOW_ORIGINS='*' CORS_ALLOW_CREDENTIALS=true
check "'*' with credentials is named" bash -c '[[ $1 == *"CORS_ALLOW_CREDENTIALS=true cannot go with CORS_ALLOW_ORIGINS=*"* ]]' _ "$REFUSED_LOG"
refused both-names CORS_ALLOW_ORIGIN='*' CORS_ALLOW_ORIGINS='*'
check "both names set is named" bash -c '[[ $1 == *"set only CORS_ALLOW_ORIGINS"* ]]' _ "$REFUSED_LOG"
BASE_URL=$main_url
