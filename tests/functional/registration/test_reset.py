"""Password reset and email-verification links: the whole flow, and every bad link."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa
from webtest import TestApp

from app.auth.interfaces import IAuthCore
from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    OTHER_PASSWORD,
    link_to,
    old_account,
    rows,
    session,
    signin,
    signup,
    typed_away,
    unique_email,
    user_row,
)


def request_reset(browser: TestApp, email: str):
    form = browser.get("/account/reset").forms[0]
    form["email"] = email
    return form.submit(status=200)


def choose_password(page, password: str, confirm: str | None = None, status=200):
    form = page.forms[0]
    form["password"] = password
    form["password_confirm"] = password if confirm is None else confirm
    return form.submit(status=status)


@pytest.mark.parametrize("strategy", ["jwt", "database"])
def test_reset_from_the_mailed_link_changes_the_password_and_ends_other_sessions(
    smtp_server, make_wsgi, dbengine, strategy
):
    wsgi = make_wsgi(auth__session__strategy=strategy)
    me, other_device = TestApp(wsgi), TestApp(wsgi)
    email = unique_email()
    signup(me, email, status=302)
    signin(other_device, email, GOOD_PASSWORD)
    assert session(other_device)["user"]["email"] == email
    smtp_server.wait_for(1)
    smtp_server.clear()

    sent = request_reset(me, email)
    assert (
        f"If an account exists for <strong>{email}</strong>, we sent a link"
        in sent.text
    )
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == email
    page = me.get(link_to(message, "/account/reset/confirm"))
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert email in page.text
    refused = choose_password(page, "password123", status=400)
    assert "most commonly used" in refused.html.find(id="field-password-error").text
    done = choose_password(refused, OTHER_PASSWORD)

    assert "Password changed" in done.text
    assert session(other_device) is None
    assert session(me) is None
    fresh = TestApp(wsgi)
    assert signin(fresh, email, GOOD_PASSWORD).location.endswith("code=credentials")
    assert signin(fresh, email, OTHER_PASSWORD).location == "http://localhost"
    assert session(fresh)["user"]["email"] == email
    if strategy == "database":
        user = user_row(dbengine, email)
        sessions = rows(
            dbengine, 'SELECT id FROM sessions WHERE "userId" = :u', u=user.id
        )
        assert len(sessions) == 1  # only the one signed in after the reset


def test_reset_reaches_other_processes_once_their_check_is_due(smtp_server, make_wsgi):
    # Two processes, each with its own registry memo; B's memo has the
    # session as checked just now, so only a due check can see the reset.
    process_a, process_b = make_wsgi(), make_wsgi()
    me, elsewhere = TestApp(process_a), TestApp(process_b)
    email = unique_email()
    signup(me, email, status=302)
    signin(elsewhere, email, GOOD_PASSWORD)
    assert session(elsewhere)["user"]["email"] == email
    smtp_server.wait_for(1)
    smtp_server.clear()

    request_reset(me, email)
    page = me.get(link_to(smtp_server.wait_for(1)[0], "/account/reset/confirm"))
    choose_password(page, OTHER_PASSWORD)

    checks = process_b.registry.getUtility(IAuthCore).session_checks
    assert session(elsewhere) is not None  # within B's check interval
    checks.clock = lambda: time.monotonic() + 11  # the interval (10 s) has passed
    assert session(elsewhere) is None


def test_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(
    smtp_server, make_app
):
    known = unique_email("known")
    signup(make_app(), known, status=302)
    smtp_server.wait_for(1)
    smtp_server.clear()

    unknown = unique_email("unknown")
    for_known = request_reset(make_app(), known)
    for_unknown = request_reset(make_app(), unknown)

    # Alike, apart from the address each person typed, which the page names.
    assert typed_away(for_known.text, known) == typed_away(for_unknown.text, unknown)
    assert for_known.status == for_unknown.status
    assert len(smtp_server.wait_for(1)) == 1
    assert smtp_server.messages[0]["To"] == known


@pytest.mark.no_database
def test_reset_request_with_an_invalid_address_says_so(make_app):
    form = make_app().get("/account/reset").forms[0]
    form["email"] = "no-at-sign"

    page = form.submit(status=400)

    assert "valid email address" in page.html.find(id="field-email-error").text


def test_a_reset_for_an_idn_domain_is_mailed_at_the_ascii_domain(
    smtp_server, make_app, dbengine
):
    name = unique_email("bob").partition("@")[0]
    signup(make_app(), f"{name}@Bücher.example", status=302)
    smtp_server.wait_for(1)
    smtp_server.clear()
    stored = f"{name}@xn--bcher-kva.example"

    request_reset(make_app(), f"{name}@BÜCHER.example")

    [message] = smtp_server.wait_for(1)
    assert message["To"] == stored
    page = make_app().get(link_to(message, "/account/reset/confirm"))
    choose_password(page, OTHER_PASSWORD)
    assert signin(make_app(), f"{name}@Bücher.example", OTHER_PASSWORD).location == (
        "http://localhost"
    )
    assert [r.email for r in rows(dbengine, "SELECT email FROM users")] == [stored]


@pytest.mark.parametrize("path", ["/account/reset", "/account/verify/resend"])
@pytest.mark.parametrize("email", ["Élodie@example.com", "ß@example.com"])
def test_a_local_part_beyond_ascii_is_refused_on_the_reset_and_resend_forms(
    smtp_server, make_app, dbengine, path, email
):
    # Even the address of an (unverified) account an older database holds:
    # no mail can reach it without SMTPUTF8.
    old_account(dbengine, email)
    form = make_app().get(path).forms[0]
    form["email"] = email

    page = form.submit(status=400)

    error = page.html.find(id="field-email-error").text
    assert "only ASCII letters, digits and symbols before the @" in error
    assert rows(dbengine, "SELECT id FROM registration_tokens") == []
    assert smtp_server.messages == []


def test_reset_link_works_once(smtp_server, make_app):
    email = unique_email()
    signup(make_app(), email, status=302)
    smtp_server.wait_for(1)
    smtp_server.clear()
    request_reset(make_app(), email)
    link = link_to(smtp_server.wait_for(1)[0], "/account/reset/confirm")
    browser = make_app()
    first_page = browser.get(link)
    second_page = make_app().get(link)
    choose_password(first_page, OTHER_PASSWORD)

    reused = make_app().get(link, status=400)
    reused_post = choose_password(second_page, "yet another good phrase", status=400)

    for page in (reused, reused_post):
        assert "This link is not valid" in page.text
    assert signin(make_app(), email, OTHER_PASSWORD).location == "http://localhost"


def test_only_the_newest_reset_link_works(smtp_server, make_app):
    email = unique_email()
    signup(make_app(), email, status=302)
    smtp_server.wait_for(1)
    smtp_server.clear()
    request_reset(make_app(), email)
    request_reset(make_app(), email)
    first, second = smtp_server.wait_for(2)

    old = make_app().get(link_to(first, "/account/reset/confirm"), status=400)
    new = make_app().get(link_to(second, "/account/reset/confirm"), status=200)

    assert "This link is not valid" in old.text
    assert "Choose a new password" in new.text


def test_expired_reset_link_is_refused(smtp_server, make_app, dbengine):
    email = unique_email()
    signup(make_app(), email, status=302)
    request_reset(make_app(), email)
    link = link_to(smtp_server.wait_for(2)[1], "/account/reset/confirm")
    page = make_app().get(link)
    with dbengine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE registration_tokens SET expires_at = :t WHERE purpose = 'reset'"
            ),
            {"t": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)},
        )

    expired = make_app().get(link, status=400)
    expired_post = choose_password(page, OTHER_PASSWORD, status=400)

    for answer in (expired, expired_post):
        assert "This link has expired" in answer.text
    assert signin(make_app(), email, GOOD_PASSWORD).location == "http://localhost"


@pytest.mark.parametrize(
    "token",
    ["", "short", "A" * 43, "x" * 43 + "'\"<script>", "../../etc/passwd"],
    ids=["empty", "short", "well-formed-unknown", "markup", "path"],
)
def test_forged_reset_token_is_refused(make_app, token):
    page = make_app().get("/account/reset/confirm", params={"token": token}, status=400)

    assert "This link is not valid" in page.text
    assert "<script>" not in page.text


def test_reset_link_carries_the_configured_origin_not_the_host_header(
    smtp_server, make_app, make_wsgi
):
    email = unique_email()
    signup(make_app(), email, status=302)
    smtp_server.wait_for(1)
    smtp_server.clear()
    # An attacker asks for the victim's reset link with a Host of their own.
    forged = {"HTTP_HOST": "evil.example.net", "wsgi.url_scheme": "https"}
    attacker = TestApp(
        make_wsgi(auth__url="https://auth.example.org"), extra_environ=forged
    )

    form = attacker.get("/account/reset").forms[0]
    form["email"] = email
    form.submit(headers={"Origin": "https://evil.example.net"})

    (message,) = smtp_server.wait_for(1)
    assert link_to(message, "/account/reset/confirm").startswith(
        "https://auth.example.org/account/reset/confirm?token="
    )


def test_the_new_password_must_follow_the_rules_and_match(smtp_server, make_app):
    email = unique_email("samuel.walker")
    signup(make_app(), email, status=302)
    request_reset(make_app(), email)
    page = make_app().get(link_to(smtp_server.wait_for(2)[1], "/account/reset/confirm"))

    short = choose_password(page, "abc", status=400)
    with_email = choose_password(short, "walker-rocks-2026", status=400)
    mismatch = choose_password(
        with_email, OTHER_PASSWORD, OTHER_PASSWORD + "?", status=400
    )

    assert "at least 8" in short.html.find(id="field-password-error").text
    assert "email address" in with_email.html.find(id="field-password-error").text
    assert "do not match" in mismatch.html.find(id="field-password_confirm-error").text


def test_reset_form_without_csrf_token_is_refused(smtp_server, make_app):
    email = unique_email()
    signup(make_app(), email, status=302)
    request_reset(make_app(), email)
    link = link_to(smtp_server.wait_for(2)[1], "/account/reset/confirm")
    token = link.split("token=", 1)[1]
    browser = make_app()
    browser.get(link)

    refused = browser.post(
        "/account/reset/confirm",
        {
            "token": token,
            "password": OTHER_PASSWORD,
            "password_confirm": OTHER_PASSWORD,
        },
        status=400,
    )

    assert "Form expired" in refused.text
    assert signin(make_app(), email, GOOD_PASSWORD).location == "http://localhost"


def test_reset_also_verifies_the_address(smtp_server, make_app, dbengine):
    email = unique_email()
    signup(make_app(), email, status=302)
    request_reset(make_app(), email)
    page = make_app().get(link_to(smtp_server.wait_for(2)[1], "/account/reset/confirm"))

    choose_password(page, OTHER_PASSWORD)

    assert user_row(dbengine, email).emailVerified is not None


# email verification links -----------------------------------------------------------
def test_verification_link_works_once(smtp_server, make_app, dbengine):
    email = unique_email()
    signup(make_app(), email, status=302)
    link = link_to(smtp_server.wait_for(1)[0], "/account/verify")
    page = make_app().get(link)
    stale_page = make_app().get(link)
    page.forms[0].submit(status=200)

    reused = make_app().get(link, status=400)
    reused_post = stale_page.forms[0].submit(status=400)

    for answer in (reused, reused_post):
        assert "This link is not valid" in answer.text


def test_a_used_link_tells_the_confirmed_person_there_is_nothing_left_to_do(
    smtp_server, make_app
):
    browser = make_app()  # optional mode: signed in at once
    signup(browser, unique_email(), status=302)
    link = link_to(smtp_server.wait_for(1)[0], "/account/verify")
    browser.get(link).forms[0].submit(status=200)

    again = browser.get(link, status=400)
    elsewhere = make_app().get(link, status=400)  # signed out: no such hint

    assert "your email address is already confirmed" in again.text
    assert "Ask for a new confirmation link" not in again.text
    assert "already confirmed" not in elsewhere.text
    assert "Ask for a new confirmation link" in elsewhere.text


def test_expired_verification_link_is_refused_and_a_new_one_can_be_had(
    smtp_server, make_app, dbengine
):
    email = unique_email()
    signup(make_app(), email, status=302)
    link = link_to(smtp_server.wait_for(1)[0], "/account/verify")
    with dbengine.begin() as conn:
        conn.execute(
            sa.text("UPDATE registration_tokens SET expires_at = :t"),
            {"t": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)},
        )

    expired = make_app().get(link, status=400)
    assert "This link has expired" in expired.text
    resend = expired.click("Ask for a new confirmation link").forms[0]
    resend["email"] = email
    sent = resend.submit()

    assert "we sent a new link" in sent.text
    new_link = link_to(smtp_server.wait_for(2)[1], "/account/verify")
    make_app().get(new_link).forms[0].submit(status=200)
    assert user_row(dbengine, email).emailVerified is not None


@pytest.mark.parametrize("token", ["", "B" * 43, "<b>x</b>"])
def test_forged_verification_token_is_refused(make_app, token):
    page = make_app().get("/account/verify", params={"token": token}, status=400)

    assert "This link is not valid" in page.text
