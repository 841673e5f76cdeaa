"""Open redirects and crashing redirect targets (``callbackUrl``).

- GHSA-f9wg-5f46-cjmw (CVE-2022-24858): the default redirect callback let a
  crafted ``callbackUrl`` send the browser to another site.
- GHSA-q2mx-j4x2-2h74 (CVE-2022-29214): the same through the OAuth 1 flow,
  which skipped the redirect callback. There is no OAuth 1 here; the closest
  flows are an OAuth/OIDC sign-in (callbackUrl in the POST, in the callback's
  query, in a planted cookie) and registration's signup, which signs in
  through the core.
- GHSA-g5fm-jp9v-2432 (CVE-2022-31093): a malformed ``callbackUrl`` made the
  handler throw, so the route timed out and nobody could sign in.

Every answer is inspected where a browser would take its next step: the
``Location`` header, the ``{"url"}`` JSON answer, the callback-url cookie and
the ``callbackUrl`` fields of the built-in pages.
"""

# ruff: noqa: F811 - pytest fixtures imported from oauth_support

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests
from webtest import TestApp

from tests.advisories.support import (
    ATTACKER,
    OFFSITE_TARGETS,
    on_site,
    unsafe_targets,
)
from tests.functional.registration.helpers import signup, unique_email
from tests.functional.support import (
    CREDENTIALS,
    ORIGIN,
    PASSWORD,
    PROVIDER,
    csrf_token,
    set_cookie_headers,
)
from tests.integration.oauth_support import (  # noqa: F401 - fixtures
    Browser,
    live_app,
    oidc_provider,
    provider_settings,
)

CALLBACK_COOKIE = "authjs.callback-url"


def _landing(response) -> list[str]:
    return unsafe_targets(
        response.status_int,
        response.headers,
        response.body,
        set_cookie_headers(response),
        ORIGIN,
    )


def _signin_page(app: TestApp, target: str):
    return app.get("/api/auth/signin", {"callbackUrl": target}, expect_errors=True)


def _signout_page(app: TestApp, target: str):
    return app.get("/api/auth/signout", {"callbackUrl": target}, expect_errors=True)


def _session(app: TestApp, target: str):
    return app.get("/api/auth/session", {"callbackUrl": target}, expect_errors=True)


def _credentials_form(app: TestApp, target: str):
    return app.post(
        f"/api/auth/callback/{PROVIDER}",
        {
            "csrfToken": csrf_token(app),
            "username": "alice",
            "password": PASSWORD,
            "callbackUrl": target,
        },
        expect_errors=True,
    )


def _credentials_json(app: TestApp, target: str):
    """The client library's way: JSON body, ``X-Auth-Return-Redirect``."""
    return app.post_json(
        f"/api/auth/callback/{PROVIDER}",
        {
            "csrfToken": csrf_token(app),
            "username": "alice",
            "password": PASSWORD,
            "callbackUrl": target,
        },
        headers={"X-Auth-Return-Redirect": "1"},
        expect_errors=True,
    )


def _credentials_query(app: TestApp, target: str):
    return app.post(
        f"/api/auth/callback/{PROVIDER}?" + urlencode({"callbackUrl": target}),
        {"csrfToken": csrf_token(app), "username": "alice", "password": PASSWORD},
        expect_errors=True,
    )


def _signin_post(app: TestApp, target: str):
    return app.post(
        f"/api/auth/signin/{PROVIDER}",
        {"csrfToken": csrf_token(app), "callbackUrl": target},
        expect_errors=True,
    )


def _signout(app: TestApp, target: str):
    return app.post(
        "/api/auth/signout",
        {"csrfToken": csrf_token(app), "callbackUrl": target},
        expect_errors=True,
    )


def _planted_cookie_signout(app: TestApp, target: str):
    """A callback-url cookie set by someone else (a sibling subdomain, a
    cookie-injection bug) and no callbackUrl in the request."""
    token = csrf_token(app)
    app.set_cookie(CALLBACK_COOKIE, quote(target, safe=""))
    return app.post("/api/auth/signout", {"csrfToken": token}, expect_errors=True)


ACTIONS = (
    _signin_page,
    _signout_page,
    _session,
    _credentials_form,
    _credentials_json,
    _credentials_query,
    _signin_post,
    _signout,
    _planted_cookie_signout,
)


def test_callback_url_never_leads_off_site_from_any_action(make_app):
    """GHSA-f9wg-5f46-cjmw (CVE-2022-24858): the default redirect callback.

    Each action of the API gets each of the attacker's targets the ways a
    link or a form can carry it; none may point the browser elsewhere.
    """
    wsgi = make_app(**CREDENTIALS).app
    failures = {}
    for target in OFFSITE_TARGETS:
        for action in ACTIONS:
            response = action(TestApp(wsgi), target)
            assert response.status_int < 500, (target, action.__name__, response)
            unsafe = _landing(response)
            if unsafe:
                failures[target, action.__name__] = unsafe
    assert failures == {}


@pytest.mark.parametrize(
    "target", [f"https://{ATTACKER}/", f"//{ATTACKER}/", f"/\\{ATTACKER}/"]
)
def test_oauth_sign_in_returns_to_the_site(live_app, oidc_provider, target):
    """GHSA-q2mx-j4x2-2h74 (CVE-2022-29214): the OAuth 1 flow skipped the
    redirect callback. No OAuth 1 here: the OIDC flow gets the target in the
    sign-in POST, in the provider's callback query and in a planted
    callback-url cookie, and still ends on the site."""
    oidc_provider.add_user("olivia", email="olivia@example.com", email_verified=True)
    app = live_app(**provider_settings("corp", oidc_provider.url))

    posted = Browser(app.url)
    start = posted.post_signin("corp", callback_url=target)
    assert start.status_code == 302
    done = posted.get(posted.consent(start.headers["Location"], "olivia"))
    assert on_site(done.headers["Location"], app.url), done.headers["Location"]

    queried = Browser(app.url)
    start = queried.post_signin("corp")
    callback = queried.consent(start.headers["Location"], "olivia")
    done = queried.get(callback + "&" + urlencode({"callbackUrl": target}))
    assert done.status_code < 500
    if done.status_code == 302:
        assert on_site(done.headers["Location"], app.url), done.headers["Location"]

    planted = Browser(app.url)
    start = planted.post_signin("corp")
    callback = planted.consent(start.headers["Location"], "olivia")
    planted.http.cookies.set(
        CALLBACK_COOKIE, quote(target, safe=""), domain="127.0.0.1", path="/"
    )
    done = planted.get(callback)
    assert on_site(done.headers["Location"], app.url), done.headers["Location"]
    assert planted.session()["user"]["email"] == "olivia@example.com"


# Signup hashes a password each time: a few targets of each kind suffice.
SIGNUP_TARGETS = (
    f"https://{ATTACKER}/",
    f"//{ATTACKER}/",
    f"/\\{ATTACKER}/",
    f"http://localhost@{ATTACKER}/",
    "https://attacker\u3002example/",
    f"javascript:alert(document.domain)//http://localhost/{ATTACKER}",
)


def test_signup_signs_in_and_stays_on_the_site(make_app):
    """GHSA-f9wg-5f46-cjmw (CVE-2022-24858) through registration: signup
    carries ``callbackUrl`` to the core's sign-in, which must apply the same
    redirect rule."""
    wsgi = make_app().app
    failures = {}
    for target in SIGNUP_TARGETS:
        done = signup(TestApp(wsgi), unique_email(), query={"callbackUrl": target})
        assert done.status_int < 500
        if not on_site(done.headers.get("Location", ORIGIN), ORIGIN):
            failures[target] = done.headers["Location"]
    assert failures == {}


# GHSA-g5fm-jp9v-2432 ------------------------------------------------------------
MALFORMED = (
    "http://",
    "https://",
    "http://[",
    "http://[::1",
    "http://[::1]:port/",
    "http://localhost:99999/",
    "http://localhost:-1/",
    "http://:80/",
    "http://%",
    "%",
    "%E0%A4%A",
    "%ZZ",
    "\x00",
    "\x7f",
    " ",
    ":",
    "//",
    "http:\\\\",
    "http://a b/",
    "javascript:",
    "/\r\nSet-Cookie: injected=1",
    "http://localhost/%0d%0aSet-Cookie:%20injected=1",
    "/\u00fc",
    "/\u4e2d\u6587",
    "http://localhost/\u00fc/\u4e2d\u6587",
    "http://b\u00fccher.example/",
    "http://" + "a" * 300 + ".example/",
    "/" + "x" * 6000,
)


class RawClient:
    """A browser reduced to what this test needs, on ``http.client``: it
    shows the headers exactly as the server wrote them (``requests`` refuses
    to read a ``Location`` that is not UTF-8) and keeps the CSRF cookie."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.cookie = ""

    def send(
        self,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        form: dict | None = None,
        cookie: str = "",
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if query:
            path += "?" + urlencode(query)
        headers = {"Cookie": "; ".join(c for c in (self.cookie, cookie) if c)}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def csrf_token(self) -> str:
        _, headers, body = self.send("GET", "/api/auth/csrf")
        for name, value in headers:
            if name.lower() == "set-cookie" and value.startswith("authjs.csrf-token="):
                self.cookie = value.split(";", 1)[0]
        return json.loads(body)["csrfToken"]


def _requests(client: RawClient, target: str):
    """Every way a request can carry ``callbackUrl``."""
    query = {"callbackUrl": target}
    cookie = f"{CALLBACK_COOKIE}={quote(target, safe='')}"
    token = client.csrf_token()
    form = {"csrfToken": token, "callbackUrl": target}
    credentials = {**form, "username": "alice", "password": PASSWORD}
    send = client.send
    return {
        "GET signin": lambda: send("GET", "/api/auth/signin", query=query),
        "GET signout": lambda: send("GET", "/api/auth/signout", query=query),
        "GET session": lambda: send("GET", "/api/auth/session", query=query),
        "GET csrf": lambda: send("GET", "/api/auth/csrf", query=query),
        "GET error": lambda: send("GET", "/api/auth/error", query=query),
        "GET verify-request": lambda: send(
            "GET", "/api/auth/verify-request", query=query
        ),
        "GET home": lambda: send("GET", "/", query=query),
        "GET members": lambda: send("GET", "/members", query=query),
        "POST signin/email": lambda: send(
            "POST",
            "/api/auth/signin/email",
            form={**form, "email": "someone@example.com"},
        ),
        "POST callback/credentials": lambda: send(
            "POST", f"/api/auth/callback/{PROVIDER}", form=credentials
        ),
        "POST signout": lambda: send("POST", "/api/auth/signout", form=form),
        "POST signout (query)": lambda: send(
            "POST", "/api/auth/signout", query=query, form={"csrfToken": token}
        ),
        "GET signin (cookie)": lambda: send("GET", "/api/auth/signin", cookie=cookie),
        "POST signout (cookie)": lambda: send(
            "POST", "/api/auth/signout", form={"csrfToken": token}, cookie=cookie
        ),
    }


def test_malformed_callback_url_never_breaks_a_handler(live_server):
    """GHSA-g5fm-jp9v-2432 (CVE-2022-31093): a ``callbackUrl`` that is not a
    URL (or not ASCII, or too long) in the query, the body or the cookie.

    Every endpoint answers at once with a 4xx or a redirect that a server can
    send (ASCII ``Location`` on the site, no injected header), and the site
    keeps answering afterwards.
    """
    server = live_server(
        **{
            **CREDENTIALS,
            "auth__providers": f"{PROVIDER} email",
            "auth__provider__email__from": "Authsite <login@example.test>",
        }
    )
    failures = {}
    for target in MALFORMED:
        for name, send in _requests(RawClient(server.url), target).items():
            status, headers, _ = send()
            problems = []
            if status >= 500:
                problems.append(f"HTTP {status}")
            for header, value in headers:
                if header.lower() == "location" and not on_site(value, server.url):
                    problems.append(f"Location {value!r}")
                if header.lower() == "set-cookie" and value.startswith("injected="):
                    problems.append("header injected")
            if problems:
                failures[target[:40], name] = problems
    assert failures == {}
    assert requests.get(server.url + "/api/auth/session", timeout=10).json() is None
