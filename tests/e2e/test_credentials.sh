# shellcheck shell=bash
# The credential provider chain against this run's moto (SigV4 verification on), each provider
# with its loopback stand-in (tests/support/fake_metadata.py): IMDSv2, the container endpoint,
# web identity (a fake STS: moto cannot take the unsigned call with auth on), a profile file with
# static keys, credential_process. For each: the instance starts, serves CRUD and names its
# provider in the log. Then rotation under load, a revoked key forcing a refresh, requests
# waiting while there are no valid credentials, and a non-local endpoint with nothing configured.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_MOTO_ADMIN_CREDS:-} || -z ${E2E_BIN:-} ]]; then
	pass "credentials tests skipped: they need run.sh's moto"
	return 0 2>/dev/null || exit 0
fi
CR_TABLE=${E2E_TABLE:-Users-e2e-creds}
CR_BASE_SAVED=$BASE_URL

# cr_start NAME VAR=VALUE...: an instance on a free port against moto; sets CR_URL, CR_LOG, CR_PID.
cr_start() {
	local name=$1 port
	shift
	port=$(free_port)
	CR_LOG=$E2E_TMP/creds-$name.log
	CR_URL=http://127.0.0.1:$port
	start_service "$CR_LOG" HOST=127.0.0.1 PORT="$port" AWS_ENDPOINT_URL_DYNAMODB="$E2E_MOTO_URL" \
		AWS_REGION=us-east-1 TABLE_NAME="$CR_TABLE" AUTO_CREATE_TABLE=true THREADS=2 "$@"
	CR_PID=$SVC_PID
}

# cr_crud NAME: create, read, patch and delete a user on CR_URL; counts checks.
cr_crud() {
	local name=$1 id
	BASE_URL=$CR_URL
	create_user "creds $name" "$(uniq_email "cr-$name")"
	expect_status 201 "$name: create signed with its provider's credentials"
	id=$CREATED_ID
	req GET "/users/$id"
	expect_status 200 "$name: read"
	req PATCH "/users/$id" '{"name":"renamed"}'
	expect_status 200 "$name: patch"
	req DELETE "/users/$id"
	expect_status 200 "$name: delete"
	BASE_URL=$CR_BASE_SAVED
}

# cr_ready NAME: waits for /readyz 200; fails the check with the log tail if it never came.
cr_ready() {
	if wait_ok "$CR_PID" "$CR_URL/readyz" 150; then
		pass "$1: instance ready"
		return 0
	fi
	fail "$1: instance not ready: $(tail -n 3 "$CR_LOG" | tr '\n' ' ')"
	return 1
}

# cr_provider_line NAME PROVIDER: the start-up line names the provider and a key id, nothing else secret.
cr_provider_line() {
	check "$1: log names provider $2 and its access key id" \
		grep -qE "\"level\":\"info\",\"msg\":\"credentials from $2: access key id [A-Z0-9]{16,}" "$CR_LOG"
}

cr_stop() {
	stop_pid "$CR_PID" 10
	check "$1: instance exited 0 after SIGTERM (status $?)" test "$?" = 0
}

fake_start() { # NAME ARGS...
	local name=$1
	shift
	start_fake "$name" fake_metadata.py --moto-url "$E2E_MOTO_URL" --creds-file "$E2E_MOTO_ADMIN_CREDS" \
		--secrets-out "$E2E_TMP/secrets" "$@" || { fail "fake $name did not start: $(tail -c 300 "$E2E_TMP/$name.stderr")"; return 1; }
}

# ---- EC2 IMDSv2 ------------------------------------------------------------------------------
if fake_start imds --expires-in 3600; then
	IMDS_PID=$FAKE_PID IMDS_PORT=$FAKE_PORT
	cr_start imds AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$IMDS_PORT"
	if cr_ready imds; then
		cr_provider_line imds ec2-imds
		cr_crud imds
		stats=$(curl -s --max-time 5 "http://127.0.0.1:$IMDS_PORT/_fake/stats")
		check "imds: token PUT, role name and credentials each fetched once at start-up" \
			test "$(jq -c '[.requests["/latest/api/token"], .requests["/latest/meta-data/iam/security-credentials/"], .requests["/latest/meta-data/iam/security-credentials/usersvc-role"]]' <<<"$stats")" = "[1,1,1]"
	fi
	cr_stop imds
	stop_pid "$IMDS_PID" 5
fi

# ---- container endpoint, token from a file ----------------------------------------------------
CT_TOKEN="ct-auth-$RANDOM$RANDOM"
printf '%s\n' "$CT_TOKEN" >>"$E2E_TMP/secrets"
printf '%s' "$CT_TOKEN" >"$E2E_TMP/container-token"
if fake_start container --auth-token "$CT_TOKEN" --expires-in 3600; then
	CT_PID=$FAKE_PID CT_PORT=$FAKE_PORT
	cr_start container AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$CT_PORT/v2/credentials/usersvc" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$E2E_TMP/container-token"
	if cr_ready container; then
		cr_provider_line container container
		cr_crud container
		stats=$(curl -s --max-time 5 "http://127.0.0.1:$CT_PORT/_fake/stats")
		check "container: the Authorization header matched the token file" \
			test "$(jq -c '.container_auth' <<<"$stats")" = '{"ok":1,"bad":0,"missing":0}'
	fi
	cr_stop container
	stop_pid "$CT_PID" 5
fi

# ---- web identity through a fake STS; the token file is re-read on every refresh -----------------
printf 'wi-token-one' >"$E2E_TMP/wi-token"
if fake_start sts --expires-in 20 --refresh-margin 15; then
	STS_PID=$FAKE_PID STS_PORT=$FAKE_PORT
	cr_start webid AWS_WEB_IDENTITY_TOKEN_FILE="$E2E_TMP/wi-token" AWS_ROLE_ARN=arn:aws:iam::123456789012:role/usersvc \
		AWS_ROLE_SESSION_NAME=usersvc-e2e AWS_ENDPOINT_URL_STS="http://127.0.0.1:$STS_PORT" \
		USERSVC_CREDENTIALS_REFRESH_WINDOW_S=15
	if cr_ready webid; then
		cr_provider_line webid web-identity
		cr_crud webid
		printf 'wi-token-two' >"$E2E_TMP/wi-token"
		for ((i = 0; i < 100; i++)); do # the first refresh comes about 5 s after start-up
			tokens=$(curl -s --max-time 5 "http://127.0.0.1:$STS_PORT/_fake/stats" | jq -c '.web_identity_tokens')
			[[ $tokens == *wi-token-two* ]] && break
			sleep 0.2
		done
		check "web identity: the refresh sent the rewritten token file (tokens sent: $tokens)" \
			test "$(jq -r '.[0]' <<<"$tokens")/$(jq -r '.[-1]' <<<"$tokens")" = "wi-token-one/wi-token-two"
		check "web identity: session name from AWS_ROLE_SESSION_NAME" \
			bash -c 'curl -s --max-time 5 "$1" | jq -e ".session_names | index(\"usersvc-e2e\")" >/dev/null' _ \
			"http://127.0.0.1:$STS_PORT/_fake/stats"
		cr_crud webid-after-refresh
	fi
	cr_stop webid
	stop_pid "$STS_PID" 5
fi

# ---- a profile file with static keys ----------------------------------------------------------
cat >"$E2E_TMP/aws-credentials" <<EOC
[default]
aws_access_key_id = AKIAWRONGDEFAULTKEY1
aws_secret_access_key = wrong-default-secret

# the service's own moto key
[e2e]
aws_access_key_id = $E2E_AWS_ACCESS_KEY_ID
aws_secret_access_key = $E2E_AWS_SECRET_ACCESS_KEY
EOC
printf 'wrong-default-secret\n' >>"$E2E_TMP/secrets"
cr_start profile AWS_SHARED_CREDENTIALS_FILE="$E2E_TMP/aws-credentials" AWS_PROFILE=e2e
if cr_ready profile; then
	cr_provider_line profile profile
	cr_crud profile
fi
cr_stop profile
cr_start profile-missing AWS_SHARED_CREDENTIALS_FILE="$E2E_TMP/aws-credentials" AWS_PROFILE=nosuch
for ((i = 0; i < 50; i++)); do kill -0 "$CR_PID" 2>/dev/null || break; sleep 0.1; done
wait "$CR_PID" 2>/dev/null
st=$?
check "AWS_PROFILE naming no profile: start-up fails with status 2 naming it (got $st)" \
	bash -c '[[ $1 == 2 ]] && grep -q "AWS_PROFILE=nosuch: no such profile" "$2"' _ "$st" "$CR_LOG"

# ---- credential_process -----------------------------------------------------------------------
cat >"$E2E_TMP/creds-process.sh" <<EOS
#!/bin/sh
echo run >>"$E2E_TMP/creds-process.runs"
exp=\$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "Expiration": "%s"}\n' \
	"$E2E_AWS_ACCESS_KEY_ID" "$E2E_AWS_SECRET_ACCESS_KEY" "\$exp"
echo "this stderr must not reach the service log: $E2E_AWS_SECRET_ACCESS_KEY" >&2
EOS
chmod +x "$E2E_TMP/creds-process.sh"
cat >"$E2E_TMP/aws-config" <<EOC
[profile proc]
credential_process = $E2E_TMP/creds-process.sh
EOC
cr_start process AWS_CONFIG_FILE="$E2E_TMP/aws-config" AWS_PROFILE=proc
if cr_ready process; then
	cr_provider_line process profile-process
	check "credential_process ran once" test "$(wc -l <"$E2E_TMP/creds-process.runs")" = 1
	cr_crud process
fi
cr_stop process

# ---- rotation under load: no request fails while keys are replaced and the old ones revoked -------
if fake_start rotate --expires-in 12 --refresh-margin 9 --revoke-after 2; then
	RT_PID=$FAKE_PID RT_PORT=$FAKE_PORT
	cr_start rotate AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$RT_PORT" \
		USERSVC_CREDENTIALS_REFRESH_WINDOW_S=8
	if cr_ready rotate; then
		BASE_URL=$CR_URL
		create_user "rotating" "$(uniq_email cr-rot)"
		rid=$CREATED_ID
		BASE_URL=$CR_BASE_SAVED
		codes=$(for ((i = 0; i < 160; i++)); do # about 10 s: the keys are replaced every 3 s
			curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$CR_URL/users/$rid"
			sleep 0.05
		done | sort | uniq -c | tr -s ' \n' ' ')
		gens=$(curl -s --max-time 5 "http://127.0.0.1:$RT_PORT/_fake/stats" | jq '.generations | length')
		check "rotation: keys replaced during the load (generations: $gens)" test "${gens:-0}" -ge 2
		check "rotation: every GET answered 200 while rotating ($codes)" bash -c '[[ $1 =~ ^\ ?[0-9]+\ 200\ ?$ ]]' _ "$codes"
		check "rotation: the refresh is logged with the new key id" grep -q "credentials refreshed from ec2-imds: access key id" "$CR_LOG"
	fi
	cr_stop rotate
	stop_pid "$RT_PID" 5
fi

# ---- a revoked key forces a refresh and one re-signed retry -------------------------------------
# Plain IAM user keys (--mint iam: deleting one gives moto's 403 InvalidClientTokenId) carry no
# session token, which IMDS and container answers must have: a credential_process reads them
# from the fake's IMDS instead, and its keys are revoked under the running service.
if fake_start revoke --mint iam --expires-in 3600; then
	RV_PID=$FAKE_PID RV_PORT=$FAKE_PORT
	cat >"$E2E_TMP/creds-from-imds.sh" <<EOS
#!/bin/sh
t=\$(curl -s --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://127.0.0.1:$RV_PORT/latest/api/token)
curl -s --max-time 5 -H "X-aws-ec2-metadata-token: \$t" \
	http://127.0.0.1:$RV_PORT/latest/meta-data/iam/security-credentials/usersvc-role |
	jq -c '{Version: 1, AccessKeyId, SecretAccessKey}'
EOS
	chmod +x "$E2E_TMP/creds-from-imds.sh"
	printf '[profile revoke]\ncredential_process = %s\n' "$E2E_TMP/creds-from-imds.sh" >"$E2E_TMP/aws-config-revoke"
	cr_start revoke AWS_CONFIG_FILE="$E2E_TMP/aws-config-revoke" AWS_PROFILE=revoke
	if cr_ready revoke; then
		cr_crud revoke-before
		curl -s -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$RV_PORT/_fake/revoke"
		BASE_URL=$CR_URL
		create_user "after revoke" "$(uniq_email cr-rv)"
		expect_status 201 "revoked key: the request still succeeds after a forced refresh"
		BASE_URL=$CR_BASE_SAVED
		check "revoked key: the refusal and the forced refresh are logged" \
			grep -q "refused the credentials (HTTP 403); refreshing them and retrying once" "$CR_LOG"
		check "revoked key: a new key was fetched" \
			test "$(curl -s --max-time 5 "http://127.0.0.1:$RV_PORT/_fake/stats" | jq '.generations | length')" -ge 2
	fi
	cr_stop revoke
	stop_pid "$RV_PID" 5
fi

# ---- non-local endpoint and no provider: start-up fails with one line naming what was tried -------
cr_start none AWS_ENDPOINT_URL_DYNAMODB=https://dynamodb.eu-west-1.amazonaws.com AWS_REGION=eu-west-1 AUTH=none \
	AWS_EC2_METADATA_DISABLED=true
for ((i = 0; i < 50; i++)); do kill -0 "$CR_PID" 2>/dev/null || break; sleep 0.1; done
wait "$CR_PID" 2>/dev/null
st=$?
check "no credentials for a non-local endpoint: exit status 2 (got $st)" test "$st" = 2
check "that failure is one line naming the providers tried" \
	bash -c '[[ $(wc -l <"$1") == 1 ]] && grep -q "no AWS credentials for https://dynamodb.eu-west-1.amazonaws.com; tried: .*environment.*web-identity.*container.*ec2-imds" "$1"' _ "$CR_LOG"

# ---- no valid credentials for a while: /readyz answers 503, requests wait and then succeed ---------
# Keys live 5 s and are refreshed 1 s ahead; the fake holds that refresh 4 s, so they expire meanwhile.
if fake_start gap --expires-in 5 --refresh-margin 100; then
	GP_PID=$FAKE_PID GP_PORT=$FAKE_PORT
	printf 'gap-token' >"$E2E_TMP/gap-token"
	printf 'gap-token\n' >>"$E2E_TMP/secrets"
	cr_start gap AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$GP_PORT/v2/credentials/usersvc" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$E2E_TMP/gap-token" USERSVC_CREDENTIALS_REFRESH_WINDOW_S=1 \
		DYNAMODB_TIMEOUT_MS=10000
	if cr_ready gap; then
		curl -s -o /dev/null --max-time 5 -X POST \
			"http://127.0.0.1:$GP_PORT/_fake/fail?path=/v2/credentials&count=1&status=0&delay=4"
		seen=""
		for ((i = 0; i < 100; i++)); do
			[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$CR_URL/readyz") == 503 ]] && { seen=1; break; }
			sleep 0.1
		done
		check "gap: /readyz answers 503 while the credentials are expired" test -n "$seen"
		BASE_URL=$CR_URL
		req GET /users/"$(rand_uuid)"
		expect_status 404 "gap: a request without valid credentials waits for the refresh, then is served"
		BASE_URL=$CR_BASE_SAVED
		check "gap: it waited for the refresh (${ELAPSED}s)" awk -v e="$ELAPSED" 'BEGIN { exit !(e > 0.3) }'
		check "gap: /readyz answers 200 again" wait_ok "$CR_PID" "$CR_URL/readyz" 50
	fi
	cr_stop gap
	stop_pid "$GP_PID" 5
fi

# ---- role_arn + source_profile: STS AssumeRole signed with the source profile's keys, at moto -------
# shellcheck disable=SC1090
AR_ARN=$( (. "$E2E_MOTO_ADMIN_CREDS"; AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
	python3 - "$E2E_MOTO_URL" <<'PY'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1")
me = sts.get_caller_identity()["Arn"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": me}, "Action": "sts:AssumeRole"}]}
arn = iam.create_role(RoleName="usersvc-e2e-assume", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
iam.put_role_policy(RoleName="usersvc-e2e-assume", PolicyName="ddb", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
print(arn)
PY
) 2>"$E2E_TMP/assume-role-setup.err")
if [[ $AR_ARN == arn:aws:iam::* ]]; then
	(. "$E2E_MOTO_ADMIN_CREDS"; printf '%s\n' "$AWS_SECRET_ACCESS_KEY" >>"$E2E_TMP/secrets"
	 printf '[profile admin]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[profile assume]\nrole_arn = %s\nsource_profile = admin\nrole_session_name = usersvc-e2e-assume\n' \
		"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AR_ARN" >"$E2E_TMP/aws-config-assume")
	cr_start assume AWS_CONFIG_FILE="$E2E_TMP/aws-config-assume" AWS_PROFILE=assume AWS_ENDPOINT_URL_STS="$E2E_MOTO_URL"
	if cr_ready assume; then
		cr_provider_line assume profile-assume-role
		check "assume role: the key is a session key from moto's STS" grep -qE "access key id ASIA" "$CR_LOG"
		cr_crud assume
	fi
	cr_stop assume
else
	fail "assume role: could not create the role in moto: $(tail -c 300 "$E2E_TMP/assume-role-setup.err")"
fi
