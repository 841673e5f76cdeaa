"""The email (magic link) provider over HTTP, with a real SMTP server on 127.0.0.1.

A live server sends the link through pyramid_mailer to aiosmtpd; the test
reads the message, follows the link like a mail client would, and checks
the session, the users table and the single-use, expiring token.
"""

# ruff: noqa: F811 - pytest fixtures imported from oauth_support

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.auth import SignedIn, UserCreated
from app.auth.models import Account, User, VerificationToken
from tests.conftest import TEST_SECRET
from tests.integration.oauth_support import Browser, live_app  # noqa: F401 - fixture

SENDER = "Authsite <login@example.test>"


def _email_app(live_app, **extra):
    return live_app(
        auth__providers="email", auth__provider__email__from=SENDER, **extra
    )


def _request_link(browser: Browser, email: str, callback_url: str | None = "/members"):
    return browser.post_signin(
        "email", callback_url=callback_url, data={"email": email}
    )


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"^(http://\S+)\s*$", text, re.M).group(1)


def test_magic_link_signs_in_and_creates_the_user(live_app, smtp_server, dbsession):
    app = _email_app(live_app)
    events = app.record(UserCreated, SignedIn)
    browser = Browser(app.url)

    sent = _request_link(browser, "  New.Person@Example.COM ")

    assert sent.status_code == 302
    assert sent.headers["Location"] == (
        f"{app.url}/api/auth/verify-request?provider=email&type=email"
        "&email=new.person%40example.com"
    )
    page = browser.http.get(sent.headers["Location"], timeout=10)
    assert "Check your email" in page.text
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "new.person@example.com"
    assert message["From"] == SENDER
    assert message["Subject"] == f"Sign in to 127.0.0.1:{app.server.port}"
    link = _link(message)
    html = message.get_body(("html",)).get_content()
    assert link.replace("&", "&amp;") in html
    assert link.startswith(f"{app.url}/api/auth/callback/email?")
    query = parse_qs(urlsplit(link).query)
    assert list(query) == ["callbackUrl", "token", "email"]
    assert query["callbackUrl"] == [f"{app.url}/members"]
    assert query["email"] == ["new.person@example.com"]
    token = query["token"][0]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    dbsession.rollback()  # end the read transaction: see what the server commits next

    done = browser.get(link)

    assert done.status_code == 302
    assert done.headers["Location"] == f"{app.url}/members"
    assert browser.session()["user"] == {"email": "new.person@example.com"}
    user = dbsession.scalars(sa.select(User)).one()
    assert user.email == "new.person@example.com"
    assert user.email_verified is not None
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Account)) == 0
    assert [type(e) for e in events] == [UserCreated, SignedIn]
    assert events[-1].account.type == "email"


def test_token_is_stored_hashed_with_the_secret(live_app, smtp_server, dbsession):
    app = _email_app(live_app)

    _request_link(Browser(app.url), "hash@example.com")

    token = parse_qs(urlsplit(_link(smtp_server.wait_for(1)[0])).query)["token"][0]
    row = dbsession.scalars(sa.select(VerificationToken)).one()
    assert row.identifier == "hash@example.com"
    assert row.token == hashlib.sha256((token + TEST_SECRET).encode()).hexdigest()
    lifetime = row.expires - dt.datetime.now(dt.UTC)
    # Ten minutes by default (Auth.js: 24 hours).
    assert dt.timedelta(minutes=9) < lifetime <= dt.timedelta(minutes=10)


def test_link_works_only_once(live_app, smtp_server):
    app = _email_app(live_app)
    _request_link(Browser(app.url), "once@example.com")
    link = _link(smtp_server.wait_for(1)[0])
    assert Browser(app.url).get(link).headers["Location"] == f"{app.url}/members"

    again = Browser(app.url)
    second = again.get(link)

    assert second.headers["Location"] == f"{app.url}/api/auth/error?error=Verification"
    page = again.http.get(second.headers["Location"], timeout=10)
    assert page.status_code == 403
    assert "The sign in link is no longer valid." in page.text
    assert again.session() is None


def test_expired_link_is_refused(live_app, smtp_server, dbsession, caplog):
    caplog.set_level(logging.INFO, logger="app")
    app = _email_app(live_app)
    _request_link(Browser(app.url), "late@example.com")
    link = _link(smtp_server.wait_for(1)[0])
    dbsession.execute(
        sa.update(VerificationToken).values(
            expires=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        )
    )
    dbsession.commit()
    browser = Browser(app.url)

    done = browser.get(link)

    assert done.headers["Location"] == f"{app.url}/api/auth/error?error=Verification"
    assert "token expired" in "\n".join(r.getMessage() for r in caplog.records)
    assert browser.session() is None
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_link_for_another_address_or_token_is_refused(live_app, smtp_server):
    app = _email_app(live_app)
    _request_link(Browser(app.url), "owner@example.com")
    link = _link(smtp_server.wait_for(1)[0])
    browser = Browser(app.url)

    for forged in (
        link.replace("owner%40example.com", "intruder%40example.com"),
        re.sub(r"token=[0-9a-f]{64}", "token=" + "0" * 64, link),
        link.split("&token=")[0],
        f"{app.url}/api/auth/callback/email",
    ):
        assert browser.get(forged).headers["Location"] == (
            f"{app.url}/api/auth/error?error=Verification"
        ), forged
    assert browser.get(link).headers["Location"] == f"{app.url}/members"


def test_existing_user_is_signed_in_and_marked_verified(
    live_app, smtp_server, dbsession
):
    user = User(email="Known@Example.com", name="Known Person")
    dbsession.add(user)
    dbsession.commit()
    app = _email_app(live_app)
    browser = Browser(app.url)
    _request_link(browser, "known@example.com", callback_url=None)

    done = browser.get(_link(smtp_server.wait_for(1)[0]))

    assert done.headers["Location"] == app.url
    assert browser.session()["user"] == {
        "name": "Known Person",
        "email": "Known@Example.com",
    }
    dbsession.expire_all()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert dbsession.get(User, user.id).email_verified is not None


def test_following_a_link_switches_from_another_signed_in_user(live_app, smtp_server):
    app = _email_app(live_app)
    browser = Browser(app.url)
    _request_link(browser, "first@example.com")
    browser.get(_link(smtp_server.wait_for(1)[0]))
    _request_link(browser, "second@example.com")

    browser.get(_link(smtp_server.wait_for(2)[1]))

    assert browser.session()["user"]["email"] == "second@example.com"


def test_smtp_failure_ends_on_the_error_page_without_a_token(
    live_app, dbsession, caplog
):
    caplog.set_level(logging.INFO, logger="app")
    app = _email_app(live_app)  # mail.port points at a closed port
    browser = Browser(app.url)

    sent = _request_link(browser, "nomail@example.com")

    assert sent.status_code == 302
    assert sent.headers["Location"] == f"{app.url}/api/auth/error?error=Configuration"
    assert "could not send the sign-in link" in "\n".join(
        r.getMessage() for r in caplog.records
    )
    assert (
        dbsession.scalar(sa.select(sa.func.count()).select_from(VerificationToken)) == 0
    )


@pytest.mark.parametrize(
    "email",
    [
        "",
        "no-at-sign",
        "two@@example.com",
        '"q"@example.com',
        "a b@example.com",
        "x@example.com\r\nBcc: evil@example.org",
        "@example.com",
        "name@",
        # no ASCII form: mail has no SMTPUTF8, and SQLite's lower() folds ASCII only
        "Élodie@example.com",
        "élodie@example.com",
        "İ@example.com",
        "ß@example.com",
        "x@☃.example",
    ],
)
def test_unusable_address_returns_to_the_signin_page(
    live_app, smtp_server, dbsession, email
):
    app = _email_app(live_app)

    sent = _request_link(Browser(app.url), email)

    assert sent.headers["Location"] == f"{app.url}/api/auth/signin?error=Configuration"
    assert smtp_server.messages == []
    assert (
        dbsession.scalar(sa.select(sa.func.count()).select_from(VerificationToken)) == 0
    )
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    "typed, mailed",
    [
        ("x@пример.рф", "x@xn--e1afmkfd.xn--p1ai"),
        ("Bob@Bücher.example", "bob@xn--bcher-kva.example"),
    ],
)
def test_an_idn_domain_is_mailed_at_its_ascii_form_and_signs_in(
    live_app, smtp_server, dbsession, typed, mailed
):
    app = _email_app(live_app)
    browser = Browser(app.url)

    sent = _request_link(browser, typed)

    assert sent.headers["Location"].startswith(
        f"{app.url}/api/auth/verify-request?provider=email&type=email&email="
    )
    [message] = smtp_server.wait_for(1)
    assert message["To"] == mailed
    link = _link(message)
    assert parse_qs(urlsplit(link).query)["email"] == [mailed]
    row = dbsession.scalars(sa.select(VerificationToken)).one()
    assert row.identifier == mailed
    dbsession.rollback()

    done = browser.get(link)

    assert done.headers["Location"] == f"{app.url}/members"
    assert browser.session()["user"] == {"email": mailed}
    assert dbsession.scalars(sa.select(User.email)).all() == [mailed]
    # The Unicode spelling finds the same account: no second one.
    again = Browser(app.url)
    _request_link(again, typed.upper())
    again.get(_link(smtp_server.wait_for(2)[1]))
    assert again.session()["user"] == {"email": mailed}
    dbsession.rollback()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(User)) == 1


@pytest.mark.no_database
def test_signin_page_offers_the_email_form(live_app):
    app = _email_app(live_app, auth__provider__email__name="Magic link")

    page = requests.get(f"{app.url}/api/auth/signin?email=pre@example.com", timeout=10)

    assert f'action="{app.url}/api/auth/signin/email"' in page.text
    assert 'type="email" name="email"' in page.text
    assert 'value="pre@example.com"' in page.text
    assert "Sign in with Magic link" in page.text


def test_authjs_lifetime_of_a_day_stays_available(live_app, smtp_server, dbsession):
    app = _email_app(live_app, auth__provider__email__max_age="86400")

    _request_link(Browser(app.url), "long@example.com")

    smtp_server.wait_for(1)
    row = dbsession.scalars(sa.select(VerificationToken)).one()
    lifetime = row.expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=23) < lifetime <= dt.timedelta(hours=24)


def test_a_new_link_voids_the_older_unused_ones(live_app, smtp_server, dbsession):
    app = _email_app(live_app)
    _request_link(Browser(app.url), "other@example.com")
    for _ in range(2):
        _request_link(Browser(app.url), "twice@example.com")
    other, older, newer = (_link(m) for m in smtp_server.wait_for(3))

    refused = Browser(app.url).get(older)
    accepted = Browser(app.url).get(newer)

    assert refused.headers["Location"] == f"{app.url}/api/auth/error?error=Verification"
    assert accepted.headers["Location"] == f"{app.url}/members"
    # Another address's link is not touched.
    assert Browser(app.url).get(other).headers["Location"] == f"{app.url}/members"
