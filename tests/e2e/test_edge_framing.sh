# shellcheck shell=bash
# The edge against hostile requests: requests libmicrohttpd refuses or would have mis-read
# get an answer (never an empty reply), leak nothing and leave the drain count exact (a later
# SIGTERM exits at once); ambiguous framing is refused with 400 and the connection closed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
edge() { python3 "$EF_ROOT/tests/support/edge_client.py" "$@"; }
# Raw framing attacks go to the service itself, never through run.sh's recording proxy (which
# splits only well-formed HTTP/1.1); the requests made with req go through it as usual.
target=${SERVICE_URL:-$BASE_URL}
target=${target#http://}
params=$(seq -s'&' -f 'a%g=1' 1 95)

# ---- defect: many query parameters got an empty reply ----------------------------------
req GET "/healthz?$params"
expect_status 200 "95 query parameters: an answer, not an empty reply"
expect_json .status ok
req GET "/users?limit=1&$(seq -s'&' -f 'p%g=x' 1 300)"
expect_status 200 "300 query parameters on a list: the service's own parameters still read"
expect_jq 'type == "array"'
req GET "/users?$(seq -s'&' -f 'p%g=x' 1 40)&limit=0"
expect_error 400 invalid_query "limit after 40 other parameters is still checked"
r=$(edge raw "$target" "GET /healthz?$(head -c 6000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: t\r\n\r\n")
REQ_DESC="GET with a 6000-byte URI" STATUS=$(jq -r '.responses[0] // "none"' <<<"$r") BODY=""
check "a URI longer than the connection's memory gets 414, not an empty reply" test "$STATUS" = 414
hdrs=$(for i in $(seq 60); do printf 'X-Filler-%d: %s\\r\\n' "$i" "$(head -c 60 /dev/zero | tr '\0' b)"; done)
r=$(edge raw "$target" "GET /healthz HTTP/1.1\r\nHost: t\r\n${hdrs}\r\n")
REQ_DESC="GET with 4 KB of headers" STATUS=$(jq -r '.responses[0] // "none"' <<<"$r")
check "headers over the connection's memory get 431, not an empty reply" test "$STATUS" = 431

# ---- defect: conflicting Content-Length was accepted (request smuggling) ----------------
smuggled=$(uniq_email smuggled)
inner="{\"name\":\"Smuggled\",\"email\":\"$smuggled\"}"
inner_req="POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${#inner}\r\n\r\n$inner"
r=$(edge raw "$target" "POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 200\r\n\r\n{}$inner_req")
REQ_DESC="POST with Content-Length 2 then 200" STATUS=$(jq -r '.responses | map(tostring) | join(",")' <<<"$r")
BODY=$(jq -r '.text' <<<"$r" | sed -n '/^{/p')
check "differing Content-Length headers: exactly one answer, 400" test "$STATUS" = 400
expect_json .code bad_request "conflicting Content-Length is a JSON bad_request"
check "the connection is closed after the refusal" test "$(jq -r .closed <<<"$r")" = true
check "the connection's answer says Connection: close" grep -qi '^Connection: close' <<<"$(jq -r .text <<<"$r" | tr -d '\r')"
find_by_email "$smuggled"
expect_json 'length' 0 "the smuggled request behind it never ran"

frame_case() { # DESC REQUEST
	local r
	r=$(edge raw "$target" "$2")
	REQ_DESC=$1 STATUS=$(jq -r '.responses | map(tostring) | join(",")' <<<"$r")
	BODY=$(jq -r '.text' <<<"$r" | sed -n '/^{/p')
	check "$1: one 400" test "$STATUS" = 400
	expect_json .code bad_request "$1: JSON error"
	check "$1: connection closed" test "$(jq -r .closed <<<"$r")" = true
}
frame_case "Content-Length with Transfer-Encoding" \
	"POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
frame_case "Transfer-Encoding gzip" \
	"POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
frame_case "Transfer-Encoding identity" \
	"POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: identity\r\n\r\n{}"
frame_case "HTTP/1.1 without Host" "GET /healthz HTTP/1.1\r\nAccept: */*\r\n\r\n"
frame_case "two Host headers" "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
r=$(edge raw "$target" "GET /healthz HTTP/1.0\r\n\r\n")
REQ_DESC="HTTP/1.0 without Host" STATUS=$(jq -r '.responses[0] // "none"' <<<"$r")
check "HTTP/1.0 may omit Host: 200" test "$STATUS" = 200
r=$(edge raw "$target" "GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\ncontent-length: 0\r\nConnection: close\r\n\r\n")
REQ_DESC="two equal Content-Length headers" STATUS=$(jq -r '.responses[0] // "none"' <<<"$r")
check "equal Content-Length values are one length: 200" test "$STATUS" = 200
req POST /users "" -H "Content-Type: application/json" -H "Transfer-Encoding: chunked" --data-binary "{\"name\":\"Chunked\",\"email\":\"$(uniq_email chunked)\"}"
expect_status 201 "a chunked body alone is still read"

# ---- what the refused requests left behind: nothing (a second instance, alone) ----------
port=$(free_port)
log=$E2E_TMP/usersvc-edge-framing.log
start_service "$log" -u AWS_SESSION_TOKEN -u MAX_BODY_BYTES \
	HOST=127.0.0.1 PORT="$port" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" \
	AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
	TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=false DYNAMODB_TIMEOUT_MS=10000 THREADS=2
ef_pid=$SVC_PID
trap 'kill -KILL $ef_pid 2>/dev/null; _e2e_on_exit' EXIT
if wait_ok "$ef_pid" "http://127.0.0.1:$port/healthz"; then
	rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$ef_pid/status")
	r=$(edge repeat "127.0.0.1:$port" "GET /healthz?$params HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" 300)
	REQ_DESC="300 x GET with 95 parameters" STATUS=$(jq -c .statuses <<<"$r")
	check "300 requests with 95 parameters: 300 answers 200" test "$STATUS" = '{"200":300}'
	edge repeat "127.0.0.1:$port" "GET /healthz HTTP/1.1\r\nHost: t\r\n${hdrs}\r\n" 50 >/dev/null
	edge repeat "127.0.0.1:$port" "GET /healthz?$(head -c 6000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: t\r\n\r\n" 50 >/dev/null
	rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$ef_pid/status")
	REQ_DESC="RSS ${rss_before} kB -> ${rss_after} kB" STATUS="" BODY=""
	# A sanitizer's allocator quarantines freed memory, so RSS says nothing there: in the ASan build the
	# leak check is LeakSanitizer's report at exit (the last check below).
	if ! nm -D "$E2E_BIN" 2>/dev/null | grep -qE '__(asan|tsan)_init'; then
		check "400 refused requests grow RSS by under 256 kB (${rss_before} -> ${rss_after} kB)" \
			test $((rss_after - rss_before)) -lt 256
	fi
	check "the parameter flood wrote no warning lines" test "$(grep -c 'Not enough memory in pool' "$log")" = 0
	t0=$(date +%s%N)
	stop_pid "$ef_pid" 20
	st=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	REQ_DESC="SIGTERM after the refused requests" STATUS=$st BODY="$(tail -n 3 "$log")"
	check "the drain count is exact: SIGTERM exits 0 within 4 s, not the 11 s drain deadline (${ms} ms)" \
		test "$st" = 0 -a "$ms" -lt 4000
	check "no sanitizer or leak report" bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' '$log'"
else
	fail "second instance did not start: $(tail -n 3 "$log")"
fi
