"""The session-read benchmark on a tiny bounded load: every server (JWT, JWT
with the check on every read, database sessions, plain) starts, answers 200
with the signed-in session, and the run yields figures (checked by
``check_session_read`` inside the whole command's run). No timing is
asserted; the figures are for people to read."""

from __future__ import annotations

from bench.common import Server, load
from bench.plain import COOKIE
from bench.session_read import CONTENDERS, EMAIL, SESSION_PATH, report


def check_session_read(run, *, rounds: int, requests: int) -> None:
    """What a session-read run must hold: every contender answered every
    request with the session, before and after the load, and has figures.
    (``tests/bench_smoke/test_scale.py`` runs it inside the whole command.)"""
    assert [c.name for c in CONTENDERS] == ["jwt", "jwt-stateless", "database", "plain"]
    for c in CONTENDERS:
        for r in run.rounds[c.name]:
            assert (r.load.requests, r.load.failures) == (requests, 0)
            assert r.load.rps > 0 and 0 < r.load.p50_ms <= r.load.p99_ms
            assert r.cpu_us > 0
        assert len(run.rounds[c.name]) == rounds
        # before and after the load, the session of the account signed in
        assert [s["user"]["email"] for s in run.sessions[c.name]] == [EMAIL, EMAIL]
        assert run.rss_mib[c.name] > 0
    text = report(run)
    assert run.options["database"] in text
    for line in (
        "jwt/plain throughput: ",
        "jwt/plain p99: ",
        "database/plain throughput: ",
        "jwt/jwt-stateless throughput: ",
        "database/jwt throughput: ",
    ):
        assert line in text


def test_an_answer_without_a_session_counts_as_a_failure():
    """A server that stops finding the session answers ``null`` quickly; the
    load generator must not count that as a served session read."""
    server = Server("plain", threads=1)
    try:
        result = load(
            server.port,
            SESSION_PATH,
            {COOKIE: "not-a-token"},
            requests=10,
            clients=1,
            max_seconds=30,
            expect=b"{",
        )
    finally:
        server.close()
    assert (result.requests, result.failures) == (10, 10)
