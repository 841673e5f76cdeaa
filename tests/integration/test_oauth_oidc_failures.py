"""Every way an OpenID Connect sign-in fails ends on Auth.js's error redirect, logged.

A provider's error with this browser's state -> ``signin?error=OAuthCallbackError``;
without it (a denial that carries no state, or a forged one), a forged, missing or
foreign check cookie, a replayed code, an expired or mismatched ID token, a
provider that is down, slow or lying about its issuer -> ``error?error=Configuration``
(the real reason is in the log, never in the URL). Never a 500.
"""

# ruff: noqa: F811 - pytest fixtures imported from oauth_support

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from werkzeug.wrappers import Response

from app.auth.jwt import encode
from app.auth.models import Account, User
from tests.conftest import TEST_SECRET
from tests.integration.oauth_support import (  # noqa: F401 - fixtures
    Browser,
    closed_port,
    cookie_header,
    expired_token_provider,
    live_app,
    mock_provider,
    oidc_provider,
    provider_settings,
    query_of,
    serve_wsgi,
    silent_server,
)

PKCE = "authjs.pkce.code_verifier"
STATE = "authjs.state"
NONCE = "authjs.nonce"


@pytest.fixture(autouse=True)
def _info_logs(caplog):
    caplog.set_level(logging.INFO, logger="app")


def _consented(browser: Browser, sub: str = "eve") -> str:
    start = browser.post_signin("corp")
    assert start.status_code == 302
    return browser.consent(start.headers["Location"], sub)


def _error_url(app, code: str = "Configuration") -> str:
    return f"{app.url}/api/auth/error?error={code}"


def _reasons(caplog) -> str:
    return "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("app.")
    )


def test_denied_consent_without_state_is_a_configuration_error(
    live_app, oidc_provider, dbsession, caplog
):
    # The provider's denial redirect carries no state (oidc-provider-mock's,
    # like many real ones). Auth.js 0.41.3 verifies the check cookies first,
    # so this is InvalidCheck -> Configuration (spec §1.12, observed).
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    start = browser.post_signin("corp")

    callback = browser.deny(start.headers["Location"])
    done = browser.get(callback)

    assert "error=access_denied" in callback and "state=" not in callback
    assert done.status_code == 302
    assert done.headers["Location"] == _error_url(app)
    assert "no state parameter in the callback" in _reasons(caplog)
    for name in (PKCE, STATE, NONCE):
        assert cookie_header(done, name).startswith(f"{name}=; Max-Age=0")
    assert browser.session() is None
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_provider_error_with_this_browsers_state_is_oauth_callback_error(
    live_app, oidc_provider, dbsession, caplog
):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    start = browser.post_signin("corp")
    state = query_of(start.headers["Location"])["state"]

    done = browser.get(
        f"{app.url}/api/auth/callback/corp?"
        + urlencode({"error": "access_denied", "state": state})
    )

    assert done.status_code == 302
    assert (
        done.headers["Location"]
        == f"{app.url}/api/auth/signin?error=OAuthCallbackError"
    )
    assert "access_denied" in _reasons(caplog)
    for name in (PKCE, STATE, NONCE):
        assert cookie_header(done, name).startswith(f"{name}=; Max-Age=0")
    assert browser.session() is None
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    page = browser.http.get(done.headers["Location"], timeout=10)
    assert page.status_code == 200
    assert "Try signing in with a different account." in page.text


@pytest.mark.no_database
def test_provider_error_without_check_cookies_is_a_configuration_error(
    live_app, oidc_provider, caplog
):
    # Someone else's (or a forged) denial, opened in a browser that never
    # started a sign-in: nothing binds it to this browser.
    app = live_app(**provider_settings("corp", oidc_provider.url))
    starter = Browser(app.url)
    state = query_of(starter.post_signin("corp").headers["Location"])["state"]

    done = Browser(app.url).get(
        f"{app.url}/api/auth/callback/corp?"
        + urlencode({"error": "access_denied", "state": state})
    )

    assert done.headers["Location"] == _error_url(app)
    assert "state check failed for provider=corp: cookie missing" in _reasons(caplog)


@pytest.mark.parametrize("state", ["forged", ""])
@pytest.mark.no_database
def test_tampered_state_is_an_invalid_check(live_app, oidc_provider, caplog, state):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    callback = _consented(browser)
    real_state = callback.split("state=")[1].split("&")[0]

    done = browser.get(callback.replace(f"state={real_state}", f"state={state}"))

    assert done.status_code == 302
    assert done.headers["Location"] == _error_url(app)
    assert "error=InvalidCheck" in _reasons(caplog)
    assert "state check failed" in _reasons(caplog)
    assert browser.session() is None


@pytest.mark.no_database
def test_missing_pkce_cookie_is_an_invalid_check(live_app, oidc_provider, caplog):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    callback = _consented(browser)
    browser.http.cookies.clear("127.0.0.1", "/", PKCE)

    done = browser.get(callback)

    assert done.headers["Location"] == _error_url(app)
    assert "pkce check failed for provider=corp: cookie missing" in _reasons(caplog)
    assert browser.session() is None


@pytest.mark.no_database
def test_check_cookie_made_for_another_provider_is_refused(
    live_app, oidc_provider, caplog
):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    callback = _consented(browser)
    verifier = encode({"value": "x" * 43, "provider": "other"}, TEST_SECRET, PKCE, 900)
    browser.http.cookies.set(PKCE, verifier, domain="127.0.0.1", path="/")

    done = browser.get(callback)

    assert done.headers["Location"] == _error_url(app)
    assert "cookie was made for another provider" in _reasons(caplog)


@pytest.mark.no_database
def test_nonce_not_matching_the_id_token_is_refused(live_app, oidc_provider, caplog):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    callback = _consented(browser)
    forged = encode(
        {"value": "not-the-nonce-sent", "provider": "corp"}, TEST_SECRET, NONCE, 900
    )
    browser.http.cookies.set(NONCE, forged, domain="127.0.0.1", path="/")

    done = browser.get(callback)

    assert done.headers["Location"] == _error_url(app)
    assert "ID token rejected" in _reasons(caplog)
    assert "nonce" in _reasons(caplog)
    assert browser.session() is None


def test_replayed_callback_is_refused(live_app, oidc_provider, dbsession, caplog):
    oidc_provider.add_user("frank", email="frank@example.com")
    app = live_app(**provider_settings("corp", oidc_provider.url))
    victim = Browser(app.url)
    callback = _consented(victim, "frank")
    stolen = victim.http.cookies.copy()
    assert victim.get(callback).headers["Location"] == app.url

    # The same URL again, even with the check cookies as they were: the
    # provider refuses a code it has already exchanged.
    attacker = Browser(app.url)
    attacker.http.cookies.update(stolen)
    replay = attacker.get(callback)

    assert replay.headers["Location"] == _error_url(app)
    assert "token endpoint refused: invalid_grant" in _reasons(caplog)
    assert attacker.session() is None
    # And the browser that used it has no check cookies left to replay with.
    assert victim.get(callback).headers["Location"] == _error_url(app)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Account)) == 1


def test_expired_id_token_is_refused(
    live_app, expired_token_provider, dbsession, caplog
):
    app = live_app(**provider_settings("corp", expired_token_provider.url))
    browser = Browser(app.url)

    done = browser.get(_consented(browser))

    assert done.headers["Location"] == _error_url(app)
    assert "ID token rejected: ExpiredTokenError" in _reasons(caplog)
    assert browser.session() is None
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.no_database
def test_unreachable_provider_ends_on_the_error_page(live_app, caplog):
    app = live_app(**provider_settings("corp", f"http://127.0.0.1:{closed_port()}"))
    browser = Browser(app.url)

    start = browser.post_signin("corp")

    assert start.status_code == 302
    assert start.headers["Location"] == _error_url(app)
    assert "discovery document is unreachable" in _reasons(caplog)
    page = browser.http.get(start.headers["Location"], timeout=10)
    assert "There is a problem with the server configuration." in page.text


@pytest.mark.no_database
def test_slow_provider_times_out(live_app, caplog):
    with silent_server() as port:
        app = live_app(
            auth__http_timeout="0.3",
            **provider_settings("corp", f"http://127.0.0.1:{port}"),
        )
        browser = Browser(app.url)

        start = browser.post_signin("corp")

    assert start.headers["Location"] == _error_url(app)
    assert "discovery document did not answer within 0.3s" in _reasons(caplog)


@pytest.mark.no_database
def test_provider_down_during_the_callback(live_app, caplog):
    with mock_provider() as provider:
        app = live_app(**provider_settings("corp", provider.url))
        browser = Browser(app.url)
        callback = _consented(browser)

    done = browser.get(callback)

    assert done.headers["Location"] == _error_url(app)
    assert "token endpoint is unreachable" in _reasons(caplog)


@pytest.mark.no_database
def test_slow_token_endpoint_times_out(live_app, oidc_provider, caplog):
    with silent_server() as port:
        app = live_app(
            auth__http_timeout="0.3",
            auth__provider__corp__token_endpoint=f"http://127.0.0.1:{port}/token",
            **provider_settings("corp", oidc_provider.url),
        )
        browser = Browser(app.url)
        done = browser.get(_consented(browser))

    assert done.headers["Location"] == _error_url(app)
    assert "token endpoint did not answer within 0.3s" in _reasons(caplog)


@pytest.mark.no_database
def test_discovery_naming_another_issuer_is_refused(live_app, caplog):
    def liar(environ, start_response):
        document = {
            "issuer": "https://accounts.example.org",
            "authorization_endpoint": "https://accounts.example.org/auth",
            "token_endpoint": "https://accounts.example.org/token",
            "jwks_uri": "https://accounts.example.org/jwks",
        }
        return Response(json.dumps(document), content_type="application/json")(
            environ, start_response
        )

    with serve_wsgi(liar) as url:
        app = live_app(**provider_settings("corp", url))
        start = Browser(app.url).post_signin("corp")

    assert start.headers["Location"] == _error_url(app)
    assert "discovery document names issuer 'https://accounts.example.org'" in _reasons(
        caplog
    )


@pytest.mark.no_database
def test_callback_without_code_is_refused(live_app, oidc_provider, caplog):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)
    callback = _consented(browser)
    without_code = "&".join(
        p for p in callback.split("?", 1)[1].split("&") if not p.startswith("code=")
    )

    done = browser.get(f"{app.url}/api/auth/callback/corp?{without_code}")

    assert done.headers["Location"] == _error_url(app)
    assert "no code in the callback" in _reasons(caplog)
