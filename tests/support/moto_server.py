#!/usr/bin/env python3
"""Local DynamoDB (+IAM, STS) for usersvc tests: moto, single-threaded, loopback.

Why not the stock `moto_server`: it serves with threaded=True, and moto's
DynamoDB backend is not atomic under concurrent TransactWriteItems (two
transactions can both pass their ConditionExpressions).  Here the same WSGI
app (moto.moto_server.werkzeug_app.DomainDispatcherApplication wrapping
create_backend_app) is served by werkzeug's BaseWSGIServer with threaded=False,
so requests are handled strictly one at a time.  The handler stays at
HTTP/1.0 (werkzeug only switches to HTTP/1.1 keep-alive for threaded servers),
so one idle client connection can never starve the others.

Usage:
  moto_server.py [--host 127.0.0.1] [--port N] [--ready-file PATH]
                 [--auth [--creds-file PATH] [--admin-creds-file PATH]]
                 [--quiet] [--exit-with-parent]

  --port 0 (the default) picks a free port.  --ready-file receives the actual
  port (atomically: temp file + rename) once the server accepts connections
  and, with --auth, once authentication is fully set up.

  --auth turns on SigV4 verification.  moto decides per request in
  moto.core.authorization.ActionAuthenticatorMixin: while
  request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT (default: inf, taken
  from the env var INITIAL_NO_AUTH_ACTION_COUNT) a request is not checked and
  only counted.  So, talking to itself over HTTP with boto3 (auth still off),
  this script creates an IAM user, an access key and an inline policy allowing
  dynamodb:* on *; then it POSTs "0" to /moto-api/reset-auth, which sets
  INITIAL_NO_AUTH_ACTION_COUNT = 0 and resets the counter: from then on every
  request (IAM and STS included) must carry a valid SigV4 signature from a
  known key (unknown key -> 403 UnrecognizedClientException/InvalidClientTokenId,
  wrong signature -> 403 InvalidSignatureException/SignatureDoesNotMatch) and be
  allowed by that key's policies (else 403 AccessDenied).  The script then
  checks both outcomes itself before declaring readiness.
  --creds-file gets shell-sourceable AWS_ACCESS_KEY_ID=... and
  AWS_SECRET_ACCESS_KEY=... lines.
  --admin-creds-file gets the same two lines for a second IAM user,
  usersvc-test-admin, allowed iam:* and sts:* (and nothing of DynamoDB): with
  auth on, only such a key can create users, roles and keys or call
  sts:AssumeRole.  tests/support/fake_metadata.py mints the credentials it
  serves with it (see there for what moto's STS can and cannot do with auth on).

Exits 0 on SIGTERM/SIGINT; non-zero if startup or the auth setup fails.
"""

import argparse
import json
import os
import signal
import sys
import threading
import urllib.request

from werkzeug.serving import make_server

import fakeutil  # beside this file; its write_atomic is the one every stand-in uses

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)

REGION = "us-east-1"
IAM_USER = "usersvc-test"
ADMIN_USER = "usersvc-test-admin"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:*", "sts:*"], "Resource": "*"}],
}
def service_policy():
    """The service's key gets exactly the actions of config/iam-policy.json (the least-privilege policy the
    README names), so a call the policy forgot fails the e2e suite with AccessDenied. moto checks actions
    only (it authorizes DynamoDB calls against the resource "*"), so the resources are widened to "*"."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "config", "iam-policy.json")) as f:
        policy = json.load(f)
    for statement in policy["Statement"]:
        statement["Resource"] = "*"
    # moto authorizes a call by its operation name; AWS authorizes TransactWriteItems by the PutItem,
    # UpdateItem and DeleteItem inside it, which the policy grants (there is no TransactWriteItems action).
    policy["Statement"].append({"Effect": "Allow", "Action": ["dynamodb:TransactWriteItems"], "Resource": "*"})
    return policy


def log(msg):
    print(f"moto_server: {msg}", file=sys.stderr, flush=True)


def setup_auth(endpoint):
    """Runs in a helper thread while the main thread serves requests."""
    import boto3
    import botocore.config
    from botocore.exceptions import ClientError

    cfg = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)

    def client(service, key_id, secret):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=cfg,
        )

    def reset_auth(count):
        req = urllib.request.Request(
            endpoint + "/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            body = json.loads(r.read().decode())
            if r.status != 200 or body.get("status") != "ok":
                raise RuntimeError(f"reset-auth {count} answered {r.status} {body}")

    # Auth off while bootstrapping, whatever INITIAL_NO_AUTH_ACTION_COUNT the
    # environment set; then any credentials do.
    reset_auth("inf")
    iam = client("iam", "bootstrap", "bootstrap")
    iam.create_user(UserName=IAM_USER)
    key = iam.create_access_key(UserName=IAM_USER)["AccessKey"]
    iam.put_user_policy(
        UserName=IAM_USER, PolicyName="usersvc", PolicyDocument=json.dumps(service_policy())
    )
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    iam.create_user(UserName=ADMIN_USER)
    admin = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    iam.put_user_policy(
        UserName=ADMIN_USER, PolicyName="iam-sts-all", PolicyDocument=json.dumps(ADMIN_POLICY)
    )

    reset_auth("0")  # from now on every request is verified

    # Self-check: the good key works (DescribeTable of a missing table: allowed, then not found), a wrong
    # secret is refused with 403, and so is an action the policy does not grant.
    def describe(k, s_):
        try:
            client("dynamodb", k, s_).describe_table(TableName="Users-selfcheck")
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
    describe(key_id, secret)
    try:
        client("dynamodb", key_id, secret).list_tables()
    except ClientError as e:
        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 403:
            raise
    else:
        raise RuntimeError("ListTables was allowed: the service's IAM policy is not enforced")
    try:
        describe(key_id, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    except ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status != 403:
            raise RuntimeError(f"wrong secret got HTTP {status}, expected 403") from e
    else:
        raise RuntimeError("request signed with a wrong secret was accepted")
    client("iam", admin["AccessKeyId"], admin["SecretAccessKey"]).get_user(UserName=IAM_USER)
    return key_id, secret, admin["AccessKeyId"], admin["SecretAccessKey"]


def exit_with_parent():
    import ctypes

    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log(f"prctl(PR_SET_PDEATHSIG) failed: errno {ctypes.get_errno()}")
    if os.getppid() == 1:  # parent already gone before prctl took effect
        raise SystemExit(0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--ready-file", help="write the actual port here once ready")
    p.add_argument("--auth", action="store_true", help="enable SigV4 verification")
    p.add_argument("--creds-file", help="with --auth: write AWS_ACCESS_KEY_ID/SECRET here")
    p.add_argument(
        "--admin-creds-file",
        help="with --auth: write the key of an IAM user allowed iam:* and sts:* here",
    )
    p.add_argument("--quiet", action="store_true", help="do not log each request")
    p.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="get SIGTERM when the parent process dies (Linux), so a killed harness leaks nothing",
    )
    args = p.parse_args(argv)
    if (args.creds_file or args.admin_creds_file) and not args.auth:
        p.error("--creds-file and --admin-creds-file need --auth")

    def on_signal(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.exit_with_parent:
        exit_with_parent()

    if args.quiet:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = DomainDispatcherApplication(create_backend_app)
    # Same server class run_simple(host, port, app, threaded=False) builds;
    # made directly so the real port is known when --port 0.
    srv = make_server(args.host, args.port, app, threaded=False, processes=1)
    port = srv.server_port
    host_for_url = args.host if ":" not in args.host else f"[{args.host}]"
    endpoint = f"http://{host_for_url}:{port}"
    os.environ.setdefault("MOTO_PORT", str(port))

    failed = []

    def announce():
        try:
            if args.auth:
                key_id, secret, admin_id, admin_secret = setup_auth(endpoint)
                for path, kid, sec in (
                    (args.creds_file, key_id, secret),
                    (args.admin_creds_file, admin_id, admin_secret),
                ):
                    if path:
                        fakeutil.write_atomic(
                            path,
                            f"AWS_ACCESS_KEY_ID={kid}\nAWS_SECRET_ACCESS_KEY={sec}\n",
                            0o600,
                        )
                log(f"SigV4 auth on; IAM user {IAM_USER}, key {key_id}")
            if args.ready_file:
                fakeutil.write_atomic(args.ready_file, f"{port}\n")
            log(f"ready on {endpoint}")
        except BaseException as e:  # report and stop the server
            failed.append(e)
            log(f"startup failed: {e!r}")
            srv.shutdown()  # returns once serve_forever has left its loop

    threading.Thread(target=announce, name="announce", daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    if failed:
        sys.exit(1)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
