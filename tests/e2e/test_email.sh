# shellcheck shell=bash
# GET /users?email=E and GET /users/by-email/{email}.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

local_part="alice-$$-$(date +%s%N)"
email="$local_part@example.com"
create_user "Alice" "$email" || fail "setup: create alice ($email)"
id=$CREATED_ID

# ---- ?email= ------------------------------------------------------------------
find_by_email "$email"
expect_status 200 "exact email"
expect_header Content-Type '^application/json'
expect_json 'type' array "email query answers an array"
expect_json length 1 "one user for an existing email"
expect_json '.[0].id' "$id"
expect_json '.[0].email' "$email"

find_by_email "  ${local_part^}@Example.COM "
expect_status 200 "mixed case email with spaces (curl --data-urlencode sends them as '+')"
expect_json length 1 "the email is normalized before the lookup"
expect_json '.[0].id' "$id"

req GET "/users?email=%20%20${local_part^}%40Example.COM%20"
expect_status 200 "email with %20-encoded spaces and %40"
expect_json length 1 "percent-encoded email is decoded and normalized"
expect_json '.[0].id' "$id"

find_by_email "nobody-$$-$RANDOM@example.com"
expect_status 200 "unknown email"
expect_json . '[]' "unknown email gives an empty array"

# ---- /users/by-email/{email} --------------------------------------------------------
req GET "/users/by-email/$email"
expect_status 200 "by-email with a literal @"
expect_json .id "$id"
expect_header ETag '^"1"$' "by-email carries the ETag"

req GET "/users/by-email/${local_part}%40example.com"
expect_status 200 "by-email with %40"
expect_json .id "$id"

req GET "/users/by-email/${local_part^^}%40EXAMPLE.Com"
expect_status 200 "by-email, upper case and %40"
expect_json .id "$id"

req GET "/users/by-email/%20${local_part}%40example.com%20"
expect_status 200 "by-email with encoded spaces around it"
expect_json .id "$id"

req GET "/users/by-email/nobody-$$-$RANDOM%40example.com"
expect_error 404 user_not_found "by-email for an unknown email"

# ---- a '+' in the address must survive URL decoding ---------------------------------
plus="bob+tag-$$-$(date +%s%N)@example.com"
create_user "Bob" "$plus" || fail "setup: create bob ($plus)"
bob=$CREATED_ID
find_by_email "$plus"
expect_json length 1 "?email= with %2B finds the + address"
expect_json '.[0].id' "$bob"
req GET "/users/by-email/${plus//+/%2B}"
expect_status 200 "by-email with %2B"
expect_json .id "$bob"
req GET "/users/by-email/$plus"
expect_status 200 "by-email with a literal + (a path segment, not form-encoded)"
expect_json .id "$bob"
