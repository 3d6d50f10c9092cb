# shellcheck shell=bash
# TLS and egress proxies against loopback stand-ins: tests/support/tls_proxy.py (a self-signed CA in
# front of this run's moto) and connect_proxy.py (counts what goes through it). One service instance
# per case, all on the main run's table (AUTO_CREATE_TABLE=false):
#   https endpoint without AWS_CA_BUNDLE: refused (503 quickly, the log says why), /readyz 503
#   with AWS_CA_BUNDLE=ca.pem: CRUD works; a certificate for another host name: refused
#   HTTPS_PROXY: the DynamoDB traffic goes through the proxy (CONNECT); NO_PROXY matching: it does not
#   http_proxy (lower case) with the plain moto endpoint: forwarded through the proxy
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TP_PIDS=()
tp_cleanup() {
	local p
	for p in "${TP_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${TP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	return 0
}
trap 'tp_cleanup; _e2e_on_exit' EXIT

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_TABLE:-} || -z ${E2E_AWS_SECRET_ACCESS_KEY:-} ]]; then
	pass "TLS/proxy tests skipped: no moto from run.sh"
	exit 0
fi
MOTO_HOSTPORT=${E2E_MOTO_URL#http://}

show_log() { echo "---- $1 ----"; tail -n 15 "$1" 2>/dev/null; echo "----"; }

# start_instance NAME ENDPOINT VAR=VALUE...: an instance on the main table with moto's keys.
# Sets TP_URL and TP_LOG; returns 1 when it does not answer /healthz within 10 s.
start_instance() {
	local name=$1 endpoint=$2 port
	shift 2
	port=$(free_port)
	TP_LOG=$E2E_TMP/usersvc-$name.log
	start_service "$TP_LOG" \
		-u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT -u AWS_CA_BUNDLE \
		-u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy -u NO_PROXY -u no_proxy \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		HOST=127.0.0.1 PORT="$port" AWS_ENDPOINT_URL_DYNAMODB="$endpoint" AWS_REGION=us-east-1 \
		AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
		TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=false DYNAMODB_TIMEOUT_MS=3000 THREADS=2 "$@"
	TP_PIDS+=("$SVC_PID")
	TP_URL=http://127.0.0.1:$port
	if wait_ok "$SVC_PID" "$TP_URL/healthz"; then
		pass "$name: instance starts"
		return 0
	fi
	fail "$name: instance did not answer /healthz within 10 s"
	show_log "$TP_LOG"
	return 1
}

# crud MSG: POST, GET, PATCH, DELETE through the instance at BASE_URL.
crud() {
	local msg=$1 email id
	email=$(uniq_email tls)
	req POST /users "{\"name\":\"Tls\",\"email\":\"$email\"}"
	expect_status 201 "$msg: create"
	id=$(jqr .id)
	req GET "/users/$id"
	expect_status 200 "$msg: read"
	expect_json .email "$email" "$msg: read back"
	req PATCH "/users/$id" '{"name":"Tls2"}'
	expect_status 200 "$msg: update"
	req DELETE "/users/$id"
	expect_status 200 "$msg: delete"
}

proxy_count() { # KIND TARGET
	curl -s --max-time 5 "http://127.0.0.1:$PROXY_PORT/_proxy/stats" | jq -r --arg t "$2" ".$1[\$t] // 0"
}

# ---- the stand-ins -------------------------------------------------------------
if ! start_fake tls tls_proxy.py --upstream "$MOTO_HOSTPORT" --cert-dir "$E2E_TMP/tls"; then
	fail "tls_proxy.py not ready: $(tail -c 300 "$E2E_TMP/tls.stderr")"
	exit 1
fi
TLS_PID=$FAKE_PID TLS_PORT=$FAKE_PORT
TP_PIDS+=("$TLS_PID")
CA=$E2E_TMP/tls/ca.pem
TLS_URL=https://127.0.0.1:$TLS_PORT
if ! start_fake tlswrong tls_proxy.py --upstream "$MOTO_HOSTPORT" --cert-dir "$E2E_TMP/tlswrong" --san wrong.example; then
	fail "tls_proxy.py --san wrong.example not ready"
fi
WRONG_PORT=$FAKE_PORT
TP_PIDS+=("$FAKE_PID")
if ! start_fake proxy connect_proxy.py; then
	fail "connect_proxy.py not ready: $(tail -c 300 "$E2E_TMP/proxy.stderr")"
	exit 1
fi
PROXY_PORT=$FAKE_PORT
TP_PIDS+=("$FAKE_PID")

# ---- self-signed, no AWS_CA_BUNDLE: refused ----------------------------------------
if start_instance tls-untrusted "$TLS_URL"; then
	BASE_URL=$TP_URL
	req GET "/users/$(rand_uuid)"
	expect_error 503 backend_unavailable "self-signed endpoint without AWS_CA_BUNDLE"
	check "refused within 2 s (took ${ELAPSED}s)" awk -v t="$ELAPSED" 'BEGIN { exit !(t < 2) }'
	req GET /readyz
	expect_status 503 "/readyz with an untrusted endpoint"
	check "log names the TLS verification failure" \
		grep -q 'TLS certificate verification failed: self-signed certificate in certificate chain' "$TP_LOG"
	check "tls_proxy saw failed handshakes" grep -q '"tls": *"failed"' "$E2E_TMP/tls.log"
	stop_pid "$SVC_PID" 5
fi

# ---- AWS_CA_BUNDLE=ca.pem: served ------------------------------------------------
if start_instance tls-trusted "$TLS_URL" AWS_CA_BUNDLE="$CA"; then
	BASE_URL=$TP_URL
	req GET /readyz
	expect_status 200 "/readyz with AWS_CA_BUNDLE"
	crud "https endpoint with AWS_CA_BUNDLE"
	check "start-up log names the endpoint and the extra CA bundle" \
		grep -q "DynamoDB endpoint $TLS_URL (from AWS_ENDPOINT_URL_DYNAMODB).*extra CA bundle $CA" "$TP_LOG"
	check "no TLS failure logged" bash -c '! grep -q "TLS certificate verification failed" "$1"' _ "$TP_LOG"
	stop_pid "$SVC_PID" 5
fi

# ---- a trusted CA, but the certificate names another host: refused ----------------
if [[ -n $WRONG_PORT ]] && start_instance tls-wronghost "https://127.0.0.1:$WRONG_PORT" AWS_CA_BUNDLE="$E2E_TMP/tlswrong/ca.pem"; then
	BASE_URL=$TP_URL
	req GET "/users/$(rand_uuid)"
	expect_error 503 backend_unavailable "certificate for another host name"
	check "log says the certificate does not name the host" \
		grep -q 'TLS certificate verification failed: the certificate does not name the host' "$TP_LOG"
	stop_pid "$SVC_PID" 5
fi

# ---- HTTPS_PROXY: through the proxy -------------------------------------------------
curl -s -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$PROXY_PORT/_proxy/reset"
if start_instance https-proxy "$TLS_URL" AWS_CA_BUNDLE="$CA" HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT"; then
	BASE_URL=$TP_URL
	crud "https endpoint through HTTPS_PROXY"
	n=$(proxy_count connect "127.0.0.1:$TLS_PORT")
	check "HTTPS_PROXY: the proxy tunnelled DynamoDB traffic (CONNECT 127.0.0.1:$TLS_PORT: $n)" test "${n:-0}" -ge 1
	check "start-up log names the proxy" grep -q "through proxy http://127.0.0.1:$PROXY_PORT" "$TP_LOG"
	stop_pid "$SVC_PID" 5
fi

# ---- NO_PROXY matching the endpoint: direct -------------------------------------------
curl -s -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$PROXY_PORT/_proxy/reset"
if start_instance no-proxy "$TLS_URL" AWS_CA_BUNDLE="$CA" HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT" \
	NO_PROXY=localhost,127.0.0.1; then
	BASE_URL=$TP_URL
	crud "https endpoint with NO_PROXY matching it"
	n=$(curl -s --max-time 5 "http://127.0.0.1:$PROXY_PORT/_proxy/stats" | jq -r .total)
	check "NO_PROXY=localhost,127.0.0.1: nothing went through the proxy (total $n)" test "$n" = 0
	stop_pid "$SVC_PID" 5
fi

# ---- http_proxy (lower case) with the plain moto endpoint: forwarded -------------------------
curl -s -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$PROXY_PORT/_proxy/reset"
if start_instance http-proxy "$E2E_MOTO_URL" http_proxy="http://127.0.0.1:$PROXY_PORT" \
	HTTPS_PROXY="http://127.0.0.1:1"; then
	BASE_URL=$TP_URL
	crud "http endpoint through http_proxy"
	n=$(proxy_count forward "$MOTO_HOSTPORT")
	check "http_proxy: the proxy forwarded DynamoDB requests ($MOTO_HOSTPORT: $n)" test "${n:-0}" -ge 1
	stop_pid "$SVC_PID" 5
fi
