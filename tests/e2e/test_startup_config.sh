# shellcheck shell=bash
# Start-up refusals that need no network: plain http:// to a host that is not
# loopback (192.0.2.1, TEST-NET-1) gets no dummy credentials, and real ones are
# sent there only with ALLOW_INSECURE_ENDPOINT=true. The service must refuse at
# configuration time (exit 2, one line naming what to set), before any connect.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# start_refused NAME VAR=VALUE...: runs an instance, waits up to 5 s for it to exit.
# Sets REFUSED_STATUS (exit status, or "running") and REFUSED_LOG (its output).
start_refused() {
	local name=$1 log=$E2E_TMP/startup-$1.log i
	shift
	start_service "$log" -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL -u DYNAMODB_ENDPOINT \
		-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u ALLOW_INSECURE_ENDPOINT \
		HOST=127.0.0.1 PORT="$(free_port)" AWS_REGION=us-east-1 TABLE_NAME="Users-startup-$$" "$@"
	REFUSED_STATUS=running
	for ((i = 0; i < 50; i++)); do
		kill -0 "$SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SVC_PID" 2>/dev/null; then
		kill -KILL "$SVC_PID" 2>/dev/null
		wait "$SVC_PID" 2>/dev/null
	else
		wait "$SVC_PID" 2>/dev/null
		REFUSED_STATUS=$?
	fi
	REFUSED_LOG=$(cat "$log")
	REQ_DESC="start usersvc ($name)" STATUS=$REFUSED_STATUS BODY=$REFUSED_LOG
}

insecure=http://192.0.2.1:8000

start_refused no-opt-in AWS_ENDPOINT_URL_DYNAMODB="$insecure" AUTO_CREATE_TABLE=false \
	AWS_ACCESS_KEY_ID=AKIAEXAMPLESTARTUP AWS_SECRET_ACCESS_KEY=startup/secret
check "credentials with plain http to $insecure and no opt-in: exit status 2 (got $REFUSED_STATUS)" \
	test "$REFUSED_STATUS" = 2
check "the refusal is one line naming ALLOW_INSECURE_ENDPOINT=true and the endpoint" \
	bash -c '[[ $(wc -l <<<"$1") == 1 && $1 == *ALLOW_INSECURE_ENDPOINT=true* && $1 == *"$2"* ]]' _ "$REFUSED_LOG" "$insecure"
check "the refusal does not echo the credentials" \
	bash -c '[[ $1 != *AKIAEXAMPLESTARTUP* && $1 != *startup/secret* ]]' _ "$REFUSED_LOG"

start_refused no-creds AWS_ENDPOINT_URL_DYNAMODB="$insecure" AUTO_CREATE_TABLE=false ALLOW_INSECURE_ENDPOINT=true AUTH=none
check "plain http to $insecure without credentials: exit status 2, no dummy ones (got $REFUSED_STATUS)" \
	test "$REFUSED_STATUS" = 2
check "that refusal names AWS_ACCESS_KEY_ID" bash -c '[[ $1 == *AWS_ACCESS_KEY_ID* ]]' _ "$REFUSED_LOG"

start_refused bad-opt-in AWS_ENDPOINT_URL_DYNAMODB="$insecure" AUTO_CREATE_TABLE=false \
	AWS_ACCESS_KEY_ID=AKIAEXAMPLESTARTUP AWS_SECRET_ACCESS_KEY=startup/secret ALLOW_INSECURE_ENDPOINT=maybe
check "ALLOW_INSECURE_ENDPOINT=maybe: exit status 2 naming the variable (got $REFUSED_STATUS)" \
	bash -c '[[ $1 == 2 && $2 == *"ALLOW_INSECURE_ENDPOINT: '"'maybe'"'"* ]]' _ "$REFUSED_STATUS" "$REFUSED_LOG"
