#!/usr/bin/env bash
# Runs every unit-test program given and sums their "N passed, M failed" lines.
set -u
passed=0; failed=0; broken=0
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  if [ -z "$line" ]; then
    printf '%s\n' "$out"; echo "unit: $(basename "$t") crashed or printed no summary (exit $rc)"
    broken=$((broken + 1)); continue
  fi
  p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then printf '%s\n' "$out"; [ "$f" -eq 0 ] && broken=$((broken + 1)); fi
  printf 'unit: %-24s %s\n' "$(basename "$t")" "$line"
done
failed=$((failed + broken))
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
