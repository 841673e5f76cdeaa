"""Signup at /signup, walked through as a person would, in both verification modes."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from webtest import TestApp

import app.models
from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    link_to,
    old_account,
    password_hash,
    rows,
    session,
    signin,
    signup,
    signup_form,
    typed_away,
    unique_email,
    user_row,
)


@pytest.mark.no_database
def test_signup_page_has_labelled_inputs_with_autocomplete(testapp):
    page = testapp.get("/signup")

    html = page.text
    for field_id, label in (
        ("field-email", "Email"),
        ("field-name", "Name (optional)"),
        ("field-password", "Password"),
        ("field-password_confirm", "Confirm password"),
    ):
        assert f'<label for="{field_id}">{label}</label>' in html
    assert re.search(r'id="field-email"[^>]*autocomplete="email"', html)
    assert re.search(r'id="field-password"[^>]*autocomplete="new-password"', html)
    assert re.search(
        r'id="field-password_confirm"[^>]*autocomplete="new-password"', html
    )
    assert page.forms[0]["csrf_token"].value


def test_signup_signs_in_mails_a_link_and_the_link_verifies(
    smtp_server, testapp, dbengine
):
    email = unique_email("Jane.Doe")

    response = signup(testapp, email, name="Jane Doe", status=302)

    assert response.location == "http://localhost"
    assert session(testapp)["user"] == {"name": "Jane Doe", "email": email}
    user = user_row(dbengine, email)
    assert user.email == email  # stored as typed
    assert user.emailVerified is None
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == email
    confirm_page = testapp.get(link_to(message, "/account/verify"))
    assert email in confirm_page.text
    assert confirm_page.headers["Referrer-Policy"] == "no-referrer"
    done = confirm_page.forms[0].submit()
    assert "Email address confirmed" in done.text
    assert user_row(dbengine, email).emailVerified is not None


def test_signup_lands_on_a_same_origin_callback_url(smtp_server, testapp):
    response = signup(
        testapp, unique_email(), query={"callbackUrl": "/members"}, status=302
    )

    assert response.location == "http://localhost/members"
    assert testapp.get("/members").status_int == 200


def test_signup_with_a_foreign_callback_url_lands_home(smtp_server, testapp):
    response = signup(
        testapp,
        unique_email(),
        query={"callbackUrl": "https://evil.example.net/phish"},
        status=302,
    )

    assert response.location == "http://localhost"


def test_password_is_stored_as_argon2id_and_never_in_plain_text(
    smtp_server, testapp, dbengine, db_url
):
    email = unique_email()
    password = "plaintext sentinel ZQX-" + uuid.uuid4().hex[:12]

    signup(testapp, email, password, status=302)

    user = user_row(dbengine, email)
    assert password_hash(dbengine, user.id).startswith(
        "$argon2id$v=19$m=19456,t=2,p=1$"
    )
    with dbengine.connect() as conn:
        for table in app.models.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                assert password not in repr(tuple(row)), table.name
    if db_url.startswith("sqlite"):
        path = Path(db_url.split("///", 1)[1])
        for file in (path, Path(f"{path}-wal")):
            if file.exists():
                assert not contains_bytes(file, password)


def contains_bytes(file: Path, text: str) -> bool:
    """Whether ``file`` holds ``text``, read by a child process.

    Never open a live SQLite file in this process: closing any descriptor of
    it drops every POSIX lock the process holds on it, including the shared
    lock of the open WAL connections; the next process to close its last
    connection then thinks itself alone, checkpoints and deletes the ``-wal``
    and ``-shm`` files under this process, and the database is corrupt.
    """
    found = subprocess.run(
        [sys.executable, "-c", CONTAINS, str(file)],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return found.stdout.strip() == "yes"


CONTAINS = (
    "import sys, pathlib; needle = sys.stdin.read().encode(); "
    "print('yes' if needle in pathlib.Path(sys.argv[1]).read_bytes() else 'no')"
)


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("short1", None, "password", "Use at least 8 characters."),
        ("x" * 129, None, "password", "Use at most 128 characters."),
        ("password1", None, "password", "one of the most commonly used passwords"),
        ("Iloveyou2", None, "password", "one of the most commonly used passwords"),
        ("mary.jones-2026!", None, "password", "must not contain your email address"),
        ("MyAuthsitePass", None, "password", "must not contain the name of this site"),
        ("", None, "password", "Enter a password."),
        (GOOD_PASSWORD, GOOD_PASSWORD + "x", "password_confirm", "do not match"),
    ],
    ids=[
        "short",
        "too-long",
        "common",
        "common-any-case",
        "contains-email",
        "contains-site-name",
        "empty",
        "mismatched-confirmation",
    ],
)
def test_refused_password_says_why_next_to_its_field(
    testapp, dbengine, password, confirm, field, message
):
    email = "Mary.Jones@example.com"

    page = signup(testapp, email, password, confirm=confirm, name="Mary", status=400)

    error = page.html.find(id=f"field-{field}-error")
    assert error is not None and message in error.text
    field_input = page.html.find(id=f"field-{field}")
    assert field_input["aria-invalid"] == "true"
    assert f"field-{field}-error" in field_input["aria-describedby"]
    # values kept, except the passwords
    assert page.forms[0]["email"].value == email
    assert page.forms[0]["name"].value == "Mary"
    assert page.forms[0]["password"].value == ""
    if password:
        assert password not in page.text
    assert user_row(dbengine, email) is None


@pytest.mark.parametrize(
    "name",
    ["a\x00b", "Mallory\u202egnp.exe", "bell\x07", "del\x7f", "\u2066Eve\u2069"],
    ids=["nul", "right-to-left-override", "bell", "delete", "isolate"],
)
def test_a_name_with_control_characters_is_refused_and_nothing_stored(
    testapp, dbengine, name
):
    email = unique_email()

    page = signup(testapp, email, name=name, status=400)

    error = page.html.find(id="field-name-error")
    assert error is not None and "control characters" in error.text
    assert page.html.find(id="field-name")["aria-invalid"] == "true"
    assert "control characters" in page.html.find(id="error-summary").text
    # the name comes back without them; the email as typed
    kept = page.forms[0]["name"].value
    assert kept and all(c.isprintable() for c in kept)
    assert page.forms[0]["email"].value == email
    assert user_row(dbengine, email) is None
    assert rows(dbengine, "SELECT id FROM users") == []
    assert session(testapp) is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "n" * 70_000, "Use at most 100 characters."),
        ("email", "e" * 5_000 + "@example.com", "This email address is too long."),
    ],
    ids=["name", "email"],
)
def test_a_field_far_over_its_limit_is_too_long_not_empty(
    testapp, dbengine, field, value, message
):
    # It read as empty once: "Enter your email address", or an account with
    # no name at all.
    email = unique_email()
    values = {"email": email, "name": "Mary", field: value}

    page = signup(testapp, values["email"], name=values["name"], status=400)

    assert message in page.html.find(id=f"field-{field}-error").text
    assert rows(dbengine, "SELECT id FROM users") == []


def test_tabs_and_line_breaks_in_a_name_become_spaces(smtp_server, testapp, dbengine):
    email = unique_email()

    signup(testapp, email, name=" Ada\tLovelace\r\n", status=302)

    assert user_row(dbengine, email).name == "Ada Lovelace"


def test_sixty_four_character_passphrase_is_accepted(smtp_server, testapp, dbengine):
    email = unique_email()
    passphrase = "correct horse battery staple " * 2 + "ok!!!!"
    assert len(passphrase) == 64

    signup(testapp, email, passphrase, status=302)

    assert user_row(dbengine, email) is not None


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "two@@example.com", "nobody@localhost", "a b@example.com", ""],
)
def test_invalid_email_is_refused_on_the_form(testapp, dbengine, email):
    page = signup(testapp, email, status=400)

    error = page.html.find(id="field-email-error")
    assert error is not None
    assert ("valid email address" in error.text) or ("Enter your email" in error.text)
    assert rows(dbengine, "SELECT id FROM users") == []


def test_taken_email_is_refused_on_the_form_case_insensitively(
    make_app, smtp_server, dbengine
):
    email = unique_email("Owner")
    signup(make_app(), email, status=302)

    page = signup(make_app(), email.upper(), GOOD_PASSWORD + "!", status=400)

    error = page.html.find(id="field-email-error")
    assert "already exists" in error.text
    assert page.forms[0]["email"].value == email.upper()
    assert len(rows(dbengine, "SELECT id FROM users")) == 1


def test_csrf_token_missing_is_refused(testapp, dbengine):
    form = signup_form(testapp)
    email = unique_email()

    response = testapp.post(
        "/signup",
        {"email": email, "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD},
        status=400,
    )

    assert "Form expired" in response.text
    assert form["csrf_token"].value  # the browser had one; it was not sent
    assert user_row(dbengine, email) is None


def test_csrf_token_from_another_session_is_refused(make_wsgi, dbengine):
    wsgi = make_wsgi()
    victim, attacker = TestApp(wsgi), TestApp(wsgi)
    attacker_token = signup_form(attacker)["csrf_token"].value
    signup_form(victim)  # the victim's browser has its own CSRF cookie
    email = unique_email()

    response = victim.post(
        "/signup",
        {
            "csrf_token": attacker_token,
            "email": email,
            "password": GOOD_PASSWORD,
            "password_confirm": GOOD_PASSWORD,
        },
        status=400,
    )

    assert "Form expired" in response.text
    assert user_row(dbengine, email) is None


# mandatory verification ---------------------------------------------------------------
@pytest.fixture
def mandatory(make_app):
    return lambda: make_app(registration__email_verification="mandatory")


def test_mandatory_signup_answers_check_your_email_and_waits_for_the_link(
    mandatory, smtp_server, dbengine
):
    browser = mandatory()
    email = unique_email()

    response = signup(browser, email, status=303)

    assert response.location == (
        f"http://localhost/signup/check-email?email={quote(email)}"
    )
    assert f"We sent a message to <strong>{email}</strong>" in response.follow().text
    assert session(browser) is None
    refused = signin(browser, email, GOOD_PASSWORD)
    assert refused.location.endswith(
        f"/api/auth/signin?error=CredentialsSignin&email={quote(email)}"
        "&code=email_unverified"
    )
    (message,) = smtp_server.wait_for(1)
    browser.get(link_to(message, "/account/verify")).forms[0].submit()
    signed_in = signin(browser, email, GOOD_PASSWORD)
    assert signed_in.location == "http://localhost"
    assert session(browser)["user"]["email"] == email


def test_mandatory_taken_email_answers_exactly_like_a_fresh_one(
    mandatory, smtp_server, dbengine
):
    taken = unique_email("taken")
    signup(mandatory(), taken, status=303)
    smtp_server.wait_for(1)
    smtp_server.clear()

    other_password = GOOD_PASSWORD + "#"

    fresh = unique_email("fresh")
    fresh_answer = signup(mandatory(), fresh, status=303)
    taken_answer = signup(mandatory(), taken.upper(), other_password, status=303)

    # Alike, apart from the address each person typed, which comes back.
    assert taken_answer.status == fresh_answer.status
    assert typed_away(taken_answer.location, taken.upper()) == typed_away(
        fresh_answer.location, fresh
    )
    assert typed_away(taken_answer.text, taken.upper()) == typed_away(
        fresh_answer.text, fresh
    )
    assert sorted(taken_answer.headers.keys()) == sorted(fresh_answer.headers.keys())
    assert len(rows(dbengine, "SELECT id FROM users")) == 2
    messages = smtp_server.wait_for(2)
    notice = [m for m in messages if m["To"] == taken]
    assert len(notice) == 1
    assert "already has an account" in notice[0].get_body().get_content()
    assert other_password not in notice[0].as_string()
    # the first owner's password still works; no second account, no new password
    owner = mandatory()
    assert signin(owner, taken, other_password).location.endswith("code=credentials")


def test_mandatory_unverified_refusal_needs_the_right_password(mandatory, smtp_server):
    email = unique_email()
    signup(mandatory(), email, status=303)

    wrong = signin(mandatory(), email, "not the password at all")

    # Without the password, nothing says whether the account exists.
    assert wrong.location.endswith("code=credentials")


# addresses beyond ASCII ---------------------------------------------------------------
# Mail leaves without SMTPUTF8 and the users table's unique index compares
# lower(email), which SQLite folds for ASCII only: every address is stored
# ASCII (the domain in its IDNA form), a local part beyond ASCII is refused.
@pytest.mark.parametrize(
    "typed, local, domain",
    [
        ("{}@Bücher.example", "Bob.{}", "xn--bcher-kva.example"),
        ("{}@пример.рф", "x.{}", "xn--e1afmkfd.xn--p1ai"),
    ],
    ids=["latin", "cyrillic"],
)
def test_an_idn_domain_signup_gets_its_mail_at_the_ascii_domain_and_signs_in(
    smtp_server, make_app, dbengine, typed, local, domain
):
    name = local.format(uuid.uuid4().hex[:8])
    email = typed.format(name)
    stored = f"{name}@{domain}"
    browser = make_app()

    response = signup(browser, email, status=302)

    assert response.location == "http://localhost"
    assert session(browser)["user"]["email"] == stored
    assert [r.email for r in rows(dbengine, "SELECT email FROM users")] == [stored]
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == stored
    make_app().get(link_to(message, "/account/verify")).forms[0].submit(status=200)
    assert user_row(dbengine, stored).emailVerified is not None
    # Either spelling signs in; neither makes a second account.
    for spelling in (email, stored, email.upper()):
        assert signin(make_app(), spelling, GOOD_PASSWORD).location == (
            "http://localhost"
        ), spelling
    taken = signup(make_app(), email.upper(), status=400)
    assert "already exists" in taken.html.find(id="field-email-error").text
    assert len(rows(dbengine, "SELECT id FROM users")) == 1


@pytest.mark.parametrize(
    "email",
    ["Élodie@example.com", "élodie@example.com", "İ@example.com", "ß@example.com"],
)
def test_a_local_part_beyond_ascii_is_refused_on_the_form(
    smtp_server, make_app, dbengine, email
):
    browser = make_app()

    page = signup(browser, email, status=400)

    error = page.html.find(id="field-email-error")
    assert "only ASCII letters, digits and symbols before the @" in error.text
    assert page.forms[0]["email"].value == email  # as typed, to correct
    assert rows(dbengine, "SELECT id FROM users") == []
    assert rows(dbengine, "SELECT id FROM registration_tokens") == []
    assert session(browser) is None
    assert smtp_server.messages == []


@pytest.mark.parametrize("stored", ["Élodie@example.com", "İ@example.com"])
def test_the_twin_of_an_address_stored_before_is_refused(
    smtp_server, make_app, dbengine, stored
):
    """The review's sequence: ``Élodie@`` made an account, then ``élodie@``
    a second one. An account an older database holds keeps its address
    (``test_signin`` signs it in); its lower-case twin is refused, as is
    the address itself."""
    old_account(dbengine, stored)

    for email in (stored, stored.lower()):
        page = signup(make_app(), email, status=400)
        assert "before the @" in page.html.find(id="field-email-error").text
    assert [r.email for r in rows(dbengine, "SELECT email FROM users")] == [stored]
    assert smtp_server.messages == []
