"""The README's "Extending" section, done step by step in a copy of the project.

Each test copies the project's sources, applies the README's steps with the
README's own text (its code blocks, found by their first lines), migrates a
fresh SQLite database and boots ``development.ini`` as shipped (debug toolbar
included) in a child process, where a webtest client signs in as the README
says. If the README and the code drift apart, these fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "var", "*.sqlite*")


def extending_blocks() -> list[str]:
    """The fenced code blocks of the README's "Extending" section, in order."""
    text = README.read_text()
    section = text[text.index("\n## Extending\n") : text.index("\n## Security\n")]
    return re.findall(r"```(?:python|ini)\n(.*?)```", section, flags=re.S)


def block(first_line: str) -> str:
    found = [b for b in extending_blocks() if b.startswith(first_line)]
    assert len(found) == 1, f"README: no single block starting {first_line!r}"
    return found[0]


def copy_project(target: Path) -> Path:
    """The project's sources as a fresh clone has them, in ``target``."""
    for name in ("app", "migrations"):
        shutil.copytree(ROOT / name, target / name, ignore=IGNORED)
    shutil.copy(ROOT / "development.ini", target / "development.ini")
    # Step 1: the README's module, as it stands.
    (target / "app" / "directory.py").write_text(block("# app/directory.py"))
    return target


def include_directory(site: Path) -> None:
    """Step 2: the README's two lines replace the core's include in main()."""
    lines = block('        config.include("app.auth")\n')
    init = site / "app" / "__init__.py"
    source = init.read_text()
    core_line = lines.splitlines(keepends=True)[0]
    assert source.count(core_line) == 1, "app/__init__.py: the README's first line"
    init.write_text(source.replace(core_line, lines))


def configure_by_settings(site: Path) -> None:
    """The settings-only variant: the README's lines replace ``auth.providers``."""
    ini = site / "development.ini"
    source = ini.read_text()
    assert source.count("\nauth.providers = email\n") == 1
    ini.write_text(
        source.replace("\nauth.providers = email\n", "\n" + block("auth.providers"))
    )


# Runs in the copy: boots development.ini and signs in as the README says.
DRIVER = r"""
import json
from pyramid.paster import get_app
from webtest import TestApp

app = TestApp(get_app("development.ini", "main"), extra_environ={"HTTP_HOST": "localhost:6543"})
seen = {}
page = app.get("/api/auth/signin")
seen["page"] = page.text

def sign_in(username, password):
    app.reset()
    token = app.get("/api/auth/csrf").json["csrfToken"]
    answer = app.post("/api/auth/callback/directory", {
        "csrfToken": token, "username": username, "password": password,
        "callbackUrl": "http://localhost:6543/members"})
    location = answer.headers.get("Location", "")
    shown = app.get(location).html.select('[role="alert"]') if "error=" in location else []
    return {"status": answer.status_int, "location": location,
            "alerts": [a.get_text(" ", strip=True) for a in shown],
            "session": app.get("/api/auth/session").json}

seen["ada"] = sign_in("ada", "correct horse battery staple")
seen["ada_wrong"] = sign_in("ada", "not the password")
seen["bob"] = sign_in("bob", "correct horse battery staple")
seen["nobody"] = sign_in("nobody", "correct horse battery staple")
print(json.dumps(seen))
"""


def run_site(site: Path) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV")},
        "PYTHONPATH": str(site),  # the copy's app package, not this checkout's
        "DATABASE_URL": f"sqlite:///{site / 'var' / 'site.sqlite'}",
    }
    bin_dir = Path(sys.executable).parent
    for command in (
        [str(bin_dir / "alembic"), "-c", "development.ini", "upgrade", "head"],
        [sys.executable, "-c", DRIVER],
    ):
        done = subprocess.run(
            command, cwd=site, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def site(tmp_path) -> Path:
    return copy_project(tmp_path / "site")


def test_the_worked_example_runs_as_the_readme_says(site):
    include_directory(site)

    seen = run_site(site)

    assert "Company directory" in seen["page"]
    assert 'name="username"' in seen["page"]
    assert "/api/auth/signin/email" in seen["page"]  # the email provider stays
    ada = seen["ada"]
    assert ada["location"] == "http://localhost:6543/members"
    assert ada["session"]["user"] == {
        "name": "Ada Lovelace",
        "email": "ada@staff.example",
    }
    assert ada["session"]["roles"] == ["staff"]
    for refused in ("ada_wrong", "nobody"):
        assert seen[refused]["location"].endswith(
            "error=CredentialsSignin&code=credentials"
        ), refused
        assert seen[refused]["session"] is None
        assert seen[refused]["alerts"] == [
            "Sign in failed. Check the details you provided are correct."
        ]
    bob = seen["bob"]
    assert bob["location"].endswith("error=CredentialsSignin&code=locked")
    assert bob["alerts"] == ["This account is locked. Ask IT to unlock it."]
    assert bob["session"] is None


def test_the_settings_only_variant_runs_as_the_readme_says(site):
    configure_by_settings(site)

    seen = run_site(site)

    assert "Company directory" in seen["page"]
    assert "/api/auth/signin/email" in seen["page"]
    assert seen["ada"]["session"]["user"]["name"] == "Ada Lovelace"
    assert "roles" not in seen["ada"]["session"]  # no includeme, no callbacks
    bob = seen["bob"]
    assert bob["location"].endswith("error=CredentialsSignin&code=locked")
    assert bob["alerts"] == [
        "Sign in failed. Check the details you provided are correct."
    ]
