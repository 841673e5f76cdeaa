"""The GitHub preset end to end, against a small fake of GitHub served on 127.0.0.1.

The fake answers as GitHub does (recorded answers from ``tests/data/github``):
the authorization endpoint approves at once, the token endpoint checks the
client's Basic credentials, the code, the redirect URI and the PKCE verifier
(single use, ``bad_verification_code`` otherwise, with HTTP 200 as GitHub),
and the API needs the bearer token.
"""

# ruff: noqa: F811, S105, S106 - imported pytest fixtures; test credentials

from __future__ import annotations

import base64
import json
import logging
import secrets
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from werkzeug.wrappers import Request, Response

from app.auth.models import Account, User
from tests.integration.oauth_support import Browser, live_app, serve_wsgi  # noqa: F401

DATA = Path(__file__).resolve().parent.parent / "data" / "github"
CLIENT_ID = "Iv1.8a61f9b3a7aba766"
CLIENT_SECRET = "github-test-secret"  # noqa: S105 - a test value


def recorded(name: str):
    return json.loads((DATA / name).read_text())


class FakeGitHub:
    def __init__(self, user: dict, emails: list | None) -> None:
        self.user = user
        self.emails = emails
        self.codes: dict[str, dict] = {}
        self.tokens: set[str] = set()
        self.requests: list[tuple[str, str, dict]] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.method, request.path, dict(request.headers)))
        handler = {
            ("GET", "/login/oauth/authorize"): self.authorize,
            ("POST", "/login/oauth/access_token"): self.access_token,
            ("GET", "/api/user"): self.api_user,
            ("GET", "/api/user/emails"): self.api_emails,
        }.get((request.method, request.path))
        response = handler(request) if handler else Response("Not Found", status=404)
        return response(environ, start_response)

    def authorize(self, request: Request) -> Response:
        args = request.args
        code = secrets.token_hex(10)
        self.codes[code] = dict(args)
        target = (
            args["redirect_uri"]
            + "?"
            + urlencode({"code": code, "state": args["state"]})
        )
        return Response(status=302, headers={"Location": target})

    def access_token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _json({"error": "incorrect_client_credentials"})
        issued = self.codes.pop(request.form.get("code", ""), None)
        if (
            issued is None
            or issued["redirect_uri"] != request.form.get("redirect_uri")
            or issued["code_challenge"]
            != create_s256_code_challenge(request.form.get("code_verifier", ""))
        ):
            return _json(recorded("token_error.json"))  # GitHub answers 200 here
        token = recorded("token.json")
        token["access_token"] = "gho_" + secrets.token_hex(18)
        self.tokens.add(token["access_token"])
        return _json(token)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def api_user(self, request: Request) -> Response:
        if not self._authorized(request):
            return _json({"message": "Requires authentication"}, 401)
        return _json(self.user)

    def api_emails(self, request: Request) -> Response:
        if not self._authorized(request) or self.emails is None:
            return _json({"message": "Not Found"}, 404)
        return _json(self.emails)


def _json(value, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, content_type="application/json")


def _github_settings(url: str) -> dict[str, str]:
    return {
        "auth__providers": "github",
        "auth__provider__github__client_id": CLIENT_ID,
        "auth__provider__github__client_secret": CLIENT_SECRET,
        "auth__provider__github__authorization_endpoint": url
        + "/login/oauth/authorize",
        "auth__provider__github__token_endpoint": url + "/login/oauth/access_token",
        "auth__provider__github__api_url": url + "/api",
    }


def _sign_in(browser: Browser):
    start = browser.post_signin("github", callback_url="/members")
    assert start.status_code == 302
    consent = browser.get(start.headers["Location"])  # GitHub approves at once
    assert consent.status_code == 302
    return start, browser.get(consent.headers["Location"])


def test_private_email_comes_from_the_emails_api(live_app, dbsession):
    fake = FakeGitHub(recorded("user_private_email.json"), recorded("emails.json"))
    with serve_wsgi(fake) as url:
        app = live_app(**_github_settings(url))
        browser = Browser(app.url)

        start, done = _sign_in(browser)

        assert done.headers["Location"] == f"{app.url}/members"
        assert browser.session()["user"] == {
            "name": "mona-dev",
            "email": "mona@example.com",
            "image": "https://avatars.githubusercontent.com/u/9919?v=4",
        }
    authorize = start.headers["Location"]
    assert "scope=read%3Auser+user%3Aemail" in authorize
    assert "code_challenge_method=S256" in authorize
    assert "nonce=" not in authorize
    account = dbsession.scalars(sa.select(Account)).one()
    assert (account.type, account.provider, account.provider_account_id) == (
        "oauth",
        "github",
        "9919",
    )
    assert account.access_token.startswith("gho_")
    paths = [(method, path) for method, path, _ in fake.requests]
    assert paths == [
        ("GET", "/login/oauth/authorize"),
        ("POST", "/login/oauth/access_token"),
        ("GET", "/api/user"),
        ("GET", "/api/user/emails"),
    ]
    api_headers = fake.requests[2][2]
    assert api_headers["Accept"] == "application/vnd.github+json"


def test_public_email_is_used_when_the_emails_api_marks_it_verified(
    live_app, dbsession
):
    emails = [
        {"email": "primary@example.org", "primary": True, "verified": True},
        {"email": "octocat@github.com", "primary": False, "verified": True},
    ]
    fake = FakeGitHub(recorded("user.json"), emails)
    with serve_wsgi(fake) as url:
        app = live_app(**_github_settings(url))
        browser = Browser(app.url)

        _sign_in(browser)

        assert browser.session()["user"]["email"] == "octocat@github.com"
    assert [p for _, p, _ in fake.requests][-2:] == ["/api/user", "/api/user/emails"]
    user = dbsession.scalars(sa.select(User)).one()
    assert user.name == "The Octocat"
    assert user.email_verified is not None


@pytest.mark.parametrize(
    "emails",
    [
        None,  # /user/emails refused (no user:email scope)
        [{"email": "Octocat@GitHub.com", "primary": True, "verified": False}],
    ],
    ids=["no-emails-api", "unverified"],
)
def test_unverified_public_email_is_not_used(live_app, dbsession, emails):
    # Anyone can show any address as their public email on GitHub: it must
    # not find, link or create a user, nor claim an existing one.
    victim = User(email="octocat@github.com", name="Victim")
    dbsession.add(victim)
    dbsession.commit()
    fake = FakeGitHub(recorded("user.json"), emails)
    with serve_wsgi(fake) as url:
        app = live_app(
            auth__provider__github__allow_dangerous_email_account_linking="true",
            **_github_settings(url),
        )
        browser = Browser(app.url)

        _, done = _sign_in(browser)

        assert done.headers["Location"] == f"{app.url}/members"
        assert "email" not in browser.session()["user"]
    users = dbsession.scalars(sa.select(User).order_by(User.id)).all()
    assert [(u.email, u.email_verified) for u in users] == [
        ("octocat@github.com", None),
        (None, None),
    ]
    account = dbsession.scalars(sa.select(Account)).one()
    assert account.user_id == users[1].id


def test_without_a_verified_email_the_user_has_none(live_app, dbsession):
    fake = FakeGitHub(
        recorded("user_private_email.json"), recorded("emails_none_verified.json")
    )
    with serve_wsgi(fake) as url:
        app = live_app(**_github_settings(url))
        browser = Browser(app.url)

        _sign_in(browser)

        assert "email" not in browser.session()["user"]
    assert dbsession.scalars(sa.select(User)).one().email is None


def test_refused_code_ends_on_the_error_page(live_app, dbsession, caplog):
    caplog.set_level(logging.INFO, logger="app")
    fake = FakeGitHub(recorded("user.json"), None)
    with serve_wsgi(fake) as url:
        app = live_app(**_github_settings(url))
        browser = Browser(app.url)
        start = browser.post_signin("github")
        callback = browser.get(start.headers["Location"]).headers["Location"]
        fake.codes.clear()  # the code expired at GitHub

        done = browser.get(callback)

    assert done.headers["Location"] == f"{app.url}/api/auth/error?error=Configuration"
    reasons = "\n".join(r.getMessage() for r in caplog.records)
    assert "token endpoint refused: bad_verification_code" in reasons
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    "answer", [{"message": "Bad credentials"}, ["not", "a", "user"]]
)
@pytest.mark.no_database
def test_broken_user_api_ends_on_the_error_page(live_app, answer):
    fake = FakeGitHub(answer, None)
    with serve_wsgi(fake) as url:
        app = live_app(**_github_settings(url))

        _, done = _sign_in(Browser(app.url))

    assert done.headers["Location"] == f"{app.url}/api/auth/error?error=Configuration"


@pytest.mark.no_database
def test_authjs_client_gets_the_authorization_url_as_json(make_app):
    # next-auth's signIn() posts with X-Auth-Return-Redirect and follows the URL itself.
    app = make_app(
        auth__providers="github",
        auth__provider__github__client_id=CLIENT_ID,
        auth__provider__github__client_secret=CLIENT_SECRET,
    )
    token = app.get("/api/auth/csrf").json["csrfToken"]

    response = app.post(
        "/api/auth/signin/github",
        {"csrfToken": token},
        headers={"X-Auth-Return-Redirect": "1"},
    )

    assert response.status_int == 200
    url = response.json["url"]
    assert url.startswith(
        "https://github.com/login/oauth/authorize?response_type=code&"
    )
    assert f"client_id={CLIENT_ID}" in url
    assert "redirect_uri=http%3A%2F%2Flocalhost%2Fapi%2Fauth%2Fcallback%2Fgithub" in url
    names = [h.split("=", 1)[0] for k, h in response.headerlist if k == "Set-Cookie"]
    assert {"authjs.pkce.code_verifier", "authjs.state"} <= set(names)
    assert "authjs.nonce" not in names


@pytest.mark.no_database
def test_on_https_the_check_cookies_are_secure_prefixed(make_app):
    app = make_app(
        auth__url="https://site.example",
        auth__providers="github",
        auth__provider__github__client_id=CLIENT_ID,
        auth__provider__github__client_secret=CLIENT_SECRET,
    )
    token = app.get("/api/auth/csrf", extra_environ={"wsgi.url_scheme": "https"}).json[
        "csrfToken"
    ]

    response = app.post(
        "/api/auth/signin/github",
        {"csrfToken": token},
        extra_environ={"wsgi.url_scheme": "https"},
    )

    callback = "https%3A%2F%2Fsite.example%2Fapi%2Fauth%2Fcallback%2Fgithub"
    assert f"redirect_uri={callback}" in response.location
    cookies = [h for k, h in response.headerlist if k == "Set-Cookie"]
    for name in ("__Secure-authjs.pkce.code_verifier", "__Secure-authjs.state"):
        [header] = [c for c in cookies if c.startswith(name + "=")]
        assert header.endswith("; HttpOnly; Secure; SameSite=Lax")
        assert "Max-Age=900" in header
