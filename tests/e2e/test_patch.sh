# shellcheck shell=bash
# PATCH /users/{id}: set/remove members, validation, If-Match, versions, email moves.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

email=$(uniq_email patch)
create_user "Patty" "$email" '{"nick":"p","keep":1}' || fail "setup: create user for patch tests"
id=$CREATED_ID
created=$(jqr .createdAt)
updated=$(jqr .updatedAt)

sleep 0.02
req PATCH "/users/$id" '{"nick":"q","first-name":"Pat","nested":{"a":[1,{"b":"c"}]},"flag":false}'
expect_status 200 "PATCH with application/json"
expect_header Content-Type '^application/json'
expect_header ETag '^"2"$' "ETag follows the new version"
expect_json .version 2 "version +1"
expect_json .nick q "member replaced"
expect_json '.["first-name"]' Pat "member named first-name set"
expect_json .nested '{"a":[1,{"b":"c"}]}' "nested value set as given"
expect_json .flag false "false is a value, not a removal"
expect_json .keep 1 "untouched member kept"
expect_json .name Patty "name kept"
expect_json .email "$email" "email kept"
expect_json .createdAt "$created" "createdAt never changes"
expect_jq ".updatedAt != \"$updated\"" "updatedAt changes on a write"
expect_json_re .updatedAt "$TS_ERE" "updatedAt format"

req PATCH "/users/$id" '{"nick":null,"first-name":null,"name":"  Patricia "}' \
	-H 'Content-Type: application/merge-patch+json'
expect_status 200 "PATCH with application/merge-patch+json"
expect_json .version 3 "version +1 again"
expect_json 'has("nick")' false "null removes a member"
expect_json 'has("first-name")' false "null removes first-name"
expect_json .keep 1

req GET "/users/$id"
expect_json .version 3 "GET sees the patched version"
expect_json 'has("nick")' false "GET: removed member stays removed"
expect_header ETag '^"3"$'

# Removing a member that does not exist is fine.
req PATCH "/users/$id" '{"neverThere":null}'
expect_status 200 "removing an absent member"

req GET "/users/$id"
v=$(jqr .version)
u=$(jqr .updatedAt)
req PATCH "/users/$id" '{}'
expect_status 200 "empty patch"
expect_json .version "$v" "empty patch keeps the version"
expect_json .updatedAt "$u" "empty patch keeps updatedAt"

# ---- validation ------------------------------------------------------------------
for f in name email; do
	req PATCH "/users/$id" "{\"$f\":null}"
	expect_error 400 validation_failed "$f may not be removed"
	expect_jq "[.errors[]?.field] | index(\"$f\") != null" "errors name $f"
done
for f in id createdAt updatedAt version; do
	req PATCH "/users/$id" "{\"$f\":\"x\"}"
	expect_error 400 validation_failed "server-managed $f may not be patched"
	expect_jq "[.errors[]?.field] | index(\"$f\") != null" "errors name $f"
	req PATCH "/users/$id" "{\"$f\":null}"
	expect_error 400 validation_failed "server-managed $f may not be removed"
done
req PATCH "/users/$id" '{"name":"   "}'
expect_error 400 validation_failed "blank name"
req PATCH "/users/$id" '{"email":"nope"}'
expect_error 400 validation_failed "invalid email"
req PATCH "/users/$id" '{"9lives":1}'
expect_error 400 validation_failed "invalid member name"
req PATCH "/users/$id" '{"n":1e400}'
expect_status 400 "out-of-range number in a patch"
req GET "/users/$id"
expect_json .version "$v" "refused patches changed nothing"

# ---- missing users ------------------------------------------------------------------
ghost=$(rand_uuid)
req PATCH "/users/$ghost" '{"name":"Ghost","email":"ghost@example.com"}'
expect_error 404 user_not_found "patching a missing user"
req GET "/users/$ghost"
expect_status 404 "PATCH never creates the user"
req PATCH "/users/not-a-uuid" '{"name":"x"}'
expect_status 404 "non-UUID id"

# ---- If-Match ------------------------------------------------------------------------
req PATCH "/users/$id" '{"nick":"stale"}' -H 'If-Match: "1"'
expect_error 412 precondition_failed "stale If-Match"
req GET "/users/$id"
expect_json .version "$v" "412 changed nothing"
expect_json 'has("nick")' false "412 did not set the member"
req PATCH "/users/$id" '{"nick":"fresh"}' -H "If-Match: \"$v\""
expect_status 200 "current If-Match"
expect_json .version $((v + 1)) "version +1 under If-Match"
expect_json .nick fresh
v=$((v + 1))

# ---- email changes -------------------------------------------------------------------
other_email=$(uniq_email other)
create_user "Other" "$other_email" || fail "setup: create second user"
other=$CREATED_ID
req PATCH "/users/$id" "{\"email\":\"  ${other_email^^} \"}"
expect_error 409 email_taken "email of another user"
req GET "/users/$id"
expect_json .email "$email" "409 kept the old email"
expect_json .version "$v" "409 kept the version"

req PATCH "/users/$id" "{\"email\":\"${email^^}\"}"
expect_status 200 "re-setting one's own email in another case"
expect_json .email "$email"
v=$(jqr .version)

new_email=$(uniq_email moved)
req PATCH "/users/$id" "{\"email\":\" ${new_email^^}\"}"
expect_status 200 "email change"
expect_json .email "$new_email" "new email normalized"
expect_json .version $((v + 1))

find_by_email "$email"
expect_json . '[]' "old email no longer found by ?email="
req GET "/users/by-email/$email"
expect_error 404 user_not_found "old email no longer found by by-email"
find_by_email "$new_email"
expect_json '.[0].id' "$id" "new email found by ?email="
req GET "/users/by-email/$new_email"
expect_json .id "$id" "new email found by by-email"

req POST /users "{\"name\":\"Reuser\",\"email\":\"$email\"}"
expect_status 201 "the old email is free again"
req PATCH "/users/$other" "{\"email\":\"$new_email\"}"
expect_error 409 email_taken "moved-to email is now taken"
