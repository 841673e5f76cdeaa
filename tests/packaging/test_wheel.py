"""The package as shipped: a wheel, installed without ``-e``, serving every page.

``make test`` installs the project in editable mode, so templates and static
files are read straight from the checkout and a wheel that lacks them goes
unnoticed (it once held registration's templates only, and every other page
of an installed site answered 500). Here the wheel is built from a copy of the
sources and installed with its dependencies into a fresh virtualenv; a
deployment directory gets ``production.ini`` and ``migrations/`` as the
README describes, is migrated with that virtualenv's ``alembic`` and served
with its ``pserve``, and every page is fetched. Every command runs from a
temporary directory, so the checkout's ``app/`` cannot stand in for a missing
file. pip's cache makes a repeat run quick.

It is one test on purpose: pytest-xdist may hand tests of one module to
different workers, and each would build its own wheel and virtualenv.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import ROOT, free_port

# Bounds for each step, so a stuck pip or server fails the test instead of
# hanging the suite; a warm run takes a small part of them.
STEP_TIMEOUT = 300
START_TIMEOUT = 60

# What neither a build nor a deployment reads: version control, virtualenvs,
# caches and earlier build output (a stale build/ could hide a missing file).
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "var",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    "test-results",
)

# Variables of the surrounding shell that would point the subprocesses at the
# checkout (PYTHONPATH) or at another configuration than this test's.
LEAKY = (
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "APP_ENV",
    "AUTH_SECRET",
    "AUTH_URL",
    "AUTH_TRUST_HOST",
    "DATABASE_URL",
    "REDIS_URL",
)


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    env.update(extra)
    return env


def _tail(text: str, lines: int = 40) -> str:
    # pip repeats a warning per package for index locations this machine lacks.
    kept = [line for line in text.splitlines() if "it is neither a file" not in line]
    return "\n".join(kept[-lines:])


def _run(args: list, cwd: Path, env: dict | None = None) -> str:
    """Run a command to completion and return its output; fail the test otherwise."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env if env is not None else _env(),
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(str(a) for a in args)} exited {done.returncode}\n"
            f"{_tail(done.stdout)}\n{_tail(done.stderr)}"
        )
    return done.stdout


@pytest.fixture
def wheel(tmp_path_factory) -> Path:
    """A wheel built with ``pip wheel --no-deps`` from a copy of the sources."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    dist = work / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source],
        cwd=work,
    )
    (built,) = dist.glob("authsite-*.whl")
    return built


# Named as well, so the comparison with the checkout cannot pass on a moved
# or empty tree.
ESSENTIAL = {
    "app/auth/templates/signin.jinja2",
    "app/auth/templates/providers/credentials.jinja2",
    "app/registration/templates/mail/verify.txt.jinja2",
    "app/site/templates/home.jinja2",
    "app/templates/layout.jinja2",
    "app/static/site.css",
    "app/registration/common_passwords.txt.gz",
}


def _missing_from(wheel: Path) -> list[str]:
    """The files of the checkout's ``app/`` (templates, static files, data) the wheel lacks."""
    package_files = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "app").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    return sorted((package_files | ESSENTIAL) - set(zipfile.ZipFile(wheel).namelist()))


@dataclass
class Site:
    """A running deployment: its wheel, virtualenv, database and server."""

    wheel: Path
    venv: Path
    directory: Path
    database: Path
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        headers: dict | None = None,
    ) -> tuple[int, http.client.HTTPMessage, str]:
        """One HTTP request; redirects are returned, not followed."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            text = response.read().decode("utf-8")
            return response.status, response.headers, text
        finally:
            conn.close()


def _serve(site: Site, env: dict) -> subprocess.Popen:
    with site.log.open("w") as out:
        server = subprocess.Popen(
            [str(site.venv / "bin" / "pserve"), "serve.ini"],
            cwd=site.directory,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"pserve exited {server.returncode}\n{_tail(site.log.read_text())}"
            )
        try:
            socket.create_connection(("127.0.0.1", site.port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    server.wait(timeout=10)
    pytest.fail(
        f"pserve did not listen within {START_TIMEOUT} s\n{_tail(site.log.read_text())}"
    )


@pytest.fixture
def site(wheel, tmp_path) -> Iterator[Site]:
    """The wheel installed in a fresh virtualenv, migrated and served as production."""
    venv = tmp_path / "venv"
    # The test's own pip installs into the new virtualenv (pip --python), which
    # spares bootstrapping a second pip; --no-compile leaves bytecode to the
    # first import. Both only save time.
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    _run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python"]
        + ["install", "-q", "--no-compile", wheel],
        cwd=tmp_path,
    )

    # The deployment directory of the README: the release's ini file and
    # migrations side by side, secrets and URLs from the environment.
    directory = tmp_path / "site"
    directory.mkdir()
    shutil.copy(ROOT / "production.ini", directory / "production.ini")
    shutil.copytree(ROOT / "migrations", directory / "migrations", ignore=NOT_SOURCES)
    site = Site(
        wheel=wheel,
        venv=venv,
        directory=directory,
        database=directory / "authsite.sqlite",
        port=free_port(),
        log=directory / "pserve.log",
    )
    env = _env(
        AUTH_SECRET=secrets.token_urlsafe(48),
        AUTH_URL=site.base,
        DATABASE_URL=f"sqlite:///{site.database}",
    )
    _run(
        [venv / "bin" / "alembic", "-c", "production.ini", "upgrade", "head"],
        directory,
        env,
    )
    # production.ini's app section as shipped, on this test's port.
    (directory / "serve.ini").write_text(
        "[app:main]\n"
        "use = config:production.ini\n"
        "\n"
        "[server:main]\n"
        "use = egg:waitress#main\n"
        f"listen = 127.0.0.1:{site.port}\n"
    )

    server = _serve(site, env)
    try:
        yield site
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _check_page(site: Site, path: str) -> list[str]:
    """What is wrong with one page of the installed site (nothing: an empty list)."""
    status, headers, text = site.request("GET", path)
    kind = headers.get("Content-Type", "")
    base = site.base
    html = {
        "/": f'href="{base}/api/auth/signin?callbackUrl=',
        "/api/auth/signin": f'action="{base}/api/auth/callback/credentials"',
        "/api/auth/signout": f'action="{base}/api/auth/signout"',
        "/api/auth/error": f'href="{base}',
        "/api/auth/verify-request": "Check your email",
        "/signup": f'action="{base}/signup',
        "/account/reset": f'action="{base}/account/reset',
        "/account/verify/resend": f'action="{base}/account/verify/resend',
    }
    problems = []
    if path == "/members":
        location = headers.get("Location", "")
        if status != 302 or not location.startswith(f"{base}/api/auth/signin?"):
            problems.append(f"{status} to {location!r}, not 302 to the sign-in page")
        elif (
            "callbackUrl=" + urllib.parse.quote(f"{base}/members", safe="")
            not in location
        ):
            problems.append(f"the sign-in redirect {location!r} does not lead back")
    elif path in html:
        if status != 200 or not kind.startswith("text/html"):
            problems.append(f"{status} {kind}")
        if html[path] not in text or not text.rstrip().endswith("</html>"):
            problems.append(f"no {html[path]!r} in a whole page: {text[:300]!r}")
    elif path == "/api/auth/csrf":
        if status != 200 or not re.fullmatch(
            r"[0-9a-f]{64}", json.loads(text)["csrfToken"]
        ):
            problems.append(f"{status} {text[:200]!r}")
    elif path == "/api/auth/providers":
        if status != 200 or not {"credentials", "email"} <= json.loads(text).keys():
            problems.append(f"{status} {text[:200]!r}")
    elif path == "/api/auth/session":
        if status != 200 or json.loads(text) is not None:
            problems.append(f"{status} {text[:200]!r}")
    elif path == "/static/site.css":
        if status != 200 or text != (ROOT / "app/static/site.css").read_text():
            problems.append(f"{status} {kind}, not the checkout's site.css")
    else:
        raise AssertionError(f"no expectation for {path}")
    return [f"{path}: {problem}" for problem in problems]


PAGES = (
    "/",
    "/members",
    "/api/auth/signin",
    "/api/auth/signout",
    "/api/auth/error",
    "/api/auth/verify-request",
    "/api/auth/csrf",
    "/api/auth/providers",
    "/api/auth/session",
    "/signup",
    "/account/reset",
    "/account/verify/resend",
    "/static/site.css",
)


@pytest.mark.slow
def test_wheel_installs_migrates_and_serves_every_page(site):
    missing = _missing_from(site.wheel)
    imported = _run(
        [site.venv / "bin" / "python", "-c", "import app; print(app.__file__)"],
        cwd=site.directory,
    )
    head = ScriptDirectory.from_config(_alembic(ROOT / "migrations")).get_current_head()
    with sqlite3.connect(site.database) as db:
        (migrated,) = db.execute("SELECT version_num FROM alembic_version").fetchone()

    problems = [problem for path in PAGES for problem in _check_page(site, path)]
    signed_in = _sign_in_with_an_unknown_email(site)

    assert missing == [], "the wheel lacks these files of app/"
    assert Path(imported.strip()).is_relative_to(site.venv)
    assert migrated == head
    assert problems == [], "\n".join(problems) + "\n" + _tail(site.log.read_text())
    # The credential query ran on the migrated schema and found nobody.
    assert signed_in == (
        302,
        f"{site.base}/api/auth/signin?error=CredentialsSignin"
        "&email=nobody%40example.test&code=credentials",
    ), _tail(site.log.read_text())


def _sign_in_with_an_unknown_email(site: Site) -> tuple[int, str | None]:
    """POST the credentials form as the sign-in page would; the status and Location."""
    _, headers, text = site.request("GET", "/api/auth/csrf")
    cookies = SimpleCookie()
    for value in headers.get_all("Set-Cookie"):
        cookies.load(value)
    form = {
        "csrfToken": json.loads(text)["csrfToken"],
        "email": "nobody@example.test",
        "password": "not the password of anybody",
    }
    status, headers, _ = site.request(
        "POST",
        "/api/auth/callback/credentials",
        body=urllib.parse.urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{n}={m.value}" for n, m in cookies.items()),
        },
    )
    return status, headers.get("Location")


def _alembic(location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(location))
    return config
