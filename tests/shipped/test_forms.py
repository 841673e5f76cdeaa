"""The built-in forms on ``pserve development.ini`` as shipped, over HTTP
(issue 9, item 1): sign up, sign out, sign in, a wrong password, a magic link.

Every request comes from 127.0.0.1, so the debug toolbar is active on each,
as it is for a developer after ``make run``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.shipped.support import PASSWORD, Visitor, mailed_link, unique_email


@pytest.fixture
def visitor(shipped) -> Visitor:
    return Visitor(shipped.url)


def test_the_debug_toolbar_is_on(visitor):
    assert "pDebugToolbarHandle" in visitor.get("/").text


def test_sign_up_lands_signed_in(visitor):
    email = unique_email("signup")

    response = visitor.sign_up(email)

    assert response.status_code in (302, 303)
    home = visitor.follow(response)
    assert home.status_code == 200
    assert "You are signed in as" in home.text
    assert visitor.session()["user"]["email"] == email


def test_sign_out_then_sign_in_with_the_right_password(visitor):
    email = unique_email("again")
    visitor.sign_up(email)

    signed_out = visitor.sign_out()
    assert signed_out.status_code == 302
    assert visitor.session() is None

    response = visitor.sign_in(email, PASSWORD)

    assert response.status_code == 302
    assert "error" not in response.headers["Location"]
    assert "You are signed in as" in visitor.follow(response).text
    assert visitor.session()["user"]["email"] == email


def test_a_wrong_password_is_credentials_signin(visitor, shipped):
    email = unique_email("wrong")
    visitor.sign_up(email)
    visitor.sign_out()

    response = visitor.sign_in(email, "not the password 123")

    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302
    assert location.path == "/api/auth/signin"
    assert parse_qs(location.query)["error"] == ["CredentialsSignin"]
    page = visitor.follow(response)
    assert "Sign in failed. Check the details you provided are correct." in page.text
    assert visitor.session() is None


def test_a_magic_link_arrives_in_dev_mail_and_signs_in(visitor, shipped):
    email = unique_email("magic")

    response = visitor.submit("/api/auth/signin", "/signin/email", email=email)

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/api/auth/verify-request"
    assert "Check your email" in visitor.follow(response).text
    link = mailed_link(shipped.url, email, "/api/auth/callback/email")
    assert link.startswith(shipped.url)

    landed = visitor.get(link, allow_redirects=False)

    assert landed.status_code == 302
    assert "error" not in landed.headers["Location"]
    assert visitor.session()["user"]["email"] == email
