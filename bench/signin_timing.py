"""Sign-in timing: a successful sign-in against an unknown-email one, same run.

``.venv/bin/python -m bench.signin_timing [--tries N]`` builds the real app
(development settings, a fresh SQLite file, throttling on with limits too
high to trigger, so its cost is counted), signs one account up through
``/signup``, then times ``POST /api/auth/callback/credentials`` (the core's
sign-in form, Auth.js CSRF token included) through webtest, interleaving:

- a successful sign-in (right password),
- an unknown email,
- a wrong password for the existing account.

Each request is timed around the WSGI app (not webtest's client work), and
its own argon2id verification is timed inside it. It prints the medians, the
unknown/successful ratio (target 0.9 to 1.1: an unknown email must not be
told apart by timing) and the cost of a sign-in beyond its one verification
(target under 5 ms). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from webtest import TestApp

SIGNIN = "/api/auth/callback/credentials"
KINDS = ("ok", "unknown", "wrong")
EMAIL = "bench.person@example.com"
PASSWORD = "violet tractor umbrella 42"  # noqa: S105 - bench data


def build(tmp: str) -> TestApp:
    from app import main
    from bench.common import migrate, product_settings

    url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
    migrate(url)
    settings = product_settings(
        url,
        "http://localhost",
        tmp,
        **{
            "ratelimit.enabled": "true",
            "ratelimit.storage_url": "memory://",
            "ratelimit.signin_ip": "1000000/minute",
            "ratelimit.signin_account": "1000000/minute",
            "ratelimit.signup_ip": "1000000/minute",
        },
    )
    # lint=False: webtest's WSGI checker is a test aid, not part of a request
    return TestApp(ServerClock(main({}, **settings)), lint=False)


class ServerClock:
    """WSGI middleware timing the app itself (wall and CPU), not webtest's client
    work around it: what a sign-in costs the server."""

    def __init__(self, app) -> None:
        self.app = app
        self.registry = app.registry
        self.last: tuple[float, float] = (0.0, 0.0)

    def __call__(self, environ, start_response):
        wall, cpu = time.perf_counter(), time.process_time()
        body = list(self.app(environ, start_response))
        self.last = (time.perf_counter() - wall, time.process_time() - cpu)
        return body


def signup(app: TestApp) -> None:
    form = app.get("/signup").forms[0]
    form["email"] = EMAIL
    form["password"] = PASSWORD
    form["password_confirm"] = PASSWORD
    response = form.submit()
    if response.status_int != 302:
        raise SystemExit(f"signup failed: {response.status}")
    app.reset()


Timing = tuple[float, float]  # (wall, CPU of this process) in seconds


def timed_signin(app: TestApp, email: str, password: str, expect_ok: bool) -> Timing:
    app.reset()  # a fresh browser: no session cookie to read first
    token = app.get("/api/auth/csrf").json["csrfToken"]
    data = {"csrfToken": token, "email": email, "password": password}
    response = app.post(SIGNIN, data)
    timing = app.app.last
    refused = "error=CredentialsSignin" in response.location
    if response.status_int != 302 or refused == expect_ok:
        raise SystemExit(f"unexpected answer for {email}: {response.location}")
    return timing


def stored_hash(app: TestApp) -> str:
    import sqlalchemy as sa

    engine = app.app.registry["db_engine"]
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT hash FROM registration_passwords")
        ).scalar_one()


class HashClock:
    """Times the app's own argon2 verifications (wall, CPU), inside the request."""

    def __init__(self, hasher) -> None:
        self.last: tuple[float, float] = (0.0, 0.0)
        for name in ("verify", "verify_dummy"):
            setattr(hasher, name, self._timed(getattr(hasher, name)))

    def _timed(self, fn):
        def wrapper(*args, **kw):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                self.last = (time.perf_counter() - wall, time.process_time() - cpu)

        return wrapper


def run(tries: int) -> None:
    from app.registration import registration_settings
    from app.registration.interfaces import IPasswordHasher

    with tempfile.TemporaryDirectory(prefix="authsite-bench-") as tmp:
        app = build(tmp)
        signup(app)
        params = registration_settings(app.app.registry).argon2
        clock = HashClock(app.app.registry.getUtility(IPasswordHasher))

        samples: dict[str, list[Timing]] = {
            name: [] for k in KINDS for name in (k, k + ":hash")
        }
        for i in range(tries + 3):
            rounds = [
                ("ok", EMAIL, PASSWORD, True),
                ("unknown", f"nobody.{i}@example.com", PASSWORD, False),
                ("wrong", EMAIL, PASSWORD + "x", False),
            ]
            # rotate the order so no kind always runs first (caches, CPU boost)
            rounds = rounds[i % 3 :] + rounds[: i % 3]
            for kind, *args in rounds:
                total = timed_signin(app, *args)
                if i >= 3:  # warm-up
                    samples[kind].append(total)
                    samples[kind + ":hash"].append(clock.last)
    report(samples, params, tries)


def report(samples: dict[str, list[Timing]], params, tries: int) -> None:
    def med(values) -> float:
        return statistics.median(values) * 1000

    wall = {kind: med(t[0] for t in samples[kind]) for kind in KINDS}
    hashing = {kind: med(t[0] for t in samples[kind + ":hash"]) for kind in KINDS}
    # Each request's own verification is subtracted from that request's time,
    # so the figure is what a sign-in costs beyond one verification, without
    # the drift of a busy machine between separate measurements.
    beyond = {
        kind: med(
            a[0] - h[0]
            for a, h in zip(samples[kind], samples[kind + ":hash"], strict=True)
        )
        for kind in KINDS
    }
    beyond_cpu = {
        kind: med(
            a[1] - h[1]
            for a, h in zip(samples[kind], samples[kind + ":hash"], strict=True)
        )
        for kind in KINDS
    }
    ratio = wall["unknown"] / wall["ok"]
    print(
        f"sign-in timing: argon2id m={params.memory_cost} t={params.time_cost} "
        f"p={params.parallelism}, median of {tries} tries each (same run, interleaved)"
    )
    labels = {"ok": "successful", "unknown": "unknown-email", "wrong": "wrong-password"}
    for kind, label in labels.items():
        print(
            f"  {label + ' sign-in':<24} {wall[kind]:8.2f} ms  (its argon2 verification "
            f"{hashing[kind]:6.2f} ms, the rest +{beyond[kind]:.2f} ms, CPU "
            f"+{beyond_cpu[kind]:.2f} ms)"
        )
    print(f"  ratio unknown / successful    {ratio:8.3f}    (target 0.9 to 1.1)")
    print(
        f"  successful sign-in beyond its one verification: {beyond['ok']:.2f} ms "
        "(target < 5 ms; timed around the WSGI app)"
    )
    within = 0.9 <= ratio <= 1.1 and beyond["ok"] < 5
    print("  within targets" if within else "  OUTSIDE TARGETS")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=40, help="tries per kind (>= 30)")
    args = parser.parse_args(argv)
    if args.tries < 30:
        parser.error("--tries must be at least 30")
    run(args.tries)


if __name__ == "__main__":
    main(sys.argv[1:])
