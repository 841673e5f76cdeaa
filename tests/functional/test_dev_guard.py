"""app/dev_guard.py in process: in development, a Host outside
``auth.dev_hosts`` (DNS rebinding) and a path that is not UTF-8 get the site's
400 page before any other tween; outside development the guard is absent.
(tests/shipped/test_dev_guard.py runs the same attacks on ``pserve
development.ini``, with the debug toolbar it protects.)"""

from __future__ import annotations

import pytest

from app.dev_guard import host_name

pytestmark = pytest.mark.no_database

DEV = {"app__env": "development", "auth__url": ""}


@pytest.mark.parametrize(
    "host, name",
    [
        ("localhost", "localhost"),
        ("LOCALHOST:6543", "localhost"),
        ("[::1]:6543", "::1"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("evil.example:6543", "evil.example"),
        ("localhost:port", None),
        ("[::1", None),
    ],
)
def test_host_name(host, name):
    assert host_name(host) == name


@pytest.mark.parametrize("path", ["/", "/signup", "/api/auth/csrf", "/dev/mail"])
@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:6543", "localhost.evil.example", "[::1"]
)
def test_a_foreign_host_is_refused_on_every_path(make_app, path, host):
    app = make_app(**DEV)

    response = app.get(path, headers={"Host": host}, status=400)

    assert "Bad request" in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("host", ["localhost:6543", "127.0.0.1", "[::1]:6543"])
def test_the_dev_hosts_are_served(make_app, host):
    app = make_app(**DEV)

    assert app.get("/api/auth/csrf", headers={"Host": host}).json["csrfToken"]


def test_auth_url_names_a_host_too(make_app):
    app = make_app(app__env="development", auth__url="http://site.test:8080")

    app.get("/api/auth/csrf", headers={"Host": "site.test:8080"}, status=200)
    app.get("/api/auth/csrf", headers={"Host": "other.test:8080"}, status=400)


def test_the_dev_hosts_setting_replaces_the_default(make_app):
    app = make_app(**DEV, auth__dev_hosts="dev.test")

    app.get("/", headers={"Host": "dev.test:8080"}, status=200)
    app.get("/", headers={"Host": "localhost"}, status=400)


@pytest.mark.parametrize("path", ["/%ff", "/api/auth/%ff", "/static/%ff"])
def test_a_path_that_is_not_utf8_is_the_400_page(make_app, path):
    app = make_app(**DEV)

    response = app.get(path, status=400)

    assert "Bad request" in response.text


def test_outside_development_hosts_are_left_to_the_proxy(make_app):
    # No toolbar and no /dev/mail there; auth.url makes every link.
    app = make_app(app__env="testing")

    app.get("/", headers={"Host": "evil.example"}, status=200)
