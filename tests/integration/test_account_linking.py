"""Linking an OAuth/OIDC account to the signed-in person, with a real OpenID provider.

The core links an account it does not know to whoever is signed in (Auth.js's
rule). Registration asks for a recent sign-in first and mails the owner a
notice; the attacker's sequence: a session that is not recent (a stolen or
long-lived cookie) tries to add the attacker's own provider account.
"""

# ruff: noqa: F811 - imported pytest fixtures

from __future__ import annotations

import re

import sqlalchemy as sa

from app.auth.models import Account
from tests.integration.oauth_support import (  # noqa: F401 - fixtures
    Browser,
    live_app,
    oidc_provider,
    provider_settings,
)

PASSWORD = "violet tractor umbrella 42"  # noqa: S105 - test data


def sign_up(browser: Browser, email: str) -> None:
    page = browser.http.get(browser.base + "/signup", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = browser.http.post(
        browser.base + "/signup",
        data={
            "csrf_token": token,
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    assert browser.session()["user"]["email"] == email


def accounts(dbsession) -> list[tuple[str, str, int]]:
    dbsession.expire_all()
    return [
        (a.provider, a.provider_account_id, a.user_id)
        for a in dbsession.scalars(sa.select(Account))
    ]


def test_linking_while_recently_signed_in_links_and_mails_a_notice(
    live_app, oidc_provider, smtp_server, dbsession
):
    oidc_provider.add_user(
        "linked-sub", email="elsewhere@example.org", email_verified=True
    )
    server = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(server.url)
    sign_up(browser, "linker@example.com")
    smtp_server.wait_for(1)
    smtp_server.clear()

    done = browser.sign_in("corp", "linked-sub", callback_url="/account/methods")

    assert done.status_code == 302
    assert done.headers["Location"] == f"{server.url}/account/methods"
    assert browser.session()["user"]["email"] == "linker@example.com"
    [(provider, sub, _)] = accounts(dbsession)
    assert (provider, sub) == ("corp", "linked-sub")
    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "linker@example.com"
    assert "new sign-in method was linked" in notice["Subject"]
    assert "Corp SSO" in notice.get_body(("plain",)).get_content()
    page = browser.get(server.url + "/account/methods")
    assert "Corp SSO (account linked-sub)" in page.text


def test_linking_without_a_recent_sign_in_is_refused(
    live_app, oidc_provider, smtp_server, dbsession
):
    oidc_provider.add_user(
        "attacker-sub", email="mallory@example.org", email_verified=True
    )
    server = live_app(
        **provider_settings("corp", oidc_provider.url),
        registration__reauth_max_age="0",
    )
    browser = Browser(server.url)
    sign_up(browser, "victim@example.com")
    smtp_server.wait_for(1)
    smtp_server.clear()

    done = browser.sign_in("corp", "attacker-sub")

    assert done.status_code == 302
    assert done.headers["Location"] == f"{server.url}/account/methods/?link=reauth"
    assert accounts(dbsession) == []
    assert browser.session()["user"]["email"] == "victim@example.com"
    page = browser.get(done.headers["Location"])
    assert "needs a recent sign-in" in page.text
    assert smtp_server.messages == []


def test_a_new_user_from_a_provider_gets_no_linked_notice(
    live_app, oidc_provider, smtp_server, dbsession
):
    oidc_provider.add_user("new-sub", email="newcomer@example.org", email_verified=True)
    server = live_app(
        **provider_settings("corp", oidc_provider.url),
        registration__reauth_max_age="0",  # not signed in: no link, no rule
    )
    browser = Browser(server.url)

    done = browser.sign_in("corp", "new-sub")

    assert done.status_code == 302
    assert browser.session()["user"]["email"] == "newcomer@example.org"
    assert len(accounts(dbsession)) == 1
    assert smtp_server.messages == []
