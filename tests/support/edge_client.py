#!/usr/bin/env python3
"""Hostile and slow HTTP clients for the edge tests (tests/e2e/test_edge_*.sh).

Loopback only, every loop bounded in count and time. Each command prints one
JSON object on stdout for jq.

  raw HOST:PORT REQUEST        send REQUEST (Python escapes: \\r\\n, \\x00) on a fresh
                               connection, read until the server closes or 3 s pass:
                               {"responses": [status, ...], "closed": bool, "text": "..."}
  repeat HOST:PORT REQUEST N   raw, N times: {"statuses": {"200": N, ...}}
  trickle HOST:PORT N SECONDS  N connections each send one byte of a request head per
                               0.5 s; reports when the server closed them:
                               {"closed": k, "first": s, "last": s}
  hold HOST:PORT N MODE SRC... hold N connections open from the source addresses
                               SRC... (round robin); MODE idle = one request answered
                               then kept alive, silent = connected, nothing sent,
                               body = a POST head announcing 60000 bytes and one byte
                               of body (a body trickled just under the gap timeout). Then
                               time a new client from 127.0.0.1:
                               {"held": n, "refused": {"429": k}, "new_client_s": t,
                                "new_client_status": 200, "closed_to_make_room": k}
  overshare HOST:PORT OTHERS ADDR SHARE EXTRA
                               OTHERS kept-alive connections from 127.0.1.1-18, SHARE
                               from ADDR, then EXTRA more from ADDR (over its share):
                               {"others_closed": k}
"""
import json
import re
import socket
import sys
import time


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def unescape(text):
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def read_all(s, limit_s=3.0):
    s.settimeout(limit_s)
    out, closed = b"", False
    deadline = time.time() + limit_s
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    return out, closed


def raw(target, request):
    s = socket.create_connection(addr(target), timeout=5)
    s.sendall(unescape(request))
    out, closed = read_all(s)
    s.close()
    statuses = [int(m) for m in re.findall(rb"^HTTP/1\.[01] (\d{3}) ", out, re.M)]
    return {"responses": statuses, "closed": closed, "text": out.decode("latin-1")}


def repeat(target, request, n):
    counts = {}
    for _ in range(int(n)):
        r = raw(target, request)
        key = str(r["responses"][0]) if r["responses"] else "none"
        counts[key] = counts.get(key, 0) + 1
    return {"statuses": counts}


def trickle(target, n, seconds):
    n, seconds = int(n), float(seconds)
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 4000
    socks = []
    for _ in range(n):
        s = socket.create_connection(addr(target), timeout=5)
        s.setblocking(False)
        socks.append(s)
    t0, i, closed = time.time(), 0, {}
    while time.time() - t0 < seconds and len(closed) < n:
        for k, s in enumerate(socks):
            if k in closed:
                continue
            try:
                s.send(head[i:i + 1])
                if s.recv(100) == b"":
                    closed[k] = time.time() - t0
            except BlockingIOError:
                pass
            except OSError:
                closed[k] = time.time() - t0
        i += 1
        time.sleep(0.5)
    for s in socks:
        s.close()
    v = sorted(closed.values())
    return {"closed": len(v), "first": round(v[0], 2) if v else None, "last": round(v[-1], 2) if v else None}


def status_of(data):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return int(m.group(1)) if m else None


def hold(target, n, mode, *sources):
    n = int(n)
    socks, refused = [], {}
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sources[i % len(sources)], 0))
        s.settimeout(5)
        s.connect(addr(target))
        if mode == "idle":
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(b"}"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            st = status_of(data)
            if st != 200:
                refused[str(st)] = refused.get(str(st), 0) + 1
        elif mode == "body":
            s.sendall(b"POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 60000\r\n\r\n{")
        socks.append(s)
    time.sleep(0.3)
    t0 = time.time()
    c = socket.create_connection(addr(target), timeout=5)
    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    data, _ = read_all(c, 5)
    elapsed = time.time() - t0
    c.close()
    closed = count_closed(socks)
    for s in socks:
        s.close()
    return {"held": n, "refused": refused, "new_client_s": round(elapsed, 3), "new_client_status": status_of(data),
            "closed_to_make_room": closed}


def count_closed(socks):
    """How many of socks the server has closed (end of stream or reset), without waiting."""
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def overshare(target, others, greedy_addr, share, extra):
    """`others` kept-alive connections from 127.0.1.1-18, `share` from greedy_addr (its whole share),
    then `extra` more from greedy_addr: how many of the others the server closed."""
    def connect(src, request):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(5)
        s.connect(addr(target))
        if request:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            s.recv(4096)
        return s
    held = [connect("127.0.1.%d" % (i % 18 + 1), True) for i in range(int(others))]
    greedy = [connect(greedy_addr, True) for _ in range(int(share))]
    time.sleep(0.2)
    over = [connect(greedy_addr, False) for _ in range(int(extra))]
    time.sleep(0.5)
    result = {"others_closed": count_closed(held)}
    for s in held + greedy + over:
        s.close()
    return result


if __name__ == "__main__":
    commands = {"raw": raw, "repeat": repeat, "trickle": trickle, "hold": hold, "overshare": overshare}
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    print(json.dumps(commands[sys.argv[1]](*sys.argv[2:])))
