# shellcheck shell=bash disable=SC2034
# Shared helpers for tests/e2e/test_*.sh.  Source it; needs bash, curl, jq.
#
# Environment (set by run.sh; a test file can also run alone against any
# running service: BASE_URL=http://127.0.0.1:8080 bash tests/e2e/test_read.sh):
#   BASE_URL        service base URL, no trailing slash
#   E2E_RESULTS     file every check appends "PASS msg" / "FAIL msg" to
#   E2E_TMP         scratch directory (made here when unset)
#   E2E_BIN         the service binary (for tests that start their own instance)
#
# Requests:
#   req METHOD PATH [BODY] [extra curl args...]
#     BODY "" means no body.  With a body, Content-Type: application/json is
#     sent unless an extra arg sets a Content-Type header (-H 'Content-Type:'
#     sends none).  Sets STATUS (e.g. 200, 000 = no answer), BODY (text),
#     HEADERS (raw header block, CRs removed), REQ_DESC ("METHOD PATH"),
#     ELAPSED (seconds, float).
#   req_file METHOD PATH FILE [extra curl args...]   same, body read from FILE
#   find_by_email EMAIL   GET /users?email=EMAIL (URL-encoded)
#   HEAD requests: BODY holds whatever bytes the server sent after the headers
#   (read from a raw socket), so "HEAD has no body" can really be checked.
#   hdr NAME           value of response header NAME (last one, case-insensitive)
#   jqr FILTER         jq -rc FILTER on BODY (prints nothing on invalid JSON)
#
# Checks (each counts one pass or one fail; MSG is optional extra text):
#   expect_status CODE [MSG]        CODE may be an alternation: "503|504"
#   expect_json EXPR VALUE [MSG]    jq -rc EXPR on BODY printed exactly VALUE
#                                   (strings raw, other values compact JSON)
#   expect_json_re EXPR ERE [MSG]   jq -rc EXPR on BODY matches ^(ERE)$
#   expect_jq FILTER [MSG]          jq FILTER on BODY printed exactly "true"
#   expect_header NAME REGEX [MSG]  header present and its value matches the ERE
#   expect_no_header NAME [MSG]
#   expect_body_regex ERE [MSG]     the raw body text matches the ERE (exact numbers)
#   expect_body_empty [MSG]
#   expect_error STATUS CODE [MSG]  an error response: STATUS, JSON content type,
#                                   .code == CODE (both may be alternations: a|b),
#                                   .message a non-empty string,
#                                   .requestId == the X-Request-Id header
#   check COND_DESC CMD...          generic: passes when CMD... succeeds
#   record_through URL              an instance of a test's own joins the contract check (below)
#   pass MSG / fail MSG             record a result directly

set -u
[[ -n ${_E2E_LIB_LOADED:-} ]] && return 0
_E2E_LIB_LOADED=1

: "${BASE_URL:?BASE_URL must be set (e.g. http://127.0.0.1:8080)}"
if [[ -z ${E2E_TMP:-} ]]; then
	E2E_TMP=$(mktemp -d -t usersvc-e2e-local.XXXXXX)
	E2E_OWN_TMP=1
fi
if [[ -z ${E2E_RESULTS:-} ]]; then
	# Running a test file alone: keep results locally and summarise at exit.
	E2E_RESULTS=$E2E_TMP/results
	: >"$E2E_RESULTS"
	E2E_STANDALONE=1
fi
# Test files that set their own EXIT trap must call _e2e_on_exit from it.
_e2e_on_exit() {
	local pid
	for pid in "${RECORD_PIDS[@]}"; do stop_pid "$pid" 5; done # writes their recordings (record_through)
	RECORD_PIDS=()
	[[ -n ${E2E_STANDALONE:-} ]] || return 0
	local p f
	p=$(grep -c "^PASS" "$E2E_RESULTS")
	f=$(grep -c "^FAIL" "$E2E_RESULTS")
	echo "$(basename "$0"): $p passed, $f failed"
	[[ -n ${E2E_OWN_TMP:-} ]] && rm -rf "$E2E_TMP"
	[[ $f == 0 && $p != 0 ]] || exit 1
}
trap _e2e_on_exit EXIT
export BASE_URL E2E_TMP E2E_RESULTS
E2E_CURL_MAX_TIME=${E2E_CURL_MAX_TIME:-15}

STATUS="" BODY="" HEADERS="" REQ_DESC="" ELAPSED=""
_E2E_SEQ=0

# ---- results ---------------------------------------------------------------

_e2e_ctx() {
	local b=${BODY:0:300}
	b=${b//$'\n'/ }
	printf '%s -> %s %s' "${REQ_DESC:-?}" "${STATUS:-?}" "$b"
}

pass() {
	printf 'PASS %s\n' "$*" >>"$E2E_RESULTS"
	[[ -n ${E2E_VERBOSE:-} ]] && printf '  ok   %s\n' "$*"
	return 0
}

fail() {
	printf 'FAIL %s\n' "$*" >>"$E2E_RESULTS"
	printf '  FAIL %s\n' "$*"
	printf '       last request: %s\n' "$(_e2e_ctx)"
	return 1
}

# ---- requests --------------------------------------------------------------

_e2e_curl() { # METHOD PATH BODYFILE|"" extra...
	local method=$1 path=$2 bodyfile=$3
	shift 3
	local n=$((++_E2E_SEQ))
	local out="$E2E_TMP/resp.$$.$n" hdrs="$E2E_TMP/hdrs.$$.$n"
	local -a args=(-sS --max-time "$E2E_CURL_MAX_TIME" -o "$out" -D "$hdrs"
		-w '%{http_code} %{time_total}')
	if [[ $method == HEAD ]]; then
		args+=(--head)
	else
		args+=(-X "$method")
	fi
	if [[ -n $bodyfile ]]; then
		args+=(--data-binary "@$bodyfile")
		local a has_ct=""
		for a in "$@"; do
			[[ ${a,,} == content-type:* ]] && has_ct=1
		done
		[[ -z $has_ct ]] && args+=(-H 'Content-Type: application/json')
	fi
	local w
	w=$(curl "${args[@]}" "$@" "$BASE_URL$path" 2>"$E2E_TMP/curlerr.$$")
	STATUS=${w%% *}
	ELAPSED=${w#* }
	[[ -z $STATUS ]] && STATUS=000
	BODY=$(cat "$out" 2>/dev/null)
	HEADERS=$(tr -d '\r' <"$hdrs" 2>/dev/null)
	if [[ $method == HEAD && $STATUS != 000 ]]; then
		# curl --head never reads a body; look for one on a raw connection.
		local -a hs=()
		while (($#)); do
			[[ $1 == -H ]] && hs+=("$2") && shift
			shift
		done
		BODY=$(python3 - "$BASE_URL$path" "${hs[@]}" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
target = u.path + ("?" + u.query if u.query else "")
lines = [f"HEAD {target} HTTP/1.1", f"Host: {u.netloc}", "Connection: close"] + sys.argv[2:]
s = socket.create_connection((u.hostname, u.port or 80), timeout=5)
s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
s.settimeout(1.5)
data = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
except socket.timeout:
    pass
i = data.find(b"\r\n\r\n")
sys.stdout.write(data[i + 4:].decode("utf-8", "replace") if i >= 0 else "(no header end in raw HEAD answer)")
PY
)
	fi
	if [[ $STATUS == 000 ]]; then
		BODY="(no response: $(cat "$E2E_TMP/curlerr.$$" 2>/dev/null))"
	fi
	rm -f "$out" "$hdrs" "$E2E_TMP/curlerr.$$"
	REQ_DESC="$method $path"
	return 0
}

req() { # METHOD PATH [BODY] [extra curl args...]
	local method=$1 path=$2 body=${3-}
	shift 2
	(($#)) && shift
	if [[ -n $body ]]; then
		local f="$E2E_TMP/req.$$.$((_E2E_SEQ + 1))"
		printf '%s' "$body" >"$f"
		_e2e_curl "$method" "$path" "$f" "$@"
		rm -f "$f"
	else
		_e2e_curl "$method" "$path" "" "$@"
	fi
}

req_file() { # METHOD PATH FILE [extra curl args...]
	local method=$1 path=$2 file=$3
	shift 3
	_e2e_curl "$method" "$path" "$file" "$@"
}

# GET /users?email=EMAIL, URL-encoded by curl
find_by_email() {
	req GET /users "" -G --data-urlencode "email=$1"
	REQ_DESC="GET /users?email=$1"
}

hdr() { # NAME -> value of the last such header in the final response
	local name=${1,,} line k v=""
	local found=1
	while IFS= read -r line; do
		if [[ $line == HTTP/* ]]; then # a new response block (after 1xx)
			v="" found=1
			continue
		fi
		k=${line%%:*}
		if [[ ${k,,} == "$name" && $line == *:* ]]; then
			v=${line#*:}
			v=${v#"${v%%[![:space:]]*}"}
			v=${v%"${v##*[![:space:]]}"}
			found=0
		fi
	done <<<"$HEADERS"
	printf '%s' "$v"
	return $found
}

jqr() { printf '%s' "$BODY" | jq -rc "$@" 2>/dev/null; }

_is_json() { [[ -n $BODY ]] && printf '%s' "$BODY" | jq empty >/dev/null 2>&1; }

# ---- checks ----------------------------------------------------------------

expect_status() { # CODE [MSG]
	local want=$1 msg=${2:-}
	if [[ $STATUS =~ ^($want)$ ]]; then
		pass "$REQ_DESC: status $want${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected status $want, got $STATUS${msg:+ ($msg)}"
	fi
}

expect_json() { # EXPR VALUE [MSG]
	local expr=$1 want=$2 msg=${3:-} got
	if ! _is_json; then
		fail "$REQ_DESC: expected JSON body with $expr = $want, body is not JSON${msg:+ ($msg)}"
		return 1
	fi
	got=$(printf '%s' "$BODY" | jq -rc "$expr" 2>&1)
	if [[ $got == "$want" ]]; then
		pass "$REQ_DESC: $expr = $want${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected $expr = $want, got ${got:0:200}${msg:+ ($msg)}"
	fi
}

expect_json_re() { # EXPR ERE [MSG]   jq -rc EXPR on BODY matches the whole-line ERE
	local expr=$1 re=$2 msg=${3:-} got
	if ! _is_json; then
		fail "$REQ_DESC: expected JSON body with $expr ~ /$re/, body is not JSON${msg:+ ($msg)}"
		return 1
	fi
	got=$(printf '%s' "$BODY" | jq -rc "$expr" 2>&1)
	if [[ $got =~ ^($re)$ ]]; then
		pass "$REQ_DESC: $expr ~ /$re/${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected $expr matching /$re/, got ${got:0:200}${msg:+ ($msg)}"
	fi
}

expect_jq() { # FILTER [MSG]   FILTER must print true
	local filter=$1 msg=${2:-} got
	if ! _is_json; then
		fail "$REQ_DESC: expected JSON body with ($filter) true, body is not JSON${msg:+ ($msg)}"
		return 1
	fi
	got=$(printf '%s' "$BODY" | jq -rc "$filter" 2>&1)
	if [[ $got == true ]]; then
		pass "$REQ_DESC: $filter${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected ($filter) to be true, got ${got:0:200}${msg:+ ($msg)}"
	fi
}

expect_header() { # NAME REGEX [MSG]
	local name=$1 re=$2 msg=${3:-} v
	if ! v=$(hdr "$name"); then
		fail "$REQ_DESC: expected header $name matching /$re/, header absent${msg:+ ($msg)}"
		return 1
	fi
	if printf '%s' "$v" | grep -Eq -- "$re"; then
		pass "$REQ_DESC: header $name ~ /$re/${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected header $name matching /$re/, got '$v'${msg:+ ($msg)}"
	fi
}

expect_no_header() { # NAME [MSG]
	local name=$1 msg=${2:-} v
	if v=$(hdr "$name"); then
		fail "$REQ_DESC: expected no $name header, got '$v'${msg:+ ($msg)}"
	else
		pass "$REQ_DESC: no $name header${msg:+ ($msg)}"
	fi
}

expect_body_regex() { # ERE [MSG]
	local re=$1 msg=${2:-}
	if printf '%s' "$BODY" | tr '\n' ' ' | grep -Eq -- "$re"; then
		pass "$REQ_DESC: body matches /$re/${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected body matching /$re/${msg:+ ($msg)}"
	fi
}

expect_body_empty() { # [MSG]
	local msg=${1:-}
	if [[ -z $BODY ]]; then
		pass "$REQ_DESC: empty body${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected an empty body, got ${#BODY} bytes${msg:+ ($msg)}"
	fi
}

# An error response per the contract: status, JSON, code, message, requestId.
expect_error() { # STATUS CODE [MSG]
	local st=$1 code=$2 msg=${3:-} rid
	expect_status "$st" "$msg"
	expect_header Content-Type '^application/json' "error body is JSON${msg:+; $msg}"
	expect_json_re .code "$code" "$msg"
	expect_jq '(.message | type == "string") and (.message | length > 0)' "error has a message${msg:+; $msg}"
	rid=$(hdr X-Request-Id)
	if [[ -n $rid && $(jqr .requestId) == "$rid" ]]; then
		pass "$REQ_DESC: requestId equals X-Request-Id${msg:+ ($msg)}"
	else
		fail "$REQ_DESC: expected body requestId to equal X-Request-Id header '$rid', got '$(jqr .requestId)'${msg:+ ($msg)}"
	fi
}

check() { # DESC CMD...
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# ---- data helpers ----------------------------------------------------------

# A unique lowercase email for this run: uniq_email [prefix]
uniq_email() {
	printf '%s-%s-%s%s@example.com' "${1:-u}" "$$" "$(date +%s%N)" "$RANDOM"
}

# Unanchored (for expect_json_re, which anchors) and anchored forms.
UUID_ERE='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
TS_ERE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
UUID_RE="^$UUID_ERE\$"
TS_RE="^$TS_ERE\$"

# create_user NAME EMAIL [EXTRA_JSON_MEMBERS] -> sets CREATED_ID (empty on failure)
# Counts no check by itself: callers assert what they need.
create_user() {
	local name=$1 email=$2 extra=${3:-}
	local body
	body=$(jq -nc --arg n "$name" --arg e "$email" '{name:$n,email:$e}')
	if [[ -n $extra ]]; then
		body=$(jq -nc --argjson a "$body" --argjson b "$extra" '$a + $b')
	fi
	req POST /users "$body"
	CREATED_ID=""
	[[ $STATUS == 201 ]] && CREATED_ID=$(jqr .id)
	[[ -n $CREATED_ID ]]
}

# A random (almost surely absent) UUID v4
rand_uuid() {
	if [[ -r /proc/sys/kernel/random/uuid ]]; then
		cat /proc/sys/kernel/random/uuid
	else
		python3 -c 'import uuid; print(uuid.uuid4())'
	fi
}

# log_lines LOG JQ_FILTER: runs the filter on each JSON line of a service log (LOG_FORMAT=json, the
# default); lines that are not JSON (a sanitizer's report) are skipped. Prints jq's raw output.
log_lines() {
	jq -Rr "fromjson? | $2" "$1"
}

# Start a service instance: start_service LOGFILE VAR=VALUE...  (BIN from E2E_BIN)
# Sets SVC_PID (do not call it in $(...): the shell that waits must be the parent).
# The pid is also registered in $E2E_TMP/pids so run.sh's cleanup kills it too.
start_service() {
	local log=$1
	shift
	: "${E2E_BIN:?E2E_BIN must name the service binary}"
	local -a pdeath=()
	if command -v setpriv >/dev/null && setpriv --pdeathsig TERM -- true 2>/dev/null; then
		pdeath=(setpriv --pdeathsig TERM --) # dies with this shell even on SIGKILL
	fi
	local a
	for a in "$@"; do # what run.sh's log audit looks for: this log, and the secrets it was given
		case $a in AWS_SECRET_ACCESS_KEY=* | AWS_SESSION_TOKEN=* | JWT_SECRET=*) printf '%s\n' "${a#*=}" >>"$E2E_TMP/secrets" ;; esac
	done
	printf '%s\n' "$log" >>"$E2E_TMP/service-logs"
	"${pdeath[@]}" env "$@" "$E2E_BIN" >"$log" 2>&1 </dev/null &
	SVC_PID=$!
	echo "$SVC_PID" >>"$E2E_TMP/pids"
}

# wait_ok PID URL [TRIES]: polls URL every 0.1 s, up to TRIES times (100), until it answers 200.
# Returns 0 then, 1 when it never did or PID exited first.
wait_ok() {
	local pid=$1 url=$2 tries=${3:-100} i
	for ((i = 0; i < tries; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url") == 200 ]] && return 0
		sleep 0.1
	done
	return 1
}

# start_fake NAME SCRIPT [ARGS...]: starts tests/support/SCRIPT (fake_metadata.py,
# tls_proxy.py, connect_proxy.py) on a free loopback port with --exit-with-parent,
# --log $E2E_TMP/NAME.log (stderr in NAME.stderr) and waits up to 30 s for its
# ready file. Sets FAKE_PID and FAKE_PORT (registered in $E2E_TMP/pids, so run.sh
# kills it too; stop_pid it when done). Returns 1 if it did not become ready.
# Not in $(...), like start_service.
_E2E_SUPPORT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../support" && pwd)
start_fake() {
	local name=$1 script=$2 i
	shift 2
	rm -f "$E2E_TMP/$name.port"
	python3 "$_E2E_SUPPORT/$script" --host 127.0.0.1 --port 0 \
		--ready-file "$E2E_TMP/$name.port" --log "$E2E_TMP/$name.log" --exit-with-parent "$@" \
		>"$E2E_TMP/$name.stderr" 2>&1 </dev/null &
	FAKE_PID=$! FAKE_PORT=""
	echo "$FAKE_PID" >>"$E2E_TMP/pids"
	for ((i = 0; i < 300; i++)); do
		[[ -s $E2E_TMP/$name.port ]] && { FAKE_PORT=$(<"$E2E_TMP/$name.port"); return 0; }
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# record_through URL: with run.sh's contract check on (E2E_CONTRACT=1), puts a recording proxy
# (tests/support/record_proxy.py) in front of the instance at URL, so that its exchanges are checked
# against config/openapi.json like the main service's; sets RECORD_URL to use instead of URL (URL
# itself when the check is off). _e2e_on_exit stops the proxies, which writes their recordings.
RECORD_PIDS=()
record_through() {
	RECORD_URL=$1
	[[ ${E2E_CONTRACT:-} == 1 ]] || return 0
	local name=record-$$-${#RECORD_PIDS[@]}
	if ! start_fake "$name" record_proxy.py --upstream "${1#http://}" --out "$E2E_TMP/exchanges-$name.jsonl"; then
		fail "the recording proxy for $1 did not start: $(head -c 300 "$E2E_TMP/$name.stderr")"
		return 1
	fi
	RECORD_PIDS+=("$FAKE_PID")
	RECORD_URL=http://127.0.0.1:$FAKE_PORT
}

# stop_pid PID [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL. Returns the exit status.
stop_pid() {
	local pid=$1 grace=${2:-10} i
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 137
	fi
	wait "$pid" 2>/dev/null
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
