"""Shared plumbing for the loopback stand-ins in tests/support/ (not a script).

fake_metadata.py, tls_proxy.py and connect_proxy.py all take the same process
options and behave the same way around them:

  --host ADDR          listen address; must be a loopback address (127.0.0.0/8, ::1)
  --port N             0 (the default) picks a free port
  --ready-file PATH    receives the bound port ("12345\\n", temp file + rename)
                       once the server accepts connections and its setup is done
  --log PATH           one JSON object per line per request/connection; never a
                       secret (access key ids only, tokens as a sha256 prefix)
  --exit-with-parent   SIGTERM when the parent process dies (Linux prctl), so a
                       killed harness leaks nothing
  --max-seconds S      exit 0 after S seconds whatever happens (default 1800)

Bounds: at most MAX_CONNS connections are served at once (more wait in the
listen backlog), and every socket read has a timeout, so a stuck peer costs a
thread for at most that long.  SIGTERM/SIGINT exit 0.
"""

import hashlib
import ipaddress
import json
import os
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time

MAX_CONNS = 64
IO_TIMEOUT = 30.0


def add_common_args(p):
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--ready-file", help="write the bound port here once ready")
    p.add_argument("--log", help="append one JSON line per request/connection here")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="get SIGTERM when the parent process dies (Linux)")
    p.add_argument("--max-seconds", type=float, default=1800.0,
                   help="exit after this many seconds (a bound for forgotten processes)")


def is_loopback(host):
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_loopback(p, host):
    if not is_loopback(host):
        p.error(f"--host {host}: only loopback addresses are allowed")


def write_atomic(path, text, mode=0o644):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def token_hash(value):
    """What logs may show of a token: enough to compare, nothing to reuse."""
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:12]


class JsonLog:
    """Thread-safe JSON-lines log (a no-op without a path) plus stderr notes."""

    def __init__(self, name, path):
        self.name = name
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1) if path else None

    def event(self, **fields):
        if not self.f:
            return
        fields = {"ts": round(time.time(), 3), **fields}
        line = json.dumps(fields, separators=(",", ":"), sort_keys=False)
        with self.lock:
            self.f.write(line + "\n")

    def note(self, msg):
        print(f"{self.name}: {msg}", file=sys.stderr, flush=True)


def install_process_guards(args, log):
    """Signals, --exit-with-parent and --max-seconds."""

    def on_signal(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.exit_with_parent:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGTERM, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            log.note(f"prctl(PR_SET_PDEATHSIG) failed: errno {ctypes.get_errno()}")
        if os.getppid() == 1:  # parent already gone before prctl took effect
            raise SystemExit(0)
    if args.max_seconds and args.max_seconds > 0:
        def bail():
            log.note(f"--max-seconds {args.max_seconds:g} reached, exiting")
            os.kill(os.getpid(), signal.SIGTERM)

        t = threading.Timer(args.max_seconds, bail)
        t.daemon = True
        t.start()


def announce_ready(args, port, log, what):
    if args.ready_file:
        write_atomic(args.ready_file, f"{port}\n")
    log.note(f"{what} ready on {args.host}:{port}")


def serve_connections(lsock, handler):
    """Accepts on lsock until SIGTERM/SIGINT, each connection on a thread of its own running
    handler(conn, peer), at most MAX_CONNS at once; closes lsock at the end."""
    slots = threading.BoundedSemaphore(MAX_CONNS)

    def run(conn, peer):
        try:
            handler(conn, peer)
        finally:
            slots.release()

    try:
        while True:
            slots.acquire()
            try:
                conn, peer = lsock.accept()
            except BaseException:
                slots.release()
                raise
            threading.Thread(target=run, args=(conn, peer), daemon=True).start()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        lsock.close()


def relay(a, b, idle_timeout=IO_TIMEOUT):
    """Copy bytes both ways between sockets a and b until both directions end
    (EOF or error) or nothing moves for idle_timeout seconds.
    Returns (bytes a->b, bytes b->a).  Closes neither socket."""
    import selectors

    sel = selectors.DefaultSelector()
    counts = {a: 0, b: 0}
    peer = {a: b, b: a}
    open_dirs = {a, b}
    for s in (a, b):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    try:
        while open_dirs:
            ready = sel.select(idle_timeout)
            if not ready:
                break  # idle too long
            for key, _ in ready:
                src = key.fileobj
                try:
                    data = src.recv(65536)
                    # TLS may hold decrypted bytes select() cannot see
                    while hasattr(src, "pending") and src.pending():
                        data += src.recv(65536)
                except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
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
                try:
                    _sendall_nonblocking(peer[src], data)
                except OSError:
                    return counts[a], counts[b]
                counts[src] += len(data)
    finally:
        sel.close()
    return counts[a], counts[b]


def _sendall_nonblocking(s, data):
    import select

    view = memoryview(data)
    deadline = time.monotonic() + IO_TIMEOUT
    while view:
        try:
            n = s.send(view)
            view = view[n:]
        except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            pass
        if view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("send stalled")
            select.select([], [s], [], min(left, 1.0))
