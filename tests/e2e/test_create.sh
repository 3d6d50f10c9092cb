# shellcheck shell=bash
# POST /users: success shape, stored members, number fidelity, validation, 409.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- success ------------------------------------------------------------------
email=$(uniq_email create)
mixed="  ${email^^}  "
mixed=${mixed/EXAMPLE.COM/Example.COM}
body=$(jq -nc --arg e "$mixed" '{
	name: "Alice Example", email: $e, nick: "al", age: 30, active: true, score: -7,
	tags: ["a", "b", {k: [1, 2]}], prefs: {theme: "dark", n: {deep: true, list: []}},
	"first-name": "Alice", x_1: "ok", nothing: null}')
req POST /users "$body"
expect_status 201 "valid user is created"
expect_header Content-Type '^application/json' "201 body is JSON"
expect_header X-Request-Id '.+' "every response has a request id"
expect_json_re .id "$UUID_ERE" "id is a UUID v4"
id=$(jqr .id)
expect_header Location "^/users/$id\$" "Location points at the new user"
expect_header ETag '^"1"$' "ETag is the quoted version"
expect_json .name "Alice Example"
expect_json .email "$email" "email is stored trimmed and lowercased"
expect_json .version 1 "version starts at 1"
expect_json_re .createdAt "$TS_ERE" "createdAt is RFC 3339 UTC with milliseconds"
expect_json_re .updatedAt "$TS_ERE" "updatedAt is RFC 3339 UTC with milliseconds"
expect_json .nick al "extra string member stored"
expect_json .age 30 "extra number member stored"
expect_json .active true "boolean member stored"
expect_json .score -7 "negative number member stored"
expect_json .tags '["a","b",{"k":[1,2]}]' "array member stored"
expect_json .prefs '{"theme":"dark","n":{"deep":true,"list":[]}}' "nested object stored"
expect_json '.["first-name"]' Alice "member name with a dash"
expect_json .x_1 ok "member name with an underscore"
expect_json 'has("nothing")' false "null members are dropped"
created_body=$BODY

# Reading it back gives the same user.
req GET "/users/$id"
expect_status 200 "the created user can be read"
if [[ "$(jqr -S .)" == "$(printf '%s' "$created_body" | jq -rcS .)" ]]; then
	pass "GET /users/$id: body equals the POST response"
else
	fail "GET /users/$id: expected the same body as the POST response ($created_body)"
fi

# ---- numbers round-trip exactly --------------------------------------------------
body=$(printf '{"name":"Num","email":"%s","f":0.1,"big":9007199254740993,"neg":-12,"half":2.5,"zero":0,"nested":{"x":[0.1,9007199254740993]}}' "$(uniq_email num)")
req POST /users "$body"
expect_status 201 "user with numbers"
nid=$(jqr .id)
for where in POST GET; do
	if [[ $where == GET ]]; then req GET "/users/$nid"; expect_status 200; fi
	expect_body_regex '"f" *: *0\.1 *[,}]' "$where: 0.1 reads back as 0.1"
	expect_body_regex '"big" *: *9007199254740993 *[,}]' "$where: 9007199254740993 reads back exactly"
	expect_body_regex '"neg" *: *-12 *[,}]' "$where: -12 reads back as -12"
	expect_body_regex '"half" *: *2\.5 *[,}]' "$where: 2.5 reads back as 2.5"
	expect_body_regex '"zero" *: *0 *[,}]' "$where: 0 reads back as 0"
	expect_body_regex '"x" *: *\[ *0\.1 *, *9007199254740993 *\]' "$where: numbers inside nested arrays read back exactly"
done

# Out-of-range numbers are refused and nothing is stored.
for n in 1e400 1e200 -1e200 1e-200; do
	e=$(uniq_email range)
	req POST /users "{\"name\":\"Big\",\"email\":\"$e\",\"n\":$n}"
	expect_status 400 "number $n is out of range"
	expect_json_re .code 'invalid_json|validation_failed' "number $n is refused as invalid"
	find_by_email "$e"
	expect_json length 0 "no user stored after refusing number $n"
done

# ---- validation --------------------------------------------------------------
# expect_field_error FIELD : last response is 400 validation_failed naming FIELD
expect_field_error() {
	expect_error 400 validation_failed "${2:-}"
	expect_jq "(.errors | type == \"array\") and ([.errors[] | (.field | type == \"string\") and (.message | type == \"string\")] | all)" "errors[] have field and message${2:+; $2}"
	expect_jq "[.errors[].field] | index(\"$1\") != null" "errors[].field names $1${2:+; $2}"
}

ok_email=$(uniq_email valid)
req POST /users "{\"email\":\"$ok_email\"}"
expect_field_error name "name missing"
req POST /users '{"name":"No Email"}'
expect_field_error email "email missing"
req POST /users "{\"name\":null,\"email\":\"$ok_email\"}"
expect_field_error name "name null is dropped, so missing"
req POST /users "{\"name\":\"\",\"email\":\"$ok_email\"}"
expect_field_error name "empty name"
req POST /users "{\"name\":\"   \",\"email\":\"$ok_email\"}"
expect_field_error name "blank name (empty after trim)"
req POST /users "{\"name\":\"$(printf 'n%.0s' {1..257})\",\"email\":\"$ok_email\"}"
expect_field_error name "name of 257 chars"
req POST /users "{\"name\":5,\"email\":\"$ok_email\"}"
expect_field_error name "name is a number"
req POST /users '{"name":"Bad Email","email":"not-an-email"}'
expect_field_error email "email without @"
req POST /users '{"name":"Bad Email","email":"a@"}'
expect_field_error email "email without domain"
req POST /users '{"name":"Bad Email","email":"a b@example.com"}'
expect_field_error email "email with a space"
long_local=$(printf 'a%.0s' {1..64})
long_email="$long_local@$(printf 'b%.0s' {1..63}).$(printf 'c%.0s' {1..63}).$(printf 'd%.0s' {1..58}).com"
req POST /users "{\"name\":\"Long\",\"email\":\"$long_email\"}"
expect_field_error email "email of ${#long_email} chars (> 254)"
req POST /users "{\"name\":\"Bad Email\",\"email\":42}"
expect_field_error email "email is a number"
for f in id createdAt updatedAt version; do
	case $f in
	id) v="\"$(rand_uuid)\"" ;;
	version) v=7 ;;
	*) v='"2020-01-01T00:00:00.000Z"' ;;
	esac
	req POST /users "{\"name\":\"Managed\",\"email\":\"$ok_email\",\"$f\":$v}"
	expect_field_error "$f" "server-managed $f may not be sent"
done
req POST /users "{\"name\":\"Managed\",\"email\":\"$ok_email\",\"id\":\"x\",\"version\":1,\"createdAt\":\"x\",\"updatedAt\":\"x\"}"
expect_status 400 "all server-managed members sent"
expect_jq '[.errors[].field] as $f | ["id","createdAt","updatedAt","version"] | all(. as $x | $f | index($x) != null)' "errors name all four server-managed members"
for m in 1abc _abc -abc 'has space' 'dot.ted' "$(printf 'm%.0s' {1..65})"; do
	req POST /users "$(jq -nc --arg e "$ok_email" --arg m "$m" '{name:"Member", email:$e} + {($m): 1}')"
	expect_error 400 validation_failed "member name '${m:0:20}' is invalid"
done
find_by_email "$ok_email"
expect_json length 0 "no user was stored by any refused POST"

# Boundaries that are valid.
m64="m$(printf 'x%.0s' {1..63})"
req POST /users "$(jq -nc --arg e "$ok_email" --arg m "$m64" --arg n "$(printf 'n%.0s' {1..256})" '{name:$n, email:$e} + {($m): "v"}')"
expect_status 201 "name of 256 chars and a 64-char member name are valid"
expect_json ".[\"$m64\"]" v "64-char member name stored"

# ---- duplicates ----------------------------------------------------------------
req POST /users "{\"name\":\"Dup\",\"email\":\"  ${ok_email^^} \"}"
expect_error 409 email_taken "same email, other case and spaces"
req POST /users "{\"name\":\"Dup\",\"email\":\"$email\"}"
expect_error 409 email_taken "email of the first user"
find_by_email "$email"
expect_json length 1 "still exactly one user with that email"
expect_json '.[0].id' "$id" "and it is the original one"
