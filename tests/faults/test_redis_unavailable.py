"""Redis, where the rate-limit counters live, stopped for real while the site
runs (issue 12, item 4): every limit fails open with a logged warning (no
5xx, no traceback), and once Redis is back the same app counts and refuses
again by itself, with the counters a clean restart kept.

The Redis server is the test's own (``throwaway_redis``), never the
session's, which other workers use.
"""

from __future__ import annotations

import logging

import pytest
from webtest import TestApp

from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    session,
    signin,
    signup,
    unique_email,
)

LIMITER = "app.registration.ratelimit"
WRONG = "not the password at all"


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def browser(wsgi, address: str = "203.0.113.5") -> TestApp:
    return TestApp(wsgi, extra_environ={"REMOTE_ADDR": address})


def outcome(wsgi, email: str, password: str) -> str:
    """``ok``, or the ``code`` of the refused sign-in."""
    location = signin(browser(wsgi), email, password).location
    return location.rsplit("code=", 1)[1] if "error=" in location else "ok"


def storage_warnings(logs) -> list[str]:
    return [
        r.getMessage()
        for r in logs.records
        if r.name == LIMITER and r.levelno == logging.WARNING
    ]


def errors(logs) -> list[str]:
    return [r.getMessage() for r in logs.records if r.levelno >= logging.ERROR]


@pytest.fixture
def site(make_wsgi, throwaway_redis, smtp_server):
    return make_wsgi(
        ratelimit__enabled="true",
        ratelimit__storage_url=throwaway_redis.url,
        ratelimit__key_prefix="faults",
        ratelimit__signin_account="2/minute",
        ratelimit__signup_ip="3/minute",
    )


def test_limits_fail_open_while_redis_is_stopped_and_count_again_once_it_is_back(
    site, throwaway_redis, logs
):
    held, free = unique_email("held"), unique_email("free")
    signup(browser(site, "198.51.100.1"), held, status=302)
    signup(browser(site, "198.51.100.2"), free, status=302)
    # Redis up: the limit holds
    assert [outcome(site, held, WRONG) for _ in range(2)] == ["credentials"] * 2
    assert outcome(site, held, GOOD_PASSWORD) == "rate_limited"

    throwaway_redis.stop()
    logs.clear()
    down = [outcome(site, free, WRONG) for _ in range(4)]
    signed_in = browser(site)
    signin(signed_in, free, GOOD_PASSWORD)
    # signups from one address: over signup_ip's 3/minute, all let through
    for _ in range(4):
        signup(browser(site, "198.51.100.3"), unique_email("down"), status=302)
    warned = storage_warnings(logs)

    assert down == ["credentials"] * 4  # answered, never throttled, never a 5xx
    assert session(signed_in)["user"]["email"] == free  # the right password works
    assert warned and all(
        "rate limit storage redis unavailable" in m for m in warned
    ), warned
    assert "letting the attempt through" in warned[0]
    assert errors(logs) == []

    throwaway_redis.start()
    logs.clear()
    back = [outcome(site, free, WRONG) for _ in range(2)]

    assert back == ["credentials"] * 2
    assert outcome(site, free, GOOD_PASSWORD) == "rate_limited"
    # the counts from before the stop survived it (Redis saved them on SIGTERM)
    assert outcome(site, held, GOOD_PASSWORD) == "rate_limited"
    assert storage_warnings(logs) == []
    assert errors(logs) == []


def test_redis_stopped_before_the_first_request(site, throwaway_redis, logs):
    """A process whose Redis was never reachable serves, and starts counting
    when Redis comes up, without a restart of its own."""
    throwaway_redis.stop()
    email = unique_email("first")
    signup(browser(site), email, status=302)
    assert [outcome(site, email, WRONG) for _ in range(3)] == ["credentials"] * 3

    throwaway_redis.start()

    assert [outcome(site, email, WRONG) for _ in range(2)] == ["credentials"] * 2
    assert outcome(site, email, GOOD_PASSWORD) == "rate_limited"
    assert storage_warnings(logs)
    assert errors(logs) == []
