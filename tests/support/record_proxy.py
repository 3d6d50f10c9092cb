#!/usr/bin/env python3
"""A recording HTTP/1.1 proxy: what the e2e suite's main-service traffic goes through, so that
tests/contract/check_exchanges.mjs can check every request and response against the OpenAPI
document (config/openapi.json).

    record_proxy.py --upstream 127.0.0.1:PORT --out exchanges.jsonl [fakeutil options]

It is transparent: each client connection gets a connection of its own to the upstream and the
bytes are copied both ways unchanged, as they come (so Expect: 100-continue, keep-alive,
pipelining, chunked bodies and HEAD behave exactly as without it). It only keeps a copy of both
byte streams; when the connection ends (or the proxy is stopped with SIGTERM) it splits them into
HTTP/1.1 messages (Content-Length, chunked, close-delimited; HEAD, 1xx, 204 and 304 without a
body) and appends one JSON line per exchange to --out:

    {"conn": N, "seq": I, "method": "GET", "target": "/users?limit=2", "version": "HTTP/1.1",
     "requestHeaders": [[name, value], ...], "requestBody": TEXT or null,
     "status": 200 or null, "responseHeaders": [...], "responseBody": TEXT or null,
     "problem": null or why the streams did not split into whole messages}

Bodies that are not UTF-8 are written as "base64:..." text. A request with no answer has status
null. Listens on loopback only; the common options (--host, --port, --ready-file, --log,
--exit-with-parent, --max-seconds) are fakeutil's.
"""

import argparse
import base64
import json
import os
import selectors
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeutil  # noqa: E402

IDLE_TIMEOUT = 120.0  # the service closes idle keep-alive connections itself after 60 s


def _text(body):
    if body is None:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(body).decode("ascii")


def _head(buf, pos):
    """(start line, [[name, value]], position after the head), or None when incomplete."""
    end = buf.find(b"\r\n\r\n", pos)
    if end < 0:
        return None
    lines = buf[pos:end].decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append([name.strip(), value.strip(" \t")])
    return lines[0], headers, end + 4


def _get(headers, name):
    values = [v for k, v in headers if k.lower() == name]
    return values


def _chunked(buf, pos):
    """(body, position after the trailers), or None when incomplete."""
    out = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(buf[pos:eol].split(b";")[0].strip() or b"0", 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)  # trailers, possibly none
            return (bytes(out), end + 4) if end >= 0 else None
        if len(buf) < pos + size + 2:
            return None
        out += buf[pos:pos + size]
        pos += size + 2


def _body(buf, pos, headers, close_delimited):
    """(body or None, next position), or None when incomplete. Raises ValueError on framing the
    proxy cannot split (the edge tests send those straight to the service, not through here)."""
    te = _get(headers, "transfer-encoding")
    if te:
        if [t.lower() for t in te] != ["chunked"]:
            raise ValueError(f"Transfer-Encoding {te}")
        return _chunked(buf, pos)
    cl = _get(headers, "content-length")
    if cl:
        if len(set(cl)) != 1:
            raise ValueError(f"Content-Length {cl}")
        n = int(cl[0])
        return (bytes(buf[pos:pos + n]), pos + n) if len(buf) >= pos + n else None
    if close_delimited:
        return bytes(buf[pos:]), len(buf)
    return None, pos


def split_exchanges(up, down):
    """Splits the client's bytes (up) and the service's (down) into exchanges (dicts as in the
    module's docstring)."""
    exchanges, problem = [], None
    pos = 0
    try:
        while pos < len(up):
            h = _head(up, pos)
            if h is None:
                problem = "the client's last request is incomplete"
                break
            start, headers, pos = h
            parts = start.split(" ")
            if len(parts) != 3:
                raise ValueError(f"request line {start!r}")
            b = _body(up, pos, headers, close_delimited=False)
            if b is None:
                problem = "the client's last request body is incomplete"
                body = bytes(up[pos:])
                pos = len(up)
            else:
                body, pos = b
            exchanges.append({"method": parts[0], "target": parts[1], "version": parts[2],
                              "requestHeaders": headers, "requestBody": _text(body) if body else None,
                              "status": None, "responseHeaders": None, "responseBody": None})
        pos, i = 0, 0
        while pos < len(down) and i < len(exchanges):
            h = _head(down, pos)
            if h is None:
                problem = "the service's last response is incomplete"
                break
            start, headers, pos = h
            status = int(start.split(" ")[1])
            if 100 <= status < 200:
                continue  # 100 Continue: an interim answer, the final one follows
            ex = exchanges[i]
            if ex["method"] == "HEAD" or status in (204, 304):
                b = (None, pos)
            else:
                b = _body(down, pos, headers, close_delimited=True)
            if b is None:
                problem = "the service's last response body is incomplete"
                break
            body, pos = b
            ex.update(status=status, responseHeaders=headers, responseBody=_text(body) if body else None)
            i += 1
        if pos < len(down):
            problem = problem or f"{len(down) - pos} bytes from the service after the last response"
    except (ValueError, IndexError) as e:
        problem = f"cannot split the streams: {e}"
    return exchanges, problem


class Recorder:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1)
        self.next_conn = 0
        self.live = {}  # conn number -> (up, down) buffers of connections still open

    def open_conn(self):
        with self.lock:
            self.next_conn += 1
            n = self.next_conn
            self.live[n] = (bytearray(), bytearray())
            return n, self.live[n]

    def close_conn(self, n):
        with self.lock:
            bufs = self.live.pop(n, None)
        if bufs is not None:
            self._write(n, *bufs)

    def flush_all(self):
        with self.lock:
            live = sorted(self.live.items())
            self.live.clear()
        for n, bufs in live:
            self._write(n, *bufs)

    def _write(self, n, up, down):
        if not up:
            return
        exchanges, problem = split_exchanges(bytes(up), bytes(down))
        lines = []
        for i, ex in enumerate(exchanges):
            last = i == len(exchanges) - 1
            lines.append(json.dumps({"conn": n, "seq": i, **ex, "problem": problem if last else None},
                                    separators=(",", ":")) + "\n")
        if not exchanges:
            lines.append(json.dumps({"conn": n, "seq": 0, "problem": problem or "no request"}) + "\n")
        with self.lock:
            self.f.write("".join(lines))


def handle(conn, upstream, rec, log):
    n, (up, down) = rec.open_conn()
    try:
        svc = socket.create_connection(upstream, timeout=10)
    except OSError as e:
        log.note(f"connection {n}: upstream {upstream}: {e}")
        conn.close()
        rec.close_conn(n)
        return
    for s in (conn, svc):  # relay each piece at once: Nagle + delayed ACKs would add 40 ms stalls
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sel = selectors.DefaultSelector()
    peer = {conn: svc, svc: conn}
    tee = {conn: up, svc: down}
    for s in (conn, svc):
        sel.register(s, selectors.EVENT_READ)
    open_dirs = {conn, svc}
    unwritable = set()  # peers a send failed to: what comes for them is dropped, the other way goes on
    try:
        while open_dirs:
            ready = sel.select(IDLE_TIMEOUT)
            if not ready:
                break
            for key, _ in ready:
                src = key.fileobj
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(src)
                    open_dirs.discard(src)
                    try:
                        peer[src].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                tee[src] += data  # only this thread appends; flush_all reads it at the very end
                if peer[src] in unwritable:
                    continue
                try:
                    peer[src].sendall(data)
                except OSError:
                    # The service answered early (413 before the body) and closed: its answer may
                    # still be waiting to be read and passed on, so keep relaying the other way.
                    unwritable.add(peer[src])
    finally:
        sel.close()
        conn.close()
        svc.close()
        rec.close_conn(n)
        log.event(conn=n, up=len(up), down=len(down))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    fakeutil.add_common_args(p)
    p.add_argument("--upstream", required=True, help="HOST:PORT of the service (loopback)")
    p.add_argument("--out", required=True, help="append one JSON line per exchange here")
    args = p.parse_args()
    fakeutil.check_loopback(p, args.host)
    host, _, port = args.upstream.rpartition(":")
    fakeutil.check_loopback(p, host)
    log = fakeutil.JsonLog("record_proxy", args.log)
    fakeutil.install_process_guards(args, log)
    rec = Recorder(args.out)
    lsock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(256)
    fakeutil.announce_ready(args, lsock.getsockname()[1], log, "recording proxy")
    try:
        fakeutil.serve_connections(lsock, lambda c, _peer: handle(c, (host, int(port)), rec, log))
    finally:
        rec.flush_all()


if __name__ == "__main__":
    main()
