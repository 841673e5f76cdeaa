"""On https, cookies are ``Secure``, named ``__Secure-``/``__Host-`` (spec §2, §11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.auth.jwt import JWTCodec
from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    PASSWORD,
    PROVIDER,
    attributes,
    browser_jar,
    cookie_header,
    cookie_value,
    is_deletion,
    set_cookie_headers,
    set_cookies,
    sign_in,
)

pytestmark = pytest.mark.no_database

SECURE_SESSION = "__Secure-authjs.session-token"
SESSION_NAME = "authjs.session-token"
VECTORS = json.loads(
    (
        Path(__file__).resolve().parent.parent / "data" / "authjs-vectors.json"
    ).read_text()
)["vectors"]
HTTPS = {"wsgi.url_scheme": "https", "HTTP_HOST": "example.com"}


@pytest.fixture
def app(make_app):
    app = make_app(**CREDENTIALS, auth__url="https://example.com")
    app.extra_environ = dict(HTTPS)
    return app


def test_csrf_cookie_is_host_prefixed_and_secure(app):
    response = app.get("/api/auth/csrf")

    header = set_cookies(response)["__Host-authjs.csrf-token"]
    assert attributes(header) == ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"]
    assert "authjs.csrf-token" not in set_cookies(response)


def test_callback_url_cookie_is_secure_prefixed_with_the_https_origin(app):
    response = app.get("/api/auth/csrf")

    header = set_cookies(response)["__Secure-authjs.callback-url"]
    assert header == (
        "__Secure-authjs.callback-url=https%3A%2F%2Fexample.com; Path=/; "
        "HttpOnly; Secure; SameSite=Lax"
    )


@pytest.mark.database
def test_session_cookie_is_secure_prefixed_and_keyed_to_that_name(app):
    response = sign_in(app)

    assert response.location == "https://example.com"
    header = set_cookies(response)[SECURE_SESSION]
    assert attributes(header)[-3:] == ["HttpOnly", "Secure", "SameSite=Lax"]
    claims = JWTCodec([TEST_SECRET]).decode(cookie_value(header), salt=SECURE_SESSION)
    assert claims["sub"] == "1"
    assert not any(h.startswith("authjs.") for h in set_cookie_headers(response))


@pytest.mark.database
def test_secure_session_reads_back(app):
    sign_in(app)

    response = app.get("/api/auth/session")

    assert response.json["user"]["name"] == "Alice Example"
    assert "; Secure; SameSite=Lax" in set_cookies(response)[SECURE_SESSION]


def test_plain_named_cookie_is_ignored_on_https(app):
    token = JWTCodec([TEST_SECRET]).encode(
        {"sub": "1"}, salt="authjs.session-token", max_age=60
    )

    response = app.get(
        "/api/auth/session", headers={"Cookie": f"authjs.session-token={token}"}
    )

    assert response.body == b"null"


def test_authjs_token_minted_for_the_secure_name_reads(make_app):
    vector = VECTORS[1]
    app = make_app(
        **CREDENTIALS,
        auth__url="https://example.com",
        auth__secret=vector["secret"],
        # an Auth.js token has no registry session id: stateless mode reads it
        auth__session__check_interval="0",
    )

    response = app.get(
        "/api/auth/session", headers={"Cookie": f"{SECURE_SESSION}={vector['token']}"}
    )

    assert response.json["user"] == {"name": "Bob", "email": "bob@example.com"}


def test_forwarded_proto_of_a_trusted_proxy_makes_cookies_secure(make_app):
    app = make_app(
        **CREDENTIALS, auth__url="", auth__trust_host="true", app__env="development"
    )

    response = app.get(
        "/api/auth/csrf",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example"},
    )

    cookies = set_cookies(response)
    assert "; Secure; SameSite=Lax" in cookies["__Host-authjs.csrf-token"]
    assert (
        cookie_value(cookies["__Secure-authjs.callback-url"]) == "https://proxy.example"
    )


def test_forwarded_host_sets_the_origin_of_urls(make_app):
    app = make_app(
        **CREDENTIALS, auth__url="", auth__trust_host="true", app__env="development"
    )

    entry = app.get(
        "/api/auth/providers",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example"},
    ).json[PROVIDER]

    assert entry["signinUrl"] == f"https://proxy.example/api/auth/signin/{PROVIDER}"


def test_forwarded_headers_are_ignored_when_the_host_is_not_trusted(make_app):
    app = make_app(
        **CREDENTIALS, auth__trust_host="false", auth__url="http://site.example"
    )

    response = app.get(
        "/api/auth/csrf",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )

    cookies = set_cookies(response)
    assert "authjs.csrf-token" in cookies
    assert cookie_value(cookies["authjs.callback-url"]) == "http://site.example"


def test_auth_url_https_wins_over_a_plain_http_request(make_app):
    app = make_app(**CREDENTIALS, auth__url="https://example.com")

    response = app.get("/api/auth/csrf")  # webtest speaks plain http

    assert "__Host-authjs.csrf-token" in set_cookies(response)


def test_https_request_without_auth_url_is_secure(make_app):
    app = make_app(**CREDENTIALS, auth__url="", app__env="development")

    response = app.get("/api/auth/csrf", extra_environ={"wsgi.url_scheme": "https"})

    assert "__Host-authjs.csrf-token" in set_cookies(response)


@pytest.mark.database
@pytest.mark.parametrize("proto, secure", [("https", True), ("http", False)])
def test_every_cookie_the_core_sets_follows_its_requests_scheme(
    make_app, proto, secure
):
    # One app behind a proxy that speaks https to some clients and http to
    # others: each request's cookies are decided from that request alone.
    app = make_app(
        **{**CREDENTIALS, "auth__providers": f"{PROVIDER} github"},
        auth__url="",
        auth__trust_host="true",
        app__env="development",
        auth__provider__github__client_id="id",
        auth__provider__github__client_secret="secret",
    )
    headers = {"X-Forwarded-Proto": proto}
    names = {
        "csrf": "__Host-authjs.csrf-token" if secure else "authjs.csrf-token",
        "session": "__Secure-authjs.session-token" if secure else SESSION_NAME,
    }
    jar: dict[str, str] = {}
    issued: list[str] = []

    def call(method: str, path: str, **kw):
        nonlocal jar
        app.reset()  # the cookies go by hand: webtest keeps Secure ones from http
        response = getattr(app, method)(
            path, headers={**headers, "Cookie": cookie_header(jar)}, **kw
        )
        issued.extend(set_cookie_headers(response))
        jar = browser_jar(response, jar)
        return response

    token = call("get", "/api/auth/csrf").json["csrfToken"]
    call("get", "/api/auth/signin")
    call(
        "post",
        f"/api/auth/callback/{PROVIDER}",
        params={"csrfToken": token, "username": "alice", "password": PASSWORD},
    )
    call("post", "/api/auth/signin/github", params={"csrfToken": token})
    call("get", "/api/auth/callback/github?code=c&state=forged")
    call("post", "/api/auth/signout", params={"csrfToken": token})

    prefix = "__Secure-" if secure else ""
    assert {h.split("=", 1)[0] for h in issued} == {
        names["csrf"],
        names["session"],
        f"{prefix}authjs.callback-url",
        f"{prefix}authjs.pkce.code_verifier",
        f"{prefix}authjs.state",
    }
    assert any(is_deletion(h) for h in issued)  # check and session cookies cleared
    for header in issued:
        assert ("Secure" in attributes(header)) is secure, header
