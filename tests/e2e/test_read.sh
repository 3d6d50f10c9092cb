# shellcheck shell=bash
# GET /users/{id}, conditional GET, HEAD, health, request ids, CORS.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

create_user "Reader" "$(uniq_email read)" '{"bio":"hello"}' || fail "setup: create user for read tests"
id=$CREATED_ID

req GET "/users/$id"
expect_status 200 "existing user"
expect_header Content-Type '^application/json' "user body is JSON"
expect_header ETag '^"1"$' "ETag of a fresh user"
expect_header X-Request-Id '.+'
expect_json .id "$id"
expect_json .name Reader
expect_json .bio hello
expect_json .version 1
expect_jq 'has("createdAt") and has("updatedAt") and has("email")' "user has createdAt, updatedAt, email"

req GET "/users/$id" "" -H 'If-None-Match: "1"'
expect_status 304 "If-None-Match equal to the current ETag"
expect_body_empty "304 has no body"
expect_header ETag '^"1"$' "304 repeats the ETag"

req GET "/users/$id" "" -H 'If-None-Match: "2"'
expect_status 200 "If-None-Match with another ETag"
expect_json .id "$id"

req HEAD "/users/$id"
expect_status 200 "HEAD on an existing user"
expect_body_empty "HEAD has no body"
expect_header ETag '^"1"$' "HEAD carries the ETag"

req HEAD "/users/$(rand_uuid)"
expect_status 404 "HEAD on a missing user"
expect_body_empty "HEAD 404 has no body"

missing=$(rand_uuid)
req GET "/users/$missing"
expect_error 404 user_not_found "random UUID"

for bad in not-a-uuid 12345 "${missing}x" "${missing:0:35}"; do
	req GET "/users/$bad"
	expect_status 404 "non-UUID id '$bad'"
	expect_header Content-Type '^application/json' "non-UUID id '$bad' answers JSON"
	expect_json_re .code 'user_not_found|not_found' "non-UUID id '$bad'"
done

# ---- health ----------------------------------------------------------------------
req GET /healthz
expect_status 200 "liveness"
expect_json .status ok
expect_header Content-Type '^application/json'
expect_header X-Request-Id '.+'
req GET /readyz
expect_status 200 "readiness with the table ACTIVE"
expect_header Content-Type '^application/json'

# ---- request ids ---------------------------------------------------------------
req GET /healthz
rid1=$(hdr X-Request-Id)
req GET /healthz
rid2=$(hdr X-Request-Id)
check "X-Request-Id is generated per request (got '$rid1' and '$rid2', expected two different non-empty ids)" \
	test -n "$rid1" -a -n "$rid2" -a "$rid1" != "$rid2"
check "a generated X-Request-Id is the process prefix, '-', and the counter in 8+ hex digits (got '$rid1')" \
	grep -Eq '^[0-9a-f]{16}-[0-9a-f]{8,}$' <<<"$rid1"

req GET /healthz "" -H 'X-Request-Id: abc-123'
expect_header X-Request-Id '^abc-123$' "a sane incoming X-Request-Id is echoed"
req GET "/users/$missing" "" -H 'X-Request-Id: abc-123'
expect_header X-Request-Id '^abc-123$' "echoed on errors too"
expect_json .requestId abc-123 "error body requestId equals the incoming X-Request-Id"

req GET /healthz "" -H 'X-Request-Id: <script>alert(1)</script>'
expect_header X-Request-Id '.+' "an insane X-Request-Id still gets an id"
check "GET /healthz: an X-Request-Id with markup is not echoed back verbatim (got '$(hdr X-Request-Id)')" \
	test "$(hdr X-Request-Id)" != '<script>alert(1)</script>'

# ---- OPTIONS (test_cors.sh checks the CORS headers of each mode) -------------------
req OPTIONS /users "" -H 'Origin: http://example.org' -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: content-type'
expect_status 204 "CORS preflight for POST /users"
expect_header Allow '(^|[ ,])POST([ ,]|$)' "OPTIONS lists POST"
expect_header X-Request-Id '.+' "preflight has a request id"

req OPTIONS "/users/$id" "" -H 'Origin: http://example.org' -H 'Access-Control-Request-Method: PATCH'
expect_status 204 "CORS preflight for PATCH /users/{id}"
expect_header Allow '(^|[ ,])PATCH([ ,]|$)' "OPTIONS on /users/{id} lists PATCH"
