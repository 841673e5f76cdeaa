"""The one-command benchmark (``bench.scale``) and its parts run end to end on
a tiny bounded load, on each database: sign-in throughput (every answer the
302 to the site), two processes against one, the statement count of a
session read, and the summary table. No timing is asserted."""

from __future__ import annotations

import argparse
import os

import pytest

from bench import queries, scale, session_read
from bench.common import Expect, Request, Server, database, load
from bench.session_read import EMAIL, PASSWORD, csrf, sign_up
from tests.bench_smoke.test_session_read import check_session_read


def tiny(**overrides) -> argparse.Namespace:
    options = dict(
        rounds=1,
        requests=30,
        warmup=0,
        signins=4,
        signin_rounds=1,
        two_rounds=1,
        clients=1,
        threads=2,
        max_seconds=60.0,
    )
    return argparse.Namespace(**{**options, **overrides})


@pytest.mark.slow
def test_the_whole_command_on_every_database(request, monkeypatch, postgres_url):
    """One run over every backend, as ``python -m bench.scale`` does; each
    session-read run is checked as it is handed to the summary."""
    kinds = [k.strip() for k in request.config.getoption("--db").split(",")]
    runs = []

    def measure(*args, **kwargs):
        runs.append(real_measure(*args, **kwargs))
        return runs[-1]

    real_measure = session_read.measure
    monkeypatch.setattr(session_read, "measure", measure)
    echoed: list[str] = []

    text = scale.run(
        tiny(), kinds, "test", postgres_url=postgres_url, echo=echoed.append
    )

    assert [run.options["database"] for run in runs] == kinds
    for run in runs:
        check_session_read(run, rounds=1, requests=30)
    assert "== summary ==" in text
    for label in (
        "session read req/s, jwt",
        "session read req/s, database",
        "session read req/s, plain",
        "database/jwt (target >= 0.5x)",
        "sign-ins/s, jwt",
        "sign-ins/s, database",
        "RSS after sign-ins (peak), jwt",
        "database work per read, database",
        "two processes / one",
    ):
        assert label in text
    for kind in kinds:
        assert any(line.startswith(f"sign-in ({kind}, ") for line in echoed)
    # two processes against one ran (a failed load would have stopped it)
    assert "session read: " in text and "sign-in:      " in text
    assert text.count("busy cores of ") == 2


def test_a_refused_sign_in_counts_as_a_failure(db_backend, postgres_url):
    """A wrong password is answered quickly (a redirect to the error page):
    the load generator must not count it as a sign-in."""
    with database(db_backend, postgres_url=postgres_url) as url:
        server = Server("product", threads=2, database_url=url)
        try:
            sign_up(server.port)
            jar: dict[str, str] = {}
            form = {"csrfToken": csrf(server.port, jar), "email": EMAIL}
            expect = Expect(status=302, location=server.origin)
            results = [
                load(
                    server.port,
                    Request(
                        scale.SIGNIN_PATH,
                        "POST",
                        {**form, "password": password},
                        follow_cookies=False,
                    ),
                    jar,
                    requests=3,
                    clients=1,
                    max_seconds=60,
                    expect=expect,
                )
                for password in (PASSWORD, PASSWORD + " but wrong")
            ]
        finally:
            server.close()

    right, wrong = results
    assert (right.requests, right.failures) == (3, 0)
    assert (wrong.requests, wrong.failures) == (3, 3)
    # the machine's busy cores while the clients ran (a sign-in hashes: > 0)
    assert 0 < right.busy_cores <= (os.cpu_count() or 1)


def test_statements_per_session_read(db_backend, postgres_url):
    found = queries.count(db_backend, postgres_url)

    assert set(found) == set(queries.CASES)
    # JWT reads within the check interval, and stateless ones, ask nothing
    for case in ("jwt", "jwt-stateless"):
        assert all(read.statements == [] for read in found[case]), case
    # a database session read is one autocommitted SELECT: no BEGIN, and on
    # PostgreSQL one round trip (psycopg sends no BEGIN or ROLLBACK), but for
    # the query's fifth run, when psycopg prepares it on the server first
    for read in found["database"]:
        assert len(read.statements) == 1, read.statements
        assert read.statements[0].startswith("SELECT")
    if db_backend == "postgresql":
        trips = sorted(read.round_trips for read in found["database"])
        assert trips[:-1] == [1] * (len(trips) - 1) and trips[-1] <= 2, trips
    assert "per session read" in queries.report(db_backend, found)
