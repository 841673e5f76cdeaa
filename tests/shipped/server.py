"""The site as shipped: ``development.ini`` served by a real ``pserve``.

The suite's other layers build the app from settings in the test process; a
bug that only shows with the file's own ``[app:main]`` (its
``pyramid.includes = pyramid_debugtoolbar`` once hid every form body from the
core) escapes them. This layer starts ``pserve`` on a wrapper ini that uses
``development.ini#main`` unchanged and overrides only what isolates the run:
the database (a temp SQLite file migrated with ``alembic -c development.ini``)
and the development mail directory; its ``[server:main]`` picks a free port
on 127.0.0.1 (the toolbar's ``debugtoolbar.hosts``, so the toolbar is on).

The server keeps development.ini's throttling (5 signups a minute from one
address): the tests of a worker share one server, so keep the signups few.

``shipped`` is a session fixture; tests/shipped/conftest.py and the browser
journey (tests/browser/test_shipped_journey.py, which needs tests/browser's
one Chromium per process) import it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Variables of the developer's shell that would change what the file configures.
FOREIGN = ("APP_ENV", "AUTH_URL", "AUTH_SECRET", "AUTH_TRUST_HOST", "REDIS_URL")
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class ShippedServer:
    url: str
    log: Path


def _environment(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in FOREIGN and not k.startswith("AUTH_")
    }
    env["DATABASE_URL"] = database_url
    return env


def _wait_until_serving(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"pserve exited ({process.returncode}):\n{log.read_text()}"
            )
        try:
            if requests.get(f"{url}/api/auth/csrf", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"pserve did not answer in {START_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="session")
def shipped(tmp_path_factory) -> Iterator[ShippedServer]:
    """``pserve`` on development.ini as shipped; yields its URL and log file."""
    tmp = tmp_path_factory.mktemp("shipped")
    database_url = f"sqlite:///{tmp / 'shipped.sqlite'}"
    env = _environment(database_url)
    subprocess.run(
        [BIN / "alembic", "-c", ROOT / "development.ini", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    ini = tmp / "shipped.ini"
    ini.write_text(
        "[app:main]\n"
        f"use = config:{ROOT / 'development.ini'}#main\n"
        f"sqlalchemy.url = {database_url}\n"
        f"mail.dev_maildir = {tmp / 'mail'}\n"
        f"mail.queue_path = {tmp / 'mail-queue'}\n"
        "\n"
        "[server:main]\n"
        "use = egg:waitress#main\n"
        f"listen = 127.0.0.1:{port}\n"
    )
    log = tmp / "pserve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [BIN / "pserve", ini], cwd=tmp, env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, url, log)
        yield ShippedServer(url=url, log=log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
