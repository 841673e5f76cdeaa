"""A form body the site cannot read is a 400 page on every form (issue 9, item 10).

Before, WebOb's errors reached the generic error view: a Content-Type naming
a charset other than UTF-8 (``DeprecationWarning``), a multipart body without
a usable boundary (``ValueError``), a multipart field in an unknown or wrong
charset (``LookupError``, ``UnicodeDecodeError``) all answered 500.
"""

from __future__ import annotations

import logging

import pytest

from tests.functional.registration.helpers import GOOD_PASSWORD, signup
from tests.functional.support import CREDENTIALS, PROVIDER, csrf_token

pytestmark = pytest.mark.no_database

FORM = "application/x-www-form-urlencoded"
BODY = b"csrf_token=x&email=a%40example.com&password=p&password_confirm=p"


def multipart_field(charset: str, value: bytes) -> bytes:
    return (
        b'--b\r\nContent-Disposition: form-data; name="email"\r\n'
        b"Content-Type: text/plain; charset="
        + charset.encode()
        + b"\r\n\r\n"
        + value
        + b"\r\n--b--\r\n"
    )


CASES = [
    pytest.param(f"{FORM}; charset=x-unknown", BODY, id="unknown-charset"),
    pytest.param(f"{FORM}; charset=latin-1", BODY, id="other-charset"),
    pytest.param(f'{FORM}; charset="\xe9"', BODY, id="non-ascii-charset"),
    pytest.param("multipart/form-data", BODY, id="multipart-no-boundary"),
    pytest.param("multipart/form-data; boundary=", BODY, id="multipart-empty-boundary"),
    pytest.param(
        "multipart/form-data; boundary=" + "b" * 300, BODY, id="multipart-long-boundary"
    ),
    pytest.param(
        "multipart/form-data; boundary=b",
        multipart_field("x-unknown", b"v"),
        id="multipart-field-unknown-charset",
    ),
    pytest.param(
        "multipart/form-data; boundary=b",
        multipart_field("ascii", b"\xe9\xff"),
        id="multipart-field-wrong-charset",
    ),
]
FORMS = [
    "/signup",
    "/account/reset",
    "/account/verify/resend",
    "/account/reset/confirm",
]


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize(("content_type", "body"), CASES)
def test_an_unreadable_form_is_a_400_page(app, caplog, path, content_type, body):
    caplog.set_level(logging.INFO)

    response = app.post(
        path, body, headers={"Content-Type": content_type}, expect_errors=True
    )

    assert response.status_int == 400
    assert "Bad request" in response.text
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "form body cannot be read" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("content_type", "body"), CASES)
def test_the_core_reads_its_own_bodies_and_never_fails(app, content_type, body):
    """The core parses bodies itself, as Auth.js does: a refusal, not a 5xx."""
    csrf_token(app)

    response = app.post(
        f"/api/auth/callback/{PROVIDER}",
        body,
        headers={"Content-Type": content_type},
        expect_errors=True,
    )

    assert response.status_int == 302
    assert "error=" in response.location


@pytest.mark.database
def test_a_utf8_form_naming_its_charset_is_read(app):
    page = app.get("/signup")
    form = page.forms[0]
    form["email"] = "zoe@example.com"
    form["name"] = "Zoë"
    form["password"] = form["password_confirm"] = GOOD_PASSWORD

    response = form.submit(headers={"Content-Type": f"{FORM}; charset=UTF-8"})

    assert response.status_int == 302
    assert response.location == "http://localhost"
    assert "Zoë" in app.get("/").text


def test_undecodable_bytes_in_a_utf8_form_are_replaced_not_refused(app):
    """WebOb reads invalid UTF-8 with replacement characters: the form answers."""
    token = app.get("/signup").forms[0]["csrf_token"].value

    response = app.post(
        "/signup",
        b"csrf_token=" + token.encode() + b"&email=\xff\xfe%FF&password=x",
        content_type=FORM,
        expect_errors=True,
    )

    assert response.status_int == 400
    assert "Form expired" not in response.text
    assert "email" in response.text.lower()


@pytest.mark.database
def test_signup_with_a_normal_form_still_signs_in(app):
    response = signup(app, "plain@example.com", status=302)

    assert response.location == "http://localhost"
