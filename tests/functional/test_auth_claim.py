"""No takeover through an unverified account: a magic link claims it first.

The attack: someone creates an account on the victim's address without
proving it (here: a user row with ``emailVerified`` null, an OAuth account
of theirs linked to it, and a signed-in database session). When the victim
then signs in with a magic link, the core must not hand the victim an
account the attacker still holds: it unlinks the account's OAuth accounts,
ends its database sessions and fires ``UnverifiedAccountClaimed`` (so
applications drop the rest) before marking the address verified.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from webtest import TestApp

from app.auth import UnverifiedAccountClaimed
from app.auth.models import Account, Session, User
from tests.functional.support import csrf_token, events

VICTIM = "victim@example.com"
SESSION = "authjs.session-token"
ATTACKER_SESSION = "attacker-session-token"


def make(make_app, strategy: str = "database"):
    return make_app(
        auth__providers="email",
        auth__provider__email__from="s@example.test",
        auth__session__strategy=strategy,
        pyramid__includes="tests.functional.support.include_events",
    )


def arrange(dbsession, *, verified: bool) -> User:
    now = dt.datetime.now(dt.UTC)
    user = User(
        email=VICTIM, name="Pre-registered", email_verified=now if verified else None
    )
    dbsession.add(user)
    dbsession.flush()
    dbsession.add(
        Account(
            user_id=user.id,
            type="oidc",
            provider="corp",
            provider_account_id="attacker-sub",
        )
    )
    dbsession.add(
        Session(
            user_id=user.id,
            session_token=ATTACKER_SESSION,
            expires=now + dt.timedelta(days=1),
            created=now,
        )
    )
    dbsession.commit()
    return user


def follow_magic_link(app, smtp_server, email: str = VICTIM):
    token = csrf_token(app)
    app.post("/api/auth/signin/email", {"csrfToken": token, "email": email})
    [message] = smtp_server.wait_for(1)
    text = message.get_body(("plain",)).get_content()
    link = urlsplit(re.search(r"^(http://\S+)\s*$", text, re.M).group(1))
    return app.get(f"{link.path}?{link.query}")


def attacker_session(app):
    """The session the attacker's browser (its own cookie jar) reads."""
    attacker = TestApp(app.app)
    return attacker.get(
        "/api/auth/session", headers={"Cookie": f"{SESSION}={ATTACKER_SESSION}"}
    ).json


def test_magic_link_claims_an_unverified_account(make_app, smtp_server, dbsession):
    user = arrange(dbsession, verified=False)
    app = make(make_app)
    assert attacker_session(app)["user"]["email"] == VICTIM  # the attacker's foothold

    done = follow_magic_link(app, smtp_server)

    assert done.status_int == 302
    dbsession.rollback()
    assert dbsession.scalars(sa.select(Account)).all() == []
    tokens = dbsession.scalars(sa.select(Session.session_token)).all()
    assert ATTACKER_SESSION not in tokens and len(tokens) == 1  # the victim's own
    assert attacker_session(app) is None
    claimed = events(app, UnverifiedAccountClaimed)
    assert len(claimed) == 1
    assert (claimed[0].user.id, claimed[0].provider_id) == (str(user.id), "email")
    dbsession.expire_all()
    assert dbsession.get(User, user.id).email_verified is not None
    assert app.get("/api/auth/session").json["user"]["email"] == VICTIM


def test_magic_link_claims_before_a_jwt_sign_in_too(make_app, smtp_server, dbsession):
    arrange(dbsession, verified=False)
    app = make(make_app, strategy="jwt")

    follow_magic_link(app, smtp_server)

    dbsession.rollback()
    assert dbsession.scalars(sa.select(Account)).all() == []
    assert dbsession.scalars(sa.select(Session)).all() == []
    assert len(events(app, UnverifiedAccountClaimed)) == 1


def test_a_verified_account_is_not_claimed(make_app, smtp_server, dbsession):
    arrange(dbsession, verified=True)
    app = make(make_app)

    follow_magic_link(app, smtp_server)

    dbsession.rollback()
    assert len(dbsession.scalars(sa.select(Account)).all()) == 1
    assert attacker_session(app)["user"]["email"] == VICTIM
    assert events(app, UnverifiedAccountClaimed) == []
