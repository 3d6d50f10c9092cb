# shellcheck shell=bash
# Error statuses: bad JSON, sizes, media types, routes, methods. Always JSON.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

create_user "Err" "$(uniq_email err)" || fail "setup: create user for error tests"
id=$CREATED_ID
e=$(uniq_email errbody)

# ---- bodies that are not a JSON object -----------------------------------------------
for m in POST PATCH; do
	path=/users
	[[ $m == PATCH ]] && path=/users/$id
	req "$m" "$path" '{"name":'
	expect_error 400 invalid_json "$m: truncated JSON"
	req "$m" "$path" "{\"name\":\"a\",\"email\":\"$e\"} x"
	expect_error 400 invalid_json "$m: trailing garbage after the object"
	for b in '[]' '"x"' 42 null true; do
		req "$m" "$path" "$b"
		expect_error 400 invalid_json "$m: body $b is JSON but not an object"
	done
	req "$m" "$path" "{\"name\":\"a\",\"name\":\"b\",\"email\":\"$e\"}"
	expect_error 400 invalid_json "$m: duplicate key name"
	req "$m" "$path" "$(printf '{"name":"\xff\xfe","email":"%s"}' "$e")"
	expect_error 400 invalid_json "$m: invalid UTF-8"
done
req POST /users "" -H 'Content-Type: application/json' --data-binary ''
expect_error 400 invalid_json "POST with an empty body"

# ---- size ------------------------------------------------------------------------
big=$E2E_TMP/big.$$.json
jq -nc --arg e "$e" --arg b "$(head -c 75000 /dev/urandom | base64 -w0)" '{name:"Big", email:$e, bio:$b}' >"$big"
req_file POST /users "$big"
expect_error 413 body_too_large "POST of $(wc -c <"$big") bytes (> 65536)"
req_file PATCH "/users/$id" "$big"
expect_error 413 body_too_large "PATCH of $(wc -c <"$big") bytes"
req_file POST /users "$big" -H 'Transfer-Encoding: chunked'
expect_error 413 body_too_large "chunked POST of $(wc -c <"$big") bytes (no Content-Length)"
find_by_email "$e"
expect_json . '[]' "nothing stored by the oversized requests"
rm -f "$big"

# ---- media types ------------------------------------------------------------------
ok="{\"name\":\"Media\",\"email\":\"$e\"}"
req POST /users "$ok" -H 'Content-Type: text/plain'
expect_error 415 unsupported_media_type "POST as text/plain"
req POST /users "$ok" -H 'Content-Type:'
expect_error 415 unsupported_media_type "POST with no Content-Type"
req POST /users "$ok" -H 'Content-Type: application/x-www-form-urlencoded'
expect_error 415 unsupported_media_type "POST as a form"
req PATCH "/users/$id" '{"nick":"x"}' -H 'Content-Type: text/plain'
expect_error 415 unsupported_media_type "PATCH as text/plain"
req PATCH "/users/$id" '{"nick":"x"}' -H 'Content-Type:'
expect_error 415 unsupported_media_type "PATCH with no Content-Type"
req POST /users "$ok" -H 'Content-Type: application/json; charset=utf-8'
expect_status 201 "application/json with a charset parameter is accepted"
req PATCH "/users/$id" '{"nick":"y"}' -H 'Content-Type: Application/Merge-Patch+JSON'
expect_status 200 "media types are case-insensitive"

# ---- routes and methods -------------------------------------------------------------
for p in /nope / /users/x/y "/users/$id/extra" /usersx /healthz/x; do
	req GET "$p"
	expect_error 404 not_found "unknown route $p"
done
req POST /nope '{}'
expect_error 404 not_found "POST to an unknown route"

allow_has() { # METHOD... : the Allow header lists each
	local a m
	a=$(hdr Allow) || { fail "$REQ_DESC: expected an Allow header"; return; }
	for m in "$@"; do
		if [[ ,${a// /}, == *,"$m",* ]]; then
			pass "$REQ_DESC: Allow lists $m"
		else
			fail "$REQ_DESC: expected Allow to list $m, got '$a'"
		fi
	done
}
for m in PUT DELETE; do
	req "$m" /users
	expect_error 405 method_not_allowed "$m /users"
	allow_has GET POST
done
req POST "/users/$id" '{}'
expect_error 405 method_not_allowed "POST /users/{id}"
allow_has GET PATCH DELETE
req PUT "/users/$id" '{}'
expect_error 405 method_not_allowed "PUT /users/{id}"
allow_has GET PATCH DELETE
req POST /healthz '{}'
expect_error 405 method_not_allowed "POST /healthz"
allow_has GET

# ---- never an HTML page --------------------------------------------------------------
req GET /nope "" -H 'Accept: text/html'
expect_header Content-Type '^application/json' "JSON even when HTML is preferred"
check "GET /nope: body is not HTML" bash -c '! grep -qi "<html" <<<"$1"' _ "$BODY"
