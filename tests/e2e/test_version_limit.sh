# shellcheck shell=bash disable=SC2034
# A stored version at INT64_MAX (set directly in moto): version + 1 would leave
# int64, so every PATCH path answers 409 version_exhausted and changes nothing,
# while reads, an empty PATCH and DELETE still work. Never an empty reply (the
# sanitized build used to stop on the signed overflow). A version of
# INT64_MAX - 1 still moves to INT64_MAX.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RAW=$(dirname "${BASH_SOURCE[0]}")/../support/ddb_raw.py
MAX=9223372036854775807

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_AWS_ACCESS_KEY_ID:-} || -z ${E2E_TABLE:-} ]]; then
	REQ_DESC="test_version_limit setup" STATUS="" BODY="E2E_MOTO_URL/E2E_AWS_*/E2E_TABLE unset"
	fail "test_version_limit needs run.sh's moto; run it through tests/e2e/run.sh"
	return 0 2>/dev/null || exit 0
fi

set_version() { # ID N
	python3 "$RAW" UpdateItem "$(jq -nc --arg t "$E2E_TABLE" --arg id "$1" --arg v "$2" \
		'{TableName:$t, Key:{id:{S:$id}}, UpdateExpression:"SET #v = :v",
		  ExpressionAttributeNames:{"#v":"version"}, ExpressionAttributeValues:{":v":{N:$v}}}')" >/dev/null
}

email=$(uniq_email vmax)
create_user "At The Limit" "$email" '{"title":"t0"}' || fail "setup: create user"
id=$CREATED_ID
set_version "$id" "$MAX"
check "stored version $MAX directly in moto" test $? -eq 0

req GET "/users/$id"
expect_status 200 "GET of a user at INT64_MAX"
expect_body_regex "\"version\":$MAX[,}]" "the version reads back exactly"
expect_header ETag "^\"$MAX\"\$" "ETag of a user at INT64_MAX"

new_email=$(uniq_email vmax-new)
for how in plain if-match email; do
	case $how in
	plain) req PATCH "/users/$id" '{"title":"t1"}' ;;
	if-match) req PATCH "/users/$id" '{"title":"t1"}' -H "If-Match: \"$MAX\"" ;;
	email) req PATCH "/users/$id" "{\"email\":\"$new_email\"}" ;;
	esac
	expect_error 409 version_exhausted "PATCH ($how) of a user at INT64_MAX"
done
req PATCH "/users/$id" '{"title":"t1"}' -H "If-Match: \"9223372036854775808\""
expect_error 412 precondition_failed "an If-Match beyond int64 does not match INT64_MAX"
req GET "/users/$id"
expect_json .title t0 "the refused PATCHes changed nothing"
expect_json .email "$email" "the email is unchanged"
expect_body_regex "\"version\":$MAX[,}]" "the version is unchanged"
find_by_email "$new_email"
expect_json length 0 "the refused email change took no guard"
create_user "Takes The Email" "$new_email" && other=$CREATED_ID
expect_status 201 "the new email is still free"
[[ -n ${other:-} ]] && req DELETE "/users/$other"

req PATCH "/users/$id" '{}'
expect_status 200 "an empty PATCH changes nothing and works"
req DELETE "/users/$id"
expect_status 200 "DELETE of a user at INT64_MAX works (it needs no new version)"
req GET "/users/$id"
expect_error 404 user_not_found "deleted"
create_user "Reuses The Email" "$email"
expect_status 201 "its email is free again"
[[ -n $CREATED_ID ]] && req DELETE "/users/$CREATED_ID"

# One below the limit: the last PATCH that can succeed, then the limit.
create_user "Nearly" "$(uniq_email vnear)" || fail "setup: create user"
id=$CREATED_ID
set_version "$id" 9223372036854775806
req PATCH "/users/$id" '{"title":"last"}'
expect_status 200 "PATCH from INT64_MAX - 1"
expect_body_regex "\"version\":$MAX[,}]" "moves to INT64_MAX"
expect_header ETag "^\"$MAX\"\$" "with its ETag"
req PATCH "/users/$id" '{"title":"one more"}' -H "If-Match: \"$MAX\""
expect_error 409 version_exhausted "and no further"
req DELETE "/users/$id"
expect_status 200 "clean up"
