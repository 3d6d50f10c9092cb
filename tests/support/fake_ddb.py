#!/usr/bin/env python3
"""A fake DynamoDB endpoint that injects faults, for the e2e tests.

    fake_ddb.py --port 0 --ready-file PATH --mode MODE [--count-file PATH] [--delay-ms N]

Speaks just enough of the DynamoDB JSON protocol (POST /, X-Amz-Target,
application/x-amz-json-1.0) to make a client see one kind of failure.
Signatures are not checked. HTTP/1.1 with keep-alive; every answer has a
Content-Length.

Modes:
  ok          valid canned answers: DescribeTable -> an ACTIVE table with an
              ACTIVE email-index GSI; GetItem -> {}; anything else -> {}
  throttle    every request: 400 ThrottlingException "Rate exceeded"
  hang        reads the request and never answers, until the client goes away
  html500     500 with an HTML body (Content-Type: text/html)
  forbidden403  403 with an HTML body and no __type, as a proxy in front of
              DynamoDB answers (Content-Type: text/html)
  validation  400 ValidationException, "Message" (capital M) "1 validation
              error detected"
  garbage200  200 with the body "not json"
  itemsize    TransactWriteItems/PutItem/UpdateItem: 400 ValidationException
              "Item size has exceeded the maximum allowed size"; others as ok
  badcrc      as ok, every answer with an x-amz-crc32 header (zlib's CRC-32 of
              the body, as DynamoDB sends it), wrong on every GetItem answer
  badcrc2     as badcrc, but wrong on the first 2 GetItem answers only: a
              client that retries a CRC mismatch gets the third one right

--delay-ms N waits N ms before every answer (a slow but working backend).
--ready-file gets the listening port once the socket listens (written
atomically). --count-file gets, after every request is read (before it is
answered), a JSON object of request counts per X-Amz-Target value, e.g.
{"DynamoDB_20120810.GetItem": 4}, also written atomically.
Stops cleanly on SIGTERM/SIGINT.
"""
import argparse
import json
import os
import select
import signal
import socket
import sys
import time
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "throttle", "hang", "html500", "forbidden403", "validation", "garbage200", "itemsize",
         "badcrc", "badcrc2")
JSON_CT = "application/x-amz-json-1.0"
WRITE_TARGETS = ("TransactWriteItems", "PutItem", "UpdateItem")


def write_atomic(path, text):
    tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class State:
    def __init__(self, mode, count_file):
        self.mode = mode
        self.count_file = count_file
        self.lock = threading.Lock()
        self.counts = {}
        self.bad_crc_left = {"badcrc": -1, "badcrc2": 2}.get(mode, 0)  # -1: always
        self.stopping = threading.Event()

    def count(self, target):
        with self.lock:
            self.counts[target] = self.counts.get(target, 0) + 1
            if self.count_file:
                write_atomic(self.count_file, json.dumps(self.counts, sort_keys=True) + "\n")


def ok_answer(operation, request):
    if operation == "DescribeTable":
        name = request.get("TableName", "Users") if isinstance(request, dict) else "Users"
        table = {
            "TableName": name,
            "TableStatus": "ACTIVE",
            "TableArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "email", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": [{
                "IndexName": "email-index",
                "IndexStatus": "ACTIVE",
                "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            "ItemCount": 0,
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        }
        return 200, JSON_CT, json.dumps({"Table": table})
    return 200, JSON_CT, "{}"


def fault_answer(mode, operation, request):
    """(status, content type, body) for one request, or None to hang."""
    if mode == "throttle":
        return 400, JSON_CT, json.dumps({
            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": "Rate exceeded"})
    if mode == "hang":
        return None
    if mode == "html500":
        return 500, "text/html", "<html><body>Internal error</body></html>"
    if mode == "forbidden403":
        return 403, "text/html; charset=utf-8", \
            "<html><body><h1>403 Forbidden</h1>Request blocked by proxy policy</body></html>"
    if mode == "validation":
        return 400, JSON_CT, json.dumps({
            "__type": "com.amazon.coral.validate#ValidationException",
            "Message": "1 validation error detected"})
    if mode == "garbage200":
        return 200, JSON_CT, "not json"
    if mode == "itemsize" and operation in WRITE_TARGETS:
        return 400, JSON_CT, json.dumps({
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "Item size has exceeded the maximum allowed size"})
    return ok_answer(operation, request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def version_string(self):
        return "fake-ddb/1"

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write("fake_ddb: %s\n" % (fmt % args))

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                n = 0
            return self.rfile.read(n) if n > 0 else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def _send(self, status, content_type, body, crc=None):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if crc is not None:  # "bad": a CRC-32 that is not the body's
            good = zlib.crc32(data)
            self.send_header("x-amz-crc32", str(good ^ 0x5A5A5A5A if crc == "bad" else good))
        self.send_header("x-amzn-RequestId", "FAKE0000000000000000000000000000000000000000000000")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _hang(self):
        """Answers nothing; returns when the peer closes (or the server stops)."""
        sock = self.connection
        while not self.server.state.stopping.is_set():
            try:
                readable, _, _ = select.select([sock], [], [], 0.2)
            except (OSError, ValueError):
                break
            if not readable:
                continue
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:  # the client went away
                break
            # More bytes (another request on the same connection): ignore them.
        self.close_connection = True

    def do_POST(self):
        body = self._read_body()
        target = self.headers.get("X-Amz-Target", "")
        operation = target.rpartition(".")[2]
        self.server.state.count(target)
        try:
            request = json.loads(body.decode("utf-8")) if body else {}
        except (ValueError, UnicodeDecodeError):
            request = None
        answer = fault_answer(self.server.state.mode, operation, request)
        if self.server.delay_s > 0:
            time.sleep(self.server.delay_s)
        if answer is None:
            self._hang()
            return
        crc = None
        state = self.server.state
        if state.mode in ("badcrc", "badcrc2"):
            crc = "good"
            with state.lock:
                if operation == "GetItem" and state.bad_crc_left != 0:
                    crc = "bad"
                    state.bad_crc_left -= 1 if state.bad_crc_left > 0 else 0
        self._send(*answer, crc=crc)

    def do_GET(self):
        self.server.state.count("GET " + self.path)
        self._send(200, "text/plain", "fake DynamoDB\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer is expected; keep the log clean.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError, socket.timeout)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="fault-injecting fake DynamoDB")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file")
    ap.add_argument("--mode", choices=MODES, default="ok")
    ap.add_argument("--count-file")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    server = Server((args.host, args.port), Handler)
    server.state = State(args.mode, args.count_file)
    server.delay_s = args.delay_ms / 1000.0
    server.verbose = args.verbose
    if args.count_file:
        write_atomic(args.count_file, "{}\n")

    def stop(signum, frame):
        server.state.stopping.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    if args.ready_file:
        write_atomic(args.ready_file, f"{port}\n")
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.state.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
