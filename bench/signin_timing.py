"""Sign-in timing: a successful sign-in against an unknown-email one, same run.

``.venv/bin/python -m bench.signin_timing [--tries N]`` builds the real app
(development settings, a fresh SQLite file, throttling on with limits too
high to trigger, so its cost is counted), signs one account up through
``/signup``, then times ``POST /api/auth/callback/credentials`` (the core's
sign-in form, Auth.js CSRF token included) through webtest, interleaving:

- a successful sign-in (right password),
- an unknown email,
- a wrong password for the existing account,

and one bare argon2id verification of the stored hash. It prints the medians,
the unknown/successful ratio (target 0.9 to 1.1: an unknown email must not be
told apart by timing) and the cost of a sign-in beyond one argon2
verification (target under 5 ms). Not part of the test suite.
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
KINDS = ("verify", "ok", "unknown", "wrong")
EMAIL = "bench.person@example.com"
PASSWORD = "violet tractor umbrella 42"  # noqa: S105 - bench data


def build(tmp: str) -> TestApp:
    from app import main
    from bench.common import bench_settings
    from tests.conftest import migrate

    db = str(Path(tmp) / "bench.sqlite")
    migrate(f"sqlite:///{db}")
    settings = bench_settings(
        db,
        **{
            "ratelimit.enabled": "true",
            "ratelimit.storage_url": "memory://",
            "ratelimit.signin_ip": "1000000/minute",
            "ratelimit.signin_account": "1000000/minute",
            "ratelimit.signup_ip": "1000000/minute",
        },
    )
    # lint=False: webtest's WSGI checker is a test aid, not part of a request
    return TestApp(main({}, **settings), lint=False)


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


def timed(fn, *args) -> tuple[object, Timing]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def timed_signin(app: TestApp, email: str, password: str, expect_ok: bool) -> Timing:
    app.reset()  # a fresh browser: no session cookie to read first
    token = app.get("/api/auth/csrf").json["csrfToken"]
    data = {"csrfToken": token, "email": email, "password": password}
    response, timing = timed(app.post, SIGNIN, data)
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


def run(tries: int) -> None:
    from app.registration import registration_settings
    from app.registration.passwords import PasswordHasher

    with tempfile.TemporaryDirectory(prefix="authsite-bench-") as tmp:
        app = build(tmp)
        signup(app)
        params = registration_settings(app.app.registry).argon2
        hasher = PasswordHasher(params)  # the app's own parameters
        hashed = stored_hash(app)

        samples: dict[str, list[Timing]] = {k: [] for k in KINDS}
        for i in range(tries + 3):
            (ok, _), verify = timed(hasher.verify, PASSWORD, hashed)
            assert ok
            rounds = [
                ("ok", EMAIL, PASSWORD, True),
                ("unknown", f"nobody.{i}@example.com", PASSWORD, False),
                ("wrong", EMAIL, PASSWORD + "x", False),
            ]
            # rotate the order so no kind always runs first (caches, CPU boost)
            rounds = rounds[i % 3 :] + rounds[: i % 3]
            results = {kind: timed_signin(app, *args) for kind, *args in rounds}
            if i >= 3:  # warm-up
                samples["verify"].append(verify)
                for kind, value in results.items():
                    samples[kind].append(value)
    report(samples, params, tries)


def report(samples: dict[str, list[Timing]], params, tries: int) -> None:
    def med(values) -> float:
        return statistics.median(values) * 1000

    wall = {kind: med(t[0] for t in v) for kind, v in samples.items()}
    # Paired (same round) differences cancel the drift of a busy machine.
    beyond = {
        kind: med(
            a[0] - v[0] for a, v in zip(samples[kind], samples["verify"], strict=True)
        )
        for kind in KINDS[1:]
    }
    beyond_cpu = {
        kind: med(
            a[1] - v[1] for a, v in zip(samples[kind], samples["verify"], strict=True)
        )
        for kind in KINDS[1:]
    }
    ratio = wall["unknown"] / wall["ok"]
    print(
        f"sign-in timing: argon2id m={params.memory_cost} t={params.time_cost} "
        f"p={params.parallelism}, median of {tries} tries each (same run, interleaved)"
    )
    print(f"  one argon2id verification     {wall['verify']:8.2f} ms")
    labels = {"ok": "successful", "unknown": "unknown-email", "wrong": "wrong-password"}
    for kind, label in labels.items():
        print(
            f"  {label + ' sign-in':<29} {wall[kind]:8.2f} ms   beyond one "
            f"verification: +{beyond[kind]:.2f} ms (CPU +{beyond_cpu[kind]:.2f} ms)"
        )
    print(f"  ratio unknown / successful    {ratio:8.3f}    (target 0.9 to 1.1)")
    print(
        f"  successful sign-in beyond one verification: {beyond['ok']:.2f} ms "
        "(target < 5 ms; webtest's own request handling included)"
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
