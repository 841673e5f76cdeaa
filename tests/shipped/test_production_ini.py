"""``production.ini`` as shipped (issue 9, item 9): it builds with its secrets
and URL from the environment, refuses to start without ``AUTH_URL``, and its
server listens on the loopback interface behind the proxy it trusts."""

from __future__ import annotations

import configparser
from pathlib import Path

import plaster
import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.paster import get_app
from webtest import TestApp

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_INI = ROOT / "production.ini"
SECRET = "production-test-secret-8f3a1c9e2b7d4f6a0e5c3b1d9a7f2e4c"
# Environment variables that would change what the file alone configures.
FOREIGN = (
    "APP_ENV",
    "AUTH_URL",
    "AUTH_SECRET",
    "AUTH_SECRET_1",
    "AUTH_SECRET_2",
    "AUTH_SECRET_3",
    "AUTH_TRUST_HOST",
    "REDIS_URL",
    "DATABASE_URL",
)


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """The production environment: a secret and a database, nothing else."""
    for name in FOREIGN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite'}")
    return monkeypatch


def build():
    app = get_app(str(PRODUCTION_INI), "main")
    return TestApp(app)


def test_builds_with_auth_secret_and_auth_url(environment):
    environment.setenv("AUTH_URL", "https://example.com")

    app = build()

    response = app.get("/api/auth/csrf", headers={"Host": "example.com"})
    cookies = {h.split("=", 1)[0]: h for h in response.headers.getall("Set-Cookie")}
    assert "Secure" in cookies["__Host-authjs.csrf-token"]
    assert app.get("/", headers={"Host": "example.com"}).status_int == 200


def test_has_no_development_mailbox(environment):
    environment.setenv("AUTH_URL", "https://example.com")

    app = build()

    assert app.get("/dev/mail", status=404).status_int == 404


def test_refuses_to_start_without_auth_url(environment):
    with pytest.raises(ConfigurationError) as refused:
        build()

    assert "auth.url" in str(refused.value)
    assert "AUTH_URL" in str(refused.value)


def test_refuses_to_start_without_auth_secret(environment):
    environment.setenv("AUTH_URL", "https://example.com")
    environment.delenv("AUTH_SECRET")

    with pytest.raises(ConfigurationError) as refused:
        build()

    assert "auth.secret" in str(refused.value)


def test_listens_on_loopback_behind_the_proxy_it_trusts():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PRODUCTION_INI)
    server = parser["server:main"]

    assert server["listen"].rsplit(":", 1)[0] == "127.0.0.1"
    assert server["trusted_proxy"] == "127.0.0.1"
    assert "x-forwarded-proto" in server["trusted_proxy_headers"].split()


def test_one_process_per_port_from_the_command_line():
    """``pserve production.ini http_port=N`` (docs/deployment.md): pserve
    hands ``http_port`` to the ini file; 6543 when not given."""
    loader = plaster.get_loader(str(PRODUCTION_INI), protocols=["wsgi"])

    default = loader.get_settings("server:main")
    second = loader.get_settings("server:main", defaults={"http_port": "6544"})

    assert default["listen"] == "127.0.0.1:6543"
    assert second["listen"] == "127.0.0.1:6544"


def test_has_no_debug_settings_or_dev_mail():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PRODUCTION_INI)
    app = parser["app:main"]

    assert app["app.env"] == "production"
    assert "pyramid.includes" not in app
    assert "mail.dev_maildir" not in app
    assert "auth.url" not in app and "auth.trust_host" not in app
