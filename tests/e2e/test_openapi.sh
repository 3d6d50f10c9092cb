# shellcheck shell=bash
# GET /openapi.json: the contract (config/openapi.json) as built into the binary, byte for byte,
# with an ETag and 304; HEAD and OPTIONS; the route is in 405's Allow like any other.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OA_DOC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/config/openapi.json

req GET /openapi.json
expect_status 200 "the document is served"
expect_header Content-Type '^application/json$'
expect_header ETag '^"[0-9a-f]{16}"$' "a strong ETag of the document"
expect_json .openapi 3.1.0
expect_jq '.paths | has("/users") and has("/users/{id}") and has("/users/by-email/{email}") and has("/openapi.json")' \
	"it names the routes"
etag=$(hdr ETag)
if [[ $BODY == "$(cat "$OA_DOC")" ]]; then
	pass "GET /openapi.json: the body is config/openapi.json byte for byte"
else
	fail "GET /openapi.json: the body differs from config/openapi.json (${#BODY} bytes served; rebuild?)"
fi
# The same ETag as the Makefile computes from the file: it changes exactly when the document does.
want="\"$(sha256sum "$OA_DOC" | cut -c1-16)\""
check "the ETag is the first 16 hex digits of the document's SHA-256" test "$etag" = "$want"

req GET /openapi.json "" -H "If-None-Match: $etag"
expect_status 304 "If-None-Match with the document's ETag"
expect_body_empty "304 has no body"
expect_header ETag "^$etag\$" "304 repeats the ETag"
req GET /openapi.json "" -H "If-None-Match: \"1\", W/$etag"
expect_status 304 "a list holding the weak form of the tag matches (weak comparison)"
req GET /openapi.json "" -H 'If-None-Match: *'
expect_status 304 "If-None-Match: * matches"
req GET /openapi.json "" -H 'If-None-Match: "0000000000000000"'
expect_status 200 "another ETag gets the document"
expect_json .openapi 3.1.0
req GET /openapi.json "" -H "If-None-Match: ${etag%\"}0\""
expect_status 200 "a longer tag with the document's tag as its prefix does not match"

req HEAD /openapi.json
expect_status 200 "HEAD"
expect_body_empty "HEAD has no body"
expect_header ETag "^$etag\$"

req OPTIONS /openapi.json
expect_status 204 "OPTIONS"
expect_header Allow '^GET, HEAD, OPTIONS$'
req POST /openapi.json '{}'
expect_error 405 method_not_allowed "the document is read-only"
expect_header Allow '^GET, HEAD, OPTIONS$'
