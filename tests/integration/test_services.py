"""The suite's own servers (tests/services.py): the throwaway path runs here
whatever the machine has, so CI proves a bare machine can run the suite."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
from webtest import TestApp

from app import main
from tests.conftest import BASE_SETTINGS, ROOT, migrate
from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    csrf_token,
    session,
    signup,
    unique_email,
)
from tests.services import (
    MODE_VARIABLE,
    find_services,
    free_port,
    postgres_problem,
    redis_problem,
)


def _signin(wsgi, email: str, password: str) -> tuple[TestApp, str]:
    """A fresh browser signs in: the browser and where it was sent."""
    browser = TestApp(wsgi)
    answer = browser.post(
        "/api/auth/callback/credentials",
        {"csrfToken": csrf_token(browser), "email": email, "password": password},
        status=302,
    )
    return browser, answer.headers["Location"]


def test_site_runs_on_throwaway_servers_and_survives_their_restart(
    throwaway_postgres, throwaway_redis
):
    migrate(throwaway_postgres.url)
    wsgi = main(
        {},
        **{
            **BASE_SETTINGS,
            "sqlalchemy.url": throwaway_postgres.url,
            "ratelimit.enabled": "true",
            "ratelimit.storage_url": throwaway_redis.url,
            "ratelimit.key_prefix": "bootstrap",
            "ratelimit.signin_account": "2/minute",
        },
    )
    try:
        kept, throttled = unique_email("kept"), unique_email("throttled")
        signup(TestApp(wsgi), kept, status=302)
        signup(TestApp(wsgi), throttled, status=302)
        for _ in range(2):
            _, refused = _signin(wsgi, throttled, "not my password at all")
            assert refused.endswith("code=credentials")
        # the limiter counts in this Redis: the right password is refused too
        _, throttled_at = _signin(wsgi, throttled, GOOD_PASSWORD)
        assert throttled_at.endswith("code=rate_limited")
        counters = redis.Redis.from_url(throwaway_redis.url)
        assert counters.keys("*bootstrap*")
        counters.close()

        throwaway_postgres.restart()
        throwaway_redis.restart()

        # the rows survived and the same app reconnected by itself
        browser, _ = _signin(wsgi, kept, GOOD_PASSWORD)
        assert session(browser)["user"]["email"] == kept
        # and so did the counters
        _, throttled_at = _signin(wsgi, throttled, GOOD_PASSWORD)
        assert throttled_at.endswith("code=rate_limited")
    finally:
        wsgi.registry["db_engine"].dispose()


def test_answering_servers_are_used_as_they_are(postgres_url, redis_url):
    found = find_services({}, postgres_default=postgres_url, redis_default=redis_url)

    assert (found.postgres.url, found.redis.url) == (postgres_url, redis_url)
    assert (found.postgres.server, found.redis.server) == (None, None)
    assert found.summary()[0].endswith("(running)")


def test_a_silent_default_gets_a_throwaway_server(postgres_url):
    silent_port = free_port()
    silent = f"redis://127.0.0.1:{silent_port}/0"

    found = find_services({}, postgres_default=postgres_url, redis_default=silent)
    try:
        assert found.postgres.server is None
        assert found.redis.server is not None
        assert found.redis.url != silent
        assert redis_problem(found.redis.url) is None
        assert found.redis.summary.startswith("Redis: throwaway on 127.0.0.1:")
        assert f"(127.0.0.1:{silent_port}: " in found.redis.summary
    finally:
        found.close()
    assert redis_problem(found.redis.url) is not None
    assert not found.redis.server.directory.exists()


def test_a_named_server_must_answer():
    silent = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"

    with pytest.raises(pytest.UsageError, match="TEST_POSTGRES_URL=.* does not answer"):
        find_services({"TEST_POSTGRES_URL": silent})


def test_an_unknown_mode_is_refused():
    with pytest.raises(pytest.UsageError, match=f"{MODE_VARIABLE} must be one of"):
        find_services({MODE_VARIABLE: "docker"})


INNER_TEST = """
import os, pathlib, time

def test_runs_until_interrupted(postgres_url, redis_url):
    pathlib.Path(os.environ["BOOTSTRAP_OUT"]).write_text(f"{postgres_url} {redis_url}")
    time.sleep(60)
"""


def test_an_interrupted_run_stops_and_removes_its_servers():
    """``AUTHSITE_TEST_SERVICES=throwaway pytest``, and Ctrl-C (SIGINT) while
    its test runs. (Without xdist: on Ctrl-C xdist waits 10 s for its
    workers; the cleanup is the same, in the controller.)"""
    # PostgreSQL may run as another user here (under root): it must reach its directory
    scratch = Path(tempfile.mkdtemp(prefix="authsite-bootstrap-"))
    scratch.chmod(0o711)
    try:
        (scratch / "test_inner.py").write_text(INNER_TEST)
        out = scratch / "out"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env |= {MODE_VARIABLE: "throwaway", "TMPDIR": str(scratch)}
        env["BOOTSTRAP_OUT"] = str(out)
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "tests.services", "-p", "no:xdist"]
            + ["-p", "no:cacheprovider", "--rootdir", str(scratch)]
            + [str(scratch / "test_inner.py")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not out.exists() or not out.read_text():
                assert run.poll() is None, run.stdout.read()
                assert time.monotonic() < deadline, "the inner run never started"
                time.sleep(0.1)
            postgres_url, redis_url = out.read_text().split()
            run.send_signal(signal.SIGINT)
            output, _ = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()

        assert run.returncode == pytest.ExitCode.INTERRUPTED, output
        for name, url in (("PostgreSQL", postgres_url), ("Redis", redis_url)):
            port = url.split(":")[2].split("/")[0]
            assert f"{name}: throwaway on 127.0.0.1:{port}, started in" in output
        assert postgres_problem(postgres_url) is not None
        assert redis_problem(redis_url) is not None
        assert not list(scratch.glob("authsite-*"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
