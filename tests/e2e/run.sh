#!/usr/bin/env bash
# End-to-end tests: tests/e2e/run.sh BIN   (make e2e runs it with build/usersvc
# or build/sanitize/usersvc).
#
# Starts moto (tests/support/moto_server.py, SigV4 auth on, loopback, free
# port), starts BIN against it on a free loopback port, waits for /readyz,
# runs every tests/e2e/test_*.sh (each sources lib.sh; results go to one
# file), stops the service with SIGTERM and fails the run if it exits non-zero
# or its log shows a sanitizer report, and always kills what it started.
# Prints exactly one summary line "e2e: N passed, M failed"; exits non-zero on
# any failure or when no check ran.
#
# Env knobs: E2E_VERBOSE=1 prints every passing check; E2E_KEEP_TMP=1 keeps the
# temp dir (logs); E2E_ONLY=pattern runs only test files whose name contains it;
# E2E_THREADS=N starts the main service with THREADS=N (make SANITIZE=thread
# sets 4, so ThreadSanitizer sees several workers on this 2-core host);
# E2E_CONTRACT=1 (make e2e in the normal flavour) sends the main service's traffic through
# tests/support/record_proxy.py and checks every exchange against config/openapi.json afterwards
# (tests/contract/check_exchanges.mjs; needs tests/contract/node_modules, which make installs).
# shellcheck disable=SC2317  # functions run from traps
set -u

usage() { echo "usage: $0 BIN" >&2; exit 2; }
[[ $# -eq 1 ]] || usage

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
BIN=$1
for tool in curl jq python3 timeout; do
	command -v "$tool" >/dev/null || { echo "e2e: $tool is required" >&2; echo "e2e: 0 passed, 1 failed"; exit 1; }
done
if [[ ! -x $BIN || -d $BIN ]]; then
	echo "e2e: $BIN is not an executable file" >&2
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

E2E_TMP=$(mktemp -d -t usersvc-e2e.XXXXXX)
E2E_RESULTS=$E2E_TMP/results
: >"$E2E_RESULTS"
: >"$E2E_TMP/pids"
export E2E_TMP E2E_RESULTS E2E_BIN=$BIN
MOTO_LOG=$E2E_TMP/moto.log
SVC_LOG=$E2E_TMP/usersvc.log
MOTO_PID="" SVC_PID="" PROXY_PID="" FINISHED=""
START_TS=$SECONDS

# The service honours the machine's proxies and extra CA bundle (as the SDKs do): every instance of
# the run reaches loopback stand-ins directly unless its test sets them (test_tls_proxy.sh).
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY no_proxy NO_PROXY AWS_CA_BUNDLE

# Sanitizer settings for every service instance (harmless for plain builds).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# A ThreadSanitizer report stops the service with status 66 (and the log check
# below catches it); tsan.supp lists the reviewed races inside uninstrumented libraries.
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$ROOT/tests/support/tsan.supp"

record() { printf '%s %s\n' "$1" "$2" >>"$E2E_RESULTS"; [[ $1 == FAIL ]] && echo "  FAIL $2"; return 0; }

tail_log() { # FILE TITLE
	[[ -s $1 ]] || return 0
	echo "---- last 40 lines of $2 ($1) ----"
	tail -n 40 "$1"
	echo "---- end of $2 ----"
}

kill_wait() { # PID GRACE -> exit status of PID (137 if it had to be killed)
	local pid=$1 grace=$2 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "e2e: pid $pid ignored SIGTERM for ${grace}s, killing it" >&2
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 137
	fi
	wait "$pid" 2>/dev/null
}

# Checks a stopped service: exit status and sanitizer reports in its log.
check_service_exit() { # STATUS LOG NAME
	local st=$1 log=$2 name=$3
	if [[ $st == 0 ]]; then
		record PASS "$name exited 0 after SIGTERM"
	else
		record FAIL "$name: expected exit status 0 after SIGTERM, got $st"
		SHOW_SVC_LOG=1
	fi
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$log" 2>/dev/null; then
		record FAIL "$name: sanitizer report in its log: $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$log")"
		SHOW_SVC_LOG=1
	else
		record PASS "$name log has no sanitizer report"
	fi
}

SHOW_SVC_LOG="" SHOW_MOTO_LOG=""

# Kills whatever is still running: extra instances from tests, the service, moto.
cleanup() {
	local pid st
	trap '' INT TERM HUP
	while read -r pid; do
		[[ -n $pid ]] || continue
		# only our own children (pid reuse safety): the binary must match
		if kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$BIN" ]]; then
			kill -KILL "$pid" 2>/dev/null
		fi
	done <"$E2E_TMP/pids"
	if [[ -n $SVC_PID ]]; then
		kill_wait "$SVC_PID" 10
		st=$?
		if [[ -z $FINISHED ]]; then
			record FAIL "run aborted before the end (service stopped with status $st)"
			SHOW_SVC_LOG=1
		fi
		SVC_PID=""
	fi
	if [[ -n $PROXY_PID ]]; then
		kill_wait "$PROXY_PID" 5
		PROXY_PID=""
	fi
	if [[ -n $MOTO_PID ]]; then
		kill_wait "$MOTO_PID" 5
		MOTO_PID=""
	fi
}

on_exit() {
	cleanup
	[[ -n $SHOW_SVC_LOG ]] && tail_log "$SVC_LOG" "service log"
	[[ -n $SHOW_MOTO_LOG ]] && tail_log "$MOTO_LOG" "moto log"
	local p f
	p=$(grep -c '^PASS' "$E2E_RESULTS")
	f=$(grep -c '^FAIL' "$E2E_RESULTS")
	if [[ -n ${E2E_KEEP_TMP:-} ]]; then
		echo "e2e: logs kept in $E2E_TMP" >&2
	else
		rm -rf "$E2E_TMP"
	fi
	echo "e2e: took $((SECONDS - START_TS))s" >&2
	echo "e2e: $p passed, $f failed"
	[[ $f == 0 && $p -gt 0 ]] && exit 0
	exit 1
}
trap on_exit EXIT
trap 'echo "e2e: interrupted" >&2; exit 130' INT
trap 'echo "e2e: terminated" >&2; exit 143' TERM HUP

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ---- moto -------------------------------------------------------------------
python3 "$ROOT/tests/support/moto_server.py" --host 127.0.0.1 --port 0 --auth --quiet \
	--exit-with-parent --ready-file "$E2E_TMP/moto.port" --creds-file "$E2E_TMP/moto.creds" \
	--admin-creds-file "$E2E_TMP/moto.admin" \
	>"$MOTO_LOG" 2>&1 </dev/null &
MOTO_PID=$!
for ((i = 0; i < 300; i++)); do
	[[ -s $E2E_TMP/moto.port ]] && break
	kill -0 "$MOTO_PID" 2>/dev/null || break
	sleep 0.1
done
if [[ ! -s $E2E_TMP/moto.port ]]; then
	record FAIL "moto did not become ready within 30 s"
	SHOW_MOTO_LOG=1 FINISHED=1
	exit 1
fi
MOTO_PORT=$(<"$E2E_TMP/moto.port")
# shellcheck disable=SC1091
. "$E2E_TMP/moto.creds"
export E2E_MOTO_URL=http://127.0.0.1:$MOTO_PORT
# iam:* + sts:* key (not DynamoDB) for tests/support/fake_metadata.py --creds-file
export E2E_MOTO_ADMIN_CREDS=$E2E_TMP/moto.admin
export E2E_AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID E2E_AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
# Every instance consults the credential provider chain: keep it on this machine and off the
# developer's own ~/.aws (tests that want IMDS or a profile set these themselves).
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=$E2E_TMP/no-aws-config \
	AWS_SHARED_CREDENTIALS_FILE=$E2E_TMP/no-aws-credentials
unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_PROFILE

# ---- the service ------------------------------------------------------------
# If this script is SIGKILLed (no trap runs), the kernel still sends the
# service SIGTERM (moto has --exit-with-parent for the same reason).
PDEATH=()
if command -v setpriv >/dev/null && setpriv --pdeathsig TERM -- true 2>/dev/null; then
	PDEATH=(setpriv --pdeathsig TERM --)
fi
SVC_PORT=$(free_port)
export BASE_URL=http://127.0.0.1:$SVC_PORT
export E2E_TABLE=Users-e2e-$$
"${PDEATH[@]}" env -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
	-u AWS_ENDPOINT_URL -u MAX_BODY_BYTES \
	HOST=127.0.0.1 PORT="$SVC_PORT" \
	AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
	TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=true ${E2E_THREADS:+THREADS="$E2E_THREADS"} \
	"$BIN" >"$SVC_LOG" 2>&1 </dev/null &
SVC_PID=$!

ready=""
deadline=$((SECONDS + 20))
while ((SECONDS < deadline)); do
	if ! kill -0 "$SVC_PID" 2>/dev/null; then
		wait "$SVC_PID"
		record FAIL "service exited during startup with status $?"
		SVC_PID=""
		break
	fi
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/readyz" 2>/dev/null)
	if [[ $code == 200 ]]; then
		ready=1
		break
	fi
	sleep 0.2
done
if [[ -z $ready ]]; then
	[[ -n $SVC_PID ]] && record FAIL "GET /readyz did not answer 200 within 20 s (last status ${code:-none})"
	SHOW_SVC_LOG=1 SHOW_MOTO_LOG=1 FINISHED=1
	exit 1
fi
record PASS "service ready: GET /readyz answered 200 ($((20 - deadline + SECONDS))s)"

# ---- the contract: the main service's traffic through the recording proxy ------------------
# BASE_URL points at the proxy; SERVICE_URL stays the service itself, for the edge tests whose
# requests are deliberately not HTTP the proxy could split (raw framing attacks). Instances that
# tests start on their own ports are recorded only when the test asks (record_through, lib.sh).
export SERVICE_URL=$BASE_URL
EXCHANGES=$E2E_TMP/exchanges.jsonl
if [[ ${E2E_CONTRACT:-} == 1 ]]; then
	python3 "$ROOT/tests/support/record_proxy.py" --host 127.0.0.1 --port 0 --upstream "127.0.0.1:$SVC_PORT" \
		--out "$EXCHANGES" --ready-file "$E2E_TMP/record-proxy.port" --exit-with-parent \
		>"$E2E_TMP/record-proxy.stderr" 2>&1 </dev/null &
	PROXY_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $E2E_TMP/record-proxy.port ]] && break
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [[ ! -s $E2E_TMP/record-proxy.port ]]; then
		record FAIL "the recording proxy did not start: $(head -c 300 "$E2E_TMP/record-proxy.stderr")"
		FINISHED=1
		exit 1
	fi
	export BASE_URL=http://127.0.0.1:$(<"$E2E_TMP/record-proxy.port")
fi

# ---- the tests --------------------------------------------------------------
shopt -s nullglob
tests=("$E2E_DIR"/test_*.sh)
for t in "${tests[@]}"; do
	name=$(basename "$t")
	[[ -n ${E2E_ONLY:-} && $name != *"$E2E_ONLY"* ]] && continue
	before_p=$(grep -c '^PASS' "$E2E_RESULTS")
	before_f=$(grep -c '^FAIL' "$E2E_RESULTS")
	t0=$SECONDS
	echo "== $name"
	marker=$E2E_TMP/done.$name
	# Sourced by a fresh bash so a crash in one file cannot stop the others;
	# the marker tells a completed file from one that died half-way.
	if ! bash -n "$t" 2>"$E2E_TMP/syntax"; then
		record FAIL "$name has a syntax error: $(head -c 300 "$E2E_TMP/syntax")"
		continue
	fi
	# shellcheck disable=SC2016
	timeout --foreground -k 5 "${E2E_FILE_TIMEOUT:-120}" \
		bash -c '. "$1"; : >"$2"' _ "$t" "$marker" </dev/null
	st=$?
	if [[ ! -e $marker ]]; then
		record FAIL "$name did not run to its end (status $st$([[ $st == 124 || $st == 137 ]] && echo ", timed out"))"
	fi
	p=$(($(grep -c '^PASS' "$E2E_RESULTS") - before_p))
	f=$(($(grep -c '^FAIL' "$E2E_RESULTS") - before_f))
	echo "   $name: $p checks ok, $f failing ($((SECONDS - t0))s)"
	((f > 0)) && SHOW_SVC_LOG=1
	if ! kill -0 "$SVC_PID" 2>/dev/null; then
		wait "$SVC_PID"
		record FAIL "service died during $name (exit status $?)"
		SVC_PID="" SHOW_SVC_LOG=1
		break
	fi
done

# ---- the contract check ------------------------------------------------------
# Stopping the proxy writes what the connections still open carried; then every exchange is
# checked against the document the binary serves.
if [[ -n $PROXY_PID ]]; then
	kill_wait "$PROXY_PID" 10
	PROXY_PID=""
	t0=$SECONDS
	cat "$E2E_TMP"/exchanges-*.jsonl >>"$EXCHANGES" 2>/dev/null # instances of their own (record_through)
	node "$ROOT/tests/contract/check_exchanges.mjs" "$ROOT/config/openapi.json" "$EXCHANGES" \
		>"$E2E_TMP/contract.out" 2>&1
	st=$?
	summary=$(tail -n 1 "$E2E_TMP/contract.out")
	if [[ $st == 0 ]]; then
		record PASS "every exchange through the proxy keeps config/openapi.json (${summary#contract: }, $((SECONDS - t0))s)"
	else
		record FAIL "exchanges that break config/openapi.json (${summary#contract: }); the first 20:"
		grep '^contract: conn' "$E2E_TMP/contract.out" | head -n 20 | while IFS= read -r line; do
			record FAIL "${line:0:1500}"
		done
		grep -q '^contract: conn' "$E2E_TMP/contract.out" || record FAIL "$(head -c 1000 "$E2E_TMP/contract.out")"
	fi
fi

# ---- graceful stop ----------------------------------------------------------
if [[ -n $SVC_PID ]]; then
	kill_wait "$SVC_PID" 15
	st=$?
	SVC_PID=""
	check_service_exit "$st" "$SVC_LOG" "usersvc"
fi

# ---- what the logs must never hold --------------------------------------------
# Every instance's log, against every email the tests made (uniq_email: ...@example.com)
# and every secret key or session token the instances were given.
printf '%s\n' "$SVC_LOG" >>"$E2E_TMP/service-logs"
printf '%s\n' "$E2E_AWS_SECRET_ACCESS_KEY" >>"$E2E_TMP/secrets"
mapfile -t logs < <(sort -u "$E2E_TMP/service-logs")
existing=()
for l in "${logs[@]}"; do [[ -f $l ]] && existing+=("$l"); done
emails=$(cat "${existing[@]}" | grep -cE '[A-Za-z0-9._%+-]+@example\.com')
if [[ $emails == 0 ]]; then
	record PASS "no email address in the ${#existing[@]} service logs"
else
	record FAIL "$emails log lines hold an email address: $(cat "${existing[@]}" | grep -m1 -E '@example\.com')"
fi
secrets=$(cat "${existing[@]}" | grep -cFf <(sort -u "$E2E_TMP/secrets" | grep -v '^$'))
if [[ $secrets == 0 ]]; then
	record PASS "no secret key or session token in the ${#existing[@]} service logs ($(sort -u "$E2E_TMP/secrets" | grep -vc '^$') secrets)"
else
	record FAIL "$secrets log lines hold a secret key or session token"
fi
FINISHED=1
exit 0
