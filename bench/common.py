"""Shared bench plumbing: a throwaway database, apps served by waitress in
subprocesses, and a keep-alive HTTP load generator in processes of its own.

Everything a benchmark starts is bounded (requests by count, loads by time)
and stopped when it ends; nothing here is imported by the app.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
#: where ``--database postgresql`` creates (and drops) its throwaway database
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATABASES = ("sqlite", "postgresql")
#: variables that would override the settings a bench server is given
_OVERRIDING_ENV = ("DATABASE_URL", "REDIS_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def migrate(url: str) -> None:
    """``alembic upgrade head`` on ``url`` with the project's own migrations."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            cfg = Config()
            cfg.set_main_option("script_location", str(ROOT / "migrations"))
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


@contextmanager
def database(kind: str, *, postgres_url: str = POSTGRES_URL) -> Iterator[str]:
    """A freshly migrated database of ``kind`` for one run; removed afterwards.

    SQLite is a file in a temporary directory; PostgreSQL a database of its
    own, with a random name, on the server of ``postgres_url``.
    """
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="authsite-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite"
            migrate(url)
            yield url
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database {kind!r}; expected one of {DATABASES}")
    name = f"authsite_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.make_url(postgres_url).set(database=name)
            url = url.render_as_string(hide_password=False)
            migrate(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def product_settings(
    database_url: str, origin: str, workdir: str, **overrides: str
) -> dict[str, str]:
    """The site as development.ini configures it, minus the debug toolbar,
    with throttling off (a load from one address would trip it) and mail
    queued and written in ``workdir``."""
    from pyramid.paster import get_appsettings

    settings = dict(get_appsettings(str(ROOT / "development.ini")))
    settings.pop("pyramid.includes", None)
    settings.update(
        {
            "app.env": "testing",
            "auth.secret": BENCH_SECRET,
            "auth.url": origin,
            "sqlalchemy.url": database_url,
            "ratelimit.enabled": "false",
            "pyramid.reload_templates": "false",
            "mail.dev_maildir": str(Path(workdir) / "mail"),
            "mail.queue_path": str(Path(workdir) / "mail-queue"),
        }
    )
    settings.update(overrides)
    return settings


class Server:
    """``python -m bench.serve`` in a subprocess: one app under waitress.

    ``app`` is ``product`` (the site, on ``database_url``) or ``plain`` (the
    yardstick of ``bench.plain``); every server gets the same waitress
    settings, so the apps are the only difference.
    """

    def __init__(
        self,
        app: str,
        *,
        threads: int,
        database_url: str = "",
        settings: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.workdir = tempfile.TemporaryDirectory(prefix="authsite-bench-")
        cmd = [sys.executable, "-m", "bench.serve", app, "--port", str(self.port)]
        cmd += ["--threads", str(threads), "--workdir", self.workdir.name]
        cmd += ["--database-url", database_url]
        for key, value in (settings or {}).items():
            cmd += ["--set", f"{key}={value}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
        for name in _OVERRIDING_ENV:
            env.pop(name, None)
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        ready = self.proc.stdout.readline().strip()  # one line once it listens
        if ready != "READY":
            self.close()
            raise RuntimeError(f"bench server {app!r} failed to start: {ready!r}")

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far, every thread's (waitress
        included), from ``/proc/<pid>/task/*/schedstat`` in nanoseconds
        (Linux; ``/proc/<pid>/stat``'s clock ticks are too coarse)."""
        total = 0
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:  # a thread that ended meanwhile
                continue
        return total / 1e9

    def rss_mib(self) -> float:
        """The server's resident memory now (``VmRSS``), in MiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS in /proc/{self.proc.pid}/status")

    def rss_peak_mib(self) -> float:
        """The most resident memory the server has had (``VmHWM``), in MiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmHWM in /proc/{self.proc.pid}/status")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.workdir.cleanup()


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

    The load generator shares this machine's cores with the servers it
    measures, so it does as little as it can: one pre-built request, and
    only the status, ``Content-Length``, ``Location``, ``Set-Cookie`` and the
    body read from the answer (``http.client`` costs several times more).
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _fill(self, buffer: bytes) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        return buffer + chunk

    def send(self, request: bytes) -> Answer:
        """Send ``request``; return the answer's status, Set-Cookie values,
        Location and body."""
        self.sock.sendall(request)
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer = self._fill(buffer)
        head = buffer[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length = 0
        set_cookies = []
        location = ""
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie":
                set_cookies.append(value.strip())
            elif name == "location":
                location = value.strip()
        body_end = end + 4 + length
        while len(buffer) < body_end:
            buffer = self._fill(buffer)
        self.buffer = buffer[body_end:]
        return Answer(status, set_cookies, location, buffer[end + 4 : body_end])

    def close(self) -> None:
        self.sock.close()


@dataclass(frozen=True)
class Answer:
    status: int
    set_cookies: list[str]
    location: str
    body: bytes


@dataclass(frozen=True)
class Expect:
    """What every answer of a load must be; anything else is a failure.

    A server that stopped finding the session answers ``null`` fast, and a
    refused sign-in is a quick redirect to the error page: neither may pass
    for a fast success.
    """

    status: int = 200
    body: bytes = b""  # the body starts with it
    location: str | None = None  # the Location header, exactly

    def met(self, answer: Answer) -> bool:
        return (
            answer.status == self.status
            and answer.body.startswith(self.body)
            and (self.location is None or answer.location == self.location)
        )


@dataclass(frozen=True)
class Request:
    """One request a load client sends again and again."""

    path: str
    method: str = "GET"
    form: dict[str, str] | None = None  # an urlencoded body (POST)
    #: send back the cookies each answer sets, as a browser does (session
    #: reads roll the token); off, every request carries the first cookies
    follow_cookies: bool = True

    def encode(self, port: int, jar: dict[str, str]) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        if jar:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
        body = b""
        if self.form is not None:
            body = urlencode(self.form).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _client(port, what, jar, count, deadline, expect, start_line, out) -> None:
    """One load client: ``count`` requests on one connection, until ``deadline``.

    An answer that does not meet ``expect`` counts as a failure. It reports
    its latencies, failures and the ``perf_counter`` window it sent in (a
    system-wide monotonic clock on Linux, so windows of several processes
    compare).
    """
    latencies: list[float] = []
    failures = 0
    started = 0.0
    try:
        conn = _Connection(port)
        start_line.wait(30)  # every client connected: they start together
        request = b""
        started = time.perf_counter()
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            if not request:  # rebuilt only when a cookie changed
                request = what.encode(port, jar)
            start = time.perf_counter()
            answer = conn.send(request)
            latencies.append(time.perf_counter() - start)
            if not expect.met(answer):
                failures += 1
            if answer.set_cookies and what.follow_cookies:
                update_jar(jar, answer.set_cookies)
                request = b""
        conn.close()
    except (OSError, threading.BrokenBarrierError):
        failures += 1  # refused, reset or timed out: counted, and the client stops
        start_line.abort()  # no other client waits for this one
    out.put((latencies, failures, started, time.perf_counter()))


def busy_jiffies() -> tuple[int, int]:
    """(busy, all) clock ticks of the machine's cores since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # less idle and iowait


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int
    #: how many of the machine's cores were busy (servers, clients, kernel,
    #: database) from the clients' start until the last reported
    busy_cores: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load(
    port: int | Sequence[int],
    path: str | Request,
    cookies: dict[str, str],
    *,
    requests: int,
    clients: int,
    max_seconds: float,
    expect: bytes | Expect = b"",
) -> LoadResult:
    """``requests`` keep-alive requests (``path``: a GET, or a :class:`Request`),
    shared by ``clients`` processes, each starting from ``cookies``; stopped
    after ``max_seconds``. With several ports, client *i* loads
    ``port[i % len(port)]`` (several servers at once, as behind a balancer).
    ``expect``: an :class:`Expect`, or the bytes a 200's body starts with."""
    ports = [port] if isinstance(port, int) else list(port)
    what = path if isinstance(path, Request) else Request(path)
    if not isinstance(expect, Expect):
        expect = Expect(body=expect)
    # "spawn", never "fork": a forked child inherits the caller's open SQLite
    # connections (the test suite runs this inside a pytest worker), and a
    # child that finalises one can checkpoint and remove the WAL the parent
    # still uses, leaving "database disk image is malformed" behind.
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_line = ctx.Barrier(clients + 1)  # the clients, and this process
    per_client = max(1, requests // clients)
    deadline = time.monotonic() + max_seconds
    procs = [
        ctx.Process(
            target=_client,
            args=(
                ports[i % len(ports)],
                what,
                dict(cookies),
                per_client,
                deadline,
                expect,
                start_line,
                out,
            ),
        )
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    try:
        try:
            start_line.wait(60)
        except threading.BrokenBarrierError:
            pass  # a client could not connect: it reports a failure
        before = busy_jiffies()
        # the clients stop at the deadline; a socket timeout is 30 s more
        results = [out.get(timeout=max_seconds + 60) for _ in procs]
        after = busy_jiffies()
    except queue.Empty:
        raise RuntimeError("a load client did not report") from None
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
    latencies = sorted(x for lat, *_ in results for x in lat)
    failures = sum(r[1] for r in results)
    if not latencies:
        return LoadResult(0, 0.0, 0.0, 0.0, failures)
    seconds = max(r[3] for r in results) - min(r[2] for r in results if r[0])
    return LoadResult(
        requests=len(latencies),
        seconds=seconds,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        failures=failures,
        busy_cores=(os.cpu_count() or 1)
        * (after[0] - before[0])
        / max(after[1] - before[1], 1),
    )
