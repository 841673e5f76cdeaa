"""Session read: the product's ``GET /api/auth/session`` against the plain way.

One server per contender, each its own process under waitress with the same
settings (``--threads`` worker threads, 127.0.0.1, debug toolbar off,
throttling off), all on one freshly migrated database (SQLite by default):

- ``jwt``: the site built by ``app.main`` as development.ini configures it
  (JWT sessions, each looked up in the session registry at most every
  ``auth.session.check_interval`` = 10 s per process);
- ``jwt-stateless``: the same with ``auth.session.check_interval = 0`` (no
  registry look-up on reads, as Auth.js);
- ``database``: the same with ``auth.session.strategy = database`` (the
  cookie names a row of ``sessions``, read on every request);
- ``plain``: :mod:`bench.plain`, a bare Pyramid view doing the JWT work
  plainly with joserfc (the yardstick).

One account signs up on the first product server, then signs in on each
product server like a browser; the plain view gets the ``jwt`` server's
cookies (same secret, so it opens the same token). Each round loads every
server in turn with ``--requests`` keep-alive GETs from ``--clients`` client
processes, which send back the cookies each answer sets, as a browser does;
the order rotates every round, so drift in the machine's speed favours no
one. An answer that is not a 200 with a session stops the run. It prints,
per server, the medians over rounds of requests/s, p50, p99 and the server's
CPU per request, its resident memory after the run, and per round the ratios
of each product server to plain (throughput, p99, CPU), and ``jwt`` to
``jwt-stateless`` and ``database`` to ``jwt`` (throughput), as a median with
their spread.

Run: ``make bench`` or ``.venv/bin/python -m bench.session_read [--rounds N]
[--requests N] [--clients N] [--threads N] [--database sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlencode

from bench.common import (
    DATABASES,
    POSTGRES_URL,
    LoadResult,
    Server,
    database,
    load,
    update_jar,
)

SESSION_PATH = "/api/auth/session"
EMAIL = "bench@example.com"
PASSWORD = "correct horse battery staple"
#: issue 10's targets: jwt/plain throughput at least, p99 at most
TARGET_THROUGHPUT = 1.0
TARGET_P99 = 1.2
#: issue 12's targets, throughput ratios (numerator, denominator, at least):
#: JWT reads with the registry check on against off, and a database session
#: (on PostgreSQL) against a JWT read
TARGETS = (("jwt", "jwt-stateless", 0.9), ("database", "jwt", 0.5))


class BenchError(RuntimeError):
    """The run cannot give honest figures (a server failed or lost the session)."""


@dataclass(frozen=True)
class Contender:
    """One server of the comparison: which app, with which settings.

    Each product case (a session strategy, a check on or off) is a
    contender, compared with :data:`BASELINE` and with :data:`JWT`.
    """

    name: str
    app: str  # "product" or "plain"
    settings: dict[str, str] = field(default_factory=dict)


BASELINE = Contender("plain", "plain")
JWT = Contender("jwt", "product")
CONTENDERS = (
    JWT,
    Contender("jwt-stateless", "product", {"auth.session.check_interval": "0"}),
    Contender("database", "product", {"auth.session.strategy": "database"}),
    BASELINE,
)


@dataclass
class Round:
    """One load on one server."""

    load: LoadResult
    cpu_us: float  # the server's CPU time per request, every thread's


@dataclass
class Run:
    contenders: Sequence[Contender]
    options: dict
    rounds: dict[str, list[Round]]
    sessions: dict[str, list]  # each server's session JSON before and after
    rss_mib: dict[str, float]
    loadavg: tuple[tuple[float, ...], tuple[float, ...]]  # before, after


def _request(port: int, method: str, path: str, jar: dict, form=None):
    """One request with ``jar``'s cookies; the answer's cookies go into ``jar``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        update_jar(jar, response.headers.get_all("Set-Cookie") or [])
        return response.status, payload
    finally:
        conn.close()


def read_session(port: int, jar: dict):
    """``GET session`` with a copy of ``jar``: the JSON answer (None if not 200)."""
    status, body = _request(port, "GET", SESSION_PATH, dict(jar))
    return json.loads(body) if status == 200 else None


def sign_up(port: int) -> None:
    """Create the bench's account through the product's signup form."""
    jar: dict[str, str] = {}
    _request(port, "GET", "/signup", jar)
    signup = {"email": EMAIL, "password": PASSWORD, "password_confirm": PASSWORD}
    status, _ = _request(
        port, "POST", "/signup", jar, signup | {"csrf_token": jar.get("csrf_token", "")}
    )
    if status != 302:
        raise BenchError(f"could not sign up on the product: {status}")


def csrf(port: int, jar: dict[str, str]) -> str:
    """The core's CSRF token (its cookie goes into ``jar``)."""
    _, body = _request(port, "GET", "/api/auth/csrf", jar)
    return json.loads(body)["csrfToken"]


def sign_in(port: int) -> dict[str, str]:
    """Sign in on the product like a browser (the account exists); the cookies."""
    jar: dict[str, str] = {}
    _request(port, "GET", "/api/auth/signin", jar)
    csrf_token = csrf(port, jar)
    signin = {"csrfToken": csrf_token, "email": EMAIL, "password": PASSWORD}
    _request(port, "POST", "/api/auth/callback/credentials", jar, signin)
    answer = read_session(port, jar)
    if not is_session(answer):
        raise BenchError(f"could not sign in on the product: {answer!r}")
    return jar


def is_session(answer) -> bool:
    user = answer.get("user") if isinstance(answer, dict) else None
    return isinstance(user, dict) and user.get("email") == EMAIL


@contextmanager
def serving(
    contenders: Sequence[Contender], threads: int, database_url: str
) -> Iterator[dict[str, Server]]:
    """One server per contender, all with the same waitress settings."""
    servers: dict[str, Server] = {}
    try:
        for c in contenders:
            servers[c.name] = Server(
                c.app, threads=threads, database_url=database_url, settings=c.settings
            )
        yield servers
    finally:
        for server in servers.values():
            server.close()


def measure(
    contenders: Sequence[Contender] = CONTENDERS,
    *,
    database_kind: str = "sqlite",
    rounds: int = 60,
    requests: int = 1000,
    clients: int = 2,
    threads: int = 4,
    warmup: int = 400,
    max_seconds: float = 60.0,
    postgres_url: str = POSTGRES_URL,
) -> Run:
    """Serve every contender, then load them in rotating order, ``rounds`` times."""
    options = dict(
        database=database_kind,
        rounds=rounds,
        requests=requests,
        clients=clients,
        threads=threads,
    )
    loadavg_before = os.getloadavg()
    bounded = partial(load, clients=clients, max_seconds=max_seconds, expect=b"{")
    with (
        database(database_kind, postgres_url=postgres_url) as url,
        serving(contenders, threads, url) as servers,
    ):
        products = [c.name for c in contenders if c.app == "product"]
        sign_up(servers[products[0]].port)
        jars = {name: sign_in(servers[name].port) for name in products}
        for c in contenders:  # the plain view opens the jwt server's token
            if c.app == "plain":
                jars[c.name] = jars[JWT.name]
        sessions = {
            name: [read_session(s.port, jars[name])] for name, s in servers.items()
        }
        for name, server in servers.items():
            if warmup:
                bounded(server.port, SESSION_PATH, jars[name], requests=warmup)
        results: dict[str, list[Round]] = {c.name: [] for c in contenders}
        for round_no in range(rounds):
            # rotate who goes first, so a drift in the machine's speed during
            # a round favours no one
            shift = round_no % len(contenders)
            for c in [*contenders[shift:], *contenders[:shift]]:
                server = servers[c.name]
                cpu_before = server.cpu_seconds()
                result = bounded(
                    server.port, SESSION_PATH, jars[c.name], requests=requests
                )
                cpu = server.cpu_seconds() - cpu_before
                if result.failures or not result.requests:
                    raise BenchError(
                        f"{c.name}: {result.failures} of {result.requests} "
                        "answers were not a 200 with a session"
                    )
                results[c.name].append(Round(result, cpu / result.requests * 1e6))
        for name, server in servers.items():
            sessions[name].append(read_session(server.port, jars[name]))
        rss = {name: server.rss_mib() for name, server in servers.items()}
    for name, answers in sessions.items():
        if not all(is_session(a) for a in answers):
            raise BenchError(f"{name} did not answer with the session: {answers!r}")
    return Run(
        contenders, options, results, sessions, rss, (loadavg_before, os.getloadavg())
    )


def spread(values: Sequence[float]) -> str:
    """``median (IQR a-b, range c-d)`` of per-round values."""
    ordered = sorted(values)
    median = statistics.median(ordered)
    if len(ordered) < 2:
        return f"{median:.2f}x (1 round, no spread)"
    q1, _, q3 = statistics.quantiles(ordered, n=4)
    return (
        f"{median:.2f}x (IQR {q1:.2f}-{q3:.2f}, range {ordered[0]:.2f}-"
        f"{ordered[-1]:.2f}, {len(ordered)} rounds)"
    )


def ratio_lines(run: Run) -> list[str]:
    """Per-round ratios: each product server to plain, and to jwt."""
    lines = []
    base = run.rounds[BASELINE.name]
    for c in run.contenders:
        if c.app != "product":
            continue
        pairs = list(zip(run.rounds[c.name], base, strict=True))
        speed = [r.load.rps / b.load.rps for r, b in pairs]
        p99 = [r.load.p99_ms / b.load.p99_ms for r, b in pairs]
        cpu = [r.cpu_us / b.cpu_us for r, b in pairs]
        name = f"{c.name}/{BASELINE.name}"
        if c == JWT:
            ok_speed = statistics.median(speed) >= TARGET_THROUGHPUT
            ok_p99 = statistics.median(p99) <= TARGET_P99
            lines += [
                f"{name + ' throughput:':<30} {spread(speed)}, target >= "
                f"{TARGET_THROUGHPUT}x: " + ("met" if ok_speed else "NOT MET"),
                f"{name + ' p99:':<30} {spread(p99)}, target <= {TARGET_P99}x: "
                + ("met" if ok_p99 else "NOT MET"),
            ]
        else:
            lines.append(f"{name + ' throughput:':<30} {spread(speed)}")
        lines.append(f"{name + ' CPU/req:':<30} {spread(cpu)}")
    for numerator, denominator, target in TARGETS:
        if not {numerator, denominator} <= run.rounds.keys():
            continue
        pairs = zip(run.rounds[numerator], run.rounds[denominator], strict=True)
        speed = [r.load.rps / d.load.rps for r, d in pairs]
        met = statistics.median(speed) >= target
        lines.append(
            f"{f'{numerator}/{denominator} throughput:':<30} {spread(speed)}, "
            f"target >= {target}x: " + ("met" if met else "NOT MET")
        )
    return lines


def table(run: Run) -> list[str]:
    """One line per server: medians over rounds, and memory after the run."""
    lines = [
        f"{'server':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU/req':>9} "
        f"{'RSS MiB':>8}"
    ]
    for c in run.contenders:
        rounds = run.rounds[c.name]
        lines.append(
            f"{c.name:<10} {statistics.median(r.load.rps for r in rounds):>8.0f} "
            f"{statistics.median(r.load.p50_ms for r in rounds):>8.2f} "
            f"{statistics.median(r.load.p99_ms for r in rounds):>8.2f} "
            f"{statistics.median(r.cpu_us for r in rounds):>6.0f} us "
            f"{run.rss_mib[c.name]:>8.1f}"
        )
    return lines


def report(run: Run) -> str:
    o = run.options
    lines = [
        f"session read, product vs plain Pyramid: {o['rounds']} rounds x "
        f"{o['requests']} requests per server, {o['clients']} keep-alive clients, "
        f"waitress {o['threads']} threads, one process each, {o['database']}",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {run.loadavg[0][0]:.2f} before "
        f"and {run.loadavg[1][0]:.2f} after",
        *table(run),
        *ratio_lines(run),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument(
        "--requests", type=int, default=1000, help="per server per round"
    )
    parser.add_argument("--clients", type=int, default=2, help="load client processes")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument(
        "--warmup", type=int, default=400, help="requests per server first"
    )
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per load")
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    args = parser.parse_args(argv)
    if min(args.rounds, args.requests, args.clients, args.threads) < 1:
        parser.error("--rounds, --requests, --clients and --threads must be positive")
    try:
        run = measure(
            database_kind=args.database,
            rounds=args.rounds,
            requests=args.requests,
            clients=args.clients,
            threads=args.threads,
            warmup=args.warmup,
            max_seconds=args.max_seconds,
        )
    except BenchError as exc:
        raise SystemExit(f"bench.session_read: {exc}") from None
    print(report(run))


if __name__ == "__main__":
    main()
