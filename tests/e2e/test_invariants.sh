# shellcheck shell=bash
# Invariants under concurrency: rounds of racing creates, email swaps and rotations, same-If-Match
# PATCHes and DELETEs racing PATCHes, then an audit of the whole table read straight from moto
# (guards <-> users, unique emails, versions = successful writes). The driver is
# tests/support/invariants.py (its header lists every scenario and check); about 30 s.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${E2E_MOTO_URL:-} || -z ${E2E_AWS_ACCESS_KEY_ID:-} || -z ${E2E_TABLE:-} ]]; then
	REQ_DESC="test_invariants setup" STATUS="" BODY="E2E_MOTO_URL/E2E_AWS_ACCESS_KEY_ID/E2E_TABLE unset"
	fail "test_invariants needs run.sh's moto (E2E_MOTO_URL, E2E_AWS_*, E2E_TABLE); run it through tests/e2e/run.sh"
	return 0 2>/dev/null || exit 0
fi

driver=$(dirname "${BASH_SOURCE[0]}")/../support/invariants.py
out=$E2E_TMP/invariants.$$
REQ_DESC="invariants driver" STATUS="" BODY=""
timeout -k 5 "${INV_TIMEOUT:-100}" python3 "$driver" >"$out" 2>"$out.err"
st=$?
while IFS= read -r line; do
	case $line in
	PASS\ *) pass "invariants: ${line#PASS }" ;;
	FAIL\ *) BODY="" fail "invariants: ${line#FAIL }" ;;
	INFO\ *) echo "   ${line#INFO }" ;;
	esac
done <"$out"
if [[ $st == 0 ]]; then
	pass "invariants driver exited 0"
else
	BODY="$(tail -c 600 "$out.err" | tr '\n' ' ')"
	fail "invariants driver exited $st$([[ $st == 124 ]] && echo " (timed out)")"
fi
rm -f "$out" "$out.err"
