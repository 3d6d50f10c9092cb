# shellcheck shell=bash
# DELETE /users/{id}: If-Match, 404s, email freed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

email=$(uniq_email del)
create_user "Del" "$email" || fail "setup: create user for delete tests"
id=$CREATED_ID

req DELETE "/users/$id" "" -H 'If-Match: "9"'
expect_error 412 precondition_failed "stale If-Match on DELETE"
req GET "/users/$id"
expect_status 200 "412 did not delete"

req DELETE "/users/$id"
expect_status 200 "delete an existing user"
expect_header Content-Type '^application/json'
expect_json .message "User deleted"
expect_header X-Request-Id '.+'

req GET "/users/$id"
expect_error 404 user_not_found "deleted user is gone"
req DELETE "/users/$id"
expect_error 404 user_not_found "second delete"
find_by_email "$email"
expect_json . '[]' "deleted user not found by email"
req GET "/users/by-email/$email"
expect_status 404 "deleted user not found by by-email"

req POST /users "{\"name\":\"Again\",\"email\":\"$email\"}"
expect_status 201 "email is free after the delete"
id2=$(jqr .id)
check "the new user has a new id" test -n "$id2" -a "$id2" != "$id"

req DELETE "/users/$id2" "" -H 'If-Match: "1"'
expect_status 200 "delete with the current If-Match"
req GET "/users/$id2"
expect_status 404 "deleted under If-Match"

req DELETE "/users/$(rand_uuid)"
expect_error 404 user_not_found "delete of a missing user"
req DELETE /users/not-a-uuid
expect_status 404 "delete with a non-UUID id"
