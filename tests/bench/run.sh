#!/usr/bin/env bash
# usersvc benchmark: usersvc against the Express + AWS SDK peer, on loopback, in one go.
#
#   tests/bench/run.sh [--smoke] [--strict] USERSVC_BIN
#   tests/bench/run.sh [--smoke] --no-usersvc        backends and peer only (while usersvc is not built)
#
# Full mode (about 5.5 minutes on 2 cores) prints the runs and the targets table (PASS/MISS) and writes
# build/bench/results.json and build/bench/chart.png; it exits 1 when a usersvc or backend run saw a
# non-2xx answer or a socket error (with --strict also when a target is missed).
# --smoke: 1-second runs with few connections (about 10 s in all); asserts only that everything
# works and every answer was 2xx; ends with "bench-smoke: N passed, M failed", exit 1 on failure.
#
# Installs what it needs when missing (as root): wrk, nginx, gnuplot from Debian; the peer's
# node_modules with `npm ci`; builds slowddb, idle_conns and startup_time into build/bench/.
# Tunables (BENCH_DURATION, BENCH_WARMUP, BENCH_DELAY_MS, BENCH_IDLE_CONNS, BENCH_PIN, ...) are
# described at the top of tests/bench/bench.mjs; tests/bench/README.md says how it all works.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${BENCH_OUT:-$root/build/bench}

smoke=0
bin=""
no_usersvc=0
args=()
for a in "$@"; do
  case "$a" in
    --smoke) smoke=1; args+=("$a") ;;
    --strict) args+=("$a") ;;
    --no-usersvc) no_usersvc=1; args+=("$a") ;;
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    *) [ -z "$bin" ] || { echo "run.sh: one USERSVC_BIN only" >&2; exit 2; }; bin=$a ;;
  esac
done

fail() {
  echo "run.sh: $*" >&2
  [ "$smoke" = 1 ] && echo "bench-smoke: 0 passed, 1 failed"
  exit 1
}

if [ "$no_usersvc" = 0 ]; then
  [ -n "$bin" ] || { echo "usage: tests/bench/run.sh [--smoke] [--strict] USERSVC_BIN  (or --no-usersvc)" >&2; exit 2; }
  if [ ! -x "$bin" ] || [ -d "$bin" ]; then
    fail "usersvc binary '$bin' is missing or not executable: build it with 'make -C $root' (makes build/usersvc), or pass --no-usersvc to measure the backends and the peer only"
  fi
  bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
  args+=("$bin")
fi

mkdir -p "$out" || fail "cannot create $out"

# ---- Debian packages: wrk, nginx, gnuplot (and a C compiler for the tools)
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v gnuplot >/dev/null 2>&1 || missing+=(gnuplot-nox)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
  echo "run.sh: installing ${missing[*]}"
  # never let the nginx package start the system-wide server (port 80, all addresses)
  policy_made=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_made=1
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$out/apt.log" 2>&1
  rc=$?
  [ "$policy_made" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || { tail -20 "$out/apt.log" >&2; fail "apt-get install ${missing[*]} failed"; }
fi

# ---- the C tools
for t in slowddb idle_conns startup_time; do
  if [ ! -x "$out/$t" ] || [ "$here/$t.c" -nt "$out/$t" ]; then
    cc -O2 -Wall -Wextra -o "$out/$t" "$here/$t.c" || fail "could not build $t"
  fi
done

# ---- the peer's node_modules, exactly as locked
peer=$here/peer
if [ ! -f "$peer/node_modules/.package-lock.json" ] || [ "$peer/package-lock.json" -nt "$peer/node_modules/.package-lock.json" ]; then
  echo "run.sh: npm ci in tests/bench/peer"
  (cd "$peer" && npm ci --no-audit --no-fund --loglevel=error >"$out/npm.log" 2>&1) \
    || { tail -20 "$out/npm.log" >&2; fail "npm ci failed in $peer"; }
fi

# ---- 10,000 idle connections need more than the usual 1024 descriptors (servers and wrk inherit it)
want=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then ulimit -Hn "$want" 2>/dev/null || true; fi
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge "$want" ]; then ulimit -n "$want"; else ulimit -n "$hard"; fi

# ---- run; whatever bench.mjs started and could not stop (it was killed) is stopped here
pidfile=$out/bench.pids
cleanup() {
  [ -f "$pidfile" ] || return 0
  while read -r pid; do
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qE 'usersvc-bench-|slowddb|idle_conns|startup_time|peer/app\.js|app\.js|wrk|usersvc'; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true   # its process group
    fi
  done <"$pidfile"
  rm -f "$pidfile"
}
trap cleanup EXIT

cd "$root" || exit 1
# in the background + wait, so a signal to this script reaches bench.mjs (which then stops its children)
BENCH_OUT=$out node "$here/bench.mjs" "${args[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 130' INT TERM HUP
wait "$child"
