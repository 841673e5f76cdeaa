"""Issue 12's benchmark in one command: ``.venv/bin/python -m bench.scale``.

1. Session read (:mod:`bench.session_read`) on each database (SQLite and
   PostgreSQL): ``jwt`` (the session registry looked up every 10 s),
   ``jwt-stateless`` (never), ``database`` sessions and the plain Pyramid view, one process each,
   in the same rotation.
2. Sign-in throughput on each database, JWT and database sessions: the
   core's credentials ``POST`` (Auth.js CSRF token included, a right
   password, throttling off) from ``--clients`` processes; every answer must
   be the 302 to the site, or the run stops. Then each server's resident
   memory (``VmRSS`` now, ``VmHWM`` the peak): argon2id's 19 MiB per
   concurrent verification shows there.
3. Two processes against one, on the last database (PostgreSQL by default),
   JWT sessions: the same load (``--clients`` x 2 client processes) on one
   server, then split over two servers of the same settings and database, as
   behind a balancer; rounds alternate which goes first. The ratio is total
   requests/s of two over one, per round.
4. The statements and round trips of one session read (:mod:`bench.queries`).

It ends with one table of the figures. Every load is bounded by count and by
``--max-seconds``; the load clients share the machine's cores with the
servers, so the absolute figures are this machine's, not the product's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from bench import queries, session_read
from bench.common import (
    DATABASES,
    POSTGRES_URL,
    Expect,
    LoadResult,
    Request,
    Server,
    database,
    load,
)
from bench.session_read import (
    EMAIL,
    PASSWORD,
    SESSION_PATH,
    BenchError,
    csrf,
    read_session,
    sign_in,
    sign_up,
)

SIGNIN_PATH = "/api/auth/callback/credentials"
#: issue 12's target: two processes serve at least this much more than one
TARGET_TWO_PROCESSES = 1.7
STRATEGIES = ("jwt", "database")


@dataclass
class SigninFigures:
    rounds: list[LoadResult]
    failures: int  # answers other than the 302 to the site (e.g. a 503)
    cpu_ms: list[float]  # the server's CPU per sign-in, per round
    rss_mib: float
    peak_mib: float

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.rounds)


@dataclass
class TwoVsOne:
    reads_one: list[float]
    reads_two: list[float]
    signins_one: list[float]
    signins_two: list[float]
    # busy cores of the machine during each load
    busy_reads_one: list[float] = field(default_factory=list)
    busy_reads_two: list[float] = field(default_factory=list)
    busy_signins_one: list[float] = field(default_factory=list)
    busy_signins_two: list[float] = field(default_factory=list)

    @staticmethod
    def ratio(two: list[float], one: list[float]) -> list[float]:
        return [t / o for t, o in zip(two, one, strict=True)]


def signin_request(port: int) -> tuple[Request, dict[str, str], Expect]:
    """The sign-in a load client repeats, with the cookies it starts from.

    It is sent without the session cookie each answer sets
    (``follow_cookies`` off), so every request is a fresh sign-in. The
    answer expected is the one a first sign-in gets here.
    """
    jar: dict[str, str] = {}
    form = {"csrfToken": csrf(port, jar), "email": EMAIL, "password": PASSWORD}
    probe = load(
        port,
        Request(SIGNIN_PATH, "POST", form, follow_cookies=False),
        jar,
        requests=1,
        clients=1,
        max_seconds=30,
        expect=Expect(status=302),
    )
    if probe.failures:
        raise BenchError("the first sign-in was not a 302")
    # the site's origin: where a sign-in without callbackUrl lands
    expect = Expect(status=302, location=f"http://127.0.0.1:{port}")
    return Request(SIGNIN_PATH, "POST", form, follow_cookies=False), jar, expect


def measure_signins(
    url: str,
    strategy: str,
    *,
    rounds: int,
    signins: int,
    clients: int,
    threads: int,
    max_seconds: float,
) -> SigninFigures:
    settings = {"auth.session.strategy": strategy}
    server = Server("product", threads=threads, database_url=url, settings=settings)
    try:
        if strategy == STRATEGIES[0]:
            sign_up(server.port)
        request, jar, expect = signin_request(server.port)
        results, cpu = [], []
        for _ in range(rounds):
            before = server.cpu_seconds()
            result = load(
                server.port,
                request,
                jar,
                requests=signins,
                clients=clients,
                max_seconds=max_seconds,
                expect=expect,
            )
            # Failures are counted and shown, not fatal: a 503 under
            # concurrent sign-ins (SQLite's lock) is a finding to report.
            if not result.requests or result.failures == result.requests:
                raise BenchError(f"sign-in ({strategy}): no sign-in succeeded")
            results.append(result)
            cpu.append((server.cpu_seconds() - before) / result.requests * 1000)
        failures = sum(r.failures for r in results)
        return SigninFigures(
            results, failures, cpu, server.rss_mib(), server.rss_peak_mib()
        )
    finally:
        server.close()


def measure_two_vs_one(
    url: str,
    *,
    rounds: int,
    requests: int,
    signins: int,
    clients: int,
    threads: int,
    max_seconds: float,
) -> TwoVsOne:
    """JWT session reads and sign-ins: one server, then two, same total load."""
    servers = [Server("product", threads=threads, database_url=url) for _ in range(2)]
    try:
        first, second = servers
        sign_up(first.port)
        jar = sign_in(first.port)
        if not session_read.is_session(read_session(second.port, jar)):
            raise BenchError("the second process does not read the first's session")
        reads = partial(load, expect=b"{", clients=clients * 2, max_seconds=max_seconds)
        figures = TwoVsOne([], [], [], [])
        signin_one = signin_request(first.port)
        # the same form and cookies on the second: one secret, one database
        request, signin_jar, expect = signin_one
        expect_two = Expect(status=302)  # each server names its own origin
        for n in range(rounds):
            order = ("one", "two") if n % 2 == 0 else ("two", "one")
            for which in order:
                ports = [first.port] if which == "one" else [first.port, second.port]
                result = reads(ports, SESSION_PATH, jar, requests=requests)
                if result.failures or not result.requests:
                    raise BenchError(f"session read on {which}: failures")
                getattr(figures, f"reads_{which}").append(result.rps)
                getattr(figures, f"busy_reads_{which}").append(result.busy_cores)
                result = load(
                    ports,
                    request,
                    signin_jar,
                    requests=signins,
                    clients=clients * 2,
                    max_seconds=max_seconds,
                    expect=expect if which == "one" else expect_two,
                )
                if result.failures or not result.requests:
                    raise BenchError(f"sign-in on {which}: failures")
                getattr(figures, f"signins_{which}").append(result.rps)
                getattr(figures, f"busy_signins_{which}").append(result.busy_cores)
        return figures
    finally:
        for server in servers:
            server.close()


def median_spread(values: Sequence[float]) -> str:
    return session_read.spread(values)


def summary(
    runs: dict[str, session_read.Run],
    signins: dict[tuple[str, str], SigninFigures],
    two: TwoVsOne | None,
    two_database: str,
    counts: dict[str, dict],
    loadavg: tuple[tuple[float, ...], tuple[float, ...]],
    command: str,
) -> str:
    kinds = list(runs)
    width = 22
    lines = [
        "",
        "== summary ==",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {loadavg[0][0]:.1f} before and "
        f"{loadavg[1][0]:.1f} after; {command}",
        f"{'':<36}" + "".join(f"{k:>{width}}" for k in kinds),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"{label:<36}" + "".join(f"{c:>{width}}" for c in cells))

    for c in session_read.CONTENDERS:
        row(
            f"session read req/s, {c.name}",
            [
                f"{statistics.median(r.load.rps for r in runs[k].rounds[c.name]):.0f}"
                for k in kinds
            ],
        )
    for c in session_read.CONTENDERS:
        if c.app != "product":
            continue
        row(
            f"  {c.name}/plain (median of rounds)",
            [f"{_median_ratio(runs[k], c.name, 'plain'):.2f}x" for k in kinds],
        )
    for numerator, denominator, target in session_read.TARGETS:
        row(
            f"  {numerator}/{denominator} (target >= {target}x)",
            [
                f"{_median_ratio(runs[k], numerator, denominator):.2f}x"
                for k in kinds
            ],
        )
    row(
        "RSS after session reads, jwt MiB",
        [f"{runs[k].rss_mib['jwt']:.0f}" for k in kinds],
    )
    for strategy in STRATEGIES:
        row(
            f"sign-ins/s, {strategy}",
            [_signin_cell(signins[k, strategy]) for k in kinds],
        )
        row(
            f"  CPU per sign-in, {strategy} ms",
            [f"{statistics.median(signins[k, strategy].cpu_ms):.1f}" for k in kinds],
        )
        row(
            f"  RSS after sign-ins (peak), {strategy}",
            [
                f"{signins[k, strategy].rss_mib:.0f} ({signins[k, strategy].peak_mib:.0f})"
                for k in kinds
            ],
        )
    for case in queries.CASES:
        cells = []
        for k in kinds:
            reads = counts[k][case]
            statements = statistics.median(len(r.statements) for r in reads)
            cell = f"{statements:g} stmt"
            if reads[0].round_trips is not None:
                cell += f", {statistics.median(r.round_trips for r in reads):g} RT"
            cells.append(cell)
        row(f"database work per read, {case}", cells)
    if two is not None:
        lines.append(
            f"two processes / one ({two_database}, jwt, target >= "
            f"{TARGET_TWO_PROCESSES}x):"
        )
        lines.append(
            f"  session read: {median_spread(two.ratio(two.reads_two, two.reads_one))}"
            f"; {statistics.median(two.reads_one):.0f} vs "
            f"{statistics.median(two.reads_two):.0f} req/s"
        )
        lines.append(_busy_line(two.busy_reads_one, two.busy_reads_two))
        lines.append(
            f"  sign-in:      "
            f"{median_spread(two.ratio(two.signins_two, two.signins_one))}; "
            f"{statistics.median(two.signins_one):.1f} vs "
            f"{statistics.median(two.signins_two):.1f} sign-ins/s"
        )
        lines.append(_busy_line(two.busy_signins_one, two.busy_signins_two))
    return "\n".join(lines)


def _busy_line(one: list[float], two: list[float]) -> str:
    """The machine's busy cores under each load (medians of the rounds): a
    load that already keeps every core busy with one process has nothing
    for a second to use."""
    return (
        f"    busy cores of {os.cpu_count()}: {statistics.median(one):.2f} with one "
        f"process, {statistics.median(two):.2f} with two"
    )


def _signin_cell(figures: SigninFigures) -> str:
    cell = f"{figures.rps:.1f}"
    if figures.failures:
        total = sum(r.requests for r in figures.rounds)
        cell += f" ({figures.failures}/{total} failed)"
    return cell


def _median_ratio(run: session_read.Run, name: str, base: str) -> float:
    pairs = zip(run.rounds[name], run.rounds[base], strict=True)
    return statistics.median(r.load.rps / b.load.rps for r, b in pairs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="session read rounds")
    parser.add_argument(
        "--requests", type=int, default=1000, help="session reads per server per round"
    )
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--signins", type=int, default=200, help="per sign-in round")
    parser.add_argument("--signin-rounds", type=int, default=3)
    parser.add_argument("--two-rounds", type=int, default=10, help="two vs one rounds")
    parser.add_argument("--clients", type=int, default=2, help="load client processes")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per load")
    parser.add_argument(
        "--databases", default=",".join(DATABASES), help="comma-separated"
    )
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not kinds or set(kinds) - set(DATABASES):
        parser.error(f"--databases: some of {', '.join(DATABASES)}")
    counts_positive = (args.rounds, args.requests, args.signins, args.signin_rounds)
    if min(*counts_positive, args.clients, args.threads, args.two_rounds) < 1:
        parser.error("counts must be positive")
    given = list(sys.argv[1:] if argv is None else argv)
    command = " ".join(["python -m bench.scale", *given])
    try:
        print(run(args, kinds, command))
    except BenchError as exc:
        raise SystemExit(f"bench.scale: {exc}") from None


def run(
    args: argparse.Namespace,
    kinds: list[str],
    command: str,
    postgres_url: str = POSTGRES_URL,
    echo=None,
) -> str:
    """Every part, in order; each part's own report is echoed as it ends."""
    echo = echo or partial(print, flush=True)
    loadavg_before = os.getloadavg()
    runs, signins, counts = {}, {}, {}
    for kind in kinds:
        runs[kind] = session_read.measure(
            session_read.CONTENDERS,
            database_kind=kind,
            rounds=args.rounds,
            requests=args.requests,
            clients=args.clients,
            threads=args.threads,
            warmup=args.warmup,
            max_seconds=args.max_seconds,
            postgres_url=postgres_url,
        )
        echo(session_read.report(runs[kind]))
    for kind in kinds:
        with database(kind, postgres_url=postgres_url) as url:
            for strategy in STRATEGIES:
                figures = measure_signins(
                    url,
                    strategy,
                    rounds=args.signin_rounds,
                    signins=args.signins,
                    clients=args.clients,
                    threads=args.threads,
                    max_seconds=args.max_seconds,
                )
                signins[kind, strategy] = figures
                echo(
                    f"sign-in ({kind}, {strategy}): {_signin_cell(figures)}/s, p50 "
                    f"{statistics.median(r.p50_ms for r in figures.rounds):.1f} ms, "
                    f"p99 {statistics.median(r.p99_ms for r in figures.rounds):.1f} ms,"
                    f" CPU {statistics.median(figures.cpu_ms):.1f} ms each, RSS "
                    f"{figures.rss_mib:.0f} MiB (peak {figures.peak_mib:.0f})"
                )
    two_database = kinds[-1]
    with database(two_database, postgres_url=postgres_url) as url:
        two = measure_two_vs_one(
            url,
            rounds=args.two_rounds,
            requests=args.requests,
            signins=args.signins,
            clients=args.clients,
            threads=args.threads,
            max_seconds=args.max_seconds,
        )
    for kind in kinds:
        counts[kind] = queries.count(kind, postgres_url)
        echo(queries.report(kind, counts[kind]))
    return summary(
        runs,
        signins,
        two,
        two_database,
        counts,
        (loadavg_before, os.getloadavg()),
        command,
    )


if __name__ == "__main__":
    main()
