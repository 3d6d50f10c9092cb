# shellcheck shell=bash
# Authentication and authorization against this run's moto (README: Authentication and authorization).
# Keys are made here with openssl (RS256 and ES256), tokens signed with them (tests/support/jwtmint.py),
# the JWKS served by tests/support/fake_jwks.py, which the test rewrites mid-run to rotate the RSA key.
#   every route with no token, a bad one, a read-only and a write token; API keys in both headers;
#   expired, wrong-audience, alg none and unknown-kid tokens; key rotation; /healthz and /readyz open;
#   the access log names the principal, never the token; RATE_LIMIT's 429; a refused request never
#   reaches DynamoDB (an instance whose DynamoDB is a closed port still answers 401 at once);
#   AUTH unset with a remote endpoint stops the start with one line.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AU_PIDS=()
au_cleanup() {
	local p
	for p in "${AU_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${AU_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	return 0
}
trap 'au_cleanup; _e2e_on_exit' EXIT

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_TABLE:-} || -z ${E2E_AWS_SECRET_ACCESS_KEY:-} ]]; then
	pass "auth tests skipped: no moto from run.sh"
	exit 0
fi
SUPPORT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../support" && pwd)
K=$E2E_TMP/auth
mkdir -p "$K"
mint() { python3 "$SUPPORT/jwtmint.py" "$@"; }
secret() { printf '%s\n' "$1" >>"$E2E_TMP/secrets"; } # run.sh fails the run if any log holds one

# ---- keys, key set, tokens -------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/r1.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/r2.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/e1.pem" 2>/dev/null
mint jwks "$K/r1.pem:r1" "$K/e1.pem:e1" >"$K/jwks.tmp" && mv "$K/jwks.tmp" "$K/jwks.json"

NOW=$(date +%s)
claims() { # SUB SCOPE [EXTRA_JSON]
	jq -nc --arg s "$1" --arg sc "$2" --argjson now "$NOW" --argjson x "${3:-{\}}" \
		'{iss:"https://idp.test/", aud:["usersvc","other"], sub:$s, scope:$sc, iat:$now, exp:($now + 600)} + $x'
}
{
	echo "$K/r1.pem RS256 r1 $(claims reader-sub 'openid users:read')"
	echo "$K/e1.pem ES256 e1 $(claims writer-sub 'users:write')"
	echo "$K/r1.pem PS256 r1 $(claims ps-sub 'users:read')"
	echo "$K/r1.pem RS256 r1 $(claims noscope-sub 'openid')"
	echo "$K/r1.pem RS256 r1 $(claims old-sub users:read "{\"exp\":$((NOW - 300))}")"
	echo "$K/r1.pem RS256 r1 $(claims aud-sub users:read '{"aud":"someone-else"}')"
	echo "$K/r1.pem RS256 r1 $(claims iss-sub users:read '{"iss":"https://evil.test/"}')"
	echo "$K/r2.pem RS256 r2 $(claims rotated-sub 'users:read users:write')"
} | mint sign-lines >"$K/tokens"
{ read -r T_READ; read -r T_WRITE; read -r T_PS; read -r T_NOSCOPE; read -r T_EXPIRED; read -r T_AUD; read -r T_ISS
	read -r T_R2; } <"$K/tokens"
# One signature character changed well before the end: the last character of an RS256 signature holds only
# 2 bits, so changing it could make the base64url non-canonical (a malformed token, not a bad signature).
T_BADSIG="${T_READ:0:${#T_READ}-10}$([[ ${T_READ: -10:1} == A ]] && echo B || echo A)${T_READ: -9}"
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
T_NONE="$(printf '{"alg":"none","typ":"JWT"}' | b64u).$(claims none-sub users:write | b64u)."
for t in "$T_READ" "$T_WRITE" "$T_PS" "$T_NOSCOPE" "$T_EXPIRED" "$T_AUD" "$T_ISS" "$T_R2" "$T_BADSIG" "$T_NONE"; do
	secret "$t"
done

KEY_RO=$(openssl rand -hex 24) KEY_RW=$(openssl rand -hex 24)
secret "$KEY_RO"
secret "$KEY_RW"
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
{
	echo "# sha256(key)  scopes  name"
	echo "$(sha "$KEY_RO")  users:read  ci-reader"
	echo "$(sha "$KEY_RW")  users:read,users:write  deploy-bot"
} >"$K/api-keys"

if ! start_fake jwks fake_jwks.py --jwks-file "$K/jwks.json" --max-age 3600; then
	fail "fake_jwks.py not ready: $(tail -c 300 "$E2E_TMP/jwks.stderr")"
	exit 1
fi
AU_PIDS+=("$FAKE_PID")
JWKS_PORT=$FAKE_PORT
jwks_fetches() { curl -s --max-time 5 "http://127.0.0.1:$JWKS_PORT/_fake/stats" | jq -r .fetches; }

# start_instance NAME ENDPOINT VAR=VALUE...: sets AU_URL, AU_LOG, AU_PID; 1 when /healthz does not answer.
start_instance() {
	local name=$1 endpoint=$2 port
	shift 2
	port=$(free_port)
	AU_LOG=$E2E_TMP/usersvc-auth-$name.log
	start_service "$AU_LOG" -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		HOST=127.0.0.1 PORT="$port" AWS_ENDPOINT_URL_DYNAMODB="$endpoint" AWS_REGION=us-east-1 \
		AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
		TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=false DYNAMODB_TIMEOUT_MS=3000 THREADS=2 "$@"
	AU_PID=$SVC_PID
	AU_PIDS+=("$SVC_PID")
	AU_URL=http://127.0.0.1:$port
	if wait_ok "$SVC_PID" "$AU_URL/healthz"; then
		record_through "$AU_URL" && AU_URL=$RECORD_URL # its 401/403/429 join the contract check (lib.sh)
		pass "$name: instance starts"
		return 0
	fi
	fail "$name: instance did not answer /healthz within 10 s: $(tail -n 5 "$AU_LOG")"
	return 1
}

bearer() { printf 'Authorization: Bearer %s' "$1"; }

if ! start_instance main "$E2E_MOTO_URL" CONNECTION_MEMORY_BYTES=65536 AUTH=jwt,api-key JWT_JWKS_URL="http://127.0.0.1:$JWKS_PORT/jwks.json" \
	JWT_ISSUER=https://idp.test/ JWT_AUDIENCE=usersvc API_KEYS_FILE="$K/api-keys" USERSVC_JWKS_MIN_REFRESH_S=1; then
	exit 1
fi
BASE_URL=$AU_URL
check "start-up names the modes and the key set URL" \
	grep -q "authentication: jwt (0 static keys, JWKS from http://127.0.0.1:$JWKS_PORT/jwks.json, iss https://idp.test/, aud usersvc, leeway 60 s), api-key (2 keys)" "$AU_LOG"
check "start-up fetched the JWKS (2 keys)" grep -q "jwks: 2 keys from http://127.0.0.1:$JWKS_PORT/jwks.json" "$AU_LOG"

# ---- open routes -------------------------------------------------------------------
req GET /healthz
expect_status 200 "no token needed"
req GET /readyz
expect_status 200 "no token needed"
req GET /metrics
expect_status 200 "no token needed (it names no user, email or secret)"

# ---- every route without credentials: 401, the challenge, no error code (RFC 6750 §3.1) ---------
ID=$(rand_uuid)
ROUTES=("GET /users" "GET /users?email=a%40example.com" "GET /users/by-email/a%40example.com" "GET /users/$ID"
	"POST /users" "PATCH /users/$ID" "DELETE /users/$ID" "HEAD /users/$ID")
route_req() { # "METHOD PATH" [curl args...]
	local m=${1%% *} p=${1#* } body=""
	shift
	[[ $m == POST || $m == PATCH ]] && body='{"name":"Auth","email":"auth-nobody@example.com"}'
	req "$m" "$p" "$body" "$@"
}
for r in "${ROUTES[@]}"; do
	route_req "$r"
	if [[ $r == HEAD* ]]; then
		expect_status 401 "no credentials"
	else
		expect_error 401 unauthorized "no credentials"
	fi
	expect_header WWW-Authenticate '^Bearer realm="usersvc"$' "no credentials: a challenge without error"
	route_req "$r" -H "$(bearer "$T_BADSIG")"
	[[ $r == HEAD* ]] || expect_error 401 invalid_token "bad signature"
	expect_header WWW-Authenticate '^Bearer realm="usersvc", error="invalid_token", error_description="invalid signature"$'
done

# ---- read-only token (RS256): reads pass, writes are 403 insufficient_scope ------------------
for r in "GET /users" "GET /users?email=a%40example.com" "GET /users/by-email/nobody-$$%40example.com" "GET /users/$ID"; do
	route_req "$r" -H "$(bearer "$T_READ")"
	expect_status "200|404" "read scope"
done
for r in "POST /users" "PATCH /users/$ID" "DELETE /users/$ID"; do
	route_req "$r" -H "$(bearer "$T_READ")"
	expect_error 403 insufficient_scope "read token on a write"
	expect_header WWW-Authenticate '^Bearer realm="usersvc", error="insufficient_scope", scope="users:write"$'
done
req GET "/users/$ID" "" -H "$(bearer "$T_PS")"
expect_status 404 "a PS256 token"
req GET "/users/$ID" "" -H "$(bearer "$T_NOSCOPE")"
expect_error 403 insufficient_scope "a token without the users scopes"
expect_header WWW-Authenticate 'scope="users:read"$'

# ---- write token (ES256): the whole life of a user ------------------------------------------------
EMAIL=$(uniq_email auth)
req POST /users "{\"name\":\"Auth Writer\",\"email\":\"$EMAIL\"}" -H "$(bearer "$T_WRITE")"
expect_status 201 "write scope creates"
UID_W=$(jqr .id)
req GET "/users/$UID_W" "" -H "$(bearer "$T_WRITE")"
expect_status 200 "write scope reads too"
req GET "/users/$UID_W" "" -H "$(bearer "$T_READ")"
expect_json .email "$EMAIL" "the read token sees it"
req PATCH "/users/$UID_W" '{"title":"Ms"}' -H "$(bearer "$T_WRITE")"
expect_status 200 "write scope patches"
req DELETE "/users/$UID_W" "" -H "$(bearer "$T_WRITE")"
expect_status 200 "write scope deletes"

# ---- tokens that must not pass ------------------------------------------------------------------
for pair in "expired:$T_EXPIRED:token expired" "wrong audience:$T_AUD:wrong audience" "wrong issuer:$T_ISS:wrong issuer" \
	"alg none:$T_NONE:malformed token"; do
	IFS=: read -r what tok why <<<"$pair"
	req GET "/users/$ID" "" -H "$(bearer "$tok")"
	expect_error 401 invalid_token "$what"
	expect_header WWW-Authenticate "error_description=\"$why"
done
req GET "/users/$ID" "" -H "Authorization: Bearer $(head -c 16384 /dev/zero | tr '\0' 'a').b.c"
expect_error 401 invalid_token "a 16 KB token"
req GET "/users/$ID" "" -H "$(bearer "$T_READ")" -H "X-Api-Key: $KEY_RO"
expect_error 400 invalid_request "two credentials"

# ---- API keys ----------------------------------------------------------------------------------
req GET "/users/$ID" "" -H "X-Api-Key: $KEY_RO"
expect_status 404 "read-only API key in X-Api-Key reads"
req POST /users '{"name":"K","email":"k-nobody@example.com"}' -H "X-Api-Key: $KEY_RO"
expect_error 403 insufficient_scope "read-only API key writes"
EMAIL=$(uniq_email key)
req POST /users "{\"name\":\"Key Writer\",\"email\":\"$EMAIL\"}" -H "$(bearer "$KEY_RW")"
expect_status 201 "read-write API key as a bearer token writes"
req DELETE "/users/$(jqr .id)" "" -H "X-Api-Key: $KEY_RW"
expect_status 200 "read-write API key deletes"
req GET "/users/$ID" "" -H "X-Api-Key: ${KEY_RW}x"
expect_error 401 invalid_token "an unknown API key"
expect_header WWW-Authenticate 'error_description="unknown API key"'

# ---- key rotation: r2 appears, r1 goes ------------------------------------------------------------
before=$(jwks_fetches)
req GET "/users/$ID" "" -H "$(bearer "$T_R2")"
expect_error 401 invalid_token "a kid the key set does not hold yet"
expect_header WWW-Authenticate 'error_description="unknown signing key"'
mint jwks "$K/r2.pem:r2" "$K/e1.pem:e1" >"$K/jwks.tmp" && mv "$K/jwks.tmp" "$K/jwks.json"
ok=0
for ((i = 0; i < 60; i++)); do # an unknown kid fetches at most once per USERSVC_JWKS_MIN_REFRESH_S (1 s)
	req GET "/users/$ID" "" -H "$(bearer "$T_R2")"
	[[ $STATUS == 404 ]] && { ok=1; break; }
	sleep 0.2
done
check "after the JWKS rotated, the new key's token is accepted (last status $STATUS)" test "$ok" = 1
check "the unknown kid made the service fetch the JWKS again ($before, then $(jwks_fetches))" test "$(jwks_fetches)" -gt "$before"
req GET "/users/$ID" "" -H "$(bearer "$T_READ")"
expect_error 401 invalid_token "the removed key's token, once the new set is in"
req GET "/users/$ID" "" -H "$(bearer "$T_WRITE")"
expect_status 404 "the EC key stayed"
n=$(jwks_fetches)
for ((i = 0; i < 20; i++)); do req GET "/users/$ID" "" -H "$(bearer "$T_R2")"; done
check "known kids cause no fetches ($n, then $(jwks_fetches))" test "$(jwks_fetches)" = "$n"

# ---- the access log: principals, never tokens or keys ---------------------------------------------
check "the access log names the JWT principal" grep -q "\"principal\":\"writer-sub\"" "$AU_LOG"
check "the access log names the API key's name" grep -q "\"principal\":\"deploy-bot\"" "$AU_LOG"
check "no token or key in the log" bash -c '! grep -qF -e "$1" -e "$2" -e "$3" "$4"' _ "$T_READ" "$KEY_RW" "${T_WRITE##*.}" "$AU_LOG"

# ---- RATE_LIMIT: per principal, 429 with Retry-After ---------------------------------------------
if start_instance limited "$E2E_MOTO_URL" AUTH=api-key API_KEYS_FILE="$K/api-keys" RATE_LIMIT=0.2,3; then
	BASE_URL=$AU_URL
	codes=""
	for ((i = 0; i < 4; i++)); do
		req GET "/users/$ID" "" -H "X-Api-Key: $KEY_RO"
		codes+="$STATUS "
	done
	check "a burst of 3, then 429 (got $codes)" test "$codes" = "404 404 404 429 "
	expect_error 429 rate_limited "over the limit"
	expect_header Retry-After '^[1-5]$' "Retry-After in whole seconds"
	req GET "/users/$ID" "" -H "X-Api-Key: $KEY_RW"
	expect_status 404 "another principal has its own bucket"
	req GET "/users/$ID" "" -H "X-Api-Key: nope"
	expect_error 401 invalid_token "unauthenticated requests are refused, not counted"
	check "the start-up line states the limit per replica" grep -q "rate limit 0.2/s, burst 3 per principal on this replica" "$AU_LOG"
fi

# ---- a refused request never reaches DynamoDB: this instance's DynamoDB is a closed port ----------
if start_instance dead "http://127.0.0.1:$(free_port)" AUTH=api-key API_KEYS_FILE="$K/api-keys" DYNAMODB_TIMEOUT_MS=1500; then
	BASE_URL=$AU_URL
	req GET "/users/$ID"
	expect_error 401 unauthorized "refused before DynamoDB"
	check "answered at once, not after DynamoDB's timeout (${ELAPSED}s)" awk -v t="$ELAPSED" 'BEGIN { exit !(t < 1.0) }'
	req GET "/users/$ID" "" -H "X-Api-Key: $KEY_RO"
	expect_status "503|504" "an authorized request does reach the (dead) DynamoDB"
fi

# ---- secure by default: AUTH unset with a remote endpoint does not start ----------------------------
log=$E2E_TMP/usersvc-auth-unset.log
start_service "$log" -u AUTH -u AWS_PROFILE -u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT HOST=127.0.0.1 PORT="$(free_port)" \
	AWS_ENDPOINT_URL_DYNAMODB=https://dynamodb.eu-west-1.amazonaws.com AWS_REGION=eu-west-1 \
	AWS_ACCESS_KEY_ID=AKIAEXAMPLEAUTH AWS_SECRET_ACCESS_KEY=auth/unset/secret
AU_PIDS+=("$SVC_PID")
for ((i = 0; i < 50; i++)); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SVC_PID" 2>/dev/null
st=$?
check "AUTH unset, remote endpoint: exit status 2 (got $st)" test "$st" = 2
check "that refusal is one line naming the choices" \
	bash -c '[[ $(wc -l <"$1") == 1 ]] && grep -q "AUTH is not set and DynamoDB is not local: choose AUTH=jwt.*AUTH=none" "$1"' _ "$log"
