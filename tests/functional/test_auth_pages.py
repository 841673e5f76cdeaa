"""The error and verify-request pages, custom pages and template overrides
(spec §1.5, §1.8, §1.10, §9.3, §9.4)."""

from __future__ import annotations

import re

import pytest

from tests.functional.support import (
    CREDENTIALS,
    NO_CACHE,
    PROVIDER,
    csrf_token,
    sign_in,
)

pytestmark = pytest.mark.no_database


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


def heading(page) -> str:
    return re.search(r"<h1>([^<]*)</h1>", page.text).group(1)


# error page ---------------------------------------------------------------------------
def test_configuration_error_page_is_500_server_error(app):
    page = app.get("/api/auth/error", params={"error": "Configuration"}, status=500)

    assert page.content_type == "text/html"
    assert "<title>Error: Server error</title>" in page.text
    assert heading(page) == "Server error"
    assert "There is a problem with the server configuration." in page.text
    assert "Check the server logs for more information." in page.text


def test_access_denied_page_is_403_with_a_sign_in_link(app):
    page = app.get("/api/auth/error", params={"error": "AccessDenied"}, status=403)

    assert heading(page) == "Access Denied"
    assert "You do not have permission to sign in." in page.text
    link = re.search(r'<a class="button" href="([^"]+)">Sign in</a>', page.text)
    assert link and link.group(1) == "http://localhost/api/auth/signin"


def test_verification_page_is_403_unable_to_sign_in(app):
    page = app.get("/api/auth/error", params={"error": "Verification"}, status=403)

    assert heading(page) == "Unable to sign in"
    assert "The sign in link is no longer valid." in page.text
    assert "It may have been used already or it may have expired." in page.text
    assert ">Sign in</a>" in page.text


@pytest.mark.parametrize(
    "code", [None, "", "Default", "MissingCSRF", "CredentialsSignin", "<b>x</b>"]
)
def test_any_other_error_page_is_200_error_with_a_link_home(app, code):
    params = {} if code is None else {"error": code}

    page = app.get("/api/auth/error", params=params, status=200)

    assert heading(page) == "Error"
    assert '<a href="http://localhost">localhost</a>' in page.text
    assert "<b>x</b>" not in page.text


def test_error_pages_are_not_cached(app):
    page = app.get("/api/auth/error", params={"error": "AccessDenied"}, status=403)

    for name, value in NO_CACHE.items():
        assert page.headers[name] == value


# verify-request page ------------------------------------------------------------------
def test_verify_request_page_says_check_your_email(app):
    page = app.get(
        "/api/auth/verify-request", params={"provider": "email", "type": "email"}
    )

    assert page.status_int == 200
    assert "<title>Check your email</title>" in page.text
    assert heading(page) == "Check your email"
    assert "A sign in link has been sent to your email address." in page.text
    assert '<a href="http://localhost">localhost</a>' in page.text


# custom pages -------------------------------------------------------------------------
@pytest.fixture
def custom(make_app):
    return make_app(
        **CREDENTIALS,
        auth__pages__signin="/login",
        auth__pages__signout="/bye",
        auth__pages__error="/oops",
        auth__pages__verify_request="/check-mail",
    )


def test_custom_signin_page_gets_the_callback_url(custom):
    response = custom.get("/api/auth/signin", params={"callbackUrl": "/members"})

    assert response.status_int == 302
    assert (
        response.location
        == "http://localhost/login?callbackUrl=http%3A%2F%2Flocalhost%2Fmembers"
    )


def test_custom_signin_page_gets_the_origin_when_no_callback_url_is_known(custom):
    response = custom.get("/api/auth/signin")

    assert (
        response.location == "http://localhost/login?callbackUrl=http%3A%2F%2Flocalhost"
    )


def test_custom_signin_page_gets_the_error_too(custom):
    response = custom.get("/api/auth/signin", params={"error": "SessionRequired"})

    assert response.location == (
        "http://localhost/login?callbackUrl=http%3A%2F%2Flocalhost&error=SessionRequired"
    )


def test_signin_errors_redirect_to_the_custom_signin_page(custom):
    failed = sign_in(custom, password="wrong")
    missing = custom.post(f"/api/auth/callback/{PROVIDER}", {"username": "alice"})

    assert (
        failed.location
        == "http://localhost/login?error=CredentialsSignin&code=credentials"
    )
    assert missing.location == "http://localhost/login?error=MissingCSRF"


def test_other_errors_redirect_to_the_custom_error_page(custom):
    response = custom.get(f"/api/auth/callback/{PROVIDER}")

    assert response.location == "http://localhost/oops?error=Configuration"


def test_custom_error_page_gets_the_code(custom):
    response = custom.get("/api/auth/error", params={"error": "AccessDenied"})

    assert response.status_int == 302
    assert response.location == "http://localhost/oops?error=AccessDenied"


def test_custom_signout_page(custom):
    response = custom.get("/api/auth/signout")

    assert response.status_int == 302
    assert response.location == "http://localhost/bye"


def test_custom_verify_request_page_gets_the_query(custom):
    response = custom.get(
        "/api/auth/verify-request", params={"provider": "email", "type": "email"}
    )

    assert response.status_int == 302
    assert response.location == "http://localhost/check-mail?provider=email&type=email"


def test_custom_page_may_be_an_absolute_url(make_app):
    app = make_app(
        **CREDENTIALS, auth__pages__signin="https://accounts.example.com/login"
    )

    response = sign_in(app, password="wrong")

    assert response.location == (
        "https://accounts.example.com/login?error=CredentialsSignin&code=credentials"
    )


def test_custom_page_with_its_own_query_gets_more_parameters_appended(make_app):
    app = make_app(**CREDENTIALS, auth__pages__signin="/login?theme=dark")

    page = app.get("/api/auth/signin")
    failed = sign_in(app, password="wrong")

    assert (
        page.location
        == "http://localhost/login?theme=dark&callbackUrl=http%3A%2F%2Flocalhost"
    )
    assert failed.location == (
        "http://localhost/login?theme=dark&error=CredentialsSignin&code=credentials"
    )


def test_post_endpoints_still_work_with_custom_pages(custom):
    response = custom.post("/api/auth/signout", {"csrfToken": csrf_token(custom)})

    assert response.location == "http://localhost"


# template overrides -------------------------------------------------------------------
@pytest.mark.database
def test_site_can_override_a_page_template(make_app):
    app = make_app(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_template_override",
    )
    sign_in(app)

    page = app.get("/api/auth/signout")
    response = next(iter(page.forms.values())).submit()

    assert "<title>Leaving already?</title>" in page.text
    assert "Yes, sign me out" in page.text
    assert response.status_int == 302
    assert app.get("/api/auth/session").body == b"null"


def test_override_in_one_app_leaves_other_apps_alone(make_app):
    make_app(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_template_override",
    )
    plain = make_app(**CREDENTIALS)

    page = plain.get("/api/auth/signout")

    assert "Are you sure you want to sign out?" in page.text
