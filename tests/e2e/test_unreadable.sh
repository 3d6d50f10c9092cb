# shellcheck shell=bash disable=SC2034,SC2317
# Stored users the service cannot render (written behind its back: what moto
# makes of an empty map key, a BOOL that is a string, a version beyond int64)
# must not break listing for everyone: a second instance on its own table
# (one worker, so its counter is exact) lists every good user on every page
# and at every page size, skips the bad ones with one log line each (id, never
# contents), answers a GET of a bad one with 500 internal_error, and can still
# delete one.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'
main_url=$BASE_URL
dir=$(mktemp -d "$E2E_TMP/unreadable.XXXXXX")
log=$dir/usersvc-unreadable.log
table=Users-unreadable-$$
RAW=$(dirname "${BASH_SOURCE[0]}")/../support/ddb_raw.py

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_AWS_ACCESS_KEY_ID:-} ]]; then
	REQ_DESC="test_unreadable setup" STATUS="" BODY="E2E_MOTO_URL/E2E_AWS_* unset"
	fail "test_unreadable needs run.sh's moto (E2E_MOTO_URL, E2E_AWS_*); run it through tests/e2e/run.sh"
	return 0 2>/dev/null || exit 0
fi

port=$(free_port)
start_service "$log" \
	-u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
	-u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT -u DYNAMODB_TIMEOUT_MS -u EMAIL_INDEX -u MAX_BODY_BYTES \
	HOST=127.0.0.1 PORT="$port" THREADS=1 \
	AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID="$E2E_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_AWS_SECRET_ACCESS_KEY" \
	TABLE_NAME="$table" AUTO_CREATE_TABLE=true
pid=$SVC_PID
trap 'kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null; _e2e_on_exit' EXIT
BASE_URL=http://127.0.0.1:$port

up=""
wait_ok "$pid" "$BASE_URL/readyz" 200 && up=1
REQ_DESC="start an instance on table $table" STATUS="" BODY="$(tail -n 5 "$log" 2>/dev/null)"
check "instance on its own table answers /readyz 200 within 20 s" test -n "$up"

# put_raw ID EMAIL MEMBERS_JSON VERSION: stores a user item directly in moto.
put_raw() {
	python3 "$RAW" PutItem "$(jq -nc --arg t "$table" --arg id "$1" --arg e "$2" --argjson m "$3" --arg v "$4" \
		'{TableName:$t, Item:({id:{S:$id}, name:{S:"Unreadable"}, email:{S:$e}, createdAt:{S:"2026-01-01T00:00:00.000Z"},
		  updatedAt:{S:"2026-01-01T00:00:00.000Z"}, version:{N:$v}} + $m)}')" >/dev/null
}

if [[ -n $up ]]; then
	good=()
	for i in 1 2 3 4 5; do
		create_user "Good $i" "$(uniq_email good$i)" '{"meta":{"k":[1,"x"]}}' && good+=("$CREATED_ID")
	done
	check "five good users created" test "${#good[@]}" -eq 5
	bad_key=$(rand_uuid) bad_bool=$(rand_uuid) bad_version=$(rand_uuid)
	bad_email=$(uniq_email secret-bad)
	put_raw "$bad_key" "$bad_email" '{"meta":{"M":{"":{"N":"1"}}}}' 1 # moto folds the empty key into {"M":{"N":"1"}}
	check "stored the empty-key item" test $? -eq 0
	put_raw "$bad_bool" "$(uniq_email secret-bool)" '{"flags":{"L":[{"BOOL":"yes"}]}}' 1
	check "stored the string-BOOL item" test $? -eq 0
	put_raw "$bad_version" "$(uniq_email secret-ver)" '{}' 9223372036854775808
	check "stored the version-beyond-int64 item" test $? -eq 0
	want=$(printf '%s\n' "${good[@]}" | sort | jq -R . | jq -sc .)

	req GET /users
	expect_status 200 "GET /users with three unreadable items among five users"
	expect_json '[.[].id] | sort' "$want" "GET /users lists exactly the five good users"

	# Every page size, following the next links: each good user exactly once, never a 500.
	for limit in 1 2 3 5; do
		seen=() path="/users?limit=$limit" pages=0 statuses=""
		while [[ -n $path ]] && ((pages < 20)); do
			req GET "$path"
			pages=$((pages + 1))
			statuses+="$STATUS "
			[[ $STATUS == 200 ]] || break
			mapfile -t -O "${#seen[@]}" seen < <(jqr '.[].id')
			path=$(hdr Link | sed -n 's/^<\([^>]*\)>; rel="next"$/\1/p')
		done
		REQ_DESC="GET /users?limit=$limit, $pages pages" STATUS=$statuses BODY=""
		check "limit=$limit: every page answered 200 ($statuses)" test -z "$(tr -d '20 ' <<<"$statuses")"
		got=$(printf '%s\n' "${seen[@]}" | sort | jq -R . | jq -sc 'map(select(. != ""))')
		REQ_DESC="GET /users?limit=$limit, $pages pages" BODY="$got"
		check "limit=$limit: the pages hold each good user once, no unreadable one" test "$got" = "$want"
	done

	for id in "$bad_key" "$bad_bool" "$bad_version"; do
		req GET "/users/$id"
		expect_error 500 internal_error "GET of an unreadable user"
	done
	find_by_email "$bad_email"
	expect_status 200 "?email= of an unreadable user"
	expect_json length 0 "?email= skips the unreadable user"
	req GET "/users/by-email/$bad_email"
	expect_error 500 internal_error "by-email of an unreadable user"
	req PATCH "/users/$bad_version" '{"title":"x"}'
	expect_error 500 internal_error "PATCH of a user whose version is beyond int64"
	req DELETE "/users/$bad_version"
	expect_error 500 internal_error "DELETE of a user whose version is beyond int64"
	req DELETE "/users/$bad_key"
	expect_status 200 "an unreadable user with a sound version can still be deleted"
	req GET "/users/$bad_key"
	expect_error 404 user_not_found "and it is gone"

	sleep 0.3 # access log lines are batched per loop turn
	check "the log names a skipped user by id with the worker's count" \
		grep -qE "skipped unreadable user $bad_key \([0-9]+ on this worker\)" "$log"
	check "the log never shows an unreadable user's email or contents" \
		bash -c "! grep unreadable '$log' | grep -qE 'secret-|BOOL|\"M\"'"
fi

stop_pid "$pid" 10
st=$?
REQ_DESC="stop the unreadable-items instance" STATUS="$st" BODY="$(tail -n 5 "$log" 2>/dev/null)"
check "unreadable-items instance exits 0 on SIGTERM" test "$st" -eq 0
if grep -qE "$SAN_RE" "$log"; then
	fail "unreadable-items instance: sanitizer report in its log: $(grep -m1 -E "$SAN_RE" "$log")"
else
	pass "unreadable-items instance: no sanitizer report in its log"
fi
if [[ $st != 0 || -z $up ]] || grep -qE "$SAN_RE" "$log"; then
	echo "---- last 30 lines of the unreadable-items instance log ----"
	tail -n 30 "$log"
	echo "----"
fi
trap _e2e_on_exit EXIT
BASE_URL=$main_url
