# shellcheck shell=bash disable=SC2034
# Numbers DynamoDB cannot hold exactly as sent, and object keys it cannot
# store, are 400 validation_failed on POST and PATCH, with the place as the
# field ("deep/a/1"); nothing is stored. jansson reads 1e-400 as 0, so it used
# to be stored as 0 while 1e-131 was refused. Zero in any spelling is fine.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# expect_refused FIELD MSG: the last answer is 400 validation_failed naming FIELD
expect_refused() {
	expect_error 400 validation_failed "$2"
	expect_jq "[.errors[]?.field] | index(\"$1\") != null" "errors name $1 ($2)"
}

for bad in '"n":1e-400' '"n":-2.5e-324' '"n":1e-131' '"n":1.23456789012345678901234567890123456789' \
	'"n":0.12345678901234567890123' '"deep":{"a":[0,1e-400]}' '"meta":{"":1}' '"meta":{"x":[{"":"y"}]}'; do
	case $bad in
	*deep*) field=deep/a/1 ;;
	*'"x"'*) field=meta/x/0 ;;
	*meta*) field=meta ;;
	*) field=n ;;
	esac
	e=$(uniq_email numrange)
	req POST /users "{\"name\":\"Range\",\"email\":\"$e\",$bad}"
	expect_refused "$field" "POST with $bad"
	find_by_email "$e"
	expect_json length 0 "nothing stored after refusing $bad"
done

create_user "Zeros" "$(uniq_email zeros)" '{"a":-0,"b":0.0,"c":0e5,"d":-0.0,"e":1e-130,"f":0.000000000000001}'
expect_status 201 "every spelling of zero, and 1e-130, is accepted"
id=$CREATED_ID
req GET "/users/$id"
for m in a b c d; do
	expect_body_regex "\"$m\":0[,}]" "$m reads back as 0"
done
expect_body_regex '"e":1e-130[,}]' "1e-130 reads back"

for bad in '"n":1e-400' '"deep":{"a":[0,1e-400]}' '"meta":{"x":[{"":"y"}]}'; do
	case $bad in
	*deep*) field=deep/a/1 ;;
	*meta*) field=meta/x/0 ;;
	*) field=n ;;
	esac
	req PATCH "/users/$id" "{$bad}"
	expect_refused "$field" "PATCH with $bad"
	req PATCH "/users/$id" "{$bad}" -H 'If-Match: "1"'
	expect_refused "$field" "PATCH with If-Match and $bad"
done
req GET "/users/$id"
expect_json .version 1 "the refused PATCHes changed nothing"
expect_jq 'has("n") or has("deep") or has("meta") | not' "no refused member was stored"
req DELETE "/users/$id"
expect_status 200 "clean up"
