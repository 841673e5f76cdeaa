"""OAuth/OIDC sign-in against a real OpenID provider (oidc-provider-mock).

- GHSA-7r7x-4c4q-c4qf (CVE-2023-27490): a callback was accepted without its
  state/nonce/PKCE checks, so an attacker's callback URL (their code) opened
  in the victim's browser signed the victim in as the attacker.
- GHSA-x445-f3h2-j279 (CVE-2026-73419): check cookies were not bound to the
  provider that made them, so values from a flow with one provider satisfied
  another provider's callback (mix-up), linking the attacker's account to the
  victim's user.
- GHSA-v64w-49xw-qq89 (CVE-2023-48309): a JWT from an interrupted OAuth flow
  (a check cookie) passed as a session token: a signed-in "nobody".
- "next-auth before v4.10.2 and v3.29.9 leaks excessive information into
  log" (identifier unconfirmed): failed OAuth callbacks logged the request
  body and provider answers. Here no failing callback may write the client
  secret, the code, the state or any token the provider issued.
"""

# ruff: noqa: F811 - pytest fixtures imported from oauth_support

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError

from app.auth.models import Account, User
from tests.advisories.support import ATTACKER, leaked
from tests.integration.oauth_support import (  # noqa: F401 - fixtures
    CLIENT_SECRET,
    Browser,
    expired_token_provider,
    live_app,
    mock_provider,
    oidc_provider,
    provider_settings,
    serve_wsgi,
)

SESSION = "authjs.session-token"
CHECK_COOKIES = ("authjs.pkce.code_verifier", "authjs.state", "authjs.nonce")
OWN = f"mallory@{ATTACKER}"
VICTIM = "victim@victim.example"


def _error(app, code: str = "Configuration") -> str:
    return f"{app.url}/api/auth/error?error={code}"


def _consented(browser: Browser, provider: str, sub: str) -> str:
    """Start a sign-in and consent at the provider; the callback URL, unfollowed."""
    start = browser.post_signin(provider)
    assert start.status_code == 302, start.text[:300]
    return browser.consent(start.headers["Location"], sub)


def _without(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = [(k, v[-1]) for k, v in parse_qs(parts.query).items() if k != name]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _count(dbsession, model) -> int:
    dbsession.rollback()  # a fresh transaction: see what the server committed
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


# GHSA-7r7x-4c4q-c4qf ----------------------------------------------------------------
def test_an_attackers_callback_does_not_sign_the_victim_in(
    live_app, oidc_provider, dbsession
):
    """GHSA-7r7x-4c4q-c4qf (CVE-2023-27490): login CSRF through the callback.

    The attacker consents with their own account and hands the unfollowed
    callback URL to the victim. The victim's browser holds no check cookies
    for it (or those of its own, unfinished flow): refused, nobody signed in.
    The same URL still works in the browser that started it, so it is the
    missing checks that refuse it.
    """
    oidc_provider.add_user("mallory", email=OWN, email_verified=True)
    app = live_app(**provider_settings("corp", oidc_provider.url))
    attacker = Browser(app.url)
    callback = _consented(attacker, "corp", "mallory")

    fresh_victim = Browser(app.url)
    busy_victim = Browser(app.url)
    assert busy_victim.post_signin("corp").status_code == 302  # its own flow
    for victim in (fresh_victim, busy_victim):
        done = victim.get(callback)
        assert done.headers["Location"] == _error(app)
        assert victim.session() is None
    assert _count(dbsession, User) == 0

    assert attacker.get(callback).headers["Location"] == app.url
    assert attacker.session()["user"]["email"] == OWN


@pytest.mark.parametrize(
    "strip", ["state parameter", *CHECK_COOKIES, "every check cookie"]
)
def test_a_callback_with_a_check_stripped_is_refused(
    live_app, oidc_provider, dbsession, strip
):
    """GHSA-7r7x-4c4q-c4qf (CVE-2023-27490): each check is required, alone.

    The provider's answer is genuine; only one check is taken away (the
    ``state`` parameter from the URL, or a check cookie from the browser).
    """
    oidc_provider.add_user("olivia", email="olivia@example.com", email_verified=True)
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    callback = _consented(browser, "corp", "olivia")
    if strip == "state parameter":
        callback = _without(callback, "state")
    for name in CHECK_COOKIES:
        if strip in (name, "every check cookie"):
            browser.http.cookies.clear("127.0.0.1", "/", name)

    done = browser.get(callback)

    assert done.headers["Location"] == _error(app)
    assert browser.session() is None
    assert _count(dbsession, User) == 0


@pytest.mark.no_database
def test_a_provider_without_pkce_or_state_is_refused_at_start_up(make_wsgi):
    """GHSA-7r7x-4c4q-c4qf (CVE-2023-27490) by configuration: a provider whose
    callback neither PKCE nor ``state`` protects is the advisory's missing
    check, so start-up refuses it (issue 9, item 12) and names the setting."""
    with pytest.raises(ConfigurationError, match="auth.provider.corp"):
        make_wsgi(
            **provider_settings(
                "corp", "https://sso.example.com", auth__provider__corp__checks="nonce"
            )
        )


# GHSA-x445-f3h2-j279 -----------------------------------------------------------------
def test_check_cookies_of_one_provider_do_not_satisfy_another(live_app, dbsession):
    """GHSA-x445-f3h2-j279 (CVE-2026-73419): provider mix-up while linking.

    The victim, signed in through "partner", starts another "partner" flow;
    the attacker sees its authorization request (and so its ``state``),
    consents at "corp" (a provider that relies on ``state`` alone) with their
    own account, and makes the victim's browser open corp's callback with
    that code and the victim's partner ``state``. The partner check cookie
    must not satisfy corp's callback: refused, nothing linked, and the
    attacker's corp account does not sign in as the victim.
    """
    with mock_provider() as partner_idp, mock_provider() as corp_idp:
        partner_idp.add_user("victim", email=VICTIM, email_verified=True)
        corp_idp.add_user("mallory", email=OWN, email_verified=True)
        app = live_app(
            **{
                **provider_settings("partner", partner_idp.url),
                **provider_settings(
                    "corp", corp_idp.url, auth__provider__corp__checks="state"
                ),
                "auth__providers": "partner corp",
            }
        )
        victim = Browser(app.url)
        victim.get(_consented(victim, "partner", "victim"))
        assert victim.session()["user"]["email"] == VICTIM
        seen = victim.post_signin("partner").headers["Location"]  # observed
        victims_state = parse_qs(urlsplit(seen).query)["state"][0]

        attacker = Browser(app.url)
        attackers_callback = _consented(attacker, "corp", "mallory")
        planted = (
            _without(attackers_callback, "state")
            + "&"
            + urlencode({"state": victims_state})
        )
        done = victim.get(planted)

        assert done.headers["Location"] == _error(app)
        assert victim.session()["user"]["email"] == VICTIM
        dbsession.rollback()
        assert [
            (a.provider, a.provider_account_id)
            for a in dbsession.scalars(sa.select(Account))
        ] == [("partner", "victim")]
        intruder = Browser(app.url)
        intruder.get(_consented(intruder, "corp", "mallory"))
        assert intruder.session()["user"]["email"] == OWN


# GHSA-v64w-49xw-qq89 -----------------------------------------------------------------
@pytest.mark.no_database
def test_values_of_an_interrupted_flow_are_not_session_tokens(live_app, oidc_provider):
    """GHSA-v64w-49xw-qq89 (CVE-2023-48309): a check cookie as the session.

    Each JWE the core hands out while a sign-in is under way (the three
    check cookies, and the ``state`` parameter) is planted as the session
    cookie: no session, the cookie is cleared, the members page stays shut.
    """
    app = live_app(**provider_settings("corp", oidc_provider.url))
    attacker = Browser(app.url)
    start = attacker.post_signin("corp")
    jar = attacker.http.cookies
    interrupted = {name: jar.get(name) for name in CHECK_COOKIES}
    interrupted["state parameter"] = parse_qs(
        urlsplit(start.headers["Location"]).query
    )["state"][0]
    assert all(interrupted.values()), interrupted

    for what, value in interrupted.items():
        headers = {"Cookie": f"{SESSION}={value}"}
        session = requests.get(
            app.url + "/api/auth/session", headers=headers, timeout=10
        )
        assert session.json() is None, what
        cleared = session.raw.headers.getlist("Set-Cookie")
        assert any(c.startswith(f"{SESSION}=; Max-Age=0") for c in cleared), what
        members = requests.get(
            app.url + "/members", headers=headers, allow_redirects=False, timeout=10
        )
        assert members.status_code == 302, what
        assert "/api/auth/signin" in members.headers["Location"], what


def test_a_session_token_is_not_a_check_cookie(live_app, oidc_provider):
    """GHSA-v64w-49xw-qq89 (CVE-2023-48309), the other way round: a real
    session token planted as a check cookie does not pass that check."""
    oidc_provider.add_user("mallory", email=OWN, email_verified=True)
    app = live_app(**provider_settings("corp", oidc_provider.url))
    signed_in = Browser(app.url)
    signed_in.get(_consented(signed_in, "corp", "mallory"))
    session_token = signed_in.http.cookies.get(SESSION)
    assert session_token

    for name in CHECK_COOKIES:
        browser = Browser(app.url)
        callback = _consented(browser, "corp", "mallory")
        browser.http.cookies.set(name, session_token, domain="127.0.0.1", path="/")
        done = browser.get(callback)
        assert done.headers["Location"] == _error(app), name
        assert browser.session() is None, name


# logs ----------------------------------------------------------------------------
class TokenRecorder:
    """Passes token requests on to the provider and keeps what it issued, so
    the test knows the access, ID and refresh tokens to look for in logs."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.issued: list[str] = []

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {
            name: environ[key]
            for name, key in (
                ("Authorization", "HTTP_AUTHORIZATION"),
                ("Content-Type", "CONTENT_TYPE"),
            )
            if environ.get(key)
        }
        answer = requests.post(
            self.target,
            data=environ["wsgi.input"].read(length),
            headers=headers,
            timeout=10,
        )
        if answer.ok:
            body = answer.json()
            self.issued += [
                body[k]
                for k in ("access_token", "id_token", "refresh_token")
                if k in body
            ]
        start_response(
            f"{answer.status_code} {answer.reason}",
            [("Content-Type", answer.headers.get("Content-Type", "application/json"))],
        )
        return [answer.content]


# waitress names its worker threads "waitress-<n>": what they log is what the
# product (and the libraries it calls) logged while handling a request.
SERVER_THREADS = "waitress-"


def _server_log(caplog) -> str:
    """What the server's threads logged (so the leak check reads real records)."""
    return "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.threadName.startswith(SERVER_THREADS)
    )


def _failing_callbacks(app, idp) -> dict[str, str]:
    """Make a callback fail each way it can after the provider was involved;
    return every secret value that was in play."""
    idp.add_user("olivia", email="olivia@example.com", email_verified=True)
    secrets = {"client secret": CLIENT_SECRET}

    def remember(browser: Browser, callback: str, label: str) -> None:
        query = parse_qs(urlsplit(callback).query)
        for key in ("code", "state"):
            if key in query:
                secrets[f"{label} {key}"] = query[key][0]
        for name in CHECK_COOKIES:
            secrets[f"{label} {name}"] = browser.http.cookies.get(name)

    denied = Browser(app.url)
    start = denied.post_signin("corp")
    callback = denied.deny(start.headers["Location"])
    remember(denied, callback, "denied")
    denied.get(callback)

    forged = Browser(app.url)
    callback = _consented(forged, "corp", "olivia")
    remember(forged, callback, "forged state")
    forged.get(callback.replace("state=", "state=x"))

    stolen = Browser(app.url)
    callback = _consented(stolen, "corp", "olivia")
    remember(stolen, callback, "replayed")
    cookies = stolen.http.cookies.copy()
    stolen.get(callback)  # used once, by its owner
    replay = Browser(app.url)
    replay.http.cookies.update(cookies)
    replay.get(callback)  # the provider refuses the code: invalid_grant

    bare = Browser(app.url)
    callback = _consented(bare, "corp", "olivia")
    remember(bare, callback, "no cookies")
    bare.http.cookies.clear()
    bare.get(callback)
    return secrets


def test_failed_oauth_callbacks_log_no_secret(live_app, oidc_provider, caplog):
    """Log leak advisory of next-auth < 4.10.2 (identifier unconfirmed): a
    denied consent, a forged state, a replayed code and a callback without
    its cookies, everything logged at DEBUG: no record of the product or its
    libraries holds the client secret, a code, a state or a check cookie."""
    caplog.set_level(logging.DEBUG)
    app = live_app(**provider_settings("corp", oidc_provider.url))

    secrets = _failing_callbacks(app, oidc_provider)

    assert len(secrets) > 10
    assert leaked(caplog.records, secrets, thread_prefix=SERVER_THREADS) == []
    assert "token endpoint refused: invalid_grant" in _server_log(caplog)


@pytest.mark.no_database
def test_tokens_issued_to_a_failing_callback_are_not_logged(
    live_app, expired_token_provider, caplog
):
    """Log leak advisory of next-auth < 4.10.2 (identifier unconfirmed),
    after the token request: the provider issues tokens, the ID token is then
    refused (expired). Neither the access, ID and refresh tokens, nor the
    code, nor the client secret appear in any record."""
    caplog.set_level(logging.DEBUG)
    idp = expired_token_provider
    token_endpoint = requests.get(
        idp.url + "/.well-known/openid-configuration", timeout=10
    ).json()["token_endpoint"]
    recorder = TokenRecorder(token_endpoint)
    with serve_wsgi(recorder) as recorder_url:
        app = live_app(
            **provider_settings(
                "corp", idp.url, auth__provider__corp__token_endpoint=recorder_url
            )
        )
        idp.add_user("olivia", email="olivia@example.com", email_verified=True)
        browser = Browser(app.url)
        callback = _consented(browser, "corp", "olivia")
        done = browser.get(callback)

    assert done.headers["Location"] == _error(app)
    assert "ID token rejected" in _server_log(caplog)
    assert len(recorder.issued) >= 2  # access and ID token at least
    secrets = {f"issued token {i}": t for i, t in enumerate(recorder.issued)}
    secrets["client secret"] = CLIENT_SECRET
    secrets["code"] = parse_qs(urlsplit(callback).query)["code"][0]
    assert leaked(caplog.records, secrets, thread_prefix=SERVER_THREADS) == []
