#!/usr/bin/env bash
# Runs libFuzzer harnesses: run.sh [--smoke] SECONDS build/fuzz/fuzz_NAME...
# Each harness first replays its committed corpus (tests/fuzz/corpus/NAME) and
# regressions (tests/fuzz/regressions/NAME), then fuzzes for SECONDS on a
# scratch copy of the corpus (build/fuzz/work/NAME), so the committed corpus
# only grows on purpose. A crash, leak or timeout is copied into
# tests/fuzz/regressions/NAME/ to be fixed and committed with its fix.
# Prints one line per harness (executions, cov, ft, CPU seconds) and
# "fuzz: N passed, M failed"; exits non-zero when one failed.
set -u
smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
seconds=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
passed=0; failed=0
for bin in "$@"; do
  name=${bin##*/fuzz_}
  corpus=$here/corpus/$name regressions=$here/regressions/$name
  work=build/fuzz/work/$name artifacts=build/fuzz/artifacts/$name
  log=build/fuzz/$name.log
  rm -rf "$work" "$artifacts"; mkdir -p "$work" "$artifacts"
  opts=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/")
  [ -f "$here/$name.dict" ] && opts+=(-dict="$here/$name.dict")

  inputs=()
  for f in "$corpus"/* "$regressions"/*; do [ -f "$f" ] && inputs+=("$f"); done
  ok=1
  if [ ${#inputs[@]} -gt 0 ] && ! "$bin" "${opts[@]}" "${inputs[@]}" >"$log" 2>&1; then
    ok=0; stage=replay
  fi
  if [ $ok = 1 ]; then
    [ -d "$corpus" ] && cp "$corpus"/* "$work"/ 2>/dev/null
    TIMEFORMAT='%U %S'
    { time nice "$bin" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 "$work" >"$log" 2>&1; } \
      2>"$log.time" || { ok=0; stage=fuzz; }
  fi
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    status=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(printf '%s\n' "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$log.time")
    printf 'fuzz: %-14s ok    %9s execs  cov %-5s ft %-6s cpu %ss  corpus %s\n' "$name" "$execs" "$cov" "$ft" \
      "$cpu" "$(ls "$work" | wc -l)"
  else
    failed=$((failed + 1))
    tail -n 40 "$log"
    mkdir -p "$regressions"
    for a in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -f "$a" ] && cp "$a" "$regressions/" && echo "fuzz: $name: kept $regressions/$(basename "$a")"
    done
    echo "fuzz: $name FAILED in $stage (log: $log)"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
