#!/usr/bin/env bash
# check_hardening.sh BIN: fails unless BIN was built hardened (make lint runs it): a PIE (ELF type
# DYN), full RELRO (a GNU_RELRO segment and BIND_NOW / FLAGS_1 NOW), the stack protector
# (__stack_chk_fail) and _FORTIFY_SOURCE (__*_chk functions). Prints one line per finding.
set -u
bin=${1:?usage: check_hardening.sh BIN}
failed=0
check() { # DESC CMD...
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "hardening: ok   $desc"
	else
		echo "hardening: FAIL $desc" >&2
		failed=1
	fi
}
header=$(readelf -h "$bin") dynamic=$(readelf -d "$bin") segments=$(readelf -lW "$bin") symbols=$(readelf --dyn-syms -W "$bin") || exit 1
check "PIE (ELF type DYN)" grep -Eq 'Type:[[:space:]]+DYN' <<<"$header"
check "RELRO segment (GNU_RELRO)" grep -q 'GNU_RELRO' <<<"$segments"
check "immediate binding (BIND_NOW or FLAGS_1 NOW)" grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' <<<"$dynamic"
check "stack protector (__stack_chk_fail)" grep -q '__stack_chk_fail' <<<"$symbols"
fortified=$(grep -Eo '__[a-z_]+_chk' <<<"$symbols" | grep -v '^__stack_chk' | sort -u | tr '\n' ' ')
check "_FORTIFY_SOURCE (fortified calls: ${fortified:-none})" test -n "$fortified"
exit $failed
