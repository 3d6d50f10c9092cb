#!/usr/bin/env python3
"""A JWKS endpoint for the auth tests: GET /jwks.json answers the current
contents of --jwks-file (re-read on every request, so a test rotates keys by
rewriting the file) with Cache-Control: max-age=--max-age. GET /_fake/stats
answers {"fetches": N}. Common options (loopback only, --ready-file, --log,
--exit-with-parent) as in fakeutil.py; the log holds paths and statuses only.
"""

import argparse
import json
import sys
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import fakeutil


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    fakeutil.add_common_args(p)
    p.add_argument("--jwks-file", required=True)
    p.add_argument("--max-age", type=int, default=3600)
    args = p.parse_args(argv)
    fakeutil.check_loopback(p, args.host)
    log = fakeutil.JsonLog("fake_jwks", args.log)
    fakeutil.install_process_guards(args, log)
    lock = threading.Lock()
    stats = {"fetches": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, body, extra=()):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            log.event(path=self.path, status=status)

        def do_GET(self):
            if self.path == "/jwks.json":
                with lock:
                    stats["fetches"] += 1
                try:
                    with open(args.jwks_file) as f:
                        body = f.read()
                except OSError:
                    return self.answer(500, '{"error":"no jwks file"}')
                return self.answer(200, body, [("Cache-Control", f"public, max-age={args.max_age}")])
            if self.path == "/_fake/stats":
                with lock:
                    return self.answer(200, json.dumps(stats))
            return self.answer(404, "{}")

    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    fakeutil.announce_ready(args, srv.server_address[1], log, "jwks")
    try:
        srv.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
