#!/usr/bin/env python3
"""Loopback stand-in for the AWS credential endpoints: EC2 IMDSv2, the ECS/EKS
container credentials endpoint and STS, issuing keys that moto accepts with
its SigV4 verification on.  One server answers all three; a test points one
provider at it.

Usage:
  fake_metadata.py [--host 127.0.0.1] [--port 0] [--ready-file PATH] [--log PATH]
                   [--exit-with-parent] [--max-seconds S]
                   [--moto-url URL --creds-file ADMIN_CREDS] [--mint sts|iam]
                   [--expires-in S] [--refresh-margin S] [--revoke-after S]
                   [--role-name NAME] [--container-path PATH] [--auth-token VALUE]
                   [--delay S] [--secrets-out PATH]

Endpoints
  EC2 IMDSv2 (what AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT reaches):
    PUT /latest/api/token                     needs X-aws-ec2-metadata-token-ttl-seconds
                                              (1..21600, else 400); a request carrying
                                              X-Forwarded-For gets 403, like the real IMDS;
                                              answers the token (text/plain)
    GET /latest/meta-data/iam/security-credentials/        the role name (--role-name)
    GET /latest/meta-data/iam/security-credentials/ROLE    {"Code":"Success","LastUpdated",
        "Type":"AWS-HMAC","AccessKeyId","SecretAccessKey","Token","Expiration"}
      every GET needs a valid, unexpired X-aws-ec2-metadata-token: 401 without; another
      role name: 404.
  Container (AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/v2/credentials/ID):
    GET --container-path (default /v2/credentials/usersvc)
      {"AccessKeyId","SecretAccessKey","Token","Expiration","RoleArn","AccountId"};
      with --auth-token, the Authorization header must equal it exactly (401 otherwise).
  STS (AWS_ENDPOINT_URL_STS=http://127.0.0.1:PORT):
    POST / form-encoded, Action=AssumeRoleWithWebIdentity (unsigned; RoleArn,
      RoleSessionName, WebIdentityToken required, else 400 in STS's XML error shape)
      answers <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
      with Credentials{AccessKeyId,SecretAccessKey,SessionToken,Expiration}, AssumedRoleUser,
      SubjectFromWebIdentityToken, Provider, Audience.  Every WebIdentityToken received is
      recorded in order (see /_fake/stats), so a test can check the token file is re-read.
    POST / with Action=AssumeRole: with --moto-url, forwarded as is (same headers, so the
      same Host and signature) to moto, which verifies the SigV4 signature and answers;
      without, answered like the above from the fake's own keys (signature not checked).
  Test control (never part of any AWS API):
    GET  /_fake/stats     {"requests":{path:n}, "statuses":{path:{status:n}},
                           "max_in_flight":{path:n}, "mints":n, "generations":[{"access_key_id",
                           "issued","expires","revoked"}], "web_identity_tokens":[...],
                           "role_arns":[...], "session_names":[...], "container_auth":{ok,bad,
                           missing}}  (access key ids only, never a secret)
    POST /_fake/fail?path=P&count=N&status=S[&delay=D]   the next N requests whose path
                           starts with P answer status S (default 500) with the POST body as
                           their body (default a JSON error), after D seconds; status=0 means
                           "answer normally, only after D seconds".
    POST /_fake/revoke    revoke the current keys now (the next fetch mints new ones)
    POST /_fake/reset     zero the counters (keeps the keys)

Where the keys come from
  Without --moto-url: random AKIA/ASIA-looking strings, for tests that never reach moto.
  With --moto-url and --creds-file (moto_server.py --admin-creds-file: a key allowed iam:*
  and sts:*), measured against moto 5.2.1 with --auth:
    --mint sts (default): for each generation, the fake creates an IAM role (trusting the
      admin user, inline policy dynamodb:* on *) and calls moto's sts:AssumeRole, signed
      with the admin key: real ASIA... session credentials whose session token moto's
      DynamoDB checks (missing or wrong X-Amz-Security-Token: 403 InvalidClientTokenId).
      Revoking deletes the role's policy: the old keys then get 403 AccessDenied.
    --mint iam: a new IAM user and access key per generation, served with NO Token
      (moto refuses an AKIA key that carries any X-Amz-Security-Token: 403
      InvalidClientTokenId).  Revoking deletes the key: 403 InvalidClientTokenId,
      what a rotated-away or expired key looks like.
  Why the fake STS for web identity: moto's own AssumeRoleWithWebIdentity cannot be used
  with auth on.  The real call is unsigned, and moto then fails with HTTP 500 (KeyError
  'HTTP_AUTHORIZATION' in moto.iam.access_control): it wants a signature on every request.
  moto's AssumeRole (signed) works and is what the fake mints with.
  moto never enforces an Expiration (sessions of 5 s stay valid); the Expiration served is
  the fake's own: issued + --expires-in.  moto's DynamoDB answers auth failures as an STS-style
  XML <ErrorResponse> with Content-Type text/html, not DynamoDB's JSON __type.

Rotation
  All three endpoints serve the same current generation of keys.  A credentials fetch
  reuses it while it has more than --refresh-margin seconds left (default: half of
  --expires-in), else mints the next one.  With --revoke-after G, a generation is
  revoked G seconds after a newer one replaced it, so a service still signing with stale
  keys really fails.  --delay S holds every credentials answer S seconds, so concurrent
  fetches overlap and /_fake/stats' max_in_flight shows them ("one refresh in flight").
  --secrets-out FILE appends every secret key and session token issued, one per line,
  for the e2e log audit (run.sh greps the service logs for $E2E_TMP/secrets).

How an e2e test uses it (tests/e2e/lib.sh: start_fake)
  start_fake imds fake_metadata.py --moto-url "$E2E_MOTO_URL" \\
      --creds-file "$E2E_MOTO_ADMIN_CREDS" --secrets-out "$E2E_TMP/secrets" --expires-in 900
  then start the service with AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$FAKE_PORT
  (or AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$FAKE_PORT/v2/credentials/usersvc
  + AWS_CONTAINER_AUTHORIZATION_TOKEN, or AWS_ENDPOINT_URL_STS + AWS_ROLE_ARN +
  AWS_WEB_IDENTITY_TOKEN_FILE) and no AWS_ACCESS_KEY_ID; serve CRUD; read
  curl http://127.0.0.1:$FAKE_PORT/_fake/stats to assert what was fetched, and
  $E2E_TMP/imds.log for which key ids went out.
"""

import argparse
import json
import secrets
import string
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import fakeutil

IMDS_TOKEN_PATH = "/latest/api/token"
IMDS_CREDS_PREFIX = "/latest/meta-data/iam/security-credentials/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACCOUNT = "123456789012"
DDB_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
}


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class Generation:
    def __init__(self, n, key_id, secret, token, issued, expires, revoke):
        self.n, self.key_id, self.secret, self.token = n, key_id, secret, token
        self.issued, self.expires = issued, expires
        self.revoke_fn = revoke  # callable or None
        self.revoked = False
        self.superseded = None  # time a newer generation replaced it


class Minter:
    """Makes credential generations; through moto's IAM/STS when configured."""

    def __init__(self, args, log):
        self.args, self.log = args, log
        self.lock = threading.Lock()  # one mint/revoke at a time (moto is single-threaded anyway)
        self.gens = []
        self.prefix = f"usersvc-fake-{int(time.time()) % 100000}-{rand(string.digits, 4)}"
        self.iam = self.sts = None
        self.admin_arn = None
        self.admin_creds = None
        if args.moto_url:
            import boto3
            import botocore.config

            creds = {}
            with open(args.creds_file) as f:
                for line in f:
                    if "=" in line:
                        k, v = line.strip().split("=", 1)
                        creds[k] = v
            self.admin_creds = creds
            cfg = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
            kw = dict(endpoint_url=args.moto_url, region_name="us-east-1", config=cfg,
                      aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"])
            self.iam = boto3.client("iam", **kw)
            self.sts = boto3.client("sts", **kw)
            self.admin_arn = self.sts.get_caller_identity()["Arn"]

    def role_arn(self):
        return f"arn:aws:iam::{ACCOUNT}:role/{self.args.role_name}"

    def current(self):
        """The generation to serve now (minting one when needed)."""
        with self.lock:
            now = time.time()
            g = self.gens[-1] if self.gens else None
            if g is None or g.revoked or g.expires - now <= self.args.refresh_margin:
                g = self._mint(now)
            self._revoke_due(now)
            return g

    def _mint(self, now):
        n = len(self.gens) + 1
        a = self.args
        revoke = None
        if self.iam is None:
            key_id = ("ASIA" if a.mint == "sts" else "AKIA") + rand(string.ascii_uppercase + string.digits, 16)
            secret = rand(string.ascii_letters + string.digits + "+/", 40)
            token = None if a.mint == "iam" else "FAKE" + rand(string.ascii_letters + string.digits, 120)
        elif a.mint == "sts":
            role = f"{self.prefix}-{n}"
            trust = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": self.admin_arn}, "Action": "sts:AssumeRole"}]}
            arn = self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            self.iam.put_role_policy(RoleName=role, PolicyName="dynamodb", PolicyDocument=json.dumps(DDB_POLICY))
            c = self.sts.assume_role(RoleArn=arn, RoleSessionName=f"gen-{n}", DurationSeconds=900)["Credentials"]
            key_id, secret, token = c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]
            revoke = lambda: self.iam.delete_role_policy(RoleName=role, PolicyName="dynamodb")  # noqa: E731
        else:
            user = f"{self.prefix}-{n}"
            self.iam.create_user(UserName=user)
            self.iam.put_user_policy(UserName=user, PolicyName="dynamodb", PolicyDocument=json.dumps(DDB_POLICY))
            k = self.iam.create_access_key(UserName=user)["AccessKey"]
            key_id, secret, token = k["AccessKeyId"], k["SecretAccessKey"], None
            revoke = lambda: self.iam.delete_access_key(UserName=user, AccessKeyId=key_id)  # noqa: E731
        g = Generation(n, key_id, secret, token, now, now + a.expires_in, revoke)
        if self.gens:
            self.gens[-1].superseded = now
        self.gens.append(g)
        if a.secrets_out:
            with open(a.secrets_out, "a") as f:
                f.write(secret + "\n" + (token + "\n" if token else ""))
        self.log.event(event="mint", generation=n, access_key_id=key_id, expires=iso(g.expires),
                       session_token=token is not None)
        return g

    def _revoke(self, g, why):
        if g.revoked:
            return
        g.revoked = True
        if g.revoke_fn:
            try:
                g.revoke_fn()
            except Exception as e:  # keep serving; the log says what happened
                self.log.note(f"revoking {g.key_id} failed: {e!r}")
        self.log.event(event="revoke", generation=g.n, access_key_id=g.key_id, why=why)

    def _revoke_due(self, now):
        if self.args.revoke_after is None:
            return
        for g in self.gens:
            if not g.revoked and g.superseded is not None and now - g.superseded >= self.args.revoke_after:
                self._revoke(g, f"superseded {self.args.revoke_after:g}s ago")

    def tick(self):
        with self.lock:
            self._revoke_due(time.time())

    def revoke_current(self):
        with self.lock:
            if self.gens:
                self._revoke(self.gens[-1], "POST /_fake/revoke")
                return self.gens[-1].key_id
        return None

    def snapshot(self):
        with self.lock:
            return [{"generation": g.n, "access_key_id": g.key_id, "issued": iso(g.issued),
                     "expires": iso(g.expires), "session_token": g.token is not None,
                     "revoked": g.revoked} for g in self.gens]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()
        self.imds_tokens = {}  # token -> expiry (monotonic)
        self.faults = []  # [prefix, remaining, status, delay, body]

    def reset(self):
        self.requests, self.statuses, self.in_flight, self.max_in_flight = {}, {}, {}, {}
        self.web_identity_tokens, self.role_arns, self.session_names = [], [], []
        self.container_auth = {"ok": 0, "bad": 0, "missing": 0}

    def enter(self, path):
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            self.in_flight[path] = self.in_flight.get(path, 0) + 1
            self.max_in_flight[path] = max(self.max_in_flight.get(path, 0), self.in_flight[path])

    def leave(self, path, status):
        with self.lock:
            self.in_flight[path] -= 1
            per = self.statuses.setdefault(path, {})
            per[str(status)] = per.get(str(status), 0) + 1

    def take_fault(self, path):
        with self.lock:
            for f in self.faults:
                if path.startswith(f[0]) and f[1] > 0:
                    f[1] -= 1
                    return f[2], f[3], f[4]
            self.faults = [f for f in self.faults if f[1] > 0]
        return None


def make_handler(args, minter, state, log):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-metadata"
        timeout = fakeutil.IO_TIMEOUT

        def log_message(self, fmt, *a):  # the JSON log replaces stderr chatter
            pass

        # ---- plumbing --------------------------------------------------------
        def _send(self, status, body, ctype="application/json", headers=()):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self._status = status

        def _json(self, status, obj, headers=()):
            self._send(status, json.dumps(obj, indent=2) + "\n", "application/json", headers)

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0 or n > 1 << 20:
                raise ValueError("body too large")
            return self.rfile.read(n) if n else b""

        def _handle(self):
            url = urllib.parse.urlsplit(self.path)
            path = url.path
            self._status = 0
            self._fields = {}
            try:
                body = self._body()
            except ValueError:
                self.close_connection = True
                self._json(400, {"Code": "BadRequest", "Message": "bad Content-Length"})
                log.event(method=self.command, path=path, status=400)
                return
            control = path.startswith("/_fake/")
            if not control:
                state.enter(path)
            try:
                fault = None if control else state.take_fault(path)
                if fault:
                    status, delay, fbody = fault
                    if delay:
                        time.sleep(delay)
                    if status:
                        self._fields["injected"] = True
                        if fbody is None:
                            return self._json(status, {"Code": "InjectedFailure", "Message": "injected by /_fake/fail"})
                        return self._send(status, fbody, "application/json")
                self._route(path, url.query, body)
            finally:
                if not control:
                    state.leave(path, self._status)
                log.event(method=self.command, path=path, status=self._status, **self._fields)

        def do_GET(self):
            self._handle()

        def do_PUT(self):
            self._handle()

        def do_POST(self):
            self._handle()

        # ---- routes ----------------------------------------------------------
        def _serve_creds(self):
            if args.delay:
                time.sleep(args.delay)
            try:
                g = minter.current()
            except Exception as e:
                log.note(f"minting failed: {e!r}")
                self._fields["mint_error"] = type(e).__name__
                return None
            self._fields["access_key_id"] = g.key_id
            self._fields["generation"] = g.n
            return g

        def _route(self, path, query, body):
            m = self.command
            if path.startswith("/_fake/"):
                return self._control(path, query, body)
            if path == IMDS_TOKEN_PATH:
                return self._imds_token()
            if path.startswith("/latest/"):
                return self._imds_get(path)
            if path == args.container_path:
                return self._container()
            if m == "POST" and path == "/":
                return self._sts(body)
            return self._json(404, {"Code": "NotFound", "Message": f"no route for {m} {path}"})

        def _control(self, path, query, body):
            q = urllib.parse.parse_qs(query)
            if path == "/_fake/stats" and self.command == "GET":
                with state.lock:
                    out = {"requests": dict(state.requests), "statuses": json.loads(json.dumps(state.statuses)),
                           "max_in_flight": dict(state.max_in_flight),
                           "web_identity_tokens": list(state.web_identity_tokens),
                           "role_arns": list(state.role_arns), "session_names": list(state.session_names),
                           "container_auth": dict(state.container_auth)}
                gens = minter.snapshot()
                out["mints"] = len(gens)
                out["generations"] = gens
                return self._json(200, out)
            if self.command != "POST":
                return self._json(405, {"Code": "MethodNotAllowed"})
            if path == "/_fake/fail":
                try:
                    prefix = q["path"][0]
                    count = int(q.get("count", ["1"])[0])
                    status = int(q.get("status", ["500"])[0])
                    delay = float(q.get("delay", ["0"])[0])
                    if count < 1 or count > 10000 or not (status == 0 or 100 <= status <= 599) or not 0 <= delay <= 60:
                        raise ValueError
                except (KeyError, ValueError):
                    return self._json(400, {"Code": "BadRequest",
                                            "Message": "need path=PREFIX, count 1..10000, status 0|100..599, delay 0..60"})
                with state.lock:
                    state.faults.append([prefix, count, status, delay, body if body else None])
                self._fields.update(fault_path=prefix, count=count, fault_status=status, delay=delay)
                return self._json(200, {"status": "ok"})
            if path == "/_fake/revoke":
                kid = minter.revoke_current()
                self._fields["access_key_id"] = kid
                return self._json(200, {"status": "ok", "revoked": kid})
            if path == "/_fake/reset":
                with state.lock:
                    state.reset()
                    state.faults = []
                return self._json(200, {"status": "ok"})
            return self._json(404, {"Code": "NotFound"})

        # IMDSv2
        def _imds_token(self):
            if self.command != "PUT":
                return self._send(405, "", "text/plain")
            if self.headers.get("X-Forwarded-For") is not None:
                return self._send(403, "", "text/plain")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            try:
                ttl_n = int(ttl)
                if not 1 <= ttl_n <= 21600:
                    raise ValueError
            except (TypeError, ValueError):
                self._fields["ttl"] = ttl
                return self._send(400, "", "text/plain")
            tok = "AQAEA" + rand(string.ascii_letters + string.digits, 51)
            with state.lock:
                state.imds_tokens[tok] = time.monotonic() + ttl_n
            self._fields.update(ttl=ttl_n, imds_token=fakeutil.token_hash(tok))
            return self._send(200, tok, "text/plain", [("X-aws-ec2-metadata-token-ttl-seconds", str(ttl_n))])

        def _imds_get(self, path):
            if self.command != "GET":
                return self._send(405, "", "text/plain")
            tok = self.headers.get("X-aws-ec2-metadata-token")
            with state.lock:
                exp = state.imds_tokens.get(tok) if tok else None
            if exp is None or exp < time.monotonic():
                self._fields["imds_token"] = "missing" if tok is None else "invalid"
                return self._send(401, "", "text/plain")
            if path == IMDS_CREDS_PREFIX:
                return self._send(200, args.role_name, "text/plain")
            if path == IMDS_CREDS_PREFIX + args.role_name:
                g = self._serve_creds()
                if g is None:
                    return self._send(500, "", "text/plain")
                doc = {"Code": "Success", "LastUpdated": iso(g.issued), "Type": "AWS-HMAC",
                       "AccessKeyId": g.key_id, "SecretAccessKey": g.secret,
                       "Token": g.token if g.token is not None else "", "Expiration": iso(g.expires)}
                if g.token is None:
                    del doc["Token"]
                return self._send(200, json.dumps(doc, indent=2), "text/plain")
            return self._send(404, "", "text/plain")

        # ECS / EKS Pod Identity
        def _container(self):
            if self.command != "GET":
                return self._json(405, {"code": "MethodNotAllowed"})
            if args.auth_token is not None:
                got = self.headers.get("Authorization")
                verdict = "missing" if got is None else ("ok" if got == args.auth_token else "bad")
                with state.lock:
                    state.container_auth[verdict] += 1
                self._fields["authorization"] = verdict
                if verdict != "ok":
                    return self._json(401, {"code": "AccessDeniedException", "message": "bad Authorization"})
            g = self._serve_creds()
            if g is None:
                return self._json(500, {"code": "InternalServerError", "message": "minting failed"})
            doc = {"AccessKeyId": g.key_id, "SecretAccessKey": g.secret, "Token": g.token,
                   "Expiration": iso(g.expires), "RoleArn": minter.role_arn(), "AccountId": ACCOUNT}
            if g.token is None:
                del doc["Token"]
            return self._json(200, doc)

        # STS
        def _sts_error(self, status, code, msg):
            body = (f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
                    f"<Message>{escape(msg)}</Message></Error><RequestId>{rand(string.hexdigits.lower(), 32)}"
                    f"</RequestId></ErrorResponse>")
            return self._send(status, body, "text/xml")

        def _sts(self, body):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            get = lambda k: form.get(k, [None])[0]  # noqa: E731
            action = get("Action")
            self._fields["action"] = action
            if action == "AssumeRole" and minter.iam is not None:
                return self._forward_to_moto(body)
            if action not in ("AssumeRoleWithWebIdentity", "AssumeRole"):
                return self._sts_error(400, "InvalidAction", f"unsupported action {action!r}")
            role_arn, session = get("RoleArn"), get("RoleSessionName")
            token = get("WebIdentityToken")
            missing = [k for k, v in (("RoleArn", role_arn), ("RoleSessionName", session)) if not v]
            if action == "AssumeRoleWithWebIdentity" and not token:
                missing.append("WebIdentityToken")
            with state.lock:
                if role_arn:
                    state.role_arns.append(role_arn)
                if session:
                    state.session_names.append(session)
                if action == "AssumeRoleWithWebIdentity" and token is not None:
                    state.web_identity_tokens.append(token)
            self._fields.update(role_arn=role_arn, session_name=session,
                                web_identity_token=fakeutil.token_hash(token))
            if missing:
                return self._sts_error(400, "ValidationError", f"missing {', '.join(missing)}")
            g = self._serve_creds()
            if g is None:
                return self._sts_error(500, "InternalFailure", "minting failed")
            role_name = role_arn.rsplit("/", 1)[-1]
            result = (f"<Credentials><AccessKeyId>{g.key_id}</AccessKeyId>"
                      f"<SecretAccessKey>{escape(g.secret)}</SecretAccessKey>"
                      f"<SessionToken>{escape(g.token or '')}</SessionToken>"
                      f"<Expiration>{iso(g.expires)}</Expiration></Credentials>"
                      f"<AssumedRoleUser><Arn>arn:aws:sts::{ACCOUNT}:assumed-role/{escape(role_name)}/"
                      f"{escape(session)}</Arn><AssumedRoleId>AROAFAKE{g.n:012d}:{escape(session)}"
                      f"</AssumedRoleId></AssumedRoleUser>")
            if action == "AssumeRoleWithWebIdentity":
                result += ("<SubjectFromWebIdentityToken>system:serviceaccount:default:usersvc"
                           "</SubjectFromWebIdentityToken><Provider>oidc.fake.local</Provider>"
                           "<Audience>sts.amazonaws.com</Audience>")
            xml = (f'<{action}Response xmlns="{STS_NS}"><{action}Result>{result}</{action}Result>'
                   f"<ResponseMetadata><RequestId>{rand(string.hexdigits.lower(), 32)}</RequestId>"
                   f"</ResponseMetadata></{action}Response>")
            return self._send(200, xml, "text/xml")

        def _forward_to_moto(self, body):
            """AssumeRole, signed by the caller: moto checks the signature and answers."""
            auth = self.headers.get("Authorization", "")
            kid = auth.partition("Credential=")[2].partition("/")[0]
            self._fields["signed_by"] = kid or None
            hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
            req = urllib.request.Request(args.moto_url.rstrip("/") + "/", data=body, headers=hdrs, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    status, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "text/xml")
            except urllib.error.HTTPError as e:
                status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "text/xml")
            except OSError as e:
                return self._sts_error(502, "InternalFailure", f"moto unreachable: {e}")
            if status == 200 and args.secrets_out:
                import re

                with open(args.secrets_out, "a") as f:
                    for tag in ("SecretAccessKey", "SessionToken"):
                        mm = re.search(rf"<{tag}>([^<]+)</{tag}>".encode(), data)
                        if mm:
                            f.write(mm.group(1).decode() + "\n")
            if status == 200:
                import re

                mm = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", data)
                self._fields["access_key_id"] = mm.group(1).decode() if mm else None
            self._fields["forwarded"] = True
            return self._send(status, data, ctype)

    return H


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *a, **kw):
        self.slots = threading.BoundedSemaphore(fakeutil.MAX_CONNS)
        super().__init__(*a, **kw)

    def process_request(self, request, client_address):
        self.slots.acquire()  # at most MAX_CONNS handler threads
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fakeutil.add_common_args(p)
    p.add_argument("--moto-url", help="mint keys through this moto (with --creds-file)")
    p.add_argument("--creds-file", help="moto_server.py --admin-creds-file output (iam:*, sts:* key)")
    p.add_argument("--mint", choices=("sts", "iam"), default="sts",
                   help="sts: session credentials from moto's AssumeRole (default); iam: access keys, no token")
    p.add_argument("--expires-in", type=float, default=3600.0, help="Expiration = issue time + this")
    p.add_argument("--refresh-margin", type=float, help="mint anew when fewer seconds are left (default expires-in/2)")
    p.add_argument("--revoke-after", type=float, help="revoke a generation this long after it was superseded")
    p.add_argument("--role-name", default="usersvc-role", help="IMDS role name")
    p.add_argument("--container-path", default="/v2/credentials/usersvc")
    p.add_argument("--auth-token", help="container endpoint: required Authorization header value")
    p.add_argument("--delay", type=float, default=0.0, help="hold each credentials answer this long")
    p.add_argument("--secrets-out", help="append each issued secret key and session token here")
    args = p.parse_args(argv)
    fakeutil.check_loopback(p, args.host)
    if bool(args.moto_url) != bool(args.creds_file):
        p.error("--moto-url and --creds-file go together")
    if args.moto_url and not fakeutil.is_loopback(urllib.parse.urlsplit(args.moto_url).hostname or ""):
        p.error("--moto-url must be a loopback URL")
    if args.expires_in <= 0 or not 0 <= args.delay <= 60:
        p.error("--expires-in must be > 0 and --delay within 0..60")
    if args.refresh_margin is None:
        args.refresh_margin = args.expires_in / 2
    if not args.container_path.startswith("/") or args.container_path.startswith(("/latest/", "/_fake/")):
        p.error("--container-path must be an absolute path outside /latest/ and /_fake/")

    log = fakeutil.JsonLog("fake_metadata", args.log)
    fakeutil.install_process_guards(args, log)
    try:
        minter = Minter(args, log)
    except Exception as e:
        log.note(f"cannot reach moto's IAM/STS with the admin key: {e!r}")
        return 1
    state = State()
    srv = Server((args.host, args.port), make_handler(args, minter, state, log))

    def ticker():  # revocations happen on time even when nobody fetches
        while True:
            time.sleep(0.5)
            minter.tick()

    if args.revoke_after is not None:
        threading.Thread(target=ticker, daemon=True).start()
    fakeutil.announce_ready(args, srv.server_address[1], log,
                            f"mint={args.mint}{' via ' + args.moto_url if args.moto_url else ' (offline keys)'}")
    try:
        srv.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
