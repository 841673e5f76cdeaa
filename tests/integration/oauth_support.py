"""Helpers for the OAuth/OIDC integration tests: a real OpenID provider and a browser.

The provider is ``oidc-provider-mock`` (PyPI) served by werkzeug on
127.0.0.1 in a thread. Its authorization page is a form: POSTing ``sub`` to
the authorization URL consents as that subject (claims set beforehand with
``PUT /users/<sub>``); ``action=deny`` refuses. The "browser" is a
``requests.Session`` that follows the same redirects a browser would.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.deprecate import AuthlibDeprecationWarning

from tests.conftest import LiveServer, start_live_server

with warnings.catch_warnings():
    # oidc-provider-mock (a test peer, not our code) imports authlib.jose and
    # authlib's httpx client, both deprecated; authlib shows its deprecation
    # warnings "always" (its own filter, ahead of pytest's), so silence them
    # for this import only.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from oidc_provider_mock import run_server_in_thread

CLIENT_ID = "authsite-test"
CLIENT_SECRET = "client-secret-for-tests"  # noqa: S105 - a test value


class MockProvider:
    """A running ``oidc-provider-mock``; ``url`` is its issuer."""

    def __init__(self, server) -> None:
        self.server = server
        self.port = server.server_port
        self.url = f"http://127.0.0.1:{self.port}"

    def add_user(self, sub: str, **claims) -> None:
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()


@contextmanager
def mock_provider(**options) -> Iterator[MockProvider]:
    with run_server_in_thread(port=0, **options) as server:
        yield MockProvider(server)


@pytest.fixture
def oidc_provider() -> Iterator[MockProvider]:
    with mock_provider() as provider:
        yield provider


@pytest.fixture
def expired_token_provider() -> Iterator[MockProvider]:
    """A provider whose tokens (ID token included) expired ten minutes ago."""
    with mock_provider(access_token_max_age=dt.timedelta(minutes=-10)) as provider:
        yield provider


class RunningApp:
    """A live server plus what the test may observe of the app behind it."""

    def __init__(self, server: LiveServer) -> None:
        self.registry = server.wsgi.registry
        self.server = server
        self.url = server.url
        self.events: list = []

    def record(self, *event_types) -> list:
        """Collect the app's events of these types, as a subscriber would."""
        for event_type in event_types:
            self.registry.registerHandler(self.events.append, (event_type,))
        return self.events


@pytest.fixture
def live_app(make_wsgi) -> Iterator:
    """``live_app(**overrides)``: like ``live_server``, keeping the app's registry."""
    started: list[RunningApp] = []

    def factory(**overrides) -> RunningApp:
        app = RunningApp(start_live_server(make_wsgi, overrides))
        started.append(app)
        return app

    yield factory
    for app in started:
        app.server.__exit__(None, None, None)


def provider_settings(pid: str, issuer: str, **extra: str) -> dict[str, str]:
    """``live_server`` overrides for an OIDC provider configured by settings alone."""
    settings = {
        "auth__providers": pid,
        f"auth__provider__{pid}__type": "oidc",
        f"auth__provider__{pid}__issuer": issuer,
        f"auth__provider__{pid}__client_id": CLIENT_ID,
        f"auth__provider__{pid}__client_secret": CLIENT_SECRET,
        f"auth__provider__{pid}__name": "Corp SSO",
    }
    settings.update(extra)
    return settings


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def silent_server() -> Iterator[int]:
    """A socket that accepts connections and never answers: a hung provider."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()


@contextmanager
def serve_wsgi(app) -> Iterator[str]:
    """Serve a WSGI app (a fake provider) on 127.0.0.1 in a thread; yields its URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def query_of(url: str) -> dict[str, str]:
    return {
        k: v[-1]
        for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()
    }


def set_cookie_headers(response: requests.Response) -> list[str]:
    return response.raw.headers.getlist("Set-Cookie")


def cookie_header(response: requests.Response, name: str) -> str | None:
    for header in set_cookie_headers(response):
        if header.split("=", 1)[0] == name:
            return header
    return None


class Browser:
    """A ``requests.Session`` driving the sign-in flow against a live server."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.auth = base_url + "/api/auth"
        self.http = requests.Session()

    def csrf_token(self) -> str:
        return self.http.get(self.auth + "/csrf", timeout=10).json()["csrfToken"]

    def post_signin(
        self,
        provider_id: str,
        *,
        callback_url: str | None = None,
        query: str = "",
        data: dict | None = None,
    ) -> requests.Response:
        """``POST signin/<id>`` as the sign-in form does; redirects not followed."""
        body = {"csrfToken": self.csrf_token(), **(data or {})}
        if callback_url is not None:
            body["callbackUrl"] = callback_url
        url = f"{self.auth}/signin/{provider_id}" + (f"?{query}" if query else "")
        return self.http.post(url, data=body, allow_redirects=False, timeout=30)

    def consent(self, authorization_url: str, sub: str) -> str:
        """Show the provider's consent page, submit it as ``sub``; the callback URL."""
        page = self.http.get(authorization_url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        assert "Authorize" in page.text
        answer = self.http.post(
            authorization_url, data={"sub": sub}, allow_redirects=False, timeout=10
        )
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]

    def deny(self, authorization_url: str) -> str:
        answer = self.http.post(
            authorization_url,
            data={"action": "deny"},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]

    def get(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=30)

    def session(self) -> dict | None:
        return self.http.get(self.auth + "/session", timeout=10).json()

    def sign_in(
        self, provider_id: str, sub: str, *, callback_url: str | None = None
    ) -> requests.Response:
        """The whole flow; returns the callback's response (not followed)."""
        start = self.post_signin(provider_id, callback_url=callback_url)
        assert start.status_code == 302, start.text[:500]
        return self.get(self.consent(start.headers["Location"], sub))
