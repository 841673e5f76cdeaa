"""``/account/email``: a new address, verified by a link mailed to it.

The attacker's sequences: following someone else's link, replaying a used
link, moving an account to a taken address (in both signup modes), a link
whose address another account took meanwhile, and no CSRF token.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests.functional.registration.account_helpers import (
    MAGIC,
    THROTTLED,
    ask_reset,
    magic_signin,
    path_of,
    request_email_change,
    signed_up,
)
from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
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

CONFIRM = "/account/email/confirm"


def mailed_link(smtp_server, to: str) -> str:
    smtp_server.wait_for(1)
    [message] = [m for m in smtp_server.to(to) if "Confirm your new" in m["Subject"]]
    return path_of(link_to(message, CONFIRM))


def email_change_tokens(engine) -> list:
    return rows(
        engine, "SELECT id FROM registration_tokens WHERE purpose = 'email_change'"
    )


def confirm(browser: TestApp, link: str, status=None):
    return browser.get(link).forms[0].submit(status=status)


def test_the_new_address_takes_over_once_its_link_is_followed(
    make_app, smtp_server, dbengine
):
    browser = make_app()
    old = signed_up(browser, smtp_server)
    new = unique_email("new")

    sent = request_email_change(browser, new, status=200)

    assert sent.html.title.text == "Check your email · Authsite"
    assert new in sent.text
    smtp_server.wait_for(2)
    [notice] = smtp_server.to(old)
    assert "change of your email address was requested" in notice["Subject"]
    assert new in notice.get_body(("plain",)).get_content()
    link = mailed_link(smtp_server, new)
    # Until the link is followed, the old address is the account's.
    assert user_row(dbengine, old) is not None
    assert user_row(dbengine, new) is None
    assert signin(TestApp(browser.app), old, GOOD_PASSWORD).location == (
        "http://localhost"
    )
    smtp_server.clear()

    page = browser.get(link)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "private, no-store"
    assert new in page.text
    done = page.forms[0].submit(status=303)

    assert done.location.endswith("/account/?done=email")
    assert "Your email address was changed" in done.follow().text
    assert user_row(dbengine, old) is None
    changed = user_row(dbengine, new)
    assert changed is not None and changed.emailVerified is not None
    assert session(browser)["user"]["email"] == new  # this browser's claims follow
    fresh = TestApp(browser.app)
    assert signin(fresh, old, GOOD_PASSWORD).location.endswith("code=credentials")
    assert signin(fresh, new, GOOD_PASSWORD).location == "http://localhost"
    [changed_notice] = smtp_server.wait_for(1)
    assert changed_notice["To"] == old
    assert "was changed" in changed_notice["Subject"]


def test_the_link_works_once(make_app, smtp_server, dbengine):
    browser = make_app()
    signed_up(browser, smtp_server)
    new = unique_email("new")
    request_email_change(browser, new)
    link = mailed_link(smtp_server, new)
    second_page = browser.get(link)
    confirm(browser, link, status=303)

    replayed = browser.get(link, status=400)
    replayed_post = second_page.forms[0].submit(status=400)

    for page in (replayed, replayed_post):
        assert "This link is not valid" in page.text
        assert page.html.title.text == "This link cannot be used · Authsite"


def test_someone_elses_link_changes_nothing_and_stays_theirs(
    make_app, smtp_server, dbengine
):
    owner = make_app()
    owner_email = signed_up(owner, smtp_server)
    new = unique_email("new")
    request_email_change(owner, new)
    link = mailed_link(smtp_server, new)
    page = owner.get(link)  # the owner opens it, then the link leaks
    attacker = make_app()
    signed_up(attacker, smtp_server)

    opened = attacker.get(link, status=403)
    page.forms[0]["csrf_token"] = (
        attacker.get("/account/email").forms[0]["csrf_token"].value
    )
    posted = attacker.post(
        CONFIRM,
        {
            "csrf_token": attacker.get("/account/email").forms[0]["csrf_token"].value,
            "token": page.forms[0]["token"].value,
        },
        status=403,
    )

    for answer in (opened, posted):
        assert "sent for another account" in answer.text
    assert user_row(dbengine, new) is None
    assert user_row(dbengine, owner_email) is not None
    confirm(owner, link, status=303)  # still usable by the account that asked
    assert user_row(dbengine, new) is not None


def test_signed_out_the_link_leads_to_sign_in_and_back(make_app, smtp_server):
    browser = make_app()
    signed_up(browser, smtp_server)
    new = unique_email("new")
    request_email_change(browser, new)
    link = mailed_link(smtp_server, new)

    answer = make_app().get(link, status=302)

    assert "error=SessionRequired" in answer.location
    assert "callbackUrl=http%3A%2F%2Flocalhost%2Faccount%2Femail%2Fconfirm" in (
        answer.location
    )


def test_an_address_taken_meanwhile_fails_the_link(make_app, smtp_server, dbengine):
    browser = make_app()
    old = signed_up(browser, smtp_server)
    new = unique_email("new")
    request_email_change(browser, new)
    link = mailed_link(smtp_server, new)
    signup(make_app(), new, status=302)  # someone signs up with it first

    failed = confirm(browser, link, status=400)

    assert "Another account uses this email address now" in failed.text
    assert user_row(dbengine, old) is not None
    assert session(browser)["user"]["email"] == old
    assert browser.get(link, status=400)  # used up


def test_optional_mode_refuses_a_taken_address_on_the_form(
    make_app, smtp_server, dbengine
):
    taken = signed_up(make_app(), smtp_server)
    browser = make_app()
    mine = signed_up(browser, smtp_server)

    page = request_email_change(browser, taken.upper(), status=400)

    assert "already exists" in page.html.find(id="field-email-error").text
    assert smtp_server.messages == []
    assert user_row(dbengine, mine) is not None


def test_mandatory_mode_answers_alike_and_tells_the_owner(
    make_app, smtp_server, dbengine
):
    mandatory = {"registration__email_verification": "mandatory"}
    owner = unique_email("owner")
    signup(make_app(**mandatory), owner, status=303)
    # confirm the owner's address, so the sign-in below works
    with dbengine.begin() as conn:
        conn.execute(
            sa.text('UPDATE users SET "emailVerified" = :now'),
            {"now": dt.datetime.now(dt.UTC)},
        )
    browser = make_app(**mandatory)
    mine = unique_email("mine")
    signup(browser, mine, status=303)
    with dbengine.begin() as conn:
        conn.execute(
            sa.text('UPDATE users SET "emailVerified" = :now'),
            {"now": dt.datetime.now(dt.UTC)},
        )
    signin(browser, mine, GOOD_PASSWORD)
    smtp_server.wait_for(2)
    smtp_server.clear()

    free = unique_email("free")
    to_taken = request_email_change(browser, owner, status=200)
    to_free = request_email_change(browser, free, status=200)

    _alike(to_taken, owner, to_free, free)
    smtp_server.wait_for(4)
    [owner_notice] = smtp_server.to(owner)
    assert "tried to move an account" in owner_notice["Subject"]
    assert "Confirm your new" in smtp_server.to(free)[0]["Subject"]
    assert len(smtp_server.to(mine)) == 2  # "requested" notices, both alike
    assert user_row(dbengine, mine) is not None
    assert (
        rows(
            dbengine,
            "SELECT id FROM registration_tokens WHERE lower(email) = lower(:e)"
            " AND purpose = 'email_change'",
            e=owner,
        )
        == []
    )


def _alike(a, a_typed: str, b, b_typed: str) -> None:
    """Two answers equal once the typed addresses are set aside."""
    assert a.status == b.status
    assert typed_away(a.text, a_typed) == typed_away(b.text, b_typed)


def test_a_wrong_password_or_a_bad_address_is_a_form_error(
    make_app, smtp_server, dbengine
):
    browser = make_app()
    old = signed_up(browser, smtp_server)

    wrong = request_email_change(
        browser, unique_email("new"), current="not it", status=400
    )
    bad = request_email_change(browser, "no-at-sign", status=400)
    same = request_email_change(browser, old.upper(), status=400)

    assert wrong.html.find(id="field-current_password")["aria-invalid"] == "true"
    assert "valid email address" in bad.html.find(id="field-email-error").text
    assert "already your email address" in same.html.find(id="field-email-error").text
    assert smtp_server.messages == []
    assert email_change_tokens(dbengine) == []


def test_an_email_change_without_the_csrf_token_changes_nothing(
    make_app, smtp_server, dbengine
):
    browser = make_app()
    signed_up(browser, smtp_server)
    new = unique_email("new")

    browser.post(
        "/account/email",
        {"email": new, "current_password": GOOD_PASSWORD},
        status=400,
    )
    request_email_change(browser, new)
    link = mailed_link(smtp_server, new)
    token = browser.get(link).forms[0]["token"].value
    browser.post(CONFIRM, {"token": token}, status=400)

    assert user_row(dbengine, new) is None
    confirm(browser, link, status=303)


def test_an_expired_or_forged_link_says_so(make_app, smtp_server, dbengine):
    browser = make_app()
    signed_up(browser, smtp_server)
    new = unique_email("new")
    request_email_change(browser, new)
    link = mailed_link(smtp_server, new)
    with dbengine.begin() as conn:
        conn.execute(
            sa.text("UPDATE registration_tokens SET expires_at = :past"),
            {"past": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)},
        )

    expired = browser.get(link, status=400)
    forged = browser.get(f"{CONFIRM}?token=not-a-real-token-at-all", status=400)
    odd = browser.get(f"{CONFIRM}?token=%FF%FE", status=400)

    assert "expired" in expired.text
    assert "not valid" in forged.text
    assert odd.status_int == 400
    assert user_row(dbengine, new) is None


def test_email_change_requests_are_throttled_per_account(make_app, smtp_server):
    browser = make_app(
        ratelimit__enabled="true",
        ratelimit__storage_url="memory://",
        ratelimit__account_mail="2/hour",
        ratelimit__mail_account="100/hour",
        ratelimit__signin_account="100/hour",
    )
    signed_up(browser, smtp_server)

    request_email_change(browser, unique_email("one"), status=200)
    request_email_change(browser, unique_email("two"), status=200)
    throttled = request_email_change(browser, unique_email("three"), status=429)

    assert int(throttled.headers["Retry-After"]) >= 1


def test_strangers_reset_requests_do_not_block_an_email_change(
    make_app, smtp_server, dbengine
):
    # the default limits: at most 3 mails a minute to one address
    browser = make_app(**THROTTLED)
    old = signed_up(browser, smtp_server)  # its confirmation mail counts too
    new = unique_email("new")
    assert [ask_reset(browser, old, f"192.0.2.{n}") for n in (1, 2, 3)] == [
        200,
        200,
        429,
    ]
    assert [ask_reset(browser, new, f"192.0.2.{n}") for n in (4, 5, 6, 7)] == [
        200,
        200,
        200,
        429,
    ]

    sent = request_email_change(browser, new, status=200)

    assert sent.html.title.text == "Check your email · Authsite"
    smtp_server.wait_for(4)  # two reset links, the new address's link, a notice
    assert any(
        "change of your email address was requested" in m["Subject"]
        for m in smtp_server.to(old)
    )
    confirm(browser, mailed_link(smtp_server, new), status=303)
    assert user_row(dbengine, old) is None
    assert user_row(dbengine, new) is not None


def test_email_change_requests_are_throttled_per_new_address_not_by_strangers(
    make_app, smtp_server, dbengine
):
    limits = {
        **THROTTLED,
        "ratelimit__mail_account": "2/hour",
        "ratelimit__account_mail": "100/hour",
        "ratelimit__signin_account": "100/hour",
    }
    people = [make_app(**limits) for _ in range(3)]  # three browsers, one site
    for person in people:
        signed_up(person, smtp_server)
    target = unique_email("target")
    # strangers use up the target address's mail limit ...
    assert [ask_reset(people[0], target, f"192.0.2.{n}") for n in (1, 2, 3)] == [
        200,
        200,
        429,
    ]

    # ... which does not hold back changes to it; those have a limit of their own
    answers = [request_email_change(p, target, status="*") for p in people]

    assert [a.status_int for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 3600
    assert len(email_change_tokens(dbengine)) == 2


def test_a_person_without_a_password_changes_email_after_a_recent_sign_in(
    make_app, smtp_server, dbengine
):
    browser = make_app(**MAGIC)
    old = unique_email("magic")
    magic_signin(browser, smtp_server, old)
    new = unique_email("new")

    page = browser.get("/account/email")
    assert page.html.find(id="field-current_password") is None
    request_email_change(browser, new, current=None, status=200)
    confirm(browser, mailed_link(smtp_server, new), status=303)

    assert user_row(dbengine, new) is not None
    # the same session, on a site where no sign-in is recent enough
    stale = make_app(**MAGIC, registration__reauth_max_age="0")
    for name, value in browser.cookies.items():
        stale.set_cookie(name, value)
    assert stale.get("/account/email").html.find(id="reauth") is not None


def test_only_the_newest_link_works(make_app, smtp_server, dbengine):
    browser = make_app()
    signed_up(browser, smtp_server)
    first, second = unique_email("first"), unique_email("second")
    request_email_change(browser, first)
    first_link = mailed_link(smtp_server, first)
    smtp_server.clear()
    request_email_change(browser, second)
    second_link = mailed_link(smtp_server, second)

    assert "not valid" in browser.get(first_link, status=400).text
    confirm(browser, second_link, status=303)
    assert user_row(dbengine, second) is not None
    assert user_row(dbengine, first) is None


# addresses beyond ASCII ---------------------------------------------------------------
@pytest.mark.parametrize("new", ["Élodie@example.com", "İ@example.com"])
def test_a_new_address_beyond_ascii_is_refused_and_nothing_is_mailed(
    make_app, smtp_server, dbengine, new
):
    browser = make_app()
    old = signed_up(browser, smtp_server)

    page = request_email_change(browser, new, status=400)

    error = page.html.find(id="field-email-error").text
    assert "only ASCII letters, digits and symbols before the @" in error
    assert smtp_server.messages == []
    assert email_change_tokens(dbengine) == []
    assert [r.email for r in rows(dbengine, "SELECT email FROM users")] == [old]


def test_an_idn_domain_is_mailed_and_stored_in_its_ascii_form(
    make_app, smtp_server, dbengine
):
    browser = make_app()
    signed_up(browser, smtp_server)
    name = unique_email("new").partition("@")[0]
    stored = f"{name}@xn--e1afmkfd.xn--p1ai"

    sent = request_email_change(browser, f"{name}@пример.рф", status=200)

    assert stored in sent.text
    confirm(browser, mailed_link(smtp_server, stored), status=303)
    assert [r.email for r in rows(dbengine, "SELECT email FROM users")] == [stored]
    assert session(browser)["user"]["email"] == stored


def test_an_address_stored_beyond_ascii_may_move_to_its_ascii_look_alike(
    make_app, smtp_server, dbengine
):
    """``casefold()`` took "strasse@" for the account's own "Straße@" (and
    refused it as the same address); the unique index, ``lower(email)`` on
    either database, tells them apart, and so does the form now."""
    name = unique_email("x").partition("@")[0]
    old, new = f"Straße.{name}@example.com", f"strasse.{name}@example.com"
    old_account(dbengine, old)
    browser = make_app()
    assert signin(browser, old, GOOD_PASSWORD).location == "http://localhost"

    request_email_change(browser, new, status=200)
    confirm(browser, mailed_link(smtp_server, new), status=303)

    assert [r.email for r in rows(dbengine, "SELECT email FROM users")] == [new]
    # The notice to the old address was never attempted: it cannot be mailed.
    assert smtp_server.to(old) == []
