"""Signing in through the core's credentials form, checked by our authorize."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa
from passlib.context import CryptContext
from passlib.hash import pbkdf2_sha256

from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    SIGNIN,
    csrf_token,
    old_account,
    password_hash,
    session,
    signin,
    signup,
    typed_away,
    unique_email,
    user_row,
)


@pytest.fixture
def account(smtp_server, make_app, dbengine):
    """A signed-up account (email, user row); the signup browser is discarded."""
    email = unique_email()
    signup(make_app(), email, status=302)
    return email, user_row(dbengine, email)


@pytest.mark.no_database
def test_the_core_sign_in_page_offers_email_and_password(testapp):
    page = testapp.get("/api/auth/signin")

    form = page.forms[0]
    assert form.action == "http://localhost/api/auth/callback/credentials"
    assert 'autocomplete="email"' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert "Sign in with Email and password" in page.text


def test_sign_in_with_the_right_password(account, make_app):
    email, _ = account
    browser = make_app()

    response = signin(browser, email.upper(), GOOD_PASSWORD, "http://localhost/members")

    assert response.location == "http://localhost/members"
    assert session(browser)["user"]["email"] == email


def test_sign_in_through_the_core_page_form(account, make_app):
    email, _ = account
    browser = make_app()
    form = browser.get("/api/auth/signin").forms[0]
    form["email"] = email
    form["password"] = GOOD_PASSWORD

    response = form.submit(status=302)

    assert response.location == "http://localhost"
    assert session(browser)["user"]["email"] == email


def test_unknown_email_and_wrong_password_answer_identically(account, make_app):
    email, _ = account

    nobody = unique_email("nobody")
    wrong = signin(make_app(), email, "not the right password")
    unknown = signin(make_app(), nobody, "not the right password")

    # Alike, apart from the address each person typed, which comes back.
    assert typed_away(wrong.location, email) == typed_away(unknown.location, nobody)
    assert wrong.location == (
        "http://localhost/api/auth/signin?error=CredentialsSignin"
        f"&email={quote(email)}&code=credentials"
    )
    assert typed_away(wrong.text, email) == typed_away(unknown.text, nobody)
    assert "Retry-After" not in wrong.headers


def test_missing_auth_js_csrf_token_is_refused(account, make_app):
    email, _ = account
    browser = make_app()
    csrf_token(browser)

    response = browser.post(
        SIGNIN, {"email": email, "password": GOOD_PASSWORD}, status=302
    )

    assert response.location.endswith("/api/auth/signin?error=MissingCSRF")
    assert session(browser) is None


def test_an_account_without_a_password_cannot_sign_in_with_one(make_app, dbengine):
    with dbengine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO users (email) VALUES ('oauth-only@example.com')")
        )

    response = signin(make_app(), "oauth-only@example.com", "")

    assert response.location.endswith("code=credentials")


@pytest.mark.parametrize(
    "old_hash",
    [
        pbkdf2_sha256.hash(GOOD_PASSWORD),
        # OWASP's m=12 MiB, t=3 option: valid, but not this site's parameters
        CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__memory_cost=12288,
            argon2__rounds=3,
            argon2__parallelism=1,
        ).hash(GOOD_PASSWORD),
    ],
    ids=["pbkdf2_sha256", "argon2id-other-parameters"],
)
def test_old_hash_is_rehashed_on_successful_sign_in(
    account, make_app, dbengine, old_hash
):
    email, user = account
    with dbengine.begin() as conn:
        conn.execute(
            sa.text("UPDATE registration_passwords SET hash = :h WHERE user_id = :u"),
            {"h": old_hash, "u": user.id},
        )
    refused = signin(make_app(), email, "wrong password entirely")
    assert refused.location.endswith("code=credentials")
    assert password_hash(dbengine, user.id) == old_hash  # a failure changes nothing

    response = signin(make_app(), email, GOOD_PASSWORD)

    assert response.location == "http://localhost"
    new_hash = password_hash(dbengine, user.id)
    assert new_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert signin(make_app(), email, GOOD_PASSWORD).location == "http://localhost"


@pytest.mark.parametrize(
    "stored", ["Élodie@example.com", "İ@example.com", "bob@BÜCHER.example"]
)
def test_an_address_stored_beyond_ascii_signs_in_with_exactly_that_address(
    make_app, dbengine, stored
):
    """A row an older database may hold: found by its own address through
    ``lower()`` on both sides in SQL, the unique index's rule, on either
    database (Python's lower() folded "É" and "İ", SQLite's does not)."""
    old_account(dbengine, stored)
    browser = make_app()

    response = signin(browser, stored, GOOD_PASSWORD)

    assert response.location == "http://localhost"
    assert session(browser)["user"]["email"] == stored
    assert signin(make_app(), stored, "wrong password entirely").location.endswith(
        "code=credentials"
    )


def test_password_is_compared_after_unicode_normalisation(smtp_server, make_app):
    email = unique_email()
    # "ﬁ" (U+FB01) is NFKC "fi"; full-width digits are NFKC ASCII digits
    signup(make_app(), email, "ﬁne grained ３３ voyage", status=302)

    response = signin(make_app(), email, "fine grained 33 voyage")

    assert response.location == "http://localhost"


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_a_password_that_nfkc_makes_huge_is_a_wrong_password(
    smtp_server, make_app, known
):
    # 300 of U+FDFA are 5,400 characters after NFKC, past the 4,096 passlib
    # takes: it raised from inside the check (error=Configuration).
    email = unique_email()
    if known:
        signup(make_app(), email, status=302)

    response = signin(make_app(), email, "\ufdfa" * 300)

    assert "error=CredentialsSignin" in response.location


@pytest.mark.no_database
def test_the_sign_in_page_links_to_signup_and_reset(testapp):
    page = testapp.get("/api/auth/signin")

    assert (
        page.click("Forgot your password?").forms[0].action.endswith("/account/reset/")
    )
    assert "Create an account" in page.click("Create an account").text
