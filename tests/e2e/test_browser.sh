# shellcheck shell=bash disable=SC2034,SC2317
# A real browser: Debian's headless Chromium, driven by playwright-core (tests/browser/, installed by
# `make e2e` from its lock file), loads a page from another origin (http://127.0.0.2:PORT) whose
# script, holding an RS256 bearer JWT made here with openssl, creates a user, reads its ETag,
# Location and X-Request-Id, patches it with If-Match, gets 304 with If-None-Match, follows a Link
# header, reads the JSON of a 409 and a 412, deletes it, and last sees a readable 401 without a
# token. A page from an origin the service does not list must get nothing. Every check below is on
# what the page saw. The instance runs with AUTH=jwt (JWT_PUBLIC_KEY_FILE) and CORS_ALLOW_ORIGINS set
# to the page's origin, on the suite's moto. About 10 s.
#
# Normal build only: under the sanitizer flavours (a build/sanitize*/ binary) it is not run, to keep
# `make test` short; there the same requests run through curl in test_cors.sh and the other files.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ${E2E_BIN:-} == */sanitize* ]]; then
	echo "   test_browser.sh: not run for a sanitizer build (the same flows run there through curl)"
	return 0 2>/dev/null || exit 0
fi
if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_AWS_ACCESS_KEY_ID:-} || -z ${E2E_TABLE:-} ]]; then
	REQ_DESC="test_browser setup" STATUS="" BODY="E2E_MOTO_URL/E2E_AWS_ACCESS_KEY_ID/E2E_TABLE unset"
	fail "test_browser needs run.sh's moto (E2E_MOTO_URL, E2E_AWS_*, E2E_TABLE); run it through tests/e2e/run.sh"
	return 0 2>/dev/null || exit 0
fi
browser_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../browser" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
REQ_DESC="test_browser setup" STATUS="" BODY=""
if [[ ! -x $chromium || ! -d $browser_dir/node_modules/playwright-core ]] || ! command -v node >/dev/null; then
	fail "test_browser needs $chromium (make deps), node and tests/browser/node_modules (make e2e runs npm ci there)"
	return 0 2>/dev/null || exit 0
fi

# ---- an RS256 key pair and a token, with openssl ------------------------------------------------
dir=$(mktemp -d "$E2E_TMP/browser.XXXXXX")
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/key.pem" 2>/dev/null
openssl pkey -in "$dir/key.pem" -pubout -out "$dir/public.pem" 2>/dev/null
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
issuer=https://issuer.test/ audience=usersvc now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
claims=$(printf '{"sub":"browser-test","iss":"%s","aud":"%s","iat":%d,"exp":%d,"scope":"users:read users:write"}' \
	"$issuer" "$audience" "$now" "$((now + 600))" | b64url)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$dir/key.pem" -binary | b64url)
token=$header.$claims.$signature
printf '%s\n' "$token" >>"$E2E_TMP/secrets" # run.sh checks that no log holds it
check "openssl made an RS256 token" test -n "$header" -a -n "$claims" -a ${#signature} -ge 300

# ---- the page's origin and the service -----------------------------------------------------------
page_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1]); s.close()')
origin=http://127.0.0.2:$page_port
port=$(free_port)
log=$E2E_TMP/usersvc-browser.log
start_service "$log" \
	-u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_ENDPOINT_URL \
	-u DYNAMODB_ENDPOINT -u CORS_ALLOW_ORIGIN -u CORS_ALLOW_CREDENTIALS \
	HOST=127.0.0.1 PORT="$port" AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
	TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=false \
	AUTH=jwt JWT_PUBLIC_KEY_FILE="$dir/public.pem" JWT_ISSUER="$issuer" JWT_AUDIENCE="$audience" \
	CORS_ALLOW_ORIGINS="$origin"
browser_pid=$SVC_PID
trap 'kill -KILL $browser_pid 2>/dev/null; wait $browser_pid 2>/dev/null; _e2e_on_exit' EXIT
api=http://127.0.0.1:$port
if ! wait_ok "$browser_pid" "$api/healthz" 150; then
	REQ_DESC="start usersvc (AUTH=jwt, CORS_ALLOW_ORIGINS=$origin)" STATUS="" BODY=$(tail -n 5 "$log")
	fail "the browser test's instance did not answer /healthz within 15 s"
	return 0 2>/dev/null || exit 0
fi

# A preflight carries no credentials (browsers never send them on OPTIONS): it is answered without any.
BASE_URL=$api
req OPTIONS /users "" -H "Origin: $origin" -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: authorization,content-type'
expect_status 204 "a preflight is answered without a token under AUTH=jwt"
expect_header Access-Control-Allow-Origin "^${origin//./\\.}\$" "the preflight allows the page's origin"
expect_header Access-Control-Allow-Headers '(^|[ ,])Authorization([ ,]|$)' "the preflight allows Authorization"

# ---- the browser ------------------------------------------------------------------------------------
t0=$SECONDS
BROWSER_TOKEN=$token CHROMIUM=$chromium timeout -k 5 90 node "$browser_dir/browser_flow.mjs" \
	--api "$api" --host 127.0.0.2 --port "$page_port" >"$dir/seen.json" 2>"$dir/browser.err"
st=$?
REQ_DESC="browser_flow.mjs (page at $origin, API at $api)" STATUS=$st BODY=$(head -c 2000 "$dir/browser.err")
check "the browser ran the page's flow ($((SECONDS - t0)) s, exit status $st)" test "$st" = 0
[[ $st == 0 ]] || return 0 2>/dev/null || exit 0

# seen FILTER: jq -r FILTER on what the pages saw.
seen() { jq -r "$1" "$dir/seen.json" 2>/dev/null; }
# context NAME: what a failure shows, the page's request NAME and what it got.
context() {
	REQ_DESC="page: $(seen ".allowed.$1.method + \" \" + .allowed.$1.path")" STATUS=$(seen ".allowed.$1.status")
	BODY=$(seen ".allowed.$1 | {error, headers, text}" | tr -d '\n' | head -c 600)
}
# step NAME STATUS DESC: the page's request NAME got STATUS (a fetch error or another status fails it).
step() {
	local got
	got=$(seen ".allowed.$1 | if .error then \"error: \" + .error else (.status | tostring) end")
	if [[ $got == "$2" ]]; then pass "$3: the page saw $2"; else context "$1"; fail "$3: the page saw $2 (got $got)"; fi
}
# saw NAME JQ_TEST DESC: JQ_TEST on the page's record of NAME is true.
saw() {
	if [[ $(seen ".allowed.$1 | ($2)") == true ]]; then pass "$3"; else context "$1"; fail "$3"; fi
}

step create 201 "POST /users with a bearer token, from another origin"
saw create '.headers.etag == "\"1\""' "the page reads ETag \"1\""
saw create '(.headers.location // "") | test("^/users/[0-9a-f-]{36}$")' "the page reads Location"
saw create '(.headers["x-request-id"] // "") | length > 0' "the page reads X-Request-Id"
saw create '.json.title == "Countess" and (.json.email | startswith("browser-"))' "the page reads the created user"
id=$(seen '.allowed.create.json.id')
step read 200 "GET the Location"
saw read ".json.id == \"$id\" and .headers.etag == \"\\\"1\\\"\"" "the page reads the user and its ETag"
step patch 200 "PATCH with If-Match \"1\" (merge patch)"
saw patch '.headers.etag == "\"2\"" and .json.version == 2 and .json.nick == "ada" and (.json | has("title") | not)' \
	"the page reads the patched user and ETag \"2\""
step notModified 304 "GET with If-None-Match \"2\""
saw notModified '.text == ""' "a 304 has no body"
step createOther 201 "a second user"
step listFirst 200 "GET /users?limit=1"
saw listFirst '(.headers.link // "") | test("^</users\\?limit=1&cursor=[^>]+>; rel=\"next\"$")' "the page reads the Link header"
saw listFirst '.json | type == "array" and length == 1' "a page of one user"
step listNext 200 "following the rel=\"next\" link"
saw listNext ".json | type == \"array\" and length == 1 and .[0].id != \"$(seen '.allowed.listFirst.json[0].id')\"" \
	"the next page holds another user"
step duplicate 409 "POST with the same email"
saw duplicate '.json.code == "email_taken" and (.json.message | length > 0)' "the page reads the 409's JSON"
saw duplicate '.json.requestId == .headers["x-request-id"]' "the 409's requestId is its readable X-Request-Id"
step stale 412 "PATCH with the stale If-Match \"1\""
saw stale '.json.code == "precondition_failed"' "the page reads the 412's JSON"
step delete 200 "DELETE with If-Match \"2\""
saw delete '.json.message == "User deleted"' "the page reads the delete's JSON"
step readDeleted 404 "GET after the delete"
saw readDeleted '.json.code == "user_not_found"' "the page reads the 404's JSON"
step deleteOther 200 "DELETE of the second user"

REQ_DESC="page at $(seen .otherOrigin), not listed" STATUS="" BODY=$(seen '.blocked | tostring' | head -c 600)
check "a page from an origin the service does not list: its preflighted read fails ($(seen '.blocked.read.error // "no error"'))" \
	test "$(seen '.blocked.read | (.error // "") | startswith("TypeError")')" = true
check "and the browser withholds the answer to its simple GET /healthz ($(seen '.blocked.simple.error // "no error"'))" \
	test "$(seen '.blocked.simple | (.error // "") | startswith("TypeError")')" = true

# Last: without a token (needs AUTH=jwt in the service).
step noToken 401 "GET /users without a token"
saw noToken '(.json.code | type == "string") and (.json.message | length > 0)' "the page reads the 401's JSON"
saw noToken '(.headers["www-authenticate"] // "") | startswith("Bearer")' "the page reads WWW-Authenticate: Bearer"

stop_pid "$browser_pid" 10
st=$?
REQ_DESC="stop the browser test's instance" STATUS=$st BODY=""
check "the instance stops cleanly (status $st)" test "$st" = 0
