"""Signing in with a real OpenID provider (oidc-provider-mock) over HTTP, end to end."""

# ruff: noqa: F811, S105, S106 - imported pytest fixtures; test credentials

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.auth import AccountLinked, SignedIn, UserCreated
from app.auth.models import Account, User
from tests.integration.oauth_support import (  # noqa: F401 - fixtures
    CLIENT_ID,
    Browser,
    live_app,
    oidc_provider,
    provider_settings,
    query_of,
)


def test_first_sign_in_creates_user_account_and_session(
    live_app, oidc_provider, dbsession
):
    oidc_provider.add_user(
        "alice-sub",
        email="Alice@Example.COM",
        email_verified=True,
        name="Alice Liddell",
    )
    server = live_app(**provider_settings("corp", oidc_provider.url))
    events = server.record(UserCreated, AccountLinked, SignedIn)
    browser = Browser(server.url)

    done = browser.sign_in("corp", "alice-sub", callback_url="/members")

    assert done.status_code == 302
    assert done.headers["Location"] == f"{server.url}/members"
    session = browser.session()
    assert session["user"] == {"name": "Alice Liddell", "email": "alice@example.com"}
    user = dbsession.scalars(sa.select(User)).one()
    assert user.email == "alice@example.com"
    assert user.name == "Alice Liddell"
    # Beyond Auth.js (null): the provider verified the address.
    assert user.email_verified is not None
    account = dbsession.scalars(sa.select(Account)).one()
    assert (account.type, account.provider, account.provider_account_id) == (
        "oidc",
        "corp",
        "alice-sub",
    )
    assert account.user_id == user.id
    assert account.id_token and account.access_token
    assert account.token_type == "bearer"
    assert [type(e) for e in events] == [UserCreated, AccountLinked, SignedIn]
    assert events[-1].is_new_user is True


def test_second_sign_in_finds_the_same_user(live_app, oidc_provider, dbsession):
    oidc_provider.add_user(
        "bob-sub", email="bob@example.com", email_verified=True, name="Bob"
    )
    server = live_app(**provider_settings("corp", oidc_provider.url))
    Browser(server.url).sign_in("corp", "bob-sub")
    events = server.record(UserCreated, AccountLinked, SignedIn)

    again = Browser(server.url)
    done = again.sign_in("corp", "bob-sub")

    assert done.status_code == 302
    assert again.session()["user"]["email"] == "bob@example.com"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Account)) == 1
    assert [type(e) for e in events] == [SignedIn]
    assert events[0].is_new_user is False


def test_a_profile_name_with_control_characters_is_stored_without_them(
    live_app, oidc_provider, dbsession
):
    # PostgreSQL's text columns refuse a NUL (psycopg's DataError): a 500 if stored
    oidc_provider.add_user(
        "nul-sub",
        email="nul@example.com",
        email_verified=True,
        name="Null\x00 \u202eUser\x07",
    )
    server = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(server.url)

    done = browser.sign_in("corp", "nul-sub")

    assert done.status_code == 302
    assert done.headers["Location"] == server.url
    assert browser.session()["user"] == {
        "name": "Null User",
        "email": "nul@example.com",
    }
    user = dbsession.scalars(sa.select(User)).one()
    assert user.name == "Null User"


def _arrange_user(
    dbsession, email: str, name: str | None = None, *, verified: bool = True
) -> User:
    user = User(
        email=email,
        name=name,
        email_verified=dt.datetime.now(dt.UTC) if verified else None,
    )
    dbsession.add(user)
    dbsession.commit()
    return user


def test_email_of_another_user_is_refused_with_oauth_account_not_linked(
    live_app, oidc_provider, dbsession
):
    _arrange_user(dbsession, "Dora@example.com")
    oidc_provider.add_user(
        "dora-sub", email="dora@example.com", email_verified=True, name="Dora"
    )
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)

    done = browser.sign_in("corp", "dora-sub")

    assert (
        done.headers["Location"]
        == f"{app.url}/api/auth/signin?error=OAuthAccountNotLinked"
    )
    assert browser.session() is None
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Account)) == 0
    page = browser.http.get(done.headers["Location"], timeout=10)
    assert "sign in with the same account you used originally" in page.text


def test_dangerous_email_linking_opt_in_links_to_the_existing_user(
    live_app, oidc_provider, dbsession
):
    existing = _arrange_user(dbsession, "dora@example.com", "Dora Existing")
    oidc_provider.add_user(
        "dora-sub", email="DORA@example.com", email_verified=True, name="Dora"
    )
    app = live_app(
        auth__provider__corp__allow_dangerous_email_account_linking="true",
        **provider_settings("corp", oidc_provider.url),
    )
    events = app.record(UserCreated, AccountLinked, SignedIn)
    browser = Browser(app.url)

    done = browser.sign_in("corp", "dora-sub")

    assert done.headers["Location"] == app.url
    assert browser.session()["user"]["email"] == "dora@example.com"
    account = dbsession.scalars(sa.select(Account)).one()
    assert account.user_id == existing.id
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert [type(e) for e in events] == [AccountLinked, SignedIn]


def _two_providers(oidc_provider) -> dict[str, str]:
    settings = provider_settings("corp", oidc_provider.url)
    settings["auth__providers"] = "corp partner"
    for key in ("type", "issuer", "client_id", "client_secret"):
        settings[f"auth__provider__partner__{key}"] = settings[
            f"auth__provider__corp__{key}"
        ]
    settings["auth__provider__partner__name"] = "Partner"
    return settings


def test_signed_in_user_links_a_second_provider_account(
    live_app, oidc_provider, dbsession
):
    oidc_provider.add_user(
        "gina-corp", email="gina@corp.example", email_verified=True, name="Gina"
    )
    oidc_provider.add_user(
        "gina-partner", email="gina@partner.example", email_verified=True, name="G."
    )
    app = live_app(**_two_providers(oidc_provider))
    browser = Browser(app.url)
    browser.sign_in("corp", "gina-corp")

    done = browser.sign_in("partner", "gina-partner")

    assert done.headers["Location"] == app.url
    user = dbsession.scalars(sa.select(User)).one()
    accounts = dbsession.scalars(sa.select(Account).order_by(Account.provider)).all()
    assert [(a.provider, a.user_id) for a in accounts] == [
        ("corp", user.id),
        ("partner", user.id),
    ]
    assert browser.session()["user"]["email"] == "gina@corp.example"


def test_account_of_another_user_is_refused_while_signed_in(
    live_app, oidc_provider, dbsession
):
    oidc_provider.add_user("hal", email="hal@example.com", email_verified=True)
    oidc_provider.add_user("ivy", email="ivy@example.com", email_verified=True)
    app = live_app(**_two_providers(oidc_provider))
    Browser(app.url).sign_in("partner", "ivy")  # ivy's partner account exists
    browser = Browser(app.url)
    browser.sign_in("corp", "hal")

    done = browser.sign_in("partner", "ivy")

    assert (
        done.headers["Location"]
        == f"{app.url}/api/auth/signin?error=OAuthAccountNotLinked"
    )
    assert browser.session()["user"]["email"] == "hal@example.com"


@pytest.mark.no_database
def test_signin_starts_with_checks_in_short_lived_encrypted_cookies(
    live_app, oidc_provider
):
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    from app.auth.jwt import decode
    from tests.conftest import TEST_SECRET
    from tests.integration.oauth_support import cookie_header

    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)

    start = browser.post_signin(
        "corp", query="login_hint=kim&prompt=login&client_id=evil"
    )

    assert start.status_code == 302
    location = start.headers["Location"]
    assert location.startswith(f"{oidc_provider.url}/oauth2/authorize?")
    params = query_of(location)
    values = {}
    for name in ("authjs.pkce.code_verifier", "authjs.state", "authjs.nonce"):
        header = cookie_header(start, name)
        attributes = header.split("; ")[1:]
        assert "Path=/" in attributes and "HttpOnly" in attributes
        assert "SameSite=Lax" in attributes
        assert any(a.startswith("Expires=") for a in attributes)
        assert ("Max-Age=900" in attributes) is (name != "authjs.nonce")
        payload = decode(header.split(";")[0].split("=", 1)[1], TEST_SECRET, name)
        assert payload["provider"] == "corp"
        assert payload["exp"] - payload["iat"] == 900
        values[name] = payload["value"]
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"{app.url}/api/auth/callback/corp"
    assert params["scope"] == "openid profile email"
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] == create_s256_code_challenge(
        values["authjs.pkce.code_verifier"]
    )
    assert params["state"] == values["authjs.state"]
    assert params["nonce"] == values["authjs.nonce"]
    # The POST's query goes along, except what the protocol owns.
    assert params["login_hint"] == "kim"
    assert params["prompt"] == "login"


def test_check_cookies_are_cleared_by_the_callback(live_app, oidc_provider):
    from tests.integration.oauth_support import cookie_header

    oidc_provider.add_user("jo", email="jo@example.com")
    app = live_app(**provider_settings("corp", oidc_provider.url))

    done = Browser(app.url).sign_in("corp", "jo")

    for name in ("authjs.pkce.code_verifier", "authjs.state", "authjs.nonce"):
        assert (
            cookie_header(done, name)
            == f"{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        )
    assert cookie_header(done, "authjs.session-token")


@pytest.mark.no_database
def test_signin_without_csrf_token_is_refused(live_app, oidc_provider):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)

    response = browser.http.post(
        f"{app.url}/api/auth/signin/corp", data={}, allow_redirects=False, timeout=10
    )

    assert (
        response.headers["Location"] == f"{app.url}/api/auth/signin?error=MissingCSRF"
    )


@pytest.mark.no_database
def test_signin_page_and_providers_list_the_oidc_provider(live_app, oidc_provider):
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)

    page = browser.http.get(f"{app.url}/api/auth/signin", timeout=10)
    providers = browser.http.get(f"{app.url}/api/auth/providers", timeout=10).json()

    assert f'action="{app.url}/api/auth/signin/corp"' in page.text
    assert "Sign in with Corp SSO" in page.text
    assert providers["corp"] == {
        "id": "corp",
        "name": "Corp SSO",
        "type": "oidc",
        "signinUrl": f"{app.url}/api/auth/signin/corp",
        "callbackUrl": f"{app.url}/api/auth/callback/corp",
    }


def test_google_preset_configured_by_settings(live_app, oidc_provider, dbsession):
    # Google itself is out of reach; the preset's issuer is overridable, so
    # the real OpenID provider on 127.0.0.1 stands in for accounts.google.com.
    oidc_provider.add_user(
        "1094",
        email="kay@gmail.example",
        email_verified=True,
        name="Kay",
        picture="https://lh3.example/kay.png",
    )
    app = live_app(
        auth__providers="google",
        auth__provider__google__client_id=CLIENT_ID,
        auth__provider__google__client_secret="google-secret",
        auth__provider__google__issuer=oidc_provider.url,
    )
    browser = Browser(app.url)

    done = browser.sign_in("google", "1094")

    assert done.headers["Location"] == app.url
    assert browser.session()["user"] == {
        "name": "Kay",
        "email": "kay@gmail.example",
        "image": "https://lh3.example/kay.png",
    }
    account = dbsession.scalars(sa.select(Account)).one()
    assert (account.provider, account.type, account.provider_account_id) == (
        "google",
        "oidc",
        "1094",
    )
    providers = browser.http.get(f"{app.url}/api/auth/providers", timeout=10).json()
    assert providers["google"]["name"] == "Google"


def test_database_session_strategy(live_app, oidc_provider, dbsession):
    from app.auth.models import Session

    oidc_provider.add_user(
        "lee", email="lee@example.com", email_verified=True, name="Lee"
    )
    app = live_app(
        auth__session__strategy="database",
        **provider_settings("corp", oidc_provider.url),
    )
    browser = Browser(app.url)

    browser.sign_in("corp", "lee")

    assert browser.session()["user"]["email"] == "lee@example.com"
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Session)) == 1


@pytest.mark.no_database
def test_signin_page_offers_every_enabled_provider(live_app, oidc_provider):
    settings = provider_settings("corp", oidc_provider.url)
    settings["auth__providers"] = "corp email"
    app = live_app(auth__provider__email__from="Site <login@example.test>", **settings)

    page = Browser(app.url).http.get(f"{app.url}/api/auth/signin", timeout=10).text

    assert page.index("Sign in with Corp SSO") < page.index("Sign in with Email")
    assert f'action="{app.url}/api/auth/signin/email"' in page
    assert '<label for="input-email-for-email-provider">Email</label>' in page
    assert page.count('name="csrfToken"') >= 2
