"""An OpenID provider's email counts only when the provider says it verified it.

Against a real OpenID provider (oidc-provider-mock), whose users' claims the
tests set: ``email_verified: false`` (or no claim) leaves the email out, so it
neither joins an existing user (even with dangerous email linking) nor lands
on a new one; ``true`` (or the string ``"true"``) does, and a user created
that way starts verified. Linking by email to an account whose address was
never verified claims that account first.
"""

# ruff: noqa: F811 - pytest fixtures imported from oauth_support

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.auth import UnverifiedAccountClaimed
from app.auth.models import Account, Session, User
from tests.integration.oauth_support import (  # noqa: F401 - fixtures
    Browser,
    live_app,
    oidc_provider,
    provider_settings,
)

DANGEROUS = {"auth__provider__corp__allow_dangerous_email_account_linking": "true"}


def _user(dbsession, email: str, *, verified: bool) -> User:
    user = User(
        email=email,
        name="Victim",
        email_verified=dt.datetime.now(dt.UTC) if verified else None,
    )
    dbsession.add(user)
    dbsession.commit()
    return user


def _users(dbsession) -> list[User]:
    dbsession.rollback()
    dbsession.expire_all()
    return list(dbsession.scalars(sa.select(User).order_by(User.id)))


@pytest.mark.parametrize(
    "claim", [{"email_verified": False}, {}], ids=["false", "absent"]
)
def test_unverified_email_does_not_join_an_existing_user(
    live_app, oidc_provider, dbsession, claim
):
    # The attacker's provider account shows the victim's address, unverified.
    victim = _user(dbsession, "victim@example.com", verified=True)
    oidc_provider.add_user("attacker", email="victim@example.com", **claim)
    app = live_app(**DANGEROUS, **provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)

    done = browser.sign_in("corp", "attacker")

    assert done.headers["Location"] == app.url
    assert "email" not in browser.session()["user"]
    victim_row, created = _users(dbsession)
    assert victim_row.id == victim.id
    assert created.email is None and created.email_verified is None
    account = dbsession.scalars(sa.select(Account)).one()
    assert account.user_id == created.id


def test_unverified_email_is_not_put_on_a_new_user(live_app, oidc_provider, dbsession):
    oidc_provider.add_user("sam", email="sam@example.com", email_verified=False)
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)

    browser.sign_in("corp", "sam")

    [user] = _users(dbsession)
    assert user.email is None
    assert "email" not in browser.session()["user"]


@pytest.mark.parametrize("verified", [True, "true"], ids=["json-true", "string-true"])
def test_verified_email_creates_a_verified_user(
    live_app, oidc_provider, dbsession, verified
):
    oidc_provider.add_user("val", email="Val@Example.com", email_verified=verified)
    app = live_app(**provider_settings("corp", oidc_provider.url))
    before = dt.datetime.now(dt.UTC)

    Browser(app.url).sign_in("corp", "val")

    [user] = _users(dbsession)
    assert user.email == "val@example.com"
    assert before <= user.email_verified <= dt.datetime.now(dt.UTC)


def test_verified_email_with_dangerous_linking_joins_the_existing_user(
    live_app, oidc_provider, dbsession
):
    owner = _user(dbsession, "owner@example.com", verified=True)
    oidc_provider.add_user("own", email="owner@example.com", email_verified=True)
    app = live_app(**DANGEROUS, **provider_settings("corp", oidc_provider.url))

    Browser(app.url).sign_in("corp", "own")

    [user] = _users(dbsession)
    assert user.id == owner.id
    assert dbsession.scalars(sa.select(Account)).one().user_id == owner.id


def test_dangerous_linking_to_an_unverified_account_claims_it_first(
    live_app, oidc_provider, dbsession
):
    # Pre-registration: an attacker's account on the victim's address, with
    # the attacker's own "partner" login linked and a session open.
    now = dt.datetime.now(dt.UTC)
    squatted = _user(dbsession, "victim@example.com", verified=False)
    dbsession.add(
        Account(
            user_id=squatted.id,
            type="oidc",
            provider="partner",
            provider_account_id="attacker",
        )
    )
    dbsession.add(
        Session(
            user_id=squatted.id,
            session_token="attacker-session",
            expires=now + dt.timedelta(days=1),
            created=now,
        )
    )
    dbsession.commit()
    oidc_provider.add_user("victim", email="victim@example.com", email_verified=True)
    app = live_app(**DANGEROUS, **provider_settings("corp", oidc_provider.url))
    claimed = app.record(UnverifiedAccountClaimed)

    Browser(app.url).sign_in("corp", "victim")

    [user] = _users(dbsession)
    assert user.id == squatted.id and user.email_verified is not None
    accounts = dbsession.scalars(sa.select(Account)).all()
    assert [(a.provider, a.user_id) for a in accounts] == [("corp", user.id)]
    assert dbsession.scalars(sa.select(Session)).all() == []
    assert [(e.user.id, e.provider_id) for e in claimed] == [(str(user.id), "corp")]


@pytest.mark.parametrize(
    "stored, claimed",
    [
        # rows an older database may hold, claimed exactly as stored
        ("Élodie@example.com", "Élodie@example.com"),
        ("İ@example.com", "İ@example.com"),
        # signed up since (domains are stored in IDNA form), claimed in Unicode
        ("bob@xn--bcher-kva.example", "Bob@Bücher.example"),
    ],
    ids=["e-acute", "dotted-capital-i", "idn-domain"],
)
def test_a_verified_email_beyond_ascii_finds_its_account_not_a_second_one(
    live_app, oidc_provider, dbsession, stored, claimed
):
    # Python's lower() folded "É" and "İ" where SQLite's lower() (the unique
    # index's rule) does not, and the domain was compared in Unicode: the
    # look-up missed the owner and a twin account was made.
    owner = _user(dbsession, stored, verified=True)
    oidc_provider.add_user("twin", email=claimed, email_verified=True)
    app = live_app(**provider_settings("corp", oidc_provider.url))
    browser = Browser(app.url)

    done = browser.sign_in("corp", "twin")

    assert done.headers["Location"] == (
        f"{app.url}/api/auth/signin?error=OAuthAccountNotLinked"
    )
    assert [(u.id, u.email) for u in _users(dbsession)] == [(owner.id, stored)]
    assert dbsession.scalars(sa.select(Account)).all() == []
