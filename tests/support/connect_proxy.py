#!/usr/bin/env python3
"""Loopback HTTP proxy that counts what goes through it: for "requests go
through HTTPS_PROXY, and not when NO_PROXY matches".

Usage:
  connect_proxy.py [--host 127.0.0.1] [--port 0] [--ready-file PATH] [--log PATH]
                   [--exit-with-parent] [--max-seconds S]

What it proxies (only to loopback targets: anything else gets 403, so nothing
can leave the machine through it):
  CONNECT host:port HTTP/1.1   -> "200 Connection established", then a byte
                                  relay (how curl/libcurl reach https:// URLs and,
                                  with proxytunnel, others)
  GET http://host:port/path ...  absolute-URI forwarding (how curl sends http://
                                  URLs through HTTP_PROXY): the request goes to
                                  host:port in origin form with Proxy-* and
                                  hop-by-hop headers dropped and "Connection:
                                  close", the answer is relayed until the
                                  upstream closes, then the client connection is
                                  closed (no keep-alive on this path).
  GET /_proxy/stats              (origin form, i.e. asked of the proxy itself)
                                  {"connect":{"host:port":n}, "forward":{"host:port":n},
                                   "refused":n, "total":n}
  POST /_proxy/reset             zero the counters
Each proxied request is one JSON line in --log: {"event":"connect"|"forward",
"target":"host:port","method","status","up","down"}: no path, query or header,
so no signature, token or email is ever written.

How an e2e test uses it:
  start_fake proxy connect_proxy.py
  service with HTTPS_PROXY=http://127.0.0.1:$FAKE_PORT (and an https endpoint, e.g.
  tls_proxy.py's) or HTTP_PROXY for an http:// one: after some CRUD,
  curl http://127.0.0.1:$FAKE_PORT/_proxy/stats shows connect["127.0.0.1:PORT"] > 0;
  with NO_PROXY=127.0.0.1 as well: it stays 0.
"""

import argparse
import json
import socket
import sys
import threading
import urllib.parse

import fakeutil

HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
       "te", "trailer", "upgrade"}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.connect, self.forward, self.refused, self.total = {}, {}, 0, 0

    def add(self, kind, target):
        with self.lock:
            self.total += 1
            if kind == "refused":
                self.refused += 1
            else:
                d = self.connect if kind == "connect" else self.forward
                d[target] = d.get(target, 0) + 1

    def json(self):
        with self.lock:
            return {"connect": dict(self.connect), "forward": dict(self.forward),
                    "refused": self.refused, "total": self.total}


def read_head(sock, limit=65536):
    """Bytes up to and including the blank line, plus whatever followed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(8192)
        if not chunk:
            return None, b""
        buf += chunk
        if len(buf) > limit:
            return None, b""
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def answer(sock, status, reason, body=b"", ctype="text/plain"):
    sock.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                 f"Connection: close\r\n\r\n".encode() + body)


def split_target(hostport, default_port):
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    return host, int(port) if port else default_port


def resolves_to_loopback(host):
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(fakeutil.is_loopback(i[4][0]) for i in infos)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fakeutil.add_common_args(p)
    args = p.parse_args(argv)
    fakeutil.check_loopback(p, args.host)
    log = fakeutil.JsonLog("connect_proxy", args.log)
    fakeutil.install_process_guards(args, log)
    stats = Stats()

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(128)
    def serve(c, _peer):
        fields = {}
        up = None
        try:
            c.settimeout(fakeutil.IO_TIMEOUT)
            head, rest = read_head(c)
            if head is None:
                return
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                answer(c, 400, "Bad Request")
                return
            method, target, version = parts
            headers = [ln for ln in lines[1:] if ln]

            if method != "CONNECT" and target.startswith("/"):  # asked of the proxy itself
                fields = None  # control requests are not logged
                if method == "GET" and target == "/_proxy/stats":
                    answer(c, 200, "OK", json.dumps(stats.json()).encode() + b"\n", "application/json")
                elif method == "POST" and target == "/_proxy/reset":
                    stats.reset()
                    answer(c, 200, "OK", b'{"status":"ok"}\n', "application/json")
                else:
                    answer(c, 404, "Not Found")
                return

            if method == "CONNECT":
                host, port = split_target(target, 443)
                kind = "connect"
            else:
                u = urllib.parse.urlsplit(target)
                if u.scheme != "http" or not u.hostname:
                    answer(c, 400, "Bad Request", b"absolute http:// URI or CONNECT expected\n")
                    return
                host, port = u.hostname, u.port or 80
                kind = "forward"
            tgt = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            fields.update(event=kind, method=method, target=tgt)
            if not resolves_to_loopback(host):
                stats.add("refused", tgt)
                fields["status"] = 403
                answer(c, 403, "Forbidden", b"this test proxy only reaches loopback targets\n")
                return
            try:
                up = socket.create_connection((host, port), timeout=10)
            except OSError as e:
                stats.add(kind, tgt)
                fields.update(status=502, error=str(e))
                answer(c, 502, "Bad Gateway")
                return
            stats.add(kind, tgt)

            if method == "CONNECT":
                c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                fields["status"] = 200
                if rest:
                    up.sendall(rest)
            else:
                path = u.path or "/"
                if u.query:
                    path += "?" + u.query
                kept = [h for h in headers if h.split(":", 1)[0].strip().lower() not in HOP]
                up.sendall(("\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
                            + "\r\n\r\n").encode("latin-1") + rest)
            fields["up"], fields["down"] = fakeutil.relay(c, up)
        except OSError as e:
            if fields is not None:
                fields["error"] = str(e)
        finally:
            for s in (up, c):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
            if fields:
                log.event(**fields)

    fakeutil.announce_ready(args, lsock.getsockname()[1], log, "CONNECT/forward proxy")
    fakeutil.serve_connections(lsock, serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
