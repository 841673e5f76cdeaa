"""``/account`` and ``/account/password``: the account page, changing and setting a password."""

# ruff: noqa: F811 - pytest fixtures imported from mail_support

from __future__ import annotations

import pytest
from webtest import TestApp

from tests.functional.registration.account_helpers import (
    MAGIC,
    THROTTLED,
    ask_reset,
    change_password,
    copy_of,
    magic_signin,
    signed_up,
)
from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    OTHER_PASSWORD,
    csrf_token,
    old_account,
    password_hash,
    rows,
    session,
    signin,
    unique_email,
    user_row,
)
from tests.mail_support import mail_queue  # noqa: F401 - fixture


@pytest.mark.no_database
def test_the_account_page_sends_a_signed_out_person_to_sign_in(make_app):
    answer = make_app().get("/account", status=302)

    assert "/api/auth/signin?" in answer.location
    assert "error=SessionRequired" in answer.location
    assert "callbackUrl=http%3A%2F%2Flocalhost%2Faccount" in answer.location
    for path in ("/account/password", "/account/email", "/account/methods"):
        assert "SessionRequired" in make_app().get(path, status=302).location
    # A form sent signed out changes nothing: a page, never a 5xx
    make_app().post("/account/delete", {"current_password": "x"}, status=(400, 403))


def test_the_account_page_names_the_person_and_links_every_section(
    make_app, smtp_server
):
    browser = make_app()
    email = signed_up(browser, smtp_server)

    page = browser.get("/account")

    assert page.html.title.text == "Account · Authsite"
    assert email in page.text
    hrefs = {a["href"] for a in page.html.select("nav[aria-label=Account] a")}
    assert hrefs == {
        f"http://localhost/account/{name}"
        for name in ("sessions", "password", "email", "methods", "delete")
    }
    header = browser.get("/").html.select_one("header .who")
    assert header.find("a", string="Account")["href"] == "http://localhost/account"
    assert (
        make_app().get("/").html.select_one("header").find("a", string="Account")
        is None
    )


@pytest.mark.parametrize("strategy", ["jwt", "database"])
def test_changing_the_password_ends_other_sessions_and_keeps_this_one(
    smtp_server, make_wsgi, dbengine, strategy
):
    wsgi = make_wsgi(auth__session__strategy=strategy)
    me, other_device = TestApp(wsgi), TestApp(wsgi)
    email = signed_up(me, smtp_server)
    signin(other_device, email, GOOD_PASSWORD)
    before = copy_of(me)  # this browser's cookie as it was, copied by someone
    old_hash = password_hash(dbengine, user_row(dbengine, email).id)

    done = change_password(me, OTHER_PASSWORD, status=303)

    assert done.location == "http://localhost/account/?done=password"
    assert "Your password was changed" in done.follow().text
    assert session(me)["user"]["email"] == email  # still signed in here
    assert session(other_device) is None
    assert session(before) is None  # the old cookie of this browser too
    assert password_hash(dbengine, user_row(dbengine, email).id) != old_hash
    assert password_hash(dbengine, user_row(dbengine, email).id).startswith(
        "$argon2id$"
    )
    fresh = TestApp(wsgi)
    assert signin(fresh, email, GOOD_PASSWORD).location.endswith("code=credentials")
    assert signin(fresh, email, OTHER_PASSWORD).location == "http://localhost"
    (notice,) = smtp_server.wait_for(1)
    assert notice["To"] == email
    assert "Your password was changed" in notice["Subject"]
    assert "/account/reset" in notice.get_body(("plain",)).get_content()
    if strategy == "database":
        user = user_row(dbengine, email)
        left = rows(dbengine, 'SELECT id FROM sessions WHERE "userId" = :u', u=user.id)
        assert len(left) == 2  # this browser's new one, and `fresh`


def test_a_wrong_current_password_is_a_form_error(make_app, smtp_server, dbengine):
    browser = make_app()
    email = signed_up(browser, smtp_server)
    old_hash = password_hash(dbengine, user_row(dbengine, email).id)

    page = change_password(
        browser, OTHER_PASSWORD, current="not my password", status=400
    )

    assert page.html.title.text == "Error: Change your password · Authsite"
    field = page.html.find(id="field-current_password")
    assert field["aria-invalid"] == "true"
    assert "field-current_password-error" in field["aria-describedby"]
    assert "not your current password" in page.html.find(id="error-summary").text
    assert password_hash(dbengine, user_row(dbengine, email).id) == old_hash
    assert session(browser)["user"]["email"] == email
    assert smtp_server.messages == []


def test_the_new_password_follows_the_signup_rules(make_app, smtp_server):
    browser = make_app()
    signed_up(browser, smtp_server)

    common = change_password(browser, "password123", status=400)
    mismatch = change_password(browser, OTHER_PASSWORD, confirm="other", status=400)
    empty = change_password(browser, OTHER_PASSWORD, current="", status=400)

    assert "most commonly used" in common.html.find(id="field-password-error").text
    assert "do not match" in mismatch.html.find(id="field-password_confirm-error").text
    assert "Enter your current password" in empty.text


def test_wrong_current_passwords_count_toward_the_sign_in_limit(make_app, smtp_server):
    browser = make_app(
        ratelimit__enabled="true",
        ratelimit__storage_url="memory://",
        ratelimit__signin_account="2/minute",
    )
    email = signed_up(browser, smtp_server)

    change_password(browser, OTHER_PASSWORD, current="guess one", status=400)
    change_password(browser, OTHER_PASSWORD, current="guess two", status=400)
    throttled = change_password(browser, OTHER_PASSWORD, status=429)

    assert int(throttled.headers["Retry-After"]) >= 1
    # ... and the sign-in form shares the count
    other = TestApp(browser.app)
    assert signin(other, email, GOOD_PASSWORD).location.endswith("code=rate_limited")


def test_strangers_reset_requests_do_not_block_a_password_change(
    make_app, smtp_server, dbengine
):
    # the default limits: at most 3 mails a minute to one address
    browser = make_app(**THROTTLED)
    email = signed_up(browser, smtp_server)  # its confirmation mail counts too
    answers = [ask_reset(browser, email, f"192.0.2.{n}") for n in (1, 2, 3)]
    assert answers == [200, 200, 429]  # the address is over its mail limit
    user = user_row(dbengine, email)
    old_hash = password_hash(dbengine, user.id)

    done = change_password(browser, OTHER_PASSWORD, status=303)

    assert done.location == "http://localhost/account/?done=password"
    assert password_hash(dbengine, user.id) != old_hash
    smtp_server.wait_for(3)  # two reset links, and the notice
    notices = [
        m for m in smtp_server.to(email) if "Your password was changed" in m["Subject"]
    ]
    assert len(notices) == 1
    # strangers' reset requests for the address are still held back
    assert ask_reset(browser, email, "192.0.2.4") == 429
    assert signin(TestApp(browser.app), email, OTHER_PASSWORD).location == (
        "http://localhost"
    )


def test_own_mail_requests_do_not_block_a_password_change(
    make_app, smtp_server, dbengine
):
    browser = make_app(**THROTTLED, **MAGIC)
    email = signed_up(browser, smtp_server)  # a confirmation link
    assert ask_reset(browser, email, "198.51.100.1") == 200  # a reset link
    browser.post(  # and a magic link: the address's 3 mails this minute
        "/api/auth/signin/email",
        {"csrfToken": csrf_token(browser), "email": email},
        status=302,
    )
    user = user_row(dbengine, email)
    old_hash = password_hash(dbengine, user.id)

    change_password(browser, OTHER_PASSWORD, status=303)
    change_password(browser, GOOD_PASSWORD, current=OTHER_PASSWORD, status=303)

    new_hash = password_hash(dbengine, user.id)
    assert new_hash != old_hash and new_hash.startswith("$argon2id$")
    smtp_server.wait_for(4)
    changed = [
        m for m in smtp_server.to(email) if "Your password was changed" in m["Subject"]
    ]
    assert len(changed) == 2


def test_an_account_cannot_mail_bomb_its_address_with_password_changes(
    make_app, smtp_server, dbengine
):
    # An account's address may be someone else's (unverified): its notices
    # are counted per account (ratelimit.account_mail, 5 a minute).
    browser = make_app(**THROTTLED)
    email = signed_up(browser, smtp_server)
    passwords = [GOOD_PASSWORD, OTHER_PASSWORD] * 3
    for current, new in zip(passwords, passwords[1:], strict=False):
        change_password(browser, new, current=current, status=303)
    old_hash = password_hash(dbengine, user_row(dbengine, email).id)

    refused = change_password(
        browser, GOOD_PASSWORD, current=OTHER_PASSWORD, status=429
    )

    assert "too often" in refused.text
    assert password_hash(dbengine, user_row(dbengine, email).id) == old_hash
    assert len(smtp_server.wait_for(5)) == 5


def test_an_account_stored_beyond_ascii_changes_its_password_without_a_notice(
    make_app, smtp_server, mail_queue, dbengine, caplog
):
    # An address stored before addresses were made ASCII cannot be mailed (no
    # SMTPUTF8): the change goes through, the notice is logged as not sent,
    # and nothing is queued to fail on every run of the queue.
    email = "\u00c9lodie@example.com"
    user_id = old_account(dbengine, email)
    browser = make_app()
    assert signin(browser, email, GOOD_PASSWORD).location == "http://localhost"
    old_hash = password_hash(dbengine, user_id)

    change_password(browser, OTHER_PASSWORD, status=303)

    assert password_hash(dbengine, user_id) != old_hash
    assert mail_queue.files("new") == []
    assert mail_queue.deliver(browser) == 0
    assert smtp_server.messages == []
    assert "recipient's address is not ASCII" in caplog.text


def test_a_password_change_without_the_csrf_token_changes_nothing(
    make_app, smtp_server, dbengine
):
    browser = make_app()
    email = signed_up(browser, smtp_server)
    old_hash = password_hash(dbengine, user_row(dbengine, email).id)

    page = browser.post(
        "/account/password",
        {
            "current_password": GOOD_PASSWORD,
            "password": OTHER_PASSWORD,
            "password_confirm": OTHER_PASSWORD,
        },
        status=400,
    )

    assert "Form expired" in page.text
    assert password_hash(dbengine, user_row(dbengine, email).id) == old_hash


@pytest.mark.parametrize("strategy", ["jwt", "database"])
def test_a_magic_link_person_sets_a_password_after_a_recent_sign_in(
    make_app, smtp_server, dbengine, strategy
):
    browser = make_app(**MAGIC, auth__session__strategy=strategy)
    email = unique_email("magic")
    magic_signin(browser, smtp_server, email)

    page = browser.get("/account/password")
    assert page.html.title.text == "Set a password · Authsite"
    assert page.html.find(id="field-current_password") is None
    form = page.forms[0]
    form["password"] = OTHER_PASSWORD
    form["password_confirm"] = OTHER_PASSWORD
    done = form.submit(status=303)

    assert done.location.endswith("done=password-set")
    assert session(browser)["user"]["email"] == email
    assert password_hash(dbengine, user_row(dbengine, email).id).startswith(
        "$argon2id$"
    )
    assert signin(TestApp(browser.app), email, OTHER_PASSWORD).location == (
        "http://localhost"
    )


@pytest.mark.parametrize("strategy", ["jwt", "database"])
def test_setting_a_password_needs_a_recent_sign_in(
    make_app, smtp_server, dbengine, strategy
):
    # reauth_max_age = 0: no sign-in is recent enough
    browser = make_app(
        **MAGIC, auth__session__strategy=strategy, registration__reauth_max_age="0"
    )
    email = unique_email("stale")
    magic_signin(browser, smtp_server, email)

    page = browser.get("/account/password")
    assert page.html.find(id="reauth") is not None
    assert (
        "callbackUrl=http%3A%2F%2Flocalhost%2Faccount%2Fpassword"
        in (page.html.find(id="reauth").a["href"])
    )
    token = page.html.find("input", {"name": "csrf_token"})
    assert token is None  # no form: nothing to fill in
    csrf = browser.get("/signup").forms[0]["csrf_token"].value
    refused = browser.post(
        "/account/password",
        {
            "csrf_token": csrf,
            "password": OTHER_PASSWORD,
            "password_confirm": OTHER_PASSWORD,
        },
        status=403,
    )

    assert refused.html.find(id="reauth") is not None
    assert password_hash(dbengine, user_row(dbengine, email).id) is None
