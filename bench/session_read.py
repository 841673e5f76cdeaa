"""Session read: the product's ``GET /api/auth/session`` against the plain way.

Two servers, each its own process under waitress with the same settings
(``--threads`` worker threads, 127.0.0.1, debug toolbar off, throttling off):

- ``product``: the site built by ``app.main`` as development.ini configures
  it, on a freshly migrated database (SQLite by default);
- ``plain``: :mod:`bench.plain`, a bare Pyramid view doing the same work
  plainly with joserfc (the yardstick).

One account signs up and signs in on the product like a browser; its
cookies go to both servers (same secret, so the plain view opens the same
token). Each round loads every server in turn with ``--requests`` keep-alive
GETs from ``--clients`` client processes, which send back the cookies each
answer sets, as a browser does; the order rotates every round, so drift in
the machine's speed favours no one. An answer that is not a 200 with a
session stops the run. It prints, per server, the medians over rounds of
requests/s, p50, p99 and the server's CPU per request, its resident memory
after the run, and per round the ratios product/plain (throughput, p99, CPU)
as a median with their spread.

With ``--check-off`` a third server joins: the product with
``auth.session.check_interval = 0`` (JWTs never looked up in the session
registry), and the report adds the ratio product (check on, the default
10 s) / check off, against issue 12's target of 0.9x.

Run: ``make bench`` or ``.venv/bin/python -m bench.session_read [--rounds N]
[--requests N] [--clients N] [--threads N] [--database sqlite|postgresql]
[--check-off]``.
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
#: issue 10's targets: product/plain throughput at least, p99 at most
TARGET_THROUGHPUT = 1.0
TARGET_P99 = 1.2
#: issue 12's target: JWT read with the registry check on / off, at least
TARGET_CHECK = 0.9


class BenchError(RuntimeError):
    """The run cannot give honest figures (a server failed or lost the session)."""


@dataclass(frozen=True)
class Contender:
    """One server of the comparison: which app, with which settings.

    More product cases (another session strategy, the registry check on or
    off) are more contenders, each compared with :data:`BASELINE`.
    """

    name: str
    app: str  # "product" or "plain"
    settings: dict[str, str] = field(default_factory=dict)


BASELINE = Contender("plain", "plain")
CONTENDERS = (Contender("product", "product"), BASELINE)
#: the product with the session registry's JWT check off (stateless reads)
CHECK_OFF = Contender("check-off", "product", {"auth.session.check_interval": "0"})


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


def sign_in(port: int) -> dict[str, str]:
    """Sign up and sign in on the product like a browser; return the cookies."""
    jar: dict[str, str] = {}
    _request(port, "GET", "/signup", jar)
    signup = {"email": EMAIL, "password": PASSWORD, "password_confirm": PASSWORD}
    _request(
        port, "POST", "/signup", jar, signup | {"csrf_token": jar.get("csrf_token", "")}
    )
    _, csrf = _request(port, "GET", "/api/auth/csrf", jar)
    signin = {"csrfToken": json.loads(csrf)["csrfToken"], "email": EMAIL}
    signin["password"] = PASSWORD
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
        product = next(s for s in servers.values() if s.app == "product")
        jar = sign_in(product.port)
        sessions = {name: [read_session(s.port, jar)] for name, s in servers.items()}
        for server in servers.values():
            if warmup:
                bounded(server.port, SESSION_PATH, jar, requests=warmup)
        results: dict[str, list[Round]] = {c.name: [] for c in contenders}
        for round_no in range(rounds):
            # rotate who goes first, so a drift in the machine's speed during
            # a round favours no one
            shift = round_no % len(contenders)
            for c in [*contenders[shift:], *contenders[:shift]]:
                server = servers[c.name]
                cpu_before = server.cpu_seconds()
                result = bounded(server.port, SESSION_PATH, jar, requests=requests)
                cpu = server.cpu_seconds() - cpu_before
                if result.failures or not result.requests:
                    raise BenchError(
                        f"{c.name}: {result.failures} of {result.requests} "
                        "answers were not a 200 with a session"
                    )
                results[c.name].append(Round(result, cpu / result.requests * 1e6))
        for name, server in servers.items():
            sessions[name].append(read_session(server.port, jar))
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


def report(run: Run) -> str:
    o = run.options
    lines = [
        f"session read, product vs plain Pyramid: {o['rounds']} rounds x "
        f"{o['requests']} requests per server, {o['clients']} keep-alive clients, "
        f"waitress {o['threads']} threads, one process each, {o['database']}",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {run.loadavg[0][0]:.2f} before "
        f"and {run.loadavg[1][0]:.2f} after",
        f"{'server':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU/req':>9} "
        f"{'RSS MiB':>8}",
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
    base = run.rounds[BASELINE.name]
    for c in run.contenders:
        if c == BASELINE:
            continue
        pairs = list(zip(run.rounds[c.name], base, strict=True))
        speed = [r.load.rps / b.load.rps for r, b in pairs]
        p99 = [r.load.p99_ms / b.load.p99_ms for r, b in pairs]
        cpu = [r.cpu_us / b.cpu_us for r, b in pairs]
        ok_speed = statistics.median(speed) >= TARGET_THROUGHPUT
        ok_p99 = statistics.median(p99) <= TARGET_P99
        name = f"{c.name}/{BASELINE.name}"
        lines += [
            f"{name} throughput: {spread(speed)}, target >= {TARGET_THROUGHPUT}x: "
            + ("met" if ok_speed else "NOT MET"),
            f"{name} p99:        {spread(p99)}, target <= {TARGET_P99}x: "
            + ("met" if ok_p99 else "NOT MET"),
            f"{name} CPU/req:    {spread(cpu)}",
        ]
    names = {c.name for c in run.contenders}
    if {"product", CHECK_OFF.name} <= names:
        pairs = list(
            zip(run.rounds["product"], run.rounds[CHECK_OFF.name], strict=True)
        )
        speed = [r.load.rps / b.load.rps for r, b in pairs]
        ok = statistics.median(speed) >= TARGET_CHECK
        lines.append(
            f"product/{CHECK_OFF.name} throughput (registry check on/off): "
            f"{spread(speed)}, target >= {TARGET_CHECK}x: "
            + ("met" if ok else "NOT MET")
        )
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
    parser.add_argument(
        "--check-off",
        action="store_true",
        help="also serve the product with auth.session.check_interval = 0",
    )
    args = parser.parse_args(argv)
    if min(args.rounds, args.requests, args.clients, args.threads) < 1:
        parser.error("--rounds, --requests, --clients and --threads must be positive")
    try:
        run = measure(
            (*CONTENDERS, CHECK_OFF) if args.check_off else CONTENDERS,
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
