"""Pre-registration takeover, registration's side: a claimed account loses its signup password.

An attacker signs up with the victim's address and a password of their own;
the address is never confirmed. When the victim proves the address another
way (a magic link), the core fires ``UnverifiedAccountClaimed`` and marks it
verified; here a test view does exactly that (the end-to-end journey through
the core's magic link is tests/integration/test_takeover.py). Without the
subscriber, the attacker's password signs in to the victim's now verified
account and the attacker's session goes on.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from webtest import TestApp

from app.registration.store import UNUSABLE_HASH, CredentialStore
from tests.functional.registration.helpers import (
    CLAIM_VIEW,
    GOOD_PASSWORD,
    OTHER_PASSWORD,
    link_to,
    password_hash,
    session,
    signin,
    signup,
    unique_email,
    user_row,
)

ATTACKER_PASSWORD = "attacker chose this one 7"
NOTICE = "An unconfirmed sign-up on your email address was reset (Authsite)"


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_a_claimed_unverified_account_loses_the_signup_password_and_sessions(
    make_wsgi, smtp_server, dbengine, mode
):
    wsgi = make_wsgi(registration__email_verification=mode, **CLAIM_VIEW)
    attacker = TestApp(wsgi)
    victim = unique_email("victim")
    signup(attacker, victim, ATTACKER_PASSWORD)
    if mode == "optional":
        assert session(attacker)["user"]["email"] == victim
    else:
        waiting = signin(TestApp(wsgi), victim, ATTACKER_PASSWORD)
        assert waiting.location.endswith("code=email_unverified")
    smtp_server.wait_for(1)  # the verification link, never used
    smtp_server.clear()

    TestApp(wsgi).post("/test-claim", {"email": victim}, status=200)

    refused = signin(TestApp(wsgi), victim, ATTACKER_PASSWORD)
    assert "error=CredentialsSignin" in refused.location
    assert refused.location.endswith("code=credentials")
    assert session(attacker) is None  # the session made with that password ended
    assert password_hash(dbengine, user_row(dbengine, victim).id) == UNUSABLE_HASH
    (notice,) = smtp_server.wait_for(1)
    assert notice["To"] == victim
    assert notice["Subject"] == NOTICE
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "its password no longer" in body
    assert link_to(notice, "/account/reset") == "http://localhost/account/reset/"


def test_the_owner_sets_a_password_through_a_reset_after_the_claim(
    make_wsgi, smtp_server, dbengine
):
    wsgi = make_wsgi(**CLAIM_VIEW)
    victim = unique_email("victim")
    signup(TestApp(wsgi), victim, ATTACKER_PASSWORD)
    TestApp(wsgi).post("/test-claim", {"email": victim}, status=200)
    smtp_server.wait_for(2)
    smtp_server.clear()
    owner = TestApp(wsgi)

    form = owner.get("/account/reset").forms[0]
    form["email"] = victim
    form.submit(status=200)
    (reset,) = smtp_server.wait_for(1)
    page = owner.get(link_to(reset, "/account/reset/confirm"))
    page.forms[0]["password"] = OTHER_PASSWORD
    page.forms[0]["password_confirm"] = OTHER_PASSWORD
    page.forms[0].submit(status=200)

    assert signin(owner, victim, OTHER_PASSWORD).location == "http://localhost"
    assert session(owner)["user"]["email"] == victim
    refused = signin(TestApp(wsgi), victim, ATTACKER_PASSWORD)
    assert refused.location.endswith("code=credentials")


def test_dropping_a_password_keeps_the_row(smtp_server, make_app, dbsession, dbengine):
    email = unique_email()
    signup(make_app(), email, GOOD_PASSWORD, status=302)
    user_id = user_row(dbengine, email).id
    store = CredentialStore(dbsession)
    now = dt.datetime.now(dt.UTC)

    assert store.disable_password(user_id, now) is True
    assert store.disable_password(user_id, now) is False  # nothing usable left
    dbsession.commit()

    credential = store.get_password(user_id)
    assert credential.hash == UNUSABLE_HASH and not credential.usable


def test_an_account_without_a_password_gets_an_unusable_one(
    app_settings, dbsession, dbengine
):
    # e.g. created by an OAuth provider before unverified emails were refused
    email = unique_email("oauth")
    with dbengine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (email) VALUES (:e)"), {"e": email})
    user_id = user_row(dbengine, email).id
    store = CredentialStore(dbsession)

    assert store.disable_password(user_id, dt.datetime.now(dt.UTC)) is False
    dbsession.commit()

    credential = store.get_password(user_id)
    assert credential.hash == UNUSABLE_HASH
