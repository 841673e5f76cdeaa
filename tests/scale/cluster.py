"""The site as several processes: real ``pserve`` processes of ``production.ini``.

A :class:`Cluster` is what docs/deployment.md describes, on 127.0.0.1: one
database migrated with ``alembic -c production.ini upgrade head``, one Redis
for the rate-limit counters, one mail queue directory, and N ``pserve``
processes of the same ini file, each on its own port (``pserve site.ini
http_port=N``), with their secret and URLs in the environment.

The ini is a wrapper that uses ``production.ini#main`` unchanged and
overrides only what the test needs: the SMTP server (a sink), the mail
queue's directory, optional email verification (so a signup signs in), the
session strategy, a Redis key prefix of the test's own, and limits that a
module's worth of sign-ins from 127.0.0.1 cannot reach, except the one under
test (``ratelimit.signin_account``).

Behind a real proxy every process would have the same ``AUTH_URL``; here
the test talks to each process directly, so each gets its own origin (the
forms post to ``AUTH_URL``; cookies of 127.0.0.1 go to every port).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import ROOT, free_port

BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
#: what the cluster's own settings must not inherit from the developer's shell
FOREIGN = ("APP_ENV", "DATABASE_URL", "REDIS_URL", "PYTHONPATH")
#: the limit the tests reach on purpose (failed sign-ins per account)
SIGNIN_ACCOUNT_LIMIT = 4


def environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in FOREIGN and not k.startswith("AUTH_")
    }
    env.update(extra)
    return env


def write_ini(
    path: Path,
    *,
    smtp_port: int,
    queue: Path,
    strategy: str,
    key_prefix: str,
    check_interval: float,
) -> Path:
    path.write_text(
        "[app:main]\n"
        f"use = config:{ROOT / 'production.ini'}#main\n"
        "mail.host = 127.0.0.1\n"
        f"mail.port = {smtp_port}\n"
        f"mail.queue_path = {queue}\n"
        "registration.email_verification = optional\n"
        f"auth.session.check_interval = {check_interval}\n"
        f"auth.session.strategy = {strategy}\n"
        f"ratelimit.key_prefix = {key_prefix}\n"
        f"ratelimit.signin_account = {SIGNIN_ACCOUNT_LIMIT}/minute\n"
        "ratelimit.signin_ip = 10000/minute\n"
        "ratelimit.signup_ip = 10000/minute\n"
        "ratelimit.reset_ip = 10000/minute\n"
        "ratelimit.magic_link_ip = 10000/minute\n"
        "ratelimit.mail_account = 10000/minute\n"
        "\n"
        "[server:main]\n"
        "use = egg:waitress#main\n"
        "listen = 127.0.0.1:%(http_port)s\n"
        "threads = 4\n"
    )
    return path


def migrate(database_url: str, cwd: Path = ROOT) -> None:
    """The deployment's migration step: ``alembic -c production.ini upgrade head``."""
    subprocess.run(
        [BIN / "alembic", "-c", ROOT / "production.ini", "upgrade", "head"],
        cwd=cwd,
        env=environment(DATABASE_URL=database_url, AUTH_SECRET="unused-by-alembic"),
        check=True,
        capture_output=True,
        timeout=120,
    )


@dataclass
class AppProcess:
    """One ``pserve`` process of the cluster's ini."""

    url: str
    log: Path
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    ini: Path
    env: dict[str, str]  # what every process and command of the site gets
    directory: Path
    queue: Path  # mail.queue_path, shared by every process
    processes: list[AppProcess] = field(default_factory=list)

    def start(self, count: int) -> list[AppProcess]:
        """Start ``count`` processes at once, then wait until each answers."""
        started = []
        for _ in range(count):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = self.directory / f"pserve-{port}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [BIN / "pserve", self.ini, f"http_port={port}"],
                    cwd=self.directory,
                    env={**self.env, "AUTH_URL": url},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(AppProcess(url, log, process))
        self.processes += started
        for app in started:
            _wait_until_serving(app)
        return started

    def command(self, *args: str) -> subprocess.Popen:
        """A scheduled command of the site (``authsite-mail``, ...), started."""
        return subprocess.Popen(
            [BIN / args[0], *args[1:]],
            cwd=self.directory,
            env={**self.env, "AUTH_URL": self.processes[0].url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> None:
        for app in self.processes:
            app.stop()


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def _wait_until_serving(app: AppProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(
                f"pserve exited ({app.process.returncode}):\n{app.log_text()}"
            )
        try:
            if requests.get(f"{app.url}/api/auth/csrf", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"pserve did not answer in {START_TIMEOUT:.0f} s:\n{app.log_text()}"
    )
