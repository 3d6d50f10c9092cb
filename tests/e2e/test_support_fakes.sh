# shellcheck shell=bash
# The loopback stand-ins the credential, TLS and proxy tests use
# (tests/support/fake_metadata.py, tls_proxy.py, connect_proxy.py), checked
# against this run's moto with SigV4 verification on: tests/support/fakes_selftest.py
# (about 10 s) reports one PASS/FAIL line per check; then lib.sh's start_fake.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The stand-ins are Python and do not involve the service: checking them once, in the normal
# flavour, is enough (the sanitizer flavours keep make test under its time budget).
if [[ ${E2E_BIN:-} == */sanitize* ]]; then
	echo "   test_support_fakes.sh: the stand-ins were checked in the normal flavour; not again for a sanitizer build"
	return 0 2>/dev/null || exit 0
fi
SF_SUPPORT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../support" && pwd)

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_MOTO_ADMIN_CREDS:-} ]]; then
	pass "fakes self-test skipped: no moto from run.sh (run python3 tests/support/fakes_selftest.py alone)"
else
	out=$(timeout 90 python3 "$SF_SUPPORT/fakes_selftest.py" 2>"$E2E_TMP/fakes_selftest.stderr")
	st=$?
	while IFS= read -r line; do
		case $line in
		PASS\ *) pass "${line#PASS }" ;;
		FAIL\ *) fail "${line#FAIL }" ;;
		esac
	done <<<"$out"
	check "fakes_selftest.py exited 0 (status $st)" test "$st" = 0
	[[ $st == 0 ]] || tail -n 20 "$E2E_TMP/fakes_selftest.stderr" >&2

	# start_fake: ready file, port, the fake's --log
	if start_fake imds fake_metadata.py --moto-url "$E2E_MOTO_URL" --creds-file "$E2E_MOTO_ADMIN_CREDS" \
		--secrets-out "$E2E_TMP/secrets"; then
		pass "start_fake imds: ready on port $FAKE_PORT"
		tok=$(curl -s --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
			"http://127.0.0.1:$FAKE_PORT/latest/api/token")
		BODY=$(curl -s --max-time 10 -H "X-aws-ec2-metadata-token: $tok" \
			"http://127.0.0.1:$FAKE_PORT/latest/meta-data/iam/security-credentials/usersvc-role")
		REQ_DESC="GET fake IMDS credentials" STATUS=200
		expect_json_re .AccessKeyId 'ASIA[A-Z0-9]{16}' "fake IMDS serves moto STS session keys"
		kid=$(jqr .AccessKeyId)
		check "fake IMDS log names key $kid, holds no secret" \
			bash -c 'grep -q "$1" "$2" && ! grep -qF "$3" "$2"' _ "$kid" "$E2E_TMP/imds.log" "$(jqr .SecretAccessKey)"
		stop_pid "$FAKE_PID" 5
	else
		fail "start_fake imds: not ready within 30 s: $(tail -c 500 "$E2E_TMP/imds.stderr")"
	fi
fi
