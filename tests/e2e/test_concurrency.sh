# shellcheck shell=bash
# Concurrent writes: unique emails, If-Match races, no lost version bumps.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=$E2E_TMP/conc.$$
mkdir -p "$dir"

# burst N METHOD PATH BODYFILE [curl args...]: N requests at once; codes -> $dir/codes,
# bodies -> $dir/body.K
burst() {
	local n=$1 method=$2 path=$3 bodyfile=$4
	shift 4
	rm -f "$dir"/body.*
	seq 1 "$n" | xargs -P "$n" -I{} curl -sS --max-time 30 -o "$dir/body.{}" -w '%{http_code}\n' \
		-X "$method" -H 'Content-Type: application/json' --data-binary "@$bodyfile" "$@" \
		"$BASE_URL$path" >"$dir/codes" 2>"$dir/curl.err"
	REQ_DESC="$n x $method $path in parallel" STATUS="" BODY="codes: $(sort "$dir/codes" | uniq -c | tr '\n' ' ')"
}
count() { grep -c "^$1\$" "$dir/codes"; }

# ---- 50 POSTs with one email: exactly one wins --------------------------------------
email=$(uniq_email race)
printf '{"name":"Racer","email":"%s"}' "$email" >"$dir/in"
burst 50 POST /users "$dir/in"
c201=$(count 201) c409=$(count 409)
check "50 concurrent POSTs with one email: exactly one 201 (got $c201)" test "$c201" -eq 1
check "50 concurrent POSTs with one email: 49 answers 409 (got $c409)" test "$c409" -eq 49
taken=$(cat "$dir"/body.* | jq -r 'select(.code == "email_taken") | .code' 2>/dev/null | wc -l)
check "every 409 has code email_taken ($taken of $c409)" test "$taken" -eq "$c409"
find_by_email "$email"
expect_json length 1 "exactly one user stored with the raced email"
winner=$(cat "$dir"/body.* | jq -r 'select(.id) | .id' 2>/dev/null)
expect_json '.[0].id' "$winner" "the stored user is the one that got 201"

# ---- 20 PATCHes with the same If-Match: exactly one wins ------------------------------
create_user "Target" "$(uniq_email target)" || fail "setup: create PATCH target"
id=$CREATED_ID
printf '{"nick":"racer"}' >"$dir/patch"
burst 20 PATCH "/users/$id" "$dir/patch" -H 'If-Match: "1"'
c200=$(count 200) c412=$(count 412)
check "20 concurrent PATCHes with If-Match \"1\": exactly one 200 (got $c200)" test "$c200" -eq 1
check "20 concurrent PATCHes with If-Match \"1\": 19 answers 412 (got $c412)" test "$c412" -eq 19
req GET "/users/$id"
expect_json .version 2 "one conditional write happened"

# ---- 20 unconditional PATCHes: each success is one version bump -------------------------
burst 20 PATCH "/users/$id" "$dir/patch"
c200=$(count 200)
other=$(grep -vc '^200$' "$dir/codes")
check "20 concurrent unconditional PATCHes all answered (200s: $c200, others: $(grep -v '^200$' "$dir/codes" | sort | uniq -c | tr '\n' ' '))" \
	test "$((c200 + other))" -eq 20
bad=$(grep -vE '^(200|409)$' "$dir/codes" | wc -l)
check "concurrent unconditional PATCHes answer 200 (or at worst a 409 conflict), never 412/5xx/no answer (bad: $bad)" test "$bad" -eq 0
req GET "/users/$id"
expect_json .version $((2 + c200)) "version = 2 + number of successful PATCHes (no lost update)"
versions=$(cat "$dir"/body.* | jq -r 'select(.version) | .version' 2>/dev/null | sort -n | uniq -d | wc -l)
check "no two successful PATCHes returned the same version (duplicates: $versions)" test "$versions" -eq 0

rm -rf "$dir"
