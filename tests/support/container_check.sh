#!/usr/bin/env bash
# container_check.sh BIN: proves the Dockerfile's runtime stage without a Docker engine (make
# container-check; README: Running in containers). Builds that stage's file system with
# `debootstrap --variant=minbase bookworm` from the Debian mirror apt already uses, including exactly
# the packages the Dockerfile's runtime stage installs (parsed from it, so the two cannot drift),
# copies BIN in as /usr/local/bin/usersvc, and runs it there (chroot, as UID:GID 10001:10001, with
# an empty environment but its settings) against moto on loopback: /healthz, a POST and a GET of a
# user, and `usersvc --healthcheck` inside. Needs root (debootstrap, chroot). The file system is
# kept in build/container/ and reused while the package list is unchanged; the first run takes
# minutes. Prints "container-check: N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:?usage: container_check.sh BIN}
UIDGID=10001:10001
WORK=$ROOT/build/container
FS=$WORK/rootfs
passed=0 failed=0
check() { # DESC CMD...
	local desc=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "  ok   $desc"
	else
		failed=$((failed + 1))
		echo "  FAIL $desc"
	fi
}
finish() {
	[[ -n ${SVC_PID:-} ]] && kill "$SVC_PID" 2>/dev/null && wait "$SVC_PID" 2>/dev/null
	[[ -n ${MOTO_PID:-} ]] && kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null
	echo "container-check: $passed passed, $failed failed"
	[[ $failed == 0 && $passed != 0 ]]
}
trap 'finish; exit $?' EXIT
[[ $(id -u) == 0 ]] || { echo "container-check: needs root (debootstrap, chroot)" >&2; failed=1; exit 1; }

# The runtime stage's packages: the `apt-get install` of the Dockerfile's last stage, options dropped.
packages=$(python3 - "$ROOT/Dockerfile" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
runtime = re.split(r"^FROM ", text, flags=re.M)[-1]
installs = re.findall(r"apt-get install ([^&;\n]*)", runtime)
if len(installs) != 1:
    sys.exit(f"expected one apt-get install in the runtime stage, found {len(installs)}")
print(",".join(t for t in installs[0].split() if not t.startswith("-")))
PY
) || exit 1
# The mirror apt uses for bookworm (deb822 .sources or one-line sources.list), security excluded.
mirror=$(python3 - <<'PY'
import glob
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path).read().split("\n\n"):
        fields = dict(l.split(":", 1) for l in stanza.splitlines() if ":" in l and not l.startswith("#"))
        fields = {k.strip(): v.split() for k, v in fields.items()}
        if "deb" in fields.get("Types", []) and "bookworm" in fields.get("Suites", []):
            print(fields["URIs"][0]); raise SystemExit
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for l in lines:
        w = l.split("#")[0].split()
        w = [x for x in w if not x.startswith("[")]
        if len(w) >= 3 and w[0] == "deb" and w[2] == "bookworm":
            print(w[1]); raise SystemExit
print("http://deb.debian.org/debian")
PY
)
echo "container-check: runtime packages $packages from $mirror"

mkdir -p "$WORK"
if [[ ! -x $FS/usr/bin/env || $(cat "$WORK/packages" 2>/dev/null) != "$packages $mirror" ]]; then
	rm -rf "$FS" "$WORK/packages"
	start=$SECONDS
	if ! debootstrap --variant=minbase --include="$packages" bookworm "$FS" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
		tail -20 "$WORK/debootstrap.log"
		check "debootstrap --variant=minbase bookworm (log: $WORK/debootstrap.log)" false
		exit 1
	fi
	echo "$packages $mirror" >"$WORK/packages"
	echo "container-check: debootstrap took $((SECONDS - start)) s"
fi
check "every runtime package is installed in the file system" \
	bash -c 'chroot "$1" dpkg -s "${@:2}" >/dev/null' _ "$FS" ${packages//,/ }
check "no curl in the runtime file system (the image checks itself)" test ! -e "$FS/usr/bin/curl"
install -m 0755 "$BIN" "$FS/usr/local/bin/usersvc"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rm -f "$WORK/moto.port"
python3 "$ROOT/tests/support/moto_server.py" --host 127.0.0.1 --port 0 --ready-file "$WORK/moto.port" \
	--exit-with-parent >"$WORK/moto.log" 2>&1 </dev/null &
MOTO_PID=$!
for _ in $(seq 300); do [[ -s $WORK/moto.port ]] && break; sleep 0.1; done
[[ -s $WORK/moto.port ]] || { check "moto started" false; exit 1; }
port=$(free_port)
# Only what the container would get: the image's ENV (PORT, HOST) and the compose file's settings.
svc_env=(HOST=127.0.0.1 PORT="$port" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$(<"$WORK/moto.port")"
	AWS_EC2_METADATA_DISABLED=true AUTO_CREATE_TABLE=true TABLE_NAME=Users-container)
in_container() { chroot --userspec="$UIDGID" --groups="${UIDGID#*:}" "$FS" /usr/bin/env -i "${svc_env[@]}" "$@"; }
# Not through the function: chroot and env exec, so $! is the service itself (SIGTERM reaches it).
chroot --userspec="$UIDGID" --groups="${UIDGID#*:}" "$FS" /usr/bin/env -i "${svc_env[@]}" /usr/local/bin/usersvc \
	>"$WORK/usersvc.log" 2>&1 </dev/null &
SVC_PID=$!
B=http://127.0.0.1:$port
for _ in $(seq 300); do
	[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$B/readyz") == 200 ]] && break
	kill -0 "$SVC_PID" 2>/dev/null || break
	sleep 0.1
done
ids=$(awk '/^Uid:|^Gid:/ {print $1, $2}' "/proc/$SVC_PID/status" 2>/dev/null | tr '\n' ' ')
check "the service runs as 10001:10001 ($ids)" test "$ids" = "Uid: 10001 Gid: 10001 "
check "GET /healthz answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$B/healthz")" = 200
email="container-$$@example.com"
created=$(curl -s -w '\n%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
	--data '{"name":"Container","email":"'"$email"'"}' "$B/users")
id=$(head -1 <<<"$created" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("id",""))' 2>/dev/null)
check "POST /users answers 201 with an id ($(tail -1 <<<"$created"))" test "$(tail -1 <<<"$created")" = 201 -a -n "$id"
got=$(curl -s --max-time 10 "$B/users/$id")
check "GET /users/{id} returns the user" bash -c '[[ $1 == *"\"email\":\"$2\""* ]]' _ "$got" "$email"
check "usersvc --healthcheck inside the container exits 0" in_container /usr/local/bin/usersvc --healthcheck
check "usersvc --healthcheck against a closed port exits 1" bash -c '! "$@"' _ \
	chroot --userspec="$UIDGID" "$FS" /usr/bin/env -i PORT="$(free_port)" /usr/local/bin/usersvc --healthcheck
kill "$SVC_PID" 2>/dev/null
wait "$SVC_PID"
status=$?
SVC_PID=""
check "SIGTERM: the service exits 0 (got $status)" test "$status" = 0
[[ $failed == 0 ]] || tail -20 "$WORK/usersvc.log"
