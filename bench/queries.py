"""What one session read asks of the database: statements and round trips.

``.venv/bin/python -m bench.queries [--database sqlite|postgresql]`` builds
the real app in this process for each session case (``jwt`` with the
session registry looked up at most every 10 s, ``jwt-stateless`` never,
``database`` sessions), signs one account up and reads the
session a few times through webtest. For each read it records:

- the statements the app sends (SQLAlchemy's ``before_cursor_execute``
  event: SQLite's explicit ``BEGIN`` is one of them; psycopg's implicit
  ``BEGIN`` is not);
- the transaction ends (``commit`` / ``rollback`` events) and pool
  check-outs;
- on PostgreSQL, the round trips: the app connects through a forwarder on
  127.0.0.1 that counts the client's writes (each query psycopg sends is one
  write: the database read's autocommitted ``SELECT``; a ``BEGIN`` and
  ``ROLLBACK`` around work in a transaction; the pool's pre-ping ``;`` where
  ``sqlalchemy.pool_pre_ping`` is on; and, once, the prepare psycopg sends
  before a query's fifth run).

The first read of each case is left out (it warms the caches). No timing.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from bench.common import DATABASES, POSTGRES_URL, database, product_settings

CASES = {
    "jwt": {},
    "jwt-stateless": {"auth.session.check_interval": "0"},
    "database": {"auth.session.strategy": "database"},
}
PASSWORD = "correct horse battery staple"  # noqa: S105 - bench data
READS = 5


class CountingForwarder:
    """A TCP forwarder to ``upstream`` that counts what the client writes."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.writes = 0
        self.first_bytes: list[bytes] = []
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.writes = 0
            self.first_bytes = []

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self._sockets += [client, upstream]
            for source, target, counted in (
                (client, upstream, True),
                (upstream, client, False),
            ):
                threading.Thread(
                    target=self._pump, args=(source, target, counted), daemon=True
                ).start()

    def _pump(self, source, target, counted: bool) -> None:
        try:
            while data := source.recv(65536):
                if counted:
                    with self._lock:
                        self.writes += 1
                        self.first_bytes.append(data[:40])
                target.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self._listener.close()
        for s in self._sockets:
            s.close()


@dataclass
class Read:
    statements: list[str] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)  # COMMIT / ROLLBACK
    checkouts: int = 0
    round_trips: int | None = None  # PostgreSQL only


@contextmanager
def _database_url(kind: str, postgres_url: str) -> Iterator[tuple[str, object]]:
    with database(kind, postgres_url=postgres_url) as url:
        if kind != "postgresql":
            yield url, None
            return
        parsed = sa.make_url(url)
        forwarder = CountingForwarder((parsed.host or "127.0.0.1", parsed.port or 5432))
        try:
            yield (
                parsed.set(host="127.0.0.1", port=forwarder.port).render_as_string(
                    hide_password=False
                ),
                forwarder,
            )
        finally:
            forwarder.close()


def count(kind: str = "sqlite", postgres_url: str = POSTGRES_URL) -> dict[str, list]:
    """Each case's reads (the first left out), on a fresh database of ``kind``."""
    from webtest import TestApp

    from app import main

    found: dict[str, list[Read]] = {}
    with (
        _database_url(kind, postgres_url) as (url, forwarder),
        tempfile.TemporaryDirectory(prefix="authsite-bench-") as tmp,
    ):
        for case, overrides in CASES.items():
            wsgi = main(
                {}, **product_settings(url, "http://localhost", tmp, **overrides)
            )
            engine = wsgi.registry["db_engine"]
            try:
                browser = TestApp(wsgi)
                form = browser.get("/signup").forms[0]
                form["email"] = f"{case}@example.com"
                form["password"] = form["password_confirm"] = PASSWORD
                if form.submit().status_int != 302:
                    raise SystemExit(f"bench.queries: signup failed for {case}")
                reads = []
                _listen(engine, reads)
                for _ in range(READS + 1):
                    reads.append(Read())
                    if forwarder is not None:
                        forwarder.reset()
                    answer = browser.get("/api/auth/session")
                    if not (answer.json and answer.json.get("user")):
                        raise SystemExit(f"bench.queries: no session for {case}")
                    if forwarder is not None:
                        reads[-1].round_trips = forwarder.writes
                del reads[0]  # the first read warms the caches
                found[case] = reads
            finally:
                engine.dispose()
    return found


def _listen(engine, reads: list[Read]) -> None:
    """Record the engine's work into the last of ``reads``."""

    def statement(conn, cursor, text, *args) -> None:
        reads[-1].statements.append(" ".join(text.split())[:80])

    def end(kind: str):
        return lambda conn: reads[-1].ends.append(kind)

    def checkout(*args) -> None:
        reads[-1].checkouts += 1

    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(engine, "commit", end("COMMIT"))
    sa.event.listen(engine, "rollback", end("ROLLBACK"))
    sa.event.listen(engine.pool, "checkout", checkout)


def report(kind: str, found: dict[str, list[Read]]) -> str:
    lines = [f"per session read ({kind}; median of {READS} reads after the first):"]
    for case, reads in found.items():
        statements = statistics.median(len(r.statements) for r in reads)
        checkouts = statistics.median(r.checkouts for r in reads)
        ends = reads[-1].ends
        line = (
            f"  {case:<10} {statements:g} statements, {checkouts:g} pool "
            f"check-outs, ends {'+'.join(ends) or 'none'}"
        )
        if reads[-1].round_trips is not None:
            trips = statistics.median(r.round_trips for r in reads)
            line += f", {trips:g} round trips"
        lines.append(line)
        for text in reads[-1].statements:
            lines.append(f"      {text}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    args = parser.parse_args(argv)
    print(report(args.database, count(args.database)))


if __name__ == "__main__":
    main()
