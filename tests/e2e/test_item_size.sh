# shellcheck shell=bash disable=SC2034,SC2317
# DynamoDB's 400 KB item limit against the suite's moto, through a second
# instance with MAX_BODY_BYTES=1000000 (the main one keeps the 64 KiB default,
# so big bodies would stop at body_too_large there): a 450,000-character bio is
# refused before DynamoDB, a 300,000-character one is stored and read back
# whole, and a PATCH that would push a stored user past the limit is refused
# with 413 item_too_large and leaves the user as it was.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:'
main_url=$BASE_URL
big_dir=$(mktemp -d "$E2E_TMP/itemsize.XXXXXX")
big_log=$big_dir/usersvc-bigbody.log
big_pid=""

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_AWS_ACCESS_KEY_ID:-} || -z ${E2E_TABLE:-} ]]; then
	REQ_DESC="test_item_size setup" STATUS="" BODY="E2E_MOTO_URL/E2E_AWS_ACCESS_KEY_ID/E2E_TABLE unset"
	fail "test_item_size needs run.sh's moto (E2E_MOTO_URL, E2E_AWS_*, E2E_TABLE); run it through tests/e2e/run.sh"
	return 0 2>/dev/null || exit 0
fi

port=$(free_port)
start_service "$big_log" \
	-u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
	-u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT -u DYNAMODB_TIMEOUT_MS -u EMAIL_INDEX \
	HOST=127.0.0.1 PORT="$port" MAX_BODY_BYTES=1000000 \
	AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
	TABLE_NAME="$E2E_TABLE" AUTO_CREATE_TABLE=false
big_pid=$SVC_PID
trap 'kill -KILL $big_pid 2>/dev/null; wait $big_pid 2>/dev/null; _e2e_on_exit' EXIT
BASE_URL=http://127.0.0.1:$port

up=""
wait_ok "$big_pid" "$BASE_URL/readyz" 150 && up=1
REQ_DESC="start an instance with MAX_BODY_BYTES=1000000" STATUS="" BODY="$(tail -n 5 "$big_log" 2>/dev/null)"
check "instance with MAX_BODY_BYTES=1000000 on the suite's moto answers /readyz 200 within 15 s" test -n "$up"

# A user body with a bio of N 'x' characters, written to FILE.
user_with_bio() { # FILE EMAIL N
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
path, email, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w") as f:
    json.dump({"name": "Big Bio", "email": email, "bio": "x" * n}, f)
PY
}

if [[ -n $up ]]; then
	# ---- 450,000 characters: over 400 KB on its own -> 413, nothing stored ----
	email_huge=$(uniq_email huge)
	user_with_bio "$big_dir/huge.json" "$email_huge" 450000
	req_file POST /users "$big_dir/huge.json"
	REQ_DESC="POST /users (bio of 450,000 characters, $(stat -c %s "$big_dir/huge.json") bytes)"
	expect_error 413 item_too_large "a user over DynamoDB's 400 KB item size"
	find_by_email "$email_huge"
	expect_status 200
	expect_json 'length' 0 "the refused user was not stored"

	# ---- 300,000 characters: fits -> 201, reads back whole ----
	email_big=$(uniq_email bigbio)
	user_with_bio "$big_dir/big.json" "$email_big" 300000
	req_file POST /users "$big_dir/big.json"
	REQ_DESC="POST /users (bio of 300,000 characters)"
	expect_status 201 "a 300,000-character bio fits in an item"
	id=$(jqr .id)
	expect_json '.bio | length' 300000 "the create answer has the whole bio"
	if [[ $STATUS == 201 && $id =~ $UUID_RE ]]; then
		req GET "/users/$id"
		expect_status 200
		expect_json '.bio | length' 300000 "the bio reads back with the same length"
		expect_jq '.bio | test("^x+$")' "the bio reads back unchanged"
		expect_json .version 1
		version=$(jqr .version)
		etag=$(hdr ETag)

		# ---- PATCH adding a second 300,000-character member: > 400 KB -> 413 ----
		python3 -c 'import json; print(json.dumps({"notes": "y" * 300000}))' >"$big_dir/patch.json"
		size=$(stat -c %s "$big_dir/patch.json")
		req_file PATCH "/users/$id" "$big_dir/patch.json"
		REQ_DESC="PATCH /users/$id (notes of 300,000 characters, $size bytes < MAX_BODY_BYTES)"
		expect_error 413 item_too_large "the patched user would exceed 400 KB"

		req GET "/users/$id"
		expect_status 200 "the user still exists after the refused PATCH"
		expect_json .version "$version" "the refused PATCH did not change the version"
		expect_header ETag "^$etag\$" "the refused PATCH did not change the ETag"
		expect_jq 'has("notes") | not' "the refused member was not stored"
		expect_json '.bio | length' 300000 "the bio is unchanged"

		# The same PATCH with If-Match (read, then conditional write) is refused too.
		req_file PATCH "/users/$id" "$big_dir/patch.json" -H "If-Match: $etag"
		REQ_DESC="PATCH /users/$id with If-Match (notes of 300,000 characters)"
		expect_error 413 item_too_large "the conditional patch would exceed 400 KB too"
		req GET "/users/$id"
		expect_json .version "$version" "still unchanged after the If-Match PATCH"

		req DELETE "/users/$id"
		expect_status 200 "clean up the big user"
	fi
fi

# Graceful stop, sanitizer-clean log.
t0=$SECONDS
stop_pid "$big_pid" 10
st=$?
REQ_DESC="stop the MAX_BODY_BYTES=1000000 instance" STATUS="$st" BODY="$(tail -n 5 "$big_log" 2>/dev/null)"
check "big-body instance exits 0 on SIGTERM (status $st, $((SECONDS - t0))s)" test "$st" -eq 0
if grep -qE "$SAN_RE" "$big_log"; then
	fail "big-body instance: sanitizer report in its log: $(grep -m1 -E "$SAN_RE" "$big_log")"
else
	pass "big-body instance: no sanitizer report in its log"
fi
if [[ $st != 0 || -z $up ]] || grep -qE "$SAN_RE" "$big_log"; then
	echo "---- last 30 lines of the big-body instance log ----"
	tail -n 30 "$big_log"
	echo "----"
fi
trap _e2e_on_exit EXIT
BASE_URL=$main_url
