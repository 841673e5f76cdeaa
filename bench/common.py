"""Shared bench plumbing: a real app served by waitress in a subprocess, and a
keep-alive HTTP load generator running in other processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_settings(db_path: str, **overrides: str) -> dict[str, str]:
    """The site as development.ini configures it, minus the debug toolbar."""
    from pyramid.paster import get_appsettings

    settings = dict(get_appsettings(str(ROOT / "development.ini")))
    settings.pop("pyramid.includes", None)
    settings.update(
        {
            "app.env": "testing",
            "auth.secret": BENCH_SECRET,
            "sqlalchemy.url": f"sqlite:///{db_path}",
            "ratelimit.enabled": "false",
            "pyramid.reload_templates": "false",
            "mail.dev_maildir": str(Path(db_path).parent / "mail"),
        }
    )
    settings.update(overrides)
    return settings


class Server:
    """``python -m bench.serve`` in a subprocess: the real app under waitress."""

    def __init__(self, *extra_args: str, threads: int = 4) -> None:
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="authsite-bench-")
        self.db = os.path.join(self.tmp.name, "bench.sqlite")
        cmd = [
            sys.executable,
            "-m",
            "bench.serve",
            "--port",
            str(self.port),
            "--db",
            self.db,
            "--threads",
            str(threads),
            *extra_args,
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.ready = (
            self.proc.stdout.readline().strip()
        )  # the server prints one line when up
        if not self.ready.startswith("READY"):
            self.close()
            raise RuntimeError(f"bench server failed to start: {self.ready!r}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.tmp.cleanup()


def parse_cookie_header(header: str) -> dict[str, str]:
    jar = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            jar[name] = value
    return jar


def update_jar(jar: dict[str, str], set_cookies: list[str]) -> None:
    """Apply ``Set-Cookie`` headers to ``jar`` as a browser would."""
    for header in set_cookies:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if "max-age=0" in attributes.lower() or not value:
            jar.pop(name, None)
        else:
            jar[name] = value


class _Connection:
    """A minimal keep-alive HTTP/1.1 client on a raw socket.

    The load generator shares this machine's cores with the server it
    measures, so it does as little as it can: one pre-built request line,
    and only the status, ``Content-Length`` and ``Set-Cookie`` read from the
    answer (``http.client`` costs several times more per request).
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def get(self, request: bytes) -> tuple[int, list[str]]:
        self.sock.sendall(request)
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buffer += chunk
        head = buffer[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length = 0
        set_cookies = []
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie":
                set_cookies.append(value.strip())
        body_end = end + 4 + length
        while len(buffer) < body_end:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buffer += chunk
        self.buffer = buffer[body_end:]
        return status, set_cookies

    def close(self) -> None:
        self.sock.close()


def _client(
    port: int, path: str, headers: dict, count: int, deadline: float, out
) -> None:
    # Like a browser, send back whatever cookies the previous answer set.
    conn = _Connection(port)
    jar = parse_cookie_header(headers.get("Cookie", ""))
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
    request = b""
    latencies = []
    errors = 0
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        if not request:  # rebuilt only when a cookie changed
            cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
            request = head + f"Cookie: {cookie}\r\n\r\n".encode()
        start = time.perf_counter()
        status, set_cookies = conn.get(request)
        latencies.append(time.perf_counter() - start)
        if status != 200:
            errors += 1
        if set_cookies:
            update_jar(jar, set_cookies)
            request = b""
    conn.close()
    out.put((latencies, errors))


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def load(
    port: int,
    path: str,
    headers: dict,
    *,
    requests: int,
    clients: int = 2,
    max_seconds: float = 60.0,
) -> LoadResult:
    """Send ``requests`` keep-alive GETs from ``clients`` processes (bounded in time)."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    per_client = requests // clients
    deadline = time.monotonic() + max_seconds
    procs = [
        ctx.Process(
            target=_client, args=(port, path, headers, per_client, deadline, out)
        )
        for _ in range(clients)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        errors=errors,
    )
