#!/usr/bin/env python3
"""Self-test of the loopback stand-ins: fake_metadata.py, tls_proxy.py, connect_proxy.py.

Usage:
  fakes_selftest.py            starts its own moto (moto_server.py --auth) on loopback
  E2E_MOTO_URL=http://127.0.0.1:PORT E2E_MOTO_ADMIN_CREDS=FILE E2E_AWS_ACCESS_KEY_ID=..
  E2E_AWS_SECRET_ACCESS_KEY=.. fakes_selftest.py      uses that moto instead (as
                               tests/e2e/test_support_fakes.sh does under run.sh)

Prints one "PASS msg" / "FAIL msg" line per check and exits 1 on any failure.
Each check talks to moto with SigV4 verification on, through boto3 (or curl for
the proxy's plain-HTTP path): keys from the fake IMDSv2, container endpoint and
STS work for DynamoDB; stale keys fail after rotation; boto3 reaches moto through
tls_proxy.py with verify=ca.pem and is refused without; curl and boto3 go through
connect_proxy.py, which counts them.  About 10 s.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import botocore.config
from botocore import UNSIGNED
from botocore.exceptions import ClientError, SSLError

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = {"PASS": 0, "FAIL": 0}
PROCS = []


def rec(ok, msg):
    RESULTS["PASS" if ok else "FAIL"] += 1
    print(f"{'PASS' if ok else 'FAIL'} selftest: {msg}", flush=True)


def start(tmp, name, script, *args):
    ready = os.path.join(tmp, f"{name}.port")
    logf = open(os.path.join(tmp, f"{name}.stderr"), "w")
    bound = [] if script == "moto_server.py" else ["--max-seconds", "300"]
    p = subprocess.Popen([sys.executable, os.path.join(HERE, script), "--port", "0", "--ready-file", ready,
                          "--exit-with-parent", *bound, *args],
                         stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    PROCS.append(p)
    for _ in range(300):
        if os.path.exists(ready):
            return int(open(ready).read())
        if p.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start: {open(logf.name).read()[-2000:]}")


def http(method, url, headers=None, data=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


CFG = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=15)


def ddb(url, kid, secret, token=None, **kw):
    kw.setdefault("config", CFG)
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id=kid,
                        aws_secret_access_key=secret, aws_session_token=token, **kw)


def ddb_status(url, kid, secret, token=None, **kw):
    """HTTP status of a ListTables signed with these keys (0: no answer)."""
    try:
        ddb(url, kid, secret, token, **kw).list_tables()
        return 200
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]


def creds_file(path):
    d = {}
    for line in open(path):
        if "=" in line:
            k, v = line.strip().split("=", 1)
            d[k] = v
    return d


def main():
    tmp = tempfile.mkdtemp(prefix="fakes-selftest.")
    moto = os.environ.get("E2E_MOTO_URL")
    admin_file = os.environ.get("E2E_MOTO_ADMIN_CREDS")
    if moto and admin_file:
        dkey = {"AWS_ACCESS_KEY_ID": os.environ["E2E_AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": os.environ["E2E_AWS_SECRET_ACCESS_KEY"]}
    else:
        admin_file = os.path.join(tmp, "admin.creds")
        port = start(tmp, "moto", "moto_server.py", "--auth", "--quiet", "--creds-file",
                     os.path.join(tmp, "moto.creds"), "--admin-creds-file", admin_file)
        moto = f"http://127.0.0.1:{port}"
        dkey = creds_file(os.path.join(tmp, "moto.creds"))
    mport = int(moto.rsplit(":", 1)[1])
    table = f"fakes-selftest-{os.getpid()}"
    ddb(moto, dkey["AWS_ACCESS_KEY_ID"], dkey["AWS_SECRET_ACCESS_KEY"]).create_table(
        TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")

    # ---- fake_metadata.py, sts mode, rotation and revocation ---------------------------
    secrets_out = os.path.join(tmp, "secrets")
    flog = os.path.join(tmp, "meta.log")
    fport = start(tmp, "meta", "fake_metadata.py", "--moto-url", moto, "--creds-file", admin_file,
                  "--expires-in", "4", "--refresh-margin", "2", "--revoke-after", "1",
                  "--auth-token", "Bearer sekrit", "--secrets-out", secrets_out, "--log", flog)
    F = f"http://127.0.0.1:{fport}"

    st, _ = http("GET", F + "/latest/meta-data/iam/security-credentials/")
    rec(st == 401, f"IMDS GET without a token: 401 (got {st})")
    st, _ = http("PUT", F + "/latest/api/token")
    rec(st == 400, f"IMDS token PUT without a TTL header: 400 (got {st})")
    st, tok = http("PUT", F + "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    rec(st == 200 and len(tok) > 20, f"IMDS token PUT: 200 and a token (got {st})")
    H = {"X-aws-ec2-metadata-token": tok}
    st, role = http("GET", F + "/latest/meta-data/iam/security-credentials/", H)
    rec(st == 200 and role == "usersvc-role", f"IMDS role name (got {st} {role!r})")
    st, body = http("GET", F + "/latest/meta-data/iam/security-credentials/" + role, H)
    doc = json.loads(body) if st == 200 else {}
    rec(st == 200 and doc.get("Code") == "Success" and doc.get("Type") == "AWS-HMAC"
        and doc.get("AccessKeyId", "").startswith("ASIA") and doc.get("Token") and doc.get("Expiration", "").endswith("Z"),
        f"IMDS credentials document (got {st}, keys {sorted(doc)})")
    c1 = doc
    k1 = (c1["AccessKeyId"], c1["SecretAccessKey"], c1["Token"])
    d = ddb(moto, *k1)
    d.put_item(TableName=table, Item={"id": {"S": "imds"}})
    got = d.get_item(TableName=table, Key={"id": {"S": "imds"}}).get("Item")
    rec(got == {"id": {"S": "imds"}}, "IMDS keys: PutItem + GetItem against moto with auth on")
    rec(ddb_status(moto, k1[0], k1[1]) == 403, "IMDS keys without their session token: 403 from moto")
    rec(ddb_status(moto, k1[0], k1[1], "wrong") == 403, "IMDS keys with a wrong session token: 403 from moto")

    st, body = http("GET", F + "/v2/credentials/usersvc")
    rec(st == 401, f"container endpoint without Authorization: 401 (got {st})")
    st, body = http("GET", F + "/v2/credentials/usersvc", {"Authorization": "Bearer wrong"})
    rec(st == 401, f"container endpoint with a wrong Authorization: 401 (got {st})")
    st, body = http("GET", F + "/v2/credentials/usersvc", {"Authorization": "Bearer sekrit"})
    cdoc = json.loads(body) if st == 200 else {}
    rec(st == 200 and cdoc.get("AccessKeyId") == c1["AccessKeyId"] and cdoc.get("RoleArn"),
        f"container endpoint: 200, same generation as IMDS while fresh (got {st})")
    rec(ddb_status(moto, cdoc["AccessKeyId"], cdoc["SecretAccessKey"], cdoc["Token"]) == 200,
        "container keys: ListTables against moto with auth on")

    sts = boto3.client("sts", endpoint_url=F, region_name="us-east-1",
                       config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    role_arn = "arn:aws:iam::123456789012:role/usersvc-web"
    w = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="sess-1",
                                          WebIdentityToken="jwt-one")["Credentials"]
    rec(w["AccessKeyId"].startswith("ASIA") and w["SessionToken"], "fake STS AssumeRoleWithWebIdentity parsed by boto3")
    rec(ddb_status(moto, w["AccessKeyId"], w["SecretAccessKey"], w["SessionToken"]) == 200,
        "web identity keys: ListTables against moto with auth on")
    try:
        sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="sess-2", WebIdentityToken="")
        rec(False, "empty WebIdentityToken refused")
    except ClientError as e:
        rec(e.response["Error"]["Code"] == "ValidationError", f"empty WebIdentityToken: {e.response['Error']['Code']}")
    except Exception as e:  # botocore validates min length before sending
        rec("WebIdentityToken" in str(e), "empty WebIdentityToken refused by the client")

    # rotation: after expires-in - margin, a fetch mints new keys; revoke-after revokes the old ones
    time.sleep(2.3)
    st, body = http("GET", F + "/latest/meta-data/iam/security-credentials/" + role, H)
    c2 = json.loads(body)
    rec(c2["AccessKeyId"] != c1["AccessKeyId"], "a fetch near expiry mints new keys")
    w2 = sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="sess-3",
                                           WebIdentityToken="jwt-two")["Credentials"]
    time.sleep(1.8)  # revoke-after 1 s, ticker every 0.5 s
    rec(ddb_status(moto, c1["AccessKeyId"], c1["SecretAccessKey"], c1["Token"]) == 403,
        "superseded keys revoked after --revoke-after: 403 from moto")
    rec(ddb_status(moto, c2["AccessKeyId"], c2["SecretAccessKey"], c2["Token"]) == 200, "current keys still work")
    st, body = http("GET", F + "/_fake/stats")
    s = json.loads(body)
    rec(s["web_identity_tokens"] == ["jwt-one", "jwt-two"] or s["web_identity_tokens"][:1] == ["jwt-one"]
        and s["web_identity_tokens"][-1] == "jwt-two", f"stats record each WebIdentityToken ({s['web_identity_tokens']})")
    rec(s["requests"].get("/latest/api/token") == 2 and s["container_auth"] == {"ok": 1, "bad": 1, "missing": 1},
        f"stats count per path and container auth ({s['requests'].get('/latest/api/token')}, {s['container_auth']})")
    rec(s["mints"] == 2 and s["generations"][0]["revoked"] and w2["AccessKeyId"] == c2["AccessKeyId"],
        f"stats list generations ({s['mints']} mints)")

    # failure injection and revoke-on-demand
    st, _ = http("POST", F + "/_fake/fail?path=/v2/credentials/&count=2&status=503", data=b"")
    codes = [http("GET", F + "/v2/credentials/usersvc", {"Authorization": "Bearer sekrit"})[0] for _ in range(3)]
    rec(codes == [503, 503, 200], f"/_fake/fail count=2 status=503 (got {codes})")
    st, _ = http("POST", F + "/_fake/fail?path=/latest/meta-data/&count=1&status=200", data=b"{}")
    st, body = http("GET", F + "/latest/meta-data/iam/security-credentials/" + role, H)
    rec(st == 200 and body == "{}", "/_fake/fail serves a 200 without keys on demand")
    st, body = http("POST", F + "/_fake/revoke", data=b"")
    rec(ddb_status(moto, c2["AccessKeyId"], c2["SecretAccessKey"], c2["Token"]) == 403,
        "POST /_fake/revoke: current keys refused by moto")
    st, body = http("GET", F + "/latest/meta-data/iam/security-credentials/" + role, H)
    c3 = json.loads(body)
    rec(c3["AccessKeyId"] not in (c1["AccessKeyId"], c2["AccessKeyId"])
        and ddb_status(moto, c3["AccessKeyId"], c3["SecretAccessKey"], c3["Token"]) == 200,
        "after a revoke the next fetch mints working keys")

    # nothing secret in the fake's own log; every issued secret listed in --secrets-out
    logtext = open(flog).read()
    issued = [x for x in open(secrets_out).read().split("\n") if x]
    leaks = [x for x in issued if x in logtext] + [x for x in ("sekrit", "jwt-one", "jwt-two") if x in logtext]
    rec(len(issued) == 6 and not leaks, f"--secrets-out lists {len(issued)} secrets/tokens, none in --log")

    # ---- fake_metadata.py, iam mode --------------------------------------------------
    iport = start(tmp, "meta-iam", "fake_metadata.py", "--moto-url", moto, "--creds-file", admin_file,
                  "--mint", "iam", "--delay", "0.5")
    import threading

    ths = [threading.Thread(target=http, args=("GET", f"http://127.0.0.1:{iport}/v2/credentials/usersvc"))
           for _ in range(3)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    s = json.loads(http("GET", f"http://127.0.0.1:{iport}/_fake/stats")[1])
    rec(s["max_in_flight"].get("/v2/credentials/usersvc") == 3 and s["mints"] == 1,
        f"--delay: 3 concurrent fetches show max_in_flight 3, one mint ({s['max_in_flight']}, {s['mints']})")
    st, body = http("GET", f"http://127.0.0.1:{iport}/v2/credentials/usersvc")
    idoc = json.loads(body)
    rec(idoc["AccessKeyId"].startswith("AKIA") and "Token" not in idoc
        and ddb_status(moto, idoc["AccessKeyId"], idoc["SecretAccessKey"]) == 200,
        "--mint iam: an access key without a token, accepted by moto")
    rec(ddb_status(moto, idoc["AccessKeyId"], idoc["SecretAccessKey"], "x") == 403,
        "moto refuses an IAM key that carries any session token")
    http("POST", f"http://127.0.0.1:{iport}/_fake/revoke", data=b"")
    try:
        ddb(moto, idoc["AccessKeyId"], idoc["SecretAccessKey"]).list_tables()
        rec(False, "--mint iam revoke: deleted key refused")
    except ClientError as e:
        rec(e.response["ResponseMetadata"]["HTTPStatusCode"] == 403 and "InvalidClientTokenId" in str(e.response),
            "--mint iam revoke: deleted key gets 403 InvalidClientTokenId")

    # ---- STS AssumeRole forwarded to moto (signature verified there) -----------------------
    adm = creds_file(admin_file)
    asts = boto3.client("sts", endpoint_url=F, region_name="us-east-1", config=CFG,
                        aws_access_key_id=adm["AWS_ACCESS_KEY_ID"], aws_secret_access_key=adm["AWS_SECRET_ACCESS_KEY"])
    gen_role = json.loads(http("GET", F + "/_fake/stats")[1])["generations"][-1]
    try:
        bad = boto3.client("sts", endpoint_url=F, region_name="us-east-1", config=CFG,
                           aws_access_key_id=adm["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong")
        bad.assume_role(RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="ss")
        rec(False, "AssumeRole with a wrong secret refused (moto verifies through the fake)")
    except ClientError as e:
        rec(e.response["ResponseMetadata"]["HTTPStatusCode"] == 403,
            f"AssumeRole with a wrong secret: 403 {e.response['Error']['Code']} via the fake")
    del gen_role, asts

    # ---- tls_proxy.py ----------------------------------------------------------------
    cert_dir = os.path.join(tmp, "tls")
    tlog = os.path.join(tmp, "tls.log")
    tport = start(tmp, "tls", "tls_proxy.py", "--upstream", f"127.0.0.1:{mport}", "--cert-dir", cert_dir,
                  "--log", tlog)
    T = f"https://127.0.0.1:{tport}"
    ca = os.path.join(cert_dir, "ca.pem")
    try:
        ddb(T, dkey["AWS_ACCESS_KEY_ID"], dkey["AWS_SECRET_ACCESS_KEY"]).list_tables()
        rec(False, "boto3 through the TLS proxy without the CA: refused")
    except SSLError:
        rec(True, "boto3 through the TLS proxy without the CA: certificate verify failed")
    for host in ("127.0.0.1", "localhost"):
        d = ddb(f"https://{host}:{tport}", c3["AccessKeyId"], c3["SecretAccessKey"], c3["Token"], verify=ca)
        d.put_item(TableName=table, Item={"id": {"S": "tls-" + host}})
        got = d.get_item(TableName=table, Key={"id": {"S": "tls-" + host}}).get("Item")
        rec(got == {"id": {"S": "tls-" + host}}, f"boto3 via TLS proxy (https://{host}, verify=ca.pem): Put+Get, SigV4 verified by moto")
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", T + "/"],
                       capture_output=True, text=True)
    rec(r.returncode == 60, f"curl without --cacert: exit 60 (got {r.returncode})")
    tp2 = start(tmp, "tls-wrong", "tls_proxy.py", "--upstream", f"127.0.0.1:{mport}",
                "--cert-dir", os.path.join(tmp, "tls-wrong"), "--san", "wrong.example")
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "5", "--cacert",
                        os.path.join(tmp, "tls-wrong", "ca.pem"), f"https://127.0.0.1:{tp2}/"],
                       capture_output=True, text=True)
    rec(r.returncode == 60, f"--san wrong.example: host name check fails (curl exit {r.returncode})")
    tl = [json.loads(x) for x in open(tlog)]
    rec(any(x.get("tls") == "failed" for x in tl) and any(x.get("tls") == "ok" for x in tl),
        "tls_proxy log shows failed and ok handshakes")

    # ---- connect_proxy.py --------------------------------------------------------------
    pport = start(tmp, "proxy", "connect_proxy.py", "--log", os.path.join(tmp, "proxy.log"))
    P = f"http://127.0.0.1:{pport}"
    d = ddb(T, c3["AccessKeyId"], c3["SecretAccessKey"], c3["Token"], verify=ca,
            config=CFG.merge(botocore.config.Config(proxies={"https": P})))
    rec(d.list_tables()["TableNames"].count(table) == 1, "boto3 https through the CONNECT proxy (then TLS proxy, moto)")
    d = ddb(moto, c3["AccessKeyId"], c3["SecretAccessKey"], c3["Token"],
            config=CFG.merge(botocore.config.Config(proxies={"http": P})))
    rec(table in d.list_tables()["TableNames"], "boto3 http:// through the proxy (absolute-URI forwarding)")
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                        "--proxy", P, "--cacert", ca, T + "/moto-api/"], capture_output=True, text=True)
    rec(r.stdout == "200", f"curl https via the proxy (CONNECT): 200 (got {r.stdout} {r.stderr.strip()})")
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                        "--proxy", P, "--noproxy", "127.0.0.1", moto + "/moto-api/"], capture_output=True, text=True)
    rec(r.stdout == "200", "curl with --noproxy matching: 200, straight to moto")
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                        "--proxy", P, "http://192.0.2.1/"], capture_output=True, text=True)
    rec(r.stdout == "403", f"a non-loopback target is refused with 403 (got {r.stdout})")
    s = json.loads(http("GET", P + "/_proxy/stats")[1])
    tgt = f"127.0.0.1:{tport}"
    rec(s["connect"].get(tgt) == 2 and s["forward"].get(f"127.0.0.1:{mport}") == 1 and s["refused"] == 1,
        f"proxy stats: 2 CONNECTs to the TLS port, 1 forward, 1 refused; the --noproxy one absent ({s})")

    if RESULTS["FAIL"] or os.environ.get("E2E_KEEP_TMP"):
        print(f"selftest: files kept in {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"selftest: {RESULTS['PASS']} passed, {RESULTS['FAIL']} failed", file=sys.stderr)
    return 1 if RESULTS["FAIL"] or not RESULTS["PASS"] else 0


if __name__ == "__main__":
    try:
        rc = main()
    except Exception as e:
        import traceback

        traceback.print_exc()
        rec(False, f"aborted: {e!r}")
        rc = 1
    finally:
        for proc in PROCS:
            proc.terminate()
        for proc in PROCS:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    sys.exit(rc)
