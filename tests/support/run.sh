#!/usr/bin/env bash
# `make run`: the service in the foreground on PORT (3000). With no DynamoDB
# endpoint configured, it first starts moto (a local DynamoDB) on loopback and
# points the service at it. Ctrl-C stops both.
set -u
bin=${1:?usage: run.sh path/to/usersvc}
here=$(cd "$(dirname "$0")" && pwd)
port=${PORT:-3000}
moto_pid=""
svc=""
tmp=$(mktemp -d)

cleanup() {
  [ -n "$svc" ] && kill "$svc" 2>/dev/null && wait "$svc" 2>/dev/null   # the service drains, then exits
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 0' INT TERM   # Ctrl-C is how a user stops it: not an error

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}${AWS_ENDPOINT_URL:-}${DYNAMODB_ENDPOINT:-}" ]; then
  if ! python3 -c 'import moto.server' 2>/dev/null; then
    cat >&2 <<'MSG'
No DynamoDB endpoint is configured and moto (the local DynamoDB used by `make run`) is not installed.
Either install it:      pip install 'moto[server]'
or run DynamoDB Local:  docker run -p 8000:8000 amazon/dynamodb-local
                        AWS_ENDPOINT_URL_DYNAMODB=http://localhost:8000 make run
MSG
    exit 1
  fi
  python3 "$here/moto_server.py" --host 127.0.0.1 --port "${MOTO_PORT:-0}" --ready-file "$tmp/moto.port" \
    --quiet --exit-with-parent &
  moto_pid=$!
  for _ in $(seq 100); do [ -s "$tmp/moto.port" ] && break; kill -0 "$moto_pid" 2>/dev/null || break; sleep 0.1; done
  if [ ! -s "$tmp/moto.port" ]; then echo "moto did not start" >&2; exit 1; fi
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$(cat "$tmp/moto.port")"
  echo "local DynamoDB (moto, in memory) at $AWS_ENDPOINT_URL_DYNAMODB"
fi

base="http://${HOST:-127.0.0.1}:$port"
cat <<MSG
usersvc on $base — try, in another terminal:
  curl -s -X POST $base/users -H 'Content-Type: application/json' -d '{"name":"Ada Lovelace","email":"ada@example.com"}'
  curl -s $base/users
  curl -s $base/users/by-email/ada@example.com
  curl -s -X PATCH $base/users/<id> -H 'Content-Type: application/json' -d '{"title":"Countess"}'
  curl -s -X DELETE $base/users/<id>
  curl -s $base/metrics
Ctrl-C stops it.
MSG
# At a terminal the log is for reading: text unless LOG_FORMAT says otherwise (the service's default is json).
PORT=$port LOG_FORMAT=${LOG_FORMAT:-text} "$bin" &
svc=$!
wait "$svc"
